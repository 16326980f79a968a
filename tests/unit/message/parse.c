/* Unit tests for sip_msg_parse, header iteration and the stream framer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sip_test.h"
#include <sip/msg.h>

static struct sip_msg m;
static struct sip_parse_err e;


/* Parses a heap copy of exactly strlen(s) bytes so ASan sees any over-read. */
static int parse(const char *s, unsigned flags)
{
	static char *copy;
	free(copy);
	size_t n = strlen(s);
	copy = malloc(n ? n : 1);
	memcpy(copy, s, n);
	memset(&e, 0, sizeof(e));
	return sip_msg_parse(&m, copy, n, flags, &e);
}

#define HDRS                                                                                                 \
	"Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n"                                      \
	"Max-Forwards: 70\r\n"                                                                               \
	"To: Bob <sip:bob@biloxi.com>\r\n"                                                                   \
	"From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"                                             \
	"Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n"                                                       \
	"CSeq: 314159 INVITE\r\n"                                                                            \
	"Contact: <sip:alice@pc33.atlanta.com>\r\n"

static const char invite[] = "INVITE sip:bob@biloxi.com SIP/2.0\r\n" HDRS "Content-Type: application/sdp\r\n"
			     "Content-Length: 4\r\n\r\nv=0\r\n";

static void test_basic_request(void **state)
{
	(void)state;
	int rc = parse(invite, SIP_PARSE_STREAM);
	assert_int_equal(rc, (int)strlen(invite) - 1); /* the LF after the body are not ours */
	assert_true(m.is_request);
	assert_int_equal(m.method_id, SIP_METHOD_INVITE);
	assert_str(m.ruri_str, "sip:bob@biloxi.com");
	assert_str(m.version, "SIP/2.0");
	assert_str(m.via.host, "pc33.atlanta.com");
	assert_str(m.via.branch, "z9hG4bK776asdhds");
	assert_str(m.to.display, "Bob");
	assert_false(m.to.has_tag);
	assert_str(m.from.tag, "1928301774");
	assert_str(m.call_id, "a84b4c76e66710@pc33.atlanta.com");
	assert_int_equal(m.cseq.num, 314159);
	assert_int_equal(m.cseq.method_id, SIP_METHOD_INVITE);
	assert_int_equal(m.max_forwards, 70);
	assert_str(m.body, "v=0\r");
	assert_int_equal(m.nhdrs, 9);
	assert_str(m.hdrs[0].name, "Via");
	assert_int_equal(m.hdrs[0].line_off, strlen("INVITE sip:bob@biloxi.com SIP/2.0\r\n"));
	assert_int_equal(m.hdrs[0].line_len, strlen("Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n"));
}

static void test_response_and_compact(void **state)
{
	(void)state;
	const char *r = "SIP/2.0 180 Ringing\r\n"
			"v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com:5070;branch=z9hG4bK2\r\n"
			"t: <sip:bob@b.com>;tag=x\r\nf: <sip:a@a.com>;tag=y\r\ni: abc\r\nCSEQ: 1 INVITE\r\n"
			"m: <sip:bob@10.0.0.1>\r\nl: 0\r\nk: 100rel, timer\r\ns: hi\r\n\r\n";
	assert_true(parse(r, 0) > 0);
	assert_false(m.is_request);
	assert_int_equal(m.status, 180);
	assert_str(m.reason, "Ringing");
	assert_int_equal(sip_hdr_count(&m, SIP_HDR_VIA), 2);
	assert_int_equal(sip_hdr_count(&m, SIP_HDR_SUPPORTED), 2);
	assert_str(m.call_id, "abc");
	assert_str(m.to.tag, "x");
	assert_int_not_equal(m.first[SIP_HDR_SUBJECT], SIP_HDR_NONE);
	assert_int_equal(sip_hdr_lookup("cSeQ", 4), SIP_HDR_CSEQ);
	assert_int_equal(sip_hdr_lookup("z", 1), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_lookup("X", 1), SIP_HDR_SESSION_EXPIRES);
	assert_int_equal(sip_hdr_lookup("Vias", 4), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_lookup("gda", 3), SIP_HDR_OTHER); /* STYLE.md: no hash-only identification */
	for (int id = 1; id < SIP_HDR__COUNT; id++) {
		const char *n = sip_hdr_name((enum sip_hdr_id)id);
		assert_int_equal(sip_hdr_lookup(n, strlen(n)), id);
		char c = sip_hdr_compact((enum sip_hdr_id)id);
		if (c)
			assert_int_equal(sip_hdr_lookup(&c, 1), id);
	}
}

/* Comma-separated values and repeated lines are the same thing (§7.3.1). */
static void test_iteration_equivalence(void **state)
{
	(void)state;
	const char *a = "INVITE sip:x@y SIP/2.0\r\n" HDRS "Route: <sip:p1;lr>, <sip:p2;lr>\r\nRoute: <sip:p3,x;lr>\r\n"
			"Allow: INVITE, ACK ,BYE\r\nContent-Length: 0\r\n\r\n";
	const char *b = "INVITE sip:x@y SIP/2.0\r\n" HDRS "Route: <sip:p1;lr>\r\nRoute: <sip:p2;lr>\r\nRoute: <sip:p3,x;lr>\r\n"
			"Allow: INVITE\r\nAllow: ACK\r\nAllow: BYE\r\nContent-Length: 0\r\n\r\n";
	const char *want[] = {"<sip:p1;lr>", "<sip:p2;lr>", "<sip:p3,x;lr>"};
	const char *allow[] = {"INVITE", "ACK", "BYE"};
	for (int k = 0; k < 2; k++) {
		assert_true(parse(k ? b : a, 0) > 0);
		struct sip_hdr_iter it;
		struct sip_str v;
		sip_hdr_iter_init(&it, &m, SIP_HDR_ROUTE);
		for (int i = 0; i < 3; i++) {
			assert_int_equal(sip_hdr_iter_next(&it, &v), 1);
			assert_str(v, want[i]);
		}
		assert_int_equal(sip_hdr_iter_next(&it, &v), 0);
		sip_hdr_iter_init(&it, &m, SIP_HDR_ALLOW);
		for (int i = 0; i < 3; i++) {
			assert_int_equal(sip_hdr_iter_next(&it, &v), 1);
			assert_str(v, allow[i]);
		}
	}
	/* An empty list element is an error, an empty header is no values. */
	assert_true(parse("INVITE sip:x@y SIP/2.0\r\n" HDRS "Supported: a,,b\r\nAllow:\r\nl: 0\r\n\r\n", 0) > 0);
	assert_int_equal(sip_hdr_count(&m, SIP_HDR_SUPPORTED), SIP_EPARSE);
	assert_int_equal(sip_hdr_count(&m, SIP_HDR_ALLOW), 0);
	assert_true(parse("INVITE sip:x@y SIP/2.0\r\n" HDRS "Supported: a,,b\r\nl: 0\r\n\r\n", SIP_PARSE_VALIDATE) < 0);
}

struct bad {
	const char *msg;
	size_t offset;
	int status;
	const char *reason;
};

static void test_rejections(void **state)
{
	(void)state;
	static const struct bad bad[] = {
		{"INVITE sip:a@b SIP/2.0\r\n" HDRS "Content-Length: -1\r\n\r\n", sizeof("INVITE sip:a@b SIP/2.0\r\n" HDRS "Content-Length: ") - 1, 400,
		 "malformed Content-Length"},
		{"INVITE sip:a@b SIP/2.0\r\n" HDRS "Content-Length: 4294967296\r\n\r\n", 0, 400, "malformed Content-Length"},
		{"INVITE sip:a@b SIP/2.0\r\n" HDRS "Max-Forwards: 99999999999\r\n\r\n", 0, 400, "header may appear only once"},
		{"INVITE sip:a@b SIP/3.0\r\n" HDRS "\r\n", 15, 505, "SIP version not supported"},
		{"INVITE sip:a@b SIP/2.0x\r\n" HDRS "\r\n", 15, 400, "malformed SIP-Version"},
		{"INVITE sip:a@b\r\n" HDRS "\r\n", 14, 400, "request line has no SIP-Version"},
		{"INV<ITE sip:a@b SIP/2.0\r\n" HDRS "\r\n", 0, 400, "method is not a token"},
		{"INVITE sip:a@b SIP/2.0\r\n" HDRS "Subject: a\001b\r\n\r\n", 0, 400, "control character in header"},
		{"INVITE sip:a@b SIP/2.0\r\n" HDRS "Subject: a\xc3\x28\r\n\r\n", 0, 400, "invalid UTF-8 in header"},
		{"INVITE sip:a@b SIP/2.0\r\n" HDRS "Subject: a\rb\r\n\r\n", 0, 400, "bare CR in header"},
		{"INVITE sip:a@b SIP/2.0\r\n" HDRS "Bad Header: x\r\n\r\n", 0, 400, "header line has no colon"},
		{"INVITE sip:a@b SIP/2.0\r\n" HDRS, 0, 400, "header section not terminated by an empty line"},
		{"INVITE sip:a@b SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n\r\n", 0, 400, "header may appear only once"},
		{"INVITE sip:a@b SIP/2.0\r\nTo: <sip:a@b>\r\n\r\n", 0, 400, "missing Via header"},
		{"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b\r\n\r\n", 0, 400,
		 "missing From header"},
		{"BYE sip:a@b SIP/2.0\r\n" HDRS "\r\n", 0, 400, "CSeq method does not match the request method"},
		{"FOO sip:a@b SIP/2.0\r\n" HDRS "\r\n", 0, 501, "CSeq method does not match the request method"},
		{"SIP/2.0 1000 Bad\r\n" HDRS "\r\n", 8, 0, "status code is not 3 digits"},
		{"SIP/2.0 099 Bad\r\n" HDRS "\r\n", 8, 0, "status code out of range 100-699"},
		{"SIP/2.0 700 Bad\r\n" HDRS "\r\n", 8, 0, "status code out of range 100-699"},
		{"", 0, 0, "empty message"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i].msg, SIP_PARSE_DATAGRAM);
		if (rc >= 0)
			fail_msg("case %zu accepted", i);
		if (strcmp(e.reason, bad[i].reason))
			fail_msg("case %zu: reason '%s', want '%s'", i, e.reason, bad[i].reason);
		assert_int_equal(e.status, bad[i].status);
		if (bad[i].offset)
			assert_int_equal(e.offset, bad[i].offset);
		assert_true(e.offset <= strlen(bad[i].msg));
	}
}

static void test_limits(void **state)
{
	(void)state;
	/* More header lines than SIP_MAX_HEADERS → 513, never truncation. */
	size_t cap = 64 + SIP_MAX_HEADERS * 16 + sizeof(HDRS);
	char *big = malloc(cap);
	size_t n = (size_t)snprintf(big, cap, "REGISTER sip:a@b SIP/2.0\r\n");
	for (int i = 0; i < SIP_MAX_HEADERS + 1; i++)
		n += (size_t)snprintf(big + n, cap - n, "X-H%03d: v\r\n", i);
	n += (size_t)snprintf(big + n, cap - n, "\r\n");
	assert_true(sip_msg_parse(&m, big, n, 0, &e) < 0);
	assert_int_equal(e.status, 513);
	assert_string_equal(e.reason, "too many header fields");
	free(big);
	/* A header section over SIP_MAX_HEADER_BYTES → 513. */
	size_t hn = SIP_MAX_HEADER_BYTES + 200;
	char *h = malloc(hn);
	memset(h, 'a', hn);
	memcpy(h, "OPTIONS sip:a@b SIP/2.0\r\nSubject: ", 34);
	assert_true(sip_msg_parse(&m, h, hn, SIP_PARSE_STREAM, &e) < 0);
	assert_int_equal(e.status, 513);
	free(h);
	/* Content-Length over the body cap. */
	assert_true(parse("INVITE sip:a@b SIP/2.0\r\n" HDRS "Content-Length: 99999999\r\n\r\n", SIP_PARSE_STREAM) < 0);
	assert_int_equal(e.status, 513);
}

/* Every proper prefix of a valid message is "incomplete" on a stream; the
 * whole message parses. Leading CRLFs are skipped (§7.5). */
static void test_prefixes(void **state)
{
	(void)state;
	const char *msg = "\r\n\r\n" "INVITE sip:bob@biloxi.com SIP/2.0\r\n" HDRS "Subject: folded\r\n value\r\n"
			  "Content-Length: 4\r\n\r\nv=0\r";
	size_t n = strlen(msg);
	for (size_t k = 0; k < n; k++) {
		char *p = malloc(k ? k : 1);
		memcpy(p, msg, k);
		int rc = sip_msg_parse(&m, p, k, SIP_PARSE_STREAM, &e);
		if (rc != SIP_EAGAIN)
			fail_msg("prefix %zu: rc %d (%s)", k, rc, rc < 0 ? e.reason : "");
		free(p);
	}
	assert_int_equal(parse(msg, SIP_PARSE_STREAM), (int)n);
	assert_str(m.hdrs[m.first[SIP_HDR_SUBJECT]].value, "folded\r\n value");
	/* A missing Content-Length is an error on a stream, the rest of a datagram otherwise. */
	assert_true(parse("INVITE sip:x@y SIP/2.0\r\n" HDRS "\r\nabc", SIP_PARSE_STREAM) < 0);
	assert_string_equal(e.reason, "missing Content-Length on a stream");
	assert_int_equal(e.status, 400);
	assert_true(parse("INVITE sip:x@y SIP/2.0\r\n" HDRS "\r\nabc", SIP_PARSE_DATAGRAM) > 0);
	assert_str(m.body, "abc");
}

static void test_framer(void **state)
{
	(void)state;
	static const char one[] = "INVITE sip:x@y SIP/2.0\r\n" HDRS "Content-Length: 5\r\n\r\nhello";
	char two[2 * sizeof(one) + 8];
	size_t n1 = strlen(one);
	memcpy(two, "\r\n\r\n", 4); /* keep-alive first */
	memcpy(two + 4, one, n1);
	memcpy(two + 4 + n1, one, n1);
	size_t total = 4 + 2 * n1;

	/* Byte by byte: a message is found exactly when its last byte arrives. */
	struct sip_framer f = {0};
	sip_framer_init(&f);
	size_t consumed = 0, found = 0;
	for (size_t have = 1; have <= total; have++) {
		size_t skip, len;
		int rc = sip_framer_next(&f, two + consumed, have - consumed, &skip, &len, &e);
		if (rc < 0)
			fail_msg("have %zu: %s at %zu", have, e.reason, e.offset);
		consumed += skip;
		if (rc == 1) {
			assert_int_equal(len, n1);
			assert_int_equal(sip_msg_parse(&m, two + consumed, len, SIP_PARSE_STREAM, &e), (int)n1);
			assert_str(m.body, "hello");
			consumed += len;
			found++;
			assert_int_equal(consumed, have);
		}
	}
	assert_int_equal(found, 2);

	/* Two messages in one read. */
	size_t skip, len;
	sip_framer_init(&f);
	assert_int_equal(sip_framer_next(&f, two, total, &skip, &len, &e), 1);
	assert_int_equal(skip, 4);
	assert_int_equal(len, n1);
	assert_int_equal(sip_framer_next(&f, two + skip + len, total - skip - len, &skip, &len, &e), 1);
	assert_int_equal(skip, 0);

	/* No Content-Length, conflicting values, oversize. */
	static const char nocl[] = "INVITE sip:x@y SIP/2.0\r\n" HDRS "\r\n";
	sip_framer_init(&f);
	assert_int_equal(sip_framer_next(&f, nocl, strlen(nocl), &skip, &len, &e), SIP_EPARSE);
	assert_int_equal(e.status, 400);
	static const char twocl[] = "INVITE sip:x@y SIP/2.0\r\n" HDRS "l: 1\r\nContent-Length: 2\r\n\r\nab";
	sip_framer_init(&f);
	assert_int_equal(sip_framer_next(&f, twocl, strlen(twocl), &skip, &len, &e), SIP_EPARSE);
	static const char huge[] = "INVITE sip:x@y SIP/2.0\r\n" HDRS "Content-Length: 2000000\r\n\r\n";
	sip_framer_init(&f);
	assert_int_equal(sip_framer_next(&f, huge, strlen(huge), &skip, &len, &e), SIP_ETOOBIG);
	assert_int_equal(e.status, 513);
	/* Folded Content-Length with compact name. */
	static const char fold[] = "INVITE sip:x@y SIP/2.0\r\n" HDRS "L :\r\n 3\r\n\r\nabc";
	sip_framer_init(&f);
	assert_int_equal(sip_framer_next(&f, fold, strlen(fold), &skip, &len, &e), 1);
	assert_int_equal(len, strlen(fold));
	/* Endless header section → 513 once over the cap. */
	f.max_header_bytes = 100;
	sip_framer_init(&f);
	char junk[200];
	memset(junk, 'x', sizeof(junk));
	assert_int_equal(sip_framer_next(&f, junk, sizeof(junk), &skip, &len, &e), SIP_ETOOBIG);
}

static void test_methods(void **state)
{
	(void)state;
	static const char *const names[] = {"INVITE", "ACK",  "BYE",    "CANCEL", "OPTIONS", "REGISTER", "PRACK",
					    "UPDATE", "SUBSCRIBE", "NOTIFY", "REFER", "MESSAGE", "INFO", "PUBLISH"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		enum sip_method id = sip_method_lookup(sip_str_c(names[i]));
		assert_int_not_equal(id, SIP_METHOD_UNKNOWN);
		assert_string_equal(sip_method_name(id), names[i]);
	}
	assert_int_equal(sip_method_lookup(SIP_STR("invite")), SIP_METHOD_UNKNOWN); /* case-sensitive */
	assert_null(sip_method_name(SIP_METHOD_UNKNOWN));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_request), cmocka_unit_test(test_response_and_compact),
		cmocka_unit_test(test_iteration_equivalence), cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_limits),        cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_framer),        cmocka_unit_test(test_methods),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
