/* call.c — calls of the UA (RFC 3261 §13-§15): as UAC an INVITE, the ACK
 * for its 2xx and the BYE; as UAS 180, the final answer, the 2xx resent
 * until its ACK (§13.3.1.4), BYE and CANCEL from the peer. Dialog state is
 * src/dialog's; requests go through sip_ua_send() (in-dialog ones with the
 * dialog set), responses through the INVITE's server transaction. */
#include <sip/log.h>
#include <sip/print.h>
#include <sip/sdp.h>
#include <stdio.h>
#include <string.h>

#include "ua/ua_int.h"

enum timer_use { T_NONE, T_RING, T_RETX, T_HOLD };

struct ua_call {
	struct ua_call *next;
	struct sip_ua *ua;
	sip_ua_call_cb cb;
	void *arg;
	bool uac, established, ended;
	unsigned pending; /* our requests whose callback has not run (each holds c) */
	bool have_dialog;
	struct sip_dialog dialog;
	struct sip_ua_session session; /* UAC: Call-ID, From tag, CSeq of the INVITE */
	uint32_t invite_cseq;
	unsigned hold_ms;
	uv_timer_t timer;
	bool timer_open;
	enum timer_use timer_use;
	uint32_t retx_ms, retx_spent;
	/* UAS, RFC 3262: our reliable 180, resent until its PRACK. */
	uv_timer_t rel_timer;
	bool rel_open, rel_pending;
	uint32_t rel_ms, rel_spent;
	char *rel_resp;
	size_t rel_len;
	/* UAS */
	int code;
	bool reliable; /* our 180 goes reliably (RFC 3262) */
	struct sip_txn *invite; /* the INVITE's server transaction while it lives */
	char *invite_buf;	/* its bytes, to build our responses from */
	size_t invite_len;
	char tag[16];
	char *ok; /* our 2xx, resent until the ACK */
	size_t ok_len;
	char *answer; /* our SDP answer to the INVITE's offer (RFC 3264), or NULL: our offer */
	size_t answer_len;
};

/* An offer/answer with no media flowing: enough for any UA to accept the
 * session (RFC 3264 §5, a=inactive). */
static const char sdp[] = "v=0\r\n"
			  "o=sipua 1 1 IN IP4 0.0.0.0\r\n"
			  "s=-\r\n"
			  "c=IN IP4 0.0.0.0\r\n"
			  "t=0 0\r\n"
			  "m=audio 9 RTP/AVP 0\r\n"
			  "a=rtpmap:0 PCMU/8000\r\n"
			  "a=inactive\r\n";

static void maybe_free(struct ua_call *c)
{
	if (!c->ended || c->timer_open || c->rel_open || c->invite || c->pending)
		return;
	if (c->ua) { /* NULL once the UA is closing: then it is off the list */
		struct ua_call **pp = &c->ua->calls;
		while (*pp && *pp != c)
			pp = &(*pp)->next;
		if (*pp)
			*pp = c->next;
	}
	sip_free(c->invite_buf);
	sip_free(c->ok);
	sip_free(c->rel_resp);
	sip_free(c->answer);
	sip_free(c);
}

static void timer_closed(uv_handle_t *h)
{
	struct ua_call *c = h->data;
	c->timer_open = false;
	maybe_free(c);
}

static void rel_timer_closed(uv_handle_t *h)
{
	struct ua_call *c = h->data;
	c->rel_open = false;
	maybe_free(c);
}

static void report(struct ua_call *c, enum sip_ua_call_event ev, int status, bool by_peer, const char *reason)
{
	if (c->ended)
		return;
	if (ev == SIP_UA_CALL_ENDED) {
		c->ended = true;
		if (c->timer_open) {
			uv_timer_stop(&c->timer);
			uv_close((uv_handle_t *)&c->timer, timer_closed);
		}
		if (c->rel_open) {
			uv_timer_stop(&c->rel_timer);
			uv_close((uv_handle_t *)&c->rel_timer, rel_timer_closed);
		}
	} else {
		c->established = true;
	}
	struct sip_ua_call_info info = {ev, status, by_peer, reason, c->have_dialog ? &c->dialog : NULL};
	if (c->cb)
		c->cb(c->arg, &info);
}

/* sip_ua_send() on behalf of c: c stays allocated until cb has run (each
 * callback starts with done_req()). */
static int call_send(struct ua_call *c, const struct sip_ua_request *req, sip_ua_cb cb)
{
	if (!c->ua)
		return SIP_ESTATE;
	int rc = sip_ua_send(c->ua, req, cb, c);
	if (rc == 0)
		c->pending++;
	return rc;
}

static struct ua_call *done_req(void *arg)
{
	struct ua_call *c = arg;
	c->pending--;
	return c;
}

static void on_timer(uv_timer_t *h);

static void arm(struct ua_call *c, enum timer_use use, uint64_t ms)
{
	if (!c->timer_open || c->ended)
		return;
	c->timer_use = use;
	uv_timer_start(&c->timer, on_timer, ms, 0);
}

/* ---- UAC ---- */

static void on_bye_done(void *arg, const struct sip_ua_result *r)
{
	struct ua_call *c = done_req(arg);
	report(c, SIP_UA_CALL_ENDED, r->status, false, r->error);
	maybe_free(c);
}

static void on_ack_sent(void *arg, const struct sip_ua_result *r)
{
	(void)r; /* an ACK has no answer; a failure to send shows as the UAS resending its 2xx */
	maybe_free(done_req(arg));
}

static void hang_up(struct ua_call *c, const char *why)
{
	struct sip_ua_request req = {.method = "BYE", .dialog = &c->dialog};
	if (call_send(c, &req, on_bye_done) < 0)
		report(c, SIP_UA_CALL_ENDED, 500, false, why ? why : "could not send the BYE");
}

static void on_prack_done(void *arg, const struct sip_ua_result *r)
{
	if (r->status >= 300)
		sip_log(SIP_LOG_INFO, "ua: PRACK answered %d", r->status);
	maybe_free(done_req(arg));
}

/* A provisional to our INVITE: one with a To tag and a Contact makes the
 * early dialog (§13.2.2.4); a reliable one is PRACKed in it (RFC 3262 §4).
 * Only the first early dialog is kept: a forked second one is not PRACKed. */
static void on_provisional(void *arg, const struct sip_msg *req, const struct sip_msg *resp)
{
	struct ua_call *c = arg;
	if (c->ended || !resp->to.has_tag)
		return;
	if (!c->have_dialog) {
		if (sip_dialog_uac_create(&c->dialog, req, resp) < 0)
			return;
		c->have_dialog = true;
	} else if (!sip_str_eq(resp->to.tag, sip_str_c(c->dialog.remote_tag))) {
		return;
	} else {
		sip_dialog_on_response(&c->dialog, resp);
	}
	char rack[80], hdr[96];
	if (sip_dialog_prack_needed(&c->dialog, resp, rack, sizeof(rack)) != 1)
		return;
	snprintf(hdr, sizeof(hdr), "RAck: %s\r\n", rack);
	struct sip_ua_request prack = {.method = "PRACK", .dialog = &c->dialog, .headers = hdr};
	if (call_send(c, &prack, on_prack_done) < 0)
		sip_log(SIP_LOG_WARN, "ua: could not send the PRACK");
}

static void on_invite_done(void *arg, const struct sip_ua_result *r)
{
	struct ua_call *c = done_req(arg);
	if (c->ended) {
		maybe_free(c);
		return;
	}
	if (r->status < 200 || r->status >= 300 || !r->msg || !r->request) {
		report(c, SIP_UA_CALL_ENDED, r->status, false, r->error);
		maybe_free(c);
		return;
	}
	bool early = c->have_dialog && r->msg->to.has_tag &&
		     sip_str_eq(r->msg->to.tag, sip_str_c(c->dialog.remote_tag));
	if (early) {
		/* The early dialog is confirmed (its CSeq count, PRACKs included, goes on). */
		sip_dialog_on_response(&c->dialog, r->msg);
	} else if (sip_dialog_uac_create(&c->dialog, r->request, r->msg) < 0) {
		report(c, SIP_UA_CALL_ENDED, 500, false, "the 2xx does not make a dialog (no To tag or Contact)");
		maybe_free(c);
		return;
	}
	c->have_dialog = true;
	c->invite_cseq = (uint32_t)r->request->cseq.num;
	struct sip_ua_request ack = {.method = "ACK", .dialog = &c->dialog, .cseq = c->invite_cseq};
	if (call_send(c, &ack, on_ack_sent) < 0)
		sip_log(SIP_LOG_WARN, "ua: could not send the ACK");
	struct sip_sdp answer;
	if (r->msg->body.len && sip_sdp_parse(&answer, r->msg->body.p, r->msg->body.len, NULL) < 0) {
		/* §13.2.2.4: an answer we cannot take is ACKed, then the call hung up. */
		report(c, SIP_UA_CALL_ESTABLISHED, r->status, false, "unacceptable SDP answer");
		hang_up(c, "unacceptable SDP answer");
		return;
	}
	report(c, SIP_UA_CALL_ESTABLISHED, r->status, false, NULL);
	if (c->hold_ms)
		arm(c, T_HOLD, c->hold_ms);
}

static struct ua_call *call_new(struct sip_ua *ua, sip_ua_call_cb cb, void *arg)
{
	struct ua_call *c = sip_calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ua = ua;
	c->cb = cb;
	c->arg = arg;
	uv_timer_init(ua->loop, &c->timer);
	c->timer.data = c;
	c->timer_open = true;
	uv_timer_init(ua->loop, &c->rel_timer);
	c->rel_timer.data = c;
	c->rel_open = true;
	c->next = ua->calls;
	ua->calls = c;
	return c;
}

int sip_ua_call(struct sip_ua *ua, const char *uri, unsigned hold_ms, sip_ua_call_cb cb, void *arg)
{
	if (!ua || !uri || !cb)
		return SIP_EINVAL;
	struct ua_call *c = call_new(ua, cb, arg);
	if (!c)
		return SIP_ENOMEM;
	c->uac = true;
	c->hold_ms = hold_ms;
	struct sip_ua_request req = {
	    .method = "INVITE",
	    .uri = uri,
	    .headers = "Supported: 100rel\r\n",
	    .content_type = "application/sdp",
	    .body = {sdp, sizeof(sdp) - 1},
	    .session = &c->session,
	    .on_provisional = on_provisional,
	};
	int rc = call_send(c, &req, on_invite_done);
	if (rc < 0) {
		c->ended = true; /* no callback: the caller learns from rc */
		uv_close((uv_handle_t *)&c->timer, timer_closed);
		uv_close((uv_handle_t *)&c->rel_timer, rel_timer_closed);
	}
	return rc;
}

/* ---- UAS ---- */

/* RFC 3264 §6: our answer to the SDP offer in req, into *out (sip_malloc'd).
 * Returns 0 (no offer: *out NULL, our 2xx will carry the offer), or the
 * status that refuses the request: 415 (a body that is not SDP), 488 (an
 * offer we cannot parse or share no stream of). */
static int answer_offer(const struct sip_msg *req, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (!req->body.len)
		return 0;
	uint16_t h = req->first[SIP_HDR_CONTENT_TYPE];
	struct sip_content_type ct;
	size_t off;
	if (h == SIP_HDR_NONE || sip_content_type_parse(&ct, req->hdrs[h].value, &off) < 0 ||
	    !sip_str_caseeq(ct.type, SIP_STR("application")) || !sip_str_caseeq(ct.subtype, SIP_STR("sdp")))
		return 415;
	struct sip_sdp offer, check; /* ~15 KB each: fine on a loop thread's stack */
	if (sip_sdp_parse(&offer, req->body.p, req->body.len, NULL) < 0)
		return 488;
	char buf[8192];
	struct sip_sdp_answer_opts o = {.inactive = true, .sess_id = 1};
	int n = sip_sdp_answer(&offer, &o, buf, sizeof(buf));
	if (n < 0 || sip_sdp_parse(&check, buf, (size_t)n, NULL) < 0 || !sip_sdp_accepted(&check))
		return 488; /* nothing we can take (§6: may answer all-zero or refuse) */
	*out = sip_memdup_str(buf, (size_t)n);
	*len = *out ? (size_t)n : 0;
	return *out ? 0 : 500;
}

/* Our response to the call's INVITE: To tag, Contact, and the SDP answer on a 2xx. */
static int build_response(struct ua_call *c, int code, struct sip_str extra, char *out, size_t cap)
{
	struct sip_msg inv;
	if (sip_msg_parse(&inv, c->invite_buf, c->invite_len, SIP_PARSE_DATAGRAM, NULL) <= 0)
		return SIP_EPARSE;
	struct sip_builder b;
	sip_build_init(&b, out, cap);
	sip_build_response_head(&b, &inv, code, SIP_STR_NULL, sip_str_c(c->tag));
	/* §12.1.1: a response that makes the dialog carries the request's
	 * Record-Route, so the caller's route set matches ours. */
	for (uint16_t i = inv.first[SIP_HDR_RECORD_ROUTE]; code > 100 && code < 300 && i != SIP_HDR_NONE;
	     i = inv.hdrs[i].next)
		sip_build_header(&b, SIP_STR("Record-Route"), inv.hdrs[i].value);
	if (code < 300 && c->ua->contact[0])
		sip_build_headerf(&b, "Contact", "<%s>", c->ua->contact);
	if (extra.len)
		sip_build_raw(&b, extra);
	bool with_sdp = code >= 200 && code < 300;
	struct sip_str body = c->answer ? (struct sip_str){c->answer, c->answer_len} : (struct sip_str){sdp, sizeof(sdp) - 1};
	sip_build_body(&b, with_sdp ? SIP_STR("application/sdp") : SIP_STR_NULL, with_sdp ? body : SIP_STR_NULL);
	return sip_build_finish(&b);
}

static void respond_invite(struct ua_call *c, int code)
{
	char out[4096];
	int n = build_response(c, code, SIP_STR_NULL, out, sizeof(out));
	if (n < 0 || !c->invite || sip_ua_respond(c->ua, c->invite, out, (size_t)n) < 0) {
		sip_log(SIP_LOG_WARN, "ua: could not answer the INVITE %d", code);
		return;
	}
	if (code >= 200 && code < 300) {
		sip_free(c->ok);
		c->ok = sip_memdup_str(out, (size_t)n);
		c->ok_len = c->ok ? (size_t)n : 0;
	}
}

static uint32_t t1_of(const struct ua_call *c)
{
	return c->ua && c->ua->cfg.txn.t1_ms ? c->ua->cfg.txn.t1_ms : 500;
}

static void on_rel_timer(uv_timer_t *h);

/* RFC 3262 §3: the 180 with Require: 100rel and the next RSeq, resent
 * (T1 doubling) until its PRACK comes. */
static void send_reliable_180(struct ua_call *c)
{
	char extra[64], out[4096];
	uint32_t rseq = sip_dialog_next_rseq(&c->dialog, (uint32_t)sip_rand_next(&c->ua->rng));
	int en = snprintf(extra, sizeof(extra), "Require: 100rel\r\nRSeq: %u\r\n", (unsigned)rseq);
	int n = build_response(c, 180, (struct sip_str){extra, (size_t)en}, out, sizeof(out));
	if (n < 0 || !c->invite || sip_ua_respond(c->ua, c->invite, out, (size_t)n) < 0)
		return;
	sip_free(c->rel_resp);
	c->rel_resp = sip_memdup_str(out, (size_t)n);
	c->rel_len = c->rel_resp ? (size_t)n : 0;
	c->rel_pending = true;
	c->rel_ms = t1_of(c);
	c->rel_spent = 0;
	uv_timer_start(&c->rel_timer, on_rel_timer, c->rel_ms, 0);
}

static void on_rel_timer(uv_timer_t *h)
{
	struct ua_call *c = h->data;
	if (!c->rel_pending || c->ended || !c->invite)
		return;
	c->rel_spent += c->rel_ms;
	if (c->rel_spent >= 64u * t1_of(c)) {
		/* Never PRACKed: §3 says reject the INVITE with a 5xx. */
		c->rel_pending = false;
		uv_timer_stop(&c->timer);
		respond_invite(c, 500);
		report(c, SIP_UA_CALL_ENDED, 500, false, "the reliable 180 was never PRACKed");
		maybe_free(c);
		return;
	}
	sip_ua_respond(c->ua, c->invite, c->rel_resp, c->rel_len);
	c->rel_ms *= 2;
	uv_timer_start(&c->rel_timer, on_rel_timer, c->rel_ms, 0);
}

static void on_timer(uv_timer_t *h)
{
	struct ua_call *c = h->data;
	const struct sip_txn_config *tc = &c->ua->cfg.txn;
	uint32_t t1 = t1_of(c), t2 = tc->t2_ms ? tc->t2_ms : 4000;
	switch (c->timer_use) {
	case T_RING: {
		int code = c->code ? c->code : 200;
		c->rel_pending = false; /* after a final answer no provisional goes out */
		uv_timer_stop(&c->rel_timer);
		respond_invite(c, code);
		if (code >= 300) {
			report(c, SIP_UA_CALL_ENDED, code, false, NULL);
			maybe_free(c);
			return;
		}
		sip_dialog_confirm(&c->dialog);
		c->retx_ms = t1;
		c->retx_spent = 0;
		arm(c, T_RETX, c->retx_ms);
		return;
	}
	case T_RETX:
		/* §13.3.1.4: the 2xx again, T1 doubling up to T2, for 64*T1. */
		c->retx_spent += c->retx_ms;
		if (c->retx_spent >= 64u * t1) {
			hang_up(c, "no ACK for our 2xx");
			return;
		}
		if (c->ok && c->invite)
			sip_ua_respond(c->ua, c->invite, c->ok, c->ok_len);
		c->retx_ms = c->retx_ms * 2 > t2 ? t2 : c->retx_ms * 2;
		arm(c, T_RETX, c->retx_ms);
		return;
	case T_HOLD:
		hang_up(c, NULL);
		return;
	default:
		return;
	}
}

static struct ua_call *find_call(struct sip_ua *ua, const struct sip_msg *m)
{
	for (struct ua_call *c = ua->calls; c; c = c->next)
		if (!c->ended && c->have_dialog && sip_dialog_matches(&c->dialog, m))
			return c;
	return NULL;
}

/* A 2xx to an in-dialog request: with our Contact and answer on a re-INVITE. */
static void ok_in_dialog(struct ua_call *c, struct sip_txn *txn, const struct sip_msg *req)
{
	char out[4096];
	struct sip_builder b;
	bool reinvite = req->method_id == SIP_METHOD_INVITE;
	sip_build_init(&b, out, sizeof(out));
	sip_build_response_head(&b, req, 200, SIP_STR_NULL, SIP_STR_NULL);
	if ((reinvite || req->method_id == SIP_METHOD_UPDATE) && c->ua->contact[0])
		sip_build_headerf(&b, "Contact", "<%s>", c->ua->contact);
	char *ans = NULL;
	size_t alen = 0;
	int refuse = reinvite ? answer_offer(req, &ans, &alen) : 0;
	if (refuse) {
		sip__ua_reply(c->ua, txn, req, refuse); /* the session stays as it was (§14.2) */
		return;
	}
	struct sip_str body = ans ? (struct sip_str){ans, alen} : (struct sip_str){sdp, sizeof(sdp) - 1};
	sip_build_body(&b, reinvite ? SIP_STR("application/sdp") : SIP_STR_NULL, reinvite ? body : SIP_STR_NULL);
	int n = sip_build_finish(&b);
	sip_free(ans);
	if (n > 0)
		sip_ua_respond(c->ua, txn, out, (size_t)n);
}

static void in_dialog(struct ua_call *c, struct sip_txn *txn, const struct sip_msg *req)
{
	if (req->method_id == SIP_METHOD_ACK) {
		if (!c->uac && c->timer_use == T_RETX && req->cseq.num == c->invite_cseq) {
			uv_timer_stop(&c->timer);
			c->timer_use = T_NONE;
			report(c, SIP_UA_CALL_ESTABLISHED, 200, false, NULL);
			if (c->hold_ms)
				arm(c, T_HOLD, c->hold_ms);
		}
		return;
	}
	if (!txn)
		return;
	int st = sip_dialog_on_request(&c->dialog, req);
	if (st) {
		sip__ua_reply(c->ua, txn, req, st);
		return;
	}
	if (req->method_id == SIP_METHOD_PRACK) {
		/* RFC 3262 §3: it must name our last reliable provisional. */
		if (c->uac || !sip_dialog_rack_matches(&c->dialog, req, c->invite_cseq)) {
			sip__ua_reply(c->ua, txn, req, 481);
			return;
		}
		c->rel_pending = false;
		uv_timer_stop(&c->rel_timer);
	}
	ok_in_dialog(c, txn, req);
	if (req->method_id == SIP_METHOD_BYE) {
		report(c, SIP_UA_CALL_ENDED, 0, true, NULL);
		maybe_free(c);
	}
}

static void new_call(struct sip_ua *ua, struct sip_txn *txn, const struct sip_msg *req)
{
	for (struct ua_call *o = ua->calls; o; o = o->next)
		if (!o->uac && !o->ended) {
			sip__ua_reply(ua, txn, req, 486); /* one call at a time */
			return;
		}
	struct ua_call *c = call_new(ua, ua->answer.cb, ua->answer.arg);
	if (!c) {
		sip__ua_reply(ua, txn, req, 500);
		return;
	}
	c->code = ua->answer.code;
	c->hold_ms = ua->answer.hold_ms;
	sip_rand_hex(&ua->rng, c->tag, 12);
	c->invite_buf = sip_memdup_str(req->buf, req->len);
	c->invite_len = req->len;
	if (!c->invite_buf || sip_dialog_uas_create(&c->dialog, req, sip_str_c(c->tag)) < 0) {
		sip__ua_reply(ua, txn, req, c->invite_buf ? 400 : 500);
		report(c, SIP_UA_CALL_ENDED, 400, true, "the INVITE makes no dialog (no Contact?)");
		maybe_free(c);
		return;
	}
	int refuse = answer_offer(req, &c->answer, &c->answer_len);
	if (refuse) {
		sip__ua_reply(ua, txn, req, refuse);
		report(c, SIP_UA_CALL_ENDED, refuse, false, "the offer was not acceptable");
		maybe_free(c);
		return;
	}
	c->have_dialog = true;
	c->invite = txn;
	c->invite_cseq = (uint32_t)req->cseq.num;
	sip_txn_set_udata(txn, c);
	c->reliable = sip_hdr_has_token(req, SIP_HDR_REQUIRE, SIP_STR("100rel")) ||
		      (ua->answer.reliable_provisional && sip_hdr_has_token(req, SIP_HDR_SUPPORTED, SIP_STR("100rel")));
	if (c->reliable)
		send_reliable_180(c);
	else
		respond_invite(c, 180);
	arm(c, T_RING, ua->answer.ring_ms);
}

bool sip__ua_call_request(struct sip_ua *ua, struct sip_txn *txn, const struct sip_msg *req)
{
	struct ua_call *c = find_call(ua, req);
	if (c) {
		in_dialog(c, txn, req);
		return true;
	}
	if (txn && req->method_id == SIP_METHOD_CANCEL) {
		struct sip_txn *inv = sip_txn_find_cancel_target(sip_stack_txns(ua->stack), req);
		struct ua_call *ic = inv ? sip_txn_udata(inv) : NULL;
		if (!ic || ic->invite != inv)
			return false;
		sip__ua_reply(ua, txn, req, 200);
		if (sip_txn_status(inv) < 200) {
			respond_invite(ic, 487); /* §9.2 */
			report(ic, SIP_UA_CALL_ENDED, 487, true, NULL);
			maybe_free(ic);
		}
		return true;
	}
	if (txn && req->method_id == SIP_METHOD_INVITE && !req->to.has_tag && ua->answer.cb) {
		new_call(ua, txn, req);
		return true;
	}
	return false;
}

void sip__ua_call_server_event(struct sip_ua *ua, struct sip_txn *txn, enum sip_txn_event ev)
{
	(void)ua;
	struct ua_call *c = sip_txn_udata(txn);
	if (!c || c->invite != txn)
		return;
	if (ev == SIP_TXN_EV_TERMINATED) {
		sip_txn_set_udata(txn, NULL);
		c->invite = NULL;
		maybe_free(c);
	} else if (ev == SIP_TXN_EV_TIMEOUT || ev == SIP_TXN_EV_TRANSPORT_ERROR) {
		report(c, SIP_UA_CALL_ENDED, 408, false, "the caller is gone");
	}
}

static void on_refresh_done(void *arg, const struct sip_ua_result *r)
{
	struct ua_call *c = done_req(arg);
	if (c->ended || !c->ua) {
		maybe_free(c);
		return;
	}
	if (r->request && r->request->method_id == SIP_METHOD_INVITE && r->status >= 200 && r->status < 300) {
		/* The re-INVITE's 2xx is ACKed like the first one (§13.2.2.4). */
		struct sip_ua_request ack = {.method = "ACK", .dialog = &c->dialog, .cseq = (uint32_t)r->request->cseq.num};
		call_send(c, &ack, on_ack_sent);
	}
	if (r->msg && c->have_dialog)
		sip_dialog_on_response(&c->dialog, r->msg); /* a 2xx's Contact is the new target */
	struct sip_ua_call_info info = {SIP_UA_CALL_REFRESHED, r->status, false, r->error, &c->dialog};
	if (c->cb)
		c->cb(c->arg, &info);
}

int sip_ua_refresh(struct sip_ua *ua, const char *method)
{
	if (!ua || !method || (strcmp(method, "UPDATE") && strcmp(method, "INVITE")))
		return SIP_EINVAL;
	bool invite = !strcmp(method, "INVITE");
	int n = 0;
	for (struct ua_call *c = ua->calls; c; c = c->next) {
		if (c->ended || !c->established || !c->have_dialog)
			continue;
		struct sip_ua_request req = {
		    .method = method,
		    .dialog = &c->dialog,
		    .content_type = invite ? "application/sdp" : NULL,
		    .body = invite ? (struct sip_str){sdp, sizeof(sdp) - 1} : SIP_STR_NULL,
		};
		if (call_send(c, &req, on_refresh_done) == 0)
			n++;
	}
	return n;
}

int sip_ua_hangup(struct sip_ua *ua)
{
	int n = 0;
	if (!ua)
		return 0;
	for (struct ua_call *c = ua->calls; c; c = c->next) {
		if (c->ended)
			continue;
		n++;
		if (c->established) {
			uv_timer_stop(&c->timer);
			hang_up(c, NULL);
		} else if (c->uac) {
			sip__ua_cancel_invite(ua, &c->session); /* the INVITE's 487 ends the call */
		} else if (c->invite && sip_txn_status(c->invite) < 200) {
			uv_timer_stop(&c->timer);
			respond_invite(c, 480);
			report(c, SIP_UA_CALL_ENDED, 480, false, "hung up while ringing");
		} else {
			hang_up(c, NULL); /* our 2xx is out, its ACK not yet in */
		}
	}
	return n;
}

int sip_ua_answer(struct sip_ua *ua, const struct sip_ua_answer_opts *opts)
{
	if (!ua || !opts || !opts->cb || (opts->code && (opts->code < 200 || opts->code > 699)) || !ua->contact[0])
		return SIP_EINVAL;
	ua->answer = *opts;
	return 0;
}

void sip__ua_calls_close(struct sip_ua *ua)
{
	while (ua->calls) {
		struct ua_call *c = ua->calls;
		ua->calls = c->next;
		c->next = NULL;
		c->ua = NULL; /* the UA is freed before the timer's close callback runs */
		if (c->invite)
			sip_txn_set_udata(c->invite, NULL);
		c->invite = NULL;
		report(c, SIP_UA_CALL_ENDED, 503, false, "closed");
		/* The timers' close callbacks free c (it is off the list now). */
		maybe_free(c);
	}
}
