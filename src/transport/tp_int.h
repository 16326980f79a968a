/* tp_int.h — private structures shared by the transport's source files. */
#ifndef SIP_TRANSPORT_TP_INT_H
#define SIP_TRANSPORT_TP_INT_H

#include <sip/transport.h>
#include <openssl/ssl.h>

#define SIP__CONN_BUCKETS 1024u       /* hash buckets of the connection table (power of two) */
#define SIP__READ_CHUNK 16384u        /* free space offered to each stream read */
#define SIP__READ_SLACK 65536u        /* read buffer room beyond header + body limits */
#define SIP__ERR_RESP_MAX 4096u       /* a stateless 400/513 we generate */
/* UDP socket buffers asked for (the kernel default, ~200 KiB, drops a burst
 * of a few ms at 20k requests/s and the peers then retransmit). The kernel
 * caps it at net.core.[rw]mem_max unless we may force it. */
#define SIP__UDP_SOCKBUF (4u << 20)
/* UDP datagrams are read SIP__UDP_BATCH per recvmmsg() and the responses the
 * TU makes while handling them leave together in one sendmmsg(): peers send
 * in bursts, and a system call per datagram each way was ~10% of the CPU at
 * 20k requests/s. A wake-up reads at most SIP__UDP_ROUNDS batches, so one
 * busy socket cannot starve the loop's other handles. */
#define SIP__UDP_BATCH 32u
#define SIP__UDP_ROUNDS 4u
#define SIP__UDP_TX_ARENA 65536u /* bytes of queued datagrams before a flush is forced */

/* A datagram the kernel would not take yet (socket buffer full), sent when
 * the socket is writable again. */
struct sip__udp_out {
	struct sip__udp_out *next;
	struct sockaddr_storage dst;
	void *ctx;
	size_t len;
	char data[];
};

struct sip_listener {
	struct sip_transport *t;
	enum sip_tp_type type;
	union {
		uv_poll_t udp; /* UDP: our own socket, read and written with recvmmsg/sendmmsg */
		uv_tcp_t tcp;
		uv_handle_t h;
	} u;
	int fd;                                  /* UDP: the socket (libuv's poll handle does not own it) */
	struct sip__udp_out *out, **out_tail;    /* UDP: datagrams waiting for room in the socket buffer */
	struct sockaddr_storage addr;
	char adv_host[SIP_TP_HOST_MAX];  /* sent-by host we advertise (IPv6 without brackets) */
	uint16_t adv_port;
	bool adv_ipv6;
};

/* A message waiting for its connection to become ready. */
struct sip__pending {
	struct sip__pending *next;
	void *ctx;
	unsigned flags;
	size_t len;
	char data[];
};

struct sip__conn {
	struct sip_transport *t;
	uint64_t id;
	enum sip_tp_type type;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uint64_t active_at;               /* loop time of the last read or write */
	bool idle_armed;                  /* timer runs for the idle timeout (checked against active_at when it fires) */
	uint64_t partial_since;           /* loop time the unfinished message in rbuf began; 0: none */
	uv_connect_t creq;
	uv_shutdown_t sreq;
	struct sockaddr_storage peer;
	struct sip_listener *listener;    /* accepted on, or NULL for outbound */
	struct sip__conn *prev, *next;    /* all connections */
	struct sip__conn *id_next, *key_next;
	int handles;                      /* live uv handles (tcp, timer) */
	bool outbound, ready, closing, draining, in_tables, counted;
	bool ip_counted;                  /* holds one of its address's max_connections_per_ip */
	char *rbuf;
	size_t rlen, rcap;
	struct sip_framer framer;
	struct sip__pending *pend, **pend_tail;
	size_t queued;                    /* bytes handed to uv_write and not yet written */
	SSL *ssl;
	BIO *rbio, *wbio;
	char tls_host[SIP_TP_HOST_MAX];
};

struct sip_transport {
	uv_loop_t *loop;
	struct sip_transport_config cfg;
	SSL_CTX *srv_ctx, *cli_ctx;
	char *tls_paths[4];             /* owned copies of cfg's TLS file names (cfg points at them) */
	struct sip_listener *listeners[SIP_TP_MAX_LISTENERS];
	unsigned nlisteners;
	struct sip__conn *conns;
	unsigned nconns;
	struct sip__conn *by_id[SIP__CONN_BUCKETS];
	struct sip__conn *by_key[SIP__CONN_BUCKETS];
	uint64_t next_id;
	unsigned live;                    /* open uv handles owned by t */
	bool closing, freed;
	struct sip_tp_stats stats;
	struct sip_msg msg;               /* parse target, valid during one callback */
	struct sip__udp_io *udp;          /* UDP batch buffers, shared by the UDP listeners (udp.c) */
	struct sip_ratelimit *limiter;    /* per-source flood limit, or NULL (off) */
	struct sip__ipslot *ipcount;      /* inbound connections per address (ipcount.c), or NULL */
	size_t ipcount_cap;
	char tlsbuf[SIP__READ_CHUNK];     /* TLS ciphertext receive buffer */
};

/* transport.c */
void sip__tp_handle_closed(struct sip_transport *t);
void sip__listener_closed(uv_handle_t *h);
void sip__tp_report(struct sip_transport *t, enum sip_tp_err_kind kind, int err, int sys, enum sip_tp_type type,
		    const struct sockaddr *dst, uint64_t conn, void *ctx, const char *reason);
int sip__tp_addr_text(const struct sockaddr *sa, char *out, size_t cap, uint16_t *port);

/* udp.c */
int sip__udp_listen(struct sip_listener *l, int fd);
int sip__udp_send(struct sip_transport *t, struct sip_listener *l, const struct sockaddr *dst, const char *buf,
		  size_t len, void *ctx);
struct sip_listener *sip__udp_for(struct sip_transport *t, int family);
void sip__udp_flush(struct sip_transport *t);
int sip__udp_set_multicast_ttl(struct sip_listener *l, int ttl);
void sip__udp_free(struct sip_transport *t);
void sip__udp_listener_release(struct sip_listener *l);

/* recv.c: parse, check, stamp and hand one received message to the TU. */
void sip__tp_deliver(struct sip_transport *t, const char *buf, size_t len, const struct sockaddr *src,
		     struct sip_listener *l, struct sip__conn *c, enum sip_tp_type type);
bool sip__tp_via_is_ours(struct sip_transport *t, const struct sip_via *v);

/* stream.c */
int sip__stream_listen(struct sip_listener *l, int fd);
struct sip__conn *sip__conn_find(struct sip_transport *t, uint64_t id);
int sip__conn_write(struct sip__conn *c, const char *buf, size_t len, unsigned flags, void *ctx);
void sip__conn_close(struct sip__conn *c, bool graceful);
void sip__stream_close_all(struct sip_transport *t);
int sip__stream_send(struct sip_transport *t, const struct sip_tp_dest *dst, const char *buf, size_t len,
		     unsigned flags, void *ctx, uint64_t *conn);
int sip__stream_wire(struct sip__conn *c, const char *buf, size_t len, void *ctx);
void sip__stream_on_plain(struct sip__conn *c);
int sip__conn_room(struct sip__conn *c, size_t want);
void sip__conn_ready(struct sip__conn *c);
void sip__conn_fail(struct sip__conn *c, enum sip_tp_err_kind kind, int err, int sys, const char *reason);

/* tls.c */
int sip__tls_init(struct sip_transport *t);
void sip__tls_free(struct sip_transport *t);
int sip__tls_start(struct sip__conn *c, bool server);
void sip__tls_on_cipher(struct sip__conn *c, const char *buf, size_t len);
int sip__tls_write(struct sip__conn *c, const char *buf, size_t len, void *ctx);
void sip__tls_shutdown(struct sip__conn *c);

/* ipcount.c: one more inbound connection for sa's address; false when the
 * address already holds max_connections_per_ip (refuse it). give: one less.
 * free: the table, at transport teardown. */
bool sip__ipcount_take(struct sip_transport *t, const struct sockaddr *sa);
void sip__ipcount_give(struct sip_transport *t, const struct sockaddr *sa);
void sip__ipcount_free(struct sip_transport *t);

#endif
