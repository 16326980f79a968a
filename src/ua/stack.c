/* stack.c — transport + transaction layer + one timer on a libuv loop. The
 * protocol cores never see libuv: time is uv_now(), passed in. */
#include <arpa/inet.h>
#include <sip/log.h>
#include <sip/print.h>
#include <sip/stack.h>
#include <stdio.h>
#include <string.h>

struct sip_stack {
	uv_loop_t *loop;
	struct sip_transport *tp;
	struct sip_txn_layer *txns;
	uv_timer_t timer;
	uv_timer_t trim;   /* every SIP_TXN_TRIM_MS: sip_txn_layer_trim (does not keep the loop alive) */
	int open_handles;  /* timers not yet closed: the last close frees the stack */
	sip_ms_t armed; /* the deadline the timer runs for; SIP_MS_NEVER when stopped */
	struct sip_stack_config cfg;
	bool closing;
	const char *tls_name; /* set during sip_stack_request(): the peer name for a new TLS connection */
	/* The request being handled with its top Via stamped (received/rport), so
	 * the responses built from it carry those parameters (§18.2.1). */
	struct sip_msg smsg;
	char stamped[SIP_TP_DGRAM_MAX + 512];
	char out[2048]; /* stateless replies */
};

void sip_txn_dest_set(struct sip_txn_dest *d, const struct sockaddr *sa, enum sip_tp_type type, uint64_t conn)
{
	memset(d, 0, sizeof(*d));
	size_t alen = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	memcpy(d->addr, sa, alen);
	d->addr_len = (uint8_t)alen;
	d->transport = (uint8_t)type;
	d->reliable = sip_transport_reliable(type);
	d->conn = conn;
}

enum sip_tp_type sip_txn_dest_from_target(struct sip_txn_dest *d, const struct sip_target *t)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (t->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, t->addr, 16);
		s6->sin6_port = htons(t->port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, t->addr, 4);
		s4->sin_port = htons(t->port);
	}
	enum sip_tp_type type = t->proto == SIP_RESOLVE_TCP   ? SIP_TP_TCP
				: t->proto == SIP_RESOLVE_TLS ? SIP_TP_TLS
							      : SIP_TP_UDP;
	sip_txn_dest_set(d, (const struct sockaddr *)&ss, type, 0);
	return type;
}

static void on_timer(uv_timer_t *h);

void sip_stack_rearm(struct sip_stack *s)
{
	if (s->closing)
		return;
	sip_ms_t d = sip_txn_next_deadline(s->txns);
	/* Called after every message: most leave the earliest deadline as it
	 * was (a new Timer J lands behind older ones), so the timer stays. */
	if (d == s->armed && (d == SIP_MS_NEVER || uv_is_active((uv_handle_t *)&s->timer)))
		return;
	s->armed = d;
	if (d == SIP_MS_NEVER) {
		uv_timer_stop(&s->timer);
		return;
	}
	uint64_t now = uv_now(s->loop);
	uv_timer_start(&s->timer, on_timer, d > now ? d - now : 0, 0);
}

static void on_timer(uv_timer_t *h)
{
	struct sip_stack *s = h->data;
	sip_txn_process_timers(s->txns, uv_now(s->loop));
	sip_stack_rearm(s);
}

static void on_trim(uv_timer_t *h)
{
	struct sip_stack *s = h->data;
	sip_txn_layer_trim(s->txns);
}

static void trace(const char *dir, enum sip_tp_type type, const struct sockaddr *peer, const char *b, size_t n)
{
	if (!sip_log_trace_enabled())
		return;
	char text[80];
	sip_sockaddr_text(peer, text, sizeof(text));
	sip_log_trace(dir, sip_transport_type_name(type), text, b, n);
}

/* Sends on connection dest->conn while this transport has it, else — when
 * hand_off and the connection (or, for a stream, any connection to dest's
 * address) is not here — through the send_elsewhere hook, else to dest's
 * address (§18.2.2: a new connection when the named one is gone). */
static int send_own(struct sip_stack *s, const char *bytes, size_t len, const struct sip_txn_dest *dest,
		    bool hand_off)
{
	enum sip_tp_type type = (enum sip_tp_type)dest->transport;
	const struct sockaddr *addr = (const struct sockaddr *)dest->addr;
	if (dest->conn) {
		int rc = sip_transport_send_conn(s->tp, dest->conn, bytes, len, NULL);
		if (rc != SIP_ENOTFOUND) {
			trace("send", type, addr, bytes, len);
			return rc;
		}
	}
	/* Not here: another thread may hold the connection the peer opened
	 * (behind a NAT, the only way to reach it). */
	if (hand_off && s->cfg.send_elsewhere &&
	    (dest->conn || (sip_transport_reliable(type) && !sip_transport_has_conn(s->tp, type, addr)))) {
		int rc = s->cfg.send_elsewhere(s->cfg.ctx, s, bytes, len, dest);
		if (rc != SIP_ENOTFOUND)
			return rc; /* the thread that sends it traces it */
	}
	trace("send", type, addr, bytes, len);
	struct sip_tp_dest d;
	memset(&d, 0, sizeof(d));
	d.type = type;
	d.host = s->tls_name;
	d.listener = dest->local;
	memcpy(&d.addr, dest->addr, dest->addr_len < sizeof(d.addr) ? dest->addr_len : sizeof(d.addr));
	return sip_transport_send(s->tp, &d, bytes, len, dest->flags, NULL, NULL);
}

int sip_stack_send(struct sip_stack *s, const char *bytes, size_t len, const struct sip_txn_dest *dest)
{
	return send_own(s, bytes, len, dest, true);
}

int sip_stack_send_here(struct sip_stack *s, const char *bytes, size_t len, const struct sip_txn_dest *dest)
{
	return send_own(s, bytes, len, dest, false);
}

static int txn_send(void *ctx, struct sip_txn *txn, const char *bytes, size_t len, const struct sip_txn_dest *dest)
{
	(void)txn;
	return sip_stack_send(ctx, bytes, len, dest);
}

static void txn_event(void *ctx, struct sip_txn *txn, enum sip_txn_event ev, const struct sip_msg *msg)
{
	struct sip_stack *s = ctx;
	s->cfg.tu_event(s->cfg.ctx, s, txn, ev, msg);
}

/* Where responses to a request go (§18.2.2 with RFC 3581): the connection it
 * came on; on UDP the source address, at the source port when rport asked
 * for it, else at the sent-by port. */
static void response_dest(const struct sip_tp_recv *ev, const struct sip_msg *req, struct sip_txn_dest *d)
{
	sip_txn_dest_set(d, ev->src, ev->type, ev->conn);
	d->local = ev->listener; /* a UDP response leaves from the socket its request came to */
	if (!d->reliable && !req->via.has_rport) {
		uint16_t port = req->via.has_port ? req->via.port : 5060;
		if (ev->src->sa_family == AF_INET6)
			((struct sockaddr_in6 *)d->addr)->sin6_port = htons(port);
		else
			((struct sockaddr_in *)d->addr)->sin_port = htons(port);
	}
}

/* No transaction could be made for a request: answer statelessly rather than
 * stay silent — 503 when out of room, 400 when it cannot be keyed. */
static void stateless_reply(struct sip_stack *s, const struct sip_msg *req, int rc, const struct sip_txn_dest *d)
{
	bool full = rc == SIP_ETOOBIG || rc == SIP_ENOMEM;
	struct sip_builder b;
	sip_build_init(&b, s->out, sizeof(s->out));
	sip_build_response_head(&b, req, full ? 503 : 400, SIP_STR_NULL, SIP_STR_NULL);
	if (full)
		sip_build_header(&b, SIP_STR("Retry-After"), SIP_STR("5"));
	sip_build_body(&b, SIP_STR_NULL, SIP_STR_NULL);
	int n = sip_build_finish(&b);
	if (n > 0)
		sip_stack_send(s, s->out, (size_t)n, d);
}

static void on_recv(struct sip_transport *t, const struct sip_tp_recv *ev, void *ud)
{
	struct sip_stack *s = ud;
	(void)t;
	trace("recv", ev->type, ev->src, ev->buf, ev->len);
	if (!ev->msg) {
		/* Answered (or not) by the transport already: only the log line is
		 * left, and a flood of garbage must not format addresses for nothing. */
		if (!sip_log_enabled(SIP_LOG_INFO))
			return;
		char from[80], how[48] = "dropped: no response can be routed";
		sip_sockaddr_text(ev->src, from, sizeof(from));
		if (ev->answered)
			snprintf(how, sizeof(how), "answered %d", ev->answered);
		sip_log(SIP_LOG_INFO, "%s: bad message from %s (%s at offset %zu), %s", s->cfg.name, from,
			ev->perr && ev->perr->reason ? ev->perr->reason : "unparseable", ev->perr ? ev->perr->offset : 0,
			how);
		return;
	}
	const struct sip_msg *msg = ev->msg;
	if (msg->is_request && (ev->add_received || ev->fill_rport)) {
		int n = sip_transport_stamp_via(ev, s->stamped, sizeof(s->stamped));
		if (n > 0 && sip_msg_parse(&s->smsg, s->stamped, (size_t)n,
					   sip_transport_reliable(ev->type) ? SIP_PARSE_STREAM : SIP_PARSE_DATAGRAM, NULL) > 0)
			msg = &s->smsg;
	}
	struct sip_txn_dest src;
	response_dest(ev, msg, &src);
	int rc = sip_txn_on_message(s->txns, msg, &src, uv_now(s->loop));
	if (rc < 0 && msg->is_request && msg->method_id != SIP_METHOD_ACK)
		stateless_reply(s, msg, rc, &src);
	sip_stack_rearm(s);
}

static void on_tp_error(struct sip_transport *t, const struct sip_tp_error *ev, void *ud)
{
	struct sip_stack *s = ud;
	(void)t;
	char peer[80];
	sip_sockaddr_text(ev->dst, peer, sizeof(peer));
	sip_log(SIP_LOG_DEBUG, "%s: transport %s to %s: %s", s->cfg.name, sip_transport_type_name(ev->type), peer,
		ev->reason ? ev->reason : sip_strerror(ev->err));
}

int sip_stack_new(struct sip_stack **out, uv_loop_t *loop, const struct sip_stack_config *cfg)
{
	if (!out || !loop || !cfg || !cfg->tu_event)
		return SIP_EINVAL;
	struct sip_stack *s = sip_calloc(1, sizeof(*s));
	if (!s)
		return SIP_ENOMEM;
	s->loop = loop;
	s->cfg = *cfg;
	if (!s->cfg.name)
		s->cfg.name = "sip";
	s->cfg.tp.on_recv = on_recv;
	s->cfg.tp.on_error = on_tp_error;
	s->cfg.tp.ud = s;
	int rc = sip_transport_new(&s->tp, loop, &s->cfg.tp);
	if (rc < 0) {
		sip_free(s);
		return rc;
	}
	struct sip_txn_callbacks cb = {txn_send, txn_event, s};
	if ((rc = sip_txn_layer_new(&s->txns, &cfg->txn, &cb)) < 0) {
		sip_transport_close(s->tp);
		sip_free(s);
		return rc;
	}
	uv_timer_init(loop, &s->timer);
	s->timer.data = s;
	s->armed = SIP_MS_NEVER;
	uv_timer_init(loop, &s->trim);
	s->trim.data = s;
	uv_timer_start(&s->trim, on_trim, SIP_TXN_TRIM_MS, SIP_TXN_TRIM_MS);
	uv_unref((uv_handle_t *)&s->trim);
	s->open_handles = 2;
	*out = s;
	return 0;
}

static void timer_closed(uv_handle_t *h)
{
	struct sip_stack *s = h->data;
	if (--s->open_handles == 0)
		sip_free(s);
}

void sip_stack_close(struct sip_stack *s)
{
	if (!s || s->closing)
		return;
	sip_txn_layer_free(s->txns); /* TERMINATED events reach the TU first */
	s->txns = NULL;
	s->closing = true;
	uv_timer_stop(&s->timer);
	uv_timer_stop(&s->trim);
	sip_transport_close(s->tp);
	uv_close((uv_handle_t *)&s->timer, timer_closed);
	uv_close((uv_handle_t *)&s->trim, timer_closed);
}

struct sip_transport *sip_stack_transport(struct sip_stack *s) { return s->tp; }
struct sip_txn_layer *sip_stack_txns(struct sip_stack *s) { return s->txns; }
uv_loop_t *sip_stack_loop(struct sip_stack *s) { return s->loop; }
sip_ms_t sip_stack_now(const struct sip_stack *s) { return uv_now(s->loop); }

int sip_stack_respond(struct sip_stack *s, struct sip_txn *t, const char *bytes, size_t len)
{
	int rc = sip_txn_respond(t, bytes, len, uv_now(s->loop));
	sip_stack_rearm(s);
	return rc;
}

int sip_stack_request(struct sip_stack *s, const struct sip_msg *req, const struct sip_txn_dest *dest,
		      const char *tls_name, struct sip_txn **out)
{
	/* The first send happens inside sip_txn_client_new(); later ones reuse
	 * the connection it opened (no retransmissions on TLS). */
	s->tls_name = tls_name;
	int rc = sip_txn_client_new(s->txns, req, dest, uv_now(s->loop), out);
	s->tls_name = NULL;
	sip_stack_rearm(s);
	return rc;
}
