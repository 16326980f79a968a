/* server.c — the server transactions: IST (§17.2.1 with RFC 6026's Accepted
 * state and Timer L) and NIST (§17.2.2). */
#include <string.h>
#include <sip/print.h>
#include "transaction/txn_int.h"

/* Room for a 100 Trying beyond the request's own Via/From/To/Call-ID/CSeq. */
#define TRYING_OVERHEAD 64

/* §17.2.1 (and §8.2.6.1): 100 Trying copies Via, From, To, Call-ID, CSeq and
 * Timestamp. It is built now — the request is gone later — and kept unsent
 * until the 200 ms timer fires or a retransmission shows the peer waiting. */
static int build_trying(struct sip_txn *t, const struct sip_msg *req)
{
	size_t cap = req->len + TRYING_OVERHEAD;
	char *buf = sip_malloc(cap);
	if (!buf)
		return SIP_ENOMEM;
	struct sip_builder b;
	sip_build_init(&b, buf, cap);
	sip_build_response_head(&b, req, 100, SIP_STR_NULL, SIP_STR_NULL);
	uint16_t ts = req->first[SIP_HDR_TIMESTAMP];
	if (ts != SIP_HDR_NONE)
		sip_build_header(&b, SIP_STR("Timestamp"), req->hdrs[ts].value);
	sip_build_body(&b, SIP_STR_NULL, SIP_STR_NULL);
	return sip__txn_keep_built(t, &b);
}

int sip__server_new(struct sip_txn_layer *l, const struct sip__key *k, const struct sip_msg *m,
		    const struct sip_txn_dest *src, sip_ms_t now)
{
	bool invite = m->method_id == SIP_METHOD_INVITE;
	struct sip_txn *t;
	int rc = sip__txn_alloc(l, k, invite ? SIP_TXN_IST : SIP_TXN_NIST, src, &t);
	if (rc)
		return rc;
	if (invite) {
		t->state = SIP_TXN_PROCEEDING;
		if (l->cfg.trying_ms) {
			rc = build_trying(t, m);
			if (rc) {
				sip__txn_destroy(t);
				return rc;
			}
			sip__txn_arm(t, SIP__TM_RETX, now + l->cfg.trying_ms);
		}
	} else {
		t->state = SIP_TXN_TRYING;
	}
	/* The TU may answer from inside this call (and even end t): don't touch t after. */
	sip__tu(l, t, SIP_TXN_EV_REQUEST, m);
	return 0;
}

void sip__server_on_retransmit(struct sip_txn *t, sip_ms_t now)
{
	(void)now;
	switch (t->state) {
	case SIP_TXN_PROCEEDING:
		/* IST: resend the latest provisional (or the pending 100 Trying:
		 * a retransmission says the peer is waiting). NIST: the last
		 * provisional. */
		if (!t->msg)
			return;
		if (t->kind == SIP_TXN_IST) {
			sip__txn_cancel(t, SIP__TM_RETX);
			t->flags |= SIP__F_RESP_SENT;
		}
		sip__txn_send(t, t->msg, t->msg_len);
		return;
	case SIP_TXN_COMPLETED:
		sip__txn_send(t, t->msg, t->msg_len);
		return;
	default:
		/* NIST Trying (nothing to send yet), IST Confirmed, IST Accepted
		 * (RFC 6026: the TU retransmits 2xx, not the transaction). */
		return;
	}
}

void sip__server_on_ack(struct sip_txn *t, const struct sip_msg *m, sip_ms_t now)
{
	struct sip_txn_layer *l = t->layer;
	switch (t->state) {
	case SIP_TXN_COMPLETED:
		/* Confirmed: stop G and H; Timer I absorbs further ACKs. */
		t->state = SIP_TXN_CONFIRMED;
		sip__txn_cancel(t, SIP__TM_LIFE);
		sip__txn_keep(t, NULL, 0);
		sip__txn_linger(t, t->dest.reliable ? 0 : l->cfg.t4_ms, now);
		return;
	case SIP_TXN_ACCEPTED:
		/* RFC 6026 §8.7: the ACK for a 2xx goes to the TU. */
		sip__tu(l, t, SIP_TXN_EV_ACK, m);
		return;
	default:
		return; /* Confirmed: absorbed; Proceeding: nothing to acknowledge */
	}
}

/* "SIP/2.0 NNN" -> NNN, or 0. */
static int status_of(const char *p, size_t len)
{
	if (len < 12 || memcmp(p, "SIP/2.0 ", 8) != 0)
		return 0;
	int code = 0;
	for (int i = 8; i < 11; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		code = code * 10 + (p[i] - '0');
	}
	if (p[11] != ' ' || code < 100 || code > 699)
		return 0;
	return code;
}

/* RFC 2543 ACKs carry the To tag of our final response. */
static void note_resp_tag(struct sip_txn *t, const char *bytes, size_t len)
{
	struct sip_msg r;
	struct sip_parse_err perr;
	if (sip_msg_parse(&r, bytes, len, SIP_PARSE_DATAGRAM, &perr) > 0 && r.first[SIP_HDR_TO] != SIP_HDR_NONE)
		t->totag_resp = sip__tag_hash(t->layer, &r.to);
}

static int ist_respond(struct sip_txn *t, int code, const char *bytes, size_t len, sip_ms_t now)
{
	struct sip_txn_layer *l = t->layer;
	int rc;
	if (t->state == SIP_TXN_ACCEPTED) {
		/* RFC 6026: the TU's 2xx retransmissions pass straight through. */
		if (code < 200 || code >= 300)
			return SIP_ESTATE;
		return sip__txn_send(t, bytes, len);
	}
	if (t->state != SIP_TXN_PROCEEDING)
		return SIP_ESTATE;
	if (code >= 200 && (t->flags & SIP__F_2543))
		note_resp_tag(t, bytes, len);
	sip__txn_cancel(t, SIP__TM_RETX); /* the 100 Trying is no longer needed */
	t->status = (uint16_t)code;
	if (code < 300 && code >= 200) {
		t->state = SIP_TXN_ACCEPTED;
		sip__txn_keep(t, NULL, 0);
		sip__txn_arm_in(t, SIP__TM_LIFE, now, sip__timer_b(l)); /* Timer L */
		return sip__txn_send(t, bytes, len);
	}
	rc = sip__txn_keep(t, bytes, len);
	if (rc)
		return rc;
	t->flags |= SIP__F_RESP_SENT;
	if (code >= 300) {
		t->state = SIP_TXN_COMPLETED;
		if (!t->dest.reliable) {
			t->interval = l->cfg.t1_ms;
			sip__txn_arm(t, SIP__TM_RETX, now + t->interval); /* Timer G */
		}
		sip__txn_arm_in(t, SIP__TM_LIFE, now, sip__timer_b(l)); /* Timer H */
	}
	return sip__txn_send(t, t->msg, t->msg_len);
}

static int nist_respond(struct sip_txn *t, int code, const char *bytes, size_t len, sip_ms_t now)
{
	struct sip_txn_layer *l = t->layer;
	if (t->state != SIP_TXN_TRYING && t->state != SIP_TXN_PROCEEDING)
		return SIP_ESTATE;
	int rc = sip__txn_keep(t, bytes, len);
	if (rc)
		return rc;
	t->status = (uint16_t)code;
	if (code < 200) {
		t->state = SIP_TXN_PROCEEDING;
		return sip__txn_send(t, t->msg, t->msg_len);
	}
	t->state = SIP_TXN_COMPLETED;
	rc = sip__txn_send(t, t->msg, t->msg_len);
	if (rc)
		return rc; /* t is gone */
	/* Timer J: 64*T1 to answer retransmissions; 0 on reliable transports. */
	sip__txn_linger(t, t->dest.reliable ? 0 : sip__timer_b(l), now);
	return 0;
}

int sip_txn_respond(struct sip_txn *t, const char *bytes, size_t len, sip_ms_t now)
{
	if (!t || !bytes || !(t->flags & SIP__F_SERVER))
		return SIP_EINVAL;
	int code = status_of(bytes, len);
	if (!code)
		return SIP_EINVAL;
	if (len > SIP_TXN_MAX_MSG)
		return SIP_ETOOBIG;
	return t->kind == SIP_TXN_IST ? ist_respond(t, code, bytes, len, now) : nist_respond(t, code, bytes, len, now);
}

void sip__server_on_timer(struct sip_txn *t, int slot, sip_ms_t now)
{
	struct sip_txn_layer *l = t->layer;
	if (slot == SIP__TM_RETX) {
		if (t->kind != SIP_TXN_IST || !t->msg)
			return;
		if (t->state == SIP_TXN_PROCEEDING) {
			/* The TU stayed silent 200 ms: send the 100 Trying. */
			if (!(t->flags & SIP__F_RESP_SENT)) {
				t->flags |= SIP__F_RESP_SENT;
				sip__txn_send(t, t->msg, t->msg_len);
			}
			return;
		}
		if (t->state == SIP_TXN_COMPLETED) {
			/* Timer G: min(2G, T2). */
			t->interval = t->interval * 2 < l->cfg.t2_ms ? t->interval * 2 : l->cfg.t2_ms;
			sip__txn_arm(t, SIP__TM_RETX, now + t->interval);
			sip__txn_send(t, t->msg, t->msg_len);
		}
		return;
	}
	if (t->kind == SIP_TXN_IST && t->state == SIP_TXN_COMPLETED)
		sip__tu(l, t, SIP_TXN_EV_TIMEOUT, NULL); /* Timer H: the ACK never came */
	/* Timer H, I, J, L. */
	sip__txn_terminate(t);
}
