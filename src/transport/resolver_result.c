/* resolver_result.c — the ordered target list: built from the query tree of
 * the core, walked by the caller with a fail-over cursor. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "transport/resolver_int.h"

static bool same_target(const struct sip_target *a, const struct sip_target *b)
{
	return a->proto == b->proto && a->family == b->family && a->port == b->port &&
	       !memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
}

/* Depth-first over the children of parent, in creation order: NAPTR order,
 * then SRV order, then the family order of each SRV target — the §4 order. */
static void emit(const struct sip__rsm *m, int parent, struct sip_resolve_result *res)
{
	for (size_t i = 0; i < m->nq; i++) {
		const struct sip__rquery *q = &m->q[i];
		if (q->parent != parent)
			continue;
		if (q->type == SIP__RT_A || q->type == SIP__RT_AAAA) {
			for (size_t a = 0; a < q->naddr && res->n < SIP_RESOLVE_MAX_TARGETS; a++) {
				struct sip_target t;
				memset(&t, 0, sizeof(t));
				t.proto = q->proto;
				t.family = q->addr[a].family;
				memcpy(t.addr, q->addr[a].addr, sizeof(t.addr));
				t.port = q->port;
				memcpy(t.host, q->name, sizeof(t.host));
				bool dup = false;
				for (size_t k = 0; k < res->n && !dup; k++)
					dup = same_target(&res->t[k], &t);
				if (!dup)
					res->t[res->n++] = t;
			}
		} else {
			emit(m, (int)i, res);
		}
	}
}

int sip__rsm_result(const struct sip__rsm *m, struct sip_resolve_result **out)
{
	*out = NULL;
	struct sip_resolve_result *res =
	    sip_malloc(sizeof(*res) + SIP_RESOLVE_MAX_TARGETS * sizeof(struct sip_target));
	if (!res)
		return SIP_ENOMEM;
	res->n = 0;
	res->cursor = 0;
	emit(m, -1, res);
	if (!res->n) {
		sip_free(res);
		return m->err ? m->err : SIP_ENOTFOUND;
	}
	*out = res;
	return 0;
}

int sip_resolve_next(struct sip_resolve_result *res, struct sip_target *out)
{
	if (!res || !out || res->cursor >= res->n)
		return 0;
	*out = res->t[res->cursor++];
	return 1;
}

size_t sip_resolve_left(const struct sip_resolve_result *res)
{
	return res ? res->n - res->cursor : 0;
}

void sip_resolve_rewind(struct sip_resolve_result *res)
{
	if (res)
		res->cursor = 0;
}

size_t sip_resolve_count(const struct sip_resolve_result *res)
{
	return res ? res->n : 0;
}

const struct sip_target *sip_resolve_get(const struct sip_resolve_result *res, size_t i)
{
	return res && i < res->n ? &res->t[i] : NULL;
}

void sip_resolve_result_free(struct sip_resolve_result *res)
{
	sip_free(res);
}

const char *sip_resolve_proto_name(enum sip_resolve_proto p)
{
	switch (p) {
	case SIP_RESOLVE_UDP:
		return "udp";
	case SIP_RESOLVE_TCP:
		return "tcp";
	case SIP_RESOLVE_TLS:
		return "tls";
	case SIP_RESOLVE_SCTP:
		return "sctp";
	}
	return "?";
}

int sip_target_format(const struct sip_target *t, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	if (!t || !buf || (t->family != AF_INET && t->family != AF_INET6) ||
	    !inet_ntop(t->family, t->addr, ip, sizeof(ip)))
		return SIP_EINVAL;
	int n =
	    t->family == AF_INET6
		? snprintf(buf, cap, "%s:[%s]:%u", sip_resolve_proto_name(t->proto), ip, (unsigned)t->port)
		: snprintf(buf, cap, "%s:%s:%u", sip_resolve_proto_name(t->proto), ip, (unsigned)t->port);
	if (n < 0 || (size_t)n >= cap)
		return SIP_ETOOBIG;
	return n;
}
