/* client.c — the UA client core: one out-of-dialog request per sip_ua_send(),
 * located per RFC 3263, sent in a client transaction, failed over to the next
 * target on transport error, timeout or 503 (RFC 3263 §4.3), and sent again
 * with credentials on a 401/407 (RFC 3261 §22.2, rules in auth.c). */
#include <sip/log.h>
#include <sip/print.h>
#include <sip/rand.h>
#include <sip/resolver.h>
#include <sip/ua.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ua/ua_auth.h"
#include "ua/ua_int.h"

struct ua_req {
	struct sip_ua *ua;
	struct ua_req *next;
	sip_ua_cb cb;
	void *arg;
	char method[64];
	char uri[2048];
	struct sip_uri puri;
	enum sip_tp_type forced;
	char *headers, *ctype, *body;
	char *from, *to, *contact; /* URIs the caller chose, or NULL */
	bool no_contact;
	size_t body_len;
	struct sip_resolve_result *res;
	struct sip_target cur;
	bool have_target;
	struct sip_txn *txn;
	struct sip_ua_session *s; /* the caller's, or own */
	struct sip_ua_session own;
	unsigned auth_rounds;
	char auth[SIP_UA_AUTH_HDRS_MAX]; /* (Proxy-)Authorization lines of this attempt */
	char sent_contact[SIP_UA_URI_MAX];
	enum sip_tp_type used;
	struct sip_dialog *dialog; /* in-dialog request: the dialog writes it */
	bool cancel_wanted;	   /* an INVITE to CANCEL as soon as a provisional comes (§9.1) */
	bool rang;		   /* a provisional (other than 100) came from the current target */
	void (*on_prov)(void *arg, const struct sip_msg *req, const struct sip_msg *resp);
	uint32_t fixed_cseq;	   /* ACK/CANCEL in a dialog: the INVITE's CSeq */
	struct sip_msg msg;
	size_t len;
	char buf[SIP_UA_MAX_REQUEST];
};

/* Takes r out of the UA's list and its transaction, so no event reaches it. */
static void req_unlink(struct ua_req *r)
{
	struct ua_req **pp = &r->ua->reqs;
	while (*pp && *pp != r)
		pp = &(*pp)->next;
	if (*pp)
		*pp = r->next;
	if (r->txn)
		sip_txn_set_udata(r->txn, NULL);
	r->txn = NULL;
}

static void req_free(struct ua_req *r)
{
	req_unlink(r);
	sip_resolve_result_free(r->res);
	sip_free(r->headers);
	sip_free(r->ctype);
	sip_free(r->body);
	sip_free(r->from);
	sip_free(r->to);
	sip_free(r->contact);
	sip_free(r);
}

static void finish(struct ua_req *r, int status, const struct sip_msg *msg, const char *error)
{
	struct sip_ua_result res;
	memset(&res, 0, sizeof(res));
	res.status = status;
	res.msg = msg;
	res.transport = r->used;
	res.error = error;
	memcpy(res.contact, r->sent_contact, sizeof(res.contact));
	res.cseq = r->dialog ? (uint32_t)r->msg.cseq.num : r->s->cseq;
	res.auth_rounds = r->auth_rounds;
	res.request = r->len ? &r->msg : NULL;
	if (r->have_target)
		sip_target_format(&r->cur, res.target, sizeof(res.target));
	/* The callback sees the request as sent; r is freed after it. */
	req_unlink(r);
	r->cb(r->arg, &res);
	req_free(r);
}

/* Our UDP listener for the target's address family, bound to the local
 * address that routes to the target (its sent-by is what we put in Via). */
static struct sip_listener *listener_for(struct sip_ua *ua, const struct sockaddr *dst)
{
	int fam = dst->sa_family;
	struct sip_listener **slot = &ua->udp[fam == AF_INET6];
	if (*slot)
		return *slot;
	char ip[INET6_ADDRSTRLEN] = "";
	if (ua->cfg.local_ip) {
		snprintf(ip, sizeof(ip), "%s", ua->cfg.local_ip);
	} else {
		/* A connected UDP socket reveals the source address routing picks. */
		int fd = socket(fam, SOCK_DGRAM, 0);
		struct sockaddr_storage me;
		socklen_t ml = sizeof(me);
		socklen_t dl = fam == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		if (fd < 0 || connect(fd, (const struct sockaddr *)dst, dl) < 0 ||
		    getsockname(fd, (struct sockaddr *)&me, &ml) < 0) {
			if (fd >= 0)
				close(fd);
			return NULL;
		}
		close(fd);
		if (fam == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&me)->sin6_addr, ip, sizeof(ip));
		else
			inet_ntop(AF_INET, &((struct sockaddr_in *)&me)->sin_addr, ip, sizeof(ip));
	}
	if (sip_transport_listen(sip_stack_transport(ua->stack), "udp", ip, 0, slot) < 0)
		*slot = NULL;
	return *slot;
}

/* Writes the request for the current target with a Via of transport type. */
static int build(struct ua_req *r, struct sip_listener *l, enum sip_tp_type type)
{
	struct sip_ua *ua = r->ua;
	char via[SIP_TP_VIA_MAX];
	int vn = sip_transport_via(l, type, SIP_TP_VIA_RPORT, via, sizeof(via));
	if (vn < 0)
		return vn;
	struct sockaddr_storage me;
	char host[INET6_ADDRSTRLEN + 2] = "localhost";
	if (sip_listener_addr(l, &me) == 0) {
		char ip[INET6_ADDRSTRLEN];
		if (me.ss_family == AF_INET6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&me)->sin6_addr, ip, sizeof(ip));
			snprintf(host, sizeof(host), "[%s]", ip);
		} else {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&me)->sin_addr, ip, sizeof(ip));
			snprintf(host, sizeof(host), "%s", ip);
		}
	}
	const char *user = ua->cfg.user ? ua->cfg.user : "sipua";
	if (r->dialog) {
		/* The dialog writes it (§12.2.1.1); a target refresh names us anew. */
		char extra[SIP_UA_AUTH_HDRS_MAX + 4096];
		int en = snprintf(extra, sizeof(extra), "%s%s", r->auth, r->headers ? r->headers : "");
		if (en < 0 || (size_t)en >= sizeof(extra))
			return SIP_ETOOBIG;
		bool refresh = !strcmp(r->method, "INVITE") || !strcmp(r->method, "UPDATE");
		if (refresh)
			snprintf(r->sent_contact, sizeof(r->sent_contact), "sip:%s@%s:%u", user, host,
				 (unsigned)sip_listener_port(l));
		struct sip_dialog_req dr = {
		    .method = sip_str_c(r->method),
		    .cseq = r->fixed_cseq,
		    .via = (struct sip_str){via, (size_t)vn},
		    .contact = refresh ? sip_str_c(r->sent_contact) : SIP_STR_NULL,
		    .extra = (struct sip_str){extra, (size_t)en},
		    .content_type = r->ctype ? sip_str_c(r->ctype) : SIP_STR_NULL,
		    .body = (struct sip_str){r->body, r->body_len},
		};
		int n = sip_dialog_request(r->dialog, &dr, r->buf, sizeof(r->buf));
		if (n < 0)
			return n;
		r->len = (size_t)n;
		return 0;
	}
	struct sip_builder b;
	sip_build_init(&b, r->buf, sizeof(r->buf));
	sip_build_request_line(&b, sip_str_c(r->method), sip_str_c(r->uri));
	sip_build_header(&b, SIP_STR("Via"), (struct sip_str){via, (size_t)vn});
	sip_build_header(&b, SIP_STR("Max-Forwards"), SIP_STR("70"));
	if (r->from)
		sip_build_headerf(&b, "From", "<%s>;tag=%s", r->from, r->s->from_tag);
	else
		sip_build_headerf(&b, "From", "<sip:%s@%s>;tag=%s", user, host, r->s->from_tag);
	sip_build_headerf(&b, "To", "<%s>", r->to ? r->to : r->uri);
	sip_build_header(&b, SIP_STR("Call-ID"), sip_str_c(r->s->call_id));
	sip_build_headerf(&b, "CSeq", "%u %s", (unsigned)r->s->cseq, r->method);
	r->sent_contact[0] = 0;
	if (r->contact)
		snprintf(r->sent_contact, sizeof(r->sent_contact), "%s", r->contact);
	else if (!r->no_contact)
		snprintf(r->sent_contact, sizeof(r->sent_contact), "sip:%s@%s:%u%s", user, host,
			 (unsigned)sip_listener_port(l),
			 type == SIP_TP_UDP   ? ""
			 : type == SIP_TP_TCP ? ";transport=tcp"
					      : ";transport=tls");
	if (r->sent_contact[0])
		sip_build_headerf(&b, "Contact", "<%s>", r->sent_contact);
	sip_build_header(&b, SIP_STR("User-Agent"), SIP_STR("sipua/0.1"));
	if (r->auth[0])
		sip_build_raw(&b, sip_str_c(r->auth));
	if (r->headers)
		sip_build_raw(&b, sip_str_c(r->headers));
	sip_build_body(&b, r->ctype ? sip_str_c(r->ctype) : SIP_STR_NULL,
		       (struct sip_str){r->body, r->body_len});
	int n = sip_build_finish(&b);
	if (n < 0)
		return n;
	r->len = (size_t)n;
	return 0;
}

/* Sends the request (a new CSeq, and build() a new branch) to the current
 * target. 0: sent; SIP_EIO: this target cannot be used, *why says why (try
 * the next); any other code: the request was finished. */
static int send_here(struct ua_req *r, const char **why)
{
	struct sip_ua *ua = r->ua;
	struct sip_txn_dest d;
	enum sip_tp_type type = sip_txn_dest_from_target(&d, &r->cur);
	if (r->forced)
		type = r->forced;
	struct sip_listener *l = listener_for(ua, (const struct sockaddr *)d.addr);
	if (!l) {
		*why = "no local address to reach the target";
		return SIP_EIO;
	}
	if (!r->dialog)
		r->s->cseq++; /* in a dialog, the dialog counts */
	const char *user = ua->cfg.auth_user ? ua->cfg.auth_user : ua->cfg.user ? ua->cfg.user : "sipua";
	/* Answers are made once per attempt: each one counts nc up. */
	/* The digest's uri is the Request-URI (§22.4): in a dialog the one the
	 * dialog writes, not the next hop we resolved. */
	struct sip_str auth_uri = r->dialog ? sip_dialog_request_uri(r->dialog) : sip_str_c(r->uri);
	int rc = sip__ua_auth_lines(r->s, ua->cfg.auth_algs, sip_str_c(user), sip_str_c(ua->cfg.password),
				    sip_str_c(r->method), auth_uri, r->auth, sizeof(r->auth));
	if (rc < 0) {
		finish(r, 500, NULL, "could not answer the authentication challenge");
		return SIP_EAUTH;
	}
	if (rc == 0)
		r->auth[0] = 0;
	rc = build(r, l, type);
	uint8_t flags = 0;
	if (rc == 0 && type == SIP_TP_UDP &&
	    sip_transport_pick(sip_stack_transport(ua->stack), r->len, type) != type) {
		/* §18.1.1: too big for UDP — TCP, and back to UDP if TCP fails. */
		type = SIP_TP_TCP;
		flags = SIP_TP_SEND_UDP_FALLBACK;
		rc = build(r, l, type);
	}
	if (rc < 0 || sip_msg_parse(&r->msg, r->buf, r->len, SIP_PARSE_DATAGRAM, NULL) < 0) {
		finish(r, 500, NULL, "request did not fit or did not parse");
		return SIP_ETOOBIG;
	}
	r->used = type;
	d.transport = (uint8_t)type; /* forced, or switched by the MTU rule */
	d.reliable = sip_transport_reliable(type);
	d.flags = flags;
	const char *tls_name = r->puri.host_type == SIP_HOST_NAME ? r->cur.host : NULL;
	char name[SIP_RESOLVE_NAME_MAX + 1];
	if (tls_name) {
		/* RFC 5922 §4: the certificate must match the URI's domain. */
		snprintf(name, sizeof(name), "%.*s", SIP_STR_ARG(r->puri.host));
		tls_name = name;
	}
	if (r->msg.method_id == SIP_METHOD_ACK) {
		/* An ACK for a 2xx is no transaction (§17.1.1.3): sent once, done. */
		if (sip_stack_send(ua->stack, r->buf, r->len, &d) < 0) {
			*why = "could not send the ACK";
			return SIP_EIO;
		}
		finish(r, 0, NULL, NULL);
		return 0;
	}
	rc = sip_stack_request(ua->stack, &r->msg, &d, tls_name, &r->txn);
	if (rc == 0) {
		sip_txn_set_udata(r->txn, r);
		return 0;
	}
	r->txn = NULL;
	*why = "could not send the request";
	return SIP_EIO;
}

/* Sends the request to the next target; finishes the request when none is left. */
static void try_next(struct ua_req *r, int last_status, const struct sip_msg *last, const char *why)
{
	for (;;) {
		if (!r->res || !sip_resolve_next(r->res, &r->cur)) {
			finish(r, last_status, last, why);
			return;
		}
		r->have_target = true;
		r->rang = false;
		int rc = send_here(r, &why);
		if (rc != SIP_EIO)
			return;
		last_status = 503;
		last = NULL;
	}
}

/* A 401/407: send again to the same target with credentials when we have a
 * password and an answerable challenge; else it is the final answer. */
static void on_challenge(struct ua_req *r, const struct sip_msg *msg)
{
	struct sip_ua *ua = r->ua;
	if (!ua->cfg.password || r->auth_rounds >= SIP_UA_MAX_AUTH_ROUNDS ||
	    sip__ua_auth_challenged(r->s, ua->cfg.auth_algs, msg) != 1) {
		finish(r, msg->status, msg, NULL);
		return;
	}
	r->auth_rounds++;
	const char *why = NULL;
	if (send_here(r, &why) == SIP_EIO)
		try_next(r, 503, NULL, why);
}

static void on_resolved(void *arg, int err, struct sip_resolve_result *res)
{
	struct ua_req *r = arg;
	if (err < 0) {
		finish(r, 503, NULL,
		       err == SIP_ENOTFOUND ? "no DNS records for the target" : "DNS lookup failed");
		return;
	}
	r->res = res;
	try_next(r, 503, NULL, "no target answered");
}

void sip__ua_reply(struct sip_ua *ua, struct sip_txn *txn, const struct sip_msg *req, int code)
{
	char out[2048], tag[16];
	sip_rand_hex(&ua->rng, tag, 12);
	struct sip_builder b;
	sip_build_init(&b, out, sizeof(out));
	sip_build_response_head(&b, req, code, SIP_STR_NULL, req->to.has_tag ? SIP_STR_NULL : (struct sip_str){tag, 12});
	sip_build_body(&b, SIP_STR_NULL, SIP_STR_NULL);
	int n = sip_build_finish(&b);
	if (n > 0)
		sip_stack_respond(ua->stack, txn, out, (size_t)n);
}

/* CANCELs r's INVITE (§9.1): same Request-URI, Via, Call-ID, From, To and
 * CSeq number, in its own transaction to the same place. Its answer does
 * not matter: the INVITE's 487 (or a final that crossed it) ends r. */
static void send_cancel(struct ua_req *r)
{
	char buf[SIP_UA_MAX_REQUEST];
	struct sip_msg cm;
	struct sip_txn *ct;
	r->cancel_wanted = false;
	if (!r->txn)
		return;
	/* §9.1: the INVITE's transaction ends 64*T1 from now if no final
	 * response comes (the callee may have gone silent). */
	sip_txn_client_cancelled(r->txn, sip_stack_now(r->ua->stack));
	int n = sip_build_cancel(&r->msg, buf, sizeof(buf));
	if (n < 0 || sip_msg_parse(&cm, buf, (size_t)n, SIP_PARSE_DATAGRAM, NULL) <= 0 ||
	    sip_stack_request(r->ua->stack, &cm, sip_txn_dest(r->txn), NULL, &ct) < 0) {
		sip_log(SIP_LOG_WARN, "ua: could not send the CANCEL");
		sip_stack_rearm(r->ua->stack);
	}
}

int sip__ua_cancel_invite(struct sip_ua *ua, const struct sip_ua_session *s)
{
	for (struct ua_req *r = ua->reqs; r; r = r->next) {
		if (r->s != s || strcmp(r->method, "INVITE"))
			continue;
		if (r->txn && sip_txn_state(r->txn) == SIP_TXN_PROCEEDING)
			send_cancel(r);
		else
			r->cancel_wanted = true; /* not before a provisional (§9.1) */
		return 0;
	}
	return SIP_ENOTFOUND;
}

static void tu_event(void *ctx, struct sip_stack *s, struct sip_txn *txn, enum sip_txn_event ev,
		     const struct sip_msg *msg)
{
	(void)s;
	struct sip_ua *ua = ctx;
	struct ua_req *r = txn ? sip_txn_udata(txn) : NULL;
	if (ev == SIP_TXN_EV_REQUEST || ev == SIP_TXN_EV_ACK) {
		/* A request to us as a server: the application's, or 501. */
		struct sip_txn *st = ev == SIP_TXN_EV_REQUEST ? txn : NULL;
		if (sip__ua_call_request(ua, st, msg))
			return; /* one of our calls' */
		if (ua->cfg.on_request)
			ua->cfg.on_request(ua->cfg.on_request_arg, ua, st, msg);
		else if (st)
			sip__ua_reply(ua, st, msg, msg->to.has_tag ? 481 : 501);
		return;
	}
	if (txn && (sip_txn_kind(txn) == SIP_TXN_IST || sip_txn_kind(txn) == SIP_TXN_NIST)) {
		if (sip_txn_udata(txn))
			sip__ua_call_server_event(ua, txn, ev);
		return;
	}
	if (!r)
		return;
	switch (ev) {
	case SIP_TXN_EV_RESPONSE:
		if (msg->status < 200) {
			if (r->cancel_wanted)
				send_cancel(r);
			if (msg->status > 100)
				r->rang = true;
			if (r->on_prov && msg->status > 100)
				r->on_prov(r->arg, &r->msg, msg);
			return;
		}
		sip_txn_set_udata(txn, NULL);
		r->txn = NULL;
		/* RFC 3263 §4.3: a 503 sends the request on to the next target —
		 * unless this one rang already (the callee would ring twice). */
		if (msg->status == 503 && !r->rang)
			try_next(r, 503, msg, NULL);
		else if (msg->status == 401 || msg->status == 407)
			on_challenge(r, msg);
		else
			finish(r, msg->status, msg, NULL);
		return;
	case SIP_TXN_EV_TIMEOUT:
		sip_txn_set_udata(txn, NULL);
		r->txn = NULL;
		try_next(r, 408, NULL, "no response (timeout)");
		return;
	case SIP_TXN_EV_TRANSPORT_ERROR:
		sip_txn_set_udata(txn, NULL);
		r->txn = NULL;
		try_next(r, 503, NULL, "transport error");
		return;
	case SIP_TXN_EV_TERMINATED:
		r->txn = NULL;
		return;
	default:
		return;
	}
}

int sip_ua_new(struct sip_ua **out, uv_loop_t *loop, const struct sip_ua_config *cfg)
{
	if (!out || !loop)
		return SIP_EINVAL;
	struct sip_ua *ua = sip_calloc(1, sizeof(*ua));
	if (!ua)
		return SIP_ENOMEM;
	ua->loop = loop;
	if (cfg)
		ua->cfg = *cfg;
	sip_rand_seed(&ua->rng);
	struct sip_stack_config sc;
	memset(&sc, 0, sizeof(sc));
	sip_transport_config_init(&sc.tp);
	sc.tp.mtu = ua->cfg.mtu;
	sc.tp.mtu_rule_off = ua->cfg.mtu_rule_off;
	sc.tp.tls_ca_file = ua->cfg.tls_ca_file;
	sc.tp.tls_insecure_no_verify = ua->cfg.tls_insecure_no_verify;
	sip_txn_config_default(&sc.txn);
	if (cfg && cfg->txn.t1_ms)
		sc.txn.t1_ms = cfg->txn.t1_ms;
	if (cfg && cfg->txn.t2_ms)
		sc.txn.t2_ms = cfg->txn.t2_ms;
	if (cfg && cfg->txn.t4_ms)
		sc.txn.t4_ms = cfg->txn.t4_ms;
	sc.txn.hash_seed = sip_rand_next(&ua->rng);
	sc.tu_event = tu_event;
	sc.ctx = ua;
	sc.name = "ua";
	int rc = sip_stack_new(&ua->stack, loop, &sc);
	if (rc < 0) {
		sip_free(ua);
		return rc;
	}
	if (ua->cfg.local_ip && ua->cfg.local_port) {
		/* A UAS: its address is known before any request goes out. */
		bool v6 = strchr(ua->cfg.local_ip, ':') != NULL;
		rc = sip_transport_listen(sip_stack_transport(ua->stack), "udp", ua->cfg.local_ip, ua->cfg.local_port,
					  &ua->udp[v6]);
		if (rc < 0) {
			sip_stack_close(ua->stack);
			sip_free(ua);
			return rc;
		}
		snprintf(ua->contact, sizeof(ua->contact), v6 ? "sip:%s@[%s]:%u" : "sip:%s@%s:%u",
			 ua->cfg.user ? ua->cfg.user : "sipua", ua->cfg.local_ip, (unsigned)ua->cfg.local_port);
	}
	struct sip_resolver_opts ro;
	memset(&ro, 0, sizeof(ro));
	ro.servers = ua->cfg.dns_servers;
	if ((rc = sip_resolver_new(&ua->resolver, loop, &ro)) < 0) {
		sip_stack_close(ua->stack);
		sip_free(ua);
		return rc;
	}
	*out = ua;
	return 0;
}

void sip_ua_close(struct sip_ua *ua)
{
	if (!ua || ua->closing)
		return;
	ua->closing = true;
	/* Lookups still pending report SIP_ESTATE synchronously and finish their
	 * requests; the rest are finished here. */
	sip_resolver_free(ua->resolver);
	while (ua->reqs)
		finish(ua->reqs, 503, NULL, "closed");
	sip__ua_calls_close(ua);
	sip_stack_close(ua->stack);
	sip_free(ua);
}

/* Where an in-dialog request goes first (§12.2.1.1, §16.12 with loose
 * routing): the first route, else the remote target. */
static int dialog_next_hop(const struct sip_dialog *d, char *out, size_t cap)
{
	struct sip_str uri = sip_uri_request_form(sip_str_c(d->remote_target));
	if (d->nroutes) {
		struct sip_nameaddr na;
		size_t off;
		if (sip_nameaddr_parse(&na, sip_str_c(d->routes + d->route_off[0]), &off) < 0)
			return SIP_EINVAL;
		uri = sip_uri_request_form(na.uri_str);
	}
	if (!uri.len || uri.len >= cap)
		return SIP_EINVAL;
	memcpy(out, uri.p, uri.len);
	out[uri.len] = 0;
	return 0;
}

struct sip_stack *sip_ua_stack(struct sip_ua *ua)
{
	return ua ? ua->stack : NULL;
}

int sip_ua_respond(struct sip_ua *ua, struct sip_txn *txn, const char *bytes, size_t len)
{
	if (!ua || !txn)
		return SIP_EINVAL;
	return sip_stack_respond(ua->stack, txn, bytes, len);
}

const char *sip_ua_contact(const struct sip_ua *ua)
{
	return ua ? ua->contact : "";
}

int sip_ua_send(struct sip_ua *ua, const struct sip_ua_request *req, sip_ua_cb cb, void *arg)
{
	char hop[SIP_DIALOG_URI_MAX];
	if (!ua || !req || !req->method || !cb || ua->closing || (!req->uri && !req->dialog))
		return SIP_EINVAL;
	if (req->dialog && dialog_next_hop(req->dialog, hop, sizeof(hop)) < 0)
		return SIP_EINVAL;
	const char *target = req->dialog ? hop : req->uri;
	size_t ml = strlen(req->method), ul = strlen(target);
	struct sip_str mtok = {req->method, ml};
	if (ml == 0 || ml >= sizeof(((struct ua_req *)0)->method) ||
	    ul >= sizeof(((struct ua_req *)0)->uri) || sip_token_parse(mtok, NULL) < 0)
		return SIP_EINVAL;
	struct ua_req *r = sip_calloc(1, sizeof(*r));
	if (!r)
		return SIP_ENOMEM;
	r->ua = ua;
	r->cb = cb;
	r->arg = arg;
	memcpy(r->method, req->method, ml);
	memcpy(r->uri, target, ul);
	r->dialog = req->dialog;
	r->fixed_cseq = req->cseq;
	r->on_prov = req->on_provisional;
	r->forced = req->transport;
	if (sip_uri_parse(&r->puri, r->uri, ul, NULL) < 0) {
		sip_free(r);
		return SIP_EINVAL;
	}
	if (r->puri.scheme != SIP_URI_SIP && r->puri.scheme != SIP_URI_SIPS) {
		sip_free(r);
		return SIP_EUNSUPPORTED;
	}
	/* The URIs go into header lines as they are: no line breaks, no '>'. */
	const char *uris[] = {req->from, req->to, req->contact};
	for (size_t i = 0; i < 3; i++) {
		if (uris[i] &&
		    (!uris[i][0] || strlen(uris[i]) >= SIP_UA_URI_MAX || strpbrk(uris[i], "\r\n<>"))) {
			sip_free(r);
			return SIP_EINVAL;
		}
	}
	if ((req->headers && !(r->headers = sip_memdup_str(req->headers, strlen(req->headers)))) ||
	    (req->content_type && !(r->ctype = sip_memdup_str(req->content_type, strlen(req->content_type)))) ||
	    (req->body.len && !(r->body = sip_memdup_str(req->body.p, req->body.len))) ||
	    (req->from && !(r->from = sip_memdup_str(req->from, strlen(req->from)))) ||
	    (req->to && !(r->to = sip_memdup_str(req->to, strlen(req->to)))) ||
	    (req->contact && !(r->contact = sip_memdup_str(req->contact, strlen(req->contact))))) {
		req_free(r);
		return SIP_ENOMEM;
	}
	r->body_len = req->body.len;
	r->no_contact = req->no_contact;
	r->s = req->session ? req->session : &r->own;
	if (!r->s->call_id[0])
		sip_rand_hex(&ua->rng, r->s->call_id, 24);
	if (!r->s->from_tag[0])
		sip_rand_hex(&ua->rng, r->s->from_tag, 12);
	sip__ua_auth_begin(r->s);
	r->next = ua->reqs;
	ua->reqs = r;
	/* A forced transport is a transport parameter for the lookup (RFC 3263
	 * §4.1: SRV of that transport, or A/AAAA at the default port). */
	struct sip_uri look = r->puri;
	if (r->forced) {
		static const char *const names[] = {
		    [SIP_TP_UDP] = "udp", [SIP_TP_TCP] = "tcp", [SIP_TP_TLS] = "tls"};
		look.transport = sip_str_c(names[r->forced]);
	}
	int rc = sip_resolve(ua->resolver, &look, on_resolved, r);
	if (rc < 0) {
		req_free(r);
		return rc;
	}
	return 0;
}
