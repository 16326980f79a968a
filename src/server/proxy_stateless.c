/* proxy_stateless.c — what the proxy forwards without a transaction: an ACK
 * for a 2xx (its own end-to-end transaction, §16.11 / §17.1.1.3), and a
 * response matching no client transaction (§16.7: processed statelessly) —
 * unless it belongs to another worker's branch, which then gets it through
 * that worker's handoff queue (sip_proxy_branch names the worker). */
#include "worker.h"

#include <sip/log.h>
#include <sip/proxy.h>
#include <sip/resolver.h>
#include <stdio.h>
#include <string.h>

/* ---- responses ---- */

/* idx when it names another worker of this server, else -1. */
static int other_worker(const struct sip__worker *w, int idx)
{
	return idx >= 0 && (unsigned)idx != w->id && (unsigned)idx < w->shared->nworkers ? idx : -1;
}

/* What one worker queues for another: a response for one of its branches,
 * or a message to send on one of its connections. */
struct sip__handoff_msg {
	struct sip__handoff_msg *next;
	bool send;		   /* send buf on dest.conn; else a response for our branches */
	struct sip_txn_dest dest;  /* send: where (dest.local cleared: the sender's socket) */
	size_t len;
	char buf[];
};

/* Queues m to worker o; false (m freed) when o is shutting down. */
static bool handoff(struct sip__worker *o, struct sip__handoff_msg *m)
{
	m->next = NULL;
	uv_mutex_lock(&o->handoff_lock);
	if (o->handoff_closed) {
		uv_mutex_unlock(&o->handoff_lock);
		sip_free(m);
		return false;
	}
	*o->handoff_tail = m;
	o->handoff_tail = &m->next;
	uv_mutex_unlock(&o->handoff_lock);
	uv_async_send(&o->handoff);
	return true;
}

static void relay_stateless(struct sip__worker *w, const struct sip_msg *resp)
{
	char out[SIP_TP_DGRAM_MAX];
	struct sip_msg up;
	int n = sip_proxy_response_up(resp, out, sizeof(out));
	if (n < 0 || sip_msg_parse(&up, out, (size_t)n, SIP_PARSE_DATAGRAM, NULL) <= 0) {
		sip_log(SIP_LOG_DEBUG, "%s: dropped a response matching no transaction", w->name);
		return;
	}
	int rc = sip_transport_send_response(sip_stack_transport(w->stack), &up, out, (size_t)n, 0);
	if (rc < 0)
		sip_log(SIP_LOG_DEBUG, "%s: relaying a response statelessly failed: %s", w->name, sip_strerror(rc));
}

void sip__proxy_on_stray(struct sip__worker *w, const struct sip_msg *resp)
{
	int owner = other_worker(w, resp->via.has_branch ? sip_proxy_branch_worker(resp->via.branch) : -1);
	if (owner >= 0) {
		struct sip__handoff_msg *m = sip_calloc(1, sizeof(*m) + resp->len);
		if (!m)
			return;
		m->len = resp->len;
		memcpy(m->buf, resp->buf, resp->len);
		if (handoff(&w->shared->workers[owner], m))
			sip_log(SIP_LOG_DEBUG, "%s: handed a %d response to worker %d", w->name, resp->status, owner);
		return;
	}
	relay_stateless(w, resp);
}

int sip__proxy_send_elsewhere(void *ctx, struct sip_stack *s, const char *bytes, size_t len,
			      const struct sip_txn_dest *dest)
{
	(void)s;
	struct sip__worker *w = ctx;
	/* The connection named (a binding's flow), else whichever inbound
	 * connection from that address some worker holds (a phone's Contact
	 * naming its flow's own address, an in-dialog request to it). */
	uint64_t conn = dest->conn;
	int owner = other_worker(w, sip__conn_worker(conn));
	if (owner < 0) {
		conn = sip__flows_find(w->shared->flows, (enum sip_tp_type)dest->transport,
				       (const struct sockaddr *)dest->addr);
		owner = other_worker(w, sip__conn_worker(conn));
		if (owner < 0)
			return SIP_ENOTFOUND;
	}
	struct sip__handoff_msg *m = sip_calloc(1, sizeof(*m) + len);
	if (!m)
		return SIP_ENOMEM;
	m->send = true;
	m->dest = *dest;
	m->dest.conn = conn;
	m->dest.local = NULL;
	m->len = len;
	memcpy(m->buf, bytes, len);
	if (!handoff(&w->shared->workers[owner], m))
		return SIP_ENOTFOUND;
	sip_log(SIP_LOG_DEBUG, "%s: handed a message for connection %llx to worker %u", w->name,
		(unsigned long long)conn, (unsigned)owner);
	return 0;
}

/* What other workers handed us: responses fed to our transaction layer as
 * if they had come in on our socket (a response needs no source address);
 * messages sent on our connection (or, when it has closed, on a new one to
 * the same address, §18.2.2). */
static void on_handoff(uv_async_t *h)
{
	struct sip__worker *w = h->data;
	uv_mutex_lock(&w->handoff_lock);
	struct sip__handoff_msg *m = w->handoff_head;
	w->handoff_head = NULL;
	w->handoff_tail = &w->handoff_head;
	uv_mutex_unlock(&w->handoff_lock);
	struct sip_txn_dest none;
	memset(&none, 0, sizeof(none));
	while (m) {
		struct sip__handoff_msg *next = m->next;
		struct sip_msg msg;
		if (m->send) {
			/* On our connection; when it has just closed, on a new one to
			 * the same address — never handed on again (no ping-pong). */
			int rc = sip_stack_send_here(w->stack, m->buf, m->len, &m->dest);
			if (rc < 0)
				sip_log(SIP_LOG_DEBUG, "%s: a message handed to us could not be sent: %s", w->name,
					sip_strerror(rc));
		} else if (sip_msg_parse(&msg, m->buf, m->len, SIP_PARSE_DATAGRAM, NULL) > 0) {
			sip_txn_on_message(sip_stack_txns(w->stack), &msg, &none, sip_stack_now(w->stack));
		}
		sip_free(m);
		m = next;
	}
	sip_stack_rearm(w->stack);
}

void sip__proxy_handoff_open(struct sip__worker *w)
{
	uv_mutex_init(&w->handoff_lock);
	w->handoff_head = NULL;
	w->handoff_tail = &w->handoff_head;
	uv_async_init(&w->loop, &w->handoff, on_handoff);
	w->handoff.data = w;
}

void sip__proxy_handoff_close(struct sip__worker *w)
{
	uv_mutex_lock(&w->handoff_lock);
	w->handoff_closed = true;
	struct sip__handoff_msg *m = w->handoff_head;
	w->handoff_head = NULL;
	w->handoff_tail = &w->handoff_head;
	uv_mutex_unlock(&w->handoff_lock);
	while (m) {
		struct sip__handoff_msg *next = m->next;
		sip_free(m);
		m = next;
	}
	uv_close((uv_handle_t *)&w->handoff, NULL);
}

/* ---- ACK for a 2xx ---- */

struct px_ack {
	struct sip__worker *w;
	unsigned pop_routes;
	struct sip_msg msg;
	char buf[];
};

static void ack_resolved(void *arg, int err, struct sip_resolve_result *res)
{
	struct px_ack *a = arg;
	struct sip__worker *w = a->w;
	struct sip_target tg;
	if (err < 0 || !sip_resolve_next(res, &tg))
		goto out;
	struct sip_txn_dest d;
	enum sip_tp_type type = sip_txn_dest_from_target(&d, &tg);
	struct sip_transport *tp = sip_stack_transport(w->stack);
	struct sip_listener *l = sip_transport_find_listener(tp, type, tg.family);
	if (sip_transport_is_local(tp, (const struct sockaddr *)d.addr))
		goto out; /* to ourselves: it would loop */
	/* The same ACK gets the same branch: a hash of the upstream branch (§16.11). */
	char token[24], branch[SIP_PROXY_BRANCH_MAX], via[SIP_TP_VIA_MAX], out[SIP_TP_DGRAM_MAX];
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < a->msg.via.branch.len; i++)
		h = (h ^ (unsigned char)a->msg.via.branch.p[i]) * 1099511628211ull;
	snprintf(token, sizeof(token), "a%016llx", (unsigned long long)h);
	if (!l || sip_proxy_branch(w->id, sip_str_c(token), branch, sizeof(branch)) < 0 ||
	    sip_transport_via_branch(l, type, SIP_TP_VIA_RPORT, branch, via, sizeof(via)) < 0)
		goto out;
	struct sip_proxy_fwd f;
	memset(&f, 0, sizeof(f));
	f.via = sip_str_c(via);
	f.pop_routes = a->pop_routes;
	f.consume_realm = sip__consumed_realm(w, &a->msg); /* an ACK repeats the INVITE's credentials */
	int n = sip_proxy_forward(&a->msg, &f, out, sizeof(out));
	if (n < 0)
		goto out;
	d.local = type == SIP_TP_UDP ? l : NULL;
	if (sip_stack_send(w->stack, out, (size_t)n, &d) < 0)
		sip_log(SIP_LOG_DEBUG, "%s: forwarding an ACK failed", w->name);
out:
	if (err >= 0)
		sip_resolve_result_free(res);
	sip_free(a);
}

void sip__proxy_ack(struct sip__worker *w, const struct sip_msg *ack, unsigned pop_routes, const struct sip_uri *hop)
{
	if (ack->max_forwards == 0)
		return;
	struct px_ack *a = sip_malloc(sizeof(*a) + ack->len);
	if (!a)
		return;
	a->w = w;
	a->pop_routes = pop_routes;
	memcpy(a->buf, ack->buf, ack->len);
	if (sip_msg_parse(&a->msg, a->buf, ack->len, SIP_PARSE_DATAGRAM, NULL) <= 0) {
		sip_free(a);
		return;
	}
	struct sip_resolve_result *res = NULL;
	int rc = sip_resolve_now(w->resolver, hop, &res);
	if (rc == 0)
		ack_resolved(a, 0, res); /* a numeric next hop: no lookup */
	else if (rc != SIP_EAGAIN || sip_resolve(w->resolver, hop, ack_resolved, a) < 0)
		sip_free(a);
}
