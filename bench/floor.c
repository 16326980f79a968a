/* floor.c — the kernel floor of answering a request: a responder that does no
 * SIP work at all. It turns each request into a "response" by replacing the
 * request line with "SIP/2.0 200 OK" and sending every other byte back
 * unchanged (the request's Via, From, To, Call-ID and CSeq are all a SIPp
 * client needs to match it). No parsing, no transaction, no allocation.
 *
 *   build/bench/floor PORT [HOST]     (UDP and TCP on HOST:PORT, 127.0.0.1)
 *
 * bench/options.sh --floor loads it beside sipd and Kamailio: its CPU per
 * request is what the kernel charges any server for one recvmmsg'd datagram
 * in and one sendmmsg'd datagram out over loopback (for TCP: one read and one
 * write per batch), so (server CPU - floor CPU) is the server's own work.
 * Not a SIP server: never point anything but a benchmark at it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define DGRAM_MAX 4096
#define STREAM_BUF 65536

static const char status_line[] = "SIP/2.0 200 OK";

/* Rewrites msg[0..len) in place into out: status line, then the request's
 * bytes from its first CRLF on. Returns the response length, 0 if the
 * request has no CRLF. */
static size_t to_response(const char *msg, size_t len, char *out, size_t cap)
{
	const char *crlf = memmem(msg, len, "\r\n", 2);
	if (!crlf)
		return 0;
	size_t rest = len - (size_t)(crlf - msg);
	if (sizeof status_line - 1 + rest > cap)
		return 0;
	memcpy(out, status_line, sizeof status_line - 1);
	memcpy(out + sizeof status_line - 1, crlf, rest);
	return sizeof status_line - 1 + rest;
}

static void udp_batch(int fd)
{
	static char in[BATCH][DGRAM_MAX], out[BATCH][DGRAM_MAX + sizeof status_line];
	static struct sockaddr_storage from[BATCH];
	struct mmsghdr rx[BATCH], tx[BATCH];
	struct iovec riov[BATCH], tiov[BATCH];
	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			riov[i] = (struct iovec){in[i], DGRAM_MAX};
			rx[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = sizeof from[i],
							.msg_iov = &riov[i], .msg_iovlen = 1};
		}
		int n = recvmmsg(fd, rx, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		int m = 0;
		for (int i = 0; i < n; i++) {
			size_t len = to_response(in[i], rx[i].msg_len, out[m], sizeof out[m]);
			if (!len)
				continue;
			tiov[m] = (struct iovec){out[m], len};
			tx[m].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = rx[i].msg_hdr.msg_namelen,
							.msg_iov = &tiov[m], .msg_iovlen = 1};
			m++;
		}
		for (int sent = 0; sent < m;) {
			int k = sendmmsg(fd, tx + sent, (unsigned)(m - sent), 0);
			if (k <= 0)
				break;
			sent += k;
		}
		if (n < BATCH)
			return; /* the queue was drained: back to epoll */
	}
}

struct conn {
	int fd;
	size_t have;
	char buf[STREAM_BUF];
	char out[STREAM_BUF + 64];
};

/* Answers every complete message (header end, no body: SIPp's OPTIONS) in
 * the buffer with one write; returns -1 when the connection is gone. */
static int tcp_read(struct conn *c)
{
	ssize_t r = read(c->fd, c->buf + c->have, sizeof c->buf - c->have);
	if (r <= 0)
		return r < 0 && errno == EAGAIN ? 0 : -1;
	c->have += (size_t)r;
	size_t off = 0, outlen = 0;
	for (;;) {
		char *end = memmem(c->buf + off, c->have - off, "\r\n\r\n", 4);
		if (!end)
			break;
		size_t len = (size_t)(end + 4 - (c->buf + off));
		size_t n = to_response(c->buf + off, len, c->out + outlen, sizeof c->out - outlen);
		if (!n)
			break;
		outlen += n;
		off += len;
	}
	memmove(c->buf, c->buf + off, c->have - off);
	c->have -= off;
	if (c->have == sizeof c->buf)
		return -1;
	if (outlen && write(c->fd, c->out, outlen) != (ssize_t)outlen)
		return -1;
	return 0;
}

static int listener(int type, const char *host, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, buf = 4 << 20;
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || (type == SOCK_STREAM && listen(fd, 128) != 0))
		return -1;
	return fd;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PORT [HOST]\n", argv[0]);
		return 2;
	}
	int port = atoi(argv[1]);
	const char *host = argc > 2 ? argv[2] : "127.0.0.1";
	int ufd = listener(SOCK_DGRAM, host, port), tfd = listener(SOCK_STREAM, host, port);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ufd < 0 || tfd < 0 || ep < 0) {
		perror("floor: listen");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	epoll_ctl(ep, EPOLL_CTL_ADD, ufd, &(struct epoll_event){.events = EPOLLIN, .data.ptr = &ufd});
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &(struct epoll_event){.events = EPOLLIN, .data.ptr = &tfd});
	fprintf(stderr, "floor: udp+tcp %s:%d\n", host, port);
	for (;;) {
		struct epoll_event ev[64];
		int n = epoll_wait(ep, ev, 64, -1);
		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr == &ufd) {
				udp_batch(ufd);
			} else if (ev[i].data.ptr == &tfd) {
				int fd = accept4(tfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				struct conn *c = fd >= 0 ? calloc(1, sizeof *c) : NULL;
				if (!c) {
					if (fd >= 0)
						close(fd);
					continue;
				}
				int one = 1;
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
				c->fd = fd;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &(struct epoll_event){.events = EPOLLIN, .data.ptr = c});
			} else {
				struct conn *c = ev[i].data.ptr;
				if (tcp_read(c) < 0) {
					close(c->fd); /* closing removes it from the epoll set */
					free(c);
				}
			}
		}
	}
}
