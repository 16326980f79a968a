/* memory.c — the in-memory location backend: a chained hash table keyed by
 * AOR, each AOR holding a small array of bindings whose strings live in one
 * allocation per binding. Nothing survives a restart. */
#include <string.h>

#include "location/location_int.h"

struct aor_node {
	struct aor_node *next;
	uint64_t hash;
	struct sip_binding *v; /* strings of v[i] live in blob[i] */
	char **blob;
	size_t n, cap;
	size_t aor_len;
	char aor[];
};

struct mem_loc {
	struct sip_location base;
	struct aor_node **buckets;
	size_t nbuckets; /* power of two */
	size_t naors;
};

static uint64_t fnv1a(struct sip_str s)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < s.len; i++)
		h = (h ^ (unsigned char)s.p[i]) * 1099511628211ull;
	return h;
}

static struct aor_node **find_slot(struct mem_loc *m, struct sip_str aor, uint64_t h)
{
	struct aor_node **pp = &m->buckets[h & (m->nbuckets - 1)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->aor_len == aor.len && memcmp((*pp)->aor, aor.p, aor.len) == 0)
			break;
	return pp;
}

static void node_del_at(struct aor_node *a, size_t i)
{
	sip_free(a->blob[i]);
	a->n--;
	if (i != a->n) {
		a->v[i] = a->v[a->n];
		a->blob[i] = a->blob[a->n];
	}
}

static void node_free(struct aor_node *a)
{
	for (size_t i = 0; i < a->n; i++)
		sip_free(a->blob[i]);
	sip_free(a->v);
	sip_free(a->blob);
	sip_free(a);
}

/* Unlinks and frees the node at *pp when it has no bindings left. */
static void node_gc(struct mem_loc *m, struct aor_node **pp)
{
	struct aor_node *a = *pp;
	if (a->n)
		return;
	*pp = a->next;
	node_free(a);
	m->naors--;
}

static int grow_table(struct mem_loc *m)
{
	size_t nb = m->nbuckets * 2;
	struct aor_node **b = sip_calloc(nb, sizeof *b);
	if (!b)
		return SIP_ENOMEM;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct aor_node *a = m->buckets[i], *next;
		for (; a; a = next) {
			next = a->next;
			a->next = b[a->hash & (nb - 1)];
			b[a->hash & (nb - 1)] = a;
		}
	}
	sip_free(m->buckets);
	m->buckets = b;
	m->nbuckets = nb;
	return 0;
}

#define STR_FIELDS(X) X(aor) X(contact_uri) X(contact) X(call_id) X(path) X(instance) X(received) X(user_agent)

/* Copies b into *d with its strings in one new allocation (*blob). */
static int copy_binding(struct sip_binding *d, char **blob, const struct sip_binding *b)
{
	size_t total = 0;
#define X(f) total += b->f.len;
	STR_FIELDS(X)
#undef X
	char *p = sip_malloc(total);
	if (!p)
		return SIP_ENOMEM;
	*d = *b;
	*blob = p;
#define X(f)                                            \
	if (b->f.len)                                   \
		memcpy(p, b->f.p, b->f.len);            \
	d->f = (struct sip_str){b->f.len ? p : "", b->f.len}; \
	p += b->f.len;
	STR_FIELDS(X)
#undef X
	return 0;
}

static int mem_upsert(struct sip_location *loc, const struct sip_binding *b, int64_t now)
{
	struct mem_loc *m = (struct mem_loc *)loc;
	uint64_t h = fnv1a(b->aor);
	struct aor_node **pp = find_slot(m, b->aor, h);
	struct aor_node *a = *pp;
	long i = a ? sip__binding_match(loc, a->v, a->n, b) : -1;
	if (i >= 0 && a->v[i].expires > now && sip_str_eq(a->v[i].call_id, b->call_id) && b->cseq <= a->v[i].cseq)
		return SIP_ESTATE;
	if (b->expires <= now) {
		if (i >= 0) {
			node_del_at(a, (size_t)i);
			node_gc(m, pp);
		}
		return 0;
	}
	struct sip_binding nb;
	char *blob;
	int rc = copy_binding(&nb, &blob, b);
	if (rc)
		return rc;
	nb.updated = now;
	if (i >= 0) {
		sip_free(a->blob[i]);
		a->v[i] = nb;
		a->blob[i] = blob;
		return 0;
	}
	if (!a) {
		if (m->naors >= m->nbuckets && grow_table(m) != 0)
			goto nomem;
		pp = find_slot(m, b->aor, h);
		a = sip_calloc(1, sizeof *a + b->aor.len);
		if (!a)
			goto nomem;
		a->hash = h;
		a->aor_len = b->aor.len;
		memcpy(a->aor, b->aor.p, b->aor.len);
		*pp = a;
		m->naors++;
	}
	/* Expired bindings make room before the cap is applied. */
	for (size_t j = a->n; j-- > 0;)
		if (a->v[j].expires <= now)
			node_del_at(a, j);
	size_t max = loc->cfg.max_bindings ? loc->cfg.max_bindings : SIP_LOCATION_MAX_BINDINGS;
	if (a->n >= max) {
		sip_free(blob);
		node_gc(m, pp);
		return SIP_ETOOBIG;
	}
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 1; /* most AORs have one binding */
		struct sip_binding *v = sip_realloc(a->v, cap * sizeof *v);
		if (v)
			a->v = v;
		char **bl = v ? sip_realloc(a->blob, cap * sizeof *bl) : NULL;
		if (bl)
			a->blob = bl;
		if (!v || !bl) {
			node_gc(m, pp);
			goto nomem;
		}
		a->cap = cap;
	}
	a->v[a->n] = nb;
	a->blob[a->n] = blob;
	a->n++;
	return 0;
nomem:
	sip_free(blob);
	return SIP_ENOMEM;
}

static int mem_lookup(struct sip_location *loc, struct sip_str aor, int64_t now, struct sip_binding_list *out)
{
	struct mem_loc *m = (struct mem_loc *)loc;
	struct aor_node *a = *find_slot(m, aor, fnv1a(aor));
	struct sip__list_builder lb;
	sip__lb_init(&lb);
	for (size_t i = 0; a && i < a->n; i++)
		if (a->v[i].expires > now && sip__lb_add(&lb, &a->v[i]) != 0)
			break;
	return sip__lb_finish(&lb, out, true);
}

static int mem_remove(struct sip_location *loc, struct sip_str aor, struct sip_str contact_uri)
{
	struct mem_loc *m = (struct mem_loc *)loc;
	struct aor_node **pp = find_slot(m, aor, fnv1a(aor));
	struct aor_node *a = *pp;
	for (size_t i = 0; a && i < a->n; i++) {
		if (sip__uri_eq(loc, a->v[i].contact_uri, contact_uri)) {
			node_del_at(a, i);
			node_gc(m, pp);
			return 0;
		}
	}
	return SIP_ENOTFOUND;
}

static int mem_remove_aor(struct sip_location *loc, struct sip_str aor)
{
	struct mem_loc *m = (struct mem_loc *)loc;
	struct aor_node **pp = find_slot(m, aor, fnv1a(aor));
	struct aor_node *a = *pp;
	if (!a)
		return 0;
	int n = (int)a->n;
	*pp = a->next;
	node_free(a);
	m->naors--;
	return n;
}

static int mem_purge(struct sip_location *loc, int64_t now)
{
	struct mem_loc *m = (struct mem_loc *)loc;
	int n = 0;
	for (size_t k = 0; k < m->nbuckets; k++) {
		struct aor_node **pp = &m->buckets[k];
		while (*pp) {
			struct aor_node *a = *pp;
			for (size_t j = a->n; j-- > 0;) {
				if (a->v[j].expires <= now) {
					node_del_at(a, j);
					n++;
				}
			}
			if (a->n == 0)
				node_gc(m, pp);
			else
				pp = &a->next;
		}
	}
	return n;
}

static int count_live(const struct aor_node *a, int64_t now)
{
	int n = 0;
	for (size_t i = 0; i < a->n; i++)
		n += a->v[i].expires > now;
	return n;
}

static int mem_count(struct sip_location *loc, struct sip_str aor, int64_t now)
{
	struct mem_loc *m = (struct mem_loc *)loc;
	if (aor.len) {
		struct aor_node *a = *find_slot(m, aor, fnv1a(aor));
		return a ? count_live(a, now) : 0;
	}
	long n = 0;
	for (size_t k = 0; k < m->nbuckets; k++)
		for (struct aor_node *a = m->buckets[k]; a; a = a->next)
			n += count_live(a, now);
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

/* Memory writes are immediate; a batch only marks the bracket. */
static int mem_begin(struct sip_location *loc) { (void)loc; return 0; }
static int mem_commit(struct sip_location *loc) { (void)loc; return 0; }
static int mem_rollback(struct sip_location *loc) { (void)loc; return SIP_EUNSUPPORTED; }

static void mem_close(struct sip_location *loc)
{
	struct mem_loc *m = (struct mem_loc *)loc;
	for (size_t k = 0; k < m->nbuckets; k++) {
		struct aor_node *a = m->buckets[k], *next;
		for (; a; a = next) {
			next = a->next;
			node_free(a);
		}
	}
	sip_free(m->buckets);
	sip_free(m);
}

static const struct sip_location_ops mem_ops = {
	.name = "memory",
	.lookup = mem_lookup,
	.upsert = mem_upsert,
	.remove = mem_remove,
	.remove_aor = mem_remove_aor,
	.purge = mem_purge,
	.count = mem_count,
	.begin = mem_begin,
	.commit = mem_commit,
	.rollback = mem_rollback,
	.close = mem_close,
};

int sip_location_open_memory(struct sip_location **out, const struct sip_location_config *cfg)
{
	if (!out)
		return SIP_EINVAL;
	*out = NULL;
	struct mem_loc *m = sip_calloc(1, sizeof *m);
	if (!m)
		return SIP_ENOMEM;
	m->nbuckets = 64;
	m->buckets = sip_calloc(m->nbuckets, sizeof *m->buckets);
	if (!m->buckets) {
		sip_free(m);
		return SIP_ENOMEM;
	}
	m->base.ops = &mem_ops;
	if (cfg)
		m->base.cfg = *cfg;
	*out = &m->base;
	return 0;
}
