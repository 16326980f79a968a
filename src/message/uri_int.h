/* uri_int.h — private helpers shared by the uri_*.c files (not installed). */
#ifndef SIP_MESSAGE_URI_INT_H
#define SIP_MESSAGE_URI_INT_H

#include <sip/uri.h>

#include <stdint.h>

#include "core/ctype.h"
#include "str_int.h"

/* Scans one host (hostname, IPv4 or bracketed IPv6) at the start of [p, p+len);
 * stops at the first byte that cannot continue it. Returns bytes consumed (> 0)
 * or SIP_EPARSE with *bad at the offending offset. */
int sip__host_scan(const char *p, size_t len, struct sip_str *host, enum sip_host_type *type, size_t *bad);

/* Length of the IPv4address at the start of [p, p+len) when the run of
 * hostname bytes ends right after it (so exactly what sip__is_ipv4() accepts
 * on that run), else 0. One pass; called when p[0] is a digit. */
static inline size_t sip__ipv4_len(const char *p, size_t len)
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= len || p[i] != '.')
				return 0;
			i++;
		}
		unsigned v = 0;
		size_t s = i;
		while (i < len && i - s < 3 && p[i] >= '0' && p[i] <= '9')
			v = v * 10 + (unsigned)(p[i++] - '0');
		if (i == s || v > 255)
			return 0;
	}
	return i < len && SIP_IS(p[i], SIP_C_HOST) ? 0 : i;
}

/* 1 for the bytes of a hostname label (alphanum and '-'), else 0. */
extern const uint8_t sip__label_ch[256];

/* Length of the run of label bytes at the start of [p, p+n), four table
 * lookups per loop test. */
static inline size_t sip__label_len(const char *p, size_t n)
{
	size_t i = 0;
	for (; n - i >= 4; i += 4) {
		if (!sip__label_ch[(unsigned char)p[i]])
			return i;
		if (!sip__label_ch[(unsigned char)p[i + 1]])
			return i + 1;
		if (!sip__label_ch[(unsigned char)p[i + 2]])
			return i + 2;
		if (!sip__label_ch[(unsigned char)p[i + 3]])
			return i + 3;
	}
	while (i < n && sip__label_ch[(unsigned char)p[i]])
		i++;
	return i;
}

/* Scans the run of hostname bytes (alphanum . -) at the start of [p, p+len)
 * in one pass and returns its length n; *bad is set to n when the run is a
 * hostname (§25: *( domainlabel "." ) toplabel [ "." ], labels of alphanum
 * with inner '-', the top label starting with a letter), else to the offset
 * of the first bad label (0 for an empty run). caps adds the DNS limits
 * (SIP_URI_MAX_LABEL per label, SIP_URI_MAX_HOST in all, 0 past that). */
static inline size_t sip__hostname_scan(const char *p, size_t len, bool caps, size_t *bad)
{
	size_t j = 0, b = SIZE_MAX, top = 0;
	for (;;) {
		size_t start = j;
		j += sip__label_len(p + j, len - j);
		size_t n = j - start;
		if (b == SIZE_MAX && (n == 0 || (caps && n > SIP_URI_MAX_LABEL) || p[start] == '-' || p[j - 1] == '-'))
			b = start;
		top = start;
		/* A '.' goes on to the next label, or ends the name as a trailing dot. */
		if (j >= len || p[j] != '.')
			break;
		j++;
		if (j >= len || !SIP_IS(p[j], SIP_C_HOST))
			break;
	}
	if (b == SIZE_MAX && !SIP_IS(p[top], SIP_C_ALPHA))
		b = top;
	if (caps && j > SIP_URI_MAX_HOST)
		b = 0;
	*bad = b == SIZE_MAX ? j : b;
	return j;
}

/* Text of an IPv6 address (no brackets) to 16 bytes; 0 or SIP_EPARSE with *bad. */
int sip__ipv6_to_bin(const char *p, size_t len, uint8_t out[16], size_t *bad);

/* Whether [p, p+len) is exactly a valid hostname / IPv4 address. */
bool sip__is_hostname(const char *p, size_t len);
bool sip__is_ipv4(const char *p, size_t len);

/* Checks a %HH escape at p[i] (bounded by len); true when well formed. */
static inline bool sip__esc_ok(const char *p, size_t len, size_t i)
{
	return i + 2 < len && p[i] == '%' && sip__hexval((unsigned char)p[i + 1]) >= 0 &&
	       sip__hexval((unsigned char)p[i + 2]) >= 0;
}

/* Walks a run of chars of class cls or %HH escapes from p[i]; returns the
 * offset of the first byte that is neither (a bad escape's '%' included). */
size_t sip__scan_esc(const char *p, size_t len, size_t i, uint16_t cls);

/* The equality of two escaped strings per RFC 3261 §19.1.4: an escape of an
 * unreserved char equals the char itself; reserved chars differ from their
 * escapes. icase folds ASCII case after decoding. */
bool sip__esc_eq(struct sip_str a, struct sip_str b, bool icase);

/* Whether x (an item of list) is the first item of list bearing its name:
 * comparisons look at the first of repeated parameters only. */
bool sip__param_is_first(struct sip_str list, struct sip_param x);

/* tel: URIs (RFC 3966), in uri_tel.c. */
int sip__tel_parse(struct sip_uri *u, const char *p, size_t len, size_t off, size_t *bad);
bool sip__tel_equal(const struct sip_uri *a, const struct sip_uri *b);

#endif
