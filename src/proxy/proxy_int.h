/* proxy_int.h — what the proxy module's files share. */
#pragma once
#include <sip/proxy.h>

/* Whether a Proxy-Authorization value holds Digest credentials for realm
 * (compared exactly, RFC 7616 §3.3). A value that does not parse, or is
 * another scheme, is not known to be for realm: false. */
bool sip__proxy_creds_for(struct sip_str value, struct sip_str realm);
