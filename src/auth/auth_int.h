/* auth_int.h — private helpers shared by the digest files: a bounded text
 * writer and hex output. */
#ifndef SIP_AUTH_INT_H
#define SIP_AUTH_INT_H

#include <sip/auth.h>

/* Bounded writer: appends stop at cap and set overflow. */
struct sip__wr {
	char *p;
	size_t cap, len;
	bool overflow;
};
void sip__wr_init(struct sip__wr *w, char *buf, size_t cap);
void sip__wr_str(struct sip__wr *w, struct sip_str s);
void sip__wr_c(struct sip__wr *w, const char *s);
/* Appends s as a quoted-string, escaping '"' and '\'. */
void sip__wr_quoted(struct sip__wr *w, struct sip_str s);
/* NUL-terminates; returns the length, or SIP_ETOOBIG on overflow. */
int sip__wr_end(struct sip__wr *w);

void sip__hex(const uint8_t *in, size_t n, char *out);

/* Default random source (OpenSSL RAND_bytes). */
int sip__rand_default(void *ud, uint8_t *buf, size_t len);

#endif
