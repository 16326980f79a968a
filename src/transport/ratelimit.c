/* ratelimit.c — per-source token buckets in a fixed, set-associative table.
 * Tokens are kept in thousandths so a refill of rate/1000 per millisecond
 * loses nothing to rounding. */
#include <sip/ratelimit.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define WAYS 4

struct rl_entry {
	uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	bool used, dropping;
	sip_ms_t last;	  /* last refill */
	uint64_t tokens;  /* thousandths of a token */
};

struct sip_ratelimit {
	uint64_t rate_milli_per_ms; /* = rate (tokens/s) in thousandths per ms */
	uint64_t cap;		    /* burst, in thousandths */
	uint64_t seed;
	size_t sets;		    /* power of 2 */
	struct rl_entry e[];
};

int sip_ratelimit_new(struct sip_ratelimit **out, const struct sip_ratelimit_config *cfg)
{
	if (!out || !cfg || !cfg->rate)
		return SIP_EINVAL;
	size_t want = cfg->entries ? cfg->entries : SIP_RATELIMIT_DEFAULT_ENTRIES, n = WAYS;
	while (n < want && n < ((size_t)1 << 24))
		n <<= 1;
	struct sip_ratelimit *rl = sip_calloc(1, sizeof(*rl) + n * sizeof(struct rl_entry));
	if (!rl)
		return SIP_ENOMEM;
	rl->rate_milli_per_ms = cfg->rate; /* rate/s × 1000 milli-tokens / 1000 ms */
	rl->cap = (uint64_t)(cfg->burst ? cfg->burst : 2ull * cfg->rate) * 1000u;
	rl->seed = cfg->seed;
	rl->sets = n / WAYS;
	*out = rl;
	return 0;
}

void sip_ratelimit_free(struct sip_ratelimit *rl)
{
	sip_free(rl);
}

/* The address as 16 bytes (IPv4 mapped), or false for other families. */
static bool key_of(const struct sockaddr *sa, uint8_t k[16])
{
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

static uint64_t hash(const uint8_t k[16], uint64_t seed)
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

int sip_ratelimit_allow(struct sip_ratelimit *rl, const struct sockaddr *src, sip_ms_t now, bool *first_drop)
{
	uint8_t k[16];
	if (first_drop)
		*first_drop = false;
	if (!rl || !src || !key_of(src, k))
		return 1;
	struct rl_entry *set = &rl->e[(hash(k, rl->seed) & (rl->sets - 1)) * WAYS], *e = NULL, *victim = set;
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
		/* A new address starts with a full bucket. */
		e = victim;
		memcpy(e->addr, k, 16);
		e->used = true;
		e->dropping = false;
		e->tokens = rl->cap;
		e->last = now;
	} else if (now > e->last) {
		uint64_t gap = now - e->last; /* capped first: gap × rate must not overflow */
		uint64_t add = gap > rl->cap / rl->rate_milli_per_ms ? rl->cap : gap * rl->rate_milli_per_ms;
		e->tokens = add >= rl->cap - e->tokens ? rl->cap : e->tokens + add;
		e->last = now;
	}
	if (e->tokens >= 1000) {
		e->tokens -= 1000;
		e->dropping = false;
		return 1;
	}
	if (!e->dropping && first_drop)
		*first_drop = true;
	e->dropping = true;
	return 0;
}
