/* location.h — the location service (RFC 3261 §10): bindings of an
 * address-of-record to contact addresses, behind one interface (a vtable)
 * with several backends: memory (tests, in-memory mode), SQLite (the
 * default, durable) and Redis (shared by several servers). Also the credential store (users and their HA1s), kept
 * in the same SQLite file.
 *
 * Time is always an argument (seconds since the epoch); nothing here reads
 * the clock. A store is used from one thread at a time. */
#ifndef SIP_LOCATION_H
#define SIP_LOCATION_H

#include <sip/auth.h>
#include <sip/core.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Named caps. */
#define SIP_LOCATION_MAX_FIELD 4096       /* bytes of one text field of a binding */
#define SIP_LOCATION_MAX_BINDINGS 64      /* default bindings per AOR */
#define SIP_USERS_MAX_FIELD 256           /* bytes of a username or realm */

/* One binding. As input (upsert) the slices may point anywhere; as output
 * (lookup) they point into the list's own storage. */
struct sip_binding {
	struct sip_str aor;         /* normalized AOR: the key (e.g. "sip:alice@example.com") */
	struct sip_str contact_uri; /* the Contact URI exactly as sent */
	struct sip_str contact;     /* the whole Contact header value as sent */
	int32_t q;                  /* q-value in thousandths (0..1000); -1 when absent */
	int64_t expires;            /* absolute expiry time, seconds */
	struct sip_str call_id;
	uint32_t cseq;
	struct sip_str path;        /* Path header values (RFC 3327), raw, comma-joined */
	struct sip_str instance;    /* +sip.instance (RFC 5626), raw; empty when absent */
	uint32_t reg_id;            /* reg-id (RFC 5626); 0 when absent */
	struct sip_str received;    /* source address of the REGISTER (opt-in NAT handling); may be empty */
	struct sip_str user_agent;
	int64_t updated;            /* written by the store: `now` of the last upsert */
};

/* Result of a lookup: owns its storage. */
struct sip_binding_list {
	struct sip_binding *v;
	size_t n;
	char *mem;
};
/* Frees a list's storage and zeroes it (a zeroed list is fine). */
SIP_API void sip_binding_list_free(struct sip_binding_list *l);

/* Contact URI equality (RFC 3261 §19.1.4). A registrar passes one built on
 * sip_uri_parse()/sip_uri_equal(); NULL compares the bytes. */
typedef bool (*sip_location_uri_eq_fn)(void *ud, struct sip_str a, struct sip_str b);

struct sip_location_config {
	sip_location_uri_eq_fn uri_eq;
	void *uri_eq_ud;
	size_t max_bindings; /* per AOR; 0: SIP_LOCATION_MAX_BINDINGS */
};

struct sip_location;

/* The backend interface. Every operation returns 0 (or a count) or a
 * negative SIP_E* code; see the sip_location_* wrappers for contracts. */
struct sip_location_ops {
	const char *name;
	int (*lookup)(struct sip_location *loc, struct sip_str aor, int64_t now, struct sip_binding_list *out);
	int (*upsert)(struct sip_location *loc, const struct sip_binding *b, int64_t now);
	int (*remove)(struct sip_location *loc, struct sip_str aor, struct sip_str contact_uri);
	int (*remove_aor)(struct sip_location *loc, struct sip_str aor);
	int (*purge)(struct sip_location *loc, int64_t now);
	int (*count)(struct sip_location *loc, struct sip_str aor, int64_t now);
	int (*begin)(struct sip_location *loc);
	int (*commit)(struct sip_location *loc);
	int (*rollback)(struct sip_location *loc);
	void (*close)(struct sip_location *loc);
	/* Optional (NULL: purge): expired bindings among the next max_rows. */
	int (*purge_some)(struct sip_location *loc, int64_t now, size_t max_rows);
};

/* Every backend's handle starts with this. */
struct sip_location {
	const struct sip_location_ops *ops;
	struct sip_location_config cfg;
	bool in_batch;
};

/* Opens an in-memory store (hash table). 0, SIP_EINVAL or SIP_ENOMEM. */
SIP_API int sip_location_open_memory(struct sip_location **out, const struct sip_location_config *cfg);
/* Opens (creating if needed) the SQLite store at path, in WAL mode with
 * synchronous=FULL: a write returns only after its transaction is committed
 * to disk. cfg may be NULL. 0, SIP_EINVAL or SIP_EIO. */
SIP_API int sip_location_open_sqlite(struct sip_location **out, const char *path,
				     const struct sip_location_config *cfg);
/* Opens the shared Redis store at url, "redis://HOST[:PORT][/DB]" (port
 * 6379, db 0 by default; IPv6 hosts in brackets): bindings several servers
 * use at once (one hash per AOR, "sipd:aor:<aor>"; writes are atomic
 * read-modify-writes under WATCH/MULTI/EXEC). Checks the server answers.
 * One handle per thread. 0, SIP_EINVAL (bad url) or SIP_EIO. */
SIP_API int sip_location_open_redis(struct sip_location **out, const char *url,
				    const struct sip_location_config *cfg);
/* Splits a redis:// url into host (NUL-terminated, capacity hcap), port and
 * db. 0 or SIP_EINVAL. */
SIP_API int sip_location_redis_url(const char *url, char *host, size_t hcap, int *port, int *db);

/* One store shared by several threads (e.g. the memory store of a
 * multi-worker server). The share takes inner over (closed by
 * sip_location_share_free, after every handle is closed). Each thread opens
 * its own handle: operations are serialized, and a batch holds the lock from
 * begin to commit/rollback. 0, SIP_EINVAL or SIP_ENOMEM. */
struct sip_location_share;
SIP_API int sip_location_share_new(struct sip_location_share **out, struct sip_location *inner);
SIP_API int sip_location_share_open(struct sip_location **out, struct sip_location_share *sh);
SIP_API void sip_location_share_free(struct sip_location_share *sh);
/* Closes a store (NULL is fine); an open batch is rolled back. */
SIP_API void sip_location_close(struct sip_location *loc);

/* The live (expires > now) bindings of aor, highest q first, then most
 * recently updated. out is always initialised; free it with
 * sip_binding_list_free(). 0 (possibly n == 0) or a negative code. */
SIP_API int sip_location_lookup(struct sip_location *loc, struct sip_str aor, int64_t now,
				struct sip_binding_list *out);

/* Adds or refreshes a binding (RFC 3261 §10.3 step 7). It replaces the
 * binding of the same AOR with the same +sip.instance and reg-id (both
 * present), else with an equal contact URI. expires <= now removes the
 * matched binding. Returns 0; SIP_ESTATE when the matched live binding has
 * the same Call-ID and a CSeq >= b->cseq (the registrar answers 500 and
 * nothing changes); SIP_ETOOBIG past the per-AOR cap or a field cap;
 * SIP_EINVAL for a missing AOR/contact or a q outside 0..1000 (or -1). */
SIP_API int sip_location_upsert(struct sip_location *loc, const struct sip_binding *b, int64_t now);
/* Removes the binding of aor whose contact URI equals contact_uri. 0 or SIP_ENOTFOUND. */
SIP_API int sip_location_remove(struct sip_location *loc, struct sip_str aor, struct sip_str contact_uri);
/* Removes every binding of aor (Contact: *). Returns how many, or a negative code. */
SIP_API int sip_location_remove_aor(struct sip_location *loc, struct sip_str aor);
/* Deletes the bindings with expires <= now. Returns how many, or a negative code. */
SIP_API int sip_location_purge(struct sip_location *loc, int64_t now);
/* Deletes the expired bindings among the next max_rows stored rows (a cursor
 * that wraps around), so a large store is purged a slice per call with no
 * long pause; backends without slices purge everything. Returns how many. */
SIP_API int sip_location_purge_some(struct sip_location *loc, int64_t now, size_t max_rows);
/* Live bindings of aor (every AOR when aor is empty). Count or a negative code. */
SIP_API int sip_location_count(struct sip_location *loc, struct sip_str aor, int64_t now);

/* Batched writes: between begin and commit, writes join one transaction
 * (one fsync), so a server can answer many REGISTERs per commit — it sends
 * the 200s after sip_location_commit() returns 0. Nested begin is
 * SIP_ESTATE. rollback discards the batch (SQLite; memory: SIP_EUNSUPPORTED). */
SIP_API int sip_location_begin(struct sip_location *loc);
SIP_API int sip_location_commit(struct sip_location *loc);
SIP_API int sip_location_rollback(struct sip_location *loc);

/* ---- credential store (users table of the same SQLite file) ---- */

struct sip_users;

/* Opens the users table of the SQLite file at path (NULL: a private
 * in-memory database). 0, SIP_EINVAL or SIP_EIO. */
SIP_API int sip_users_open(struct sip_users **out, const char *path);
/* Closes the handle (NULL is fine). */
SIP_API void sip_users_close(struct sip_users *u);
/* Stores precomputed lower-case hex HA1s (MD5: 32, SHA-256: 64 characters)
 * for username in realm, replacing an existing entry. 0, SIP_EINVAL, SIP_EIO. */
SIP_API int sip_users_set_ha1(struct sip_users *u, struct sip_str username, struct sip_str realm,
			      struct sip_str ha1_md5, struct sip_str ha1_sha256);
/* Computes H(user:realm:password) for MD5 and SHA-256 and stores them; the
 * password itself is never stored. Needs the auth module linked. */
SIP_API int sip_users_add(struct sip_users *u, struct sip_str username, struct sip_str realm,
			  struct sip_str password);
/* Deletes username in realm (every realm when realm is empty). 0 or SIP_ENOTFOUND. */
SIP_API int sip_users_del(struct sip_users *u, struct sip_str username, struct sip_str realm);
/* Calls cb for each (username, realm), ordered; a non-zero return stops and
 * is returned. Returns 0, cb's value or a negative code. */
SIP_API int sip_users_list(struct sip_users *u,
			   int (*cb)(void *ud, struct sip_str username, struct sip_str realm), void *ud);
/* The stored HA1 of alg's base hash, NUL-terminated hex. 0, SIP_ENOTFOUND or SIP_EIO.
 * Has the shape of sip_auth_ha1_fn with ud = the struct sip_users. */
SIP_API int sip_users_get_ha1(void *users, struct sip_str username, struct sip_str realm,
			      enum sip_digest_alg alg, char ha1[SIP_DIGEST_HEX_MAX]);

#ifdef __cplusplus
}
#endif
#endif
