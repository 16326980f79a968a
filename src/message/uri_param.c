/* uri_param.c — ';'-separated parameter lists (uri-parameters and header
 * params) and %HH escapes (RFC 3261 §19.1.1, §19.1.4, §25). */
#include <limits.h>
#include <string.h>

#include "uri_int.h"

size_t sip__scan_esc(const char *p, size_t len, size_t i, uint16_t cls)
{
	while (i < len) {
		if (SIP_IS(p[i], cls))
			i++;
		else if (sip__esc_ok(p, len, i))
			i += 3;
		else
			break;
	}
	return i;
}

/* Decodes the byte at s[*i]; *esc tells whether it was written as %HH.
 * A malformed escape is taken literally (parsers reject those earlier). */
static unsigned char dec_next(struct sip_str s, size_t *i, bool *esc)
{
	if (sip__esc_ok(s.p, s.len, *i)) {
		unsigned char c = (unsigned char)((sip__hexval((unsigned char)s.p[*i + 1]) << 4) |
						  sip__hexval((unsigned char)s.p[*i + 2]));
		*i += 3;
		*esc = true;
		return c;
	}
	*esc = false;
	return (unsigned char)s.p[(*i)++];
}

/* RFC 3261 §25 reserved: an escaped reserved char keeps its special meaning
 * away, so it never equals the bare char. */
static bool is_reserved(unsigned char c)
{
	switch (c) {
	case ';':
	case '/':
	case '?':
	case ':':
	case '@':
	case '&':
	case '=':
	case '+':
	case '$':
	case ',':
		return true;
	default:
		return false;
	}
}

bool sip__esc_eq(struct sip_str a, struct sip_str b, bool icase)
{
	/* Fast path: without escapes on either side it is a plain comparison. */
	if ((a.len == 0 || !memchr(a.p, '%', a.len)) && (b.len == 0 || !memchr(b.p, '%', b.len)))
		return icase ? sip_str_caseeq(a, b) : sip_str_eq(a, b);
	size_t i = 0, j = 0;
	while (i < a.len && j < b.len) {
		bool ea, eb;
		unsigned char x = dec_next(a, &i, &ea), y = dec_next(b, &j, &eb);
		if (icase) {
			x = sip__lower[x];
			y = sip__lower[y];
		}
		if (x != y || (ea != eb && is_reserved(x)))
			return false;
	}
	return i == a.len && j == b.len;
}

/* Bytes of a parameter name or unquoted value: token (header params) and
 * paramchar (uri-parameters) alike; escapes pass as '%' is a token char. */
static bool is_pchar(unsigned char c)
{
	return SIP_IS(c, SIP_C_TOKEN | SIP_C_PARAM);
}

static size_t skip_lws(const char *p, size_t len, size_t i)
{
	while (i < len && sip__is_ws((unsigned char)p[i]))
		i++;
	return i;
}

int sip_param_next(struct sip_str *cursor, struct sip_param *out)
{
	if (!cursor || !out || (!cursor->p && cursor->len))
		return SIP_EINVAL;
	const char *p = cursor->p;
	size_t len = cursor->len;
	size_t i = skip_lws(p, len, 0);

	if (i == len) {
		cursor->p = p ? p + len : p;
		cursor->len = 0;
		return 0;
	}
	if (p[i] == ';')
		i = skip_lws(p, len, i + 1);
	size_t ns = i;
	while (i < len && is_pchar((unsigned char)p[i]))
		i++;
	if (i == ns)
		return SIP_EPARSE; /* ";;", a trailing ';', or a stray byte */
	out->name = (struct sip_str){p + ns, i - ns};
	out->value = (struct sip_str){p + i, 0};
	out->has_value = false;

	size_t k = skip_lws(p, len, i);
	if (k < len && p[k] == '=') {
		k = skip_lws(p, len, k + 1);
		size_t vs = k;
		if (k < len && p[k] == '"') {
			/* quoted-string (header params): kept with its quotes */
			k++;
			while (k < len && p[k] != '"') {
				if (p[k] == '\\')
					k++;
				k++;
			}
			if (k >= len)
				return SIP_EPARSE;
			k++;
		} else {
			while (k < len && is_pchar((unsigned char)p[k]))
				k++;
		}
		if (k == vs)
			return SIP_EPARSE;
		out->value = (struct sip_str){p + vs, k - vs};
		out->has_value = true;
		i = k;
	}
	k = skip_lws(p, len, i);
	if (k < len && p[k] != ';')
		return SIP_EPARSE;
	cursor->p = p + k;
	cursor->len = len - k;
	return 1;
}

int sip_param_find(struct sip_str params, struct sip_str name, struct sip_param *out)
{
	struct sip_param prm;
	/* Each step consumes bytes, so the walk ends; a malformed item ends it as "not found". */
	while (sip_param_next(&params, &prm) == 1) {
		if (sip__esc_eq(prm.name, name, true)) {
			if (out)
				*out = prm;
			return 1;
		}
	}
	return 0;
}

bool sip__param_is_first(struct sip_str list, struct sip_param x)
{
	struct sip_param f;
	return sip_param_find(list, x.name, &f) == 1 && f.name.p == x.name.p;
}

int sip_unescape(struct sip_str src, char *dst, size_t dstcap)
{
	if ((!src.p && src.len) || (!dst && dstcap))
		return SIP_EINVAL;
	size_t i = 0, n = 0;
	while (i < src.len) {
		unsigned char c;
		if (src.p[i] == '%') {
			if (!sip__esc_ok(src.p, src.len, i))
				return SIP_EPARSE;
			c = (unsigned char)((sip__hexval((unsigned char)src.p[i + 1]) << 4) |
					    sip__hexval((unsigned char)src.p[i + 2]));
			i += 3;
		} else {
			c = (unsigned char)src.p[i++];
		}
		if (n >= dstcap || n >= INT_MAX)
			return SIP_ETOOBIG;
		dst[n++] = (char)c;
	}
	return (int)n;
}
