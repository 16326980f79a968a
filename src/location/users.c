/* users.c — the credential store: one row per (username, realm) holding the
 * MD5 and SHA-256 HA1s, in the same SQLite file as the bindings. Passwords
 * are never stored; a stolen file gives HA1s, which authenticate only in
 * that realm (RFC 7616 §5.1).
 *
 * HA1 cache. Every authenticated request looks up an HA1; one SQLite read
 * (a read transaction, with its shared-memory locks) cost ~2.5-4 us, more
 * than the rest of the verification. Each handle (sipd: one per worker, so
 * no locking) keeps a bounded set-associative cache of rows, found or not.
 * Validity: triggers on the users table bump users_version.v on every
 * insert, update or delete, whoever writes (`sipd user add/del` in another
 * process, a script). At most every CACHE_CHECK_MS the handle re-reads that
 * one row and drops the whole cache when it moved, so a change is seen by
 * requests starting CACHE_CHECK_MS after its commit at the latest; writes
 * through this handle drop it at once. PRAGMA data_version was not used:
 * the bindings live in the same file, so with the SQLite location store
 * every REGISTER would have invalidated every cached HA1. */
#include <sqlite3.h>
#include <string.h>
#include <time.h>

#include "core/ctype.h"
#include "location/sqlite_int.h"
#include "location/users_int.h"
#include <sip/location.h>

enum { U_SET, U_DEL, U_DEL_ALL, U_LIST, U_GET, U_VERSION, U__COUNT };

static const char *const usql[U__COUNT] = {
	[U_SET] = "INSERT OR REPLACE INTO users (username, realm, ha1_md5, ha1_sha256) VALUES (?1, ?2, ?3, ?4)",
	[U_DEL] = "DELETE FROM users WHERE username = ?1 AND realm = ?2",
	[U_DEL_ALL] = "DELETE FROM users WHERE username = ?1",
	[U_LIST] = "SELECT username, realm FROM users ORDER BY username, realm",
	[U_GET] = "SELECT ha1_md5, ha1_sha256 FROM users WHERE username = ?1 AND realm = ?2",
	[U_VERSION] = "SELECT v FROM users_version WHERE id = 0",
};

#define BUMP "INSERT INTO users_version (id, v) VALUES (0, 1) ON CONFLICT (id) DO UPDATE SET v = v + 1; END;"
static const char uschema[] =
	"CREATE TABLE IF NOT EXISTS users (username TEXT NOT NULL, realm TEXT NOT NULL,"
	" ha1_md5 TEXT NOT NULL, ha1_sha256 TEXT NOT NULL, PRIMARY KEY (username, realm));"
	"CREATE TABLE IF NOT EXISTS users_version (id INTEGER PRIMARY KEY CHECK (id = 0), v INTEGER NOT NULL);"
	"CREATE TRIGGER IF NOT EXISTS users_version_ins AFTER INSERT ON users BEGIN " BUMP
	"CREATE TRIGGER IF NOT EXISTS users_version_upd AFTER UPDATE ON users BEGIN " BUMP
	"CREATE TRIGGER IF NOT EXISTS users_version_del AFTER DELETE ON users BEGIN " BUMP;

#define CACHE_SETS 4096     /* x CACHE_WAYS entries of 128 bytes: 2 MiB per handle at most */
#define CACHE_WAYS 4
#define CACHE_KEY_MAX 64    /* bytes of username + realm a cached entry holds; longer ones skip the cache */
#define CACHE_CHECK_MS 1000 /* how stale a cached row may be against another writer */

struct ha1_entry {
	uint32_t hash;
	uint32_t gen;  /* cache generation that filled it; another one: empty */
	uint32_t used; /* last-use tick, for eviction within the set */
	uint8_t ulen, rlen;
	uint8_t found; /* 0: the user does not exist */
	uint8_t md5[16], sha[32];
	char key[CACHE_KEY_MAX]; /* username then realm */
};
_Static_assert(sizeof(struct ha1_entry) <= 128, "cache entry grew");

struct sip_users {
	sqlite3 *db;
	sqlite3_stmt *st[U__COUNT];
	struct ha1_entry *cache; /* CACHE_SETS * CACHE_WAYS, allocated on first use */
	uint32_t gen;            /* current generation, from 1 */
	uint32_t tick;
	int64_t version;         /* users_version.v when last read; -1: unknown */
	int64_t checked_ms;      /* when it was last read */
	int64_t (*now_ms)(void *ud);
	void *now_ud;
	struct sip__users_stats stats;
};

static int64_t mono_ms(void *ud)
{
	(void)ud;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sip__users_set_clock(struct sip_users *u, int64_t (*now_ms)(void *ud), void *ud)
{
	u->now_ms = now_ms ? now_ms : mono_ms;
	u->now_ud = now_ms ? ud : NULL;
	u->version = -1; /* re-read on the next lookup */
}

void sip__users_stats_get(const struct sip_users *u, struct sip__users_stats *out) { *out = u->stats; }

/* Drops every cached row. */
static void cache_flush(struct sip_users *u)
{
	u->stats.flushes++;
	if (++u->gen == 0) { /* wrapped: entries of generation 1 could look current */
		if (u->cache)
			memset(u->cache, 0, sizeof *u->cache * CACHE_SETS * CACHE_WAYS);
		u->gen = 1;
	}
}

void sip_users_close(struct sip_users *u)
{
	if (!u)
		return;
	for (int i = 0; i < U__COUNT; i++)
		sqlite3_finalize(u->st[i]);
	sqlite3_close(u->db);
	if (u->cache)
		explicit_bzero(u->cache, sizeof *u->cache * CACHE_SETS * CACHE_WAYS);
	sip_free(u->cache);
	sip_free(u);
}

int sip_users_open(struct sip_users **out, const char *path)
{
	if (!out)
		return SIP_EINVAL;
	*out = NULL;
	struct sip_users *u = sip_calloc(1, sizeof *u);
	if (!u)
		return SIP_ENOMEM;
	u->gen = 1;
	sip__users_set_clock(u, NULL, NULL);
	if (sip__sqlite_open(&u->db, path, uschema) != 0) {
		sip_free(u);
		return SIP_EIO;
	}
	for (int i = 0; i < U__COUNT; i++) {
		if (sqlite3_prepare_v3(u->db, usql[i], -1, SQLITE_PREPARE_PERSISTENT, &u->st[i], NULL) != SQLITE_OK) {
			sip_users_close(u);
			return SIP_EIO;
		}
	}
	*out = u;
	return 0;
}

static bool valid_name(struct sip_str s) { return s.len > 0 && s.len <= SIP_USERS_MAX_FIELD && s.p; }

static bool valid_hex(struct sip_str s, size_t len)
{
	if (s.len != len || !s.p)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!SIP_IS(s.p[i], SIP_C_HEX))
			return false;
	return true;
}

static void bind_s(sqlite3_stmt *st, int i, struct sip_str s)
{
	sqlite3_bind_text(st, i, s.len ? s.p : "", (int)s.len, SQLITE_STATIC);
}

static int run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : SIP_EIO;
}

int sip_users_set_ha1(struct sip_users *u, struct sip_str username, struct sip_str realm, struct sip_str ha1_md5,
		      struct sip_str ha1_sha256)
{
	char md5[33], sha[65];
	if (!u || !valid_name(username) || !valid_name(realm) || !valid_hex(ha1_md5, 32) ||
	    !valid_hex(ha1_sha256, 64))
		return SIP_EINVAL;
	/* Stored lower-case so comparisons and exports are uniform. */
	for (size_t i = 0; i < 32; i++)
		md5[i] = (char)sip__lower[(unsigned char)ha1_md5.p[i]];
	for (size_t i = 0; i < 64; i++)
		sha[i] = (char)sip__lower[(unsigned char)ha1_sha256.p[i]];
	sqlite3_stmt *st = u->st[U_SET];
	bind_s(st, 1, username);
	bind_s(st, 2, realm);
	bind_s(st, 3, (struct sip_str){md5, 32});
	bind_s(st, 4, (struct sip_str){sha, 64});
	cache_flush(u);
	return run(st);
}

int sip_users_del(struct sip_users *u, struct sip_str username, struct sip_str realm)
{
	if (!u || !valid_name(username) || realm.len > SIP_USERS_MAX_FIELD)
		return SIP_EINVAL;
	sqlite3_stmt *st = u->st[realm.len ? U_DEL : U_DEL_ALL];
	bind_s(st, 1, username);
	if (realm.len)
		bind_s(st, 2, realm);
	cache_flush(u);
	int rc = run(st);
	if (rc)
		return rc;
	return sqlite3_changes(u->db) > 0 ? 0 : SIP_ENOTFOUND;
}

int sip_users_list(struct sip_users *u, int (*cb)(void *ud, struct sip_str username, struct sip_str realm),
		   void *ud)
{
	if (!u || !cb)
		return SIP_EINVAL;
	sqlite3_stmt *st = u->st[U_LIST];
	int rc, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sip_str user = {(const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0)};
		struct sip_str realm = {(const char *)sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1)};
		if ((ret = cb(ud, user, realm)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = SIP_EIO;
	sqlite3_reset(st);
	return ret;
}

/* ---- HA1 lookup through the cache ---- */

/* Re-reads users_version when CACHE_CHECK_MS have passed (or the clock went
 * back) and drops the cache when it moved. 0 when the cache may be used. */
static int cache_check(struct sip_users *u)
{
	int64_t now = u->now_ms(u->now_ud);
	if (u->version >= 0 && now >= u->checked_ms && now - u->checked_ms < CACHE_CHECK_MS)
		return 0;
	sqlite3_stmt *st = u->st[U_VERSION];
	int rc = sqlite3_step(st);
	int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		u->version = -1; /* unknown: no cached row is trusted until a read works */
		cache_flush(u);
		return SIP_EIO;
	}
	if (v != u->version) {
		cache_flush(u);
		u->version = v;
	}
	u->checked_ms = now;
	return 0;
}

static uint64_t key_hash(struct sip_str user, struct sip_str realm)
{
	uint64_t h = 14695981039346656037u; /* FNV-1a 64; the realm after a separator */
	for (size_t i = 0; i < user.len; i++)
		h = (h ^ (uint8_t)user.p[i]) * 1099511628211u;
	h = (h ^ 0xff) * 1099511628211u;
	for (size_t i = 0; i < realm.len; i++)
		h = (h ^ (uint8_t)realm.p[i]) * 1099511628211u;
	return h ^ (h >> 29);
}

/* A row may live in either of two sets (low and high hash bits): with one
 * set per key, SIPp's users taken in turn thrashed the sets that drew more
 * than CACHE_WAYS keys (~20% misses at 10,000 users); two choices leave
 * nearly every set room. */
static struct ha1_entry *cache_set(struct sip_users *u, uint64_t h, int which)
{
	uint64_t i = which ? h >> 40 : h;
	return &u->cache[(size_t)(i & (CACHE_SETS - 1)) * CACHE_WAYS];
}

static struct ha1_entry *cache_find(struct sip_users *u, uint64_t h, struct sip_str user, struct sip_str realm)
{
	for (int w = 0; w < 2; w++) {
		struct ha1_entry *e = cache_set(u, h, w);
		for (int i = 0; i < CACHE_WAYS; i++, e++) {
			if (e->gen == u->gen && e->hash == (uint32_t)h && e->ulen == user.len && e->rlen == realm.len &&
			    memcmp(e->key, user.p, user.len) == 0 &&
			    memcmp(e->key + user.len, realm.p, realm.len) == 0) {
				e->used = ++u->tick;
				return e;
			}
		}
	}
	return NULL;
}

static bool hex_to_bin(const unsigned char *p, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i += 2) {
		if (!SIP_IS(p[i], SIP_C_HEX) || !SIP_IS(p[i + 1], SIP_C_HEX))
			return false;
		out[i / 2] = (uint8_t)(sip__hexval(p[i]) << 4 | sip__hexval(p[i + 1]));
	}
	return true;
}

static void bin_to_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Stores a row read from the database (row NULL: no such user) in the
 * least recently used way of its set. Rows with a malformed HA1 are not
 * cached: they keep failing the way they do uncached. */
static void cache_put(struct sip_users *u, uint64_t h, struct sip_str user, struct sip_str realm,
		      sqlite3_stmt *row)
{
	struct ha1_entry n = {.hash = (uint32_t)h, .gen = u->gen, .ulen = (uint8_t)user.len, .rlen = (uint8_t)realm.len};
	if (row) {
		const unsigned char *m = sqlite3_column_text(row, 0), *x = sqlite3_column_text(row, 1);
		if (!m || !x || sqlite3_column_bytes(row, 0) != 32 || sqlite3_column_bytes(row, 1) != 64 ||
		    !hex_to_bin(m, 32, n.md5) || !hex_to_bin(x, 64, n.sha))
			return;
		n.found = 1;
	}
	memcpy(n.key, user.p, user.len);
	memcpy(n.key + user.len, realm.p, realm.len);
	/* An empty way of either set, else the least recently used of both. */
	struct ha1_entry *victim = NULL;
	for (int w = 0; w < 2 && !(victim && victim->gen != u->gen); w++) {
		struct ha1_entry *e = cache_set(u, h, w);
		for (int i = 0; i < CACHE_WAYS; i++, e++) {
			if (e->gen != u->gen) {
				victim = e;
				break;
			}
			if (!victim || e->used < victim->used)
				victim = e;
		}
	}
	n.used = ++u->tick;
	*victim = n;
	explicit_bzero(&n, sizeof n);
}

int sip_users_get_ha1(void *users, struct sip_str username, struct sip_str realm, enum sip_digest_alg alg,
		      char ha1[SIP_DIGEST_HEX_MAX])
{
	struct sip_users *u = users;
	if (!u || !ha1 || !valid_name(username) || !valid_name(realm))
		return SIP_EINVAL;
	size_t want = 0;
	int col = -1;
	switch (alg) {
	case SIP_DIGEST_MD5:
	case SIP_DIGEST_MD5_SESS: col = 0, want = 32; break;
	case SIP_DIGEST_SHA256:
	case SIP_DIGEST_SHA256_SESS: col = 1, want = 64; break;
	default: return SIP_EINVAL;
	}
	bool cacheable = username.len + realm.len <= CACHE_KEY_MAX;
	uint64_t h = 0;
	if (cacheable && !u->cache)
		u->cache = sip_calloc((size_t)CACHE_SETS * CACHE_WAYS, sizeof *u->cache);
	if (cacheable && u->cache && cache_check(u) == 0) {
		h = key_hash(username, realm);
		const struct ha1_entry *e = cache_find(u, h, username, realm);
		if (e) {
			u->stats.hits++;
			if (!e->found)
				return SIP_ENOTFOUND;
			bin_to_hex(col ? e->sha : e->md5, want / 2, ha1);
			return 0;
		}
	} else {
		cacheable = false;
	}
	u->stats.misses++;
	sqlite3_stmt *st = u->st[U_GET];
	bind_s(st, 1, username);
	bind_s(st, 2, realm);
	int rc = sqlite3_step(st), ret;
	if (rc == SQLITE_ROW) {
		const unsigned char *p = sqlite3_column_text(st, col);
		if (p && (size_t)sqlite3_column_bytes(st, col) == want) {
			memcpy(ha1, p, want);
			ha1[want] = '\0';
			ret = 0;
		} else {
			ret = SIP_EIO;
		}
		if (cacheable)
			cache_put(u, h, username, realm, st);
	} else {
		ret = rc == SQLITE_DONE ? SIP_ENOTFOUND : SIP_EIO;
		if (cacheable && rc == SQLITE_DONE)
			cache_put(u, h, username, realm, NULL);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}
