/* location.c — the public location API: argument checks, dispatch to the
 * backend's ops, and the helpers every backend shares. */
#include <stdlib.h>
#include <string.h>

#include "location/location_int.h"

/* ---- shared helpers ---- */

int sip__binding_check(const struct sip_binding *b)
{
	if (!b || !b->aor.len || !b->contact_uri.len)
		return SIP_EINVAL;
	if (b->q < -1 || b->q > 1000)
		return SIP_EINVAL;
	const struct sip_str *f[] = {&b->aor,  &b->contact_uri, &b->contact,  &b->call_id,
				     &b->path, &b->instance,    &b->received, &b->user_agent};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		if (f[i]->len > SIP_LOCATION_MAX_FIELD)
			return SIP_ETOOBIG;
		if (f[i]->len && !f[i]->p)
			return SIP_EINVAL;
	}
	return 0;
}

bool sip__uri_eq(const struct sip_location *loc, struct sip_str a, struct sip_str b)
{
	if (loc->cfg.uri_eq)
		return loc->cfg.uri_eq(loc->cfg.uri_eq_ud, a, b);
	return sip_str_eq(a, b);
}

long sip__binding_match(const struct sip_location *loc, const struct sip_binding *v, size_t n,
			const struct sip_binding *b)
{
	/* RFC 5626 §6: a flow is identified by instance + reg-id, whatever its
	 * contact URI (a new NAT binding gives a new URI for the same flow). */
	if (b->instance.len && b->reg_id) {
		for (size_t i = 0; i < n; i++)
			if (v[i].reg_id == b->reg_id && sip_str_eq(v[i].instance, b->instance))
				return (long)i;
	}
	for (size_t i = 0; i < n; i++) {
		/* A binding that is an outbound flow is replaced only by its own flow. */
		if (b->instance.len && b->reg_id && v[i].reg_id)
			continue;
		if (sip__uri_eq(loc, v[i].contact_uri, b->contact_uri))
			return (long)i;
	}
	return -1;
}

void sip__lb_init(struct sip__list_builder *lb) { memset(lb, 0, sizeof *lb); }

void sip__lb_abort(struct sip__list_builder *lb)
{
	sip_free(lb->v);
	sip_free(lb->s);
	memset(lb, 0, sizeof *lb);
}

/* Appends s to the string area; returns its offset (stored in .p until finish). */
static size_t lb_str(struct sip__list_builder *lb, struct sip_str s)
{
	if (lb->failed || s.len == 0)
		return 0;
	if (s.len > lb->scap - lb->slen) {
		size_t cap = lb->scap ? lb->scap : 256;
		while (cap - lb->slen < s.len)
			cap *= 2;
		char *p = sip_realloc(lb->s, cap);
		if (!p) {
			lb->failed = true;
			return 0;
		}
		lb->s = p;
		lb->scap = cap;
	}
	memcpy(lb->s + lb->slen, s.p, s.len);
	lb->slen += s.len;
	return lb->slen - s.len;
}

#define STR_FIELDS(X) X(aor) X(contact_uri) X(contact) X(call_id) X(path) X(instance) X(received) X(user_agent)

int sip__lb_add(struct sip__list_builder *lb, const struct sip_binding *b)
{
	if (lb->failed)
		return SIP_ENOMEM;
	if (lb->n == lb->cap) {
		size_t cap = lb->cap ? lb->cap * 2 : 4;
		struct sip_binding *v = sip_realloc(lb->v, cap * sizeof *v);
		if (!v) {
			lb->failed = true;
			return SIP_ENOMEM;
		}
		lb->v = v;
		lb->cap = cap;
	}
	struct sip_binding *d = &lb->v[lb->n];
	*d = *b;
	/* Offsets now; turned into pointers once the string area stops moving. */
#define X(f) d->f = (struct sip_str){(const char *)(uintptr_t)lb_str(lb, b->f), b->f.len};
	STR_FIELDS(X)
#undef X
	if (lb->failed)
		return SIP_ENOMEM;
	lb->n++;
	return 0;
}

static int cmp_binding(const void *pa, const void *pb)
{
	const struct sip_binding *a = pa, *b = pb;
	int32_t qa = a->q < 0 ? 1000 : a->q, qb = b->q < 0 ? 1000 : b->q; /* absent q counts as 1.0 */
	if (qa != qb)
		return qa > qb ? -1 : 1;
	if (a->updated != b->updated)
		return a->updated > b->updated ? -1 : 1;
	return 0;
}

int sip__lb_finish(struct sip__list_builder *lb, struct sip_binding_list *out, bool sort)
{
	if (lb->failed) {
		sip__lb_abort(lb);
		return SIP_ENOMEM;
	}
	for (size_t i = 0; i < lb->n; i++) {
		struct sip_binding *d = &lb->v[i];
#define X(f) d->f.p = d->f.len ? lb->s + (uintptr_t)d->f.p : "";
		STR_FIELDS(X)
#undef X
	}
	if (sort && lb->n > 1)
		qsort(lb->v, lb->n, sizeof *lb->v, cmp_binding);
	out->v = lb->v;
	out->n = lb->n;
	out->mem = lb->s;
	memset(lb, 0, sizeof *lb);
	return 0;
}

void sip_binding_list_free(struct sip_binding_list *l)
{
	if (!l)
		return;
	sip_free(l->v);
	sip_free(l->mem);
	memset(l, 0, sizeof *l);
}

/* ---- public API: dispatch ---- */

void sip_location_close(struct sip_location *loc)
{
	if (loc)
		loc->ops->close(loc);
}

int sip_location_lookup(struct sip_location *loc, struct sip_str aor, int64_t now, struct sip_binding_list *out)
{
	if (out)
		memset(out, 0, sizeof *out);
	if (!loc || !out || !aor.len || aor.len > SIP_LOCATION_MAX_FIELD)
		return SIP_EINVAL;
	return loc->ops->lookup(loc, aor, now, out);
}

int sip_location_upsert(struct sip_location *loc, const struct sip_binding *b, int64_t now)
{
	int rc;
	if (!loc)
		return SIP_EINVAL;
	if ((rc = sip__binding_check(b)) != 0)
		return rc;
	return loc->ops->upsert(loc, b, now);
}

int sip_location_remove(struct sip_location *loc, struct sip_str aor, struct sip_str contact_uri)
{
	if (!loc || !aor.len || !contact_uri.len || aor.len > SIP_LOCATION_MAX_FIELD ||
	    contact_uri.len > SIP_LOCATION_MAX_FIELD)
		return SIP_EINVAL;
	return loc->ops->remove(loc, aor, contact_uri);
}

int sip_location_remove_aor(struct sip_location *loc, struct sip_str aor)
{
	if (!loc || !aor.len || aor.len > SIP_LOCATION_MAX_FIELD)
		return SIP_EINVAL;
	return loc->ops->remove_aor(loc, aor);
}

int sip_location_purge(struct sip_location *loc, int64_t now)
{
	if (!loc)
		return SIP_EINVAL;
	return loc->ops->purge(loc, now);
}

int sip_location_purge_some(struct sip_location *loc, int64_t now, size_t max_rows)
{
	if (!loc || !max_rows)
		return SIP_EINVAL;
	return loc->ops->purge_some ? loc->ops->purge_some(loc, now, max_rows) : loc->ops->purge(loc, now);
}

int sip_location_count(struct sip_location *loc, struct sip_str aor, int64_t now)
{
	if (!loc || aor.len > SIP_LOCATION_MAX_FIELD)
		return SIP_EINVAL;
	return loc->ops->count(loc, aor, now);
}

int sip_location_begin(struct sip_location *loc)
{
	if (!loc)
		return SIP_EINVAL;
	if (loc->in_batch)
		return SIP_ESTATE;
	int rc = loc->ops->begin(loc);
	if (rc == 0)
		loc->in_batch = true;
	return rc;
}

int sip_location_commit(struct sip_location *loc)
{
	if (!loc)
		return SIP_EINVAL;
	if (!loc->in_batch)
		return SIP_ESTATE;
	int rc = loc->ops->commit(loc);
	if (rc == 0)
		loc->in_batch = false;
	return rc;
}

int sip_location_rollback(struct sip_location *loc)
{
	if (!loc)
		return SIP_EINVAL;
	if (!loc->in_batch)
		return SIP_ESTATE;
	int rc = loc->ops->rollback(loc);
	if (rc == 0)
		loc->in_batch = false;
	return rc;
}
