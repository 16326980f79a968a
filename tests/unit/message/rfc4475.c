/* RFC 4475 torture messages: every file of tests/data/rfc4475 against the
 * verdict in expected.tsv, and the typed values the RFC calls out.
 *
 * Policy for "may-accept" messages: sipd rejects them all (400). RFC 4475 lets
 * a liberal element accept them only if it never forwards them unrepaired;
 * rejecting is always allowed and leaves no unrepaired message to leak. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sip_test.h"
#include <sip/msg.h>

#define DIR SIP_TEST_DATA "/rfc4475/"

static char *load(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), DIR "%s", name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[65536];
	*len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	/* A private copy per call, exactly len bytes, so ASan catches over-reads. */
	char *copy = malloc(*len ? *len : 1);
	memcpy(copy, buf, *len);
	return copy;
}

static struct sip_msg msg;
static struct sip_parse_err perr;

static int parse_file(const char *name, unsigned flags)
{
	size_t len;
	char *b = load(name, &len);
	memset(&perr, 0, sizeof(perr));
	int rc = sip_msg_parse(&msg, b, len, flags | SIP_PARSE_VALIDATE, &perr);
	/* msg points into b: the tests below only use it while b is alive, so
	 * keep b in a static slot freed on the next call. */
	static char *keep;
	free(keep);
	keep = b;
	return rc;
}


/* Expected rejection status for messages rejected at parse time. */
static const struct {
	const char *file;
	int status;
} rejected[] = {
	{"badinv01.dat", 400}, {"clerr.dat", 400},    {"ncl.dat", 400},      {"scalar02.dat", 400},
	{"scalarlg.dat", 0},   {"quotbal.dat", 400},  {"ltgtruri.dat", 400}, {"lwsruri.dat", 400},
	{"lwsstart.dat", 400}, {"trws.dat", 400},     {"escruri.dat", 400},  {"baddate.dat", 400},
	{"regbadct.dat", 400}, {"badaspec.dat", 400}, {"baddn.dat", 400},    {"badvers.dat", 505},
	{"mismatch01.dat", 400}, {"mismatch02.dat", 501}, {"bigcode.dat", 0}, {"test.dat", 400},
	{"insuf.dat", 400},    {"multi01.dat", 400},  {"mcl01.dat", 400},
};

static int rejected_status(const char *file)
{
	for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++)
		if (!strcmp(rejected[i].file, file))
			return rejected[i].status;
	return -1;
}

/* Every row of expected.tsv: invalid → rejected with the right status;
 * everything else parses (app-level answers are the TU's business). */
static void test_verdicts(void **state)
{
	(void)state;
	FILE *f = fopen(DIR "expected.tsv", "r");
	assert_non_null(f);
	char line[4096];
	int rows = 0;
	while (fgets(line, sizeof(line), f)) {
		char *file = line;
		char *tab = strchr(file, '\t');
		assert_non_null(tab);
		*tab = 0;
		char *verdict = tab + 1;
		tab = strchr(verdict, '\t');
		assert_non_null(tab);
		*tab = 0;
		rows++;
		int rc = parse_file(file, SIP_PARSE_DATAGRAM);
		int want = rejected_status(file);
		if (!strcmp(verdict, "invalid"))
			assert_true(want >= 0); /* every invalid message is in the table */
		if (want >= 0) {
			if (rc >= 0)
				fail_msg("%s: accepted, should be rejected with %d", file, want);
			if (perr.status != want)
				fail_msg("%s: status %d (%s at %zu), want %d", file, perr.status, perr.reason,
					 perr.offset, want);
			assert_non_null(perr.reason);
		} else if (rc < 0) {
			fail_msg("%s (%s): rejected: %s at offset %zu", file, verdict, perr.reason, perr.offset);
		}
	}
	fclose(f);
	assert_int_equal(rows, 50);
}

static void test_wsinv(void **state)
{
	(void)state;
	assert_true(parse_file("wsinv.dat", 0) > 0);
	assert_true(msg.is_request);
	assert_int_equal(msg.method_id, SIP_METHOD_INVITE);
	assert_str(msg.ruri.host, "chair-dnrc.example.com");
	assert_str(msg.ruri.user, "vivekg");
	assert_int_equal(msg.max_forwards, 68);
	assert_int_equal(msg.cseq.num, 9);
	assert_str(msg.cseq.method, "INVITE");
	assert_str(msg.call_id, "wsinv.ndaksdj@192.0.2.1");
	assert_str(msg.to.tag, "1918181833n");
	assert_str(msg.from.tag, "98asjd8");
	assert_str(msg.from.display, "\"J Rosenberg \\\\\\\"\"");
	assert_str(msg.via.transport, "UDP");
	assert_str(msg.via.host, "192.0.2.2");
	assert_str(msg.via.branch, "390skdjuw");
	assert_int_equal(msg.content_length, 150);
	assert_int_equal(msg.body.len, 150);
	/* Three Via values over two header names (Via and v). */
	assert_int_equal(sip_hdr_count(&msg, SIP_HDR_VIA), 3);
	struct sip_hdr_iter it;
	struct sip_str v;
	struct sip_via via;
	sip_hdr_iter_init(&it, &msg, SIP_HDR_VIA);
	assert_int_equal(sip_hdr_iter_next(&it, &v), 1);
	assert_int_equal(sip_hdr_iter_next(&it, &v), 1);
	assert_int_equal(sip_via_parse(&via, v, NULL), 0);
	assert_str(via.transport, "TCP");
	assert_str(via.host, "spindle.example.com");
	assert_str(via.branch, "z9hG4bK9ikj8");
	assert_int_equal(sip_hdr_iter_next(&it, &v), 1);
	assert_int_equal(sip_via_parse(&via, v, NULL), 0);
	assert_str(via.host, "192.168.255.111");
	assert_str(via.branch, "z9hG4bK30239");
	assert_int_equal(sip_hdr_iter_next(&it, &v), 0);
	/* Contact with q=0.33 and a folded param. */
	struct sip_contact c;
	sip_hdr_iter_init(&it, &msg, SIP_HDR_CONTACT);
	assert_int_equal(sip_hdr_iter_next(&it, &v), 1);
	assert_int_equal(sip_contact_parse(&c, v, NULL), 0);
	assert_int_equal(c.q, 330);
	assert_str(c.na.uri.user, "jdrosen");
	/* The empty Subject and the unknown headers are kept, untouched. */
	assert_int_not_equal(msg.first[SIP_HDR_SUBJECT], SIP_HDR_NONE);
	assert_int_equal(msg.hdrs[msg.first[SIP_HDR_SUBJECT]].value.len, 0);
	int u = sip_msg_find(&msg, SIP_STR("UnknownHeaderWithUnusualValue"));
	assert_true(u >= 0);
	assert_str(msg.hdrs[u].value, ";;,,;;,;");
	u = sip_msg_find(&msg, SIP_STR("NewFangledHeader"));
	assert_true(u >= 0);
	assert_str(msg.hdrs[u].value, "newfangled value\r\n continued newfangled value");
}

static void test_intmeth(void **state)
{
	(void)state;
	assert_true(parse_file("intmeth.dat", 0) > 0);
	assert_int_equal(msg.method_id, SIP_METHOD_UNKNOWN);
	assert_str(msg.method, "!interesting-Method0123456789_*+`.%indeed'~");
	assert_str(msg.cseq.method, "!interesting-Method0123456789_*+`.%indeed'~");
	assert_int_equal(msg.cseq.num, 139122385);
	assert_str(msg.via.branch, "z9hG4bK-.!%66*_+`'~");
	assert_str(msg.call_id, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
	assert_str(msg.from.tag, "_token~1'+`*%!-.");
	assert_int_equal(msg.max_forwards, 255);
	assert_int_equal(msg.ruri.scheme, SIP_URI_SIP);
	assert_str(msg.ruri.host, "example.com");
	assert_int_equal(msg.ruri.has_password, true);
}

static void test_escapes(void **state)
{
	(void)state;
	assert_true(parse_file("esc01.dat", 0) > 0);
	assert_str(msg.ruri.user, "sips%3Auser%40example.com");
	assert_str(msg.ruri.host, "example.net");
	char out[64];
	int n = sip_unescape(msg.ruri.user, out, sizeof(out));
	assert_int_equal(n, (int)strlen("sips:user@example.com"));
	assert_memory_equal(out, "sips:user@example.com", n);
	assert_str(msg.to.uri.user, "%75se%72");
	assert_str(msg.call_id, "esc01.239409asdfakjkn23onasd0-3234");

	assert_true(parse_file("escnull.dat", 0) > 0);
	assert_int_equal(msg.method_id, SIP_METHOD_REGISTER);
	assert_str(msg.to.uri.user, "null-%00-null");
	n = sip_unescape(msg.to.uri.user, out, sizeof(out));
	assert_int_equal(n, 11); /* the NUL does not truncate the AOR */
	assert_memory_equal(out, "null-\0-null", 11);
	assert_int_equal(sip_hdr_count(&msg, SIP_HDR_CONTACT), 2);
	assert_true(msg.has_content_length);
	assert_int_equal(msg.content_length, 0);

	assert_true(parse_file("esc02.dat", 0) > 0);
	assert_int_equal(msg.method_id, SIP_METHOD_UNKNOWN); /* RE%47IST%45R is not REGISTER */
	assert_int_equal(sip_hdr_count(&msg, SIP_HDR_CONTACT), 2); /* C%6Fntact is an extension header */
	assert_true(sip_msg_find(&msg, SIP_STR("C%6Fntact")) >= 0);
}

static void test_misc_valid(void **state)
{
	(void)state;
	struct sip_hdr_iter it;
	struct sip_str v;

	assert_true(parse_file("lwsdisp.dat", 0) > 0);
	assert_str(msg.from.display, "caller");
	assert_str(msg.from.uri.user, "caller");
	assert_str(msg.from.tag, "323");

	assert_true(parse_file("semiuri.dat", 0) > 0);
	assert_str(msg.ruri.user, "user;par=u%40example.net");
	assert_str(msg.ruri.host, "example.com");
	assert_int_equal(sip_hdr_count(&msg, SIP_HDR_ACCEPT), 6);

	assert_true(parse_file("transports.dat", 0) > 0);
	static const char *const tp[] = {"UDP", "SCTP", "TLS", "UNKNOWN", "TCP"};
	sip_hdr_iter_init(&it, &msg, SIP_HDR_VIA);
	for (int i = 0; i < 5; i++) {
		struct sip_via via;
		assert_int_equal(sip_hdr_iter_next(&it, &v), 1);
		assert_int_equal(sip_via_parse(&via, v, NULL), 0);
		assert_str(via.transport, tp[i]);
	}
	assert_str(msg.call_id, "transports.kijh4akdnaqjkwendsasfdj");

	assert_true(parse_file("mpart01.dat", 0) > 0);
	assert_int_equal(msg.method_id, SIP_METHOD_MESSAGE);
	assert_int_equal(msg.body.len, 553);
	assert_true(msg.via.has_rport);
	assert_false(msg.via.rport_has_value);

	assert_true(parse_file("unreason.dat", 0) > 0);
	assert_false(msg.is_request);
	assert_int_equal(msg.status, 200);
	assert_true(msg.reason.len > 20);
	assert_memory_equal(msg.reason.p, "= 2**3 * 5**2 ", 14);

	assert_true(parse_file("noreason.dat", 0) > 0);
	assert_int_equal(msg.status, 100);
	assert_int_equal(msg.reason.len, 0);

	assert_true(parse_file("longreq.dat", 0) > 0);
	assert_int_equal(sip_hdr_count(&msg, SIP_HDR_VIA), 34);
	size_t longest = 0;
	struct sip_via lv;
	sip_hdr_iter_init(&it, &msg, SIP_HDR_VIA);
	while (sip_hdr_iter_next(&it, &v) == 1) {
		assert_int_equal(sip_via_parse(&lv, v, NULL), 0);
		if (lv.branch.len > longest)
			longest = lv.branch.len;
	}
	assert_true(longest > 200); /* the 216-octet branch */

	size_t len;
	char *b = load("dblreq.dat", &len);
	int rc = sip_msg_parse(&msg, b, len, SIP_PARSE_DATAGRAM, &perr);
	assert_true(rc > 0 && (size_t)rc < len); /* trailing INVITE-looking octets ignored (§18.3) */
	assert_int_equal(msg.method_id, SIP_METHOD_REGISTER);
	assert_int_equal(msg.body.len, 0);
	free(b);

	assert_true(parse_file("inv2543.dat", 0) > 0);
	assert_false(msg.has_content_length);
	assert_int_equal(msg.body.len, 105); /* no Content-Length: the rest of the datagram */
	assert_int_equal(msg.max_forwards, -1);
	assert_false(msg.via.has_branch);
	assert_false(msg.from.has_tag);
}

static void test_app_level(void **state)
{
	(void)state;
	assert_true(parse_file("unkscm.dat", 0) > 0);
	assert_int_equal(msg.ruri.scheme, SIP_URI_OTHER);
	assert_str(msg.ruri.scheme_str, "nobodyKnowsThisScheme");
	assert_true(parse_file("novelsc.dat", 0) > 0);
	assert_int_equal(msg.ruri.scheme, SIP_URI_OTHER);
	assert_true(parse_file("unksm2.dat", 0) > 0);
	assert_int_equal(msg.to.uri.scheme, SIP_URI_OTHER);
	assert_str(msg.to.uri.scheme_str, "isbn");
	assert_true(parse_file("zeromf.dat", 0) > 0);
	assert_int_equal(msg.max_forwards, 0);
	assert_true(parse_file("bcast.dat", 0) > 0);
	assert_int_equal(sip_hdr_count(&msg, SIP_HDR_VIA), 2);
	assert_true(parse_file("badbranch.dat", 0) > 0);
	assert_str(msg.via.branch, "z9hG4bK");

	struct sip_hdr_iter it;
	struct sip_str v;
	struct sip_contact c;
	assert_true(parse_file("cparam01.dat", 0) > 0);
	sip_hdr_iter_init(&it, &msg, SIP_HDR_CONTACT);
	assert_int_equal(sip_hdr_iter_next(&it, &v), 1);
	assert_int_equal(sip_contact_parse(&c, v, NULL), 0);
	assert_int_equal(c.na.uri.params.len, 0); /* unknownparam is a contact-param */
	assert_str(c.na.params, "unknownparam");
	assert_true(parse_file("cparam02.dat", 0) > 0);
	sip_hdr_iter_init(&it, &msg, SIP_HDR_CONTACT);
	assert_int_equal(sip_hdr_iter_next(&it, &v), 1);
	assert_int_equal(sip_contact_parse(&c, v, NULL), 0);
	assert_str(c.na.uri.params, "unknownparam");
	assert_true(parse_file("regescrt.dat", 0) > 0);
	sip_hdr_iter_init(&it, &msg, SIP_HDR_CONTACT);
	assert_int_equal(sip_hdr_iter_next(&it, &v), 1);
	assert_int_equal(sip_contact_parse(&c, v, NULL), 0);
	assert_str(c.na.uri.headers, "Route=%3Csip:sip.example.com%3E");

	struct sip_auth a;
	assert_true(parse_file("regaut01.dat", 0) > 0);
	assert_int_equal(sip_auth_parse(&a, msg.hdrs[msg.first[SIP_HDR_AUTHORIZATION]].value, NULL), 0);
	assert_str(a.scheme, "NoOneKnowsThisScheme");
	assert_true(parse_file("bext01.dat", 0) > 0);
	assert_int_equal(sip_hdr_count(&msg, SIP_HDR_REQUIRE), 2);
	assert_int_equal(sip_hdr_count(&msg, SIP_HDR_PROXY_REQUIRE), 2);
	sip_hdr_iter_init(&it, &msg, SIP_HDR_PROXY_REQUIRE);
	assert_int_equal(sip_hdr_iter_next(&it, &v), 1);
	assert_str(v, "noProxiesSupportThis");
}

static void test_error_offsets(void **state)
{
	(void)state;
	assert_true(parse_file("badvers.dat", 0) < 0);
	assert_int_equal(perr.offset, strlen("OPTIONS sip:t.watson@example.org "));
	assert_true(parse_file("lwsstart.dat", 0) < 0);
	assert_int_equal(perr.offset, strlen("INVITE "));
	assert_true(parse_file("ncl.dat", 0) < 0);
	assert_string_equal(perr.reason, "malformed Content-Length");
	assert_true(parse_file("clerr.dat", 0) < 0);
	assert_string_equal(perr.reason, "body shorter than Content-Length");
	assert_true(parse_file("insuf.dat", 0) < 0);
	assert_non_null(strstr(perr.reason, "missing"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts), cmocka_unit_test(test_wsinv),     cmocka_unit_test(test_intmeth),
		cmocka_unit_test(test_escapes),  cmocka_unit_test(test_misc_valid), cmocka_unit_test(test_app_level),
		cmocka_unit_test(test_error_offsets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
