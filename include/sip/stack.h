/* stack.h — an endpoint's transport and transaction layer on one libuv loop:
 * the glue every SIP element needs and no protocol logic of its own.
 *
 * Received messages go through the transport (framing, Via stamping, stateless
 * 400/513 for bad input) into the transaction layer; the layer's sends go out
 * through the transport; one uv timer follows the layer's next deadline. The
 * transaction user (sipd's request core, the UA) sees only transaction events.
 * One stack belongs to one loop and its thread. */
#ifndef SIP_STACK_H
#define SIP_STACK_H

#include <sip/resolver.h>
#include <sip/transport.h>
#include <sip/txn.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sip_stack;

struct sip_stack_config {
	/* Transport settings (limits, TLS, MTU, reuseport). on_recv, on_error
	 * and ud are the stack's own and are overwritten. */
	struct sip_transport_config tp;
	struct sip_txn_config txn;
	/* Transaction events for the TU (see enum sip_txn_event). */
	void (*tu_event)(void *ctx, struct sip_stack *s, struct sip_txn *txn, enum sip_txn_event ev,
			 const struct sip_msg *msg);
	void *ctx;
	const char *name; /* prefix of log lines ("worker 0") */
	/* Optional: a message for connection dest->conn, which this stack's
	 * transport does not have (another thread's transport may: see
	 * sip_transport_config.conn_id_base). Returns 0 when it took the bytes,
	 * SIP_ENOTFOUND to let the stack open a new connection to dest's
	 * address (§18.2.2), or another error for the sender. */
	int (*send_elsewhere)(void *ctx, struct sip_stack *s, const char *bytes, size_t len,
			      const struct sip_txn_dest *dest);
};

/* Creates a stack on loop. Returns 0, SIP_EINVAL, SIP_ENOMEM or the
 * transport's/transaction layer's error (SIP_ECONFIG for bad TLS files). */
SIP_API int sip_stack_new(struct sip_stack **out, uv_loop_t *loop, const struct sip_stack_config *cfg);
/* Terminates every transaction (the TU gets their TERMINATED events), closes
 * the transport and the timer; memory is freed once the loop has run the
 * close callbacks. */
SIP_API void sip_stack_close(struct sip_stack *s);

SIP_API struct sip_transport *sip_stack_transport(struct sip_stack *s);
SIP_API struct sip_txn_layer *sip_stack_txns(struct sip_stack *s);
SIP_API uv_loop_t *sip_stack_loop(struct sip_stack *s);
/* The loop's current time in milliseconds (the clock protocol code gets). */
SIP_API sip_ms_t sip_stack_now(const struct sip_stack *s);

/* sip_txn_respond() on t, then re-arms the stack's timer. */
SIP_API int sip_stack_respond(struct sip_stack *s, struct sip_txn *t, const char *bytes, size_t len);
/* sip_txn_client_new() for req to dest, then re-arms the timer. tls_name: the
 * name a TLS peer's certificate must match (RFC 5922) when this request opens
 * the connection; NULL checks the IP address. */
SIP_API int sip_stack_request(struct sip_stack *s, const struct sip_msg *req, const struct sip_txn_dest *dest,
			      const char *tls_name, struct sip_txn **out);
/* Sends bytes outside any transaction (ACK for a 2xx, stateless replies). */
SIP_API int sip_stack_send(struct sip_stack *s, const char *bytes, size_t len, const struct sip_txn_dest *dest);
/* sip_stack_send() on this stack's own transport only (never through
 * send_elsewhere): for a message another thread handed over to send. */
SIP_API int sip_stack_send_here(struct sip_stack *s, const char *bytes, size_t len, const struct sip_txn_dest *dest);
/* Re-arms the timer at the transaction layer's next deadline (after calling
 * the transaction layer directly). */
SIP_API void sip_stack_rearm(struct sip_stack *s);

/* Fills a transaction destination from a socket address (port included). */
SIP_API void sip_txn_dest_set(struct sip_txn_dest *d, const struct sockaddr *sa, enum sip_tp_type type, uint64_t conn);

/* Fills a transaction destination for a located target (RFC 3263): its
 * address and port, and its transport. Returns the transport. */
SIP_API enum sip_tp_type sip_txn_dest_from_target(struct sip_txn_dest *d, const struct sip_target *t);

#ifdef __cplusplus
}
#endif
#endif
