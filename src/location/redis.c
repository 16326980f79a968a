/* redis.c — the shared location backend: bindings in a Redis server that
 * several sipd processes (or hosts) use at once, through hiredis.
 *
 * One Redis hash per AOR, key "sipd:aor:<aor>"; one field per binding
 * ("i<reg-id>:<instance>" for an RFC 5626 flow, else "c<contact URI>"), its
 * value the binding serialized (ser/deser below). A write is a
 * read-modify-write of the AOR's hash under WATCH/MULTI/EXEC, retried when
 * another server changed the AOR meanwhile, so the §10.3 rules (match by
 * instance/reg-id or URI equality, the CSeq check, the per-AOR cap) hold
 * across servers. Expired bindings are skipped by reads and dropped by the
 * next write to their AOR or by purge (sipd's purge timer); Redis key
 * expiry is not used, since time here is the caller's argument, not
 * Redis's clock. An AOR's hash disappears with its last field. Every
 * write is applied when it returns: begin/commit bracket nothing
 * (durability is the Redis server's: appendonly for a registrar that must
 * survive its restart). A lost connection is reopened on the next
 * operation. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "location/location_int.h"
#include "location/redis_int.h"

#define KEY_PREFIX "sipd:aor:"
/* A worker waits on Redis synchronously: a dead server must not freeze it.
 * Connect and command timeouts are short, and after a failed connect the
 * next REDIS_RETRY_MS fail at once (the REGISTERs get 500) instead of each
 * waiting for its own timeout. */
#define REDIS_TIMEOUT_MS 500
#define REDIS_RETRY_MS 1000
#define WRITE_TRIES 16		/* optimistic retries of one write under contention */
#define SCAN_COUNT "256"	/* keys asked per SCAN step */
#define REDIS_MAX_HOST 256

/* The bindings of one AOR as read: HGETALL's reply and views into it. */
struct aor_read {
	redisReply *rep;
	size_t n;
	struct sip_binding *v; /* n views; one allocation holding fields and del too */
	struct sip_str *fields;
	struct sip_str *del;   /* room for the fields a write deletes (as many) */
};

struct redis_loc {
	struct sip_location base;
	redisContext *c;
	char host[REDIS_MAX_HOST];
	int port;
	int db;
	char purge_cursor[32]; /* SCAN cursor of purge_some, "0" to start over */
	uint64_t retry_at;     /* monotonic ms before which no reconnect is tried */
	unsigned conn_gen;     /* bumped by every (re)connect: a WATCH lives on one connection */
	/* The AOR the last lookup read under WATCH (a REGISTER's lookup comes
	 * right before its upsert): an upsert of it on the same connection
	 * uses this read and goes straight to MULTI..EXEC — one round trip
	 * less. Dropped by any other operation. */
	struct held {
		bool on;
		unsigned gen;
		char *aor;
		size_t aor_len;
		struct aor_read read;
	} held;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- connection ---- */

static int redis_connect(struct redis_loc *r)
{
	if (r->c && !r->c->err)
		return 0;
	if (r->c) {
		redisFree(r->c);
		r->c = NULL;
	}
	if (r->retry_at && mono_ms() < r->retry_at)
		return SIP_EIO;
	struct timeval tv = {REDIS_TIMEOUT_MS / 1000, (REDIS_TIMEOUT_MS % 1000) * 1000};
	r->c = redisConnectWithTimeout(r->host, r->port, tv);
	if (!r->c || r->c->err) {
		r->retry_at = mono_ms() + REDIS_RETRY_MS;
		return SIP_EIO;
	}
	r->retry_at = 0;
	r->conn_gen++;
	redisSetTimeout(r->c, tv);
	if (r->db) {
		redisReply *rep = redisCommand(r->c, "SELECT %d", r->db);
		bool ok = rep && rep->type == REDIS_REPLY_STATUS;
		if (rep)
			freeReplyObject(rep);
		if (!ok) {
			redisFree(r->c); /* not on the configured db: never use it */
			r->c = NULL;
			return SIP_EIO;
		}
	}
	return 0;
}

/* Runs a command (argv form, binary-safe); NULL on a transport error (the
 * connection is reopened next time). */
static redisReply *cmd(struct redis_loc *r, int argc, const char **argv, const size_t *lens)
{
	if (redis_connect(r) != 0)
		return NULL;
	redisReply *rep = redisCommandArgv(r->c, argc, argv, lens);
	if (!rep || r->c->err) {
		if (rep)
			freeReplyObject(rep);
		return NULL;
	}
	return rep;
}

static redisReply *cmd1(struct redis_loc *r, const char *name)
{
	const char *argv[] = {name};
	size_t lens[] = {strlen(name)};
	return cmd(r, 1, argv, lens);
}

/* "sipd:aor:<aor>" into buf; its length. */
static size_t key_of(struct sip_str aor, char *buf)
{
	memcpy(buf, KEY_PREFIX, sizeof(KEY_PREFIX) - 1);
	memcpy(buf + sizeof(KEY_PREFIX) - 1, aor.p, aor.len);
	return sizeof(KEY_PREFIX) - 1 + aor.len;
}
#define KEY_MAX (sizeof(KEY_PREFIX) + SIP_LOCATION_MAX_FIELD)


static void read_free(struct aor_read *a)
{
	if (a->rep)
		freeReplyObject(a->rep);
	sip_free(a->v);
	memset(a, 0, sizeof(*a));
}

/* Takes HGETALL's reply rep (owned from now on) into *a: the bindings that
 * parse (others are left out). */
static int parse_aor(struct sip_str aor, redisReply *rep, struct aor_read *a)
{
	memset(a, 0, sizeof(*a));
	a->rep = rep;
	if (!rep || rep->type != REDIS_REPLY_ARRAY) {
		read_free(a);
		return SIP_EIO;
	}
	size_t pairs = rep->elements / 2;
	if (!pairs)
		return 0;
	a->v = sip_calloc(pairs, sizeof(*a->v) + 2 * sizeof(struct sip_str));
	if (!a->v) {
		read_free(a);
		return SIP_ENOMEM;
	}
	a->fields = (struct sip_str *)(a->v + pairs);
	a->del = a->fields + pairs;
	for (size_t i = 0; i < pairs; i++) {
		redisReply *f = rep->element[2 * i], *val = rep->element[2 * i + 1];
		if (f->type != REDIS_REPLY_STRING || val->type != REDIS_REPLY_STRING ||
		    !sip__redis_deser(aor, val->str, val->len, &a->v[a->n]))
			continue;
		a->fields[a->n++] = (struct sip_str){f->str, f->len};
	}
	return 0;
}

/* HGETALL of aor's key into *a. */
static int read_aor(struct redis_loc *r, struct sip_str aor, struct aor_read *a)
{
	char key[KEY_MAX];
	const char *argv[] = {"HGETALL", key};
	size_t lens[] = {7, key_of(aor, key)};
	return parse_aor(aor, cmd(r, 2, argv, lens), a);
}

/* Forgets the held read (its WATCH, if any, ends at the next EXEC). */
static void held_drop(struct redis_loc *r)
{
	if (!r->held.on)
		return;
	read_free(&r->held.read);
	sip_free(r->held.aor);
	memset(&r->held, 0, sizeof(r->held));
}

/* Takes the held read of aor when it is still valid (same connection). */
static bool held_take(struct redis_loc *r, struct sip_str aor, struct aor_read *a)
{
	bool ok = r->held.on && r->held.gen == r->conn_gen && r->c && !r->c->err &&
		  sip_str_eq((struct sip_str){r->held.aor, r->held.aor_len}, aor);
	if (ok) {
		*a = r->held.read;
		memset(&r->held.read, 0, sizeof(*a)); /* moved out */
	}
	held_drop(r);
	return ok;
}

/* ---- operations ---- */

/* ---- pipelined writes: one round trip to read, one to write ----
 * A write costs WATCH + HGETALL (sent together), then MULTI, the HDELs and
 * HSET, EXEC (sent together): two round trips instead of one per command,
 * which is most of what a REGISTER costs here. */

static int append(struct redis_loc *r, int argc, const char **argv, const size_t *lens)
{
	return redisAppendCommandArgv(r->c, argc, argv, lens) == REDIS_OK ? 0 : SIP_EIO;
}

/* The next reply of the pipeline; NULL on a transport error. */
static redisReply *next_reply(struct redis_loc *r)
{
	void *rep = NULL;
	if (redisGetReply(r->c, &rep) != REDIS_OK || r->c->err) {
		if (rep)
			freeReplyObject(rep);
		return NULL;
	}
	return rep;
}

static void unwatch(struct redis_loc *r)
{
	redisReply *rep = cmd1(r, "UNWATCH");
	if (rep)
		freeReplyObject(rep);
}

/* WATCH key and HGETALL it in one round trip, into *a. On error nothing is
 * left watched or held. */
static int watch_read(struct redis_loc *r, struct sip_str aor, const char *key, size_t klen, struct aor_read *a)
{
	memset(a, 0, sizeof(*a));
	if (redis_connect(r) != 0)
		return SIP_EIO;
	const char *wargv[] = {"WATCH", key}, *hargv[] = {"HGETALL", key};
	size_t wlens[] = {5, klen}, hlens[] = {7, klen};
	if (append(r, 2, wargv, wlens) || append(r, 2, hargv, hlens))
		return SIP_EIO;
	redisReply *w = next_reply(r);
	bool watched = w && w->type == REDIS_REPLY_STATUS;
	if (w)
		freeReplyObject(w);
	int rc = parse_aor(aor, next_reply(r), a);
	if (!rc && !watched) {
		read_free(a);
		rc = SIP_EIO;
	}
	if (rc && r->c && !r->c->err)
		unwatch(r);
	return rc;
}

/* MULTI, HDEL of del[0..ndel), HSET key fname val when val, EXEC — sent
 * together. 1 applied, 0 when the WATCHed key changed (retry), SIP_EIO. */
static int write_block(struct redis_loc *r, const char *key, size_t klen, const struct sip_str *del, size_t ndel,
		       const char *fname, size_t flen, const char *val, size_t vlen)
{
	const char *margv[] = {"MULTI"}, *eargv[] = {"EXEC"};
	size_t mlens[] = {5}, elens[] = {4};
	int rc = append(r, 1, margv, mlens);
	for (size_t i = 0; i < ndel && !rc; i++) {
		const char *argv[] = {"HDEL", key, del[i].p};
		size_t lens[] = {4, klen, del[i].len};
		rc = append(r, 3, argv, lens);
	}
	if (!rc && val) {
		const char *argv[] = {"HSET", key, fname, val};
		size_t lens[] = {4, klen, flen, vlen};
		rc = append(r, 4, argv, lens);
	}
	if (!rc)
		rc = append(r, 1, eargv, elens);
	if (rc)
		return rc; /* the connection is unusable: reopened next time */
	/* MULTI's OK, one QUEUED per command, then EXEC's answer. */
	size_t replies = 1 + ndel + (val ? 1 : 0);
	for (size_t i = 0; i < replies; i++) {
		redisReply *q = next_reply(r);
		if (!q)
			return SIP_EIO;
		freeReplyObject(q);
	}
	redisReply *e = next_reply(r);
	if (!e)
		return SIP_EIO;
	rc = e->type == REDIS_REPLY_ARRAY ? 1 : e->type == REDIS_REPLY_NIL ? 0 : SIP_EIO;
	freeReplyObject(e);
	return rc;
}

/* ---- operations ---- */

static int redis_lookup(struct sip_location *loc, struct sip_str aor, int64_t now, struct sip_binding_list *out)
{
	struct redis_loc *r = (struct redis_loc *)loc;
	struct aor_read a;
	char key[KEY_MAX];
	size_t klen = key_of(aor, key);
	held_drop(r);
	int rc = watch_read(r, aor, key, klen, &a);
	if (rc)
		return rc;
	struct sip__list_builder lb;
	sip__lb_init(&lb);
	for (size_t i = 0; i < a.n && rc == 0; i++)
		if (a.v[i].expires > now)
			rc = sip__lb_add(&lb, &a.v[i]);
	/* Keep the read for the upsert that usually follows. */
	char *akey = rc ? NULL : sip_memdup_str(aor.p, aor.len);
	if (akey)
		r->held = (struct held){true, r->conn_gen, akey, aor.len, a};
	else
		read_free(&a);
	if (rc) {
		sip__lb_abort(&lb);
		return rc;
	}
	return sip__lb_finish(&lb, out, true);
}

/* One optimistic attempt of upsert: 1 done, 0 retry, <0 error. */
static int upsert_once(struct redis_loc *r, const struct sip_binding *b, int64_t now, const char *key, size_t klen)
{
	struct aor_read a;
	int rc = 0;
	if (!held_take(r, b->aor, &a) && (rc = watch_read(r, b->aor, key, klen, &a)) != 0)
		return rc;
	long m = sip__binding_match(&r->base, a.v, a.n, b);
	if (m >= 0 && a.v[m].expires > now && sip_str_eq(a.v[m].call_id, b->call_id) && b->cseq <= a.v[m].cseq) {
		read_free(&a);
		unwatch(r);
		return SIP_ESTATE;
	}
	/* What goes: the matched binding, and every expired one. */
	size_t ndel = 0, live = 0;
	for (size_t i = 0; i < a.n; i++) {
		if ((long)i == m || a.v[i].expires <= now) {
			a.del[ndel++] = a.fields[i];
			continue;
		}
		live++;
	}
	size_t max = r->base.cfg.max_bindings ? r->base.cfg.max_bindings : SIP_LOCATION_MAX_BINDINGS;
	rc = b->expires > now && live >= max ? SIP_ETOOBIG : 0;
	char *val = NULL, fname[SIP__REDIS_FIELD_MAX];
	size_t vlen = 0, flen = 0;
	if (!rc && b->expires > now) {
		flen = sip__redis_field_of(b, fname, sizeof(fname));
		if (!(val = sip__redis_ser(b, now, &vlen)))
			rc = SIP_ENOMEM;
	}
	if (rc || (!ndel && b->expires <= now)) {
		sip_free(val);
		read_free(&a);
		unwatch(r);
		return rc ? rc : 1; /* nothing to change */
	}
	rc = write_block(r, key, klen, a.del, ndel, fname, flen, val, vlen);
	sip_free(val);
	read_free(&a);
	return rc;
}

static int redis_upsert(struct sip_location *loc, const struct sip_binding *b, int64_t now)
{
	struct redis_loc *r = (struct redis_loc *)loc;
	int rc = sip__binding_check(b);
	if (rc)
		return rc;
	char key[KEY_MAX];
	size_t klen = key_of(b->aor, key);
	for (int t = 0; t < WRITE_TRIES; t++) {
		rc = upsert_once(r, b, now, key, klen);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	return SIP_EIO; /* still contended after WRITE_TRIES: the caller answers 500 */
}

/* Deletes the bindings of aor that `drop` selects (contact URI equal to uri,
 * or expired at now, or all), under WATCH. Returns how many, or an error. */
enum drop_kind { DROP_URI, DROP_EXPIRED, DROP_ALL };

static int drop_once(struct redis_loc *r, struct sip_str aor, const char *key, size_t klen, enum drop_kind kind,
		     struct sip_str uri, int64_t now, int *count)
{
	struct aor_read a;
	int rc = watch_read(r, aor, key, klen, &a);
	if (rc)
		return rc;
	size_t ndel = 0;
	int counted = 0;
	for (size_t i = 0; i < a.n; i++) {
		bool expired = a.v[i].expires <= now;
		bool go = kind == DROP_ALL || expired || (kind == DROP_URI && sip__uri_eq(&r->base, a.v[i].contact_uri, uri));
		if (go) {
			a.del[ndel++] = a.fields[i];
			/* purge counts the expired it drops; remove and remove_aor
			 * the live ones (an expired match is not found). */
			if (expired == (kind == DROP_EXPIRED))
				counted++;
		}
	}
	rc = 1;
	if (ndel)
		rc = write_block(r, key, klen, a.del, ndel, NULL, 0, NULL, 0);
	else
		unwatch(r);
	read_free(&a);
	if (rc > 0)
		*count = counted;
	return rc;
}

static int drop(struct redis_loc *r, struct sip_str aor, enum drop_kind kind, struct sip_str uri, int64_t now)
{
	held_drop(r);
	char key[KEY_MAX];
	size_t klen = key_of(aor, key);
	for (int t = 0; t < WRITE_TRIES; t++) {
		int count = 0, rc = drop_once(r, aor, key, klen, kind, uri, now, &count);
		if (rc < 0)
			return rc;
		if (rc > 0)
			return count;
	}
	return SIP_EIO; /* still contended after WRITE_TRIES: the caller answers 500 */
}

static int redis_remove(struct sip_location *loc, struct sip_str aor, struct sip_str contact_uri)
{
	/* A removal does not know the time: it sees every stored binding as
	 * live (time 0), like the other backends. */
	int n = drop((struct redis_loc *)loc, aor, DROP_URI, contact_uri, 0);
	return n < 0 ? n : n ? 0 : SIP_ENOTFOUND;
}

static int redis_remove_aor(struct sip_location *loc, struct sip_str aor)
{
	return drop((struct redis_loc *)loc, aor, DROP_ALL, SIP_STR_NULL, 0);
}

/* Calls fn for each AOR key of one SCAN step from cursor (updated in place). */
static int scan_step(struct redis_loc *r, char *cursor, size_t ccap,
		     int (*fn)(struct redis_loc *r, struct sip_str aor, void *ud), void *ud)
{
	const char *argv[] = {"SCAN", cursor, "MATCH", KEY_PREFIX "*", "COUNT", SCAN_COUNT};
	size_t lens[] = {4, strlen(cursor), 5, sizeof(KEY_PREFIX), 5, sizeof(SCAN_COUNT) - 1};
	redisReply *rep = cmd(r, 6, argv, lens);
	if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_STRING || rep->element[1]->type != REDIS_REPLY_ARRAY) {
		if (rep)
			freeReplyObject(rep);
		return SIP_EIO;
	}
	snprintf(cursor, ccap, "%.*s", (int)rep->element[0]->len, rep->element[0]->str);
	int total = 0;
	redisReply *keys = rep->element[1];
	for (size_t i = 0; i < keys->elements; i++) {
		redisReply *k = keys->element[i];
		if (k->type != REDIS_REPLY_STRING || k->len <= sizeof(KEY_PREFIX) - 1 ||
		    k->len - (sizeof(KEY_PREFIX) - 1) > SIP_LOCATION_MAX_FIELD)
			continue;
		int n = fn(r, (struct sip_str){k->str + sizeof(KEY_PREFIX) - 1, k->len - (sizeof(KEY_PREFIX) - 1)}, ud);
		if (n < 0) {
			freeReplyObject(rep);
			return n;
		}
		total += n;
	}
	freeReplyObject(rep);
	return total;
}

/* fn over every AOR key (SCAN to the end); the sum of its results. */
static int scan_all(struct redis_loc *r, int (*fn)(struct redis_loc *r, struct sip_str aor, void *ud), void *ud)
{
	char cursor[32] = "0";
	int total = 0;
	do {
		int n = scan_step(r, cursor, sizeof(cursor), fn, ud);
		if (n < 0)
			return n;
		total += n;
	} while (strcmp(cursor, "0") != 0);
	return total;
}

static int purge_aor(struct redis_loc *r, struct sip_str aor, void *ud)
{
	return drop(r, aor, DROP_EXPIRED, SIP_STR_NULL, *(const int64_t *)ud);
}

static int redis_purge_some(struct sip_location *loc, int64_t now, size_t max_rows)
{
	struct redis_loc *r = (struct redis_loc *)loc;
	(void)max_rows; /* one SCAN step: about SCAN_COUNT keys */
	int n = scan_step(r, r->purge_cursor, sizeof(r->purge_cursor), purge_aor, &now);
	if (n < 0)
		snprintf(r->purge_cursor, sizeof(r->purge_cursor), "0");
	return n;
}

static int redis_purge(struct sip_location *loc, int64_t now)
{
	return scan_all((struct redis_loc *)loc, purge_aor, &now);
}

struct count_ctx {
	int64_t now;
};

static int count_aor(struct redis_loc *r, struct sip_str aor, void *ud)
{
	const struct count_ctx *cc = ud;
	struct aor_read a;
	int rc = read_aor(r, aor, &a);
	if (rc)
		return rc;
	int n = 0;
	for (size_t i = 0; i < a.n; i++)
		n += a.v[i].expires > cc->now;
	read_free(&a);
	return n;
}

static int redis_count(struct sip_location *loc, struct sip_str aor, int64_t now)
{
	struct redis_loc *r = (struct redis_loc *)loc;
	held_drop(r);
	struct count_ctx cc = {now};
	return aor.len ? count_aor(r, aor, &cc) : scan_all(r, count_aor, &cc);
}

/* Each write is applied at once: a batch (begin, commit) brackets nothing. */
static int redis_no_batch(struct sip_location *loc)
{
	(void)loc;
	return 0;
}

static int redis_rollback(struct sip_location *loc)
{
	(void)loc;
	return SIP_EUNSUPPORTED;
}

static void redis_close(struct sip_location *loc)
{
	struct redis_loc *r = (struct redis_loc *)loc;
	held_drop(r);
	if (r->c)
		redisFree(r->c);
	sip_free(r);
}

static const struct sip_location_ops redis_ops = {
	.name = "redis",
	.lookup = redis_lookup,
	.upsert = redis_upsert,
	.remove = redis_remove,
	.remove_aor = redis_remove_aor,
	.purge = redis_purge,
	.count = redis_count,
	.begin = redis_no_batch,
	.commit = redis_no_batch,
	.rollback = redis_rollback,
	.close = redis_close,
	.purge_some = redis_purge_some,
};

int sip_location_open_redis(struct sip_location **out, const char *url, const struct sip_location_config *cfg)
{
	if (!out)
		return SIP_EINVAL;
	*out = NULL;
	struct redis_loc *r = sip_calloc(1, sizeof(*r));
	if (!r)
		return SIP_ENOMEM;
	if (sip_location_redis_url(url, r->host, sizeof(r->host), &r->port, &r->db) != 0) {
		sip_free(r);
		return SIP_EINVAL;
	}
	snprintf(r->purge_cursor, sizeof(r->purge_cursor), "0");
	r->base.ops = &redis_ops;
	if (cfg)
		r->base.cfg = *cfg;
	/* Fail now, not at the first REGISTER, when the server is not there. */
	redisReply *rep = redis_connect(r) == 0 ? cmd1(r, "PING") : NULL;
	bool ok = rep && rep->type == REDIS_REPLY_STATUS;
	if (rep)
		freeReplyObject(rep);
	if (!ok) {
		redis_close(&r->base);
		return SIP_EIO;
	}
	*out = &r->base;
	return 0;
}
