/* txn_fixture.h — shared by the transaction tests: a fake transport that
 * records every send, a TU that records every event, the virtual clock, a
 * counting allocator (live allocations must return to zero), and message
 * helpers. Header-only: each tests/unit/transaction/<name>.c is its own
 * program. */
#ifndef TXN_FIXTURE_H
#define TXN_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sip/clock.h>
#include <sip/msg.h>
#include <sip/print.h>
#include <sip/txn.h>

#define FX_MAX_SENDS 256
#define FX_MAX_EVENTS 256
#define FX_MAX_MSGS 64
#define FX_MSG_CAP 4096

struct fx_send {
	sip_ms_t at;
	struct sip_txn *txn;
	char bytes[FX_MSG_CAP];
	size_t len;
	struct sip_txn_dest dest;
};

struct fx_event {
	sip_ms_t at;
	struct sip_txn *txn;
	enum sip_txn_event ev;
	int status;              /* response status, or 0 */
	enum sip_method method;  /* request method, or 0 */
	enum sip_txn_state state; /* txn state at the event (0 when txn is NULL) */
};

struct fx {
	struct sip_vclock clock;
	struct sip_txn_layer *layer;
	struct sip_txn_config cfg;
	struct fx_send sends[FX_MAX_SENDS];
	size_t nsends;
	struct fx_event events[FX_MAX_EVENTS];
	size_t nevents;
	int fail_send_at;        /* index of the send that fails (-1: none) */
	bool quiet;              /* don't record events (bulk tests) */
	struct sip_txn *last_request_txn;
	/* TU behaviour on SIP_TXN_EV_REQUEST: respond with this text, if set. */
	const char *auto_response;
	struct sip_msg *msgs[FX_MAX_MSGS];
	char *bufs[FX_MAX_MSGS];
	size_t nmsgs;
};

static __attribute__((unused)) struct fx *FX;

/* ---- counting allocator ---- */
static long fx_live;
static long fx_fail_at = -1, fx_calls;
static __attribute__((unused)) void *fx_malloc(size_t n, void *ud)
{
	(void)ud;
	if (fx_calls++ == fx_fail_at)
		return NULL;
	fx_live++;
	return malloc(n);
}
static __attribute__((unused)) void *fx_realloc(void *p, size_t n, void *ud)
{
	(void)ud;
	if (!p) {
		if (fx_calls++ == fx_fail_at)
			return NULL;
		fx_live++;
	}
	return realloc(p, n);
}
static __attribute__((unused)) void fx_free(void *p, void *ud)
{
	(void)ud;
	if (p)
		fx_live--;
	free(p);
}
static const struct sip_mem fx_mem = {fx_malloc, fx_realloc, fx_free, NULL};

/* ---- fake transport and TU ---- */
static __attribute__((unused)) int fx_send_cb(void *ctx, struct sip_txn *txn, const char *bytes, size_t len, const struct sip_txn_dest *dest)
{
	struct fx *f = ctx;
	if ((int)f->nsends == f->fail_send_at) {
		f->fail_send_at = -1;
		return SIP_EIO;
	}
	assert_true(f->nsends < FX_MAX_SENDS);
	assert_true(len < FX_MSG_CAP);
	struct fx_send *s = &f->sends[f->nsends++];
	s->at = f->clock.now_ms;
	s->txn = txn;
	memcpy(s->bytes, bytes, len);
	s->bytes[len] = 0;
	s->len = len;
	s->dest = *dest;
	return 0;
}

static __attribute__((unused)) void fx_tu_cb(void *ctx, struct sip_txn *txn, enum sip_txn_event ev, const struct sip_msg *m)
{
	struct fx *f = ctx;
	if (f->quiet)
		return;
	assert_true(f->nevents < FX_MAX_EVENTS);
	struct fx_event *e = &f->events[f->nevents++];
	e->at = f->clock.now_ms;
	e->txn = txn;
	e->ev = ev;
	e->status = m && !m->is_request ? m->status : 0;
	e->method = m && m->is_request ? m->method_id : SIP_METHOD_UNKNOWN;
	e->state = txn ? sip_txn_state(txn) : 0;
	if (ev == SIP_TXN_EV_REQUEST) {
		f->last_request_txn = txn;
		if (f->auto_response)
			assert_int_equal(sip_txn_respond(txn, f->auto_response, strlen(f->auto_response),
							 f->clock.now_ms), 0);
	}
}

static __attribute__((unused)) const struct sip_txn_dest fx_udp = {.addr = {127, 0, 0, 1}, .addr_len = 4, .transport = 1};
static __attribute__((unused)) const struct sip_txn_dest fx_tcp = {.addr = {127, 0, 0, 1}, .addr_len = 4, .transport = 2,
					   .reliable = true, .conn = 7};

static __attribute__((unused)) void fx_start(struct fx *f)
{
	struct sip_txn_callbacks cb = {fx_send_cb, fx_tu_cb, f};
	assert_int_equal(sip_txn_layer_new(&f->layer, &f->cfg, &cb), 0);
}

static __attribute__((unused)) int fx_setup(void **state)
{
	fx_live = 0;
	fx_calls = 0;
	fx_fail_at = -1;
	sip_mem_set(&fx_mem);
	struct fx *f = calloc(1, sizeof(*f));
	sip_vclock_init(&f->clock, 0);
	sip_txn_config_default(&f->cfg);
	f->cfg.hash_seed = 0x5eed;
	f->fail_send_at = -1;
	FX = f;
	*state = f;
	fx_start(f);
	return 0;
}

static __attribute__((unused)) int fx_teardown(void **state)
{
	struct fx *f = *state;
	sip_txn_layer_free(f->layer);
	for (size_t i = 0; i < f->nmsgs; i++) {
		free(f->msgs[i]);
		free(f->bufs[i]);
	}
	free(f);
	sip_mem_set(NULL);
	/* Every allocation made through the seam came back. */
	assert_int_equal(fx_live, 0);
	return 0;
}

/* Restarts the layer with f->cfg (after a test changed it). */
static __attribute__((unused)) void fx_restart(struct fx *f)
{
	sip_txn_layer_free(f->layer);
	f->nevents = 0;
	fx_start(f);
}

/* ---- messages ---- */
/* Parses len bytes (copied; freed at teardown). */
static __attribute__((unused)) const struct sip_msg *fx_parse_raw(struct fx *f, const char *bytes, size_t len)
{
	assert_true(f->nmsgs < FX_MAX_MSGS);
	char *buf = malloc(len + 1);
	memcpy(buf, bytes, len);
	buf[len] = 0;
	struct sip_msg *m = malloc(sizeof(*m));
	struct sip_parse_err err;
	int rc = sip_msg_parse(m, buf, len, SIP_PARSE_DATAGRAM, &err);
	if (rc <= 0)
		fail_msg("parse failed: %s at %zu\n%s", err.reason, err.offset, buf);
	f->msgs[f->nmsgs] = m;
	f->bufs[f->nmsgs++] = buf;
	return m;
}

/* Formats text with \n line ends, turns them into CRLF, parses it. */
__attribute__((format(printf, 2, 3), unused)) static const struct sip_msg *fx_msg(struct fx *f, const char *fmt, ...)
{
	char tmp[FX_MSG_CAP], crlf[2 * FX_MSG_CAP];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && n < (int)sizeof(tmp));
	size_t len = 0;
	for (int i = 0; i < n; i++) {
		if (tmp[i] == '\n')
			crlf[len++] = '\r';
		crlf[len++] = tmp[i];
	}
	return fx_parse_raw(f, crlf, len);
}

/* Parses a recorded send. */
static __attribute__((unused)) const struct sip_msg *fx_sent(struct fx *f, size_t i)
{
	assert_true(i < f->nsends);
	return fx_parse_raw(f, f->sends[i].bytes, f->sends[i].len);
}

/* Moves the virtual clock to `to`, firing each timer at its own deadline. */
static __attribute__((unused)) void fx_run_until(struct fx *f, sip_ms_t to)
{
	for (;;) {
		sip_ms_t d = sip_txn_next_deadline(f->layer);
		if (d > to)
			break;
		sip_vclock_set(&f->clock, d);
		sip_txn_process_timers(f->layer, d);
	}
	sip_vclock_set(&f->clock, to);
}

static __attribute__((unused)) sip_ms_t fx_now(struct fx *f) { return f->clock.now_ms; }

static __attribute__((unused)) void fx_feed(struct fx *f, const struct sip_msg *m)
{
	assert_int_equal(sip_txn_on_message(f->layer, m, &fx_udp, fx_now(f)), 0);
}

static __attribute__((unused)) void fx_feed_from(struct fx *f, const struct sip_msg *m, const struct sip_txn_dest *src)
{
	assert_int_equal(sip_txn_on_message(f->layer, m, src, fx_now(f)), 0);
}

/* Asserts the send times equal want[0..n). */
static __attribute__((unused)) void fx_assert_send_times(struct fx *f, const sip_ms_t *want, size_t n)
{
	if (f->nsends != n) {
		for (size_t i = 0; i < f->nsends; i++)
			print_message("send %zu at %llu\n", i, (unsigned long long)f->sends[i].at);
	}
	assert_int_equal(f->nsends, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(f->sends[i].at, want[i]);
}

static __attribute__((unused)) bool fx_contains(const struct fx_send *s, const char *needle) { return strstr(s->bytes, needle) != NULL; }

/* Count of events of one kind. */
static __attribute__((unused)) size_t fx_count(const struct fx *f, enum sip_txn_event ev)
{
	size_t n = 0;
	for (size_t i = 0; i < f->nevents; i++)
		n += f->events[i].ev == ev;
	return n;
}

/* ---- canned messages (RFC 3665-like) ---- */
#define FX_INVITE_FMT                                                                                        \
	"INVITE sip:bob@biloxi.example.com SIP/2.0\n"                                                        \
	"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=%s\n"                                              \
	"Max-Forwards: 70\n"                                                                                 \
	"Route: <sip:p1.example.com;lr>\n"                                                                   \
	"Route: <sip:p2.example.com;lr>\n"                                                                   \
	"To: Bob <sip:bob@biloxi.example.com>\n"                                                             \
	"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\n"                                       \
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\n"                                                 \
	"CSeq: 314159 INVITE\n"                                                                              \
	"Contact: <sip:alice@pc33.atlanta.example.com>\n"                                                    \
	"Content-Length: 0\n\n"

#define FX_RESPONSE_FMT                                                                                      \
	"SIP/2.0 %d Whatever\n"                                                                              \
	"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=%s\n"                                              \
	"To: Bob <sip:bob@biloxi.example.com>%s\n"                                                           \
	"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\n"                                       \
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\n"                                                 \
	"CSeq: 314159 %s\n"                                                                                  \
	"Content-Length: 0\n\n"

#define FX_REQUEST_FMT                                                                                       \
	"%s sip:bob@biloxi.example.com SIP/2.0\n"                                                            \
	"Via: SIP/2.0/UDP %s;branch=%s\n"                                                                    \
	"Max-Forwards: 70\n"                                                                                 \
	"To: Bob <sip:bob@biloxi.example.com>%s\n"                                                           \
	"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\n"                                       \
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\n"                                                 \
	"CSeq: 314159 %s\n"                                                                                  \
	"Content-Length: 0\n\n"

static __attribute__((unused)) const struct sip_msg *fx_invite(struct fx *f, const char *branch) { return fx_msg(f, FX_INVITE_FMT, branch); }

/* A response to method on branch; to_tag "" for none, else ";tag=...". */
static __attribute__((unused)) const struct sip_msg *fx_response(struct fx *f, int code, const char *branch, const char *to_tag,
					 const char *method)
{
	return fx_msg(f, FX_RESPONSE_FMT, code, branch, to_tag, method);
}

/* A request of method from sent-by host on branch, To tag to_tag. */
static __attribute__((unused)) const struct sip_msg *fx_request(struct fx *f, const char *method, const char *host, const char *branch,
					const char *to_tag)
{
	return fx_msg(f, FX_REQUEST_FMT, method, host, branch, to_tag, method);
}

/* A response text for a server txn's request (for sip_txn_respond). */
static __attribute__((unused)) const char *fx_response_text(struct fx *f, int code, const char *branch, const char *method)
{
	const struct sip_msg *m = fx_msg(f, FX_RESPONSE_FMT, code, branch, ";tag=bobtag", method);
	return m->buf;
}

#endif
