/* clock.h — the clock seam. Protocol code never reads real time: it takes
 * `now` (milliseconds on a monotonic scale) as an argument, and the edge gets
 * it from a struct sip_clock. Tests use the virtual clock, which only moves
 * when told to, so a 32 s timer runs in microseconds. */
#ifndef SIP_CLOCK_H
#define SIP_CLOCK_H

#include <sip/core.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Milliseconds on a monotonic scale; only differences are meaningful. */
typedef uint64_t sip_ms_t;

/* "No deadline": larger than any real time. */
#define SIP_MS_NEVER UINT64_MAX

struct sip_clock {
	sip_ms_t (*now)(void *ctx); /* current time in milliseconds */
	void *ctx;
};

/* Reads the clock. */
SIP_API sip_ms_t sip_clock_now(const struct sip_clock *c);

/* The real monotonic clock (CLOCK_MONOTONIC), for the edge (event loop glue). */
SIP_API const struct sip_clock *sip_clock_monotonic(void);

/* A virtual clock for tests and simulations: time moves only by
 * sip_vclock_advance()/sip_vclock_set(). Embed it; vc->clock is the seam. */
struct sip_vclock {
	struct sip_clock clock;
	sip_ms_t now_ms;
};

/* Initialises a virtual clock reading start_ms. */
SIP_API void sip_vclock_init(struct sip_vclock *vc, sip_ms_t start_ms);
/* Moves the virtual clock forward by ms. */
SIP_API void sip_vclock_advance(struct sip_vclock *vc, sip_ms_t ms);
/* Sets the virtual clock; it never goes backwards (an earlier value is ignored). */
SIP_API void sip_vclock_set(struct sip_vclock *vc, sip_ms_t ms);

#ifdef __cplusplus
}
#endif
#endif
