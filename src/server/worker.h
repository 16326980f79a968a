/* worker.h — private: one worker thread = one libuv loop with one stack (its
 * own SO_REUSEPORT sockets on every listen address, its own transaction
 * layer). Workers share nothing mutable; the kernel spreads datagrams and
 * connections over their sockets by 4-tuple hash, so retransmissions of a
 * request reach the worker that owns its transaction. */
#ifndef SIP_SERVER_WORKER_H
#define SIP_SERVER_WORKER_H

#include <sip/server.h>
#include <sip/stack.h>
#include <uv.h>

struct sip__worker {
	unsigned id;
	char name[24];             /* "worker 0", for logs */
	const struct sip_server_config *cfg;
	uv_loop_t loop;
	uv_thread_t thread;
	uv_async_t stop;
	struct sip_stack *stack;
	uint64_t rng;              /* xorshift state for tags */
	char out[SIP_TP_DGRAM_MAX]; /* response being built */
};

/* Opens the worker's loop, stack and listeners (on the calling thread, before
 * the thread starts). ports[i] gives the port for listen spec i (0: from the
 * spec); on return it holds the bound port so later workers share it. */
int sip__worker_open(struct sip__worker *w, unsigned id, const struct sip_server_config *cfg, uint16_t *ports,
		     char *err, size_t errcap);
/* Runs the loop until stopped; the thread entry. */
void sip__worker_main(void *arg);
/* Releases what sip__worker_open made when the thread never ran. */
void sip__worker_abandon(struct sip__worker *w);

/* The request core (core.c): answers a request arriving in server txn t. */
void sip__core_on_request(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req);
/* Random lower-case hex tag (To tags, etc.), NUL-terminated; returns its length. */
size_t sip__worker_tag(struct sip__worker *w, char *out, size_t cap);

#endif
