/* stream.c — TCP (and the socket side of TLS) connections: accept, connect,
 * the connection table, framing, write queues, limits and idle timeouts. */
#include "tp_int.h"

#include <sip/log.h>

#include <string.h>
#include <unistd.h>

struct wreq {
	uv_write_t req;
	struct sip__conn *c;
	void *ctx;
	size_t len;
	char data[];
};

static size_t rbuf_limit(const struct sip_transport *t)
{
	return t->cfg.max_header_bytes + t->cfg.max_body_bytes + SIP__READ_SLACK;
}

static unsigned key_hash(enum sip_tp_type type, const struct sockaddr_storage *a)
{
	uint32_t h = 2166136261u ^ (uint32_t)type;
	const unsigned char *p;
	size_t n;
	if (a->ss_family == AF_INET6) {
		p = (const unsigned char *)&((const struct sockaddr_in6 *)a)->sin6_addr;
		n = 16;
		h = (h ^ ((const struct sockaddr_in6 *)a)->sin6_port) * 16777619u;
	} else {
		p = (const unsigned char *)&((const struct sockaddr_in *)a)->sin_addr;
		n = 4;
		h = (h ^ ((const struct sockaddr_in *)a)->sin_port) * 16777619u;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h & (SIP__CONN_BUCKETS - 1);
}

static bool addr_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

static void tables_add(struct sip__conn *c)
{
	struct sip_transport *t = c->t;
	unsigned b = (unsigned)(c->id & (SIP__CONN_BUCKETS - 1));
	c->id_next = t->by_id[b];
	t->by_id[b] = c;
	unsigned k = key_hash(c->type, &c->peer);
	c->key_next = t->by_key[k];
	t->by_key[k] = c;
	c->in_tables = true;
	if (!c->outbound && t->cfg.on_conn)
		t->cfg.on_conn(t->cfg.conn_ud, c->id, c->type, (const struct sockaddr *)&c->peer, true);
}

static void tables_del(struct sip__conn *c)
{
	if (!c->in_tables)
		return;
	struct sip_transport *t = c->t;
	if (!c->outbound && t->cfg.on_conn)
		t->cfg.on_conn(t->cfg.conn_ud, c->id, c->type, (const struct sockaddr *)&c->peer, false);
	struct sip__conn **pp = &t->by_id[c->id & (SIP__CONN_BUCKETS - 1)];
	while (*pp && *pp != c)
		pp = &(*pp)->id_next;
	if (*pp)
		*pp = c->id_next;
	pp = &t->by_key[key_hash(c->type, &c->peer)];
	while (*pp && *pp != c)
		pp = &(*pp)->key_next;
	if (*pp)
		*pp = c->key_next;
	c->in_tables = false;
}

/* Takes c out of lookups and out of the connection count (nobody new writes to it). */
static void forget(struct sip__conn *c)
{
	tables_del(c);
	if (c->counted) {
		c->counted = false;
		c->t->nconns--;
	}
	if (c->ip_counted) {
		c->ip_counted = false;
		sip__ipcount_give(c->t, (const struct sockaddr *)&c->peer);
	}
}

struct sip__conn *sip__conn_find(struct sip_transport *t, uint64_t id)
{
	for (struct sip__conn *c = t->by_id[id & (SIP__CONN_BUCKETS - 1)]; c; c = c->id_next)
		if (c->id == id)
			return c;
	return NULL;
}

static struct sip__conn *find_key(struct sip_transport *t, enum sip_tp_type type, const struct sockaddr_storage *a)
{
	for (struct sip__conn *c = t->by_key[key_hash(type, a)]; c; c = c->key_next)
		if (c->type == type && addr_eq(&c->peer, a))
			return c;
	return NULL;
}

bool sip_transport_has_conn(struct sip_transport *t, enum sip_tp_type type, const struct sockaddr *addr)
{
	struct sockaddr_storage a;
	memset(&a, 0, sizeof(a));
	memcpy(&a, addr, addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	return t && find_key(t, type, &a) != NULL;
}

static void free_pending(struct sip__conn *c)
{
	while (c->pend) {
		struct sip__pending *p = c->pend;
		c->pend = p->next;
		sip_free(p);
	}
	c->pend_tail = &c->pend;
}

static void conn_handle_closed(uv_handle_t *h)
{
	struct sip__conn *c = h->data;
	struct sip_transport *t = c->t;
	if (--c->handles == 0) {
		if (c->ssl)
			SSL_free(c->ssl); /* frees the BIOs too */
		free_pending(c);
		sip_free(c->rbuf);
		sip_free(c);
	}
	sip__tp_handle_closed(t);
}

static void on_timer(uv_timer_t *h);

/* Activity on c. The connect/handshake deadline runs from the start (a peer
 * trickling handshake bytes does not extend it); the idle timer is not
 * restarted per message (a libuv timer-heap update per read and per write):
 * it fires at most once per idle_timeout_ms and re-arms for the rest when
 * the connection was active since. A draining connection keeps its deadline. */
static void touch(struct sip__conn *c)
{
	if (c->closing || c->draining)
		return;
	c->active_at = uv_now(c->t->loop);
	if (!c->ready) {
		c->idle_armed = false;
		if (!uv_is_active((uv_handle_t *)&c->timer))
			uv_timer_start(&c->timer, on_timer, c->t->cfg.connect_timeout_ms, 0);
		return;
	}
	if (c->idle_armed && uv_is_active((uv_handle_t *)&c->timer))
		return;
	c->idle_armed = true;
	uv_timer_start(&c->timer, on_timer, c->t->cfg.idle_timeout_ms, 0);
}

static struct sip__conn *conn_new(struct sip_transport *t, enum sip_tp_type type)
{
	struct sip__conn *c = sip_calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->t = t;
	c->type = type;
	c->pend_tail = &c->pend;
	if (uv_tcp_init(t->loop, &c->tcp)) {
		sip_free(c);
		return NULL;
	}
	uv_timer_init(t->loop, &c->timer); /* cannot fail */
	c->tcp.data = c->timer.data = c;
	c->handles = 2;
	t->live += 2;
	c->id = t->next_id++;
	c->next = t->conns;
	if (t->conns)
		t->conns->prev = c;
	t->conns = c;
	sip_framer_init(&c->framer);
	c->framer.max_header_bytes = t->cfg.max_header_bytes;
	c->framer.max_body_bytes = t->cfg.max_body_bytes;
	t->nconns++;
	c->counted = true;
	return c;
}

static void hard_close(struct sip__conn *c)
{
	if (c->closing)
		return;
	struct sip_transport *t = c->t;
	forget(c);
	c->closing = true;
	if (c->pend) {
		for (struct sip__pending *p = c->pend; p; p = p->next)
			sip__tp_report(t, SIP_TP_ERR_CLOSED, SIP_EIO, 0, c->type, (struct sockaddr *)&c->peer, c->id,
				       p->ctx, "connection closed before sending");
		free_pending(c);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		t->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	hard_close(req->data);
}

void sip__conn_close(struct sip__conn *c, bool graceful)
{
	if (c->closing || (c->draining && graceful))
		return;
	if (graceful && c->ready) {
		/* Let queued bytes (a 400/513, a TLS close_notify) reach the peer first. */
		forget(c);
		c->draining = true;
		uv_read_stop((uv_stream_t *)&c->tcp);
		if (c->ssl)
			sip__tls_shutdown(c);
		c->sreq.data = c;
		c->idle_armed = false;
		uv_timer_start(&c->timer, on_timer, c->t->cfg.connect_timeout_ms, 0);
		if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, on_shutdown) == 0)
			return;
	}
	hard_close(c);
}

void sip__stream_close_all(struct sip_transport *t)
{
	while (t->conns)
		hard_close(t->conns);
}

static void fallback_udp(struct sip__conn *c, struct sip__pending *p)
{
	/* §18.1.1: TCP was only chosen for size; the Via must say UDP again (same length). */
	struct sip_msg *m = sip_malloc(sizeof(*m));
	struct sip_parse_err e;
	int rc = SIP_ENOMEM;
	if (m && sip_msg_parse(m, p->data, p->len, SIP_PARSE_DATAGRAM, &e) > 0 &&
	    sip_str_caseeq(m->via.transport, SIP_STR("TCP"))) {
		memcpy(p->data + (m->via.transport.p - p->data), "UDP", 3);
		struct sip_tp_dest d;
		memset(&d, 0, sizeof(d));
		d.type = SIP_TP_UDP;
		d.addr = c->peer;
		rc = sip_transport_send(c->t, &d, p->data, p->len, 0, p->ctx, NULL);
		if (rc == 0) {
			/* A trace shows the request leaving over TCP: say where it went. */
			char who[80];
			sip_sockaddr_text((const struct sockaddr *)&c->peer, who, sizeof(who));
			sip_log(SIP_LOG_INFO, "TCP connect to %s failed: request resent over UDP (RFC 3261 §18.1.1)",
				who);
		}
	}
	sip_free(m);
	if (rc)
		sip__tp_report(c->t, SIP_TP_ERR_CONNECT, SIP_EIO, 0, c->type, (struct sockaddr *)&c->peer, c->id,
			       p->ctx, "connect failed and UDP retry failed");
}

void sip__conn_fail(struct sip__conn *c, enum sip_tp_err_kind kind, int err, int sys, const char *reason)
{
	if (c->closing)
		return;
	struct sip__pending *p = c->pend;
	c->pend = NULL;
	c->pend_tail = &c->pend;
	forget(c); /* a retry must not find this connection */
	c->draining = true;
	while (p) {
		struct sip__pending *n = p->next;
		if (kind == SIP_TP_ERR_CONNECT && (p->flags & SIP_TP_SEND_UDP_FALLBACK) && c->type == SIP_TP_TCP &&
		    !c->t->closing)
			fallback_udp(c, p);
		else
			sip__tp_report(c->t, kind, err, sys, c->type, (struct sockaddr *)&c->peer, c->id, p->ctx,
				       reason);
		sip_free(p);
		p = n;
	}
	hard_close(c);
}

static void on_write(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct sip__conn *c = w->c;
	c->queued -= w->len;
	if (status < 0 && status != UV_ECANCELED) {
		sip__tp_report(c->t, SIP_TP_ERR_SEND, SIP_EIO, status, c->type, (struct sockaddr *)&c->peer, c->id,
			       w->ctx, uv_strerror(status));
		hard_close(c);
	}
	sip_free(w);
}

int sip__stream_wire(struct sip__conn *c, const char *buf, size_t len, void *ctx)
{
	if (len > UINT32_MAX)
		return SIP_ETOOBIG;
	if (c->queued == 0) {
		/* Nothing queued, so order is kept: most messages go out at once,
		 * with no request to allocate, copy into and complete later. What
		 * the socket did not take (or a hard error, reported the usual way
		 * by the queued write) goes through uv_write below. */
		uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
		int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
		if (n > 0) {
			touch(c);
			if ((size_t)n == len)
				return 0;
			buf += n;
			len -= (size_t)n;
		}
	}
	struct wreq *w = sip_malloc(sizeof(*w) + len);
	if (!w)
		return SIP_ENOMEM;
	w->c = c;
	w->ctx = ctx;
	w->len = len;
	memcpy(w->data, buf, len);
	uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write)) {
		sip_free(w);
		return SIP_EIO;
	}
	c->queued += len;
	touch(c);
	return 0;
}

int sip__conn_write(struct sip__conn *c, const char *buf, size_t len, unsigned flags, void *ctx)
{
	if (c->closing)
		return SIP_ENOTFOUND;
	if (len > SIP_TP_MAX_QUEUED_BYTES || c->queued > SIP_TP_MAX_QUEUED_BYTES - len)
		return SIP_ETOOBIG;
	if (!c->ready) {
		struct sip__pending *p = sip_malloc(sizeof(*p) + len);
		if (!p)
			return SIP_ENOMEM;
		p->next = NULL;
		p->ctx = ctx;
		p->flags = flags;
		p->len = len;
		memcpy(p->data, buf, len);
		*c->pend_tail = p;
		c->pend_tail = &p->next;
		return 0;
	}
	int rc = c->ssl ? sip__tls_write(c, buf, len, ctx) : sip__stream_wire(c, buf, len, ctx);
	if (rc == 0)
		c->t->stats.tx_msgs++;
	return rc;
}

void sip__conn_ready(struct sip__conn *c)
{
	c->ready = true;
	touch(c);
	while (c->pend && !c->closing) {
		struct sip__pending *p = c->pend;
		c->pend = p->next;
		if (!c->pend)
			c->pend_tail = &c->pend;
		int rc = sip__conn_write(c, p->data, p->len, p->flags, p->ctx);
		if (rc)
			sip__tp_report(c->t, SIP_TP_ERR_SEND, rc, 0, c->type, (struct sockaddr *)&c->peer, c->id,
				       p->ctx, "write failed");
		sip_free(p);
	}
}

/* Makes sure at least want bytes are free in the read buffer; false at the cap. */
static bool room(struct sip__conn *c, size_t want)
{
	size_t limit = rbuf_limit(c->t);
	if (c->rcap - c->rlen >= want)
		return true;
	if (c->rcap >= limit)
		return c->rcap > c->rlen;
	size_t ncap = c->rcap ? c->rcap * 2 : want;
	if (ncap < c->rlen + want)
		ncap = c->rlen + want;
	if (ncap > limit)
		ncap = limit;
	char *n = sip_realloc(c->rbuf, ncap);
	if (!n)
		return c->rcap > c->rlen;
	c->rbuf = n;
	c->rcap = ncap;
	return true;
}

int sip__conn_room(struct sip__conn *c, size_t want) { return room(c, want) ? (int)(c->rcap - c->rlen) : 0; }

static void stream_error(struct sip__conn *c, const char *at, size_t n, int status)
{
	struct sip_transport *t = c->t;
	t->stats.parse_errors++;
	if (!t->cfg.no_error_responses && status >= 300) {
		char out[SIP__ERR_RESP_MAX];
		int len = sip_transport_error_response(at, n, status, out, sizeof(out));
		if (len > 0 && sip__conn_write(c, out, (size_t)len, 0, NULL) == 0)
			t->stats.error_responses++;
	}
	/* The stream cannot be re-synchronised: close once the answer is out. */
	sip__conn_close(c, true);
}

/* Deadline for the message left unfinished in rbuf: it starts with the
 * message's first byte (restarted when a message was consumed before it);
 * the timer is brought forward to it when it is due before the idle check. */
static void track_partial(struct sip__conn *c, bool consumed)
{
	if (!c->rlen) {
		c->partial_since = 0;
		return;
	}
	if (c->partial_since && !consumed)
		return;
	uint64_t now = uv_now(c->t->loop);
	c->partial_since = now ? now : 1;
	uint64_t msg = c->t->cfg.message_timeout_ms;
	if (!c->ready || c->draining || c->closing)
		return;
	if (!uv_is_active((uv_handle_t *)&c->timer) || uv_timer_get_due_in(&c->timer) > msg) {
		c->idle_armed = true;
		uv_timer_start(&c->timer, on_timer, msg, 0);
	}
}

void sip__stream_on_plain(struct sip__conn *c)
{
	size_t off = 0;
	while (!c->closing && !c->draining && off < c->rlen) {
		size_t skip = 0, mlen = 0;
		struct sip_parse_err e = {0, NULL, 0};
		int rc = sip_framer_next(&c->framer, c->rbuf + off, c->rlen - off, &skip, &mlen, &e);
		if (rc < 0) {
			stream_error(c, c->rbuf + off, c->rlen - off, e.status ? e.status : 400);
			return;
		}
		if (rc == 0) {
			if (skip && skip == c->rlen - off) {
				/* Only keep-alive CRLFs: RFC 5626 §4.4.1 answers a double-CRLF ping with a CRLF pong. */
				if (skip >= 4 && c->listener)
					sip__conn_write(c, "\r\n", 2, 0, NULL);
				off += skip;
				sip_framer_init(&c->framer);
				c->framer.max_header_bytes = c->t->cfg.max_header_bytes;
				c->framer.max_body_bytes = c->t->cfg.max_body_bytes;
			}
			break;
		}
		off += skip;
		if (mlen > c->rlen - off) {
			stream_error(c, c->rbuf + off, c->rlen - off, 400);
			return;
		}
		sip__tp_deliver(c->t, c->rbuf + off, mlen, (struct sockaddr *)&c->peer, c->listener, c, c->type);
		off += mlen;
	}
	if (c->closing)
		return;
	if (off) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
	if (!c->draining && c->rlen >= rbuf_limit(c->t)) {
		stream_error(c, c->rbuf, c->rlen, 513);
		return;
	}
	track_partial(c, off > 0);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct sip__conn *c = h->data;
	if (c->ssl) {
		*buf = uv_buf_init(c->t->tlsbuf, sizeof(c->t->tlsbuf));
		return;
	}
	if (!room(c, SIP__READ_CHUNK)) {
		*buf = uv_buf_init(NULL, 0); /* read_cb gets UV_ENOBUFS */
		return;
	}
	*buf = uv_buf_init(c->rbuf + c->rlen, (unsigned)(c->rcap - c->rlen));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct sip__conn *c = s->data;
	if (c->closing)
		return;
	if (nread == UV_ENOBUFS) {
		stream_error(c, c->rbuf, c->rlen, 513);
		return;
	}
	if (nread < 0) {
		sip__conn_fail(c, c->ready ? SIP_TP_ERR_CLOSED : SIP_TP_ERR_CONNECT, SIP_EIO, (int)nread,
			       nread == UV_EOF ? "connection closed by peer" : uv_strerror((int)nread));
		return;
	}
	if (nread == 0)
		return;
	touch(c);
	if (c->ssl) {
		sip__tls_on_cipher(c, buf->base, (size_t)nread);
		return;
	}
	c->rlen += (size_t)nread;
	sip__stream_on_plain(c);
}

static void on_timer(uv_timer_t *h)
{
	struct sip__conn *c = h->data;
	if (c->draining) {
		hard_close(c); /* the peer never drained our last bytes */
		return;
	}
	if (!c->ready) {
		sip__conn_fail(c, SIP_TP_ERR_CONNECT, SIP_ETIMEDOUT, 0,
			       c->outbound ? "connect timed out" : "TLS handshake timed out");
		return;
	}
	uint64_t now = uv_now(c->t->loop), msg = c->t->cfg.message_timeout_ms;
	if (c->partial_since && now - c->partial_since >= msg) {
		/* No answer: the request is not complete, there is nothing to answer. */
		c->t->stats.conns_slow_closed++;
		sip__conn_close(c, true);
		return;
	}
	uint64_t idle = now - c->active_at;
	if (idle < c->t->cfg.idle_timeout_ms) {
		uint64_t next = c->t->cfg.idle_timeout_ms - idle;
		if (c->partial_since && msg - (now - c->partial_since) < next)
			next = msg - (now - c->partial_since);
		uv_timer_start(&c->timer, on_timer, next, 0);
		return;
	}
	c->t->stats.conns_idle_closed++;
	sip__conn_close(c, true);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct sip_listener *l = server->data;
	struct sip_transport *t = l->t;
	if (status < 0 || t->closing)
		return;
	struct sip__conn *c = conn_new(t, l->type);
	if (!c)
		return;
	if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
		hard_close(c);
		return;
	}
	if (t->nconns > t->cfg.max_connections) {
		t->stats.conns_refused++;
		hard_close(c);
		return;
	}
	int nl = sizeof(c->peer);
	uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &nl);
	if (t->cfg.max_connections_per_ip) {
		if (!sip__ipcount_take(t, (const struct sockaddr *)&c->peer)) {
			t->stats.conns_refused_per_ip++;
			hard_close(c);
			return;
		}
		c->ip_counted = true;
	}
	t->stats.conns_accepted++;
	c->listener = l;
	tables_add(c);
	uv_tcp_nodelay(&c->tcp, 1);
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read)) {
		hard_close(c);
		return;
	}
	if (l->type == SIP_TP_TLS) {
		touch(c); /* handshake deadline */
		if (sip__tls_start(c, true))
			sip__conn_fail(c, SIP_TP_ERR_CONNECT, SIP_EIO, 0, "TLS setup failed");
		return;
	}
	sip__conn_ready(c);
}

int sip__stream_listen(struct sip_listener *l, int fd)
{
	struct sip_transport *t = l->t;
	if (uv_tcp_init(t->loop, &l->u.tcp)) {
		close(fd);
		sip_free(l);
		return SIP_EIO;
	}
	t->live++;
	l->u.h.data = l;
	if (uv_tcp_open(&l->u.tcp, fd)) {
		close(fd);
		uv_close(&l->u.h, sip__listener_closed);
		return SIP_EIO;
	}
	if (uv_listen((uv_stream_t *)&l->u.tcp, 511, on_connection)) {
		uv_close(&l->u.h, sip__listener_closed);
		return SIP_EIO;
	}
	return 0;
}

static void on_connect(uv_connect_t *req, int status)
{
	struct sip__conn *c = req->data;
	if (status == UV_ECANCELED || c->closing)
		return;
	if (status < 0) {
		sip__conn_fail(c, SIP_TP_ERR_CONNECT, SIP_EIO, status, uv_strerror(status));
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read)) {
		sip__conn_fail(c, SIP_TP_ERR_CONNECT, SIP_EIO, 0, "read start failed");
		return;
	}
	if (c->type == SIP_TP_TLS) {
		if (sip__tls_start(c, false))
			sip__conn_fail(c, SIP_TP_ERR_CONNECT, SIP_EIO, 0, "TLS setup failed");
		return;
	}
	sip__conn_ready(c);
}

int sip__stream_send(struct sip_transport *t, const struct sip_tp_dest *dst, const char *buf, size_t len,
		     unsigned flags, void *ctx, uint64_t *conn)
{
	if (dst->type == SIP_TP_TLS && !t->cli_ctx)
		return SIP_ECONFIG;
	struct sip__conn *c = find_key(t, dst->type, &dst->addr);
	if (!c) {
		if (t->nconns >= t->cfg.max_connections)
			return SIP_ETOOBIG;
		c = conn_new(t, dst->type);
		if (!c)
			return SIP_ENOMEM;
		c->outbound = true;
		c->peer = dst->addr;
		if (dst->host && *dst->host) {
			size_t n = strlen(dst->host);
			if (n >= sizeof(c->tls_host)) {
				hard_close(c);
				return SIP_EINVAL;
			}
			memcpy(c->tls_host, dst->host, n + 1);
		} else {
			sip__tp_addr_text((struct sockaddr *)&dst->addr, c->tls_host, sizeof(c->tls_host), NULL);
		}
		tables_add(c);
		c->creq.data = c;
		int rc = uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&dst->addr, on_connect);
		if (rc) {
			hard_close(c);
			return SIP_EIO;
		}
		touch(c);
	}
	int rc = sip__conn_write(c, buf, len, flags, ctx);
	if (rc == 0 && conn)
		*conn = c->id;
	return rc;
}
