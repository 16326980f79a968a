/* gate.c — the two ends of a digest exchange in a request/response, for a
 * UAS or registrar (Authorization, 401 WWW-Authenticate) or a proxy
 * (Proxy-Authorization, 407 Proxy-Authenticate), RFC 3261 §22. */
#include <sip/auth.h>
#include <sip/print.h>

int sip_auth_build_challenges(struct sip_auth_server *s, struct sip_str realm, int64_t now, bool stale, bool proxy,
			      struct sip_builder *b)
{
	char buf[SIP_DIGEST__COUNT * SIP_AUTH_CHALLENGE_MAX];
	struct sip_str vals[SIP_DIGEST__COUNT];
	size_t n = 0;
	int rc = sip_auth_challenges(s, realm, now, stale, buf, sizeof buf, vals, SIP_DIGEST__COUNT, &n);
	if (rc)
		return rc;
	struct sip_str name = proxy ? SIP_STR("Proxy-Authenticate") : SIP_STR("WWW-Authenticate");
	for (size_t i = 0; i < n; i++)
		sip_build_header(b, name, vals[i]);
	return 0;
}

int sip_auth_creds_in(struct sip_str value, struct sip_str realm, struct sip_digest_creds *c)
{
	struct sip_auth a;
	if (sip_auth_parse(&a, value, NULL) != 0)
		return SIP_EPARSE;
	int rc = sip_digest_creds_from_auth(c, &a);
	if (rc == SIP_EUNSUPPORTED)
		return 0; /* another scheme */
	if (rc != 0)
		return SIP_EPARSE;
	return sip_str_eq(c->realm, realm) ? 1 : 0;
}

int sip_auth_find_creds(const struct sip_msg *m, bool proxy, struct sip_str realm, struct sip_digest_creds *c)
{
	enum sip_hdr_id id = proxy ? SIP_HDR_PROXY_AUTHORIZATION : SIP_HDR_AUTHORIZATION;
	for (uint16_t i = m->first[id]; i != SIP_HDR_NONE && i < m->nhdrs; i = m->hdrs[i].next) {
		int rc = sip_auth_creds_in(m->hdrs[i].value, realm, c);
		if (rc != 0)
			return rc;
	}
	return 0;
}
