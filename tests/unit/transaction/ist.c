/* INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 Accepted / Timer L):
 * 100 Trying after 200 ms, Timer G/H/I, ACK handling, 2xx pass-through,
 * CANCEL matching, the RFC 2543 fallback. */
#include "txn_fixture.h"

#define BR "z9hG4bKist1"
#define HOST "pc33.atlanta.example.com"

static struct sip_txn *recv_invite(struct fx *f, const struct sip_txn_dest *src)
{
	fx_feed_from(f, fx_request(f, "INVITE", HOST, BR, ""), src);
	struct fx_event *e = &f->events[f->nevents - 1];
	assert_int_equal(e->ev, SIP_TXN_EV_REQUEST);
	assert_int_equal(e->method, SIP_METHOD_INVITE);
	assert_int_equal(sip_txn_kind(e->txn), SIP_TXN_IST);
	assert_int_equal(e->state, SIP_TXN_PROCEEDING);
	return e->txn;
}

static void respond(struct fx *f, struct sip_txn *t, int code, const char *method)
{
	const char *r = fx_response_text(f, code, BR, method);
	assert_int_equal(sip_txn_respond(t, r, strlen(r), fx_now(f)), 0);
}

/* §17.2.1: the TU is silent for 200 ms, the IST sends 100 Trying itself. */
static void test_ist_100_trying_after_200ms(void **state)
{
	struct fx *f = *state;
	recv_invite(f, &fx_udp);
	assert_int_equal(sip_txn_next_deadline(f->layer), 200);
	fx_run_until(f, 199);
	assert_int_equal(f->nsends, 0);
	fx_run_until(f, 10000);
	const sip_ms_t want[] = {200};
	fx_assert_send_times(f, want, 1);
	const struct sip_msg *m = fx_sent(f, 0);
	assert_false(m->is_request);
	assert_int_equal(m->status, 100);
	assert_true(sip_str_eq(m->via.branch, SIP_STR(BR)));
	assert_true(sip_str_eq(m->call_id, SIP_STR("a84b4c76e66710@pc33.atlanta.example.com")));
	assert_int_equal(m->cseq.num, 314159);
	assert_int_equal(m->cseq.method_id, SIP_METHOD_INVITE);
	assert_false(m->to.has_tag);
	assert_int_equal(m->content_length, 0);
	/* No timer left: the IST waits for the TU in Proceeding. */
	assert_int_equal(sip_txn_next_deadline(f->layer), SIP_MS_NEVER);
}

/* trying_ms = 0: the TU decides; no 100 from the transaction. */
static void test_ist_trying_disabled(void **state)
{
	struct fx *f = *state;
	f->cfg.trying_ms = 0;
	fx_restart(f);
	recv_invite(f, &fx_udp);
	fx_run_until(f, 60000);
	assert_int_equal(f->nsends, 0);
	assert_int_equal(sip_txn_layer_count(f->layer), 1);
}

/* The TU answers within 200 ms (from inside the REQUEST event): no 100. */
static void test_ist_tu_answers_first(void **state)
{
	struct fx *f = *state;
	f->auto_response = fx_response_text(f, 180, BR, "INVITE");
	struct sip_txn *t = recv_invite(f, &fx_udp);
	assert_int_equal(sip_txn_state(t), SIP_TXN_PROCEEDING);
	assert_int_equal(sip_txn_status(t), 180);
	fx_run_until(f, 10000);
	assert_int_equal(f->nsends, 1);
	assert_true(fx_contains(&f->sends[0], "SIP/2.0 180 "));
}

/* Proceeding: a retransmitted INVITE re-sends the latest provisional, and
 * is not passed to the TU. */
static void test_ist_retransmission_in_proceeding(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = recv_invite(f, &fx_udp);
	fx_run_until(f, 300); /* 100 Trying at 200 */
	fx_feed(f, fx_request(f, "INVITE", HOST, BR, ""));
	assert_int_equal(f->nsends, 2);
	assert_true(fx_contains(&f->sends[1], "SIP/2.0 100 "));
	respond(f, t, 180, "INVITE");
	fx_feed(f, fx_request(f, "INVITE", HOST, BR, ""));
	assert_int_equal(f->nsends, 4);
	assert_true(fx_contains(&f->sends[3], "SIP/2.0 180 "));
	assert_int_equal(fx_count(f, SIP_TXN_EV_REQUEST), 1);
	assert_int_equal(sip_txn_layer_count(f->layer), 1);
}

/* A retransmission before the 200 ms timer: the peer waits, send the 100 now. */
static void test_ist_retransmission_before_trying(void **state)
{
	struct fx *f = *state;
	recv_invite(f, &fx_udp);
	fx_run_until(f, 100);
	fx_feed(f, fx_request(f, "INVITE", HOST, BR, ""));
	fx_run_until(f, 1000);
	const sip_ms_t want[] = {100};
	fx_assert_send_times(f, want, 1);
}

/* Completed: G at 500, 1500, 3500, 7500, then every T2; H at 32 s:
 * timeout (the ACK never came), Terminated. */
static void test_ist_timer_g_h(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = recv_invite(f, &fx_udp);
	respond(f, t, 486, "INVITE");
	assert_int_equal(sip_txn_state(t), SIP_TXN_COMPLETED);
	fx_run_until(f, 31999);
	const sip_ms_t want[] = {0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500};
	fx_assert_send_times(f, want, 11);
	for (size_t i = 0; i < f->nsends; i++)
		assert_true(fx_contains(&f->sends[i], "SIP/2.0 486 "));
	assert_int_equal(f->nevents, 1);
	fx_run_until(f, 32000);
	assert_int_equal(f->events[1].ev, SIP_TXN_EV_TIMEOUT);
	assert_int_equal(f->events[1].at, 32000);
	assert_int_equal(f->events[2].ev, SIP_TXN_EV_TERMINATED);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
}

/* ACK in Completed: Confirmed, G and H stop, ACKs and INVITEs absorbed,
 * Timer I = T4 ends it. The ACK (for a non-2xx) never reaches the TU. */
static void test_ist_ack_confirmed_timer_i(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = recv_invite(f, &fx_udp);
	fx_run_until(f, 50);
	respond(f, t, 404, "INVITE");
	fx_run_until(f, 1000); /* G at 550 */
	fx_feed(f, fx_request(f, "ACK", HOST, BR, ";tag=bobtag"));
	assert_int_equal(sip_txn_state(t), SIP_TXN_CONFIRMED);
	fx_feed(f, fx_request(f, "ACK", HOST, BR, ";tag=bobtag"));
	fx_feed(f, fx_request(f, "INVITE", HOST, BR, ""));
	assert_int_equal(f->nsends, 2);
	assert_int_equal(f->nevents, 1);
	fx_run_until(f, 5999);
	assert_int_equal(sip_txn_layer_count(f->layer), 1);
	fx_run_until(f, 6000);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	assert_int_equal(f->events[1].ev, SIP_TXN_EV_TERMINATED);
	assert_int_equal(fx_count(f, SIP_TXN_EV_ACK), 0);
	assert_int_equal(fx_count(f, SIP_TXN_EV_TIMEOUT), 0);
}

/* Completed: a retransmitted INVITE re-sends the final response. */
static void test_ist_retransmission_in_completed(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = recv_invite(f, &fx_udp);
	respond(f, t, 600, "INVITE");
	fx_run_until(f, 100);
	fx_feed(f, fx_request(f, "INVITE", HOST, BR, ""));
	assert_int_equal(f->nsends, 2);
	assert_int_equal(f->sends[1].at, 100);
	assert_true(fx_contains(&f->sends[1], "SIP/2.0 600 "));
	assert_int_equal(sip_txn_respond(t, "SIP/2.0 200 OK\r\n\r\n", 18, 100), SIP_ESTATE);
}

/* Reliable: no G; H still guards; ACK -> Confirmed with I = 0 -> gone. */
static void test_ist_reliable(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = recv_invite(f, &fx_tcp);
	respond(f, t, 486, "INVITE");
	fx_run_until(f, 10000);
	assert_int_equal(f->nsends, 1); /* the 486 once: no Timer G */
	assert_int_equal(sip_txn_next_deadline(f->layer), 32000); /* Timer H */
	fx_feed_from(f, fx_request(f, "ACK", HOST, BR, ";tag=bobtag"), &fx_tcp);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	assert_int_equal(f->events[f->nevents - 1].ev, SIP_TXN_EV_TERMINATED);
}

/* RFC 6026: 2xx -> Accepted. No retransmissions by the transaction; the
 * TU's re-sent 2xx pass through; INVITE retransmissions are absorbed; a
 * matching ACK goes to the TU; Timer L = 64*T1. */
static void test_ist_2xx_accepted_timer_l(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = recv_invite(f, &fx_udp);
	fx_run_until(f, 250);
	respond(f, t, 200, "INVITE");
	assert_int_equal(sip_txn_state(t), SIP_TXN_ACCEPTED);
	assert_int_equal(f->nsends, 2); /* 100 at 200, 200 at 250 */
	fx_run_until(f, 750);
	assert_int_equal(f->nsends, 2);
	respond(f, t, 200, "INVITE"); /* the TU's retransmission */
	assert_int_equal(f->nsends, 3);
	assert_true(fx_contains(&f->sends[2], "SIP/2.0 200 "));
	fx_feed(f, fx_request(f, "INVITE", HOST, BR, ""));
	assert_int_equal(f->nsends, 3);
	const char *r = fx_response_text(f, 486, BR, "INVITE");
	assert_int_equal(sip_txn_respond(t, r, strlen(r), fx_now(f)), SIP_ESTATE);
	/* An ACK on the INVITE's branch matches and goes to the TU. */
	fx_feed(f, fx_request(f, "ACK", HOST, BR, ";tag=bobtag"));
	assert_int_equal(f->events[1].ev, SIP_TXN_EV_ACK);
	assert_ptr_equal(f->events[1].txn, t);
	assert_int_equal(f->events[1].method, SIP_METHOD_ACK);
	/* The usual 2xx ACK has its own branch: no txn, still to the TU. */
	fx_feed(f, fx_request(f, "ACK", HOST, "z9hG4bKnewbranch", ";tag=bobtag"));
	assert_int_equal(f->events[2].ev, SIP_TXN_EV_ACK);
	assert_null(f->events[2].txn);
	assert_int_equal(sip_txn_state(t), SIP_TXN_ACCEPTED);
	fx_run_until(f, 32249);
	assert_int_equal(sip_txn_layer_count(f->layer), 1);
	fx_run_until(f, 32250);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	assert_int_equal(fx_count(f, SIP_TXN_EV_TIMEOUT), 0);
	/* After Timer L an ACK still reaches the TU, txn-less. */
	fx_feed(f, fx_request(f, "ACK", HOST, BR, ";tag=bobtag"));
	assert_int_equal(f->events[f->nevents - 1].ev, SIP_TXN_EV_ACK);
	assert_null(f->events[f->nevents - 1].txn);
}

/* CANCEL: its own NIST (REQUEST event); the helper finds the INVITE txn;
 * the TU answers 200 to CANCEL and 487 to the INVITE. */
static void test_ist_cancel(void **state)
{
	struct fx *f = *state;
	struct sip_txn *inv = recv_invite(f, &fx_udp);
	respond(f, inv, 180, "INVITE");
	const struct sip_msg *c = fx_request(f, "CANCEL", HOST, BR, "");
	fx_feed(f, c);
	struct fx_event *e = &f->events[1];
	assert_int_equal(e->ev, SIP_TXN_EV_REQUEST);
	assert_int_equal(e->method, SIP_METHOD_CANCEL);
	assert_int_equal(sip_txn_kind(e->txn), SIP_TXN_NIST);
	assert_ptr_not_equal(e->txn, inv);
	assert_ptr_equal(sip_txn_find_cancel_target(f->layer, c), inv);
	const char *ok = fx_response_text(f, 200, BR, "CANCEL");
	assert_int_equal(sip_txn_respond(e->txn, ok, strlen(ok), 0), 0);
	respond(f, inv, 487, "INVITE");
	assert_int_equal(sip_txn_state(inv), SIP_TXN_COMPLETED);
	assert_true(fx_contains(&f->sends[1], "SIP/2.0 200 "));
	assert_true(fx_contains(&f->sends[1], "CSeq: 314159 CANCEL"));
	assert_true(fx_contains(&f->sends[2], "SIP/2.0 487 "));
	/* A CANCEL from another sent-by, or another branch, targets nothing. */
	assert_null(sip_txn_find_cancel_target(f->layer, fx_request(f, "CANCEL", "evil.example.com", BR, "")));
	assert_null(sip_txn_find_cancel_target(f->layer, fx_request(f, "CANCEL", HOST, "z9hG4bKx", "")));
	assert_int_equal(sip_txn_layer_count(f->layer), 2);
}

/* §17.2.3: the sent-by is part of the key: same branch from another host
 * is another transaction. */
static void test_ist_sent_by_in_key(void **state)
{
	struct fx *f = *state;
	struct sip_txn *a = recv_invite(f, &fx_udp);
	fx_feed(f, fx_request(f, "INVITE", "other.example.com", BR, ""));
	assert_int_equal(fx_count(f, SIP_TXN_EV_REQUEST), 2);
	assert_ptr_not_equal(f->events[1].txn, a);
	/* sent-by host compares case-insensitively. */
	fx_feed(f, fx_request(f, "INVITE", "PC33.Atlanta.Example.COM", BR, ""));
	assert_int_equal(fx_count(f, SIP_TXN_EV_REQUEST), 2);
	assert_int_equal(sip_txn_layer_count(f->layer), 2);
}

/* RFC 2543 fallback: no magic cookie. Retransmission matched by
 * Request-URI, From tag, Call-ID, CSeq, top Via (+ To tag); the ACK by the
 * To tag of our response; CANCEL found by the same fields. */
static void test_ist_rfc2543(void **state)
{
	struct fx *f = *state;
	const char *br = "oldbranch77";
	fx_feed(f, fx_request(f, "INVITE", HOST, br, ""));
	struct sip_txn *t = f->events[0].txn;
	assert_int_equal(sip_txn_kind(t), SIP_TXN_IST);
	fx_feed(f, fx_request(f, "INVITE", HOST, br, ""));
	assert_int_equal(fx_count(f, SIP_TXN_EV_REQUEST), 1);
	/* A different Call-ID is a new transaction. */
	fx_feed(f, fx_msg(f, "INVITE sip:bob@biloxi.example.com SIP/2.0\n"
			     "Via: SIP/2.0/UDP " HOST ";branch=oldbranch77\n"
			     "To: Bob <sip:bob@biloxi.example.com>\n"
			     "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\n"
			     "Call-ID: different@x\n"
			     "CSeq: 314159 INVITE\n\n"));
	assert_int_equal(fx_count(f, SIP_TXN_EV_REQUEST), 2);
	struct sip_txn *other = f->events[1].txn;
	/* Different Request-URI: new transaction as well. */
	fx_feed(f, fx_msg(f, "INVITE sip:carol@biloxi.example.com SIP/2.0\n"
			     "Via: SIP/2.0/UDP " HOST ";branch=oldbranch77\n"
			     "To: Bob <sip:bob@biloxi.example.com>\n"
			     "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\n"
			     "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\n"
			     "CSeq: 314159 INVITE\n\n"));
	assert_int_equal(fx_count(f, SIP_TXN_EV_REQUEST), 3);
	(void)other;

	assert_ptr_equal(sip_txn_find_cancel_target(f->layer, fx_request(f, "CANCEL", HOST, br, "")), t);

	const char *r = fx_response_text(f, 486, br, "INVITE"); /* To tag "bobtag" */
	assert_int_equal(sip_txn_respond(t, r, strlen(r), 0), 0);
	/* An ACK with another To tag is not for this transaction. */
	fx_feed(f, fx_request(f, "ACK", HOST, br, ";tag=nottheone"));
	assert_int_equal(f->events[f->nevents - 1].ev, SIP_TXN_EV_ACK);
	assert_null(f->events[f->nevents - 1].txn);
	assert_int_equal(sip_txn_state(t), SIP_TXN_COMPLETED);
	fx_feed(f, fx_request(f, "ACK", HOST, br, ";tag=bobtag"));
	assert_int_equal(sip_txn_state(t), SIP_TXN_CONFIRMED);
}

/* Send failure on the response: transport error, Terminated, error returned. */
static void test_ist_send_error(void **state)
{
	struct fx *f = *state;
	struct sip_txn *t = recv_invite(f, &fx_udp);
	f->fail_send_at = 0;
	const char *r = fx_response_text(f, 486, BR, "INVITE");
	assert_int_equal(sip_txn_respond(t, r, strlen(r), 0), SIP_EIO);
	assert_int_equal(f->events[1].ev, SIP_TXN_EV_TRANSPORT_ERROR);
	assert_int_equal(f->events[2].ev, SIP_TXN_EV_TERMINATED);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
}

/* Missing headers: the message cannot be matched. */
static void test_ist_bad_request(void **state)
{
	struct fx *f = *state;
	/* The parser refuses these already; the layer checks on its own too. */
	static struct sip_msg m;
	m = *fx_request(f, "INVITE", HOST, BR, "");
	m.first[SIP_HDR_CSEQ] = SIP_HDR_NONE;
	assert_int_equal(sip_txn_on_message(f->layer, &m, &fx_udp, 0), SIP_EINVAL);
	m = *fx_request(f, "INVITE", HOST, BR, "");
	m.first[SIP_HDR_VIA] = SIP_HDR_NONE;
	assert_int_equal(sip_txn_on_message(f->layer, &m, &fx_udp, 0), SIP_EINVAL);
	assert_int_equal(f->nevents, 0);
	const char *junk = "HTTP/1.1 200 OK\r\n\r\n";
	struct sip_txn *t = recv_invite(f, &fx_udp);
	assert_int_equal(sip_txn_respond(t, junk, strlen(junk), 0), SIP_EINVAL);
	assert_int_equal(sip_txn_respond(t, "SIP/2.0 99 x\r\n\r\n", 17, 0), SIP_EINVAL);
}

/* The cap on live transactions: the request is refused, nothing leaks. */
static void test_ist_max_txns(void **state)
{
	struct fx *f = *state;
	f->cfg.max_txns = 1;
	fx_restart(f);
	recv_invite(f, &fx_udp);
	const struct sip_msg *m = fx_request(f, "INVITE", HOST, "z9hG4bKsecond", "");
	assert_int_equal(sip_txn_on_message(f->layer, m, &fx_udp, 0), SIP_ETOOBIG);
	assert_int_equal(sip_txn_layer_count(f->layer), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
		T(test_ist_100_trying_after_200ms),
		T(test_ist_trying_disabled),
		T(test_ist_tu_answers_first),
		T(test_ist_retransmission_in_proceeding),
		T(test_ist_retransmission_before_trying),
		T(test_ist_timer_g_h),
		T(test_ist_ack_confirmed_timer_i),
		T(test_ist_retransmission_in_completed),
		T(test_ist_reliable),
		T(test_ist_2xx_accepted_timer_l),
		T(test_ist_cancel),
		T(test_ist_sent_by_in_key),
		T(test_ist_rfc2543),
		T(test_ist_send_error),
		T(test_ist_bad_request),
		T(test_ist_max_txns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
