/* client.c — the client transactions: ICT (§17.1.1 with RFC 6026's
 * Accepted state and Timer M) and NICT (§17.1.2), and the ACK the ICT
 * builds for a non-2xx final response (§17.1.1.3). */
#include <inttypes.h>
#include <string.h>
#include <sip/print.h>
#include "transaction/txn_int.h"

/* Room for the ACK's own lines (request line, CSeq, Max-Forwards, Content-Length). */
#define ACK_OVERHEAD 160

int sip_txn_client_new(struct sip_txn_layer *l, const struct sip_msg *req, const struct sip_txn_dest *dest,
		       sip_ms_t now, struct sip_txn **out)
{
	if (!l || !req || !dest || !out || !req->is_request || !req->buf || !req->len)
		return SIP_EINVAL;
	if (req->method_id == SIP_METHOD_ACK)
		return SIP_EINVAL; /* ACK is never a transaction (§17.1) */
	if (req->first[SIP_HDR_CSEQ] == SIP_HDR_NONE || req->method_id != req->cseq.method_id)
		return SIP_EINVAL;
	struct sip__key k;
	int rc = sip__key_client(l, req, &k);
	if (rc)
		return rc == SIP_ENOTFOUND ? SIP_EINVAL : rc;
	if (sip__table_find(l, &k))
		return SIP_ESTATE;
	bool invite = req->method_id == SIP_METHOD_INVITE;
	struct sip_txn *t;
	rc = sip__txn_alloc(l, &k, invite ? SIP_TXN_ICT : SIP_TXN_NICT, dest, &t);
	if (rc)
		return rc;
	rc = sip__txn_keep(t, req->buf, req->len);
	if (rc == 0) {
		t->state = invite ? SIP_TXN_CALLING : SIP_TXN_TRYING;
		rc = l->cb.send(l->cb.ctx, t, t->msg, t->msg_len, &t->dest);
		if (rc > 0)
			rc = SIP_EIO;
	}
	if (rc) {
		/* A call that fails fires no callback (libuv's rule). */
		sip__txn_destroy(t);
		return rc;
	}
	/* Timer A / E: retransmissions over unreliable transports only. */
	if (!dest->reliable) {
		t->interval = l->cfg.t1_ms;
		sip__txn_arm(t, SIP__TM_RETX, now + t->interval);
	}
	sip__txn_arm_in(t, SIP__TM_LIFE, now, sip__timer_b(l)); /* Timer B / F */
	*out = t;
	return 0;
}

static struct sip_str hdr_value(const struct sip_msg *m, enum sip_hdr_id id)
{
	uint16_t i = m->first[id];
	return i == SIP_HDR_NONE ? SIP_STR_NULL : m->hdrs[i].value;
}

/* §17.1.1.3: Request-URI, Call-ID, From, CSeq number and top Via of the
 * original request, To of the response, the request's Route headers. The
 * ACK replaces the request as the kept message: nothing else is resent. */
static int build_ack(struct sip_txn *t, const struct sip_msg *resp)
{
	struct sip_msg req;
	struct sip_parse_err perr;
	if (sip_msg_parse(&req, t->msg, t->msg_len, SIP_PARSE_DATAGRAM, &perr) <= 0)
		return SIP_EPARSE;
	struct sip_str to = hdr_value(resp, SIP_HDR_TO);
	size_t cap = (size_t)t->msg_len + to.len + ACK_OVERHEAD;
	char *buf = sip_malloc(cap);
	if (!buf)
		return SIP_ENOMEM;
	struct sip_builder b;
	sip_build_init(&b, buf, cap);
	sip_build_request_line(&b, SIP_STR("ACK"), req.ruri_str);
	sip_build_header(&b, SIP_STR("Via"), req.via.raw);
	for (uint16_t i = req.first[SIP_HDR_ROUTE]; i != SIP_HDR_NONE; i = req.hdrs[i].next)
		sip_build_header(&b, SIP_STR("Route"), req.hdrs[i].value);
	sip_build_header(&b, SIP_STR("Max-Forwards"), SIP_STR("70"));
	sip_build_header(&b, SIP_STR("From"), hdr_value(&req, SIP_HDR_FROM));
	sip_build_header(&b, SIP_STR("To"), to);
	sip_build_header(&b, SIP_STR("Call-ID"), req.call_id);
	sip_build_headerf(&b, "CSeq", "%" PRIu32 " ACK", req.cseq.num);
	sip_build_body(&b, SIP_STR_NULL, SIP_STR_NULL);
	return sip__txn_keep_built(t, &b);
}

static void ict_on_response(struct sip_txn *t, const struct sip_msg *m, sip_ms_t now)
{
	struct sip_txn_layer *l = t->layer;
	int code = m->status;
	switch (t->state) {
	case SIP_TXN_CALLING:
	case SIP_TXN_PROCEEDING:
		t->status = (uint16_t)code;
		if (code < 200) {
			/* Proceeding: no more retransmissions, and Timer B only
			 * guards the Calling state — unless the TU CANCELled
			 * already: then Timer B (armed at the start, so at most
			 * 64*T1 after the CANCEL) stays, as §9.1 wants. */
			t->state = SIP_TXN_PROCEEDING;
			sip__txn_cancel(t, SIP__TM_RETX);
			if (!(t->flags & SIP__F_CANCELLED))
				sip__txn_cancel(t, SIP__TM_LIFE);
			sip__tu(l, t, SIP_TXN_EV_RESPONSE, m);
		} else if (code < 300) {
			/* RFC 6026: Accepted, Timer M; 2xx retransmissions go to the TU. */
			t->state = SIP_TXN_ACCEPTED;
			sip__txn_keep(t, NULL, 0);
			sip__txn_cancel(t, SIP__TM_RETX);
			sip__txn_arm_in(t, SIP__TM_LIFE, now, sip__timer_b(l));
			sip__tu(l, t, SIP_TXN_EV_RESPONSE, m);
		} else {
			t->state = SIP_TXN_COMPLETED;
			sip__txn_cancel(t, SIP__TM_RETX);
			sip__txn_cancel(t, SIP__TM_LIFE);
			int rc = build_ack(t, m);
			if (rc == 0)
				rc = l->cb.send(l->cb.ctx, t, t->msg, t->msg_len, &t->dest);
			sip__tu(l, t, SIP_TXN_EV_RESPONSE, m);
			if (rc) {
				sip__tu(l, t, SIP_TXN_EV_TRANSPORT_ERROR, NULL);
				sip__txn_terminate(t);
				return;
			}
			/* Timer D: 32 s to absorb final-response retransmissions; 0 on reliable. */
			sip__txn_linger(t, t->dest.reliable ? 0 : 32000u, now);
		}
		return;
	case SIP_TXN_COMPLETED:
		/* A retransmitted final response: resend the ACK, don't bother the TU. */
		if (code >= 300)
			sip__txn_send(t, t->msg, t->msg_len);
		return;
	case SIP_TXN_ACCEPTED:
		if (code >= 200 && code < 300)
			sip__tu(l, t, SIP_TXN_EV_RESPONSE, m);
		return;
	default:
		return;
	}
}

static void nict_on_response(struct sip_txn *t, const struct sip_msg *m, sip_ms_t now)
{
	struct sip_txn_layer *l = t->layer;
	int code = m->status;
	if (t->state != SIP_TXN_TRYING && t->state != SIP_TXN_PROCEEDING)
		return; /* Completed: retransmissions are absorbed */
	t->status = (uint16_t)code;
	if (code < 200) {
		/* Timer E keeps running; from now on it resets to T2. */
		t->state = SIP_TXN_PROCEEDING;
		sip__tu(l, t, SIP_TXN_EV_RESPONSE, m);
		return;
	}
	t->state = SIP_TXN_COMPLETED;
	sip__txn_cancel(t, SIP__TM_RETX);
	sip__txn_cancel(t, SIP__TM_LIFE);
	sip__txn_keep(t, NULL, 0); /* nothing will be resent */
	sip__tu(l, t, SIP_TXN_EV_RESPONSE, m);
	/* Timer K: T4 on unreliable transports, 0 on reliable. */
	sip__txn_linger(t, t->dest.reliable ? 0 : l->cfg.t4_ms, now);
}

int sip_txn_client_cancelled(struct sip_txn *t, sip_ms_t now)
{
	if (!t || t->kind != SIP_TXN_ICT)
		return SIP_EINVAL;
	if (t->state != SIP_TXN_CALLING && t->state != SIP_TXN_PROCEEDING)
		return 0; /* a final response came: the transaction ends by itself */
	if (!(t->flags & SIP__F_CANCELLED) && t->state == SIP_TXN_PROCEEDING)
		sip__txn_arm_in(t, SIP__TM_LIFE, now, sip__timer_b(t->layer));
	/* In Calling, Timer B runs already and ends sooner. */
	t->flags |= SIP__F_CANCELLED;
	return 0;
}

void sip__client_on_response(struct sip_txn *t, const struct sip_msg *m, sip_ms_t now)
{
	if (m->status < 100 || m->status > 699)
		return;
	if (t->kind == SIP_TXN_ICT)
		ict_on_response(t, m, now);
	else
		nict_on_response(t, m, now);
}

void sip__client_on_timer(struct sip_txn *t, int slot, sip_ms_t now)
{
	struct sip_txn_layer *l = t->layer;
	bool calling = t->state == SIP_TXN_CALLING || t->state == SIP_TXN_TRYING || t->state == SIP_TXN_PROCEEDING;
	if (slot == SIP__TM_RETX) {
		if (!calling)
			return;
		/* Timer A doubles without bound (INVITE); Timer E doubles up to
		 * T2, and is T2 once a provisional response came. */
		if (t->kind == SIP_TXN_ICT)
			t->interval *= 2;
		else if (t->state == SIP_TXN_PROCEEDING)
			t->interval = l->cfg.t2_ms;
		else
			t->interval = t->interval * 2 < l->cfg.t2_ms ? t->interval * 2 : l->cfg.t2_ms;
		sip__txn_arm(t, SIP__TM_RETX, now + t->interval);
		sip__txn_send(t, t->msg, t->msg_len);
		return;
	}
	if (calling) {
		/* Timer B / F: no final response. */
		sip__tu(l, t, SIP_TXN_EV_TIMEOUT, NULL);
	}
	/* Timer D, K, M, or B/F after the timeout report. */
	sip__txn_terminate(t);
}
