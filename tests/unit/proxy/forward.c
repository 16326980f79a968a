/* Unit tests for the proxy's message edits (src/proxy/forward.c): the
 * forwarded copy of a request (RFC 3261 §16.6), a response relayed upstream
 * (§16.7 step 9) and the CANCEL of a branch (§9.1). Exact bytes are checked
 * where the editor must keep them, and every output is parsed back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sip_test.h"
#include <sip/print.h>
#include <sip/proxy.h>

#define CRLF "\r\n"
#define OUT_CAP 4096

static struct sip_msg in, back;
static char out[OUT_CAP];
static char *copy; /* heap copy of the input: ASan sees any over-read */

/* Parses exactly strlen(text) bytes of a heap copy of text into in. */
static void parse_in(const char *text)
{
	struct sip_parse_err err = {0};
	size_t n = strlen(text);

	free(copy);
	copy = malloc(n);
	assert_non_null(copy);
	memcpy(copy, text, n);
	int rc = sip_msg_parse(&in, copy, n, SIP_PARSE_DATAGRAM, &err);
	if (rc < 0)
		fail_msg("input does not parse: %d %s at %zu", rc, err.reason ? err.reason : "", err.offset);
	assert_int_equal(rc, (int)n);
}

/* Parses n output bytes as a stream message (Content-Length must be there
 * and right: the stream mode consumes exactly n bytes) and validates every
 * known header. */
static void parse_back(int n)
{
	struct sip_parse_err err = {0};

	assert_true(n > 0);
	int rc = sip_msg_parse(&back, out, (size_t)n, SIP_PARSE_STREAM | SIP_PARSE_VALIDATE, &err);
	if (rc < 0)
		fail_msg("output does not parse: %d %s at %zu:\n%.*s", rc, err.reason ? err.reason : "", err.offset,
			 n, out);
	assert_int_equal(rc, n);
}

static void assert_bytes(int n, const char *want)
{
	if (n < 0)
		fail_msg("error %d, want:\n%s", n, want);
	if ((size_t)n != strlen(want) || memcmp(out, want, (size_t)n) != 0)
		fail_msg("got:\n[%.*s]\nwant:\n[%s]", n, out, want);
}

/* Every value of header kind id in back, in order, equals want[0..n). */
static void assert_values(enum sip_hdr_id id, const char *const *want, size_t n)
{
	struct sip_hdr_iter it;
	struct sip_str v;
	size_t k = 0;

	sip_hdr_iter_init(&it, &back, id);
	while (sip_hdr_iter_next(&it, &v) == 1) {
		if (k >= n)
			fail_msg("%s: extra value '%.*s'", sip_hdr_name(id), SIP_STR_ARG(v));
		slice_is(v, want[k], sip_hdr_name(id), k);
		k++;
	}
	if (k != n)
		fail_msg("%s: %zu values, want %zu", sip_hdr_name(id), k, n);
}

#define VALUES(id, ...)                                                                                      \
	do {                                                                                                 \
		static const char *const w_[] = {__VA_ARGS__};                                               \
		assert_values((id), w_, N(w_));                                                              \
	} while (0)

/* The first header line named name (as written) in back, or fails. */
static struct sip_str line_value(const char *name)
{
	int i = sip_msg_find(&back, (struct sip_str){name, strlen(name)});
	if (i < 0)
		fail_msg("no %s header", name);
	return back.hdrs[i].value;
}

/* ---- sip_proxy_forward (§16.6) ---- */

#define BODY "v=0" CRLF "o=alice 2890844526 2890844526 IN IP4 198.51.100.7" CRLF "s=-" CRLF

static const char invite[] = "INVITE sip:bob@example.org SIP/2.0" CRLF
			     "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK74bf9;rport" CRLF
			     "Max-Forwards: 70" CRLF
			     "Route: <sip:proxy.example.org;lr>" CRLF
			     "Route: <sip:edge.example.net;lr>" CRLF
			     "Record-Route: <sip:p1.example.com;lr>" CRLF
			     "From: \"Alice\" <sip:alice@example.com>;tag=9fxced76sl" CRLF
			     "To: \"Bob\" <sip:bob@example.org>" CRLF
			     "Call-ID: a84b4c76e66710@pc33.example.com" CRLF
			     "CSeq: 314159 INVITE" CRLF
			     "Contact: <sip:alice@198.51.100.7:5060>" CRLF
			     "X-Odd:   keep  these ,, bytes  " CRLF
			     "Content-Type: application/sdp" CRLF
			     "Content-Length: 61" CRLF CRLF BODY;

#define OUR_VIA "SIP/2.0/UDP proxy.example.org:5060;branch=z9hG4bK-sd3-a1b2"

static struct sip_proxy_fwd full_fwd(void)
{
	struct sip_proxy_fwd f = {
		.ruri = SIP_STR("sip:bob@192.0.2.4:5062;transport=tcp"),
		.via = SIP_STR(OUR_VIA),
		.record_route = {SIP_STR("<sip:proxy.example.org;lr;ftag=9fxced76sl>"), SIP_STR("<sip:10.0.0.1;lr>")},
		.route_pre = SIP_STR("<sip:pcscf.example.net;lr>"),
		.pop_routes = 1,
	};
	return f;
}

static void test_forward_full(void **state)
{
	(void)state;
	assert_int_equal(strlen(BODY), 61);
	parse_in(invite);
	struct sip_proxy_fwd f = full_fwd();
	int n = sip_proxy_forward(&in, &f, out, sizeof(out));
	assert_bytes(n, "INVITE sip:bob@192.0.2.4:5062;transport=tcp SIP/2.0" CRLF
			"Via: " OUR_VIA CRLF
			"Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK74bf9;rport" CRLF
			"Max-Forwards: 69" CRLF
			"Route: <sip:pcscf.example.net;lr>" CRLF
			"Route: <sip:edge.example.net;lr>" CRLF
			"Record-Route: <sip:proxy.example.org;lr;ftag=9fxced76sl>" CRLF
			"Record-Route: <sip:10.0.0.1;lr>" CRLF
			"Record-Route: <sip:p1.example.com;lr>" CRLF
			"From: \"Alice\" <sip:alice@example.com>;tag=9fxced76sl" CRLF
			"To: \"Bob\" <sip:bob@example.org>" CRLF
			"Call-ID: a84b4c76e66710@pc33.example.com" CRLF
			"CSeq: 314159 INVITE" CRLF
			"Contact: <sip:alice@198.51.100.7:5060>" CRLF
			"X-Odd:   keep  these ,, bytes  " CRLF
			"Content-Type: application/sdp" CRLF
			"Content-Length: 61" CRLF CRLF BODY);

	parse_back(n);
	assert_true(back.is_request);
	assert_int_equal(back.method_id, SIP_METHOD_INVITE);
	assert_str(back.ruri_str, "sip:bob@192.0.2.4:5062;transport=tcp");
	assert_int_equal(back.ruri.port, 5062);
	assert_str(back.via.host, "proxy.example.org");
	assert_str(back.via.branch, "z9hG4bK-sd3-a1b2");
	VALUES(SIP_HDR_VIA, OUR_VIA, "SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK74bf9;rport");
	assert_int_equal(back.max_forwards, 69);
	VALUES(SIP_HDR_RECORD_ROUTE, "<sip:proxy.example.org;lr;ftag=9fxced76sl>", "<sip:10.0.0.1;lr>",
	       "<sip:p1.example.com;lr>");
	VALUES(SIP_HDR_ROUTE, "<sip:pcscf.example.net;lr>", "<sip:edge.example.net;lr>");
	assert_str(back.call_id, "a84b4c76e66710@pc33.example.com");
	assert_str(back.from.tag, "9fxced76sl");
	assert_int_equal(back.cseq.num, 314159);
	assert_str(back.body, BODY);
	assert_true(back.has_content_length);
	assert_int_equal(back.content_length, 61);
	assert_str(line_value("X-Odd"), "keep  these ,, bytes");
}

/* The request's own bytes outside the edited lines reach the output
 * untouched: the Contact..body tail is one identical run. */
static void test_forward_tail_identical(void **state)
{
	(void)state;
	parse_in(invite);
	struct sip_proxy_fwd f = full_fwd();
	int n = sip_proxy_forward(&in, &f, out, sizeof(out));
	assert_true(n > 0);
	const char *tail = strstr(invite, "From:");
	size_t tl = strlen(tail);
	assert_true((size_t)n >= tl);
	assert_memory_equal(out + n - tl, tail, tl);
}

/* Step 3: no Max-Forwards -> 70 added; no Route / Record-Route -> the lines
 * are added; an empty ruri keeps the request's; a datagram without
 * Content-Length gets one. */
static void test_forward_adds_missing(void **state)
{
	(void)state;
	parse_in("OPTIONS sip:carol@chicago.example.com SIP/2.0" CRLF
		 "Via: SIP/2.0/TCP client.example.com;branch=z9hG4bKx1" CRLF
		 "From: <sip:a@example.com>;tag=1" CRLF
		 "To: <sip:carol@chicago.example.com>" CRLF
		 "Call-ID: c1" CRLF
		 "CSeq: 7 OPTIONS" CRLF CRLF);
	struct sip_proxy_fwd f = {
		.via = SIP_STR("SIP/2.0/TCP p.example.org;branch=z9hG4bK-sd0-q"),
		.record_route = {SIP_STR("<sip:p.example.org;lr;transport=tcp>"), SIP_STR("<sip:p.example.org;lr>")},
		.route_pre = SIP_STR("<sip:a.example.net;lr>, <sip:b.example.net;lr>"),
	};
	int n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	assert_str(back.ruri_str, "sip:carol@chicago.example.com");
	assert_int_equal(back.max_forwards, SIP_PROXY_DEFAULT_MAX_FORWARDS);
	assert_str(line_value("Max-Forwards"), "70");
	VALUES(SIP_HDR_VIA, "SIP/2.0/TCP p.example.org;branch=z9hG4bK-sd0-q",
	       "SIP/2.0/TCP client.example.com;branch=z9hG4bKx1");
	/* The added Via sits on top of the header section. */
	assert_int_equal(back.first[SIP_HDR_VIA], 0);
	VALUES(SIP_HDR_RECORD_ROUTE, "<sip:p.example.org;lr;transport=tcp>", "<sip:p.example.org;lr>");
	VALUES(SIP_HDR_ROUTE, "<sip:a.example.net;lr>", "<sip:b.example.net;lr>");
	assert_true(back.has_content_length);
	assert_int_equal(back.content_length, 0);
	assert_int_equal(back.body.len, 0);
}

/* §22.3: our realm's credentials are consumed, another realm's and a value
 * that is not Digest are relayed. */
static void test_forward_consumes_our_credentials(void **state)
{
	(void)state;
	parse_in("INVITE sip:bob@example.com SIP/2.0" CRLF
		 "Via: SIP/2.0/UDP client.example.com;branch=z9hG4bKc1" CRLF
		 "Proxy-Authorization: Digest username=\"alice\", realm=\"example.com\", nonce=\"n1\", "
		 "uri=\"sip:bob@example.com\", response=\"0123456789abcdef0123456789abcdef\"" CRLF
		 "From: <sip:alice@example.com>;tag=1" CRLF
		 "Proxy-Authorization: Digest username=\"alice\", realm=\"other.example.net\", nonce=\"n2\", "
		 "uri=\"sip:bob@example.com\", response=\"fedcba9876543210fedcba9876543210\"" CRLF
		 "To: <sip:bob@example.com>" CRLF
		 "Proxy-Authorization: NTLM realm=\"example.com\", targetname=\"pbx\"" CRLF
		 "Proxy-Authorization: Digest username=\"alice\", realm=\"EXAMPLE.COM\", nonce=\"n3\", "
		 "uri=\"sip:bob@example.com\", response=\"00000000000000000000000000000000\"" CRLF
		 "Call-ID: pa1" CRLF
		 "CSeq: 1 INVITE" CRLF
		 "Max-Forwards: 70" CRLF
		 "Content-Length: 0" CRLF CRLF);
	struct sip_proxy_fwd f = {.via = SIP_STR("SIP/2.0/UDP p.example.com;branch=z9hG4bK-sd0-q")};
	int n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	assert_int_equal(sip_hdr_count(&back, SIP_HDR_PROXY_AUTHORIZATION), 4); /* no realm given: all kept */
	f.consume_realm = SIP_STR("example.com");
	n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	assert_int_equal(sip_hdr_count(&back, SIP_HDR_PROXY_AUTHORIZATION), 3);
	assert_null(memmem(out, (size_t)n, "nonce=\"n1\"", 10));
	/* The other realm's, another scheme's, and a realm that differs in case (realms
	 * are compared exactly, RFC 7616 §3.3) stay, in order. */
	const char *n2 = memmem(out, (size_t)n, "nonce=\"n2\"", 10), *basic = memmem(out, (size_t)n, "NTLM ", 5),
		   *n3 = memmem(out, (size_t)n, "nonce=\"n3\"", 10);
	assert_non_null(n2);
	assert_non_null(basic);
	assert_non_null(n3);
	assert_true(n2 < basic && basic < n3);
	assert_str(back.from.tag, "1");
	assert_str(back.call_id, "pa1");
}

/* RFC 5393 §5.3.3: the branch's Max-Breadth replaces the received value
 * (and a duplicate goes), or is added before Content-Length; 0 leaves it. */
static void test_forward_max_breadth(void **state)
{
	(void)state;
	const char *req = "OPTIONS sip:carol@chicago.example.com SIP/2.0" CRLF
			  "Via: SIP/2.0/UDP client.example.com;branch=z9hG4bKx1" CRLF
			  "Max-Breadth: 12" CRLF
			  "From: <sip:a@example.com>;tag=1" CRLF
			  "To: <sip:carol@chicago.example.com>" CRLF
			  "Call-ID: c1" CRLF
			  "max-breadth: 13" CRLF
			  "CSeq: 7 OPTIONS" CRLF
			  "Content-Length: 0" CRLF CRLF;
	parse_in(req);
	struct sip_proxy_fwd f = {.via = SIP_STR("SIP/2.0/UDP p.example.org;branch=z9hG4bK-sd0-q"), .max_breadth = 4};
	int n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	assert_str(line_value("Max-Breadth"), "4");
	assert_int_equal(sip_proxy_max_breadth(&back), 4); /* one value left */
	assert_int_equal(sip_msg_find(&back, SIP_STR("Max-Breadth")), 2); /* where the first was */

	parse_in("OPTIONS sip:c@example.com SIP/2.0" CRLF "Via: SIP/2.0/UDP c.example.com;branch=z9hG4bKx2" CRLF
		 "From: <sip:a@example.com>;tag=1" CRLF "To: <sip:c@example.com>" CRLF "Call-ID: c2" CRLF
		 "CSeq: 8 OPTIONS" CRLF "Content-Length: 0" CRLF CRLF);
	f.max_breadth = 60;
	n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	assert_str(line_value("Max-Breadth"), "60");
	assert_int_equal(sip_msg_find(&back, SIP_STR("Max-Breadth")), back.first[SIP_HDR_CONTENT_LENGTH] - 1);
	f.max_breadth = 0;
	n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	assert_int_equal(sip_msg_find(&back, SIP_STR("Max-Breadth")), -1);
}

/* §16.6 step 6: the next hop is a strict router (its Route URI has no ;lr):
 * it becomes the Request-URI, which goes last in the Route set. */
static void test_forward_to_strict_router(void **state)
{
	(void)state;
	parse_in("INVITE sip:bob@example.org SIP/2.0" CRLF "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1" CRLF
		 "Route: <sip:p.example.org;lr>, <sip:strict.example.net;maddr=192.0.2.1>" CRLF
		 "Route: <sip:loose.example.net;lr>" CRLF "From: <sip:a@example.com>;tag=1" CRLF
		 "To: <sip:bob@example.org>" CRLF "Call-ID: s1" CRLF "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF);
	struct sip_proxy_fwd f = {.via = SIP_STR("SIP/2.0/UDP p.example.org;branch=z9hG4bK-sd0-s"), .pop_routes = 1};
	int n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	assert_str(back.ruri_str, "sip:strict.example.net;maddr=192.0.2.1");
	VALUES(SIP_HDR_ROUTE, "<sip:loose.example.net;lr>", "<sip:bob@example.org>");
	/* A new Request-URI (a binding's contact) is the one that goes last. */
	f.ruri = SIP_STR("sip:bob@192.0.2.4:5062");
	n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	assert_str(back.ruri_str, "sip:strict.example.net;maddr=192.0.2.1");
	VALUES(SIP_HDR_ROUTE, "<sip:loose.example.net;lr>", "<sip:bob@192.0.2.4:5062>");
	/* A loose next hop, or a pre-loaded route in front: nothing moves. */
	f.pop_routes = 0;
	f.ruri = SIP_STR_NULL;
	n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	assert_str(back.ruri_str, "sip:bob@example.org");
	f.pop_routes = 1;
	f.route_pre = SIP_STR("<sip:edge.example.net;lr>");
	n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	assert_str(back.ruri_str, "sip:bob@example.org");
	VALUES(SIP_HDR_ROUTE, "<sip:edge.example.net;lr>", "<sip:strict.example.net;maddr=192.0.2.1>",
	       "<sip:loose.example.net;lr>");
}

/* Only record_route[0]: one line added, above the existing ones. */
static void test_forward_one_record_route(void **state)
{
	(void)state;
	parse_in(invite);
	struct sip_proxy_fwd f = {.via = SIP_STR(OUR_VIA), .record_route = {SIP_STR("<sip:rr.example.org;lr>")}};
	int n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	VALUES(SIP_HDR_RECORD_ROUTE, "<sip:rr.example.org;lr>", "<sip:p1.example.com;lr>");
	/* Nothing popped, nothing pre-loaded: both Routes stay, in order. */
	VALUES(SIP_HDR_ROUTE, "<sip:proxy.example.org;lr>", "<sip:edge.example.net;lr>");
	assert_str(back.ruri_str, "sip:bob@example.org");
}

/* RFC 3327 §5.1: a REGISTER forwarded with our Path value goes out with it
 * on top of the Path values already there (and with one when none was). */
static void test_forward_register_path(void **state)
{
	(void)state;
	parse_in("REGISTER sip:home.test SIP/2.0" CRLF "Via: SIP/2.0/UDP ua.example.com;branch=z9hG4bK1" CRLF
		 "Route: <sip:proxy.example.org;lr>, <sip:home.test;lr>" CRLF "Max-Forwards: 70" CRLF
		 "From: <sip:carol@home.test>;tag=1" CRLF "To: <sip:carol@home.test>" CRLF "Call-ID: r1" CRLF
		 "CSeq: 1 REGISTER" CRLF "Contact: <sip:carol@192.0.2.9>" CRLF
		 "Path: <sip:first.example.net;lr>" CRLF "Supported: path" CRLF "Content-Length: 0" CRLF CRLF);
	struct sip_proxy_fwd f = {
	    .via = SIP_STR(OUR_VIA), .pop_routes = 1, .path = SIP_STR("<sip:proxy.example.org;lr>")};
	int n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	VALUES(SIP_HDR_PATH, "<sip:proxy.example.org;lr>", "<sip:first.example.net;lr>");
	VALUES(SIP_HDR_ROUTE, "<sip:home.test;lr>");
	parse_in("REGISTER sip:home.test SIP/2.0" CRLF "Via: SIP/2.0/UDP ua.example.com;branch=z9hG4bK1" CRLF
		 "From: <sip:carol@home.test>;tag=1" CRLF "To: <sip:carol@home.test>" CRLF "Call-ID: r1" CRLF
		 "CSeq: 1 REGISTER" CRLF "Content-Length: 0" CRLF CRLF);
	f.pop_routes = 0;
	n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	VALUES(SIP_HDR_PATH, "<sip:proxy.example.org;lr>");
	f.path = SIP_STR("<sip:a;lr>\r\nX: y");
	assert_int_equal(sip_proxy_forward(&in, &f, out, sizeof(out)), SIP_EINVAL);
}

/* A Max-Forwards of 1 is still forwarded, as 0 (only 0 is refused). */
static void test_forward_mf_one(void **state)
{
	(void)state;
	parse_in("MESSAGE sip:u@example.org SIP/2.0" CRLF
		 "Via: SIP/2.0/UDP h;branch=z9hG4bK1" CRLF
		 "Max-Forwards:1" CRLF
		 "From: <sip:a@example.com>;tag=1" CRLF
		 "To: <sip:u@example.org>" CRLF
		 "Call-ID: c" CRLF
		 "CSeq: 1 MESSAGE" CRLF
		 "Content-Length: 2" CRLF CRLF "hi");
	struct sip_proxy_fwd f = {.via = SIP_STR("SIP/2.0/UDP p;branch=z9hG4bK-sd1-x")};
	int n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	assert_int_equal(back.max_forwards, 0);
	assert_str(back.body, "hi");
}

#define ROUTED(routes)                                                                                       \
	"INVITE sip:bob@example.org SIP/2.0" CRLF "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1" CRLF       \
	"Max-Forwards: 10" CRLF routes "From: <sip:a@example.com>;tag=1" CRLF "To: <sip:bob@example.org>" CRLF \
	"Call-ID: r1" CRLF "CSeq: 2 INVITE" CRLF "X-After: 1" CRLF "Content-Length: 0" CRLF CRLF

/* Two Route values on one comma-separated line: popping one rewrites the
 * line with the other; the pre-loaded route still goes in front. A comma
 * inside a quoted display name is not a separator. */
static void test_forward_pop_list_line(void **state)
{
	(void)state;
	parse_in(ROUTED("Route: \"us, really\" <sip:proxy.example.org;lr>, <sip:next.example.net;lr>" CRLF
			"Route: <sip:last.example.net;lr>" CRLF));
	struct sip_proxy_fwd f = {.via = SIP_STR(OUR_VIA), .route_pre = SIP_STR("<sip:pre.example.net;lr>"),
				  .pop_routes = 1};
	int n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	VALUES(SIP_HDR_ROUTE, "<sip:pre.example.net;lr>", "<sip:next.example.net;lr>", "<sip:last.example.net;lr>");
	assert_non_null(strstr(out, "Route: <sip:pre.example.net;lr>" CRLF "Route: <sip:next.example.net;lr>" CRLF
				    "Route: <sip:last.example.net;lr>" CRLF));
	assert_null(strstr(out, "us, really"));
	assert_int_equal(back.max_forwards, 9);
}

/* pop_routes = 2 removes the whole first line and the first value of the
 * second line. */
static void test_forward_pop_two_spans_lines(void **state)
{
	(void)state;
	parse_in(ROUTED("Route: <sip:p1.example.org;lr>" CRLF
			"Route: <sip:p2.example.org;lr>,<sip:far.example.net;lr>" CRLF));
	struct sip_proxy_fwd f = {.via = SIP_STR(OUR_VIA), .route_pre = SIP_STR("<sip:pre.example.net;lr>"),
				  .pop_routes = 2};
	int n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	VALUES(SIP_HDR_ROUTE, "<sip:pre.example.net;lr>", "<sip:far.example.net;lr>");
	assert_null(strstr(out, "p1.example.org"));
	assert_null(strstr(out, "p2.example.org"));

	/* The same without a pre-loaded route. */
	f.route_pre = SIP_STR_NULL;
	n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	VALUES(SIP_HDR_ROUTE, "<sip:far.example.net;lr>");

	/* Every value popped: no Route left at all, unless one is pre-loaded. */
	f.pop_routes = 3;
	n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	assert_int_equal(back.first[SIP_HDR_ROUTE], SIP_HDR_NONE);
	assert_null(strstr(out, "Route:"));
	assert_str(line_value("X-After"), "1");
	f.route_pre = SIP_STR("<sip:pre.example.net;lr>");
	n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	VALUES(SIP_HDR_ROUTE, "<sip:pre.example.net;lr>");
}

/* Refused inputs (contract: SIP_EINVAL) and output that does not fit. */
static void test_forward_errors(void **state)
{
	(void)state;
	struct sip_proxy_fwd f = full_fwd();

	/* Max-Forwards already 0 (§16.3 item 3: the caller answers 483). */
	parse_in("INVITE sip:bob@example.org SIP/2.0" CRLF "Via: SIP/2.0/UDP h;branch=z9hG4bK1" CRLF
		 "Max-Forwards: 0" CRLF "Route: <sip:proxy.example.org;lr>" CRLF "From: <sip:a@b>;tag=1" CRLF
		 "To: <sip:bob@example.org>" CRLF "Call-ID: c" CRLF "CSeq: 1 INVITE" CRLF
		 "Content-Length: 0" CRLF CRLF);
	assert_int_equal(sip_proxy_forward(&in, &f, out, sizeof(out)), SIP_EINVAL);

	/* More Route values to pop than the request has. */
	parse_in(invite);
	f.pop_routes = 3;
	assert_int_equal(sip_proxy_forward(&in, &f, out, sizeof(out)), SIP_EINVAL);
	f.pop_routes = 2;
	assert_true(sip_proxy_forward(&in, &f, out, sizeof(out)) > 0);
	parse_in(ROUTED(""));
	f.pop_routes = 1;
	assert_int_equal(sip_proxy_forward(&in, &f, out, sizeof(out)), SIP_EINVAL);

	/* A line break in any value we add would inject a header. */
	parse_in(invite);
	static const char *const bad[] = {
		"SIP/2.0/UDP p;branch=z9hG4bK1\r\nX-Evil: 1",
		"SIP/2.0/UDP p;branch=z9hG4bK1\n",
		"\rSIP/2.0/UDP p;branch=z9hG4bK1",
	};
	for (size_t i = 0; i < N(bad); i++) {
		f = full_fwd();
		f.via = (struct sip_str){bad[i], strlen(bad[i])};
		assert_int_equal(sip_proxy_forward(&in, &f, out, sizeof(out)), SIP_EINVAL);
		f = full_fwd();
		f.record_route[0] = (struct sip_str){bad[i], strlen(bad[i])};
		assert_int_equal(sip_proxy_forward(&in, &f, out, sizeof(out)), SIP_EINVAL);
		f = full_fwd();
		f.record_route[1] = (struct sip_str){bad[i], strlen(bad[i])};
		assert_int_equal(sip_proxy_forward(&in, &f, out, sizeof(out)), SIP_EINVAL);
		f = full_fwd();
		f.route_pre = (struct sip_str){bad[i], strlen(bad[i])};
		assert_int_equal(sip_proxy_forward(&in, &f, out, sizeof(out)), SIP_EINVAL);
		f = full_fwd();
		f.ruri = (struct sip_str){bad[i], strlen(bad[i])};
		assert_int_equal(sip_proxy_forward(&in, &f, out, sizeof(out)), SIP_EINVAL);
	}
	/* §16.6 step 8 is a MUST: no Via of ours, no forward. */
	f = full_fwd();
	f.via = SIP_STR_NULL;
	assert_int_equal(sip_proxy_forward(&in, &f, out, sizeof(out)), SIP_EINVAL);

	/* A response is not forwarded this way. */
	f = full_fwd();
	f.pop_routes = 0;
	parse_in("SIP/2.0 180 Ringing" CRLF "Via: SIP/2.0/UDP p;branch=z9hG4bK1" CRLF
		 "Via: SIP/2.0/UDP h;branch=z9hG4bK2" CRLF "Max-Forwards: 70" CRLF "From: <sip:a@b>;tag=1" CRLF
		 "To: <sip:c@d>;tag=2" CRLF "Call-ID: c" CRLF "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF);
	assert_int_equal(sip_proxy_forward(&in, &f, out, sizeof(out)), SIP_EINVAL);

	/* NULL arguments. */
	parse_in(invite);
	f = full_fwd();
	assert_int_equal(sip_proxy_forward(NULL, &f, out, sizeof(out)), SIP_EINVAL);
	assert_int_equal(sip_proxy_forward(&in, NULL, out, sizeof(out)), SIP_EINVAL);
	assert_int_equal(sip_proxy_forward(&in, &f, NULL, sizeof(out)), SIP_EINVAL);
}

/* Every cap below the output's length is SIP_ETOOBIG (and writes nothing
 * past cap); exactly the length is enough. */
static void test_forward_too_big(void **state)
{
	(void)state;
	parse_in(invite);
	struct sip_proxy_fwd f = full_fwd();
	int n = sip_proxy_forward(&in, &f, out, sizeof(out));
	assert_true(n > 0);
	for (int cap = 0; cap < n; cap++) {
		char *small = malloc((size_t)cap + 1);
		assert_non_null(small);
		assert_int_equal(sip_proxy_forward(&in, &f, small, (size_t)cap), SIP_ETOOBIG);
		free(small);
	}
	char *exact = malloc((size_t)n);
	assert_non_null(exact);
	assert_int_equal(sip_proxy_forward(&in, &f, exact, (size_t)n), n);
	assert_memory_equal(exact, out, (size_t)n);
	free(exact);
}

/* ---- sip_proxy_response_up (§16.7 step 9) ---- */

#define RESP_TAIL                                                                                            \
	"Record-Route: <sip:proxy.example.org;lr>" CRLF "From: <sip:alice@example.com>;tag=1" CRLF                  \
	"To: <sip:bob@example.org>;tag=b2" CRLF "Call-ID: r9" CRLF "CSeq: 4 INVITE" CRLF                         \
	"Contact: <sip:bob@192.0.2.4>" CRLF "X-Odd:  a ,b " CRLF "Content-Length: 4" CRLF CRLF "abcd"

static void test_response_up_two_lines(void **state)
{
	(void)state;
	parse_in("SIP/2.0 180 Ringing" CRLF "Via: SIP/2.0/UDP proxy.example.org;branch=z9hG4bK-sd2-k" CRLF
		 "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK74bf9;rport=5060" CRLF RESP_TAIL);
	int n = sip_proxy_response_up(&in, out, sizeof(out));
	assert_bytes(n, "SIP/2.0 180 Ringing" CRLF
			"Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK74bf9;rport=5060" CRLF RESP_TAIL);
	parse_back(n);
	assert_false(back.is_request);
	assert_int_equal(back.status, 180);
	assert_str(back.via.branch, "z9hG4bK74bf9");
	assert_int_equal(sip_hdr_count(&back, SIP_HDR_VIA), 1);
}

static void test_response_up_list_line(void **state)
{
	(void)state;
	/* Ours is the first value of a line holding two: only it goes. */
	parse_in("SIP/2.0 486 Busy Here" CRLF
		 "v: SIP/2.0/UDP proxy.example.org;branch=z9hG4bK-sd2-k , SIP/2.0/TCP a.example.com;branch=z9hG4bKa" CRLF
		 "Via: SIP/2.0/UDP c.example.com;branch=z9hG4bKc" CRLF RESP_TAIL);
	int n = sip_proxy_response_up(&in, out, sizeof(out));
	assert_bytes(n, "SIP/2.0 486 Busy Here" CRLF "v: SIP/2.0/TCP a.example.com;branch=z9hG4bKa" CRLF
			"Via: SIP/2.0/UDP c.example.com;branch=z9hG4bKc" CRLF RESP_TAIL);
	parse_back(n);
	assert_int_equal(back.status, 486);
	assert_str(back.via.host, "a.example.com");
	VALUES(SIP_HDR_VIA, "SIP/2.0/TCP a.example.com;branch=z9hG4bKa", "SIP/2.0/UDP c.example.com;branch=z9hG4bKc");

	/* A single line of two values, nothing else. */
	parse_in("SIP/2.0 200 OK" CRLF
		 "Via: SIP/2.0/UDP p.example.org;branch=z9hG4bK-sd0-1,SIP/2.0/UDP u.example.com;branch=z9hG4bKu" CRLF
		 RESP_TAIL);
	n = sip_proxy_response_up(&in, out, sizeof(out));
	assert_bytes(n, "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP u.example.com;branch=z9hG4bKu" CRLF RESP_TAIL);
}

static void test_response_up_errors(void **state)
{
	(void)state;
	/* A single Via: the response was meant for us. */
	parse_in("SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP p.example.org;branch=z9hG4bK-sd0-1" CRLF RESP_TAIL);
	assert_int_equal(sip_proxy_response_up(&in, out, sizeof(out)), SIP_EINVAL);
	/* A request is not a response. */
	parse_in(invite);
	assert_int_equal(sip_proxy_response_up(&in, out, sizeof(out)), SIP_EINVAL);
	assert_int_equal(sip_proxy_response_up(NULL, out, sizeof(out)), SIP_EINVAL);

	parse_in("SIP/2.0 180 Ringing" CRLF "Via: SIP/2.0/UDP p;branch=z9hG4bK-sd2-k" CRLF
		 "Via: SIP/2.0/UDP u;branch=z9hG4bK1" CRLF RESP_TAIL);
	assert_int_equal(sip_proxy_response_up(&in, NULL, sizeof(out)), SIP_EINVAL);
	int n = sip_proxy_response_up(&in, out, sizeof(out));
	assert_true(n > 0);
	for (int cap = 0; cap < n; cap++)
		assert_int_equal(sip_proxy_response_up(&in, out, (size_t)cap), SIP_ETOOBIG);
	assert_int_equal(sip_proxy_response_up(&in, out, (size_t)n), n);
}

/* ---- sip_build_cancel (§9.1), the CANCEL of a branch ---- */

/* The CANCEL of the branch forwarded in test_forward_full: built from the
 * forwarded bytes, as the proxy keeps them for its client transaction. */
static void test_cancel_of_forwarded(void **state)
{
	(void)state;
	parse_in(invite);
	struct sip_proxy_fwd f = full_fwd();
	int n = sip_proxy_forward(&in, &f, out, sizeof(out));
	assert_true(n > 0);
	char fwd[OUT_CAP];
	memcpy(fwd, out, (size_t)n);
	struct sip_msg branch;
	assert_int_equal(sip_msg_parse(&branch, fwd, (size_t)n, SIP_PARSE_STREAM, NULL), n);

	n = sip_build_cancel(&branch, out, sizeof(out));
	assert_bytes(n, "CANCEL sip:bob@192.0.2.4:5062;transport=tcp SIP/2.0" CRLF
			"Via: " OUR_VIA CRLF
			"Route: <sip:pcscf.example.net;lr>" CRLF
			"Route: <sip:edge.example.net;lr>" CRLF
			"Max-Forwards: 70" CRLF
			"From: \"Alice\" <sip:alice@example.com>;tag=9fxced76sl" CRLF
			"To: \"Bob\" <sip:bob@example.org>" CRLF
			"Call-ID: a84b4c76e66710@pc33.example.com" CRLF
			"CSeq: 314159 CANCEL" CRLF
			"Content-Length: 0" CRLF CRLF);
	parse_back(n);
	assert_int_equal(back.method_id, SIP_METHOD_CANCEL);
	assert_int_equal(back.cseq.method_id, SIP_METHOD_CANCEL);
	assert_int_equal(back.cseq.num, branch.cseq.num);
	assert_true(sip_str_eq(back.ruri_str, branch.ruri_str));
	assert_true(sip_str_eq(back.via.branch, branch.via.branch));
	assert_int_equal(sip_hdr_count(&back, SIP_HDR_VIA), 1);
	assert_true(sip_str_eq(back.call_id, branch.call_id));
	assert_true(sip_str_eq(back.from.tag, branch.from.tag));
	assert_false(back.to.has_tag);
	VALUES(SIP_HDR_ROUTE, "<sip:pcscf.example.net;lr>", "<sip:edge.example.net;lr>");
	assert_int_equal(back.max_forwards, 70);
	assert_int_equal(back.content_length, 0);
	assert_int_equal(back.first[SIP_HDR_CONTENT_TYPE], SIP_HDR_NONE);
	assert_int_equal(back.first[SIP_HDR_RECORD_ROUTE], SIP_HDR_NONE);
	assert_int_equal(back.first[SIP_HDR_CONTACT], SIP_HDR_NONE);
}

/* The top Via value only, when the top line holds two; a Route line with
 * two values keeps both; a To tag is kept. */
static void test_cancel_top_via_value(void **state)
{
	(void)state;
	parse_in("INVITE sip:u@10.0.0.9 SIP/2.0" CRLF
		 "Via: SIP/2.0/UDP p.example.org;branch=z9hG4bK-sd5-zz, SIP/2.0/UDP u.example.com;branch=z9hG4bKu" CRLF
		 "Route: <sip:r1.example.net;lr>, <sip:r2.example.net;lr>" CRLF
		 "Max-Forwards: 40" CRLF "From: <sip:a@example.com>;tag=f" CRLF "To: <sip:u@example.org>;tag=t" CRLF
		 "Call-ID: k@h" CRLF "CSeq: 4294967295 INVITE" CRLF "Content-Length: 0" CRLF CRLF);
	int n = sip_build_cancel(&in, out, sizeof(out));
	parse_back(n);
	VALUES(SIP_HDR_VIA, "SIP/2.0/UDP p.example.org;branch=z9hG4bK-sd5-zz");
	VALUES(SIP_HDR_ROUTE, "<sip:r1.example.net;lr>", "<sip:r2.example.net;lr>");
	assert_str(back.to.tag, "t");
	assert_int_equal(back.cseq.num, 4294967295u);
	assert_str(back.ruri_str, "sip:u@10.0.0.9");
	assert_non_null(strstr(out, "CSeq: 4294967295 CANCEL" CRLF));
}

static void test_cancel_errors(void **state)
{
	(void)state;
	parse_in(ROUTED("") );
	int n = sip_build_cancel(&in, out, sizeof(out));
	parse_back(n); /* no Route: none in the CANCEL */
	assert_int_equal(back.first[SIP_HDR_ROUTE], SIP_HDR_NONE);
	for (int cap = 0; cap < n; cap++)
		assert_int_equal(sip_build_cancel(&in, out, (size_t)cap), SIP_ETOOBIG);
	assert_int_equal(sip_build_cancel(&in, NULL, 100), SIP_EINVAL);
	assert_int_equal(sip_build_cancel(NULL, out, sizeof(out)), SIP_EINVAL);

	parse_in("BYE sip:bob@example.org SIP/2.0" CRLF "Via: SIP/2.0/UDP h;branch=z9hG4bK1" CRLF
		 "From: <sip:a@b>;tag=1" CRLF "To: <sip:bob@example.org>;tag=2" CRLF "Call-ID: c" CRLF
		 "CSeq: 3 BYE" CRLF "Content-Length: 0" CRLF CRLF);
	assert_int_equal(sip_build_cancel(&in, out, sizeof(out)), SIP_EINVAL);
	parse_in("CANCEL sip:bob@example.org SIP/2.0" CRLF "Via: SIP/2.0/UDP h;branch=z9hG4bK1" CRLF
		 "From: <sip:a@b>;tag=1" CRLF "To: <sip:bob@example.org>" CRLF "Call-ID: c" CRLF
		 "CSeq: 3 CANCEL" CRLF "Content-Length: 0" CRLF CRLF);
	assert_int_equal(sip_build_cancel(&in, out, sizeof(out)), SIP_EINVAL);
	/* A response to an INVITE is not an INVITE. */
	parse_in("SIP/2.0 180 Ringing" CRLF "Via: SIP/2.0/UDP h;branch=z9hG4bK1" CRLF "From: <sip:a@b>;tag=1" CRLF
		 "To: <sip:c@d>;tag=2" CRLF "Call-ID: c" CRLF "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF);
	assert_int_equal(sip_build_cancel(&in, out, sizeof(out)), SIP_EINVAL);
}

/* §16.7 step 7: the relayed 401/407 carries the challenges of every branch. */
static void test_add_challenges(void **state)
{
	(void)state;
	static struct sip_msg other;
	static const char other_text[] = "SIP/2.0 407 Proxy Authentication Required" CRLF
					 "Via: SIP/2.0/UDP u.example.com;branch=z9hG4bKu" CRLF
					 "From: <sip:a@example.com>;tag=1" CRLF "To: <sip:b@example.org>;tag=x" CRLF
					 "Call-ID: c" CRLF "CSeq: 1 INVITE" CRLF
					 "Proxy-Authenticate: Digest realm=\"p2\", nonce=\"n2\"" CRLF
					 "WWW-Authenticate: Digest realm=\"w2\", nonce=\"m2\"" CRLF "Content-Length: 0" CRLF CRLF;
	assert_true(sip_msg_parse(&other, other_text, sizeof(other_text) - 1, SIP_PARSE_DATAGRAM, NULL) > 0);
	parse_in("SIP/2.0 401 Unauthorized" CRLF "Via: SIP/2.0/UDP u.example.com;branch=z9hG4bKu" CRLF
		 "From: <sip:a@example.com>;tag=1" CRLF "To: <sip:b@example.org>;tag=y" CRLF "Call-ID: c" CRLF
		 "CSeq: 1 INVITE" CRLF "WWW-Authenticate: Digest realm=\"w1\", nonce=\"m1\"" CRLF
		 "Content-Length: 0" CRLF CRLF);
	int n = sip_proxy_add_challenges(&in, &other, out, sizeof(out));
	parse_back(n);
	assert_int_equal(back.status, 401);
	VALUES(SIP_HDR_WWW_AUTHENTICATE, "Digest realm=\"w1\", nonce=\"m1\"", "Digest realm=\"w2\", nonce=\"m2\"");
	VALUES(SIP_HDR_PROXY_AUTHENTICATE, "Digest realm=\"p2\", nonce=\"n2\"");
	assert_true(sip_str_eq(back.to.tag, SIP_STR("y"))); /* the rest is the best response's */
	assert_int_equal(sip_proxy_add_challenges(&other, &other, out, 10), SIP_ETOOBIG);
}

/* ---- regressions: empty header lines, malformed Route lists ---- */

/* A Route line with an empty value. sip_hdr_count / the iterator skip
 * it (so the caller sees <sip:proxy...> as the first Route value and asks for
 * one pop), but sip_edit_pop_route (src/message/edit.c pop_first) removes
 * the empty line as if it were the first value: the Route naming us stays
 * on top and the request comes back to us (§16.4, §16.12). */
static void test_pop_route_after_empty_line(void **state)
{
	(void)state;
	parse_in(ROUTED("Route:" CRLF "Route: <sip:proxy.example.org;lr>" CRLF "Route: <sip:next.example.net;lr>" CRLF));
	assert_int_equal(sip_hdr_count(&in, SIP_HDR_ROUTE), 2);
	struct sip_proxy_fwd f = {.via = SIP_STR(OUR_VIA), .pop_routes = 1};
	int n = sip_proxy_forward(&in, &f, out, sizeof(out));
	parse_back(n);
	VALUES(SIP_HDR_ROUTE, "<sip:next.example.net;lr>");
}

/* The same for Via in a response: with an empty Via line above ours,
 * sip_proxy_response_up removes the empty line and relays the response with
 * our own Via still on top (§16.7 step 3 removes the topmost Via value). */
static void test_response_up_after_empty_via_line(void **state)
{
	(void)state;
	parse_in("SIP/2.0 180 Ringing" CRLF "Via:" CRLF "Via: SIP/2.0/UDP proxy.example.org;branch=z9hG4bK-sd2-k" CRLF
		 "Via: SIP/2.0/UDP u.example.com;branch=z9hG4bKu" CRLF RESP_TAIL);
	assert_str(in.via.branch, "z9hG4bK-sd2-k"); /* the parser's top Via is ours */
	int n = sip_proxy_response_up(&in, out, sizeof(out));
	parse_back(n);
	assert_str(back.via.branch, "z9hG4bKu");
}

/* Error code: with a malformed Route list (an empty element),
 * sip_hdr_count returns SIP_EPARSE, which sip_proxy_forward casts to
 * unsigned, so the "fewer Route values than pop_routes" check passes and
 * the pop fails later with SIP_ENOTFOUND instead of the documented
 * SIP_EINVAL. */
static void test_pop_routes_malformed_list(void **state)
{
	(void)state;
	parse_in(ROUTED("Route: <sip:proxy.example.org;lr>,,<sip:next.example.net;lr>" CRLF));
	assert_true(sip_hdr_count(&in, SIP_HDR_ROUTE) < 0);
	struct sip_proxy_fwd f = {.via = SIP_STR(OUR_VIA), .pop_routes = 5};
	assert_int_equal(sip_proxy_forward(&in, &f, out, sizeof(out)), SIP_EINVAL);
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
		cmocka_unit_test(test_forward_full),
		cmocka_unit_test(test_forward_tail_identical),
		cmocka_unit_test(test_forward_adds_missing),
		cmocka_unit_test(test_forward_consumes_our_credentials),
		cmocka_unit_test(test_forward_one_record_route),
		cmocka_unit_test(test_forward_register_path),
		cmocka_unit_test(test_add_challenges),
		cmocka_unit_test(test_forward_mf_one),
		cmocka_unit_test(test_forward_pop_list_line),
		cmocka_unit_test(test_forward_pop_two_spans_lines),
		cmocka_unit_test(test_forward_errors),
		cmocka_unit_test(test_forward_too_big),
		cmocka_unit_test(test_response_up_two_lines),
		cmocka_unit_test(test_response_up_list_line),
		cmocka_unit_test(test_response_up_errors),
		cmocka_unit_test(test_cancel_of_forwarded),
		cmocka_unit_test(test_cancel_top_via_value),
		cmocka_unit_test(test_cancel_errors),
		cmocka_unit_test(test_pop_route_after_empty_line),
		cmocka_unit_test(test_response_up_after_empty_via_line),
		cmocka_unit_test(test_pop_routes_malformed_list),
		cmocka_unit_test(test_forward_max_breadth),
		cmocka_unit_test(test_forward_to_strict_router),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
