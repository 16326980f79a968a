/* recv.c — what happens to every received message: parse, answer bad
 * requests, drop stray responses (§18.1.2), work out the top-Via stamping
 * (§18.2.1, RFC 3581) and hand it to the TU. */
#include "tp_int.h"

#include <sip/log.h>
#include <sip/print.h>
#include <sip/ratelimit.h>
#include <sip/stun.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* Binary form of an IP literal slice; returns the family or 0. */
static int ip_pton(struct sip_str host, unsigned char out[16])
{
	char tmp[64];
	if (!host.len || host.len >= sizeof(tmp))
		return 0;
	memcpy(tmp, host.p, host.len);
	tmp[host.len] = 0;
	if (inet_pton(AF_INET, tmp, out) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, tmp, out) == 1)
		return AF_INET6;
	return 0;
}

static bool host_is_addr(struct sip_str host, const struct sockaddr *sa)
{
	unsigned char a[16];
	int fam = ip_pton(host, a);
	if (fam != sa->sa_family)
		return false;
	if (fam == AF_INET)
		return memcmp(a, &((const struct sockaddr_in *)sa)->sin_addr, 4) == 0;
	return memcmp(a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16) == 0;
}

static bool host_eq(struct sip_str a, struct sip_str b)
{
	unsigned char x[16], y[16];
	int fa = ip_pton(a, x), fb = ip_pton(b, y);
	if (fa || fb)
		return fa == fb && memcmp(x, y, fa == AF_INET ? 4 : 16) == 0;
	/* Host names compare case-insensitively; a trailing dot is the same name. */
	if (a.len && a.p[a.len - 1] == '.')
		a.len--;
	if (b.len && b.p[b.len - 1] == '.')
		b.len--;
	return sip_str_caseeq(a, b);
}

bool sip__tp_via_is_ours(struct sip_transport *t, const struct sip_via *v)
{
	enum sip_tp_type vt = sip_transport_type_parse(v->transport);
	uint16_t port = v->has_port ? v->port : (vt == SIP_TP_TLS ? 5061 : 5060);
	for (unsigned i = 0; i < t->nlisteners; i++) {
		const struct sip_listener *l = t->listeners[i];
		if (l->adv_port == port && host_eq(v->host, sip_str_c(l->adv_host)))
			return true;
	}
	return false;
}

/* Compares the sent-by with the source in binary; the source is formatted
 * only when received= must be added (rare: most peers put their own IP). */
static void stamp_info(struct sip_tp_recv *ev, const struct sip_via *v, const struct sockaddr *src)
{
	uint16_t port;
	if (src->sa_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)src)->sin_port);
	else if (src->sa_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)src)->sin6_port);
	else
		return;
	bool add = !host_is_addr(v->host, src);
	if (v->has_rport && !v->rport_has_value) {
		ev->fill_rport = true;
		ev->rport = port;
		add = true; /* RFC 3581 §4: received is added even when it equals sent-by */
	}
	if (add && !v->has_received && sip__tp_addr_text(src, ev->received, sizeof(ev->received), NULL) == 0)
		ev->add_received = true;
}

/* Answers a message the parser rejected with status when its raw headers
 * let a response be built and routed. Returns status when sent, else 0. */
static int answer_bad(struct sip_transport *t, const char *buf, size_t len, int status,
		      const struct sockaddr *src, struct sip_listener *l, struct sip__conn *c)
{
	if (t->cfg.no_error_responses || status < 300)
		return 0;
	char out[SIP__ERR_RESP_MAX];
	int n = sip_transport_error_response(buf, len, status, out, sizeof(out));
	if (n <= 0)
		return 0;
	int rc = c ? sip__conn_write(c, out, (size_t)n, 0, NULL) : sip__udp_send(t, l, src, out, (size_t)n, NULL);
	if (rc != 0)
		return 0;
	t->stats.error_responses++;
	return status;
}

void sip__tp_deliver(struct sip_transport *t, const char *buf, size_t len, const struct sockaddr *src,
		     struct sip_listener *l, struct sip__conn *c, enum sip_tp_type type)
{
	bool first = false;
	if (t->limiter && !sip_ratelimit_allow(t->limiter, src, uv_now(t->loop), &first)) {
		/* Over the source's rate: no parsing, no answer (an answer would
		 * amplify the flood), and a connection is closed. */
		t->stats.rate_limited++;
		if (first) {
			char who[80];
			sip_sockaddr_text(src, who, sizeof(who));
			sip_log(SIP_LOG_WARN, "rate limit: dropping messages from %s (over %u/s)", who, t->cfg.rate_limit);
		}
		if (c)
			sip__conn_close(c, false);
		return;
	}
	if (!c && sip_stun_is_message((const uint8_t *)buf, len)) {
		/* RFC 5626 §4.4.2: a STUN keep-alive on a UDP flow gets its Binding
		 * response (the UA learns whether its NAT mapping changed); any
		 * other STUN message is dropped. */
		uint8_t out[SIP_STUN_RESPONSE_MAX];
		int n = sip_stun_binding_response((const uint8_t *)buf, len, src, out, sizeof(out));
		if (n > 0 && sip__udp_send(t, l, src, (const char *)out, (size_t)n, NULL) == 0)
			t->stats.stun_responses++;
		return;
	}
	struct sip_parse_err perr = {0, NULL, 0};
	/* Full validation: a malformed known header gets its 400 here, before any
	 * transaction or TU sees the message (RFC 4475 §3.1.2). */
	int rc = sip_msg_parse(&t->msg, buf, len, (c ? SIP_PARSE_STREAM : SIP_PARSE_DATAGRAM) | SIP_PARSE_VALIDATE,
			       &perr);
	struct sip_tp_recv ev;
	memset(&ev, 0, sizeof(ev));
	ev.buf = buf;
	ev.len = len;
	ev.src = src;
	ev.listener = l;
	ev.conn = c ? c->id : 0;
	ev.type = type;
	if (rc <= 0) {
		t->stats.parse_errors++;
		if (rc == 0 || rc == SIP_EAGAIN) {
			/* A stream frame the parser still finds short, or an empty datagram. */
			rc = SIP_EPARSE;
			if (!perr.status)
				perr.status = 400;
		}
		ev.parse_rc = rc;
		ev.perr = &perr;
		ev.answered = answer_bad(t, buf, len, perr.status, src, l, c);
		t->cfg.on_recv(t, &ev, t->cfg.ud);
		return;
	}
	if ((size_t)rc < len)
		ev.len = (size_t)rc; /* §18.3: bytes after a datagram's Content-Length are dropped */
	ev.msg = &t->msg;
	if (!t->msg.is_request) {
		if (!t->cfg.accept_stray_responses && !sip__tp_via_is_ours(t, &t->msg.via)) {
			t->stats.stray_responses++;
			return;
		}
	} else {
		stamp_info(&ev, &t->msg.via, src);
	}
	t->stats.rx_msgs++;
	t->cfg.on_recv(t, &ev, t->cfg.ud);
}

int sip_transport_stamp_via(const struct sip_tp_recv *ev, char *out, size_t cap)
{
	if (!ev || !ev->msg || !out || ev->msg->buf != ev->buf)
		return SIP_EINVAL;
	const struct sip_via *v = &ev->msg->via;
	struct sip_builder o;
	sip_build_init(&o, out, cap);
	const char *end = v->raw.p + v->raw.len;
	if (!v->raw.p || v->raw.p < ev->buf || end > ev->buf + ev->len)
		return SIP_EINVAL;
	const char *rp = NULL; /* where "=port" goes: right after the empty rport's name */
	if (ev->fill_rport) {
		struct sip_str cur = v->params;
		struct sip_param p;
		while (sip_param_next(&cur, &p) == 1) {
			if (sip_str_caseeq(p.name, SIP_STR("rport")) && !p.has_value) {
				rp = p.name.p + p.name.len;
				break;
			}
		}
		if (!rp || rp < ev->buf || rp > end)
			return SIP_EINVAL;
	}
	const char *at = ev->buf;
	if (rp) {
		char num[16];
		int n = snprintf(num, sizeof(num), "=%u", ev->rport);
		sip_build_raw(&o, (struct sip_str){at, (size_t)(rp - at)});
		sip_build_raw(&o, (struct sip_str){num, (size_t)n});
		at = rp;
	}
	sip_build_raw(&o, (struct sip_str){at, (size_t)(end - at)});
	if (ev->add_received) {
		sip_build_raw(&o, SIP_STR(";received="));
		sip_build_raw(&o, (struct sip_str){ev->received, strlen(ev->received)});
	}
	sip_build_raw(&o, (struct sip_str){end, (size_t)(ev->buf + ev->len - end)});
	if (o.err)
		return SIP_ETOOBIG;
	return (int)o.len;
}
