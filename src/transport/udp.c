/* udp.c — UDP listeners: one socket per listen address, datagrams in and out
 * in batches.
 *
 * The socket is ours, watched by a uv_poll handle rather than libuv's UDP
 * handle, because libuv sends one datagram per system call and ends every
 * read with an extra recvmmsg() that returns EAGAIN. Here a wake-up reads up
 * to SIP__UDP_BATCH datagrams per recvmmsg() (stopping once a read comes back
 * short: the queue was drained), hands each to the TU, and the datagrams the
 * TU sends meanwhile — the responses — are queued ("corked") and leave in
 * one sendmmsg() per socket when the batch is done. Sends outside a batch
 * (timers, new requests) go out at once. A datagram the kernel cannot take
 * yet (full socket buffer) waits on the listener for POLLOUT; any other send
 * error that shows up at a flush is reported through on_error, as an
 * asynchronous send error would be. */
#include "tp_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct sip__udp_io {
	/* receive side: one batch */
	struct mmsghdr rx[SIP__UDP_BATCH];
	struct iovec rx_iov[SIP__UDP_BATCH];
	struct sockaddr_storage rx_from[SIP__UDP_BATCH];
	/* send side: the corked queue */
	unsigned corked; /* depth: a receive batch, sip_transport_cork() */
	unsigned ntx;
	size_t arena_used;
	struct mmsghdr tx[SIP__UDP_BATCH];
	struct iovec tx_iov[SIP__UDP_BATCH];
	struct sockaddr_storage tx_dst[SIP__UDP_BATCH];
	struct sip_listener *tx_l[SIP__UDP_BATCH];
	void *tx_ctx[SIP__UDP_BATCH];
	char arena[SIP__UDP_TX_ARENA];
	/* receive buffers: SIP_TP_DGRAM_MAX + 1 each, so a larger datagram shows
	 * as truncated; only the pages a datagram touches become resident */
	char rx_buf[SIP__UDP_BATCH][SIP_TP_DGRAM_MAX + 1];
};

static socklen_t addr_len(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static void report_send_error(struct sip_transport *t, const struct sockaddr *dst, void *ctx, int err)
{
	sip__tp_report(t, SIP_TP_ERR_SEND, SIP_EIO, -err, SIP_TP_UDP, dst, 0, ctx, strerror(err));
}

static void on_poll(uv_poll_t *h, int status, int events);

static void want_write(struct sip_listener *l, bool on)
{
	uv_poll_start(&l->u.udp, UV_READABLE | (on ? UV_WRITABLE : 0), on_poll);
}

/* Keeps a datagram for when the socket has room again. */
static int park(struct sip_listener *l, const struct sockaddr *dst, const char *buf, size_t len, void *ctx)
{
	struct sip__udp_out *o = sip_malloc(sizeof(*o) + len);
	if (!o)
		return SIP_ENOMEM;
	o->next = NULL;
	memset(&o->dst, 0, sizeof(o->dst));
	memcpy(&o->dst, dst, addr_len(dst));
	o->ctx = ctx;
	o->len = len;
	memcpy(o->data, buf, len);
	bool was_empty = !l->out;
	*l->out_tail = o;
	l->out_tail = &o->next;
	if (was_empty)
		want_write(l, true);
	return 0;
}

/* park() for a queued datagram; one that cannot even be kept is reported. */
static void park_queued(struct sip_transport *t, struct sip_listener *l, unsigned i)
{
	struct sip__udp_io *io = t->udp;
	if (park(l, (struct sockaddr *)&io->tx_dst[i], io->tx_iov[i].iov_base, io->tx_iov[i].iov_len,
		 io->tx_ctx[i]) != 0)
		report_send_error(t, (struct sockaddr *)&io->tx_dst[i], io->tx_ctx[i], ENOMEM);
}

/* Sends what waits on l, in order, until the kernel says EAGAIN again. */
static void drain_parked(struct sip_listener *l)
{
	struct sip__udp_out *o;
	while ((o = l->out)) {
		ssize_t n = sendto(l->fd, o->data, o->len, 0, (struct sockaddr *)&o->dst, addr_len((struct sockaddr *)&o->dst));
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
			return;
		if (n < 0)
			report_send_error(l->t, (struct sockaddr *)&o->dst, o->ctx, errno);
		l->out = o->next;
		sip_free(o);
	}
	l->out_tail = &l->out;
	want_write(l, false);
}

/* Sends queue entries [from, to) that all go through listener l. */
static void flush_run(struct sip_transport *t, struct sip_listener *l, unsigned from, unsigned to)
{
	struct sip__udp_io *io = t->udp;
	while (from < to) {
		if (l->out) {
			/* Keep the order: behind what already waits for room. */
			for (; from < to; from++)
				park_queued(t, l, from);
			return;
		}
		int n = sendmmsg(l->fd, &io->tx[from], to - from, 0);
		if (n > 0) {
			from += (unsigned)n;
			continue;
		}
		int e = n < 0 ? errno : EIO;
		if (e == EINTR)
			continue;
		if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS) {
			park_queued(t, l, from);
		} else {
			/* This datagram only (unreachable, too big, ...): the rest still go. */
			report_send_error(t, (struct sockaddr *)&io->tx_dst[from], io->tx_ctx[from], e);
		}
		from++;
	}
}

void sip__udp_flush(struct sip_transport *t)
{
	struct sip__udp_io *io = t->udp;
	if (!io || !io->ntx)
		return;
	unsigned n = io->ntx;
	io->ntx = 0; /* a report below may send again: it starts a new queue */
	for (unsigned i = 0; i < n;) {
		unsigned j = i + 1;
		while (j < n && io->tx_l[j] == io->tx_l[i])
			j++;
		flush_run(t, io->tx_l[i], i, j);
		i = j;
	}
	if (!io->ntx)
		io->arena_used = 0;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct sip_listener *l = h->data;
	struct sip_transport *t = l->t;
	struct sip__udp_io *io = t->udp;
	if (status < 0 || t->closing)
		return;
	if (events & UV_WRITABLE)
		drain_parked(l);
	if (!(events & UV_READABLE))
		return;
	for (unsigned round = 0; round < SIP__UDP_ROUNDS && !t->closing; round++) {
		for (unsigned i = 0; i < SIP__UDP_BATCH; i++) {
			io->rx_iov[i] = (struct iovec){io->rx_buf[i], sizeof io->rx_buf[i]};
			io->rx[i].msg_hdr = (struct msghdr){.msg_name = &io->rx_from[i],
							    .msg_namelen = sizeof io->rx_from[i],
							    .msg_iov = &io->rx_iov[i],
							    .msg_iovlen = 1};
		}
		int n = recvmmsg(l->fd, io->rx, SIP__UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return; /* drained (EAGAIN), or a per-datagram error: nothing to do */
		io->corked++;
		for (int i = 0; i < n && !t->closing; i++) {
			if (io->rx[i].msg_hdr.msg_flags & MSG_TRUNC) {
				t->stats.parse_errors++; /* larger than any message we accept */
				continue;
			}
			sip__tp_deliver(t, io->rx_buf[i], io->rx[i].msg_len, (struct sockaddr *)&io->rx_from[i], l,
					NULL, SIP_TP_UDP);
		}
		if (--io->corked == 0)
			sip__udp_flush(t);
		if ((unsigned)n < SIP__UDP_BATCH)
			return; /* a short read: the socket queue was empty */
	}
}

int sip__udp_listen(struct sip_listener *l, int fd)
{
	struct sip_transport *t = l->t;
	if (!t->udp && !(t->udp = sip_calloc(1, sizeof(*t->udp)))) {
		close(fd);
		sip_free(l);
		return SIP_ENOMEM;
	}
	l->fd = fd;
	l->out_tail = &l->out;
	if (uv_poll_init(t->loop, &l->u.udp, fd)) {
		close(fd);
		sip_free(l);
		return SIP_EIO;
	}
	t->live++;
	l->u.h.data = l;
	if (uv_poll_start(&l->u.udp, UV_READABLE, on_poll)) {
		uv_close(&l->u.h, sip__listener_closed);
		return SIP_EIO;
	}
	return 0;
}

void sip__udp_listener_release(struct sip_listener *l)
{
	struct sip__udp_out *o = l->out, *next;
	for (; o; o = next) {
		next = o->next;
		sip_free(o);
	}
	l->out = NULL;
	l->out_tail = &l->out;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

void sip_transport_cork(struct sip_transport *t)
{
	if (t && t->udp)
		t->udp->corked++;
}

void sip_transport_uncork(struct sip_transport *t)
{
	if (t && t->udp && t->udp->corked && --t->udp->corked == 0)
		sip__udp_flush(t);
}

void sip__udp_free(struct sip_transport *t)
{
	sip_free(t->udp);
	t->udp = NULL;
}

struct sip_listener *sip__udp_for(struct sip_transport *t, int family)
{
	return sip_transport_find_listener(t, SIP_TP_UDP, family);
}

int sip__udp_set_multicast_ttl(struct sip_listener *l, int ttl)
{
	/* A socket option, so what is queued must leave under the old value. */
	sip__udp_flush(l->t);
	int v6 = l->addr.ss_family == AF_INET6;
	return setsockopt(l->fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MULTICAST_HOPS : IP_MULTICAST_TTL, &ttl,
			  sizeof ttl)
		       ? SIP_EIO
		       : 0;
}

static int send_now(struct sip_listener *l, const struct sockaddr *dst, const char *buf,
		    size_t len, void *ctx)
{
	if (l->out)
		return park(l, dst, buf, len, ctx); /* behind what already waits */
	ssize_t n;
	do
		n = sendto(l->fd, buf, len, 0, dst, addr_len(dst));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
		return park(l, dst, buf, len, ctx);
	return SIP_EIO; /* a datagram is never sent in part; hard errors (unreachable, ...) */
}

int sip__udp_send(struct sip_transport *t, struct sip_listener *l, const struct sockaddr *dst, const char *buf,
		  size_t len, void *ctx)
{
	if (len > SIP_TP_DGRAM_MAX)
		return SIP_ETOOBIG;
	struct sip__udp_io *io = t->udp;
	int rc = 0;
	if (io->corked && (io->ntx == SIP__UDP_BATCH || io->arena_used + len > SIP__UDP_TX_ARENA))
		sip__udp_flush(t);
	if (!io->corked || io->ntx == SIP__UDP_BATCH || io->arena_used + len > SIP__UDP_TX_ARENA) {
		rc = send_now(l, dst, buf, len, ctx);
	} else {
		unsigned i = io->ntx++;
		char *p = io->arena + io->arena_used;
		io->arena_used += len;
		memcpy(p, buf, len);
		memset(&io->tx_dst[i], 0, sizeof io->tx_dst[i]);
		memcpy(&io->tx_dst[i], dst, addr_len(dst));
		io->tx_iov[i] = (struct iovec){p, len};
		io->tx[i].msg_hdr = (struct msghdr){.msg_name = &io->tx_dst[i],
						    .msg_namelen = addr_len(dst),
						    .msg_iov = &io->tx_iov[i],
						    .msg_iovlen = 1};
		io->tx_l[i] = l;
		io->tx_ctx[i] = ctx;
	}
	if (rc == 0)
		t->stats.tx_msgs++;
	return rc;
}
