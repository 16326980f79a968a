/* timer_heap.h — private: a binary min-heap of timers with index
 * back-pointers, so arming, cancelling and re-arming are O(log n) and
 * finding the next deadline is O(1). */
#ifndef SIP_TXN_TIMER_HEAP_H
#define SIP_TXN_TIMER_HEAP_H

#include <sip/clock.h>

/* Embedded in its owner. idx is the heap position + 1; 0 when not armed. */
struct sip__timer {
	uint32_t idx;
	uint8_t slot; /* which of its owner's timers this is (owner's business) */
};

struct sip__hent {
	sip_ms_t when;
	struct sip__timer *tm;
};

struct sip__theap {
	struct sip__hent *a;
	uint32_t n, cap;
};

/* Makes room for `want` armed timers so later arms cannot fail. 0 or SIP_ENOMEM/SIP_ETOOBIG. */
int sip__theap_reserve(struct sip__theap *h, size_t want);
/* Arms (or re-arms) tm at `when`. Requires a prior reserve; returns 0 or SIP_ENOMEM. */
int sip__theap_arm(struct sip__theap *h, struct sip__timer *tm, sip_ms_t when);
/* Disarms tm (no-op when not armed). */
void sip__theap_cancel(struct sip__theap *h, struct sip__timer *tm);
/* Earliest deadline, or SIP_MS_NEVER. */
sip_ms_t sip__theap_next(const struct sip__theap *h);
/* Removes and returns the earliest timer due at `now`, or NULL. */
struct sip__timer *sip__theap_pop_due(struct sip__theap *h, sip_ms_t now);
/* Frees the array (timers still armed are simply forgotten). */
void sip__theap_free(struct sip__theap *h);

static inline bool sip__timer_armed(const struct sip__timer *tm) { return tm->idx != 0; }

#endif
