/* INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 Accepted / Timer M):
 * every transition, the Timer A schedule, Timer B/D/M, the ACK it builds,
 * transport errors. Virtual clock, fake transport. */
#include "txn_fixture.h"

#define BR "z9hG4bK776asdhds"

static struct sip_txn *start_invite(struct fx *f, const struct sip_txn_dest *dest)
{
	struct sip_txn *t = NULL;
	assert_int_equal(sip_txn_client_new(f->layer, fx_invite(f, BR), dest, fx_now(f), &t), 0);
	assert_non_null(t);
	assert_int_equal(sip_txn_kind(t), SIP_TXN_ICT);
	assert_int_equal(sip_txn_state(t), SIP_TXN_CALLING);
	return t;
}

/* Timer A: 500, 1500, 3500, 7500, 15500, 31500 (doubling, no cap);
 * Timer B at 64*T1 = 32 s: timeout to the TU, then Terminated. */
static void test_ict_timer_a_b(void **state)
{
	struct fx *f = *state;
	start_invite(f, &fx_udp);
	assert_int_equal(sip_txn_next_deadline(f->layer), 500);
	fx_run_until(f, 31999);
	const sip_ms_t want[] = {0, 500, 1500, 3500, 7500, 15500, 31500};
	fx_assert_send_times(f, want, 7);
	for (size_t i = 1; i < f->nsends; i++)
		assert_memory_equal(f->sends[i].bytes, f->sends[0].bytes, f->sends[0].len);
	assert_int_equal(f->nevents, 0);
	fx_run_until(f, 32000);
	assert_int_equal(f->nevents, 2);
	assert_int_equal(f->events[0].ev, SIP_TXN_EV_TIMEOUT);
	assert_int_equal(f->events[0].at, 32000);
	assert_int_equal(f->events[1].ev, SIP_TXN_EV_TERMINATED);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	assert_int_equal(sip_txn_next_deadline(f->layer), SIP_MS_NEVER);
}

/* T1 from the config drives A and B. */
static void test_ict_custom_t1(void **state)
{
	struct fx *f = *state;
	f->cfg.t1_ms = 100;
	fx_restart(f);
	start_invite(f, &fx_udp);
	fx_run_until(f, 10000);
	const sip_ms_t want[] = {0, 100, 300, 700, 1500, 3100, 6300};
	fx_assert_send_times(f, want, 7);
	assert_int_equal(f->events[0].ev, SIP_TXN_EV_TIMEOUT);
	assert_int_equal(f->events[0].at, 6400);
}

/* Reliable transport: no Timer A; Timer B still guards Calling. */
static void test_ict_reliable_no_retransmit(void **state)
{
	struct fx *f = *state;
	start_invite(f, &fx_tcp);
	fx_run_until(f, 40000);
	const sip_ms_t want[] = {0};
	fx_assert_send_times(f, want, 1);
	assert_true(f->sends[0].dest.reliable);
	assert_int_equal(f->sends[0].dest.conn, 7);
	assert_int_equal(f->events[0].ev, SIP_TXN_EV_TIMEOUT);
	assert_int_equal(f->events[0].at, 32000);
}

/* Calling -1xx-> Proceeding: retransmissions and Timer B stop; 1xx to TU. */
static void test_ict_proceeding(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = start_invite(f, &fx_udp);
	fx_run_until(f, 600);
	fx_feed(f, fx_response(f, 180, BR, ";tag=8321234356", "INVITE"));
	assert_int_equal(sip_txn_state(t), SIP_TXN_PROCEEDING);
	assert_int_equal(sip_txn_status(t), 180);
	assert_int_equal(f->nevents, 1);
	assert_int_equal(f->events[0].ev, SIP_TXN_EV_RESPONSE);
	assert_int_equal(f->events[0].status, 180);
	assert_ptr_equal(f->events[0].txn, t);
	fx_feed(f, fx_response(f, 183, BR, ";tag=8321234356", "INVITE"));
	assert_int_equal(f->nevents, 2);
	assert_int_equal(f->events[1].status, 183);
	fx_run_until(f, 100000);
	assert_int_equal(f->nsends, 2); /* the request at 0 and 500 only */
	assert_int_equal(f->nevents, 2);
	assert_int_equal(sip_txn_layer_count(f->layer), 1);
	assert_int_equal(sip_txn_next_deadline(f->layer), SIP_MS_NEVER);
}

/* Proceeding -486-> Completed: ACK built per §17.1.1.3, retransmitted 486
 * re-sends the ACK without the TU, Timer D (32 s) ends it. */
static void test_ict_non2xx_ack_and_timer_d(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = start_invite(f, &fx_udp);
	fx_feed(f, fx_response(f, 100, BR, "", "INVITE"));
	fx_run_until(f, 1000);
	fx_feed(f, fx_response(f, 486, BR, ";tag=8321234356", "INVITE"));
	assert_int_equal(sip_txn_state(t), SIP_TXN_COMPLETED);
	assert_int_equal(f->nsends, 2);
	assert_int_equal(f->sends[1].at, 1000);
	const struct sip_msg *ack = fx_sent(f, 1);
	assert_true(ack->is_request);
	assert_int_equal(ack->method_id, SIP_METHOD_ACK);
	assert_true(sip_str_eq(ack->ruri_str, SIP_STR("sip:bob@biloxi.example.com")));
	assert_true(sip_str_eq(ack->via.branch, SIP_STR(BR)));
	assert_true(sip_str_eq(ack->via.host, SIP_STR("pc33.atlanta.example.com")));
	assert_int_equal(sip_hdr_count(ack, SIP_HDR_VIA), 1);
	assert_int_equal(sip_hdr_count(ack, SIP_HDR_ROUTE), 2);
	assert_true(fx_contains(&f->sends[1], "Route: <sip:p1.example.com;lr>\r\nRoute: <sip:p2.example.com;lr>\r\n"));
	assert_true(sip_str_eq(ack->to.tag, SIP_STR("8321234356")));
	assert_true(sip_str_eq(ack->from.tag, SIP_STR("1928301774")));
	assert_true(sip_str_eq(ack->call_id, SIP_STR("a84b4c76e66710@pc33.atlanta.example.com")));
	assert_int_equal(ack->cseq.num, 314159);
	assert_int_equal(ack->cseq.method_id, SIP_METHOD_ACK);
	assert_int_equal(ack->max_forwards, 70);
	assert_true(ack->has_content_length);
	assert_int_equal(ack->content_length, 0);
	assert_int_equal(ack->first[SIP_HDR_CONTACT], SIP_HDR_NONE);
	assert_int_equal(fx_count(f, SIP_TXN_EV_RESPONSE), 2);
	assert_int_equal(f->events[1].status, 486);

	fx_run_until(f, 5000);
	fx_feed(f, fx_response(f, 486, BR, ";tag=8321234356", "INVITE"));
	assert_int_equal(f->nsends, 3);
	assert_int_equal(f->sends[2].len, f->sends[1].len);
	assert_memory_equal(f->sends[2].bytes, f->sends[1].bytes, f->sends[1].len);
	assert_int_equal(fx_count(f, SIP_TXN_EV_RESPONSE), 2);

	fx_run_until(f, 32999);
	assert_int_equal(sip_txn_layer_count(f->layer), 1);
	fx_run_until(f, 33000);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	assert_int_equal(f->events[f->nevents - 1].ev, SIP_TXN_EV_TERMINATED);
	assert_int_equal(f->events[f->nevents - 1].at, 33000);
	assert_int_equal(fx_count(f, SIP_TXN_EV_TIMEOUT), 0);
}

/* Calling -4xx-> Completed directly (no 1xx), ACK sent, A stops. */
static void test_ict_calling_to_completed(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = start_invite(f, &fx_udp);
	fx_run_until(f, 700);
	fx_feed(f, fx_response(f, 603, BR, ";tag=x", "INVITE"));
	assert_int_equal(sip_txn_state(t), SIP_TXN_COMPLETED);
	fx_run_until(f, 32699);
	assert_int_equal(f->nsends, 3); /* INVITE at 0 and 500, ACK at 700 */
	assert_true(fx_contains(&f->sends[2], "ACK sip:bob@biloxi.example.com SIP/2.0\r\n"));
	fx_run_until(f, 32700);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
}

/* Reliable: Timer D = 0, Completed ends at once after the ACK. */
static void test_ict_reliable_timer_d_zero(void **state)
{
	struct fx *f = *state;
	start_invite(f, &fx_tcp);
	fx_feed(f, fx_response(f, 404, BR, ";tag=x", "INVITE"));
	assert_int_equal(f->nsends, 2);
	assert_int_equal(f->nevents, 2);
	assert_int_equal(f->events[0].ev, SIP_TXN_EV_RESPONSE);
	assert_int_equal(f->events[0].state, SIP_TXN_COMPLETED);
	assert_int_equal(f->events[1].ev, SIP_TXN_EV_TERMINATED);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
}

/* RFC 6026: 2xx -> Accepted; 2xx retransmissions (and other forks' 2xx)
 * pass to the TU; the txn sends no ACK; Timer M = 64*T1 ends it. */
static void test_ict_2xx_accepted_timer_m(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = start_invite(f, &fx_udp);
	fx_run_until(f, 800);
	fx_feed(f, fx_response(f, 200, BR, ";tag=a", "INVITE"));
	assert_int_equal(sip_txn_state(t), SIP_TXN_ACCEPTED);
	assert_int_equal(sip_txn_status(t), 200);
	fx_run_until(f, 1800);
	fx_feed(f, fx_response(f, 200, BR, ";tag=a", "INVITE"));
	fx_feed(f, fx_response(f, 200, BR, ";tag=b", "INVITE")); /* a second fork */
	fx_feed(f, fx_response(f, 180, BR, ";tag=c", "INVITE"));  /* late 1xx: ignored */
	fx_feed(f, fx_response(f, 486, BR, ";tag=d", "INVITE"));  /* ignored */
	assert_int_equal(fx_count(f, SIP_TXN_EV_RESPONSE), 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(f->events[i].status, 200);
	assert_int_equal(f->nsends, 2); /* INVITE at 0 and 500; no ACK */
	fx_run_until(f, 32799);
	assert_int_equal(sip_txn_layer_count(f->layer), 1);
	fx_run_until(f, 32800);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	assert_int_equal(fx_count(f, SIP_TXN_EV_TIMEOUT), 0);
	assert_int_equal(f->events[f->nevents - 1].ev, SIP_TXN_EV_TERMINATED);
}

/* Timer M runs on reliable transports too (RFC 6026 §8.4). */
static void test_ict_2xx_reliable_still_accepted(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = start_invite(f, &fx_tcp);
	fx_feed(f, fx_response(f, 200, BR, ";tag=a", "INVITE"));
	assert_int_equal(sip_txn_state(t), SIP_TXN_ACCEPTED);
	assert_int_equal(sip_txn_next_deadline(f->layer), 32000);
}

/* §17.1.4: a synchronous send failure of the first request fails the call
 * with no callback and no transaction. */
static void test_ict_send_fails_at_start(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = NULL;
	f->fail_send_at = 0;
	assert_int_equal(sip_txn_client_new(f->layer, fx_invite(f, BR), &fx_udp, 0, &t), SIP_EIO);
	assert_null(t);
	assert_int_equal(f->nevents, 0);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
}

/* A retransmission that cannot be sent: transport error, then Terminated. */
static void test_ict_send_fails_on_retransmit(void **state)
{
	struct fx *f = *state;
	start_invite(f, &fx_udp);
	f->fail_send_at = 2;
	fx_run_until(f, 5000);
	assert_int_equal(f->nsends, 2);
	assert_int_equal(f->nevents, 2);
	assert_int_equal(f->events[0].ev, SIP_TXN_EV_TRANSPORT_ERROR);
	assert_int_equal(f->events[0].at, 1500);
	assert_int_equal(f->events[1].ev, SIP_TXN_EV_TERMINATED);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
}

/* ACK send failure in Completed: the TU still gets the final response. */
static void test_ict_ack_send_fails(void **state)
{
	struct fx *f = *state;
	start_invite(f, &fx_udp);
	f->fail_send_at = 1;
	fx_feed(f, fx_response(f, 500, BR, ";tag=x", "INVITE"));
	assert_int_equal(f->nevents, 3);
	assert_int_equal(f->events[0].ev, SIP_TXN_EV_RESPONSE);
	assert_int_equal(f->events[1].ev, SIP_TXN_EV_TRANSPORT_ERROR);
	assert_int_equal(f->events[2].ev, SIP_TXN_EV_TERMINATED);
}

/* The edge reports an asynchronous failure (a TCP connection dropped). */
static void test_ict_async_transport_error(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = start_invite(f, &fx_tcp);
	sip_txn_on_transport_error(t, 10);
	assert_int_equal(f->nevents, 2);
	assert_int_equal(f->events[0].ev, SIP_TXN_EV_TRANSPORT_ERROR);
	assert_int_equal(f->events[1].ev, SIP_TXN_EV_TERMINATED);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	assert_int_equal(sip_txn_next_deadline(f->layer), SIP_MS_NEVER);
}

/* §17.1.3: branch AND CSeq method must match; else the response is stray. */
static void test_ict_response_matching(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = start_invite(f, &fx_udp);
	fx_feed(f, fx_response(f, 200, "z9hG4bKother", ";tag=a", "INVITE"));
	fx_feed(f, fx_response(f, 200, BR, ";tag=a", "CANCEL"));
	fx_feed(f, fx_response(f, 200, "oldstyle", ";tag=a", "INVITE"));
	assert_int_equal(f->nevents, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(f->events[i].ev, SIP_TXN_EV_STRAY_RESPONSE);
		assert_null(f->events[i].txn);
	}
	assert_int_equal(sip_txn_state(t), SIP_TXN_CALLING);
}

/* Bad calls: ACK is no transaction, a branch without the cookie, a duplicate. */
static void test_ict_bad_calls(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = NULL;
	assert_int_equal(sip_txn_client_new(f->layer, fx_request(f, "ACK", "h", BR, ""), &fx_udp, 0, &t), SIP_EINVAL);
	assert_int_equal(sip_txn_client_new(f->layer, fx_invite(f, "1234"), &fx_udp, 0, &t), SIP_EINVAL);
	assert_int_equal(sip_txn_client_new(f->layer, fx_response(f, 200, BR, "", "INVITE"), &fx_udp, 0, &t),
			 SIP_EINVAL);
	start_invite(f, &fx_udp);
	assert_int_equal(sip_txn_client_new(f->layer, fx_invite(f, BR), &fx_udp, 0, &t), SIP_ESTATE);
	assert_int_equal(sip_txn_layer_count(f->layer), 1);
}

/* Allocation failures in client_new return SIP_ENOMEM and leak nothing. */
static void test_ict_enomem(void **state)
{
	struct fx *f = *state;
	const struct sip_msg *inv = fx_invite(f, BR);
	int ok = 0;
	for (long n = 0; n < 10 && !ok; n++) {
		fx_calls = 0;
		fx_fail_at = n;
		struct sip_txn *t = NULL;
		int rc = sip_txn_client_new(f->layer, inv, &fx_udp, 0, &t);
		fx_fail_at = -1;
		if (rc == 0)
			ok = 1;
		else
			assert_int_equal(rc, SIP_ENOMEM);
	}
	assert_true(ok);
	assert_int_equal(sip_txn_layer_count(f->layer), 1);
}

/* §9.1: a CANCELled INVITE whose callee rang and then went silent ends 64*T1
 * after the CANCEL (timeout to the TU, then Terminated) — without the call it
 * would wait in Proceeding forever, as test_ict_proceeding shows. */
static void test_ict_cancelled_silent_callee(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = start_invite(f, &fx_udp);
	fx_feed(f, fx_response(f, 180, BR, ";tag=8321234356", "INVITE"));
	fx_run_until(f, 180000); /* Timer C */
	assert_int_equal(sip_txn_state(t), SIP_TXN_PROCEEDING);
	assert_int_equal(sip_txn_client_cancelled(t, fx_now(f)), 0);
	assert_int_equal(sip_txn_client_cancelled(t, fx_now(f) + 1000), 0); /* again: same deadline */
	assert_int_equal(sip_txn_next_deadline(f->layer), 180000 + 32000);
	size_t before = f->nevents;
	fx_run_until(f, 180000 + 31999);
	assert_int_equal(f->nevents, before);
	fx_run_until(f, 180000 + 32000);
	assert_int_equal(f->nevents, before + 2);
	assert_int_equal(f->events[before].ev, SIP_TXN_EV_TIMEOUT);
	assert_int_equal(f->events[before + 1].ev, SIP_TXN_EV_TERMINATED);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
}

/* A CANCELled INVITE still takes its final response the usual way: the 487
 * is ACKed and Timer D (not the CANCEL's deadline) ends it. */
static void test_ict_cancelled_then_487(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = start_invite(f, &fx_udp);
	fx_feed(f, fx_response(f, 180, BR, ";tag=8321234356", "INVITE"));
	fx_run_until(f, 1000);
	assert_int_equal(sip_txn_client_cancelled(t, fx_now(f)), 0);
	fx_run_until(f, 2000);
	fx_feed(f, fx_response(f, 487, BR, ";tag=8321234356", "INVITE"));
	assert_int_equal(sip_txn_state(t), SIP_TXN_COMPLETED);
	assert_non_null(strstr(f->sends[f->nsends - 1].bytes, "ACK "));
	assert_int_equal(sip_txn_next_deadline(f->layer), 2000 + 32000);
	fx_run_until(f, 2000 + 32000);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	assert_int_equal(f->events[f->nevents - 1].ev, SIP_TXN_EV_TERMINATED);
	assert_int_not_equal(f->events[f->nevents - 2].ev, SIP_TXN_EV_TIMEOUT);
	/* Not an ICT, or one with its final response: nothing to do. */
	assert_int_equal(sip_txn_client_cancelled(NULL, 0), SIP_EINVAL);
}

/* CANCELled while still Calling (before any 1xx): Timer B from the start
 * keeps guarding it after a 1xx — it is sooner than 64*T1 after the CANCEL. */
static void test_ict_cancelled_in_calling(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = start_invite(f, &fx_udp);
	fx_run_until(f, 600);
	assert_int_equal(sip_txn_client_cancelled(t, fx_now(f)), 0);
	fx_feed(f, fx_response(f, 180, BR, ";tag=8321234356", "INVITE"));
	assert_int_equal(sip_txn_state(t), SIP_TXN_PROCEEDING);
	assert_int_equal(sip_txn_next_deadline(f->layer), 32000);
	fx_run_until(f, 32000);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	assert_int_equal(f->events[f->nevents - 2].ev, SIP_TXN_EV_TIMEOUT);
}

/* Freeing the layer ends live transactions, each with TERMINATED. */
static void test_ict_layer_free_terminates(void **state)
{
	struct fx *f = *state;
	start_invite(f, &fx_udp);
	sip_txn_layer_free(f->layer);
	assert_int_equal(f->nevents, 1);
	assert_int_equal(f->events[0].ev, SIP_TXN_EV_TERMINATED);
	f->nevents = 0;
	fx_start(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
		T(test_ict_timer_a_b),
		T(test_ict_custom_t1),
		T(test_ict_reliable_no_retransmit),
		T(test_ict_proceeding),
		T(test_ict_non2xx_ack_and_timer_d),
		T(test_ict_calling_to_completed),
		T(test_ict_reliable_timer_d_zero),
		T(test_ict_2xx_accepted_timer_m),
		T(test_ict_2xx_reliable_still_accepted),
		T(test_ict_send_fails_at_start),
		T(test_ict_send_fails_on_retransmit),
		T(test_ict_ack_send_fails),
		T(test_ict_async_transport_error),
		T(test_ict_response_matching),
		T(test_ict_bad_calls),
		T(test_ict_enomem),
		T(test_ict_layer_free_terminates),
		T(test_ict_cancelled_silent_callee),
		T(test_ict_cancelled_then_487),
		T(test_ict_cancelled_in_calling),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
