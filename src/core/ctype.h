/* ctype.h — private 256-entry character-class tables used by every scanner.
 * Locale-free, branch-free lookups for the RFC 3261 §25 character classes. */
#ifndef SIP_CORE_CTYPE_H
#define SIP_CORE_CTYPE_H

#include <stdint.h>

enum {
	SIP_C_DIGIT = 1 << 0,
	SIP_C_ALPHA = 1 << 1,
	SIP_C_HEX = 1 << 2,
	SIP_C_TOKEN = 1 << 3,      /* token: alphanum / -.!%*_+`'~ */
	SIP_C_WS = 1 << 4,         /* SP HTAB CR LF */
	SIP_C_UNRESERVED = 1 << 5, /* alphanum / mark */
	SIP_C_WORD = 1 << 6,       /* word (Call-ID): token + ()<>:\"/[]?{} */
	SIP_C_CTL = 1 << 7,        /* 0x00-0x1f, 0x7f */
	SIP_C_USER = 1 << 8,       /* unreserved + user-unreserved &=+$,;?/ */
	SIP_C_PARAM = 1 << 9,      /* unreserved + param-unreserved []/:&+$ */
	SIP_C_HDRCH = 1 << 10,     /* unreserved + hnv-unreserved []/?:+$ */
	SIP_C_PASSWD = 1 << 11,    /* unreserved + &=+$, */
	SIP_C_HOST = 1 << 12,      /* alphanum . - (hostname chars) */
	SIP_C_URIC = 1 << 13,      /* reserved / unreserved (absoluteURI) */
};

extern const uint16_t sip__ctype[256];
extern const unsigned char sip__lower[256];

#define SIP_IS(c, cls) ((sip__ctype[(unsigned char)(c)] & (cls)) != 0)
static inline int sip__is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
static inline int sip__hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = sip__lower[c];
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

#endif
