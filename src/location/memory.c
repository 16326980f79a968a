/* memory.c — the in-memory location backend: a chained hash table keyed by
 * AOR. Each AOR is ONE allocation: a small header, the AOR text, then its
 * bindings packed back to back as variable-length records (fixed fields,
 * 16-bit string lengths, then the strings). A struct sip_binding (eight
 * pointer+length pairs) only exists transiently, as a view into a record,
 * when a lookup copies bindings out or upsert compares one. Most AORs hold
 * a single binding, so this costs about a third of a node + binding array +
 * blob-pointer array + blob per binding. Nothing survives a restart. */
#include <stddef.h>
#include <string.h>

#include "location/location_int.h"

/* A record's strings, in storage order. The AOR is the node's key, not
 * repeated per record. */
enum { S_CONTACT_URI, S_CONTACT, S_CALL_ID, S_PATH, S_INSTANCE, S_RECEIVED, S_USER_AGENT, NSTR };

/* cu_off value: contact_uri has its own bytes (it is not inside contact). */
#define CU_OWN UINT16_MAX
_Static_assert(SIP_LOCATION_MAX_FIELD < CU_OWN, "field lengths and offsets fit in 16 bits");

/* Bytes of records one AOR may hold (the counters are 32-bit); past it an
 * upsert is SIP_ETOOBIG. Only a huge configured max_bindings reaches it. */
#define MEM_NODE_MAX_BYTES (UINT32_MAX / 2)
/* Buckets stop doubling here (hashes are 32-bit); chains grow instead. */
#define MEM_MAX_BUCKETS ((size_t)1 << 31)

/* The fixed part of a record. Records are packed unaligned, so it is only
 * read and written with memcpy, REC_HDR bytes (no tail padding). */
struct rec {
	int64_t expires;
	int64_t updated;
	int32_t q;
	uint32_t cseq;
	uint32_t reg_id;
	uint16_t len[NSTR];
	uint16_t cu_off; /* contact_uri = contact[cu_off ..] (the usual "<uri>" shape), or CU_OWN */
};
#define REC_HDR (offsetof(struct rec, cu_off) + sizeof(uint16_t))

struct aor_node {
	struct aor_node *next;
	uint32_t hash;
	uint16_t aor_len;
	uint32_t n;    /* records */
	uint32_t used; /* bytes of records, after the AOR */
	char data[];   /* aor_len bytes of AOR, then the records */
};
#define NODE_HDR offsetof(struct aor_node, data)

struct mem_loc {
	struct sip_location base;
	struct aor_node **buckets;
	size_t nbuckets; /* power of two */
	size_t naors;
};

static uint32_t hash_aor(struct sip_str s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < s.len; i++)
		h = (h ^ (unsigned char)s.p[i]) * 1099511628211ull;
	return (uint32_t)(h ^ (h >> 32)); /* FNV's low bits alone mix poorly */
}

static struct aor_node **find_slot(struct mem_loc *m, struct sip_str aor, uint32_t h)
{
	struct aor_node **pp = &m->buckets[h & (m->nbuckets - 1)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->aor_len == aor.len && memcmp((*pp)->data, aor.p, aor.len) == 0)
			break;
	return pp;
}

/* ---- records ---- */

static size_t rec_size(const struct rec *r)
{
	size_t n = REC_HDR;
	for (int k = 0; k < NSTR; k++)
		n += r->len[k];
	if (r->cu_off != CU_OWN)
		n -= r->len[S_CONTACT_URI];
	return n;
}

/* Reads the record at byte off of a's data; returns its size. */
static size_t rec_read(const struct aor_node *a, size_t off, struct rec *r)
{
	memcpy(r, a->data + off, REC_HDR);
	return rec_size(r);
}

#define RECS_BEGIN(a) ((size_t)(a)->aor_len)
#define RECS_END(a) ((size_t)(a)->aor_len + (a)->used)

/* A binding whose slices point into the record at off (valid until the node changes). */
static void rec_view(const struct aor_node *a, size_t off, const struct rec *r, struct sip_binding *b)
{
	const char *p = a->data + off + REC_HDR;
	struct sip_str s[NSTR];
	for (int k = 0; k < NSTR; k++) {
		if (k == S_CONTACT_URI && r->cu_off != CU_OWN)
			continue;
		s[k] = (struct sip_str){r->len[k] ? p : "", r->len[k]};
		p += r->len[k];
	}
	if (r->cu_off != CU_OWN)
		s[S_CONTACT_URI] = (struct sip_str){s[S_CONTACT].p + r->cu_off, r->len[S_CONTACT_URI]};
	*b = (struct sip_binding){
		.aor = {a->data, a->aor_len},
		.contact_uri = s[S_CONTACT_URI],
		.contact = s[S_CONTACT],
		.q = r->q,
		.expires = r->expires,
		.call_id = s[S_CALL_ID],
		.cseq = r->cseq,
		.path = s[S_PATH],
		.instance = s[S_INSTANCE],
		.reg_id = r->reg_id,
		.received = s[S_RECEIVED],
		.user_agent = s[S_USER_AGENT],
		.updated = r->updated,
	};
}

/* Where contact_uri sits inside contact, or CU_OWN. Only the two shapes a
 * registrar stores are tried — "uri;params" and "name <uri>;params" — so
 * the check is O(length), never a substring search. */
static uint16_t cu_offset(struct sip_str contact, struct sip_str uri)
{
	size_t at[2] = {0, CU_OWN};
	const char *lt = contact.len ? memchr(contact.p, '<', contact.len) : NULL;
	if (lt)
		at[1] = (size_t)(lt - contact.p) + 1;
	for (int k = 0; k < 2; k++)
		if (at[k] <= contact.len && uri.len <= contact.len - at[k] &&
		    memcmp(contact.p + at[k], uri.p, uri.len) == 0)
			return (uint16_t)at[k];
	return CU_OWN;
}

static struct rec rec_of(const struct sip_binding *b, int64_t now)
{
	struct rec r = {
		.expires = b->expires,
		.updated = now,
		.q = b->q,
		.cseq = b->cseq,
		.reg_id = b->reg_id,
		.len = {(uint16_t)b->contact_uri.len, (uint16_t)b->contact.len, (uint16_t)b->call_id.len,
			(uint16_t)b->path.len, (uint16_t)b->instance.len, (uint16_t)b->received.len,
			(uint16_t)b->user_agent.len},
		.cu_off = cu_offset(b->contact, b->contact_uri),
	};
	return r;
}

static char *put_str(char *d, struct sip_str s)
{
	if (s.len)
		memcpy(d, s.p, s.len);
	return d + s.len;
}

static void rec_write(char *d, const struct rec *r, const struct sip_binding *b)
{
	memcpy(d, r, REC_HDR);
	d += REC_HDR;
	if (r->cu_off == CU_OWN)
		d = put_str(d, b->contact_uri);
	d = put_str(d, b->contact);
	d = put_str(d, b->call_id);
	d = put_str(d, b->path);
	d = put_str(d, b->instance);
	d = put_str(d, b->received);
	put_str(d, b->user_agent);
}

/* ---- nodes ---- */

/* Reallocates *pp for `used` bytes of records; *pp follows a move.
 * 0 or SIP_ENOMEM (the node is then unchanged). */
static int node_resize(struct aor_node **pp, size_t used)
{
	struct aor_node *a = sip_realloc(*pp, NODE_HDR + (*pp)->aor_len + used);
	if (!a)
		return SIP_ENOMEM;
	*pp = a;
	return 0;
}

/* Writes record r (from b) over the oldsz bytes at off — oldsz 0 inserts
 * there — moving the records behind it. 0, SIP_ENOMEM or SIP_ETOOBIG; on
 * error the node is unchanged. The record count is the caller's. */
static int node_put(struct aor_node **pp, size_t off, size_t oldsz, const struct rec *r,
		    const struct sip_binding *b)
{
	struct aor_node *a = *pp;
	size_t newsz = rec_size(r), tail = RECS_END(a) - off - oldsz;
	size_t used = a->used - oldsz + newsz;
	if (used > MEM_NODE_MAX_BYTES)
		return SIP_ETOOBIG;
	if (newsz > oldsz) {
		if (node_resize(pp, used) != 0)
			return SIP_ENOMEM;
		a = *pp;
	}
	memmove(a->data + off + newsz, a->data + off + oldsz, tail);
	rec_write(a->data + off, r, b);
	a->used = (uint32_t)used;
	if (newsz < oldsz)
		(void)node_resize(pp, used); /* giving bytes back: on failure the bigger block stays valid */
	return 0;
}

/* Deletes the sz-byte record at off, keeping the others in order. */
static void node_del(struct aor_node **pp, size_t off, size_t sz)
{
	struct aor_node *a = *pp;
	memmove(a->data + off, a->data + off + sz, RECS_END(a) - off - sz);
	a->used -= (uint32_t)sz;
	a->n--;
	(void)node_resize(pp, a->used);
}

/* Deletes the records with expires <= now in one pass; returns how many. */
static int node_drop_expired(struct aor_node **pp, int64_t now)
{
	struct aor_node *a = *pp;
	size_t w = RECS_BEGIN(a), end = RECS_END(a), sz;
	int dropped = 0;
	struct rec r;
	for (size_t off = RECS_BEGIN(a); off < end; off += sz) {
		sz = rec_read(a, off, &r);
		if (r.expires <= now) {
			dropped++;
			continue;
		}
		if (w != off)
			memmove(a->data + w, a->data + off, sz);
		w += sz;
	}
	if (dropped) {
		a->n -= (uint32_t)dropped;
		a->used = (uint32_t)(w - RECS_BEGIN(a));
		(void)node_resize(pp, a->used);
	}
	return dropped;
}

/* Unlinks and frees the node at *pp when it has no bindings left. */
static void node_gc(struct mem_loc *m, struct aor_node **pp)
{
	struct aor_node *a = *pp;
	if (a->n)
		return;
	*pp = a->next;
	sip_free(a);
	m->naors--;
}

/* The record b replaces: the rule of sip__binding_match() (location.c),
 * applied to records instead of an array of struct sip_binding. Returns its
 * index or -1; *off, *r and *cur describe the match. */
static long node_match(const struct sip_location *loc, const struct aor_node *a, const struct sip_binding *b,
		       size_t *off, struct rec *r, struct sip_binding *cur)
{
	size_t end = RECS_END(a), sz;
	long i;
	bool flow = b->instance.len && b->reg_id;
	/* RFC 5626 §6: a flow is identified by instance + reg-id, whatever its
	 * contact URI. */
	if (flow) {
		i = 0;
		for (*off = RECS_BEGIN(a); *off < end; *off += sz, i++) {
			sz = rec_read(a, *off, r);
			if (r->reg_id != b->reg_id)
				continue;
			rec_view(a, *off, r, cur);
			if (sip_str_eq(cur->instance, b->instance))
				return i;
		}
	}
	i = 0;
	for (*off = RECS_BEGIN(a); *off < end; *off += sz, i++) {
		sz = rec_read(a, *off, r);
		/* A binding that is an outbound flow is replaced only by its own flow. */
		if (flow && r->reg_id)
			continue;
		rec_view(a, *off, r, cur);
		if (sip__uri_eq(loc, cur->contact_uri, b->contact_uri))
			return i;
	}
	return -1;
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

/* ---- operations ---- */

static int mem_upsert(struct sip_location *loc, const struct sip_binding *b, int64_t now)
{
	struct mem_loc *m = (struct mem_loc *)loc;
	/* The wrapper checked already; the 16-bit lengths rely on the caps. */
	int rc = sip__binding_check(b);
	if (rc)
		return rc;
	uint32_t h = hash_aor(b->aor);
	struct aor_node **pp = find_slot(m, b->aor, h);
	size_t off = 0;
	struct rec old;
	struct sip_binding cur;
	long i = *pp ? node_match(loc, *pp, b, &off, &old, &cur) : -1;
	if (i >= 0 && old.expires > now && sip_str_eq(cur.call_id, b->call_id) && b->cseq <= old.cseq)
		return SIP_ESTATE;
	if (b->expires <= now) {
		if (i >= 0) {
			node_del(pp, off, rec_size(&old));
			node_gc(m, pp);
		}
		return 0;
	}
	struct rec r = rec_of(b, now);
	if (i >= 0)
		return node_put(pp, off, rec_size(&old), &r, b);
	if (!*pp) {
		if (m->naors >= m->nbuckets && m->nbuckets < MEM_MAX_BUCKETS && grow_table(m) != 0)
			return SIP_ENOMEM;
		pp = find_slot(m, b->aor, h);
		struct aor_node *a = sip_malloc(NODE_HDR + b->aor.len);
		if (!a)
			return SIP_ENOMEM;
		a->next = NULL;
		a->hash = h;
		a->aor_len = (uint16_t)b->aor.len;
		a->n = 0;
		a->used = 0;
		memcpy(a->data, b->aor.p, b->aor.len);
		*pp = a;
		m->naors++;
	}
	/* Expired bindings make room before the cap is applied. */
	node_drop_expired(pp, now);
	size_t max = loc->cfg.max_bindings ? loc->cfg.max_bindings : SIP_LOCATION_MAX_BINDINGS;
	rc = (*pp)->n >= max ? SIP_ETOOBIG : node_put(pp, RECS_END(*pp), 0, &r, b);
	if (rc) {
		node_gc(m, pp);
		return rc;
	}
	(*pp)->n++;
	return 0;
}

static int mem_lookup(struct sip_location *loc, struct sip_str aor, int64_t now, struct sip_binding_list *out)
{
	struct mem_loc *m = (struct mem_loc *)loc;
	struct aor_node *a = *find_slot(m, aor, hash_aor(aor));
	struct sip__list_builder lb;
	struct rec r;
	struct sip_binding v;
	sip__lb_init(&lb);
	for (size_t off = a ? RECS_BEGIN(a) : 0, end = a ? RECS_END(a) : 0, sz; off < end; off += sz) {
		sz = rec_read(a, off, &r);
		if (r.expires <= now)
			continue;
		rec_view(a, off, &r, &v);
		if (sip__lb_add(&lb, &v) != 0)
			break;
	}
	return sip__lb_finish(&lb, out, true);
}

static int mem_remove(struct sip_location *loc, struct sip_str aor, struct sip_str contact_uri)
{
	struct mem_loc *m = (struct mem_loc *)loc;
	struct aor_node **pp = find_slot(m, aor, hash_aor(aor));
	struct rec r;
	struct sip_binding v;
	for (size_t off = *pp ? RECS_BEGIN(*pp) : 0, end = *pp ? RECS_END(*pp) : 0, sz; off < end; off += sz) {
		sz = rec_read(*pp, off, &r);
		rec_view(*pp, off, &r, &v);
		if (sip__uri_eq(loc, v.contact_uri, contact_uri)) {
			node_del(pp, off, sz);
			node_gc(m, pp);
			return 0;
		}
	}
	return SIP_ENOTFOUND;
}

static int mem_remove_aor(struct sip_location *loc, struct sip_str aor)
{
	struct mem_loc *m = (struct mem_loc *)loc;
	struct aor_node **pp = find_slot(m, aor, hash_aor(aor));
	struct aor_node *a = *pp;
	if (!a)
		return 0;
	int n = a->n > INT32_MAX ? INT32_MAX : (int)a->n;
	*pp = a->next;
	sip_free(a);
	m->naors--;
	return n;
}

static int mem_purge(struct sip_location *loc, int64_t now)
{
	struct mem_loc *m = (struct mem_loc *)loc;
	long n = 0;
	for (size_t k = 0; k < m->nbuckets; k++) {
		struct aor_node **pp = &m->buckets[k];
		while (*pp) {
			n += node_drop_expired(pp, now);
			if ((*pp)->n == 0)
				node_gc(m, pp);
			else
				pp = &(*pp)->next;
		}
	}
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

static long count_live(const struct aor_node *a, int64_t now)
{
	long n = 0;
	struct rec r;
	for (size_t off = RECS_BEGIN(a), end = RECS_END(a); off < end; off += rec_size(&r)) {
		rec_read(a, off, &r);
		n += r.expires > now;
	}
	return n;
}

static int mem_count(struct sip_location *loc, struct sip_str aor, int64_t now)
{
	struct mem_loc *m = (struct mem_loc *)loc;
	long n = 0;
	if (aor.len) {
		struct aor_node *a = *find_slot(m, aor, hash_aor(aor));
		n = a ? count_live(a, now) : 0;
	} else {
		for (size_t k = 0; k < m->nbuckets; k++)
			for (struct aor_node *a = m->buckets[k]; a; a = a->next)
				n += count_live(a, now);
	}
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
			sip_free(a);
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
