/* client.c — answering a Digest challenge (UAC side, RFC 3261 §22.2/§22.3). */
#include <string.h>

#include "auth/auth_int.h"
#include "core/ctype.h"

#define CNONCE_MAX 64

void sip_auth_client_init(struct sip_auth_client *c)
{
	if (c)
		memset(c, 0, sizeof *c);
}

static int alg_rank(enum sip_digest_alg alg)
{
	switch (alg) {
	case SIP_DIGEST_SHA256: return 4;
	case SIP_DIGEST_SHA256_SESS: return 3;
	case SIP_DIGEST_MD5: return 2;
	case SIP_DIGEST_MD5_SESS: return 1;
	default: return 0;
	}
}

static bool accepted(const struct sip_auth_client *c, enum sip_digest_alg alg)
{
	return c->algs == 0 || (c->algs & SIP_DIGEST_BIT(alg));
}

int sip_auth_client_pick(const struct sip_auth_client *c, const struct sip_digest_challenge *ch, size_t n)
{
	int best = SIP_EUNSUPPORTED, best_rank = 0;
	if (!c || (!ch && n))
		return SIP_EINVAL;
	for (size_t i = 0; i < n && i < INT32_MAX; i++) {
		enum sip_digest_alg alg;
		if (sip_digest_alg_parse(ch[i].algorithm, &alg) != 0 || !accepted(c, alg))
			continue;
		if (alg_rank(alg) > best_rank) {
			best_rank = alg_rank(alg);
			best = (int)i;
		}
	}
	return best;
}

/* Whether the qop-options list ("auth,auth-int") holds "auth". */
static bool qop_has_auth(struct sip_str list)
{
	size_t i = 0;
	while (i < list.len) {
		while (i < list.len && (list.p[i] == ',' || sip__is_ws((unsigned char)list.p[i])))
			i++;
		size_t start = i;
		while (i < list.len && list.p[i] != ',' && !sip__is_ws((unsigned char)list.p[i]))
			i++;
		if (sip_str_caseeq((struct sip_str){list.p + start, i - start}, SIP_STR("auth")))
			return true;
	}
	return false;
}

static bool has_ctl(struct sip_str v)
{
	for (size_t i = 0; i < v.len; i++)
		if ((unsigned char)v.p[i] < 0x20 || v.p[i] == 0x7f)
			return true;
	return false;
}

static int default_cnonce(void *ud, char *out, size_t cap)
{
	uint8_t rnd[16];
	(void)ud;
	if (cap < 2 * sizeof rnd + 1 || sip__rand_default(NULL, rnd, sizeof rnd) != 0)
		return SIP_EIO;
	sip__hex(rnd, sizeof rnd, out);
	return 2 * sizeof rnd;
}

int sip_auth_client_answer(struct sip_auth_client *c, const struct sip_digest_challenge *ch,
			   struct sip_str username, struct sip_str password, struct sip_str method,
			   struct sip_str uri, char *out, size_t cap)
{
	enum sip_digest_alg alg;
	char ha1[SIP_DIGEST_HEX_MAX], resp[SIP_DIGEST_HEX_MAX], cnonce[CNONCE_MAX + 1], nc[9];
	int rc;
	if (!c || !ch || !out || !ch->nonce.len)
		return SIP_EINVAL;
	if (ch->nonce.len > sizeof c->nonce || uri.len > SIP_DIGEST_URI_MAX)
		return SIP_ETOOBIG;
	/* Values we echo inside quotes: a control character (a line fold
	 * included) has no quoted-pair form, so it could not go back as read. */
	if (has_ctl(ch->realm) || has_ctl(ch->nonce) || has_ctl(ch->opaque))
		return SIP_EPARSE;
	if (sip_digest_alg_parse(ch->algorithm, &alg) != 0 || !accepted(c, alg))
		return SIP_EUNSUPPORTED;
	bool qop = ch->qop.len != 0;
	if (qop && !qop_has_auth(ch->qop))
		return SIP_EUNSUPPORTED;
	bool sess = alg == SIP_DIGEST_MD5_SESS || alg == SIP_DIGEST_SHA256_SESS;

	size_t cnlen = 0;
	if (qop || sess) {
		rc = c->cnonce ? c->cnonce(c->cnonce_ud, cnonce, sizeof cnonce)
			       : default_cnonce(NULL, cnonce, sizeof cnonce);
		if (rc <= 0)
			return rc < 0 ? rc : SIP_EIO;
		cnlen = strnlen(cnonce, sizeof cnonce);
		if (cnlen == 0 || cnlen > CNONCE_MAX)
			return SIP_EINVAL;
	}
	/* nc counts requests per nonce; a new nonce restarts it. */
	if (c->nonce_len == ch->nonce.len && memcmp(c->nonce, ch->nonce.p, ch->nonce.len) == 0) {
		if (c->nc == UINT32_MAX)
			return SIP_ERANGE;
		c->nc++;
	} else {
		memcpy(c->nonce, ch->nonce.p, ch->nonce.len);
		c->nonce_len = ch->nonce.len;
		c->nc = 1;
	}
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 8; i++)
		nc[i] = digits[(c->nc >> (28 - 4 * i)) & 15];
	nc[8] = '\0';

	if ((rc = sip_digest_ha1(alg, username, ch->realm, password, ha1)) != 0)
		return rc;
	struct sip_digest_input in = {
		.alg = alg,
		.ha1 = {ha1, sip_digest_hex_len(alg)},
		.nonce = ch->nonce,
		.cnonce = {cnonce, cnlen},
		.nc = qop ? (struct sip_str){nc, 8} : SIP_STR_NULL,
		.qop = qop ? SIP_STR("auth") : SIP_STR_NULL,
		.method = method,
		.uri = uri,
	};
	rc = sip_digest_response(&in, resp);
	memset(ha1, 0, sizeof ha1);
	if (rc)
		return rc;

	struct sip__wr w;
	sip__wr_init(&w, out, cap);
	sip__wr_c(&w, "Digest username=");
	sip__wr_quoted(&w, username);
	sip__wr_c(&w, ", realm=");
	sip__wr_quoted(&w, ch->realm);
	sip__wr_c(&w, ", nonce=");
	sip__wr_quoted(&w, ch->nonce);
	sip__wr_c(&w, ", uri=");
	sip__wr_quoted(&w, uri);
	sip__wr_c(&w, ", response=\"");
	sip__wr_c(&w, resp);
	sip__wr_c(&w, "\"");
	/* Echo the algorithm only when the challenge named one: RFC 2069
	 * servers may not know the parameter. */
	if (ch->algorithm.len) {
		sip__wr_c(&w, ", algorithm=");
		sip__wr_c(&w, sip_digest_alg_name(alg));
	}
	if (qop || sess) {
		sip__wr_c(&w, ", cnonce=");
		sip__wr_quoted(&w, (struct sip_str){cnonce, cnlen});
	}
	if (qop) {
		sip__wr_c(&w, ", qop=auth, nc=");
		sip__wr_c(&w, nc);
	}
	if (ch->opaque.len) {
		sip__wr_c(&w, ", opaque=");
		sip__wr_quoted(&w, ch->opaque);
	}
	return sip__wr_end(&w);
}
