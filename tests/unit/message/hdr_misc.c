/* Unit tests for the small sub-parsers: CSeq, u32, token, Content-Type, RAck,
 * Event, Retry-After, Timestamp, Date, sip_unquote (RFC 3261 §25, RFC 3262,
 * RFC 6665, RFC 4475 vectors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "sip_test.h"
#include <sip/msg.h>



struct bad {
	struct sip_str in;
	int rc;
	size_t off;
};

static void check_bad(const char *what, size_t i, const struct bad *b, int rc, size_t off)
{
	if (rc != b->rc || off != b->off)
		fail_msg("%s row %zu \"%.*s\": rc %d off %zu, want rc %d off %zu", what, i,
			 SIP_STR_ARG(b->in), rc, off, b->rc, b->off);
}

/* ---- CSeq ---- */

static const struct {
	struct sip_str in;
	uint32_t num;
	const char *method;
	enum sip_method id;
} cseq_ok[] = {
    {V("0009\r\n  INVITE"), 9, "INVITE", SIP_METHOD_INVITE}, /* RFC 4475 wsinv */
    {V("139122385 !interesting-Method0123456789_*+`.%indeed'~"), 139122385,
     "!interesting-Method0123456789_*+`.%indeed'~", SIP_METHOD_UNKNOWN}, /* RFC 4475 intmeth */
    {V("4294967295 REGISTER"), 4294967295u, "REGISTER", SIP_METHOD_REGISTER},
    {V("  1   ACK  "), 1, "ACK", SIP_METHOD_ACK},
    {V("1 invite"), 1, "invite", SIP_METHOD_UNKNOWN},		  /* methods are case-sensitive (§7.1) */
    {V("2 RE%47IST%45R"), 2, "RE%47IST%45R", SIP_METHOD_UNKNOWN}, /* RFC 4475 esc02 */
};

static const struct bad cseq_bad[] = {
    {V("36893488147419103232 REGISTER"), SIP_ERANGE, 0},   /* RFC 4475 scalar02 */
    {V(" 9292394834772304023312 OPTIONS"), SIP_ERANGE, 1}, /* RFC 4475 scalarlg */
    {V("4294967296 INVITE"), SIP_ERANGE, 0},
    {V("8INVITE"), SIP_EPARSE, 1},
    {V("-1 INVITE"), SIP_EPARSE, 0},
    {V("1 INVITE x"), SIP_EPARSE, 9},
    {V("1 "), SIP_EPARSE, 2},
    {V("INVITE"), SIP_EPARSE, 0},
    {V(""), SIP_EPARSE, 0},
};

static void test_cseq(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(cseq_ok); i++) {
		struct sip_cseq c;
		size_t off = 999;
		int rc = sip_cseq_parse(&c, cseq_ok[i].in, &off);
		if (rc)
			fail_msg("row %zu: rc %d at %zu", i, rc, off);
		assert_int_equal(c.num, cseq_ok[i].num);
		slice_is(c.method, cseq_ok[i].method, "method", i);
		assert_int_equal(c.method_id, cseq_ok[i].id);
	}
	for (size_t i = 0; i < N(cseq_bad); i++) {
		struct sip_cseq c;
		size_t off = 999;
		int rc = sip_cseq_parse(&c, cseq_bad[i].in, &off);
		check_bad("cseq", i, &cseq_bad[i], rc, off);
	}
}

/* ---- u32 and token ---- */

static void test_u32(void **state)
{
	(void)state;
	static const struct {
		struct sip_str in;
		uint32_t v;
	} ok[] = {{V("0068"), 68}, {V(" 70 "), 70}, {V("\r\n 0"), 0}, {V("4294967295"), 4294967295u}};
	static const struct bad bad[] = {
	    {V("-999"), SIP_EPARSE, 0}, /* RFC 4475 ncl */
	    /* RFC 4475 scalar02 Expires: 10^100. */
	    {V("100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	       "00000000"),
	     SIP_ERANGE, 0},
	    {V("4294967296"), SIP_ERANGE, 0},
	    {V(""), SIP_EPARSE, 0},
	    {V("  "), SIP_EPARSE, 2},
	    {V("12 3"), SIP_EPARSE, 3},
	    {V("12a"), SIP_EPARSE, 2},
	    {V("+5"), SIP_EPARSE, 0},
	};
	for (size_t i = 0; i < N(ok); i++) {
		uint32_t v = 1;
		assert_int_equal(sip_u32_parse(&v, ok[i].in, NULL), 0);
		assert_int_equal(v, ok[i].v);
	}
	for (size_t i = 0; i < N(bad); i++) {
		uint32_t v = 77;
		size_t off = 999;
		int rc = sip_u32_parse(&v, bad[i].in, &off);
		check_bad("u32", i, &bad[i], rc, off);
		assert_int_equal(v, 77); /* untouched on failure */
	}
}

static void test_token(void **state)
{
	(void)state;
	assert_int_equal(sip_token_parse(SIP_STR("INVITE"), NULL), 0);
	assert_int_equal(sip_token_parse(SIP_STR(" 100rel "), NULL), 0);
	assert_int_equal(sip_token_parse(SIP_STR("nothingSupported"), NULL), 0); /* RFC 4475 bext01 */
	static const struct bad bad[] = {
	    {V(""), SIP_EPARSE, 0},
	    {V("a b"), SIP_EPARSE, 2},
	    {V("a;b"), SIP_EPARSE, 1},
	    {V("\"a\""), SIP_EPARSE, 0},
	};
	for (size_t i = 0; i < N(bad); i++) {
		size_t off = 999;
		int rc = sip_token_parse(bad[i].in, &off);
		check_bad("token", i, &bad[i], rc, off);
	}
}

/* ---- Content-Type ---- */

static void test_content_type(void **state)
{
	(void)state;
	static const struct {
		struct sip_str in;
		const char *type, *subtype, *params;
	} ok[] = {
	    {V("application/sdp"), "application", "sdp", NULL},
	    {V("application/unknownformat"), "application", "unknownformat", NULL}, /* RFC 4475 invut */
	    {V("multipart/mixed;boundary=7a9cbec02ceef655"), "multipart", "mixed",
	     "boundary=7a9cbec02ceef655"},
	    {V("text/plain ; charset = \"utf-8\""), "text", "plain", "charset = \"utf-8\""},
	    {V("application / pidf+xml"), "application", "pidf+xml", NULL},
	};
	static const struct bad bad[] = {
	    {V("application"), SIP_EPARSE, 11},
	    {V("application/"), SIP_EPARSE, 12},
	    {V("/sdp"), SIP_EPARSE, 0},
	    {V("text/plain;charset"), SIP_EPARSE, 18},
	    {V("text/plain;charset="), SIP_EPARSE, 19},
	    {V("text/plain;charset=\"utf"), SIP_EPARSE, 19},
	    {V("text/plain x"), SIP_EPARSE, 11},
	    {V("text/plain;;a=b"), SIP_EPARSE, 11},
	};
	for (size_t i = 0; i < N(ok); i++) {
		struct sip_content_type ct;
		size_t off = 999;
		int rc = sip_content_type_parse(&ct, ok[i].in, &off);
		if (rc)
			fail_msg("row %zu: rc %d at %zu", i, rc, off);
		slice_is(ct.type, ok[i].type, "type", i);
		slice_is(ct.subtype, ok[i].subtype, "subtype", i);
		slice_is(ct.params, ok[i].params, "params", i);
	}
	for (size_t i = 0; i < N(bad); i++) {
		struct sip_content_type ct;
		size_t off = 999;
		int rc = sip_content_type_parse(&ct, bad[i].in, &off);
		check_bad("content-type", i, &bad[i], rc, off);
	}
}

/* ---- RAck, Event ---- */

static void test_rack_event(void **state)
{
	(void)state;
	struct sip_rack r;
	size_t off = 999;
	assert_int_equal(sip_rack_parse(&r, SIP_STR("776656 1 INVITE"), NULL), 0); /* RFC 3262 §7.2 */
	assert_int_equal(r.rseq, 776656);
	assert_int_equal(r.cseq, 1);
	slice_is(r.method, "INVITE", "method", 0);
	assert_int_equal(sip_rack_parse(&r, SIP_STR(" 1\r\n 0002 PRACK "), NULL), 0);
	assert_int_equal(r.cseq, 2);
	slice_is(r.method, "PRACK", "method", 1);
	static const struct bad rbad[] = {
	    {V("776656 INVITE"), SIP_EPARSE, 7},	{V("776656 1"), SIP_EPARSE, 8},
	    {V("776656 1 INVITE x"), SIP_EPARSE, 16},	{V("4294967296 1 INVITE"), SIP_ERANGE, 0},
	    {V("1 99999999999 INVITE"), SIP_ERANGE, 2}, {V("1,1 INVITE"), SIP_EPARSE, 1},
	};
	for (size_t i = 0; i < N(rbad); i++) {
		int rc = sip_rack_parse(&r, rbad[i].in, &off);
		check_bad("rack", i, &rbad[i], rc, off);
	}

	struct sip_event ev;
	assert_int_equal(sip_event_parse(&ev, SIP_STR("presence"), NULL), 0);
	slice_is(ev.type, "presence", "type", 0);
	assert_int_equal(ev.id.len, 0);
	assert_int_equal(sip_event_parse(&ev, SIP_STR("conference.winfo ; id = 47x ; call-id=\"a@b\""), NULL),
			 0);
	slice_is(ev.type, "conference.winfo", "type", 1);
	slice_is(ev.id, "47x", "id", 1);
	slice_is(ev.params, "id = 47x ; call-id=\"a@b\"", "params", 1);
	assert_int_equal(sip_event_parse(&ev, SIP_STR("refer;id=93809824"), NULL), 0); /* RFC 3515 */
	slice_is(ev.id, "93809824", "id", 2);
	static const struct bad ebad[] = {
	    {V(""), SIP_EPARSE, 0},
	    {V("presence;"), SIP_EPARSE, 9},
	    {V("pres ence"), SIP_EPARSE, 5},
	    {V("dialog;id"), SIP_EPARSE, 9},
	    {V("dialog;id=\"x\""), SIP_EPARSE, 10},
	};
	for (size_t i = 0; i < N(ebad); i++) {
		int rc = sip_event_parse(&ev, ebad[i].in, &off);
		check_bad("event", i, &ebad[i], rc, off);
	}
}

/* ---- Retry-After, Timestamp ---- */

static void test_retry_after(void **state)
{
	(void)state;
	struct sip_retry_after r;
	size_t off = 999;
	assert_int_equal(sip_retry_after_parse(&r, SIP_STR("18000;duration=3600"), NULL), 0); /* §20.33 */
	assert_int_equal(r.seconds, 18000);
	assert_true(r.has_duration);
	assert_int_equal(r.duration, 3600);
	slice_is(r.params, "duration=3600", "params", 0);
	assert_int_equal(r.comment.len, 0);
	assert_int_equal(sip_retry_after_parse(&r, SIP_STR("120 (I'm in a meeting)"), NULL), 0);
	assert_int_equal(r.seconds, 120);
	slice_is(r.comment, "I'm in a meeting", "comment", 1);
	assert_false(r.has_duration);
	assert_int_equal(sip_retry_after_parse(&r, SIP_STR("5 (a (nested \\) one)) ; x ;duration = 9"), NULL),
			 0);
	slice_is(r.comment, "a (nested \\) one)", "comment", 2);
	assert_int_equal(r.duration, 9);
	static const struct bad bad[] = {
	    {V("949302838503028349304023988"), SIP_ERANGE, 0}, /* RFC 4475 scalarlg */
	    {V("120 (open"), SIP_EPARSE, 4},
	    {V("120 (a))"), SIP_EPARSE, 7},
	    {V("120;duration"), SIP_EPARSE, 12},
	    {V("120;duration=99999999999"), SIP_ERANGE, 13},
	    {V("abc"), SIP_EPARSE, 0},
	    {V("120 x"), SIP_EPARSE, 4},
	    {V("1 ((((((((((((((((((((((((((((((((((deep))))))))))))))))))))))))))))))))))"), SIP_EPARSE, 2},
	};
	for (size_t i = 0; i < N(bad); i++) {
		int rc = sip_retry_after_parse(&r, bad[i].in, &off);
		check_bad("retry-after", i, &bad[i], rc, off);
	}
}

static void test_timestamp(void **state)
{
	(void)state;
	static const struct {
		struct sip_str in;
		const char *value, *delay;
	} ok[] = {
	    {V("54"), "54", NULL},
	    {V("54.32 0.5"), "54.32", "0.5"},
	    {V(" 1. \r\n 3 "), "1.", "3"},
	    {V("7 .25"), "7", ".25"},
	};
	static const struct bad bad[] = {
	    {V(""), SIP_EPARSE, 0},    {V(".5"), SIP_EPARSE, 0},    {V("54 x"), SIP_EPARSE, 3},
	    {V("54x"), SIP_EPARSE, 2}, {V("1 2 3"), SIP_EPARSE, 4},
	};
	for (size_t i = 0; i < N(ok); i++) {
		struct sip_timestamp t;
		assert_int_equal(sip_timestamp_parse(&t, ok[i].in, NULL), 0);
		slice_is(t.value, ok[i].value, "value", i);
		slice_is(t.delay, ok[i].delay, "delay", i);
	}
	for (size_t i = 0; i < N(bad); i++) {
		struct sip_timestamp t;
		size_t off = 999;
		int rc = sip_timestamp_parse(&t, bad[i].in, &off);
		check_bad("timestamp", i, &bad[i], rc, off);
	}
}

/* ---- Date ---- */

static void test_date(void **state)
{
	(void)state;
	static const struct {
		struct sip_str in;
		int64_t epoch;
	} ok[] = {
	    {V("Sat, 13 Nov 2010 23:29:00 GMT"), 1289690940},
	    {V("Thu, 21 Feb 2002 13:02:03 GMT"), 1014296523}, /* RFC 3261 §20.17 */
	    {V("Thu, 01 Jan 1970 00:00:00 GMT"), 0},
	    {V("Thu, 01 Mar 1900 00:00:00 GMT"), -2203891200},
	    {V("Tue, 29 Feb 2400 12:00:00 GMT"), 13574606400},
	    {V(" Fri, 31 Dec 1999 23:59:60 GMT "), 946684800},
	};
	static const struct bad bad[] = {
	    {V("Fri, 01 Jan 2010 16:00:00 EST"), SIP_EPARSE, 26}, /* RFC 4475 baddate */
	    {V("Fri, 01 Jan 2010 16:00:00"), SIP_EPARSE, 25},
	    {V("Fri, 01 Jan 2010 16:00:00 GMTx"), SIP_EPARSE, 29},
	    {V("Fri 01 Jan 2010 16:00:00 GMT"), SIP_EPARSE, 3},
	    {V("Fry, 01 Jan 2010 16:00:00 GMT"), SIP_EPARSE, 0},
	    {V("Fri, 1 Jan 2010 16:00:00 GMT"), SIP_EPARSE, 5},
	    {V("Fri, 00 Jan 2010 16:00:00 GMT"), SIP_EPARSE, 7},
	    {V("Fri, 01 jan 2010 16:00:00 GMT"), SIP_EPARSE, 8},
	    {V("Mon, 29 Feb 2010 16:00:00 GMT"), SIP_EPARSE, 5},
	    {V("Mon, 31 Apr 2010 16:00:00 GMT"), SIP_EPARSE, 5},
	    {V("Fri, 01 Jan 2010 24:00:00 GMT"), SIP_EPARSE, 19},
	    {V("Fri, 01 Jan 2010 16:60:00 GMT"), SIP_EPARSE, 22},
	    {V("Fri, 01 Jan 10 16:00:00 GMT"), SIP_EPARSE, 12},
	    {V(""), SIP_EPARSE, 0},
	};
	for (size_t i = 0; i < N(ok); i++) {
		struct sip_date d;
		size_t off = 999;
		int rc = sip_date_parse(&d, ok[i].in, &off);
		if (rc)
			fail_msg("row %zu: rc %d at %zu", i, rc, off);
		assert_int_equal(d.epoch, ok[i].epoch);
		assert_int_equal(d.raw.len, 29);
	}
	for (size_t i = 0; i < N(bad); i++) {
		struct sip_date d;
		size_t off = 999;
		int rc = sip_date_parse(&d, bad[i].in, &off);
		check_bad("date", i, &bad[i], rc, off);
	}
}

/* ---- sip_unquote ---- */

static void test_unquote(void **state)
{
	(void)state;
	char buf[64];
	/* RFC 4475 wsinv From display name, whole and as an inside. */
	int n = sip_unquote(SIP_STR("\"J Rosenberg \\\\\\\"\""), buf, sizeof(buf));
	assert_int_equal(n, 14);
	assert_memory_equal(buf, "J Rosenberg \\\"", 14);
	n = sip_unquote(SIP_STR("a\\\"b"), buf, sizeof(buf));
	assert_int_equal(n, 3);
	assert_memory_equal(buf, "a\"b", 3);
	assert_int_equal(sip_unquote(SIP_STR("\"\""), buf, sizeof(buf)), 0);
	assert_int_equal(sip_unquote(SIP_STR(""), buf, sizeof(buf)), 0);
	/* RFC 4475 intmeth: quoted NUL. */
	n = sip_unquote(SIP_STR("\"NUL:\\\x00.\""), buf, sizeof(buf));
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "NUL:\0.", 6);
	assert_int_equal(sip_unquote(SIP_STR("\"abc\""), buf, 2), SIP_ETOOBIG);
	assert_int_equal(sip_unquote(SIP_STR("\"abc\""), buf, 3), 3);
	assert_int_equal(sip_unquote(SIP_STR("\"abc"), buf, sizeof(buf)), SIP_EPARSE);
	assert_int_equal(sip_unquote(SIP_STR("\"a\"b\""), buf, sizeof(buf)), SIP_EPARSE);
	assert_int_equal(sip_unquote(SIP_STR("ab\\"), buf, sizeof(buf)), SIP_EPARSE);
	assert_int_equal(sip_unquote(SIP_STR("a\"b"), buf, sizeof(buf)), SIP_EPARSE);
	assert_int_equal(sip_unquote(SIP_STR("\""), buf, sizeof(buf)), SIP_EPARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cseq),       cmocka_unit_test(test_u32),
	    cmocka_unit_test(test_token),      cmocka_unit_test(test_content_type),
	    cmocka_unit_test(test_rack_event), cmocka_unit_test(test_retry_after),
	    cmocka_unit_test(test_timestamp),  cmocka_unit_test(test_date),
	    cmocka_unit_test(test_unquote),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
