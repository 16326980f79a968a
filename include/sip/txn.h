/* txn.h — the transaction layer (RFC 3261 §17, with the RFC 6026 fixes):
 * the four state machines ICT, NICT, IST, NIST, timers A–M, and matching of
 * incoming messages to transactions (§17.1.3, §17.2.3, with the RFC 2543
 * fallback).
 *
 * Sans-I/O: the layer never touches sockets or reads the clock. Every entry
 * point takes `now` (milliseconds, from the clock seam in sip/clock.h);
 * outputs are callbacks: send(bytes, dest) for the transport and tu_event()
 * for the transaction user. The event loop arms a single timer at
 * sip_txn_next_deadline() and calls sip_txn_process_timers() when it fires.
 *
 * Re-entrancy: from inside a callback the TU may call sip_txn_respond(),
 * sip_txn_client_new() and the accessors. A transaction stays valid until its
 * SIP_TXN_EV_TERMINATED event has returned; it must not be used afterwards.
 * One layer belongs to one thread. */
#ifndef SIP_TXN_H
#define SIP_TXN_H

#include <sip/clock.h>
#include <sip/msg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Named caps. */
#define SIP_TXN_MAX_BRANCH 255          /* bytes of a Via branch kept as key */
#define SIP_TXN_MAX_HOST 255            /* bytes of a Via sent-by host kept as key */
#define SIP_TXN_MAX_METHOD 255         /* bytes of an extension method name kept as key (RFC 4475 intmeth: 43) */
#define SIP_TXN_MAX_MSG (1u << 20)      /* bytes of a request/response a txn keeps */
#define SIP_TXN_DEFAULT_MAX_TXNS (1u << 22) /* concurrent transactions per layer */
#define SIP_TXN_DEST_ADDR_MAX 28        /* room for a struct sockaddr_in6 */

/* RFC 3261 timer base values (§17.1.1.1, Table 4), all in milliseconds. */
struct sip_txn_config {
	uint32_t t1_ms;      /* RTT estimate; default 500 */
	uint32_t t2_ms;      /* max non-INVITE/response retransmit interval; default 4000 */
	uint32_t t4_ms;      /* max time a message stays in the network; default 5000 */
	/* IST: send 100 Trying when the TU has not answered within this time
	 * (§17.2.1); default 200. 0: never — the TU sends provisionals itself. */
	uint32_t trying_ms;
	uint32_t max_txns;   /* cap on live transactions; default SIP_TXN_DEFAULT_MAX_TXNS */
	/* Seed of the table's hash (keys are attacker-chosen: pick it at random
	 * at start-up to defeat bucket flooding). */
	uint64_t hash_seed;
};

/* Fills c with the RFC 3261 defaults. */
SIP_API void sip_txn_config_default(struct sip_txn_config *c);

/* Where a message goes (or came from). Opaque to this layer except for
 * `reliable`: it is copied and handed back to send(). The transport fills it. */
struct sip_txn_dest {
	uint8_t addr[SIP_TXN_DEST_ADDR_MAX]; /* e.g. a sockaddr_in/_in6 */
	uint8_t addr_len;
	uint8_t transport;   /* transport's own code (UDP, TCP, TLS, ...) */
	bool reliable;       /* TCP/TLS/SCTP/WS: no retransmissions, timers D/I/J/K = 0 */
	uint64_t conn;       /* connection handle for stream transports, 0 if none */
	uint8_t flags;       /* transport's send flags (e.g. retry over UDP), passed back to send() */
	void *local;         /* transport's handle of the local socket to send from, or NULL */
};

enum sip_txn_kind {
	SIP_TXN_ICT = 1, /* INVITE client transaction, §17.1.1 */
	SIP_TXN_NICT,    /* non-INVITE client transaction, §17.1.2 */
	SIP_TXN_IST,     /* INVITE server transaction, §17.2.1 */
	SIP_TXN_NIST,    /* non-INVITE server transaction, §17.2.2 */
};

enum sip_txn_state {
	SIP_TXN_CALLING = 1, /* ICT */
	SIP_TXN_TRYING,      /* NICT, NIST */
	SIP_TXN_PROCEEDING,
	SIP_TXN_COMPLETED,
	SIP_TXN_CONFIRMED,   /* IST */
	SIP_TXN_ACCEPTED,    /* ICT, IST (RFC 6026) */
	SIP_TXN_TERMINATED,
};

enum sip_txn_event {
	/* Client txn: a response for the TU — provisional, final, and (ICT in
	 * Accepted, RFC 6026) 2xx retransmissions. msg: the response. */
	SIP_TXN_EV_RESPONSE = 1,
	/* A new server txn was created for a request (txn is it; msg the
	 * request). CANCEL arrives this way too, in its own NIST: find the
	 * INVITE it cancels with sip_txn_find_cancel_target(). */
	SIP_TXN_EV_REQUEST,
	/* An ACK the layer does not absorb: an ACK for a 2xx, either matched to
	 * an IST in Accepted (txn set) or matching no transaction (txn NULL). */
	SIP_TXN_EV_ACK,
	/* A response matching no client transaction (txn NULL). A proxy
	 * forwards it statelessly (§16.7), a UAC core may see 2xx retransmissions. */
	SIP_TXN_EV_STRAY_RESPONSE,
	/* Timer B or F (client: no final response; 408 semantics, §8.1.3.1),
	 * or Timer H (IST: the ACK never came). msg NULL. */
	SIP_TXN_EV_TIMEOUT,
	/* The transport failed to send (§17.1.4, §17.2.4). msg NULL. */
	SIP_TXN_EV_TRANSPORT_ERROR,
	/* Last event of a txn: it is freed when the callback returns. msg NULL. */
	SIP_TXN_EV_TERMINATED,
};

struct sip_txn;
struct sip_txn_layer;

struct sip_txn_callbacks {
	/* Sends bytes to dest. Returns 0, or a negative error: the txn then
	 * reports SIP_TXN_EV_TRANSPORT_ERROR and terminates. Must not re-enter
	 * the layer. */
	int (*send)(void *ctx, struct sip_txn *txn, const char *bytes, size_t len,
		    const struct sip_txn_dest *dest);
	/* Tells the TU something happened; see enum sip_txn_event. txn may be
	 * NULL (stray response, ACK without txn). msg is valid only during the call. */
	void (*tu_event)(void *ctx, struct sip_txn *txn, enum sip_txn_event ev, const struct sip_msg *msg);
	void *ctx;
};

/* Creates a transaction table. cfg NULL uses the defaults. Returns 0,
 * SIP_EINVAL (missing callback, T1 = 0, T2 < T1) or SIP_ENOMEM. */
SIP_API int sip_txn_layer_new(struct sip_txn_layer **out, const struct sip_txn_config *cfg,
			      const struct sip_txn_callbacks *cb);
/* Destroys every transaction (each reports SIP_TXN_EV_TERMINATED) and the table. */
SIP_API void sip_txn_layer_free(struct sip_txn_layer *l);
/* Number of live transactions. */
SIP_API size_t sip_txn_layer_count(const struct sip_txn_layer *l);

/* Memory accounting, in bytes requested from the allocator seam. */
struct sip_txn_stats {
	size_t txns;        /* live transactions */
	size_t txn_bytes;   /* transaction structs with their inline keys */
	size_t msg_bytes;   /* kept requests/responses/ACKs (retransmit buffers) */
	size_t table_bytes; /* hash table buckets */
	size_t timer_bytes; /* timer heap array */
	size_t pool_bytes;  /* slabs mapped for transactions and kept messages (in use or spare) */
};
/* Fills *st with the current accounting. */
SIP_API void sip_txn_layer_stats(const struct sip_txn_layer *l, struct sip_txn_stats *st);
/* Gives back to the system the memory that ended transactions left spare and
 * that no transaction needed since the previous call. Call it about every
 * SIP_TXN_TRIM_MS: a burst's memory returns within two calls of its last
 * transaction ending; a steady load keeps reusing its memory. */
#define SIP_TXN_TRIM_MS 1000
SIP_API void sip_txn_layer_trim(struct sip_txn_layer *l);

/* Feeds one parsed message received from `source` (for a request: where its
 * responses go, chosen by the transport per §18.2.2). Matches it per §17.1.3 /
 * §17.2.3 and drives the matched machine, or creates a server transaction
 * (SIP_TXN_EV_REQUEST), or reports a stray response / ACK. msg->buf must hold
 * the raw bytes. Returns 0; SIP_EINVAL when the message lacks what matching
 * needs (top Via, CSeq, Call-ID, From, To); SIP_ETOOBIG/SIP_ENOMEM when no
 * server transaction could be created (the caller may answer 503 statelessly). */
SIP_API int sip_txn_on_message(struct sip_txn_layer *l, const struct sip_msg *msg,
			       const struct sip_txn_dest *source, sip_ms_t now);

/* Starts a client transaction for the request req (its bytes: req->buf,
 * req->len, copied) and sends it to dest. ICT for INVITE, NICT otherwise; ACK
 * is not a transaction (SIP_EINVAL). The top Via must carry a branch with the
 * z9hG4bK cookie. Returns 0 with *out set, SIP_EINVAL, SIP_ESTATE (a txn with
 * this branch and method exists), SIP_ETOOBIG, SIP_ENOMEM, or the send error
 * (then no transaction exists and no callback fired). */
SIP_API int sip_txn_client_new(struct sip_txn_layer *l, const struct sip_msg *req,
			       const struct sip_txn_dest *dest, sip_ms_t now, struct sip_txn **out);

/* Sends a response on a server transaction (bytes copied when they must be
 * retransmitted). The status is read from the status line. Returns 0,
 * SIP_EINVAL (not a server txn, not a response), SIP_ESTATE (a final response
 * was already sent, except 2xx re-sends in Accepted), SIP_ENOMEM, or the send
 * error (the txn has then reported SIP_TXN_EV_TRANSPORT_ERROR and terminated). */
SIP_API int sip_txn_respond(struct sip_txn *t, const char *bytes, size_t len, sip_ms_t now);

/* Tells the INVITE client transaction t that the TU has sent a CANCEL for it.
 * In Proceeding an ICT waits for a final response without a timer (§17.1.1.2:
 * Timer B guards Calling only), so a callee that rang and then went silent —
 * answering neither the CANCEL nor the INVITE — would keep it forever; §9.1:
 * "If no final response is received for the INVITE after sending CANCEL
 * within 64*T1, the client SHOULD then consider the original transaction
 * cancelled and SHOULD destroy the client transaction". After this call t
 * ends 64*T1 from now (or at Timer B, if still Calling) unless a final
 * response comes first: the TU gets SIP_TXN_EV_TIMEOUT, then TERMINATED.
 * Returns 0 (also when t has its final response already) or SIP_EINVAL (not
 * an ICT). Calling it again changes nothing. */
SIP_API int sip_txn_client_cancelled(struct sip_txn *t, sip_ms_t now);

/* Reports an asynchronous transport failure for t (§17.1.4, §17.2.4): the TU
 * gets SIP_TXN_EV_TRANSPORT_ERROR and t terminates. */
SIP_API void sip_txn_on_transport_error(struct sip_txn *t, sip_ms_t now);

/* Fires every timer due at `now`. Returns the number fired. */
SIP_API size_t sip_txn_process_timers(struct sip_txn_layer *l, sip_ms_t now);
/* The earliest timer deadline, or SIP_MS_NEVER. */
SIP_API sip_ms_t sip_txn_next_deadline(const struct sip_txn_layer *l);

/* The INVITE server transaction a CANCEL request targets (§9.2: matched like
 * §17.2.3 with method INVITE), or NULL (the TU then answers 481). The TU
 * answers 200 to the CANCEL and 487 to the INVITE (if not answered yet). */
SIP_API struct sip_txn *sip_txn_find_cancel_target(struct sip_txn_layer *l, const struct sip_msg *cancel);

/* Accessors. */
SIP_API enum sip_txn_kind sip_txn_kind(const struct sip_txn *t);
SIP_API enum sip_txn_state sip_txn_state(const struct sip_txn *t);
/* Last status sent (server) or received (client); 0 if none. */
SIP_API int sip_txn_status(const struct sip_txn *t);
/* The peer: request destination (client) or response destination (server). */
SIP_API const struct sip_txn_dest *sip_txn_dest(const struct sip_txn *t);
SIP_API void *sip_txn_udata(const struct sip_txn *t);
SIP_API void sip_txn_set_udata(struct sip_txn *t, void *udata);
/* "ICT", "NIST", ...; "Calling", "Accepted", ... */
SIP_API const char *sip_txn_kind_name(enum sip_txn_kind k);
SIP_API const char *sip_txn_state_name(enum sip_txn_state s);

#ifdef __cplusplus
}
#endif
#endif
