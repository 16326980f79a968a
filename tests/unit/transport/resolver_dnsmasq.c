/* End-to-end tests of the resolver (c-ares on libuv) against a real DNS
 * server: dnsmasq on 127.0.0.1 at a free port, records given on its command
 * line, started per test group and stopped by its PID. Also: a server that
 * never answers (timeout), a closed port, cancellation, the blocking helper.
 * Skipped when /usr/sbin/dnsmasq is missing (Debian: dnsmasq-base). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>
#include <cmocka.h>

#include <sip/resolver.h>

#define DNSMASQ "/usr/sbin/dnsmasq"

static pid_t dns_pid = -1;
static char servers[64];

/* A port free for both UDP and TCP on 127.0.0.1 (dnsmasq binds both). */
static int free_port(void)
{
	for (int attempt = 0; attempt < 20; attempt++) {
		int u = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t al = sizeof(a);
		if (u < 0 || bind(u, (struct sockaddr *)&a, sizeof(a)) ||
		    getsockname(u, (struct sockaddr *)&a, &al)) {
			if (u >= 0)
				close(u);
			continue;
		}
		int t = socket(AF_INET, SOCK_STREAM, 0);
		int ok = t >= 0 && bind(t, (struct sockaddr *)&a, sizeof(a)) == 0;
		if (t >= 0)
			close(t);
		close(u);
		if (ok)
			return ntohs(a.sin_port);
	}
	return -1;
}

static struct sip_uri mkuri(enum sip_uri_scheme s, const char *host, int port, const char *transport)
{
	struct sip_uri u;
	memset(&u, 0, sizeof(u));
	u.scheme = s;
	u.host = sip_str_c(host);
	u.host_type = SIP_HOST_NAME;
	if (port >= 0) {
		u.has_port = true;
		u.port = (uint16_t)port;
	}
	u.transport = sip_str_c(transport);
	return u;
}

static int start_dnsmasq(void **state)
{
	(void)state;
	if (access(DNSMASQ, X_OK) != 0)
		return 0; /* tests skip */
	int port = free_port();
	if (port < 0)
		return -1;
	char portarg[32];
	snprintf(portarg, sizeof(portarg), "--port=%d", port);
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", port);
	const char *argv[] = {
	    DNSMASQ, "-k", "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--listen-address=127.0.0.1",
	    "--bind-interfaces", portarg, "--pid-file=", "--no-negcache", "--local=/test/", "--local-ttl=60",
	    geteuid() == 0 ? "--user=root" : "--no-ping",
	    /* sip:example.test — all three NAPTR services, deliberately listed out of order */
	    "--naptr-record=example.test,30,10,S,SIP+D2U,,_sip._udp.example.test",
	    "--naptr-record=example.test,10,10,S,SIPS+D2T,,_sips._tcp.example.test",
	    "--naptr-record=example.test,20,10,S,SIP+D2T,,_sip._tcp.example.test",
	    "--srv-host=_sips._tcp.example.test,tls1.example.test,5061,10,0",
	    "--srv-host=_sip._tcp.example.test,tcp2.example.test,5070,20,0",
	    "--srv-host=_sip._tcp.example.test,tcp1.example.test,5060,10,0",
	    "--srv-host=_sip._udp.example.test,udp1.example.test,5060,10,0",
	    "--host-record=tls1.example.test,127.0.0.11,fd00::11",
	    "--host-record=tcp1.example.test,127.0.0.21", "--host-record=tcp2.example.test,127.0.0.22",
	    "--host-record=udp1.example.test,127.0.0.31",
	    /* no NAPTR: SRV for TCP only */
	    "--srv-host=_sip._tcp.srvonly.test,s1.srvonly.test,5080,0,0",
	    "--host-record=s1.srvonly.test,127.0.0.41",
	    /* neither NAPTR nor SRV */
	    "--host-record=plain.test,127.0.0.51,fd00::51",
	    /* equal priority, weights 0 and 5 */
	    "--srv-host=_sip._udp.weighted.test,w0.weighted.test,5000,1,0",
	    "--srv-host=_sip._udp.weighted.test,w5.weighted.test,5005,1,5",
	    "--host-record=w0.weighted.test,127.0.0.60", "--host-record=w5.weighted.test,127.0.0.65", NULL};
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execv(DNSMASQ, (char *const *)argv);
		_exit(127);
	}
	dns_pid = pid;
	/* Ready when it answers: the blocking helper with a short timeout. */
	struct sip_resolver_opts o = {.servers = servers, .timeout_ms = 100, .tries = 1};
	struct sip_uri u = mkuri(SIP_URI_SIP, "plain.test", 5060, NULL);
	for (int i = 0; i < 50; i++) {
		struct sip_resolve_result *res = NULL;
		if (sip_resolve_sync(&o, &u, &res) == 0) {
			sip_resolve_result_free(res);
			return 0;
		}
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			dns_pid = -1;
			fprintf(stderr, "dnsmasq exited early (status %d)\n", st);
			return -1;
		}
	}
	return -1;
}

static int stop_dnsmasq(void **state)
{
	(void)state;
	if (dns_pid > 0) {
		kill(dns_pid, SIGTERM);
		waitpid(dns_pid, NULL, 0);
		dns_pid = -1;
	}
	return 0;
}

#define NEED_DNSMASQ()                                                                                       \
	do {                                                                                                 \
		if (dns_pid <= 0)                                                                            \
			skip();                                                                              \
	} while (0)

/* ---- the allocator seam: every libsip allocation is returned ---- */

static long live;
static void *c_malloc(size_t n, void *ud)
{
	(void)ud;
	void *p = malloc(n);
	live += p != NULL;
	return p;
}
static void *c_realloc(void *p, size_t n, void *ud)
{
	(void)ud;
	void *q = realloc(p, n);
	live += (!p && q);
	return q;
}
static void c_free(void *p, void *ud)
{
	(void)ud;
	live -= p != NULL;
	free(p);
}
static const struct sip_mem counting = {c_malloc, c_realloc, c_free, NULL};

static int check_live(void **state)
{
	(void)state;
	assert_int_equal(live, 0);
	return 0;
}

/* ---- async helper: one resolution on a private loop ---- */

struct outcome {
	int calls, err;
	struct sip_resolve_result *res;
	uint64_t t_ms;
	uv_loop_t *loop;
};

static void on_done(void *arg, int err, struct sip_resolve_result *res)
{
	struct outcome *o = arg;
	o->calls++;
	o->err = err;
	o->res = res;
	o->t_ms = uv_now(o->loop);
}

static struct outcome run_one(const struct sip_resolver_opts *opts, const struct sip_uri *u)
{
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct sip_resolver *r = NULL;
	assert_int_equal(sip_resolver_new(&r, &loop, opts), 0);
	struct outcome o = {0, 0, NULL, 0, &loop};
	uv_update_time(&loop);
	uint64_t t0 = uv_now(&loop);
	assert_int_equal(sip_resolve(r, u, on_done, &o), 0);
	assert_int_equal(o.calls, 0); /* never from inside sip_resolve */
	while (!o.calls && uv_run(&loop, UV_RUN_ONCE))
		;
	assert_int_equal(o.calls, 1);
	o.t_ms -= t0;
	sip_resolver_free(r);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0); /* every handle closed */
	assert_int_equal(o.calls, 1);
	return o;
}

static void expect(struct sip_resolve_result *res, const char *const *want)
{
	char buf[SIP_TARGET_STR_MAX];
	struct sip_target t;
	size_t n = 0;
	for (; want[n]; n++) {
		assert_int_equal(sip_resolve_next(res, &t), 1);
		assert_true(sip_target_format(&t, buf, sizeof(buf)) > 0);
		assert_string_equal(buf, want[n]);
	}
	assert_int_equal(sip_resolve_next(res, &t), 0);
}
#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

static struct sip_resolver_opts base_opts(void)
{
	return (struct sip_resolver_opts){.servers = servers, .timeout_ms = 500, .tries = 2};
}

/* ---- tests ---- */

static void test_naptr_srv_a(void **state)
{
	(void)state;
	NEED_DNSMASQ();
	struct sip_resolver_opts o = base_opts();
	struct sip_uri u = mkuri(SIP_URI_SIP, "example.test", -1, NULL);
	struct outcome r = run_one(&o, &u);
	assert_int_equal(r.err, 0);
	/* NAPTR order 10 TLS, 20 TCP (SRV priority 10 then 20), 30 UDP; A before AAAA */
	expect(r.res, LIST("tls:127.0.0.11:5061", "tls:[fd00::11]:5061", "tcp:127.0.0.21:5060",
			   "tcp:127.0.0.22:5070", "udp:127.0.0.31:5060"));

	/* fail-over: the TU walks on after each transport error / timeout / 503 */
	sip_resolve_rewind(r.res);
	struct sip_target t;
	const char *hosts[] = {"tls1.example.test", "tls1.example.test", "tcp1.example.test",
			       "tcp2.example.test", "udp1.example.test"};
	for (int i = 0; i < 5; i++) {
		assert_int_equal(sip_resolve_next(r.res, &t), 1);
		assert_string_equal(t.host, hosts[i]);
	}
	assert_int_equal(sip_resolve_next(r.res, &t), 0);
	sip_resolve_result_free(r.res);

	/* prefer IPv6 and drop TLS support */
	o.prefer_ipv6 = true;
	o.protos = SIP_RESOLVE_UDP | SIP_RESOLVE_TCP;
	r = run_one(&o, &u);
	assert_int_equal(r.err, 0);
	expect(r.res, LIST("tcp:127.0.0.21:5060", "tcp:127.0.0.22:5070", "udp:127.0.0.31:5060"));
	sip_resolve_result_free(r.res);
}

static void test_sips(void **state)
{
	(void)state;
	NEED_DNSMASQ();
	struct sip_resolver_opts o = base_opts();
	o.no_ipv6 = true;
	struct sip_uri u = mkuri(SIP_URI_SIPS, "example.test", -1, NULL);
	struct outcome r = run_one(&o, &u);
	assert_int_equal(r.err, 0);
	expect(r.res, LIST("tls:127.0.0.11:5061"));
	sip_resolve_result_free(r.res);
}

static void test_transport_param_and_port(void **state)
{
	(void)state;
	NEED_DNSMASQ();
	struct sip_resolver_opts o = base_opts();
	struct sip_uri u = mkuri(SIP_URI_SIP, "example.test", -1, "tcp");
	struct outcome r = run_one(&o, &u);
	assert_int_equal(r.err, 0);
	expect(r.res, LIST("tcp:127.0.0.21:5060", "tcp:127.0.0.22:5070"));
	sip_resolve_result_free(r.res);

	u = mkuri(SIP_URI_SIP, "plain.test", 5080, NULL);
	r = run_one(&o, &u);
	assert_int_equal(r.err, 0);
	expect(r.res, LIST("udp:127.0.0.51:5080", "udp:[fd00::51]:5080"));
	sip_resolve_result_free(r.res);

	/* numeric host: answered without DNS */
	struct sip_uri n = mkuri(SIP_URI_SIPS, "192.0.2.1", -1, NULL);
	n.host_type = SIP_HOST_IPV4;
	r = run_one(&o, &n);
	assert_int_equal(r.err, 0);
	expect(r.res, LIST("tls:192.0.2.1:5061"));
	sip_resolve_result_free(r.res);
}

static void test_fallbacks(void **state)
{
	(void)state;
	NEED_DNSMASQ();
	struct sip_resolver_opts o = base_opts();
	struct sip_uri u = mkuri(SIP_URI_SIP, "srvonly.test", -1, NULL);
	struct outcome r = run_one(&o, &u);
	assert_int_equal(r.err, 0);
	expect(r.res, LIST("tcp:127.0.0.41:5080"));
	sip_resolve_result_free(r.res);

	u = mkuri(SIP_URI_SIP, "plain.test", -1, NULL);
	r = run_one(&o, &u);
	assert_int_equal(r.err, 0);
	expect(r.res, LIST("udp:127.0.0.51:5060", "udp:[fd00::51]:5060"));
	sip_resolve_result_free(r.res);

	u = mkuri(SIP_URI_SIPS, "plain.test", -1, NULL);
	r = run_one(&o, &u);
	assert_int_equal(r.err, 0);
	expect(r.res, LIST("tls:127.0.0.51:5061", "tls:[fd00::51]:5061"));
	sip_resolve_result_free(r.res);

	u = mkuri(SIP_URI_SIP, "nothing.test", -1, NULL);
	r = run_one(&o, &u);
	assert_int_equal(r.err, SIP_ENOTFOUND);
	assert_null(r.res);
}

static uint32_t const_rand(void *ud)
{
	return *(uint32_t *)ud;
}

static void test_weights(void **state)
{
	(void)state;
	NEED_DNSMASQ();
	struct sip_resolver_opts o = base_opts();
	o.no_ipv6 = true;
	uint32_t v = 0;
	o.rand = const_rand;
	o.rand_ud = &v;
	struct sip_uri u = mkuri(SIP_URI_SIP, "weighted.test", -1, "udp");
	/* draw 0 picks the weight-0 record (placed first, RFC 2782) */
	struct outcome r = run_one(&o, &u);
	assert_int_equal(r.err, 0);
	expect(r.res, LIST("udp:127.0.0.60:5000", "udp:127.0.0.65:5005"));
	sip_resolve_result_free(r.res);
	/* the top draw picks the weight-5 record, whatever order DNS lists them in */
	v = UINT32_MAX;
	r = run_one(&o, &u);
	assert_int_equal(r.err, 0);
	expect(r.res, LIST("udp:127.0.0.65:5005", "udp:127.0.0.60:5000"));
	sip_resolve_result_free(r.res);
}

static void test_timeout(void **state)
{
	(void)state;
	/* A bound socket nobody reads: no ICMP, no answer — only the timer ends it. */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	char srv[64];
	snprintf(srv, sizeof(srv), "127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
	struct sip_resolver_opts o = {.servers = srv, .timeout_ms = 100, .tries = 2};
	struct sip_uri u = mkuri(SIP_URI_SIP, "example.test", -1, NULL);
	struct outcome r = run_one(&o, &u);
	close(s);
	assert_int_equal(r.err, SIP_ETIMEDOUT);
	assert_null(r.res);
	/* tries 2 at 100 ms (c-ares doubles the second): ~300 ms, and only the
	 * NAPTR query — no SRV/A retries against a dead server */
	assert_in_range(r.t_ms, 250, 1000);
	fprintf(stderr, "timeout reported after %llu ms\n", (unsigned long long)r.t_ms);
}

static void test_refused(void **state)
{
	(void)state;
	/* a closed port: ICMP port unreachable -> a DNS error, not a long wait */
	int port = free_port();
	assert_true(port > 0);
	char srv[64];
	snprintf(srv, sizeof(srv), "127.0.0.1:%d", port);
	struct sip_resolver_opts o = {.servers = srv, .timeout_ms = 2000, .tries = 1};
	struct sip_uri u = mkuri(SIP_URI_SIP, "example.test", -1, NULL);
	struct outcome r = run_one(&o, &u);
	assert_true(r.err == SIP_EIO || r.err == SIP_ETIMEDOUT);
	assert_null(r.res);
}

static void test_cancel_and_errors(void **state)
{
	(void)state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct sip_resolver *r = NULL;
	struct sip_resolver_opts bad = {.servers = "not an address"};
	assert_int_equal(sip_resolver_new(&r, &loop, &bad), SIP_ECONFIG);
	/* a server that never answers, so the query is still pending at free */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	char srv[64];
	snprintf(srv, sizeof(srv), "127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
	struct sip_resolver_opts o = {.servers = srv, .timeout_ms = 5000, .tries = 1};
	assert_int_equal(sip_resolver_new(&r, &loop, &o), 0);
	struct outcome o1 = {0, 0, NULL, 0, &loop}, o2 = {0, 0, NULL, 0, &loop};
	struct sip_uri u = mkuri(SIP_URI_SIP, "example.test", -1, NULL);
	struct sip_uri num = mkuri(SIP_URI_SIP, "192.0.2.1", -1, NULL);
	num.host_type = SIP_HOST_IPV4;
	struct sip_uri tel = mkuri(SIP_URI_TEL, "+1555", -1, NULL);
	assert_int_equal(sip_resolve(r, &tel, on_done, &o1), SIP_EUNSUPPORTED);
	assert_int_equal(sip_resolve(r, NULL, on_done, &o1), SIP_EINVAL);
	assert_int_equal(sip_resolve(r, &u, on_done, &o1), 0);
	assert_int_equal(sip_resolve(r, &num, on_done, &o2), 0);
	uv_run(&loop, UV_RUN_NOWAIT);
	sip_resolver_free(r);
	assert_int_equal(o1.calls, 1);
	assert_int_equal(o1.err, SIP_ESTATE);
	assert_int_equal(o2.calls, 1);
	if (o2.err == 0)
		sip_resolve_result_free(o2.res); /* completed before the free */
	else
		assert_int_equal(o2.err, SIP_ESTATE);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(o1.calls, 1);
	close(s);
}

struct freeing {
	struct sip_resolver *r;
	int calls, ok, cancelled;
};

static void free_from_cb(void *arg, int err, struct sip_resolve_result *res)
{
	struct freeing *f = arg;
	f->calls++;
	if (err == 0) {
		f->ok++;
		sip_resolve_result_free(res);
	} else if (err == SIP_ESTATE) {
		f->cancelled++;
	}
	sip_resolver_free(f->r); /* from inside c-ares's own callback chain; the 2nd call is a no-op */
}

static void test_free_from_callback(void **state)
{
	(void)state;
	NEED_DNSMASQ();
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct sip_resolver_opts o = base_opts();
	struct freeing f = {NULL, 0, 0, 0};
	assert_int_equal(sip_resolver_new(&f.r, &loop, &o), 0);
	struct sip_uri a = mkuri(SIP_URI_SIP, "plain.test", 5060, NULL);
	struct sip_uri b = mkuri(SIP_URI_SIP, "example.test", -1, NULL);
	assert_int_equal(sip_resolve(f.r, &a, free_from_cb, &f), 0);
	assert_int_equal(sip_resolve(f.r, &b, free_from_cb, &f), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	/* the short lookup finishes first and frees; the NAPTR chain is cancelled */
	assert_int_equal(f.calls, 2);
	assert_int_equal(f.ok, 1);
	assert_int_equal(f.cancelled, 1);
}

/* Answers are kept for their TTL (60 s here, --local-ttl): with dnsmasq
 * stopped (SIGSTOP, by PID) the same resolver still resolves at once. An
 * explicit port asks only A and AAAA, both answered (dnsmasq's NODATA for
 * local names carries no SOA, so negative answers are not cached: RFC 2308;
 * that path is tested on crafted messages in resolver_cache.c). */
static void test_cache(void **state)
{
	(void)state;
	NEED_DNSMASQ();
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct sip_resolver_opts opts = base_opts();
	opts.timeout_ms = 200;
	opts.tries = 1;
	struct sip_resolver *r = NULL;
	assert_int_equal(sip_resolver_new(&r, &loop, &opts), 0);
	struct sip_uri u = mkuri(SIP_URI_SIP, "plain.test", 5080, NULL);
	struct outcome o[2];
	for (int i = 0; i < 2; i++) {
		if (i == 1)
			assert_int_equal(kill(dns_pid, SIGSTOP), 0);
		o[i] = (struct outcome){0, 0, NULL, 0, &loop};
		uv_update_time(&loop);
		uint64_t t0 = uv_now(&loop);
		assert_int_equal(sip_resolve(r, &u, on_done, &o[i]), 0);
		while (!o[i].calls && uv_run(&loop, UV_RUN_ONCE))
			;
		o[i].t_ms -= t0;
		assert_int_equal(o[i].err, 0);
		expect(o[i].res, LIST("udp:127.0.0.51:5080", "udp:[fd00::51]:5080"));
		sip_resolve_result_free(o[i].res);
	}
	assert_int_equal(kill(dns_pid, SIGCONT), 0);
	assert_true(o[1].t_ms < 200); /* no query went out: no timeout was waited for */
	sip_resolver_free(r);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_sync(void **state)
{
	(void)state;
	NEED_DNSMASQ();
	struct sip_resolver_opts o = base_opts();
	o.no_ipv6 = true;
	struct sip_uri u = mkuri(SIP_URI_SIP, "example.test", -1, NULL);
	struct sip_resolve_result *res = NULL;
	assert_int_equal(sip_resolve_sync(&o, &u, &res), 0);
	expect(res, LIST("tls:127.0.0.11:5061", "tcp:127.0.0.21:5060", "tcp:127.0.0.22:5070",
			 "udp:127.0.0.31:5060"));
	sip_resolve_result_free(res);
	u = mkuri(SIP_URI_SIP, "nothing.test", -1, NULL);
	assert_int_equal(sip_resolve_sync(&o, &u, &res), SIP_ENOTFOUND);
	assert_null(res);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_naptr_srv_a, check_live),
	    cmocka_unit_test_teardown(test_sips, check_live),
	    cmocka_unit_test_teardown(test_transport_param_and_port, check_live),
	    cmocka_unit_test_teardown(test_fallbacks, check_live),
	    cmocka_unit_test_teardown(test_weights, check_live),
	    cmocka_unit_test_teardown(test_sync, check_live),
	    cmocka_unit_test_teardown(test_cache, check_live),
	    cmocka_unit_test_teardown(test_timeout, check_live),
	    cmocka_unit_test_teardown(test_refused, check_live),
	    cmocka_unit_test_teardown(test_cancel_and_errors, check_live),
	    cmocka_unit_test_teardown(test_free_from_callback, check_live),
	};
	sip_mem_set(&counting);
	return cmocka_run_group_tests(tests, start_dnsmasq, stop_dnsmasq);
}
