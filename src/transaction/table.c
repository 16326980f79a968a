/* table.c — the transaction table: matching keys (§17.1.3, §17.2.3 and the
 * RFC 2543 fallback), a seeded hash, and an open-addressed table (linear
 * probing over (hash, pointer) slots, kept at most half full, doubled as it
 * fills). With hundreds of thousands of transactions lingering in Timer J,
 * a chained table cost a cache miss per chain node on every new request's
 * lookup; here a miss mostly reads one cache line of the slot array.
 *
 * Growth is incremental: rehashing a million entries at once stalled the
 * loop for tens of ms (40k REGISTER/s overflowed the socket buffer and the
 * peers retransmitted). The doubled array takes new entries at once; the
 * old one is drained DRAIN_STEP slots per new transaction, which empties it
 * well before the new array can fill (it gains at most nold/2 entries while
 * DRAIN_STEP * nold/2 >= nold slots are moved). Until then a lookup that
 * misses the new array also probes the old, where a removed entry leaves a
 * tombstone (no backward shift: that could move an entry behind the drain
 * cursor). */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include "transaction/txn_int.h"

#define TABLE_INITIAL_SLOTS 2048u
/* Past this the table no longer doubles (4x the default max_txns). */
#define TABLE_MAX_SLOTS (1u << 24)
#define DRAIN_STEP 8u
/* A removed entry of the draining array: probes go on past it. */
#define TOMBSTONE ((struct sip_txn *)&tombstone_mark)
static const char tombstone_mark;

/* A seeded FNV-1a over bytes with a final avalanche (murmur3 fmix64). Keys
 * are chosen by peers, so the seed (config hash_seed) should be random. */
#define FNV_PRIME 0x100000001b3ull

static uint64_t h_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * FNV_PRIME;
	return h;
}

static uint64_t h_lower(uint64_t h, struct sip_str s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		h = (h ^ c) * FNV_PRIME;
	}
	return h;
}

/* Hashes a slice with its length so ("ab","c") and ("a","bc") differ. */
static uint64_t h_str(uint64_t h, struct sip_str s)
{
	uint32_t n = (uint32_t)s.len;
	h = h_bytes(h, &n, sizeof(n));
	return h_bytes(h, s.p, s.len);
}

static uint64_t h_final(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static uint64_t h_start(const struct sip_txn_layer *l, char domain)
{
	return h_bytes(0xcbf29ce484222325ull ^ l->cfg.hash_seed, &domain, 1);
}

/* Slot arrays of 2 MiB and more are mapped with transparent huge pages
 * asked for: a lookup of a new request is a random read of the array, and
 * with 4 KiB pages (20 MiB at ~640k transactions) nearly every one also
 * missed the TLB — in a VM a two-level page walk, ~6% of the CPU. */
#define HUGE_BYTES (2u << 20)

static struct sip__slot *slots_alloc(size_t n)
{
	size_t bytes = n * sizeof(struct sip__slot);
	if (bytes < HUGE_BYTES)
		return sip_calloc(n, sizeof(struct sip__slot));
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: 4 KiB pages still work */
	return p;
}

static void slots_free(struct sip__slot *a, size_t n)
{
	size_t bytes = n * sizeof(struct sip__slot);
	if (bytes < HUGE_BYTES)
		sip_free(a);
	else if (a)
		munmap(a, bytes);
}

int sip__table_init(struct sip_txn_layer *l)
{
	l->slots = slots_alloc(TABLE_INITIAL_SLOTS);
	if (!l->slots)
		return SIP_ENOMEM;
	l->nslots = TABLE_INITIAL_SLOTS;
	return 0;
}

void sip__table_free(struct sip_txn_layer *l)
{
	slots_free(l->old, l->nold);
	l->old = NULL;
	l->nold = 0;
	slots_free(l->slots, l->nslots);
	l->slots = NULL;
	l->nslots = 0;
}

static bool has_cookie(struct sip_str branch)
{
	return branch.len >= SIP__MAGIC_COOKIE_LEN && memcmp(branch.p, SIP__MAGIC_COOKIE, SIP__MAGIC_COOKIE_LEN) == 0;
}

static uint64_t h_method(uint64_t h, const struct sip__key *k)
{
	h = h_bytes(h, &k->method, 1);
	if (k->method == SIP_METHOD_UNKNOWN)
		h = h_str(h, k->mname);
	return h;
}

uint32_t sip__tag_hash(const struct sip_txn_layer *l, const struct sip_nameaddr *to)
{
	if (!to->has_tag)
		return 0;
	/* 0 is "no tag"; a real tag hashing to 0 is folded onto 1. */
	uint32_t v = (uint32_t)h_final(h_str(h_start(l, 't'), to->tag));
	return v ? v : 1;
}

static int set_method(struct sip__key *k, const struct sip_msg *m, enum sip_method override, bool from_cseq)
{
	if (override) {
		k->method = (uint8_t)override;
		k->mname = SIP_STR_NULL;
		return 0;
	}
	k->method = (uint8_t)(from_cseq ? m->cseq.method_id : m->method_id);
	k->mname = k->method == SIP_METHOD_UNKNOWN ? (from_cseq ? m->cseq.method : m->method) : SIP_STR_NULL;
	if (k->method == SIP_METHOD_UNKNOWN && (k->mname.len == 0 || k->mname.len > SIP_TXN_MAX_METHOD))
		return SIP_EINVAL;
	return 0;
}

static bool present(const struct sip_msg *m, enum sip_hdr_id id) { return m->first[id] != SIP_HDR_NONE; }

int sip__key_request(const struct sip_txn_layer *l, const struct sip_msg *m, enum sip_method method_override,
		     struct sip__key *k)
{
	memset(k, 0, sizeof(*k));
	k->server = true;
	if (!present(m, SIP_HDR_VIA) || !present(m, SIP_HDR_CSEQ) || !present(m, SIP_HDR_CALL_ID) ||
	    !present(m, SIP_HDR_FROM) || !present(m, SIP_HDR_TO))
		return SIP_EINVAL;
	int rc = set_method(k, m, method_override, false);
	if (rc)
		return rc;
	if (m->via.has_branch && has_cookie(m->via.branch)) {
		/* §17.2.3: branch + sent-by + method. */
		if (m->via.branch.len > SIP_TXN_MAX_BRANCH || m->via.host.len > SIP_TXN_MAX_HOST)
			return SIP_ETOOBIG;
		k->branch = m->via.branch;
		k->host = m->via.host;
		k->port = m->via.port;
		k->has_port = m->via.has_port;
		uint64_t h = h_start(l, 'S');
		h = h_method(h, k);
		h = h_str(h, k->branch);
		h = h_lower(h, k->host);
		h = h_bytes(h, &k->port, sizeof(k->port));
		k->hash = h_final(h);
		return 0;
	}
	/* RFC 2543 fallback (§17.2.3): Request-URI, From tag, Call-ID, CSeq
	 * number and top Via identify the transaction; the To tag is compared
	 * separately (the ACK's is the one of our response). Fields are compared
	 * as bytes, through a 64-bit hash (collisions ~2^-64 per pair). */
	k->rfc2543 = true;
	uint64_t f = h_start(l, '2');
	f = h_str(f, m->ruri_str);
	f = h_str(f, m->from.has_tag ? m->from.tag : SIP_STR_NULL);
	f = h_str(f, m->call_id);
	f = h_bytes(f, &m->cseq.num, sizeof(m->cseq.num));
	f = h_str(f, m->via.raw);
	k->h2543 = h_final(f);
	k->totag = sip__tag_hash(l, &m->to);
	uint64_t h = h_start(l, 'R');
	h = h_method(h, k);
	h = h_bytes(h, &k->h2543, sizeof(k->h2543));
	k->hash = h_final(h);
	return 0;
}

int sip__key_client(const struct sip_txn_layer *l, const struct sip_msg *m, struct sip__key *k)
{
	memset(k, 0, sizeof(*k));
	if (!present(m, SIP_HDR_VIA) || !present(m, SIP_HDR_CSEQ))
		return SIP_EINVAL;
	/* §17.1.3: we only ever create RFC 3261 branches, so anything else is not ours. */
	if (!m->via.has_branch || !has_cookie(m->via.branch))
		return SIP_ENOTFOUND;
	if (m->via.branch.len > SIP_TXN_MAX_BRANCH)
		return SIP_ETOOBIG;
	int rc = set_method(k, m, 0, true);
	if (rc)
		return rc;
	k->branch = m->via.branch;
	uint64_t h = h_start(l, 'C');
	h = h_method(h, k);
	h = h_str(h, k->branch);
	k->hash = h_final(h);
	return 0;
}

static struct sip_str t_branch(const struct sip_txn *t) { return (struct sip_str){t->key, t->branch_len}; }
static struct sip_str t_host(const struct sip_txn *t) { return (struct sip_str){t->key + t->branch_len, t->host_len}; }
static struct sip_str t_mname(const struct sip_txn *t)
{
	return (struct sip_str){t->key + t->branch_len + t->host_len, t->mname_len};
}

static bool key_matches(const struct sip_txn *t, const struct sip__key *k)
{
	if (t->hash != k->hash || t->method != k->method || !!(t->flags & SIP__F_SERVER) != k->server ||
	    !!(t->flags & SIP__F_2543) != k->rfc2543)
		return false;
	if (k->method == SIP_METHOD_UNKNOWN && !sip_str_eq(t_mname(t), k->mname))
		return false;
	if (k->rfc2543)
		return t->h2543 == k->h2543 && (k->ack ? t->totag_resp : t->totag_req) == k->totag;
	if (!sip_str_eq(t_branch(t), k->branch))
		return false;
	if (!k->server)
		return true;
	return t->port == k->port && t->has_port == k->has_port && sip_str_caseeq(t_host(t), k->host);
}

/* Probes one array; tombstones (only in the draining one) never match. */
static struct sip_txn *find_in(const struct sip__slot *slots, size_t n, const struct sip__key *k)
{
	size_t mask = n - 1;
	for (size_t i = k->hash & mask;; i = (i + 1) & mask) {
		const struct sip__slot *e = &slots[i];
		if (!e->t)
			return NULL; /* an array always has empty slots */
		if (e->t != TOMBSTONE && e->hash == k->hash && key_matches(e->t, k))
			return e->t;
	}
}

struct sip_txn *sip__table_find(const struct sip_txn_layer *l, const struct sip__key *k)
{
	struct sip_txn *t = find_in(l->slots, l->nslots, k);
	if (!t && l->old)
		t = find_in(l->old, l->nold, k);
	return t;
}

static void place(struct sip__slot *slots, size_t mask, uint64_t hash, struct sip_txn *t)
{
	size_t i = hash & mask;
	while (slots[i].t)
		i = (i + 1) & mask;
	slots[i] = (struct sip__slot){hash, t};
}

/* Moves up to `steps` slots of the draining array into the current one;
 * frees it once empty. */
static void drain(struct sip_txn_layer *l, size_t steps)
{
	if (!l->old)
		return;
	size_t mask = l->nslots - 1;
	for (; steps && l->old_next < l->nold; steps--, l->old_next++) {
		struct sip__slot *e = &l->old[l->old_next];
		if (!e->t || e->t == TOMBSTONE)
			continue; /* an empty slot stays empty: probes must still end */
		place(l->slots, mask, e->hash, e->t);
		e->t = TOMBSTONE; /* keeps later entries of its run reachable */
	}
	if (l->old_next == l->nold) {
		slots_free(l->old, l->nold);
		l->old = NULL;
		l->nold = l->old_next = 0;
	}
}

void sip__table_settle(struct sip_txn_layer *l) { drain(l, SIZE_MAX); }

/* Starts doubling the slot array: new entries go to the new one, the old one
 * drains as transactions are added. 0, or SIP_ENOMEM / SIP_ETOOBIG (then the
 * caller refuses the new transaction: the table must keep empty slots). */
static int grow(struct sip_txn_layer *l)
{
	if (l->nslots >= TABLE_MAX_SLOTS)
		return SIP_ETOOBIG;
	sip__table_settle(l); /* not reached in practice: see the drain bound above */
	size_t n = l->nslots * 2;
	struct sip__slot *a = slots_alloc(n);
	if (!a)
		return SIP_ENOMEM;
	l->old = l->slots;
	l->nold = l->nslots;
	l->old_next = 0;
	l->slots = a;
	l->nslots = n;
	return 0;
}

int sip__txn_alloc(struct sip_txn_layer *l, const struct sip__key *k, enum sip_txn_kind kind,
		   const struct sip_txn_dest *dest, struct sip_txn **out)
{
	if (l->count >= l->cfg.max_txns)
		return SIP_ETOOBIG;
	/* Room for both timers of every transaction: arming never fails later. */
	int rc = sip__theap_reserve(&l->heap, 2 * (l->count + 1));
	if (rc)
		return rc;
	if (2 * (l->count + 1) > l->nslots && (rc = grow(l)) != 0)
		return rc;
	drain(l, DRAIN_STEP);
	size_t hostlen = k->server ? k->host.len : 0;
	size_t keylen = k->branch.len + hostlen + k->mname.len;
	size_t size = sizeof(struct sip_txn) + keylen;
	struct sip_txn *t = sip__pool_alloc(&l->pool, size);
	if (!t)
		return SIP_ENOMEM;
	memset(t, 0, sizeof(*t));
	t->layer = l;
	t->hash = k->hash;
	t->h2543 = k->h2543;
	t->totag_req = k->totag;
	t->kind = (uint8_t)kind;
	t->method = k->method;
	t->flags = (uint8_t)((k->server ? SIP__F_SERVER : 0) | (k->rfc2543 ? SIP__F_2543 : 0));
	t->branch_len = (uint8_t)k->branch.len;
	t->host_len = (uint8_t)hostlen;
	t->mname_len = (uint8_t)k->mname.len;
	t->port = k->port;
	t->has_port = k->has_port;
	t->tm[0].slot = SIP__TM_RETX;
	t->tm[1].slot = SIP__TM_LIFE;
	if (dest)
		t->dest = *dest;
	if (k->branch.len)
		memcpy(t->key, k->branch.p, k->branch.len);
	if (hostlen)
		memcpy(t->key + k->branch.len, k->host.p, hostlen);
	if (k->mname.len)
		memcpy(t->key + k->branch.len + hostlen, k->mname.p, k->mname.len);
	place(l->slots, l->nslots - 1, t->hash, t);
	l->count++;
	l->txn_bytes += size;
	*out = t;
	return 0;
}

/* Removes t from the draining array: a tombstone, no shift. */
static bool unlink_old(struct sip_txn_layer *l, struct sip_txn *t)
{
	size_t mask = l->nold - 1;
	for (size_t i = t->hash & mask; l->old[i].t; i = (i + 1) & mask) {
		if (l->old[i].t == t) {
			l->old[i].t = TOMBSTONE;
			return true;
		}
	}
	return false;
}

void sip__table_unlink(struct sip_txn *t)
{
	struct sip_txn_layer *l = t->layer;
	if (l->old && unlink_old(l, t)) {
		l->count--;
		return;
	}
	size_t mask = l->nslots - 1;
	size_t i = t->hash & mask;
	while (l->slots[i].t != t) {
		if (!l->slots[i].t)
			return; /* not linked */
		i = (i + 1) & mask;
	}
	/* Backward-shift deletion: pull up every later entry of the run that may
	 * live at the hole (its home slot is not cyclically within (hole, j]). */
	size_t hole = i;
	for (size_t j = (i + 1) & mask; l->slots[j].t; j = (j + 1) & mask) {
		size_t home = l->slots[j].hash & mask;
		if (((j - home) & mask) >= ((j - hole) & mask)) {
			l->slots[hole] = l->slots[j];
			hole = j;
		}
	}
	l->slots[hole] = (struct sip__slot){0, NULL};
	l->count--;
}
