/* The transaction table under churn: transactions created and ended in an
 * interleaved order (Timer J expiries at staggered times) while the table
 * grows — including while a growth is still draining the old array (found
 * there, removed from there as tombstones); every live one is still
 * matched, every ended one is gone. */
#include "txn_fixture.h"
#include "transaction/txn_int.h"

#define HOST "churn.example.com"
#define N 6000
#define STEP 10 /* ms between requests: Timer J (32 s) ends the first ones midway */

/* Feeds a request on branch #i; returns 1 when it made a new transaction. */
static int feed(struct fx *f, int i)
{
	char br[64];
	snprintf(br, sizeof(br), "z9hG4bKchurn%d", i);
	size_t before = sip_txn_layer_count(f->layer);
	fx_feed(f, fx_request(f, "OPTIONS", HOST, br, ""));
	free(f->msgs[--f->nmsgs]);
	free(f->bufs[f->nmsgs]);
	return sip_txn_layer_count(f->layer) > before;
}

static void test_table_churn(void **state)
{
	struct fx *f = *state;
	static struct sip_txn *txns[N];
	static bool answered[N];
	char br[64];
	for (int i = 0; i < N; i++) {
		/* The clock moves 5 ms per request, so answered ones expire in a
		 * rolling order while later ones are still being created. */
		f->quiet = true; /* TERMINATED events of expiring ones */
		fx_run_until(f, (sip_ms_t)i * STEP);
		f->quiet = false;
		f->nevents = 0;
		assert_int_equal(feed(f, i), 1);
		assert_int_equal(f->events[0].ev, SIP_TXN_EV_REQUEST);
		txns[i] = f->events[0].txn;
		f->nevents = 0;
		if (i % 3 != 1) {
			snprintf(br, sizeof(br), "z9hG4bKchurn%d", i);
			const char *r = fx_response_text(f, 200, br, "OPTIONS");
			assert_int_equal(sip_txn_respond(txns[i], r, strlen(r), fx_now(f)), 0);
			free(f->msgs[--f->nmsgs]);
			free(f->bufs[f->nmsgs]);
			answered[i] = true;
		}
		f->nsends = 0;
		f->nevents = 0;
	}
	/* The last growth (to 8192 slots, near the end) is still draining: the
	 * expiries below remove entries from the old array, the feeds find
	 * entries in both. */
	struct sip_txn_stats st;
	sip_txn_layer_stats(f->layer, &st);
	assert_int_equal(st.table_bytes, (16384 + 8192) * sizeof(void *) * 2);
	f->quiet = true;
	fx_run_until(f, 4000 * STEP + 64 * 500);
	size_t live = 0;
	for (int i = 0; i < N; i++)
		live += !(answered[i] && i <= 4000);
	assert_true(live > N / 3 && live < N);
	assert_int_equal(sip_txn_layer_count(f->layer), live);
	for (int i = 0; i < N; i++) {
		bool gone = answered[i] && i <= 4000;
		size_t sends = f->nsends;
		/* A live transaction absorbs the retransmission (answered ones resend
		 * their 200); an ended one gives way to a new transaction. */
		assert_int_equal(feed(f, i), gone ? 1 : 0);
		if (!gone)
			assert_int_equal(f->nsends, sends + (answered[i] ? 1 : 0));
		f->nsends = 0;
	}
	assert_int_equal(sip_txn_layer_count(f->layer), N);
}

/* A server key on branch #i (the table's own view, no message needed). */
static struct sip__key key_of(char *buf, size_t cap, int i)
{
	snprintf(buf, cap, "z9hG4bKgrow%d", i);
	struct sip__key k = {.server = true, .method = SIP_METHOD_OPTIONS, .branch = sip_str_c(buf),
			     .host = SIP_STR("grow.example.com"), .port = 5060, .has_port = true};
	/* Any spread of hashes will do; collisions are fine (keys still differ). */
	k.hash = (uint64_t)i * 0x9E3779B97F4A7C15ull;
	return k;
}

/* Growth drains the old array a few slots per insert. At every step of two
 * growths, removals (in either array) and lookups that miss (which must end:
 * an emptied old array once looped forever) behave. */
static void test_growth_draining(void **state)
{
	struct fx *f = *state;
	struct sip_txn_layer *l = f->layer;
	enum { M = 5000 };
	static struct sip_txn *t[M];
	char b[64];
	for (int i = 0; i < M; i++) {
		struct sip__key k = key_of(b, sizeof b, i);
		assert_int_equal(sip__txn_alloc(l, &k, SIP_TXN_NIST, NULL, &t[i]), 0);
		/* Every third earlier one leaves again, wherever it lives now. */
		if (i % 3 == 2) {
			sip__txn_destroy(t[i - 1]);
			t[i - 1] = NULL;
		}
		struct sip__key miss = key_of(b, sizeof b, M + i);
		assert_null(sip__table_find(l, &miss));
		if (i % 97 == 0 || l->old) {
			/* While draining (and now and then otherwise), all are in place. */
			for (int j = i; j >= 0 && j > i - 64; j--) {
				struct sip__key k2 = key_of(b, sizeof b, j);
				assert_ptr_equal(sip__table_find(l, &k2), t[j]);
			}
		}
	}
	size_t live = 0;
	for (int i = 0; i < M; i++)
		live += t[i] != NULL;
	assert_int_equal(sip_txn_layer_count(l), live);
	for (int i = 0; i < M; i++) {
		struct sip__key k = key_of(b, sizeof b, i);
		assert_ptr_equal(sip__table_find(l, &k), t[i]);
	}
	f->quiet = true; /* the layer's close ends them all */
}

/* The end of a drain: the old array's last slots all occupied, everything
 * before them already moved. A lookup that misses must stop at an empty
 * slot of the old array rather than wrap around forever (it did, when
 * moved-out empty slots were marked like removed ones). Hashes are chosen
 * so the layout is exact: the initial array has 2048 slots. */
static void test_drain_end_lookup(void **state)
{
	struct fx *f = *state;
	struct sip_txn_layer *l = f->layer;
	enum { FIRST = 2048 };
	static struct sip_txn *t[1400];
	char b[64];
	int n = 0;
	/* 1016 entries on even home slots below 2040, 8 on slots 2040..2047:
	 * 1024 entries, half full. */
	for (int i = 0; i < 1016; i++, n++) {
		struct sip__key k = key_of(b, sizeof b, n);
		k.hash = (uint64_t)i * 2;
		assert_int_equal(sip__txn_alloc(l, &k, SIP_TXN_NIST, NULL, &t[n]), 0);
	}
	for (int i = 0; i < 8; i++, n++) {
		struct sip__key k = key_of(b, sizeof b, n);
		k.hash = (uint64_t)(FIRST - 8 + i);
		assert_int_equal(sip__txn_alloc(l, &k, SIP_TXN_NIST, NULL, &t[n]), 0);
	}
	/* The next one doubles the array; each new one then moves 8 old slots.
	 * After 255 of them the drain cursor sits at 2040. */
	for (int i = 0; i < 255; i++, n++) {
		struct sip__key k = key_of(b, sizeof b, n);
		k.hash = (uint64_t)(1u << 20) + (uint64_t)i * 16 + 1; /* odd homes in the new array */
		assert_int_equal(sip__txn_alloc(l, &k, SIP_TXN_NIST, NULL, &t[n]), 0);
	}
	assert_non_null(l->old);
	assert_int_equal(l->nold - l->old_next, 8);
	/* Home slot 3 of the old array (drained; it was empty) and of the new one. */
	struct sip__key miss = key_of(b, sizeof b, 99999);
	miss.hash = 3;
	assert_null(sip__table_find(l, &miss));
	for (int i = 0; i < n; i++) {
		struct sip__key k = key_of(b, sizeof b, i);
		k.hash = t[i]->hash;
		assert_ptr_equal(sip__table_find(l, &k), t[i]);
	}
	f->quiet = true;
}

/* A burst's memory goes back once its transactions end: 3,000 answered
 * OPTIONS hold their slabs through Timer J; after it, two trims (one period
 * with no use) leave no slab mapped, and the layer still works. A trim while
 * they are alive gives nothing back. */
static void test_memory_returns_after_burst(void **state)
{
	struct fx *f = *state;
	char br[64];
	for (int i = 0; i < 3000; i++) {
		f->nevents = 0;
		assert_int_equal(feed(f, i), 1);
		snprintf(br, sizeof(br), "z9hG4bKchurn%d", i);
		const char *r = fx_response_text(f, 200, br, "OPTIONS");
		assert_int_equal(sip_txn_respond(f->events[0].txn, r, strlen(r), fx_now(f)), 0);
		free(f->msgs[--f->nmsgs]);
		free(f->bufs[f->nmsgs]);
		f->nsends = 0;
		f->nevents = 0;
	}
	struct sip_txn_stats st;
	sip_txn_layer_stats(f->layer, &st);
	size_t peak = st.pool_bytes;
	sip_txn_layer_trim(f->layer);
	sip_txn_layer_trim(f->layer);
	sip_txn_layer_stats(f->layer, &st);
	assert_int_equal(st.pool_bytes, peak);
	f->quiet = true;
	fx_run_until(f, 64 * 500 + 1);
	f->quiet = false;
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	sip_txn_layer_trim(f->layer);
	sip_txn_layer_trim(f->layer);
	sip_txn_layer_stats(f->layer, &st);
	assert_int_equal(st.pool_bytes, 0);
#ifndef SIP__POOL_BYPASS
	assert_true(peak >= 3000 * 256);
#endif
	f->nevents = 0;
	assert_int_equal(feed(f, 3000), 1);
	f->nevents = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_table_churn, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_growth_draining, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_drain_end_lookup, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_memory_returns_after_burst, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
