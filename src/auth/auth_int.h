/* auth_int.h — private helpers shared by the digest files: an incremental
 * hash over slices, a bounded text writer and hex output. */
#ifndef SIP_AUTH_INT_H
#define SIP_AUTH_INT_H

#include <sip/auth.h>

/* Incremental hash of the algorithm's base function (MD5 or SHA-256). */
struct sip__hash {
	void *ctx; /* EVP_MD_CTX */
	size_t hexlen;
};
int sip__hash_begin(struct sip__hash *h, enum sip_digest_alg alg);
void sip__hash_add(struct sip__hash *h, struct sip_str s);
/* Adds ':' then s. */
void sip__hash_addc(struct sip__hash *h, struct sip_str s);
/* Finishes into lower-case hex (NUL-terminated) and frees the context. 0 or SIP_EIO. */
int sip__hash_end(struct sip__hash *h, char out[SIP_DIGEST_HEX_MAX]);

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
