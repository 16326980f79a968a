/* Dialogs (RFC 3261 §12, §13.2.2.4; RFC 3262 RSeq/RAck) from both sides,
 * with real messages parsed by the message layer: creation (early and
 * confirmed), route sets in the right order, target refreshes, CSeq rules,
 * loose and strict routing of our in-dialog requests, PRACK bookkeeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sip/dialog.h>
#include <stdio.h>
#include <string.h>

#define CRLF "\r\n"

static struct sip_msg a, b, c;
static struct sip_dialog d;
static char out[8192];

static void parse(struct sip_msg *m, const char *text)
{
	assert_true(sip_msg_parse(m, text, strlen(text), SIP_PARSE_DATAGRAM, NULL) > 0);
}

static const char invite[] =
	"INVITE sip:bob@biloxi.example.com SIP/2.0" CRLF
	"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds" CRLF
	"Max-Forwards: 70" CRLF
	"To: Bob <sip:bob@biloxi.example.com>" CRLF
	"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
	"CSeq: 314159 INVITE" CRLF
	"Contact: <sip:alice@pc33.atlanta.example.com>" CRLF
	"Record-Route: <sip:p2.biloxi.example.com;lr>, <sip:p1.atlanta.example.com;lr>" CRLF
	"Content-Length: 0" CRLF CRLF;

/* The 180 and 200 as they come back to Alice through two proxies. */
#define RESP(status, extra)                                                                          \
	"SIP/2.0 " status CRLF "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds" CRLF \
	"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF                                          \
	"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF                                \
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF extra "Content-Length: 0" CRLF CRLF

static const char ringing[] = RESP("180 Ringing", "CSeq: 314159 INVITE" CRLF
						  "Contact: <sip:bob@192.0.2.4>" CRLF
						  "Record-Route: <sip:p1.atlanta.example.com;lr>" CRLF
						  "Record-Route: <sip:p2.biloxi.example.com;lr>" CRLF);
static const char ok[] = RESP("200 OK", "CSeq: 314159 INVITE" CRLF "Contact: <sip:bob@192.0.2.4:5062>" CRLF
					"Record-Route: <sip:p1.atlanta.example.com;lr>, <sip:p2.biloxi.example.com;lr>" CRLF);

static void assert_route(unsigned i, const char *want)
{
	assert_true(i < d.nroutes);
	assert_string_equal(d.routes + d.route_off[i], want);
}

static void test_uac_early_then_confirmed(void **state)
{
	(void)state;
	parse(&a, invite);
	parse(&b, ringing);
	assert_int_equal(sip_dialog_uac_create(&d, &a, &b), 0);
	assert_int_equal(d.state, SIP_DIALOG_EARLY);
	assert_true(d.uac);
	assert_string_equal(d.call_id, "a84b4c76e66710@pc33.atlanta.example.com");
	assert_string_equal(d.local_tag, "1928301774");
	assert_string_equal(d.remote_tag, "a6c85cf");
	assert_string_equal(d.local_uri, "sip:alice@atlanta.example.com");
	assert_string_equal(d.remote_uri, "sip:bob@biloxi.example.com");
	assert_string_equal(d.remote_target, "sip:bob@192.0.2.4");
	assert_int_equal(d.local_seq, 314159);
	/* UAC: the Record-Route values reversed (§12.1.2). */
	assert_int_equal(d.nroutes, 2);
	assert_route(0, "<sip:p2.biloxi.example.com;lr>");
	assert_route(1, "<sip:p1.atlanta.example.com;lr>");
	assert_true(sip_dialog_matches(&d, &b));
	/* The 2xx confirms it and its Contact is the target from now on. */
	parse(&c, ok);
	assert_int_equal(sip_dialog_on_response(&d, &c), 0);
	assert_int_equal(d.state, SIP_DIALOG_CONFIRMED);
	assert_string_equal(d.remote_target, "sip:bob@192.0.2.4:5062");
	assert_route(0, "<sip:p2.biloxi.example.com;lr>");
}

static void test_uac_create_errors(void **state)
{
	(void)state;
	parse(&a, invite);
	parse(&b, RESP("100 Trying", "CSeq: 314159 INVITE" CRLF));
	assert_int_equal(sip_dialog_uac_create(&d, &a, &b), SIP_EINVAL); /* 100 creates nothing */
	parse(&b, "SIP/2.0 180 Ringing" CRLF "Via: SIP/2.0/UDP h;branch=z9hG4bK1" CRLF "To: <sip:bob@b>" CRLF
		  "From: <sip:alice@a>;tag=1" CRLF "Call-ID: x" CRLF "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF);
	assert_int_equal(sip_dialog_uac_create(&d, &a, &b), SIP_EINVAL); /* no To tag */
	parse(&b, RESP("200 OK", "CSeq: 314159 INVITE" CRLF));
	assert_int_equal(sip_dialog_uac_create(&d, &a, &b), SIP_EINVAL); /* a 2xx needs a Contact */
	parse(&b, RESP("486 Busy Here", "CSeq: 314159 INVITE" CRLF));
	assert_int_equal(sip_dialog_uac_create(&d, &a, &b), SIP_EINVAL);
}

static void test_uas_side(void **state)
{
	(void)state;
	parse(&a, invite);
	assert_int_equal(sip_dialog_uas_create(&d, &a, SIP_STR("a6c85cf")), 0);
	assert_false(d.uac);
	assert_int_equal(d.state, SIP_DIALOG_EARLY);
	assert_string_equal(d.remote_tag, "1928301774");
	assert_string_equal(d.local_uri, "sip:bob@biloxi.example.com");
	assert_string_equal(d.remote_uri, "sip:alice@atlanta.example.com");
	assert_string_equal(d.remote_target, "sip:alice@pc33.atlanta.example.com");
	/* UAS: the Record-Route values in order (§12.1.1). */
	assert_route(0, "<sip:p2.biloxi.example.com;lr>");
	assert_route(1, "<sip:p1.atlanta.example.com;lr>");
	assert_int_equal(d.remote_seq, 314159);
	sip_dialog_confirm(&d);
	assert_int_equal(d.state, SIP_DIALOG_CONFIRMED);
	/* Bob's BYE: to Alice's Contact through p2 then p1, with both tags. */
	struct sip_dialog_req r = {.method = SIP_STR("BYE"), .via = SIP_STR("SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKbye")};
	int n = sip_dialog_request(&d, &r, out, sizeof(out));
	assert_true(n > 0);
	parse(&b, out);
	assert_true(sip_str_eq(b.ruri_str, SIP_STR("sip:alice@pc33.atlanta.example.com")));
	assert_true(sip_str_eq(b.from.tag, SIP_STR("a6c85cf")));
	assert_true(sip_str_eq(b.to.tag, SIP_STR("1928301774")));
	assert_int_equal(b.cseq.num, 1); /* the first local CSeq */
	assert_non_null(strstr(out, "Route: <sip:p2.biloxi.example.com;lr>" CRLF "Route: <sip:p1.atlanta.example.com;lr>" CRLF));
	assert_int_equal(sip_hdr_count(&b, SIP_HDR_VIA), 1);
	/* The UAS needs a Contact to reach the caller. */
	parse(&a, "INVITE sip:bob@b SIP/2.0" CRLF "Via: SIP/2.0/UDP h;branch=z9hG4bK1" CRLF "To: <sip:bob@b>" CRLF
		  "From: <sip:alice@a>;tag=1" CRLF "Call-ID: x" CRLF "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF);
	assert_int_equal(sip_dialog_uas_create(&d, &a, SIP_STR("t")), SIP_EINVAL);
}

static void test_in_dialog_requests_from_peer(void **state)
{
	(void)state;
	parse(&a, invite);
	assert_int_equal(sip_dialog_uas_create(&d, &a, SIP_STR("a6c85cf")), 0);
	sip_dialog_confirm(&d);
	/* A re-INVITE moves the remote target (§12.2.2) and the remote CSeq. */
	parse(&b, "INVITE sip:bob@192.0.2.4 SIP/2.0" CRLF "Via: SIP/2.0/UDP pc34;branch=z9hG4bK2" CRLF
		  "To: <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF "From: <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
		  "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF "CSeq: 314160 INVITE" CRLF
		  "Contact: <sip:alice@198.51.100.9:5070>" CRLF "Content-Length: 0" CRLF CRLF);
	assert_true(sip_dialog_matches(&d, &b));
	assert_int_equal(sip_dialog_on_request(&d, &b), 0);
	assert_string_equal(d.remote_target, "sip:alice@198.51.100.9:5070");
	assert_int_equal(d.remote_seq, 314160);
	/* An older CSeq is out of order: 500. */
	parse(&b, "INFO sip:bob@192.0.2.4 SIP/2.0" CRLF "Via: SIP/2.0/UDP pc34;branch=z9hG4bK3" CRLF
		  "To: <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF "From: <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
		  "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF "CSeq: 314150 INFO" CRLF "Content-Length: 0" CRLF CRLF);
	assert_int_equal(sip_dialog_on_request(&d, &b), 500);
	assert_int_equal(d.remote_seq, 314160);
	/* An UPDATE with a new Contact refreshes the target too (RFC 3311). */
	parse(&b, "UPDATE sip:bob@192.0.2.4 SIP/2.0" CRLF "Via: SIP/2.0/UDP pc34;branch=z9hG4bK4" CRLF
		  "To: <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF "From: <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
		  "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF "CSeq: 314161 UPDATE" CRLF
		  "Contact: <sip:alice@198.51.100.10>" CRLF "Content-Length: 0" CRLF CRLF);
	assert_int_equal(sip_dialog_on_request(&d, &b), 0);
	assert_string_equal(d.remote_target, "sip:alice@198.51.100.10");
	/* A foreign tag does not match. */
	parse(&c, "BYE sip:bob@192.0.2.4 SIP/2.0" CRLF "Via: SIP/2.0/UDP pc34;branch=z9hG4bK5" CRLF
		  "To: <sip:bob@biloxi.example.com>;tag=other" CRLF "From: <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
		  "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF "CSeq: 314162 BYE" CRLF "Content-Length: 0" CRLF CRLF);
	assert_false(sip_dialog_matches(&d, &c));
	/* The BYE ends it; nothing more can be sent in it. */
	parse(&b, "BYE sip:bob@192.0.2.4 SIP/2.0" CRLF "Via: SIP/2.0/UDP pc34;branch=z9hG4bK6" CRLF
		  "To: <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF "From: <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
		  "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF "CSeq: 314162 BYE" CRLF "Content-Length: 0" CRLF CRLF);
	assert_int_equal(sip_dialog_on_request(&d, &b), 0);
	assert_int_equal(d.state, SIP_DIALOG_TERMINATED);
	struct sip_dialog_req r = {.method = SIP_STR("INFO")};
	assert_int_equal(sip_dialog_request(&d, &r, out, sizeof(out)), SIP_EINVAL);
}

static void test_uac_requests_ack_and_refresh(void **state)
{
	(void)state;
	parse(&a, invite);
	parse(&b, ok);
	assert_int_equal(sip_dialog_uac_create(&d, &a, &b), 0);
	/* The ACK for the 2xx carries the INVITE's CSeq and the route set. */
	struct sip_dialog_req r = {.method = SIP_STR("ACK"), .cseq = 314159, .via = SIP_STR("SIP/2.0/UDP pc33;branch=z9hG4bKack")};
	int n = sip_dialog_request(&d, &r, out, sizeof(out));
	assert_true(n > 0);
	parse(&c, out);
	assert_true(sip_str_eq(c.ruri_str, SIP_STR("sip:bob@192.0.2.4:5062")));
	assert_int_equal(c.cseq.num, 314159);
	assert_int_equal(c.cseq.method_id, SIP_METHOD_ACK);
	assert_int_equal(d.local_seq, 314159); /* unchanged by the ACK */
	/* A re-INVITE: the next CSeq, our new Contact, a body. */
	struct sip_dialog_req re = {.method = SIP_STR("INVITE"), .via = SIP_STR("SIP/2.0/UDP pc33;branch=z9hG4bKre"),
				    .contact = SIP_STR("sip:alice@203.0.113.1"), .content_type = SIP_STR("application/sdp"),
				    .body = SIP_STR("v=0\r\n")};
	n = sip_dialog_request(&d, &re, out, sizeof(out));
	parse(&c, out);
	assert_int_equal(c.cseq.num, 314160);
	assert_non_null(strstr(out, "Contact: <sip:alice@203.0.113.1>" CRLF));
	assert_int_equal(c.content_length, 5);
	/* Its 200 with a new Contact moves the target (§12.2.1.2). */
	parse(&c, RESP("200 OK", "CSeq: 314160 INVITE" CRLF "Contact: <sip:bob@192.0.2.44>" CRLF));
	assert_int_equal(sip_dialog_on_response(&d, &c), 0);
	assert_string_equal(d.remote_target, "sip:bob@192.0.2.44");
	assert_route(0, "<sip:p2.biloxi.example.com;lr>"); /* the route set never changes once confirmed */
	/* A 481 to anything ends the dialog. */
	parse(&c, RESP("481 Call/Transaction Does Not Exist", "CSeq: 314161 INFO" CRLF));
	assert_int_equal(sip_dialog_on_response(&d, &c), 0);
	assert_int_equal(d.state, SIP_DIALOG_TERMINATED);
}

static void test_early_dialog_failure(void **state)
{
	(void)state;
	parse(&a, invite);
	parse(&b, ringing);
	assert_int_equal(sip_dialog_uac_create(&d, &a, &b), 0);
	parse(&c, RESP("486 Busy Here", "CSeq: 314159 INVITE" CRLF));
	assert_int_equal(sip_dialog_on_response(&d, &c), 0);
	assert_int_equal(d.state, SIP_DIALOG_TERMINATED);
}

/* §12.2.1.1: behind a strict router (no ;lr) the first route is the
 * Request-URI and the remote target goes last in Route. */
static void test_strict_routing(void **state)
{
	(void)state;
	parse(&a, invite);
	parse(&b, RESP("200 OK", "CSeq: 314159 INVITE" CRLF "Contact: <sip:bob@192.0.2.4>" CRLF
				 "Record-Route: <sip:p1.atlanta.example.com;lr>, <sip:strict.biloxi.example.com>" CRLF));
	assert_int_equal(sip_dialog_uac_create(&d, &a, &b), 0);
	assert_false(d.first_route_lr);
	struct sip_dialog_req r = {.method = SIP_STR("BYE"), .via = SIP_STR("SIP/2.0/UDP pc33;branch=z9hG4bKs")};
	int n = sip_dialog_request(&d, &r, out, sizeof(out));
	assert_true(n > 0);
	parse(&c, out);
	assert_true(sip_str_eq(c.ruri_str, SIP_STR("sip:strict.biloxi.example.com")));
	assert_non_null(strstr(out, "Route: <sip:p1.atlanta.example.com;lr>" CRLF "Route: <sip:bob@192.0.2.4>" CRLF));
	assert_null(strstr(out, "Route: <sip:strict"));
}

static void test_prack(void **state)
{
	(void)state;
	parse(&a, invite);
	parse(&b, RESP("180 Ringing", "CSeq: 314159 INVITE" CRLF "Contact: <sip:bob@192.0.2.4>" CRLF
				      "Require: 100rel" CRLF "RSeq: 988789" CRLF));
	assert_int_equal(sip_dialog_uac_create(&d, &a, &b), 0);
	char rack[64];
	assert_int_equal(sip_dialog_prack_needed(&d, &b, rack, sizeof(rack)), 1);
	assert_string_equal(rack, "988789 314159 INVITE");
	assert_int_equal(sip_dialog_prack_needed(&d, &b, rack, sizeof(rack)), 0); /* retransmission */
	parse(&c, RESP("183 Session Progress", "CSeq: 314159 INVITE" CRLF "Require: 100rel" CRLF "RSeq: 988791" CRLF));
	assert_int_equal(sip_dialog_prack_needed(&d, &c, rack, sizeof(rack)), 0); /* skipped one: out of order */
	parse(&c, RESP("183 Session Progress", "CSeq: 314159 INVITE" CRLF "Require: 100rel" CRLF "RSeq: 988790" CRLF));
	assert_int_equal(sip_dialog_prack_needed(&d, &c, rack, sizeof(rack)), 1);
	parse(&c, RESP("180 Ringing", "CSeq: 314159 INVITE" CRLF "RSeq: 1" CRLF));
	assert_int_equal(sip_dialog_prack_needed(&d, &c, rack, sizeof(rack)), SIP_EINVAL); /* not reliable */
	parse(&c, RESP("180 Ringing", "CSeq: 314159 INVITE" CRLF "Require: 100rel" CRLF "RSeq: x" CRLF));
	assert_int_equal(sip_dialog_prack_needed(&d, &c, rack, sizeof(rack)), SIP_EINVAL);

	/* UAS side: RSeq numbering and the RAck check. */
	parse(&a, invite);
	assert_int_equal(sip_dialog_uas_create(&d, &a, SIP_STR("a6c85cf")), 0);
	uint32_t r1 = sip_dialog_next_rseq(&d, 0xffffffffu);
	assert_true(r1 >= 1 && r1 <= 0x7fffffffu);
	assert_int_equal(sip_dialog_next_rseq(&d, 7), r1 + 1);
	char prack[1024];
	snprintf(prack, sizeof(prack),
		 "PRACK sip:bob@192.0.2.4 SIP/2.0" CRLF "Via: SIP/2.0/UDP pc33;branch=z9hG4bKp" CRLF
		 "To: <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF "From: <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
		 "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF "CSeq: 314160 PRACK" CRLF "RAck: %u 314159 INVITE" CRLF
		 "Content-Length: 0" CRLF CRLF,
		 (unsigned)(r1 + 1));
	parse(&b, prack);
	assert_true(sip_dialog_rack_matches(&d, &b, 314159));
	assert_false(sip_dialog_rack_matches(&d, &b, 314158)); /* another INVITE: 481 */
	parse(&c, "PRACK sip:bob@192.0.2.4 SIP/2.0" CRLF "Via: SIP/2.0/UDP pc33;branch=z9hG4bKp" CRLF
		  "To: <sip:bob@b>;tag=a6c85cf" CRLF "From: <sip:alice@a>;tag=1928301774" CRLF "Call-ID: x" CRLF
		  "CSeq: 2 PRACK" CRLF "Content-Length: 0" CRLF CRLF);
	assert_false(sip_dialog_rack_matches(&d, &c, 314159)); /* no RAck */
}

/* Found by fuzz_dialog: a Contact with ?headers (legal there, not in a
 * Request-URI, §19.1.1) and an RFC 2543 peer without a From tag (its
 * remote tag is null, §12.1.1): our requests must still parse. */
static void test_headers_in_target_and_null_tag(void **state)
{
	(void)state;
	parse(&a, "SUBSCRIBE sip:bob@b SIP/2.0" CRLF "Via: SIP/2.0/UDP h;branch=z9hG4bK1" CRLF "To: <sip:bob@b>" CRLF
		  "From: <sip:alice@a>" CRLF "Call-ID: x" CRLF "CSeq: 1 SUBSCRIBE" CRLF
		  "Contact: <sip:alice@a?Route=%3Csip:p.example.com%3E>" CRLF "Content-Length: 0" CRLF CRLF);
	assert_int_equal(sip_dialog_uas_create(&d, &a, SIP_STR("t1")), 0);
	assert_string_equal(d.remote_tag, "");
	parse(&c, "BYE sip:bob@b SIP/2.0" CRLF "Via: SIP/2.0/UDP h;branch=z9hG4bK2" CRLF "To: <sip:bob@b>;tag=t1" CRLF
		  "From: <sip:alice@a>" CRLF "Call-ID: x" CRLF "CSeq: 2 BYE" CRLF "Content-Length: 0" CRLF CRLF);
	assert_true(sip_dialog_matches(&d, &c)); /* no From tag: the null remote tag */
	struct sip_dialog_req r = {.method = SIP_STR("NOTIFY"), .via = SIP_STR("SIP/2.0/UDP b;branch=z9hG4bKn")};
	int n = sip_dialog_request(&d, &r, out, sizeof(out));
	assert_true(n > 0);
	parse(&b, out);
	assert_true(sip_str_eq(b.ruri_str, SIP_STR("sip:alice@a")));
	assert_false(b.to.has_tag);
	assert_true(sip_str_eq(sip_uri_request_form(SIP_STR("sip:u?x@h;p=1?a=b")), SIP_STR("sip:u?x@h;p=1")));
	assert_true(sip_str_eq(sip_uri_request_form(SIP_STR("tel:+1?x")), SIP_STR("tel:+1?x")));
}

static void test_caps(void **state)
{
	(void)state;
	/* A route set of more values than a dialog keeps is refused, not cut. */
	char big[8192];
	size_t o = (size_t)snprintf(big, sizeof(big), "INVITE sip:bob@b SIP/2.0" CRLF "Via: SIP/2.0/UDP h;branch=z9hG4bK1" CRLF
						     "To: <sip:bob@b>" CRLF "From: <sip:alice@a>;tag=1" CRLF "Call-ID: x" CRLF
						     "CSeq: 1 INVITE" CRLF "Contact: <sip:alice@a>" CRLF);
	for (int i = 0; i < SIP_DIALOG_MAX_ROUTES + 1; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "Record-Route: <sip:p%d.example.net;lr>" CRLF, i);
	snprintf(big + o, sizeof(big) - o, "Content-Length: 0" CRLF CRLF);
	parse(&a, big);
	assert_int_equal(sip_dialog_uas_create(&d, &a, SIP_STR("t")), SIP_ETOOBIG);
	/* A tiny output buffer. */
	parse(&a, invite);
	assert_int_equal(sip_dialog_uas_create(&d, &a, SIP_STR("t")), 0);
	struct sip_dialog_req r = {.method = SIP_STR("BYE")};
	assert_int_equal(sip_dialog_request(&d, &r, out, 40), SIP_ETOOBIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uac_early_then_confirmed),
		cmocka_unit_test(test_uac_create_errors),
		cmocka_unit_test(test_uas_side),
		cmocka_unit_test(test_in_dialog_requests_from_peer),
		cmocka_unit_test(test_uac_requests_ack_and_refresh),
		cmocka_unit_test(test_early_dialog_failure),
		cmocka_unit_test(test_strict_routing),
		cmocka_unit_test(test_prack),
		cmocka_unit_test(test_headers_in_target_and_null_tag),
		cmocka_unit_test(test_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
