/* ratelimit.h — a token bucket per source IP address (RFC 3261 §26.1.5
 * leaves denial-of-service defence to the implementation). Used twice: as
 * flood protection, each address may send `rate` messages a second on
 * average and `burst` at once, what is over dropped before any parsing; and
 * against password guessing, each failed authentication takes a token and a
 * source with none left has its credentials refused unchecked.
 *
 * Sans-I/O: time is an argument (milliseconds). The table has a fixed size,
 * 4-way set-associative; a new address takes the least recently seen entry
 * of its set, so spraying addresses evicts (and so gives a fresh bucket to)
 * others but can never grow memory. Keys hash with a seed chosen at start-up.
 * One limiter belongs to one thread. */
#ifndef SIP_RATELIMIT_H
#define SIP_RATELIMIT_H

#include <sip/clock.h>
#include <sip/core.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIP_RATELIMIT_DEFAULT_ENTRIES 16384u /* addresses tracked at once */
#define SIP_RATELIMIT_MAX_PERIOD_MS 3600000u /* an hour: burst × period stays within 64 bits */

struct sip_ratelimit;
struct sockaddr;

struct sip_ratelimit_config {
	uint32_t rate;	    /* tokens per period per source address; > 0 */
	uint32_t burst;	    /* bucket size; 0: 2 × rate */
	uint32_t period_ms; /* 0: 1000 (rate is per second) */
	uint32_t entries; /* addresses tracked; 0: SIP_RATELIMIT_DEFAULT_ENTRIES (rounded up to a power of 2) */
	uint64_t seed;	  /* hash seed (random at start-up) */
};

/* Creates a limiter. Returns 0, SIP_EINVAL (rate 0, period over the cap)
 * or SIP_ENOMEM. */
SIP_API int sip_ratelimit_new(struct sip_ratelimit **out, const struct sip_ratelimit_config *cfg);
SIP_API void sip_ratelimit_free(struct sip_ratelimit *rl);

/* The bucket size in tokens (the configured burst, or its default). */
SIP_API uint32_t sip_ratelimit_burst(const struct sip_ratelimit *rl);

/* Takes one token from src's bucket (AF_INET/AF_INET6; the port does not
 * count). Returns 1 when the message may go on, 0 when it is over the
 * limit. *first_drop (may be NULL) is set when this is the first drop of a
 * run of drops for that address (log it once, not per message). */
SIP_API int sip_ratelimit_allow(struct sip_ratelimit *rl, const struct sockaddr *src, sip_ms_t now,
				bool *first_drop);

/* The IP address of sa as 16 bytes, IPv4 as ::ffff:a.b.c.d (the port does
 * not count): the key per-source tables use. false for other families. */
SIP_API bool sip_addr_key(const struct sockaddr *sa, uint8_t key[16]);
/* A well-mixed 64-bit hash of such a key, with a seed. */
SIP_API uint64_t sip_addr_key_hash(const uint8_t key[16], uint64_t seed);

/* Whether src has a token left, without taking it (refills it first; an
 * address not tracked has a full bucket). Returns 1 or 0; *first_refusal
 * (may be NULL) as sip_ratelimit_allow's first_drop. */
SIP_API int sip_ratelimit_peek(struct sip_ratelimit *rl, const struct sockaddr *src, sip_ms_t now,
			       bool *first_refusal);

#ifdef __cplusplus
}
#endif
#endif
