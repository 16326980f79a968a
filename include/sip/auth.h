/* auth.h — HTTP Digest authentication for SIP (RFC 3261 §22, RFC 2617,
 * RFC 7616, RFC 8760): hashes, server-side challenges with stateless nonces,
 * credential verification with nonce-count replay protection, and the client
 * side (answering a challenge).
 *
 * Every function works on plain slices; struct sip_auth (msg.h) is accepted
 * as input through sip_digest_creds_from_auth()/sip_digest_challenge_from_auth(),
 * which only copy fields. Time is always an argument (seconds). */
#ifndef SIP_AUTH_H
#define SIP_AUTH_H

#include <sip/core.h>
#include <sip/msg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Named caps. */
#define SIP_DIGEST_HEX_MAX 65         /* hex digest (SHA-256: 64) + NUL */
#define SIP_DIGEST_PARAM_MAX 256      /* bytes of one digest parameter value (after unescaping) */
#define SIP_DIGEST_URI_MAX 2048       /* bytes of the digest-uri */
#define SIP_AUTH_NONCE_LEN 70         /* server nonce text: base64url of 52 bytes, unpadded */
#define SIP_AUTH_SECRET_MIN 16        /* bytes of the server secret, at least */
#define SIP_AUTH_CHALLENGE_MAX 512    /* bytes of one challenge value we write */
#define SIP_AUTH_DEFAULT_LIFETIME 300 /* nonce lifetime, seconds */
#define SIP_AUTH_DEFAULT_NC_SLOTS 65536 /* nonce-count table entries (~2 MiB) */

enum sip_digest_alg {
	SIP_DIGEST_MD5 = 0,
	SIP_DIGEST_MD5_SESS,
	SIP_DIGEST_SHA256,
	SIP_DIGEST_SHA256_SESS,
	SIP_DIGEST__COUNT
};
#define SIP_DIGEST_BIT(alg) (1u << (alg))

/* Algorithm for a token ("MD5", "sha-256-sess", any case); an empty token is
 * MD5 (RFC 2617 default). 0 or SIP_EUNSUPPORTED. */
SIP_API int sip_digest_alg_parse(struct sip_str name, enum sip_digest_alg *out);
/* Canonical token ("SHA-256"); "" for an invalid value. */
SIP_API const char *sip_digest_alg_name(enum sip_digest_alg alg);
/* Hex length of the algorithm's digests (32 or 64); 0 for an invalid value. */
SIP_API size_t sip_digest_hex_len(enum sip_digest_alg alg);
/* The base hash of a -sess variant (MD5-sess -> MD5); the others unchanged.
 * A credential store keeps one HA1 per base hash. */
SIP_API enum sip_digest_alg sip_digest_alg_base(enum sip_digest_alg alg);

/* HA1 = H(username ":" realm ":" password), lower-case hex into out. 0 or SIP_EINVAL/SIP_EIO. */
SIP_API int sip_digest_ha1(enum sip_digest_alg alg, struct sip_str username, struct sip_str realm,
			   struct sip_str password, char out[SIP_DIGEST_HEX_MAX]);

/* Inputs of a response computation (RFC 7616 §3.4.1-3.4.3). */
struct sip_digest_input {
	enum sip_digest_alg alg;
	struct sip_str ha1;    /* hex H(user:realm:password) of the base hash (not yet -sess) */
	struct sip_str nonce;
	struct sip_str cnonce; /* required with qop or -sess */
	struct sip_str nc;     /* 8 hex digits; required with qop */
	struct sip_str qop;    /* "auth", or empty for RFC 2069 style */
	struct sip_str method;
	struct sip_str uri;
};
/* response = H(HA1' ":" nonce [":" nc ":" cnonce ":" qop] ":" H(method ":" uri)),
 * HA1' = H(HA1 ":" nonce ":" cnonce) for -sess. Lower-case hex into out.
 * 0, SIP_EINVAL (missing cnonce/nc, bad HA1 length) or SIP_EUNSUPPORTED (qop other than auth). */
SIP_API int sip_digest_response(const struct sip_digest_input *in, char out[SIP_DIGEST_HEX_MAX]);

/* Credentials ((Proxy-)Authorization params), unquoted and unescaped. */
struct sip_digest_creds {
	struct sip_str username, realm, nonce, uri, response, algorithm, cnonce, nc, qop, opaque;
	/* Storage for values that had to be unescaped (username, realm, nonce, uri). */
	char store[3 * SIP_DIGEST_PARAM_MAX + SIP_DIGEST_URI_MAX];
};
/* Fills c from a parsed header (a must outlive c unless a value was
 * unescaped into c->store). Only the Digest scheme: else SIP_EUNSUPPORTED;
 * SIP_ETOOBIG past a cap, SIP_EPARSE for a bad escape. */
SIP_API int sip_digest_creds_from_auth(struct sip_digest_creds *c, const struct sip_auth *a);

/* Whether one Authorization / Proxy-Authorization value holds Digest
 * credentials for realm (compared exactly, RFC 7616 §3.3): 1 with *c
 * filled; 0 for another scheme or realm; SIP_EPARSE when it cannot be read. */
SIP_API int sip_auth_creds_in(struct sip_str value, struct sip_str realm, struct sip_digest_creds *c);

/* The credentials a request carries for realm: the first Authorization
 * header (proxy: Proxy-Authorization) holding Digest credentials for that
 * realm. 1 and *c filled; 0 when there are none (other schemes and other
 * realms are skipped, RFC 4475 regaut01: answer with a challenge);
 * SIP_EPARSE when a header cannot be read (answer 400). */
SIP_API int sip_auth_find_creds(const struct sip_msg *m, bool proxy, struct sip_str realm,
				struct sip_digest_creds *c);

/* Appends the challenge headers for realm to b: one WWW-Authenticate (proxy:
 * Proxy-Authenticate) per configured algorithm, sharing one fresh nonce.
 * 0, or a negative code from sip_auth_challenges() (b is then untouched). */
struct sip_builder;
struct sip_auth_server;
SIP_API int sip_auth_build_challenges(struct sip_auth_server *s, struct sip_str realm, int64_t now, bool stale,
				      bool proxy, struct sip_builder *b);

/* A challenge (WWW-/Proxy-Authenticate params), unquoted and unescaped. */
struct sip_digest_challenge {
	struct sip_str realm, nonce, opaque, algorithm, qop;
	bool stale;
	char store[3 * SIP_DIGEST_PARAM_MAX]; /* realm, nonce, opaque when unescaped */
};
/* Fills ch from a parsed challenge; same rules as sip_digest_creds_from_auth(). */
SIP_API int sip_digest_challenge_from_auth(struct sip_digest_challenge *ch, const struct sip_auth *a);

/* ---- Server side ---- */

/* Returns 0 with len random bytes in buf, or a negative code. */
typedef int (*sip_auth_random_fn)(void *ud, uint8_t *buf, size_t len);

struct sip_auth_server_config {
	const uint8_t *secret;       /* HMAC key for nonces, >= SIP_AUTH_SECRET_MIN bytes (copied) */
	size_t secret_len;
	uint32_t nonce_lifetime;     /* seconds; 0: SIP_AUTH_DEFAULT_LIFETIME */
	/* Challenges offered, in order (one header value each). nalgs 0: SHA-256
	 * then MD5 (RFC 8760 order; see docs/auth.md for MD5-only clients). */
	enum sip_digest_alg algs[SIP_DIGEST__COUNT];
	size_t nalgs;
	struct sip_str opaque;       /* sent in every challenge when non-empty (copied, <= SIP_DIGEST_PARAM_MAX) */
	size_t nc_slots;             /* 0: SIP_AUTH_DEFAULT_NC_SLOTS (rounded up to a power of two) */
	sip_auth_random_fn random;   /* NULL: OpenSSL RAND_bytes */
	void *random_ud;
};

struct sip_auth_server;

/* Creates a server-side verifier. 0, SIP_EINVAL/SIP_ECONFIG (short secret,
 * bad algorithm list) or SIP_ENOMEM. Thread-safe after creation. */
SIP_API int sip_auth_server_new(struct sip_auth_server **out, const struct sip_auth_server_config *cfg);
/* Frees a verifier (NULL is fine). */
SIP_API void sip_auth_server_free(struct sip_auth_server *s);

/* Writes a fresh nonce for realm at time now into out (>= SIP_AUTH_NONCE_LEN + 1
 * bytes, NUL-terminated). Returns its length or a negative code. */
SIP_API int sip_auth_nonce_make(struct sip_auth_server *s, struct sip_str realm, int64_t now, char *out,
				size_t cap);

enum sip_auth_result {
	SIP_AUTH_OK = 0,        /* credentials valid: serve the request */
	SIP_AUTH_STALE,         /* valid digest on an expired or replayed nonce: 401 with stale=true */
	SIP_AUTH_BAD,           /* wrong password, unknown user, forged nonce, wrong realm: 401 */
	SIP_AUTH_MALFORMED,     /* missing or malformed parameters, uri mismatch: 400 */
	SIP_AUTH_ERROR,         /* the HA1 lookup failed (database error): 500 */
};
/* Static name of a result ("ok", "stale", ...). */
SIP_API const char *sip_auth_result_name(enum sip_auth_result r);

/* Checks a nonce: its HMAC (bound to realm) and its age.
 * SIP_AUTH_OK, SIP_AUTH_STALE (genuine but older than the lifetime) or SIP_AUTH_BAD. */
SIP_API enum sip_auth_result sip_auth_nonce_check(struct sip_auth_server *s, struct sip_str realm,
						  struct sip_str nonce, int64_t now);

/* Writes the challenge values (one per configured algorithm, in order) for
 * realm into buf, one fresh nonce shared by all, and points vals[i] at each;
 * *nvals gets their count. Each value is what follows "WWW-Authenticate: "
 * (or "Proxy-Authenticate: "). stale adds stale=true. 0, SIP_ETOOBIG (buf or
 * vals too small) or another negative code. */
SIP_API int sip_auth_challenges(struct sip_auth_server *s, struct sip_str realm, int64_t now, bool stale,
				char *buf, size_t cap, struct sip_str *vals, size_t maxvals, size_t *nvals);

/* Looks up the stored HA1 (hex, of alg's base hash) for username in realm.
 * Returns 0, SIP_ENOTFOUND for an unknown user, or another negative code. */
typedef int (*sip_auth_ha1_fn)(void *ud, struct sip_str username, struct sip_str realm,
			       enum sip_digest_alg alg, char ha1[SIP_DIGEST_HEX_MAX]);

/* What the request said beside its credentials. */
struct sip_auth_request {
	struct sip_str method;      /* the request's method ("REGISTER") */
	struct sip_str request_uri; /* Request-URI text; empty skips the uri check */
	struct sip_str realm;       /* the realm we challenge for */
};

/* Verifies credentials against the stored HA1: nonce genuine and fresh,
 * realm and uri matching, algorithm offered, response correct, nc higher
 * than any seen on this nonce. Unknown users take the same path as a wrong
 * password (a dummy HA1 is hashed). The nc table is only updated on a
 * correct response, so forged requests cannot burn a client's counts. */
SIP_API enum sip_auth_result sip_auth_verify(struct sip_auth_server *s, const struct sip_digest_creds *c,
					     const struct sip_auth_request *req, int64_t now,
					     sip_auth_ha1_fn lookup, void *ud);

/* ---- Client side ---- */

/* Writes a NUL-terminated cnonce (token characters) into out; returns its length or a negative code. */
typedef int (*sip_auth_cnonce_fn)(void *ud, char *out, size_t cap);

/* Per-server client state: remembers the nonce to count nc. Zero it, or use
 * sip_auth_client_init(). */
struct sip_auth_client {
	unsigned algs;               /* SIP_DIGEST_BIT mask of accepted algorithms; 0: all */
	sip_auth_cnonce_fn cnonce;   /* NULL: 16 random bytes as hex */
	void *cnonce_ud;
	char nonce[SIP_DIGEST_PARAM_MAX];
	size_t nonce_len;
	uint32_t nc;
};
/* Resets the client state (accepting every algorithm, random cnonces). */
SIP_API void sip_auth_client_init(struct sip_auth_client *c);

/* Among n challenges, the index of the one to answer: the strongest accepted
 * algorithm (SHA-256 over MD5, plain over -sess); SIP_EUNSUPPORTED if none. */
SIP_API int sip_auth_client_pick(const struct sip_auth_client *c, const struct sip_digest_challenge *ch,
				 size_t n);

/* Writes the (Proxy-)Authorization value answering ch into out (NUL-terminated).
 * qop=auth when offered, RFC 2069 style when the challenge has no qop; nc
 * counts per nonce. Returns the length, or SIP_EUNSUPPORTED (algorithm not
 * accepted, qop offered without auth), SIP_EPARSE (a control character in the
 * realm, nonce or opaque: it could not be echoed as read), SIP_ETOOBIG,
 * SIP_EINVAL. */
SIP_API int sip_auth_client_answer(struct sip_auth_client *c, const struct sip_digest_challenge *ch,
				   struct sip_str username, struct sip_str password, struct sip_str method,
				   struct sip_str uri, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
