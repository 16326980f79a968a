/* ratelimit.c — per-source token buckets in a fixed, set-associative table.
 * A token is period_ms units and a millisecond refills `rate` units, so a
 * refill of rate/period_ms tokens per millisecond loses nothing to rounding. */
#include <sip/ratelimit.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define WAYS 4

struct rl_entry {
	uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	bool used, dropping;
	sip_ms_t last;	  /* last refill */
	uint64_t tokens;  /* in units: a token is rl->unit */
};

struct sip_ratelimit {
	uint64_t refill_per_ms;	    /* = rate (tokens per period), in units per ms */
	uint64_t unit;		    /* units in a token: the period in ms */
	uint64_t cap;		    /* burst, in units */
	uint64_t seed;
	size_t sets;		    /* power of 2 */
	struct rl_entry e[];
};

int sip_ratelimit_new(struct sip_ratelimit **out, const struct sip_ratelimit_config *cfg)
{
	if (!out || !cfg || !cfg->rate || cfg->period_ms > SIP_RATELIMIT_MAX_PERIOD_MS)
		return SIP_EINVAL;
	size_t want = cfg->entries ? cfg->entries : SIP_RATELIMIT_DEFAULT_ENTRIES, n = WAYS;
	while (n < want && n < ((size_t)1 << 24))
		n <<= 1;
	struct sip_ratelimit *rl = sip_calloc(1, sizeof(*rl) + n * sizeof(struct rl_entry));
	if (!rl)
		return SIP_ENOMEM;
	rl->unit = cfg->period_ms ? cfg->period_ms : 1000u;
	rl->refill_per_ms = cfg->rate; /* rate tokens × unit units / unit ms */
	rl->cap = (uint64_t)(cfg->burst ? cfg->burst : 2ull * cfg->rate) * rl->unit;
	rl->seed = cfg->seed;
	rl->sets = n / WAYS;
	*out = rl;
	return 0;
}

uint32_t sip_ratelimit_burst(const struct sip_ratelimit *rl)
{
	return rl ? (uint32_t)(rl->cap / rl->unit) : 0;
}

void sip_ratelimit_free(struct sip_ratelimit *rl)
{
	sip_free(rl);
}

bool sip_addr_key(const struct sockaddr *sa, uint8_t k[16])
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET6) {
		memcpy(k, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	if (sa->sa_family == AF_INET) {
		memset(k, 0, 10);
		k[10] = k[11] = 0xff;
		memcpy(k + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	return false;
}

uint64_t sip_addr_key_hash(const uint8_t k[16], uint64_t seed)
{
	uint64_t h = seed ^ 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 16; i++) {
		h ^= k[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

/* src's entry, refilled to now; a new one (full bucket) when insert is
 * set, else NULL for an address not tracked. */
static struct rl_entry *entry(struct sip_ratelimit *rl, const uint8_t k[16], sip_ms_t now, bool insert)
{
	struct rl_entry *set = &rl->e[(sip_addr_key_hash(k, rl->seed) & (rl->sets - 1)) * WAYS], *e = NULL, *victim = set;
	for (int i = 0; i < WAYS; i++) {
		if (set[i].used && !memcmp(set[i].addr, k, 16)) {
			e = &set[i];
			break;
		}
		if (!set[i].used)
			victim = &set[i];
		else if (victim->used && set[i].last < victim->last)
			victim = &set[i];
	}
	if (!e) {
		if (!insert)
			return NULL;
		/* A new address starts with a full bucket. */
		e = victim;
		memcpy(e->addr, k, 16);
		e->used = true;
		e->dropping = false;
		e->tokens = rl->cap;
		e->last = now;
	} else if (now > e->last) {
		uint64_t gap = now - e->last; /* capped first: gap × rate must not overflow */
		uint64_t add = gap > rl->cap / rl->refill_per_ms ? rl->cap : gap * rl->refill_per_ms;
		e->tokens = add >= rl->cap - e->tokens ? rl->cap : e->tokens + add;
		e->last = now;
	}
	return e;
}

/* The outcome for e: true when a token is there (taken when take is set);
 * else marks a run of refusals and reports its first. */
static int decide(struct sip_ratelimit *rl, struct rl_entry *e, bool take, bool *first)
{
	if (e->tokens >= rl->unit) {
		if (take)
			e->tokens -= rl->unit;
		e->dropping = false;
		return 1;
	}
	if (!e->dropping && first)
		*first = true;
	e->dropping = true;
	return 0;
}

int sip_ratelimit_allow(struct sip_ratelimit *rl, const struct sockaddr *src, sip_ms_t now, bool *first_drop)
{
	uint8_t k[16];
	if (first_drop)
		*first_drop = false;
	if (!rl || !src || !sip_addr_key(src, k))
		return 1;
	return decide(rl, entry(rl, k, now, true), true, first_drop);
}

int sip_ratelimit_peek(struct sip_ratelimit *rl, const struct sockaddr *src, sip_ms_t now, bool *first_refusal)
{
	uint8_t k[16];
	if (first_refusal)
		*first_refusal = false;
	if (!rl || !src || !sip_addr_key(src, k))
		return 1;
	struct rl_entry *e = entry(rl, k, now, false);
	return e ? decide(rl, e, false, first_refusal) : 1;
}
