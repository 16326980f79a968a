/* registrar.h — the SIP registrar (RFC 3261 §10.3, with RFC 3327 Path and
 * the registrar part of RFC 5626 outbound), sans-I/O: a parsed REGISTER and
 * the time go in, the complete response comes out in a caller buffer, and
 * the bindings go to a struct sip_location store. No sockets, no clock.
 *
 * One registrar is used from one thread at a time (like its location store);
 * give each worker its own, or serialise calls. See docs/registrar.md for the
 * batching contract (many REGISTERs, one commit, then their 200s). */
#ifndef SIP_REGISTRAR_H
#define SIP_REGISTRAR_H

#include <sip/auth.h>
#include <sip/core.h>
#include <sip/location.h>
#include <sip/msg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Named caps and defaults (a 0 in the config selects the default). */
#define SIP_REGISTRAR_MAX_DOMAINS 32	 /* domains of one registrar */
#define SIP_REGISTRAR_MAX_DOMAIN_LEN 255 /* bytes of one domain / realm */
#define SIP_REGISTRAR_DEFAULT_EXPIRES 3600
#define SIP_REGISTRAR_MIN_EXPIRES 60
#define SIP_REGISTRAR_MAX_EXPIRES 86400
#define SIP_REGISTRAR_MAX_CONTACTS 32	 /* Contact values per REGISTER (more: 400) */
#define SIP_REGISTRAR_MAX_AOR_LEN 256	 /* bytes of the canonical AOR (more: 400) */
#define SIP_REGISTRAR_MAX_UNSUPPORTED 16 /* option tags listed in one 420 */

/* Option tags the registrar can support (Require is checked against them). */
enum sip_registrar_option {
	SIP_REGISTRAR_OPT_PATH = 1u << 0,     /* RFC 3327 */
	SIP_REGISTRAR_OPT_OUTBOUND = 1u << 1, /* RFC 5626 (+sip.instance, reg-id) */
};

/* One domain we are the registrar for; realm NULL or "" means the domain name. */
struct sip_registrar_domain {
	const char *name;
	const char *realm;
};

/* Whether the authenticated user (username, realm) may change the bindings
 * of aor (canonical form). NULL callback: only their own AOR, i.e. the AOR's
 * user part equals username and its domain's realm equals realm. */
typedef bool (*sip_registrar_authorize_fn)(void *ud, struct sip_str username, struct sip_str realm,
					   struct sip_str aor);

struct sip_registrar_config {
	const struct sip_registrar_domain *domains; /* copied; compared without case */
	size_t ndomains;
	uint32_t default_expires;     /* 0: SIP_REGISTRAR_DEFAULT_EXPIRES */
	uint32_t min_expires;	      /* 0: SIP_REGISTRAR_MIN_EXPIRES */
	uint32_t max_expires;	      /* 0: SIP_REGISTRAR_MAX_EXPIRES */
	size_t max_contacts;	      /* 0: SIP_REGISTRAR_MAX_CONTACTS */
	size_t max_aor_len;	      /* 0: SIP_REGISTRAR_MAX_AOR_LEN */
	bool require_auth;	      /* digest-authenticate every REGISTER (needs auth + ha1) */
	bool nat_rewrite;	      /* store the request's source as each binding's "received" */
	unsigned options;	      /* SIP_REGISTRAR_OPT_* mask; 0: PATH | OUTBOUND */
	struct sip_auth_server *auth; /* challenges and verification (not owned) */
	sip_auth_ha1_fn ha1;	      /* credential lookup, e.g. sip_users_get_ha1 */
	void *ha1_ud;
	sip_registrar_authorize_fn authorize; /* NULL: own AOR only */
	void *authorize_ud;
	/* Guard against password guessing (not owned, this thread's; NULL:
	 * none): every failed authentication (wrong response or unknown user
	 * alike) takes a token of the source address; while it has none, its
	 * credentials are not checked and get 403 — a correct guess included. */
	struct sip_ratelimit *auth_failures;
};

/* Where the REGISTER came from (for nat_rewrite and outbound flows). */
struct sip_registrar_src {
	struct sip_str ip; /* textual address, IPv6 without brackets */
	uint16_t port;
	struct sip_str transport; /* "udp", "tcp", "tls", ... */
	/* Optional: when ip is empty, the address (struct sockaddr_in or
	 * sockaddr_in6, port included) formatted only if a source URI is needed
	 * (nat_rewrite, outbound), so the common REGISTER formats nothing. */
	const void *sockaddr;
	/* The stream connection it came over (0: none, or a datagram). Kept in
	 * the binding's source URI as ";sipd-conn=<hex>" (see
	 * SIP_REGISTRAR_CONN_PARAM) so requests to the binding can go back
	 * over that very connection — the RFC 5626 flow — from any thread. */
	uint64_t conn;
};

#define SIP_REGISTRAR_CONN_PARAM "sipd-conn"

struct sip_registrar;
struct sip_ratelimit;

/* Creates a registrar on loc (not owned; open it with .uri_eq =
 * sip_registrar_uri_eq). 0, SIP_EINVAL/SIP_ECONFIG (no domain, min > default
 * > max, require_auth without auth/ha1) or SIP_ENOMEM. */
SIP_API int sip_registrar_new(struct sip_registrar **out, const struct sip_registrar_config *cfg,
			      struct sip_location *loc);
/* Frees a registrar (NULL is fine); the store stays open. */
SIP_API void sip_registrar_free(struct sip_registrar *reg);

/* Contact URI equality for the location store (RFC 3261 §19.1.4 on parsed
 * URIs; byte equality when either does not parse). Has the shape of
 * sip_location_uri_eq_fn; ud is unused. */
SIP_API bool sip_registrar_uri_eq(void *ud, struct sip_str a, struct sip_str b);

/* The option tags this registrar supports, as a Supported header value
 * ("path, outbound", "path", "outbound" or ""), e.g. for an OPTIONS answer. */
SIP_API const char *sip_registrar_supported(const struct sip_registrar *reg);

/* Outcome of one REGISTER. */
struct sip_registrar_result {
	int status;	   /* response code written (200, 4xx, 5xx); 0 when not_ours */
	size_t len;	   /* bytes of the response in out (0 when not_ours) */
	bool not_ours;	   /* Request-URI not one of our domains: nothing written;
			    * the caller proxies it or answers 404/403 itself */
	bool wrote;	   /* the store was changed: inside a caller's batch, this
			    * response may be sent only after sip_location_commit()
			    * succeeded (else send sip_registrar_error(..., 500)) */
	bool store_failed; /* a write failed and could not be undone: inside a
			    * batch, roll the batch back and answer 500 to every
			    * REGISTER of it that wrote */
	bool guard_tripped; /* 403: the first refusal of a run for this source
			     * (auth_failures): worth one log line */
};

/* Processes one REGISTER (§10.3 steps 1-8 in order) at time now and writes the
 * complete response (status line to body) into out. When the store has an open
 * batch (sip_location_begin() by the caller) the writes join it; otherwise the
 * registrar brackets its own writes with begin/commit, so a 200 written means
 * committed. Returns 0 with *res filled (a 4xx/5xx is still 0), SIP_EINVAL
 * (not a parsed REGISTER request, NULL argument) or SIP_ETOOBIG (out too
 * small: nothing was stored, answer 500 yourself). */
SIP_API int sip_registrar_handle(struct sip_registrar *reg, const struct sip_msg *req,
				 const struct sip_registrar_src *src, int64_t now, char *out, size_t cap,
				 struct sip_registrar_result *res);

/* Writes a plain error response (no body) to req, e.g. the 500 that replaces
 * a prepared 200 when the batch commit failed. Returns its length or
 * SIP_ETOOBIG/SIP_EINVAL. */
SIP_API int sip_registrar_error(struct sip_registrar *reg, const struct sip_msg *req, int status, int64_t now,
				char *out, size_t cap);

/* Writes the canonical AOR of uri (§10.3 step 5: "scheme:user@host", scheme
 * and host lower-cased, user unescaped, no port, parameters or headers) into
 * out. Returns its length, SIP_EUNSUPPORTED (not sip/sips), SIP_EPARSE (bad
 * escape) or SIP_ETOOBIG. */
SIP_API int sip_registrar_aor(const struct sip_uri *uri, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
