/* users_int.h — test hooks of the credential store's HA1 cache (users.c). */
#ifndef SIP_LOCATION_USERS_INT_H
#define SIP_LOCATION_USERS_INT_H

#include <sip/location.h>

/* Lookup counters since open. */
struct sip__users_stats {
	uint64_t hits;    /* answered from the cache */
	uint64_t misses;  /* read from the database */
	uint64_t flushes; /* whole-cache drops (a write, or users_version moved) */
};

/* Replaces the cache's monotonic millisecond clock (NULL: the system's) and
 * forces a users_version re-read on the next lookup. */
void sip__users_set_clock(struct sip_users *u, int64_t (*now_ms)(void *ud), void *ud);
void sip__users_stats_get(const struct sip_users *u, struct sip__users_stats *out);

#endif
