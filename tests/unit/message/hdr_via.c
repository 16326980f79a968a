/* Unit tests for sip_via_parse (RFC 3261 §20.42, RFC 3581, RFC 4475 vectors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "sip_test.h"
#include <sip/msg.h>


/* Asserts that slice s holds exactly the C string want (NULL: empty slice). */

struct via_ok {
	struct sip_str in;
	const char *proto, *version, *transport, *host;
	enum sip_host_type host_type;
	int port; /* -1: absent */
	const char *branch, *received, *maddr, *ttl, *params;
	int rport; /* -1 absent, -2 without a value, else the value */
};

static const struct via_ok via_ok[] = {
    /* RFC 4475 wsinv: LWS and folding inside sent-protocol. */
    {V("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw"), "SIP", "2.0", "UDP", "192.0.2.2",
     SIP_HOST_IPV4, -1, "390skdjuw", NULL, NULL, NULL, "branch=390skdjuw", -1},
    {V("SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  "), "SIP", "2.0", "TCP",
     "spindle.example.com", SIP_HOST_NAME, -1, "z9hG4bK9ikj8", NULL, NULL, NULL, "branch  =   z9hG4bK9ikj8",
     -1},
    {V("SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239"), "SIP", "2.0", "UDP",
     "192.168.255.111", SIP_HOST_IPV4, -1, "z9hG4bK30239", NULL, NULL, NULL, "branch=\r\n z9hG4bK30239", -1},
    /* RFC 4475 transports: extension transport tokens. */
    {V("SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf"), "SIP", "2.0", "SCTP", "t2.example.com",
     SIP_HOST_NAME, -1, "z9hG4bKklasjdhf", NULL, NULL, NULL, "branch=z9hG4bKklasjdhf", -1},
    {V("SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj"), "SIP", "2.0", "TLS", "t3.example.com",
     SIP_HOST_NAME, -1, "z9hG4bK2980unddj", NULL, NULL, NULL, "branch=z9hG4bK2980unddj", -1},
    {V("SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en"), "SIP", "2.0", "UNKNOWN", "t4.example.com",
     SIP_HOST_NAME, -1, "z9hG4bKasd0f3en", NULL, NULL, NULL, "branch=z9hG4bKasd0f3en", -1},
    {V("SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf"), "SIP", "2.0", "WSS", "df7jal23ls0d.invalid",
     SIP_HOST_NAME, -1, "z9hG4bKasudf", NULL, NULL, NULL, "branch=z9hG4bKasudf", -1},
    /* RFC 4475 intmeth: every token mark in the branch. */
    {V("SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~"), "SIP", "2.0", "TCP", "host1.example.com",
     SIP_HOST_NAME, -1, "z9hG4bK-.!%66*_+`'~", NULL, NULL, NULL, "branch=z9hG4bK-.!%66*_+`'~", -1},
    /* RFC 4475 scalarlg / longreq: received. */
    {V("SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129"), "SIP", "2.0", "TCP",
     "host129.example.com", SIP_HOST_NAME, -1, "z9hG4bKzzxdiwo34sw", "192.0.2.129", NULL, NULL,
     "branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129", -1},
    /* RFC 4475 bcast: a broadcast sent-by still parses. */
    {V("SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1saber23"), "SIP", "2.0", "UDP", "255.255.255.255",
     SIP_HOST_IPV4, -1, "z9hG4bK1saber23", NULL, NULL, NULL, "branch=z9hG4bK1saber23", -1},
    /* RFC 4475 badvers: the version is the caller's business (505). */
    {V("SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw"), "SIP", "7.0", "UDP", "c.example.com", SIP_HOST_NAME,
     -1, "z9hG4bKkdjuw", NULL, NULL, NULL, "branch=z9hG4bKkdjuw", -1},
    /* RFC 4475 inv2543: no branch at all. */
    {V("SIP/2.0/UDP iftgw.example.com"), "SIP", "2.0", "UDP", "iftgw.example.com", SIP_HOST_NAME, -1, NULL,
     NULL, NULL, NULL, NULL, -1},
    /* RFC 4475 mpart01: rport without a value. */
    {V("SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport"), "SIP", "2.0",
     "UDP", "127.0.0.1", SIP_HOST_IPV4, 5070, "z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-", NULL, NULL, NULL,
     "branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport", -2},
    /* RFC 3581 §4: rport and received filled in by the server. */
    {V("SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;rport=9988;branch=z9hG4bKkjshdyff"), "SIP", "2.0", "UDP",
     "10.1.1.1", SIP_HOST_IPV4, 4540, "z9hG4bKkjshdyff", "192.0.2.1", NULL, NULL,
     "received=192.0.2.1;rport=9988;branch=z9hG4bKkjshdyff", 9988},
    /* RFC 3261 §18.2.1 / §20.42: maddr and ttl. */
    {V("SIP/2.0/UDP first.example.com:4000;ttl=16;maddr=224.2.0.1 ;branch=z9hG4bKa7c6a8dlze.1"), "SIP", "2.0",
     "UDP", "first.example.com", SIP_HOST_NAME, 4000, "z9hG4bKa7c6a8dlze.1", NULL, "224.2.0.1", "16",
     "ttl=16;maddr=224.2.0.1 ;branch=z9hG4bKa7c6a8dlze.1", -1},
    /* IPv6 sent-by in brackets; received as a bare IPv6 address and in brackets. */
    {V("SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bKas3-111;received=2001:db8::9:255"), "SIP", "2.0",
     "UDP", "2001:db8::9:1", SIP_HOST_IPV6, 5060, "z9hG4bKas3-111", "2001:db8::9:255", NULL, NULL,
     "branch=z9hG4bKas3-111;received=2001:db8::9:255", -1},
    {V("SIP/2.0/TCP [::ffff:192.0.2.1] ; received = [2001:db8::1] ; maddr=[ff02::1]"), "SIP", "2.0", "TCP",
     "::ffff:192.0.2.1", SIP_HOST_IPV6, -1, NULL, "2001:db8::1", "[ff02::1]", NULL,
     "received = [2001:db8::1] ; maddr=[ff02::1]", -1},
    /* LWS around ':' of sent-by (COLON = SWS ":" SWS), port 65535, generic params kept raw. */
    {V("SIP/2.0/UDP host.example.com : 65535;branch=z9hG4bK1;x-ext=\"quoted;val\";flag"), "SIP", "2.0", "UDP",
     "host.example.com", SIP_HOST_NAME, 65535, "z9hG4bK1", NULL, NULL, NULL,
     "branch=z9hG4bK1;x-ext=\"quoted;val\";flag", -1},
    {V("SIP/2.0/UDP a.example.com.;ttl=0;rport=0"), "SIP", "2.0", "UDP", "a.example.com.", SIP_HOST_NAME, -1,
     NULL, NULL, NULL, "0", "ttl=0;rport=0", 0},
};

static void test_via_ok(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(via_ok) / sizeof(via_ok[0]); i++) {
		const struct via_ok *t = &via_ok[i];
		struct sip_via v;
		size_t off = 999;
		int rc = sip_via_parse(&v, t->in, &off);
		if (rc)
			fail_msg("row %zu: rc %d at %zu", i, rc, off);
		slice_is(v.protocol, t->proto, "protocol", i);
		slice_is(v.version, t->version, "version", i);
		slice_is(v.transport, t->transport, "transport", i);
		slice_is(v.host, t->host, "host", i);
		assert_int_equal(v.host_type, t->host_type);
		assert_int_equal(v.has_port, t->port >= 0);
		if (t->port >= 0)
			assert_int_equal(v.port, t->port);
		assert_int_equal(v.has_branch, t->branch != NULL);
		slice_is(v.branch, t->branch, "branch", i);
		assert_int_equal(v.has_received, t->received != NULL);
		slice_is(v.received, t->received, "received", i);
		slice_is(v.maddr, t->maddr, "maddr", i);
		slice_is(v.ttl, t->ttl, "ttl", i);
		slice_is(v.params, t->params, "params", i);
		assert_int_equal(v.has_rport, t->rport != -1);
		assert_int_equal(v.rport_has_value, t->rport >= 0);
		if (t->rport >= 0) {
			char buf[16];
			snprintf(buf, sizeof(buf), "%d", t->rport);
			slice_is(v.rport, buf, "rport", i);
		}
		/* raw is the value without surrounding LWS. */
		assert_ptr_equal(v.raw.p, v.protocol.p);
		assert_true(v.raw.p + v.raw.len <= t->in.p + t->in.len);
	}
}

struct bad {
	struct sip_str in;
	int rc;
	size_t off;
};

static const struct bad via_bad[] = {
    /* RFC 4475 badinv01: "192.0.2.15;;,;,," reaches us as "...;;": empty param. */
    {V("SIP/2.0/UDP 192.0.2.15;;"), SIP_EPARSE, 23},
    {V("SIP/2.0/UDP 192.0.2.15;"), SIP_EPARSE, 23},
    {V(";"), SIP_EPARSE, 0},
    {V(""), SIP_EPARSE, 0},
    {V("SIP/2.0 UDP host"), SIP_EPARSE, 8},
    {V("SIP/2.0/"), SIP_EPARSE, 8},
    {V("SIP/2.0/UDP"), SIP_EPARSE, 11},
    {V("SIP/2.0/UDPhost"), SIP_EPARSE, 15},
    {V("SIP/2.0/UDP host:65536"), SIP_ERANGE, 17},
    {V("SIP/2.0/UDP host:99999999999"), SIP_ERANGE, 17},
    {V("SIP/2.0/UDP host:"), SIP_EPARSE, 17},
    {V("SIP/2.0/UDP host:50a"), SIP_EPARSE, 19},
    {V("SIP/2.0/UDP host junk"), SIP_EPARSE, 17},
    {V("SIP/2.0/UDP 192.0.2.999"), SIP_EPARSE, 12},
    {V("SIP/2.0/UDP -host.example.com"), SIP_EPARSE, 12},
    {V("SIP/2.0/UDP [::1;branch=x"), SIP_EPARSE, 12},
    {V("SIP/2.0/UDP [1:2:3:4:5:6:7:8:9]"), SIP_EPARSE, 12},
    {V("SIP/2.0/UDP [1::2::3]"), SIP_EPARSE, 12},
    {V("SIP/2.0/UDP host;branch"), SIP_EPARSE, 23},
    {V("SIP/2.0/UDP host;branch="), SIP_EPARSE, 24},
    {V("SIP/2.0/UDP host;branch=\"q\""), SIP_EPARSE, 24},
    {V("SIP/2.0/UDP host;ttl=256"), SIP_ERANGE, 21},
    {V("SIP/2.0/UDP host;ttl=0001"), SIP_EPARSE, 21},
    {V("SIP/2.0/UDP host;rport=abc"), SIP_EPARSE, 23},
    {V("SIP/2.0/UDP host;rport=70000"), SIP_ERANGE, 23},
    {V("SIP/2.0/UDP host;received=example.com"), SIP_EPARSE, 26},
    {V("SIP/2.0/UDP host;received=1.2.3"), SIP_EPARSE, 26},
    {V("SIP/2.0/UDP host;maddr=a:b"), SIP_EPARSE, 24},
    {V("SIP/2.0/UDP host;x=\"open"), SIP_EPARSE, 19},
    {V("SIP/2.0/UDP host;;branch=z9hG4bK1"), SIP_EPARSE, 17},
    {V("SIP/2.0/UDP host;branch=a b"), SIP_EPARSE, 26},
    {V("SIP/2.0/UDP host\r\n;branch=x"), SIP_EPARSE, 16}, /* CRLF without SP/HTAB is not LWS */
};

static void test_via_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(via_bad) / sizeof(via_bad[0]); i++) {
		struct sip_via v;
		size_t off = 999;
		int rc = sip_via_parse(&v, via_bad[i].in, &off);
		if (rc != via_bad[i].rc || off != via_bad[i].off)
			fail_msg("row %zu \"%.*s\": rc %d off %zu, want rc %d off %zu", i,
				 SIP_STR_ARG(via_bad[i].in), rc, off, via_bad[i].rc, via_bad[i].off);
	}
	/* A NULL err_off is allowed; a NULL slice is an empty value. */
	struct sip_via v;
	assert_int_equal(sip_via_parse(&v, SIP_STR("SIP/2.0/UDP"), NULL), SIP_EPARSE);
	assert_int_equal(sip_via_parse(&v, SIP_STR_NULL, NULL), SIP_EPARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_via_ok),
	    cmocka_unit_test(test_via_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
