/* worker.c — glue between one libuv loop, its transport and its transaction
 * layer. The protocol cores never see libuv: time comes from uv_now() and is
 * passed in; one uv timer tracks the transaction layer's next deadline. */
#include "worker.h"

#include <sip/log.h>
#include <sip/print.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static void peer_text(const struct sockaddr *sa, char *out, size_t cap)
{
	char ip[64] = "?";
	uint16_t port = 0;
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		uv_ip4_name(s4, ip, sizeof(ip));
		port = ntohs(s4->sin_port);
		snprintf(out, cap, "%s:%u", ip, port);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		uv_ip6_name(s6, ip, sizeof(ip));
		port = ntohs(s6->sin6_port);
		snprintf(out, cap, "[%s]:%u", ip, port);
	} else {
		snprintf(out, cap, "?");
	}
}

size_t sip__worker_tag(struct sip__worker *w, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = cap > 13 ? 12 : cap - 1;
	for (size_t i = 0; i < n; i++) {
		w->rng ^= w->rng << 13;
		w->rng ^= w->rng >> 7;
		w->rng ^= w->rng << 17;
		out[i] = hex[w->rng & 15];
	}
	out[n] = 0;
	return n;
}

static void on_txn_timer(uv_timer_t *h);

void sip__worker_rearm(struct sip__worker *w)
{
	if (w->stopping)
		return;
	sip_ms_t d = sip_txn_next_deadline(w->txns);
	if (d == SIP_MS_NEVER) {
		uv_timer_stop(&w->txn_timer);
		return;
	}
	uint64_t now = uv_now(&w->loop);
	uv_timer_start(&w->txn_timer, on_txn_timer, d > now ? d - now : 0, 0);
}

static void on_txn_timer(uv_timer_t *h)
{
	struct sip__worker *w = h->data;
	sip_txn_process_timers(w->txns, uv_now(&w->loop));
	sip__worker_rearm(w);
}

/* Transaction layer → transport. */
static int txn_send(void *ctx, struct sip_txn *txn, const char *bytes, size_t len, const struct sip_txn_dest *dest)
{
	struct sip__worker *w = ctx;
	(void)txn;
	if (sip_log_trace_enabled()) {
		char peer[80];
		peer_text((const struct sockaddr *)dest->addr, peer, sizeof(peer));
		sip_log_trace("send", sip_transport_type_name((enum sip_tp_type)dest->transport), peer, bytes, len);
	}
	if (dest->conn) {
		int rc = sip_transport_send_conn(w->tp, dest->conn, bytes, len, NULL);
		if (rc != SIP_ENOTFOUND)
			return rc;
		/* §18.2.2: the connection is gone; open a new one to the same address. */
	}
	struct sip_tp_dest d;
	memset(&d, 0, sizeof(d));
	d.type = (enum sip_tp_type)dest->transport;
	memcpy(&d.addr, dest->addr, dest->addr_len < sizeof(d.addr) ? dest->addr_len : sizeof(d.addr));
	return sip_transport_send(w->tp, &d, bytes, len, 0, NULL, NULL);
}

static void txn_event(void *ctx, struct sip_txn *txn, enum sip_txn_event ev, const struct sip_msg *msg)
{
	struct sip__worker *w = ctx;
	switch (ev) {
	case SIP_TXN_EV_REQUEST:
		sip__core_on_request(w, txn, msg);
		break;
	case SIP_TXN_EV_TIMEOUT:
		sip_log(SIP_LOG_DEBUG, "worker %u: %s transaction timed out", w->id, sip_txn_kind_name(sip_txn_kind(txn)));
		break;
	case SIP_TXN_EV_TRANSPORT_ERROR:
		sip_log(SIP_LOG_WARN, "worker %u: transport error on a %s transaction", w->id,
			sip_txn_kind_name(sip_txn_kind(txn)));
		break;
	case SIP_TXN_EV_STRAY_RESPONSE:
		sip_log(SIP_LOG_DEBUG, "worker %u: dropped a response matching no transaction", w->id);
		break;
	default:
		break; /* ACK for 2xx, responses, terminations: nothing for the server core yet */
	}
}

/* Where responses to a request go (§18.2.2 with RFC 3581): the connection it
 * came on; on UDP the source address, at the source port when rport asked
 * for it, else at the sent-by port. */
static void response_dest(const struct sip_tp_recv *ev, const struct sip_msg *req, struct sip_txn_dest *d)
{
	memset(d, 0, sizeof(*d));
	size_t alen = ev->src->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	memcpy(d->addr, ev->src, alen);
	d->addr_len = (uint8_t)alen;
	d->transport = (uint8_t)ev->type;
	d->reliable = sip_transport_reliable(ev->type);
	d->conn = ev->conn;
	if (!d->reliable && !req->via.has_rport) {
		uint16_t port = req->via.has_port ? req->via.port : 5060;
		if (ev->src->sa_family == AF_INET6)
			((struct sockaddr_in6 *)d->addr)->sin6_port = htons(port);
		else
			((struct sockaddr_in *)d->addr)->sin_port = htons(port);
	}
}

static void on_recv(struct sip_transport *t, const struct sip_tp_recv *ev, void *ud)
{
	struct sip__worker *w = ud;
	(void)t;
	if (sip_log_trace_enabled()) {
		char peer[80];
		peer_text(ev->src, peer, sizeof(peer));
		sip_log_trace("recv", sip_transport_type_name(ev->type), peer, ev->buf, ev->len);
	}
	if (!ev->msg) {
		sip_log(SIP_LOG_INFO, "worker %u: bad message (%s at offset %zu)%s", w->id,
			ev->perr && ev->perr->reason ? ev->perr->reason : "unparseable",
			ev->perr ? ev->perr->offset : 0, ev->perr && ev->perr->status ? ", answered" : ", dropped");
		return; /* the transport answered 400/505/513 when a response could be routed */
	}
	const struct sip_msg *msg = ev->msg;
	if (msg->is_request && (ev->add_received || ev->fill_rport)) {
		int n = sip_transport_stamp_via(ev, w->stamped, sizeof(w->stamped));
		if (n > 0 && sip_msg_parse(&w->smsg, w->stamped, (size_t)n,
					   sip_transport_reliable(ev->type) ? SIP_PARSE_STREAM : SIP_PARSE_DATAGRAM, NULL) > 0)
			msg = &w->smsg;
	}
	struct sip_txn_dest src;
	response_dest(ev, msg, &src);
	int rc = sip_txn_on_message(w->txns, msg, &src, uv_now(&w->loop));
	if (rc < 0 && msg->is_request && msg->method_id != SIP_METHOD_ACK) {
		/* No transaction could be made: answer statelessly rather than stay
		 * silent — 503 when out of room, 400 when the request cannot be keyed. */
		bool full = rc == SIP_ETOOBIG || rc == SIP_ENOMEM;
		struct sip_builder b;
		sip_build_init(&b, w->out, sizeof(w->out));
		sip_build_response_head(&b, msg, full ? 503 : 400, SIP_STR_NULL, SIP_STR_NULL);
		if (full)
			sip_build_header(&b, SIP_STR("Retry-After"), SIP_STR("5"));
		sip_build_body(&b, SIP_STR_NULL, SIP_STR_NULL);
		int n = sip_build_finish(&b);
		if (n > 0)
			txn_send(w, NULL, w->out, (size_t)n, &src);
	}
	sip__worker_rearm(w);
}

static void on_tp_error(struct sip_transport *t, const struct sip_tp_error *ev, void *ud)
{
	struct sip__worker *w = ud;
	(void)t;
	char peer[80];
	peer_text(ev->dst, peer, sizeof(peer));
	sip_log(SIP_LOG_DEBUG, "worker %u: transport %s to %s: %s", w->id, sip_transport_type_name(ev->type), peer,
		ev->reason ? ev->reason : sip_strerror(ev->err));
}

static void on_stop(uv_async_t *h)
{
	struct sip__worker *w = h->data;
	w->stopping = true;
	uv_timer_stop(&w->txn_timer);
	uv_close((uv_handle_t *)&w->txn_timer, NULL);
	uv_close((uv_handle_t *)&w->stop, NULL);
	sip_transport_close(w->tp);
}

int sip__worker_open(struct sip__worker *w, unsigned id, const struct sip_server_config *cfg, uint16_t *ports,
		     char *err, size_t errcap)
{
	int rc;
	w->id = id;
	w->cfg = cfg;
	if (getrandom(&w->rng, sizeof(w->rng), 0) != sizeof(w->rng) || !w->rng)
		w->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)w;
	if ((rc = uv_loop_init(&w->loop)) < 0) {
		snprintf(err, errcap, "event loop: %s", uv_strerror(rc));
		return SIP_EIO;
	}
	struct sip_transport_config tc;
	sip_transport_config_init(&tc);
	tc.on_recv = on_recv;
	tc.on_error = on_tp_error;
	tc.ud = w;
	tc.max_header_bytes = cfg->max_header_bytes;
	tc.max_body_bytes = cfg->max_body_bytes;
	tc.max_connections = cfg->max_connections;
	tc.idle_timeout_ms = cfg->idle_timeout_ms;
	tc.mtu = cfg->mtu;
	tc.mtu_rule_off = cfg->mtu_rule_off;
	tc.reuseport = true;
	tc.tls_cert_file = cfg->tls_cert;
	tc.tls_key_file = cfg->tls_key;
	tc.tls_ca_file = cfg->tls_ca;
	tc.tls_insecure_no_verify = cfg->tls_no_verify;
	if ((rc = sip_transport_new(&w->tp, &w->loop, &tc)) < 0) {
		snprintf(err, errcap, "transport: %s (check the TLS certificate and key files)", sip_strerror(rc));
		uv_loop_close(&w->loop);
		return rc;
	}
	for (unsigned i = 0; i < cfg->nlisten; i++) {
		struct sip_tp_spec spec;
		struct sip_listener *l = NULL;
		if (sip_transport_parse_spec(cfg->listen[i], &spec) < 0) {
			snprintf(err, errcap, "listen address '%s' is not udp|tcp|tls:HOST[:PORT]", cfg->listen[i]);
			rc = SIP_ECONFIG;
			goto fail;
		}
		uint16_t port = ports[i] ? ports[i] : spec.port;
		rc = sip_transport_listen(w->tp, sip_transport_type_name(spec.type), spec.host, port, &l);
		if (rc < 0) {
			snprintf(err, errcap, "cannot listen on %s: %s", cfg->listen[i], sip_strerror(rc));
			goto fail;
		}
		ports[i] = sip_listener_port(l);
	}
	struct sip_txn_callbacks cb = {txn_send, txn_event, w};
	if ((rc = sip_txn_layer_new(&w->txns, &cfg->txn, &cb)) < 0) {
		snprintf(err, errcap, "transaction layer: %s", sip_strerror(rc));
		goto fail;
	}
	uv_timer_init(&w->loop, &w->txn_timer);
	w->txn_timer.data = w;
	uv_async_init(&w->loop, &w->stop, on_stop);
	w->stop.data = w;
	return 0;
fail:
	sip_transport_close(w->tp);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	uv_loop_close(&w->loop);
	return rc;
}

void sip__worker_main(void *arg)
{
	struct sip__worker *w = arg;
	uv_run(&w->loop, UV_RUN_DEFAULT);
	sip_txn_layer_free(w->txns);
	w->txns = NULL;
	uv_run(&w->loop, UV_RUN_DEFAULT); /* close callbacks of anything the txn teardown touched */
	uv_loop_close(&w->loop);
}

void sip__worker_abandon(struct sip__worker *w)
{
	on_stop(&w->stop);
	sip__worker_main(w);
}
