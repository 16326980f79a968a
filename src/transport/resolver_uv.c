/* resolver_uv.c — the I/O edge of the resolver: c-ares driven by a libuv
 * loop. c-ares tells us which sockets to watch (sock_state_cb -> uv_poll) and
 * when its next timeout is due (ares_timeout -> one uv_timer); each answer is
 * handed to the sans-I/O core, which says what to ask next. */
#include <ares.h>
#include <stddef.h>
#include <string.h>
#include <sip/rand.h>
#include <uv.h>

#include "transport/resolver_int.h"

#define DNS_CLASS_IN 1
#define RCONTAINER(ptr, type, field) ((type *)(void *)((char *)(ptr)-offsetof(type, field)))

struct rpoll {
	uv_poll_t h;
	ares_socket_t fd;
	struct sip_resolver *r;
	struct rpoll *next;
};

struct rjob;

/* One outstanding ares_query: embedded in its job, so issuing a query
 * never allocates. */
struct rqctx {
	struct rjob *j;
	int qid;
	enum sip__rtype type;
	const char *name; /* the core's copy: lives as long as the job */
};

struct rjob {
	struct sip_resolver *r;
	struct rjob *prev, *next;
	sip_resolve_cb cb;
	void *arg;
	int outstanding;   /* ares queries issued and not yet answered */
	bool stepping;	   /* inside job_step: answers arriving synchronously only feed the core */
	bool in_start;	   /* inside sip_resolve: completion must be deferred (cb never runs from the call) */
	bool defer_active; /* the defer timer is initialised */
	bool finished;
	uv_timer_t defer;
	struct sip__rsm m;
	struct rqctx q[SIP__RSM_MAX_QUERIES];
};

struct sip_resolver {
	uv_loop_t *loop;
	ares_channel ch;
	bool ch_live;
	uv_timer_t timer;
	struct rpoll *polls;
	struct rjob *jobs;
	struct rjob *zombies; /* reported to the caller, kept until the channel is gone */
	int in_ares; /* depth of calls into c-ares: it must not be destroyed from its own callbacks */
	struct sip__rcfg cfg;
	struct sip_rand rng; /* SRV weighting: spreads load, no secret */
	bool closing;
	int closes; /* uv handles still to be closed before the struct is freed */
	struct sip__dcache cache; /* answers by (name, type) for their TTL */
};

/* ---- randomness: sip/rand.h, unless injected ---- */

static uint32_t default_rand(void *ud)
{
	struct sip_resolver *r = ud;
	return (uint32_t)(sip_rand_next(&r->rng) >> 32);
}

/* ---- handle lifetime ---- */

static void maybe_release(struct sip_resolver *r)
{
	if (r->closing && r->closes == 0) {
		sip__dcache_free(&r->cache);
		sip_free(r);
		ares_library_cleanup();
	}
}

static void on_handle_closed(uv_handle_t *h)
{
	struct sip_resolver *r = h->data;
	if (h->type == UV_POLL)
		sip_free(RCONTAINER((uv_poll_t *)h, struct rpoll, h));
	r->closes--;
	maybe_release(r);
}

static void close_poll(struct sip_resolver *r, struct rpoll *p)
{
	uv_poll_stop(&p->h);
	r->closes++;
	uv_close((uv_handle_t *)&p->h, on_handle_closed);
}

static void free_job_cb(uv_handle_t *h)
{
	sip_free(RCONTAINER((uv_timer_t *)h, struct rjob, defer));
}

static void unlink_job(struct rjob *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		j->r->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	j->prev = j->next = NULL;
}

static void free_job(struct rjob *j)
{
	if (j->defer_active)
		uv_close((uv_handle_t *)&j->defer, free_job_cb);
	else
		sip_free(j);
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *t);

/* Re-arms the single timer at c-ares's next deadline (or stops it). */
static void arm_timer(struct sip_resolver *r)
{
	if (r->closing || !r->ch_live)
		return;
	struct timeval tv, *tvp = ares_timeout(r->ch, NULL, &tv);
	if (!tvp) {
		uv_timer_stop(&r->timer);
		return;
	}
	uint64_t ms = (uint64_t)tvp->tv_sec * 1000u + ((uint64_t)tvp->tv_usec + 999u) / 1000u;
	uv_timer_start(&r->timer, on_timer, ms ? ms : 1, 0);
}

static void destroy_channel(struct sip_resolver *r);

/* ares_process_fd, guarded: a callback may free the resolver meanwhile. */
static void process(struct sip_resolver *r, ares_socket_t rfd, ares_socket_t wfd)
{
	r->in_ares++;
	ares_process_fd(r->ch, rfd, wfd);
	r->in_ares--;
	if (r->closing && r->ch_live && !r->in_ares)
		destroy_channel(r);
	arm_timer(r);
}

static void on_timer(uv_timer_t *t)
{
	struct sip_resolver *r = t->data;
	process(r, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

/* ---- sockets ---- */

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct rpoll *p = RCONTAINER(h, struct rpoll, h);
	struct sip_resolver *r = p->r;
	ares_socket_t fd = p->fd;
	/* On a poll error let c-ares try both directions and notice the failure. */
	bool rd = status < 0 || (events & UV_READABLE), wr = status < 0 || (events & UV_WRITABLE);
	process(r, rd ? fd : ARES_SOCKET_BAD, wr ? fd : ARES_SOCKET_BAD);
}

static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct sip_resolver *r = data;
	struct rpoll **pp = &r->polls, *p;
	while ((p = *pp) && p->fd != fd)
		pp = &p->next;
	if (!readable && !writable) {
		if (p) {
			*pp = p->next;
			close_poll(r, p);
		}
		return;
	}
	if (!p) {
		/* If this fails the socket goes unwatched and its query ends by
		 * timeout: the failure still reaches the caller as an error. */
		p = sip_calloc(1, sizeof(*p));
		if (!p)
			return;
		if (uv_poll_init_socket(r->loop, &p->h, fd) != 0) {
			sip_free(p);
			return;
		}
		p->fd = fd;
		p->r = r;
		p->h.data = r;
		p->next = r->polls;
		r->polls = p;
	}
	uv_poll_start(&p->h, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0), on_poll);
}

/* ---- jobs ---- */

static void job_step(struct rjob *j);

static void finish(struct rjob *j)
{
	struct sip_resolve_result *res = NULL;
	int err = sip__rsm_result(&j->m, &res);
	j->finished = true;
	unlink_job(j);
	sip_resolve_cb cb = j->cb;
	void *arg = j->arg;
	free_job(j);
	cb(arg, err, res);
}

static void on_defer(uv_timer_t *t)
{
	finish(RCONTAINER(t, struct rjob, defer));
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct rqctx *c = arg;
	struct rjob *j = c->j;
	j->outstanding--;
	if (j->r->closing || status == ARES_EDESTRUCTION || status == ARES_ECANCELLED)
		return; /* sip_resolver_free reports and frees the job */
	if ((status == ARES_SUCCESS || status == ARES_ENODATA || status == ARES_ENOTFOUND) && abuf && alen > 0)
		sip__dcache_put(&j->r->cache, c->name, (int)c->type, status, status != ARES_SUCCESS, abuf,
				(size_t)alen, uv_now(j->r->loop));
	sip__rsm_feed_ares(&j->m, c->qid, c->type, status, abuf, alen);
	job_step(j);
}

/* Address lookups look in the hosts file first (as getaddrinfo would), so
 * "localhost" and names pinned in /etc/hosts resolve without a DNS server.
 * Returns true when the hosts file answered the query. */
static bool from_hosts_file(struct rjob *j, int qid, const char *name, enum sip__rtype type)
{
	if (type != SIP__RT_A && type != SIP__RT_AAAA)
		return false;
	int fam = type == SIP__RT_A ? AF_INET : AF_INET6;
	struct hostent *he = NULL;
	if (ares_gethostbyname_file(j->r->ch, name, fam, &he) != ARES_SUCCESS || !he)
		return false;
	struct sip__raddr a[SIP_RESOLVE_MAX_ADDRS];
	size_t n = 0;
	size_t alen = fam == AF_INET ? 4 : 16;
	for (char **p = he->h_addr_list; p && *p && n < SIP_RESOLVE_MAX_ADDRS; p++) {
		a[n].family = fam;
		memset(a[n].addr, 0, sizeof(a[n].addr));
		memcpy(a[n].addr, *p, alen);
		n++;
	}
	ares_free_hostent(he);
	if (n == 0)
		return false;
	sip__rsm_on_addr(&j->m, qid, SIP__RS_OK, a, n);
	return true;
}

/* Issues every query the core wants; completes the job when all are answered. */
static void job_step(struct rjob *j)
{
	if (j->stepping || j->finished)
		return;
	j->stepping = true;
	int qid;
	const char *name;
	enum sip__rtype type;
	while (!j->r->closing && sip__rsm_next_query(&j->m, &qid, &name, &type)) {
		if (from_hosts_file(j, qid, name, type))
			continue;
		int status;
		const unsigned char *msg;
		size_t len;
		if (sip__dcache_get(&j->r->cache, name, (int)type, uv_now(j->r->loop), &status, &msg, &len)) {
			sip__rsm_feed_ares(&j->m, qid, type, status, msg, (int)len);
			continue;
		}
		struct rqctx *c = &j->q[qid];
		c->j = j;
		c->qid = qid;
		c->type = type;
		c->name = name;
		j->outstanding++;
		/* may answer synchronously (e.g. a bad name): on_answer only feeds the core then */
		j->r->in_ares++;
		ares_query(j->r->ch, name, DNS_CLASS_IN, (int)type, on_answer, c);
		j->r->in_ares--;
	}
	j->stepping = false;
	if (j->r->closing || j->outstanding || !sip__rsm_done(&j->m))
		return;
	if (j->in_start) {
		if (uv_timer_init(j->r->loop, &j->defer) == 0) {
			j->defer_active = true;
			uv_timer_start(&j->defer, on_defer, 0, 0);
		}
		return;
	}
	finish(j);
}

/* ---- public API ---- */

int sip_resolver_new(struct sip_resolver **out, uv_loop_t *loop, const struct sip_resolver_opts *opts)
{
	if (!out || !loop)
		return SIP_EINVAL;
	*out = NULL;
	struct sip_resolver_opts o;
	memset(&o, 0, sizeof(o));
	if (opts)
		o = *opts;
	if (o.no_ipv4 && o.no_ipv6)
		return SIP_EINVAL;
	struct sip_resolver *r = sip_calloc(1, sizeof(*r));
	if (!r)
		return SIP_ENOMEM;
	r->loop = loop;
	r->cfg.protos = o.protos ? o.protos : SIP_RESOLVE_PROTO_DEFAULT;
	r->cfg.no_ipv4 = o.no_ipv4;
	r->cfg.no_ipv6 = o.no_ipv6;
	r->cfg.prefer_ipv6 = o.prefer_ipv6;
	if (o.rand) {
		r->cfg.rand = o.rand;
		r->cfg.rand_ud = o.rand_ud;
	} else {
		sip_rand_seed(&r->rng);
		r->cfg.rand = default_rand;
		r->cfg.rand_ud = r;
	}

	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		sip_free(r);
		return SIP_EIO;
	}
	struct ares_options ao;
	memset(&ao, 0, sizeof(ao));
	ao.timeout = (int)(o.timeout_ms ? o.timeout_ms : 2000u);
	ao.tries = (int)(o.tries ? o.tries : 2u);
	ao.sock_state_cb = sock_state_cb;
	ao.sock_state_cb_data = r;
	int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
	int rc = ares_init_options(&r->ch, &ao, mask);
	if (rc != ARES_SUCCESS) {
		sip_free(r);
		ares_library_cleanup();
		return rc == ARES_ENOMEM ? SIP_ENOMEM : SIP_EIO;
	}
	if (o.servers && ares_set_servers_ports_csv(r->ch, o.servers) != ARES_SUCCESS) {
		ares_destroy(r->ch);
		sip_free(r);
		ares_library_cleanup();
		return SIP_ECONFIG;
	}
	r->ch_live = true;
	uv_timer_init(loop, &r->timer);
	r->timer.data = r;
	*out = r;
	return 0;
}

/* Destroys the channel once no c-ares call is on the stack: c-ares answers
 * every pending query with ARES_EDESTRUCTION (ignored by on_answer) and closes
 * its sockets; then the reported jobs and the handles can go. */
static void destroy_channel(struct sip_resolver *r)
{
	r->ch_live = false;
	ares_destroy(r->ch);
	while (r->zombies) {
		struct rjob *j = r->zombies;
		r->zombies = j->next;
		free_job(j);
	}
	while (r->polls) {
		struct rpoll *p = r->polls;
		r->polls = p->next;
		close_poll(r, p);
	}
	uv_timer_stop(&r->timer);
	r->closes++;
	uv_close((uv_handle_t *)&r->timer, on_handle_closed);
}

void sip_resolver_free(struct sip_resolver *r)
{
	if (!r || r->closing)
		return;
	r->closing = true;
	/* Report first, so a callback that frees its own state cannot see the
	 * job again; the job itself lives on until c-ares lets go of it. */
	while (r->jobs) {
		struct rjob *j = r->jobs;
		j->finished = true;
		unlink_job(j);
		if (j->defer_active)
			uv_timer_stop(&j->defer);
		j->next = r->zombies;
		r->zombies = j;
		j->cb(j->arg, SIP_ESTATE, NULL);
	}
	if (!r->in_ares)
		destroy_channel(r);
}

int sip_resolve_now(struct sip_resolver *r, const struct sip_uri *uri, struct sip_resolve_result **out)
{
	if (!r || !uri || !out)
		return SIP_EINVAL;
	if (r->closing)
		return SIP_ESTATE;
	return sip__resolve_numeric(uri, &r->cfg, out);
}

int sip_resolve(struct sip_resolver *r, const struct sip_uri *uri, sip_resolve_cb cb, void *arg)
{
	if (!r || !uri || !cb)
		return SIP_EINVAL;
	if (r->closing)
		return SIP_ESTATE;
	struct rjob *j = sip_calloc(1, sizeof(*j));
	if (!j)
		return SIP_ENOMEM;
	int rc = sip__rsm_init(&j->m, uri, &r->cfg);
	if (rc < 0) {
		sip_free(j);
		return rc;
	}
	j->r = r;
	j->cb = cb;
	j->arg = arg;
	j->next = r->jobs;
	if (r->jobs)
		r->jobs->prev = j;
	r->jobs = j;
	j->in_start = true;
	job_step(j);
	if (!j->finished && !j->defer_active && !j->outstanding && sip__rsm_done(&j->m)) {
		/* could not even defer (timer init failed): undo, report synchronously */
		unlink_job(j);
		sip_free(j);
		return SIP_EIO;
	}
	j->in_start = false;
	arm_timer(r);
	return 0;
}

/* ---- blocking helper ---- */

struct sync_out {
	bool done;
	int err;
	struct sip_resolve_result *res;
};

static void sync_cb(void *arg, int err, struct sip_resolve_result *res)
{
	struct sync_out *o = arg;
	o->done = true;
	o->err = err;
	o->res = res;
}

int sip_resolve_sync(const struct sip_resolver_opts *opts, const struct sip_uri *uri,
		     struct sip_resolve_result **out)
{
	if (!out)
		return SIP_EINVAL;
	*out = NULL;
	uv_loop_t loop;
	if (uv_loop_init(&loop) != 0)
		return SIP_EIO;
	struct sip_resolver *r = NULL;
	struct sync_out o = {false, 0, NULL};
	int rc = sip_resolver_new(&r, &loop, opts);
	if (rc == 0) {
		rc = sip_resolve(r, uri, sync_cb, &o);
		if (rc == 0) {
			while (!o.done && uv_run(&loop, UV_RUN_ONCE))
				;
			rc = o.done ? o.err : SIP_EIO;
			*out = o.res;
		}
		sip_resolver_free(r);
	}
	uv_run(&loop, UV_RUN_DEFAULT); /* close callbacks release the handles */
	uv_loop_close(&loop);
	if (rc < 0 && *out) {
		sip_resolve_result_free(*out);
		*out = NULL;
	}
	return rc;
}
