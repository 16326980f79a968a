/* resolver_ares.c — turns one c-ares answer (status + DNS message) into the
 * core's records. The wire format is c-ares's business; this file only maps
 * its structures and status codes. */
#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "transport/resolver_int.h"

/* Raw records read from one answer before the core filters them: a few more
 * than it keeps, so unusable ones do not crowd out good ones. */
#define RAW_MAX (2 * SIP_RESOLVE_MAX_RECORDS)

static enum sip__rstatus map_status(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return SIP__RS_OK;
	case ARES_ENODATA:
	case ARES_ENOTFOUND:
		return SIP__RS_NODATA; /* NODATA / NXDOMAIN: the name has none */
	case ARES_ETIMEOUT:
		return SIP__RS_TIMEOUT;
	default:
		return SIP__RS_FAIL; /* SERVFAIL, REFUSED, refused socket, bad reply, ... */
	}
}

static struct sip_str cstr(const void *s)
{
	return sip_str_c(s);
}

static void feed_naptr(struct sip__rsm *m, int qid, const unsigned char *abuf, int alen)
{
	struct ares_naptr_reply *head = NULL;
	int rc = ares_parse_naptr_reply(abuf, alen, &head);
	if (rc != ARES_SUCCESS) {
		sip__rsm_on_naptr(m, qid, rc == ARES_ENODATA ? SIP__RS_NODATA : SIP__RS_FAIL, NULL, 0);
		return;
	}
	struct sip__naptr rec[RAW_MAX];
	size_t n = 0;
	for (struct ares_naptr_reply *p = head; p && n < RAW_MAX; p = p->next) {
		rec[n].order = p->order;
		rec[n].pref = p->preference;
		rec[n].flags = cstr(p->flags);
		rec[n].service = cstr(p->service);
		rec[n].regexp = cstr(p->regexp);
		rec[n].replacement = cstr(p->replacement);
		n++;
	}
	sip__rsm_on_naptr(m, qid, n ? SIP__RS_OK : SIP__RS_NODATA, rec, n);
	ares_free_data(head);
}

static void feed_srv(struct sip__rsm *m, int qid, const unsigned char *abuf, int alen)
{
	struct ares_srv_reply *head = NULL;
	int rc = ares_parse_srv_reply(abuf, alen, &head);
	if (rc != ARES_SUCCESS) {
		sip__rsm_on_srv(m, qid, rc == ARES_ENODATA ? SIP__RS_NODATA : SIP__RS_FAIL, NULL, 0);
		return;
	}
	struct sip__srv rec[SIP_RESOLVE_MAX_RECORDS];
	size_t n = 0;
	for (struct ares_srv_reply *p = head; p && n < SIP_RESOLVE_MAX_RECORDS; p = p->next) {
		rec[n].priority = p->priority;
		rec[n].weight = p->weight;
		rec[n].port = p->port;
		/* c-ares gives the root as "" — RFC 2782's "." */
		rec[n].target = (p->host && p->host[0]) ? cstr(p->host) : SIP_STR(".");
		n++;
	}
	sip__rsm_on_srv(m, qid, n ? SIP__RS_OK : SIP__RS_NODATA, rec, n);
	ares_free_data(head);
}

static void feed_addr(struct sip__rsm *m, int qid, bool v6, const unsigned char *abuf, int alen)
{
	struct sip__raddr rec[SIP_RESOLVE_MAX_ADDRS];
	int n = SIP_RESOLVE_MAX_ADDRS, rc;
	if (v6) {
		struct ares_addr6ttl a[SIP_RESOLVE_MAX_ADDRS];
		rc = ares_parse_aaaa_reply(abuf, alen, NULL, a, &n);
		for (int i = 0; rc == ARES_SUCCESS && i < n; i++) {
			rec[i].family = AF_INET6;
			memcpy(rec[i].addr, &a[i].ip6addr, 16);
		}
	} else {
		struct ares_addrttl a[SIP_RESOLVE_MAX_ADDRS];
		rc = ares_parse_a_reply(abuf, alen, NULL, a, &n);
		for (int i = 0; rc == ARES_SUCCESS && i < n; i++) {
			rec[i].family = AF_INET;
			memset(rec[i].addr, 0, sizeof(rec[i].addr));
			memcpy(rec[i].addr, &a[i].ipaddr, 4);
		}
	}
	if (rc != ARES_SUCCESS || n <= 0) {
		sip__rsm_on_addr(m, qid,
				 (rc == ARES_SUCCESS || rc == ARES_ENODATA) ? SIP__RS_NODATA : SIP__RS_FAIL,
				 NULL, 0);
		return;
	}
	sip__rsm_on_addr(m, qid, SIP__RS_OK, rec, (size_t)n);
}

void sip__rsm_feed_ares(struct sip__rsm *m, int qid, enum sip__rtype type, int status,
			const unsigned char *abuf, int alen)
{
	enum sip__rstatus st = map_status(status);
	if (st == SIP__RS_OK && (!abuf || alen <= 0))
		st = SIP__RS_FAIL;
	if (st != SIP__RS_OK) {
		switch (type) {
		case SIP__RT_NAPTR:
			sip__rsm_on_naptr(m, qid, st, NULL, 0);
			break;
		case SIP__RT_SRV:
			sip__rsm_on_srv(m, qid, st, NULL, 0);
			break;
		default:
			sip__rsm_on_addr(m, qid, st, NULL, 0);
			break;
		}
		return;
	}
	switch (type) {
	case SIP__RT_NAPTR:
		feed_naptr(m, qid, abuf, alen);
		break;
	case SIP__RT_SRV:
		feed_srv(m, qid, abuf, alen);
		break;
	case SIP__RT_A:
		feed_addr(m, qid, false, abuf, alen);
		break;
	case SIP__RT_AAAA:
		feed_addr(m, qid, true, abuf, alen);
		break;
	}
}
