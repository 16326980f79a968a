/* worker.h — private: one worker thread = one libuv loop, one transport (its
 * own SO_REUSEPORT sockets on every listen address), one transaction layer.
 * Workers share nothing mutable; the kernel spreads datagrams and
 * connections over their sockets by 4-tuple hash, so retransmissions of a
 * request reach the worker that owns its transaction. */
#ifndef SIP_SERVER_WORKER_H
#define SIP_SERVER_WORKER_H

#include <sip/server.h>
#include <sip/transport.h>
#include <sip/txn.h>
#include <uv.h>

struct sip__worker {
	unsigned id;
	const struct sip_server_config *cfg;
	uv_loop_t loop;
	uv_thread_t thread;
	uv_async_t stop;
	uv_timer_t txn_timer;
	struct sip_transport *tp;
	struct sip_txn_layer *txns;
	uint64_t rng;              /* xorshift state for tags */
	bool stopping;
	/* The request being handled, with its top Via stamped (received/rport),
	 * so responses built from it carry those parameters (§18.2.1). */
	char stamped[SIP_TP_DGRAM_MAX + 512];
	struct sip_msg smsg;
	char out[SIP_TP_DGRAM_MAX]; /* response being built */
};

/* Opens the worker's loop, transport and listeners (on the calling thread,
 * before the thread starts). ports[i] gives the port for listen spec i (0:
 * from the spec); on return it holds the bound port so later workers share it. */
int sip__worker_open(struct sip__worker *w, unsigned id, const struct sip_server_config *cfg, uint16_t *ports,
		     char *err, size_t errcap);
/* Runs the loop until stopped; the thread entry. */
void sip__worker_main(void *arg);
/* Releases what sip__worker_open made when the thread never ran. */
void sip__worker_abandon(struct sip__worker *w);

/* The request core (core.c): answers a request arriving in server txn t. */
void sip__core_on_request(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req);
/* Sends a response built in w->out on t; logs failures. */
void sip__core_respond(struct sip__worker *w, struct sip_txn *t, int len);
/* Random lower-case hex tag (To tags, etc.), NUL-terminated; returns its length. */
size_t sip__worker_tag(struct sip__worker *w, char *out, size_t cap);
/* Re-arms the worker's single transaction timer at the layer's next deadline. */
void sip__worker_rearm(struct sip__worker *w);

#endif
