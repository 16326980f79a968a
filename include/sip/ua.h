/* ua.h — a user agent client core: sends one out-of-dialog request and reports
 * its final response. It locates the server (RFC 3263: numeric hosts and
 * explicit ports directly, names through NAPTR/SRV/A/AAAA), applies the MTU
 * rule (§18.1.1: large UDP requests go over TCP, back to UDP if TCP fails),
 * runs a client transaction, and fails over to the next target on a
 * transport error, a timeout or a 503 (RFC 3263 §4.3). */
#ifndef SIP_UA_H
#define SIP_UA_H

#include <sip/auth.h>
#include <sip/dialog.h>
#include <sip/stack.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIP_UA_MAX_REQUEST 65000  /* bytes of a request we build */
#define SIP_UA_URI_MAX 2048	  /* bytes of a Request-URI, From, To or Contact URI we take */
#define SIP_UA_CALL_ID_MAX 64	  /* bytes of a Call-ID we keep (with NUL) */
#define SIP_UA_TAG_MAX 32	  /* bytes of a From tag we keep (with NUL) */
#define SIP_UA_MAX_REALMS 4	  /* realms a session keeps credentials for */
#define SIP_UA_MAX_CHALLENGES 8	  /* challenge values looked at in one 401/407 */
#define SIP_UA_MAX_AUTH_ROUNDS 4  /* authenticated resends of one request */
#define SIP_UA_AUTH_HDRS_MAX 8192 /* bytes of the (Proxy-)Authorization lines of one request */

struct sip_ua;

struct sip_ua_config {
	struct sip_txn_config txn;   /* timers; zeroed fields take the RFC defaults */
	const char *tls_ca_file;     /* trust anchors for TLS; NULL: system store */
	bool tls_insecure_no_verify; /* TESTS ONLY */
	unsigned mtu;		     /* 0: unknown (1300-byte rule) */
	bool mtu_rule_off;
	const char *dns_servers; /* "127.0.0.1:5353"; NULL: /etc/resolv.conf */
	const char *user;	 /* From user part; default "sipua" */
	const char *local_ip;	 /* address to bind; NULL: the one routing to the target */
	uint16_t local_port;	 /* with local_ip: listen on UDP local_ip:local_port from the start (a UAS) */
	/* Digest credentials (RFC 3261 §22.2): with a password, a 401/407 is
	 * answered and the request sent again. auth_user NULL: user. */
	const char *auth_user;
	const char *password;
	unsigned auth_algs; /* SIP_DIGEST_BIT mask accepted; 0: all */
	/* Requests reaching the UA as a server: txn is the new server
	 * transaction (NULL for an ACK to a 2xx). Answer with sip_ua_respond().
	 * NULL: every request is answered 501. */
	void (*on_request)(void *arg, struct sip_ua *ua, struct sip_txn *txn, const struct sip_msg *req);
	void *on_request_arg;
};

/* The last challenge of one realm, kept to answer it again (stale nonce) and
 * to send credentials pre-emptively on later requests of the session. */
struct sip_ua_auth_entry {
	bool used;
	bool proxy;    /* Proxy-Authenticate: answer with Proxy-Authorization */
	bool sent;     /* credentials for it went with the last attempt */
	bool answered; /* it came from a challenge to this very request */
	uint16_t realm_len, nonce_len, opaque_len, alg_len, qop_len;
	char realm[SIP_DIGEST_PARAM_MAX], nonce[SIP_DIGEST_PARAM_MAX], opaque[SIP_DIGEST_PARAM_MAX];
	char alg[32], qop[64];
	struct sip_auth_client client; /* nonce count */
};

/* State kept across out-of-dialog requests that belong together, e.g. the
 * REGISTERs of one registration (RFC 3261 §10.2.4: same Call-ID, increasing
 * CSeq). Zero it before the first request; the UA fills it in. Must stay
 * alive until the request's callback has run. */
struct sip_ua_session {
	char call_id[SIP_UA_CALL_ID_MAX]; /* "" until the first request makes one */
	char from_tag[SIP_UA_TAG_MAX];
	uint32_t cseq; /* CSeq of the last request sent */
	struct sip_ua_auth_entry auth[SIP_UA_MAX_REALMS];
};

/* What a request ended with. */
struct sip_ua_result {
	int status;		      /* final status; 408 on timeout, 503 on transport failure (local) */
	const struct sip_msg *msg;    /* the final response, or NULL when generated locally */
	enum sip_tp_type transport;   /* transport the request went over last */
	char target[64];	      /* "tcp:127.0.0.1:5060" of the last target tried */
	const char *error;	      /* local failure text, or NULL */
	char contact[SIP_UA_URI_MAX]; /* the Contact URI we sent last ("" when none) */
	uint32_t cseq;		      /* CSeq of the last attempt */
	unsigned auth_rounds;	      /* times the request was resent with credentials */
	const struct sip_msg *request; /* the request as last sent, or NULL (valid during the callback) */
};

typedef void (*sip_ua_cb)(void *arg, const struct sip_ua_result *r);

struct sip_ua_request {
	const char *method;	    /* "OPTIONS" */
	const char *uri;	    /* Request-URI, also the To URI */
	enum sip_tp_type transport; /* SIP_TP_NONE: from the URI / RFC 3263 */
	const char *headers;	    /* extra header lines, each ending in CRLF; may be NULL */
	const char *content_type;   /* with body */
	struct sip_str body;
	const char *from;		/* From URI; NULL: sip:<user>@<our address> */
	const char *to;			/* To URI; NULL: the Request-URI */
	const char *contact;		/* Contact URI; NULL: sip:<user>@<our UDP listener> */
	bool no_contact;		/* send no Contact (a REGISTER query) */
	struct sip_ua_session *session; /* NULL: a fresh Call-ID, From tag and CSeq */
	/* Within a dialog (§12.2.1.1): the dialog writes the request (uri, from,
	 * to and session are not used); it goes to the first route or the remote
	 * target. cseq: the INVITE's for ACK (sent without a transaction; the
	 * callback then gets status 0) and CANCEL, else 0. */
	struct sip_dialog *dialog;
	uint32_t cseq;
	/* Provisional responses (101-199) as they come, with the request as
	 * sent (both valid during the call); NULL: not reported. */
	void (*on_provisional)(void *arg, const struct sip_msg *req, const struct sip_msg *resp);
};

/* Creates a UA on loop. Returns 0, SIP_EINVAL, SIP_ENOMEM or SIP_ECONFIG. */
SIP_API int sip_ua_new(struct sip_ua **out, uv_loop_t *loop, const struct sip_ua_config *cfg);
/* Closes the UA; pending requests report status 503 with error "closed".
 * Memory is freed once the loop has run the close callbacks. */
SIP_API void sip_ua_close(struct sip_ua *ua);
/* The UA's stack (transport + transactions), e.g. to answer requests. */
SIP_API struct sip_stack *sip_ua_stack(struct sip_ua *ua);
/* Sends a response on a server transaction the UA reported (on_request). */
SIP_API int sip_ua_respond(struct sip_ua *ua, struct sip_txn *txn, const char *bytes, size_t len);
/* The "sip:user@ip:port" Contact of the UA's UDP listener (local_port), or "" when none. */
SIP_API const char *sip_ua_contact(const struct sip_ua *ua);

/* Sends a request; cb runs once, later, on the loop. Returns 0 or SIP_EINVAL
 * (bad URI or method) / SIP_EUNSUPPORTED (scheme) / SIP_ENOMEM (then cb never runs). */
SIP_API int sip_ua_send(struct sip_ua *ua, const struct sip_ua_request *req, sip_ua_cb cb, void *arg);

/* ---- Calls (RFC 3261 §13-§15) over dialogs (sip/dialog.h) ----
 * Signalling only: the SDP offered/answered is a minimal one with the media
 * inactive (a=inactive); no RTP flows. */
enum sip_ua_call_event {
	SIP_UA_CALL_ESTABLISHED = 1, /* UAC: the 2xx came and was ACKed; UAS: our 2xx was ACKed */
	SIP_UA_CALL_ENDED,	     /* a BYE was answered or received, a CANCEL came, or the INVITE failed */
	SIP_UA_CALL_REFRESHED,	     /* our re-INVITE or UPDATE was answered (status) */
};
struct sip_ua_call_info {
	enum sip_ua_call_event event;
	int status;		  /* ESTABLISHED: the 2xx; ENDED: the INVITE's failure, our BYE's answer, 0 */
	bool by_peer;		  /* ENDED: the peer hung up (BYE) or gave up (CANCEL) */
	const char *reason;	  /* local text, or NULL */
	const struct sip_dialog *dialog; /* NULL before one exists */
};
typedef void (*sip_ua_call_cb)(void *arg, const struct sip_ua_call_info *info);

/* UAC: calls uri (INVITE with a minimal offer and Supported: 100rel, digest
 * answered as for any request), PRACKs reliable provisionals in the early
 * dialog (RFC 3262), ACKs the 2xx, and hangs up (BYE) hold_ms after;
 * hold_ms 0 stays until the peer hangs up. cb gets ESTABLISHED, then ENDED (or ENDED only).
 * Returns 0 or what sip_ua_send() returns. */
SIP_API int sip_ua_call(struct sip_ua *ua, const char *uri, unsigned hold_ms, sip_ua_call_cb cb, void *arg);

struct sip_ua_answer_opts {
	unsigned ring_ms; /* between our 180 and the final answer */
	int code;	  /* final answer: 0 or 200 (with an answer SDP), or 300..699 */
	unsigned hold_ms; /* > 0: we send BYE this long after the ACK */
	/* RFC 3262: send the 180 reliably (Require: 100rel, RSeq; resent until
	 * PRACKed) when the caller supports it. A caller that requires it gets
	 * it anyway. */
	bool reliable_provisional;
	sip_ua_call_cb cb;
	void *arg;
};
/* UAS: answers the INVITEs reaching the UA (it needs local_ip/local_port):
 * 180 at once, the final answer after ring_ms; a 2xx is sent again (T1
 * doubling up to T2) until its ACK, and without one for 64*T1 the call is
 * hung up (§13.3.1.4). One call at a time: others get 486. A CANCEL gets
 * 200 and the INVITE 487. Returns 0 or SIP_EINVAL. */
SIP_API int sip_ua_answer(struct sip_ua *ua, const struct sip_ua_answer_opts *opts);
/* Sends a target refresh in every established call (§12.2.1.1 with RFC
 * 3311): "UPDATE", or "INVITE" (a re-INVITE with the same inactive offer,
 * ACKed on its 2xx). Each answer is reported as SIP_UA_CALL_REFRESHED.
 * Returns the number of calls, or SIP_EINVAL for another method. */
SIP_API int sip_ua_refresh(struct sip_ua *ua, const char *method);
/* Hangs up every call of the UA: BYE when established; a call still
 * ringing is CANCELled (UAC) or answered 480 (UAS). Each then ends with
 * SIP_UA_CALL_ENDED. Returns the number of calls it acted on. */
SIP_API int sip_ua_hangup(struct sip_ua *ua);

#ifdef __cplusplus
}
#endif
#endif
