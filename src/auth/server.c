/* server.c — the server side of Digest: stateless HMAC nonces, challenge
 * text, credential verification and the bounded nonce-count table.
 *
 * Nonce = base64url(ts[8, big-endian] || prefix[4] || seq[8, big-endian] ||
 * HMAC-SHA256(secret, ts || prefix || seq || realm)). ts is the issue time in
 * seconds (expiry); prefix is random per server instance and seq a per-server
 * counter, so every nonce is unique (the HMAC makes it unforgeable) and seq
 * orders nonces by issue far finer than seconds. Nothing is stored per
 * challenge: a 401 costs no memory, so a flood of unauthenticated requests
 * cannot fill the server. Only nonces that carried a correct response enter
 * the nc table. */
/* Low-level SHA-256 (deprecated in OpenSSL 3, still shipped): see mac_setup. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "auth/auth_int.h"
#include "core/ctype.h"

#define SECRET_MAX 256
#define TS_LEN 8
#define RND_LEN 12                           /* prefix[4] || seq[8] */
#define PREFIX_LEN 4
#define MAC_LEN 32
#define RAW_LEN (TS_LEN + RND_LEN + MAC_LEN) /* 52 -> 70 base64url characters */
#define KEY_LEN 16                           /* nc-table key: first bytes of the MAC */
#define WAYS 4                               /* entries per nc-table set */

struct nc_entry {
	uint8_t key[KEY_LEN];
	int64_t issued; /* the nonce's timestamp (seconds) */
	uint64_t seq;   /* the nonce's issue sequence; 0: empty slot */
	uint32_t nc;    /* highest nc accepted */
};

struct nc_set {
	struct nc_entry e[WAYS];
	/* Highest issue sequence ever evicted from this set. Eviction takes the
	 * lowest sequence of the set, so every entry left is above it; a nonce
	 * not in the set but at or below it may have been seen, so it is
	 * answered stale rather than risk accepting a replay. A nonce above it
	 * was never recorded here: fresh nonces (issued after the eviction) are
	 * never refused. */
	uint64_t watermark;
};

struct sip_auth_server {
	uint8_t secret[SECRET_MAX];
	size_t secret_len;
	uint32_t lifetime;
	enum sip_digest_alg algs[SIP_DIGEST__COUNT];
	size_t nalgs;
	unsigned alg_mask;
	char opaque[SIP_DIGEST_PARAM_MAX];
	size_t opaque_len;
	sip_auth_random_fn random;
	void *random_ud;
	char dummy_pw[33]; /* hashed for unknown users so they cost what a wrong password costs */
	/* HMAC-SHA256 keyed with the secret: the SHA-256 states after the
	 * inner (key ^ ipad) and outer (key ^ opad) blocks, computed once and
	 * never written again; each MAC copies them onto the stack, so threads
	 * share nothing mutable and a MAC allocates nothing. */
	SHA256_CTX mac_inner, mac_outer;
	uint8_t prefix[PREFIX_LEN];
	_Atomic uint64_t next_seq; /* issue sequence of the next nonce (from 1) */
	pthread_mutex_t lock;
	struct nc_set *sets;
	size_t nsets; /* power of two */
};

/* RFC 2104 HMAC with the key's pad blocks hashed once. An EVP_MAC_CTX_dup
 * per MAC cost ~820 ns (allocations, provider dispatch) against ~160 for
 * the two state copies here; the one-shot HMAC() refetched SHA-256 on
 * every call. */
static int mac_setup(struct sip_auth_server *s)
{
	uint8_t key[SHA256_CBLOCK], pad[SHA256_CBLOCK];
	memset(key, 0, sizeof key);
	if (s->secret_len > SHA256_CBLOCK) { /* longer keys are hashed first */
		if (!SHA256(s->secret, s->secret_len, key))
			return SIP_EIO;
	} else {
		memcpy(key, s->secret, s->secret_len);
	}
	int ok = 1;
	for (size_t i = 0; i < sizeof pad; i++)
		pad[i] = key[i] ^ 0x36;
	ok &= SHA256_Init(&s->mac_inner) & SHA256_Update(&s->mac_inner, pad, sizeof pad);
	for (size_t i = 0; i < sizeof pad; i++)
		pad[i] = key[i] ^ 0x5c;
	ok &= SHA256_Init(&s->mac_outer) & SHA256_Update(&s->mac_outer, pad, sizeof pad);
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(pad, sizeof pad);
	return ok == 1 ? 0 : SIP_EIO;
}

int sip_auth_server_new(struct sip_auth_server **out, const struct sip_auth_server_config *cfg)
{
	if (!out || !cfg)
		return SIP_EINVAL;
	*out = NULL;
	if (!cfg->secret || cfg->secret_len < SIP_AUTH_SECRET_MIN || cfg->secret_len > SECRET_MAX ||
	    cfg->opaque.len > SIP_DIGEST_PARAM_MAX || cfg->nalgs > SIP_DIGEST__COUNT)
		return SIP_ECONFIG;
	struct sip_auth_server *s = sip_calloc(1, sizeof *s);
	if (!s)
		return SIP_ENOMEM;
	memcpy(s->secret, cfg->secret, cfg->secret_len);
	s->secret_len = cfg->secret_len;
	s->lifetime = cfg->nonce_lifetime ? cfg->nonce_lifetime : SIP_AUTH_DEFAULT_LIFETIME;
	if (cfg->nalgs == 0) {
		s->algs[0] = SIP_DIGEST_SHA256;
		s->algs[1] = SIP_DIGEST_MD5;
		s->nalgs = 2;
	} else {
		for (size_t i = 0; i < cfg->nalgs; i++) {
			if ((unsigned)cfg->algs[i] >= SIP_DIGEST__COUNT ||
			    (s->alg_mask & SIP_DIGEST_BIT(cfg->algs[i]))) {
				sip_free(s);
				return SIP_ECONFIG;
			}
			s->algs[i] = cfg->algs[i];
			s->alg_mask |= SIP_DIGEST_BIT(cfg->algs[i]);
		}
		s->nalgs = cfg->nalgs;
	}
	for (size_t i = 0; i < s->nalgs; i++)
		s->alg_mask |= SIP_DIGEST_BIT(s->algs[i]);
	if (cfg->opaque.len)
		memcpy(s->opaque, cfg->opaque.p, cfg->opaque.len);
	s->opaque_len = cfg->opaque.len;
	s->random = cfg->random ? cfg->random : sip__rand_default;
	s->random_ud = cfg->random ? cfg->random_ud : NULL;

	size_t want = cfg->nc_slots ? cfg->nc_slots : SIP_AUTH_DEFAULT_NC_SLOTS;
	size_t nsets = 1;
	while (nsets * WAYS < want && nsets < ((size_t)1 << 24))
		nsets <<= 1;
	s->sets = sip_calloc(nsets, sizeof *s->sets);
	uint8_t rnd[16 + PREFIX_LEN];
	if (!s->sets || s->random(s->random_ud, rnd, sizeof rnd) != 0 ||
	    pthread_mutex_init(&s->lock, NULL) != 0) {
		int rc = s->sets ? SIP_EIO : SIP_ENOMEM;
		sip_free(s->sets);
		sip_free(s);
		return rc;
	}
	s->nsets = nsets;
	if (mac_setup(s) != 0) {
		pthread_mutex_destroy(&s->lock);
		sip_free(s->sets);
		sip_free(s);
		return SIP_EIO;
	}
	sip__hex(rnd, 16, s->dummy_pw);
	memcpy(s->prefix, rnd + 16, PREFIX_LEN);
	atomic_init(&s->next_seq, 1);
	*out = s;
	return 0;
}

void sip_auth_server_free(struct sip_auth_server *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	OPENSSL_cleanse(s->secret, sizeof s->secret);
	OPENSSL_cleanse(&s->mac_inner, sizeof s->mac_inner);
	OPENSSL_cleanse(&s->mac_outer, sizeof s->mac_outer);
	sip_free(s->sets);
	sip_free(s);
}

const char *sip_auth_result_name(enum sip_auth_result r)
{
	switch (r) {
	case SIP_AUTH_OK: return "ok";
	case SIP_AUTH_STALE: return "stale";
	case SIP_AUTH_BAD: return "bad";
	case SIP_AUTH_MALFORMED: return "malformed";
	case SIP_AUTH_ERROR: return "error";
	}
	return "unknown";
}

/* ---- nonces ---- */

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static bool expired(const struct sip_auth_server *s, int64_t issued, int64_t now)
{
	return now > issued && (uint64_t)(now - issued) > s->lifetime;
}


static int nonce_mac(const struct sip_auth_server *s, const uint8_t *tsrnd, struct sip_str realm,
		     uint8_t mac[MAC_LEN])
{
	uint8_t inner[SHA256_DIGEST_LENGTH];
	if (realm.len > SIP_DIGEST_PARAM_MAX)
		return SIP_ETOOBIG;
	SHA256_CTX c = s->mac_inner;
	int ok = SHA256_Update(&c, tsrnd, TS_LEN + RND_LEN);
	if (realm.len)
		ok &= SHA256_Update(&c, realm.p, realm.len);
	ok &= SHA256_Final(inner, &c);
	c = s->mac_outer;
	ok &= SHA256_Update(&c, inner, sizeof inner);
	ok &= SHA256_Final(mac, &c);
	OPENSSL_cleanse(&c, sizeof c);
	return ok == 1 ? 0 : SIP_EIO;
}

/* base64url without padding, through OpenSSL's encoder. */
static void b64url_encode(const uint8_t *in, size_t n, char *out)
{
	char tmp[4 * ((RAW_LEN + 2) / 3) + 1];
	int len = EVP_EncodeBlock((unsigned char *)tmp, in, (int)n);
	int j = 0;
	for (int i = 0; i < len; i++) {
		char c = tmp[i];
		if (c == '=')
			break;
		out[j++] = c == '+' ? '-' : c == '/' ? '_' : c;
	}
	out[j] = '\0';
}

/* Decodes exactly RAW_LEN bytes from a SIP_AUTH_NONCE_LEN-character nonce. */
static int b64url_decode_nonce(struct sip_str in, uint8_t out[RAW_LEN])
{
	char tmp[4 * ((RAW_LEN + 2) / 3)];
	uint8_t dec[sizeof tmp];
	if (in.len != SIP_AUTH_NONCE_LEN)
		return SIP_EPARSE;
	for (size_t i = 0; i < in.len; i++) {
		char c = in.p[i];
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!SIP_IS(c, SIP_C_DIGIT | SIP_C_ALPHA))
			return SIP_EPARSE;
		tmp[i] = c;
	}
	for (size_t i = in.len; i < sizeof tmp; i++)
		tmp[i] = '=';
	if (EVP_DecodeBlock(dec, (const unsigned char *)tmp, (int)sizeof tmp) < RAW_LEN)
		return SIP_EPARSE;
	/* The last character carries 4 unused bits: accept only the canonical
	 * spelling, so one nonce has exactly one text. */
	char again[SIP_AUTH_NONCE_LEN + 1];
	b64url_encode(dec, RAW_LEN, again);
	if (memcmp(again, in.p, SIP_AUTH_NONCE_LEN) != 0)
		return SIP_EPARSE;
	memcpy(out, dec, RAW_LEN);
	return 0;
}

int sip_auth_nonce_make(struct sip_auth_server *s, struct sip_str realm, int64_t now, char *out, size_t cap)
{
	uint8_t raw[RAW_LEN];
	int rc;
	if (!s || !out || cap < SIP_AUTH_NONCE_LEN + 1)
		return SIP_EINVAL;
	uint64_t ts = (uint64_t)now;
	uint64_t seq = atomic_fetch_add_explicit(&s->next_seq, 1, memory_order_relaxed);
	put_be64(raw, ts);
	memcpy(raw + TS_LEN, s->prefix, PREFIX_LEN);
	put_be64(raw + TS_LEN + PREFIX_LEN, seq);
	if ((rc = nonce_mac(s, raw, realm, raw + TS_LEN + RND_LEN)) != 0)
		return rc;
	b64url_encode(raw, RAW_LEN, out);
	return SIP_AUTH_NONCE_LEN;
}

/* Checks a nonce and returns its timestamp, issue sequence and table key. */
static enum sip_auth_result nonce_check(struct sip_auth_server *s, struct sip_str realm, struct sip_str nonce,
					int64_t now, int64_t *issued, uint64_t *seq, uint8_t key[KEY_LEN])
{
	uint8_t raw[RAW_LEN], mac[MAC_LEN];
	if (b64url_decode_nonce(nonce, raw) != 0 || nonce_mac(s, raw, realm, mac) != 0 ||
	    CRYPTO_memcmp(mac, raw + TS_LEN + RND_LEN, MAC_LEN) != 0)
		return SIP_AUTH_BAD;
	*issued = (int64_t)get_be64(raw);
	if (seq)
		*seq = get_be64(raw + TS_LEN + PREFIX_LEN);
	if (key)
		memcpy(key, raw + TS_LEN + RND_LEN, KEY_LEN);
	/* A timestamp ahead of now is ours (the MAC holds) from before a clock
	 * step back: fresh. */
	if (expired(s, *issued, now))
		return SIP_AUTH_STALE;
	return SIP_AUTH_OK;
}

enum sip_auth_result sip_auth_nonce_check(struct sip_auth_server *s, struct sip_str realm, struct sip_str nonce,
					  int64_t now)
{
	int64_t issued;
	if (!s)
		return SIP_AUTH_BAD;
	return nonce_check(s, realm, nonce, now, &issued, NULL, NULL);
}

/* Records nc for a nonce: SIP_AUTH_OK when higher than any seen, else
 * SIP_AUTH_STALE (a replay, or a nonce we can no longer vouch for). */
static enum sip_auth_result nc_record(struct sip_auth_server *s, const uint8_t key[KEY_LEN], int64_t issued,
				      uint64_t seq, uint32_t nc, int64_t now)
{
	uint64_t h;
	memcpy(&h, key, sizeof h);
	enum sip_auth_result r = SIP_AUTH_OK;
	if (seq == 0)
		return SIP_AUTH_STALE; /* never issued (the counter starts at 1) */
	pthread_mutex_lock(&s->lock);
	struct nc_set *set = &s->sets[h & (s->nsets - 1)];
	struct nc_entry *victim = NULL;
	bool vdead = false;
	for (int i = 0; i < WAYS; i++) {
		struct nc_entry *e = &set->e[i];
		if (e->seq == seq && memcmp(e->key, key, KEY_LEN) == 0) {
			if (nc <= e->nc)
				r = SIP_AUTH_STALE;
			else
				e->nc = nc;
			goto out;
		}
		/* Prefer an empty slot, then an expired one, then the lowest
		 * issue sequence (the oldest nonce). */
		bool dead = !e->seq || expired(s, e->issued, now);
		if (!victim || (dead && !vdead) || (dead == vdead && e->seq < victim->seq)) {
			victim = e;
			vdead = dead;
		}
	}
	if (seq <= set->watermark) {
		r = SIP_AUTH_STALE;
		goto out;
	}
	/* Raise the watermark for every evicted entry, expired or not: a clock
	 * stepped back could make an expired nonce fresh again, and since
	 * sequences grow with issue, this never refuses a nonce issued later. */
	if (victim->seq > set->watermark)
		set->watermark = victim->seq;
	memcpy(victim->key, key, KEY_LEN);
	victim->issued = issued;
	victim->seq = seq;
	victim->nc = nc;
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* ---- challenges ---- */

int sip_auth_challenges(struct sip_auth_server *s, struct sip_str realm, int64_t now, bool stale, char *buf,
			size_t cap, struct sip_str *vals, size_t maxvals, size_t *nvals)
{
	char nonce[SIP_AUTH_NONCE_LEN + 1];
	struct sip__wr w;
	int rc;
	if (!s || !buf || !nvals || (!vals && maxvals))
		return SIP_EINVAL;
	*nvals = 0;
	if (maxvals < s->nalgs)
		return SIP_ETOOBIG;
	if ((rc = sip_auth_nonce_make(s, realm, now, nonce, sizeof nonce)) < 0)
		return rc;
	sip__wr_init(&w, buf, cap);
	for (size_t i = 0; i < s->nalgs; i++) {
		size_t start = w.len;
		sip__wr_c(&w, "Digest realm=");
		sip__wr_quoted(&w, realm);
		sip__wr_c(&w, ", nonce=\"");
		sip__wr_c(&w, nonce);
		sip__wr_c(&w, "\", algorithm=");
		sip__wr_c(&w, sip_digest_alg_name(s->algs[i]));
		sip__wr_c(&w, ", qop=\"auth\"");
		if (s->opaque_len) {
			sip__wr_c(&w, ", opaque=");
			sip__wr_quoted(&w, (struct sip_str){s->opaque, s->opaque_len});
		}
		if (stale)
			sip__wr_c(&w, ", stale=true");
		if (w.overflow)
			return SIP_ETOOBIG;
		vals[i] = (struct sip_str){buf + start, w.len - start};
		/* Separate the values with a NUL so each is also a C string. */
		sip__wr_str(&w, (struct sip_str){"", 1});
	}
	if ((rc = sip__wr_end(&w)) < 0)
		return rc;
	*nvals = s->nalgs;
	return 0;
}

/* ---- verification ---- */

static bool is_hex(struct sip_str v, size_t len)
{
	if (v.len != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!SIP_IS(v.p[i], SIP_C_HEX))
			return false;
	return true;
}

enum sip_auth_result sip_auth_verify(struct sip_auth_server *s, const struct sip_digest_creds *c,
				     const struct sip_auth_request *req, int64_t now, sip_auth_ha1_fn lookup,
				     void *ud)
{
	enum sip_digest_alg alg;
	if (!s || !c || !req || !lookup)
		return SIP_AUTH_ERROR;
	if (!c->username.len || !c->realm.len || !c->nonce.len || !c->uri.len || !c->response.len)
		return SIP_AUTH_MALFORMED;
	bool qop = c->qop.len != 0;
	uint32_t nc = 0;
	if (qop) {
		if (!sip_str_caseeq(c->qop, SIP_STR("auth")))
			return SIP_AUTH_BAD; /* only qop=auth is ever offered */
		if (!c->cnonce.len || !is_hex(c->nc, 8))
			return SIP_AUTH_MALFORMED;
		for (size_t i = 0; i < 8; i++)
			nc = nc << 4 | (uint32_t)sip__hexval((unsigned char)c->nc.p[i]);
		if (nc == 0)
			return SIP_AUTH_MALFORMED;
	}
	if (sip_digest_alg_parse(c->algorithm, &alg) != 0 || !(s->alg_mask & SIP_DIGEST_BIT(alg)))
		return SIP_AUTH_BAD;
	size_t hl = sip_digest_hex_len(alg);
	if (!is_hex(c->response, hl))
		return SIP_AUTH_MALFORMED;
	if ((alg == SIP_DIGEST_MD5_SESS || alg == SIP_DIGEST_SHA256_SESS) && !c->cnonce.len)
		return SIP_AUTH_MALFORMED;
	/* RFC 7616 §3.4.6: a digest-uri that is not the Request-URI is a 400. */
	if (req->request_uri.len && !sip_str_eq(c->uri, req->request_uri))
		return SIP_AUTH_MALFORMED;
	if (!sip_str_eq(c->realm, req->realm))
		return SIP_AUTH_BAD;

	int64_t issued = 0;
	uint64_t seq = 0;
	uint8_t key[KEY_LEN];
	enum sip_auth_result nr = nonce_check(s, req->realm, c->nonce, now, &issued, &seq, key);
	if (nr == SIP_AUTH_BAD)
		return SIP_AUTH_BAD;

	char ha1[SIP_DIGEST_HEX_MAX], want[SIP_DIGEST_HEX_MAX], got[SIP_DIGEST_HEX_MAX];
	bool known = true;
	int rc = lookup(ud, c->username, c->realm, sip_digest_alg_base(alg), ha1);
	if (rc == SIP_ENOTFOUND) {
		known = false;
		if (sip_digest_ha1(alg, c->username, c->realm, sip_str_c(s->dummy_pw), ha1) != 0)
			return SIP_AUTH_ERROR;
	} else if (rc != 0) {
		return SIP_AUTH_ERROR;
	}
	struct sip_digest_input in = {
		.alg = alg,
		.ha1 = {ha1, strnlen(ha1, sizeof ha1)},
		.nonce = c->nonce,
		.cnonce = c->cnonce,
		.nc = c->nc,
		.qop = qop ? SIP_STR("auth") : SIP_STR_NULL,
		.method = req->method,
		.uri = c->uri,
	};
	if (sip_digest_response(&in, want) != 0)
		return known ? SIP_AUTH_ERROR : SIP_AUTH_BAD;
	for (size_t i = 0; i < hl; i++)
		got[i] = (char)sip__lower[(unsigned char)c->response.p[i]];
	bool match = CRYPTO_memcmp(want, got, hl) == 0;
	OPENSSL_cleanse(ha1, sizeof ha1);
	if (!match || !known)
		return SIP_AUTH_BAD;
	if (nr == SIP_AUTH_STALE)
		return SIP_AUTH_STALE;
	/* RFC 2069-style requests carry no nc: the nonce is reusable for its lifetime. */
	if (qop)
		return nc_record(s, key, issued, seq, nc, now);
	return SIP_AUTH_OK;
}
