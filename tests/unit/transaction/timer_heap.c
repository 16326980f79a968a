/* The timer heap (src/transaction/timer_heap.c): pops in deadline order
 * under random arm / re-arm / cancel, against a brute-force model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>
#include "transaction/timer_heap.h"

enum { N = 2000, OPS = 20000 };

static struct sip__timer tm[N];
static sip_ms_t model[N]; /* SIP_MS_NEVER: not armed */

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Pops every timer due at now: each was due per the model, in deadline
 * order, and is disarmed. Returns how many. */
static size_t pop_due_checked(struct sip__theap *h, sip_ms_t now)
{
	struct sip__timer *t;
	sip_ms_t last = 0;
	size_t n = 0;
	while ((t = sip__theap_pop_due(h, now)) != NULL) {
		int k = (int)(t - tm);
		assert_true(model[k] <= now);
		assert_true(model[k] >= last);
		last = model[k];
		model[k] = SIP_MS_NEVER;
		assert_false(sip__timer_armed(t));
		n++;
	}
	return n;
}

static void test_heap_random(void **state)
{
	(void)state;
	struct sip__theap h = {0};
	assert_int_equal(sip__theap_reserve(&h, N), 0);
	for (int i = 0; i < N; i++)
		model[i] = SIP_MS_NEVER;
	sip_ms_t now = 0;
	for (int op = 0; op < OPS; op++) {
		int i = (int)(next_rand() % N);
		switch (next_rand() % 4) {
		case 0:
		case 1: {
			sip_ms_t when = now + next_rand() % 5000;
			assert_int_equal(sip__theap_arm(&h, &tm[i], when), 0);
			model[i] = when;
			break;
		}
		case 2:
			sip__theap_cancel(&h, &tm[i]);
			model[i] = SIP_MS_NEVER;
			break;
		default: {
			now += next_rand() % 50;
			pop_due_checked(&h, now);
			break;
		}
		}
		sip_ms_t min = SIP_MS_NEVER;
		size_t armed = 0;
		for (int k = 0; k < N; k++) {
			if (model[k] < min)
				min = model[k];
			armed += model[k] != SIP_MS_NEVER;
			assert_int_equal(sip__timer_armed(&tm[k]), model[k] != SIP_MS_NEVER);
		}
		assert_int_equal(sip__theap_next(&h), min);
		assert_int_equal(h.n, armed);
	}
	sip__theap_free(&h);
}

static size_t lane_len(const struct sip__theap *h)
{
	size_t n = 0;
	for (unsigned i = 0; i < h->nlanes; i++) {
		sip_ms_t last = 0;
		for (const struct sip__timer *t = h->lanes[i].head; t; t = t->next) {
			assert_true(t->when >= last); /* a lane stays sorted */
			assert_int_equal(t->lane, i + 1);
			last = t->when;
			n++;
		}
	}
	return n;
}

/* Fixed-duration lanes beside the heap: timers armed "ms from now" (five
 * durations for four lanes, and now sometimes behind the latest arm) mixed
 * with heap arms, re-arms across both, cancels; pops stay in deadline
 * order, and every timer is in exactly one place. */
static void test_heap_lanes_random(void **state)
{
	(void)state;
	static const uint32_t durs[] = {32000, 5000, 500, 7, 64};
	struct sip__theap h = {0};
	assert_int_equal(sip__theap_reserve(&h, N), 0);
	for (int i = 0; i < N; i++) {
		model[i] = SIP_MS_NEVER;
		tm[i] = (struct sip__timer){0};
	}
	sip_ms_t now = 10000;
	size_t popped = 0;
	for (int op = 0; op < OPS; op++) {
		int i = (int)(next_rand() % N);
		switch (next_rand() % 5) {
		case 0: {
			sip_ms_t when = now + next_rand() % 5000;
			assert_int_equal(sip__theap_arm(&h, &tm[i], when), 0);
			model[i] = when;
			break;
		}
		case 1:
		case 2: {
			uint32_t ms = durs[next_rand() % 5];
			sip_ms_t at = next_rand() % 8 ? now : now - next_rand() % 100;
			assert_int_equal(sip__theap_arm_in(&h, &tm[i], at, ms), 0);
			model[i] = at + ms;
			break;
		}
		case 3:
			sip__theap_cancel(&h, &tm[i]);
			model[i] = SIP_MS_NEVER;
			break;
		default: {
			now += next_rand() % 200;
			popped += pop_due_checked(&h, now);
			break;
		}
		}
		if (op % 97)
			continue; /* the full check is O(N) */
		sip_ms_t min = SIP_MS_NEVER;
		size_t armed = 0;
		for (int k = 0; k < N; k++) {
			if (model[k] < min)
				min = model[k];
			armed += model[k] != SIP_MS_NEVER;
			assert_int_equal(sip__timer_armed(&tm[k]), model[k] != SIP_MS_NEVER);
			assert_false(tm[k].idx && tm[k].lane);
		}
		assert_int_equal(sip__theap_next(&h), min);
		assert_int_equal(h.n + lane_len(&h), armed);
	}
	assert_int_equal(h.nlanes, SIP__THEAP_LANES);
	assert_true(popped > (size_t)OPS / 10);
	sip__theap_free(&h);
}

static void test_heap_empty(void **state)
{
	(void)state;
	struct sip__theap h = {0};
	struct sip__timer t = {0};
	assert_int_equal(sip__theap_next(&h), SIP_MS_NEVER);
	assert_null(sip__theap_pop_due(&h, 1000));
	sip__theap_cancel(&h, &t); /* not armed: no-op */
	assert_int_equal(sip__theap_arm(&h, &t, 10), 0); /* grows on demand */
	assert_null(sip__theap_pop_due(&h, 9));
	assert_ptr_equal(sip__theap_pop_due(&h, 10), &t);
	sip__theap_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heap_random),
		cmocka_unit_test(test_heap_empty),
		cmocka_unit_test(test_heap_lanes_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
