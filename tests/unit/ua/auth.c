/* The UA's digest retry rules (src/ua/auth.c) without sockets: challenges
 * come from the real server-side digest code (sip_auth_server), the answers
 * are checked by sip_auth_verify, as a registrar would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ua/ua_auth.h"

#define REALM "example.com"
#define RURI "sip:example.com"
static const uint8_t SECRET[] = "ua-auth-test-secret-0123456789ab";

static int ha1_of_secret(void *ud, struct sip_str user, struct sip_str realm, enum sip_digest_alg alg,
			 char ha1[SIP_DIGEST_HEX_MAX])
{
	(void)ud;
	if (!sip_str_eq(user, SIP_STR("alice")))
		return SIP_ENOTFOUND;
	return sip_digest_ha1(alg, user, realm, SIP_STR("secret"), ha1);
}

struct fx {
	struct sip_auth_server *srv;
	struct sip_ua_session s;
	char resp[4096]; /* the last 401/407 built */
	struct sip_msg m;
	char lines[SIP_UA_AUTH_HDRS_MAX];
};

static struct sip_auth_server *server(const enum sip_digest_alg *algs, size_t n)
{
	struct sip_auth_server_config c;
	memset(&c, 0, sizeof(c));
	c.secret = SECRET;
	c.secret_len = sizeof(SECRET) - 1;
	for (size_t i = 0; i < n; i++)
		c.algs[i] = algs[i];
	c.nalgs = n;
	struct sip_auth_server *s = NULL;
	assert_int_equal(sip_auth_server_new(&s, &c), 0);
	return s;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->srv = server(NULL, 0); /* SHA-256 then MD5 */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sip_auth_server_free(f->srv);
	free(f);
	return 0;
}

/* Builds and parses a response with the given challenge header lines. */
static void response(struct fx *f, int status, const char *chal_lines)
{
	int n = snprintf(f->resp, sizeof(f->resp),
			 "SIP/2.0 %d Unauthorized\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx\r\n"
			 "From: <sip:alice@example.com>;tag=a\r\nTo: <sip:alice@example.com>;tag=b\r\n"
			 "Call-ID: c1\r\nCSeq: 1 REGISTER\r\n%sContent-Length: 0\r\n\r\n",
			 status, chal_lines);
	assert_true(n > 0 && (size_t)n < sizeof(f->resp));
	assert_true(sip_msg_parse(&f->m, f->resp, (size_t)n, SIP_PARSE_DATAGRAM, NULL) > 0);
}

/* A 401 with the server's challenges (stale as asked) at time now. */
static void challenge(struct fx *f, struct sip_auth_server *srv, const char *hdr, bool stale, int64_t now)
{
	char buf[2048], lines[3000];
	struct sip_str v[4];
	size_t n = 0, len = 0;
	assert_int_equal(sip_auth_challenges(srv, SIP_STR(REALM), now, stale, buf, sizeof buf, v, 4, &n), 0);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(lines + len, sizeof(lines) - len, "%s: %.*s\r\n", hdr,
					SIP_STR_ARG(v[i]));
	response(f, strcmp(hdr, "WWW-Authenticate") ? 407 : 401, lines);
}

static int lines(struct fx *f, const char *pw)
{
	return sip__ua_auth_lines(&f->s, 0, SIP_STR("alice"), sip_str_c(pw), SIP_STR("REGISTER"),
				  SIP_STR(RURI), f->lines, sizeof(f->lines));
}

/* Verifies the k-th line of f->lines as the registrar would. */
static enum sip_auth_result verify_line(struct fx *f, size_t k, int64_t now, char *name_out, size_t cap)
{
	const char *p = f->lines;
	for (size_t i = 0; i < k; i++) {
		p = strstr(p, "\r\n");
		assert_non_null(p);
		p += 2;
	}
	const char *colon = strchr(p, ':'), *end = strstr(p, "\r\n");
	assert_non_null(colon);
	assert_non_null(end);
	if (name_out)
		snprintf(name_out, cap, "%.*s", (int)(colon - p), p);
	struct sip_auth a;
	struct sip_digest_creds c;
	struct sip_str v = {colon + 2, (size_t)(end - colon - 2)};
	assert_int_equal(sip_auth_parse(&a, v, NULL), 0);
	assert_int_equal(sip_digest_creds_from_auth(&c, &a), 0);
	struct sip_auth_request rq = {SIP_STR("REGISTER"), SIP_STR(RURI), SIP_STR(REALM)};
	return sip_auth_verify(f->srv, &c, &rq, now, ha1_of_secret, NULL);
}

static void no_credentials_before_a_challenge(void **state)
{
	struct fx *f = *state;
	sip__ua_auth_begin(&f->s);
	assert_int_equal(lines(f, "secret"), 0);
	assert_string_equal(f->lines, "");
}

static void answers_the_strongest_algorithm(void **state)
{
	struct fx *f = *state;
	challenge(f, f->srv, "WWW-Authenticate", false, 1000);
	assert_int_equal(sip__ua_auth_challenged(&f->s, 0, &f->m), 1);
	int n = lines(f, "secret");
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(f->lines));
	assert_non_null(strstr(f->lines, "Authorization: Digest username=\"alice\", realm=\"example.com\""));
	assert_non_null(strstr(f->lines, "algorithm=SHA-256"));
	assert_non_null(strstr(f->lines, "uri=\"sip:example.com\""));
	assert_non_null(strstr(f->lines, "nc=00000001"));
	assert_null(strstr(f->lines, "Proxy-Authorization"));
	/* One line only: one realm. */
	assert_ptr_equal(strstr(f->lines, "\r\n"), f->lines + n - 2);
	char name[32];
	assert_int_equal(verify_line(f, 0, 1001, name, sizeof name), SIP_AUTH_OK);
	assert_string_equal(name, "Authorization");
}

static void md5_only_client_answers_md5(void **state)
{
	struct fx *f = *state;
	challenge(f, f->srv, "WWW-Authenticate", false, 1000);
	assert_int_equal(sip__ua_auth_challenged(&f->s, SIP_DIGEST_BIT(SIP_DIGEST_MD5), &f->m), 1);
	assert_true(sip__ua_auth_lines(&f->s, SIP_DIGEST_BIT(SIP_DIGEST_MD5), SIP_STR("alice"),
				       SIP_STR("secret"), SIP_STR("REGISTER"), SIP_STR(RURI), f->lines,
				       sizeof(f->lines)) > 0);
	assert_non_null(strstr(f->lines, "algorithm=MD5"));
	assert_int_equal(verify_line(f, 0, 1001, NULL, 0), SIP_AUTH_OK);
	/* No algorithm we accept (SHA-256-sess only): not answerable, final. */
	memset(&f->s, 0, sizeof(f->s));
	assert_int_equal(sip__ua_auth_challenged(&f->s, SIP_DIGEST_BIT(SIP_DIGEST_SHA256_SESS), &f->m), 0);
	assert_false(f->s.auth[0].used);
}

static void wrong_password_is_final(void **state)
{
	struct fx *f = *state;
	challenge(f, f->srv, "WWW-Authenticate", false, 1000);
	sip__ua_auth_begin(&f->s);
	assert_int_equal(lines(f, "wrong"), 0); /* first attempt: nothing to send */
	assert_int_equal(sip__ua_auth_challenged(&f->s, 0, &f->m), 1);
	assert_true(lines(f, "wrong") > 0);
	assert_int_equal(verify_line(f, 0, 1001, NULL, 0), SIP_AUTH_BAD);
	/* The registrar answers a fresh, non-stale 401: give up. */
	challenge(f, f->srv, "WWW-Authenticate", false, 1001);
	assert_int_equal(sip__ua_auth_challenged(&f->s, 0, &f->m), 0);
	/* Same nonce again, not stale: also final. */
	assert_int_equal(sip__ua_auth_challenged(&f->s, 0, &f->m), 0);
}

static void stale_nonce_is_answered_again(void **state)
{
	struct fx *f = *state;
	challenge(f, f->srv, "WWW-Authenticate", false, 1000);
	sip__ua_auth_begin(&f->s);
	assert_int_equal(sip__ua_auth_challenged(&f->s, 0, &f->m), 1);
	assert_true(lines(f, "secret") > 0);
	char old_nonce[SIP_DIGEST_PARAM_MAX];
	memcpy(old_nonce, f->s.auth[0].nonce, f->s.auth[0].nonce_len);
	old_nonce[f->s.auth[0].nonce_len] = 0;
	/* Too late: the nonce outlived its lifetime. */
	assert_int_equal(verify_line(f, 0, 1000 + SIP_AUTH_DEFAULT_LIFETIME + 10, NULL, 0), SIP_AUTH_STALE);
	challenge(f, f->srv, "WWW-Authenticate", true, 1000 + SIP_AUTH_DEFAULT_LIFETIME + 10);
	assert_int_equal(sip__ua_auth_challenged(&f->s, 0, &f->m), 1);
	assert_true(lines(f, "secret") > 0);
	assert_null(strstr(f->lines, old_nonce));
	assert_non_null(strstr(f->lines, "nc=00000001")); /* new nonce: count restarts */
	assert_int_equal(verify_line(f, 0, 1000 + SIP_AUTH_DEFAULT_LIFETIME + 11, NULL, 0), SIP_AUTH_OK);
}

static void later_requests_send_credentials_preemptively(void **state)
{
	struct fx *f = *state;
	challenge(f, f->srv, "WWW-Authenticate", false, 1000);
	sip__ua_auth_begin(&f->s);
	assert_int_equal(sip__ua_auth_challenged(&f->s, 0, &f->m), 1);
	assert_true(lines(f, "secret") > 0);
	assert_int_equal(verify_line(f, 0, 1001, NULL, 0), SIP_AUTH_OK);
	/* The refresh: same nonce, nc 2, accepted without a challenge. */
	sip__ua_auth_begin(&f->s);
	assert_true(lines(f, "secret") > 0);
	assert_non_null(strstr(f->lines, "nc=00000002"));
	assert_int_equal(verify_line(f, 0, 1100, NULL, 0), SIP_AUTH_OK);
	/* A server that forgot the nonce challenges without stale: the
	 * pre-emptive credentials were not an answer, so try once... */
	sip__ua_auth_begin(&f->s);
	assert_true(lines(f, "secret") > 0);
	challenge(f, f->srv, "WWW-Authenticate", false, 1200);
	assert_int_equal(sip__ua_auth_challenged(&f->s, 0, &f->m), 1);
	assert_true(lines(f, "secret") > 0);
	assert_non_null(strstr(f->lines, "nc=00000001"));
	/* ...and a second refusal is final. */
	challenge(f, f->srv, "WWW-Authenticate", false, 1201);
	assert_int_equal(sip__ua_auth_challenged(&f->s, 0, &f->m), 0);
}

static void proxy_and_www_realms_each_answered(void **state)
{
	struct fx *f = *state;
	enum sip_digest_alg md5 = SIP_DIGEST_MD5;
	struct sip_auth_server *proxy = server(&md5, 1);
	char buf[2048];
	struct sip_str v[4];
	size_t n = 0;
	assert_int_equal(
	    sip_auth_challenges(proxy, SIP_STR("proxy.example.net"), 1000, false, buf, sizeof buf, v, 4, &n),
	    0);
	char hdrs[2048];
	snprintf(hdrs, sizeof hdrs,
		 "Proxy-Authenticate: %.*s\r\nWWW-Authenticate: Basic realm=\"x\"\r\n"
		 "WWW-Authenticate: Digest realm=\"" REALM "\", nonce=\"abc\", qop=\"auth-int\"\r\n"
		 "WWW-Authenticate: Digest realm=\"" REALM "\", nonce=\"def\", algorithm=MD5\r\n",
		 SIP_STR_ARG(v[0]));
	response(f, 407, hdrs);
	assert_int_equal(sip__ua_auth_challenged(&f->s, 0, &f->m), 1);
	assert_true(lines(f, "secret") > 0);
	/* Basic and the auth-int-only one are skipped; the RFC 2069-style one is answered. */
	assert_non_null(
	    strstr(f->lines, "Authorization: Digest username=\"alice\", realm=\"" REALM "\", nonce=\"def\""));
	assert_non_null(
	    strstr(f->lines, "Proxy-Authorization: Digest username=\"alice\", realm=\"proxy.example.net\""));
	assert_null(strstr(f->lines, "nonce=\"abc\""));
	assert_null(strstr(f->lines, "realm=\"x\""));
	sip_auth_server_free(proxy);
}

static void nothing_answerable_is_final(void **state)
{
	struct fx *f = *state;
	response(f, 401, "WWW-Authenticate: Basic realm=\"x\"\r\n");
	assert_int_equal(sip__ua_auth_challenged(&f->s, 0, &f->m), 0);
	response(f, 401, "");
	assert_int_equal(sip__ua_auth_challenged(&f->s, 0, &f->m), 0);
	response(f, 401, "WWW-Authenticate: Digest realm=\"r\"\r\n"); /* no nonce */
	assert_int_equal(sip__ua_auth_challenged(&f->s, 0, &f->m), 0);
	response(f, 401, "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256\r\n");
	assert_int_equal(sip__ua_auth_challenged(&f->s, 0, &f->m), 0);
	response(f, 401, "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"\r\n");
	assert_int_equal(sip__ua_auth_challenged(&f->s, 0, &f->m), 0);
	response(f, 401, "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\r\n"); /* unterminated quote */
	assert_int_equal(sip__ua_auth_challenged(&f->s, 0, &f->m), 0);
	for (size_t i = 0; i < SIP_UA_MAX_REALMS; i++)
		assert_false(f->s.auth[i].used);
}

static void realms_past_the_cap_are_not_kept(void **state)
{
	struct fx *f = *state;
	char hdrs[4096];
	size_t len = 0;
	for (int i = 0; i < SIP_UA_MAX_REALMS + 2; i++)
		len += (size_t)snprintf(hdrs + len, sizeof hdrs - len,
					"WWW-Authenticate: Digest realm=\"r%d\", nonce=\"n%d\"\r\n", i, i);
	response(f, 401, hdrs);
	/* More realms than slots: we cannot answer them all, so it is final,
	 * and the session is left as it was. */
	assert_int_equal(sip__ua_auth_challenged(&f->s, 0, &f->m), 0);
	for (size_t i = 0; i < SIP_UA_MAX_REALMS; i++)
		assert_false(f->s.auth[i].used);
	/* Exactly the cap: all answered, one line each. */
	len = 0;
	for (int i = 0; i < SIP_UA_MAX_REALMS; i++)
		len += (size_t)snprintf(hdrs + len, sizeof hdrs - len,
					"WWW-Authenticate: Digest realm=\"q%d\", nonce=\"n%d\"\r\n", i, i);
	response(f, 401, hdrs);
	memset(&f->s, 0, sizeof(f->s));
	assert_int_equal(sip__ua_auth_challenged(&f->s, 0, &f->m), 1);
	assert_true(lines(f, "secret") > 0);
	int count = 0;
	for (const char *p = f->lines; (p = strstr(p, "\r\n")); p += 2)
		count++;
	assert_int_equal(count, SIP_UA_MAX_REALMS);
	/* A buffer too small for the lines: SIP_ETOOBIG, never an overflow. */
	assert_int_equal(sip__ua_auth_lines(&f->s, 0, SIP_STR("alice"), SIP_STR("secret"),
					    SIP_STR("REGISTER"), SIP_STR(RURI), f->lines, 100),
			 SIP_ETOOBIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(no_credentials_before_a_challenge, setup, teardown),
	    cmocka_unit_test_setup_teardown(answers_the_strongest_algorithm, setup, teardown),
	    cmocka_unit_test_setup_teardown(md5_only_client_answers_md5, setup, teardown),
	    cmocka_unit_test_setup_teardown(wrong_password_is_final, setup, teardown),
	    cmocka_unit_test_setup_teardown(stale_nonce_is_answered_again, setup, teardown),
	    cmocka_unit_test_setup_teardown(later_requests_send_credentials_preemptively, setup, teardown),
	    cmocka_unit_test_setup_teardown(proxy_and_www_realms_each_answered, setup, teardown),
	    cmocka_unit_test_setup_teardown(nothing_answerable_is_final, setup, teardown),
	    cmocka_unit_test_setup_teardown(realms_past_the_cap_are_not_kept, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
