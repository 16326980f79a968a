/* server.c — starts the workers (all sockets bound before any thread runs, so
 * a bad address fails start-up as a whole), waits for SIGINT/SIGTERM on the
 * main thread's own loop, then stops every worker and joins them. */
#include "worker.h"

#include <sip/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

static uv_async_t *volatile main_wakeup;

void sip_server_stop(void)
{
	uv_async_t *a = main_wakeup;
	if (a)
		uv_async_send(a); /* async-signal-safe */
}

struct main_ctx {
	uv_signal_t sigint, sigterm, sigusr1, sighup;
	uv_async_t wakeup;
	struct sip__worker *w;
	unsigned n;
};

static void stop_main(struct main_ctx *c)
{
	uv_close((uv_handle_t *)&c->sigint, NULL);
	uv_close((uv_handle_t *)&c->sigterm, NULL);
	uv_close((uv_handle_t *)&c->sigusr1, NULL);
	uv_close((uv_handle_t *)&c->sighup, NULL);
	uv_close((uv_handle_t *)&c->wakeup, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
	sip_log(SIP_LOG_INFO, "received signal %d, shutting down", signum);
	stop_main(h->data);
}

static void on_wakeup(uv_async_t *h) { stop_main(h->data); }

/* SIGUSR1: every worker logs its counters; SIGHUP: every worker reads the
 * TLS files again. Each on its own thread (what it touches is its own). */
static void on_worker_signal(uv_signal_t *h, int signum)
{
	struct main_ctx *c = h->data;
	for (unsigned i = 0; i < c->n; i++)
		uv_async_send(signum == SIGHUP ? &c->w[i].reload : &c->w[i].report);
}

/* Loopback addresses only (127/8, ::1, localhost)? Registration is open there
 * by default; anywhere else it needs digest authentication unless the
 * configuration opens it explicitly. */
static bool loopback_only(const struct sip_server_config *cfg)
{
	for (unsigned i = 0; i < cfg->nlisten; i++) {
		struct sip_tp_spec spec;
		if (sip_transport_parse_spec(cfg->listen[i], &spec) < 0)
			return false;
		if (strncmp(spec.host, "127.", 4) && strcmp(spec.host, "::1") && strcasecmp(spec.host, "localhost"))
			return false;
	}
	return true;
}

static int shared_open(struct sip__shared *sh, const struct sip_server_config *cfg, char *err, size_t errcap)
{
	uint8_t secret[32];
	memset(sh, 0, sizeof(*sh));
	/* A fresh nonce secret per start: nonces from before a restart come back
	 * stale and clients simply answer the new challenge. */
	if (getrandom(secret, sizeof(secret), 0) != sizeof(secret)) {
		snprintf(err, errcap, "no randomness for the nonce secret");
		return SIP_EIO;
	}
	struct sip_auth_server_config ac = {.secret = secret, .secret_len = sizeof(secret),
					    .nonce_lifetime = cfg->nonce_lifetime, .nalgs = cfg->ndigest_algs};
	memcpy(ac.algs, cfg->digest_algs, sizeof(ac.algs));
	int rc = sip_auth_server_new(&sh->auth, &ac);
	if (rc < 0) {
		snprintf(err, errcap, "digest authentication: %s", sip_strerror(rc));
		return rc;
	}
	sh->require_auth = cfg->require_auth || (!loopback_only(cfg) && !cfg->open_registration);
	if ((rc = sip__flows_new(&sh->flows)) < 0) {
		snprintf(err, errcap, "connection directory: %s", sip_strerror(rc));
		return rc;
	}
	if (cfg->location_memory) {
		struct sip_location *mem;
		struct sip_location_config lc = {.uri_eq = sip_registrar_uri_eq};
		if ((rc = sip_location_open_memory(&mem, &lc)) < 0 || (rc = sip_location_share_new(&sh->memory, mem)) < 0) {
			snprintf(err, errcap, "in-memory location store: %s", sip_strerror(rc));
			return rc;
		}
	}
	return 0;
}

static void shared_close(struct sip__shared *sh)
{
	sip_location_share_free(sh->memory);
	sip_auth_server_free(sh->auth);
	sip__flows_free(sh->flows);
}

static unsigned default_workers(void)
{
	unsigned n = (unsigned)uv_available_parallelism();
	return n ? (n > SIP_SERVER_MAX_WORKERS ? SIP_SERVER_MAX_WORKERS : n) : 1;
}

int sip_server_run(const struct sip_server_config *cfg)
{
	char err[512];
	int rc = sip_server_config_check(cfg, err, sizeof(err));
	if (rc < 0) {
		sip_log(SIP_LOG_ERROR, "configuration: %s", err);
		return rc;
	}
	sip_log_set_level(cfg->log_level);
	sip_log_set_trace(cfg->trace);
	unsigned n = cfg->workers ? cfg->workers : default_workers();
	struct sip__shared shared;
	if ((rc = shared_open(&shared, cfg, err, sizeof(err))) < 0) {
		sip_log(SIP_LOG_ERROR, "start-up failed: %s", err);
		shared_close(&shared);
		return rc;
	}
	struct sip__worker *w = calloc(n, sizeof(*w));
	uint16_t ports[SIP_SERVER_MAX_LISTEN] = {0};
	if (!w) {
		shared_close(&shared);
		return SIP_ENOMEM;
	}
	shared.workers = w;
	shared.nworkers = n;
	unsigned opened = 0;
	for (; opened < n; opened++) {
		if ((rc = sip__worker_open(&w[opened], opened, cfg, &shared, ports, err, sizeof(err))) < 0) {
			sip_log(SIP_LOG_ERROR, "start-up failed: %s", err);
			break;
		}
	}
	if (rc < 0) {
		for (unsigned i = 0; i < opened; i++)
			sip__worker_abandon(&w[i]);
		free(w);
		shared_close(&shared);
		return rc;
	}
	sip_log(SIP_LOG_INFO, "registrar: bindings %s %s, users in %s, authentication %s",
		cfg->location_memory ? "in" : cfg->location_redis ? "in Redis" : "in SQLite",
		cfg->location_memory ? "memory" : cfg->location_redis ? cfg->location_redis : cfg->db_path, cfg->db_path,
		shared.require_auth ? "required" : "off (loopback only)");
	for (unsigned i = 0; i < cfg->nlisten; i++)
		sip_log(SIP_LOG_INFO, "listening on %s (port %u)", cfg->listen[i], ports[i]);
	sip_log(SIP_LOG_INFO, "sipd running with %u worker thread%s", n, n == 1 ? "" : "s");

	uv_loop_t main_loop;
	struct main_ctx mc;
	uv_loop_init(&main_loop);
	uv_signal_init(&main_loop, &mc.sigint);
	uv_signal_init(&main_loop, &mc.sigterm);
	uv_signal_init(&main_loop, &mc.sigusr1);
	uv_signal_init(&main_loop, &mc.sighup);
	uv_async_init(&main_loop, &mc.wakeup, on_wakeup);
	mc.sigint.data = mc.sigterm.data = mc.sigusr1.data = mc.sighup.data = mc.wakeup.data = &mc;
	mc.w = w;
	mc.n = n;
	uv_signal_start(&mc.sigint, on_signal, SIGINT);
	uv_signal_start(&mc.sigterm, on_signal, SIGTERM);
	uv_signal_start(&mc.sigusr1, on_worker_signal, SIGUSR1);
	uv_signal_start(&mc.sighup, on_worker_signal, SIGHUP);
	main_wakeup = &mc.wakeup;

	for (unsigned i = 0; i < n; i++)
		uv_thread_create(&w[i].thread, sip__worker_main, &w[i]);
	uv_run(&main_loop, UV_RUN_DEFAULT);
	main_wakeup = NULL;
	for (unsigned i = 0; i < n; i++)
		uv_async_send(&w[i].stop);
	for (unsigned i = 0; i < n; i++)
		uv_thread_join(&w[i].thread);
	uv_loop_close(&main_loop);
	free(w);
	shared_close(&shared);
	sip_log(SIP_LOG_INFO, "sipd stopped");
	return 0;
}
