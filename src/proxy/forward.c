/* forward.c — the bytes a stateful proxy sends: the forwarded copy of a
 * request (§16.6), a response relayed upstream (§16.7 step 9) and a 401/407
 * carrying every branch's challenges (§16.7 step 7). Built with the message
 * editor, so every header the proxy does not own leaves exactly as it
 * arrived. */
#include <sip/auth.h>
#include <sip/print.h>
#include <sip/proxy.h>
#include <stdio.h>
#include <string.h>

static bool has_line_break(struct sip_str s)
{
	return s.len && (memchr(s.p, '\r', s.len) || memchr(s.p, '\n', s.len));
}

/* §16.6 step 6: when the first Route value left after `pops` names a strict
 * router (no ;lr, RFC 2543), returns 1 with its URI in *uri and the index of
 * the last Route line in *last; 0 when the next hop routes loosely or there
 * is no Route; SIP_EPARSE. */
static int strict_next_hop(const struct sip_msg *req, unsigned pops, struct sip_str *uri, uint16_t *last)
{
	struct sip_hdr_iter it;
	struct sip_str v;
	sip_hdr_iter_init(&it, req, SIP_HDR_ROUTE);
	for (unsigned i = 0; i <= pops; i++) {
		int rc = sip_hdr_iter_next(&it, &v);
		if (rc != 1)
			return rc < 0 ? SIP_EPARSE : 0;
	}
	struct sip_nameaddr na;
	size_t off;
	if (sip_nameaddr_parse(&na, v, &off) < 0)
		return SIP_EPARSE;
	if (na.uri.lr)
		return 0;
	*uri = sip_uri_request_form(na.uri_str);
	for (uint16_t i = req->first[SIP_HDR_ROUTE]; i != SIP_HDR_NONE; i = req->hdrs[i].next)
		*last = i;
	return 1;
}

/* §22.3: credentials for a realm are consumed by the proxy of that realm
 * and by no other; what is not known to be for it stays. */
static void consume_credentials(struct sip_edit *e, const struct sip_msg *req, struct sip_str realm)
{
	struct sip_digest_creds c;
	for (uint16_t i = req->first[SIP_HDR_PROXY_AUTHORIZATION]; i != SIP_HDR_NONE; i = req->hdrs[i].next)
		if (sip_auth_creds_in(req->hdrs[i].value, realm, &c) == 1)
			sip_edit_remove_header(e, i);
}

int sip_proxy_forward(const struct sip_msg *req, const struct sip_proxy_fwd *f, char *out, size_t cap)
{
	if (!req || !f || !out || !req->is_request || req->max_forwards == 0 || !f->via.len)
		return SIP_EINVAL;
	if (has_line_break(f->via) || has_line_break(f->route_pre) || has_line_break(f->record_route[0]) ||
	    has_line_break(f->record_route[1]) || has_line_break(f->path))
		return SIP_EINVAL;
	int nroutes = sip_hdr_count(req, SIP_HDR_ROUTE);
	if (f->pop_routes && (nroutes < 0 || f->pop_routes > (unsigned)nroutes))
		return SIP_EINVAL;
	/* What we write must parse at the next hop (and at ours): at most nine
	 * lines are added (Via, two Record-Route, Route, Path, Max-Forwards,
	 * Max-Breadth, a strict router's last Route, Content-Length). */
	if (req->nhdrs + SIP_PROXY_ADDED_LINES > SIP_MAX_HEADERS)
		return SIP_ETOOBIG;
	struct sip_edit e;
	sip_edit_init(&e, req);
	/* Headers we add go before Content-Length (conventionally last), else at the end. */
	uint16_t end = req->first[SIP_HDR_CONTENT_LENGTH];
	if (end == SIP_HDR_NONE)
		end = req->nhdrs;
	if (f->ruri.len)
		sip_edit_set_ruri(&e, f->ruri);
	/* Step 3: Max-Forwards one lower, or 70 when the request had none. */
	char mf[16];
	if (req->max_forwards > 0) {
		int n = snprintf(mf, sizeof(mf), "%d", (int)req->max_forwards - 1);
		sip_edit_replace_value(&e, req->first[SIP_HDR_MAX_FORWARDS], (struct sip_str){mf, (size_t)n});
	} else {
		sip_edit_insert_header(&e, end, SIP_STR("Max-Forwards"), SIP_STR("70"));
	}
	/* RFC 5393 §5.3.3: the branch's share of the breadth, one value. */
	char mb[16];
	if (f->max_breadth) {
		int n = snprintf(mb, sizeof(mb), "%u", f->max_breadth);
		struct sip_str v = {mb, (size_t)n};
		int at = sip_msg_find(req, SIP_STR("Max-Breadth"));
		if (at < 0) {
			sip_edit_insert_header(&e, end, SIP_STR("Max-Breadth"), v);
		} else {
			sip_edit_replace_value(&e, (uint16_t)at, v);
			for (uint16_t i = (uint16_t)(at + 1); i < req->nhdrs; i++)
				if (sip_str_caseeq(req->hdrs[i].name, SIP_STR("Max-Breadth")))
					sip_edit_remove_header(&e, i);
		}
	}
	/* Step 4: our Record-Route values above the ones already there (the
	 * callee's route set keeps the order of the header). */
	uint16_t rr = req->first[SIP_HDR_RECORD_ROUTE];
	for (int i = 0; i < 2; i++) {
		if (!f->record_route[i].len)
			continue;
		if (rr == SIP_HDR_NONE)
			sip_edit_insert_header(&e, end, SIP_STR("Record-Route"), f->record_route[i]);
		else
			sip_edit_insert_header(&e, rr, SIP_STR("Record-Route"), f->record_route[i]);
	}
	/* RFC 3327 §5.1: our Path value on top of those already there. */
	if (f->path.len) {
		uint16_t at = req->first[SIP_HDR_PATH];
		sip_edit_insert_header(&e, at == SIP_HDR_NONE ? end : at, SIP_STR("Path"), f->path);
	}
	/* §16.4: the Route values naming us go; step 6: the pre-loaded route
	 * (a Path) goes in front of whatever Route values remain. */
	for (unsigned i = 0; i < f->pop_routes; i++)
		sip_edit_pop_route(&e);
	if (f->route_pre.len) {
		uint16_t at = req->first[SIP_HDR_ROUTE];
		if (at == SIP_HDR_NONE)
			sip_edit_insert_header(&e, end, SIP_STR("Route"), f->route_pre);
		else
			sip_edit_insert_header(&e, at, SIP_STR("Route"), f->route_pre);
	}
	/* Step 6: a strict router next (a pre-loaded Path is loose by RFC 3327)
	 * takes the Request-URI's place; the Request-URI becomes the last Route. */
	char target[SIP_PROXY_URI_MAX + 3];
	struct sip_str strict;
	uint16_t last = 0;
	int sr = f->route_pre.len ? 0 : strict_next_hop(req, f->pop_routes, &strict, &last);
	if (sr < 0)
		return sr;
	if (sr) {
		struct sip_str ruri = f->ruri.len ? f->ruri : req->ruri_str;
		if (ruri.len > SIP_PROXY_URI_MAX)
			return SIP_ETOOBIG;
		int n = snprintf(target, sizeof(target), "<%.*s>", SIP_STR_ARG(ruri));
		sip_edit_set_ruri(&e, strict);
		sip_edit_pop_route(&e);
		sip_edit_insert_header(&e, (uint16_t)(last + 1), SIP_STR("Route"), (struct sip_str){target, (size_t)n});
	}
	if (f->consume_realm.len)
		consume_credentials(&e, req, f->consume_realm);
	sip_edit_push_via(&e, f->via); /* step 8 */
	return sip_edit_print(&e, out, cap);
}

int sip_proxy_response_up(const struct sip_msg *resp, char *out, size_t cap)
{
	if (!resp || !out || resp->is_request || sip_hdr_count(resp, SIP_HDR_VIA) < 2)
		return SIP_EINVAL;
	struct sip_edit e;
	sip_edit_init(&e, resp);
	sip_edit_pop_via(&e);
	return sip_edit_print(&e, out, cap);
}

int sip_proxy_add_challenges(const struct sip_msg *resp, const struct sip_msg *other, char *out, size_t cap)
{
	if (!resp || !other || !out || resp->is_request)
		return SIP_EINVAL;
	struct sip_edit e;
	sip_edit_init(&e, resp);
	uint16_t end = resp->first[SIP_HDR_CONTENT_LENGTH];
	if (end == SIP_HDR_NONE)
		end = resp->nhdrs;
	unsigned added = 0;
	static const enum sip_hdr_id ids[] = {SIP_HDR_WWW_AUTHENTICATE, SIP_HDR_PROXY_AUTHENTICATE};
	for (size_t k = 0; k < 2; k++)
		for (uint16_t i = other->first[ids[k]]; i != SIP_HDR_NONE; i = other->hdrs[i].next) {
			sip_edit_insert_header(&e, end, sip_str_c(sip_hdr_name(ids[k])), other->hdrs[i].value);
			added++;
		}
	if (resp->nhdrs + added + 1u > SIP_MAX_HEADERS)
		return SIP_ETOOBIG; /* the next hop could not parse it */
	return sip_edit_print(&e, out, cap);
}
