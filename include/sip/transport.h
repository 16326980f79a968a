/* transport.h — SIP transports (RFC 3261 §18, RFC 3581, RFC 5922): UDP, TCP
 * and TLS listeners and clients over IPv4 and IPv6 on one libuv loop.
 *
 * A struct sip_transport belongs to ONE uv_loop_t and is used only from that
 * loop's thread; it has no global mutable state. A server with N worker
 * threads makes N transports, each listening on the same addresses with
 * reuseport set, so the kernel spreads datagrams and connections over them.
 *
 * The transport frames streams, stamps the top Via of received requests
 * (received / rport), routes responses per §18.2.2, drops stray responses
 * (§18.1.2), applies the MTU rule (§18.1.1) and reports every send or
 * connection failure so the transaction layer can act on it (§17.1.4). */
#ifndef SIP_TRANSPORT_H
#define SIP_TRANSPORT_H

#include <sip/core.h>
#include <sip/msg.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

enum sip_tp_type {
	SIP_TP_NONE = 0,
	SIP_TP_UDP = 1,
	SIP_TP_TCP = 2,
	SIP_TP_TLS = 3,
};

/* Named caps and defaults. */
#define SIP_TP_HOST_MAX 256               /* host text in a spec or advertised sent-by */
#define SIP_TP_VIA_MAX 512                /* a Via value formatted by sip_transport_via() */
#define SIP_TP_DGRAM_MAX 65535            /* largest datagram read or sent */
#define SIP_TP_DEFAULT_MTU 1500
#define SIP_TP_MTU_MARGIN 200             /* §18.1.1: within 200 bytes of the MTU goes over TCP */
#define SIP_TP_UNKNOWN_MTU_LIMIT 1300     /* §18.1.1: over 1300 bytes when the MTU is unknown */
#define SIP_TP_DEFAULT_MAX_CONNS 4096
#define SIP_TP_DEFAULT_IDLE_MS 120000u
/* A message begun on a stream must be complete this long after its first
 * byte (a "slowloris" trickling bytes to hold a connection forever). */
#define SIP_TP_DEFAULT_MESSAGE_MS 20000u
#define SIP_TP_DEFAULT_CONNECT_MS 10000u  /* TCP connect + TLS handshake */
#define SIP_TP_MAX_QUEUED_BYTES (4u << 20) /* bytes waiting on one connection before sends fail */
#define SIP_TP_MAX_LISTENERS 32

struct sip_transport;
struct sip_listener;

/* What one received message brings to the TU. Every pointer is valid only
 * during the callback. */
struct sip_tp_recv {
	const char *buf;                 /* the message bytes as received */
	size_t len;
	const struct sip_msg *msg;       /* parsed message, or NULL when parsing failed */
	int parse_rc;                    /* 0, or the negative sip_msg_parse() error */
	const struct sip_parse_err *perr; /* set when msg is NULL */
	int answered;                    /* msg NULL: the status the transport answered it with (400, 505,
					  * 513 ...), 0 when no response could be routed (or answers are off) */
	const struct sockaddr *src;      /* peer address */
	struct sip_listener *listener;   /* local listener it arrived on (NULL for an outbound connection) */
	uint64_t conn;                   /* connection id (stream transports), 0 for UDP */
	enum sip_tp_type type;
	/* Top-Via stamping for requests (§18.2.1, RFC 3581): the values the server
	 * must add; sip_transport_stamp_via() writes them into a copy. */
	bool add_received;
	char received[48];               /* source IP text (IPv6 without brackets) */
	bool fill_rport;
	uint16_t rport;                  /* source port */
};

enum sip_tp_err_kind {
	SIP_TP_ERR_SEND = 1,     /* a message could not be sent */
	SIP_TP_ERR_CONNECT,      /* connect / TLS handshake failed (certificate check included) */
	SIP_TP_ERR_CLOSED,       /* a connection closed with messages still queued */
};

/* A failure the transaction layer can map to §17.1.4 (ctx is the caller's cookie of that send). */
struct sip_tp_error {
	enum sip_tp_err_kind kind;
	int err;                         /* negative SIP_E* code */
	int sys;                         /* libuv / system error (negative), or 0 */
	enum sip_tp_type type;
	const struct sockaddr *dst;      /* peer, may be NULL */
	uint64_t conn;
	void *ctx;
	const char *reason;              /* static text */
};

typedef void (*sip_tp_recv_cb)(struct sip_transport *t, const struct sip_tp_recv *ev, void *ud);
typedef void (*sip_tp_error_cb)(struct sip_transport *t, const struct sip_tp_error *ev, void *ud);
typedef void (*sip_tp_closed_cb)(void *ud);

struct sip_transport_config {
	sip_tp_recv_cb on_recv;
	sip_tp_error_cb on_error;        /* may be NULL */
	sip_tp_closed_cb on_closed;      /* after sip_transport_close() freed everything; may be NULL */
	void *ud;

	size_t max_header_bytes;         /* stream limits → 513 + close; 0: SIP_MAX_HEADER_BYTES */
	size_t max_body_bytes;           /* 0: SIP_MAX_BODY_BYTES */
	unsigned max_connections;        /* 0: SIP_TP_DEFAULT_MAX_CONNS */
	unsigned max_connections_per_ip; /* inbound stream connections one address may hold; 0: no cap */
	unsigned idle_timeout_ms;        /* idle stream connections close; 0: SIP_TP_DEFAULT_IDLE_MS */
	unsigned message_timeout_ms;     /* a stream message unfinished this long after its first byte:
					    the connection closes; 0: SIP_TP_DEFAULT_MESSAGE_MS */
	unsigned connect_timeout_ms;     /* 0: SIP_TP_DEFAULT_CONNECT_MS */
	unsigned udp_socket_buffer;      /* bytes asked for SO_RCVBUF/SO_SNDBUF of UDP listeners; 0: 4 MiB */
	/* Flood protection (sip/ratelimit.h): messages a second each source
	 * address may send, over UDP and streams together; over it a datagram is
	 * dropped unparsed and a connection closed. 0: off. Burst 0: 2 × rate. */
	unsigned rate_limit, rate_limit_burst;

	unsigned mtu;                    /* path MTU; 0: unknown (1300-byte rule) */
	bool mtu_rule_off;               /* true: never switch UDP to TCP by size */
	bool reuseport;                  /* SO_REUSEPORT on listeners: one socket per worker */
	bool no_error_responses;         /* true: do not answer bad requests with 400/513 ourselves */
	bool accept_stray_responses;     /* true: skip the §18.1.2 sent-by check */

	const char *tls_cert_file;       /* PEM certificate (chain) for TLS listeners */
	const char *tls_key_file;        /* PEM private key */
	const char *tls_ca_file;         /* trust anchors for outbound TLS; NULL: system default */
	/* Mutual TLS: listeners ask for a client certificate and refuse a
	 * handshake without one that verifies against tls_client_ca_file (NULL:
	 * tls_ca_file). Outbound connections always present tls_cert_file when
	 * a server asks. */
	bool tls_require_client_cert;
	const char *tls_client_ca_file;
	bool tls_insecure_no_verify;     /* TESTS ONLY: skip peer certificate checks on outbound TLS */
	/* Connection ids are conn_id_base + 1, + 2 ...: a server with one
	 * transport per thread gives each a distinct base, so an id names the
	 * thread whose transport owns the connection. 0 by default. */
	uint64_t conn_id_base;
	/* Optional: told when an inbound (accepted) stream connection starts
	 * (up) and ends (!up) — e.g. to keep a process-wide directory of which
	 * thread holds the connection a phone registered over. Runs on the
	 * transport's loop; conn_ud is its argument (not the stack's ud). */
	void (*on_conn)(void *conn_ud, uint64_t conn, enum sip_tp_type type, const struct sockaddr *peer, bool up);
	void *conn_ud;
};

/* Fills cfg with the defaults (mtu 1500, MTU rule on, verification on). */
SIP_API void sip_transport_config_init(struct sip_transport_config *cfg);

/* Creates a transport on loop. Returns 0, SIP_EINVAL, SIP_ENOMEM or SIP_ECONFIG (bad TLS files). */
SIP_API int sip_transport_new(struct sip_transport **out, uv_loop_t *loop, const struct sip_transport_config *cfg);

/* Starts closing every socket and timer; t is freed once the loop has run the
 * close callbacks (then cfg.on_closed fires). Queued messages fail with
 * SIP_TP_ERR_CLOSED. Safe to call from a callback. */
SIP_API void sip_transport_close(struct sip_transport *t);

/* Name ("udp", "tcp", "tls", any case) to type; SIP_TP_NONE when unknown. */
SIP_API enum sip_tp_type sip_transport_type_parse(struct sip_str name);
/* Upper-case token as written in a Via ("UDP"). */
SIP_API const char *sip_transport_type_name(enum sip_tp_type type);
/* 1 for TCP and TLS. */
SIP_API bool sip_transport_reliable(enum sip_tp_type type);

/* A listen specification: "udp:127.0.0.1:5060", "tls:[::1]:5061", "tcp:0.0.0.0"
 * (port defaults to 5060, 5061 for tls). */
struct sip_tp_spec {
	enum sip_tp_type type;
	char host[SIP_TP_HOST_MAX];      /* NUL-terminated, IPv6 without brackets */
	uint16_t port;
};
/* Parses a spec. Returns 0 or SIP_EPARSE / SIP_EUNSUPPORTED (unknown transport). */
SIP_API int sip_transport_parse_spec(const char *spec, struct sip_tp_spec *out);

/* Opens a listener on an IP literal (port 0 picks a free one). proto is "udp",
 * "tcp" or "tls". Returns 0 with *out (may be NULL), SIP_EINVAL, SIP_ECONFIG
 * (TLS without certificate), SIP_ETOOBIG (too many listeners) or SIP_EIO (bind failed). */
SIP_API int sip_transport_listen(struct sip_transport *t, const char *proto, const char *host, uint16_t port,
				 struct sip_listener **out);
/* Same as sip_transport_listen() from a spec string. */
SIP_API int sip_transport_listen_spec(struct sip_transport *t, const char *spec, struct sip_listener **out);

/* The bound local address of a listener (the real port when 0 was asked). */
SIP_API int sip_listener_addr(const struct sip_listener *l, struct sockaddr_storage *out);
SIP_API uint16_t sip_listener_port(const struct sip_listener *l);
SIP_API enum sip_tp_type sip_listener_type(const struct sip_listener *l);
/* Sets the sent-by host[:port] we advertise in Via (e.g. a public name when
 * bound to 0.0.0.0). port 0 keeps the bound port. Returns 0 or SIP_EINVAL. */
SIP_API int sip_listener_set_advertise(struct sip_listener *l, const char *host, uint16_t port);
/* Whether sa (address and port) is one of t's listeners — a proxy must not
 * send a request to itself (a binding whose contact names the proxy would
 * otherwise loop, and fork, until Max-Forwards runs out). A wildcard
 * listener counts for loopback targets. */
SIP_API bool sip_transport_is_local(const struct sip_transport *t, const struct sockaddr *sa);
/* Writes the advertised "host:port" of l ("[::1]:5060" for IPv6) — what our
 * Via and Record-Route name. Returns the length, SIP_ETOOBIG or SIP_EINVAL. */
SIP_API int sip_listener_hostport(const struct sip_listener *l, char *out, size_t cap);
/* First listener of a type and address family (AF_INET/AF_INET6, or AF_UNSPEC for any); NULL if none. */
SIP_API struct sip_listener *sip_transport_find_listener(struct sip_transport *t, enum sip_tp_type type, int family);

/* The §18.1.1 rule as a pure function: a request of len bytes asked for
 * `requested` goes over TCP when requested is UDP and len > mtu - 200
 * (mtu 0 = unknown: len > 1300). Returns the transport to use. */
SIP_API enum sip_tp_type sip_transport_select(size_t len, unsigned mtu, enum sip_tp_type requested);
/* sip_transport_select() with t's configured mtu and switch. */
SIP_API enum sip_tp_type sip_transport_pick(const struct sip_transport *t, size_t len, enum sip_tp_type requested);

/* Formats our Via value for listener l: "SIP/2.0/UDP host:port;branch=z9hG4bK<random>[;rport]".
 * type overrides the listener's transport name when not SIP_TP_NONE (MTU switch).
 * Returns the length, or SIP_ETOOBIG / SIP_EINVAL. */
#define SIP_TP_VIA_RPORT 1u
SIP_API int sip_transport_via(const struct sip_listener *l, enum sip_tp_type type, unsigned flags, char *out,
			      size_t cap);
/* sip_transport_via() with the caller's branch (a proxy marks its branches
 * to find the worker that owns one). */
SIP_API int sip_transport_via_branch(const struct sip_listener *l, enum sip_tp_type type, unsigned flags,
				     const char *branch, char *out, size_t cap);
/* Writes a fresh RFC 3261 branch ("z9hG4bK" + 22 random chars, NUL-terminated) into out; returns its length. */
SIP_API int sip_transport_branch(char *out, size_t cap);

/* Writes ev->buf with the top Via stamped (";received=" added, empty ";rport"
 * given its value) into out. Returns the new length, or SIP_ETOOBIG/SIP_EINVAL.
 * When nothing needs stamping the bytes are copied unchanged. */
SIP_API int sip_transport_stamp_via(const struct sip_tp_recv *ev, char *out, size_t cap);

/* Where a message goes. */
struct sip_tp_dest {
	enum sip_tp_type type;
	struct sockaddr_storage addr;
	const char *host;                /* TLS: name the peer certificate must match (RFC 5922); NULL: the IP */
	struct sip_listener *listener;   /* UDP: send from this socket (a response leaves from where its
					  * request arrived); NULL: the first UDP listener of the family */
};
/* "127.0.0.1:5060" / "[::1]:5060" (or "?") into out, for logs. */
SIP_API void sip_sockaddr_text(const struct sockaddr *sa, char *out, size_t cap);
/* Fills d from an IP literal and port. Returns 0 or SIP_EINVAL. */
SIP_API int sip_tp_dest_set(struct sip_tp_dest *d, enum sip_tp_type type, const char *ip, uint16_t port);

#define SIP_TP_SEND_UDP_FALLBACK 1u      /* TCP chosen by the MTU rule: retry over UDP if the connection fails */

/* Sends a message (copied). Streams reuse the open connection to the same
 * type+address, else connect. On success *conn (may be NULL) gets the
 * connection id (0 for UDP). Later failures are reported to on_error with ctx.
 * Returns 0, SIP_EINVAL, SIP_ETOOBIG (size or connection cap), SIP_ENOMEM, SIP_EIO. */
SIP_API int sip_transport_send(struct sip_transport *t, const struct sip_tp_dest *dst, const char *buf, size_t len,
			       unsigned flags, void *ctx, uint64_t *conn);

/* Sends on an open connection by id. Returns 0, SIP_ENOTFOUND (closed) or another error. */
SIP_API int sip_transport_send_conn(struct sip_transport *t, uint64_t conn, const char *buf, size_t len, void *ctx);

/* Sends a response per §18.2.2 using its top Via (resp parsed from bytes):
 * reliable — on connection conn_hint if still open, else connect to
 * received (or the sent-by host) at rport / sent-by port / default;
 * unreliable — maddr (with ttl), else received at rport or sent-by port,
 * else sent-by. A sent-by host name (no received) is SIP_ENOTFOUND: resolve
 * it (RFC 3263 §5) and use sip_transport_send(). Returns 0 or an error. */
SIP_API int sip_transport_send_response(struct sip_transport *t, const struct sip_msg *resp, const char *bytes,
					size_t len, uint64_t conn_hint);

/* Reads the TLS certificate, key and CA files named in the configuration
 * again (a renewed certificate): connections made from now on use them,
 * open ones go on with what they were made with. On any error (a missing or
 * unreadable file, a key that does not match) nothing changes and
 * SIP_ECONFIG is returned. */
SIP_API int sip_transport_tls_reload(struct sip_transport *t);

/* Closes a stream connection (queued bytes are still written first). */
SIP_API int sip_transport_conn_close(struct sip_transport *t, uint64_t conn);
/* Number of open stream connections. */
SIP_API unsigned sip_transport_conn_count(const struct sip_transport *t);
/* Whether t has an open (or opening) connection of that type to addr. */
SIP_API bool sip_transport_has_conn(struct sip_transport *t, enum sip_tp_type type, const struct sockaddr *addr);

/* Builds a minimal stateless error response (status) to the request in
 * [buf, len) from its raw Via/From/To/Call-ID/CSeq lines, for input the parser
 * rejected. Returns the length, SIP_EPARSE (not a request, or those headers
 * are missing) or SIP_ETOOBIG. */
SIP_API int sip_transport_error_response(const char *buf, size_t len, int status, char *out, size_t cap);

/* Counters, for tests and monitoring. */
struct sip_tp_stats {
	uint64_t rx_msgs, tx_msgs, parse_errors, stray_responses, error_responses;
	uint64_t conns_accepted, conns_refused, conns_idle_closed;
	uint64_t conns_slow_closed; /* a message not complete within message_timeout_ms */
	uint64_t conns_refused_per_ip; /* accepted and closed: the address held max_connections_per_ip */
	uint64_t rate_limited; /* messages dropped by the per-source limit */
	uint64_t stun_responses; /* STUN keep-alives answered (RFC 5626 §4.4.2) */
};
SIP_API void sip_transport_stats(const struct sip_transport *t, struct sip_tp_stats *out);

/* Holds the UDP datagrams sent from now on until the matching
 * sip_transport_uncork(), which sends them in one sendmmsg() per socket: for
 * a burst of responses made outside a receive batch (e.g. the 200s held until
 * a database commit). Calls nest; received batches cork on their own. */
SIP_API void sip_transport_cork(struct sip_transport *t);
SIP_API void sip_transport_uncork(struct sip_transport *t);

#ifdef __cplusplus
}
#endif
#endif
