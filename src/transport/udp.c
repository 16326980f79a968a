/* udp.c — UDP listeners: one socket per listen address, datagram in, datagram out. */
#include "tp_int.h"

#include <string.h>
#include <unistd.h>

struct udp_req {
	uv_udp_send_t req;
	struct sip_transport *t;
	void *ctx;
	struct sockaddr_storage dst;
	size_t len;
	char data[];
};

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct sip_listener *l = h->data;
	(void)suggested;
	/* One buffer per transport: every datagram of a batch is handed to the
	 * TU before the next read, and listeners of one loop never read at once. */
	*buf = uv_buf_init(l->t->dgram, SIP__UDP_BATCH * SIP__UDP_CHUNK);
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *src, unsigned flags)
{
	struct sip_listener *l = h->data;
	if (nread <= 0 || !src || l->t->closing)
		return; /* 0 with no address: nothing more to read now (or the end of a
			 * batch, UV_UDP_MMSG_FREE: the buffer is ours); errors on UDP are per datagram */
	if (flags & UV_UDP_PARTIAL) {
		l->t->stats.parse_errors++;
		return; /* truncated: larger than any message we accept */
	}
	sip__tp_deliver(l->t, buf->base, (size_t)nread, src, l, NULL, SIP_TP_UDP);
}

int sip__udp_listen(struct sip_listener *l, int fd)
{
	struct sip_transport *t = l->t;
	if (!t->dgram && !(t->dgram = sip_malloc(SIP__UDP_BATCH * SIP__UDP_CHUNK))) {
		close(fd);
		sip_free(l);
		return SIP_ENOMEM;
	}
	/* AF_UNSPEC: no socket made here (fd is opened below); libuv ignores
	 * the recvmmsg flag where the kernel lacks it. */
	int rc = uv_udp_init_ex(t->loop, &l->u.udp, AF_UNSPEC | UV_UDP_RECVMMSG);
	if (rc) {
		close(fd);
		sip_free(l);
		return SIP_EIO;
	}
	t->live++;
	l->u.h.data = l;
	rc = uv_udp_open(&l->u.udp, fd);
	if (rc) {
		close(fd);
		uv_close(&l->u.h, sip__listener_closed);
		return SIP_EIO;
	}
	rc = uv_udp_recv_start(&l->u.udp, on_alloc, on_recv);
	if (rc) {
		uv_close(&l->u.h, sip__listener_closed);
		return SIP_EIO;
	}
	return 0;
}

struct sip_listener *sip__udp_for(struct sip_transport *t, int family)
{
	return sip_transport_find_listener(t, SIP_TP_UDP, family);
}

static void on_sent(uv_udp_send_t *req, int status)
{
	struct udp_req *r = (struct udp_req *)req;
	if (status < 0 && status != UV_ECANCELED)
		sip__tp_report(r->t, SIP_TP_ERR_SEND, SIP_EIO, status, SIP_TP_UDP, (struct sockaddr *)&r->dst, 0,
			       r->ctx, uv_strerror(status));
	sip_free(r);
}

int sip__udp_send(struct sip_transport *t, struct sip_listener *l, const struct sockaddr *dst, const char *buf,
		  size_t len, void *ctx)
{
	if (len > SIP_TP_DGRAM_MAX)
		return SIP_ETOOBIG;
	uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
	/* Most datagrams go out at once; only a full socket buffer needs a copy. */
	int rc = uv_udp_try_send(&l->u.udp, &b, 1, dst);
	if (rc == (int)len) {
		t->stats.tx_msgs++;
		return 0;
	}
	if (rc >= 0 || (rc != UV_EAGAIN && rc != UV_ENOSYS))
		return SIP_EIO; /* a datagram is never sent in part; hard errors (unreachable, ...) */
	struct udp_req *r = sip_malloc(sizeof(*r) + len);
	if (!r)
		return SIP_ENOMEM;
	r->t = t;
	r->ctx = ctx;
	r->len = len;
	memset(&r->dst, 0, sizeof(r->dst));
	memcpy(&r->dst, dst, dst->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	memcpy(r->data, buf, len);
	b = uv_buf_init(r->data, (unsigned)len);
	rc = uv_udp_send(&r->req, &l->u.udp, &b, 1, (struct sockaddr *)&r->dst, on_sent);
	if (rc) {
		sip_free(r);
		return SIP_EIO;
	}
	t->stats.tx_msgs++;
	return 0;
}
