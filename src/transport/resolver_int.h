/* resolver_int.h — the sans-I/O RFC 3263 core shared by resolver_*.c (not installed).
 *
 * The core is a small state machine over a tree of DNS queries: it says which
 * query to send next (sip__rsm_next_query), takes each answer as parsed
 * records (sip__rsm_on_*), grows the tree (NAPTR -> SRV -> A/AAAA), and when
 * every query is answered builds the ordered target list by walking the tree
 * depth-first (sip__rsm_result). It never touches a socket or a clock, so the
 * selection rules are unit-tested with canned records. */
#ifndef SIP_TRANSPORT_RESOLVER_INT_H
#define SIP_TRANSPORT_RESOLVER_INT_H

#include <sip/resolver.h>

/* Queries in one resolution: 1 NAPTR + up to 16 SRV + 2 per SRV target, capped. */
#define SIP__RSM_MAX_QUERIES 96

enum sip__rtype {
	SIP__RT_NAPTR = 35,
	SIP__RT_SRV = 33,
	SIP__RT_A = 1,
	SIP__RT_AAAA = 28,
};

/* How a query ended. NODATA covers NXDOMAIN and an empty answer; FAIL is a
 * server failure or a timeout: the name may exist, we could not learn it. */
enum sip__rstatus {
	SIP__RS_OK = 0,
	SIP__RS_NODATA,
	SIP__RS_TIMEOUT,
	SIP__RS_FAIL,
};

struct sip__naptr {
	uint16_t order, pref;
	struct sip_str flags, service, regexp, replacement;
};

struct sip__srv {
	uint16_t priority, weight, port;
	struct sip_str target;
};

struct sip__raddr {
	int family;
	uint8_t addr[16];
};

enum sip__qstate { SIP__Q_NEW = 0, SIP__Q_SENT, SIP__Q_DONE };

struct sip__rquery {
	char name[SIP_RESOLVE_NAME_MAX + 1];
	enum sip__rtype type;
	enum sip__qstate state;
	int parent;		      /* index, -1 for a root */
	enum sip_resolve_proto proto; /* SRV, A, AAAA: transport of the targets below */
	uint16_t port;		      /* A, AAAA: port for the addresses */
	bool found;		      /* SRV: the name had records (even ".") */
	uint8_t naddr;
	struct sip__raddr addr[SIP_RESOLVE_MAX_ADDRS];
};

/* The configuration the core needs (a subset of sip_resolver_opts). */
struct sip__rcfg {
	unsigned protos;
	bool no_ipv4, no_ipv6, prefer_ipv6;
	sip_resolve_rand_fn rand;
	void *rand_ud;
};

struct sip__rsm {
	struct sip__rcfg cfg;
	bool sips;
	char target[SIP_RESOLVE_NAME_MAX + 1]; /* maddr or host, no brackets */
	enum sip_host_type target_type;
	uint16_t port;		      /* explicit URI port, 0 when absent */
	enum sip_resolve_proto proto; /* from the transport param, 0 when absent */
	/* Transport for the last-resort A/AAAA lookup when SRV gave nothing. */
	enum sip_resolve_proto fallback_proto;
	bool fallback_added;
	int err; /* first hard error seen (SIP_ETIMEDOUT / SIP_EIO) */
	size_t nq;
	struct sip__rquery q[SIP__RSM_MAX_QUERIES];
};

/* Sets the core up for uri. Numeric hosts need no query at all. Returns 0,
 * SIP_EINVAL (no host, name too long), or SIP_EUNSUPPORTED (scheme or transport). */
int sip__rsm_init(struct sip__rsm *m, const struct sip_uri *uri, const struct sip__rcfg *cfg);

/* The next query to send: returns 1 with its index, name and type (it is then
 * marked sent), or 0 when none is waiting. */
int sip__rsm_next_query(struct sip__rsm *m, int *qid, const char **name, enum sip__rtype *type);

/* Answers. records may be NULL when n is 0; st tells NODATA from a failure. */
void sip__rsm_on_naptr(struct sip__rsm *m, int qid, enum sip__rstatus st, const struct sip__naptr *rec,
		       size_t n);
void sip__rsm_on_srv(struct sip__rsm *m, int qid, enum sip__rstatus st, const struct sip__srv *rec, size_t n);
void sip__rsm_on_addr(struct sip__rsm *m, int qid, enum sip__rstatus st, const struct sip__raddr *rec,
		      size_t n);

/* True when every query has been answered (and no new one is waiting). */
bool sip__rsm_done(const struct sip__rsm *m);
/* The target list of a URI whose TARGET is an IP literal (§4.1, §4.2: no
 * lookup), built at once. SIP_EAGAIN when it names a host (DNS needed). */
int sip__resolve_numeric(const struct sip_uri *uri, const struct sip__rcfg *cfg, struct sip_resolve_result **out);

/* Builds the ordered, de-duplicated target list. Returns 0 with *out (never
 * empty), SIP_ENOTFOUND / SIP_ETIMEDOUT / SIP_EIO when there is no target, or SIP_ENOMEM. */
int sip__rsm_result(const struct sip__rsm *m, struct sip_resolve_result **out);

/* RFC 2782 order of SRV records: by priority, weighted random within one
 * priority. Writes n indexes into idx; records with target "." are dropped
 * (the count kept is returned). n is at most SIP_RESOLVE_MAX_RECORDS. */
size_t sip__srv_order(const struct sip__srv *rec, size_t n, sip_resolve_rand_fn rnd, void *ud, uint8_t *idx);

/* Feeds one c-ares answer (status, DNS message) for query qid into the core
 * (resolver_ares.c). Any status other than success, NODATA and NXDOMAIN
 * counts as a failure of that query. */
void sip__rsm_feed_ares(struct sip__rsm *m, int qid, enum sip__rtype type, int status,
			const unsigned char *abuf, int alen);

/* The answer cache (resolver_cache.c): per resolver, sans-I/O. */
#define SIP__DCACHE_SLOTS 256u          /* power of two */
#define SIP__DCACHE_MAX_MSG 4096u       /* larger answers are not kept */
#define SIP__DCACHE_MAX_TTL 3600u       /* seconds: a long TTL is cut to this */
struct sip__dentry {
	unsigned char *msg;             /* NULL: empty slot */
	size_t len;
	uint64_t hash, expires_ms;
	int type, status;
	char name[256];
};
struct sip__dcache {
	struct sip__dentry e[SIP__DCACHE_SLOTS];
	uint64_t hits, misses;
};
/* The TTL (seconds) of a DNS answer: the least TTL of its answer records,
 * or for a negative answer (NXDOMAIN/NODATA) that of its SOA (RFC 2308 §5);
 * 0 when there is none or the message is malformed. */
uint32_t sip__dns_answer_ttl(const unsigned char *msg, size_t len, bool negative);
/* A fresh cached answer for (name, type): true with its c-ares status and message. */
bool sip__dcache_get(struct sip__dcache *c, const char *name, int type, uint64_t now_ms, int *status,
		     const unsigned char **msg, size_t *len);
/* Keeps an answer (success, or negative when `negative`) for its TTL; TTL 0 is not kept. */
void sip__dcache_put(struct sip__dcache *c, const char *name, int type, int status, bool negative,
		     const unsigned char *msg, size_t len, uint64_t now_ms);
void sip__dcache_free(struct sip__dcache *c);

/* The result container (resolver_result.c). */
struct sip_resolve_result {
	size_t n, cursor;
	struct sip_target t[];
};

#endif
