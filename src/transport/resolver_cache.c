/* resolver_cache.c — a per-resolver DNS answer cache keyed by (name, type),
 * honouring the records' TTLs (RFC 1035 §3.2.1; negative answers for the
 * SOA's TTL/minimum, RFC 2308 §5). Sans-I/O: time is an argument, answers
 * are raw DNS messages as c-ares returned them, so a cached answer is fed to
 * the core exactly like a fresh one. Failures and timeouts are not cached.
 *
 * A small open-addressed table of SIP__DCACHE_SLOTS entries; a full probe
 * window evicts its oldest entry. Names compare case-insensitively. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "transport/resolver_int.h"

#define PROBE 8

static uint32_t rd16(const unsigned char *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t rd32(const unsigned char *p) { return rd16(p) << 16 | rd16(p + 2); }

/* Skips a (possibly compressed) name at off; returns the offset after it, or 0. */
static size_t skip_name(const unsigned char *m, size_t len, size_t off)
{
	for (int labels = 0; off < len && labels < 128; labels++) {
		unsigned c = m[off];
		if (c == 0)
			return off + 1;
		if ((c & 0xC0) == 0xC0)
			return off + 2 <= len ? off + 2 : 0; /* a pointer ends the name */
		if (c & 0xC0)
			return 0;
		off += 1 + c;
	}
	return 0;
}

uint32_t sip__dns_answer_ttl(const unsigned char *m, size_t len, bool negative)
{
	if (len < 12)
		return 0;
	uint32_t qd = rd16(m + 4), an = rd16(m + 6), ns = rd16(m + 8);
	size_t off = 12;
	for (uint32_t i = 0; i < qd; i++) {
		if (!(off = skip_name(m, len, off)) || off + 4 > len)
			return 0;
		off += 4;
	}
	uint32_t ttl = UINT32_MAX;
	bool seen = false;
	for (uint32_t i = 0; i < an + ns; i++) {
		if (!(off = skip_name(m, len, off)) || off + 10 > len)
			return 0;
		uint32_t type = rd16(m + off), rttl = rd32(m + off + 4), rdlen = rd16(m + off + 8);
		size_t rdata = off + 10;
		if (rdata + rdlen > len)
			return 0;
		if (!negative && i < an) {
			ttl = rttl < ttl ? rttl : ttl;
			seen = true;
		} else if (negative && i >= an && type == 6 /* SOA */) {
			/* RFC 2308 §5: the lesser of the SOA's own TTL and its MINIMUM. */
			size_t p = skip_name(m, len, rdata);
			p = p ? skip_name(m, len, p) : 0;
			if (!p || p + 20 > rdata + rdlen)
				return 0;
			uint32_t min = rd32(m + p + 16);
			ttl = rttl < min ? rttl : min;
			seen = true;
		}
		off = rdata + rdlen;
	}
	return seen ? ttl : 0;
}

static uint64_t hash_key(const char *name, int type)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)type;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)tolower((unsigned char)*p)) * 1099511628211ull;
	return h ^ (h >> 29);
}

void sip__dcache_free(struct sip__dcache *c)
{
	for (size_t i = 0; i < SIP__DCACHE_SLOTS; i++) {
		sip_free(c->e[i].msg);
		c->e[i].msg = NULL;
	}
}

static bool same(const struct sip__dentry *e, uint64_t h, const char *name, int type)
{
	return e->msg && e->hash == h && e->type == type && strcasecmp(e->name, name) == 0;
}

bool sip__dcache_get(struct sip__dcache *c, const char *name, int type, uint64_t now_ms, int *status,
		     const unsigned char **msg, size_t *len)
{
	uint64_t h = hash_key(name, type);
	for (size_t k = 0; k < PROBE; k++) {
		struct sip__dentry *e = &c->e[(h + k) & (SIP__DCACHE_SLOTS - 1)];
		if (!same(e, h, name, type))
			continue;
		if (now_ms >= e->expires_ms) {
			sip_free(e->msg);
			e->msg = NULL;
			return false;
		}
		*status = e->status;
		*msg = e->msg;
		*len = e->len;
		c->hits++;
		return true;
	}
	c->misses++;
	return false;
}

void sip__dcache_put(struct sip__dcache *c, const char *name, int type, int status, bool negative,
		     const unsigned char *msg, size_t len, uint64_t now_ms)
{
	size_t nlen = strlen(name);
	if (!msg || !len || len > SIP__DCACHE_MAX_MSG || nlen >= sizeof c->e[0].name)
		return;
	uint32_t ttl = sip__dns_answer_ttl(msg, len, negative);
	if (ttl > SIP__DCACHE_MAX_TTL)
		ttl = SIP__DCACHE_MAX_TTL;
	if (ttl == 0)
		return; /* TTL 0: use once, never cache (RFC 1035 §3.2.1) */
	uint64_t h = hash_key(name, type);
	struct sip__dentry *slot = NULL;
	for (size_t k = 0; k < PROBE; k++) {
		struct sip__dentry *e = &c->e[(h + k) & (SIP__DCACHE_SLOTS - 1)];
		if (same(e, h, name, type) || !e->msg) {
			slot = e;
			break;
		}
		if (!slot || e->expires_ms < slot->expires_ms)
			slot = e; /* evict the entry closest to expiry */
	}
	unsigned char *copy = sip_malloc(len);
	if (!copy)
		return;
	memcpy(copy, msg, len);
	sip_free(slot->msg);
	slot->msg = copy;
	slot->len = len;
	slot->hash = h;
	slot->type = type;
	slot->status = status;
	slot->expires_ms = now_ms + (uint64_t)ttl * 1000;
	memcpy(slot->name, name, nlen + 1);
}
