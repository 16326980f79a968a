/* Server side of Digest: stateless nonces (make, verify, expiry, tamper),
 * challenge text, verification results, nc replay table, and round trips
 * with the client side (including an MD5-only client). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sip/auth.h>

/* ---- allocator that counts, so each test proves it frees what it takes ---- */
static long live;
static void *cnt_malloc(size_t n, void *ud)
{
	(void)ud;
	live++;
	return malloc(n);
}
static void *cnt_realloc(void *p, size_t n, void *ud)
{
	(void)ud;
	if (!p)
		live++;
	return realloc(p, n);
}
static void cnt_free(void *p, void *ud)
{
	(void)ud;
	live--;
	free(p);
}
static const struct sip_mem cnt_mem = {cnt_malloc, cnt_realloc, cnt_free, NULL};

/* Deterministic "random" bytes for reproducible nonces. */
static int fake_random(void *ud, uint8_t *buf, size_t len)
{
	unsigned *ctr = ud;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(++*ctr * 131u);
	return 0;
}

static const uint8_t SECRET[] = "0123456789abcdef-test-secret";
static unsigned rnd_ctr;

static struct sip_auth_server *server(const enum sip_digest_alg *algs, size_t nalgs, size_t slots)
{
	struct sip_auth_server_config cfg = {
		.secret = SECRET,
		.secret_len = sizeof SECRET - 1,
		.nalgs = nalgs,
		.nc_slots = slots,
		.random = fake_random,
		.random_ud = &rnd_ctr,
	};
	for (size_t i = 0; i < nalgs; i++)
		cfg.algs[i] = algs[i];
	struct sip_auth_server *s = NULL;
	assert_int_equal(sip_auth_server_new(&s, &cfg), 0);
	return s;
}

static int setup(void **state)
{
	(void)state;
	live = 0;
	sip_mem_set(&cnt_mem);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sip_mem_set(NULL);
	assert_int_equal(live, 0);
	return 0;
}

/* ---- the user database for the verifier ---- */
#define REALM "example.com"
static int lookup_calls;
static int lookup(void *ud, struct sip_str user, struct sip_str realm, enum sip_digest_alg alg,
		  char ha1[SIP_DIGEST_HEX_MAX])
{
	(void)ud;
	lookup_calls++;
	if (sip_str_eq(user, SIP_STR("dberror")))
		return SIP_EIO;
	if (!sip_str_eq(user, SIP_STR("alice")) || !sip_str_eq(realm, SIP_STR(REALM)))
		return SIP_ENOTFOUND;
	return sip_digest_ha1(alg, user, realm, SIP_STR("secret"), ha1);
}

/* A minimal Authorization/WWW-Authenticate value parser for these tests (the
 * message layer's sip_auth_parse is the real one). Slices point into v. */
static void parse_params(const char *v, struct sip_digest_creds *c, struct sip_digest_challenge *ch)
{
	if (c)
		memset(c, 0, sizeof *c);
	if (ch)
		memset(ch, 0, sizeof *ch);
	assert_int_equal(strncmp(v, "Digest ", 7), 0);
	const char *p = v + 7;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *name = p;
		while (*p && *p != '=')
			p++;
		assert_true(*p == '=');
		size_t nlen = (size_t)(p - name);
		p++;
		struct sip_str val;
		if (*p == '"') {
			const char *s = ++p;
			while (*p && *p != '"')
				p += (*p == '\\' && p[1]) ? 2 : 1;
			val = (struct sip_str){s, (size_t)(p - s)};
			if (*p)
				p++;
		} else {
			const char *s = p;
			while (*p && *p != ',')
				p++;
			val = (struct sip_str){s, (size_t)(p - s)};
		}
		struct sip_str n = {name, nlen};
#define SET(obj, field)                                   \
	if (obj && sip_str_eq(n, SIP_STR(#field))) \
		obj->field = val;
		SET(c, username) SET(c, realm) SET(c, nonce) SET(c, uri) SET(c, response) SET(c, algorithm)
		SET(c, cnonce) SET(c, nc) SET(c, qop) SET(c, opaque)
		SET(ch, realm) SET(ch, nonce) SET(ch, algorithm) SET(ch, qop) SET(ch, opaque)
#undef SET
		if (ch && sip_str_eq(n, SIP_STR("stale")))
			ch->stale = sip_str_eq(val, SIP_STR("true"));
	}
}

static const struct sip_auth_request REQ = {SIP_STR("REGISTER"), SIP_STR("sip:example.com"), SIP_STR(REALM)};

/* Client answers challenge text chal; the answer is parsed into *c (backed by out). */
static void answer(struct sip_auth_client *cl, const char *chal, const char *user, const char *pw, char *out,
		   size_t cap, struct sip_digest_creds *c)
{
	struct sip_digest_challenge ch;
	parse_params(chal, NULL, &ch);
	int n = sip_auth_client_answer(cl, &ch, sip_str_c(user), sip_str_c(pw), REQ.method, REQ.request_uri, out,
				       cap);
	assert_true(n > 0);
	parse_params(out, c, NULL);
}

/* The nonce layout, against OpenSSL's own HMAC(): base64url of
 * ts[8] || prefix[4] || seq[8] || HMAC-SHA256(secret, those 20 bytes || realm),
 * with a short secret and one longer than SHA-256's block (hashed first).
 * The server computes the HMAC from precomputed pad states. */
static void check_layout(const uint8_t *secret, size_t secret_len)
{
	struct sip_auth_server_config cfg = {.secret = secret, .secret_len = secret_len};
	struct sip_auth_server *s = NULL;
	assert_int_equal(sip_auth_server_new(&s, &cfg), 0);
	for (int k = 0; k < 3; k++) {
		char n[SIP_AUTH_NONCE_LEN + 1], b64[73];
		uint8_t raw[72], msg[20 + sizeof REALM], mac[EVP_MAX_MD_SIZE];
		unsigned int maclen = 0;
		assert_int_equal(sip_auth_nonce_make(s, SIP_STR(REALM), 1000 + k, n, sizeof n), SIP_AUTH_NONCE_LEN);
		for (int i = 0; i < SIP_AUTH_NONCE_LEN; i++)
			b64[i] = n[i] == '-' ? '+' : n[i] == '_' ? '/' : n[i];
		b64[70] = b64[71] = '=';
		b64[72] = '\0';
		assert_int_equal(EVP_DecodeBlock(raw, (const unsigned char *)b64, 72), 54);
		uint64_t ts = 0, seq = 0;
		for (int i = 0; i < 8; i++) {
			ts = ts << 8 | raw[i];
			seq = seq << 8 | raw[12 + i];
		}
		assert_int_equal(ts, 1000 + k);
		assert_true(seq >= 1);
		memcpy(msg, raw, 20);
		memcpy(msg + 20, REALM, sizeof REALM - 1);
		assert_non_null(HMAC(EVP_sha256(), secret, (int)secret_len, msg, 20 + sizeof REALM - 1, mac, &maclen));
		assert_int_equal(maclen, 32);
		assert_memory_equal(raw + 20, mac, 32);
	}
	sip_auth_server_free(s);
}

static void test_nonce_layout(void **state)
{
	(void)state;
	uint8_t longsecret[100];
	for (size_t i = 0; i < sizeof longsecret; i++)
		longsecret[i] = (uint8_t)(i * 7 + 1);
	check_layout(SECRET, sizeof SECRET - 1);
	check_layout(longsecret, 64);
	check_layout(longsecret, sizeof longsecret);
}

static void test_nonce(void **state)
{
	(void)state;
	struct sip_auth_server *s = server(NULL, 0, 0);
	char n1[SIP_AUTH_NONCE_LEN + 1], n2[SIP_AUTH_NONCE_LEN + 1];
	assert_int_equal(sip_auth_nonce_make(s, SIP_STR(REALM), 1000, n1, sizeof n1), SIP_AUTH_NONCE_LEN);
	assert_int_equal(strlen(n1), SIP_AUTH_NONCE_LEN);
	assert_null(strpbrk(n1, "+/=\""));
	assert_int_equal(sip_auth_nonce_make(s, SIP_STR(REALM), 1000, n2, sizeof n2), SIP_AUTH_NONCE_LEN);
	assert_string_not_equal(n1, n2);
	assert_int_equal(sip_auth_nonce_make(s, SIP_STR(REALM), 1000, n2, SIP_AUTH_NONCE_LEN), SIP_EINVAL);

	struct sip_str ns = sip_str_c(n1);
	assert_int_equal(sip_auth_nonce_check(s, SIP_STR(REALM), ns, 1000), SIP_AUTH_OK);
	assert_int_equal(sip_auth_nonce_check(s, SIP_STR(REALM), ns, 1300), SIP_AUTH_OK);
	assert_int_equal(sip_auth_nonce_check(s, SIP_STR(REALM), ns, 1301), SIP_AUTH_STALE);
	/* From before a clock step back: still ours, still fresh. */
	assert_int_equal(sip_auth_nonce_check(s, SIP_STR(REALM), ns, 10), SIP_AUTH_OK);
	/* Bound to the realm. */
	assert_int_equal(sip_auth_nonce_check(s, SIP_STR("other.com"), ns, 1000), SIP_AUTH_BAD);
	/* Every single-character change is detected (timestamp, random and MAC alike). */
	for (size_t i = 0; i < SIP_AUTH_NONCE_LEN; i++) {
		char t[SIP_AUTH_NONCE_LEN + 1];
		memcpy(t, n1, sizeof t);
		t[i] = t[i] == 'A' ? 'B' : 'A';
		assert_int_equal(sip_auth_nonce_check(s, SIP_STR(REALM), sip_str_c(t), 1000), SIP_AUTH_BAD);
	}
	/* Truncated, extended, non-base64 and empty nonces. */
	assert_int_equal(sip_auth_nonce_check(s, SIP_STR(REALM), (struct sip_str){n1, 69}, 1000), SIP_AUTH_BAD);
	char longer[SIP_AUTH_NONCE_LEN + 2];
	memcpy(longer, n1, SIP_AUTH_NONCE_LEN);
	longer[SIP_AUTH_NONCE_LEN] = 'A';
	assert_int_equal(sip_auth_nonce_check(s, SIP_STR(REALM), (struct sip_str){longer, 71}, 1000), SIP_AUTH_BAD);
	char junk[SIP_AUTH_NONCE_LEN + 1];
	memcpy(junk, n1, sizeof junk);
	junk[3] = '+';
	assert_int_equal(sip_auth_nonce_check(s, SIP_STR(REALM), sip_str_c(junk), 1000), SIP_AUTH_BAD);
	assert_int_equal(sip_auth_nonce_check(s, SIP_STR(REALM), SIP_STR(""), 1000), SIP_AUTH_BAD);

	/* Another server secret does not accept our nonces. */
	static const uint8_t other[] = "another-secret-of-enough-length";
	struct sip_auth_server_config cfg = {.secret = other, .secret_len = sizeof other - 1};
	struct sip_auth_server *s2 = NULL;
	assert_int_equal(sip_auth_server_new(&s2, &cfg), 0);
	assert_int_equal(sip_auth_nonce_check(s2, SIP_STR(REALM), ns, 1000), SIP_AUTH_BAD);
	sip_auth_server_free(s2);
	sip_auth_server_free(s);
}

static void test_config(void **state)
{
	(void)state;
	struct sip_auth_server *s = NULL;
	struct sip_auth_server_config cfg = {.secret = SECRET, .secret_len = 8};
	assert_int_equal(sip_auth_server_new(&s, &cfg), SIP_ECONFIG);
	cfg.secret_len = sizeof SECRET - 1;
	cfg.nalgs = 2;
	cfg.algs[0] = SIP_DIGEST_MD5;
	cfg.algs[1] = SIP_DIGEST_MD5;
	assert_int_equal(sip_auth_server_new(&s, &cfg), SIP_ECONFIG);
	cfg.algs[1] = (enum sip_digest_alg)42;
	assert_int_equal(sip_auth_server_new(&s, &cfg), SIP_ECONFIG);
	assert_null(s);
	sip_auth_server_free(NULL);
}

static void test_challenges(void **state)
{
	(void)state;
	struct sip_auth_server *s = server(NULL, 0, 0);
	char buf[1024];
	struct sip_str v[4];
	size_t n = 0;
	assert_int_equal(sip_auth_challenges(s, SIP_STR(REALM), 1000, false, buf, sizeof buf, v, 4, &n), 0);
	assert_int_equal(n, 2);
	/* Default order: SHA-256 first (RFC 8760), then MD5; one nonce for both. */
	struct sip_digest_challenge a, b;
	parse_params(v[0].p, NULL, &a);
	parse_params(v[1].p, NULL, &b);
	assert_true(sip_str_eq(a.algorithm, SIP_STR("SHA-256")));
	assert_true(sip_str_eq(b.algorithm, SIP_STR("MD5")));
	assert_true(sip_str_eq(a.realm, SIP_STR(REALM)));
	assert_true(sip_str_eq(a.qop, SIP_STR("auth")));
	assert_true(sip_str_eq(a.nonce, b.nonce));
	assert_false(a.stale);
	assert_int_equal(a.nonce.len, SIP_AUTH_NONCE_LEN);
	assert_int_equal(sip_auth_nonce_check(s, SIP_STR(REALM), a.nonce, 1000), SIP_AUTH_OK);
	assert_int_equal(strlen(v[0].p), v[0].len);
	assert_int_equal(strncmp(v[0].p, "Digest realm=\"example.com\", nonce=\"", 35), 0);
	assert_non_null(strstr(v[0].p, "\", algorithm=SHA-256, qop=\"auth\""));

	assert_int_equal(sip_auth_challenges(s, SIP_STR(REALM), 1000, true, buf, sizeof buf, v, 4, &n), 0);
	assert_non_null(strstr(v[1].p, ", stale=true"));
	assert_int_equal(sip_auth_challenges(s, SIP_STR(REALM), 1000, true, buf, 100, v, 4, &n), SIP_ETOOBIG);
	assert_int_equal(sip_auth_challenges(s, SIP_STR(REALM), 1000, true, buf, sizeof buf, v, 1, &n), SIP_ETOOBIG);
	sip_auth_server_free(s);

	/* Configured order and an opaque value; realm quoting. */
	enum sip_digest_alg algs[] = {SIP_DIGEST_MD5, SIP_DIGEST_SHA256_SESS, SIP_DIGEST_SHA256};
	struct sip_auth_server_config cfg = {.secret = SECRET, .secret_len = sizeof SECRET - 1, .nalgs = 3,
					     .opaque = SIP_STR("op1")};
	memcpy(cfg.algs, algs, sizeof algs);
	assert_int_equal(sip_auth_server_new(&s, &cfg), 0);
	assert_int_equal(sip_auth_challenges(s, SIP_STR("a\"b"), 5, false, buf, sizeof buf, v, 4, &n), 0);
	assert_int_equal(n, 3);
	assert_non_null(strstr(v[0].p, "realm=\"a\\\"b\""));
	assert_non_null(strstr(v[0].p, "algorithm=MD5,"));
	assert_non_null(strstr(v[1].p, "algorithm=SHA-256-sess,"));
	assert_non_null(strstr(v[2].p, "algorithm=SHA-256,"));
	assert_non_null(strstr(v[2].p, ", opaque=\"op1\""));
	sip_auth_server_free(s);
}

/* Full exchange: challenge -> client answer -> verify, for each algorithm. */
static void test_roundtrip(void **state)
{
	(void)state;
	enum sip_digest_alg all[] = {SIP_DIGEST_SHA256, SIP_DIGEST_MD5, SIP_DIGEST_SHA256_SESS,
				     SIP_DIGEST_MD5_SESS};
	struct sip_auth_server *s = server(all, 4, 0);
	char buf[2048], out[1024];
	struct sip_str v[4];
	size_t n;
	for (size_t i = 0; i < 4; i++) {
		/* A fresh challenge set per algorithm: nc counts per nonce, whichever
		 * challenge of the set the client answered. */
		assert_int_equal(sip_auth_challenges(s, SIP_STR(REALM), 1000, false, buf, sizeof buf, v, 4, &n), 0);
		assert_int_equal(n, 4);
		struct sip_auth_client cl;
		struct sip_digest_creds c;
		sip_auth_client_init(&cl);
		answer(&cl, v[i].p, "alice", "secret", out, sizeof out, &c);
		assert_int_equal(sip_auth_verify(s, &c, &REQ, 1001, lookup, NULL), SIP_AUTH_OK);
		/* Again with nc=2: fine; the same answer replayed: refused. */
		struct sip_digest_creds c2;
		char out2[1024];
		answer(&cl, v[i].p, "alice", "secret", out2, sizeof out2, &c2);
		assert_true(sip_str_eq(c2.nc, SIP_STR("00000002")));
		assert_int_equal(sip_auth_verify(s, &c2, &REQ, 1002, lookup, NULL), SIP_AUTH_OK);
		assert_int_equal(sip_auth_verify(s, &c2, &REQ, 1002, lookup, NULL), SIP_AUTH_STALE);
		assert_int_equal(sip_auth_verify(s, &c, &REQ, 1002, lookup, NULL), SIP_AUTH_STALE);
	}
	sip_auth_server_free(s);
}

/* RFC 8760 order (SHA-256 first) still works for clients that only know MD5. */
static void test_md5_only_clients(void **state)
{
	(void)state;
	struct sip_auth_server *s = server(NULL, 0, 0);
	char buf[1024], out[1024];
	struct sip_str v[4];
	size_t n;
	assert_int_equal(sip_auth_challenges(s, SIP_STR(REALM), 1000, false, buf, sizeof buf, v, 4, &n), 0);
	struct sip_digest_challenge ch[2];
	parse_params(v[0].p, NULL, &ch[0]);
	parse_params(v[1].p, NULL, &ch[1]);

	/* A client that chooses among the challenges picks the MD5 one. */
	struct sip_auth_client cl;
	sip_auth_client_init(&cl);
	cl.algs = SIP_DIGEST_BIT(SIP_DIGEST_MD5);
	int pick = sip_auth_client_pick(&cl, ch, 2);
	assert_int_equal(pick, 1);
	struct sip_digest_creds c;
	answer(&cl, v[pick].p, "alice", "secret", out, sizeof out, &c);
	assert_true(sip_str_eq(c.algorithm, SIP_STR("MD5")));
	assert_int_equal(sip_auth_verify(s, &c, &REQ, 1000, lookup, NULL), SIP_AUTH_OK);

	/* A naive client takes the first challenge, ignores its algorithm, and
	 * answers MD5 without an algorithm parameter: the shared nonce lets it in. */
	assert_int_equal(sip_auth_challenges(s, SIP_STR(REALM), 1000, false, buf, sizeof buf, v, 4, &n), 0);
	parse_params(v[0].p, NULL, &ch[0]);
	struct sip_digest_challenge naive = ch[0];
	naive.algorithm = SIP_STR_NULL;
	sip_auth_client_init(&cl);
	int len = sip_auth_client_answer(&cl, &naive, SIP_STR("alice"), SIP_STR("secret"), REQ.method,
					 REQ.request_uri, out, sizeof out);
	assert_true(len > 0);
	assert_null(strstr(out, "algorithm="));
	parse_params(out, &c, NULL);
	assert_int_equal(c.response.len, 32);
	assert_int_equal(sip_auth_verify(s, &c, &REQ, 1000, lookup, NULL), SIP_AUTH_OK);

	/* A server configured for SHA-256 only refuses MD5 answers. */
	enum sip_digest_alg sha[] = {SIP_DIGEST_SHA256};
	struct sip_auth_server *s2 = server(sha, 1, 0);
	assert_int_equal(sip_auth_verify(s2, &c, &REQ, 1000, lookup, NULL), SIP_AUTH_BAD);
	sip_auth_server_free(s2);
	sip_auth_server_free(s);
}

static void test_bad_credentials(void **state)
{
	(void)state;
	struct sip_auth_server *s = server(NULL, 0, 0);
	char buf[1024], out[1024];
	struct sip_str v[4];
	size_t n;
	struct sip_auth_client cl;
	struct sip_digest_creds c;
	assert_int_equal(sip_auth_challenges(s, SIP_STR(REALM), 1000, false, buf, sizeof buf, v, 4, &n), 0);

	/* Wrong password and unknown user: the same answer, both hashed. */
	sip_auth_client_init(&cl);
	answer(&cl, v[0].p, "alice", "wrong", out, sizeof out, &c);
	lookup_calls = 0;
	assert_int_equal(sip_auth_verify(s, &c, &REQ, 1000, lookup, NULL), SIP_AUTH_BAD);
	assert_int_equal(lookup_calls, 1);
	sip_auth_client_init(&cl);
	answer(&cl, v[0].p, "mallory", "secret", out, sizeof out, &c);
	assert_int_equal(sip_auth_verify(s, &c, &REQ, 1000, lookup, NULL), SIP_AUTH_BAD);
	assert_int_equal(lookup_calls, 2);
	/* A database failure is not a wrong password. */
	sip_auth_client_init(&cl);
	answer(&cl, v[0].p, "dberror", "x", out, sizeof out, &c);
	assert_int_equal(sip_auth_verify(s, &c, &REQ, 1000, lookup, NULL), SIP_AUTH_ERROR);

	/* A forged answer with a high nc must not burn the real client's counts. */
	sip_auth_client_init(&cl);
	answer(&cl, v[0].p, "alice", "secret", out, sizeof out, &c);
	struct sip_digest_creds forged = c;
	forged.nc = SIP_STR("00000099");
	assert_int_equal(sip_auth_verify(s, &forged, &REQ, 1000, lookup, NULL), SIP_AUTH_BAD);
	assert_int_equal(sip_auth_verify(s, &c, &REQ, 1000, lookup, NULL), SIP_AUTH_OK);

	/* Upper-case hex in the response is accepted (same client: nc=2). */
	char upper[65];
	answer(&cl, v[1].p, "alice", "secret", out, sizeof out, &c);
	for (size_t i = 0; i < c.response.len; i++)
		upper[i] = (char)((c.response.p[i] >= 'a' && c.response.p[i] <= 'f') ? c.response.p[i] - 32
										: c.response.p[i]);
	c.response = (struct sip_str){upper, c.response.len};
	assert_int_equal(sip_auth_verify(s, &c, &REQ, 1000, lookup, NULL), SIP_AUTH_OK);

	/* Wrong realm, forged nonce. */
	sip_auth_client_init(&cl);
	answer(&cl, v[0].p, "alice", "secret", out, sizeof out, &c);
	struct sip_auth_request other = REQ;
	other.realm = SIP_STR("other.com");
	other.request_uri = SIP_STR_NULL;
	assert_int_equal(sip_auth_verify(s, &c, &other, 1000, lookup, NULL), SIP_AUTH_BAD);
	struct sip_digest_creds bad = c;
	bad.nonce = SIP_STR("dcd98b7102dd2f0e8b11d0f600bfb0c093");
	assert_int_equal(sip_auth_verify(s, &bad, &REQ, 1000, lookup, NULL), SIP_AUTH_BAD);
	bad = c;
	bad.algorithm = SIP_STR("SHA-512-256");
	assert_int_equal(sip_auth_verify(s, &bad, &REQ, 1000, lookup, NULL), SIP_AUTH_BAD);
	bad = c;
	bad.qop = SIP_STR("auth-int");
	assert_int_equal(sip_auth_verify(s, &bad, &REQ, 1000, lookup, NULL), SIP_AUTH_BAD);
	sip_auth_server_free(s);
}

static void test_malformed(void **state)
{
	(void)state;
	struct sip_auth_server *s = server(NULL, 0, 0);
	char buf[1024], out[1024];
	struct sip_str v[4];
	size_t n;
	struct sip_auth_client cl;
	struct sip_digest_creds c, m;
	assert_int_equal(sip_auth_challenges(s, SIP_STR(REALM), 1000, false, buf, sizeof buf, v, 4, &n), 0);
	sip_auth_client_init(&cl);
	answer(&cl, v[0].p, "alice", "secret", out, sizeof out, &c);

	struct sip_str *fields[] = {&m.username, &m.realm, &m.nonce, &m.uri, &m.response, &m.cnonce, &m.nc};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		m = c;
		*fields[i] = SIP_STR_NULL;
		assert_int_equal(sip_auth_verify(s, &m, &REQ, 1000, lookup, NULL), SIP_AUTH_MALFORMED);
	}
	m = c;
	m.nc = SIP_STR("0000001");
	assert_int_equal(sip_auth_verify(s, &m, &REQ, 1000, lookup, NULL), SIP_AUTH_MALFORMED);
	m.nc = SIP_STR("0000000g");
	assert_int_equal(sip_auth_verify(s, &m, &REQ, 1000, lookup, NULL), SIP_AUTH_MALFORMED);
	m.nc = SIP_STR("00000000");
	assert_int_equal(sip_auth_verify(s, &m, &REQ, 1000, lookup, NULL), SIP_AUTH_MALFORMED);
	m = c;
	m.response = SIP_STR("zz");
	assert_int_equal(sip_auth_verify(s, &m, &REQ, 1000, lookup, NULL), SIP_AUTH_MALFORMED);
	/* The digest uri must be the Request-URI. */
	struct sip_auth_request r = REQ;
	r.request_uri = SIP_STR("sip:example.com;transport=tcp");
	assert_int_equal(sip_auth_verify(s, &c, &r, 1000, lookup, NULL), SIP_AUTH_MALFORMED);
	/* The untouched credentials are still good. */
	assert_int_equal(sip_auth_verify(s, &c, &REQ, 1000, lookup, NULL), SIP_AUTH_OK);
	sip_auth_server_free(s);
}

static void test_stale(void **state)
{
	(void)state;
	struct sip_auth_server *s = server(NULL, 0, 0);
	char buf[1024], out[1024];
	struct sip_str v[4];
	size_t n;
	struct sip_auth_client cl;
	struct sip_digest_creds c;
	assert_int_equal(sip_auth_challenges(s, SIP_STR(REALM), 1000, false, buf, sizeof buf, v, 4, &n), 0);
	sip_auth_client_init(&cl);
	answer(&cl, v[0].p, "alice", "secret", out, sizeof out, &c);
	/* Right password on an expired nonce: stale (the client retries silently). */
	assert_int_equal(sip_auth_verify(s, &c, &REQ, 1000 + 301, lookup, NULL), SIP_AUTH_STALE);
	/* Wrong password on an expired nonce: plain failure, not stale. */
	sip_auth_client_init(&cl);
	answer(&cl, v[0].p, "alice", "nope", out, sizeof out, &c);
	assert_int_equal(sip_auth_verify(s, &c, &REQ, 1000 + 301, lookup, NULL), SIP_AUTH_BAD);
	sip_auth_server_free(s);
}

/* RFC 2069 clients (no qop, no nc): accepted, the nonce reusable while fresh. */
static void test_rfc2069_client(void **state)
{
	(void)state;
	struct sip_auth_server *s = server(NULL, 0, 0);
	char nonce[SIP_AUTH_NONCE_LEN + 1], chal[256], out[1024];
	assert_true(sip_auth_nonce_make(s, SIP_STR(REALM), 1000, nonce, sizeof nonce) > 0);
	snprintf(chal, sizeof chal, "Digest realm=\"" REALM "\", nonce=\"%s\"", nonce);
	struct sip_auth_client cl;
	struct sip_digest_creds c;
	sip_auth_client_init(&cl);
	answer(&cl, chal, "alice", "secret", out, sizeof out, &c);
	assert_int_equal(c.qop.len, 0);
	assert_int_equal(sip_auth_verify(s, &c, &REQ, 1000, lookup, NULL), SIP_AUTH_OK);
	assert_int_equal(sip_auth_verify(s, &c, &REQ, 1100, lookup, NULL), SIP_AUTH_OK);
	assert_int_equal(sip_auth_verify(s, &c, &REQ, 1400, lookup, NULL), SIP_AUTH_STALE);
	sip_auth_server_free(s);
}

/* The bounded nc table: an evicted live nonce can no longer be vouched for,
 * so it is answered stale instead of risking a replay. */
static void test_nc_table_eviction(void **state)
{
	(void)state;
	struct sip_auth_server *s = server(NULL, 0, 4); /* one set of four entries */
	char nonces[6][SIP_AUTH_NONCE_LEN + 1], chal[512], out[6][1024];
	struct sip_digest_creds c[6];
	struct sip_auth_client cl[6];
	for (int i = 0; i < 6; i++) {
		assert_true(sip_auth_nonce_make(s, SIP_STR(REALM), 1 + i, nonces[i], sizeof nonces[i]) > 0);
		snprintf(chal, sizeof chal, "Digest realm=\"" REALM "\", nonce=\"%s\", qop=\"auth\"", nonces[i]);
		sip_auth_client_init(&cl[i]);
		answer(&cl[i], chal, "alice", "secret", out[i], sizeof out[i], &c[i]);
	}
	for (int i = 0; i < 5; i++)
		assert_int_equal(sip_auth_verify(s, &c[i], &REQ, 10, lookup, NULL), SIP_AUTH_OK);
	/* Nonce 0 (oldest) was evicted by nonce 4: its nc=1 replay is refused. */
	assert_int_equal(sip_auth_verify(s, &c[0], &REQ, 10, lookup, NULL), SIP_AUTH_STALE);
	/* The still-tracked ones keep refusing replays. */
	assert_int_equal(sip_auth_verify(s, &c[4], &REQ, 10, lookup, NULL), SIP_AUTH_STALE);
	/* A newer nonce still gets in. */
	assert_int_equal(sip_auth_verify(s, &c[5], &REQ, 10, lookup, NULL), SIP_AUTH_OK);
	sip_auth_server_free(s);
}

/* Regression: nonces have second resolution, and the old table refused every
 * unknown nonce issued in the same second as an eviction, so under load
 * (thousands of nonces a second, table overflowing) fresh first answers got
 * stale=true. Many nonces in one second through a tiny table: every first
 * answer verifies OK; replays (same or lower nc) of tracked and of evicted
 * nonces are still refused. */
#define BURST 1000
static void test_nc_table_same_second(void **state)
{
	(void)state;
	struct sip_auth_server *s = server(NULL, 0, 16); /* 4 sets of 4 */
	static char outs[BURST][1024];
	static struct sip_digest_creds cs[BURST];
	static struct sip_digest_creds again[BURST];
	static char outs2[BURST][1024];
	char nonce[SIP_AUTH_NONCE_LEN + 1], chal[512];
	for (int i = 0; i < BURST; i++) {
		assert_true(sip_auth_nonce_make(s, SIP_STR(REALM), 5000, nonce, sizeof nonce) > 0);
		snprintf(chal, sizeof chal, "Digest realm=\"" REALM "\", nonce=\"%s\", qop=\"auth\"", nonce);
		struct sip_auth_client cl;
		sip_auth_client_init(&cl);
		answer(&cl, chal, "alice", "secret", outs[i], sizeof outs[i], &cs[i]);
		assert_int_equal(sip_auth_verify(s, &cs[i], &REQ, 5000, lookup, NULL), SIP_AUTH_OK);
		/* nc=2 on the same nonce right away: accepted, it is still tracked. */
		answer(&cl, chal, "alice", "secret", outs2[i], sizeof outs2[i], &again[i]);
		assert_true(sip_str_eq(again[i].nc, SIP_STR("00000002")));
		assert_int_equal(sip_auth_verify(s, &again[i], &REQ, 5000, lookup, NULL), SIP_AUTH_OK);
		/* The same answer again, and the lower nc: replays. */
		assert_int_equal(sip_auth_verify(s, &again[i], &REQ, 5000, lookup, NULL), SIP_AUTH_STALE);
		assert_int_equal(sip_auth_verify(s, &cs[i], &REQ, 5000, lookup, NULL), SIP_AUTH_STALE);
	}
	/* Every nonce, evicted long ago or still tracked, stays refused on replay
	 * (nc=1 and nc=2), in the same second and later within the lifetime. */
	for (int i = 0; i < BURST; i++) {
		assert_int_equal(sip_auth_verify(s, &cs[i], &REQ, 5000, lookup, NULL), SIP_AUTH_STALE);
		assert_int_equal(sip_auth_verify(s, &again[i], &REQ, 5100, lookup, NULL), SIP_AUTH_STALE);
	}
	/* A nonce issued after all that, in the same second, is still fresh. */
	assert_true(sip_auth_nonce_make(s, SIP_STR(REALM), 5000, nonce, sizeof nonce) > 0);
	snprintf(chal, sizeof chal, "Digest realm=\"" REALM "\", nonce=\"%s\", qop=\"auth\"", nonce);
	struct sip_auth_client cl;
	sip_auth_client_init(&cl);
	answer(&cl, chal, "alice", "secret", outs[0], sizeof outs[0], &cs[0]);
	assert_int_equal(sip_auth_verify(s, &cs[0], &REQ, 5000, lookup, NULL), SIP_AUTH_OK);
	sip_auth_server_free(s);
}

/* Interleaved: many nonces challenged in the same second, answered in issue
 * order after all were issued (a burst of clients), through a small table:
 * every first answer is accepted. */
static void test_nc_table_interleaved(void **state)
{
	(void)state;
	struct sip_auth_server *s = server(NULL, 0, 64);
	static char nonces[BURST][SIP_AUTH_NONCE_LEN + 1];
	char chal[512], out[1024];
	for (int i = 0; i < BURST; i++)
		assert_true(sip_auth_nonce_make(s, SIP_STR(REALM), 7000, nonces[i], sizeof nonces[i]) > 0);
	for (int i = 0; i < BURST; i++) {
		struct sip_digest_creds c;
		struct sip_auth_client cl;
		char cur[SIP_AUTH_NONCE_LEN + 1];
		memcpy(cur, nonces[i], sizeof cur);
		snprintf(chal, sizeof chal, "Digest realm=\"" REALM "\", nonce=\"%s\", qop=\"auth\"", cur);
		sip_auth_client_init(&cl);
		answer(&cl, chal, "alice", "secret", out, sizeof out, &c);
		assert_int_equal(sip_auth_verify(s, &c, &REQ, 7001, lookup, NULL), SIP_AUTH_OK);
		assert_int_equal(sip_auth_verify(s, &c, &REQ, 7001, lookup, NULL), SIP_AUTH_STALE);
	}
	sip_auth_server_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nonce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nonce_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_challenges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_md5_only_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rfc2069_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nc_table_eviction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nc_table_same_second, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nc_table_interleaved, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
