/* hdr_auth.c — challenges and credentials: WWW-/Proxy-Authenticate,
 * (Proxy-)Authorization (RFC 3261 §25, RFC 7616 digest parameters). */
#include <sip/msg.h>
#include <stddef.h>
#include <string.h>

#include "scan.h"

/* Cap on auth-params per value: a digest response has about ten. */
#define SIP_MAX_AUTH_PARAMS 64

/* The digest parameters pre-extracted into struct sip_auth (name, field). */
#define F(field)                                                                                             \
	{                                                                                                    \
		{#field, sizeof(#field) - 1}, offsetof(struct sip_auth, field)                               \
	}
static const struct {
	struct sip_str name;
	size_t off;
} digest_fields[] = {
    F(realm),	 F(nonce), F(opaque),	F(algorithm), F(qop), F(domain),   F(stale),
    F(username), F(uri),   F(response), F(cnonce),    F(nc),  F(userhash),
};
#undef F

/* Stores a value (quotes already stripped) in its named field; the first wins. */
static void record(struct sip_auth *a, struct sip_str name, struct sip_str val)
{
	for (size_t i = 0; i < sizeof(digest_fields) / sizeof(digest_fields[0]); i++) {
		if (name.len == digest_fields[i].name.len && sip_str_caseeq(name, digest_fields[i].name)) {
			struct sip_str *f = (struct sip_str *)((char *)a + digest_fields[i].off);
			if (!f->p)
				*f = val;
			return;
		}
	}
}

int sip_auth_parse(struct sip_auth *a, struct sip_str value, size_t *err_off)
{
	memset(a, 0, sizeof(*a));
	SIP__CHECK_VALUE(value, err_off);
	const char *s = value.p, *e = s + value.len, *p, *q;

	/* credentials / challenge = auth-scheme LWS auth-param *(COMMA auth-param),
	 * auth-param = auth-param-name EQUAL ( token / quoted-string ). */
	p = sip__skip_lws(s, e);
	q = sip__scan_token(p, e);
	if (q == p)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	a->scheme = (struct sip_str){p, (size_t)(q - p)};
	p = sip__skip_lws(q, e);
	if (p == q || p == e)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	a->params.p = p;

	for (int n = 0;; n++) {
		if (n == SIP_MAX_AUTH_PARAMS)
			return sip__fail(err_off, s, p, SIP_ETOOBIG);
		const char *name = p;
		q = sip__scan_token(p, e);
		if (q == p)
			return sip__fail(err_off, s, p, SIP_EPARSE);
		struct sip_str nm = {name, (size_t)(q - name)};
		p = sip__skip_lws(q, e);
		if (p == e || *p != '=')
			return sip__fail(err_off, s, p, SIP_EPARSE);
		p = sip__skip_lws(p + 1, e);
		struct sip_str val;
		if (p < e && *p == '"') {
			q = sip__scan_quoted(p, e);
			if (!q) /* a quoted value left open: blame its opening quote */
				return sip__fail(err_off, s, p, SIP_EPARSE);
			val = (struct sip_str){p + 1, (size_t)(q - p - 2)};
		} else {
			q = sip__scan_token(p, e);
			if (q == p) /* '=' with no value */
				return sip__fail(err_off, s, p, SIP_EPARSE);
			val = (struct sip_str){p, (size_t)(q - p)};
		}
		record(a, nm, val);
		a->params.len = (size_t)(q - a->params.p);
		p = sip__skip_lws(q, e);
		if (p == e)
			return 0;
		if (*p != ',')
			return sip__fail(err_off, s, p, SIP_EPARSE);
		p = sip__skip_lws(p + 1, e);
	}
}
