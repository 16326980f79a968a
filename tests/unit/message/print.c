/* Unit tests for the builder, the reason phrases and the editor
 * (src/message/build.c, reason.c, edit.c): exact bytes expected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sip/print.h>

#define CRLF "\r\n"

static void assert_bytes(const char *got, int n, const char *want)
{
	assert_true(n >= 0);
	if ((size_t)n != strlen(want) || memcmp(got, want, (size_t)n) != 0) {
		fprintf(stderr, "got  [%.*s]\nwant [%s]\n", n, got, want);
		fail();
	}
}

static void parse_ok(struct sip_msg *m, const char *text)
{
	struct sip_parse_err err = {0};
	int rc = sip_msg_parse(m, text, strlen(text), SIP_PARSE_DATAGRAM, &err);
	if (rc < 0)
		fprintf(stderr, "parse: %d %s at %zu\n", rc, err.reason ? err.reason : "", err.offset);
	assert_int_equal(rc, (int)strlen(text));
}

/* ---- builder ---- */

static void test_build_request(void **state)
{
	(void)state;
	char buf[512];
	struct sip_builder b;

	sip_build_init(&b, buf, sizeof(buf));
	sip_build_request_line(&b, SIP_STR("OPTIONS"), SIP_STR("sip:bob@example.com"));
	sip_build_header(&b, SIP_STR("Via"), SIP_STR("SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;rport"));
	sip_build_headerf(&b, "Max-Forwards", "%d", 70);
	sip_build_header(&b, SIP_STR("From"), SIP_STR("<sip:alice@example.com>;tag=a1"));
	sip_build_header(&b, SIP_STR("To"), SIP_STR("<sip:bob@example.com>"));
	sip_build_headerf(&b, "Call-ID", "%s@%s", "c1", "host");
	sip_build_headerf(&b, "CSeq", "%u %s", 1u, "OPTIONS");
	sip_build_body(&b, SIP_STR(""), SIP_STR(""));
	assert_bytes(buf, sip_build_finish(&b),
		     "OPTIONS sip:bob@example.com SIP/2.0" CRLF
		     "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;rport" CRLF
		     "Max-Forwards: 70" CRLF
		     "From: <sip:alice@example.com>;tag=a1" CRLF
		     "To: <sip:bob@example.com>" CRLF
		     "Call-ID: c1@host" CRLF
		     "CSeq: 1 OPTIONS" CRLF
		     "Content-Length: 0" CRLF CRLF);
}

static void test_build_body(void **state)
{
	(void)state;
	char buf[256];
	struct sip_builder b;

	sip_build_init(&b, buf, sizeof(buf));
	sip_build_status_line(&b, 200, SIP_STR_NULL);
	sip_build_raw(&b, SIP_STR("X-Raw: 1\r\n"));
	sip_build_body(&b, SIP_STR("application/sdp"), SIP_STR("v=0\r\n"));
	assert_bytes(buf, sip_build_finish(&b),
		     "SIP/2.0 200 OK" CRLF "X-Raw: 1" CRLF "Content-Type: application/sdp" CRLF
		     "Content-Length: 5" CRLF CRLF "v=0" CRLF);
}

static void test_build_status_line(void **state)
{
	(void)state;
	char buf[128];
	struct sip_builder b;

	sip_build_init(&b, buf, sizeof(buf));
	sip_build_status_line(&b, 486, SIP_STR_NULL);
	sip_build_status_line(&b, 404, SIP_STR("Nobody Here"));
	sip_build_status_line(&b, 299, SIP_STR_NULL); /* no phrase known: empty reason after SP */
	assert_bytes(buf, sip_build_finish(&b),
		     "SIP/2.0 486 Busy Here" CRLF "SIP/2.0 404 Nobody Here" CRLF "SIP/2.0 299 " CRLF);

	sip_build_init(&b, buf, sizeof(buf));
	sip_build_status_line(&b, 99, SIP_STR_NULL);
	assert_int_equal(sip_build_finish(&b), SIP_EINVAL);
	sip_build_init(&b, buf, sizeof(buf));
	sip_build_status_line(&b, 700, SIP_STR_NULL);
	assert_int_equal(sip_build_finish(&b), SIP_EINVAL);
	sip_build_init(&b, buf, sizeof(buf));
	sip_build_status_line(&b, 200, SIP_STR("OK\r\nX: y"));
	assert_int_equal(sip_build_finish(&b), SIP_EINVAL);
}

/* Every capacity short of the message gives SIP_ETOOBIG and never writes past cap. */
static void test_build_overflow(void **state)
{
	(void)state;
	const char *want = "MESSAGE sip:a@b SIP/2.0" CRLF "Subject: hello 42" CRLF
			   "Content-Type: text/plain" CRLF "Content-Length: 2" CRLF CRLF "hi";
	size_t full = strlen(want);
	char buf[256];

	for (size_t cap = 0; cap <= full; cap++) {
		struct sip_builder b;
		memset(buf, 0x5a, sizeof(buf));
		sip_build_init(&b, buf, cap);
		sip_build_request_line(&b, SIP_STR("MESSAGE"), SIP_STR("sip:a@b"));
		sip_build_headerf(&b, "Subject", "hello %d", 42);
		sip_build_body(&b, SIP_STR("text/plain"), SIP_STR("hi"));
		int rc = sip_build_finish(&b);
		for (size_t i = cap; i < sizeof(buf); i++)
			assert_int_equal((unsigned char)buf[i], 0x5a);
		if (cap < full) {
			assert_int_equal(rc, SIP_ETOOBIG);
			assert_int_equal(b.err, SIP_ETOOBIG);
		} else {
			assert_bytes(buf, rc, want);
		}
	}
	/* No buffer at all. */
	struct sip_builder b;
	sip_build_init(&b, NULL, 100);
	sip_build_headerf(&b, "A", "%s", "b");
	assert_int_equal(sip_build_finish(&b), SIP_ETOOBIG);
}

static void test_build_rejects_injection(void **state)
{
	(void)state;
	char buf[256];
	struct sip_builder b;

	sip_build_init(&b, buf, sizeof(buf));
	sip_build_header(&b, SIP_STR("Subject"), SIP_STR("a\r\nVia: evil"));
	assert_int_equal(sip_build_finish(&b), SIP_EINVAL);
	sip_build_init(&b, buf, sizeof(buf));
	sip_build_header(&b, SIP_STR("Bad Name"), SIP_STR("x"));
	assert_int_equal(sip_build_finish(&b), SIP_EINVAL);
	sip_build_init(&b, buf, sizeof(buf));
	sip_build_headerf(&b, "Subject", "%s", "x\ny");
	assert_int_equal(sip_build_finish(&b), SIP_EINVAL);
	sip_build_init(&b, buf, sizeof(buf));
	sip_build_request_line(&b, SIP_STR("INVITE"), SIP_STR("sip:a b"));
	assert_int_equal(sip_build_finish(&b), SIP_EINVAL);
	/* Folding is a legal part of a value. */
	sip_build_init(&b, buf, sizeof(buf));
	sip_build_header(&b, SIP_STR("Subject"), SIP_STR("a\r\n b"));
	assert_bytes(buf, sip_build_finish(&b), "Subject: a\r\n b" CRLF);
	/* An error sticks: later calls do nothing. */
	sip_build_init(&b, buf, sizeof(buf));
	sip_build_header(&b, SIP_STR(""), SIP_STR("x"));
	sip_build_header(&b, SIP_STR("A"), SIP_STR("x"));
	assert_int_equal(b.len, 0);
	assert_int_equal(sip_build_finish(&b), SIP_EINVAL);
}

static const char *req_text = "INVITE sip:bob@biloxi.example.com SIP/2.0" CRLF
			      "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8 ,"
			      "  SIP/2.0/TCP p1.example.com;branch=z9hG4bKp1" CRLF
			      "Max-Forwards: 70" CRLF
			      "v:SIP/2.0/UDP 192.0.2.1:5060;received=192.0.2.9;branch=z9hG4bKx" CRLF
			      "To:  Bob <sip:bob@biloxi.example.com>" CRLF
			      "f: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
			      "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
			      "CSeq: 0314159 INVITE" CRLF
			      "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>" CRLF
			      "Route: <sip:p3.example.com;lr>" CRLF
			      "l: 4" CRLF CRLF
			      "abcd";

static void test_response_head(void **state)
{
	(void)state;
	struct sip_msg *m = malloc(sizeof(*m));
	char buf[1024];
	struct sip_builder b;

	parse_ok(m, req_text);
	sip_build_init(&b, buf, sizeof(buf));
	sip_build_response_head(&b, m, 180, SIP_STR_NULL, SIP_STR("t0"));
	sip_build_body(&b, SIP_STR_NULL, SIP_STR_NULL);
	assert_bytes(buf, sip_build_finish(&b),
		     "SIP/2.0 180 Ringing" CRLF
		     "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8 ,"
		     "  SIP/2.0/TCP p1.example.com;branch=z9hG4bKp1" CRLF
		     "Via: SIP/2.0/UDP 192.0.2.1:5060;received=192.0.2.9;branch=z9hG4bKx" CRLF
		     "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
		     "To: Bob <sip:bob@biloxi.example.com>;tag=t0" CRLF
		     "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
		     "CSeq: 0314159 INVITE" CRLF
		     "Content-Length: 0" CRLF CRLF);

	/* A To that already has a tag is kept; no tag asked: none added. */
	const char *tagged = "BYE sip:a@b SIP/2.0" CRLF "Via: SIP/2.0/UDP h;branch=z9hG4bK2" CRLF
			     "To: <sip:a@b>;tag=xyz" CRLF "From: <sip:c@d>;tag=1" CRLF "Call-ID: 1" CRLF
			     "CSeq: 2 BYE" CRLF "Content-Length: 0" CRLF CRLF;
	parse_ok(m, tagged);
	sip_build_init(&b, buf, sizeof(buf));
	sip_build_response_head(&b, m, 200, SIP_STR("Fine"), SIP_STR("other"));
	assert_bytes(buf, sip_build_finish(&b),
		     "SIP/2.0 200 Fine" CRLF "Via: SIP/2.0/UDP h;branch=z9hG4bK2" CRLF "From: <sip:c@d>;tag=1" CRLF
		     "To: <sip:a@b>;tag=xyz" CRLF "Call-ID: 1" CRLF "CSeq: 2 BYE" CRLF);
	free(m);
}

/* ---- reason phrases ---- */

static void test_reason_phrases(void **state)
{
	(void)state;
	static const struct {
		int code;
		const char *phrase;
	} t[] = {
		{100, "Trying"}, {180, "Ringing"}, {181, "Call Is Being Forwarded"}, {182, "Queued"},
		{183, "Session Progress"}, {199, "Early Dialog Terminated"}, {200, "OK"}, {202, "Accepted"},
		{204, "No Notification"}, {300, "Multiple Choices"}, {301, "Moved Permanently"},
		{302, "Moved Temporarily"}, {305, "Use Proxy"}, {380, "Alternative Service"},
		{400, "Bad Request"}, {401, "Unauthorized"}, {402, "Payment Required"}, {403, "Forbidden"},
		{404, "Not Found"}, {405, "Method Not Allowed"}, {406, "Not Acceptable"},
		{407, "Proxy Authentication Required"}, {408, "Request Timeout"}, {410, "Gone"},
		{412, "Conditional Request Failed"}, {413, "Request Entity Too Large"},
		{414, "Request-URI Too Long"}, {415, "Unsupported Media Type"}, {416, "Unsupported URI Scheme"},
		{417, "Unknown Resource-Priority"}, {420, "Bad Extension"}, {421, "Extension Required"},
		{422, "Session Interval Too Small"}, {423, "Interval Too Brief"}, {428, "Use Identity Header"},
		{429, "Provide Referrer Identity"}, {430, "Flow Failed"}, {433, "Anonymity Disallowed"},
		{439, "First Hop Lacks Outbound Support"}, {440, "Max-Breadth Exceeded"},
		{469, "Bad Info Package"}, {470, "Consent Needed"}, {480, "Temporarily Unavailable"},
		{481, "Call/Transaction Does Not Exist"}, {482, "Loop Detected"}, {483, "Too Many Hops"},
		{484, "Address Incomplete"}, {485, "Ambiguous"}, {486, "Busy Here"},
		{487, "Request Terminated"}, {488, "Not Acceptable Here"}, {489, "Bad Event"},
		{491, "Request Pending"}, {493, "Undecipherable"}, {494, "Security Agreement Required"},
		{500, "Server Internal Error"}, {501, "Not Implemented"}, {502, "Bad Gateway"},
		{503, "Service Unavailable"}, {504, "Server Time-out"}, {505, "Version Not Supported"},
		{513, "Message Too Large"}, {580, "Precondition Failure"}, {600, "Busy Everywhere"},
		{603, "Decline"}, {604, "Does Not Exist Anywhere"}, {606, "Not Acceptable"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(sip_reason_phrase(t[i].code), t[i].phrase);
	assert_string_equal(sip_reason_phrase(0), "");
	assert_string_equal(sip_reason_phrase(-1), "");
	assert_string_equal(sip_reason_phrase(299), "");
	assert_string_equal(sip_reason_phrase(1000), "");
}

/* ---- editor ---- */

static int print_edit(const struct sip_edit *e, char *out, size_t cap)
{
	return sip_edit_print(e, out, cap);
}

static void test_edit_identity(void **state)
{
	(void)state;
	struct sip_msg *m = malloc(sizeof(*m));
	struct sip_edit *e = malloc(sizeof(*e));
	char out[2048];

	parse_ok(m, req_text);
	sip_edit_init(e, m);
	assert_bytes(out, print_edit(e, out, sizeof(out)), req_text);
	/* Too small: every shorter capacity fails cleanly. */
	for (size_t cap = 0; cap < strlen(req_text); cap++)
		assert_int_equal(sip_edit_print(e, out, cap), SIP_ETOOBIG);
	free(e);
	free(m);
}

static void test_edit_proxy_forward(void **state)
{
	(void)state;
	struct sip_msg *m = malloc(sizeof(*m));
	struct sip_edit *e = malloc(sizeof(*e));
	char out[2048];

	parse_ok(m, req_text);
	sip_edit_init(e, m);
	sip_edit_push_via(e, SIP_STR("SIP/2.0/UDP proxy.example.com;branch=z9hG4bKpx"));
	sip_edit_pop_route(e);
	sip_edit_set_ruri(e, SIP_STR("sip:bob@192.0.2.4:5062;transport=tcp"));
	sip_edit_add_header(e, SIP_STR("Record-Route"), SIP_STR("<sip:proxy.example.com;lr>"));
	assert_int_equal(e->err, 0);
	assert_bytes(out, print_edit(e, out, sizeof(out)),
		     "INVITE sip:bob@192.0.2.4:5062;transport=tcp SIP/2.0" CRLF
		     "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKpx" CRLF
		     "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8 ,"
		     "  SIP/2.0/TCP p1.example.com;branch=z9hG4bKp1" CRLF
		     "Max-Forwards: 70" CRLF
		     "v:SIP/2.0/UDP 192.0.2.1:5060;received=192.0.2.9;branch=z9hG4bKx" CRLF
		     "To:  Bob <sip:bob@biloxi.example.com>" CRLF
		     "f: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
		     "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
		     "CSeq: 0314159 INVITE" CRLF
		     "Route: <sip:p2.example.com;lr>" CRLF
		     "Route: <sip:p3.example.com;lr>" CRLF
		     "l: 4" CRLF
		     "Record-Route: <sip:proxy.example.com;lr>" CRLF CRLF
		     "abcd");

	/* Popping three times walks through the list line, then the next line. */
	sip_edit_init(e, m);
	sip_edit_pop_route(e);
	sip_edit_pop_route(e);
	sip_edit_pop_route(e);
	assert_int_equal(e->err, 0);
	int n = print_edit(e, out, sizeof(out));
	assert_true(n > 0);
	assert_null(memmem(out, (size_t)n, "Route", 5));
	sip_edit_pop_route(e);
	assert_int_equal(e->err, SIP_ENOTFOUND);
	assert_int_equal(print_edit(e, out, sizeof(out)), SIP_ENOTFOUND);

	/* From the end (a strict router's last Route, §16.4): the lone value of
	 * the last line goes, then the list line loses its last value. */
	sip_edit_init(e, m);
	sip_edit_pop_last_route(e);
	n = print_edit(e, out, sizeof(out));
	assert_true(n > 0);
	assert_non_null(memmem(out, (size_t)n, "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>" CRLF "l: 4", 60));
	sip_edit_pop_last_route(e);
	n = print_edit(e, out, sizeof(out));
	assert_non_null(memmem(out, (size_t)n, "Route: <sip:p1.example.com;lr>" CRLF "l: 4", 36));
	sip_edit_pop_last_route(e);
	n = print_edit(e, out, sizeof(out));
	assert_null(memmem(out, (size_t)n, "Route", 5));
	sip_edit_pop_last_route(e);
	assert_int_equal(e->err, SIP_ENOTFOUND);

	/* Two pushes: the later one is on top. */
	sip_edit_init(e, m);
	sip_edit_push_via(e, SIP_STR("SIP/2.0/UDP a;branch=z9hG4bKa"));
	sip_edit_push_via(e, SIP_STR("SIP/2.0/UDP b;branch=z9hG4bKb"));
	n = print_edit(e, out, sizeof(out));
	assert_true(n > 0);
	const char *top = "INVITE sip:bob@biloxi.example.com SIP/2.0" CRLF "Via: SIP/2.0/UDP b;branch=z9hG4bKb" CRLF
			  "Via: SIP/2.0/UDP a;branch=z9hG4bKa" CRLF "Via: SIP/2.0/UDP pc33";
	assert_memory_equal(out, top, strlen(top));
	free(e);
	free(m);
}

/* What a pop leaves of a line is written as it arrived, even bytes a new
 * value may not hold: a NUL in a quoted-pair (§25.1), an obs-fold (found by
 * fuzz_proxy: the response could not be relayed). */
static void test_edit_pop_keeps_odd_bytes(void **state)
{
	(void)state;
	struct sip_msg *m = malloc(sizeof(*m));
	struct sip_edit *e = malloc(sizeof(*e));
	char out[1024];
	static const char resp[] = "SIP/2.0 180 Ringing" CRLF
				   "Via: SIP/2.0/UDP p.example.com;branch=z9hG4bKp, SIP/2.0/UDP a.example.com"
				   ";branch=z9hG4bKa;x=\"q\\\0z\"," CRLF " SIP/2.0/UDP b.example.com;branch=z9hG4bKb" CRLF
				   "From: <sip:a@example.com>;tag=1" CRLF "To: <sip:b@example.com>;tag=2" CRLF
				   "Call-ID: x" CRLF "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF;
	size_t len = sizeof(resp) - 1;
	assert_int_equal(sip_msg_parse(m, resp, len, SIP_PARSE_DATAGRAM, NULL), (int)len);
	sip_edit_init(e, m);
	sip_edit_pop_via(e);
	int n = print_edit(e, out, sizeof(out));
	static const char want_via[] = "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa;x=\"q\\\0z\"," CRLF
				       " SIP/2.0/UDP b.example.com;branch=z9hG4bKb" CRLF;
	assert_int_equal(n, (int)(len - strlen("SIP/2.0/UDP p.example.com;branch=z9hG4bKp, ")));
	assert_non_null(memmem(out, (size_t)n, want_via, sizeof(want_via) - 1));
	struct sip_msg *back = malloc(sizeof(*back));
	assert_int_equal(sip_msg_parse(back, out, (size_t)n, SIP_PARSE_STREAM, NULL), n);
	assert_int_equal(sip_hdr_count(back, SIP_HDR_VIA), 2);
	/* A new value with a NUL is still refused. */
	sip_edit_init(e, m);
	sip_edit_replace_value(e, m->first[SIP_HDR_CALL_ID], (struct sip_str){"a\0b", 3});
	assert_int_equal(print_edit(e, out, sizeof(out)), SIP_EINVAL);
	free(back);
	free(e);
	free(m);
}

static void test_edit_response_pop_via(void **state)
{
	(void)state;
	struct sip_msg *m = malloc(sizeof(*m));
	struct sip_edit *e = malloc(sizeof(*e));
	char out[1024];
	const char *resp = "SIP/2.0 200 OK" CRLF
			   "v: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKpx,\r\n  SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1" CRLF
			   "Via: SIP/2.0/UDP last.example.com;branch=z9hG4bK2" CRLF
			   "From: <sip:a@example.com>;tag=1" CRLF "To: <sip:b@example.com>;tag=2" CRLF
			   "Call-ID: x" CRLF "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF;

	parse_ok(m, resp);
	sip_edit_init(e, m);
	sip_edit_pop_via(e);
	assert_bytes(out, print_edit(e, out, sizeof(out)),
		     "SIP/2.0 200 OK" CRLF
		     "v: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1" CRLF
		     "Via: SIP/2.0/UDP last.example.com;branch=z9hG4bK2" CRLF
		     "From: <sip:a@example.com>;tag=1" CRLF "To: <sip:b@example.com>;tag=2" CRLF
		     "Call-ID: x" CRLF "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF);
	sip_edit_pop_via(e);
	assert_bytes(out, print_edit(e, out, sizeof(out)),
		     "SIP/2.0 200 OK" CRLF
		     "Via: SIP/2.0/UDP last.example.com;branch=z9hG4bK2" CRLF
		     "From: <sip:a@example.com>;tag=1" CRLF "To: <sip:b@example.com>;tag=2" CRLF
		     "Call-ID: x" CRLF "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF);
	/* A response has no Request-URI. */
	sip_edit_init(e, m);
	sip_edit_set_ruri(e, SIP_STR("sip:x"));
	assert_int_equal(print_edit(e, out, sizeof(out)), SIP_EINVAL);
	free(e);
	free(m);
}

static void test_edit_headers_and_body(void **state)
{
	(void)state;
	struct sip_msg *m = malloc(sizeof(*m));
	struct sip_edit *e = malloc(sizeof(*e));
	char out[2048];

	parse_ok(m, req_text);
	/* Line 3 is "To:", 4 "f:", 2 "v:", 9 "l:". */
	sip_edit_init(e, m);
	sip_edit_remove_header(e, 2);
	sip_edit_replace_value(e, 4, SIP_STR("<sip:carol@example.com>;tag=9"));
	sip_edit_insert_header(e, 0, SIP_STR("X-First"), SIP_STR("1"));
	sip_edit_set_body(e, SIP_STR("hello world"));
	assert_bytes(out, print_edit(e, out, sizeof(out)),
		     "INVITE sip:bob@biloxi.example.com SIP/2.0" CRLF
		     "X-First: 1" CRLF
		     "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8 ,"
		     "  SIP/2.0/TCP p1.example.com;branch=z9hG4bKp1" CRLF
		     "Max-Forwards: 70" CRLF
		     "To:  Bob <sip:bob@biloxi.example.com>" CRLF
		     "f: <sip:carol@example.com>;tag=9" CRLF
		     "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
		     "CSeq: 0314159 INVITE" CRLF
		     "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>" CRLF
		     "Route: <sip:p3.example.com;lr>" CRLF
		     "l: 11" CRLF CRLF
		     "hello world");

	/* Bad indexes and too many edits. */
	sip_edit_init(e, m);
	sip_edit_remove_header(e, m->nhdrs);
	assert_int_equal(e->err, SIP_EINVAL);
	assert_int_equal(print_edit(e, out, sizeof(out)), SIP_EINVAL);
	sip_edit_init(e, m);
	sip_edit_insert_header(e, (uint16_t)(m->nhdrs + 1), SIP_STR("A"), SIP_STR("b"));
	assert_int_equal(print_edit(e, out, sizeof(out)), SIP_EINVAL);
	sip_edit_init(e, m);
	for (int i = 0; i < SIP_MAX_EDITS + 1; i++)
		sip_edit_add_header(e, SIP_STR("X-N"), SIP_STR("1"));
	assert_int_equal(e->err, SIP_ETOOBIG);
	assert_int_equal(print_edit(e, out, sizeof(out)), SIP_ETOOBIG);
	/* An injected line break is refused at print time. */
	sip_edit_init(e, m);
	sip_edit_add_header(e, SIP_STR("X-A"), SIP_STR("1\r\nVia: evil"));
	assert_int_equal(print_edit(e, out, sizeof(out)), SIP_EINVAL);
	free(e);
	free(m);
}

/* A datagram without Content-Length gets one when printed (it may go out
 * over a stream), appended after the last header. */
static void test_edit_adds_content_length(void **state)
{
	(void)state;
	struct sip_msg *m = malloc(sizeof(*m));
	struct sip_edit *e = malloc(sizeof(*e));
	char out[1024];
	const char *msg = "MESSAGE sip:b@example.com SIP/2.0" CRLF "Via: SIP/2.0/UDP h;branch=z9hG4bK3" CRLF
			  "From: <sip:a@example.com>;tag=1" CRLF "To: <sip:b@example.com>" CRLF "Call-ID: y" CRLF
			  "CSeq: 1 MESSAGE" CRLF "Max-Forwards: 70" CRLF CRLF "hi there";

	parse_ok(m, msg);
	sip_edit_init(e, m);
	assert_bytes(out, print_edit(e, out, sizeof(out)),
		     "MESSAGE sip:b@example.com SIP/2.0" CRLF "Via: SIP/2.0/UDP h;branch=z9hG4bK3" CRLF
		     "From: <sip:a@example.com>;tag=1" CRLF "To: <sip:b@example.com>" CRLF "Call-ID: y" CRLF
		     "CSeq: 1 MESSAGE" CRLF "Max-Forwards: 70" CRLF "Content-Length: 8" CRLF CRLF "hi there");
	sip_edit_add_header(e, SIP_STR("Subject"), SIP_STR("s"));
	sip_edit_set_body(e, SIP_STR(""));
	assert_bytes(out, print_edit(e, out, sizeof(out)),
		     "MESSAGE sip:b@example.com SIP/2.0" CRLF "Via: SIP/2.0/UDP h;branch=z9hG4bK3" CRLF
		     "From: <sip:a@example.com>;tag=1" CRLF "To: <sip:b@example.com>" CRLF "Call-ID: y" CRLF
		     "CSeq: 1 MESSAGE" CRLF "Max-Forwards: 70" CRLF "Subject: s" CRLF "Content-Length: 0" CRLF
		     CRLF);
	free(e);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_request),
		cmocka_unit_test(test_build_body),
		cmocka_unit_test(test_build_status_line),
		cmocka_unit_test(test_build_overflow),
		cmocka_unit_test(test_build_rejects_injection),
		cmocka_unit_test(test_response_head),
		cmocka_unit_test(test_reason_phrases),
		cmocka_unit_test(test_edit_identity),
		cmocka_unit_test(test_edit_proxy_forward),
		cmocka_unit_test(test_edit_response_pop_via),
		cmocka_unit_test(test_edit_pop_keeps_odd_bytes),
		cmocka_unit_test(test_edit_headers_and_body),
		cmocka_unit_test(test_edit_adds_content_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
