/* fork.c — the decisions of one proxied request over its branches, with
 * no I/O (sip/proxy.h): which responses go up and when (§16.7 steps 5-10),
 * which branches to CANCEL (2xx, 6xx, a CANCEL from upstream; never before
 * a provisional, §9.1), and Timer C (§16.6 step 11, §16.8). */
#include <sip/proxy.h>
#include <string.h>

static void clear(struct sip_proxy_out *out)
{
	memset(out, 0, sizeof(*out));
}

/* Starts as many branches of the current group as the Max-Breadth left
 * allows (RFC 5393 §5.3.3): when the rest of the group fits, they share
 * what is left; otherwise each gets 1 and the others follow as branches end. */
static void start_more(struct sip_proxy_fork *f, struct sip_proxy_out *out)
{
	unsigned used = 0;
	for (unsigned i = 0; i < f->started; i++)
		if (!f->br[i].done)
			used += f->br[i].breadth;
	unsigned left = f->breadth > used ? f->breadth - used : 0;
	unsigned a = f->started, want = f->group_end - a;
	unsigned m = want < left ? want : left;
	if (!m)
		return;
	for (unsigned k = 0; k < m; k++)
		f->br[a + k].breadth = m < want ? 1 : left / m + (k < left % m ? 1 : 0);
	f->started = a + m;
	/* One event may start branches twice (a group's first ones, then more):
	 * the ranges are adjacent, so they merge. */
	if (out->start_to > out->start_from && out->start_to == a)
		out->start_to = a + m;
	else {
		out->start_from = a;
		out->start_to = a + m;
	}
}

/* Starts the next group of equal q (§16.6: highest q first); Timer C
 * starts over for it. */
static void start_group(struct sip_proxy_fork *f, struct sip_proxy_out *out)
{
	unsigned a = f->started, b = a;
	if (a && f->invite && !f->timer_c_fired)
		f->deadline = f->last_now + f->timer_c_ms;
	while (b < f->n && (b == a || f->q[b] == f->q[a]))
		b++;
	f->group_end = b;
	start_more(f, out);
}

void sip_proxy_fork_init(struct sip_proxy_fork *f, unsigned n, const int32_t *q, bool invite, sip_ms_t now,
			 uint32_t timer_c_ms, uint32_t grace_ms, unsigned max_breadth, struct sip_proxy_out *out)
{
	memset(f, 0, sizeof(*f));
	clear(out);
	f->n = n > SIP_PROXY_MAX_BRANCHES ? SIP_PROXY_MAX_BRANCHES : n;
	f->pending = f->n;
	f->invite = invite;
	f->best_branch = -1;
	for (unsigned i = 0; i < f->n; i++)
		f->q[i] = !q || q[i] < 0 ? 1000 : q[i];
	f->timer_c_ms = timer_c_ms ? timer_c_ms : SIP_PROXY_TIMER_C_MS;
	f->grace_ms = grace_ms;
	f->breadth = max_breadth ? max_breadth : SIP_PROXY_DEFAULT_MAX_BREADTH;
	f->deadline = invite && f->n ? now + f->timer_c_ms : SIP_MS_NEVER;
	f->last_now = now;
	if (f->n)
		start_group(f, out);
}


/* CANCEL every branch still without a final answer: now when it has had a
 * provisional, else when it gets one — or, on Timer C, end it as 408. */
static void cancel_pending(struct sip_proxy_fork *f, bool timer_c, struct sip_proxy_out *out);

/* Every branch answered and nothing final went up yet: the best does —
 * or, when the started ones all failed and a lower-q group waits, it starts. */
static void maybe_finish(struct sip_proxy_fork *f, struct sip_proxy_out *out)
{
	if (f->final_sent)
		return;
	bool go_on = !f->cancelled && f->best < 600;
	if (f->started < f->group_end && go_on) {
		start_more(f, out); /* a branch ended: its breadth goes to the next of its group */
		return;
	}
	if (f->pending > f->n - f->started)
		return; /* a started branch is still out */
	if (f->started < f->n && go_on) {
		start_group(f, out);
		return;
	}
	if (f->pending)
		return;
	f->final_sent = true;
	f->deadline = SIP_MS_NEVER;
	int st = f->best ? f->best : 408;
	bool kept = f->best_branch >= 0;
	out->final_from_kept = kept && sip_proxy_upstream_status(st) == st;
	out->final_status = kept ? sip_proxy_upstream_status(st) : st;
}

/* Branch i has its final non-2xx status (kept: a response the caller holds). */
static void final_failure(struct sip_proxy_fork *f, unsigned i, int status, bool from_branch,
			  struct sip_proxy_out *out)
{
	struct sip_proxy_branch_state *b = &f->br[i];
	b->done = true;
	b->status = status;
	f->pending--;
	if (!f->pending)
		f->deadline = SIP_MS_NEVER;
	/* Within a class, a real answer from downstream beats one made here
	 * (a callee's 486 says more than our 482 for another binding). */
	bool upgrade = from_branch && f->best_branch < 0 && f->best / 100 == status / 100 && f->best < 600;
	if (sip_proxy_better(f->best, status) || upgrade) {
		f->best = status;
		f->best_branch = from_branch ? (int)i : -1;
		out->keep = from_branch;
	}
	if (status >= 600)
		cancel_pending(f, false, out); /* §16.7 step 10 */
	maybe_finish(f, out);
}

/* The groups not started yet never will be (a 2xx, a 6xx, a CANCEL, Timer C). */
static void drop_unstarted(struct sip_proxy_fork *f)
{
	for (unsigned i = f->started; i < f->n; i++) {
		f->br[i].done = true;
		f->pending--;
	}
	f->started = f->n;
	if (!f->pending)
		f->deadline = SIP_MS_NEVER;
}

static void cancel_pending(struct sip_proxy_fork *f, bool timer_c, struct sip_proxy_out *out)
{
	drop_unstarted(f);
	if (!f->invite)
		return;
	for (unsigned i = 0; i < f->n; i++) {
		struct sip_proxy_branch_state *b = &f->br[i];
		if (b->done || b->cancel_sent)
			continue;
		if (b->provisional) {
			out->cancel_mask |= 1u << i;
			b->cancel_wanted = false;
			b->cancel_sent = true;
		} else if (timer_c) {
			final_failure(f, i, 408, false, out);
		} else {
			b->cancel_wanted = true;
		}
	}
}

void sip_proxy_fork_response(struct sip_proxy_fork *f, unsigned i, int status, sip_ms_t now,
			     struct sip_proxy_out *out)
{
	clear(out);
	if (i >= f->started || status < 100 || status > 699)
		return;
	f->last_now = now;
	struct sip_proxy_branch_state *b = &f->br[i];
	if (status < 200) {
		if (b->done)
			return;
		b->provisional = true;
		if (b->cancel_wanted) {
			out->cancel_mask |= 1u << i;
			b->cancel_wanted = false;
			b->cancel_sent = true;
		}
		if (status == 100)
			return; /* §16.7 step 5: never relayed, and it does not restart Timer C */
		if (f->invite && !f->timer_c_fired && f->pending)
			f->deadline = now + f->timer_c_ms;
		out->relay = !f->final_sent;
		return;
	}
	if (status < 300) {
		/* Step 5: every 2xx of an INVITE goes up at once — its
		 * retransmissions too, and after a final of ours; a non-INVITE
		 * has one final, the first. */
		out->relay = f->invite || !f->final_sent;
		if (b->done && b->status / 100 == 2)
			return; /* its own 2xx again */
		/* A branch Timer C gave up on (408 made here) may still answer
		 * 2xx: it goes up too ("after a final response has been sent
		 * ... any 2xx response to an INVITE"), and like any 2xx it ends
		 * the fork — no final of ours may follow it, the rest are
		 * CANCELled. */
		if (!b->done) {
			b->done = true;
			f->pending--;
		}
		b->status = status;
		f->final_sent = true;
		f->deadline = SIP_MS_NEVER;
		cancel_pending(f, false, out);
		return;
	}
	if (b->done)
		return; /* a retransmitted final: the client transaction answers it */
	final_failure(f, i, status, true, out);
}

void sip_proxy_fork_failed(struct sip_proxy_fork *f, unsigned i, int status, struct sip_proxy_out *out)
{
	clear(out);
	if (i >= f->started || f->br[i].done)
		return;
	final_failure(f, i, status < 300 || status > 699 ? 500 : status, false, out);
}

void sip_proxy_fork_cancel(struct sip_proxy_fork *f, struct sip_proxy_out *out)
{
	clear(out);
	f->cancelled = true;
	cancel_pending(f, false, out);
}

void sip_proxy_fork_timer(struct sip_proxy_fork *f, sip_ms_t now, struct sip_proxy_out *out)
{
	clear(out);
	if (f->deadline == SIP_MS_NEVER || now < f->deadline)
		return;
	f->last_now = now;
	if (!f->timer_c_fired) {
		/* §16.8: CANCEL what answered provisionally, 408 for the rest; the
		 * CANCELled ones get grace_ms to send their final answer. */
		f->timer_c_fired = true;
		f->deadline = now + f->grace_ms;
		cancel_pending(f, true, out);
		if (!f->pending)
			f->deadline = SIP_MS_NEVER;
		return;
	}
	f->deadline = SIP_MS_NEVER;
	for (unsigned i = 0; i < f->n; i++)
		if (!f->br[i].done)
			final_failure(f, i, 408, false, out);
}

sip_ms_t sip_proxy_fork_deadline(const struct sip_proxy_fork *f)
{
	return f->deadline;
}
