/* core.c — what sipd answers to a request that reached it as a server
 * transaction: the checks every UAS makes (§8.2.1–§8.2.3: Request-URI scheme,
 * Require), OPTIONS addressed to itself (§11.2), CANCEL (§9.2), and a correct
 * final response — never silence — for anything it does not handle. */
#include "worker.h"

#include <sip/auth.h>
#include <sip/location.h>
#include <sip/log.h>
#include <sip/print.h>
#include <sip/ratelimit.h>
#include <sip/proxy.h>
#include <sip/registrar.h>
#include <string.h>
#include <time.h>

/* Methods sipd itself accepts as a UAS today. */
#define ALLOW_SELF "REGISTER, OPTIONS, ACK, CANCEL"
#define SERVER "sipd/" "0.1"

/* Sends the response built in w->out on t. */
static void respond(struct sip__worker *w, struct sip_txn *t, int len)
{
	if (len < 0) {
		sip_log(SIP_LOG_WARN, "%s: response did not fit (%s)", w->name, sip_strerror(len));
		return;
	}
	int rc = sip_stack_respond(w->stack, t, w->out, (size_t)len);
	if (rc < 0)
		sip_log(SIP_LOG_DEBUG, "%s: sending a response failed: %s", w->name, sip_strerror(rc));
}

/* Starts a response; adds a To tag to final responses when the request had none (§8.2.6.2). */
static void head_reason(struct sip__worker *w, struct sip_builder *b, const struct sip_msg *req, int code,
			struct sip_str reason)
{
	char tag[16];
	struct sip_str to_tag = SIP_STR_NULL;
	if (code >= 200 && !req->to.has_tag) {
		size_t n = sip__worker_tag(w, tag, sizeof(tag));
		to_tag = (struct sip_str){tag, n};
	}
	sip_build_init(b, w->out, sizeof(w->out));
	sip_build_response_head(b, req, code, reason, to_tag);
	sip_build_header(b, SIP_STR("Server"), SIP_STR(SERVER));
}

static void head(struct sip__worker *w, struct sip_builder *b, const struct sip_msg *req, int code)
{
	head_reason(w, b, req, code, SIP_STR_NULL);
}

void sip__core_reply(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req, int code)
{
	struct sip_builder b;
	head(w, &b, req, code);
	if (code == 405 || code == 501)
		sip_build_header(&b, SIP_STR("Allow"), SIP_STR(ALLOW_SELF));
	sip_build_body(&b, SIP_STR_NULL, SIP_STR_NULL);
	respond(w, t, sip_build_finish(&b));
}

/* 420 Bad Extension listing every option tag of `which` (Require for a UAS,
 * Proxy-Require for a proxy) in Unsupported. */
static void bad_extension(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req,
			  enum sip_hdr_id which)
{
	struct sip_builder b;
	struct sip_hdr_iter it;
	struct sip_str v;
	head(w, &b, req, 420);
	sip_hdr_iter_init(&it, req, which);
	while (sip_hdr_iter_next(&it, &v) == 1)
		sip_build_header(&b, SIP_STR("Unsupported"), v);
	sip_build_body(&b, SIP_STR_NULL, SIP_STR_NULL);
	respond(w, t, sip_build_finish(&b));
}

/* §8.2.2.3: every option tag in Require must be supported; sipd supports none
 * yet, so any Require is answered 420. */
static bool check_require(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req)
{
	if (req->first[SIP_HDR_REQUIRE] == SIP_HDR_NONE || req->method_id == SIP_METHOD_ACK ||
	    req->method_id == SIP_METHOD_CANCEL)
		return true;
	bad_extension(w, t, req, SIP_HDR_REQUIRE);
	return false;
}

static void on_options(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req)
{
	struct sip_builder b;
	head(w, &b, req, 200);
	sip_build_header(&b, SIP_STR("Allow"), SIP_STR(ALLOW_SELF));
	/* §11.2: what we support — the registrar's extensions (RFC 3327, 5626). */
	sip_build_header(&b, SIP_STR("Supported"), sip_str_c(sip_registrar_supported(w->reg)));
	sip_build_header(&b, SIP_STR("Accept"), SIP_STR("application/sdp"));
	sip_build_header(&b, SIP_STR("Accept-Language"), SIP_STR("en"));
	sip_build_body(&b, SIP_STR_NULL, SIP_STR_NULL);
	respond(w, t, sip_build_finish(&b));
}

/* §9.2: 200 to the CANCEL, then 487 to the INVITE if it has no final answer. */
static void on_cancel(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req)
{
	struct sip_txn *inv = sip_txn_find_cancel_target(sip_stack_txns(w->stack), req);
	if (!inv) {
		sip__core_reply(w, t, req, 481);
		return;
	}
	sip__core_reply(w, t, req, 200);
	if (sip__proxy_cancel(w, inv))
		return; /* §16.10: the branches are CANCELled; their 487 comes back up */
	if (sip_txn_status(inv) < 200) {
		/* The INVITE's own request is not kept; the CANCEL carries the same
		 * Via, From, To, Call-ID and CSeq number (§9.1), so build from it and
		 * write the CSeq line (last of the copied head) with method INVITE. */
		struct sip_builder b;
		char tag[16];
		size_t tn = sip__worker_tag(w, tag, sizeof(tag));
		sip_build_init(&b, w->out, sizeof(w->out));
		sip_build_response_head(&b, req, 487, SIP_STR_NULL,
					req->to.has_tag ? SIP_STR_NULL : (struct sip_str){tag, tn});
		char *cseq = b.err ? NULL : memmem(w->out, b.len, "\r\nCSeq: ", 8);
		if (!cseq) {
			sip_log(SIP_LOG_WARN, "%s: could not build 487 for a CANCEL", w->name);
			return;
		}
		b.len = (size_t)(cseq - w->out) + 2;
		sip_build_headerf(&b, "CSeq", "%u INVITE", (unsigned)req->cseq.num);
		sip_build_header(&b, SIP_STR("Server"), SIP_STR(SERVER));
		sip_build_body(&b, SIP_STR_NULL, SIP_STR_NULL);
		respond(w, inv, sip_build_finish(&b));
	}
}

/* The configured spelling of host when it is one of our domains (the realm
 * we challenge for), else NULL. */
static const char *our_domain(const struct sip__worker *w, struct sip_str host)
{
	for (unsigned i = 0; i < w->cfg->ndomains; i++)
		if (sip_str_caseeq(host, sip_str_c(w->cfg->domains[i])))
			return w->cfg->domains[i];
	for (unsigned i = 0; i < w->nlisten_hosts; i++)
		if (sip_str_caseeq(host, sip_str_c(w->listen_hosts[i])))
			return w->listen_hosts[i];
	return NULL;
}

static bool our_port(const struct sip__worker *w, uint16_t port)
{
	for (unsigned i = 0; i < w->nlisten_hosts; i++)
		if (w->listen_ports[i] == port)
			return true;
	return false;
}

/* Whether a SIP/SIPS URI names this server (§16.4, §16.5): one of our
 * domains or listen addresses, at one of our ports or none (then DNS, or
 * the caller, picked us: "sip:127.0.0.1" reaches a server on any port). */
static bool names_us(const struct sip__worker *w, const struct sip_uri *u)
{
	if (u->scheme != SIP_URI_SIP && u->scheme != SIP_URI_SIPS)
		return false;
	return our_domain(w, u->host) && (!u->has_port || our_port(w, u->port));
}

/* Whether a Via value's sent-by is one of our listeners: a Via we added to
 * a request we forwarded (sip_proxy_loop_check). */
static bool via_is_ours(void *ud, const struct sip_via *v)
{
	const struct sip__worker *w = ud;
	uint16_t port = v->has_port ? v->port : sip_str_caseeq(v->transport, SIP_STR("TLS")) ? 5061 : 5060;
	return our_domain(w, v->host) && our_port(w, port);
}

/* How many Route values at the top of req name us (§16.4: removed before
 * the request goes on). */
static unsigned routes_to_us(const struct sip__worker *w, const struct sip_msg *req)
{
	struct sip_hdr_iter it;
	struct sip_str v;
	unsigned n = 0;
	sip_hdr_iter_init(&it, req, SIP_HDR_ROUTE);
	while (sip_hdr_iter_next(&it, &v) == 1) {
		struct sip_nameaddr na;
		size_t off;
		if (sip_nameaddr_parse(&na, v, &off) < 0 || !names_us(w, &na.uri))
			break;
		n++;
	}
	return n;
}

int sip__route_after(const struct sip_msg *req, unsigned skip, struct sip_uri *out)
{
	struct sip_hdr_iter it;
	struct sip_str v;
	sip_hdr_iter_init(&it, req, SIP_HDR_ROUTE);
	for (unsigned i = 0; i <= skip; i++)
		if (sip_hdr_iter_next(&it, &v) != 1)
			return 0;
	struct sip_nameaddr na;
	size_t off;
	if (sip_nameaddr_parse(&na, v, &off) < 0)
		return SIP_EPARSE;
	*out = na.uri;
	return 1;
}

/* 407 with one Proxy-Authenticate per configured algorithm (§22.3). */
static void proxy_challenge(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req,
			    struct sip_str realm, bool stale)
{
	struct sip_builder b;
	head(w, &b, req, 407);
	if (sip_auth_build_challenges(w->shared->auth, realm, (int64_t)time(NULL), stale, true, &b) != 0) {
		sip__core_reply(w, t, req, 500);
		return;
	}
	sip_build_body(&b, SIP_STR_NULL, SIP_STR_NULL);
	respond(w, t, sip_build_finish(&b));
}

void sip__log_guard(const struct sip__worker *w, const void *sa)
{
	char who[80];
	sip_sockaddr_text(sa, who, sizeof(who));
	sip_log(SIP_LOG_WARN,
		"%s: authentication from the address of %s failed %u times: its credentials get 403 unchecked "
		"until it stays under %u failures a minute",
		w->name, who, sip_ratelimit_burst(w->auth_failures), w->cfg->auth_fail_per_minute);
}

/* A proxy authenticates the requests of its own users before it routes
 * them (§22.3, RFC 7616): when registration requires authentication, a
 * request whose From is in one of our domains needs Proxy-Authorization for
 * that realm, else 407. Others (foreign users, ACK and CANCEL, which cannot
 * be challenged, §22.1) pass. Returns true when the request may go on;
 * otherwise it has been answered (407, 400 or 500). */
static bool proxy_authorized(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req)
{
	if (!w->shared->require_auth || req->method_id == SIP_METHOD_ACK || req->method_id == SIP_METHOD_CANCEL)
		return true;
	const char *dom = our_domain(w, req->from.uri.host);
	if (!dom)
		return true;
	struct sip_str realm = sip_str_c(dom);
	struct sip_digest_creds c;
	int found = sip_auth_find_creds(req, true, realm, &c);
	if (found < 0) {
		sip__core_reply(w, t, req, 400);
		return false;
	}
	if (!found) {
		proxy_challenge(w, t, req, realm, false);
		return false;
	}
	/* A source out of failures is not checked at all: a right guess would
	 * tell (the registrar applies the same guard). */
	const struct sip_txn_dest *src = sip_txn_dest(t);
	const struct sockaddr *sa = src ? (const struct sockaddr *)src->addr : NULL;
	int64_t now = (int64_t)time(NULL);
	sip_ms_t now_ms = (sip_ms_t)now * 1000u;
	bool first = false;
	if (!sip_ratelimit_peek(w->auth_failures, sa, now_ms, &first)) {
		if (first)
			sip__log_guard(w, sa);
		struct sip_builder b;
		head_reason(w, &b, req, 403, SIP_STR("Too Many Failed Authentications"));
		sip_build_body(&b, SIP_STR_NULL, SIP_STR_NULL);
		respond(w, t, sip_build_finish(&b));
		return false;
	}
	struct sip_auth_request ar = {req->method, req->ruri_str, realm};
	enum sip_auth_result verdict = sip_auth_verify(w->shared->auth, &c, &ar, now, sip_users_get_ha1, w->users);
	if (verdict == SIP_AUTH_BAD)
		sip_ratelimit_allow(w->auth_failures, sa, now_ms, NULL); /* one failure spent */
	switch (verdict) {
	case SIP_AUTH_OK:
		return true;
	case SIP_AUTH_STALE:
		proxy_challenge(w, t, req, realm, true);
		return false;
	case SIP_AUTH_BAD:
		proxy_challenge(w, t, req, realm, false);
		return false;
	case SIP_AUTH_MALFORMED:
		sip__core_reply(w, t, req, 400);
		return false;
	default:
		sip__core_reply(w, t, req, 500);
		return false;
	}
}

struct sip_str sip__consumed_realm(const struct sip__worker *w, const struct sip_msg *req)
{
	const char *dom = w->shared->require_auth ? our_domain(w, req->from.uri.host) : NULL;
	return dom ? sip_str_c(dom) : SIP_STR_NULL;
}

/* 302 listing the bindings as Contacts with their remaining time (§21.3.3):
 * the redirect server's answer. */
static void redirect(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req,
		     const struct sip_binding_list *l, int64_t now)
{
	struct sip_builder b;
	head(w, &b, req, 302);
	for (size_t i = 0; i < l->n; i++) {
		const struct sip_binding *bd = &l->v[i];
		long long left = bd->expires > now ? (long long)(bd->expires - now) : 0;
		if (bd->q >= 0)
			sip_build_headerf(&b, "Contact", "<%.*s>;q=%d.%03d;expires=%lld", SIP_STR_ARG(bd->contact_uri),
					  bd->q / 1000, bd->q % 1000, left);
		else
			sip_build_headerf(&b, "Contact", "<%.*s>;expires=%lld", SIP_STR_ARG(bd->contact_uri), left);
	}
	sip_build_body(&b, SIP_STR_NULL, SIP_STR_NULL);
	respond(w, t, sip_build_finish(&b));
}

/* A request for one of our users (§16.5): the bindings of the Request-URI's
 * AOR are the targets — proxied to all of them, or listed in a 302 in
 * redirect mode; none is 480 (known domain, nobody there now). */
static void to_our_user(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req, unsigned pop)
{
	char aor[SIP_REGISTRAR_MAX_AOR_LEN + 1];
	struct sip_binding_list l = {0};
	int64_t now = (int64_t)time(NULL);
	int n = sip_registrar_aor(&req->ruri, aor, sizeof(aor));
	if (n < 0) {
		sip__core_reply(w, t, req, n == SIP_EPARSE ? 400 : 404);
		return;
	}
	if (sip_location_lookup(w->loc, (struct sip_str){aor, (size_t)n}, now, &l) < 0) {
		sip__core_reply(w, t, req, 500);
		return;
	}
	if (l.n == 0)
		sip__core_reply(w, t, req, 480);
	else if (w->cfg->mode == SIP_MODE_REDIRECT)
		redirect(w, t, req, &l, now);
	else
		sip__proxy_forward(w, t, req, pop, &l);
	sip_binding_list_free(&l);
}

/* A request in the proxy's role (§16.3 checks: Max-Forwards, loops,
 * Max-Breadth, Proxy-Require, our users authenticated), then routed: to our
 * user's bindings, or on to its Request-URI or next Route. Requests for other domains are relayed for
 * our own users and along routes through us (dialogs we Record-Routed);
 * anyone else's get 404 (the domain is not one we handle, §21.4.5), so the
 * server is no open relay. tel: URIs have no route here (404). */
static void on_proxy(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req, unsigned pop,
		     bool more_routes)
{
	if (req->max_forwards == 0) {
		sip__core_reply(w, t, req, 483); /* §16.3 step 3, RFC 4475 zeromf */
		return;
	}
	/* §16.3 step 4 (a MUST for a forking proxy, RFC 5393 §4.2): a copy of
	 * this request we forwarded came back unchanged — a loop, however many
	 * other proxies it went through (retargeted on the way: a spiral). */
	int loop = sip_proxy_loop_check(req, sip__consumed_realm(w, req), via_is_ours, w);
	if (loop != 0) {
		sip__core_reply(w, t, req, loop > 0 ? 482 : 400);
		return;
	}
	int breadth = sip_proxy_max_breadth(req);
	if (breadth <= 0 && w->cfg->mode != SIP_MODE_REDIRECT) {
		/* RFC 5393 §5.3: a malformed value, or none left for even one branch. */
		sip__core_reply(w, t, req, breadth < 0 ? 400 : 440);
		return;
	}
	if (req->first[SIP_HDR_PROXY_REQUIRE] != SIP_HDR_NONE) {
		bad_extension(w, t, req, SIP_HDR_PROXY_REQUIRE);
		return;
	}
	/* A request within a dialog that came along the route we recorded was
	 * authorized when the dialog was set up: not challenged again (a BYE
	 * does not carry the caller's credentials). */
	bool in_dialog_via_us = pop && req->to.has_tag;
	if (!in_dialog_via_us && !proxy_authorized(w, t, req))
		return;
	if (!more_routes && names_us(w, &req->ruri)) {
		to_our_user(w, t, req, pop);
		return;
	}
	bool ours = req->from.uri.scheme != SIP_URI_TEL && our_domain(w, req->from.uri.host) != NULL;
	if (req->ruri.scheme == SIP_URI_TEL || w->cfg->mode == SIP_MODE_REDIRECT || (!pop && !ours)) {
		sip__core_reply(w, t, req, 404);
		return;
	}
	sip__proxy_forward(w, t, req, pop, NULL);
}

/* §16.4: a Request-URI that is one of our Record-Route values (no user, our
 * address, ;lr) means the previous hop is a strict router: the real
 * Request-URI is the last Route value. Returns req rewritten that way (in
 * the worker's buffer), or req itself. */
static const struct sip_msg *undo_strict_routing(struct sip__worker *w, const struct sip_msg *req)
{
	if (req->ruri.has_user || !req->ruri.lr || !names_us(w, &req->ruri) || sip_hdr_count(req, SIP_HDR_ROUTE) <= 0)
		return req;
	struct sip_hdr_iter it;
	struct sip_str v, last = SIP_STR_NULL;
	sip_hdr_iter_init(&it, req, SIP_HDR_ROUTE);
	while (sip_hdr_iter_next(&it, &v) == 1)
		last = v;
	struct sip_nameaddr na;
	size_t off;
	if (!last.len || sip_nameaddr_parse(&na, last, &off) < 0)
		return req;
	struct sip_edit e;
	sip_edit_init(&e, req);
	sip_edit_set_ruri(&e, sip_uri_request_form(na.uri_str));
	sip_edit_pop_last_route(&e);
	int n = sip_edit_print(&e, w->unstrict, sizeof(w->unstrict));
	if (n <= 0 || sip_msg_parse(&w->unstrict_msg, w->unstrict, (size_t)n, SIP_PARSE_DATAGRAM, NULL) <= 0)
		return req;
	return &w->unstrict_msg;
}

/* An ACK for a 2xx (end-to-end, §17.1.1.3) along a route through us: on to
 * the next Route or its Request-URI, statelessly. Other ACKs stop here. */
void sip__core_on_ack(struct sip__worker *w, const struct sip_msg *ack)
{
	ack = undo_strict_routing(w, ack);
	unsigned pop = routes_to_us(w, ack);
	if (!pop || (ack->ruri.scheme != SIP_URI_SIP && ack->ruri.scheme != SIP_URI_SIPS))
		return;
	struct sip_uri hop;
	int rc = sip__route_after(ack, pop, &hop);
	if (rc == 0)
		hop = ack->ruri;
	if (rc >= 0)
		sip__proxy_ack(w, ack, pop, &hop);
}

void sip__core_on_request(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req)
{
	req = undo_strict_routing(w, req);
	enum sip_uri_scheme s = req->ruri.scheme;
	if (req->method_id == SIP_METHOD_ACK)
		return; /* an ACK is never answered */
	if (s != SIP_URI_SIP && s != SIP_URI_SIPS && s != SIP_URI_TEL) {
		sip__core_reply(w, t, req, 416); /* §8.2.2.1, RFC 4475 unkscm/novelsc */
		return;
	}
	if (req->method_id == SIP_METHOD_CANCEL) {
		on_cancel(w, t, req);
		return;
	}
	/* For us as a UAS (§8.2): a Request-URI naming us without a user part,
	 * and no Route beyond ours. Everything else is the proxy's. */
	int nroutes = sip_hdr_count(req, SIP_HDR_ROUTE);
	if (nroutes < 0) {
		sip__core_reply(w, t, req, 400); /* a Route list we cannot split (validation catches most) */
		return;
	}
	unsigned pop = routes_to_us(w, req);
	bool more_routes = pop < (unsigned)nroutes;
	if (req->method_id == SIP_METHOD_REGISTER && !more_routes) {
		/* The registrar checks the domain, Require, auth ... itself
		 * (§10.3). A REGISTER routed on through us (an outbound proxy's
		 * Route set) is proxied below, with our Path; one for another
		 * domain and no route gets the configured refusal. */
		if (!sip__register_on_request(w, t, req, sip_txn_dest(t))) {
			if (req->max_forwards == 0)
				sip__core_reply(w, t, req, 483);
			else
				sip__core_reply(w, t, req, (int)w->cfg->foreign_register_status);
		}
		return;
	}
	if (more_routes || req->ruri.has_user || !names_us(w, &req->ruri)) {
		on_proxy(w, t, req, pop, more_routes);
		return;
	}
	if (!check_require(w, t, req))
		return;
	switch (req->method_id) {
	case SIP_METHOD_OPTIONS:
		on_options(w, t, req);
		break;
	case SIP_METHOD_UNKNOWN:
		sip__core_reply(w, t, req, 501); /* §8.2.1: a method we do not know at all */
		break;
	default:
		sip__core_reply(w, t, req, 405); /* known method, not accepted here: Allow says what is */
		break;
	}
}
