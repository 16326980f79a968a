/* Unit tests for sip_auth_parse (RFC 3261 §22, §25; RFC 7616; RFC 4475 regaut01). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "sip_test.h"
#include <sip/msg.h>



static void test_credentials(void **state)
{
	(void)state;
	struct sip_auth a;
	size_t off = 999;
	/* RFC 3261 §22.4 example (folded as on the wire). */
	static const char cred[] =
	    "Digest username=\"bob\",\r\n realm=\"biloxi.com\",\r\n"
	    " nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n uri=\"sip:bob@biloxi.com\",\r\n"
	    " qop=auth,\r\n nc=00000001,\r\n cnonce=\"0a4f113b\",\r\n"
	    " response=\"6629fae49393a05397450978507c4ef1\",\r\n"
	    " opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
	assert_int_equal(sip_auth_parse(&a, SIP_STR(cred), &off), 0);
	slice_is(a.scheme, "Digest", "scheme", 0);
	slice_is(a.username, "bob", "username", 0);
	slice_is(a.realm, "biloxi.com", "realm", 0);
	slice_is(a.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093", "nonce", 0);
	slice_is(a.uri, "sip:bob@biloxi.com", "uri", 0);
	slice_is(a.qop, "auth", "qop", 0);
	slice_is(a.nc, "00000001", "nc", 0);
	slice_is(a.cnonce, "0a4f113b", "cnonce", 0);
	slice_is(a.response, "6629fae49393a05397450978507c4ef1", "response", 0);
	slice_is(a.opaque, "5ccc069c403ebaf9f0171e9517f40e41", "opaque", 0);
	assert_int_equal(a.algorithm.len, 0);
	assert_ptr_equal(a.params.p, cred + 7);
	assert_ptr_equal(a.params.p + a.params.len, cred + sizeof(cred) - 1);

	/* RFC 7616 §3.9.1: userhash and SHA-256 (names are case-insensitive). */
	assert_int_equal(
	    sip_auth_parse(
		&a,
		SIP_STR(
		    "Digest USERNAME=\"488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec\", "
		    "realm=\"api@example.org\", uri=\"/doe.json\", algorithm=SHA-256, "
		    "nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", nc=00000001, "
		    "cnonce=\"NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v\", qop=auth, "
		    "response=\"ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd\", "
		    "opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", userhash=true"),
		&off),
	    0);
	slice_is(a.username, "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec", "username", 0);
	slice_is(a.algorithm, "SHA-256", "algorithm", 0);
	slice_is(a.userhash, "true", "userhash", 0);

	/* RFC 4475 regaut01: unknown scheme, params kept. */
	assert_int_equal(sip_auth_parse(&a, SIP_STR("NoOneKnowsThisScheme opaque-data=here"), &off), 0);
	slice_is(a.scheme, "NoOneKnowsThisScheme", "scheme", 0);
	slice_is(a.params, "opaque-data=here", "params", 0);
	assert_int_equal(a.opaque.len, 0);

	/* Escapes stay in place; an empty quoted value is present but empty. */
	assert_int_equal(
	    sip_auth_parse(&a, SIP_STR("Digest realm=\"a\\\"b\" , opaque=\"\",x-ext = tok"), &off), 0);
	slice_is(a.realm, "a\\\"b", "realm", 0);
	assert_non_null(a.opaque.p);
	assert_int_equal(a.opaque.len, 0);
	slice_is(a.params, "realm=\"a\\\"b\" , opaque=\"\",x-ext = tok", "params", 0);
}

static void test_challenge(void **state)
{
	(void)state;
	struct sip_auth a;
	/* RFC 3261 §20.44 WWW-Authenticate example. */
	assert_int_equal(
	    sip_auth_parse(
		&a,
		SIP_STR(
		    "Digest realm=\"atlanta.com\",\r\n domain=\"sip:ss1.carrier.com\", qop=\"auth\",\r\n"
		    " nonce=\"f84f1cec41e6cbe5aea9c8e88d359\",\r\n opaque=\"\", stale=FALSE, algorithm=MD5"),
		NULL),
	    0);
	slice_is(a.realm, "atlanta.com", "realm", 0);
	slice_is(a.domain, "sip:ss1.carrier.com", "domain", 0);
	slice_is(a.qop, "auth", "qop", 0);
	slice_is(a.nonce, "f84f1cec41e6cbe5aea9c8e88d359", "nonce", 0);
	slice_is(a.stale, "FALSE", "stale", 0);
	slice_is(a.algorithm, "MD5", "algorithm", 0);
	/* The first of a repeated parameter wins. */
	assert_int_equal(
	    sip_auth_parse(&a, SIP_STR("Digest realm=one, realm=two, qop=\"auth,auth-int\""), NULL), 0);
	slice_is(a.realm, "one", "realm", 0);
	slice_is(a.qop, "auth,auth-int", "qop", 0);
}

static void test_auth_bad(void **state)
{
	(void)state;
	static const struct {
		struct sip_str in;
		int rc;
		size_t off;
	} bad[] = {
	    {V("Digest realm=\"open"), SIP_EPARSE, 13}, /* quoted value left open */
	    {V("Digest realm="), SIP_EPARSE, 13},	/* '=' with no value */
	    {V("Digest realm= , nonce=x"), SIP_EPARSE, 14},
	    {V("Digest realm=\"x\" junk"), SIP_EPARSE, 17},
	    {V("Digest realm=\"x\","), SIP_EPARSE, 17},
	    {V("Digest realm=\"x\",,nonce=y"), SIP_EPARSE, 17},
	    {V("Digest ,realm=x"), SIP_EPARSE, 7},
	    {V("Digest"), SIP_EPARSE, 6},
	    {V("Digest "), SIP_EPARSE, 7},
	    {V("Digest realm"), SIP_EPARSE, 12},
	    {V("Digest realm=a b"), SIP_EPARSE, 15},
	    {V("Digest realm=sip:x"), SIP_EPARSE, 16},
	    {V("Digest,realm=x"), SIP_EPARSE, 6},
	    {V(""), SIP_EPARSE, 0},
	    {V("\"Digest\" realm=x"), SIP_EPARSE, 0},
	};
	for (size_t i = 0; i < N(bad); i++) {
		struct sip_auth a;
		size_t off = 999;
		int rc = sip_auth_parse(&a, bad[i].in, &off);
		if (rc != bad[i].rc || off != bad[i].off)
			fail_msg("row %zu \"%.*s\": rc %d off %zu, want rc %d off %zu", i,
				 SIP_STR_ARG(bad[i].in), rc, off, bad[i].rc, bad[i].off);
	}
	/* The auth-param cap. */
	char big[64 * 6 + 16] = "Digest ";
	size_t n = strlen(big);
	for (int i = 0; i < 65; i++) {
		memcpy(big + n, "a=b, ", 5);
		n += 5;
	}
	big[n - 2] = '\0';
	struct sip_auth a;
	assert_int_equal(sip_auth_parse(&a, sip_str_c(big), NULL), SIP_ETOOBIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_credentials),
	    cmocka_unit_test(test_challenge),
	    cmocka_unit_test(test_auth_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
