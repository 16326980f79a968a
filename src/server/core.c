/* core.c — what sipd answers to a request that reached it as a server
 * transaction: the checks every UAS makes (§8.2.1–§8.2.3: Request-URI scheme,
 * Require), OPTIONS addressed to itself (§11.2), CANCEL (§9.2), and a correct
 * final response — never silence — for anything it does not handle. */
#include "worker.h"

#include <sip/auth.h>
#include <sip/location.h>
#include <sip/log.h>
#include <sip/print.h>
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
static void head(struct sip__worker *w, struct sip_builder *b, const struct sip_msg *req, int code)
{
	char tag[16];
	struct sip_str to_tag = SIP_STR_NULL;
	if (code >= 200 && !req->to.has_tag) {
		size_t n = sip__worker_tag(w, tag, sizeof(tag));
		to_tag = (struct sip_str){tag, n};
	}
	sip_build_init(b, w->out, sizeof(w->out));
	sip_build_response_head(b, req, code, SIP_STR_NULL, to_tag);
	sip_build_header(b, SIP_STR("Server"), SIP_STR(SERVER));
}

static void simple(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req, int code)
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
	sip_build_header(&b, SIP_STR("Supported"), SIP_STR(""));
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
		simple(w, t, req, 481);
		return;
	}
	simple(w, t, req, 200);
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

/* Whether the Request-URI names us: one of our domains or a listen address
 * (§8.2.2.1 for a UAS; anything else is the proxy's to route). */
static bool is_local(const struct sip__worker *w, const struct sip_msg *req)
{
	return req->ruri.scheme != SIP_URI_TEL && our_domain(w, req->ruri.host) != NULL;
}

/* 407 with one Proxy-Authenticate per configured algorithm (§22.3). */
static void proxy_challenge(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req,
			    struct sip_str realm, bool stale)
{
	struct sip_builder b;
	head(w, &b, req, 407);
	if (sip_auth_build_challenges(w->shared->auth, realm, (int64_t)time(NULL), stale, true, &b) != 0) {
		simple(w, t, req, 500);
		return;
	}
	sip_build_body(&b, SIP_STR_NULL, SIP_STR_NULL);
	respond(w, t, sip_build_finish(&b));
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
		simple(w, t, req, 400);
		return false;
	}
	if (!found) {
		proxy_challenge(w, t, req, realm, false);
		return false;
	}
	struct sip_auth_request ar = {req->method, req->ruri_str, realm};
	switch (sip_auth_verify(w->shared->auth, &c, &ar, (int64_t)time(NULL), sip_users_get_ha1, w->users)) {
	case SIP_AUTH_OK:
		return true;
	case SIP_AUTH_STALE:
		proxy_challenge(w, t, req, realm, true);
		return false;
	case SIP_AUTH_BAD:
		proxy_challenge(w, t, req, realm, false);
		return false;
	case SIP_AUTH_MALFORMED:
		simple(w, t, req, 400);
		return false;
	default:
		simple(w, t, req, 500);
		return false;
	}
}

/* A request for somewhere else, in the proxy's role (§16.3): Max-Forwards and
 * Proxy-Require are checked, our users authenticated; forwarding itself
 * comes with the proxy core, so until then the target is answered 404 (no
 * route). */
static void on_foreign(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req)
{
	if (req->max_forwards == 0) {
		simple(w, t, req, 483); /* §16.3 step 3, RFC 4475 zeromf */
		return;
	}
	if (req->first[SIP_HDR_PROXY_REQUIRE] != SIP_HDR_NONE) {
		bad_extension(w, t, req, SIP_HDR_PROXY_REQUIRE);
		return;
	}
	if (!proxy_authorized(w, t, req))
		return;
	simple(w, t, req, 404);
}

void sip__core_on_request(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req)
{
	enum sip_uri_scheme s = req->ruri.scheme;
	if (req->method_id == SIP_METHOD_ACK)
		return; /* an ACK is never answered */
	if (s != SIP_URI_SIP && s != SIP_URI_SIPS && s != SIP_URI_TEL) {
		simple(w, t, req, 416); /* §8.2.2.1, RFC 4475 unkscm/novelsc */
		return;
	}
	if (req->method_id == SIP_METHOD_CANCEL) {
		on_cancel(w, t, req);
		return;
	}
	if (req->method_id == SIP_METHOD_REGISTER) {
		/* The registrar checks the domain, Require, auth ... itself (§10.3).
		 * A REGISTER for another domain would be proxied; until the proxy
		 * core exists it gets the configured refusal. */
		if (!sip__register_on_request(w, t, req, sip_txn_dest(t))) {
			if (req->max_forwards == 0)
				simple(w, t, req, 483);
			else
				simple(w, t, req, (int)w->cfg->foreign_register_status);
		}
		return;
	}
	if (!is_local(w, req)) {
		on_foreign(w, t, req);
		return;
	}
	if (!check_require(w, t, req))
		return;
	switch (req->method_id) {
	case SIP_METHOD_OPTIONS:
		on_options(w, t, req);
		break;
	case SIP_METHOD_UNKNOWN:
		simple(w, t, req, 501); /* §8.2.1: a method we do not know at all */
		break;
	default:
		simple(w, t, req, 405); /* known method, not accepted here: Allow says what is */
		break;
	}
}
