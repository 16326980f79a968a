/* ua.h — a user agent client core: sends one out-of-dialog request and reports
 * its final response. It locates the server (RFC 3263: numeric hosts and
 * explicit ports directly, names through NAPTR/SRV/A/AAAA), applies the MTU
 * rule (§18.1.1: large UDP requests go over TCP, back to UDP if TCP fails),
 * runs a client transaction, and fails over to the next target on a
 * transport error, a timeout or a 503 (RFC 3263 §4.3). */
#ifndef SIP_UA_H
#define SIP_UA_H

#include <sip/stack.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIP_UA_MAX_REQUEST 65000 /* bytes of a request we build */

struct sip_ua;

struct sip_ua_config {
	struct sip_txn_config txn;     /* timers; zeroed fields take the RFC defaults */
	const char *tls_ca_file;       /* trust anchors for TLS; NULL: system store */
	bool tls_insecure_no_verify;   /* TESTS ONLY */
	unsigned mtu;                  /* 0: unknown (1300-byte rule) */
	bool mtu_rule_off;
	const char *dns_servers;       /* "127.0.0.1:5353"; NULL: /etc/resolv.conf */
	const char *user;              /* From user part; default "sipua" */
	const char *local_ip;          /* address to bind; NULL: the one routing to the target */
};

/* What a request ended with. */
struct sip_ua_result {
	int status;                    /* final status; 408 on timeout, 503 on transport failure (local) */
	const struct sip_msg *msg;     /* the final response, or NULL when generated locally */
	enum sip_tp_type transport;    /* transport the request went over last */
	char target[64];               /* "tcp:127.0.0.1:5060" of the last target tried */
	const char *error;             /* local failure text, or NULL */
};

typedef void (*sip_ua_cb)(void *arg, const struct sip_ua_result *r);

struct sip_ua_request {
	const char *method;            /* "OPTIONS" */
	const char *uri;               /* Request-URI, also the To URI */
	enum sip_tp_type transport;    /* SIP_TP_NONE: from the URI / RFC 3263 */
	const char *headers;           /* extra header lines, each ending in CRLF; may be NULL */
	const char *content_type;      /* with body */
	struct sip_str body;
};

/* Creates a UA on loop. Returns 0, SIP_EINVAL, SIP_ENOMEM or SIP_ECONFIG. */
SIP_API int sip_ua_new(struct sip_ua **out, uv_loop_t *loop, const struct sip_ua_config *cfg);
/* Closes the UA; pending requests report status 503 with error "closed".
 * Memory is freed once the loop has run the close callbacks. */
SIP_API void sip_ua_close(struct sip_ua *ua);
/* Sends a request; cb runs once, later, on the loop. Returns 0 or SIP_EINVAL
 * (bad URI or method) / SIP_EUNSUPPORTED (scheme) / SIP_ENOMEM (then cb never runs). */
SIP_API int sip_ua_send(struct sip_ua *ua, const struct sip_ua_request *req, sip_ua_cb cb, void *arg);

#ifdef __cplusplus
}
#endif
#endif
