/* UDP over real loopback sockets (127.0.0.1 and ::1): round trips, Via
 * stamping (received / rport), §18.2.2 response routing, stray responses
 * dropped (§18.1.2), bad datagrams answered with 400, a burst of requests
 * read in batches and every response sent (corked sends). */
#include "tp_test.h"
#include <unistd.h>

#define REQ_FMT                                                                                                \
	"OPTIONS sip:bob@example.com SIP/2.0\r\n"                                                             \
	"Via: SIP/2.0/UDP %s;branch=z9hG4bK1234\r\n"                                                          \
	"From: <sip:a@example.com>;tag=x\r\nTo: <sip:b@example.com>\r\n"                                      \
	"Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
#define RESP_FMT                                                                                               \
	"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK77\r\n"                                          \
	"From: <sip:a@example.com>;tag=x\r\nTo: <sip:b@example.com>;tag=y\r\n"                                \
	"Call-ID: c%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"

static struct tt_side srv, cli;
static struct sip_listener *lsrv, *lcli;

static void answer_200(struct tt_side *s, const struct sip_tp_recv *ev)
{
	if (!ev->msg || !ev->msg->is_request)
		return;
	/* What a UAS core does: stamp the Via, answer from the stamped request. */
	char req[TT_MSG_MAX], resp[TT_MSG_MAX];
	int n = sip_transport_stamp_via(ev, req, sizeof(req));
	assert_true(n > 0);
	int m = tt_response_to(req, (size_t)n, 200, resp, sizeof(resp));
	assert_int_equal(tt_send_response(s->t, resp, (size_t)m, ev->conn), 0);
}

static void start(const char *ip)
{
	struct sip_transport_config cfg;
	tt_setup();
	tt_config(&cfg, &srv);
	tt_side_new(&srv, &cfg);
	tt_config(&cfg, &cli);
	tt_side_new(&cli, &cfg);
	assert_int_equal(sip_transport_listen(srv.t, "udp", ip, 0, &lsrv), 0);
	assert_int_equal(sip_transport_listen(cli.t, "UDP", ip, 0, &lcli), 0);
	assert_int_not_equal(sip_listener_port(lsrv), 0);
	assert_int_equal(sip_listener_type(lsrv), SIP_TP_UDP);
}

static void stop(void)
{
	tt_close_side(&srv);
	tt_close_side(&cli);
	tt_teardown();
	assert_true(srv.closed);
	assert_true(cli.closed);
}

static void send_to(struct tt_side *from, const struct sip_listener *to, const char *buf, size_t len)
{
	struct sip_tp_dest d;
	struct sockaddr_storage a;
	sip_listener_addr(to, &a);
	memset(&d, 0, sizeof(d));
	d.type = SIP_TP_UDP;
	d.addr = a;
	assert_int_equal(sip_transport_send(from->t, &d, buf, len, 0, NULL, NULL), 0);
}

static void roundtrip(const char *ip, const char *bracketed)
{
	start(ip);
	srv.react = answer_200;
	char req[2048], want[128];
	int n = tt_request(req, sizeof(req), lcli, SIP_TP_NONE, SIP_TP_VIA_RPORT, "OPTIONS", 1, "");
	snprintf(want, sizeof(want), "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK", bracketed, sip_listener_port(lcli));
	assert_non_null(strstr(req, want));
	send_to(&cli, lsrv, req, (size_t)n);
	tt_run_until(cli.nev == 1);

	/* The server saw the request from the client's port, with rport to fill. */
	assert_int_equal(srv.nev, 1);
	struct tt_event *e = &srv.ev[0];
	assert_true(e->parsed && e->is_request);
	assert_int_equal(e->type, SIP_TP_UDP);
	assert_int_equal(e->conn, 0);
	assert_int_equal(e->src_port, sip_listener_port(lcli));
	assert_true(e->fill_rport);
	assert_int_equal(e->rport, sip_listener_port(lcli));
	/* RFC 3581 §4: received is added even though it equals sent-by. */
	assert_true(e->add_received);
	assert_string_equal(e->received, ip);
	char stamp[128];
	snprintf(stamp, sizeof(stamp), ";rport=%u;received=%s\r\n", sip_listener_port(lcli), ip);
	assert_non_null(strstr(e->stamped, stamp));
	assert_int_equal(e->stamped_len, (int)e->len + (int)strlen(stamp) - 8); /* minus ";rport" and CRLF */

	/* The 200 came back to the client (routed by received + rport) and its Via is ours. */
	assert_true(cli.ev[0].parsed);
	assert_false(cli.ev[0].is_request);
	assert_int_equal(cli.ev[0].status, 200);
	assert_int_equal(cli.ev[0].src_port, sip_listener_port(lsrv));
	struct sip_tp_stats st;
	sip_transport_stats(srv.t, &st);
	assert_int_equal(st.rx_msgs, 1);
	assert_int_equal(st.tx_msgs, 1);
	stop();
}

static void test_udp_v4(void **state)
{
	(void)state;
	roundtrip("127.0.0.1", "127.0.0.1");
}

static void test_udp_v6(void **state)
{
	(void)state;
	roundtrip("::1", "[::1]");
}

/* sent-by is a name: received is added, no rport; sent-by IP equal to the source: nothing. */
static void test_received_stamping(void **state)
{
	(void)state;
	start("127.0.0.1");
	char req[2048];
	int n = snprintf(req, sizeof(req), REQ_FMT, "client.invalid:5099");
	send_to(&cli, lsrv, req, (size_t)n);
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", sip_listener_port(lcli));
	n = snprintf(req, sizeof(req), REQ_FMT, addr);
	send_to(&cli, lsrv, req, (size_t)n);
	tt_run_until(srv.nev == 2);

	struct tt_event *e = &srv.ev[0];
	assert_true(e->add_received);
	assert_false(e->fill_rport);
	assert_non_null(strstr(e->stamped, "Via: SIP/2.0/UDP client.invalid:5099;branch=z9hG4bK1234;received=127.0.0.1\r\n"));
	e = &srv.ev[1];
	assert_false(e->add_received);
	assert_false(e->fill_rport);
	assert_int_equal(e->stamped_len, (int)e->len);
	assert_memory_equal(e->stamped, e->buf, e->len);
	stop();
}

/* §18.1.2: a response whose top Via is not ours is dropped; ours passes. */
static void test_stray_response_dropped(void **state)
{
	(void)state;
	start("127.0.0.1");
	char resp[1024];
	int n = snprintf(resp, sizeof(resp), RESP_FMT, "198.51.100.7:5060", 1);
	send_to(&srv, lcli, resp, (size_t)n);
	char ours[64];
	snprintf(ours, sizeof(ours), "127.0.0.1:%u", sip_listener_port(lcli));
	n = snprintf(resp, sizeof(resp), RESP_FMT, ours, 2);
	send_to(&srv, lcli, resp, (size_t)n);
	tt_run_until(cli.nev == 1);
	assert_non_null(strstr(cli.ev[0].buf, "Call-ID: c2\r\n"));
	struct sip_tp_stats st;
	sip_transport_stats(cli.t, &st);
	assert_int_equal(st.stray_responses, 1);
	assert_int_equal(st.rx_msgs, 1);
	stop();
}

/* An unparseable request is reported with the parser's status and answered 400; garbage is dropped. */
static void test_bad_datagram(void **state)
{
	(void)state;
	start("127.0.0.1");
	char req[1024];
	int n = snprintf(req, sizeof(req),
			 "INVITE sip:bob@example.com SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKbad\r\n"
			 "From: <sip:a@example.com>;tag=x\r\nTo: <sip:b@example.com>\r\n"
			 "Call-ID: bad1\r\nCSeq: 1 INVITE\r\nMax-Forwards: many\r\nContent-Length: 0\r\n\r\n",
			 sip_listener_port(lcli));
	send_to(&cli, lsrv, "\x00\xff garbage", 10);
	send_to(&cli, lsrv, req, (size_t)n);
	tt_run_until(cli.nev == 1);
	assert_int_equal(srv.nev, 2);
	assert_false(srv.ev[0].parsed);
	assert_false(srv.ev[1].parsed);
	assert_int_equal(srv.ev[1].perr_status, 400);
	/* The TU learns which one was answered: the garbage had status 400
	 * from the parser too, but no Via to answer it on. */
	assert_int_equal(srv.ev[0].perr_status, 400);
	assert_int_equal(srv.ev[0].answered, 0);
	assert_int_equal(srv.ev[1].answered, 400);
	assert_true(cli.ev[0].parsed);
	assert_int_equal(cli.ev[0].status, 400);
	assert_non_null(strstr(cli.ev[0].buf, "Call-ID: bad1\r\n"));
	struct sip_tp_stats st;
	sip_transport_stats(srv.t, &st);
	assert_int_equal(st.parse_errors, 2);
	assert_int_equal(st.error_responses, 1);
	/* Still serving afterwards. */
	srv.react = answer_200;
	n = tt_request(req, sizeof(req), lcli, SIP_TP_NONE, 0, "OPTIONS", 2, "");
	send_to(&cli, lsrv, req, (size_t)n);
	tt_run_until(cli.nev == 2);
	assert_int_equal(cli.ev[1].status, 200);
	stop();
}

/* Several listen addresses at once, from specs; SO_REUSEPORT lets two transports share one. */
/* A burst larger than a read batch (SIP__UDP_BATCH): every request is read,
 * and every response made while a batch is handled (queued, then sent with
 * one sendmmsg) reaches the client exactly once. */
#define BURST 100
static int burst_requests, burst_responses, burst_seen[BURST + 1];

static void burst_srv_recv(struct sip_transport *t, const struct sip_tp_recv *ev, void *ud)
{
	(void)t;
	burst_requests++;
	answer_200(ud, ev);
}

static void burst_cli_recv(struct sip_transport *t, const struct sip_tp_recv *ev, void *ud)
{
	(void)t;
	(void)ud;
	assert_non_null(ev->msg);
	assert_false(ev->msg->is_request);
	assert_int_equal(ev->msg->status, 200);
	uint32_t n = ev->msg->cseq.num;
	assert_true(n >= 1 && n <= BURST);
	burst_seen[n]++;
	burst_responses++;
}

/* A server answering 200 and a client counting the answers, on 127.0.0.1. */
static void burst_start(void)
{
	struct sip_transport_config cfg;
	tt_setup();
	tt_config(&cfg, &srv);
	cfg.on_recv = burst_srv_recv;
	tt_side_new(&srv, &cfg);
	tt_config(&cfg, &cli);
	cfg.on_recv = burst_cli_recv;
	tt_side_new(&cli, &cfg);
	assert_int_equal(sip_transport_listen(srv.t, "udp", "127.0.0.1", 0, &lsrv), 0);
	assert_int_equal(sip_transport_listen(cli.t, "udp", "127.0.0.1", 0, &lcli), 0);
	burst_requests = burst_responses = 0;
	memset(burst_seen, 0, sizeof burst_seen);
}

static void test_burst_batched(void **state)
{
	(void)state;
	burst_start();
	char req[2048];
	for (int i = 1; i <= BURST; i++) {
		int n = tt_request(req, sizeof(req), lcli, SIP_TP_NONE, SIP_TP_VIA_RPORT, "OPTIONS", i, "");
		send_to(&cli, lsrv, req, (size_t)n);
	}
	tt_run_until(burst_responses == BURST);
	assert_int_equal(burst_requests, BURST);
	for (int i = 1; i <= BURST; i++)
		assert_int_equal(burst_seen[i], 1);
	struct sip_tp_stats st;
	sip_transport_stats(srv.t, &st);
	assert_int_equal(st.rx_msgs, BURST);
	assert_int_equal(st.tx_msgs, BURST);
	stop();
}

/* sip_transport_cork(): datagrams sent outside a receive batch wait for the
 * uncork (more than one sendmmsg's worth: the queue flushes when full), and
 * every one arrives once; nested corks hold until the outermost uncork. */
static void test_cork_outside_batch(void **state)
{
	(void)state;
	burst_start();
	char req[2048];
	sip_transport_cork(cli.t);
	sip_transport_cork(cli.t);
	for (int i = 1; i <= 40; i++) {
		int n = tt_request(req, sizeof(req), lcli, SIP_TP_NONE, SIP_TP_VIA_RPORT, "OPTIONS", i, "");
		send_to(&cli, lsrv, req, (size_t)n);
	}
	sip_transport_uncork(cli.t);
	sip_transport_uncork(cli.t);
	sip_transport_uncork(cli.t); /* one too many: harmless */
	tt_run_until(burst_responses == 40);
	assert_int_equal(burst_requests, 40);
	for (int i = 1; i <= 40; i++)
		assert_int_equal(burst_seen[i], 1);
	stop();
}

/* limits.udp_socket_buffer reaches the socket: the kernel reports twice the
 * size asked (its bookkeeping overhead, socket(7)). The listener's socket is
 * found through /proc/self/fd by its bound port. */
static int socket_rcvbuf_of_port(uint16_t port)
{
	for (int fd = 3; fd < 1024; fd++) {
		struct sockaddr_in a;
		socklen_t al = sizeof a;
		int type = 0;
		socklen_t tl = sizeof type;
		if (getsockname(fd, (struct sockaddr *)&a, &al) != 0 || a.sin_family != AF_INET ||
		    ntohs(a.sin_port) != port || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 ||
		    type != SOCK_DGRAM)
			continue;
		int v = 0;
		socklen_t vl = sizeof v;
		assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &vl), 0);
		return v;
	}
	return -1;
}

static void test_socket_buffer_setting(void **state)
{
	(void)state;
	struct sip_transport_config cfg;
	tt_setup();
	tt_config(&cfg, &srv);
	cfg.udp_socket_buffer = 262144;
	tt_side_new(&srv, &cfg);
	tt_config(&cfg, &cli);
	tt_side_new(&cli, &cfg); /* default: 4 MiB asked */
	assert_int_equal(sip_transport_listen(srv.t, "udp", "127.0.0.1", 0, &lsrv), 0);
	assert_int_equal(sip_transport_listen(cli.t, "udp", "127.0.0.1", 0, &lcli), 0);
	int small = socket_rcvbuf_of_port(sip_listener_port(lsrv)), big = socket_rcvbuf_of_port(sip_listener_port(lcli));
	if (geteuid() == 0) { /* SO_RCVBUFFORCE: the size asked, past net.core.rmem_max */
		assert_int_equal(small, 2 * 262144);
		assert_int_equal(big, 2 * 4194304);
	} else { /* capped at rmem_max */
		assert_true(small > 0 && big >= small);
	}
	stop();
}

static void test_listen_specs(void **state)
{
	(void)state;
	struct sip_transport_config cfg;
	tt_setup();
	tt_config(&cfg, &srv);
	cfg.reuseport = true;
	tt_side_new(&srv, &cfg);
	tt_config(&cfg, &cli);
	cfg.reuseport = true;
	tt_side_new(&cli, &cfg);
	struct sip_listener *a, *b, *c;
	assert_int_equal(sip_transport_listen_spec(srv.t, "udp:127.0.0.1:0", &a), 0);
	assert_int_equal(sip_transport_listen_spec(srv.t, "tcp:[::1]:0", &b), 0);
	assert_int_equal(sip_transport_listen_spec(srv.t, "tls:127.0.0.1:0", NULL), SIP_ECONFIG);
	assert_int_equal(sip_transport_listen_spec(srv.t, "udp:example.com:0", NULL), SIP_EINVAL);
	assert_ptr_equal(sip_transport_find_listener(srv.t, SIP_TP_TCP, AF_INET6), b);
	assert_null(sip_transport_find_listener(srv.t, SIP_TP_TCP, AF_INET));
	char spec[64];
	snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u", sip_listener_port(a));
	assert_int_equal(sip_transport_listen_spec(cli.t, spec, &c), 0); /* second worker, same address */
	assert_int_equal(sip_listener_port(c), sip_listener_port(a));
	char via[SIP_TP_VIA_MAX];
	assert_int_equal(sip_listener_set_advertise(a, "sip.example.com", 5070), 0);
	assert_true(sip_transport_via(a, SIP_TP_TCP, 0, via, sizeof(via)) > 0);
	assert_memory_equal(via, "SIP/2.0/TCP sip.example.com:5070;branch=z9hG4bK", 46);
	assert_int_equal(sip_transport_via(a, SIP_TP_NONE, 0, via, 20), SIP_ETOOBIG);
	stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_v4),
		cmocka_unit_test(test_udp_v6),
		cmocka_unit_test(test_received_stamping),
		cmocka_unit_test(test_stray_response_dropped),
		cmocka_unit_test(test_bad_datagram),
		cmocka_unit_test(test_burst_batched),
		cmocka_unit_test(test_cork_outside_batch),
		cmocka_unit_test(test_socket_buffer_setting),
		cmocka_unit_test(test_listen_specs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
