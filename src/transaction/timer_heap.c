/* timer_heap.c — binary min-heap with back-pointers, plus FIFO lanes for
 * fixed durations (see timer_heap.h). Chosen over a timer wheel because SIP
 * timers span 200 ms to 32 s+ with millisecond resolution: the few
 * durations that dominate (64*T1, T4, 32 s) take the lanes, exact to the ms
 * and O(1); retransmission timers (doubling intervals) stay in the heap. */
#include "transaction/timer_heap.h"

/* Far beyond any sane load; keeps index arithmetic in uint32_t. */
#define THEAP_MAX_ENTRIES (UINT32_MAX / 2)

int sip__theap_reserve(struct sip__theap *h, size_t want)
{
	if (want <= h->cap)
		return 0;
	if (want > THEAP_MAX_ENTRIES)
		return SIP_ETOOBIG;
	size_t cap = h->cap ? h->cap : 64;
	while (cap < want)
		cap *= 2;
	if (cap > THEAP_MAX_ENTRIES)
		cap = THEAP_MAX_ENTRIES;
	struct sip__hent *a = sip_realloc(h->a, cap * sizeof(*a));
	if (!a)
		return SIP_ENOMEM;
	h->a = a;
	h->cap = (uint32_t)cap;
	return 0;
}

static void place(struct sip__theap *h, uint32_t i, struct sip__hent e)
{
	h->a[i] = e;
	e.tm->idx = i + 1;
}

static void sift_up(struct sip__theap *h, uint32_t i)
{
	struct sip__hent e = h->a[i];
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (h->a[p].when <= e.when)
			break;
		place(h, i, h->a[p]);
		i = p;
	}
	place(h, i, e);
}

static void sift_down(struct sip__theap *h, uint32_t i)
{
	struct sip__hent e = h->a[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->a[c + 1].when < h->a[c].when)
			c++;
		if (e.when <= h->a[c].when)
			break;
		place(h, i, h->a[c]);
		i = c;
	}
	place(h, i, e);
}

static void lane_unlink(struct sip__theap *h, struct sip__timer *tm)
{
	struct sip__lane *ln = &h->lanes[tm->lane - 1];
	if (tm->prev)
		tm->prev->next = tm->next;
	else
		ln->head = tm->next;
	if (tm->next)
		tm->next->prev = tm->prev;
	else
		ln->tail = tm->prev;
	tm->prev = tm->next = NULL;
	tm->lane = 0;
}

int sip__theap_arm(struct sip__theap *h, struct sip__timer *tm, sip_ms_t when)
{
	if (tm->lane)
		lane_unlink(h, tm);
	if (tm->idx) {
		uint32_t i = tm->idx - 1;
		sip_ms_t old = h->a[i].when;
		h->a[i].when = when;
		if (when < old)
			sift_up(h, i);
		else
			sift_down(h, i);
		return 0;
	}
	if (h->n == h->cap) {
		int rc = sip__theap_reserve(h, (size_t)h->n + 1);
		if (rc)
			return rc;
	}
	uint32_t i = h->n++;
	h->a[i] = (struct sip__hent){when, tm};
	sift_up(h, i);
	return 0;
}

int sip__theap_arm_in(struct sip__theap *h, struct sip__timer *tm, sip_ms_t now, uint32_t ms)
{
	sip_ms_t when = now + ms;
	unsigned i = 0;
	while (i < h->nlanes && h->lanes[i].ms != ms)
		i++;
	if (i == h->nlanes) {
		if (h->nlanes == SIP__THEAP_LANES)
			return sip__theap_arm(h, tm, when);
		h->lanes[h->nlanes++] = (struct sip__lane){ms, NULL, NULL};
	}
	sip__theap_cancel(h, tm);
	struct sip__lane *ln = &h->lanes[i];
	if (ln->tail && ln->tail->when > when)
		return sip__theap_arm(h, tm, when); /* the clock went back: keep the lane sorted */
	tm->lane = (uint8_t)(i + 1);
	tm->when = when;
	tm->next = NULL;
	tm->prev = ln->tail;
	if (ln->tail)
		ln->tail->next = tm;
	else
		ln->head = tm;
	ln->tail = tm;
	return 0;
}

void sip__theap_cancel(struct sip__theap *h, struct sip__timer *tm)
{
	if (tm->lane) {
		lane_unlink(h, tm);
		return;
	}
	if (!tm->idx)
		return;
	uint32_t i = tm->idx - 1;
	tm->idx = 0;
	h->n--;
	if (i == h->n)
		return;
	/* Move the last entry into the hole; it may need to go either way. */
	struct sip__hent last = h->a[h->n];
	sip_ms_t old = h->a[i].when;
	place(h, i, last);
	if (last.when < old)
		sift_up(h, i);
	else
		sift_down(h, i);
}

/* The timer due first: the heap's top or a lane's head (NULL when none). */
static struct sip__timer *earliest(const struct sip__theap *h, sip_ms_t *when)
{
	struct sip__timer *best = h->n ? h->a[0].tm : NULL;
	sip_ms_t w = h->n ? h->a[0].when : SIP_MS_NEVER;
	for (unsigned i = 0; i < h->nlanes; i++) {
		struct sip__timer *t = h->lanes[i].head;
		if (t && t->when < w) {
			best = t;
			w = t->when;
		}
	}
	*when = w;
	return best;
}

sip_ms_t sip__theap_next(const struct sip__theap *h)
{
	sip_ms_t w;
	(void)earliest(h, &w);
	return w;
}

struct sip__timer *sip__theap_pop_due(struct sip__theap *h, sip_ms_t now)
{
	sip_ms_t w;
	struct sip__timer *tm = earliest(h, &w);
	if (!tm || w > now)
		return NULL;
	sip__theap_cancel(h, tm);
	return tm;
}

void sip__theap_free(struct sip__theap *h)
{
	sip_free(h->a);
	h->a = NULL;
	h->n = h->cap = 0;
	h->nlanes = 0;
}
