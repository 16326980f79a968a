/* str.c — slice helpers shared by every layer. */
#include <sip/core.h>
#include <string.h>

#include "ctype.h"

struct sip_str sip_str_c(const char *s)
{
	struct sip_str r = {s, s ? strlen(s) : 0};
	return r;
}

bool sip_str_eq(struct sip_str a, struct sip_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool sip_str_caseeq(struct sip_str a, struct sip_str b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (sip__lower[(unsigned char)a.p[i]] != sip__lower[(unsigned char)b.p[i]])
			return false;
	return true;
}

int sip_str_to_u32(struct sip_str s, uint32_t *out)
{
	if (s.len == 0)
		return SIP_EPARSE;
	uint64_t v = 0;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c < '0' || c > '9')
			return SIP_EPARSE;
		v = v * 10 + (c - '0');
		if (v > UINT32_MAX)
			return SIP_ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

struct sip_str sip_str_trim(struct sip_str s)
{
	while (s.len && sip__is_ws((unsigned char)s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && sip__is_ws((unsigned char)s.p[s.len - 1]))
		s.len--;
	return s;
}
