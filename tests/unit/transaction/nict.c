/* Non-INVITE client transaction (RFC 3261 §17.1.2): Timer E doubling to T2,
 * E at T2 in Proceeding, Timer F timeout, Timer K, reliable transports. */
#include "txn_fixture.h"

#define BR "z9hG4bKnict1"

static struct sip_txn *start(struct fx *f, const char *method, const struct sip_txn_dest *dest)
{
	struct sip_txn *t = NULL;
	const struct sip_msg *req = fx_request(f, method, "pc33.atlanta.example.com", BR, "");
	assert_int_equal(sip_txn_client_new(f->layer, req, dest, fx_now(f), &t), 0);
	assert_int_equal(sip_txn_kind(t), SIP_TXN_NICT);
	assert_int_equal(sip_txn_state(t), SIP_TXN_TRYING);
	return t;
}

/* E: 500, 1500, 3500, 7500, then every T2 = 4 s: 11500 ... 31500; F at 32 s. */
static void test_nict_timer_e_f(void **state)
{
	struct fx *f = *state;
	start(f, "OPTIONS", &fx_udp);
	fx_run_until(f, 31999);
	const sip_ms_t want[] = {0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500};
	fx_assert_send_times(f, want, 11);
	assert_int_equal(f->nevents, 0);
	fx_run_until(f, 40000);
	assert_int_equal(f->nsends, 11);
	assert_int_equal(f->nevents, 2);
	assert_int_equal(f->events[0].ev, SIP_TXN_EV_TIMEOUT);
	assert_int_equal(f->events[0].at, 32000);
	assert_int_equal(f->events[1].ev, SIP_TXN_EV_TERMINATED);
}

/* Proceeding: the running E fires as armed, then every T2. */
static void test_nict_proceeding_e_at_t2(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = start(f, "REGISTER", &fx_udp);
	fx_run_until(f, 600);
	fx_feed(f, fx_response(f, 100, BR, "", "REGISTER"));
	assert_int_equal(sip_txn_state(t), SIP_TXN_PROCEEDING);
	assert_int_equal(f->events[0].ev, SIP_TXN_EV_RESPONSE);
	assert_int_equal(f->events[0].status, 100);
	fx_run_until(f, 14000);
	const sip_ms_t want[] = {0, 500, 1500, 5500, 9500, 13500};
	fx_assert_send_times(f, want, 6);
	fx_feed(f, fx_response(f, 180, BR, "", "REGISTER"));
	assert_int_equal(fx_count(f, SIP_TXN_EV_RESPONSE), 2);
	/* Timer F still runs in Proceeding. */
	fx_run_until(f, 32000);
	assert_int_equal(f->events[2].ev, SIP_TXN_EV_TIMEOUT);
	assert_int_equal(f->events[2].at, 32000);
	assert_int_equal(f->events[2].state, SIP_TXN_PROCEEDING);
}

/* A 1xx while E is still below T2 switches it to T2 at its next firing. */
static void test_nict_proceeding_early(void **state)
{
	struct fx *f = *state;
	start(f, "OPTIONS", &fx_udp);
	fx_feed(f, fx_response(f, 100, BR, "", "OPTIONS"));
	fx_run_until(f, 9000);
	const sip_ms_t want[] = {0, 500, 4500, 8500};
	fx_assert_send_times(f, want, 4);
}

/* Final response: Completed, to the TU once; retransmissions absorbed;
 * Timer K = T4 = 5 s. */
static void test_nict_final_timer_k(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = start(f, "OPTIONS", &fx_udp);
	fx_run_until(f, 100);
	fx_feed(f, fx_response(f, 200, BR, ";tag=z", "OPTIONS"));
	assert_int_equal(sip_txn_state(t), SIP_TXN_COMPLETED);
	assert_int_equal(sip_txn_status(t), 200);
	assert_int_equal(f->nevents, 1);
	fx_feed(f, fx_response(f, 200, BR, ";tag=z", "OPTIONS"));
	fx_feed(f, fx_response(f, 100, BR, "", "OPTIONS"));
	assert_int_equal(f->nevents, 1);
	assert_int_equal(sip_txn_next_deadline(f->layer), 5100);
	fx_run_until(f, 5099);
	assert_int_equal(sip_txn_layer_count(f->layer), 1);
	fx_run_until(f, 5100);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	assert_int_equal(f->events[1].ev, SIP_TXN_EV_TERMINATED);
	assert_int_equal(f->nsends, 1);
}

/* Proceeding -> Completed on a 4xx. */
static void test_nict_proceeding_to_completed(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = start(f, "BYE", &fx_udp);
	fx_feed(f, fx_response(f, 100, BR, "", "BYE"));
	fx_feed(f, fx_response(f, 481, BR, ";tag=z", "BYE"));
	assert_int_equal(sip_txn_state(t), SIP_TXN_COMPLETED);
	assert_int_equal(f->events[1].status, 481);
	fx_run_until(f, 60000);
	assert_int_equal(f->nsends, 1);
	assert_int_equal(fx_count(f, SIP_TXN_EV_TIMEOUT), 0);
}

/* Reliable: no Timer E, Timer K = 0. */
static void test_nict_reliable(void **state)
{
	struct fx *f = *state;
	start(f, "OPTIONS", &fx_tcp);
	fx_run_until(f, 10000);
	assert_int_equal(f->nsends, 1);
	fx_feed(f, fx_response(f, 200, BR, ";tag=z", "OPTIONS"));
	assert_int_equal(f->nevents, 2);
	assert_int_equal(f->events[0].ev, SIP_TXN_EV_RESPONSE);
	assert_int_equal(f->events[1].ev, SIP_TXN_EV_TERMINATED);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
}

/* Reliable: Timer F still fires at 64*T1. */
static void test_nict_reliable_timeout(void **state)
{
	struct fx *f = *state;
	start(f, "OPTIONS", &fx_tcp);
	fx_run_until(f, 40000);
	assert_int_equal(f->nsends, 1);
	assert_int_equal(f->events[0].ev, SIP_TXN_EV_TIMEOUT);
	assert_int_equal(f->events[0].at, 32000);
}

/* A CANCEL is its own NICT: same branch as the INVITE, told apart by the
 * CSeq method (§9.1, §17.1.3). */
static void test_nict_cancel_beside_invite(void **state)
{
	struct fx *f = *state;
	struct sip_txn *inv = NULL, *can = NULL;
	assert_int_equal(sip_txn_client_new(f->layer, fx_invite(f, BR), &fx_udp, 0, &inv), 0);
	const struct sip_msg *c = fx_request(f, "CANCEL", "pc33.atlanta.example.com", BR, "");
	assert_int_equal(sip_txn_client_new(f->layer, c, &fx_udp, 0, &can), 0);
	assert_int_equal(sip_txn_kind(can), SIP_TXN_NICT);
	fx_feed(f, fx_response(f, 200, BR, ";tag=z", "CANCEL"));
	assert_ptr_equal(f->events[0].txn, can);
	assert_int_equal(sip_txn_state(can), SIP_TXN_COMPLETED);
	assert_int_equal(sip_txn_state(inv), SIP_TXN_CALLING);
	fx_feed(f, fx_response(f, 487, BR, ";tag=z", "INVITE"));
	assert_ptr_equal(f->events[1].txn, inv);
	assert_int_equal(sip_txn_state(inv), SIP_TXN_COMPLETED);
}

/* Extension methods are matched by their name. */
static void test_nict_extension_method(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = start(f, "FOOBAR", &fx_udp);
	fx_feed(f, fx_response(f, 200, BR, ";tag=z", "FOOBAZ"));
	assert_int_equal(f->events[0].ev, SIP_TXN_EV_STRAY_RESPONSE);
	fx_feed(f, fx_response(f, 200, BR, ";tag=z", "FOOBAR"));
	assert_int_equal(f->events[1].ev, SIP_TXN_EV_RESPONSE);
	assert_ptr_equal(f->events[1].txn, t);
}

/* udata and the accessors. */
static void test_nict_accessors(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = start(f, "OPTIONS", &fx_udp);
	int x;
	assert_null(sip_txn_udata(t));
	sip_txn_set_udata(t, &x);
	assert_ptr_equal(sip_txn_udata(t), &x);
	assert_int_equal(sip_txn_dest(t)->transport, 1);
	assert_string_equal(sip_txn_kind_name(sip_txn_kind(t)), "NICT");
	assert_string_equal(sip_txn_state_name(sip_txn_state(t)), "Trying");
	assert_string_equal(sip_txn_state_name(SIP_TXN_ACCEPTED), "Accepted");
	struct sip_txn_stats st;
	sip_txn_layer_stats(f->layer, &st);
	assert_int_equal(st.txns, 1);
	assert_int_equal(st.msg_bytes, f->sends[0].len);
	assert_true(st.txn_bytes > 0 && st.txn_bytes < 512);
}

/* Config validation. */
static void test_nict_config(void **state)
{
	(void)state;
	struct sip_txn_layer *l = NULL;
	struct sip_txn_callbacks cb = {fx_send_cb, fx_tu_cb, NULL};
	struct sip_txn_config c;
	sip_txn_config_default(&c);
	assert_int_equal(c.t1_ms, 500);
	assert_int_equal(c.t2_ms, 4000);
	assert_int_equal(c.t4_ms, 5000);
	c.t1_ms = 0;
	assert_int_equal(sip_txn_layer_new(&l, &c, &cb), SIP_EINVAL);
	sip_txn_config_default(&c);
	c.t2_ms = 100;
	assert_int_equal(sip_txn_layer_new(&l, &c, &cb), SIP_EINVAL);
	struct sip_txn_callbacks nocb = {NULL, fx_tu_cb, NULL};
	assert_int_equal(sip_txn_layer_new(&l, NULL, &nocb), SIP_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
		T(test_nict_timer_e_f),
		T(test_nict_proceeding_e_at_t2),
		T(test_nict_proceeding_early),
		T(test_nict_final_timer_k),
		T(test_nict_proceeding_to_completed),
		T(test_nict_reliable),
		T(test_nict_reliable_timeout),
		T(test_nict_cancel_beside_invite),
		T(test_nict_extension_method),
		T(test_nict_accessors),
		T(test_nict_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
