/* dialog.c — dialog state (RFC 3261 §12) and the requests a UA sends in
 * one, with RFC 3262 RSeq/RAck bookkeeping. No I/O, no clock, no heap. */
#include <sip/dialog.h>
#include <sip/print.h>
#include <stdio.h>
#include <string.h>

static int copy(char *dst, size_t cap, struct sip_str s)
{
	if (s.len >= cap)
		return SIP_ETOOBIG;
	if (s.len)
		memcpy(dst, s.p, s.len);
	dst[s.len] = 0;
	return 0;
}

static struct sip_str hdr_value(const struct sip_msg *m, enum sip_hdr_id id)
{
	uint16_t i = m->first[id];
	return i == SIP_HDR_NONE ? SIP_STR_NULL : m->hdrs[i].value;
}

/* The URI of the first Contact value: 1 found, 0 none, SIP_EPARSE. */
static int contact_uri(const struct sip_msg *m, struct sip_str *uri)
{
	struct sip_hdr_iter it;
	struct sip_str v;
	sip_hdr_iter_init(&it, m, SIP_HDR_CONTACT);
	if (sip_hdr_iter_next(&it, &v) != 1)
		return 0;
	struct sip_contact c;
	size_t off;
	if (sip_contact_parse(&c, v, &off) < 0 || c.na.star)
		return SIP_EPARSE;
	*uri = c.na.uri_str;
	return 1;
}

static int set_target(struct sip_dialog *d, const struct sip_msg *m, bool required)
{
	struct sip_str uri;
	int rc = contact_uri(m, &uri);
	if (rc < 0 || (rc == 0 && required))
		return SIP_EINVAL;
	return rc ? copy(d->remote_target, sizeof(d->remote_target), uri) : 0;
}

/* The route set from m's Record-Route values, in order or reversed. */
static int set_routes(struct sip_dialog *d, const struct sip_msg *m, bool reverse)
{
	struct sip_str v[SIP_DIALOG_MAX_ROUTES];
	unsigned n = 0;
	struct sip_hdr_iter it;
	struct sip_str val;
	sip_hdr_iter_init(&it, m, SIP_HDR_RECORD_ROUTE);
	int rc;
	while ((rc = sip_hdr_iter_next(&it, &val)) == 1) {
		if (n == SIP_DIALOG_MAX_ROUTES)
			return SIP_ETOOBIG;
		v[n++] = sip_str_trim(val);
	}
	if (rc < 0)
		return SIP_EINVAL;
	size_t used = 0;
	d->nroutes = 0;
	for (unsigned k = 0; k < n; k++) {
		struct sip_str r = v[reverse ? n - 1 - k : k];
		if (used + r.len + 1 > sizeof(d->routes))
			return SIP_ETOOBIG;
		d->route_off[k] = (uint16_t)used;
		memcpy(d->routes + used, r.p, r.len);
		used += r.len;
		d->routes[used++] = 0;
	}
	d->nroutes = n;
	d->first_route_lr = true;
	if (n) {
		struct sip_nameaddr na;
		size_t off;
		const char *first = d->routes + d->route_off[0];
		if (sip_nameaddr_parse(&na, sip_str_c(first), &off) < 0)
			return SIP_EINVAL;
		d->first_route_lr = na.uri.lr;
	}
	return 0;
}

int sip_dialog_uac_create(struct sip_dialog *d, const struct sip_msg *req, const struct sip_msg *resp)
{
	if (!d || !req || !resp || !req->is_request || resp->is_request || resp->status <= 100 || resp->status >= 300 ||
	    !resp->to.has_tag || !resp->to.tag.len || req->first[SIP_HDR_FROM] == SIP_HDR_NONE)
		return SIP_EINVAL;
	memset(d, 0, sizeof(*d));
	d->uac = true;
	d->state = resp->status >= 200 ? SIP_DIALOG_CONFIRMED : SIP_DIALOG_EARLY;
	d->secure = req->ruri.scheme == SIP_URI_SIPS;
	d->local_seq = req->cseq.num;
	int rc;
	if ((rc = copy(d->call_id, sizeof(d->call_id), req->call_id)) ||
	    (rc = copy(d->local_tag, sizeof(d->local_tag), req->from.tag)) ||
	    (rc = copy(d->remote_tag, sizeof(d->remote_tag), resp->to.tag)) ||
	    (rc = copy(d->local_uri, sizeof(d->local_uri), req->from.uri_str)) ||
	    (rc = copy(d->remote_uri, sizeof(d->remote_uri), req->to.uri_str)) ||
	    (rc = set_routes(d, resp, true)) || (rc = set_target(d, resp, true)))
		return rc;
	return 0;
}

int sip_dialog_uas_create(struct sip_dialog *d, const struct sip_msg *req, struct sip_str local_tag)
{
	if (!d || !req || !req->is_request || !local_tag.len || req->first[SIP_HDR_FROM] == SIP_HDR_NONE)
		return SIP_EINVAL;
	memset(d, 0, sizeof(*d));
	d->state = SIP_DIALOG_EARLY;
	d->secure = req->ruri.scheme == SIP_URI_SIPS;
	d->remote_seq = req->cseq.num;
	d->remote_seq_set = true;
	int rc;
	if ((rc = copy(d->call_id, sizeof(d->call_id), req->call_id)) ||
	    (rc = copy(d->local_tag, sizeof(d->local_tag), local_tag)) ||
	    (rc = copy(d->remote_tag, sizeof(d->remote_tag), req->from.tag)) ||
	    (rc = copy(d->local_uri, sizeof(d->local_uri), req->to.uri_str)) ||
	    (rc = copy(d->remote_uri, sizeof(d->remote_uri), req->from.uri_str)) || (rc = set_routes(d, req, false)) ||
	    (rc = set_target(d, req, true)))
		return rc;
	return 0;
}

void sip_dialog_confirm(struct sip_dialog *d)
{
	if (d && d->state == SIP_DIALOG_EARLY)
		d->state = SIP_DIALOG_CONFIRMED;
}

bool sip_dialog_matches(const struct sip_dialog *d, const struct sip_msg *m)
{
	if (!d || !m || !sip_str_eq(m->call_id, sip_str_c(d->call_id)))
		return false;
	/* From our side: the peer's tag is in From of its requests and in To of
	 * the responses it sends us; ours the other way round. */
	const struct sip_nameaddr *peer = m->is_request ? &m->from : &m->to;
	const struct sip_nameaddr *us = m->is_request ? &m->to : &m->from;
	/* An RFC 2543 peer may send no From tag: its remote tag is then null
	 * (§12.1.1) and matches only a message without one. */
	bool peer_ok = d->remote_tag[0] ? peer->has_tag && sip_str_eq(peer->tag, sip_str_c(d->remote_tag))
					: !peer->has_tag || !peer->tag.len;
	return peer_ok && us->has_tag && sip_str_eq(us->tag, sip_str_c(d->local_tag));
}

static bool is_target_refresh(enum sip_method m)
{
	return m == SIP_METHOD_INVITE || m == SIP_METHOD_UPDATE || m == SIP_METHOD_SUBSCRIBE ||
	       m == SIP_METHOD_NOTIFY || m == SIP_METHOD_REFER;
}

int sip_dialog_on_response(struct sip_dialog *d, const struct sip_msg *resp)
{
	if (!d || !resp || resp->is_request || d->state == SIP_DIALOG_TERMINATED)
		return 0;
	int st = resp->status;
	enum sip_method m = resp->cseq.method_id;
	if (st == 481 || st == 408) {
		d->state = SIP_DIALOG_TERMINATED; /* §12.2.1.2 */
		return 0;
	}
	if (m == SIP_METHOD_BYE && st >= 200) {
		d->state = SIP_DIALOG_TERMINATED;
		return 0;
	}
	if (m == SIP_METHOD_INVITE && d->state == SIP_DIALOG_EARLY) {
		if (st >= 300) {
			d->state = SIP_DIALOG_TERMINATED; /* the INVITE failed: its early dialogs end */
			return 0;
		}
		if (st >= 200) {
			/* §13.2.2.4: confirmed, route set recomputed from the 2xx. */
			d->state = SIP_DIALOG_CONFIRMED;
			int rc = set_routes(d, resp, true);
			return rc ? rc : set_target(d, resp, false);
		}
		return set_target(d, resp, false); /* a later 1xx may name a new target */
	}
	if (st >= 200 && st < 300 && is_target_refresh(m))
		return set_target(d, resp, false); /* §12.2.1.2 */
	return 0;
}

int sip_dialog_on_request(struct sip_dialog *d, const struct sip_msg *req)
{
	if (!d || !req || !req->is_request)
		return 400;
	enum sip_method m = req->method_id;
	if (m == SIP_METHOD_ACK || m == SIP_METHOD_CANCEL)
		return 0;
	if (d->remote_seq_set && req->cseq.num < d->remote_seq)
		return 500; /* out of order, §12.2.2 */
	if (is_target_refresh(m) && set_target(d, req, false) < 0)
		return 400;
	d->remote_seq = req->cseq.num;
	d->remote_seq_set = true;
	if (m == SIP_METHOD_BYE)
		d->state = SIP_DIALOG_TERMINATED;
	return 0;
}

struct sip_str sip_dialog_request_uri(const struct sip_dialog *d)
{
	/* §12.2.1.1: a loose first route leaves the remote target in the
	 * Request-URI; a strict one takes its place (and the remote target
	 * becomes the last Route). */
	if (d->nroutes && !d->first_route_lr) {
		struct sip_nameaddr na;
		size_t off;
		if (sip_nameaddr_parse(&na, sip_str_c(d->routes + d->route_off[0]), &off) < 0)
			return SIP_STR_NULL;
		return sip_uri_request_form(na.uri_str);
	}
	return sip_uri_request_form(sip_str_c(d->remote_target));
}

int sip_dialog_request(struct sip_dialog *d, const struct sip_dialog_req *r, char *out, size_t cap)
{
	if (!d || !r || !out || !r->method.len || d->state == SIP_DIALOG_TERMINATED || !d->remote_target[0])
		return SIP_EINVAL;
	uint32_t cseq = r->cseq;
	if (!cseq) {
		if (d->local_seq == UINT32_MAX >> 1)
			return SIP_ERANGE; /* CSeq must stay below 2^31 (§8.1.1.5) */
		cseq = ++d->local_seq;
	}
	struct sip_builder b;
	sip_build_init(&b, out, cap);
	bool strict = d->nroutes && !d->first_route_lr;
	struct sip_str ruri = sip_dialog_request_uri(d);
	if (!ruri.len)
		return SIP_EINVAL;
	sip_build_request_line(&b, r->method, ruri);
	if (r->via.len)
		sip_build_header(&b, SIP_STR("Via"), r->via);
	for (unsigned i = strict ? 1 : 0; i < d->nroutes; i++)
		sip_build_header(&b, SIP_STR("Route"), sip_str_c(d->routes + d->route_off[i]));
	if (strict)
		sip_build_headerf(&b, "Route", "<%s>", d->remote_target);
	sip_build_header(&b, SIP_STR("Max-Forwards"), SIP_STR("70"));
	sip_build_headerf(&b, "From", "<%s>;tag=%s", d->local_uri, d->local_tag);
	if (d->remote_tag[0])
		sip_build_headerf(&b, "To", "<%s>;tag=%s", d->remote_uri, d->remote_tag);
	else
		sip_build_headerf(&b, "To", "<%s>", d->remote_uri); /* a null remote tag (§12.1.1) */
	sip_build_header(&b, SIP_STR("Call-ID"), sip_str_c(d->call_id));
	sip_build_headerf(&b, "CSeq", "%u %.*s", (unsigned)cseq, SIP_STR_ARG(r->method));
	if (r->contact.len)
		sip_build_headerf(&b, "Contact", "<%.*s>", SIP_STR_ARG(r->contact));
	if (r->extra.len)
		sip_build_raw(&b, r->extra);
	sip_build_body(&b, r->content_type, r->body);
	return sip_build_finish(&b);
}

int sip_dialog_prack_needed(struct sip_dialog *d, const struct sip_msg *resp, char *rack, size_t cap)
{
	if (!d || !resp || resp->is_request || resp->status <= 100 || resp->status >= 200 ||
	    !sip_hdr_has_token(resp, SIP_HDR_REQUIRE, SIP_STR("100rel")))
		return SIP_EINVAL;
	uint32_t rseq;
	size_t off;
	struct sip_str v = hdr_value(resp, SIP_HDR_RSEQ);
	if (!v.len || sip_u32_parse(&rseq, v, &off) < 0 || rseq == 0)
		return SIP_EINVAL;
	/* §4: the first one, then each exactly one higher; others are dropped. */
	if (d->rseq_in_set && rseq != d->rseq_in + 1)
		return 0;
	int n = snprintf(rack, cap, "%u %u %.*s", (unsigned)rseq, (unsigned)resp->cseq.num,
			 SIP_STR_ARG(resp->cseq.method));
	if (n < 0 || (size_t)n >= cap)
		return SIP_ETOOBIG;
	d->rseq_in = rseq;
	d->rseq_in_set = true;
	return 1;
}

uint32_t sip_dialog_next_rseq(struct sip_dialog *d, uint32_t seed)
{
	/* §3: the first value is between 1 and 2^31 - 1. */
	d->rseq_out = d->rseq_out ? d->rseq_out + 1 : (seed % 0x7fffffffu) + 1;
	return d->rseq_out;
}

bool sip_dialog_rack_matches(const struct sip_dialog *d, const struct sip_msg *prack, uint32_t invite_cseq)
{
	struct sip_rack r;
	size_t off;
	struct sip_str v = hdr_value(prack, SIP_HDR_RACK);
	return d && d->rseq_out && v.len && sip_rack_parse(&r, v, &off) >= 0 && r.rseq == d->rseq_out &&
	       r.cseq == invite_cseq && sip_str_eq(r.method, SIP_STR("INVITE"));
}
