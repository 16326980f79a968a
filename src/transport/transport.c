/* transport.c — transport object lifetime, listeners, specs, the MTU rule and Via formatting. */
#include "tp_int.h"
#include <sip/ratelimit.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void sip_transport_config_init(struct sip_transport_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mtu = SIP_TP_DEFAULT_MTU;
	cfg->max_connections = SIP_TP_DEFAULT_MAX_CONNS;
	cfg->idle_timeout_ms = SIP_TP_DEFAULT_IDLE_MS;
	cfg->message_timeout_ms = SIP_TP_DEFAULT_MESSAGE_MS;
	cfg->connect_timeout_ms = SIP_TP_DEFAULT_CONNECT_MS;
}

int sip_transport_new(struct sip_transport **out, uv_loop_t *loop, const struct sip_transport_config *cfg)
{
	if (!out || !loop || !cfg || !cfg->on_recv)
		return SIP_EINVAL;
	*out = NULL;
	struct sip_transport *t = sip_calloc(1, sizeof(*t));
	if (!t)
		return SIP_ENOMEM;
	t->loop = loop;
	t->cfg = *cfg;
	if (!t->cfg.max_header_bytes)
		t->cfg.max_header_bytes = SIP_MAX_HEADER_BYTES;
	if (!t->cfg.max_body_bytes)
		t->cfg.max_body_bytes = SIP_MAX_BODY_BYTES;
	if (!t->cfg.max_connections)
		t->cfg.max_connections = SIP_TP_DEFAULT_MAX_CONNS;
	if (!t->cfg.idle_timeout_ms)
		t->cfg.idle_timeout_ms = SIP_TP_DEFAULT_IDLE_MS;
	if (!t->cfg.message_timeout_ms)
		t->cfg.message_timeout_ms = SIP_TP_DEFAULT_MESSAGE_MS;
	if (!t->cfg.connect_timeout_ms)
		t->cfg.connect_timeout_ms = SIP_TP_DEFAULT_CONNECT_MS;
	int rc = 0;
	if (t->cfg.rate_limit) {
		struct sip_ratelimit_config rc_cfg = {.rate = t->cfg.rate_limit, .burst = t->cfg.rate_limit_burst};
		if (RAND_bytes((unsigned char *)&rc_cfg.seed, sizeof(rc_cfg.seed)) != 1 ||
		    (rc = sip_ratelimit_new(&t->limiter, &rc_cfg)) < 0) {
			sip_free(t);
			return rc < 0 ? rc : SIP_EIO;
		}
	}
	/* The file names need not outlive this call: the transport keeps copies
	 * (sip_transport_tls_reload() reads the files again). */
	rc = sip__tls_init(t);
	if (rc) {
		sip__tls_free(t);
		sip_ratelimit_free(t->limiter);
		sip_free(t);
		return rc;
	}
	t->next_id = t->cfg.conn_id_base + 1;
	*out = t;
	return 0;
}

static void maybe_free(struct sip_transport *t)
{
	if (!t->closing || t->live || t->freed)
		return;
	t->freed = true;
	sip_tp_closed_cb cb = t->cfg.on_closed;
	void *ud = t->cfg.ud;
	sip__tls_free(t);
	sip__udp_free(t);
	sip_ratelimit_free(t->limiter);
	sip__ipcount_free(t);
	sip_free(t);
	if (cb)
		cb(ud);
}

void sip__tp_handle_closed(struct sip_transport *t)
{
	t->live--;
	maybe_free(t);
}

void sip__listener_closed(uv_handle_t *h)
{
	struct sip_listener *l = h->data;
	struct sip_transport *t = l->t;
	if (l->type == SIP_TP_UDP)
		sip__udp_listener_release(l);
	sip_free(l);
	sip__tp_handle_closed(t);
}

void sip_transport_close(struct sip_transport *t)
{
	if (!t || t->closing)
		return;
	t->closing = true;
	for (unsigned i = 0; i < t->nlisteners; i++)
		uv_close(&t->listeners[i]->u.h, sip__listener_closed);
	t->nlisteners = 0;
	sip__stream_close_all(t);
	/* Nothing open: free now rather than wait for a callback that never comes. */
	maybe_free(t);
}

void sip__tp_report(struct sip_transport *t, enum sip_tp_err_kind kind, int err, int sys, enum sip_tp_type type,
		    const struct sockaddr *dst, uint64_t conn, void *ctx, const char *reason)
{
	if (!t->cfg.on_error)
		return;
	struct sip_tp_error ev = {kind, err, sys, type, dst, conn, ctx, reason};
	t->cfg.on_error(t, &ev, t->cfg.ud);
}

int sip__tp_addr_text(const struct sockaddr *sa, char *out, size_t cap, uint16_t *port)
{
	int rc;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		rc = uv_ip4_name(in, out, cap);
		if (port)
			*port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		rc = uv_ip6_name(in6, out, cap);
		if (port)
			*port = ntohs(in6->sin6_port);
	} else {
		return SIP_EINVAL;
	}
	return rc ? SIP_EINVAL : 0;
}

void sip_sockaddr_text(const struct sockaddr *sa, char *out, size_t cap)
{
	char ip[64];
	uint16_t port = 0;
	if (!sa || sip__tp_addr_text(sa, ip, sizeof(ip), &port) < 0)
		snprintf(out, cap, "?");
	else
		snprintf(out, cap, sa->sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

enum sip_tp_type sip_transport_type_parse(struct sip_str name)
{
	if (sip_str_caseeq(name, SIP_STR("udp")))
		return SIP_TP_UDP;
	if (sip_str_caseeq(name, SIP_STR("tcp")))
		return SIP_TP_TCP;
	if (sip_str_caseeq(name, SIP_STR("tls")))
		return SIP_TP_TLS;
	return SIP_TP_NONE;
}

const char *sip_transport_type_name(enum sip_tp_type type)
{
	switch (type) {
	case SIP_TP_UDP:
		return "UDP";
	case SIP_TP_TCP:
		return "TCP";
	case SIP_TP_TLS:
		return "TLS";
	default:
		return "";
	}
}

bool sip_transport_reliable(enum sip_tp_type type) { return type == SIP_TP_TCP || type == SIP_TP_TLS; }

static uint16_t default_port(enum sip_tp_type type) { return type == SIP_TP_TLS ? 5061 : 5060; }

int sip_transport_parse_spec(const char *spec, struct sip_tp_spec *out)
{
	if (!spec || !out)
		return SIP_EINVAL;
	memset(out, 0, sizeof(*out));
	const char *colon = strchr(spec, ':');
	if (!colon)
		return SIP_EPARSE;
	out->type = sip_transport_type_parse((struct sip_str){spec, (size_t)(colon - spec)});
	if (out->type == SIP_TP_NONE)
		return SIP_EUNSUPPORTED;
	const char *h = colon + 1, *hend, *rest;
	if (*h == '[') {
		h++;
		hend = strchr(h, ']');
		if (!hend)
			return SIP_EPARSE;
		rest = hend + 1;
	} else {
		hend = strchr(h, ':');
		if (!hend)
			hend = h + strlen(h);
		rest = hend;
	}
	size_t hl = (size_t)(hend - h);
	if (!hl || hl >= sizeof(out->host))
		return SIP_EPARSE;
	memcpy(out->host, h, hl);
	out->host[hl] = 0;
	for (size_t i = 0; i < hl; i++) {
		char ch = out->host[i];
		bool ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  ch == '.' || ch == '-' || ch == ':' || ch == '%' || ch == '_';
		if (!ok)
			return SIP_EPARSE;
	}
	/* A colon inside an unbracketed host means an IPv6 literal without brackets: ambiguous. */
	if (spec[colon - spec + 1] != '[' && memchr(out->host, ':', hl))
		return SIP_EPARSE;
	if (!*rest) {
		out->port = default_port(out->type);
		return 0;
	}
	if (*rest != ':' || !rest[1])
		return SIP_EPARSE;
	uint32_t port;
	int rc = sip_str_to_u32(sip_str_c(rest + 1), &port);
	if (rc || port > 65535)
		return SIP_EPARSE;
	out->port = (uint16_t)port;
	return 0;
}

/* Best effort: a bigger buffer absorbs bursts; a smaller one still works. */
static void grow_buf(int fd, int force_opt, int opt, unsigned bytes)
{
	int want = (int)(bytes ? bytes : SIP__UDP_SOCKBUF);
	if (setsockopt(fd, SOL_SOCKET, force_opt, &want, sizeof(want)))
		(void)setsockopt(fd, SOL_SOCKET, opt, &want, sizeof(want));
}

/* Our own socket, so SO_REUSEPORT and IPV6_V6ONLY can be set before bind. */
static int open_socket(const struct sockaddr *sa, int socktype, bool reuseport, unsigned udp_buf)
{
	int fd = socket(sa->sa_family, socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	if (socktype == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		goto fail;
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
		goto fail;
	if (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
		goto fail;
	if (socktype == SOCK_DGRAM) {
		grow_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, udp_buf);
		grow_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, udp_buf);
	}
	socklen_t sl = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (bind(fd, sa, sl))
		goto fail;
	return fd;
fail:;
	int e = -errno;
	close(fd);
	return e;
}

int sip_tp_dest_set(struct sip_tp_dest *d, enum sip_tp_type type, const char *ip, uint16_t port)
{
	if (!d || !ip)
		return SIP_EINVAL;
	memset(d, 0, sizeof(*d));
	d->type = type;
	if (uv_ip4_addr(ip, port, (struct sockaddr_in *)&d->addr) == 0)
		return 0;
	if (uv_ip6_addr(ip, port, (struct sockaddr_in6 *)&d->addr) == 0)
		return 0;
	return SIP_EINVAL;
}

int sip_transport_listen(struct sip_transport *t, const char *proto, const char *host, uint16_t port,
			 struct sip_listener **out)
{
	if (out)
		*out = NULL;
	if (!t || !proto || !host || t->closing)
		return SIP_EINVAL;
	enum sip_tp_type type = sip_transport_type_parse(sip_str_c(proto));
	if (type == SIP_TP_NONE)
		return SIP_EUNSUPPORTED;
	if (type == SIP_TP_TLS && !t->srv_ctx)
		return SIP_ECONFIG;
	if (t->nlisteners >= SIP_TP_MAX_LISTENERS)
		return SIP_ETOOBIG;
	struct sip_tp_dest d;
	if (sip_tp_dest_set(&d, type, host, port))
		return SIP_EINVAL;
	int fd = open_socket((struct sockaddr *)&d.addr, type == SIP_TP_UDP ? SOCK_DGRAM : SOCK_STREAM,
			     t->cfg.reuseport, t->cfg.udp_socket_buffer);
	if (fd < 0)
		return SIP_EIO;
	struct sip_listener *l = sip_calloc(1, sizeof(*l));
	if (!l) {
		close(fd);
		return SIP_ENOMEM;
	}
	l->t = t;
	l->type = type;
	int rc = type == SIP_TP_UDP ? sip__udp_listen(l, fd) : sip__stream_listen(l, fd);
	if (rc) {
		/* The handle, when it was initialized, owns fd and frees l on close. */
		return rc;
	}
	int nl = sizeof(l->addr);
	if (type == SIP_TP_UDP) {
		socklen_t sl = sizeof(l->addr);
		getsockname(l->fd, (struct sockaddr *)&l->addr, &sl);
	} else {
		uv_tcp_getsockname(&l->u.tcp, (struct sockaddr *)&l->addr, &nl);
	}
	sip__tp_addr_text((struct sockaddr *)&l->addr, l->adv_host, sizeof(l->adv_host), &l->adv_port);
	l->adv_ipv6 = l->addr.ss_family == AF_INET6;
	t->listeners[t->nlisteners++] = l;
	if (out)
		*out = l;
	return 0;
}

int sip_transport_listen_spec(struct sip_transport *t, const char *spec, struct sip_listener **out)
{
	struct sip_tp_spec s;
	int rc = sip_transport_parse_spec(spec, &s);
	if (rc)
		return rc;
	return sip_transport_listen(t, sip_transport_type_name(s.type), s.host, s.port, out);
}

int sip_listener_addr(const struct sip_listener *l, struct sockaddr_storage *out)
{
	if (!l || !out)
		return SIP_EINVAL;
	*out = l->addr;
	return 0;
}

/* The address bytes and port of an AF_INET/AF_INET6 sockaddr. */
static const void *addr_bytes(const struct sockaddr *sa, size_t *len, uint16_t *port)
{
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		*len = 16;
		*port = ntohs(s6->sin6_port);
		return &s6->sin6_addr;
	}
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
	*len = 4;
	*port = ntohs(s4->sin_port);
	return &s4->sin_addr;
}

static bool is_any_or_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		return IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a);
	}
	uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
	return a == INADDR_ANY || (a >> 24) == 127;
}

bool sip_transport_is_local(const struct sip_transport *t, const struct sockaddr *sa)
{
	if (!t || !sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return false;
	size_t tl;
	uint16_t tp;
	const void *ta = addr_bytes(sa, &tl, &tp);
	for (unsigned i = 0; i < t->nlisteners; i++) {
		const struct sockaddr *la = (const struct sockaddr *)&t->listeners[i]->addr;
		if (la->sa_family != sa->sa_family)
			continue;
		size_t ll;
		uint16_t lp;
		const void *lb = addr_bytes(la, &ll, &lp);
		if (lp != tp)
			continue;
		/* The same address, or a wildcard listener and a loopback target. */
		if (!memcmp(lb, ta, ll) || (is_any_or_loopback(la) && is_any_or_loopback(sa)))
			return true;
	}
	return false;
}

uint16_t sip_listener_port(const struct sip_listener *l)
{
	uint16_t port = 0;
	if (l)
		sip__tp_addr_text((const struct sockaddr *)&l->addr, (char[64]){0}, 64, &port);
	return port;
}

enum sip_tp_type sip_listener_type(const struct sip_listener *l) { return l ? l->type : SIP_TP_NONE; }

int sip_listener_set_advertise(struct sip_listener *l, const char *host, uint16_t port)
{
	if (!l || !host)
		return SIP_EINVAL;
	size_t n = strlen(host);
	if (!n || n >= sizeof(l->adv_host))
		return SIP_EINVAL;
	memcpy(l->adv_host, host, n + 1);
	l->adv_ipv6 = memchr(host, ':', n) != NULL;
	if (port)
		l->adv_port = port;
	return 0;
}

struct sip_listener *sip_transport_find_listener(struct sip_transport *t, enum sip_tp_type type, int family)
{
	for (unsigned i = 0; t && i < t->nlisteners; i++) {
		struct sip_listener *l = t->listeners[i];
		if (l->type == type && (family == AF_UNSPEC || l->addr.ss_family == family))
			return l;
	}
	return NULL;
}

enum sip_tp_type sip_transport_select(size_t len, unsigned mtu, enum sip_tp_type requested)
{
	if (requested != SIP_TP_UDP)
		return requested;
	size_t limit = SIP_TP_UNKNOWN_MTU_LIMIT;
	if (mtu)
		limit = mtu > SIP_TP_MTU_MARGIN ? mtu - SIP_TP_MTU_MARGIN : 0;
	return len > limit ? SIP_TP_TCP : SIP_TP_UDP;
}

enum sip_tp_type sip_transport_pick(const struct sip_transport *t, size_t len, enum sip_tp_type requested)
{
	if (!t || t->cfg.mtu_rule_off)
		return requested;
	return sip_transport_select(len, t->cfg.mtu, requested);
}

int sip_transport_branch(char *out, size_t cap)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.";
	enum { RAND_CHARS = 22 }; /* 22 chars of 6 bits: 132 bits of randomness */
	const size_t need = 7 + RAND_CHARS + 1;
	if (!out || cap < need)
		return SIP_ETOOBIG;
	unsigned char r[RAND_CHARS];
	if (RAND_bytes(r, sizeof(r)) != 1)
		return SIP_EIO;
	memcpy(out, "z9hG4bK", 7);
	for (int i = 0; i < RAND_CHARS; i++)
		out[7 + i] = alphabet[r[i] & 63];
	out[need - 1] = 0;
	return (int)need - 1;
}

int sip_transport_via_branch(const struct sip_listener *l, enum sip_tp_type type, unsigned flags, const char *branch,
			     char *out, size_t cap)
{
	if (!l || !out || !branch)
		return SIP_EINVAL;
	if (type == SIP_TP_NONE)
		type = l->type;
	int n = snprintf(out, cap, l->adv_ipv6 ? "SIP/2.0/%s [%s]:%u;branch=%s%s" : "SIP/2.0/%s %s:%u;branch=%s%s",
			 sip_transport_type_name(type), l->adv_host, l->adv_port, branch,
			 (flags & SIP_TP_VIA_RPORT) ? ";rport" : "");
	if (n < 0 || (size_t)n >= cap)
		return SIP_ETOOBIG;
	return n;
}

int sip_listener_hostport(const struct sip_listener *l, char *out, size_t cap)
{
	if (!l || !out)
		return SIP_EINVAL;
	int n = snprintf(out, cap, l->adv_ipv6 ? "[%s]:%u" : "%s:%u", l->adv_host, l->adv_port);
	if (n < 0 || (size_t)n >= cap)
		return SIP_ETOOBIG;
	return n;
}

int sip_transport_via(const struct sip_listener *l, enum sip_tp_type type, unsigned flags, char *out, size_t cap)
{
	char branch[40];
	int rc = sip_transport_branch(branch, sizeof(branch));
	if (rc < 0)
		return rc;
	return sip_transport_via_branch(l, type, flags, branch, out, cap);
}

int sip_transport_send(struct sip_transport *t, const struct sip_tp_dest *dst, const char *buf, size_t len,
		       unsigned flags, void *ctx, uint64_t *conn)
{
	if (conn)
		*conn = 0;
	if (!t || !dst || !buf || !len || t->closing)
		return SIP_EINVAL;
	if (dst->addr.ss_family != AF_INET && dst->addr.ss_family != AF_INET6)
		return SIP_EINVAL;
	if (dst->type == SIP_TP_UDP) {
		struct sip_listener *l = dst->listener;
		if (!l || l->t != t || l->type != SIP_TP_UDP || l->addr.ss_family != dst->addr.ss_family)
			l = sip__udp_for(t, dst->addr.ss_family);
		if (!l)
			return SIP_ESTATE;
		return sip__udp_send(t, l, (const struct sockaddr *)&dst->addr, buf, len, ctx);
	}
	if (dst->type == SIP_TP_TCP || dst->type == SIP_TP_TLS)
		return sip__stream_send(t, dst, buf, len, flags, ctx, conn);
	return SIP_EUNSUPPORTED;
}

int sip_transport_send_conn(struct sip_transport *t, uint64_t conn, const char *buf, size_t len, void *ctx)
{
	if (!t || !buf || !len)
		return SIP_EINVAL;
	struct sip__conn *c = sip__conn_find(t, conn);
	if (!c)
		return SIP_ENOTFOUND;
	return sip__conn_write(c, buf, len, 0, ctx);
}

int sip_transport_conn_close(struct sip_transport *t, uint64_t conn)
{
	struct sip__conn *c = t ? sip__conn_find(t, conn) : NULL;
	if (!c)
		return SIP_ENOTFOUND;
	sip__conn_close(c, true);
	return 0;
}

unsigned sip_transport_conn_count(const struct sip_transport *t) { return t ? t->nconns : 0; }

void sip_transport_stats(const struct sip_transport *t, struct sip_tp_stats *out)
{
	if (t && out)
		*out = t->stats;
}
