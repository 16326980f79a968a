/* config.c — sipd.yaml, read through a libcyaml schema so wrong types and
 * unknown keys are errors, then merged over the defaults. libcyaml reports
 * problems through its log callback, with a backtrace naming line and column;
 * we collect those lines into the caller's error buffer. */
#include <sip/location.h>
#include <sip/server.h>
#include <sip/transport.h>
#include <cyaml/cyaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The document as libcyaml fills it. Scalars are pointers so "absent" and
 * "zero" differ: only keys present in the file override the defaults. */
struct y_tls {
	char *cert, *key, *ca, *client_ca;
	bool *verify, *verify_clients;
};
struct y_timers {
	uint32_t *t1, *t2, *t4, *c;
};
struct y_limits {
	uint32_t *max_connections, *max_header_bytes, *max_body_bytes, *idle_timeout_ms, *max_transactions;
	uint32_t *message_timeout_ms, *max_connections_per_ip;
	uint32_t *mtu;
	bool *mtu_rule;
	uint32_t *udp_socket_buffer;
	uint32_t *rate_limit, *rate_limit_burst;
	uint32_t *auth_fail_burst, *auth_fail_per_minute;
};
struct y_registrar {
	uint32_t *default_expires, *min_expires, *max_expires;
	bool *require_auth, *open_registration;
	char **algorithms;
	unsigned algorithms_count;
	uint32_t *nonce_lifetime;
	bool *nat_rewrite;
	uint32_t *foreign_status;
};
struct y_proxy {
	bool *record_route;
	char *dns;
};
struct y_doc {
	char **listen;
	unsigned listen_count;
	char **domains;
	unsigned domains_count;
	struct y_tls *tls;
	struct y_timers *timers;
	struct y_limits *limits;
	struct y_registrar *registrar;
	struct y_proxy *proxy;
	char *log_level;
	bool *trace;
	uint32_t *workers;
	char *db;
	char *location;
	uint32_t *commit_window_ms;
	char *mode;
};

#define OPT (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER)
static const cyaml_schema_value_t str_schema = {CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, 1024)};

static const cyaml_schema_field_t tls_fields[] = {
	CYAML_FIELD_STRING_PTR("cert", OPT, struct y_tls, cert, 1, 4096),
	CYAML_FIELD_STRING_PTR("key", OPT, struct y_tls, key, 1, 4096),
	CYAML_FIELD_STRING_PTR("ca", OPT, struct y_tls, ca, 1, 4096),
	CYAML_FIELD_BOOL_PTR("verify", OPT, struct y_tls, verify),
	CYAML_FIELD_BOOL_PTR("verify_clients", OPT, struct y_tls, verify_clients),
	CYAML_FIELD_STRING_PTR("client_ca", OPT, struct y_tls, client_ca, 1, 4096),
	CYAML_FIELD_END,
};
static const cyaml_schema_field_t timer_fields[] = {
	CYAML_FIELD_UINT_PTR("t1", OPT, struct y_timers, t1),
	CYAML_FIELD_UINT_PTR("t2", OPT, struct y_timers, t2),
	CYAML_FIELD_UINT_PTR("t4", OPT, struct y_timers, t4),
	CYAML_FIELD_UINT_PTR("c", OPT, struct y_timers, c),
	CYAML_FIELD_END,
};
static const cyaml_schema_field_t limit_fields[] = {
	CYAML_FIELD_UINT_PTR("max_connections", OPT, struct y_limits, max_connections),
	CYAML_FIELD_UINT_PTR("max_connections_per_ip", OPT, struct y_limits, max_connections_per_ip),
	CYAML_FIELD_UINT_PTR("max_header_bytes", OPT, struct y_limits, max_header_bytes),
	CYAML_FIELD_UINT_PTR("max_body_bytes", OPT, struct y_limits, max_body_bytes),
	CYAML_FIELD_UINT_PTR("idle_timeout_ms", OPT, struct y_limits, idle_timeout_ms),
	CYAML_FIELD_UINT_PTR("message_timeout_ms", OPT, struct y_limits, message_timeout_ms),
	CYAML_FIELD_UINT_PTR("max_transactions", OPT, struct y_limits, max_transactions),
	CYAML_FIELD_UINT_PTR("mtu", OPT, struct y_limits, mtu),
	CYAML_FIELD_BOOL_PTR("mtu_rule", OPT, struct y_limits, mtu_rule),
	CYAML_FIELD_UINT_PTR("udp_socket_buffer", OPT, struct y_limits, udp_socket_buffer),
	CYAML_FIELD_UINT_PTR("rate_limit", OPT, struct y_limits, rate_limit),
	CYAML_FIELD_UINT_PTR("rate_limit_burst", OPT, struct y_limits, rate_limit_burst),
	CYAML_FIELD_UINT_PTR("auth_fail_burst", OPT, struct y_limits, auth_fail_burst),
	CYAML_FIELD_UINT_PTR("auth_fail_per_minute", OPT, struct y_limits, auth_fail_per_minute),
	CYAML_FIELD_END,
};
static const cyaml_schema_field_t registrar_fields[] = {
	CYAML_FIELD_UINT_PTR("default_expires", OPT, struct y_registrar, default_expires),
	CYAML_FIELD_UINT_PTR("min_expires", OPT, struct y_registrar, min_expires),
	CYAML_FIELD_UINT_PTR("max_expires", OPT, struct y_registrar, max_expires),
	CYAML_FIELD_BOOL_PTR("require_auth", OPT, struct y_registrar, require_auth),
	CYAML_FIELD_BOOL_PTR("open_registration", OPT, struct y_registrar, open_registration),
	CYAML_FIELD_SEQUENCE("algorithms", OPT, struct y_registrar, algorithms, &str_schema, 1, SIP_DIGEST__COUNT),
	CYAML_FIELD_UINT_PTR("nonce_lifetime", OPT, struct y_registrar, nonce_lifetime),
	CYAML_FIELD_BOOL_PTR("nat_rewrite", OPT, struct y_registrar, nat_rewrite),
	CYAML_FIELD_UINT_PTR("foreign_status", OPT, struct y_registrar, foreign_status),
	CYAML_FIELD_END,
};
static const cyaml_schema_field_t proxy_fields[] = {
	CYAML_FIELD_BOOL_PTR("record_route", OPT, struct y_proxy, record_route),
	CYAML_FIELD_STRING_PTR("dns", OPT, struct y_proxy, dns, 1, 1024),
	CYAML_FIELD_END,
};
static const cyaml_schema_field_t doc_fields[] = {
	CYAML_FIELD_SEQUENCE("listen", OPT, struct y_doc, listen, &str_schema, 0, SIP_SERVER_MAX_LISTEN),
	CYAML_FIELD_SEQUENCE("domains", OPT, struct y_doc, domains, &str_schema, 0, SIP_SERVER_MAX_DOMAINS),
	CYAML_FIELD_MAPPING_PTR("tls", OPT, struct y_doc, tls, tls_fields),
	CYAML_FIELD_MAPPING_PTR("timers", OPT, struct y_doc, timers, timer_fields),
	CYAML_FIELD_MAPPING_PTR("limits", OPT, struct y_doc, limits, limit_fields),
	CYAML_FIELD_MAPPING_PTR("registrar", OPT, struct y_doc, registrar, registrar_fields),
	CYAML_FIELD_MAPPING_PTR("proxy", OPT, struct y_doc, proxy, proxy_fields),
	CYAML_FIELD_STRING_PTR("log_level", OPT, struct y_doc, log_level, 1, 16),
	CYAML_FIELD_BOOL_PTR("trace", OPT, struct y_doc, trace),
	CYAML_FIELD_UINT_PTR("workers", OPT, struct y_doc, workers),
	CYAML_FIELD_STRING_PTR("db", OPT, struct y_doc, db, 1, 4096),
	CYAML_FIELD_STRING_PTR("location", OPT, struct y_doc, location, 1, 300),
	CYAML_FIELD_UINT_PTR("commit_window_ms", OPT, struct y_doc, commit_window_ms),
	CYAML_FIELD_STRING_PTR("mode", OPT, struct y_doc, mode, 1, 16),
	CYAML_FIELD_END,
};
static const cyaml_schema_value_t doc_schema = {CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct y_doc, doc_fields)};

/* libcyaml's log lines, gathered for the error message. */
struct errsink {
	char *buf;
	size_t cap, len;
};

static void collect_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
	__attribute__((format(printf, 3, 0)));
static void collect_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
	struct errsink *s = ctx;
	if (level < CYAML_LOG_ERROR || !s || s->len + 1 >= s->cap)
		return;
	int n = vsnprintf(s->buf + s->len, s->cap - s->len, fmt, args);
	if (n > 0)
		s->len += (size_t)n < s->cap - s->len ? (size_t)n : s->cap - s->len - 1;
}

/* Line number (1-based) of the first line whose first token is "<key>:", or 0. */
static unsigned key_line(const char *path, const char *key)
{
	size_t klen = strcspn(key, ";\n ");
	FILE *f = fopen(path, "r");
	if (!f || klen == 0) {
		if (f)
			fclose(f);
		return 0;
	}
	char line[1024];
	unsigned n = 0, found = 0;
	while (!found && fgets(line, sizeof(line), f)) {
		n++;
		const char *p = line + strspn(line, " \t-");
		if (!strncmp(p, key, klen) && p[klen] == ':')
			found = n;
	}
	fclose(f);
	return found;
}

void sip_server_config_defaults(struct sip_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	sip_txn_config_default(&cfg->txn);
	cfg->mtu = 1500;
	cfg->log_level = SIP_LOG_INFO;
	cfg->default_expires = 3600;
	cfg->min_expires = 60;
	cfg->max_expires = 86400;
	cfg->foreign_register_status = 404;
	cfg->record_route = true;
	cfg->digest_algs[0] = SIP_DIGEST_MD5;
	cfg->digest_algs[1] = SIP_DIGEST_SHA256;
	cfg->ndigest_algs = 2;
	/* A phone with a wrong password retries every minute or so; a
	 * password guesser tries hundreds a second. */
	cfg->auth_fail_burst = 20;
	cfg->auth_fail_per_minute = 6;
}

int sip_server_config_set_location(struct sip_server_config *cfg, const char *value)
{
	char host[256];
	int port, db;
	bool redis = !strncmp(value, "redis://", 8);
	if (redis ? sip_location_redis_url(value, host, sizeof(host), &port, &db) != 0
		  : strcmp(value, "memory") && strcmp(value, "sqlite"))
		return SIP_EINVAL;
	cfg->location_memory = !strcmp(value, "memory");
	return sip_server_config_set_str(&cfg->location_redis, redis ? value : NULL);
}

int sip_server_config_set_str(char **field, const char *value)
{
	char *copy = NULL;
	if (value && !(copy = strdup(value)))
		return SIP_ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

static int set_list(char **dst, unsigned *n, unsigned max, char **src, unsigned count)
{
	for (unsigned i = 0; i < *n; i++) {
		free(dst[i]);
		dst[i] = NULL;
	}
	*n = 0;
	for (unsigned i = 0; i < count && i < max; i++) {
		if (!(dst[i] = strdup(src[i])))
			return SIP_ENOMEM;
		(*n)++;
	}
	return 0;
}

static int errf(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int errf(char *err, size_t cap, const char *fmt, ...)
{
	if (err && cap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, cap, fmt, ap);
		va_end(ap);
	}
	return SIP_ECONFIG;
}

int sip_server_config_load(struct sip_server_config *cfg, const char *path, char *err, size_t errcap)
{
	char log[1024] = "";
	struct errsink sink = {log, sizeof(log), 0};
	const cyaml_config_t ycfg = {
		.log_fn = collect_log,
		.log_ctx = &sink,
		.mem_fn = cyaml_mem,
		.log_level = CYAML_LOG_ERROR,
		.flags = CYAML_CFG_DEFAULT,
	};
	struct y_doc *d = NULL;
	cyaml_err_t ce = cyaml_load_file(path, &ycfg, &doc_schema, (cyaml_data_t **)&d, NULL);
	if (ce != CYAML_OK) {
		/* Flatten libcyaml's multi-line report ("Load: ...\n  in mapping field 'x' (line: 3, column: 5)"). */
		for (size_t i = 0; i < sink.len; i++)
			if (log[i] == '\n')
				log[i] = i + 1 == sink.len ? '\0' : ';';
		/* libcyaml places an unknown key at its mapping; find the key's own line. */
		unsigned kline = 0;
		const char *uk = strstr(log, "Unexpected key: ");
		if (uk)
			kline = key_line(path, uk + strlen("Unexpected key: "));
		if (kline)
			return errf(err, errcap, "%s: line %u: unknown key (%s)", path, kline, log);
		return errf(err, errcap, "%s: %s%s%s", path, cyaml_strerror(ce), sink.len ? ": " : "", log);
	}
	int rc = 0;
	if (!d)
		return 0; /* an empty file changes nothing */
	if (d->listen && (rc = set_list(cfg->listen, &cfg->nlisten, SIP_SERVER_MAX_LISTEN, d->listen, d->listen_count)))
		goto out;
	if (d->domains &&
	    (rc = set_list(cfg->domains, &cfg->ndomains, SIP_SERVER_MAX_DOMAINS, d->domains, d->domains_count)))
		goto out;
	if (d->tls) {
		if ((d->tls->cert && (rc = sip_server_config_set_str(&cfg->tls_cert, d->tls->cert))) ||
		    (d->tls->key && (rc = sip_server_config_set_str(&cfg->tls_key, d->tls->key))) ||
		    (d->tls->ca && (rc = sip_server_config_set_str(&cfg->tls_ca, d->tls->ca))) ||
		    (d->tls->client_ca && (rc = sip_server_config_set_str(&cfg->tls_client_ca, d->tls->client_ca))))
			goto out;
		if (d->tls->verify)
			cfg->tls_no_verify = !*d->tls->verify;
		if (d->tls->verify_clients)
			cfg->tls_verify_clients = *d->tls->verify_clients;
	}
	if (d->timers) {
		if (d->timers->t1)
			cfg->txn.t1_ms = *d->timers->t1;
		if (d->timers->t2)
			cfg->txn.t2_ms = *d->timers->t2;
		if (d->timers->t4)
			cfg->txn.t4_ms = *d->timers->t4;
		if (d->timers->c)
			cfg->timer_c_ms = *d->timers->c;
	}
	if (d->limits) {
		struct y_limits *l = d->limits;
		if (l->max_connections)
			cfg->max_connections = *l->max_connections;
		if (l->max_connections_per_ip)
			cfg->max_connections_per_ip = *l->max_connections_per_ip;
		if (l->max_header_bytes)
			cfg->max_header_bytes = *l->max_header_bytes;
		if (l->max_body_bytes)
			cfg->max_body_bytes = *l->max_body_bytes;
		if (l->idle_timeout_ms)
			cfg->idle_timeout_ms = *l->idle_timeout_ms;
		if (l->message_timeout_ms)
			cfg->message_timeout_ms = *l->message_timeout_ms;
		if (l->max_transactions)
			cfg->txn.max_txns = *l->max_transactions;
		if (l->mtu)
			cfg->mtu = *l->mtu;
		if (l->mtu_rule)
			cfg->mtu_rule_off = !*l->mtu_rule;
		if (l->rate_limit)
			cfg->rate_limit = *l->rate_limit;
		if (l->rate_limit_burst)
			cfg->rate_limit_burst = *l->rate_limit_burst;
		if (l->auth_fail_burst)
			cfg->auth_fail_burst = *l->auth_fail_burst;
		if (l->auth_fail_per_minute)
			cfg->auth_fail_per_minute = *l->auth_fail_per_minute;
		if (l->udp_socket_buffer)
			cfg->udp_socket_buffer = *l->udp_socket_buffer;
	}
	if (d->registrar) {
		struct y_registrar *r = d->registrar;
		if (r->default_expires)
			cfg->default_expires = *r->default_expires;
		if (r->min_expires)
			cfg->min_expires = *r->min_expires;
		if (r->max_expires)
			cfg->max_expires = *r->max_expires;
		if (r->require_auth)
			cfg->require_auth = *r->require_auth;
		if (r->open_registration)
			cfg->open_registration = *r->open_registration;
		if (r->nonce_lifetime)
			cfg->nonce_lifetime = *r->nonce_lifetime;
		if (r->nat_rewrite)
			cfg->nat_rewrite = *r->nat_rewrite;
		if (r->foreign_status)
			cfg->foreign_register_status = *r->foreign_status;
		if (r->algorithms) {
			cfg->ndigest_algs = 0;
			for (unsigned i = 0; i < r->algorithms_count; i++) {
				if (sip_digest_alg_parse(sip_str_c(r->algorithms[i]), &cfg->digest_algs[i]) < 0) {
					rc = errf(err, errcap, "%s: registrar.algorithms: '%s' is not MD5, SHA-256, MD5-sess or SHA-256-sess",
						  path, r->algorithms[i]);
					goto out;
				}
				cfg->ndigest_algs++;
			}
		}
	}
	if (d->log_level && sip_log_level_parse(d->log_level, &cfg->log_level) < 0) {
		rc = errf(err, errcap, "%s: log_level: '%s' is not one of error, warn, info, debug", path, d->log_level);
		goto out;
	}
	if (d->trace)
		cfg->trace = *d->trace;
	if (d->workers)
		cfg->workers = *d->workers;
	if (d->commit_window_ms)
		cfg->commit_window_ms = *d->commit_window_ms;
	if (d->proxy && d->proxy->record_route)
		cfg->record_route = *d->proxy->record_route;
	if (d->proxy && d->proxy->dns && (rc = sip_server_config_set_str(&cfg->dns_servers, d->proxy->dns)))
		goto out;
	if (d->db && (rc = sip_server_config_set_str(&cfg->db_path, d->db)))
		goto out;
	if (d->location && (rc = sip_server_config_set_location(cfg, d->location)) < 0) {
		rc = errf(err, errcap, "%s: location: '%s' is not sqlite, memory or redis://HOST[:PORT][/DB]", path,
			  d->location);
		goto out;
	}
	if (d->mode) {
		if (!strcmp(d->mode, "proxy")) {
			cfg->mode = SIP_MODE_PROXY;
		} else if (!strcmp(d->mode, "redirect")) {
			cfg->mode = SIP_MODE_REDIRECT;
		} else {
			rc = errf(err, errcap, "%s: mode: '%s' is not proxy or redirect", path, d->mode);
			goto out;
		}
	}
out:
	cyaml_free(&ycfg, &doc_schema, d, 0);
	if (rc == SIP_ENOMEM)
		errf(err, errcap, "out of memory");
	return rc;
}

int sip_server_config_check(const struct sip_server_config *cfg, char *err, size_t errcap)
{
	bool tls = false;
	if (cfg->nlisten == 0)
		return errf(err, errcap, "no listen address");
	for (unsigned i = 0; i < cfg->nlisten; i++) {
		struct sip_tp_spec spec;
		if (sip_transport_parse_spec(cfg->listen[i], &spec) < 0)
			return errf(err, errcap, "listen address '%s': expected udp|tcp|tls:HOST[:PORT]", cfg->listen[i]);
		tls |= spec.type == SIP_TP_TLS;
	}
	if (cfg->tls_verify_clients && !cfg->tls_client_ca && !cfg->tls_ca)
		return errf(err, errcap, "tls.verify_clients needs tls.client_ca (or tls.ca): the clients' trust anchors");
	if (tls && (!cfg->tls_cert || !cfg->tls_key))
		return errf(err, errcap, "a tls listener needs a certificate and key (tls.cert/tls.key or --tls-cert/--tls-key)");
	if (cfg->txn.t1_ms == 0 || cfg->txn.t2_ms < cfg->txn.t1_ms)
		return errf(err, errcap, "timers: t1 must be > 0 and t2 >= t1");
	if (cfg->min_expires > cfg->default_expires || cfg->default_expires > cfg->max_expires)
		return errf(err, errcap, "registrar: need min_expires <= default_expires <= max_expires");
	if (cfg->foreign_register_status != 404 && cfg->foreign_register_status != 403)
		return errf(err, errcap, "registrar.foreign_status: %u is not 404 or 403", cfg->foreign_register_status);
	if (cfg->commit_window_ms > SIP_SERVER_MAX_COMMIT_WINDOW_MS)
		return errf(err, errcap, "commit_window_ms: at most %d", SIP_SERVER_MAX_COMMIT_WINDOW_MS);
	if (cfg->workers > SIP_SERVER_MAX_WORKERS)
		return errf(err, errcap, "workers: at most %d", SIP_SERVER_MAX_WORKERS);
	if (cfg->udp_socket_buffer && (cfg->udp_socket_buffer < 65536 || cfg->udp_socket_buffer > (1u << 30)))
		return errf(err, errcap, "limits.udp_socket_buffer: %u is outside 65536..1073741824 bytes",
			    cfg->udp_socket_buffer);
	if (cfg->auth_fail_per_minute && cfg->auth_fail_burst > SIP_SERVER_MAX_AUTH_FAIL_BURST)
		return errf(err, errcap, "limits.auth_fail_burst: at most %d", SIP_SERVER_MAX_AUTH_FAIL_BURST);
	if (cfg->mtu && cfg->mtu < 576)
		return errf(err, errcap, "limits.mtu: %u is below the IPv4 minimum of 576", cfg->mtu);
	return 0;
}

void sip_server_config_free(struct sip_server_config *cfg)
{
	for (unsigned i = 0; i < cfg->nlisten; i++)
		free(cfg->listen[i]);
	for (unsigned i = 0; i < cfg->ndomains; i++)
		free(cfg->domains[i]);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->tls_ca);
	free(cfg->tls_client_ca);
	free(cfg->db_path);
	free(cfg->location_redis);
	free(cfg->dns_servers);
	memset(cfg, 0, sizeof(*cfg));
}
