/* redis_codec.c — the Redis location backend's byte formats
 * (redis_int.h) and its URL (sip_location_redis_url). Values read back are
 * checked field by field: a value that is not ours is skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "location/redis_int.h"

enum { F_CONTACT_URI, F_CONTACT, F_CALL_ID, F_PATH, F_INSTANCE, F_RECEIVED, F_USER_AGENT, NFIELD };

static struct sip_str *field(struct sip_binding *b, int i)
{
	struct sip_str *f[NFIELD] = {&b->contact_uri, &b->contact,  &b->call_id,   &b->path,
				     &b->instance,    &b->received, &b->user_agent};
	return f[i];
}

/* "1 <expires> <updated> <q> <cseq> <reg_id>" then "<len>:<bytes>" per
 * string. Returns a sip_malloc'd buffer and its length, NULL on ENOMEM. */
char *sip__redis_ser(const struct sip_binding *b, int64_t updated, size_t *len)
{
	struct sip_binding v = *b;
	size_t cap = 96;
	for (int i = 0; i < NFIELD; i++)
		cap += field(&v, i)->len + 12;
	char *out = sip_malloc(cap);
	if (!out)
		return NULL;
	int n = snprintf(out, cap, "1 %lld %lld %d %u %u ", (long long)b->expires, (long long)updated, (int)b->q,
			 (unsigned)b->cseq, (unsigned)b->reg_id);
	size_t o = (size_t)n;
	for (int i = 0; i < NFIELD; i++) {
		struct sip_str s = *field(&v, i);
		o += (size_t)snprintf(out + o, cap - o, "%zu:", s.len);
		if (s.len)
			memcpy(out + o, s.p, s.len);
		o += s.len;
	}
	*len = o;
	return out;
}

/* Reads a decimal (optionally negative) number ending at a space or ':'. */
static bool num(const char **p, const char *end, int64_t *out, char stop)
{
	const char *s = *p;
	bool neg = s < end && *s == '-';
	if (neg)
		s++;
	int64_t v = 0;
	const char *d = s;
	while (s < end && *s >= '0' && *s <= '9' && s - d < 18)
		v = v * 10 + (*s++ - '0');
	if (s == d || s >= end || *s != stop)
		return false;
	*p = s + 1;
	*out = neg ? -v : v;
	return true;
}

/* The binding in value (slices point into it); false when it is not one we
 * wrote (skipped: another program's data, or a newer format). */
bool sip__redis_deser(struct sip_str aor, const char *p, size_t len, struct sip_binding *b)
{
	const char *end = p + len;
	int64_t ver, v[5];
	memset(b, 0, sizeof(*b));
	if (!num(&p, end, &ver, ' ') || ver != 1)
		return false;
	for (int i = 0; i < 5; i++)
		if (!num(&p, end, &v[i], ' '))
			return false;
	b->aor = aor;
	b->expires = v[0];
	b->updated = v[1];
	b->q = (int32_t)v[2];
	b->cseq = (uint32_t)v[3];
	b->reg_id = (uint32_t)v[4];
	for (int i = 0; i < NFIELD; i++) {
		int64_t n;
		if (!num(&p, end, &n, ':') || n < 0 || n > end - p || n > SIP_LOCATION_MAX_FIELD)
			return false;
		*field(b, i) = (struct sip_str){p, (size_t)n};
		p += n;
	}
	return p == end && b->contact_uri.len > 0;
}

/* The hash field naming binding b. */
size_t sip__redis_field_of(const struct sip_binding *b, char *buf, size_t cap)
{
	int n = b->instance.len && b->reg_id
		    ? snprintf(buf, cap, "i%u:%.*s", (unsigned)b->reg_id, SIP_STR_ARG(b->instance))
		    : snprintf(buf, cap, "c%.*s", SIP_STR_ARG(b->contact_uri));
	return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

int sip_location_redis_url(const char *url, char *host, size_t hcap, int *port, int *db)
{
	static const char scheme[] = "redis://";
	if (!url || strncmp(url, scheme, sizeof(scheme) - 1) != 0)
		return SIP_EINVAL;
	const char *h = url + sizeof(scheme) - 1, *end = h + strlen(h);
	const char *slash = memchr(h, '/', (size_t)(end - h));
	const char *hp_end = slash ? slash : end;
	const char *colon = NULL;
	if (*h == '[') { /* [IPv6]:port */
		const char *rb = memchr(h, ']', (size_t)(hp_end - h));
		if (!rb)
			return SIP_EINVAL;
		colon = rb + 1 < hp_end && rb[1] == ':' ? rb + 1 : NULL;
		if ((size_t)(rb - h - 1) >= hcap || rb == h + 1)
			return SIP_EINVAL;
		memcpy(host, h + 1, (size_t)(rb - h - 1));
		host[rb - h - 1] = '\0';
	} else {
		colon = memchr(h, ':', (size_t)(hp_end - h));
		const char *he = colon ? colon : hp_end;
		if (he == h || (size_t)(he - h) >= hcap)
			return SIP_EINVAL;
		memcpy(host, h, (size_t)(he - h));
		host[he - h] = '\0';
	}
	*port = 6379;
	*db = 0;
	if (colon) {
		char *e;
		long p = strtol(colon + 1, &e, 10);
		if (e != hp_end || p < 1 || p > 65535)
			return SIP_EINVAL;
		*port = (int)p;
	}
	if (slash && slash + 1 < end) {
		char *e;
		long d = strtol(slash + 1, &e, 10);
		if (*e || d < 0 || d > 1000)
			return SIP_EINVAL;
		*db = (int)d;
	}
	return 0;
}

