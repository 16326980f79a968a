/* rand.h — a fast, kernel-seeded generator for values that must be unique
 * and unpredictable enough to spread load or avoid collisions (tags,
 * Call-IDs, SRV weighting) — not for secrets (nonces use OpenSSL). */
#ifndef SIP_RAND_H
#define SIP_RAND_H

#include <sip/core.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sip_rand {
	uint64_t s; /* xorshift64* state, never 0 */
};

/* Seeds r from getrandom(); falls back to the address of r (never 0). */
SIP_API void sip_rand_seed(struct sip_rand *r);
/* The next 64 random bits. */
SIP_API uint64_t sip_rand_next(struct sip_rand *r);
/* Writes n lower-case hex digits and a NUL to out (out holds n + 1 bytes). */
SIP_API void sip_rand_hex(struct sip_rand *r, char *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif
