/* ipcount.c — inbound stream connections per source address, for
 * limits.max_connections_per_ip: one address (a flood, a slowloris) cannot
 * take the whole connection table. An open-addressed table of counts keyed
 * by the 16-byte address (IPv4 mapped), linear probing with backward-shift
 * deletion; at most max_connections addresses are ever in it, and it has
 * twice as many slots, so it never fills. Allocated on first use. */
#include "tp_int.h"

#include <sip/ratelimit.h>

#include <string.h>

struct sip__ipslot {
	uint8_t key[16];
	uint32_t n; /* 0: empty */
};

#define IPCOUNT_MAX_SLOTS (1u << 20)

static size_t slot_of(const struct sip_transport *t, const uint8_t k[16])
{
	return (size_t)sip_addr_key_hash(k, 0) & (t->ipcount_cap - 1);
}

static bool ensure_table(struct sip_transport *t)
{
	if (t->ipcount)
		return true;
	size_t cap = 16;
	while (cap < 2u * (size_t)t->cfg.max_connections + 2 && cap < IPCOUNT_MAX_SLOTS)
		cap <<= 1;
	t->ipcount = sip_calloc(cap, sizeof(*t->ipcount));
	t->ipcount_cap = t->ipcount ? cap : 0;
	return t->ipcount != NULL;
}

bool sip__ipcount_take(struct sip_transport *t, const struct sockaddr *sa)
{
	uint8_t k[16];
	if (!sip_addr_key(sa, k) || !ensure_table(t))
		return true; /* not an IP address, or no memory: the global cap still holds */
	size_t mask = t->ipcount_cap - 1;
	for (size_t i = slot_of(t, k), probes = 0; probes < t->ipcount_cap; i = (i + 1) & mask, probes++) {
		struct sip__ipslot *s = &t->ipcount[i];
		if (!s->n) {
			memcpy(s->key, k, 16);
			s->n = 1;
			return true;
		}
		if (!memcmp(s->key, k, 16)) {
			if (s->n >= t->cfg.max_connections_per_ip)
				return false;
			s->n++;
			return true;
		}
	}
	return true; /* full: cannot happen (more slots than connections) */
}

void sip__ipcount_give(struct sip_transport *t, const struct sockaddr *sa)
{
	uint8_t k[16];
	if (!t->ipcount || !sip_addr_key(sa, k))
		return;
	size_t mask = t->ipcount_cap - 1, i = slot_of(t, k);
	for (size_t probes = 0; t->ipcount[i].n && probes < t->ipcount_cap; i = (i + 1) & mask, probes++) {
		if (memcmp(t->ipcount[i].key, k, 16))
			continue;
		if (--t->ipcount[i].n)
			return;
		/* Emptied: shift later entries of the run back so lookups that
		 * probed past this slot still find them. */
		size_t hole = i;
		for (size_t j = (i + 1) & mask; t->ipcount[j].n; j = (j + 1) & mask) {
			size_t home = slot_of(t, t->ipcount[j].key);
			/* j may move to the hole when its home is not within (hole, j]. */
			bool between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
			if (!between) {
				t->ipcount[hole] = t->ipcount[j];
				t->ipcount[j].n = 0;
				hole = j;
			}
		}
		return;
	}
}

void sip__ipcount_free(struct sip_transport *t)
{
	sip_free(t->ipcount);
	t->ipcount = NULL;
	t->ipcount_cap = 0;
}
