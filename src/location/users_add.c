/* users_add.c — password to HA1s for the credential store. Kept apart from
 * users.c: it is the only part of this module that needs the auth module
 * (OpenSSL), so programs that never add users do not pull it in. */
#include <string.h>

#include <sip/location.h>

int sip_users_add(struct sip_users *u, struct sip_str username, struct sip_str realm, struct sip_str password)
{
	char md5[SIP_DIGEST_HEX_MAX], sha[SIP_DIGEST_HEX_MAX];
	int rc;
	if (!u)
		return SIP_EINVAL;
	if ((rc = sip_digest_ha1(SIP_DIGEST_MD5, username, realm, password, md5)) != 0 ||
	    (rc = sip_digest_ha1(SIP_DIGEST_SHA256, username, realm, password, sha)) != 0)
		return rc;
	rc = sip_users_set_ha1(u, username, realm, (struct sip_str){md5, 32}, (struct sip_str){sha, 64});
	explicit_bzero(md5, sizeof md5);
	explicit_bzero(sha, sizeof sha);
	return rc;
}
