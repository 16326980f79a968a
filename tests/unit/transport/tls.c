/* TLS over real loopback sockets with a certificate made by scripts/gencert:
 * round trip with verification on (right host name), refusal on a wrong host
 * name (RFC 5922), the test-only switch that turns verification off, and
 * mutual TLS (a listener that requires a client certificate). */
#include "tp_test.h"
#include <sys/stat.h>
#include <unistd.h>

#define GENCERT SIP_TEST_DATA "/../../scripts/gencert"

static struct tt_side srv, cli;
static struct sip_listener *lsrv, *lcli;
static char dir[64], cert[128], key[128];

static int group_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sip-tls-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s' sip.test >/dev/null", GENCERT, dir);
	if (system(cmd) != 0)
		return -1;
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	unlink(cert);
	unlink(key);
	rmdir(dir);
	return 0;
}

static void answer_200(struct tt_side *s, const struct sip_tp_recv *ev)
{
	if (!ev->msg || !ev->msg->is_request)
		return;
	char resp[TT_MSG_MAX];
	int m = tt_response_to(ev->buf, ev->len, 200, resp, sizeof(resp));
	assert_int_equal(tt_send_response(s->t, resp, (size_t)m, ev->conn), 0);
}

/* A TLS server with the pair srv_cert/srv_key, a client trusting cli_ca. */
static void start_with(const char *ip, bool verify, const char *srv_cert, const char *srv_key, const char *cli_ca)
{
	struct sip_transport_config cfg;
	tt_setup();
	tt_config(&cfg, &srv);
	cfg.tls_cert_file = srv_cert;
	cfg.tls_key_file = srv_key;
	tt_side_new(&srv, &cfg);
	tt_config(&cfg, &cli);
	cfg.tls_ca_file = cli_ca;
	cfg.tls_insecure_no_verify = !verify;
	tt_side_new(&cli, &cfg);
	assert_int_equal(sip_transport_listen(srv.t, "tls", ip, 0, &lsrv), 0);
	/* The client has no certificate: its Via names its UDP listener (transport TLS). */
	assert_int_equal(sip_transport_listen(cli.t, "udp", ip, 0, &lcli), 0);
	srv.react = answer_200;
}

static void start(const char *ip, bool verify) { start_with(ip, verify, cert, key, cert); }

static void stop(void)
{
	tt_close_side(&srv);
	tt_close_side(&cli);
	tt_teardown();
	assert_true(srv.closed);
	assert_true(cli.closed);
}

static int send_req(const char *host, uint64_t *conn)
{
	struct sip_tp_dest d;
	memset(&d, 0, sizeof(d));
	d.type = SIP_TP_TLS;
	d.host = host;
	sip_listener_addr(lsrv, &d.addr);
	char req[2048];
	int n = tt_request(req, sizeof(req), lcli, SIP_TP_TLS, 0, "OPTIONS", 1, "");
	return sip_transport_send(cli.t, &d, req, (size_t)n, 0, &srv, conn);
}

static void roundtrip(const char *ip)
{
	start(ip, true);
	uint64_t conn = 0;
	assert_int_equal(send_req("sip.test", &conn), 0);
	tt_run_until(cli.nev == 1);
	assert_int_equal(srv.nev, 1);
	assert_int_equal(srv.ev[0].type, SIP_TP_TLS);
	assert_true(srv.ev[0].parsed);
	assert_int_equal(cli.ev[0].status, 200);
	assert_int_equal(cli.ev[0].type, SIP_TP_TLS);
	assert_int_equal(cli.ev[0].conn, conn); /* the response came back on our connection */
	assert_int_equal(cli.nerr, 0);
	stop();
}

static void test_tls_v4(void **state)
{
	(void)state;
	roundtrip("127.0.0.1");
}

static void test_tls_v6(void **state)
{
	(void)state;
	roundtrip("::1");
}

/* The certificate says sip.test: asking for other.test must fail the handshake. */
static void test_tls_wrong_host(void **state)
{
	(void)state;
	start("127.0.0.1", true);
	assert_int_equal(send_req("other.test", NULL), 0);
	tt_run_until(cli.nerr == 1);
	assert_int_equal(cli.err[0].kind, SIP_TP_ERR_CONNECT);
	assert_int_equal(cli.err[0].err, SIP_EAUTH);
	assert_ptr_equal(cli.err[0].ctx, &srv);
	assert_int_equal(srv.nev, 0);
	assert_int_equal(cli.nev, 0);
	/* No host name: the IP is checked, and the certificate has no IP SAN. */
	assert_int_equal(send_req(NULL, NULL), 0);
	tt_run_until(cli.nerr == 2);
	assert_int_equal(cli.err[1].err, SIP_EAUTH);
	assert_int_equal(srv.nev, 0);
	stop();
}

/* Tests only: with verification off the wrong name passes. */
static void test_tls_no_verify(void **state)
{
	(void)state;
	start("127.0.0.1", false);
	assert_int_equal(send_req("other.test", NULL), 0);
	tt_run_until(cli.nev == 1);
	assert_int_equal(cli.ev[0].status, 200);
	stop();
}

/* Mutual TLS: the listener requires a client certificate signed by its
 * client CA. A client presenting one (the same self-signed sip.test pair,
 * which is its own CA) is served; a client without one is refused before
 * any message reaches the server. */
static void mutual(bool client_has_cert)
{
	struct sip_transport_config cfg;
	tt_setup();
	tt_config(&cfg, &srv);
	cfg.tls_cert_file = cert;
	cfg.tls_key_file = key;
	cfg.tls_require_client_cert = true;
	cfg.tls_client_ca_file = cert;
	tt_side_new(&srv, &cfg);
	tt_config(&cfg, &cli);
	cfg.tls_ca_file = cert;
	if (client_has_cert) {
		cfg.tls_cert_file = cert;
		cfg.tls_key_file = key;
	}
	tt_side_new(&cli, &cfg);
	assert_int_equal(sip_transport_listen(srv.t, "tls", "127.0.0.1", 0, &lsrv), 0);
	assert_int_equal(sip_transport_listen(cli.t, "udp", "127.0.0.1", 0, &lcli), 0);
	srv.react = answer_200;
	uint64_t conn = 0;
	assert_int_equal(send_req("sip.test", &conn), 0);
	if (client_has_cert) {
		tt_run_until(cli.nev == 1);
		assert_int_equal(cli.ev[0].status, 200);
		assert_int_equal(srv.nev, 1);
	} else {
		/* With TLS 1.3 the client's side of the handshake completes first;
		 * the server then refuses it and the connection goes away. A CRLF
		 * keep-alive (RFC 5626) probes whether it is still there. */
		tt_run_until(cli.nerr >= 1 || sip_transport_send_conn(cli.t, conn, "\r\n\r\n", 4, NULL) == SIP_ENOTFOUND);
		assert_int_equal(srv.nev, 0);
		assert_int_equal(cli.nev, 0);
	}
	stop();
}

static void test_tls_mutual(void **state)
{
	(void)state;
	mutual(true);
}

static void test_tls_mutual_no_client_cert(void **state)
{
	(void)state;
	mutual(false);
}

static void copy_file(const char *from, const char *to)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	assert_int_equal(system(cmd), 0);
}

/* Closes the client's connection and waits until it is gone, so the next
 * request makes a new one (a new handshake). */
static void drop_client_conn(uint64_t conn)
{
	assert_int_equal(sip_transport_conn_close(cli.t, conn), 0);
	tt_run_until(sip_transport_conn_count(cli.t) == 0);
}

/* A renewed certificate without a restart: the listener's files are
 * replaced (the sip.test pair by a sip2.test one) and reloaded. The open
 * connection goes on with the old certificate; a new connection gets the new
 * one (a client asking for sip.test is refused, one asking for sip2.test
 * served). A reload that cannot read a good pair (a damaged key) changes
 * nothing: new connections still get sip2.test. */
static void test_tls_reload(void **state)
{
	(void)state;
	char dir2[64] = "/tmp/sip-tls2-XXXXXX", cmd[512], live_cert[128], live_key[128], cert2[128], key2[128],
	     bundle[128];
	assert_non_null(mkdtemp(dir2));
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s' sip2.test >/dev/null", GENCERT, dir2);
	assert_int_equal(system(cmd), 0);
	snprintf(cert2, sizeof(cert2), "%s/cert.pem", dir2);
	snprintf(key2, sizeof(key2), "%s/key.pem", dir2);
	snprintf(live_cert, sizeof(live_cert), "%s/live-cert.pem", dir2);
	snprintf(live_key, sizeof(live_key), "%s/live-key.pem", dir2);
	snprintf(bundle, sizeof(bundle), "%s/bundle.pem", dir2);
	copy_file(cert, live_cert);
	copy_file(key, live_key);
	snprintf(cmd, sizeof(cmd), "cat '%s' '%s' > '%s'", cert, cert2, bundle);
	assert_int_equal(system(cmd), 0);

	start_with("127.0.0.1", true, live_cert, live_key, bundle); /* the client trusts both certificates */

	uint64_t conn = 0;
	assert_int_equal(send_req("sip.test", &conn), 0);
	tt_run_until(cli.nev == 1);
	assert_int_equal(cli.ev[0].status, 200);

	copy_file(cert2, live_cert);
	copy_file(key2, live_key);
	assert_int_equal(sip_transport_tls_reload(srv.t), 0);

	/* The open connection is unaffected. */
	char req[2048];
	int n = tt_request(req, sizeof(req), lcli, SIP_TP_TLS, 0, "OPTIONS", 2, "");
	assert_int_equal(sip_transport_send_conn(cli.t, conn, req, (size_t)n, NULL), 0);
	tt_run_until(cli.nev == 2);
	assert_int_equal(cli.ev[1].status, 200);
	assert_int_equal(cli.ev[1].conn, conn);

	/* A new connection meets the new certificate. */
	drop_client_conn(conn);
	assert_int_equal(send_req("sip.test", NULL), 0);
	tt_run_until(cli.nerr == 1);
	assert_int_equal(cli.err[0].kind, SIP_TP_ERR_CONNECT);
	assert_int_equal(cli.err[0].err, SIP_EAUTH);
	assert_int_equal(send_req("sip2.test", &conn), 0);
	tt_run_until(cli.nev == 3);
	assert_int_equal(cli.ev[2].status, 200);

	/* A damaged key: the reload fails and the working pair stays. */
	FILE *f = fopen(live_key, "w");
	assert_non_null(f);
	fputs("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n", f);
	fclose(f);
	assert_int_equal(sip_transport_tls_reload(srv.t), SIP_ECONFIG);
	drop_client_conn(conn);
	assert_int_equal(send_req("sip2.test", NULL), 0);
	tt_run_until(cli.nev == 4);
	assert_int_equal(cli.ev[3].status, 200);
	assert_int_equal(srv.nev, 4);
	stop();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir2);
	assert_int_equal(system(cmd), 0);
}

/* Bad TLS configuration is refused up front. */
static void test_tls_config(void **state)
{
	(void)state;
	struct sip_transport_config cfg;
	struct sip_transport *t;
	tt_setup();
	tt_config(&cfg, &srv);
	cfg.tls_cert_file = cert;
	assert_int_equal(sip_transport_new(&t, &tt_loop, &cfg), SIP_ECONFIG);
	cfg.tls_key_file = "/nonexistent/key.pem";
	assert_int_equal(sip_transport_new(&t, &tt_loop, &cfg), SIP_ECONFIG);
	cfg.tls_cert_file = cfg.tls_key_file = NULL;
	cfg.tls_ca_file = "/nonexistent/ca.pem";
	assert_int_equal(sip_transport_new(&t, &tt_loop, &cfg), SIP_ECONFIG);
	/* Mutual TLS needs a listener certificate and a client CA. */
	cfg.tls_ca_file = NULL;
	cfg.tls_require_client_cert = true;
	assert_int_equal(sip_transport_new(&t, &tt_loop, &cfg), SIP_ECONFIG);
	cfg.tls_cert_file = cert;
	cfg.tls_key_file = key;
	assert_int_equal(sip_transport_new(&t, &tt_loop, &cfg), SIP_ECONFIG);
	tt_teardown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_v4),        cmocka_unit_test(test_tls_v6),
		cmocka_unit_test(test_tls_wrong_host), cmocka_unit_test(test_tls_no_verify),
		cmocka_unit_test(test_tls_mutual),    cmocka_unit_test(test_tls_mutual_no_client_cert),
		cmocka_unit_test(test_tls_config),    cmocka_unit_test(test_tls_reload),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
