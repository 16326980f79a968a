/* uri_int.h — private helpers shared by the uri_*.c files (not installed). */
#ifndef SIP_MESSAGE_URI_INT_H
#define SIP_MESSAGE_URI_INT_H

#include <sip/uri.h>

#include "core/ctype.h"

/* Scans one host (hostname, IPv4 or bracketed IPv6) at the start of [p, p+len);
 * stops at the first byte that cannot continue it. Returns bytes consumed (> 0)
 * or SIP_EPARSE with *bad at the offending offset. */
int sip__host_scan(const char *p, size_t len, struct sip_str *host, enum sip_host_type *type, size_t *bad);

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
