/* gate.c — finding a request's credentials for a realm (Authorization for a
 * UAS or registrar, Proxy-Authorization for a proxy, RFC 3261 §22). */
#include <sip/auth.h>

int sip_auth_find_creds(const struct sip_msg *m, bool proxy, struct sip_str realm, struct sip_digest_creds *c)
{
	enum sip_hdr_id id = proxy ? SIP_HDR_PROXY_AUTHORIZATION : SIP_HDR_AUTHORIZATION;
	for (uint16_t i = m->first[id]; i != SIP_HDR_NONE && i < m->nhdrs; i = m->hdrs[i].next) {
		struct sip_auth a;
		if (sip_auth_parse(&a, m->hdrs[i].value, NULL) != 0)
			return SIP_EPARSE;
		int rc = sip_digest_creds_from_auth(c, &a);
		if (rc == SIP_EUNSUPPORTED)
			continue; /* another scheme */
		if (rc != 0)
			return SIP_EPARSE;
		if (sip_str_eq(c->realm, realm))
			return 1;
	}
	return 0;
}
