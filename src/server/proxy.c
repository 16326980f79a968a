/* proxy.c — sipd's stateful proxy (RFC 3261 §16) inside a worker: one call
 * per proxied request, holding its server transaction and one branch (a
 * client transaction) per target.
 *
 * Targets (§16.5): for a Request-URI in our domains, every live binding of
 * the AOR (parallel forking), each with its Path pre-loaded as Route (RFC
 * 3327 §5.3); for any other Request-URI, the URI itself. The next hop is the
 * first Route value, else the target (§16.6 step 7), located per RFC 3263
 * with fail-over to the next address on a transport error. Responses (§16.7):
 * 100 absorbed, other provisionals and every 2xx relayed at once, the best
 * final (sip_proxy_better) relayed when every branch has answered; a 2xx or
 * 6xx cancels the other branches, as does a CANCEL from upstream (§16.10).
 * ACKs for 2xx and responses with no transaction are forwarded statelessly.
 * Timer C (§16.6 step 11): an INVITE with no final answer 3 minutes after
 * its last provisional has its branches CANCELled, and 64*T1 later the
 * ones still silent end as 408. Those decisions are the sans-I/O fork of
 * src/proxy/fork.c (unit-tested); this file does what it says.
 *
 * Workers: a response reaches the worker the kernel's 4-tuple hash picks,
 * not necessarily the one that sent the request. Our branch ids name the
 * owning worker (sip_proxy_branch), and a response for another worker's
 * branch is handed to it through its handoff queue. */
#include "worker.h"

#include <sip/log.h>
#include <sip/print.h>
#include <sip/proxy.h>
#include <sip/registrar.h>
#include <sip/resolver.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/ctype.h"

struct px_call;

struct px_branch {
	struct px_call *call;
	struct sip_txn *txn;		 /* the client transaction while it lives */
	struct sip_resolve_result *res;	 /* next-hop addresses, tried in order */
	bool resolving;			 /* a lookup is pending (it holds a reference) */
	char *ruri, *route_pre;		 /* this branch's Request-URI and pre-loaded route */
	char *hop_name;			 /* the next hop's host name a TLS peer must match (RFC 5922), or NULL */
	char *received;			 /* where the binding's REGISTER came from (flow / NAT), or NULL */
	uint64_t flow_conn;		 /* the connection it came over (any worker's), when the next hop is it */
	char *sent;			 /* the request as sent (for its CANCEL) */
	size_t sent_len;
};

struct px_call {
	struct sip__worker *w;
	uv_timer_t timer_c;	/* INVITE only; holds a reference until closed */
	bool timer_c_open;
	struct sip_txn *server; /* NULL once terminated */
	unsigned refs;		/* server txn + live client txns + pending lookups + timer */
	unsigned pop_routes;	/* leading Route values that named us */
	unsigned nbranches;	/* prepared (one per target); the fork says when each starts */
	struct sip_proxy_fork fork;
	char *best_resp;	/* the kept best final, our Via removed */
	size_t best_len;
	int best_status;	/* its status */
	char loop_hash[SIP_PROXY_LOOP_HASH_LEN + 1]; /* in every branch id: §16.3 step 4 finds it again */
	char *req_buf;		/* the request as received (stamped); parsed again when needed */
	size_t req_len;
	struct px_branch br[]; /* one per target */
};

/* The call's request, parsed into *m (slices into c->req_buf). A call
 * keeps the bytes, not the 7.5 KB parsed view: re-parsing for each branch
 * costs ~1 µs, keeping it would make every call ~9 KB. */
static bool call_req(const struct px_call *c, struct sip_msg *m)
{
	return sip_msg_parse(m, c->req_buf, c->req_len, SIP_PARSE_DATAGRAM, NULL) > 0;
}

static void call_unref(struct px_call *c)
{
	if (--c->refs)
		return;
	for (unsigned i = 0; i < c->nbranches; i++) {
		struct px_branch *b = &c->br[i];
		sip_resolve_result_free(b->res);
		sip_free(b->ruri);
		sip_free(b->route_pre);
		sip_free(b->hop_name);
		sip_free(b->received);
		sip_free(b->sent);
	}
	sip_free(c->best_resp);
	sip_free(c->req_buf);
	sip_free(c);
}

/* ---- upstream ---- */

/* Sends a response upstream by its Via, outside any transaction (§16.7:
 * "If the server transaction is no longer available to handle the
 * transmission, the element MUST forward the response statelessly"). */
static void relay_stateless(struct px_call *c, const char *bytes, size_t len)
{
	struct sip_msg m;
	if (sip_msg_parse(&m, bytes, len, SIP_PARSE_DATAGRAM, NULL) <= 0 ||
	    sip_transport_send_response(sip_stack_transport(c->w->stack), &m, bytes, len, 0) < 0)
		sip_log(SIP_LOG_DEBUG, "%s: relaying a late response failed", c->w->name);
}

static void relay_up(struct px_call *c, const char *bytes, size_t len)
{
	if (c->w->closing)
		return;
	if (!c->server) {
		/* A late 2xx after the server transaction ended (RFC 6026 Timer L). */
		relay_stateless(c, bytes, len);
		return;
	}
	int rc = sip_stack_respond(c->w->stack, c->server, bytes, len);
	if (rc == SIP_ESTATE)
		/* A 2xx after a final of ours (Timer C's 408): the server
		 * transaction is Completed and takes no more, but an INVITE's
		 * 2xx must still reach the caller (§16.7 step 5). */
		relay_stateless(c, bytes, len);
	else if (rc < 0)
		sip_log(SIP_LOG_DEBUG, "%s: relaying a response upstream failed: %s", c->w->name, sip_strerror(rc));
}

static void timer_c_closed(uv_handle_t *h)
{
	call_unref(h->data);
}

static void on_timer_c(uv_timer_t *h);

/* Timer C follows the fork's deadline; once no branch waits, it closes. */
static void timer_c_rearm(struct px_call *c)
{
	if (!c->timer_c_open)
		return;
	sip_ms_t d = sip_proxy_fork_deadline(&c->fork);
	if (d == SIP_MS_NEVER) {
		if (!c->fork.pending) {
			c->timer_c_open = false;
			uv_timer_stop(&c->timer_c);
			uv_close((uv_handle_t *)&c->timer_c, timer_c_closed);
		} else {
			uv_timer_stop(&c->timer_c);
		}
		return;
	}
	uint64_t now = uv_now(&c->w->loop);
	uv_timer_start(&c->timer_c, on_timer_c, d > now ? d - now : 0, 0);
}

static void send_cancel(struct px_branch *b)
{
	struct px_call *c = b->call;
	struct sip_msg sent;
	char buf[SIP_TP_DGRAM_MAX];
	if (!b->txn || !b->sent || sip_msg_parse(&sent, b->sent, b->sent_len, SIP_PARSE_DATAGRAM, NULL) <= 0)
		return;
	/* A callee that rang and then went silent must not hold the INVITE's
	 * transaction (and this call) forever: §9.1, 64*T1 from now. */
	sip_txn_client_cancelled(b->txn, sip_stack_now(c->w->stack));
	int n = sip_build_cancel(&sent, buf, sizeof(buf));
	struct sip_msg cm;
	struct sip_txn *ct;
	if (n < 0 || sip_msg_parse(&cm, buf, (size_t)n, SIP_PARSE_DATAGRAM, NULL) <= 0 ||
	    sip_stack_request(c->w->stack, &cm, sip_txn_dest(b->txn), NULL, &ct) < 0) {
		sip_log(SIP_LOG_DEBUG, "%s: could not CANCEL a branch", c->w->name);
		sip_stack_rearm(c->w->stack);
	}
	/* The CANCEL's own transaction carries no udata: its answer is ignored. */
}

static void start_branch(struct px_call *c, unsigned i);
static void branch_failed(struct px_branch *b, int status);

static bool is_challenge(int status)
{
	return status == 401 || status == 407;
}

/* Adds the WWW-/Proxy-Authenticate values of the response in bytes to the
 * kept best (§16.7 step 7); on any failure the kept one stays as it was. */
static void merge_challenges(struct px_call *c, const char *bytes, size_t len)
{
	struct sip_msg best, other;
	char out[SIP_TP_DGRAM_MAX];
	if (sip_msg_parse(&best, c->best_resp, c->best_len, SIP_PARSE_DATAGRAM, NULL) <= 0 ||
	    sip_msg_parse(&other, bytes, len, SIP_PARSE_DATAGRAM, NULL) <= 0)
		return;
	int n = sip_proxy_add_challenges(&best, &other, out, sizeof(out));
	char *merged = n > 0 ? sip_memdup_str(out, (size_t)n) : NULL;
	if (!merged)
		return;
	sip_free(c->best_resp);
	c->best_resp = merged;
	c->best_len = (size_t)n;
}

/* Does what the fork decided after an event; resp is the response that
 * caused it, or NULL. */
static void apply(struct px_call *c, const struct sip_proxy_out *o, const struct sip_msg *resp)
{
	if (resp && (o->relay || o->keep)) {
		char out[SIP_TP_DGRAM_MAX];
		int n = sip_proxy_response_up(resp, out, sizeof(out));
		if (n > 0 && o->relay)
			relay_up(c, out, (size_t)n);
		if (o->keep) {
			char *old = c->best_resp;
			size_t old_len = c->best_len;
			int old_status = c->best_status;
			c->best_resp = n > 0 ? sip_memdup_str(out, (size_t)n) : NULL;
			c->best_len = c->best_resp ? (size_t)n : 0;
			c->best_status = resp->status;
			if (old && is_challenge(old_status) && is_challenge(resp->status))
				merge_challenges(c, old, old_len); /* the new best takes the old one's challenges */
			sip_free(old);
		}
	} else if (resp && is_challenge(resp->status) && c->best_resp && is_challenge(c->best_status)) {
		merge_challenges(c, resp->buf, resp->len); /* §16.7 step 7 */
	}
	for (unsigned i = 0; i < c->nbranches; i++)
		if (o->cancel_mask & (1u << i))
			send_cancel(&c->br[i]);
	if (o->final_status) {
		struct sip_msg req;
		if (o->final_from_kept && c->best_resp)
			relay_up(c, c->best_resp, c->best_len);
		else if (c->server && !c->w->closing && call_req(c, &req))
			sip__core_reply(c->w, c->server, &req, o->final_status);
	}
	/* The next q group (or the first): each may end at once and start more.
	 * At shutdown they end at once (the resolver is going away). */
	for (unsigned i = o->start_from; i < o->start_to; i++) {
		if (c->w->closing)
			branch_failed(&c->br[i], 503);
		else
			start_branch(c, i);
	}
	timer_c_rearm(c);
}

static unsigned branch_index(const struct px_branch *b)
{
	return (unsigned)(b - b->call->br);
}

/* The branch ended without a response from downstream (408, 503, 482, 487 ...). */
static void branch_failed(struct px_branch *b, int status)
{
	struct sip_proxy_out o;
	sip_proxy_fork_failed(&b->call->fork, branch_index(b), status, &o);
	apply(b->call, &o, NULL);
}

static void on_response(struct px_branch *b, const struct sip_msg *resp)
{
	struct sip_proxy_out o;
	sip_proxy_fork_response(&b->call->fork, branch_index(b), resp->status, uv_now(&b->call->w->loop), &o);
	apply(b->call, &o, resp);
}

static void on_timer_c(uv_timer_t *h)
{
	struct px_call *c = h->data;
	struct sip_proxy_out o;
	c->refs++;
	sip_proxy_fork_timer(&c->fork, uv_now(&c->w->loop), &o);
	apply(c, &o, NULL);
	call_unref(c);
}

/* Record-Route value naming listener l: "<sip:host:port;transport=tcp;lr>". */
static int rr_value(const struct sip_listener *l, char *out, size_t cap)
{
	char hp[SIP_TP_HOST_MAX + 8];
	if (sip_listener_hostport(l, hp, sizeof(hp)) < 0)
		return SIP_ETOOBIG;
	enum sip_tp_type ty = sip_listener_type(l);
	int n = snprintf(out, cap, "<sip:%s%s;lr>", hp,
			 ty == SIP_TP_TCP ? ";transport=tcp" : ty == SIP_TP_TLS ? ";transport=tls" : "");
	return n < 0 || (size_t)n >= cap ? SIP_ETOOBIG : n;
}

/* Whether a request starts a dialog we should stay in (§16.6 step 4). */
static bool wants_record_route(const struct sip_msg *req)
{
	switch (req->method_id) {
	case SIP_METHOD_INVITE:
	case SIP_METHOD_SUBSCRIBE:
	case SIP_METHOD_REFER:
	case SIP_METHOD_NOTIFY:
		return !req->to.has_tag;
	default:
		return false;
	}
}

/* The next hop is this server itself: sending would loop (a binding whose
 * contact names us) and fork on every turn until Max-Forwards runs out. */
#define NEXT_HOP_IS_US 1

/* Sends the branch's request to its next address. 0: sent; NEXT_HOP_IS_US;
 * <0: this address could not be used. */
static int send_to(struct px_branch *b, const struct sip_target *tg)
{
	struct px_call *c = b->call;
	struct sip__worker *w = c->w;
	struct sip_transport *tp = sip_stack_transport(w->stack);
	struct sip_msg req;
	if (!call_req(c, &req))
		return SIP_EPARSE;
	struct sip_txn_dest d;
	enum sip_tp_type type = sip_txn_dest_from_target(&d, tg);
	struct sip_listener *out_l = sip_transport_find_listener(tp, type, tg->family);
	if (!out_l)
		return SIP_EUNSUPPORTED;
	if (sip_transport_is_local(tp, (const struct sockaddr *)d.addr))
		return NEXT_HOP_IS_US;
	if (b->flow_conn && sip_transport_reliable(type))
		d.conn = b->flow_conn;
	/* Branch "<loop hash>.<random>" (§16.6 step 8): unique per branch, and
	 * a copy of this request coming back to us is recognised (RFC 5393). */
	char token[SIP_PROXY_LOOP_HASH_LEN + 1 + 20 + 1], branch[SIP_PROXY_BRANCH_MAX], via[SIP_TP_VIA_MAX];
	memcpy(token, c->loop_hash, SIP_PROXY_LOOP_HASH_LEN);
	token[SIP_PROXY_LOOP_HASH_LEN] = '.';
	sip_rand_hex(&w->rng, token + SIP_PROXY_LOOP_HASH_LEN + 1, 20);
	int n = sip_proxy_branch(w->id, (struct sip_str){token, sizeof(token) - 1}, branch, sizeof(branch));
	if (n < 0 || sip_transport_via_branch(out_l, type, SIP_TP_VIA_RPORT, branch, via, sizeof(via)) < 0)
		return SIP_ETOOBIG;
	struct sip_proxy_fwd f;
	memset(&f, 0, sizeof(f));
	f.ruri = sip_uri_request_form(sip_str_c(b->ruri ? b->ruri : "")); /* a Contact may carry ?headers */
	f.via = sip_str_c(via);
	f.route_pre = sip_str_c(b->route_pre ? b->route_pre : "");
	f.pop_routes = c->pop_routes;
	f.max_breadth = c->fork.br[branch_index(b)].breadth;
	f.consume_realm = sip__consumed_realm(w, &req);
	char rr[2][SIP_TP_HOST_MAX + 64], path[SIP_TP_HOST_MAX + 64];
	if (req.method_id == SIP_METHOD_REGISTER && sip_hdr_has_token(&req, SIP_HDR_SUPPORTED, SIP_STR("path")) &&
	    rr_value(out_l, path, sizeof(path)) > 0)
		f.path = sip_str_c(path); /* RFC 3327 §5.1: stay on the way to this UA */
	if (w->cfg->record_route && wants_record_route(&req)) {
		/* Double Record-Route (RFC 5658) when the request leaves by another
		 * transport or family than it came in on: each side of the dialog
		 * then reaches us the way it knows. The outgoing side is on top. */
		const struct sip_txn_dest *src = c->server ? sip_txn_dest(c->server) : NULL;
		struct sip_listener *in_l =
		    src ? sip_transport_find_listener(tp, (enum sip_tp_type)src->transport,
						      ((const struct sockaddr *)src->addr)->sa_family)
			: NULL;
		int k = 0;
		if (rr_value(out_l, rr[0], sizeof(rr[0])) > 0)
			f.record_route[k++] = sip_str_c(rr[0]);
		if (in_l && in_l != out_l && rr_value(in_l, rr[1], sizeof(rr[1])) > 0)
			f.record_route[k++] = sip_str_c(rr[1]);
	}
	char buf[SIP_TP_DGRAM_MAX];
	n = sip_proxy_forward(&req, &f, buf, sizeof(buf));
	if (n < 0)
		return n;
	uint8_t flags = 0;
	if (type == SIP_TP_UDP && !b->received && sip_transport_pick(tp, (size_t)n, type) != type) {
		/* §18.1.1: too big for UDP — TCP if we have it, UDP again if TCP fails.
		 * Not toward the address a binding registered from over UDP: that is
		 * a flow (RFC 5626 §5.3) or a NAT mapping, which only UDP passes —
		 * a TCP connect there would hang until its timeout. */
		struct sip_listener *tl = sip_transport_find_listener(tp, SIP_TP_TCP, tg->family);
		if (tl && sip_transport_via_branch(tl, SIP_TP_TCP, SIP_TP_VIA_RPORT, branch, via, sizeof(via)) > 0) {
			f.via = sip_str_c(via);
			int m = sip_proxy_forward(&req, &f, buf, sizeof(buf));
			if (m > 0) {
				n = m;
				type = SIP_TP_TCP;
				flags = SIP_TP_SEND_UDP_FALLBACK;
			}
		}
	}
	struct sip_msg fm;
	if (sip_msg_parse(&fm, buf, (size_t)n, SIP_PARSE_DATAGRAM, NULL) <= 0)
		return SIP_EPARSE;
	d.transport = (uint8_t)type;
	d.reliable = sip_transport_reliable(type);
	d.flags = flags;
	d.local = type == SIP_TP_UDP ? out_l : NULL;
	int rc = sip_stack_request(w->stack, &fm, &d, b->hop_name, &b->txn);
	if (rc < 0) {
		b->txn = NULL;
		return rc;
	}
	sip_free(b->sent);
	b->sent = sip_memdup_str(buf, (size_t)n);
	b->sent_len = b->sent ? (size_t)n : 0;
	sip_txn_set_udata(b->txn, b);
	c->refs++;
	return 0;
}

/* Tries the branch's remaining addresses; ends it with 503 when none works. */
static void try_next(struct px_branch *b)
{
	struct sip_target tg;
	bool loop = false;
	while (b->res && !b->call->fork.cancelled && sip_resolve_next(b->res, &tg)) {
		int rc = send_to(b, &tg);
		if (rc == 0)
			return;
		loop |= rc == NEXT_HOP_IS_US;
	}
	branch_failed(b, b->call->fork.cancelled ? 487 : loop ? 482 : 503); /* 482 Loop Detected (§16.3 step 4) */
}

static void on_resolved(void *arg, int err, struct sip_resolve_result *res)
{
	struct px_branch *b = arg;
	struct px_call *c = b->call;
	b->resolving = false;
	b->res = res;
	if (err < 0)
		branch_failed(b, err == SIP_ENOTFOUND ? 404 : 503);
	else
		try_next(b);
	call_unref(c);
}

/* The URI requests for this branch go to first (§16.6 step 7): the first
 * pre-loaded route, else the first Route left after ours, else the address
 * the binding registered from when the registrar kept it (an RFC 5626 flow
 * or NAT rewriting: the Contact is not reachable as written), else the
 * target. */
static int next_hop(struct px_branch *b, const struct sip_msg *req, struct sip_uri *uri)
{
	const struct px_call *c = b->call;
	if (b->route_pre && b->route_pre[0]) {
		struct sip_str v = sip_str_c(b->route_pre);
		/* The first value of a comma-joined Path. */
		struct sip_nameaddr na;
		size_t off;
		const char *comma = NULL;
		for (const char *p = v.p; p < v.p + v.len; p++) {
			if (*p == '>') {
				comma = memchr(p, ',', (size_t)(v.p + v.len - p));
				break;
			}
		}
		if (comma)
			v.len = (size_t)(comma - v.p);
		if (sip_nameaddr_parse(&na, v, &off) < 0)
			return SIP_EPARSE;
		*uri = na.uri;
		return 0;
	}
	int rc = sip__route_after(req, c->pop_routes, uri);
	if (rc != 0)
		return rc < 0 ? SIP_EPARSE : 0;
	const char *t = b->received ? b->received : b->ruri;
	if (!t)
		*uri = req->ruri;
	else if (sip_uri_parse(uri, t, strlen(t), NULL) < 0)
		return SIP_EPARSE;
	struct sip_param conn;
	if (b->received && sip_param_find(uri->params, SIP_STR(SIP_REGISTRAR_CONN_PARAM), &conn) == 1) {
		/* RFC 5626 §5.3: back over the flow the binding came in on, which
		 * may be another worker's connection (the id says whose). */
		uint64_t id = 0;
		for (size_t i = 0; i < conn.value.len && i < 16 && SIP_IS(conn.value.p[i], SIP_C_HEX); i++)
			id = id << 4 | (uint64_t)sip__hexval((unsigned char)conn.value.p[i]);
		b->flow_conn = id;
	}
	return 0;
}

/* Copies what branch i needs from its binding (bd NULL: the request's own
 * Request-URI); the binding list does not outlive the request's handling. */
static bool prepare_branch(struct px_call *c, unsigned i, const struct sip_binding *bd)
{
	struct px_branch *b = &c->br[i];
	b->call = c;
	return !bd || ((!bd->contact_uri.len || (b->ruri = sip_memdup_str(bd->contact_uri.p, bd->contact_uri.len))) &&
		       (!bd->path.len || (b->route_pre = sip_memdup_str(bd->path.p, bd->path.len))) &&
		       (!bd->received.len || (b->received = sip_memdup_str(bd->received.p, bd->received.len))));
}

/* Locates branch i's next hop; the send follows in on_resolved(). */
static void start_branch(struct px_call *c, unsigned i)
{
	struct px_branch *b = &c->br[i];
	struct sip_uri hop;
	struct sip_msg req;
	if (!call_req(c, &req) || next_hop(b, &req, &hop) < 0 ||
	    (hop.scheme != SIP_URI_SIP && hop.scheme != SIP_URI_SIPS)) {
		branch_failed(b, 416);
		return;
	}
	if (hop.host_type == SIP_HOST_NAME && !(b->hop_name = sip_memdup_str(hop.host.p, hop.host.len))) {
		branch_failed(b, 500);
		return;
	}
	/* A numeric next hop (the usual contact) needs no lookup: go on now. */
	struct sip_resolve_result *res = NULL;
	int rc = sip_resolve_now(c->w->resolver, &hop, &res);
	if (rc == 0) {
		b->res = res;
		try_next(b);
		return;
	}
	if (rc != SIP_EAGAIN) {
		branch_failed(b, 503);
		return;
	}
	b->resolving = true;
	c->refs++;
	if (sip_resolve(c->w->resolver, &hop, on_resolved, b) < 0) {
		b->resolving = false;
		c->refs--;
		branch_failed(b, 503);
	}
}

/* ---- entry points (worker.h) ---- */

void sip__proxy_forward(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req, unsigned pop_routes,
			const struct sip_binding_list *targets)
{
	size_t n = targets ? targets->n : 1;
	if (n > SIP_PROXY_MAX_BRANCHES)
		n = SIP_PROXY_MAX_BRANCHES;
	struct px_call *c = sip_calloc(1, sizeof(*c) + n * sizeof(c->br[0]));
	if (!c || !(c->req_buf = sip_memdup_str(req->buf, req->len))) {
		sip_free(c);
		sip__core_reply(w, t, req, 500);
		return;
	}
	c->req_len = req->len;
	c->w = w;
	c->refs = 1; /* the server transaction */
	c->pop_routes = pop_routes;
	sip_proxy_loop_hash(req, sip__consumed_realm(w, req), c->loop_hash);
	int breadth = sip_proxy_max_breadth(req); /* the core answered 400/440 for bad or 0 */
	bool invite = req->method_id == SIP_METHOD_INVITE;
	int32_t q[SIP_PROXY_MAX_BRANCHES];
	bool ok = true;
	c->nbranches = (unsigned)n;
	for (size_t i = 0; i < n; i++) {
		q[i] = targets ? targets->v[i].q : -1; /* the store returns them highest q first */
		ok &= prepare_branch(c, (unsigned)i, targets ? &targets->v[i] : NULL);
	}
	if (!ok) {
		call_unref(c); /* frees what was copied */
		sip__core_reply(w, t, req, 500);
		return;
	}
	c->server = t;
	sip_txn_set_udata(t, c);
	struct sip_proxy_out o;
	sip_proxy_fork_init(&c->fork, (unsigned)n, q, invite, uv_now(&w->loop), w->cfg->timer_c_ms,
			    64u * w->cfg->txn.t1_ms, breadth > 0 ? (unsigned)breadth : 1u, &o);
	if (invite) {
		uv_timer_init(&w->loop, &c->timer_c);
		c->timer_c.data = c;
		c->timer_c_open = true;
		c->refs++;
	}
	c->refs++; /* held while the branches start: one may end the call at once */
	apply(c, &o, NULL);
	call_unref(c);
}

bool sip__proxy_cancel(struct sip__worker *w, struct sip_txn *inv)
{
	(void)w;
	struct px_call *c = sip_txn_udata(inv);
	if (!c || c->server != inv)
		return false;
	struct sip_proxy_out o;
	sip_proxy_fork_cancel(&c->fork, &o);
	apply(c, &o, NULL);
	return true;
}

/* Moves branch b off its transaction t (which ends) to the next address
 * of its RFC 3263 list, when one is left and the branch still waits.
 * Returns whether it did; otherwise t's outcome stands. */
static bool fail_over(struct px_branch *b, struct sip_txn *t)
{
	struct px_call *c = b->call;
	if (!b->res || !sip_resolve_left(b->res) || c->fork.cancelled || c->fork.br[branch_index(b)].done)
		return false;
	sip_txn_set_udata(t, NULL);
	b->txn = NULL;
	c->refs++;
	try_next(b);
	call_unref(c);
	call_unref(c); /* the reference t held */
	return true;
}

void sip__proxy_txn_event(struct sip__worker *w, struct sip_txn *t, enum sip_txn_event ev, const struct sip_msg *msg)
{
	(void)w;
	void *ud = sip_txn_udata(t);
	if (!ud)
		return;
	enum sip_txn_kind kind = sip_txn_kind(t);
	if (kind == SIP_TXN_IST || kind == SIP_TXN_NIST) {
		if (ev == SIP_TXN_EV_TERMINATED) {
			struct px_call *c = ud;
			c->server = NULL;
			sip_txn_set_udata(t, NULL);
			call_unref(c);
		}
		return;
	}
	struct px_branch *b = ud;
	struct px_call *c = b->call;
	switch (ev) {
	case SIP_TXN_EV_RESPONSE:
		/* RFC 3263 §4.3: a 503 from this address sends the branch on to
		 * the next one — unless it rang already (no second ringing). */
		if (msg->status == 503 && !c->fork.br[branch_index(b)].provisional && fail_over(b, t))
			break;
		on_response(b, msg);
		break;
	case SIP_TXN_EV_TIMEOUT:
		if (!fail_over(b, t)) /* §4.3: a timeout too */
			branch_failed(b, 408);
		break;
	case SIP_TXN_EV_TRANSPORT_ERROR:
		/* RFC 3263 §4.3: the next address; the txn terminates after this. */
		sip_txn_set_udata(t, NULL);
		b->txn = NULL;
		if (!c->fork.br[branch_index(b)].done) {
			c->refs++;
			try_next(b);
			call_unref(c);
		}
		call_unref(c);
		break;
	case SIP_TXN_EV_TERMINATED:
		sip_txn_set_udata(t, NULL);
		b->txn = NULL;
		c->refs++;
		if (!c->fork.br[branch_index(b)].done)
			branch_failed(b, 408); /* only at shutdown: the txn ended unanswered */
		call_unref(c);
		call_unref(c);
		break;
	default:
		break;
	}
}
