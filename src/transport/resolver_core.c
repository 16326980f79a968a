/* resolver_core.c — the sans-I/O RFC 3263 §4 selection logic: which DNS
 * queries to make for a URI, and how NAPTR, SRV and A/AAAA answers become an
 * ordered target list. No sockets, no clock; randomness is injected. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "transport/resolver_int.h"

static uint16_t default_port(enum sip_resolve_proto p)
{
	return p == SIP_RESOLVE_TLS ? 5061 : 5060;
}

static bool copy_name(char *dst, struct sip_str s)
{
	if (s.len == 0 || s.len > SIP_RESOLVE_NAME_MAX || memchr(s.p, '\0', s.len))
		return false;
	memcpy(dst, s.p, s.len);
	dst[s.len] = '\0';
	return true;
}

/* Appends a query; returns its index, or -1 when the cap is reached (the
 * branch is then dropped: a bounded answer beats an unbounded one). */
static int add_query(struct sip__rsm *m, int parent, enum sip__rtype type, const char *name,
		     enum sip_resolve_proto proto, uint16_t port)
{
	if (m->nq >= SIP__RSM_MAX_QUERIES || strlen(name) > SIP_RESOLVE_NAME_MAX)
		return -1;
	struct sip__rquery *q = &m->q[m->nq];
	memset(q, 0, sizeof(*q));
	memcpy(q->name, name, strlen(name) + 1);
	q->type = type;
	q->parent = parent;
	q->proto = proto;
	q->port = port;
	return (int)m->nq++;
}

/* A and/or AAAA queries for name, in the configured family order. */
static void add_addr_queries(struct sip__rsm *m, int parent, const char *name, enum sip_resolve_proto proto,
			     uint16_t port)
{
	bool v4 = !m->cfg.no_ipv4, v6 = !m->cfg.no_ipv6;
	if (m->cfg.prefer_ipv6 && v6)
		add_query(m, parent, SIP__RT_AAAA, name, proto, port);
	if (v4)
		add_query(m, parent, SIP__RT_A, name, proto, port);
	if (!m->cfg.prefer_ipv6 && v6)
		add_query(m, parent, SIP__RT_AAAA, name, proto, port);
}

static int proto_from_param(struct sip_str t, bool sips, enum sip_resolve_proto *out)
{
	if (sip_str_caseeq(t, SIP_STR("udp")))
		*out = SIP_RESOLVE_UDP;
	else if (sip_str_caseeq(t, SIP_STR("tcp")))
		*out = SIP_RESOLVE_TCP;
	else if (sip_str_caseeq(t, SIP_STR("tls")))
		*out = SIP_RESOLVE_TLS;
	else if (sip_str_caseeq(t, SIP_STR("sctp")))
		*out = SIP_RESOLVE_SCTP;
	else
		return SIP_EUNSUPPORTED;
	if (sips) {
		/* SIPS means TLS hop by hop (RFC 3261 §26.2.2): transport=tcp is TLS over
		 * TCP; UDP and SCTP cannot carry it here. */
		if (*out == SIP_RESOLVE_TCP)
			*out = SIP_RESOLVE_TLS;
		if (*out != SIP_RESOLVE_TLS)
			return SIP_EUNSUPPORTED;
	}
	return 0;
}

/* RFC 3263 §4.1: UDP for sip, TCP (TLS) for sips — or the next the client has. */
static enum sip_resolve_proto default_proto_for(bool sips, unsigned protos)
{
	static const enum sip_resolve_proto pref[] = {SIP_RESOLVE_UDP, SIP_RESOLVE_TCP, SIP_RESOLVE_TLS,
						      SIP_RESOLVE_SCTP};
	if (sips)
		return (protos & SIP_RESOLVE_TLS) ? SIP_RESOLVE_TLS : 0;
	for (size_t i = 0; i < sizeof(pref) / sizeof(pref[0]); i++)
		if (protos & pref[i])
			return pref[i];
	return 0;
}

static enum sip_resolve_proto default_proto(const struct sip__rsm *m)
{
	return default_proto_for(m->sips, m->cfg.protos);
}

int sip__resolve_numeric(const struct sip_uri *uri, const struct sip__rcfg *cfg, struct sip_resolve_result **out)
{
	if (!uri || !out)
		return SIP_EINVAL;
	if (uri->scheme != SIP_URI_SIP && uri->scheme != SIP_URI_SIPS)
		return SIP_EUNSUPPORTED;
	/* RFC 3263 §4: TARGET is maddr when present, else the host; only an IP
	 * literal (brackets or not) is answered here. */
	struct sip_str t = uri->maddr.len ? uri->maddr : uri->host;
	if (t.len >= 2 && t.p[0] == '[' && t.p[t.len - 1] == ']') {
		t.p++;
		t.len -= 2;
	}
	char name[INET6_ADDRSTRLEN + 1];
	uint8_t bin[16];
	int fam;
	if (!t.len || t.len >= sizeof(name))
		return SIP_EAGAIN;
	memcpy(name, t.p, t.len);
	name[t.len] = 0;
	if (inet_pton(AF_INET, name, bin) == 1)
		fam = AF_INET;
	else if (inet_pton(AF_INET6, name, bin) == 1)
		fam = AF_INET6;
	else
		return SIP_EAGAIN; /* a name: DNS */
	unsigned protos = cfg && cfg->protos ? cfg->protos : SIP_RESOLVE_PROTO_DEFAULT;
	if (cfg && ((fam == AF_INET && cfg->no_ipv4) || (fam == AF_INET6 && cfg->no_ipv6)))
		return SIP_EUNSUPPORTED;
	bool sips = uri->scheme == SIP_URI_SIPS;
	enum sip_resolve_proto p = 0;
	if (uri->transport.len) {
		int rc = proto_from_param(uri->transport, sips, &p);
		if (rc < 0)
			return rc;
		if (!(protos & p))
			return SIP_EUNSUPPORTED;
	} else if (!(p = default_proto_for(sips, protos))) {
		return SIP_EUNSUPPORTED;
	}
	struct sip_resolve_result *r = sip_calloc(1, sizeof(*r) + sizeof(r->t[0]));
	if (!r)
		return SIP_ENOMEM;
	r->n = 1;
	r->t[0].proto = p;
	r->t[0].family = fam;
	memcpy(r->t[0].addr, bin, fam == AF_INET ? 4 : 16);
	r->t[0].port = uri->has_port ? uri->port : default_port(p);
	memcpy(r->t[0].host, name, t.len + 1);
	*out = r;
	return 0;
}

static const char *srv_prefix(enum sip_resolve_proto p)
{
	switch (p) {
	case SIP_RESOLVE_UDP:
		return "_sip._udp.";
	case SIP_RESOLVE_TCP:
		return "_sip._tcp.";
	case SIP_RESOLVE_TLS:
		return "_sips._tcp.";
	case SIP_RESOLVE_SCTP:
		return "_sip._sctp.";
	}
	return NULL;
}

static void add_srv_for(struct sip__rsm *m, int parent, enum sip_resolve_proto p)
{
	char name[SIP_RESOLVE_NAME_MAX + 2];
	int n = snprintf(name, sizeof(name), "%s%s", srv_prefix(p), m->target);
	if (n > 0 && (size_t)n <= SIP_RESOLVE_NAME_MAX)
		add_query(m, parent, SIP__RT_SRV, name, p, 0);
}

static void maybe_fallback(struct sip__rsm *m);

int sip__rsm_init(struct sip__rsm *m, const struct sip_uri *uri, const struct sip__rcfg *cfg)
{
	if (!m || !uri)
		return SIP_EINVAL;
	memset(m, 0, sizeof(*m));
	if (cfg)
		m->cfg = *cfg;
	if (!m->cfg.protos)
		m->cfg.protos = SIP_RESOLVE_PROTO_DEFAULT;
	if (m->cfg.no_ipv4 && m->cfg.no_ipv6)
		return SIP_EINVAL;
	if (uri->scheme != SIP_URI_SIP && uri->scheme != SIP_URI_SIPS)
		return SIP_EUNSUPPORTED;
	m->sips = uri->scheme == SIP_URI_SIPS;

	/* RFC 3263 §4: TARGET is maddr when present, else the host. */
	struct sip_str t = uri->maddr.len ? uri->maddr : uri->host;
	enum sip_host_type tt = uri->maddr.len ? SIP_HOST_NAME : uri->host_type;
	if (t.len >= 2 && t.p[0] == '[' && t.p[t.len - 1] == ']') {
		t.p++;
		t.len -= 2;
		tt = SIP_HOST_IPV6;
	}
	if (!copy_name(m->target, t))
		return SIP_EINVAL;
	uint8_t bin[16];
	/* The parser's host_type is trusted only as far as inet_pton agrees, and a
	 * maddr (unclassified) is classified here. */
	if (inet_pton(AF_INET, m->target, bin) == 1)
		tt = SIP_HOST_IPV4;
	else if (inet_pton(AF_INET6, m->target, bin) == 1)
		tt = SIP_HOST_IPV6;
	else if (tt == SIP_HOST_IPV4 || tt == SIP_HOST_IPV6)
		return SIP_EINVAL;
	else
		tt = SIP_HOST_NAME;
	m->target_type = tt;
	m->port = uri->has_port ? uri->port : 0;

	if (uri->transport.len) {
		int rc = proto_from_param(uri->transport, m->sips, &m->proto);
		if (rc < 0)
			return rc;
		if (!(m->cfg.protos & m->proto))
			return SIP_EUNSUPPORTED;
	}
	enum sip_resolve_proto dp = m->proto ? m->proto : default_proto(m);
	if (!dp)
		return SIP_EUNSUPPORTED;
	m->fallback_proto = dp;

	if (tt != SIP_HOST_NAME) {
		/* §4.1/§4.2: a numeric TARGET needs no lookup. The answer is a
		 * pre-answered address query so the result walk stays uniform. */
		int fam = tt == SIP_HOST_IPV4 ? AF_INET : AF_INET6;
		if ((fam == AF_INET && m->cfg.no_ipv4) || (fam == AF_INET6 && m->cfg.no_ipv6))
			return SIP_EUNSUPPORTED;
		int q = add_query(m, -1, fam == AF_INET ? SIP__RT_A : SIP__RT_AAAA, m->target, dp,
				  m->port ? m->port : default_port(dp));
		m->q[q].state = SIP__Q_DONE;
		m->q[q].naddr = 1;
		m->q[q].addr[0].family = fam;
		memcpy(m->q[q].addr[0].addr, bin, sizeof(bin));
		m->fallback_added = true;
		return 0;
	}
	if (m->port) {
		/* §4.2: an explicit port means no NAPTR and no SRV. */
		add_addr_queries(m, -1, m->target, dp, m->port);
		m->fallback_added = true;
		return 0;
	}
	if (m->proto) {
		/* §4.2: transport known, port not: SRV for that transport, then A/AAAA. */
		add_srv_for(m, -1, m->proto);
		maybe_fallback(m); /* the SRV name may not fit: then straight to A/AAAA */
		return 0;
	}
	add_query(m, -1, SIP__RT_NAPTR, m->target, 0, 0);
	return 0;
}

int sip__rsm_next_query(struct sip__rsm *m, int *qid, const char **name, enum sip__rtype *type)
{
	for (size_t i = 0; i < m->nq; i++) {
		if (m->q[i].state != SIP__Q_NEW)
			continue;
		m->q[i].state = SIP__Q_SENT;
		*qid = (int)i;
		*name = m->q[i].name;
		*type = m->q[i].type;
		return 1;
	}
	return 0;
}

bool sip__rsm_done(const struct sip__rsm *m)
{
	for (size_t i = 0; i < m->nq; i++)
		if (m->q[i].state != SIP__Q_DONE)
			return false;
	return true;
}

/* Takes an answer for qid if it is one we are waiting for, of that type. */
static struct sip__rquery *take(struct sip__rsm *m, int qid, enum sip__rtype type, enum sip__rstatus st)
{
	if (qid < 0 || (size_t)qid >= m->nq || m->q[qid].state != SIP__Q_SENT || m->q[qid].type != type)
		return NULL;
	m->q[qid].state = SIP__Q_DONE;
	if ((st == SIP__RS_TIMEOUT || st == SIP__RS_FAIL) && !m->err)
		m->err = st == SIP__RS_TIMEOUT ? SIP_ETIMEDOUT : SIP_EIO;
	return &m->q[qid];
}

/* §4.2 last resort: when the NAPTR/SRV stage is over and found no SRV record
 * at all, A/AAAA of TARGET with the transport chosen so far and its default
 * port. Not after a DNS failure: the same server would fail again. */
static void maybe_fallback(struct sip__rsm *m)
{
	if (m->fallback_added || m->err)
		return;
	for (size_t i = 0; i < m->nq; i++) {
		const struct sip__rquery *q = &m->q[i];
		if (q->type == SIP__RT_NAPTR || q->type == SIP__RT_SRV) {
			if (q->state != SIP__Q_DONE)
				return;
			if (q->type == SIP__RT_SRV && q->found)
				return;
		}
	}
	m->fallback_added = true;
	add_addr_queries(m, -1, m->target, m->fallback_proto, default_port(m->fallback_proto));
}

/* Maps a NAPTR service field to a transport, per RFC 3263 §4.1 and the URI scheme. */
static enum sip_resolve_proto naptr_proto(const struct sip__rsm *m, struct sip_str svc)
{
	enum sip_resolve_proto p = 0;
	if (sip_str_caseeq(svc, SIP_STR("SIPS+D2T")))
		p = SIP_RESOLVE_TLS;
	else if (m->sips) /* a SIPS URI takes only SIPS+D2T */
		return 0;
	else if (sip_str_caseeq(svc, SIP_STR("SIP+D2U")))
		p = SIP_RESOLVE_UDP;
	else if (sip_str_caseeq(svc, SIP_STR("SIP+D2T")))
		p = SIP_RESOLVE_TCP;
	else if (sip_str_caseeq(svc, SIP_STR("SIP+D2S")))
		p = SIP_RESOLVE_SCTP;
	return (m->cfg.protos & p) ? p : 0;
}

void sip__rsm_on_naptr(struct sip__rsm *m, int qid, enum sip__rstatus st, const struct sip__naptr *rec,
		       size_t n)
{
	if (!take(m, qid, SIP__RT_NAPTR, st))
		return;
	uint8_t sel[SIP_RESOLVE_MAX_RECORDS];
	enum sip_resolve_proto selp[SIP_RESOLVE_MAX_RECORDS];
	size_t ns = 0;
	if (st == SIP__RS_OK && rec) {
		for (size_t i = 0; i < n && i < 255 && ns < SIP_RESOLVE_MAX_RECORDS; i++) {
			/* Only terminal "s" records whose replacement names an SRV set. */
			if (!sip_str_caseeq(rec[i].flags, SIP_STR("s")) || rec[i].regexp.len)
				continue;
			enum sip_resolve_proto p = naptr_proto(m, rec[i].service);
			char tmp[SIP_RESOLVE_NAME_MAX + 1];
			if (!p || !copy_name(tmp, rec[i].replacement) || !strcmp(tmp, "."))
				continue;
			/* insertion by (order, preference), stable for equal keys */
			size_t j = ns;
			while (j > 0 && (rec[sel[j - 1]].order > rec[i].order ||
					 (rec[sel[j - 1]].order == rec[i].order &&
					  rec[sel[j - 1]].pref > rec[i].pref))) {
				sel[j] = sel[j - 1];
				selp[j] = selp[j - 1];
				j--;
			}
			sel[j] = (uint8_t)i;
			selp[j] = p;
			ns++;
		}
	}
	if (ns) {
		m->fallback_proto = selp[0];
		for (size_t k = 0; k < ns; k++) {
			char name[SIP_RESOLVE_NAME_MAX + 1];
			copy_name(name, rec[sel[k]].replacement);
			add_query(m, qid, SIP__RT_SRV, name, selp[k], 0);
		}
	} else if (st == SIP__RS_OK || st == SIP__RS_NODATA) {
		/* §4.1: no usable NAPTR — SRV for each transport the client supports,
		 * in the client's order of preference. */
		static const enum sip_resolve_proto order[] = {SIP_RESOLVE_UDP, SIP_RESOLVE_TCP,
							       SIP_RESOLVE_TLS, SIP_RESOLVE_SCTP};
		for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
			enum sip_resolve_proto p = order[k];
			if (!(m->cfg.protos & p) || (m->sips && p != SIP_RESOLVE_TLS))
				continue;
			add_srv_for(m, qid, p);
		}
	}
	maybe_fallback(m);
}

size_t sip__srv_order(const struct sip__srv *rec, size_t n, sip_resolve_rand_fn rnd, void *ud, uint8_t *idx)
{
	uint8_t cand[SIP_RESOLVE_MAX_RECORDS];
	size_t nc = 0, out = 0;
	if (n > SIP_RESOLVE_MAX_RECORDS)
		n = SIP_RESOLVE_MAX_RECORDS;
	/* By priority (stable); within one, weight-0 records first (RFC 2782). */
	for (size_t i = 0; i < n; i++) {
		if (rec[i].target.len == 0 || sip_str_eq(rec[i].target, SIP_STR(".")))
			continue;
		size_t j = nc;
		while (j > 0 && (rec[cand[j - 1]].priority > rec[i].priority ||
				 (rec[cand[j - 1]].priority == rec[i].priority &&
				  rec[cand[j - 1]].weight > 0 && rec[i].weight == 0))) {
			cand[j] = cand[j - 1];
			j--;
		}
		cand[j] = (uint8_t)i;
		nc++;
	}
	size_t start = 0;
	while (start < nc) {
		size_t end = start;
		while (end < nc && rec[cand[end]].priority == rec[cand[start]].priority)
			end++;
		/* Weighted draw without replacement over cand[start, end). */
		while (start < end) {
			uint32_t sum = 0;
			for (size_t k = start; k < end; k++)
				sum += rec[cand[k]].weight;
			uint32_t r = 0;
			if (sum && rnd)
				r = (uint32_t)(((uint64_t)rnd(ud) * ((uint64_t)sum + 1)) >> 32);
			size_t pick = start;
			uint32_t run = 0;
			for (size_t k = start; k < end; k++) {
				run += rec[cand[k]].weight;
				if (run >= r) {
					pick = k;
					break;
				}
			}
			idx[out++] = cand[pick];
			/* keep the rest in their order (weight-0 ones stay in front) */
			memmove(&cand[start + 1], &cand[start], pick - start);
			start++;
		}
	}
	return out;
}

void sip__rsm_on_srv(struct sip__rsm *m, int qid, enum sip__rstatus st, const struct sip__srv *rec, size_t n)
{
	struct sip__rquery *q = take(m, qid, SIP__RT_SRV, st);
	if (!q)
		return;
	if (st == SIP__RS_OK && rec && n) {
		q->found = true; /* the SRV set exists: no A/AAAA fallback, even if all say "." */
		uint8_t idx[SIP_RESOLVE_MAX_RECORDS];
		size_t k = sip__srv_order(rec, n, m->cfg.rand, m->cfg.rand_ud, idx);
		enum sip_resolve_proto p = q->proto;
		for (size_t i = 0; i < k; i++) {
			char name[SIP_RESOLVE_NAME_MAX + 1];
			if (copy_name(name, rec[idx[i]].target))
				add_addr_queries(m, qid, name, p, rec[idx[i]].port);
		}
	}
	maybe_fallback(m);
}

void sip__rsm_on_addr(struct sip__rsm *m, int qid, enum sip__rstatus st, const struct sip__raddr *rec,
		      size_t n)
{
	if (qid < 0 || (size_t)qid >= m->nq)
		return;
	enum sip__rtype type = m->q[qid].type == SIP__RT_AAAA ? SIP__RT_AAAA : SIP__RT_A;
	struct sip__rquery *q = take(m, qid, type, st);
	if (!q)
		return;
	int fam = type == SIP__RT_A ? AF_INET : AF_INET6;
	for (size_t i = 0; st == SIP__RS_OK && rec && i < n && q->naddr < SIP_RESOLVE_MAX_ADDRS; i++)
		if (rec[i].family == fam)
			q->addr[q->naddr++] = rec[i];
}
