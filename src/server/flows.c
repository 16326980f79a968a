/* flows.c — which worker holds each inbound TCP/TLS connection, keyed by
 * the peer's address: a phone behind a NAT is reachable only over the
 * connection it opened (its RFC 5626 flow), and the worker that accepted it
 * is the only one that may write on it. Transports report their inbound
 * connections (sip_transport_config.on_conn); a worker about to open a new
 * connection to an address asks here first (sip__proxy_send_elsewhere).
 * One mutex: touched per connection and per cross-worker send, never per
 * message on the owning worker. */
#include "worker.h"

#include <netinet/in.h>
#include <string.h>

#define FLOW_BUCKETS 4096

/* A peer address as comparable bytes. */
struct flow_key {
	uint8_t type, family;
	uint16_t port;
	uint8_t addr[16];
};

struct flow {
	struct flow *next;
	struct flow_key key;
	uint64_t conn;
};

struct sip__flows {
	uv_mutex_t lock;
	struct flow *bucket[FLOW_BUCKETS];
};

static bool key_of(struct flow_key *k, enum sip_tp_type type, const struct sockaddr *sa)
{
	memset(k, 0, sizeof(*k));
	k->type = (uint8_t)type;
	k->family = (uint8_t)sa->sa_family;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
		k->port = s->sin_port;
		memcpy(k->addr, &s->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
		k->port = s->sin6_port;
		memcpy(k->addr, &s->sin6_addr, 16);
	} else {
		return false;
	}
	return true;
}

static unsigned bucket_of(const struct flow_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h & (FLOW_BUCKETS - 1);
}

int sip__flows_new(struct sip__flows **out)
{
	struct sip__flows *f = sip_calloc(1, sizeof(*f));
	if (!f)
		return SIP_ENOMEM;
	if (uv_mutex_init(&f->lock)) {
		sip_free(f);
		return SIP_EIO;
	}
	*out = f;
	return 0;
}

void sip__flows_free(struct sip__flows *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < FLOW_BUCKETS; i++)
		while (f->bucket[i]) {
			struct flow *n = f->bucket[i];
			f->bucket[i] = n->next;
			sip_free(n);
		}
	uv_mutex_destroy(&f->lock);
	sip_free(f);
}

void sip__flows_update(void *ud, uint64_t conn, enum sip_tp_type type, const struct sockaddr *peer, bool up)
{
	struct sip__flows *f = ud;
	struct flow_key k;
	if (!f || !key_of(&k, type, peer))
		return;
	struct flow *n = up ? sip_malloc(sizeof(*n)) : NULL;
	unsigned b = bucket_of(&k);
	uv_mutex_lock(&f->lock);
	if (up && n) {
		n->key = k;
		n->conn = conn;
		n->next = f->bucket[b];
		f->bucket[b] = n; /* a newer connection from the same address shadows an older one */
	} else if (!up) {
		for (struct flow **pp = &f->bucket[b]; *pp; pp = &(*pp)->next) {
			if ((*pp)->conn == conn) {
				n = *pp;
				*pp = n->next;
				break;
			}
		}
	}
	uv_mutex_unlock(&f->lock);
	if (!up)
		sip_free(n);
}

uint64_t sip__flows_find(struct sip__flows *f, enum sip_tp_type type, const struct sockaddr *peer)
{
	struct flow_key k;
	if (!f || !peer || !key_of(&k, type, peer))
		return 0;
	uint64_t conn = 0;
	unsigned b = bucket_of(&k);
	uv_mutex_lock(&f->lock);
	for (struct flow *n = f->bucket[b]; n; n = n->next)
		if (!memcmp(&n->key, &k, sizeof(k))) {
			conn = n->conn;
			break;
		}
	uv_mutex_unlock(&f->lock);
	return conn;
}
