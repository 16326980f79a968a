/* The transaction table under churn: transactions created and ended in an
 * interleaved order (Timer J expiries at staggered times) while the table
 * grows; every live one is still matched, every ended one is gone. */
#include "txn_fixture.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_table_churn, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
