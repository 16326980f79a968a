/* ua_auth.h — private to src/ua: the UAC side of digest authentication as
 * pure functions over a struct sip_ua_session (no sockets, no clock), so the
 * retry rules are unit tested without a network. */
#ifndef SIP_UA_AUTH_H
#define SIP_UA_AUTH_H

#include <sip/ua.h>

/* Starts a new request of the session: forgets which credentials went with
 * the previous request's attempts (kept challenges stay for pre-emptive use). */
void sip__ua_auth_begin(struct sip_ua_session *s);

/* Writes one "Authorization: ..." / "Proxy-Authorization: ..." line (ending in
 * CRLF) per kept challenge of s, answering it for method and uri (the
 * Request-URI, RFC 3261 §22.4), into out (NUL-terminated) and marks them sent.
 * Returns the length (0: none kept), SIP_ETOOBIG, or the digest error. */
int sip__ua_auth_lines(struct sip_ua_session *s, unsigned algs, struct sip_str user, struct sip_str password,
		       struct sip_str method, struct sip_str uri, char *out, size_t cap);

/* Takes the Digest challenges of a 401/407 (WWW- and Proxy-Authenticate
 * alike): per (header kind, realm) the strongest accepted algorithm is kept.
 * Returns 1 when the request should go again with the new credentials; 0 when
 * the answer is final: no challenge we can answer, or credentials we sent in
 * answer to a challenge of this request were refused without stale=true (a
 * wrong password). */
int sip__ua_auth_challenged(struct sip_ua_session *s, unsigned algs, const struct sip_msg *resp);

#endif
