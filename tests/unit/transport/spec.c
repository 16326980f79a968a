/* Pure transport helpers: spec parsing, the §18.1.1 MTU rule, Via and branch
 * formatting, the stateless error response builder. No sockets. */
#include "tp_test.h"

static void test_parse_spec(void **state)
{
	(void)state;
	struct sip_tp_spec s;
	assert_int_equal(sip_transport_parse_spec("udp:127.0.0.1:5060", &s), 0);
	assert_int_equal(s.type, SIP_TP_UDP);
	assert_string_equal(s.host, "127.0.0.1");
	assert_int_equal(s.port, 5060);
	assert_int_equal(sip_transport_parse_spec("tls:[::1]:5061", &s), 0);
	assert_int_equal(s.type, SIP_TP_TLS);
	assert_string_equal(s.host, "::1");
	assert_int_equal(s.port, 5061);
	assert_int_equal(sip_transport_parse_spec("TCP:0.0.0.0", &s), 0);
	assert_int_equal(s.type, SIP_TP_TCP);
	assert_int_equal(s.port, 5060);
	assert_int_equal(sip_transport_parse_spec("tls:[2001:db8::1]", &s), 0);
	assert_int_equal(s.port, 5061);
	assert_string_equal(s.host, "2001:db8::1");
	assert_int_equal(sip_transport_parse_spec("sctp:1.2.3.4:5060", &s), SIP_EUNSUPPORTED);
	assert_int_equal(sip_transport_parse_spec("udp:1.2.3.4:65536", &s), SIP_EPARSE);
	assert_int_equal(sip_transport_parse_spec("udp:1.2.3.4:", &s), SIP_EPARSE);
	assert_int_equal(sip_transport_parse_spec("udp:1.2.3.4:50x", &s), SIP_EPARSE);
	assert_int_equal(sip_transport_parse_spec("udp:::1:5060", &s), SIP_EPARSE);
	assert_int_equal(sip_transport_parse_spec("udp:[::1", &s), SIP_EPARSE);
	assert_int_equal(sip_transport_parse_spec("udp:", &s), SIP_EPARSE);
	assert_int_equal(sip_transport_parse_spec("127.0.0.1", &s), SIP_EPARSE);
	assert_int_equal(sip_transport_parse_spec("udp:a b:1", &s), SIP_EPARSE);
}

static void test_mtu_rule(void **state)
{
	(void)state;
	/* MTU 1500: over 1300 bytes (within 200 of the MTU) goes over TCP. */
	assert_int_equal(sip_transport_select(1300, 1500, SIP_TP_UDP), SIP_TP_UDP);
	assert_int_equal(sip_transport_select(1301, 1500, SIP_TP_UDP), SIP_TP_TCP);
	/* A smaller path MTU moves the threshold. */
	assert_int_equal(sip_transport_select(1000, 1200, SIP_TP_UDP), SIP_TP_UDP);
	assert_int_equal(sip_transport_select(1001, 1200, SIP_TP_UDP), SIP_TP_TCP);
	/* Unknown MTU: the 1300-byte rule. */
	assert_int_equal(sip_transport_select(1300, 0, SIP_TP_UDP), SIP_TP_UDP);
	assert_int_equal(sip_transport_select(1301, 0, SIP_TP_UDP), SIP_TP_TCP);
	/* Jumbo frames. */
	assert_int_equal(sip_transport_select(8000, 9000, SIP_TP_UDP), SIP_TP_UDP);
	/* Only UDP is ever switched. */
	assert_int_equal(sip_transport_select(100000, 1500, SIP_TP_TLS), SIP_TP_TLS);
	assert_int_equal(sip_transport_select(10, 1500, SIP_TP_TCP), SIP_TP_TCP);
	assert_int_equal(sip_transport_select(150, 100, SIP_TP_UDP), SIP_TP_TCP);
	/* The configured switch. */
	assert_int_equal(sip_transport_pick(NULL, 5000, SIP_TP_UDP), SIP_TP_UDP);
}

static void test_types(void **state)
{
	(void)state;
	assert_int_equal(sip_transport_type_parse(SIP_STR("Udp")), SIP_TP_UDP);
	assert_int_equal(sip_transport_type_parse(SIP_STR("tls")), SIP_TP_TLS);
	assert_int_equal(sip_transport_type_parse(SIP_STR("ws")), SIP_TP_NONE);
	assert_string_equal(sip_transport_type_name(SIP_TP_TCP), "TCP");
	assert_true(sip_transport_reliable(SIP_TP_TLS));
	assert_false(sip_transport_reliable(SIP_TP_UDP));
}

static void test_branch(void **state)
{
	(void)state;
	char a[64], b[64];
	assert_int_equal(sip_transport_branch(a, sizeof(a)), 29);
	assert_int_equal(sip_transport_branch(b, sizeof(b)), 29);
	assert_memory_equal(a, "z9hG4bK", 7);
	assert_string_not_equal(a, b);
	assert_int_equal(sip_transport_branch(a, 29), SIP_ETOOBIG);
}

static const char bad_req[] = "INVITE sip:bob@example.com SIP/2.0\r\n"
			      "v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc\r\n"
			      "Via: SIP/2.0/UDP 192.0.2.2\r\n"
			      "X-Junk: \x01\x02\r\n"
			      "f: <sip:alice@example.com>;tag=1\r\n"
			      "To: <sip:bob@example.com>\r\n"
			      " ;x=folded\r\n"
			      "Call-ID: abc@h\r\n"
			      "CSeq: 1 INVITE\r\n"
			      "\r\n";

static void test_error_response(void **state)
{
	(void)state;
	char out[1024];
	int n = sip_transport_error_response(bad_req, sizeof(bad_req) - 1, 400, out, sizeof(out) - 1);
	assert_true(n > 0);
	out[n] = 0;
	assert_non_null(strstr(out, "SIP/2.0 400 Bad Request\r\n"));
	assert_non_null(strstr(out, "v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc\r\nVia: SIP/2.0/UDP 192.0.2.2\r\n"));
	assert_non_null(strstr(out, "f: <sip:alice@example.com>;tag=1\r\n"));
	assert_non_null(strstr(out, "To: <sip:bob@example.com>\r\n ;x=folded;tag="));
	assert_non_null(strstr(out, "Call-ID: abc@h\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"));
	assert_null(strstr(out, "X-Junk"));
	/* The result parses as a response. */
	struct sip_msg *m = malloc(sizeof(*m));
	struct sip_parse_err e;
	assert_true(sip_msg_parse(m, out, (size_t)n, SIP_PARSE_STREAM, &e) > 0);
	assert_false(m->is_request);
	assert_int_equal(m->status, 400);
	free(m);

	n = sip_transport_error_response(bad_req, sizeof(bad_req) - 1, 513, out, sizeof(out));
	assert_true(n > 0);
	assert_memory_equal(out, "SIP/2.0 513 Message Too Large\r\n", 31);
	/* Too small a buffer, a response, missing headers, an incomplete start line. */
	assert_int_equal(sip_transport_error_response(bad_req, sizeof(bad_req) - 1, 400, out, 40), SIP_ETOOBIG);
	assert_int_equal(sip_transport_error_response("SIP/2.0 200 OK\r\n\r\n", 18, 400, out, sizeof(out)), SIP_EPARSE);
	assert_int_equal(sip_transport_error_response("OPTIONS sip:a SIP/2.0\r\nVia: x\r\n\r\n", 33, 400, out,
						       sizeof(out)),
			 SIP_EPARSE);
	assert_int_equal(sip_transport_error_response("OPTIONS sip:a SIP/2.0", 21, 400, out, sizeof(out)), SIP_EPARSE);
	/* Every prefix is handled without reading past it. */
	for (size_t i = 0; i < sizeof(bad_req) - 1; i++) {
		char *copy = malloc(i + 1);
		memcpy(copy, bad_req, i);
		int rc = sip_transport_error_response(copy, i, 400, out, sizeof(out));
		assert_true(rc == SIP_EPARSE || rc > 0);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_spec), cmocka_unit_test(test_mtu_rule), cmocka_unit_test(test_types),
		cmocka_unit_test(test_branch),     cmocka_unit_test(test_error_response),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
