/* sip_auth_find_creds(): which header a request's credentials are taken from
 * (Authorization for a UAS/registrar, Proxy-Authorization for a proxy), the
 * first Digest one for the realm wins, other schemes and realms are skipped,
 * an unreadable header is an error (400), none at all is 0 (challenge). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sip/auth.h>

static struct sip_msg m;
static char buf[2048];

static void parse(const char *extra)
{
	int n = snprintf(buf, sizeof buf,
			 "OPTIONS sip:carol@elsewhere.example SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-g1\r\n"
			 "From: <sip:alice@localhost>;tag=1\r\nTo: <sip:carol@elsewhere.example>\r\n"
			 "Call-ID: g@t\r\nCSeq: 1 OPTIONS\r\n%sContent-Length: 0\r\n\r\n",
			 extra);
	assert_true(n > 0 && (size_t)n < sizeof buf);
	assert_true(sip_msg_parse(&m, buf, (size_t)n, SIP_PARSE_DATAGRAM, NULL) > 0);
}

#define CREDS(realm, user)                                                                                     \
	"Digest username=\"" user "\", realm=\"" realm "\", nonce=\"n1\", uri=\"sip:carol@elsewhere.example\", " \
	"response=\"0123456789abcdef0123456789abcdef\""

static void test_proxy_header_and_realm(void **state)
{
	(void)state;
	struct sip_digest_creds c;
	parse("Proxy-Authorization: NTLM realm=\"localhost\", targetname=\"x\"\r\n"
	      "Proxy-Authorization: " CREDS("other.example", "bob") "\r\n"
	      "Proxy-Authorization: " CREDS("localhost", "alice") "\r\n"
	      "Authorization: " CREDS("localhost", "mallory") "\r\n");
	assert_int_equal(sip_auth_find_creds(&m, true, SIP_STR("localhost"), &c), 1);
	assert_true(sip_str_eq(c.username, SIP_STR("alice")));
	/* A registrar/UAS reads Authorization only. */
	assert_int_equal(sip_auth_find_creds(&m, false, SIP_STR("localhost"), &c), 1);
	assert_true(sip_str_eq(c.username, SIP_STR("mallory")));
	/* No credentials for this realm: challenge. */
	assert_int_equal(sip_auth_find_creds(&m, true, SIP_STR("example.com"), &c), 0);
}

static void test_none_and_malformed(void **state)
{
	(void)state;
	struct sip_digest_creds c;
	parse("");
	assert_int_equal(sip_auth_find_creds(&m, true, SIP_STR("localhost"), &c), 0);
	assert_int_equal(sip_auth_find_creds(&m, false, SIP_STR("localhost"), &c), 0);
	parse("Proxy-Authorization: Digest username=\"alice, realm=localhost\r\n");
	assert_int_equal(sip_auth_find_creds(&m, true, SIP_STR("localhost"), &c), SIP_EPARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxy_header_and_realm),
		cmocka_unit_test(test_none_and_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
