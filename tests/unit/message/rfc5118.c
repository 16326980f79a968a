/* RFC 5118 IPv6 torture messages (tests/data/rfc5118): each parses or is
 * rejected as the RFC says, with the typed values it calls out — where an
 * IPv6 reference ends and a port begins, a received parameter with and
 * without brackets, IPv4-mapped addresses (the SDP bodies: unit/sdp/sdp.c).
 *
 * Policy: the three-colon form of §4.10 is rejected (400). RFC 5118 lets a
 * robust element accept it; RFC 5954, the Standards Track correction of
 * RFC 3261's IPv6 ABNF, makes it invalid — we follow RFC 5954. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sip_test.h"
#include <sip/msg.h>

static char *keep; /* the bytes msg points into, until the next parse */
static struct sip_msg msg;
static struct sip_parse_err perr;

/* Parses tests/data/rfc5118/<name>.dat (exactly its bytes, so ASan sees any
 * over-read) as a datagram, validating every known header. */
static int parse(const char *name)
{
	char rel[256];
	snprintf(rel, sizeof rel, "rfc5118/%s.dat", name);
	size_t len;
	free(keep);
	keep = sip_test_load(rel, &len);
	memset(&perr, 0, sizeof perr);
	return sip_msg_parse(&msg, keep, len, SIP_PARSE_DATAGRAM | SIP_PARSE_VALIDATE, &perr);
}

/* The i-th Via value of msg, parsed. */
static struct sip_via nth_via(int i)
{
	struct sip_hdr_iter it;
	struct sip_str v;
	sip_hdr_iter_init(&it, &msg, SIP_HDR_VIA);
	for (int k = 0; k <= i; k++)
		assert_int_equal(sip_hdr_iter_next(&it, &v), 1);
	struct sip_via via;
	assert_int_equal(sip_via_parse(&via, v, NULL), 0);
	return via;
}

/* The first Contact's URI. */
static struct sip_uri contact_uri(void)
{
	struct sip_hdr_iter it;
	struct sip_str v;
	sip_hdr_iter_init(&it, &msg, SIP_HDR_CONTACT);
	assert_int_equal(sip_hdr_iter_next(&it, &v), 1);
	struct sip_contact c;
	assert_int_equal(sip_contact_parse(&c, v, NULL), 0);
	return c.na.uri;
}

/* §4.1: IPv6 references in the Request-URI, Via and Contact. */
static void test_ipv6_good(void **state)
{
	(void)state;
	assert_true(parse("ipv6-good") > 0);
	assert_int_equal(msg.ruri.host_type, SIP_HOST_IPV6);
	assert_str(msg.ruri.host, "2001:db8::10");
	assert_false(msg.ruri.has_port);
	assert_int_equal(msg.via.host_type, SIP_HOST_IPV6);
	assert_str(msg.via.host, "2001:db8::9:1");
	struct sip_uri c = contact_uri();
	assert_int_equal(c.host_type, SIP_HOST_IPV6);
	assert_str(c.host, "2001:db8::1");
}

/* §4.2: no brackets around the IPv6 address in the Request-URI: 400. */
static void test_ipv6_bad(void **state)
{
	(void)state;
	assert_true(parse("ipv6-bad") < 0);
	assert_int_equal(perr.status, 400);
}

/* §4.3 and §4.4: a port belongs outside the brackets; inside, ":5070" is
 * the address's last group. */
static void test_port_ambiguity(void **state)
{
	(void)state;
	assert_true(parse("port-ambiguous") > 0);
	assert_str(msg.ruri.host, "2001:db8::10:5070");
	assert_false(msg.ruri.has_port);
	assert_true(parse("port-unambiguous") > 0);
	assert_str(msg.ruri.host, "2001:db8::10");
	assert_true(msg.ruri.has_port);
	assert_int_equal(msg.ruri.port, 5070);
}

/* §4.5: received with brackets is not RFC 3261 ABNF, but "robust
 * implementations must nonetheless be able to parse the topmost Via header
 * field and continue processing the request"; without brackets it is valid. */
static void test_via_received(void **state)
{
	(void)state;
	assert_true(parse("via-received-param-with-delim") > 0);
	assert_int_equal(msg.method_id, SIP_METHOD_BYE);
	assert_true(msg.via.has_received);
	assert_str(msg.via.received, "2001:db8::9:255"); /* the address, brackets dropped */
	assert_str(msg.via.branch, "z9hG4bKas3-111");
	assert_true(parse("via-received-param-no-delim") > 0);
	assert_true(msg.via.has_received);
	assert_str(msg.via.received, "2001:db8::9:255");
	assert_str(msg.via.host, "2001:db8::9:1");
}

/* §4.7: IPv4 and IPv6 sent-by hosts mixed in one Via list, a port after a
 * bracketed address, an IPv4 received on an IPv6 sent-by. */
static void test_mult_ip_in_header(void **state)
{
	(void)state;
	assert_true(parse("mult-ip-in-header") > 0);
	struct sip_via v = nth_via(0);
	assert_str(v.host, "2001:db8::9:1");
	assert_true(v.has_port);
	assert_int_equal(v.port, 6050);
	v = nth_via(1);
	assert_int_equal(v.host_type, SIP_HOST_IPV4);
	assert_str(v.host, "192.0.2.1");
	v = nth_via(2);
	assert_str(v.transport, "TCP");
	assert_int_equal(v.host_type, SIP_HOST_IPV6);
	assert_str(v.host, "2001:db8::9:255");
	assert_str(v.received, "192.0.2.200");
}

/* §4.9: IPv4-mapped IPv6 addresses in Via (with a port) and Contact. */
static void test_ipv4_mapped(void **state)
{
	(void)state;
	assert_true(parse("ipv4-mapped-ipv6") > 0);
	assert_int_equal(msg.via.host_type, SIP_HOST_IPV6);
	assert_str(msg.via.host, "::ffff:192.0.2.10");
	assert_int_equal(msg.via.port, 19823);
	assert_str(nth_via(1).host, "::ffff:192.0.2.2");
	struct sip_uri c = contact_uri();
	assert_int_equal(c.host_type, SIP_HOST_IPV6);
	assert_str(c.host, "::ffff:192.0.2.2");
	assert_int_equal(msg.body.len, msg.content_length);
}

/* §4.10: the three-colon form (RFC 3261's ABNF bug, fixed by RFC 5954) is
 * rejected; the correct two-colon form parses. */
static void test_abnf_colons(void **state)
{
	(void)state;
	assert_true(parse("ipv6-bug-abnf-3-colons") < 0);
	assert_int_equal(perr.status, 400);
	assert_true(parse("ipv6-correct-abnf-2-colons") > 0);
	assert_int_equal(msg.ruri.host_type, SIP_HOST_IPV6);
	assert_str(msg.ruri.host, "2001:db8::192.0.2.1");
	assert_str(msg.to.uri.host, "2001:db8::192.0.2.1");
}

static int teardown(void **state)
{
	(void)state;
	free(keep);
	keep = NULL;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipv6_good),	      cmocka_unit_test(test_ipv6_bad),
	    cmocka_unit_test(test_port_ambiguity),    cmocka_unit_test(test_via_received),
	    cmocka_unit_test(test_mult_ip_in_header), cmocka_unit_test(test_ipv4_mapped),
	    cmocka_unit_test(test_abnf_colons),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
