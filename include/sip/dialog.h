/* dialog.h — dialogs (RFC 3261 §12, §13.2.2.4, §14) with reliable
 * provisional responses (RFC 3262, PRACK) and UPDATE (RFC 3311) as
 * in-dialog target refreshes. Sans-I/O: a dialog is built from the
 * messages that create it, fed the messages that belong to it, and writes
 * the requests a UA sends within it; transactions and sockets are the
 * caller's (its Via value comes in as an argument).
 *
 * Both sides:
 *   UAC — sip_dialog_uac_create() from the INVITE sent and a 1xx with a To
 *         tag (early) or a 2xx (confirmed); every fork's answer makes its
 *         own dialog (§13.2.2.4). sip_dialog_on_response() moves it on.
 *   UAS — sip_dialog_uas_create() from the INVITE received and our tag;
 *         sip_dialog_confirm() when our 2xx goes out.
 * In-dialog requests: sip_dialog_on_request() checks the remote CSeq and
 * applies target refreshes; sip_dialog_request() writes ours (loose or
 * strict routing, §12.2.1.1). */
#ifndef SIP_DIALOG_H
#define SIP_DIALOG_H

#include <sip/msg.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIP_DIALOG_ID_MAX 256	    /* bytes of a Call-ID or tag kept (with NUL) */
#define SIP_DIALOG_URI_MAX 1024	    /* bytes of a local/remote URI or remote target (with NUL) */
#define SIP_DIALOG_ROUTES_MAX 4096  /* bytes of the route set values (each with its NUL) */
#define SIP_DIALOG_MAX_ROUTES 32    /* values in the route set */

enum sip_dialog_state {
	SIP_DIALOG_EARLY = 1, /* from a provisional response with a To tag */
	SIP_DIALOG_CONFIRMED, /* a 2xx was sent or received */
	SIP_DIALOG_TERMINATED,
};

struct sip_dialog {
	enum sip_dialog_state state;
	bool uac;	/* we sent the request that created it */
	bool secure;	/* SIPS Request-URI over TLS (§12.1.1) */
	char call_id[SIP_DIALOG_ID_MAX];
	char local_tag[SIP_DIALOG_ID_MAX], remote_tag[SIP_DIALOG_ID_MAX];
	char local_uri[SIP_DIALOG_URI_MAX], remote_uri[SIP_DIALOG_URI_MAX]; /* From/To URIs */
	char remote_target[SIP_DIALOG_URI_MAX];				  /* the peer's Contact URI */
	char routes[SIP_DIALOG_ROUTES_MAX]; /* route set values, each NUL-terminated, at route_off[] */
	uint16_t route_off[SIP_DIALOG_MAX_ROUTES];
	unsigned nroutes;
	bool first_route_lr; /* the first route is a loose router (;lr) */
	uint32_t local_seq;  /* last CSeq we used (0: none yet) */
	uint32_t remote_seq; /* last CSeq the peer used */
	bool remote_seq_set;
	/* RFC 3262: the last RSeq received (UAC), the last one sent (UAS). */
	uint32_t rseq_in, rseq_out;
	bool rseq_in_set;
};

/* UAC (§12.1.2): from the INVITE we sent and a 1xx carrying a To tag or a
 * 2xx. The route set is the response's Record-Route in reverse; the remote
 * target its Contact. Returns 0, SIP_EINVAL (no To tag, not 101-299, no
 * Contact: a dialog with no target could send nothing; a 1xx without one
 * makes no early dialog, the 2xx will), SIP_ETOOBIG (a field past its cap). */
SIP_API int sip_dialog_uac_create(struct sip_dialog *d, const struct sip_msg *req, const struct sip_msg *resp);
/* UAS (§12.1.1): from the request received and the tag we put in our To.
 * The route set is its Record-Route in order; the remote target its
 * Contact; the dialog is early until sip_dialog_confirm(). */
SIP_API int sip_dialog_uas_create(struct sip_dialog *d, const struct sip_msg *req, struct sip_str local_tag);
/* UAS: our 2xx to the creating request went out. */
SIP_API void sip_dialog_confirm(struct sip_dialog *d);

/* Whether msg belongs to d: same Call-ID, and local/remote tags matching
 * From/To as seen from our side (a request from the peer has its tag in
 * From; a response to us has its tag in To). */
SIP_API bool sip_dialog_matches(const struct sip_dialog *d, const struct sip_msg *msg);

/* UAC: a response to a request we sent in the dialog (or to the creating
 * INVITE). A 2xx to the INVITE confirms an early dialog and recomputes its
 * route set (§13.2.2.4); a 2xx to a target refresh (re-INVITE, UPDATE)
 * takes its Contact as remote target (§12.2.1.2); a non-2xx final to the
 * creating INVITE terminates an early dialog; a 481/408 to any request
 * ends it (§12.2.1.2). Returns 0 or SIP_ETOOBIG. */
SIP_API int sip_dialog_on_response(struct sip_dialog *d, const struct sip_msg *resp);

/* A request from the peer within d (§12.2.2). Returns 0 when it may be
 * processed — the remote CSeq advanced, a target refresh took its Contact,
 * a BYE terminated d — or the status to answer: 500 (CSeq lower than one
 * already seen: out of order), 400 (a target refresh without a usable
 * Contact). ACK and CANCEL carry the INVITE's CSeq and are not checked. */
SIP_API int sip_dialog_on_request(struct sip_dialog *d, const struct sip_msg *req);

/* Writes a request within d (§12.2.1.1): Request-URI the remote target (or,
 * behind a strict router, the first route, with the remote target as the
 * last Route), To/From with the tags, Call-ID, CSeq (the next local one;
 * for ACK and CANCEL pass the INVITE's in cseq, else 0), the route set as
 * Route, Max-Forwards 70, then via (our Via value), contact (our Contact
 * URI, for target refreshes; may be empty), extra (header lines ending in
 * CRLF; may be empty) and the body. Returns the length, SIP_EINVAL
 * (terminated dialog, no method), SIP_ETOOBIG. */
struct sip_dialog_req {
	struct sip_str method; /* "BYE", "UPDATE", "INFO", ... */
	uint32_t cseq;	       /* ACK/CANCEL: the INVITE's CSeq; 0: the next local one */
	struct sip_str via, contact, extra, content_type, body;
};
SIP_API int sip_dialog_request(struct sip_dialog *d, const struct sip_dialog_req *r, char *out, size_t cap);

/* The Request-URI of our next request in d (§12.2.1.1): the remote target,
 * or behind a strict router the first route's URI; without ?headers. Empty
 * when d has no target (or its strict route does not parse). Points into d. */
SIP_API struct sip_str sip_dialog_request_uri(const struct sip_dialog *d);

/* RFC 3262, UAC: a reliable provisional response (Require: 100rel and an
 * RSeq) in d. Returns 1 when it must be PRACKed (the first, or RSeq one
 * higher than the last: *rack gets "RSeq CSeq METHOD"), 0 when it is a
 * retransmission or out of order (ignored, §4), SIP_EINVAL when it is not
 * reliable or its RSeq is malformed. */
SIP_API int sip_dialog_prack_needed(struct sip_dialog *d, const struct sip_msg *resp, char *rack, size_t cap);
/* RFC 3262, UAS: the RSeq for our next reliable provisional (starts at a
 * random-looking value from seed, then +1, §3). */
SIP_API uint32_t sip_dialog_next_rseq(struct sip_dialog *d, uint32_t seed);
/* RFC 3262, UAS: whether a PRACK's RAck names our last reliable provisional
 * (rseq_out, the INVITE's CSeq number and method); a mismatch is 481. */
SIP_API bool sip_dialog_rack_matches(const struct sip_dialog *d, const struct sip_msg *prack, uint32_t invite_cseq);

#ifdef __cplusplus
}
#endif
#endif
