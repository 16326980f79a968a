/* tp_test.h — shared fixture for the transport tests: a libuv loop bounded by
 * a guard timer, a recorder of received messages and errors, and a raw TCP
 * peer (a plain uv_tcp_t) for byte-level stream tests. No sleeps anywhere:
 * the loop runs until the condition holds or the guard fires. */
#ifndef TP_TEST_H
#define TP_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sip/transport.h>
#include <sip/print.h>

#define TT_GUARD_MS 5000u
#define TT_MAX_EVENTS 16
#define TT_MSG_MAX 8192

struct tt_event {
	char buf[TT_MSG_MAX];
	size_t len;
	bool parsed, is_request, add_received, fill_rport;
	int status, perr_status;
	int answered; /* ev->answered: the status the transport sent for a bad message */
	char received[48];
	uint16_t rport, src_port;
	uint64_t conn;
	enum sip_tp_type type;
	char stamped[TT_MSG_MAX];
	int stamped_len;
};

struct tt_side {
	struct sip_transport *t;
	struct tt_event ev[TT_MAX_EVENTS];
	int nev;
	struct sip_tp_error err[TT_MAX_EVENTS];
	int nerr;
	bool closed;
	/* Optional reaction to a received message (e.g. answer it). */
	void (*react)(struct tt_side *s, const struct sip_tp_recv *ev);
};

static uv_loop_t tt_loop;
static uv_timer_t tt_guard;
static bool tt_timed_out;

static inline void tt_guard_cb(uv_timer_t *h)
{
	(void)h;
	tt_timed_out = true;
	uv_stop(&tt_loop);
}

static inline void tt_setup(void)
{
	assert_int_equal(uv_loop_init(&tt_loop), 0);
	uv_timer_init(&tt_loop, &tt_guard);
	uv_timer_start(&tt_guard, tt_guard_cb, TT_GUARD_MS, 0);
	uv_unref((uv_handle_t *)&tt_guard); /* the guard alone does not keep the loop alive */
	tt_timed_out = false;
}

/* Runs the loop until *flag becomes true; fails the test when the guard fires first. */
#define tt_run_until(cond)                                                                                     \
	do {                                                                                                   \
		while (!(cond) && !tt_timed_out)                                                               \
			uv_run(&tt_loop, UV_RUN_ONCE);                                                         \
		assert_false(tt_timed_out);                                                                    \
	} while (0)

static inline void tt_on_closed(void *ud) { ((struct tt_side *)ud)->closed = true; }

static inline void tt_on_recv(struct sip_transport *t, const struct sip_tp_recv *ev, void *ud)
{
	struct tt_side *s = ud;
	(void)t;
	if (s->nev >= TT_MAX_EVENTS)
		return;
	struct tt_event *e = &s->ev[s->nev++];
	memset(e, 0, sizeof(*e));
	e->len = ev->len < TT_MSG_MAX ? ev->len : TT_MSG_MAX;
	memcpy(e->buf, ev->buf, e->len);
	e->parsed = ev->msg != NULL;
	if (ev->msg) {
		e->is_request = ev->msg->is_request;
		e->status = ev->msg->status;
	} else {
		e->perr_status = ev->perr ? ev->perr->status : -1;
		e->answered = ev->answered;
	}
	e->add_received = ev->add_received;
	e->fill_rport = ev->fill_rport;
	memcpy(e->received, ev->received, sizeof(e->received));
	e->rport = ev->rport;
	e->conn = ev->conn;
	e->type = ev->type;
	if (ev->src->sa_family == AF_INET)
		e->src_port = ntohs(((const struct sockaddr_in *)ev->src)->sin_port);
	else
		e->src_port = ntohs(((const struct sockaddr_in6 *)ev->src)->sin6_port);
	e->stamped_len = ev->msg ? sip_transport_stamp_via(ev, e->stamped, sizeof(e->stamped) - 1) : -1;
	if (e->stamped_len >= 0)
		e->stamped[e->stamped_len] = 0;
	if (s->react)
		s->react(s, ev);
}

static inline void tt_on_error(struct sip_transport *t, const struct sip_tp_error *ev, void *ud)
{
	struct tt_side *s = ud;
	(void)t;
	if (s->nerr < TT_MAX_EVENTS)
		s->err[s->nerr++] = *ev;
	s->err[s->nerr - 1].dst = NULL; /* not valid after the callback */
}

static inline void tt_config(struct sip_transport_config *cfg, struct tt_side *s)
{
	sip_transport_config_init(cfg);
	cfg->on_recv = tt_on_recv;
	cfg->on_error = tt_on_error;
	cfg->on_closed = tt_on_closed;
	cfg->ud = s;
}

static inline void tt_side_new(struct tt_side *s, const struct sip_transport_config *cfg)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(sip_transport_new(&s->t, &tt_loop, cfg), 0);
}

static inline void tt_close_side(struct tt_side *s)
{
	if (!s->t)
		return;
	sip_transport_close(s->t);
	s->t = NULL;
}

/* Closes the guard and runs the loop until every handle's close callback ran. */
static inline void tt_teardown(void)
{
	uv_close((uv_handle_t *)&tt_guard, NULL);
	uv_run(&tt_loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&tt_loop), 0);
}

/* A request with a Via for listener l (type override: SIP_TP_NONE). */
static inline int tt_request(char *out, size_t cap, const struct sip_listener *l, enum sip_tp_type vt, unsigned via_flags,
		      const char *method, int cseq, const char *body)
{
	char via[SIP_TP_VIA_MAX];
	int n = sip_transport_via(l, vt, via_flags, via, sizeof(via));
	assert_true(n > 0);
	return snprintf(out, cap,
			"%s sip:bob@example.com SIP/2.0\r\n"
			"Via: %s\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:alice@example.com>;tag=a1\r\n"
			"To: <sip:bob@example.com>\r\n"
			"Call-ID: call-%d@test\r\n"
			"CSeq: %d %s\r\n"
			"Content-Length: %zu\r\n\r\n%s",
			method, via, cseq, cseq, method, strlen(body), body);
}

/* Builds a 200 to the request bytes req (parsed here) into out. */
static inline int tt_response_to(const char *req, size_t len, int code, char *out, size_t cap)
{
	struct sip_msg *m = malloc(sizeof(*m));
	struct sip_parse_err e;
	assert_non_null(m);
	assert_true(sip_msg_parse(m, req, len, SIP_PARSE_DATAGRAM, &e) > 0);
	struct sip_builder b;
	sip_build_init(&b, out, cap);
	sip_build_response_head(&b, m, code, SIP_STR(""), SIP_STR("t1"));
	sip_build_body(&b, SIP_STR(""), SIP_STR(""));
	int n = sip_build_finish(&b);
	free(m);
	assert_true(n > 0);
	return n;
}

/* Sends a response (bytes) through t per §18.2.2. */
static inline int tt_send_response(struct sip_transport *t, const char *resp, size_t len, uint64_t conn)
{
	struct sip_msg *m = malloc(sizeof(*m));
	struct sip_parse_err e;
	assert_non_null(m);
	assert_true(sip_msg_parse(m, resp, len, SIP_PARSE_DATAGRAM, &e) > 0);
	int rc = sip_transport_send_response(t, m, resp, len, conn);
	free(m);
	return rc;
}

/* ---- raw TCP peer ---- */
struct tt_raw {
	uv_tcp_t tcp;
	uv_connect_t creq;
	bool connected, eof, closed;
	int conn_status;
	char in[TT_MSG_MAX];
	size_t inlen;
	int writes_pending;
};

static inline void tt_raw_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	struct tt_raw *r = h->data;
	(void)sz;
	size_t room = sizeof(r->in) - r->inlen;
	*b = uv_buf_init(r->in + r->inlen, (unsigned)room);
}

static inline void tt_raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct tt_raw *r = s->data;
	(void)b;
	if (n < 0) {
		r->eof = true;
		uv_read_stop(s);
		return;
	}
	r->inlen += (size_t)n;
}

static inline void tt_raw_connected(uv_connect_t *req, int status)
{
	struct tt_raw *r = req->data;
	r->conn_status = status;
	r->connected = true;
	if (status == 0)
		uv_read_start((uv_stream_t *)&r->tcp, tt_raw_alloc, tt_raw_read);
}

static inline void tt_raw_connect(struct tt_raw *r, const struct sip_listener *l)
{
	struct sockaddr_storage a;
	memset(r, 0, sizeof(*r));
	assert_int_equal(sip_listener_addr(l, &a), 0);
	uv_tcp_init(&tt_loop, &r->tcp);
	r->tcp.data = r;
	r->creq.data = r;
	assert_int_equal(uv_tcp_connect(&r->creq, &r->tcp, (struct sockaddr *)&a, tt_raw_connected), 0);
	tt_run_until(r->connected);
	assert_int_equal(r->conn_status, 0);
}

struct tt_wreq {
	uv_write_t req;
	struct tt_raw *r;
	char data[];
};

static inline void tt_raw_written(uv_write_t *req, int status)
{
	struct tt_wreq *w = (struct tt_wreq *)req;
	(void)status;
	w->r->writes_pending--;
	free(w);
}

static inline void tt_raw_write(struct tt_raw *r, const char *p, size_t n)
{
	struct tt_wreq *w = malloc(sizeof(*w) + n);
	assert_non_null(w);
	w->r = r;
	memcpy(w->data, p, n);
	uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
	assert_int_equal(uv_write(&w->req, (uv_stream_t *)&r->tcp, &b, 1, tt_raw_written), 0);
	r->writes_pending++;
}

static inline void tt_raw_closed(uv_handle_t *h) { ((struct tt_raw *)h->data)->closed = true; }

static inline void tt_raw_close(struct tt_raw *r) { uv_close((uv_handle_t *)&r->tcp, tt_raw_closed); }

#endif
