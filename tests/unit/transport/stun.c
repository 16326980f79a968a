/* The STUN Binding responder (src/transport/stun.c) for RFC 5626 §4.4.2
 * keep-alives: demultiplexing from SIP, the response's transaction id,
 * XOR-MAPPED-ADDRESS against the RFC 5769 test vectors (192.0.2.1:32853 and
 * 2001:db8:1234:5678:11:2233:4455:6677 port 32853 under transaction id
 * b7e7a701bc34d686fa87dfae), FINGERPRINT, and what gets no answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include <sip/stun.h>

static const uint8_t tid[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

/* A Binding request with that transaction id and `extra` attribute bytes. */
static size_t request(uint8_t *buf, const uint8_t *extra, size_t n)
{
	buf[0] = 0x00;
	buf[1] = 0x01;
	buf[2] = (uint8_t)(n >> 8);
	buf[3] = (uint8_t)n;
	buf[4] = 0x21;
	buf[5] = 0x12;
	buf[6] = 0xa4;
	buf[7] = 0x42;
	memcpy(buf + 8, tid, 12);
	if (n)
		memcpy(buf + 20, extra, n);
	return 20 + n;
}

static void test_crc32(void **state)
{
	(void)state;
	assert_int_equal(sip_stun_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u); /* the CRC-32 check value */
	assert_int_equal(sip_stun_crc32((const uint8_t *)"", 0), 0);
}

static void test_demux(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t n = request(buf, NULL, 0);
	assert_true(sip_stun_is_message(buf, n));
	assert_false(sip_stun_is_message(buf, n - 1)); /* length field disagrees */
	assert_false(sip_stun_is_message((const uint8_t *)"OPTIONS sip:a SIP/2.0\r\n\r\n", 25));
	assert_false(sip_stun_is_message((const uint8_t *)"\r\n\r\n", 4));
	buf[4] = 0x00; /* RFC 3489 STUN (no magic cookie): not ours to answer */
	assert_false(sip_stun_is_message(buf, n));
	buf[4] = 0x21;
	buf[3] = 2; /* length not a multiple of 4 */
	assert_false(sip_stun_is_message(buf, 22));
	assert_false(sip_stun_is_message(NULL, 20));
}

static void test_ipv4(void **state)
{
	(void)state;
	/* A request carrying a SOFTWARE attribute ("STUN test vector"). */
	static const uint8_t software[] = {0x80, 0x22, 0x00, 0x10, 'S', 'T', 'U', 'N', ' ', 't', 'e', 's',
					   't',  ' ',  'v',  'e',  'c', 't', 'o', 'r'};
	uint8_t req[64], out[SIP_STUN_RESPONSE_MAX];
	size_t n = request(req, software, sizeof software);
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons(32853)};
	assert_int_equal(inet_pton(AF_INET, "192.0.2.1", &src.sin_addr), 1);
	int len = sip_stun_binding_response(req, n, (struct sockaddr *)&src, out, sizeof out);
	assert_int_equal(len, 20 + 12 + 8);
	assert_true(sip_stun_is_message(out, (size_t)len));
	assert_int_equal(out[0], 0x01); /* Binding success response */
	assert_int_equal(out[1], 0x01);
	assert_memory_equal(out + 8, tid, 12);
	static const uint8_t xma[] = {0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43};
	assert_memory_equal(out + 20, xma, sizeof xma); /* RFC 5769 §2.2 */
	/* FINGERPRINT: CRC-32 of everything before it, XOR 0x5354554e. */
	assert_int_equal(out[32], 0x80);
	assert_int_equal(out[33], 0x28);
	uint32_t fp = (uint32_t)out[36] << 24 | (uint32_t)out[37] << 16 | (uint32_t)out[38] << 8 | out[39];
	assert_int_equal(fp, sip_stun_crc32(out, 32) ^ 0x5354554eu);
}

static void test_ipv6(void **state)
{
	(void)state;
	uint8_t req[32], out[SIP_STUN_RESPONSE_MAX];
	size_t n = request(req, NULL, 0);
	struct sockaddr_in6 src = {.sin6_family = AF_INET6, .sin6_port = htons(32853)};
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", &src.sin6_addr), 1);
	int len = sip_stun_binding_response(req, n, (struct sockaddr *)&src, out, sizeof out);
	assert_int_equal(len, 20 + 24 + 8);
	static const uint8_t xma[] = {0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
				      0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9};
	assert_memory_equal(out + 20, xma, sizeof xma); /* RFC 5769 §2.3 */
	assert_int_equal((out[2] << 8 | out[3]) + 20, len);
}

static void test_no_answer(void **state)
{
	(void)state;
	uint8_t req[32], out[SIP_STUN_RESPONSE_MAX];
	size_t n = request(req, NULL, 0);
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons(5060)};
	req[1] = 0x11; /* a Binding indication: no response */
	assert_int_equal(sip_stun_binding_response(req, n, (struct sockaddr *)&src, out, sizeof out), SIP_EINVAL);
	req[1] = 0x01;
	assert_int_equal(sip_stun_binding_response(req, n, (struct sockaddr *)&src, out, 40), SIP_ETOOBIG);
	struct sockaddr un = {.sa_family = AF_UNIX};
	assert_int_equal(sip_stun_binding_response(req, n, &un, out, sizeof out), SIP_EINVAL);
	assert_int_equal(sip_stun_binding_response((const uint8_t *)"INVITE sip:a SIP/2.0", 20,
						   (struct sockaddr *)&src, out, sizeof out),
			 SIP_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc32),    cmocka_unit_test(test_demux),     cmocka_unit_test(test_ipv4),
	    cmocka_unit_test(test_ipv6),     cmocka_unit_test(test_no_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
