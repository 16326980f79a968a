/* timer_heap.h — private: a binary min-heap of timers with index
 * back-pointers, so arming, cancelling and re-arming are O(log n) and
 * finding the next deadline is O(1); beside it a few FIFO lanes for timers
 * armed a fixed duration from now (Timer J, H, L, B, F: 64*T1; I, K: T4;
 * D: 32 s). Such timers are armed in deadline order, so a lane is a sorted
 * list: O(1) to arm, cancel and pop, and popping touches no other entry —
 * with ~640k transactions lingering in Timer J at 20k requests/s, each heap
 * pop was a ~20-level sift with cache misses. */
#ifndef SIP_TXN_TIMER_HEAP_H
#define SIP_TXN_TIMER_HEAP_H

#include <sip/clock.h>

#define SIP__THEAP_LANES 4

/* Embedded in its owner. idx is the heap position + 1; 0 when not in the heap. */
struct sip__timer {
	uint32_t idx;
	uint8_t slot; /* which of its owner's timers this is (owner's business) */
	uint8_t lane; /* lane number + 1 while queued in a lane; 0 otherwise */
	struct sip__timer *prev, *next; /* lane links */
	sip_ms_t when;                  /* deadline while in a lane */
};

struct sip__lane {
	uint32_t ms; /* the duration of every timer in it */
	struct sip__timer *head, *tail;
};

struct sip__hent {
	sip_ms_t when;
	struct sip__timer *tm;
};

struct sip__theap {
	struct sip__hent *a;
	uint32_t n, cap;
	struct sip__lane lanes[SIP__THEAP_LANES];
	unsigned nlanes;
};

/* Makes room for `want` armed timers so later arms cannot fail. 0 or SIP_ENOMEM/SIP_ETOOBIG. */
int sip__theap_reserve(struct sip__theap *h, size_t want);
/* Arms (or re-arms) tm at `when`. Requires a prior reserve; returns 0 or SIP_ENOMEM. */
int sip__theap_arm(struct sip__theap *h, struct sip__timer *tm, sip_ms_t when);
/* Arms (or re-arms) tm at now + ms, in the lane of that duration when there
 * is one (or room for one) and the lane stays sorted; else in the heap.
 * Requires a prior reserve; returns 0 or SIP_ENOMEM. */
int sip__theap_arm_in(struct sip__theap *h, struct sip__timer *tm, sip_ms_t now, uint32_t ms);
/* Disarms tm (no-op when not armed). */
void sip__theap_cancel(struct sip__theap *h, struct sip__timer *tm);
/* Earliest deadline, or SIP_MS_NEVER. */
sip_ms_t sip__theap_next(const struct sip__theap *h);
/* Removes and returns the earliest timer due at `now`, or NULL. */
struct sip__timer *sip__theap_pop_due(struct sip__theap *h, sip_ms_t now);
/* Frees the array (timers still armed are simply forgotten). */
void sip__theap_free(struct sip__theap *h);

static inline bool sip__timer_armed(const struct sip__timer *tm) { return tm->idx != 0 || tm->lane != 0; }

#endif
