/* sqlite.c — the SQLite location backend (the default store). WAL mode with
 * synchronous=FULL: COMMIT returns after the WAL is fsynced, so a binding a
 * 200 OK acknowledged survives a crash. Outside a batch every write is its
 * own BEGIN IMMEDIATE..COMMIT; inside one the caller's COMMIT covers them all. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <string.h>

#include "location/location_int.h"
#include "location/sqlite_int.h"

enum {
	ST_SELECT_AOR,
	ST_INSERT,
	ST_UPDATE,
	ST_REFRESH,
	ST_DELETE_ID,
	ST_DELETE_AOR,
	ST_PURGE,
	ST_PURGE_BOUND,
	ST_PURGE_RANGE,
	ST_COUNT_ALL,
	ST_COUNT_AOR,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST__COUNT
};

static const char *const sql[ST__COUNT] = {
	[ST_SELECT_AOR] = "SELECT id, aor, contact_uri, contact, q, expires, call_id, cseq, path, instance, reg_id,"
			  " received, user_agent, updated FROM bindings WHERE aor = ?1",
	[ST_INSERT] = "INSERT INTO bindings (aor, contact_uri, contact, q, expires, call_id, cseq, path, instance,"
		      " reg_id, received, user_agent, updated) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
	[ST_UPDATE] = "UPDATE bindings SET aor=?1, contact_uri=?2, contact=?3, q=?4, expires=?5, call_id=?6,"
		      " cseq=?7, path=?8, instance=?9, reg_id=?10, received=?11, user_agent=?12, updated=?13"
		      " WHERE id=?14",
	/* A refresh (same contact, same everything but these) rewrites only
	 * what a re-REGISTER changes: fewer columns to encode and compare. */
	[ST_REFRESH] = "UPDATE bindings SET expires=?1, call_id=?2, cseq=?3, updated=?4 WHERE id=?5",
	[ST_DELETE_ID] = "DELETE FROM bindings WHERE id = ?1",
	[ST_DELETE_AOR] = "DELETE FROM bindings WHERE aor = ?1",
	[ST_PURGE] = "DELETE FROM bindings WHERE expires <= ?1",
	[ST_PURGE_BOUND] = "SELECT id FROM bindings WHERE id > ?1 ORDER BY id LIMIT 1 OFFSET ?2",
	[ST_PURGE_RANGE] = "DELETE FROM bindings WHERE id > ?1 AND id <= ?2 AND expires <= ?3",
	[ST_COUNT_ALL] = "SELECT count(*) FROM bindings WHERE expires > ?1",
	[ST_COUNT_AOR] = "SELECT count(*) FROM bindings WHERE aor = ?1 AND expires > ?2",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS bindings ("
	" id INTEGER PRIMARY KEY, aor TEXT NOT NULL, contact_uri TEXT NOT NULL, contact TEXT NOT NULL,"
	" q INTEGER NOT NULL, expires INTEGER NOT NULL, call_id TEXT NOT NULL, cseq INTEGER NOT NULL,"
	" path TEXT NOT NULL, instance TEXT NOT NULL, reg_id INTEGER NOT NULL, received TEXT NOT NULL,"
	" user_agent TEXT NOT NULL, updated INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS bindings_aor ON bindings(aor);"
	/* No index on expires: keeping it cost every refresh an index delete and
	 * insert (~10% of a REGISTER); purging walks row-id slices instead. */
	"DROP INDEX IF EXISTS bindings_expires;";

/* The rows of one AOR as a lookup read them, kept for the upsert that
 * follows it in a REGISTER (read_aor was a quarter of an upsert). Trusted
 * only while every stamp still matches: see cache_take(). */
struct aor_cache {
	bool valid;
	char *aor;
	size_t aor_len;
	struct sip_binding_list rows; /* unsorted: rows.v[i] is row ids[i] */
	int64_t *ids;
	uint64_t tx;                  /* sql_loc.tx when read */
	sqlite3_int64 changes;        /* sqlite3_total_changes64 when read */
	unsigned data_version;        /* SQLITE_FCNTL_DATA_VERSION when read */
};

struct sql_loc {
	struct sip_location base;
	sqlite3 *db;
	sqlite3_stmt *st[ST__COUNT];
	uint64_t tx; /* bumped by every BEGIN, COMMIT and ROLLBACK of ours */
	struct aor_cache cache;
	sqlite3_int64 purge_after; /* purge_some's cursor: the last row id it examined */
};

/* Every statement has all its parameters bound before each step, so no
 * sqlite3_clear_bindings: it was a per-step cost for nothing. */
static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : SIP_EIO;
}

static void cache_drop(struct sql_loc *s)
{
	if (!s->cache.valid)
		return;
	sip_binding_list_free(&s->cache.rows);
	sip_free(s->cache.ids);
	sip_free(s->cache.aor);
	memset(&s->cache, 0, sizeof s->cache);
}

static unsigned data_version(struct sql_loc *s)
{
	unsigned v = 0;
	if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_DATA_VERSION, &v) != SQLITE_OK)
		return 0;
	return v;
}

/* Keeps rows/ids of aor (takes them) when a transaction of ours is open:
 * the write lock (BEGIN IMMEDIATE) bars every other writer until it ends. */
static void cache_keep(struct sql_loc *s, struct sip_str aor, struct sip_binding_list *rows, int64_t **ids)
{
	cache_drop(s);
	if (sqlite3_get_autocommit(s->db) || !aor.len)
		return;
	char *key = sip_malloc(aor.len);
	if (!key)
		return;
	memcpy(key, aor.p, aor.len);
	s->cache = (struct aor_cache){
		.valid = true,
		.aor = key,
		.aor_len = aor.len,
		.rows = *rows,
		.ids = *ids,
		.tx = s->tx,
		.changes = sqlite3_total_changes64(s->db),
		.data_version = data_version(s),
	};
	*rows = (struct sip_binding_list){0};
	*ids = NULL;
}

/* Hands the cached rows of aor to the caller if they are still what the
 * database holds: same transaction of ours still open (no BEGIN, COMMIT or
 * ROLLBACK since, none undone by SQLite on an error), no row changed by this
 * connection (total_changes) nor by any other (data_version). Anything off:
 * false, and the caller reads the rows again. The cache is emptied either way. */
static bool cache_take(struct sql_loc *s, struct sip_str aor, struct sip_binding_list *rows, int64_t **ids)
{
	if (!s->cache.valid)
		return false;
	bool ok = s->cache.tx == s->tx && !sqlite3_get_autocommit(s->db) &&
		  s->cache.changes == sqlite3_total_changes64(s->db) && s->cache.aor_len == aor.len &&
		  memcmp(s->cache.aor, aor.p, aor.len) == 0 && s->cache.data_version == data_version(s);
	if (ok) {
		*rows = s->cache.rows;
		*ids = s->cache.ids;
		s->cache.rows = (struct sip_binding_list){0};
		s->cache.ids = NULL;
	}
	cache_drop(s);
	return ok;
}

static void bind_str(sqlite3_stmt *st, int i, struct sip_str s)
{
	sqlite3_bind_text(st, i, s.len ? s.p : "", (int)s.len, SQLITE_STATIC);
}

/* Binds the 13 binding columns in INSERT/UPDATE order. */
static void bind_binding(sqlite3_stmt *st, const struct sip_binding *b, int64_t now)
{
	bind_str(st, 1, b->aor);
	bind_str(st, 2, b->contact_uri);
	bind_str(st, 3, b->contact);
	sqlite3_bind_int(st, 4, b->q);
	sqlite3_bind_int64(st, 5, b->expires);
	bind_str(st, 6, b->call_id);
	sqlite3_bind_int64(st, 7, b->cseq);
	bind_str(st, 8, b->path);
	bind_str(st, 9, b->instance);
	sqlite3_bind_int64(st, 10, b->reg_id);
	bind_str(st, 11, b->received);
	bind_str(st, 12, b->user_agent);
	sqlite3_bind_int64(st, 13, now);
}

static struct sip_str col_str(sqlite3_stmt *st, int i)
{
	const char *p = (const char *)sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);
	return (struct sip_str){p ? p : "", p && n > 0 ? (size_t)n : 0};
}

/* Reads every binding of aor (expired ones too) into lb, their row ids into *ids (if ids). */
static int read_aor(struct sql_loc *s, struct sip_str aor, struct sip__list_builder *lb, int64_t **ids)
{
	sqlite3_stmt *st = s->st[ST_SELECT_AOR];
	size_t cap = 0;
	int rc;
	if (ids)
		*ids = NULL;
	bind_str(st, 1, aor);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sip_binding b = {
			.aor = col_str(st, 1),
			.contact_uri = col_str(st, 2),
			.contact = col_str(st, 3),
			.q = sqlite3_column_int(st, 4),
			.expires = sqlite3_column_int64(st, 5),
			.call_id = col_str(st, 6),
			.cseq = (uint32_t)sqlite3_column_int64(st, 7),
			.path = col_str(st, 8),
			.instance = col_str(st, 9),
			.reg_id = (uint32_t)sqlite3_column_int64(st, 10),
			.received = col_str(st, 11),
			.user_agent = col_str(st, 12),
			.updated = sqlite3_column_int64(st, 13),
		};
		if (ids && lb->n == cap) {
			cap = cap ? cap * 2 : 4;
			int64_t *p = sip_realloc(*ids, cap * sizeof *p);
			if (!p) {
				rc = SQLITE_NOMEM;
				break;
			}
			*ids = p;
		}
		if (ids)
			(*ids)[lb->n] = sqlite3_column_int64(st, 0);
		if (sip__lb_add(lb, &b) != 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		if (ids) {
			sip_free(*ids);
			*ids = NULL;
		}
		return rc == SQLITE_NOMEM ? SIP_ENOMEM : SIP_EIO;
	}
	return 0;
}

/* Every write runs in its own transaction unless a batch is open. */
static int tx_begin(struct sql_loc *s)
{
	if (s->base.in_batch)
		return 0;
	s->tx++;
	return step_done(s->st[ST_BEGIN]);
}

static int tx_end(struct sql_loc *s, int rc)
{
	if (s->base.in_batch)
		return rc;
	s->tx++;
	if (rc < 0) {
		step_done(s->st[ST_ROLLBACK]);
		return rc;
	}
	if (step_done(s->st[ST_COMMIT]) != 0) {
		step_done(s->st[ST_ROLLBACK]);
		return SIP_EIO;
	}
	return rc;
}

static void sqlite_global_config(void)
{
	/* SQLite's memory statistics take a process-wide mutex around every
	 * malloc and free (~6% of a REGISTER); nothing here reads them. Must
	 * precede the library's initialization (later it is SQLITE_MISUSE and
	 * changes nothing, which is harmless). */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int sip__sqlite_open(sqlite3 **db, const char *path, const char *schema_sql)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sqlite_global_config);
	*db = NULL;
	sqlite3 *d = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path ? path : ":memory:", &d, flags, NULL) != SQLITE_OK) {
		sqlite3_close(d);
		return SIP_EIO;
	}
	/* WAL: readers do not block the writer; synchronous=FULL: each COMMIT
	 * fsyncs the WAL, which is what "200 OK after commit" promises. */
	if (sqlite3_busy_timeout(d, 5000) != SQLITE_OK ||
	    sqlite3_exec(d, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, NULL) != SQLITE_OK ||
	    (schema_sql && sqlite3_exec(d, schema_sql, NULL, NULL, NULL) != SQLITE_OK)) {
		sqlite3_close(d);
		return SIP_EIO;
	}
	*db = d;
	return 0;
}

/* True when b differs from the stored row r only in what ST_REFRESH writes
 * (expires, call_id, cseq; updated is always rewritten). Byte equality: the
 * row must end up exactly as a full UPDATE would leave it. */
static bool is_refresh(const struct sip_binding *r, const struct sip_binding *b)
{
	return r->q == b->q && r->reg_id == b->reg_id && sip_str_eq(r->aor, b->aor) &&
	       sip_str_eq(r->contact_uri, b->contact_uri) && sip_str_eq(r->contact, b->contact) &&
	       sip_str_eq(r->path, b->path) && sip_str_eq(r->instance, b->instance) &&
	       sip_str_eq(r->received, b->received) && sip_str_eq(r->user_agent, b->user_agent);
}

static int do_upsert(struct sql_loc *s, const struct sip_binding *b, int64_t now)
{
	struct sip__list_builder lb;
	struct sip_binding_list cur;
	int64_t *ids = NULL;
	int rc = 0; /* the paths below that write nothing (cache hit, removing an absent binding) succeed */
	if (!cache_take(s, b->aor, &cur, &ids)) {
		sip__lb_init(&lb);
		if ((rc = read_aor(s, b->aor, &lb, &ids)) != 0) {
			sip__lb_abort(&lb);
			return rc;
		}
		/* Unsorted, so cur.v[i] is the row ids[i]. */
		if ((rc = sip__lb_finish(&lb, &cur, false)) != 0) {
			sip_free(ids);
			return rc;
		}
	}
	long i = sip__binding_match(&s->base, cur.v, cur.n, b);
	if (i >= 0 && cur.v[i].expires > now && sip_str_eq(cur.v[i].call_id, b->call_id) &&
	    b->cseq <= cur.v[i].cseq) {
		rc = SIP_ESTATE;
	} else if (b->expires <= now) {
		if (i >= 0) {
			sqlite3_bind_int64(s->st[ST_DELETE_ID], 1, ids[i]);
			rc = step_done(s->st[ST_DELETE_ID]);
		}
	} else if (i >= 0 && is_refresh(&cur.v[i], b)) {
		sqlite3_stmt *st = s->st[ST_REFRESH];
		sqlite3_bind_int64(st, 1, b->expires);
		bind_str(st, 2, b->call_id);
		sqlite3_bind_int64(st, 3, b->cseq);
		sqlite3_bind_int64(st, 4, now);
		sqlite3_bind_int64(st, 5, ids[i]);
		rc = step_done(st);
	} else if (i >= 0) {
		sqlite3_stmt *st = s->st[ST_UPDATE];
		bind_binding(st, b, now);
		sqlite3_bind_int64(st, 14, ids[i]);
		rc = step_done(st);
	} else {
		/* Expired rows of this AOR make room before the cap applies. */
		size_t live = 0;
		for (size_t j = 0; j < cur.n && rc == 0; j++) {
			if (cur.v[j].expires > now) {
				live++;
				continue;
			}
			sqlite3_bind_int64(s->st[ST_DELETE_ID], 1, ids[j]);
			rc = step_done(s->st[ST_DELETE_ID]);
		}
		size_t max = s->base.cfg.max_bindings ? s->base.cfg.max_bindings : SIP_LOCATION_MAX_BINDINGS;
		if (rc == 0 && live >= max)
			rc = SIP_ETOOBIG;
		if (rc == 0) {
			bind_binding(s->st[ST_INSERT], b, now);
			rc = step_done(s->st[ST_INSERT]);
		}
	}
	sip_binding_list_free(&cur);
	sip_free(ids);
	return rc;
}

static int sql_upsert(struct sip_location *loc, const struct sip_binding *b, int64_t now)
{
	struct sql_loc *s = (struct sql_loc *)loc;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	return tx_end(s, do_upsert(s, b, now));
}

static int sql_lookup(struct sip_location *loc, struct sip_str aor, int64_t now, struct sip_binding_list *out)
{
	struct sql_loc *s = (struct sql_loc *)loc;
	struct sip__list_builder lb, live;
	struct sip_binding_list all;
	int64_t *ids = NULL;
	int rc;
	cache_drop(s);
	/* Inside a transaction of ours the rows (and ids) are kept for the
	 * upsert a REGISTER does next. */
	bool keep = !sqlite3_get_autocommit(s->db);
	sip__lb_init(&lb);
	if ((rc = read_aor(s, aor, &lb, keep ? &ids : NULL)) != 0) {
		sip__lb_abort(&lb);
		return rc;
	}
	if ((rc = sip__lb_finish(&lb, &all, false)) != 0) {
		sip_free(ids);
		return rc;
	}
	/* Filter in C rather than SQL so the memory and SQLite backends share
	 * one definition of "live". */
	sip__lb_init(&live);
	for (size_t i = 0; i < all.n; i++)
		if (all.v[i].expires > now && sip__lb_add(&live, &all.v[i]) != 0)
			break;
	if (keep)
		cache_keep(s, aor, &all, &ids);
	sip_binding_list_free(&all);
	sip_free(ids);
	return sip__lb_finish(&live, out, true);
}

static int sql_remove(struct sip_location *loc, struct sip_str aor, struct sip_str contact_uri)
{
	struct sql_loc *s = (struct sql_loc *)loc;
	struct sip__list_builder lb;
	struct sip_binding_list cur;
	int64_t *ids = NULL;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	sip__lb_init(&lb);
	if ((rc = read_aor(s, aor, &lb, &ids)) != 0) {
		sip__lb_abort(&lb);
		return tx_end(s, rc);
	}
	if ((rc = sip__lb_finish(&lb, &cur, false)) != 0) {
		sip_free(ids);
		return tx_end(s, rc);
	}
	rc = SIP_ENOTFOUND;
	for (size_t i = 0; i < cur.n; i++) {
		if (sip__uri_eq(loc, cur.v[i].contact_uri, contact_uri)) {
			sqlite3_bind_int64(s->st[ST_DELETE_ID], 1, ids[i]);
			rc = step_done(s->st[ST_DELETE_ID]);
			break;
		}
	}
	sip_binding_list_free(&cur);
	sip_free(ids);
	return tx_end(s, rc);
}

static int sql_remove_aor(struct sip_location *loc, struct sip_str aor)
{
	struct sql_loc *s = (struct sql_loc *)loc;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	bind_str(s->st[ST_DELETE_AOR], 1, aor);
	rc = step_done(s->st[ST_DELETE_AOR]);
	return tx_end(s, rc ? rc : sqlite3_changes(s->db));
}

static int sql_purge(struct sip_location *loc, int64_t now)
{
	struct sql_loc *s = (struct sql_loc *)loc;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s->st[ST_PURGE], 1, now);
	rc = step_done(s->st[ST_PURGE]);
	return tx_end(s, rc ? rc : sqlite3_changes(s->db));
}

/* Expired rows among the next max_rows row ids after the cursor: the row
 * id index bounds the slice (OFFSET walks max_rows entries), the DELETE
 * reads only that range. Past the last row the cursor starts over. */
static int sql_purge_some(struct sip_location *loc, int64_t now, size_t max_rows)
{
	struct sql_loc *s = (struct sql_loc *)loc;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	sqlite3_stmt *bound = s->st[ST_PURGE_BOUND];
	sqlite3_bind_int64(bound, 1, s->purge_after);
	sqlite3_bind_int64(bound, 2, (sqlite3_int64)(max_rows - 1));
	int step = sqlite3_step(bound);
	bool wrap = step == SQLITE_DONE; /* fewer rows than that left: this slice ends the pass */
	sqlite3_int64 upto = step == SQLITE_ROW ? sqlite3_column_int64(bound, 0) : INT64_MAX;
	sqlite3_reset(bound);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return tx_end(s, SIP_EIO);
	sqlite3_stmt *del = s->st[ST_PURGE_RANGE];
	sqlite3_bind_int64(del, 1, s->purge_after);
	sqlite3_bind_int64(del, 2, upto);
	sqlite3_bind_int64(del, 3, now);
	rc = step_done(del);
	int n = rc ? rc : sqlite3_changes(s->db);
	rc = tx_end(s, n);
	if (rc >= 0)
		s->purge_after = wrap ? 0 : upto;
	return rc;
}

static int sql_count(struct sip_location *loc, struct sip_str aor, int64_t now)
{
	struct sql_loc *s = (struct sql_loc *)loc;
	sqlite3_stmt *st;
	if (aor.len) {
		st = s->st[ST_COUNT_AOR];
		bind_str(st, 1, aor);
		sqlite3_bind_int64(st, 2, now);
	} else {
		st = s->st[ST_COUNT_ALL];
		sqlite3_bind_int64(st, 1, now);
	}
	int rc = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : SIP_EIO;
	sqlite3_reset(st);
	return rc;
}

static int sql_begin(struct sip_location *loc)
{
	struct sql_loc *s = (struct sql_loc *)loc;
	cache_drop(s);
	s->tx++;
	return step_done(s->st[ST_BEGIN]);
}

static int sql_commit(struct sip_location *loc)
{
	struct sql_loc *s = (struct sql_loc *)loc;
	cache_drop(s);
	s->tx++;
	if (step_done(s->st[ST_COMMIT]) != 0) {
		/* A failed COMMIT leaves the transaction open: undo it so the
		 * caller's answer (500, not 200) matches what is stored. */
		step_done(s->st[ST_ROLLBACK]);
		loc->in_batch = false;
		return SIP_EIO;
	}
	return 0;
}

static int sql_rollback(struct sip_location *loc)
{
	struct sql_loc *s = (struct sql_loc *)loc;
	cache_drop(s);
	s->tx++;
	return step_done(s->st[ST_ROLLBACK]);
}

static void sql_close(struct sip_location *loc)
{
	struct sql_loc *s = (struct sql_loc *)loc;
	cache_drop(s);
	if (loc->in_batch && s->st[ST_ROLLBACK])
		step_done(s->st[ST_ROLLBACK]);
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	sip_free(s);
}

static const struct sip_location_ops sql_ops = {
	.name = "sqlite",
	.lookup = sql_lookup,
	.upsert = sql_upsert,
	.remove = sql_remove,
	.remove_aor = sql_remove_aor,
	.purge = sql_purge,
	.count = sql_count,
	.begin = sql_begin,
	.commit = sql_commit,
	.rollback = sql_rollback,
	.close = sql_close,
	.purge_some = sql_purge_some,
};

int sip_location_open_sqlite(struct sip_location **out, const char *path, const struct sip_location_config *cfg)
{
	if (!out || !path)
		return SIP_EINVAL;
	*out = NULL;
	struct sql_loc *s = sip_calloc(1, sizeof *s);
	if (!s)
		return SIP_ENOMEM;
	s->base.ops = &sql_ops;
	if (cfg)
		s->base.cfg = *cfg;
	if (sip__sqlite_open(&s->db, path, schema) != 0) {
		sip_free(s);
		return SIP_EIO;
	}
	for (int i = 0; i < ST__COUNT; i++) {
		if (sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK) {
			sql_close(&s->base);
			return SIP_EIO;
		}
	}
	*out = &s->base;
	return 0;
}
