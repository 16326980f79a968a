/* select.c — the proxy's choices that are pure functions: which final
 * response of a forked request wins (§16.7 step 6) and the branch ids that
 * carry the number of the worker owning the client transaction. */
#include <sip/proxy.h>
#include <stdio.h>
#include <string.h>

#include "core/ctype.h"

/* Rank of a final status as the answer to a fork: lower wins. */
static int rank(int status)
{
	int cls = status / 100;
	if (cls == 6)
		return 0;
	int r = cls * 10;
	if (status == 401 || status == 407)
		r -= 1; /* the caller can answer a challenge: keep it over other 4xx */
	if (status == 503)
		r += 1; /* "only if nothing better": 503 is about the next hop, not the callee */
	return r;
}

bool sip_proxy_better(int best, int cand)
{
	if (cand < 200 || cand > 699)
		return false;
	if (best < 200)
		return true;
	return rank(cand) < rank(best);
}

int sip_proxy_upstream_status(int status)
{
	return status == 503 ? 500 : status;
}

#define MARK "z9hG4bK-sd"

int sip_proxy_branch(unsigned worker, struct sip_str token, char *out, size_t cap)
{
	if (!out || worker > SIP_PROXY_MAX_WORKER || !token.len)
		return SIP_EINVAL;
	for (size_t i = 0; i < token.len; i++)
		if (!SIP_IS(token.p[i], SIP_C_TOKEN))
			return SIP_EINVAL;
	int n = snprintf(out, cap, MARK "%u-%.*s", worker, SIP_STR_ARG(token));
	if (n < 0 || (size_t)n >= cap)
		return SIP_ETOOBIG;
	return n;
}

int sip_proxy_branch_worker(struct sip_str b)
{
	size_t m = sizeof(MARK) - 1, i = m;
	if (b.len <= m || memcmp(b.p, MARK, m) != 0)
		return -1;
	unsigned v = 0;
	while (i < b.len && b.p[i] >= '0' && b.p[i] <= '9' && i < m + 3)
		v = v * 10 + (unsigned)(b.p[i++] - '0');
	if (i == m || i >= b.len || b.p[i] != '-' || v > SIP_PROXY_MAX_WORKER)
		return -1;
	return (int)v;
}
