/* txn_int.h — private: the transaction and table structs shared by the
 * transaction/ files. */
#ifndef SIP_TXN_INT_H
#define SIP_TXN_INT_H

#include <sip/txn.h>
#include "transaction/pool.h"
#include "transaction/timer_heap.h"

#define SIP__MAGIC_COOKIE "z9hG4bK"
#define SIP__MAGIC_COOKIE_LEN 7

/* Timer slots of a transaction: at most two run at once. */
enum {
	SIP__TM_RETX = 0, /* A (ICT), E (NICT), G (IST), or the IST's 100 Trying delay */
	SIP__TM_LIFE = 1, /* B, F, H (timeouts) or D, K, I, J, L, M (linger) */
};

enum {
	SIP__F_SERVER = 1u << 0,
	SIP__F_2543 = 1u << 1,     /* matched by the RFC 2543 fallback (hash of fields) */
	SIP__F_RESP_SENT = 1u << 2, /* IST: the kept response has gone out at least once */
	SIP__F_CANCELLED = 1u << 3, /* ICT: the TU CANCELled it (sip_txn_client_cancelled) */
};

/* Kept small: see the memory target in docs/transaction.md. Strings of the
 * key (branch, sent-by host, extension method) live in key[] after it. */
struct sip_txn {
	struct sip_txn_layer *layer;
	void *udata;
	char *msg;                    /* request (client), ACK (ICT Completed) or last response (server) */
	uint64_t hash;                /* hash of the key (its table slot) */
	uint64_t h2543;               /* RFC 2543 fields hash (F_2543) */
	uint32_t msg_len;
	uint32_t interval;            /* current retransmission interval (A, E, G) */
	struct sip__timer tm[2];
	uint32_t totag_req;           /* F_2543: hash of the request's To tag */
	uint32_t totag_resp;          /* F_2543: hash of our final response's To tag */
	uint16_t status;
	uint16_t port;
	uint8_t kind, state, method, flags;
	uint8_t branch_len, host_len, mname_len;
	bool has_port;
	struct sip_txn_dest dest;
	char key[];
};

/* A slot of the open-addressed table: the key's hash beside the pointer, so
 * a lookup that misses (every new request) reads no transaction. */
struct sip__slot {
	uint64_t hash;
	struct sip_txn *t;            /* NULL: empty */
};

struct sip_txn_layer {
	struct sip_txn_config cfg;
	struct sip_txn_callbacks cb;
	struct sip__slot *slots;      /* linear probing, at most half full */
	size_t nslots;                /* power of two */
	/* While the table grows, the previous array drains into the new one a
	 * few slots per new transaction (table.c): no stop-the-world rehash. */
	struct sip__slot *old;        /* NULL when not growing; removed entries are tombstones */
	size_t nold, old_next;        /* its size; the next slot to move */
	size_t count;
	size_t txn_bytes, msg_bytes;
	struct sip__theap heap;
	struct sip__pool pool;        /* transactions and kept messages */
};

/* What a message is matched on. */
struct sip__key {
	bool server, rfc2543;
	bool ack;                     /* 2543: compare To tag with our response's */
	uint8_t method;               /* enum sip_method (ACK looks up INVITE) */
	struct sip_str mname;         /* method text when SIP_METHOD_UNKNOWN */
	struct sip_str branch, host;
	uint16_t port;
	bool has_port;
	uint64_t h2543;
	uint32_t totag;
	uint64_t hash;
};

/* table.c */
int sip__table_init(struct sip_txn_layer *l);
void sip__table_free(struct sip_txn_layer *l);
/* Builds the server-side key of a request (method_override != 0 replaces its method). */
int sip__key_request(const struct sip_txn_layer *l, const struct sip_msg *m, enum sip_method method_override,
		     struct sip__key *k);
/* Builds the client-side key of a response (or of our own request, at creation). */
int sip__key_client(const struct sip_txn_layer *l, const struct sip_msg *m, struct sip__key *k);
struct sip_txn *sip__table_find(const struct sip_txn_layer *l, const struct sip__key *k);
/* Allocates a txn for key k, links it in the table. 0, SIP_ETOOBIG or SIP_ENOMEM. */
int sip__txn_alloc(struct sip_txn_layer *l, const struct sip__key *k, enum sip_txn_kind kind,
		   const struct sip_txn_dest *dest, struct sip_txn **out);
/* Removes t from the table. */
void sip__table_unlink(struct sip_txn *t);
/* Finishes a pending growth: every entry in the current array. */
void sip__table_settle(struct sip_txn_layer *l);
/* Hash of a To tag (2543 matching). */
uint32_t sip__tag_hash(const struct sip_txn_layer *l, const struct sip_nameaddr *to);

/* layer.c */
/* Replaces the kept message with a copy of bytes (NULL/0 frees it). 0 or SIP_ENOMEM. */
int sip__txn_keep(struct sip_txn *t, const char *bytes, size_t len);
/* Takes ownership of a buffer from the layer's pool (sip__pool_alloc, len bytes) as the kept message. */
void sip__txn_keep_owned(struct sip_txn *t, char *buf, size_t len);
/* Finishes a message built into a sip_malloc'd buffer (b->buf) and keeps it,
 * shrunk to size; frees the buffer on error. 0, SIP_ETOOBIG or SIP_EINVAL. */
struct sip_builder;
int sip__txn_keep_built(struct sip_txn *t, struct sip_builder *b);
/* Sends bytes to t->dest; on failure reports the transport error and
 * terminates t (then t is gone). Returns the send result. */
int sip__txn_send(struct sip_txn *t, const char *bytes, size_t len);
/* Cancels t's timers, unlinks and frees it, with no event. */
void sip__txn_destroy(struct sip_txn *t);
/* Reports SIP_TXN_EV_TERMINATED and frees t. */
void sip__txn_terminate(struct sip_txn *t);
/* Arms timer slot to fire `ms` from now; ms == 0 means "fire now": the
 * caller's linger timer is then skipped by terminating t. Returns 1 when t
 * was terminated, else 0. */
int sip__txn_linger(struct sip_txn *t, uint32_t ms, sip_ms_t now);
void sip__txn_arm(struct sip_txn *t, int slot, sip_ms_t when);
/* Arms slot `ms` from now: for fixed durations (64*T1, T4, 32 s), O(1). */
void sip__txn_arm_in(struct sip_txn *t, int slot, sip_ms_t now, uint32_t ms);
void sip__txn_cancel(struct sip_txn *t, int slot);
void sip__tu(struct sip_txn_layer *l, struct sip_txn *t, enum sip_txn_event ev, const struct sip_msg *m);

/* client.c */
void sip__client_on_response(struct sip_txn *t, const struct sip_msg *m, sip_ms_t now);
void sip__client_on_timer(struct sip_txn *t, int slot, sip_ms_t now);

/* server.c */
int sip__server_new(struct sip_txn_layer *l, const struct sip__key *k, const struct sip_msg *m,
		    const struct sip_txn_dest *src, sip_ms_t now);
void sip__server_on_retransmit(struct sip_txn *t, sip_ms_t now);
void sip__server_on_ack(struct sip_txn *t, const struct sip_msg *m, sip_ms_t now);
void sip__server_on_timer(struct sip_txn *t, int slot, sip_ms_t now);

static inline uint32_t sip__timer_b(const struct sip_txn_layer *l) { return 64u * l->cfg.t1_ms; }

#endif
