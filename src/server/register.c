/* register.c — the registrar inside a sipd worker: opens the worker's store
 * handle, credentials and registrar, and batches SQLite commits.
 *
 * Durability: a 200 to a REGISTER means its bindings survive `kill -9`. With
 * the SQLite store the REGISTERs of a commit window (commit_window_ms from
 * the first one; 0: of one loop iteration) join one transaction; the 200s
 * are held and sent after the COMMIT (one fsync for the batch) — or replaced
 * by 500s if it fails. Errors (4xx) go out at once. A window also closes at
 * SIP__BATCH_MAX REGISTERs. The window trades a few ms of latency for fewer
 * fsyncs and WAL frames per REGISTER (each COMMIT rewrites every page the
 * batch touched).
 * The in-memory store commits at once and is shared by all workers. */
#include "worker.h"

#include <sip/log.h>
#include <sip/print.h>
#include <sip/ratelimit.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PURGE_INTERVAL_MS 60000       /* memory store: everything at once */
#define PURGE_SLICE_INTERVAL_MS 1000  /* SQLite: PURGE_SLICE_ROWS rows a second */
#define PURGE_SLICE_ROWS 20000u
#define SIP__BATCH_MAX 1024u

/* Bindings expire on wall-clock time: they must survive a restart, so the
 * registrar is given real seconds since the epoch (the monotonic loop clock
 * restarts with the process). */
static int64_t wall_now(void) { return (int64_t)time(NULL); }

/* Counts a REGISTER answer by its status. */
static void count_answer(struct sip__worker *w, int status)
{
	if (status == 200)
		w->reg_answers.ok++;
	else if (status == 401)
		w->reg_answers.challenged++;
	else if (status == 403)
		w->reg_answers.forbidden++;
	else if (status >= 400 && status < 500)
		w->reg_answers.other_4xx++;
	else if (status >= 500)
		w->reg_answers.failed++;
}

/* Sends the response b (status `status`, which the caller knows) on t. */
static void send_bytes(struct sip__worker *w, struct sip_txn *t, const char *b, size_t n, int status)
{
	count_answer(w, status);
	int rc = sip_stack_respond(w->stack, t, b, n);
	if (rc < 0)
		sip_log(SIP_LOG_DEBUG, "%s: sending a REGISTER response failed: %s", w->name, sip_strerror(rc));
}

static void commit_batch(struct sip__worker *w)
{
	uv_check_stop(&w->flush);
	uv_timer_stop(&w->window);
	if (!w->in_batch)
		return;
	int rc = w->batch_failed ? SIP_EIO : sip_location_commit(w->loc);
	if (rc < 0) {
		sip_location_rollback(w->loc);
		sip_log(SIP_LOG_ERROR, "%s: committing registrations failed (%s): answering 500", w->name,
			sip_strerror(rc));
	}
	w->in_batch = w->batch_failed = false;
	struct sip__held *hd = w->held;
	w->held = NULL;
	w->held_tail = &w->held;
	/* The batch's answers leave together (one sendmmsg per socket). */
	struct sip_transport *tp = sip_stack_transport(w->stack);
	sip_transport_cork(tp);
	while (hd) {
		struct sip__held *next = hd->next;
		if (rc == 0) {
			send_bytes(w, hd->txn, hd->resp, hd->len, 200); /* only 200s are held */
		} else {
			struct sip_msg req;
			if (sip_msg_parse(&req, hd->req, hd->reqlen, SIP_PARSE_DATAGRAM, NULL) > 0) {
				int n = sip_registrar_error(w->reg, &req, 500, wall_now(), w->out, sizeof(w->out));
				if (n > 0)
					send_bytes(w, hd->txn, w->out, (size_t)n, 500);
			}
		}
		sip_free(hd);
		hd = next;
	}
	sip_transport_uncork(tp);
}

static void on_flush(uv_check_t *h) { commit_batch(h->data); }
static void on_window(uv_timer_t *h) { commit_batch(h->data); }

static void on_purge(uv_timer_t *h)
{
	struct sip__worker *w = h->data;
	/* SQLite: a slice of rows per second (no index on expires to scan); the
	 * memory store purges everything each minute. */
	int n = sip_location_purge_some(w->loc, wall_now(), PURGE_SLICE_ROWS);
	if (n > 0)
		sip_log(SIP_LOG_DEBUG, "%s: purged %d expired bindings", w->name, n);
}

/* Keeps a 200 until the batch commits; the transaction stays alive meanwhile
 * (a non-INVITE server transaction has no timer before its final response). */
static bool hold(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req, size_t len)
{
	struct sip__held *hd = sip_malloc(sizeof(*hd) + len + req->len);
	if (!hd)
		return false;
	hd->next = NULL;
	hd->txn = t;
	hd->len = len;
	memcpy(hd->resp, w->out, len);
	hd->req = hd->resp + len;
	hd->reqlen = req->len;
	memcpy(hd->req, req->buf, req->len);
	*w->held_tail = hd;
	w->held_tail = &hd->next;
	return true;
}

bool sip__register_on_request(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req,
			      const struct sip_txn_dest *src)
{
	/* The registrar formats the source address only when it needs it
	 * (nat_rewrite, outbound): inet_ntop per REGISTER was ~3.5%. */
	const char *tp = src->transport == SIP_TP_TCP ? "tcp" : src->transport == SIP_TP_TLS ? "tls" : "udp";
	struct sip_registrar_src rs = {.transport = sip_str_c(tp), .sockaddr = src->addr, .conn = src->conn};

	if (w->batching && !w->in_batch) {
		if (sip_location_begin(w->loc) == 0) {
			w->in_batch = true;
			w->batch_n = 0;
			if (w->cfg->commit_window_ms)
				uv_timer_start(&w->window, on_window, w->cfg->commit_window_ms, 0);
			else
				uv_check_start(&w->flush, on_flush);
		}
	}
	if (w->in_batch && ++w->batch_n == SIP__BATCH_MAX)
		uv_check_start(&w->flush, on_flush); /* full: commit after this iteration */
	struct sip_registrar_result res;
	int rc = sip_registrar_handle(w->reg, req, &rs, wall_now(), w->out, sizeof(w->out), &res);
	if (rc < 0) {
		int n = sip_registrar_error(w->reg, req, 500, wall_now(), w->out, sizeof(w->out));
		if (n > 0)
			send_bytes(w, t, w->out, (size_t)n, 500);
		return true;
	}
	if (res.not_ours)
		return false;
	if (res.guard_tripped)
		sip__log_guard(w, src->addr);
	if (res.store_failed)
		w->batch_failed = true;
	/* Inside a batch every 200 waits for the commit: even a query's 200 may
	 * list a binding another REGISTER of this batch has not committed yet. */
	if (w->in_batch && res.status == 200) {
		if (!hold(w, t, req, res.len)) {
			int n = sip_registrar_error(w->reg, req, 500, wall_now(), w->out, sizeof(w->out));
			if (n > 0)
				send_bytes(w, t, w->out, (size_t)n, 500);
		}
		return true;
	}
	send_bytes(w, t, w->out, res.len, res.status);
	return true;
}

/* The domains the registrar serves: the configured ones and the addresses we
 * listen on (DESIGN: "domain localhost and the addresses it listens on"),
 * from the hosts the worker parsed when it opened its listeners. */
static size_t registrar_domains(const struct sip__worker *w, struct sip_registrar_domain *d, size_t cap)
{
	const struct sip_server_config *cfg = w->cfg;
	size_t n = 0;
	for (unsigned i = 0; i < cfg->ndomains && n < cap; i++)
		d[n++] = (struct sip_registrar_domain){cfg->domains[i], NULL};
	for (unsigned i = 0; i < w->nlisten_hosts && n < cap; i++) {
		const char *host = w->listen_hosts[i];
		if (!strcmp(host, "0.0.0.0") || !strcmp(host, "::"))
			continue;
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			dup |= !strcasecmp(d[k].name, host);
		if (!dup)
			d[n++] = (struct sip_registrar_domain){host, NULL};
	}
	return n;
}

int sip__register_open(struct sip__worker *w, char *err, size_t errcap)
{
	const struct sip_server_config *cfg = w->cfg;
	struct sip_location_config lc = {.uri_eq = sip_registrar_uri_eq};
	int rc;
	w->held_tail = &w->held;
	if (w->shared->memory) {
		rc = sip_location_share_open(&w->loc, w->shared->memory);
	} else if (cfg->location_redis) {
		rc = sip_location_open_redis(&w->loc, cfg->location_redis, &lc); /* each write applied at once */
		if (rc < 0) {
			snprintf(err, errcap, "location store '%s': %s", cfg->location_redis, sip_strerror(rc));
			return rc;
		}
	} else {
		rc = sip_location_open_sqlite(&w->loc, cfg->db_path, &lc);
		w->batching = rc == 0;
	}
	if (rc < 0) {
		snprintf(err, errcap, "location store '%s': %s", cfg->db_path, sip_strerror(rc));
		return rc;
	}
	if ((rc = sip_users_open(&w->users, cfg->db_path)) < 0) {
		snprintf(err, errcap, "user store '%s': %s", cfg->db_path, sip_strerror(rc));
		return rc;
	}
	if (cfg->auth_fail_per_minute) {
		struct sip_ratelimit_config gc = {.rate = cfg->auth_fail_per_minute,
						  .burst = cfg->auth_fail_burst,
						  .period_ms = 60000,
						  .seed = sip_rand_next(&w->rng)};
		if ((rc = sip_ratelimit_new(&w->auth_failures, &gc)) < 0) {
			snprintf(err, errcap, "auth failure guard: %s", sip_strerror(rc));
			return rc;
		}
	}
	struct sip_registrar_domain doms[SIP_REGISTRAR_MAX_DOMAINS];
	struct sip_registrar_config rcfg = {
		.domains = doms,
		.ndomains = registrar_domains(w, doms, SIP_REGISTRAR_MAX_DOMAINS),
		.default_expires = cfg->default_expires,
		.min_expires = cfg->min_expires,
		.max_expires = cfg->max_expires,
		.require_auth = w->shared->require_auth,
		.nat_rewrite = cfg->nat_rewrite,
		.auth = w->shared->auth,
		.ha1 = sip_users_get_ha1,
		.ha1_ud = w->users,
		.auth_failures = w->auth_failures,
	};
	if ((rc = sip_registrar_new(&w->reg, &rcfg, w->loc)) < 0) {
		snprintf(err, errcap, "registrar: %s", sip_strerror(rc));
		return rc;
	}
	uv_check_init(&w->loop, &w->flush);
	w->flush.data = w;
	uv_timer_init(&w->loop, &w->window);
	w->window.data = w;
	uv_timer_init(&w->loop, &w->purge);
	w->purge.data = w;
	if (w->id == 0) {
		uint64_t every = w->shared->memory ? PURGE_INTERVAL_MS : PURGE_SLICE_INTERVAL_MS;
		uv_timer_start(&w->purge, on_purge, every, every);
	}
	uv_unref((uv_handle_t *)&w->purge);
	return 0;
}

void sip__register_close(struct sip__worker *w)
{
	if (w->in_batch)
		commit_batch(w);
	if (w->reg) { /* the handles exist once the registrar does */
		uv_close((uv_handle_t *)&w->flush, NULL);
		uv_close((uv_handle_t *)&w->window, NULL);
		uv_close((uv_handle_t *)&w->purge, NULL);
	}
	sip_registrar_free(w->reg);
	sip_ratelimit_free(w->auth_failures);
	w->auth_failures = NULL;
	sip_users_close(w->users);
	sip_location_close(w->loc);
	w->reg = NULL;
	w->users = NULL;
	w->loc = NULL;
}
