/* worker.c — one worker: its loop, its stack, its listeners. */
#include "worker.h"

#include <sip/log.h>
#include <sip/resolver.h>
#include <stdio.h>
#include <string.h>

size_t sip__worker_tag(struct sip__worker *w, char *out, size_t cap)
{
	size_t n = cap > 13 ? 12 : cap - 1;
	sip_rand_hex(&w->rng, out, n);
	return n;
}

static void tu_event(void *ctx, struct sip_stack *s, struct sip_txn *txn, enum sip_txn_event ev,
		     const struct sip_msg *msg)
{
	struct sip__worker *w = ctx;
	(void)s;
	switch (ev) {
	case SIP_TXN_EV_REQUEST:
		sip__core_on_request(w, txn, msg);
		return;
	case SIP_TXN_EV_ACK:
		sip__core_on_ack(w, msg);
		return;
	case SIP_TXN_EV_STRAY_RESPONSE:
		sip__proxy_on_stray(w, msg);
		return;
	case SIP_TXN_EV_TIMEOUT:
		sip_log(SIP_LOG_DEBUG, "%s: %s transaction timed out", w->name, sip_txn_kind_name(sip_txn_kind(txn)));
		break;
	case SIP_TXN_EV_TRANSPORT_ERROR:
		sip_log(SIP_LOG_INFO, "%s: transport error on a %s transaction", w->name,
			sip_txn_kind_name(sip_txn_kind(txn)));
		break;
	default:
		break;
	}
	/* Responses, timeouts, errors and ends of the proxy's transactions. */
	if (txn && sip_txn_udata(txn))
		sip__proxy_txn_event(w, txn, ev, msg);
}

static void on_report(uv_async_t *h) { sip__worker_report(h->data); }
static void on_reload(uv_async_t *h) { sip__worker_reload_tls(h->data); }

static void on_stop(uv_async_t *h)
{
	struct sip__worker *w = h->data;
	uv_close((uv_handle_t *)&w->stop, NULL);
	uv_close((uv_handle_t *)&w->report, NULL);
	uv_close((uv_handle_t *)&w->reload, NULL);
	w->closing = true;
	sip__proxy_handoff_close(w);
	sip_resolver_free(w->resolver); /* pending lookups end their branches first */
	w->resolver = NULL;
	sip__register_close(w); /* pending 200s go out before the transactions end */
	sip_stack_close(w->stack);
}

int sip__worker_open(struct sip__worker *w, unsigned id, const struct sip_server_config *cfg,
		     const struct sip__shared *shared, uint16_t *ports, char *err, size_t errcap)
{
	int rc;
	w->id = id;
	w->cfg = cfg;
	w->shared = shared;
	snprintf(w->name, sizeof(w->name), "worker %u", id);
	sip_rand_seed(&w->rng);
	if ((rc = uv_loop_init(&w->loop)) < 0) {
		snprintf(err, errcap, "event loop: %s", uv_strerror(rc));
		return SIP_EIO;
	}
	struct sip_stack_config sc;
	memset(&sc, 0, sizeof(sc));
	sip_transport_config_init(&sc.tp);
	sc.tp.max_header_bytes = cfg->max_header_bytes;
	sc.tp.max_body_bytes = cfg->max_body_bytes;
	sc.tp.max_connections = cfg->max_connections;
	sc.tp.max_connections_per_ip = cfg->max_connections_per_ip;
	sc.tp.idle_timeout_ms = cfg->idle_timeout_ms;
	sc.tp.message_timeout_ms = cfg->message_timeout_ms;
	sc.tp.mtu = cfg->mtu;
	sc.tp.mtu_rule_off = cfg->mtu_rule_off;
	sc.tp.udp_socket_buffer = cfg->udp_socket_buffer;
	sc.tp.rate_limit = cfg->rate_limit;
	sc.tp.rate_limit_burst = cfg->rate_limit_burst;
	sc.tp.reuseport = true;
	sc.tp.tls_cert_file = cfg->tls_cert;
	sc.tp.tls_key_file = cfg->tls_key;
	sc.tp.tls_ca_file = cfg->tls_ca;
	sc.tp.tls_insecure_no_verify = cfg->tls_no_verify;
	sc.tp.tls_require_client_cert = cfg->tls_verify_clients;
	sc.tp.tls_client_ca_file = cfg->tls_client_ca;
	sc.tp.conn_id_base = sip__worker_conn_base(id);
	sc.tp.on_conn = sip__flows_update;
	sc.tp.conn_ud = shared->flows;
	sc.send_elsewhere = sip__proxy_send_elsewhere;
	sc.txn = cfg->txn;
	sc.txn.hash_seed = sip_rand_next(&w->rng);
	sc.tu_event = tu_event;
	sc.ctx = w;
	sc.name = w->name;
	if ((rc = sip_stack_new(&w->stack, &w->loop, &sc)) < 0) {
		snprintf(err, errcap, "%s: %s", rc == SIP_ECONFIG ? "TLS certificate or key" : "stack",
			 sip_strerror(rc));
		uv_loop_close(&w->loop);
		return rc;
	}
	struct sip_transport *tp = sip_stack_transport(w->stack);
	for (unsigned i = 0; i < cfg->nlisten; i++) {
		struct sip_tp_spec spec;
		struct sip_listener *l = NULL;
		if (sip_transport_parse_spec(cfg->listen[i], &spec) < 0) {
			snprintf(err, errcap, "listen address '%s' is not udp|tcp|tls:HOST[:PORT]", cfg->listen[i]);
			rc = SIP_ECONFIG;
			goto fail;
		}
		uint16_t port = ports[i] ? ports[i] : spec.port;
		rc = sip_transport_listen(tp, sip_transport_type_name(spec.type), spec.host, port, &l);
		if (rc < 0) {
			snprintf(err, errcap, "cannot listen on %s: %s", cfg->listen[i], sip_strerror(rc));
			goto fail;
		}
		ports[i] = sip_listener_port(l);
		w->listen_ports[w->nlisten_hosts] = ports[i];
		memcpy(w->listen_hosts[w->nlisten_hosts++], spec.host, sizeof(spec.host));
	}
	if ((rc = sip__register_open(w, err, errcap)) < 0)
		goto fail;
	struct sip_resolver_opts ro;
	memset(&ro, 0, sizeof(ro));
	ro.servers = cfg->dns_servers;
	if ((rc = sip_resolver_new(&w->resolver, &w->loop, &ro)) < 0) {
		snprintf(err, errcap, "DNS resolver: %s", sip_strerror(rc));
		goto fail;
	}
	sip__proxy_handoff_open(w);
	uv_async_init(&w->loop, &w->stop, on_stop);
	w->stop.data = w;
	uv_async_init(&w->loop, &w->report, on_report);
	w->report.data = w;
	uv_async_init(&w->loop, &w->reload, on_reload);
	w->reload.data = w;
	return 0;
fail:
	if (w->resolver)
		sip_resolver_free(w->resolver);
	w->resolver = NULL;
	sip__register_close(w);
	sip_stack_close(w->stack);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	uv_loop_close(&w->loop);
	return rc;
}

void sip__worker_main(void *arg)
{
	struct sip__worker *w = arg;
	uv_run(&w->loop, UV_RUN_DEFAULT);
	uv_loop_close(&w->loop);
}

void sip__worker_abandon(struct sip__worker *w)
{
	on_stop(&w->stop);
	sip__worker_main(w);
}
