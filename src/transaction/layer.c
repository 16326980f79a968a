/* layer.c — the transaction layer's entry points: creation, message
 * dispatch, timers, the destructor, accessors. The four state machines live
 * in client.c (ICT, NICT) and server.c (IST, NIST). */
#include <sip/print.h>
#include <string.h>
#include "transaction/txn_int.h"

/* Upper bound on T1/T2/T4 so 64*T1 and the doubling stay in uint32_t. */
#define TXN_MAX_TIMER_BASE_MS 60000u

void sip_txn_config_default(struct sip_txn_config *c)
{
	memset(c, 0, sizeof(*c));
	c->t1_ms = 500;
	c->t2_ms = 4000;
	c->t4_ms = 5000;
	c->trying_ms = 200;
	c->max_txns = SIP_TXN_DEFAULT_MAX_TXNS;
}

int sip_txn_layer_new(struct sip_txn_layer **out, const struct sip_txn_config *cfg,
		      const struct sip_txn_callbacks *cb)
{
	struct sip_txn_config def;
	if (!out || !cb || !cb->send || !cb->tu_event)
		return SIP_EINVAL;
	if (!cfg) {
		sip_txn_config_default(&def);
		cfg = &def;
	}
	if (cfg->t1_ms == 0 || cfg->t1_ms > TXN_MAX_TIMER_BASE_MS || cfg->t2_ms < cfg->t1_ms ||
	    cfg->t2_ms > TXN_MAX_TIMER_BASE_MS || cfg->t4_ms > TXN_MAX_TIMER_BASE_MS ||
	    cfg->trying_ms > TXN_MAX_TIMER_BASE_MS)
		return SIP_EINVAL;
	struct sip_txn_layer *l = sip_calloc(1, sizeof(*l));
	if (!l)
		return SIP_ENOMEM;
	l->cfg = *cfg;
	if (!l->cfg.max_txns)
		l->cfg.max_txns = SIP_TXN_DEFAULT_MAX_TXNS;
	l->cb = *cb;
	if (sip__table_init(l)) {
		sip_free(l);
		return SIP_ENOMEM;
	}
	*out = l;
	return 0;
}

void sip_txn_layer_free(struct sip_txn_layer *l)
{
	if (!l)
		return;
	/* Removing slot i shifts later entries of its run into i, never into a
	 * slot before it (those are empty by then). */
	sip__table_settle(l);
	for (size_t i = 0; i < l->nslots; i++)
		while (l->slots[i].t)
			sip__txn_terminate(l->slots[i].t);
	sip__table_free(l);
	sip__theap_free(&l->heap);
	sip__pool_destroy(&l->pool);
	sip_free(l);
}

size_t sip_txn_layer_count(const struct sip_txn_layer *l) { return l->count; }

void sip_txn_layer_stats(const struct sip_txn_layer *l, struct sip_txn_stats *st)
{
	st->txns = l->count;
	st->txn_bytes = l->txn_bytes;
	st->msg_bytes = l->msg_bytes;
	st->table_bytes = (l->nslots + l->nold) * sizeof(*l->slots);
	st->timer_bytes = (size_t)l->heap.cap * sizeof(*l->heap.a);
	st->pool_bytes = l->pool.slab_bytes;
}

void sip_txn_layer_trim(struct sip_txn_layer *l) { sip__pool_trim(&l->pool); }

/* ---- helpers shared by the machines ---- */

void sip__tu(struct sip_txn_layer *l, struct sip_txn *t, enum sip_txn_event ev, const struct sip_msg *m)
{
	l->cb.tu_event(l->cb.ctx, t, ev, m);
}

static void drop_msg(struct sip_txn *t)
{
	if (t->msg) {
		t->layer->msg_bytes -= t->msg_len;
		sip__pool_free(&t->layer->pool, t->msg, t->msg_len);
	}
	t->msg = NULL;
	t->msg_len = 0;
}

void sip__txn_keep_owned(struct sip_txn *t, char *buf, size_t len)
{
	drop_msg(t);
	t->msg = buf;
	t->msg_len = (uint32_t)len;
	t->layer->msg_bytes += len;
}

int sip__txn_keep_built(struct sip_txn *t, struct sip_builder *b)
{
	int n = sip_build_finish(b);
	if (n <= 0) {
		sip_free(b->buf);
		return n < 0 ? n : SIP_ETOOBIG;
	}
	/* Copied to its exact size: the message may be kept for 32 s (Timer D). */
	char *p = sip__pool_alloc(&t->layer->pool, (size_t)n);
	if (p)
		memcpy(p, b->buf, (size_t)n);
	sip_free(b->buf);
	if (!p)
		return SIP_ENOMEM;
	sip__txn_keep_owned(t, p, (size_t)n);
	return 0;
}

int sip__txn_keep(struct sip_txn *t, const char *bytes, size_t len)
{
	if (!bytes || !len) {
		drop_msg(t);
		return 0;
	}
	if (len > SIP_TXN_MAX_MSG)
		return SIP_ETOOBIG;
	char *p = sip__pool_alloc(&t->layer->pool, len);
	if (!p)
		return SIP_ENOMEM;
	memcpy(p, bytes, len);
	sip__txn_keep_owned(t, p, len);
	return 0;
}

void sip__txn_arm(struct sip_txn *t, int slot, sip_ms_t when)
{
	/* Cannot fail: sip__txn_alloc() reserved room for both slots. */
	(void)sip__theap_arm(&t->layer->heap, &t->tm[slot], when);
}

void sip__txn_arm_in(struct sip_txn *t, int slot, sip_ms_t now, uint32_t ms)
{
	/* Cannot fail either: a lane needs no room, the heap has it reserved. */
	(void)sip__theap_arm_in(&t->layer->heap, &t->tm[slot], now, ms);
}

void sip__txn_cancel(struct sip_txn *t, int slot) { sip__theap_cancel(&t->layer->heap, &t->tm[slot]); }

void sip__txn_destroy(struct sip_txn *t)
{
	struct sip_txn_layer *l = t->layer;
	sip__txn_cancel(t, SIP__TM_RETX);
	sip__txn_cancel(t, SIP__TM_LIFE);
	sip__table_unlink(t);
	drop_msg(t);
	size_t size = sizeof(*t) + t->branch_len + t->host_len + t->mname_len;
	l->txn_bytes -= size;
	sip__pool_free(&l->pool, t, size);
}

void sip__txn_terminate(struct sip_txn *t)
{
	t->state = SIP_TXN_TERMINATED;
	sip__txn_cancel(t, SIP__TM_RETX);
	sip__txn_cancel(t, SIP__TM_LIFE);
	sip__tu(t->layer, t, SIP_TXN_EV_TERMINATED, NULL);
	sip__txn_destroy(t);
}

int sip__txn_linger(struct sip_txn *t, uint32_t ms, sip_ms_t now)
{
	sip__txn_cancel(t, SIP__TM_RETX);
	if (ms == 0) {
		sip__txn_terminate(t);
		return 1;
	}
	sip__txn_arm_in(t, SIP__TM_LIFE, now, ms);
	return 0;
}

int sip__txn_send(struct sip_txn *t, const char *bytes, size_t len)
{
	struct sip_txn_layer *l = t->layer;
	int rc = l->cb.send(l->cb.ctx, t, bytes, len, &t->dest);
	if (rc) {
		if (rc > 0)
			rc = SIP_EIO;
		sip__tu(l, t, SIP_TXN_EV_TRANSPORT_ERROR, NULL);
		sip__txn_terminate(t);
	}
	return rc;
}

/* ---- entry points ---- */

static int on_response(struct sip_txn_layer *l, const struct sip_msg *m, sip_ms_t now)
{
	struct sip__key k;
	int rc = sip__key_client(l, m, &k);
	if (rc == SIP_EINVAL)
		return rc;
	struct sip_txn *t = rc ? NULL : sip__table_find(l, &k);
	if (!t) {
		sip__tu(l, NULL, SIP_TXN_EV_STRAY_RESPONSE, m);
		return 0;
	}
	sip__client_on_response(t, m, now);
	return 0;
}

int sip_txn_on_message(struct sip_txn_layer *l, const struct sip_msg *m, const struct sip_txn_dest *src,
		       sip_ms_t now)
{
	if (!l || !m)
		return SIP_EINVAL;
	if (!m->is_request)
		return on_response(l, m, now);
	struct sip__key k;
	int rc;
	if (m->method_id == SIP_METHOD_ACK) {
		/* §17.2.3: an ACK matches the INVITE transaction it acknowledges. */
		rc = sip__key_request(l, m, SIP_METHOD_INVITE, &k);
		if (rc)
			return rc;
		k.ack = true;
		struct sip_txn *t = sip__table_find(l, &k);
		if (t && t->kind == SIP_TXN_IST)
			sip__server_on_ack(t, m, now);
		else
			sip__tu(l, NULL, SIP_TXN_EV_ACK, m); /* an ACK for a 2xx: end-to-end, the TU's */
		return 0;
	}
	rc = sip__key_request(l, m, 0, &k);
	if (rc)
		return rc;
	struct sip_txn *t = sip__table_find(l, &k);
	if (t) {
		sip__server_on_retransmit(t, now);
		return 0;
	}
	return sip__server_new(l, &k, m, src, now);
}

size_t sip_txn_process_timers(struct sip_txn_layer *l, sip_ms_t now)
{
	size_t n = 0;
	struct sip__timer *tm;
	while ((tm = sip__theap_pop_due(&l->heap, now)) != NULL) {
		int slot = tm->slot;
		struct sip_txn *t = (struct sip_txn *)((char *)(tm - slot) - offsetof(struct sip_txn, tm));
		n++;
		if (t->flags & SIP__F_SERVER)
			sip__server_on_timer(t, slot, now);
		else
			sip__client_on_timer(t, slot, now);
	}
	return n;
}

sip_ms_t sip_txn_next_deadline(const struct sip_txn_layer *l) { return sip__theap_next(&l->heap); }

void sip_txn_on_transport_error(struct sip_txn *t, sip_ms_t now)
{
	(void)now;
	if (!t)
		return;
	sip__tu(t->layer, t, SIP_TXN_EV_TRANSPORT_ERROR, NULL);
	sip__txn_terminate(t);
}

struct sip_txn *sip_txn_find_cancel_target(struct sip_txn_layer *l, const struct sip_msg *cancel)
{
	struct sip__key k;
	if (!l || !cancel || !cancel->is_request || sip__key_request(l, cancel, SIP_METHOD_INVITE, &k))
		return NULL;
	struct sip_txn *t = sip__table_find(l, &k);
	return t && t->kind == SIP_TXN_IST ? t : NULL;
}

/* ---- accessors ---- */

enum sip_txn_kind sip_txn_kind(const struct sip_txn *t) { return (enum sip_txn_kind)t->kind; }
enum sip_txn_state sip_txn_state(const struct sip_txn *t) { return (enum sip_txn_state)t->state; }
int sip_txn_status(const struct sip_txn *t) { return t->status; }
const struct sip_txn_dest *sip_txn_dest(const struct sip_txn *t) { return &t->dest; }
void *sip_txn_udata(const struct sip_txn *t) { return t->udata; }
void sip_txn_set_udata(struct sip_txn *t, void *udata) { t->udata = udata; }

const char *sip_txn_kind_name(enum sip_txn_kind k)
{
	switch (k) {
	case SIP_TXN_ICT: return "ICT";
	case SIP_TXN_NICT: return "NICT";
	case SIP_TXN_IST: return "IST";
	case SIP_TXN_NIST: return "NIST";
	}
	return "?";
}

const char *sip_txn_state_name(enum sip_txn_state s)
{
	switch (s) {
	case SIP_TXN_CALLING: return "Calling";
	case SIP_TXN_TRYING: return "Trying";
	case SIP_TXN_PROCEEDING: return "Proceeding";
	case SIP_TXN_COMPLETED: return "Completed";
	case SIP_TXN_CONFIRMED: return "Confirmed";
	case SIP_TXN_ACCEPTED: return "Accepted";
	case SIP_TXN_TERMINATED: return "Terminated";
	}
	return "?";
}
