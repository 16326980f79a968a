/* bindings.c — RFC 3261 §10.3 steps 7 and 8: the REGISTER's contacts are
 * matched against the current bindings (RFC 5626 instance + reg-id first,
 * then URI equality), the Call-ID/CSeq rule is checked for every one, and
 * only then is anything written — so a request that fails stores nothing.
 * A write that fails mid-way is rolled back (SQLite) or undone (memory, or
 * inside a caller's batch). The 200 lists the resulting bindings. */
#include <string.h>

#include "registrar/reg_int.h"

struct entry {
	const struct sip_binding *orig; /* current binding, or NULL for a new one */
	const struct reg_contact *c;	/* its new state, when touched */
	bool touched, remove, applied;
};

static struct sip_str e_uri(const struct entry *e)
{
	return e->c ? e->c->uri : e->orig->contact_uri;
}
static struct sip_str e_instance(const struct entry *e)
{
	return e->c ? e->c->instance : e->orig->instance;
}
static uint32_t e_reg_id(const struct entry *e)
{
	return e->c ? e->c->reg_id : e->orig->reg_id;
}
static bool e_live(const struct entry *e)
{
	return e->touched ? !e->remove : true;
}

/* The same rule as the store's (location.c): a flow (instance + reg-id)
 * matches its flow whatever its URI; otherwise URIs are compared (§19.1.4). */
static long match(const struct entry *v, size_t n, const struct reg_contact *c)
{
	bool flow = c->instance.len && c->reg_id;
	if (flow)
		for (size_t i = 0; i < n; i++)
			if (e_reg_id(&v[i]) == c->reg_id && sip_str_eq(e_instance(&v[i]), c->instance))
				return (long)i;
	for (size_t i = 0; i < n; i++) {
		if (flow && e_reg_id(&v[i]))
			continue;
		if (sip_registrar_uri_eq(NULL, e_uri(&v[i]), c->uri))
			return (long)i;
	}
	return -1;
}

/* §10.3 step 7: same Call-ID with a CSeq not higher than the stored one aborts the request. */
static bool out_of_order(const struct reg_req *rq, const struct sip_binding *orig)
{
	return orig && sip_str_eq(orig->call_id, rq->m->call_id) && rq->m->cseq.num <= orig->cseq;
}

static void fill(struct sip_binding *b, const struct reg_req *rq, const struct reg_contact *c, int64_t now)
{
	memset(b, 0, sizeof *b);
	b->aor = rq->aor;
	b->contact_uri = c->uri;
	b->contact = c->value;
	b->q = c->q;
	b->expires = now + (int64_t)c->expires;
	b->call_id = rq->m->call_id;
	b->cseq = rq->m->cseq.num;
	b->path = rq->path;
	b->instance = c->instance;
	b->reg_id = c->reg_id;
	b->received = rq->received;
	b->user_agent = rq->user_agent;
}

enum phase { PH_REMOVE, PH_UPDATE, PH_ADD };

static bool in_phase(const struct entry *e, enum phase ph)
{
	if (!e->touched)
		return false;
	if (ph == PH_REMOVE)
		return e->remove && e->orig;
	if (ph == PH_UPDATE)
		return !e->remove && e->orig;
	return !e->remove && !e->orig;
}

static int write_one(struct sip_location *loc, const struct reg_req *rq, const struct entry *e, enum phase ph,
		     int64_t now)
{
	struct sip_binding b;
	if (ph == PH_REMOVE) {
		int rc = sip_location_remove(loc, rq->aor, e->orig->contact_uri);
		return rc == SIP_ENOTFOUND ? 0 : rc; /* expired meanwhile: nothing to remove */
	}
	fill(&b, rq, e->c, now);
	return sip_location_upsert(loc, &b, now);
}

/* Puts back what write_one() did to e. */
static int undo_one(struct sip_location *loc, const struct reg_req *rq, const struct entry *e, enum phase ph,
		    int64_t now)
{
	int rc = 0;
	if (ph != PH_REMOVE) {
		rc = sip_location_remove(loc, rq->aor, e->c->uri);
		if (rc == SIP_ENOTFOUND)
			rc = 0;
	}
	if (rc == 0 && ph != PH_ADD)
		rc = sip_location_upsert(loc, e->orig, now);
	return rc;
}

static int undo_all(struct sip_location *loc, const struct reg_req *rq, struct entry *v, size_t n,
		    int64_t now)
{
	int bad = 0;
	for (int ph = PH_ADD; ph >= PH_REMOVE; ph--)
		for (size_t i = n; i-- > 0;)
			if (v[i].applied && in_phase(&v[i], (enum phase)ph) &&
			    undo_one(loc, rq, &v[i], (enum phase)ph, now) != 0)
				bad = 1;
	return bad ? SIP_EIO : 0;
}

/* Writes every change: removals first so a refresh never trips the per-AOR cap. */
static int write_all(struct sip_registrar *reg, const struct reg_req *rq, struct entry *v, size_t n,
		     int64_t now, struct sip_registrar_result *res)
{
	struct sip_location *loc = reg->loc;
	bool own = !loc->in_batch;
	int rc = 0;
	if (own && (rc = sip_location_begin(loc)) != 0)
		return rc;
	for (int ph = PH_REMOVE; rc == 0 && ph <= PH_ADD; ph++) {
		for (size_t i = 0; rc == 0 && i < n; i++) {
			if (!in_phase(&v[i], (enum phase)ph))
				continue;
			rc = write_one(loc, rq, &v[i], (enum phase)ph, now);
			if (rc == 0) {
				v[i].applied = true;
				res->wrote = true;
			}
		}
	}
	if (rc == 0)
		return own ? sip_location_commit(loc) : 0;
	/* §10.3 step 7: "all tentative binding updates MUST be removed". */
	if (own && sip_location_rollback(loc) == 0) {
		res->wrote = false;
		return rc;
	}
	if (undo_all(loc, rq, v, n, now) == 0)
		res->wrote = false;
	else if (!own)
		res->store_failed = true;
	if (own)
		sip_location_commit(loc); /* closes the bracket of a store without rollback */
	return rc;
}

/* Appends one Contact line: <uri>, the sent params without expires, ;expires=left. */
static void contact_line(struct sip_builder *b, struct sip_str uri, struct sip_str value, int64_t left)
{
	char num[40]; /* ";expires=" + 20 digits + CRLF */
	sip_build_raw(b, SIP_STR("Contact: <"));
	sip_build_raw(b, uri);
	sip_build_raw(b, SIP_STR(">"));
	struct sip_contact c;
	if (sip_contact_parse(&c, value, NULL) == 0) {
		struct sip_str cur = c.na.params;
		struct sip_param p;
		while (sip_param_next(&cur, &p) == 1) {
			if (sip_str_caseeq(p.name, SIP_STR("expires")))
				continue;
			sip_build_raw(b, SIP_STR(";"));
			sip_build_raw(b, p.name);
			if (p.has_value) {
				sip_build_raw(b, SIP_STR("="));
				sip_build_raw(b, p.value);
			}
		}
	}
	/* Decimal by hand, right to left: snprintf here was ~3% of a REGISTER. */
	uint64_t v = (uint64_t)(left > 0 ? left : 0);
	char *p = num + sizeof num;
	*--p = '\n';
	*--p = '\r';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	static const char pre[] = ";expires=";
	p -= sizeof pre - 1;
	memcpy(p, pre, sizeof pre - 1);
	sip_build_raw(b, (struct sip_str){p, (size_t)(num + sizeof num - p)});
}

static int build_ok(struct sip_registrar *reg, const struct reg_req *rq, const struct entry *v, size_t n,
		    int64_t now, char *out, size_t cap, struct sip_registrar_result *res)
{
	struct sip_builder b;
	sip_build_init(&b, out, cap);
	sip__reg_head(&b, rq->m, 200, NULL, now);
	for (size_t i = 0; i < n; i++) {
		if (!e_live(&v[i]))
			continue;
		if (v[i].touched)
			contact_line(&b, v[i].c->uri, v[i].c->value, (int64_t)v[i].c->expires);
		else
			contact_line(&b, v[i].orig->contact_uri, v[i].orig->contact,
				     v[i].orig->expires - now);
	}
	if (rq->path.len)
		sip_build_header(&b, SIP_STR("Path"), rq->path);
	if (rq->outbound_used)
		sip_build_header(&b, SIP_STR("Require"), SIP_STR("outbound"));
	struct sip_str supported = sip_str_c(sip_registrar_supported(reg));
	if (supported.len)
		sip_build_header(&b, SIP_STR("Supported"), supported);
	return sip__reg_finish(&b, 200, res);
}

/* An upper bound of the 200's size: the copied headers come from the request. */
static size_t ok_size(const struct reg_req *rq, const struct entry *v, size_t n)
{
	size_t s = rq->m->len + 256;
	for (size_t i = 0; i < n; i++) {
		if (!e_live(&v[i]))
			continue;
		s += v[i].touched ? v[i].c->uri.len + v[i].c->value.len
				  : v[i].orig->contact_uri.len + v[i].orig->contact.len;
		s += 40;
	}
	return s;
}

int sip__reg_apply(struct sip_registrar *reg, struct reg_req *rq, int64_t now, char *out, size_t cap,
		   struct sip_registrar_result *res)
{
	const struct sip_msg *m = rq->m;
	struct sip_binding_list cur;
	int rc = sip_location_lookup(reg->loc, rq->aor, now, &cur);
	if (rc)
		return sip__reg_simple(m, 500, NULL, NULL, SIP_STR_NULL, now, out, cap, res);
	struct entry *v = sip_calloc(cur.n + rq->ncontacts + 1, sizeof *v);
	if (!v) {
		sip_binding_list_free(&cur);
		return sip__reg_simple(m, 500, NULL, NULL, SIP_STR_NULL, now, out, cap, res);
	}
	size_t n = cur.n;
	int status = 0;
	const char *reason = NULL;
	for (size_t i = 0; i < cur.n; i++)
		v[i].orig = &cur.v[i];

	if (rq->star) {
		for (size_t i = 0; i < n && !status; i++) {
			if (out_of_order(rq, v[i].orig))
				status = 500;
			v[i].touched = v[i].remove = true;
		}
	}
	for (size_t k = 0; k < rq->ncontacts && !status; k++) {
		const struct reg_contact *c = &reg->contacts[k];
		long i = match(v, n, c);
		if (i >= 0) {
			if (out_of_order(rq, v[i].orig)) {
				status = 500;
				break;
			}
			v[i].touched = true;
			v[i].c = c;
			v[i].remove = c->expires == 0;
		} else if (c->expires) {
			v[n++] = (struct entry){.c = c, .touched = true};
		}
	}
	if (status == 500)
		reason = "Out of Order CSeq";

	size_t live = 0,
	       max = reg->loc->cfg.max_bindings ? reg->loc->cfg.max_bindings : SIP_LOCATION_MAX_BINDINGS;
	for (size_t i = 0; i < n; i++)
		live += e_live(&v[i]);
	if (!status && live > max && live > cur.n) {
		status = 403;
		reason = "Too Many Bindings";
	}
	if (!status && ok_size(rq, v, n) > cap) {
		status = 500;
		reason = "Response Too Large";
	}
	if (!status && write_all(reg, rq, v, n, now, res) != 0)
		status = 500;

	if (status)
		rc = sip__reg_simple(m, status, reason, NULL, SIP_STR_NULL, now, out, cap, res);
	else
		rc = build_ok(reg, rq, v, n, now, out, cap, res);
	sip_free(v);
	sip_binding_list_free(&cur);
	return rc;
}
