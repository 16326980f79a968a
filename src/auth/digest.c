/* digest.c — RFC 7616 hash computations (HA1, HA2, response) on OpenSSL,
 * algorithm names, and the bridge from msg.h's struct sip_auth. */
/* The low-level MD5/SHA-256 functions are deprecated in OpenSSL 3 but
 * shipped; see struct hash for why they are used. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/md5.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>

#include "auth/auth_int.h"
#include "core/ctype.h"

static const struct {
	const char *name;
	size_t len;
} alg_names[SIP_DIGEST__COUNT] = {
	[SIP_DIGEST_MD5] = {"MD5", 3},
	[SIP_DIGEST_MD5_SESS] = {"MD5-sess", 8},
	[SIP_DIGEST_SHA256] = {"SHA-256", 7},
	[SIP_DIGEST_SHA256_SESS] = {"SHA-256-sess", 12},
};

int sip_digest_alg_parse(struct sip_str name, enum sip_digest_alg *out)
{
	if (!out)
		return SIP_EINVAL;
	if (name.len == 0) {
		*out = SIP_DIGEST_MD5;
		return 0;
	}
	for (int i = 0; i < SIP_DIGEST__COUNT; i++) {
		if (sip_str_caseeq(name, (struct sip_str){alg_names[i].name, alg_names[i].len})) {
			*out = (enum sip_digest_alg)i;
			return 0;
		}
	}
	return SIP_EUNSUPPORTED;
}

const char *sip_digest_alg_name(enum sip_digest_alg alg)
{
	if ((unsigned)alg >= SIP_DIGEST__COUNT)
		return "";
	return alg_names[alg].name;
}

enum sip_digest_alg sip_digest_alg_base(enum sip_digest_alg alg)
{
	if (alg == SIP_DIGEST_MD5_SESS)
		return SIP_DIGEST_MD5;
	if (alg == SIP_DIGEST_SHA256_SESS)
		return SIP_DIGEST_SHA256;
	return alg;
}

size_t sip_digest_hex_len(enum sip_digest_alg alg)
{
	switch (alg) {
	case SIP_DIGEST_MD5:
	case SIP_DIGEST_MD5_SESS: return 32;
	case SIP_DIGEST_SHA256:
	case SIP_DIGEST_SHA256_SESS: return 64;
	default: return 0;
	}
}

static bool is_sess(enum sip_digest_alg alg) { return alg == SIP_DIGEST_MD5_SESS || alg == SIP_DIGEST_SHA256_SESS; }

/* ---- hashing ---- */

void sip__hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Incremental hash of an algorithm's base function on OpenSSL's low-level
 * MD5/SHA-256: the context is a plain struct on the stack, so a hash costs
 * no allocation and no provider dispatch. Through EVP (EVP_MD_CTX_new +
 * EVP_DigestInit_ex with EVP_md5(), an implicit fetch per call) the same
 * 80-byte MD5 took ~600 ns against ~240 here, and a response is three of
 * them (bench/auth). */
struct hash {
	union {
		MD5_CTX md5;
		SHA256_CTX sha;
	} u;
	size_t hexlen;
};

static int hash_begin(struct hash *h, enum sip_digest_alg alg)
{
	h->hexlen = sip_digest_hex_len(alg);
	if (h->hexlen == 32)
		return MD5_Init(&h->u.md5) == 1 ? 0 : SIP_EIO;
	if (h->hexlen == 64)
		return SHA256_Init(&h->u.sha) == 1 ? 0 : SIP_EIO;
	return SIP_EINVAL;
}

static void hash_add(struct hash *h, struct sip_str s)
{
	if (!s.len)
		return;
	if (h->hexlen == 32)
		MD5_Update(&h->u.md5, s.p, s.len);
	else
		SHA256_Update(&h->u.sha, s.p, s.len);
}

/* Adds ':' then s. */
static void hash_addc(struct hash *h, struct sip_str s)
{
	hash_add(h, SIP_STR(":"));
	hash_add(h, s);
}

/* Finishes into lower-case hex (NUL-terminated) and wipes the state. */
static int hash_end(struct hash *h, char out[SIP_DIGEST_HEX_MAX])
{
	uint8_t md[SHA256_DIGEST_LENGTH];
	int ok;
	if (h->hexlen == 32)
		ok = MD5_Final(md, &h->u.md5);
	else
		ok = SHA256_Final(md, &h->u.sha);
	if (ok != 1)
		return SIP_EIO;
	sip__hex(md, h->hexlen / 2, out);
	OPENSSL_cleanse(md, sizeof md);
	return 0;
}

int sip__rand_default(void *ud, uint8_t *buf, size_t len)
{
	(void)ud;
	if (len > INT32_MAX || RAND_bytes(buf, (int)len) != 1)
		return SIP_EIO;
	return 0;
}

int sip_digest_ha1(enum sip_digest_alg alg, struct sip_str username, struct sip_str realm,
		   struct sip_str password, char out[SIP_DIGEST_HEX_MAX])
{
	struct hash h;
	if (!out)
		return SIP_EINVAL;
	int rc = hash_begin(&h, sip_digest_alg_base(alg));
	if (rc)
		return rc;
	hash_add(&h, username);
	hash_addc(&h, realm);
	hash_addc(&h, password);
	return hash_end(&h, out);
}

static bool all_hex(struct sip_str s)
{
	for (size_t i = 0; i < s.len; i++)
		if (!SIP_IS(s.p[i], SIP_C_HEX))
			return false;
	return true;
}

int sip_digest_response(const struct sip_digest_input *in, char out[SIP_DIGEST_HEX_MAX])
{
	char ha1[SIP_DIGEST_HEX_MAX], ha2[SIP_DIGEST_HEX_MAX];
	struct hash h;
	int rc;
	if (!in || !out)
		return SIP_EINVAL;
	size_t hl = sip_digest_hex_len(in->alg);
	if (hl == 0 || in->ha1.len != hl || !all_hex(in->ha1))
		return SIP_EINVAL;
	bool qop = in->qop.len != 0;
	if (qop && !sip_str_caseeq(in->qop, SIP_STR("auth")))
		return SIP_EUNSUPPORTED;
	if ((qop || is_sess(in->alg)) && in->cnonce.len == 0)
		return SIP_EINVAL;
	if (qop && in->nc.len == 0)
		return SIP_EINVAL;

	/* A stored HA1 may have been written in upper case; hash it as lower. */
	for (size_t i = 0; i < hl; i++)
		ha1[i] = (char)sip__lower[(unsigned char)in->ha1.p[i]];
	ha1[hl] = '\0';
	if (is_sess(in->alg)) {
		if ((rc = hash_begin(&h, in->alg)) != 0)
			return rc;
		hash_add(&h, (struct sip_str){ha1, hl});
		hash_addc(&h, in->nonce);
		hash_addc(&h, in->cnonce);
		if ((rc = hash_end(&h, ha1)) != 0)
			return rc;
	}
	if ((rc = hash_begin(&h, in->alg)) != 0)
		return rc;
	hash_add(&h, in->method);
	hash_addc(&h, in->uri);
	if ((rc = hash_end(&h, ha2)) != 0)
		return rc;

	if ((rc = hash_begin(&h, in->alg)) != 0)
		return rc;
	hash_add(&h, (struct sip_str){ha1, hl});
	hash_addc(&h, in->nonce);
	if (qop) {
		hash_addc(&h, in->nc);
		hash_addc(&h, in->cnonce);
		hash_addc(&h, SIP_STR("auth"));
	}
	hash_addc(&h, (struct sip_str){ha2, hl});
	return hash_end(&h, out);
}

/* ---- bridge from struct sip_auth ---- */

/* Removes quoted-pair escapes from v into store (at *used) when v holds a
 * backslash; otherwise keeps the slice. Caps every value. */
static int take(struct sip_str *dst, struct sip_str v, size_t max, char *store, size_t storecap, size_t *used)
{
	if (v.len > max)
		return SIP_ETOOBIG;
	if (!v.p || !memchr(v.p, '\\', v.len)) {
		*dst = v;
		return 0;
	}
	char *o = store + *used;
	size_t n = 0;
	for (size_t i = 0; i < v.len; i++) {
		char ch = v.p[i];
		if (ch == '\\') {
			if (++i == v.len)
				return SIP_EPARSE;
			ch = v.p[i];
		}
		if (*used + n >= storecap)
			return SIP_ETOOBIG;
		o[n++] = ch;
	}
	*used += n;
	*dst = (struct sip_str){o, n};
	return 0;
}

static bool is_digest(struct sip_str scheme) { return sip_str_caseeq(scheme, SIP_STR("Digest")); }

int sip_digest_creds_from_auth(struct sip_digest_creds *c, const struct sip_auth *a)
{
	size_t used = 0;
	int rc;
	if (!c || !a)
		return SIP_EINVAL;
	memset(c, 0, offsetof(struct sip_digest_creds, store));
	if (!is_digest(a->scheme))
		return SIP_EUNSUPPORTED;
	/* The nonce too: a client echoes it the way the challenge's reader
	 * read it (unescaped), and re-quotes it on the way out. */
	if ((rc = take(&c->username, a->username, SIP_DIGEST_PARAM_MAX, c->store, sizeof c->store, &used)) ||
	    (rc = take(&c->realm, a->realm, SIP_DIGEST_PARAM_MAX, c->store, sizeof c->store, &used)) ||
	    (rc = take(&c->nonce, a->nonce, SIP_DIGEST_PARAM_MAX, c->store, sizeof c->store, &used)) ||
	    (rc = take(&c->uri, a->uri, SIP_DIGEST_URI_MAX, c->store, sizeof c->store, &used)))
		return rc;
	/* The remaining values are tokens or hex/base64 in practice; an escape
	 * in them makes them invalid for us anyway. */
	const struct sip_str *src[] = {&a->response, &a->algorithm, &a->cnonce, &a->nc, &a->qop, &a->opaque};
	struct sip_str *dst[] = {&c->response, &c->algorithm, &c->cnonce, &c->nc, &c->qop, &c->opaque};
	for (size_t i = 0; i < sizeof src / sizeof src[0]; i++) {
		if (src[i]->len > SIP_DIGEST_PARAM_MAX)
			return SIP_ETOOBIG;
		*dst[i] = *src[i];
	}
	return 0;
}

int sip_digest_challenge_from_auth(struct sip_digest_challenge *ch, const struct sip_auth *a)
{
	size_t used = 0;
	int rc;
	if (!ch || !a)
		return SIP_EINVAL;
	memset(ch, 0, offsetof(struct sip_digest_challenge, store));
	if (!is_digest(a->scheme))
		return SIP_EUNSUPPORTED;
	if ((rc = take(&ch->realm, a->realm, SIP_DIGEST_PARAM_MAX, ch->store, sizeof ch->store, &used)) ||
	    (rc = take(&ch->nonce, a->nonce, SIP_DIGEST_PARAM_MAX, ch->store, sizeof ch->store, &used)) ||
	    (rc = take(&ch->opaque, a->opaque, SIP_DIGEST_PARAM_MAX, ch->store, sizeof ch->store, &used)))
		return rc;
	if (a->algorithm.len > SIP_DIGEST_PARAM_MAX || a->qop.len > SIP_DIGEST_PARAM_MAX)
		return SIP_ETOOBIG;
	ch->algorithm = a->algorithm;
	ch->qop = a->qop;
	ch->stale = sip_str_caseeq(a->stale, SIP_STR("true"));
	return 0;
}
