/* Loop detection and Max-Breadth (src/proxy/loop.c; RFC 3261 §16.3 step 4
 * and §16.6 step 8 as corrected by RFC 5393): which fields the loop hash
 * covers, the hash inside our branch ids, loop vs spiral, and the Incoming
 * Max-Breadth a request allows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sip/proxy.h>

#define CRLF "\r\n"

static struct sip_msg m;
static char *copy; /* heap copy: ASan sees any over-read */

static void parse(const char *text)
{
	size_t n = strlen(text);
	free(copy);
	copy = malloc(n);
	assert_non_null(copy);
	memcpy(copy, text, n);
	assert_int_equal(sip_msg_parse(&m, copy, n, SIP_PARSE_DATAGRAM, NULL), (int)n);
}

/* A request with the given top lines (Request-URI line, Vias ...) and a
 * fixed rest; `extra` goes before Content-Length. */
static void parse_req(const char *ruri, const char *vias, const char *extra)
{
	char buf[2048];
	snprintf(buf, sizeof(buf),
		 "INVITE %s SIP/2.0" CRLF "%s"
		 "Max-Forwards: 69" CRLF "From: <sip:alice@example.com>;tag=f1" CRLF "To: <sip:bob@example.org>" CRLF
		 "Call-ID: c1@a" CRLF "CSeq: 5 INVITE" CRLF "%s"
		 "Content-Length: 0" CRLF CRLF,
		 ruri, vias, extra);
	parse(buf);
}

static void hash_of(char out[SIP_PROXY_LOOP_HASH_LEN + 1])
{
	sip_proxy_loop_hash(&m, SIP_STR_NULL, out);
	assert_int_equal(strlen(out), SIP_PROXY_LOOP_HASH_LEN);
}

#define VIA_A "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1" CRLF
#define VIA_B "Via: SIP/2.0/UDP b.example.net:5070;branch=z9hG4bK2" CRLF

/* The top Via, Max-Forwards and Max-Breadth change on every hop: not hashed.
 * Request-URI, tags, Call-ID, CSeq number, Route, Proxy-Require,
 * Proxy-Authorization decide routing: each changes the hash. */
static void test_hash_fields(void **state)
{
	(void)state;
	char h0[SIP_PROXY_LOOP_HASH_LEN + 1], h[SIP_PROXY_LOOP_HASH_LEN + 1];
	parse_req("sip:bob@example.org", VIA_A, "");
	hash_of(h0);
	parse_req("sip:bob@example.org", VIA_B VIA_A, "Max-Breadth: 3" CRLF);
	hash_of(h);
	assert_string_equal(h, h0);

	static const char *const changed[][2] = {
	    {"sip:bob@example.org;x=1", ""},
	    {"sip:bob@example.org", "Route: <sip:p.example.net;lr>" CRLF},
	    {"sip:bob@example.org", "Proxy-Require: foo" CRLF},
	    {"sip:bob@example.org", "Proxy-Authorization: Digest username=\"a\"" CRLF},
	};
	for (size_t i = 0; i < sizeof(changed) / sizeof(changed[0]); i++) {
		parse_req(changed[i][0], VIA_A, changed[i][1]);
		hash_of(h);
		assert_string_not_equal(h, h0);
	}
	/* CSeq number and To tag (an in-dialog request is another request). */
	parse("INVITE sip:bob@example.org SIP/2.0" CRLF VIA_A "Max-Forwards: 69" CRLF
	      "From: <sip:alice@example.com>;tag=f1" CRLF "To: <sip:bob@example.org>" CRLF "Call-ID: c1@a" CRLF
	      "CSeq: 6 INVITE" CRLF "Content-Length: 0" CRLF CRLF);
	hash_of(h);
	assert_string_not_equal(h, h0);
	parse("INVITE sip:bob@example.org SIP/2.0" CRLF VIA_A "Max-Forwards: 69" CRLF
	      "From: <sip:alice@example.com>;tag=f1" CRLF "To: <sip:bob@example.org>;tag=t9" CRLF "Call-ID: c1@a" CRLF
	      "CSeq: 5 INVITE" CRLF "Content-Length: 0" CRLF CRLF);
	hash_of(h);
	assert_string_not_equal(h, h0);
}

static void test_branch_hash(void **state)
{
	(void)state;
	char b[SIP_PROXY_BRANCH_MAX];
	int n = sip_proxy_branch(3, SIP_STR("0123456789abcdef.r4nd0m"), b, sizeof(b));
	assert_true(n > 0);
	struct sip_str h = sip_proxy_branch_loop_hash((struct sip_str){b, (size_t)n});
	assert_int_equal(h.len, SIP_PROXY_LOOP_HASH_LEN);
	assert_memory_equal(h.p, "0123456789abcdef", SIP_PROXY_LOOP_HASH_LEN);
	/* No hash: an ACK's branch, someone else's, one cut short. */
	assert_int_equal(sip_proxy_branch_loop_hash(SIP_STR("z9hG4bK-sd3-ack0123456789abcdef")).len, 0);
	assert_int_equal(sip_proxy_branch_loop_hash(SIP_STR("z9hG4bK0123456789abcdef.x")).len, 0);
	assert_int_equal(sip_proxy_branch_loop_hash(SIP_STR("z9hG4bK-sd3-0123456789abcdef")).len, 0);
	assert_int_equal(sip_proxy_branch_loop_hash(SIP_STR("z9hG4bK-sd3-0123")).len, 0);
}

/* Ours: sent-by p.example.org (any port). */
static bool ours(void *ud, const struct sip_via *v)
{
	(*(int *)ud)++;
	return v->host.len == 13 && memcmp(v->host.p, "p.example.org", 13) == 0;
}

static void test_loop_vs_spiral(void **state)
{
	(void)state;
	char h[SIP_PROXY_LOOP_HASH_LEN + 1], vias[512];
	int calls = 0;
	parse_req("sip:bob@example.org", VIA_A, "");
	hash_of(h);
	/* The same request back through b.example.net, our Via below its. */
	snprintf(vias, sizeof(vias), VIA_B "Via: SIP/2.0/UDP p.example.org;branch=z9hG4bK-sd1-%s.77aa" CRLF VIA_A, h);
	parse_req("sip:bob@example.org", vias, "");
	assert_int_equal(sip_proxy_loop_check(&m, SIP_STR_NULL, ours, &calls), 1);
	/* Retargeted on the way (another Request-URI): a spiral. */
	parse_req("sip:bob@192.0.2.9", vias, "");
	assert_int_equal(sip_proxy_loop_check(&m, SIP_STR_NULL, ours, &calls), 0);
	/* The same hash in a Via that is not ours (another proxy's sipd). */
	snprintf(vias, sizeof(vias), "Via: SIP/2.0/UDP q.example.org;branch=z9hG4bK-sd1-%s.77aa" CRLF VIA_A, h);
	parse_req("sip:bob@example.org", vias, "");
	calls = 0;
	assert_int_equal(sip_proxy_loop_check(&m, SIP_STR_NULL, ours, &calls), 0);
	assert_int_equal(calls, 1); /* asked only about the Via with one of our branch ids */
	/* No Via of ours at all: not even asked. */
	parse_req("sip:bob@example.org", VIA_B VIA_A, "");
	calls = 0;
	assert_int_equal(sip_proxy_loop_check(&m, SIP_STR_NULL, ours, &calls), 0);
	assert_int_equal(calls, 0);
	assert_int_equal(sip_proxy_loop_check(NULL, SIP_STR_NULL, ours, &calls), SIP_EINVAL);
}

/* The credentials a proxy consumes (§22.3) are not hashed: its copy leaves
 * without them and is still recognised when it comes back; any other
 * realm's are hashed. */
static void test_loop_after_consumed_credentials(void **state)
{
	(void)state;
#define PA(realm)                                                                                            \
	"Proxy-Authorization: Digest username=\"alice\", realm=\"" realm "\", nonce=\"n\", "                    \
	"uri=\"sip:bob@example.org\", response=\"0123456789abcdef0123456789abcdef\"" CRLF
	char h_with[SIP_PROXY_LOOP_HASH_LEN + 1], h_without[SIP_PROXY_LOOP_HASH_LEN + 1], vias[512];
	struct sip_str realm = SIP_STR("example.com");
	int calls = 0;
	parse_req("sip:bob@example.org", VIA_A, PA("example.com"));
	sip_proxy_loop_hash(&m, realm, h_with);
	parse_req("sip:bob@example.org", VIA_A, "");
	sip_proxy_loop_hash(&m, realm, h_without);
	assert_string_equal(h_with, h_without);
	/* Our copy came back without the credentials: a loop. */
	snprintf(vias, sizeof(vias), VIA_B "Via: SIP/2.0/UDP p.example.org;branch=z9hG4bK-sd1-%s.77aa" CRLF VIA_A,
		 h_with);
	parse_req("sip:bob@example.org", vias, "");
	assert_int_equal(sip_proxy_loop_check(&m, realm, ours, &calls), 1);
	/* Another realm's credentials are routing input like any other. */
	parse_req("sip:bob@example.org", VIA_A, PA("example.net"));
	sip_proxy_loop_hash(&m, realm, h_with);
	assert_string_not_equal(h_with, h_without);
#undef PA
}

static void test_max_breadth(void **state)
{
	(void)state;
	static const struct {
		const char *hdr;
		int want;
	} cases[] = {
	    {"", SIP_PROXY_DEFAULT_MAX_BREADTH},
	    {"Max-Breadth: 5" CRLF, 5},
	    {"max-breadth:0" CRLF, 0},
	    {"Max-Breadth: 999999999999999999999" CRLF, SIP_PROXY_MAX_MAX_BREADTH},
	    {"Max-Breadth: 2x" CRLF, SIP_EPARSE},
	    {"Max-Breadth: -1" CRLF, SIP_EPARSE},
	    {"Max-Breadth:" CRLF, SIP_EPARSE},
	    {"Max-Breadth: 3" CRLF "Max-Breadth: 3" CRLF, SIP_EPARSE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse_req("sip:bob@example.org", VIA_A, cases[i].hdr);
		assert_int_equal(sip_proxy_max_breadth(&m), cases[i].want);
	}
}

static int teardown(void **state)
{
	(void)state;
	free(copy);
	copy = NULL;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_hash_fields, teardown),
	    cmocka_unit_test_teardown(test_branch_hash, teardown),
	    cmocka_unit_test_teardown(test_loop_vs_spiral, teardown),
	    cmocka_unit_test_teardown(test_loop_after_consumed_credentials, teardown),
	    cmocka_unit_test_teardown(test_max_breadth, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
