/* TCP over real loopback sockets: framing across partial writes and several
 * messages per write, responses on the request's connection, connection
 * reuse, 400/513 + close, idle timeout, connection cap, connect failures and
 * the §18.1.1 UDP retry. */
#include "tp_test.h"

static struct tt_side srv, cli;
static struct sip_listener *lsrv, *lcli;

static void answer_200(struct tt_side *s, const struct sip_tp_recv *ev)
{
	if (!ev->msg || !ev->msg->is_request)
		return;
	char resp[TT_MSG_MAX];
	int m = tt_response_to(ev->buf, ev->len, 200, resp, sizeof(resp));
	assert_int_equal(tt_send_response(s->t, resp, (size_t)m, ev->conn), 0);
}

static void start_cfg(const char *ip, const struct sip_transport_config *scfg)
{
	struct sip_transport_config cfg;
	tt_setup();
	srv.t = NULL;
	tt_side_new(&srv, scfg);
	tt_config(&cfg, &cli);
	tt_side_new(&cli, &cfg);
	assert_int_equal(sip_transport_listen(srv.t, "tcp", ip, 0, &lsrv), 0);
	assert_int_equal(sip_transport_listen(cli.t, "tcp", ip, 0, &lcli), 0);
}

static void start(const char *ip)
{
	struct sip_transport_config cfg;
	tt_config(&cfg, &srv);
	start_cfg(ip, &cfg);
}

static void stop(void)
{
	tt_close_side(&srv);
	tt_close_side(&cli);
	tt_teardown();
	assert_true(srv.closed);
	assert_true(cli.closed);
}

static void dest_of(struct sip_tp_dest *d, const struct sip_listener *l, enum sip_tp_type type)
{
	memset(d, 0, sizeof(*d));
	d->type = type;
	sip_listener_addr(l, &d->addr);
}

/* A request written one byte per write arrives whole; the 200 comes back on that connection. */
static void test_byte_by_byte(void **state)
{
	(void)state;
	start("127.0.0.1");
	srv.react = answer_200;
	struct tt_raw r;
	tt_raw_connect(&r, lsrv);
	char req[2048];
	int n = tt_request(req, sizeof(req), lcli, SIP_TP_NONE, 0, "MESSAGE", 1, "hello, body");
	for (int i = 0; i < n; i++)
		tt_raw_write(&r, req + i, 1);
	tt_run_until(r.inlen > 0 && memmem(r.in, r.inlen, "\r\n\r\n", 4));
	assert_int_equal(srv.nev, 1);
	assert_true(srv.ev[0].parsed);
	assert_int_equal(srv.ev[0].len, (size_t)n);
	assert_memory_equal(srv.ev[0].buf, req, (size_t)n);
	assert_int_equal(srv.ev[0].type, SIP_TP_TCP);
	assert_int_not_equal(srv.ev[0].conn, 0);
	assert_memory_equal(r.in, "SIP/2.0 200 OK\r\n", 16);
	assert_non_null(memmem(r.in, r.inlen, "Call-ID: call-1@test\r\n", 22));
	assert_int_equal(sip_transport_conn_count(srv.t), 1);
	tt_raw_close(&r);
	tt_run_until(r.closed && sip_transport_conn_count(srv.t) == 0);
	stop();
}

/* Two messages (and keep-alive CRLFs) in one write are two deliveries, in order. */
static void test_two_in_one_write(void **state)
{
	(void)state;
	start("::1");
	struct tt_raw r;
	tt_raw_connect(&r, lsrv);
	char buf[4096];
	int n = tt_request(buf, sizeof(buf), lcli, SIP_TP_NONE, 0, "OPTIONS", 1, "");
	memcpy(buf + n, "\r\n\r\n", 4);
	n += 4;
	n += tt_request(buf + n, sizeof(buf) - (size_t)n, lcli, SIP_TP_NONE, 0, "INFO", 2, "abc");
	tt_raw_write(&r, buf, (size_t)n);
	tt_run_until(srv.nev == 2);
	assert_non_null(strstr(srv.ev[0].buf, "CSeq: 1 OPTIONS\r\n"));
	assert_non_null(strstr(srv.ev[1].buf, "CSeq: 2 INFO\r\n"));
	assert_memory_equal(srv.ev[1].buf + srv.ev[1].len - 3, "abc", 3);
	assert_int_equal(srv.ev[0].conn, srv.ev[1].conn);
	tt_raw_close(&r);
	stop();
}

static const char no_cl[] = "OPTIONS sip:bob@example.com SIP/2.0\r\n"
			    "Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKnocl\r\n"
			    "From: <sip:a@example.com>;tag=x\r\nTo: <sip:b@example.com>\r\n"
			    "Call-ID: nocl\r\nCSeq: 1 OPTIONS\r\n\r\n";

/* A stream request without Content-Length: 400, then the connection closes. */
static void test_missing_content_length(void **state)
{
	(void)state;
	start("127.0.0.1");
	struct tt_raw r;
	tt_raw_connect(&r, lsrv);
	tt_raw_write(&r, no_cl, sizeof(no_cl) - 1);
	tt_run_until(r.eof);
	assert_true(r.inlen > 12);
	assert_memory_equal(r.in, "SIP/2.0 400 ", 12);
	assert_non_null(memmem(r.in, r.inlen, "Call-ID: nocl\r\n", 15));
	assert_int_equal(srv.nev, 0);
	tt_run_until(sip_transport_conn_count(srv.t) == 0);
	struct sip_tp_stats st;
	sip_transport_stats(srv.t, &st);
	assert_int_equal(st.error_responses, 1);
	tt_raw_close(&r);
	stop();
}

/* A body over the limit: 513, then close. */
static void test_oversize(void **state)
{
	(void)state;
	struct sip_transport_config cfg;
	tt_config(&cfg, &srv);
	cfg.max_body_bytes = 1000;
	start_cfg("127.0.0.1", &cfg);
	struct tt_raw r;
	tt_raw_connect(&r, lsrv);
	char body[3000], req[4096];
	memset(body, 'x', sizeof(body) - 1);
	body[sizeof(body) - 1] = 0;
	int n = tt_request(req, sizeof(req), lcli, SIP_TP_NONE, 0, "MESSAGE", 7, body);
	tt_raw_write(&r, req, (size_t)n);
	tt_run_until(r.eof);
	assert_true(r.inlen > 12);
	assert_memory_equal(r.in, "SIP/2.0 513 ", 12);
	assert_non_null(memmem(r.in, r.inlen, "CSeq: 7 MESSAGE\r\n", 17));
	assert_int_equal(srv.nev, 0);
	tt_raw_close(&r);
	stop();
}

/* Requests to the same peer share one connection; the responses come back on it. */
static void test_connection_reuse(void **state)
{
	(void)state;
	start("127.0.0.1");
	srv.react = answer_200;
	struct sip_tp_dest d;
	dest_of(&d, lsrv, SIP_TP_TCP);
	char req[2048];
	uint64_t c1 = 0, c2 = 0;
	int n = tt_request(req, sizeof(req), lcli, SIP_TP_NONE, 0, "OPTIONS", 1, "");
	assert_int_equal(sip_transport_send(cli.t, &d, req, (size_t)n, 0, NULL, &c1), 0);
	n = tt_request(req, sizeof(req), lcli, SIP_TP_NONE, 0, "OPTIONS", 2, "");
	assert_int_equal(sip_transport_send(cli.t, &d, req, (size_t)n, 0, NULL, &c2), 0);
	assert_int_not_equal(c1, 0);
	assert_int_equal(c1, c2);
	tt_run_until(cli.nev == 2);
	assert_int_equal(cli.ev[0].status, 200);
	assert_int_equal(cli.ev[1].status, 200);
	assert_int_equal(cli.ev[0].conn, c1);
	assert_int_equal(cli.ev[1].conn, c1);
	struct sip_tp_stats st;
	sip_transport_stats(srv.t, &st);
	assert_int_equal(st.conns_accepted, 1);
	assert_int_equal(sip_transport_conn_count(cli.t), 1);
	/* A third request after the responses still uses the same connection. */
	uint64_t c3 = 0;
	n = tt_request(req, sizeof(req), lcli, SIP_TP_NONE, 0, "OPTIONS", 3, "");
	assert_int_equal(sip_transport_send(cli.t, &d, req, (size_t)n, 0, NULL, &c3), 0);
	assert_int_equal(c3, c1);
	tt_run_until(cli.nev == 3);
	sip_transport_stats(srv.t, &st);
	assert_int_equal(st.conns_accepted, 1);
	/* Closing it by id works once; sending on it then fails. */
	assert_int_equal(sip_transport_conn_close(cli.t, c1), 0);
	assert_int_equal(sip_transport_send_conn(cli.t, c1, "x", 1, NULL), SIP_ENOTFOUND);
	stop();
}

/* §18.2.2: when the request's connection is gone, the response opens a new one to sent-by. */
static void test_response_new_connection(void **state)
{
	(void)state;
	start("127.0.0.1");
	char req[2048], resp[2048];
	int n = tt_request(req, sizeof(req), lcli, SIP_TP_NONE, 0, "OPTIONS", 1, "");
	int m = tt_response_to(req, (size_t)n, 202, resp, sizeof(resp));
	assert_int_equal(tt_send_response(srv.t, resp, (size_t)m, 12345 /* no such connection */), 0);
	tt_run_until(cli.nev == 1);
	assert_int_equal(cli.ev[0].status, 202);
	assert_int_equal(cli.ev[0].type, SIP_TP_TCP);
	stop();
}

/* An idle connection is closed after idle_timeout_ms. */
static void test_idle_timeout(void **state)
{
	(void)state;
	struct sip_transport_config cfg;
	tt_config(&cfg, &srv);
	cfg.idle_timeout_ms = 50;
	start_cfg("127.0.0.1", &cfg);
	struct tt_raw r;
	tt_raw_connect(&r, lsrv);
	tt_run_until(r.eof);
	struct sip_tp_stats st;
	sip_transport_stats(srv.t, &st);
	assert_int_equal(st.conns_idle_closed, 1);
	assert_int_equal(sip_transport_conn_count(srv.t), 0);
	tt_raw_close(&r);
	stop();
}

static bool tick_fired;
static void tick_cb(uv_timer_t *h)
{
	(void)h;
	tick_fired = true;
}

/* Traffic keeps a connection open past idle_timeout_ms (the idle timer is
 * not restarted per message but re-armed for the rest when it fires); once
 * the traffic stops it closes no sooner than idle_timeout_ms later. */
static void test_idle_timeout_activity(void **state)
{
	(void)state;
	struct sip_transport_config cfg;
	tt_config(&cfg, &srv);
	cfg.idle_timeout_ms = 300;
	start_cfg("127.0.0.1", &cfg);
	struct tt_raw r;
	tt_raw_connect(&r, lsrv);
	tt_run_until(sip_transport_conn_count(srv.t) == 1);
	uv_timer_t tick;
	uv_timer_init(&tt_loop, &tick);
	for (int i = 0; i < 8; i++) {
		tt_raw_write(&r, "\r\n", 2); /* keep-alive CRLF: read, no answer */
		tick_fired = false;
		uv_timer_start(&tick, tick_cb, 60, 0);
		tt_run_until(tick_fired);
		assert_false(r.eof);
	}
	struct sip_tp_stats st;
	sip_transport_stats(srv.t, &st);
	assert_int_equal(st.conns_idle_closed, 0);
	uv_update_time(&tt_loop);
	uint64_t quiet = uv_now(&tt_loop);
	tt_run_until(r.eof);
	/* The last read was at most 60 ms before `quiet`, so the idle close
	 * comes at least 240 ms after it; 150 leaves room for a loaded machine
	 * (the loop's cached clock may lag) without letting a per-message
	 * timer bug through. */
	assert_true(uv_now(&tt_loop) - quiet >= 150);
	sip_transport_stats(srv.t, &st);
	assert_int_equal(st.conns_idle_closed, 1);
	uv_close((uv_handle_t *)&tick, NULL);
	tt_raw_close(&r);
	stop();
}

/* A message must be complete message_timeout_ms after its first byte: one
 * arriving in two pieces within it is delivered (and the deadline starts
 * again for the next message); one trickled a byte at a time, which keeps
 * the connection active, is cut off at the deadline ("slowloris"), not
 * kept until the idle timeout. */
static void test_message_deadline(void **state)
{
	(void)state;
	struct sip_transport_config cfg;
	tt_config(&cfg, &srv);
	cfg.idle_timeout_ms = 10000;
	cfg.message_timeout_ms = 300;
	start_cfg("127.0.0.1", &cfg);
	struct tt_raw r;
	tt_raw_connect(&r, lsrv);
	char req[2048];
	uv_timer_t tick;
	uv_timer_init(&tt_loop, &tick);
	for (int m = 0; m < 2; m++) {
		int n = tt_request(req, sizeof(req), lcli, SIP_TP_TCP, 0, "OPTIONS", m + 1, "");
		tt_raw_write(&r, req, (size_t)n / 2);
		tick_fired = false;
		uv_timer_start(&tick, tick_cb, 200, 0);
		tt_run_until(tick_fired);
		tt_raw_write(&r, req + n / 2, (size_t)n - (size_t)n / 2);
		tt_run_until(srv.nev == m + 1); /* 400 ms for both: each had its own deadline */
		assert_true(srv.ev[m].is_request);
		assert_false(r.eof);
	}
	int n = tt_request(req, sizeof(req), lcli, SIP_TP_TCP, 0, "OPTIONS", 3, "");
	uv_update_time(&tt_loop);
	uint64_t began = uv_now(&tt_loop);
	for (int i = 0; i < n && !r.eof; i++) {
		tt_raw_write(&r, req + i, 1);
		tick_fired = false;
		uv_timer_start(&tick, tick_cb, 40, 0);
		tt_run_until(tick_fired || r.eof);
	}
	tt_run_until(r.eof);
	uint64_t took = uv_now(&tt_loop) - began;
	assert_true(took >= 250 && took < 5000); /* the deadline, long before the idle timeout */
	assert_int_equal(srv.nev, 2);
	struct sip_tp_stats st;
	sip_transport_stats(srv.t, &st);
	assert_int_equal(st.conns_slow_closed, 1);
	assert_int_equal(st.conns_idle_closed, 0);
	uv_close((uv_handle_t *)&tick, NULL);
	tt_raw_close(&r);
	stop();
}

/* Over max_connections, new connections are closed at once. */
static void test_connection_cap(void **state)
{
	(void)state;
	struct sip_transport_config cfg;
	tt_config(&cfg, &srv);
	cfg.max_connections = 1;
	start_cfg("127.0.0.1", &cfg);
	struct tt_raw a, b;
	tt_raw_connect(&a, lsrv);
	tt_run_until(sip_transport_conn_count(srv.t) == 1);
	tt_raw_connect(&b, lsrv);
	tt_run_until(b.eof);
	assert_false(a.eof);
	struct sip_tp_stats st;
	sip_transport_stats(srv.t, &st);
	assert_int_equal(st.conns_accepted, 1);
	assert_int_equal(st.conns_refused, 1);
	tt_raw_close(&a);
	tt_raw_close(&b);
	stop();
}

/* max_connections_per_ip: the third connection from 127.0.0.1 is closed at
 * once, one from 127.0.0.2 is not; when one of the first two closes, that
 * address may connect again. */
static void test_connection_cap_per_ip(void **state)
{
	(void)state;
	struct sip_transport_config cfg;
	tt_config(&cfg, &srv);
	cfg.max_connections_per_ip = 2;
	start_cfg("127.0.0.1", &cfg);
	struct tt_raw a, b, c, d, e;
	tt_raw_connect(&a, lsrv);
	tt_raw_connect(&b, lsrv);
	tt_run_until(sip_transport_conn_count(srv.t) == 2);
	tt_raw_connect(&c, lsrv);
	tt_run_until(c.eof);
	/* Another source address (all of 127/8 is loopback). */
	struct sockaddr_in from = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.2", &from.sin_addr);
	memset(&d, 0, sizeof(d));
	uv_tcp_init(&tt_loop, &d.tcp);
	d.tcp.data = &d;
	d.creq.data = &d;
	assert_int_equal(uv_tcp_bind(&d.tcp, (struct sockaddr *)&from, 0), 0);
	struct sockaddr_storage to;
	assert_int_equal(sip_listener_addr(lsrv, &to), 0);
	assert_int_equal(uv_tcp_connect(&d.creq, &d.tcp, (struct sockaddr *)&to, tt_raw_connected), 0);
	tt_run_until(d.connected && sip_transport_conn_count(srv.t) == 3);
	assert_false(a.eof || b.eof || d.eof);
	tt_raw_close(&a);
	tt_run_until(sip_transport_conn_count(srv.t) == 2);
	tt_raw_connect(&e, lsrv);
	tt_run_until(sip_transport_conn_count(srv.t) == 3);
	assert_false(e.eof);
	struct sip_tp_stats st;
	sip_transport_stats(srv.t, &st);
	assert_int_equal(st.conns_refused_per_ip, 1);
	assert_int_equal(st.conns_accepted, 4); /* a, b, d, e */
	tt_raw_close(&b);
	tt_raw_close(&c);
	tt_raw_close(&d);
	tt_raw_close(&e);
	stop();
}

/* A refused connection is reported with the sender's context. */
static void test_connect_failure(void **state)
{
	(void)state;
	start("127.0.0.1");
	struct sip_listener *u;
	assert_int_equal(sip_transport_listen(srv.t, "udp", "127.0.0.1", 0, &u), 0);
	struct sip_tp_dest d;
	dest_of(&d, u, SIP_TP_TCP); /* nobody listens on TCP at that port */
	char req[2048];
	int n = tt_request(req, sizeof(req), lcli, SIP_TP_NONE, 0, "OPTIONS", 1, "");
	int ctx;
	assert_int_equal(sip_transport_send(cli.t, &d, req, (size_t)n, 0, &ctx, NULL), 0);
	tt_run_until(cli.nerr == 1);
	assert_int_equal(cli.err[0].kind, SIP_TP_ERR_CONNECT);
	assert_ptr_equal(cli.err[0].ctx, &ctx);
	assert_int_equal(cli.err[0].type, SIP_TP_TCP);
	assert_int_equal(sip_transport_conn_count(cli.t), 0);
	assert_int_equal(srv.nev, 0);
	stop();
}

/* §18.1.1: a large request moved to TCP by the MTU rule is retried over UDP
 * when the connection fails, with the Via transport put back to UDP. */
static void test_mtu_udp_fallback(void **state)
{
	(void)state;
	start("127.0.0.1");
	struct sip_listener *us, *uc;
	assert_int_equal(sip_transport_listen(srv.t, "udp", "127.0.0.1", 0, &us), 0);
	assert_int_equal(sip_transport_listen(cli.t, "udp", "127.0.0.1", 0, &uc), 0);
	char body[1500], req[4096];
	memset(body, 'b', sizeof(body) - 1);
	body[sizeof(body) - 1] = 0;
	int n = tt_request(req, sizeof(req), uc, SIP_TP_TCP, 0, "MESSAGE", 1, body);
	assert_int_equal(sip_transport_pick(cli.t, (size_t)n, SIP_TP_UDP), SIP_TP_TCP);
	assert_non_null(strstr(req, "Via: SIP/2.0/TCP "));
	struct sip_tp_dest d;
	dest_of(&d, us, SIP_TP_TCP);
	assert_int_equal(sip_transport_send(cli.t, &d, req, (size_t)n, SIP_TP_SEND_UDP_FALLBACK, NULL, NULL), 0);
	tt_run_until(srv.nev == 1);
	assert_int_equal(srv.ev[0].type, SIP_TP_UDP);
	assert_int_equal(srv.ev[0].len, (size_t)n);
	assert_non_null(strstr(srv.ev[0].buf, "Via: SIP/2.0/UDP "));
	assert_int_equal(cli.nerr, 0);
	stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_two_in_one_write),
		cmocka_unit_test(test_missing_content_length),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_connection_reuse),
		cmocka_unit_test(test_response_new_connection),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_idle_timeout_activity),
		cmocka_unit_test(test_message_deadline),
		cmocka_unit_test(test_connection_cap),
		cmocka_unit_test(test_connection_cap_per_ip),
		cmocka_unit_test(test_connect_failure),
		cmocka_unit_test(test_mtu_udp_fallback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
