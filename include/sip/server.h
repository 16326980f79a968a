/* server.h — the sipd server: configuration (sipd.yaml and the command line)
 * and the worker threads that run transports, transactions and the TU cores.
 * apps/sipd only parses arguments and calls these. */
#ifndef SIP_SERVER_H
#define SIP_SERVER_H

#include <sip/auth.h>
#include <sip/core.h>
#include <sip/log.h>
#include <sip/txn.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIP_SERVER_MAX_LISTEN 32
#define SIP_SERVER_MAX_DOMAINS 32
#define SIP_SERVER_MAX_WORKERS 64
#define SIP_SERVER_MAX_COMMIT_WINDOW_MS 1000 /* a 200 waits at most this long for its COMMIT */
#define SIP_SERVER_MAX_AUTH_FAIL_BURST 100000

enum sip_server_mode { SIP_MODE_PROXY = 0, SIP_MODE_REDIRECT };

struct sip_server_config {
	char *listen[SIP_SERVER_MAX_LISTEN]; /* "udp:127.0.0.1:5060" ... */
	unsigned nlisten;
	char *domains[SIP_SERVER_MAX_DOMAINS];
	unsigned ndomains;
	char *tls_cert, *tls_key, *tls_ca;
	bool tls_no_verify;                  /* tests only */
	bool tls_verify_clients;             /* mutual TLS: listeners require a client certificate */
	char *tls_client_ca;                 /* its trust anchors; NULL: tls_ca */
	struct sip_txn_config txn;           /* T1, T2, T4, max transactions */
	unsigned timer_c_ms;                 /* proxy Timer C (§16.6 step 11); 0: SIP_PROXY_TIMER_C_MS */
	unsigned max_connections, max_header_bytes, max_body_bytes, idle_timeout_ms;
	unsigned max_connections_per_ip;     /* inbound TCP/TLS connections one address may hold (per
						worker); 0: no cap */
	unsigned message_timeout_ms;         /* a stream message must be complete this long after its
						first byte; 0: SIP_TP_DEFAULT_MESSAGE_MS */
	unsigned udp_socket_buffer;          /* bytes asked for each UDP socket's buffers; 0: 4 MiB */
	unsigned rate_limit, rate_limit_burst; /* messages/s per source address (per worker); 0: off */
	/* Guard against password guessing (per worker): a source address may
	 * fail authentication auth_fail_burst times at once, then
	 * auth_fail_per_minute times a minute; beyond, its credentials get 403
	 * unchecked. auth_fail_per_minute 0: off. */
	unsigned auth_fail_burst, auth_fail_per_minute;
	unsigned mtu;                        /* 0: unknown (1300-byte rule) */
	bool mtu_rule_off;
	unsigned workers;                    /* 0: one per core */
	char *db_path;
	bool location_memory;                /* bindings in memory (not durable); users stay in db_path */
	char *location_redis;                /* "redis://host:port/db": bindings in a Redis server shared
						with other sipd; NULL: not used. Users stay in db_path */
	unsigned commit_window_ms;           /* SQLite: REGISTERs of this window share a COMMIT; 0: per loop iteration */
	enum sip_server_mode mode;
	bool require_auth;                   /* also on loopback */
	bool open_registration;              /* explicitly allow unauthenticated REGISTER off loopback */
	enum sip_log_level log_level;
	bool trace;
	/* Registrar (§10.3). */
	unsigned default_expires, min_expires, max_expires;
	bool nat_rewrite;                    /* store each REGISTER's source address with its bindings */
	unsigned foreign_register_status;    /* REGISTER for a domain not ours: 404 (default) or 403 */
	/* Digest challenges offered, in order. Default MD5 then SHA-256: clients
	 * that take the first challenge (SIPp, older phones) only know MD5, and
	 * clients that know SHA-256 pick it from the list (RFC 8760 §2.4). */
	enum sip_digest_alg digest_algs[SIP_DIGEST__COUNT];
	unsigned ndigest_algs;
	unsigned nonce_lifetime;             /* seconds; 0: SIP_AUTH_DEFAULT_LIFETIME */
	/* Proxy (§16). */
	bool record_route;                   /* stay in the dialogs of INVITE/SUBSCRIBE...; default on */
	char *dns_servers;                   /* "127.0.0.1:5353"; NULL: /etc/resolv.conf */
};

/* Fills cfg with the embedded default: UDP+TCP on 127.0.0.1:5060, domain
 * localhost, ./sipd.db, proxy mode, RFC 3261 timers. */
SIP_API void sip_server_config_defaults(struct sip_server_config *cfg);
/* Loads a sipd.yaml over cfg (schema-checked: unknown keys and wrong types are
 * errors). Returns 0, or SIP_ECONFIG with a message naming the line in err. */
SIP_API int sip_server_config_load(struct sip_server_config *cfg, const char *path, char *err, size_t errcap);
/* Checks a complete configuration (listen specs parse, TLS files given for
 * tls listeners, limits sane). Returns 0 or SIP_ECONFIG with err. */
SIP_API int sip_server_config_check(const struct sip_server_config *cfg, char *err, size_t errcap);
/* Replaces a string field (copied). Returns 0 or SIP_ENOMEM. */
/* Where bindings live: "sqlite" (the default), "memory" or a redis:// URL
 * (sip_location_open_redis). 0, SIP_EINVAL or SIP_ENOMEM. */
SIP_API int sip_server_config_set_location(struct sip_server_config *cfg, const char *value);
SIP_API int sip_server_config_set_str(char **field, const char *value);
/* Frees the strings cfg owns. */
SIP_API void sip_server_config_free(struct sip_server_config *cfg);

/* Runs the server until SIGINT/SIGTERM (or sip_server_stop()). Returns 0 on a
 * clean shutdown, or a negative error when start-up failed (nothing is left
 * running then). */
SIP_API int sip_server_run(const struct sip_server_config *cfg);
/* Asks a running server to shut down (async-signal-safe). */
SIP_API void sip_server_stop(void);

#ifdef __cplusplus
}
#endif
#endif
