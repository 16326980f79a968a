/* scan.h — private scanners shared by the message-layer parsers (RFC 3261 §25).
 * Each takes [p, e) and returns the first byte it did not consume; none reads
 * at or past e. Header values may still hold line folding, which is LWS. */
#ifndef SIP_MESSAGE_SCAN_H
#define SIP_MESSAGE_SCAN_H

#include <sip/uri.h>

#include "core/ctype.h"
#include "str_int.h"

/* Nesting cap for comments: "((((...))))" must not cost unbounded depth. */
#define SIP__MAX_COMMENT_DEPTH 32

/* Skips LWS: SP/HTAB runs and line folds (CRLF or bare LF followed by SP/HTAB).
 * A CR or LF not followed by whitespace is not LWS and stops the scan. */
static inline const char *sip__skip_lws(const char *p, const char *e)
{
	/* Most calls stand on a byte that is no whitespace at all. */
	if (p < e && !SIP_IS(*p, SIP_C_WS))
		return p;
	for (;;) {
		if (p < e && (*p == ' ' || *p == '\t')) {
			p++;
			continue;
		}
		const char *q = p;
		if (q < e && *q == '\r')
			q++;
		if (q < e && *q == '\n' && q + 1 < e && (q[1] == ' ' || q[1] == '\t')) {
			p = q + 2;
			continue;
		}
		return p;
	}
}

/* Length of the run of token characters (§25 token) at the start of
 * [p, p+n): four table lookups per loop test. Never reads at or past p+n. */
static inline size_t sip__token_len(const char *p, size_t n)
{
	size_t i = 0;
	for (; n - i >= 4; i += 4) {
		if (!SIP_IS(p[i], SIP_C_TOKEN))
			return i;
		if (!SIP_IS(p[i + 1], SIP_C_TOKEN))
			return i + 1;
		if (!SIP_IS(p[i + 2], SIP_C_TOKEN))
			return i + 2;
		if (!SIP_IS(p[i + 3], SIP_C_TOKEN))
			return i + 3;
	}
	while (i < n && SIP_IS(p[i], SIP_C_TOKEN))
		i++;
	return i;
}

/* Skips token characters (§25 token). */
static inline const char *sip__scan_token(const char *p, const char *e)
{
	return p + sip__token_len(p, (size_t)(e - p));
}

/* Skips decimal digits. */
static inline const char *sip__scan_digits(const char *p, const char *e)
{
	while (p < e && *p >= '0' && *p <= '9')
		p++;
	return p;
}

/* Whether a quoted-pair may escape c: %x00-09 / %x0B-0C / %x0E-7F. */
static inline int sip__qpair_ok(unsigned char c)
{
	return c <= 0x7f && c != '\r' && c != '\n';
}

/* p is at '"'. Returns the byte after the closing quote, or NULL when the
 * string is unterminated or holds a byte qdtext forbids (CTL other than LWS). */
static inline const char *sip__scan_quoted(const char *p, const char *e)
{
	for (p++; p < e;) {
		unsigned char c = (unsigned char)*p;
		/* Fast path: plain qdtext (%x20-7E and UTF8-NONASCII but '"' and '\\'). */
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) {
			p++;
			continue;
		}
		if (c == '"')
			return p + 1;
		if (c == '\\') {
			if (e - p < 2 || !sip__qpair_ok((unsigned char)p[1]))
				return NULL;
			p += 2;
		} else if (c == '\r' || c == '\n') {
			const char *q = sip__skip_lws(p, e);
			if (q == p)
				return NULL;
			p = q;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return NULL;
		} else {
			p++; /* %x20-7E and UTF8-NONASCII */
		}
	}
	return NULL;
}

/* p is at '('. Returns the byte after the matching ')', or NULL when
 * unbalanced, holding a forbidden byte, or nested deeper than the cap. */
static inline const char *sip__scan_comment(const char *p, const char *e)
{
	int depth = 0;
	while (p < e) {
		unsigned char c = (unsigned char)*p;
		if (c == '(') {
			if (++depth > SIP__MAX_COMMENT_DEPTH)
				return NULL;
			p++;
		} else if (c == ')') {
			p++;
			if (--depth == 0)
				return p;
		} else if (c == '\\') {
			if (e - p < 2 || !sip__qpair_ok((unsigned char)p[1]))
				return NULL;
			p += 2;
		} else if (c == '\r' || c == '\n') {
			const char *q = sip__skip_lws(p, e);
			if (q == p)
				return NULL;
			p = q;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return NULL;
		} else {
			p++;
		}
	}
	return NULL;
}

/* Flags of sip__param_next(). */
#define SIP__PV_COLON 1u /* a value may hold ':' (Via received= with a bare IPv6 address) */

/* Iterates `*( SEMI generic-param )` with LWS around ';' and '='
 * (gen-value = token / host / quoted-string). *cur is the unparsed rest and
 * advances. Returns 1 with *out filled, 0 when only LWS is left, or
 * SIP_EPARSE with *bad at the first bad byte (an empty item is an error). */
static inline int sip__param_next(struct sip_str *cur, struct sip_param *out, unsigned flags,
				  const char **bad)
{
	const char *p = cur->p, *e = cur->p + cur->len;
	p = sip__skip_lws(p, e);
	if (p == e) {
		cur->p = p;
		cur->len = 0;
		return 0;
	}
	if (*p != ';') {
		*bad = p;
		return SIP_EPARSE;
	}
	p = sip__skip_lws(p + 1, e);
	const char *n = p;
	p = sip__scan_token(p, e);
	if (p == n) {
		*bad = p;
		return SIP_EPARSE;
	}
	out->name = (struct sip_str){n, (size_t)(p - n)};
	out->value = (struct sip_str){p, 0}; /* absent: empty, but never NULL (callers do arithmetic on it) */
	out->has_value = false;
	const char *q = sip__skip_lws(p, e);
	if (q < e && *q == '=') {
		q = sip__skip_lws(q + 1, e);
		const char *v = q;
		if (q < e && *q == '"') {
			q = sip__scan_quoted(q, e);
			if (!q) {
				*bad = v;
				return SIP_EPARSE;
			}
		} else if (q < e && *q == '[') {
			/* IPv6reference; the caller validates the address itself. */
			for (q++; q < e && (sip__hexval((unsigned char)*q) >= 0 || *q == ':' || *q == '.');)
				q++;
			if (q == e || *q != ']') {
				*bad = q;
				return SIP_EPARSE;
			}
			q++;
		} else {
			for (;;) {
				q = sip__scan_token(q, e);
				if (!(flags & SIP__PV_COLON) || q == e || *q != ':')
					break;
				q++;
			}
		}
		if (q == v) {
			*bad = v;
			return SIP_EPARSE;
		}
		out->value = (struct sip_str){v, (size_t)(q - v)};
		out->has_value = true;
		p = q;
	}
	cur->p = p;
	cur->len = (size_t)(e - p);
	return 1;
}

/* Case-insensitive comparison of a slice with a literal of lower-case letters. */
#define SIP__IS_NAME(s, lit) SIP__IS_LETTERS(s, lit)

/* Reports an error: sets *err_off (if non-NULL) to at - base and returns rc. */
static inline int sip__fail(size_t *err_off, const char *base, const char *at, int rc)
{
	if (err_off)
		*err_off = (size_t)(at - base);
	return rc;
}

/* A NULL slice is an empty value: an error at offset 0 (checked before any
 * pointer arithmetic on value.p). */
#define SIP__CHECK_VALUE(v, err_off)                                                                         \
	do {                                                                                                 \
		if (!(v).p) {                                                                                \
			if (err_off)                                                                         \
				*(err_off) = 0;                                                              \
			return SIP_EPARSE;                                                                   \
		}                                                                                            \
	} while (0)

#endif
