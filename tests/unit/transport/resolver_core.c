/* Unit tests for the sans-I/O RFC 3263 core (src/transport/resolver_core.c):
 * canned NAPTR/SRV/A/AAAA answers in, the queries asked and the ordered
 * target list out. No sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "transport/resolver_int.h"

/* ---- a fake DNS: one table row per (name, type) ---- */

struct row {
	const char *name;
	enum sip__rtype type;
	enum sip__rstatus st;
	const struct sip__naptr *naptr;
	const struct sip__srv *srv;
	const char *addrs[4];
	size_t n; /* records for naptr/srv */
};

#define NAPTR(o, p, f, s, r)                                                                                 \
	{                                                                                                    \
		(o), (p), SIP_STR(f), SIP_STR(s), SIP_STR(""), SIP_STR(r)                                    \
	}
#define SRV(pr, w, port, t)                                                                                  \
	{                                                                                                    \
		(pr), (w), (port), SIP_STR(t)                                                                \
	}

static char asked[64][300];
static size_t nasked;

static const char *tname(enum sip__rtype t)
{
	switch (t) {
	case SIP__RT_NAPTR:
		return "NAPTR";
	case SIP__RT_SRV:
		return "SRV";
	case SIP__RT_A:
		return "A";
	case SIP__RT_AAAA:
		return "AAAA";
	}
	return "?";
}

/* Answers every query from rows (unknown names get NODATA), logging "TYPE name". */
static void drive(struct sip__rsm *m, const struct row *rows, size_t nrows)
{
	int qid;
	const char *name;
	enum sip__rtype type;
	nasked = 0;
	while (sip__rsm_next_query(m, &qid, &name, &type)) {
		assert_true(nasked < 64);
		snprintf(asked[nasked++], sizeof(asked[0]), "%s %s", tname(type), name);
		const struct row *r = NULL;
		for (size_t i = 0; i < nrows; i++)
			if (rows[i].type == type && !strcmp(rows[i].name, name))
				r = &rows[i];
		enum sip__rstatus st = r ? r->st : SIP__RS_NODATA;
		if (type == SIP__RT_NAPTR) {
			sip__rsm_on_naptr(m, qid, st, r ? r->naptr : NULL, r ? r->n : 0);
		} else if (type == SIP__RT_SRV) {
			sip__rsm_on_srv(m, qid, st, r ? r->srv : NULL, r ? r->n : 0);
		} else {
			struct sip__raddr a[4];
			size_t n = 0;
			for (size_t i = 0; r && i < 4 && r->addrs[i]; i++) {
				int fam = strchr(r->addrs[i], ':') ? AF_INET6 : AF_INET;
				a[n].family = fam;
				memset(a[n].addr, 0, 16);
				assert_int_equal(inet_pton(fam, r->addrs[i], a[n].addr), 1);
				n++;
			}
			sip__rsm_on_addr(m, qid, st, a, n);
		}
	}
	assert_true(sip__rsm_done(m));
}

static void expect_asked(const char *const *want)
{
	size_t n = 0;
	for (; want[n]; n++) {
		assert_true(n < nasked);
		assert_string_equal(asked[n], want[n]);
	}
	assert_int_equal(nasked, n);
}

static void expect_targets(const struct sip__rsm *m, const char *const *want)
{
	struct sip_resolve_result *res = NULL;
	assert_int_equal(sip__rsm_result(m, &res), 0);
	char buf[SIP_TARGET_STR_MAX];
	struct sip_target t;
	size_t n = 0;
	for (; want[n]; n++) {
		assert_int_equal(sip_resolve_next(res, &t), 1);
		assert_true(sip_target_format(&t, buf, sizeof(buf)) > 0);
		assert_string_equal(buf, want[n]);
	}
	assert_int_equal(sip_resolve_next(res, &t), 0);
	assert_int_equal(sip_resolve_count(res), n);
	sip_resolve_result_free(res);
}

static struct sip_uri mkuri(enum sip_uri_scheme s, const char *host, enum sip_host_type ht, int port,
			    const char *transport)
{
	struct sip_uri u;
	memset(&u, 0, sizeof(u));
	u.scheme = s;
	u.host = sip_str_c(host);
	u.host_type = ht;
	if (port >= 0) {
		u.has_port = true;
		u.port = (uint16_t)port;
	}
	u.transport = sip_str_c(transport);
	return u;
}

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE ((const char *const[]){NULL})

/* ---- numeric hosts and explicit ports (§4.1, §4.2) ---- */

static void test_numeric(void **state)
{
	(void)state;
	struct sip__rsm m;
	struct sip_uri u = mkuri(SIP_URI_SIP, "192.0.2.1", SIP_HOST_IPV4, -1, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, NULL), 0);
	drive(&m, NULL, 0);
	expect_asked(NONE);
	expect_targets(&m, LIST("udp:192.0.2.1:5060"));

	u = mkuri(SIP_URI_SIPS, "2001:db8::1", SIP_HOST_IPV6, -1, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, NULL), 0);
	drive(&m, NULL, 0);
	expect_asked(NONE);
	expect_targets(&m, LIST("tls:[2001:db8::1]:5061"));

	u = mkuri(SIP_URI_SIP, "[::1]", SIP_HOST_IPV6, 5070, "TCP");
	assert_int_equal(sip__rsm_init(&m, &u, NULL), 0);
	drive(&m, NULL, 0);
	expect_targets(&m, LIST("tcp:[::1]:5070"));

	/* sips + transport=tcp is TLS over TCP; port default follows TLS */
	u = mkuri(SIP_URI_SIPS, "10.0.0.1", SIP_HOST_IPV4, -1, "tcp");
	assert_int_equal(sip__rsm_init(&m, &u, NULL), 0);
	expect_targets(&m, LIST("tls:10.0.0.1:5061"));

	u = mkuri(SIP_URI_SIP, "10.0.0.1", SIP_HOST_IPV4, -1, "tls");
	assert_int_equal(sip__rsm_init(&m, &u, NULL), 0);
	expect_targets(&m, LIST("tls:10.0.0.1:5061"));

	/* maddr overrides the host and is classified here */
	u = mkuri(SIP_URI_SIP, "example.com", SIP_HOST_NAME, 5080, NULL);
	u.maddr = SIP_STR("198.51.100.7");
	assert_int_equal(sip__rsm_init(&m, &u, NULL), 0);
	drive(&m, NULL, 0);
	expect_asked(NONE);
	expect_targets(&m, LIST("udp:198.51.100.7:5080"));
}

static void test_explicit_port(void **state)
{
	(void)state;
	static const struct row rows[] = {
	    {"pbx.example.com", SIP__RT_A, SIP__RS_OK, NULL, NULL, {"192.0.2.10", "192.0.2.11"}, 0},
	    {"pbx.example.com", SIP__RT_AAAA, SIP__RS_OK, NULL, NULL, {"2001:db8::10"}, 0},
	};
	struct sip__rsm m;
	struct sip_uri u = mkuri(SIP_URI_SIP, "pbx.example.com", SIP_HOST_NAME, 5070, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, NULL), 0);
	drive(&m, rows, 2);
	expect_asked(LIST("A pbx.example.com", "AAAA pbx.example.com"));
	expect_targets(&m, LIST("udp:192.0.2.10:5070", "udp:192.0.2.11:5070", "udp:[2001:db8::10]:5070"));

	/* prefer_ipv6 flips the families; a transport param keeps its transport */
	struct sip__rcfg cfg = {.prefer_ipv6 = true};
	u = mkuri(SIP_URI_SIPS, "pbx.example.com", SIP_HOST_NAME, 5071, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, &cfg), 0);
	drive(&m, rows, 2);
	expect_asked(LIST("AAAA pbx.example.com", "A pbx.example.com"));
	expect_targets(&m, LIST("tls:[2001:db8::10]:5071", "tls:192.0.2.10:5071", "tls:192.0.2.11:5071"));

	cfg = (struct sip__rcfg){.no_ipv6 = true};
	u = mkuri(SIP_URI_SIP, "pbx.example.com", SIP_HOST_NAME, 5070, "tcp");
	assert_int_equal(sip__rsm_init(&m, &u, &cfg), 0);
	drive(&m, rows, 2);
	expect_asked(LIST("A pbx.example.com"));
	expect_targets(&m, LIST("tcp:192.0.2.10:5070", "tcp:192.0.2.11:5070"));
}

/* ---- transport param without a port: SRV for it, then A/AAAA ---- */

static void test_transport_param(void **state)
{
	(void)state;
	static const struct sip__srv tcp[] = {SRV(10, 0, 5080, "b.example.com"),
					      SRV(5, 0, 5090, "a.example.com")};
	static const struct row rows[] = {
	    {"_sip._tcp.example.com", SIP__RT_SRV, SIP__RS_OK, NULL, tcp, {NULL}, 2},
	    {"a.example.com", SIP__RT_A, SIP__RS_OK, NULL, NULL, {"192.0.2.1"}, 0},
	    {"b.example.com", SIP__RT_A, SIP__RS_OK, NULL, NULL, {"192.0.2.2"}, 0},
	    {"nosrv.example.com", SIP__RT_A, SIP__RS_OK, NULL, NULL, {"192.0.2.3"}, 0},
	};
	struct sip__rsm m;
	struct sip__rcfg cfg = {.no_ipv6 = true};
	struct sip_uri u = mkuri(SIP_URI_SIP, "example.com", SIP_HOST_NAME, -1, "tcp");
	assert_int_equal(sip__rsm_init(&m, &u, &cfg), 0);
	drive(&m, rows, 4);
	expect_asked(LIST("SRV _sip._tcp.example.com", "A a.example.com", "A b.example.com"));
	expect_targets(&m, LIST("tcp:192.0.2.1:5090", "tcp:192.0.2.2:5080"));

	/* no SRV: A/AAAA of the host with that transport's default port */
	u = mkuri(SIP_URI_SIP, "nosrv.example.com", SIP_HOST_NAME, -1, "tls");
	assert_int_equal(sip__rsm_init(&m, &u, NULL), 0);
	drive(&m, rows, 4);
	expect_asked(
	    LIST("SRV _sips._tcp.nosrv.example.com", "A nosrv.example.com", "AAAA nosrv.example.com"));
	expect_targets(&m, LIST("tls:192.0.2.3:5061"));

	/* unsupported or impossible transports are refused up front */
	u = mkuri(SIP_URI_SIPS, "example.com", SIP_HOST_NAME, -1, "udp");
	assert_int_equal(sip__rsm_init(&m, &u, NULL), SIP_EUNSUPPORTED);
	u = mkuri(SIP_URI_SIP, "example.com", SIP_HOST_NAME, -1, "ws");
	assert_int_equal(sip__rsm_init(&m, &u, NULL), SIP_EUNSUPPORTED);
	u = mkuri(SIP_URI_SIP, "example.com", SIP_HOST_NAME, -1, "sctp"); /* not in the default set */
	assert_int_equal(sip__rsm_init(&m, &u, NULL), SIP_EUNSUPPORTED);
}

/* ---- NAPTR (§4.1) ---- */

static const struct sip__naptr naptr_mix[] = {
    NAPTR(20, 10, "s", "SIP+D2U", "_sip._udp.example.com"),
    NAPTR(10, 50, "s", "SIP+D2T", "_sip._tcp.example.com"),
    NAPTR(10, 10, "S", "SIPS+D2T", "_sips._tcp.example.com"), /* flags are case-insensitive */
    NAPTR(5, 10, "s", "SIP+D2S", "_sip._sctp.example.com"),   /* SCTP not supported: skipped */
    NAPTR(1, 1, "a", "SIP+D2U", "sip.example.com"),	      /* not terminal "s": skipped */
    NAPTR(1, 1, "s", "E2U+sip", "_sip._udp.example.com"),     /* other service: skipped */
};
static const struct sip__srv srv_udp[] = {SRV(0, 0, 5060, "u.example.com")};
static const struct sip__srv srv_tcp[] = {SRV(0, 0, 5060, "t.example.com")};
static const struct sip__srv srv_tls[] = {SRV(0, 0, 5061, "s.example.com")};
static const struct row naptr_rows[] = {
    {"example.com", SIP__RT_NAPTR, SIP__RS_OK, naptr_mix, NULL, {NULL}, 6},
    {"_sip._udp.example.com", SIP__RT_SRV, SIP__RS_OK, NULL, srv_udp, {NULL}, 1},
    {"_sip._tcp.example.com", SIP__RT_SRV, SIP__RS_OK, NULL, srv_tcp, {NULL}, 1},
    {"_sips._tcp.example.com", SIP__RT_SRV, SIP__RS_OK, NULL, srv_tls, {NULL}, 1},
    {"u.example.com", SIP__RT_A, SIP__RS_OK, NULL, NULL, {"192.0.2.1"}, 0},
    {"t.example.com", SIP__RT_A, SIP__RS_OK, NULL, NULL, {"192.0.2.2"}, 0},
    {"s.example.com", SIP__RT_A, SIP__RS_OK, NULL, NULL, {"192.0.2.3"}, 0},
    {"s.example.com", SIP__RT_AAAA, SIP__RS_OK, NULL, NULL, {"2001:db8::3"}, 0},
};

static void test_naptr_order(void **state)
{
	(void)state;
	struct sip__rsm m;
	struct sip_uri u = mkuri(SIP_URI_SIP, "example.com", SIP_HOST_NAME, -1, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, NULL), 0);
	drive(&m, naptr_rows, 8);
	expect_asked(LIST("NAPTR example.com", "SRV _sips._tcp.example.com", "SRV _sip._tcp.example.com",
			  "SRV _sip._udp.example.com", "A s.example.com", "AAAA s.example.com",
			  "A t.example.com", "AAAA t.example.com", "A u.example.com", "AAAA u.example.com"));
	/* order 10 (pref 10 TLS, pref 50 TCP) before order 20 (UDP) */
	expect_targets(&m, LIST("tls:192.0.2.3:5061", "tls:[2001:db8::3]:5061", "tcp:192.0.2.2:5060",
				"udp:192.0.2.1:5060"));

	/* with SCTP supported, the order-5 SIP+D2S record comes first */
	struct sip__rcfg cfg = {.protos = SIP_RESOLVE_PROTO_DEFAULT | SIP_RESOLVE_SCTP, .no_ipv6 = true};
	assert_int_equal(sip__rsm_init(&m, &u, &cfg), 0);
	drive(&m, naptr_rows, 8);
	assert_string_equal(asked[1], "SRV _sip._sctp.example.com");
	expect_targets(&m, LIST("tls:192.0.2.3:5061", "tcp:192.0.2.2:5060", "udp:192.0.2.1:5060"));

	/* a client without TLS never asks for the SIPS record */
	cfg = (struct sip__rcfg){.protos = SIP_RESOLVE_UDP | SIP_RESOLVE_TCP, .no_ipv6 = true};
	assert_int_equal(sip__rsm_init(&m, &u, &cfg), 0);
	drive(&m, naptr_rows, 8);
	expect_targets(&m, LIST("tcp:192.0.2.2:5060", "udp:192.0.2.1:5060"));
}

static void test_sips_restrictions(void **state)
{
	(void)state;
	struct sip__rsm m;
	struct sip__rcfg cfg = {.no_ipv6 = true};
	struct sip_uri u = mkuri(SIP_URI_SIPS, "example.com", SIP_HOST_NAME, -1, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, &cfg), 0);
	drive(&m, naptr_rows, 8);
	expect_asked(LIST("NAPTR example.com", "SRV _sips._tcp.example.com", "A s.example.com"));
	expect_targets(&m, LIST("tls:192.0.2.3:5061"));

	/* no NAPTR: only _sips._tcp is queried; no SRV either: A with TLS on 5061 */
	static const struct row rows[] = {
	    {"bare.example.com", SIP__RT_A, SIP__RS_OK, NULL, NULL, {"192.0.2.9"}, 0},
	};
	u = mkuri(SIP_URI_SIPS, "bare.example.com", SIP_HOST_NAME, -1, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, &cfg), 0);
	drive(&m, rows, 1);
	expect_asked(LIST("NAPTR bare.example.com", "SRV _sips._tcp.bare.example.com", "A bare.example.com"));
	expect_targets(&m, LIST("tls:192.0.2.9:5061"));

	/* a client without TLS cannot reach a SIPS URI at all */
	cfg.protos = SIP_RESOLVE_UDP | SIP_RESOLVE_TCP;
	assert_int_equal(sip__rsm_init(&m, &u, &cfg), SIP_EUNSUPPORTED);
}

static void test_no_naptr_srv_fallback(void **state)
{
	(void)state;
	static const struct sip__srv tcp[] = {SRV(0, 0, 5062, "t.example.net")};
	static const struct row rows[] = {
	    {"example.net", SIP__RT_NAPTR, SIP__RS_NODATA, NULL, NULL, {NULL}, 0},
	    {"_sip._tcp.example.net", SIP__RT_SRV, SIP__RS_OK, NULL, tcp, {NULL}, 1},
	    {"t.example.net", SIP__RT_A, SIP__RS_OK, NULL, NULL, {"192.0.2.20"}, 0},
	    {"example.net", SIP__RT_A, SIP__RS_OK, NULL, NULL, {"192.0.2.99"}, 0},
	};
	struct sip__rsm m;
	struct sip__rcfg cfg = {.no_ipv6 = true};
	struct sip_uri u = mkuri(SIP_URI_SIP, "example.net", SIP_HOST_NAME, -1, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, &cfg), 0);
	drive(&m, rows, 4);
	/* SRV found for TCP only: the host's own A record is not used */
	expect_asked(LIST("NAPTR example.net", "SRV _sip._udp.example.net", "SRV _sip._tcp.example.net",
			  "SRV _sips._tcp.example.net", "A t.example.net"));
	expect_targets(&m, LIST("tcp:192.0.2.20:5062"));

	/* neither NAPTR nor SRV: A/AAAA with UDP on 5060 */
	static const struct row bare[] = {
	    {"example.org", SIP__RT_A, SIP__RS_OK, NULL, NULL, {"192.0.2.30"}, 0},
	    {"example.org", SIP__RT_AAAA, SIP__RS_OK, NULL, NULL, {"2001:db8::30"}, 0},
	};
	u = mkuri(SIP_URI_SIP, "example.org", SIP_HOST_NAME, -1, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, NULL), 0);
	drive(&m, bare, 2);
	expect_asked(LIST("NAPTR example.org", "SRV _sip._udp.example.org", "SRV _sip._tcp.example.org",
			  "SRV _sips._tcp.example.org", "A example.org", "AAAA example.org"));
	expect_targets(&m, LIST("udp:192.0.2.30:5060", "udp:[2001:db8::30]:5060"));

	/* nothing at all */
	u = mkuri(SIP_URI_SIP, "nowhere.invalid", SIP_HOST_NAME, -1, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, NULL), 0);
	drive(&m, NULL, 0);
	struct sip_resolve_result *res = (void *)1;
	assert_int_equal(sip__rsm_result(&m, &res), SIP_ENOTFOUND);
	assert_null(res);
}

/* ---- SRV ordering (RFC 2782) with injected randomness ---- */

struct seq {
	const uint32_t *v;
	size_t n, i;
};
static uint32_t seq_rand(void *ud)
{
	struct seq *s = ud;
	return s->i < s->n ? s->v[s->i++] : 0;
}

static void test_srv_weight(void **state)
{
	(void)state;
	static const struct sip__srv rec[] = {
	    SRV(10, 60, 1, "a"), SRV(10, 40, 2, "b"), SRV(20, 0, 3, "c"),
	    SRV(10, 0, 4, "d"),	 SRV(5, 1, 5, "e"),
	};
	uint8_t idx[SIP_RESOLVE_MAX_RECORDS];
	/* r = rand * (sum+1) >> 32. Priority 5: e alone. Priority 10 (sum 100):
	 * rand 0 -> r 0 -> d (weight 0 sorts first). Then sum 100, rand max ->
	 * r 100 -> b (running 60, 100). Then a. Priority 20: c. */
	uint32_t v1[] = {0, 0, UINT32_MAX, 0, 0};
	struct seq s = {v1, 5, 0};
	assert_int_equal(sip__srv_order(rec, 5, seq_rand, &s, idx), 5);
	assert_int_equal(idx[0], 4);
	assert_int_equal(idx[1], 3);
	assert_int_equal(idx[2], 1);
	assert_int_equal(idx[3], 0);
	assert_int_equal(idx[4], 2);

	/* r in (0, 60] picks a: rand = 2^31 -> r = 50 */
	uint32_t v2[] = {0, 0, 0x80000000u, 0};
	s = (struct seq){v2, 4, 0};
	sip__srv_order(rec, 5, seq_rand, &s, idx);
	assert_int_equal(idx[1], 3);
	assert_int_equal(idx[2], 0);
	assert_int_equal(idx[3], 1);

	/* over many draws the 60/40 split shows up (a deterministic LCG) */
	static const struct sip__srv two[] = {SRV(0, 60, 1, "a"), SRV(0, 40, 2, "b")};
	uint32_t x = 12345;
	int first_a = 0;
	for (int i = 0; i < 10000; i++) {
		x = x * 1664525u + 1013904223u;
		uint32_t vv[] = {x, 0};
		struct seq ss = {vv, 2, 0};
		assert_int_equal(sip__srv_order(two, 2, seq_rand, &ss, idx), 2);
		first_a += idx[0] == 0;
	}
	assert_in_range(first_a, 5700, 6300);

	/* "." means no service there; it is dropped */
	static const struct sip__srv dot[] = {SRV(0, 0, 0, ".")};
	assert_int_equal(sip__srv_order(dot, 1, seq_rand, &s, idx), 0);
}

static void test_srv_dot_and_dedup(void **state)
{
	(void)state;
	static const struct sip__srv dot[] = {SRV(0, 0, 0, ".")};
	static const struct sip__srv twice[] = {SRV(0, 0, 5060, "h.example.com"),
						SRV(1, 0, 5060, "h.example.com"),
						SRV(2, 0, 5070, "h.example.com")};
	static const struct row rows[] = {
	    {"_sip._tcp.none.example", SIP__RT_SRV, SIP__RS_OK, NULL, dot, {NULL}, 1},
	    {"none.example", SIP__RT_A, SIP__RS_OK, NULL, NULL, {"192.0.2.1"}, 0},
	    {"_sip._udp.dup.example", SIP__RT_SRV, SIP__RS_OK, NULL, twice, {NULL}, 3},
	    {"h.example.com", SIP__RT_A, SIP__RS_OK, NULL, NULL, {"192.0.2.5"}, 0},
	};
	struct sip__rsm m;
	struct sip__rcfg cfg = {.no_ipv6 = true};
	/* "." says the service is decidedly not there: no A fallback */
	struct sip_uri u = mkuri(SIP_URI_SIP, "none.example", SIP_HOST_NAME, -1, "tcp");
	assert_int_equal(sip__rsm_init(&m, &u, &cfg), 0);
	drive(&m, rows, 4);
	expect_asked(LIST("SRV _sip._tcp.none.example"));
	struct sip_resolve_result *res;
	assert_int_equal(sip__rsm_result(&m, &res), SIP_ENOTFOUND);

	/* the same address and port twice is one target */
	u = mkuri(SIP_URI_SIP, "dup.example", SIP_HOST_NAME, -1, "udp");
	assert_int_equal(sip__rsm_init(&m, &u, &cfg), 0);
	drive(&m, rows, 4);
	expect_targets(&m, LIST("udp:192.0.2.5:5060", "udp:192.0.2.5:5070"));
}

/* ---- DNS failures ---- */

static void test_failures(void **state)
{
	(void)state;
	struct sip__rsm m;
	/* NAPTR timed out: no SRV / A attempts against the same dead server */
	static const struct row to[] = {
	    {"example.com", SIP__RT_NAPTR, SIP__RS_TIMEOUT, NULL, NULL, {NULL}, 0}};
	struct sip_uri u = mkuri(SIP_URI_SIP, "example.com", SIP_HOST_NAME, -1, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, NULL), 0);
	drive(&m, to, 1);
	expect_asked(LIST("NAPTR example.com"));
	struct sip_resolve_result *res;
	assert_int_equal(sip__rsm_result(&m, &res), SIP_ETIMEDOUT);

	/* AAAA fails but A answered: the addresses found are used */
	static const struct row part[] = {
	    {"h.example", SIP__RT_A, SIP__RS_OK, NULL, NULL, {"192.0.2.7"}, 0},
	    {"h.example", SIP__RT_AAAA, SIP__RS_FAIL, NULL, NULL, {NULL}, 0},
	};
	u = mkuri(SIP_URI_SIP, "h.example", SIP_HOST_NAME, 5060, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, NULL), 0);
	drive(&m, part, 2);
	expect_targets(&m, LIST("udp:192.0.2.7:5060"));

	/* answers for unknown ids, the wrong type, or twice are ignored */
	u = mkuri(SIP_URI_SIP, "example.com", SIP_HOST_NAME, -1, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, NULL), 0);
	int qid;
	const char *name;
	enum sip__rtype type;
	assert_int_equal(sip__rsm_next_query(&m, &qid, &name, &type), 1);
	sip__rsm_on_srv(&m, qid, SIP__RS_OK, NULL, 0);
	sip__rsm_on_naptr(&m, 42, SIP__RS_OK, NULL, 0);
	sip__rsm_on_addr(&m, -1, SIP__RS_OK, NULL, 0);
	assert_false(sip__rsm_done(&m));
	sip__rsm_on_naptr(&m, qid, SIP__RS_FAIL, NULL, 0);
	sip__rsm_on_naptr(&m, qid, SIP__RS_OK, naptr_mix, 6);
	assert_true(sip__rsm_done(&m));
	assert_int_equal(sip__rsm_result(&m, &res), SIP_EIO);
}

static void test_bad_input(void **state)
{
	(void)state;
	struct sip__rsm m;
	struct sip_uri u = mkuri(SIP_URI_TEL, "+15551234", SIP_HOST_NONE, -1, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, NULL), SIP_EUNSUPPORTED);
	u = mkuri(SIP_URI_SIP, "", SIP_HOST_NONE, -1, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, NULL), SIP_EINVAL);
	/* claimed IPv4 that is not one */
	u = mkuri(SIP_URI_SIP, "999.1.1.1", SIP_HOST_IPV4, -1, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, NULL), SIP_EINVAL);
	char big[300];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	u = mkuri(SIP_URI_SIP, big, SIP_HOST_NAME, -1, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, NULL), SIP_EINVAL);
	/* a 250-byte name fits, but "_sips._tcp." + it does not: that query is skipped */
	big[250] = '\0';
	u = mkuri(SIP_URI_SIP, big, SIP_HOST_NAME, -1, "tls");
	assert_int_equal(sip__rsm_init(&m, &u, NULL), 0);
	drive(&m, NULL, 0);
	assert_int_equal(nasked, 2); /* straight to A / AAAA */
	assert_int_equal(sip__rsm_init(NULL, &u, NULL), SIP_EINVAL);
	assert_int_equal(sip__rsm_init(&m, NULL, NULL), SIP_EINVAL);

	/* NAPTR records with regexp or oversize replacement are skipped, no crash */
	static const struct sip__naptr odd[] = {
	    {1, 1, SIP_STR("s"), SIP_STR("SIP+D2U"), SIP_STR("!x!y!"), SIP_STR("_sip._udp.x")},
	    {1, 1, SIP_STR("s"), SIP_STR("SIP+D2U"), SIP_STR(""), SIP_STR("")},
	    {1, 1, SIP_STR("s"), SIP_STR("SIP+D2U"), SIP_STR(""), SIP_STR(".")},
	};
	static const struct row rows[] = {{"x.example", SIP__RT_NAPTR, SIP__RS_OK, odd, NULL, {NULL}, 3}};
	u = mkuri(SIP_URI_SIP, "x.example", SIP_HOST_NAME, -1, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, NULL), 0);
	drive(&m, rows, 1);
	assert_string_equal(asked[1], "SRV _sip._udp.x.example"); /* treated as no NAPTR */
}

/* ---- hostile DNS answers through the c-ares mapping (resolver_ares.c) ---- */

static size_t put_name(uint8_t *b, size_t o, const char *dotted)
{
	const char *p = dotted;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		b[o++] = (uint8_t)l;
		memcpy(b + o, p, l);
		o += l;
		p += l + (dot ? 1 : 0);
	}
	b[o++] = 0;
	return o;
}

/* A well-formed one-answer response for (qname, type) with rdata. */
static size_t mkmsg(uint8_t *b, const char *qname, uint16_t type, const uint8_t *rd, size_t rdlen)
{
	static const uint8_t hdr[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0};
	memcpy(b, hdr, sizeof(hdr));
	size_t o = put_name(b, sizeof(hdr), qname);
	b[o++] = (uint8_t)(type >> 8);
	b[o++] = (uint8_t)type;
	b[o++] = 0;
	b[o++] = 1;
	b[o++] = 0xc0; /* answer name: pointer to the question */
	b[o++] = 12;
	b[o++] = (uint8_t)(type >> 8);
	b[o++] = (uint8_t)type;
	b[o++] = 0;
	b[o++] = 1;
	memset(b + o, 0, 3);
	b[o + 3] = 60; /* TTL */
	o += 4;
	b[o++] = (uint8_t)(rdlen >> 8);
	b[o++] = (uint8_t)rdlen;
	memcpy(b + o, rd, rdlen);
	return o + rdlen;
}

static void test_hostile_answers(void **state)
{
	(void)state;
	uint8_t naptr_rd[128], srv_rd[64], msg[3][512];
	size_t o = 0;
	/* order 10, pref 20, "s", "SIP+D2T", "", _sip._tcp.x */
	naptr_rd[o++] = 0, naptr_rd[o++] = 10, naptr_rd[o++] = 0, naptr_rd[o++] = 20;
	naptr_rd[o++] = 1, naptr_rd[o++] = 's';
	naptr_rd[o++] = 7, memcpy(naptr_rd + o, "SIP+D2T", 7), o += 7;
	naptr_rd[o++] = 0;
	o = put_name(naptr_rd, o, "_sip._tcp.x");
	size_t naptr_len = o;
	o = 0;
	srv_rd[o++] = 0, srv_rd[o++] = 1, srv_rd[o++] = 0, srv_rd[o++] = 5, srv_rd[o++] = 0x13,
	srv_rd[o++] = 0xc4;
	o = put_name(srv_rd, o, "a.x");
	size_t srv_len = o;
	const uint8_t a_rd[4] = {192, 0, 2, 1};
	size_t len[3] = {mkmsg(msg[0], "x", 35, naptr_rd, naptr_len),
			 mkmsg(msg[1], "_sip._tcp.x", 33, srv_rd, srv_len), mkmsg(msg[2], "a.x", 1, a_rd, 4)};

	/* the clean chain works: NAPTR -> SRV -> A */
	struct sip__rsm m;
	struct sip__rcfg cfg = {.no_ipv6 = true};
	struct sip_uri u = mkuri(SIP_URI_SIP, "x", SIP_HOST_NAME, -1, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, &cfg), 0);
	int qid;
	const char *name;
	enum sip__rtype type;
	for (int k = 0; k < 3; k++) {
		assert_int_equal(sip__rsm_next_query(&m, &qid, &name, &type), 1);
		sip__rsm_feed_ares(&m, qid, type, 0, msg[k], (int)len[k]);
	}
	assert_true(sip__rsm_done(&m));
	expect_targets(&m, LIST("tcp:192.0.2.1:5060"));

	/* mutated and truncated copies never crash or read past the buffer (ASan) */
	uint32_t x = 2463534242u;
	for (int it = 0; it < 20000; it++) {
		int k = it % 3;
		uint8_t *b = malloc(len[k]);
		memcpy(b, msg[k], len[k]);
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		size_t n = 1 + x % len[k];
		for (int f = 0; f < 1 + (int)(x >> 28); f++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			b[x % n] = (uint8_t)(x >> 8);
		}
		static const enum sip__rtype types[3] = {SIP__RT_NAPTR, SIP__RT_SRV, SIP__RT_A};
		u = mkuri(SIP_URI_SIP, "x", SIP_HOST_NAME, k == 2 ? 5060 : -1, k == 1 ? "tcp" : NULL);
		assert_int_equal(sip__rsm_init(&m, &u, &cfg), 0);
		assert_int_equal(sip__rsm_next_query(&m, &qid, &name, &type), 1);
		assert_int_equal(type, types[k]);
		sip__rsm_feed_ares(&m, qid, type, 0, b, (int)n);
		free(b);
		/* whatever came back, the machine stays consistent */
		while (sip__rsm_next_query(&m, &qid, &name, &type))
			sip__rsm_feed_ares(&m, qid, type, 4 /* ARES_ENOTFOUND */, NULL, 0);
		assert_true(sip__rsm_done(&m));
		struct sip_resolve_result *res = NULL;
		int rc = sip__rsm_result(&m, &res);
		assert_true(rc == 0 || rc == SIP_ENOTFOUND || rc == SIP_EIO);
		sip_resolve_result_free(res);
	}
}

/* ---- the cursor and the allocator ---- */

static void test_cursor(void **state)
{
	(void)state;
	struct sip__rsm m;
	struct sip_uri u = mkuri(SIP_URI_SIP, "example.com", SIP_HOST_NAME, -1, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, NULL), 0);
	drive(&m, naptr_rows, 8);
	struct sip_resolve_result *res;
	assert_int_equal(sip__rsm_result(&m, &res), 0);
	struct sip_target t;
	/* the TU fails over: TLS v4 -> TLS v6 -> TCP -> UDP -> exhausted */
	assert_int_equal(sip_resolve_next(res, &t), 1);
	assert_int_equal(t.proto, SIP_RESOLVE_TLS);
	assert_int_equal(t.family, AF_INET);
	assert_int_equal(t.port, 5061);
	assert_string_equal(t.host, "s.example.com");
	assert_int_equal(sip_resolve_next(res, &t), 1);
	assert_int_equal(t.family, AF_INET6);
	assert_int_equal(sip_resolve_next(res, &t), 1);
	assert_int_equal(t.proto, SIP_RESOLVE_TCP);
	assert_string_equal(t.host, "t.example.com");
	assert_int_equal(sip_resolve_next(res, &t), 1);
	assert_int_equal(t.proto, SIP_RESOLVE_UDP);
	assert_int_equal(sip_resolve_next(res, &t), 0);
	assert_int_equal(sip_resolve_next(res, &t), 0);
	sip_resolve_rewind(res);
	assert_int_equal(sip_resolve_next(res, &t), 1);
	assert_int_equal(t.proto, SIP_RESOLVE_TLS);
	assert_non_null(sip_resolve_get(res, 3));
	assert_null(sip_resolve_get(res, 4));
	char small[8];
	assert_int_equal(sip_target_format(&t, small, sizeof(small)), SIP_ETOOBIG);
	sip_resolve_result_free(res);
	assert_int_equal(sip_resolve_next(NULL, &t), 0);
	assert_int_equal(sip_resolve_count(NULL), 0);
	sip_resolve_result_free(NULL);
}

static void *fail_malloc(size_t n, void *ud)
{
	(void)n;
	(void)ud;
	return NULL;
}
static void *plain_realloc(void *p, size_t n, void *ud)
{
	(void)ud;
	return realloc(p, n);
}
static void plain_free(void *p, void *ud)
{
	(void)ud;
	free(p);
}

static void test_nomem(void **state)
{
	(void)state;
	struct sip__rsm m;
	struct sip_uri u = mkuri(SIP_URI_SIP, "192.0.2.1", SIP_HOST_IPV4, -1, NULL);
	assert_int_equal(sip__rsm_init(&m, &u, NULL), 0);
	const struct sip_mem fail = {fail_malloc, plain_realloc, plain_free, NULL};
	sip_mem_set(&fail);
	struct sip_resolve_result *res = (void *)1;
	assert_int_equal(sip__rsm_result(&m, &res), SIP_ENOMEM);
	assert_null(res);
	sip_mem_set(NULL);
}

/* The numeric fast path (sip_resolve_now): IP literals answered at once
 * with RFC 3263's transport and port rules; names left to DNS. */
static void numeric(const char *text, int want_rc, enum sip_resolve_proto proto, int fam, uint16_t port)
{
	struct sip_uri u;
	assert_int_equal(sip_uri_parse(&u, text, strlen(text), NULL), 0);
	struct sip_resolve_result *r = NULL;
	int rc = sip__resolve_numeric(&u, NULL, &r);
	assert_int_equal(rc, want_rc);
	if (rc)
		return;
	assert_int_equal(sip_resolve_count(r), 1);
	const struct sip_target *t = sip_resolve_get(r, 0);
	assert_int_equal(t->proto, proto);
	assert_int_equal(t->family, fam);
	assert_int_equal(t->port, port);
	sip_resolve_result_free(r);
}

static void test_numeric_fast_path(void **state)
{
	(void)state;
	numeric("sip:bob@192.0.2.4:5062", 0, SIP_RESOLVE_UDP, AF_INET, 5062);
	numeric("sip:bob@192.0.2.4", 0, SIP_RESOLVE_UDP, AF_INET, 5060);
	numeric("sip:bob@192.0.2.4;transport=tcp", 0, SIP_RESOLVE_TCP, AF_INET, 5060);
	numeric("sips:bob@192.0.2.4", 0, SIP_RESOLVE_TLS, AF_INET, 5061);
	numeric("sip:[2001:db8::1]:5070", 0, SIP_RESOLVE_UDP, AF_INET6, 5070);
	numeric("sip:bob@example.com;maddr=192.0.2.9", 0, SIP_RESOLVE_UDP, AF_INET, 5060);
	numeric("sip:bob@example.com", SIP_EAGAIN, 0, 0, 0);      /* DNS */
	numeric("sip:bob@192.0.2.4;maddr=h.example", SIP_EAGAIN, 0, 0, 0);
	numeric("sips:bob@192.0.2.4;transport=udp", SIP_EUNSUPPORTED, 0, 0, 0);
	numeric("sip:bob@192.0.2.4;transport=ws", SIP_EUNSUPPORTED, 0, 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_numeric),
	    cmocka_unit_test(test_explicit_port),
	    cmocka_unit_test(test_transport_param),
	    cmocka_unit_test(test_naptr_order),
	    cmocka_unit_test(test_sips_restrictions),
	    cmocka_unit_test(test_no_naptr_srv_fallback),
	    cmocka_unit_test(test_srv_weight),
	    cmocka_unit_test(test_srv_dot_and_dedup),
	    cmocka_unit_test(test_failures),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_hostile_answers),
	    cmocka_unit_test(test_cursor),
	    cmocka_unit_test(test_nomem),
	    cmocka_unit_test(test_numeric_fast_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
