/* proxy.h — the message side of a stateful proxy (RFC 3261 §16), with no
 * I/O: the forwarded copy of a request (§16.6), a response passed upstream
 * (§16.7 step 9), the choice of the best final response (§16.7 step 6), and
 * branch ids that name the worker thread that owns the client transaction
 * (a branch's CANCEL is sip_build_cancel(), sip/print.h). sipd's worker glue
 * (src/server/proxy.c) does the routing, the transactions and the sockets. */
#ifndef SIP_PROXY_H
#define SIP_PROXY_H

#include <sip/clock.h>
#include <sip/msg.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIP_PROXY_MAX_BRANCHES 16 /* targets one request is forked to */
#define SIP_PROXY_BRANCH_MAX 64	  /* bytes of a branch id we make, with NUL */
#define SIP_PROXY_MAX_WORKER 255  /* highest worker number a branch id can carry */
#define SIP_PROXY_DEFAULT_MAX_FORWARDS 70
#define SIP_PROXY_DEFAULT_MAX_BREADTH 60 /* RFC 5393 §5.3.1, when a request has none */
#define SIP_PROXY_MAX_MAX_BREADTH 1000	 /* larger received values count as this */
#define SIP_PROXY_LOOP_HASH_LEN 16	 /* hex digits of the loop-detection hash */
#define SIP_PROXY_ADDED_LINES 9u	 /* header lines sip_proxy_forward may add */
#define SIP_PROXY_URI_MAX 2048		 /* longest Request-URI moved into a Route (strict routing) */

/* How a request is changed on its way to one target (§16.6). */
struct sip_proxy_fwd {
	struct sip_str ruri;		/* new Request-URI (step 2); empty keeps the request's */
	struct sip_str via;		/* our Via value, put on top (step 8) */
	struct sip_str record_route[2]; /* values added on top of Record-Route (step 4), [0] topmost; empty: none */
	struct sip_str route_pre;	/* Route values put before the request's own (step 6: a binding's Path,
					   RFC 3327 §5.3); empty: none */
	unsigned pop_routes;		/* leading Route values that name us, removed (§16.4) */
	struct sip_str path;		/* REGISTER: value added on top of Path (RFC 3327 §5.1), keeping us on
					   the path of requests to the registering UA; empty: none */
	unsigned max_breadth;		/* > 0: the Max-Breadth this branch gets (RFC 5393 §5.3.3), replacing
					   the request's; 0: the request's left as it is */
	struct sip_str consume_realm;	/* Proxy-Authorization values with Digest credentials for this realm
					   (ours, verified) are removed (§22.3): the next hops never see our
					   users' digests; empty: all kept */
};

/* Writes the forwarded copy of req: the edits of f, Max-Forwards one lower
 * (70 added when absent, step 3), every other byte as received. When the
 * next Route value (after pop_routes, no route_pre) is a strict router (no
 * ;lr, step 6), its URI becomes the Request-URI and the Request-URI the last
 * Route value. Returns the length; SIP_EINVAL (not a request, Max-Forwards
 * already 0, fewer Route values than pop_routes, a value with a line break);
 * SIP_EPARSE (that Route value does not parse); SIP_ETOOBIG. */
SIP_API int sip_proxy_forward(const struct sip_msg *req, const struct sip_proxy_fwd *f, char *out, size_t cap);

/* Writes resp without its top Via value (the one this proxy added), every
 * other byte unchanged: what goes upstream (§16.7 step 9). Returns the
 * length; SIP_EINVAL when resp is not a response or has a single Via (it was
 * meant for us, not to be relayed); SIP_ETOOBIG. */
SIP_API int sip_proxy_response_up(const struct sip_msg *resp, char *out, size_t cap);

/* Writes resp with every WWW-Authenticate and Proxy-Authenticate value of
 * other added, unmodified (§16.7 step 7: the 401/407 a forking proxy relays
 * carries the challenges of all its branches). Returns the length,
 * SIP_ETOOBIG (also past the editor's or the parser's line caps),
 * SIP_EINVAL. */
SIP_API int sip_proxy_add_challenges(const struct sip_msg *resp, const struct sip_msg *other, char *out, size_t cap);

/* Whether final status `cand` should replace `best` (0: none yet) as the
 * response a forked request ends with (§16.7 step 6): any 6xx over the
 * rest, else the lowest class; within a class the first one stays, except
 * that 401/407 challenges are kept over other 4xx (the caller can answer
 * them) and 503 loses to other 5xx. */
SIP_API bool sip_proxy_better(int best, int cand);

/* The status a proxy sends upstream for a best response `status` (§16.7
 * step 6: a 503 from downstream becomes 500, so the client does not take
 * the proxy itself for overloaded). */
SIP_API int sip_proxy_upstream_status(int status);

/* Writes a branch id for a request forwarded by worker `worker`:
 * "z9hG4bK" (§8.1.1.7) "-sd" <worker> "-" <token>. token: random, or a hash
 * of the request for a stateless forward (an ACK for a 2xx). Returns the
 * length, SIP_EINVAL (worker too high, token not a token), SIP_ETOOBIG. */
SIP_API int sip_proxy_branch(unsigned worker, struct sip_str token, char *out, size_t cap);
/* The worker number a branch id made by sip_proxy_branch() carries, or -1
 * when the branch is not one of ours. */
SIP_API int sip_proxy_branch_worker(struct sip_str branch);

/* ---- Loops and amplification (RFC 5393) ---- */

/* The loop-detection hash of req (§16.6 step 8 as corrected by RFC 5393
 * §4.2): over the Request-URI, From and To tags, Call-ID, CSeq number,
 * Route, Proxy-Require and Proxy-Authorization as received; not the top
 * Via, Max-Forwards or Max-Breadth, nor the Proxy-Authorization values for
 * consumed_realm (empty: none), which the forwarded copy loses
 * (sip_proxy_fwd.consume_realm). Hex, NUL-terminated. A proxy that
 * detects loops makes its branch ids with sip_proxy_branch(worker,
 * "<hash>.<random>"). */
SIP_API void sip_proxy_loop_hash(const struct sip_msg *req, struct sip_str consumed_realm,
				 char out[SIP_PROXY_LOOP_HASH_LEN + 1]);
/* The loop hash in a branch id made that way; empty for any other branch. */
SIP_API struct sip_str sip_proxy_branch_loop_hash(struct sip_str branch);

/* Whether a Via value was put there by this proxy (its sent-by is one of
 * our listeners). */
typedef bool (*sip_proxy_via_ours_fn)(void *ud, const struct sip_via *via);
/* §16.3 step 4: 1 when req is a loop — a Via value that `ours` accepts
 * carries a loop hash (sip_proxy_loop_hash with consumed_realm) equal to
 * req's (a copy of this very request came back:
 * answer 482); 0 when it is not (no such Via, or a spiral: the request was
 * retargeted on its way back); SIP_EPARSE when the Via list does not split;
 * SIP_EINVAL. */
SIP_API int sip_proxy_loop_check(const struct sip_msg *req, struct sip_str consumed_realm, sip_proxy_via_ours_fn ours,
				 void *ud);

/* The Incoming Max-Breadth of req (RFC 5393 §5.3.1): its Max-Breadth
 * value (capped at SIP_PROXY_MAX_MAX_BREADTH), SIP_PROXY_DEFAULT_MAX_BREADTH
 * when it has none, SIP_EPARSE when the value is not 1*DIGIT (answer 400).
 * 0 means no branch may be sent (answer 440). */
SIP_API int sip_proxy_max_breadth(const struct sip_msg *req);

/* ---- The fork: what one proxied request decides (§16.7, §16.8, §16.10) ----
 * Sans-I/O: the caller feeds it the events of the request's branches and
 * does what the returned struct sip_proxy_out says (relay, keep, answer,
 * CANCEL); time is an argument. Timer C (§16.6 step 11) is a deadline the
 * caller arms (sip_proxy_fork_deadline) and reports (sip_proxy_fork_timer).
 * The best final follows sip_proxy_better(), except that within a class a
 * response from downstream replaces one made here (408, 503, 482). */

#define SIP_PROXY_TIMER_C_MS 180000u /* "greater than 3 minutes" */

struct sip_proxy_branch_state {
	bool done;	    /* has its final status */
	bool provisional;   /* a 1xx came: it may be CANCELled (§9.1) */
	bool cancel_wanted; /* CANCEL it as soon as a provisional comes */
	bool cancel_sent;   /* its CANCEL went out (one per branch, §9.1) */
	int status;	    /* its final status, 0 while pending */
	unsigned breadth;   /* its share of the Max-Breadth while it is out (RFC 5393 §5.3.3) */
};

struct sip_proxy_fork {
	unsigned n, pending;
	unsigned started;  /* branches [0, started) have been started */
	unsigned group_end; /* the current q group is [.., group_end) */
	unsigned breadth;   /* Incoming Max-Breadth: the most the branches out at once may share */
	int32_t q[SIP_PROXY_MAX_BRANCHES]; /* q-values in thousandths, highest first */
	bool invite, final_sent, cancelled, timer_c_fired;
	int best;	 /* best final status so far (0: none) */
	int best_branch; /* the branch that sent it, -1 when it was made here */
	uint32_t timer_c_ms, grace_ms;
	sip_ms_t deadline; /* Timer C, SIP_MS_NEVER when off */
	sip_ms_t last_now; /* time of the last event that carried one */
	struct sip_proxy_branch_state br[SIP_PROXY_MAX_BRANCHES];
};

/* What to do after an event. */
struct sip_proxy_out {
	bool relay;	       /* send this response upstream now (a provisional, a 2xx) */
	bool keep;	       /* keep this response: it is the best final so far */
	int final_status;      /* > 0: answer upstream now with this status ... */
	bool final_from_kept;  /* ... by relaying the kept response (else build one) */
	uint32_t cancel_mask;  /* bit i: send CANCEL on branch i now */
	unsigned start_from, start_to; /* start branches [start_from, start_to) now */
};

/* A fork of n branches (1..SIP_PROXY_MAX_BRANCHES), tried by q-value
 * (§16.6, RFC 3261 §20.10): q[i] of branch i in thousandths, highest first
 * (-1: none, taken as 1.0); branches of equal q run in parallel, a lower
 * group starts only when every branch started so far failed (not on a 2xx,
 * a 6xx or a CANCEL). q NULL: all in parallel. out says which to start now.
 * max_breadth (RFC 5393 §5.3; 0: SIP_PROXY_DEFAULT_MAX_BREADTH) caps the
 * branches out at once: a group larger than it starts that many, one more
 * as each ends; each started branch's br[i].breadth is the Max-Breadth to
 * send it with (the branches out share max_breadth, at least 1 each).
 * Timer C runs for an INVITE from now (timer_c_ms, 0: SIP_PROXY_TIMER_C_MS);
 * grace_ms is how long CANCELled branches get to answer after it fires. */
SIP_API void sip_proxy_fork_init(struct sip_proxy_fork *f, unsigned n, const int32_t *q, bool invite,
				 sip_ms_t now, uint32_t timer_c_ms, uint32_t grace_ms, unsigned max_breadth,
				 struct sip_proxy_out *out);
/* A response on branch i (status 100..699). A 2xx after the branch's own
 * 2xx is a retransmission: relayed. */
SIP_API void sip_proxy_fork_response(struct sip_proxy_fork *f, unsigned i, int status, sip_ms_t now,
				     struct sip_proxy_out *out);
/* Branch i ended without a response from downstream: status 408 (timeout),
 * 503 (no next hop reachable), 482 (the next hop is us) ... */
SIP_API void sip_proxy_fork_failed(struct sip_proxy_fork *f, unsigned i, int status, struct sip_proxy_out *out);
/* A CANCEL from upstream (§16.10). */
SIP_API void sip_proxy_fork_cancel(struct sip_proxy_fork *f, struct sip_proxy_out *out);
/* Timer C fired (call when now >= the deadline). */
SIP_API void sip_proxy_fork_timer(struct sip_proxy_fork *f, sip_ms_t now, struct sip_proxy_out *out);
/* Timer C's deadline, SIP_MS_NEVER when nothing waits on it. */
SIP_API sip_ms_t sip_proxy_fork_deadline(const struct sip_proxy_fork *f);

#ifdef __cplusplus
}
#endif
#endif
