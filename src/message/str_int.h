/* str_int.h — small string helpers of the message parsers, inline so that
 * each call site compiles to a few instructions (the core/str.c versions sit
 * behind a call in another object file). */
#ifndef SIP_MESSAGE_STR_INT_H
#define SIP_MESSAGE_STR_INT_H

#include <sip/core.h>
#include <stdint.h>

/* n bytes of s equal the lower-case letters lit, ignoring case: OR-ing 0x20
 * maps only the upper-case letter onto each lower-case one (lit holds
 * letters only). */
static inline bool sip__letters_caseeq(const char *s, const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] | 0x20) != (unsigned char)lit[i])
			return false;
	return true;
}

/* A slice equals a literal of lower-case letters, ignoring case. */
#define SIP__IS_LETTERS(s, lit) ((s).len == sizeof(lit) - 1 && sip__letters_caseeq((s).p, (lit), sizeof(lit) - 1))

/* sip_str_to_u32(), inline: 1*DIGIT to a uint32_t; SIP_EPARSE on an empty
 * slice or a non-digit, SIP_ERANGE as soon as the value passes UINT32_MAX. */
static inline int sip__to_u32(const char *p, size_t n, uint32_t *out)
{
	if (n == 0)
		return SIP_EPARSE;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned c = (unsigned char)p[i] - (unsigned)'0';
		if (c > 9)
			return SIP_EPARSE;
		v = v * 10 + c;
		if (v > UINT32_MAX)
			return SIP_ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

#endif
