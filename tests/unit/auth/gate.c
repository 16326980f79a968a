/* sip_auth_find_creds(): which header a request's credentials are taken from
 * (Authorization for a UAS/registrar, Proxy-Authorization for a proxy), the
 * first Digest one for the realm wins, other schemes and realms are skipped,
 * an unreadable header is an error (400), none at all is 0 (challenge); the
 * challenge headers a registrar (WWW-Authenticate) and a proxy
 * (Proxy-Authenticate) add, one per algorithm with one nonce. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sip/auth.h>
#include <sip/print.h>

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

/* One value at a time (what a proxy consuming its realm's credentials
 * asks): Digest for the realm 1, another realm or scheme 0, unreadable an
 * error; realms compare exactly. */
static void test_creds_in_one_value(void **state)
{
	(void)state;
	struct sip_digest_creds c;
	assert_int_equal(sip_auth_creds_in(SIP_STR(CREDS("localhost", "alice")), SIP_STR("localhost"), &c), 1);
	assert_int_equal(c.username.len, 5);
	assert_int_equal(sip_auth_creds_in(SIP_STR(CREDS("LOCALHOST", "alice")), SIP_STR("localhost"), &c), 0);
	assert_int_equal(sip_auth_creds_in(SIP_STR(CREDS("other.example", "a")), SIP_STR("localhost"), &c), 0);
	assert_int_equal(sip_auth_creds_in(SIP_STR("NTLM realm=\"localhost\", targetname=\"x\""), SIP_STR("localhost"),
					   &c),
			 0);
	assert_int_equal(sip_auth_creds_in(SIP_STR("Digest ,,,="), SIP_STR("localhost"), &c), SIP_EPARSE);
}

static void test_challenge_headers(void **state)
{
	(void)state;
	static const uint8_t secret[] = "gate-test-secret-0123456789abcdef";
	struct sip_auth_server_config cfg = {.secret = secret, .secret_len = sizeof secret - 1};
	struct sip_auth_server *s = NULL;
	assert_int_equal(sip_auth_server_new(&s, &cfg), 0);
	char out[2048];
	for (int proxy = 0; proxy < 2; proxy++) {
		struct sip_builder b;
		sip_build_init(&b, out, sizeof out);
		assert_int_equal(sip_auth_build_challenges(s, SIP_STR("localhost"), 1000, proxy, proxy, &b), 0);
		int n = sip_build_finish(&b);
		assert_true(n > 0);
		out[n] = 0;
		const char *name = proxy ? "Proxy-Authenticate: Digest " : "WWW-Authenticate: Digest ";
		const char *first = strstr(out, name), *second = first ? strstr(first + 1, name) : NULL;
		assert_non_null(first);
		assert_non_null(second); /* MD5 and SHA-256 by default */
		assert_null(strstr(second + 1, name));
		assert_null(strstr(out, proxy ? "WWW-Authenticate" : "Proxy-Authenticate"));
		assert_true(!!strstr(out, "stale=true") == !!proxy);
		/* one nonce shared by both */
		const char *n1 = strstr(first, "nonce=\""), *n2 = strstr(second, "nonce=\"");
		assert_non_null(n1);
		assert_non_null(n2);
		assert_memory_equal(n1, n2, 40);
	}
	sip_auth_server_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxy_header_and_realm),
		cmocka_unit_test(test_none_and_malformed),
		cmocka_unit_test(test_creds_in_one_value),
		cmocka_unit_test(test_challenge_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
