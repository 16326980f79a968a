/* Non-INVITE server transaction (RFC 3261 §17.2.2): Trying, Proceeding,
 * Completed, Timer J, retransmissions answered with the last response. */
#include "txn_fixture.h"

#define BR "z9hG4bKnist1"
#define HOST "pc33.atlanta.example.com"

static struct sip_txn *recv_req(struct fx *f, const char *method, const struct sip_txn_dest *src)
{
	fx_feed_from(f, fx_request(f, method, HOST, BR, ""), src);
	struct fx_event *e = &f->events[f->nevents - 1];
	assert_int_equal(e->ev, SIP_TXN_EV_REQUEST);
	assert_int_equal(sip_txn_kind(e->txn), SIP_TXN_NIST);
	assert_int_equal(e->state, SIP_TXN_TRYING);
	return e->txn;
}

static int respond(struct fx *f, struct sip_txn *t, int code, const char *method)
{
	const char *r = fx_response_text(f, code, BR, method);
	return sip_txn_respond(t, r, strlen(r), fx_now(f));
}

/* Trying: retransmissions are absorbed (nothing to send, TU not told). */
static void test_nist_trying_absorbs(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = recv_req(f, "OPTIONS", &fx_udp);
	fx_run_until(f, 500);
	fx_feed(f, fx_request(f, "OPTIONS", HOST, BR, ""));
	assert_int_equal(f->nsends, 0);
	assert_int_equal(f->nevents, 1);
	assert_int_equal(sip_txn_state(t), SIP_TXN_TRYING);
	/* No timer in Trying: the TU owns the pace. */
	assert_int_equal(sip_txn_next_deadline(f->layer), SIP_MS_NEVER);
}

/* Trying -1xx-> Proceeding -2xx-> Completed; each retransmission gets the
 * last response; Timer J = 64*T1 ends it. */
static void test_nist_full_path_timer_j(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = recv_req(f, "REGISTER", &fx_udp);
	assert_int_equal(respond(f, t, 100, "REGISTER"), 0);
	assert_int_equal(sip_txn_state(t), SIP_TXN_PROCEEDING);
	assert_int_equal(respond(f, t, 183, "REGISTER"), 0);
	fx_feed(f, fx_request(f, "REGISTER", HOST, BR, ""));
	assert_int_equal(f->nsends, 3);
	assert_true(fx_contains(&f->sends[2], "SIP/2.0 183 "));
	fx_run_until(f, 1000);
	assert_int_equal(respond(f, t, 200, "REGISTER"), 0);
	assert_int_equal(sip_txn_state(t), SIP_TXN_COMPLETED);
	assert_int_equal(sip_txn_status(t), 200);
	fx_run_until(f, 2000);
	fx_feed(f, fx_request(f, "REGISTER", HOST, BR, ""));
	assert_int_equal(f->nsends, 5);
	assert_int_equal(f->sends[4].at, 2000);
	assert_int_equal(f->sends[4].len, f->sends[3].len);
	assert_memory_equal(f->sends[4].bytes, f->sends[3].bytes, f->sends[3].len);
	/* A second final response is refused. */
	assert_int_equal(respond(f, t, 500, "REGISTER"), SIP_ESTATE);
	assert_int_equal(respond(f, t, 180, "REGISTER"), SIP_ESTATE);
	fx_run_until(f, 32999);
	assert_int_equal(sip_txn_layer_count(f->layer), 1);
	assert_int_equal(f->nsends, 5); /* the NIST never retransmits on its own */
	fx_run_until(f, 33000);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	assert_int_equal(f->events[1].ev, SIP_TXN_EV_TERMINATED);
	assert_int_equal(f->events[1].at, 33000);
	/* After Terminated a retransmission is a new request for the TU. */
	fx_feed(f, fx_request(f, "REGISTER", HOST, BR, ""));
	assert_int_equal(fx_count(f, SIP_TXN_EV_REQUEST), 2);
}

/* Trying -final-> Completed directly. */
static void test_nist_trying_to_completed(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = recv_req(f, "BYE", &fx_udp);
	assert_int_equal(respond(f, t, 481, "BYE"), 0);
	assert_int_equal(sip_txn_state(t), SIP_TXN_COMPLETED);
	assert_int_equal(sip_txn_next_deadline(f->layer), 32000);
	assert_true(f->sends[0].dest.addr[0] == 127 && !f->sends[0].dest.reliable);
}

/* Reliable: Timer J = 0 — gone as soon as the final response is sent,
 * even when the TU answers from inside the REQUEST event. */
static void test_nist_reliable_timer_j_zero(void **state)
{
	struct fx *f = *state;
	f->auto_response = fx_response_text(f, 200, BR, "OPTIONS");
	fx_feed_from(f, fx_request(f, "OPTIONS", HOST, BR, ""), &fx_tcp);
	assert_int_equal(f->nsends, 1);
	assert_true(f->sends[0].dest.reliable);
	assert_int_equal(f->nevents, 2);
	assert_int_equal(f->events[0].ev, SIP_TXN_EV_REQUEST);
	assert_int_equal(f->events[1].ev, SIP_TXN_EV_TERMINATED);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
}

/* Send failure: transport error, Terminated, the error returned. */
static void test_nist_send_error(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = recv_req(f, "OPTIONS", &fx_udp);
	assert_int_equal(respond(f, t, 100, "OPTIONS"), 0);
	f->fail_send_at = 1;
	fx_feed(f, fx_request(f, "OPTIONS", HOST, BR, "")); /* resend of the 100 fails */
	assert_int_equal(f->events[1].ev, SIP_TXN_EV_TRANSPORT_ERROR);
	assert_int_equal(f->events[2].ev, SIP_TXN_EV_TERMINATED);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
}

/* Method is part of the key: a BYE on an OPTIONS branch is a new txn. */
static void test_nist_method_in_key(void **state)
{
	struct fx *f = *state;
	recv_req(f, "OPTIONS", &fx_udp);
	recv_req(f, "BYE", &fx_udp);
	assert_int_equal(sip_txn_layer_count(f->layer), 2);
	/* A client txn with the same branch does not catch requests. */
	struct sip_txn *c = NULL;
	assert_int_equal(sip_txn_client_new(f->layer, fx_request(f, "INFO", HOST, BR, ""), &fx_udp, 0, &c), 0);
	recv_req(f, "INFO", &fx_udp);
	assert_int_equal(sip_txn_layer_count(f->layer), 4);
}

/* Client calls on a server txn are refused. */
static void test_nist_respond_on_client(void **state)
{
	struct fx *f = *state;
	struct sip_txn *c = NULL;
	assert_int_equal(sip_txn_client_new(f->layer, fx_request(f, "INFO", HOST, BR, ""), &fx_udp, 0, &c), 0);
	assert_int_equal(respond(f, c, 200, "INFO"), SIP_EINVAL);
}

/* Allocation failures on a new server txn: SIP_ENOMEM, no event, no leak. */
static void test_nist_enomem(void **state)
{
	struct fx *f = *state;
	const struct sip_msg *m = fx_request(f, "OPTIONS", HOST, BR, "");
	int ok = 0;
	for (long n = 0; n < 10 && !ok; n++) {
		fx_calls = 0;
		fx_fail_at = n;
		int rc = sip_txn_on_message(f->layer, m, &fx_udp, 0);
		fx_fail_at = -1;
		if (rc == 0)
			ok = 1;
		else
			assert_int_equal(rc, SIP_ENOMEM);
	}
	assert_true(ok);
	assert_int_equal(fx_count(f, SIP_TXN_EV_REQUEST), 1);
	/* And for an IST (the 100 Trying buffer). */
	m = fx_request(f, "INVITE", HOST, BR, "");
	ok = 0;
	for (long n = 0; n < 10 && !ok; n++) {
		fx_calls = 0;
		fx_fail_at = n;
		int rc = sip_txn_on_message(f->layer, m, &fx_udp, 0);
		fx_fail_at = -1;
		if (rc == 0)
			ok = 1;
		else
			assert_int_equal(rc, SIP_ENOMEM);
	}
	assert_true(ok);
	assert_int_equal(sip_txn_layer_count(f->layer), 2);
}

/* Many transactions: the table grows and still matches each one. */
static void test_nist_many(void **state)
{
	struct fx *f = *state;
	enum { N = 5000 };
	static struct sip_txn *txns[N];
	char br[64];
	for (int i = 0; i < N; i++) {
		snprintf(br, sizeof(br), "z9hG4bKmany%d", i);
		const struct sip_msg *m = fx_request(f, "OPTIONS", HOST, br, "");
		fx_feed(f, m);
		txns[i] = f->events[0].txn;
		f->nevents = 0;
		/* reuse the fixture's message slots */
		free(f->msgs[--f->nmsgs]);
		free(f->bufs[f->nmsgs]);
	}
	assert_int_equal(sip_txn_layer_count(f->layer), N);
	for (int i = 0; i < N; i += 7) {
		snprintf(br, sizeof(br), "z9hG4bKmany%d", i);
		const char *r = fx_response_text(f, 200, br, "OPTIONS");
		assert_int_equal(sip_txn_respond(txns[i], r, strlen(r), 0), 0);
		free(f->msgs[--f->nmsgs]);
		free(f->bufs[f->nmsgs]);
		const struct sip_msg *m = fx_request(f, "OPTIONS", HOST, br, "");
		size_t before = f->nsends;
		fx_feed(f, m);
		assert_int_equal(f->nsends, before + 1);
		assert_ptr_equal(f->sends[before].txn, txns[i]);
		free(f->msgs[--f->nmsgs]);
		free(f->bufs[f->nmsgs]);
		f->nsends = 0;
	}
	assert_int_equal(f->nevents, 0);
	f->quiet = true; /* 5000 TERMINATED events at teardown */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
		T(test_nist_trying_absorbs),
		T(test_nist_full_path_timer_j),
		T(test_nist_trying_to_completed),
		T(test_nist_reliable_timer_j_zero),
		T(test_nist_send_error),
		T(test_nist_method_in_key),
		T(test_nist_respond_on_client),
		T(test_nist_enomem),
		T(test_nist_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
