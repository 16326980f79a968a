/* resolver.h — locating SIP servers (RFC 3263 §4): a SIP/SIPS URI becomes an
 * ordered list of (transport, IP address, port) targets, found through
 * NAPTR, SRV (RFC 2782) and A/AAAA records with c-ares on a libuv loop.
 * The caller walks the list with a cursor and moves on to the next target on
 * a transport error, a timeout or a 503 (RFC 3263 §4.3). See docs/resolver.md. */
#ifndef SIP_RESOLVER_H
#define SIP_RESOLVER_H

#include <sip/core.h>
#include <sip/uri.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Caps: a DNS name, the records used from one answer, targets in a result. */
#define SIP_RESOLVE_NAME_MAX 255
#define SIP_RESOLVE_MAX_RECORDS 16
#define SIP_RESOLVE_MAX_ADDRS 8
#define SIP_RESOLVE_MAX_TARGETS 64
/* "tls:[1234:...:ffff]:65535" plus NUL. */
#define SIP_TARGET_STR_MAX 64

/* The transports a target can name (RFC 3263 §4.1). SIPS+D2T and _sips._tcp
 * mean TLS over TCP. Values are bits so a set fits in an unsigned. */
enum sip_resolve_proto {
	SIP_RESOLVE_UDP = 1 << 0,
	SIP_RESOLVE_TCP = 1 << 1,
	SIP_RESOLVE_TLS = 1 << 2,
	SIP_RESOLVE_SCTP = 1 << 3,
};
#define SIP_RESOLVE_PROTO_DEFAULT (SIP_RESOLVE_UDP | SIP_RESOLVE_TCP | SIP_RESOLVE_TLS)

/* One place to send a request. */
struct sip_target {
	enum sip_resolve_proto proto;
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order; the first 4 bytes for AF_INET */
	uint16_t port;	  /* host order */
	/* The name the address was found for (SRV target or URI host), or the
	 * numeric host itself; for logs, not for TLS checks (RFC 5922 §4). */
	char host[SIP_RESOLVE_NAME_MAX + 1];
};

/* An ordered target list with a fail-over cursor. Owned by the caller. */
struct sip_resolve_result;

/* Randomness for the RFC 2782 weighted selection: returns a uniform value in
 * [0, UINT32_MAX]. Injected so tests are deterministic. */
typedef uint32_t (*sip_resolve_rand_fn)(void *ud);

struct sip_resolver_opts {
	/* c-ares server list, "127.0.0.1:5353,[::1]:53"; NULL uses /etc/resolv.conf. */
	const char *servers;
	unsigned timeout_ms; /* first try's timeout per query (c-ares doubles it per round); 0 = 2000 */
	unsigned tries;	     /* attempts per server; 0 = 2 */
	unsigned protos; /* enum sip_resolve_proto set the client supports; 0 = SIP_RESOLVE_PROTO_DEFAULT */
	bool no_ipv4, no_ipv6;
	bool prefer_ipv6;	  /* AAAA addresses before A addresses of the same host */
	sip_resolve_rand_fn rand; /* NULL: getrandom()-seeded generator */
	void *rand_ud;
};

/* --- result and cursor --- */

/* Next target to try: returns 1 and copies it to *out, or 0 when the list is exhausted. */
SIP_API int sip_resolve_next(struct sip_resolve_result *res, struct sip_target *out);
/* Targets sip_resolve_next() has still to give (fail-over candidates). */
SIP_API size_t sip_resolve_left(const struct sip_resolve_result *res);
/* Moves the cursor back to the first target. */
SIP_API void sip_resolve_rewind(struct sip_resolve_result *res);
/* Number of targets in the list. */
SIP_API size_t sip_resolve_count(const struct sip_resolve_result *res);
/* The i-th target (0-based), or NULL when i is out of range. */
SIP_API const struct sip_target *sip_resolve_get(const struct sip_resolve_result *res, size_t i);
/* Frees a result (NULL is fine). */
SIP_API void sip_resolve_result_free(struct sip_resolve_result *res);

/* Writes "udp:192.0.2.1:5060" / "tls:[2001:db8::1]:5061" to buf; returns the
 * length, or SIP_ETOOBIG when cap is too small. */
SIP_API int sip_target_format(const struct sip_target *t, char *buf, size_t cap);
/* Lower-case transport name: "udp", "tcp", "tls", "sctp" ("?" otherwise). */
SIP_API const char *sip_resolve_proto_name(enum sip_resolve_proto p);

/* --- asynchronous resolver (c-ares on a libuv loop) --- */

struct sip_resolver;
typedef struct uv_loop_s uv_loop_t;

/* Called once per sip_resolve: err 0 with a non-empty result the callee owns
 * (free it with sip_resolve_result_free), or err < 0 with res NULL:
 * SIP_ENOTFOUND (no records), SIP_ETIMEDOUT (DNS did not answer), SIP_EIO
 * (DNS error), SIP_ENOMEM, or SIP_ESTATE when the resolver was freed first. */
typedef void (*sip_resolve_cb)(void *arg, int err, struct sip_resolve_result *res);

/* Creates a resolver on loop; opts may be NULL. Returns 0, SIP_ENOMEM,
 * SIP_ECONFIG (bad servers string) or SIP_EIO. */
SIP_API int sip_resolver_new(struct sip_resolver **out, uv_loop_t *loop,
			     const struct sip_resolver_opts *opts);
/* Cancels pending resolutions (their callbacks run with SIP_ESTATE) and
 * closes the resolver; memory is released when the loop runs the close callbacks. */
SIP_API void sip_resolver_free(struct sip_resolver *r);
/* Starts locating uri (SIP or SIPS). The URI is copied; cb runs later on the
 * loop, never from inside this call. Returns 0, or SIP_EINVAL /
 * SIP_EUNSUPPORTED (not sip:/sips:, or an unsupported transport param) /
 * SIP_ENOMEM — and then cb never runs. */
SIP_API int sip_resolve(struct sip_resolver *r, const struct sip_uri *uri, sip_resolve_cb cb, void *arg);

/* The answer at once when uri needs no lookup (its target is an IP
 * literal, RFC 3263 §4.1/§4.2): 0 with *out set (one target; free it with
 * sip_resolve_result_free), SIP_EAGAIN when DNS is needed (use
 * sip_resolve()), or sip_resolve()'s errors. Saves a job and a loop turn
 * on every request to a numeric next hop. */
SIP_API int sip_resolve_now(struct sip_resolver *r, const struct sip_uri *uri, struct sip_resolve_result **out);

/* Blocking helper for command-line use: runs a private loop until done.
 * Returns 0 with *out set, or the error sip_resolve_cb would have received. */
SIP_API int sip_resolve_sync(const struct sip_resolver_opts *opts, const struct sip_uri *uri,
			     struct sip_resolve_result **out);

#ifdef __cplusplus
}
#endif
#endif
