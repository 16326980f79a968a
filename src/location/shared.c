/* shared.c — one location store shared by several threads. Each thread gets
 * its own handle (its own batch state); every operation of the inner store
 * runs under one mutex, and a batch (begin .. commit/rollback) holds the mutex
 * from begin to its end, so one REGISTER's writes stay atomic against the
 * other workers. Used for the in-memory store in a multi-worker sipd; SQLite
 * handles are per worker instead (SQLite locks the file itself). */
#include <pthread.h>
#include <sip/location.h>

struct sip_location_share {
	struct sip_location *inner;
	pthread_mutex_t mu;
};

struct shared_loc {
	struct sip_location base;      /* this thread's handle */
	struct sip_location_share *sh;
	struct sip_location *inner;
	bool batch;                    /* this handle holds the lock for a batch */
};

static struct shared_loc *S(struct sip_location *l) { return (struct shared_loc *)l; }

/* Locks unless this handle is inside its own batch (it holds the lock). */
static bool enter(struct shared_loc *s)
{
	if (s->batch)
		return false;
	pthread_mutex_lock(&s->sh->mu);
	return true;
}
static void leave(struct shared_loc *s, bool locked)
{
	if (locked)
		pthread_mutex_unlock(&s->sh->mu);
}

#define FORWARD(call)                                                                                        \
	do {                                                                                                 \
		struct shared_loc *s = S(loc);                                                               \
		bool locked = enter(s);                                                                      \
		int rc = (call);                                                                             \
		leave(s, locked);                                                                            \
		return rc;                                                                                   \
	} while (0)

static int sh_lookup(struct sip_location *loc, struct sip_str aor, int64_t now, struct sip_binding_list *out)
{
	FORWARD(sip_location_lookup(s->inner, aor, now, out));
}
static int sh_upsert(struct sip_location *loc, const struct sip_binding *b, int64_t now)
{
	FORWARD(sip_location_upsert(s->inner, b, now));
}
static int sh_remove(struct sip_location *loc, struct sip_str aor, struct sip_str contact)
{
	FORWARD(sip_location_remove(s->inner, aor, contact));
}
static int sh_remove_aor(struct sip_location *loc, struct sip_str aor) { FORWARD(sip_location_remove_aor(s->inner, aor)); }
static int sh_purge(struct sip_location *loc, int64_t now) { FORWARD(sip_location_purge(s->inner, now)); }
static int sh_count(struct sip_location *loc, struct sip_str aor, int64_t now)
{
	FORWARD(sip_location_count(s->inner, aor, now));
}

static int sh_begin(struct sip_location *loc)
{
	struct shared_loc *s = S(loc);
	pthread_mutex_lock(&s->sh->mu);
	int rc = sip_location_begin(s->inner);
	if (rc < 0) {
		pthread_mutex_unlock(&s->sh->mu);
		return rc;
	}
	s->batch = true;
	return 0;
}

/* The inner store may refuse a rollback (memory: SIP_EUNSUPPORTED); the batch
 * ends either way and the lock is released. */
static int end_batch(struct shared_loc *s, int rc)
{
	s->inner->in_batch = false;
	s->batch = false;
	pthread_mutex_unlock(&s->sh->mu);
	return rc;
}
static int sh_commit(struct sip_location *loc) { return end_batch(S(loc), sip_location_commit(S(loc)->inner)); }
static int sh_rollback(struct sip_location *loc) { return end_batch(S(loc), sip_location_rollback(S(loc)->inner)); }

static void sh_close(struct sip_location *loc)
{
	struct shared_loc *s = S(loc);
	if (s->batch)
		end_batch(s, 0);
	sip_free(s);
}

static const struct sip_location_ops shared_ops = {
	.name = "shared",
	.lookup = sh_lookup,
	.upsert = sh_upsert,
	.remove = sh_remove,
	.remove_aor = sh_remove_aor,
	.purge = sh_purge,
	.count = sh_count,
	.begin = sh_begin,
	.commit = sh_commit,
	.rollback = sh_rollback,
	.close = sh_close,
};

int sip_location_share_new(struct sip_location_share **out, struct sip_location *inner)
{
	if (!out || !inner)
		return SIP_EINVAL;
	struct sip_location_share *sh = sip_calloc(1, sizeof(*sh));
	if (!sh)
		return SIP_ENOMEM;
	if (pthread_mutex_init(&sh->mu, NULL) != 0) {
		sip_free(sh);
		return SIP_ENOMEM;
	}
	sh->inner = inner;
	*out = sh;
	return 0;
}

void sip_location_share_free(struct sip_location_share *sh)
{
	if (!sh)
		return;
	sip_location_close(sh->inner);
	pthread_mutex_destroy(&sh->mu);
	sip_free(sh);
}

int sip_location_share_open(struct sip_location **out, struct sip_location_share *sh)
{
	if (!out || !sh)
		return SIP_EINVAL;
	struct shared_loc *s = sip_calloc(1, sizeof(*s));
	if (!s)
		return SIP_ENOMEM;
	s->base.ops = &shared_ops;
	s->base.cfg = sh->inner->cfg;
	s->sh = sh;
	s->inner = sh->inner;
	*out = &s->base;
	return 0;
}
