/* worker.h — private: one worker thread = one libuv loop with one stack (its
 * own SO_REUSEPORT sockets on every listen address, its own transaction
 * layer). Workers share nothing mutable; the kernel spreads datagrams and
 * connections over their sockets by 4-tuple hash, so retransmissions of a
 * request reach the worker that owns its transaction. */
#ifndef SIP_SERVER_WORKER_H
#define SIP_SERVER_WORKER_H

#include <sip/auth.h>
#include <sip/location.h>
#include <sip/rand.h>
#include <sip/registrar.h>
#include <sip/server.h>
#include <sip/stack.h>
#include <uv.h>

/* State every worker uses, made once by the main thread. */
struct sip__shared {
	struct sip_auth_server *auth;        /* thread-safe nonce + nc checks */
	struct sip_location_share *memory;   /* the in-memory store, when configured */
	bool require_auth;                   /* the effective registration policy */
	struct sip__worker *workers;         /* all of them: a response may belong to another's branch */
	unsigned nworkers;
	struct sip__flows *flows;            /* which worker holds each inbound connection (flows.c) */
};

/* The directory of inbound connections by peer address (flows.c). update
 * has the shape of sip_transport_config.on_conn (ud = the directory); find
 * returns the connection id (0: none), whose high bits name its worker. */
struct sip__flows;
int sip__flows_new(struct sip__flows **out);
void sip__flows_free(struct sip__flows *f);
void sip__flows_update(void *ud, uint64_t conn, enum sip_tp_type type, const struct sockaddr *peer, bool up);
uint64_t sip__flows_find(struct sip__flows *f, enum sip_tp_type type, const struct sockaddr *peer);

struct sip__handoff_msg;

/* A 200 to a REGISTER held until its batch is committed (SQLite store). */
struct sip__held {
	struct sip__held *next;
	struct sip_txn *txn;
	size_t len, reqlen;
	char *req;   /* the request's bytes, to build a 500 if the commit fails */
	char resp[]; /* the response */
};

struct sip__worker {
	unsigned id;
	char name[24];             /* "worker 0", for logs */
	const struct sip_server_config *cfg;
	uv_loop_t loop;
	uv_thread_t thread;
	uv_async_t stop;
	uv_async_t report;         /* SIGUSR1: log the counters (signals.c) */
	uv_async_t reload;         /* SIGHUP: read the TLS files again (signals.c) */
	struct sip_stack *stack;
	const struct sip__shared *shared;
	/* Registrar: this worker's store handle, credentials and registrar. */
	struct sip_location *loc;
	struct sip_users *users;
	struct sip_registrar *reg;
	struct sip_ratelimit *auth_failures; /* per source: the guard against password guessing */
	bool closing;              /* shutting down: the proxy sends nothing more */
	bool batching;             /* SQLite: REGISTERs share commits (register.c) */
	bool in_batch, batch_failed;
	unsigned batch_n;          /* REGISTERs in the open batch */
	struct sip__held *held, **held_tail;
	/* REGISTER answers sent, for SIGUSR1 (signals.c). */
	struct {
		uint64_t ok, challenged, forbidden, other_4xx, failed;
	} reg_answers;
	uv_check_t flush;          /* commits the batch after the loop's I/O phase */
	uv_timer_t window;         /* commits the batch when commit_window_ms is up */
	uv_timer_t purge;          /* expired bindings (worker 0) */
	struct sip_rand rng;       /* tags */
	/* Hosts of the listen addresses, parsed once: requests naming one of
	 * them (or a domain) are for us. */
	char listen_hosts[SIP_SERVER_MAX_LISTEN][SIP_TP_HOST_MAX];
	unsigned nlisten_hosts;
	uint16_t listen_ports[SIP_SERVER_MAX_LISTEN]; /* bound ports, for Route values naming us */
	/* Proxy: next-hop lookups (RFC 3263), and responses other workers
	 * received for this worker's branches (proxy_stateless.c). */
	struct sip_resolver *resolver;
	uv_async_t handoff;
	uv_mutex_t handoff_lock;
	struct sip__handoff_msg *handoff_head, **handoff_tail;
	bool handoff_closed;
	char out[SIP_TP_DGRAM_MAX]; /* response being built */
	/* A request from a strict router, rewritten as a loose one (core.c). */
	char unstrict[SIP_TP_DGRAM_MAX];
	struct sip_msg unstrict_msg;
};

/* Opens the worker's loop, stack and listeners (on the calling thread, before
 * the thread starts). ports[i] gives the port for listen spec i (0: from the
 * spec); on return it holds the bound port so later workers share it. */
int sip__worker_open(struct sip__worker *w, unsigned id, const struct sip_server_config *cfg,
		     const struct sip__shared *shared, uint16_t *ports, char *err, size_t errcap);
/* Logs the worker's counters (signals.c); on its own thread. */
void sip__worker_report(struct sip__worker *w);
/* Reads the TLS certificate, key and CA files again (signals.c); on its own thread. */
void sip__worker_reload_tls(struct sip__worker *w);
/* Runs the loop until stopped; the thread entry. */
void sip__worker_main(void *arg);
/* Releases what sip__worker_open made when the thread never ran. */
void sip__worker_abandon(struct sip__worker *w);

/* The request core (core.c): answers a request arriving in server txn t. */
void sip__core_on_request(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req);
/* Answers t with a bare response of status code (Allow on 405/501). */
void sip__core_reply(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req, int code);
/* The first Route value of req after the first `skip` ones, parsed into
 * *out (pointing into req): 1; 0 when there is none; SIP_EPARSE. */
int sip__route_after(const struct sip_msg *req, unsigned skip, struct sip_uri *out);
/* Logs that source address sa ran out of failed authentications (once per
 * run of refusals: the guard's first_refusal). */
void sip__log_guard(const struct sip__worker *w, const void *sa);
/* The realm whose Proxy-Authorization the proxy verified on req (our
 * user's, authentication required), so the forwarded copy drops those
 * credentials (§22.3); empty when none. */
struct sip_str sip__consumed_realm(const struct sip__worker *w, const struct sip_msg *req);
/* Events of the transactions ACK and stray responses (worker.c routes them). */
void sip__core_on_ack(struct sip__worker *w, const struct sip_msg *ack);

/* The stateful proxy (proxy.c). forward: proxies req (server txn t) to
 * targets — the bindings of its AOR — or, targets NULL, to its own
 * Request-URI; pop_routes leading Route values named us. cancel: a CANCEL
 * for INVITE txn inv; false when inv is not a proxied call. txn_event: the
 * events of the proxy's transactions (those with udata). */
void sip__proxy_forward(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req, unsigned pop_routes,
			const struct sip_binding_list *targets);
bool sip__proxy_cancel(struct sip__worker *w, struct sip_txn *inv);
void sip__proxy_txn_event(struct sip__worker *w, struct sip_txn *t, enum sip_txn_event ev, const struct sip_msg *msg);
/* Stateless forwarding (proxy_stateless.c): a response matching no client
 * transaction (or the owning worker's, through its handoff queue), and an
 * ACK for a 2xx towards hop. */
void sip__proxy_on_stray(struct sip__worker *w, const struct sip_msg *resp);

void sip__proxy_ack(struct sip__worker *w, const struct sip_msg *ack, unsigned pop_routes, const struct sip_uri *hop);
/* A message for a stream connection another worker owns (an RFC 5626 flow
 * or a NAT binding accepted there): queued to it (the stack's
 * send_elsewhere hook; ctx is the worker). SIP_ENOTFOUND when no other
 * worker owns that connection id. */
int sip__proxy_send_elsewhere(void *ctx, struct sip_stack *s, const char *bytes, size_t len,
			      const struct sip_txn_dest *dest);
/* Connection ids of worker `id` start above this base, so an id names its worker. */
static inline uint64_t sip__worker_conn_base(unsigned id)
{
	return (uint64_t)(id + 1) << 48;
}
/* The worker a connection id names (sip__worker_conn_base), or -1 for 0. */
static inline int sip__conn_worker(uint64_t conn)
{
	return (int)(conn >> 48) - 1;
}
void sip__proxy_handoff_open(struct sip__worker *w);
void sip__proxy_handoff_close(struct sip__worker *w);

/* Registrar glue (register.c). open: the worker's store, users and registrar;
 * close: commits what is pending and releases them. */
int sip__register_open(struct sip__worker *w, char *err, size_t errcap);
void sip__register_close(struct sip__worker *w);
/* Handles a REGISTER; false when its Request-URI is not one of our domains. */
bool sip__register_on_request(struct sip__worker *w, struct sip_txn *t, const struct sip_msg *req,
			      const struct sip_txn_dest *src);
/* Random lower-case hex tag (To tags, etc.), NUL-terminated; returns its length. */
size_t sip__worker_tag(struct sip__worker *w, char *out, size_t cap);

#endif
