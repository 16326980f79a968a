/* auth.c — digest authentication for the UA client core (RFC 3261 §22.2,
 * §22.3; RFC 7616 algorithms through sip_auth_client_*): which challenge to
 * answer, when a challenge means the password is wrong, and the
 * (Proxy-)Authorization lines of each attempt. */
#include <string.h>

#include "ua/ua_auth.h"

void sip__ua_auth_begin(struct sip_ua_session *s)
{
	for (size_t i = 0; i < SIP_UA_MAX_REALMS; i++) {
		s->auth[i].sent = false;
		s->auth[i].answered = false;
	}
}

static struct sip_digest_challenge entry_challenge(const struct sip_ua_auth_entry *e)
{
	struct sip_digest_challenge ch;
	memset(&ch, 0, sizeof(ch));
	ch.realm = (struct sip_str){e->realm, e->realm_len};
	ch.nonce = (struct sip_str){e->nonce, e->nonce_len};
	ch.opaque = (struct sip_str){e->opaque, e->opaque_len};
	ch.algorithm = (struct sip_str){e->alg, e->alg_len};
	ch.qop = (struct sip_str){e->qop, e->qop_len};
	return ch;
}

int sip__ua_auth_lines(struct sip_ua_session *s, unsigned algs, struct sip_str user, struct sip_str password,
		       struct sip_str method, struct sip_str uri, char *out, size_t cap)
{
	size_t len = 0;
	if (!s || !out || cap == 0)
		return SIP_EINVAL;
	out[0] = 0;
	for (size_t i = 0; i < SIP_UA_MAX_REALMS; i++) {
		struct sip_ua_auth_entry *e = &s->auth[i];
		if (!e->used)
			continue;
		const char *name = e->proxy ? "Proxy-Authorization: " : "Authorization: ";
		size_t nl = strlen(name);
		if (cap - len < nl + 3)
			return SIP_ETOOBIG;
		memcpy(out + len, name, nl);
		struct sip_digest_challenge ch = entry_challenge(e);
		e->client.algs = algs;
		int n = sip_auth_client_answer(&e->client, &ch, user, password, method, uri, out + len + nl,
					       cap - len - nl - 2);
		if (n < 0) {
			out[len] = 0;
			return n;
		}
		len += nl + (size_t)n;
		memcpy(out + len, "\r\n", 3);
		len += 2;
		e->sent = true;
	}
	return (int)len;
}

/* Whether a qop-options list is empty (RFC 2069 style) or offers "auth":
 * anything else (auth-int only) we cannot answer. */
static bool qop_ok(struct sip_str list)
{
	size_t i = 0;
	if (!list.len)
		return true;
	while (i < list.len) {
		while (i < list.len && (list.p[i] == ',' || list.p[i] == ' ' || list.p[i] == '\t'))
			i++;
		size_t start = i;
		while (i < list.len && list.p[i] != ',' && list.p[i] != ' ' && list.p[i] != '\t')
			i++;
		if (sip_str_caseeq((struct sip_str){list.p + start, i - start}, SIP_STR("auth")))
			return true;
	}
	return false;
}

struct found {
	struct sip_digest_challenge ch[SIP_UA_MAX_CHALLENGES];
	bool proxy[SIP_UA_MAX_CHALLENGES];
	bool done[SIP_UA_MAX_CHALLENGES];
	size_t n;
};

/* Collects the Digest challenges we could answer from one header kind. */
static void collect(struct found *f, const struct sip_msg *m, enum sip_hdr_id id, bool proxy)
{
	struct sip_hdr_iter it;
	struct sip_str v;
	sip_hdr_iter_init(&it, m, id);
	while (f->n < SIP_UA_MAX_CHALLENGES && sip_hdr_iter_next(&it, &v) == 1) {
		struct sip_auth a;
		if (sip_auth_parse(&a, v, NULL) < 0)
			continue;
		struct sip_digest_challenge *ch = &f->ch[f->n];
		/* Not Digest, a value past our caps, no nonce or realm: skip it, another
		 * value may still be answerable. */
		if (sip_digest_challenge_from_auth(ch, &a) < 0 || !ch->nonce.len || !ch->realm.len ||
		    !qop_ok(ch->qop))
			continue;
		f->proxy[f->n] = proxy;
		f->done[f->n] = false;
		f->n++;
	}
}

static struct sip_ua_auth_entry *find_entry(struct sip_ua_session *s, bool proxy, struct sip_str realm)
{
	for (size_t i = 0; i < SIP_UA_MAX_REALMS; i++) {
		struct sip_ua_auth_entry *e = &s->auth[i];
		if (e->used && e->proxy == proxy &&
		    sip_str_eq((struct sip_str){e->realm, e->realm_len}, realm))
			return e;
	}
	return NULL;
}

/* A slot for a new realm: a free one, else one not used by this request. */
static struct sip_ua_auth_entry *new_entry(struct sip_ua_session *s)
{
	for (size_t i = 0; i < SIP_UA_MAX_REALMS; i++)
		if (!s->auth[i].used)
			return &s->auth[i];
	for (size_t i = 0; i < SIP_UA_MAX_REALMS; i++)
		if (!s->auth[i].sent && !s->auth[i].answered)
			return &s->auth[i];
	return NULL;
}

static bool put(char *dst, size_t cap, uint16_t *len, struct sip_str v)
{
	if (v.len > cap)
		return false;
	if (v.len)
		memcpy(dst, v.p, v.len);
	*len = (uint16_t)v.len;
	return true;
}

/* Keeps ch in e (a new nonce restarts the nonce count in e->client). */
static bool keep(struct sip_ua_auth_entry *e, bool proxy, const struct sip_digest_challenge *ch)
{
	struct sip_ua_auth_entry n;
	memset(&n, 0, sizeof(n));
	n.client = e->used ? e->client : (struct sip_auth_client){0};
	n.used = true;
	n.proxy = proxy;
	n.answered = true;
	n.sent = e->sent;
	if (!put(n.realm, sizeof(n.realm), &n.realm_len, ch->realm) ||
	    !put(n.nonce, sizeof(n.nonce), &n.nonce_len, ch->nonce) ||
	    !put(n.opaque, sizeof(n.opaque), &n.opaque_len, ch->opaque) ||
	    !put(n.alg, sizeof(n.alg), &n.alg_len, ch->algorithm) ||
	    !put(n.qop, sizeof(n.qop), &n.qop_len, ch->qop))
		return false;
	*e = n;
	return true;
}

int sip__ua_auth_challenged(struct sip_ua_session *s, unsigned algs, const struct sip_msg *resp)
{
	if (!s || !resp)
		return SIP_EINVAL;
	struct found f;
	f.n = 0;
	collect(&f, resp, SIP_HDR_WWW_AUTHENTICATE, false);
	collect(&f, resp, SIP_HDR_PROXY_AUTHENTICATE, true);
	struct sip_auth_client picker;
	sip_auth_client_init(&picker);
	picker.algs = algs;

	/* First decide, then change the session: a refusal leaves it as it was. */
	const struct sip_digest_challenge *pick[SIP_UA_MAX_CHALLENGES];
	bool pick_proxy[SIP_UA_MAX_CHALLENGES];
	size_t npick = 0;
	for (size_t i = 0; i < f.n; i++) {
		if (f.done[i])
			continue;
		/* This challenge's group: same header kind and realm. */
		struct sip_digest_challenge group[SIP_UA_MAX_CHALLENGES];
		size_t idx[SIP_UA_MAX_CHALLENGES], gn = 0;
		for (size_t j = i; j < f.n; j++) {
			if (f.done[j] || f.proxy[j] != f.proxy[i] ||
			    !sip_str_eq(f.ch[j].realm, f.ch[i].realm))
				continue;
			f.done[j] = true;
			group[gn] = f.ch[j];
			idx[gn++] = j;
		}
		int best = sip_auth_client_pick(&picker, group, gn);
		if (best < 0)
			continue; /* no algorithm we accept in this realm */
		const struct sip_digest_challenge *ch = &f.ch[idx[best]];
		struct sip_ua_auth_entry *e = find_entry(s, f.proxy[i], ch->realm);
		/* We answered this realm's challenge already and the server still
		 * says no without calling the nonce stale: the password is wrong. */
		if (e && e->sent && e->answered && !ch->stale)
			return 0;
		pick[npick] = ch;
		pick_proxy[npick++] = f.proxy[i];
	}
	if (npick == 0)
		return 0;
	size_t need = 0, room = 0;
	for (size_t k = 0; k < npick; k++)
		need += !find_entry(s, pick_proxy[k], pick[k]->realm);
	for (size_t i = 0; i < SIP_UA_MAX_REALMS; i++)
		room += !s->auth[i].used || (!s->auth[i].sent && !s->auth[i].answered);
	if (need > room)
		return 0; /* more realms than we keep: we cannot answer them all */
	for (size_t k = 0; k < npick; k++) {
		struct sip_ua_auth_entry *e = find_entry(s, pick_proxy[k], pick[k]->realm);
		if (!e)
			e = new_entry(s);
		if (!e || !keep(e, pick_proxy[k], pick[k]))
			return 0; /* a value past our caps (kept ones stay usable) */
	}
	return 1;
}
