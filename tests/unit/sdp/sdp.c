/* SDP (RFC 4566) parsing and RFC 3264 answers: the RFC 4566 §5 example,
 * order and syntax errors with their offsets, c= at either level,
 * directions, and answers that keep every m-line in place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sip/msg.h>
#include <sip/sdp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sip_test.h"

static struct sip_sdp s, ans;
static char out[8192];

#define STREQ(slice, lit) assert_true(sip_str_eq((slice), SIP_STR(lit)))

/* RFC 4566 §5's example. */
static const char example[] = "v=0\r\n"
			      "o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\r\n"
			      "s=SDP Seminar\r\n"
			      "i=A Seminar on the session description protocol\r\n"
			      "u=http://www.example.com/seminars/sdp.pdf\r\n"
			      "e=j.doe@example.com (Jane Doe)\r\n"
			      "c=IN IP4 224.2.17.12/127\r\n"
			      "t=2873397496 2873404696\r\n"
			      "a=recvonly\r\n"
			      "m=audio 49170 RTP/AVP 0\r\n"
			      "m=video 51372 RTP/AVP 99\r\n"
			      "a=rtpmap:99 h263-1998/90000\r\n";

static void test_rfc4566_example(void **state)
{
	(void)state;
	assert_int_equal(sip_sdp_parse(&s, example, strlen(example), NULL), 0);
	STREQ(s.o_user, "jdoe");
	STREQ(s.o_sess_id, "2890844526");
	STREQ(s.origin.addr, "10.47.16.5");
	STREQ(s.name, "SDP Seminar");
	STREQ(s.conn.addr, "224.2.17.12/127");
	STREQ(s.t_start, "2873397496");
	assert_int_equal(s.dir, SIP_SDP_RECVONLY);
	assert_int_equal(s.nmedia, 2);
	STREQ(s.media[0].type, "audio");
	assert_int_equal(s.media[0].port, 49170);
	STREQ(s.media[0].proto, "RTP/AVP");
	assert_int_equal(s.media[0].nfmt, 1);
	assert_int_equal(s.media[0].dir, SIP_SDP_RECVONLY); /* inherited */
	assert_int_equal(s.media[1].port, 51372);
	STREQ(sip_sdp_encoding(&s, 1, SIP_STR("99")), "h263-1998");
	STREQ(sip_sdp_encoding(&s, 0, SIP_STR("0")), "PCMU"); /* static payload type */
	assert_int_equal(sip_sdp_encoding(&s, 0, SIP_STR("97")).len, 0);
}

static void expect_bad(const char *text, size_t want_off)
{
	size_t off = 12345;
	assert_int_equal(sip_sdp_parse(&s, text, strlen(text), &off), SIP_EPARSE);
	assert_int_equal(off, want_off);
}

static void test_errors(void **state)
{
	(void)state;
	expect_bad("o=- 1 1 IN IP4 h\r\n", 0);			  /* no v= first */
	expect_bad("v=1\r\n", 0);				  /* version 0 only */
	expect_bad("v=0\r\ns=x\r\n", 5);			  /* o= before s= */
	expect_bad("v=0\r\no=- 1 x IN IP4 h\r\ns=x\r\nt=0 0\r\n", 5); /* non-numeric version */
	/* c= after b= (order, §5), and an unknown type letter. */
	expect_bad("v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nb=AS:64\r\nc=IN IP4 h\r\nt=0 0\r\n", 37);
	expect_bad("v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nt=0 0\r\nx=what\r\n", 35);
	/* m= before any t=, a media line with no format, a bad port. */
	expect_bad("v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nm=audio 9 RTP/AVP 0\r\n", 28);
	expect_bad("v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 h\r\nt=0 0\r\nm=audio 9 RTP/AVP\r\n", 47);
	expect_bad("v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 h\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n", 47);
	/* No c= at all for a stream (§5.7). */
	const char *noc = "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n";
	expect_bad(noc, strlen(noc));
	/* A last line without its line break; a double space between fields. */
	expect_bad("v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nt=0 0", 28);
	expect_bad("v=0\r\no=-  1 1 IN IP4 h\r\ns=x\r\nt=0 0\r\n", 5);
	/* Bare LF line ends are taken; a c= in each m= section does. */
	const char *lf = "v=0\no=- 1 1 IN IP4 h\ns=x\nt=0 0\nm=audio 9 RTP/AVP 8\nc=IN IP4 192.0.2.1\na=sendonly\n";
	assert_int_equal(sip_sdp_parse(&s, lf, strlen(lf), NULL), 0);
	assert_true(s.media[0].has_conn);
	assert_int_equal(s.media[0].dir, SIP_SDP_SENDONLY);
	assert_int_equal(s.dir, SIP_SDP_SENDRECV);
	/* An empty s= is taken (unnamed), an absent one is not. */
	const char *unnamed = "v=0\r\no=- 1 1 IN IP4 h\r\ns=\r\nc=IN IP4 h\r\nt=0 0\r\n";
	assert_int_equal(sip_sdp_parse(&s, unnamed, strlen(unnamed), NULL), 0);
	assert_int_equal(s.name.len, 0);
	expect_bad("v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 h\r\nt=0 0\r\n", 23);
}

static void parse_ok(struct sip_sdp *d, const char *text)
{
	size_t off = 0;
	int rc = sip_sdp_parse(d, text, strlen(text), &off);
	if (rc)
		fprintf(stderr, "parse failed at %zu: %s\n", off, text + off);
	assert_int_equal(rc, 0);
}

/* The answer keeps both m-lines: audio accepted with the shared codec and
 * the mirrored direction, video rejected with port 0 and its formats. */
static void test_answer(void **state)
{
	(void)state;
	parse_ok(&s, "v=0\r\no=alice 1 1 IN IP4 198.51.100.1\r\ns=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\n"
		     "m=audio 49170 RTP/AVP 96 8 0 101\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n"
		     "a=sendonly\r\n"
		     "m=video 51372 RTP/AVP 99\r\na=rtpmap:99 H264/90000\r\n");
	struct sip_sdp_answer_opts o = {.addr = "192.0.2.5", .port = 30000, .sess_id = 42};
	int n = sip_sdp_answer(&s, &o, out, sizeof(out));
	assert_true(n > 0);
	parse_ok(&ans, out);
	assert_int_equal(ans.nmedia, 2);
	assert_int_equal(ans.media[0].port, 30000);
	assert_int_equal(ans.media[0].nfmt, 2); /* PCMA and PCMU, in the offer's order */
	STREQ(ans.media[0].fmt[0], "8");
	STREQ(ans.media[0].fmt[1], "0");
	assert_int_equal(ans.media[0].dir, SIP_SDP_RECVONLY); /* mirrors sendonly */
	assert_int_equal(ans.media[1].port, 0);
	STREQ(ans.media[1].fmt[0], "99");
	STREQ(ans.conn.addr, "192.0.2.5");
	assert_int_equal(sip_sdp_accepted(&ans), 1);
	/* opus by preference, with the offer's own rtpmap (clock rate, channels). */
	o.codecs = "opus,PCMU";
	o.inactive = true;
	n = sip_sdp_answer(&s, &o, out, sizeof(out));
	parse_ok(&ans, out);
	assert_int_equal(ans.media[0].nfmt, 2);
	STREQ(ans.media[0].fmt[0], "96");
	assert_non_null(strstr(out, "a=rtpmap:96 opus/48000/2\r\n"));
	assert_int_equal(ans.media[0].dir, SIP_SDP_INACTIVE);
	/* Nothing in common: every stream rejected, still one m-line each. */
	o.codecs = "G729";
	n = sip_sdp_answer(&s, &o, out, sizeof(out));
	parse_ok(&ans, out);
	assert_int_equal(sip_sdp_accepted(&ans), 0);
	assert_int_equal(ans.nmedia, 2);
	/* Too small a buffer. */
	assert_int_equal(sip_sdp_answer(&s, &o, out, 20), SIP_ETOOBIG);
}

static void test_caps(void **state)
{
	(void)state;
	char big[8192];
	size_t o = (size_t)snprintf(big, sizeof(big), "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 h\r\nt=0 0\r\n");
	for (int i = 0; i <= SIP_SDP_MAX_MEDIA; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "m=audio %d RTP/AVP 0\r\n", 1000 + i);
	assert_int_equal(sip_sdp_parse(&s, big, o, NULL), SIP_ETOOBIG);
	o = (size_t)snprintf(big, sizeof(big), "v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 h\r\nt=0 0\r\nm=audio 9 RTP/AVP");
	for (int i = 0; i <= SIP_SDP_MAX_FORMATS; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, " %d", i);
	o += (size_t)snprintf(big + o, sizeof(big) - o, "\r\n");
	assert_int_equal(sip_sdp_parse(&s, big, o, NULL), SIP_EPARSE);
}

/* The SDP bodies of RFC 5118 (tests/data/rfc5118): IPv6 connection
 * addresses carry no brackets (§4.6), media lines with an IPv4 and an IPv6
 * address (§4.8), an IPv4-mapped IPv6 address (§4.9). */
static void sdp_of(const char *file, struct sip_sdp *sdp)
{
	size_t len;
	char *b = sip_test_load(file, &len);
	struct sip_msg m;
	assert_true(sip_msg_parse(&m, b, len, SIP_PARSE_DATAGRAM | SIP_PARSE_VALIDATE, NULL) > 0);
	assert_int_equal(m.body.len, m.content_length);
	/* Copied out so the slices stay valid once b is freed. */
	static char body[2048];
	assert_true(m.body.len < sizeof body);
	memcpy(body, m.body.p, m.body.len);
	assert_int_equal(sip_sdp_parse(sdp, body, m.body.len, NULL), 0);
	free(b);
}

static void test_rfc5118_bodies(void **state)
{
	(void)state;
	struct sip_sdp d;
	sdp_of("rfc5118/ipv6-in-sdp.dat", &d);
	assert_true(d.has_conn);
	STREQ(d.conn.addrtype, "IP6");
	STREQ(d.conn.addr, "2001:db8::20");
	STREQ(d.origin.addr, "2001:db8::20");
	sdp_of("rfc5118/mult-ip-in-sdp.dat", &d);
	assert_false(d.has_conn);
	assert_int_equal(d.nmedia, 2);
	STREQ(d.media[0].conn.addrtype, "IP4");
	STREQ(d.media[0].conn.addr, "192.0.2.1");
	STREQ(d.media[1].conn.addrtype, "IP6");
	STREQ(d.media[1].conn.addr, "2001:db8::1");
	sdp_of("rfc5118/ipv4-mapped-ipv6.dat", &d);
	STREQ(d.conn.addr, "::ffff:192.0.2.2");
	assert_int_equal(d.nmedia, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4566_example),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_rfc5118_bodies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
