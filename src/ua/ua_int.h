/* ua_int.h — private to src/ua: the UA object, shared by the request
 * machinery (client.c) and the calls (call.c). */
#ifndef SIP_UA_INT_H
#define SIP_UA_INT_H

#include <sip/rand.h>
#include <sip/resolver.h>
#include <sip/ua.h>

struct ua_req;
struct ua_call;

struct sip_ua {
	uv_loop_t *loop;
	struct sip_stack *stack;
	struct sip_resolver *resolver;
	struct sip_ua_config cfg;
	struct sip_listener *udp[2];  /* per family: [0] IPv4, [1] IPv6 */
	char contact[SIP_UA_URI_MAX]; /* of the local_port listener, or "" */
	struct ua_req *reqs;
	struct ua_call *calls;	      /* call.c */
	struct sip_ua_answer_opts answer; /* call.c: answering calls when answer.cb */
	struct sip_rand rng;
	bool closing;
};

/* Answers req on txn with a bare response (a To tag added to a final one). */
void sip__ua_reply(struct sip_ua *ua, struct sip_txn *txn, const struct sip_msg *req, int code);

/* client.c: CANCELs the pending INVITE of session s (now, or when its first
 * provisional comes). SIP_ENOTFOUND when none is pending. */
int sip__ua_cancel_invite(struct sip_ua *ua, const struct sip_ua_session *s);
/* call.c: a request for one of the calls (or a new call to answer): true
 * when it was taken. txn NULL for an ACK. */
bool sip__ua_call_request(struct sip_ua *ua, struct sip_txn *txn, const struct sip_msg *req);
/* call.c: an event of a server transaction a call holds (its INVITE). */
void sip__ua_call_server_event(struct sip_ua *ua, struct sip_txn *txn, enum sip_txn_event ev);
/* call.c: the UA closes: every call ends. */
void sip__ua_calls_close(struct sip_ua *ua);

#endif
