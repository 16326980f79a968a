/* libFuzzer target: the proxy's fork (src/proxy/fork.c, RFC 3261 §16.6-16.10)
 * under any sequence of branch events a hostile or broken downstream, an
 * impatient caller and the clock can produce. A driver plays the proxy: it
 * starts what the fork says to start, CANCELs what it says to CANCEL, and
 * feeds responses only on started branches, as src/server/proxy.c does.
 *
 * Input: byte 0 the branch count (1..SIP_PROXY_MAX_BRANCHES), byte 1 flags
 * (bit 0: INVITE, bit 1: q-values from the next n bytes, else all parallel),
 * byte 2 Max-Breadth; then events, two bytes each (kind, argument):
 *   kind % 4 == 0  a response on started branch (arg % started): status
 *                  from the next byte pair (100..699)
 *   kind % 4 == 1  a started branch fails (408, 503 or 482)
 *   kind % 4 == 2  a CANCEL from upstream
 *   kind % 4 == 3  the clock runs to Timer C's deadline
 * What must hold (§16.7): one final response goes upstream — a non-2xx
 * only once every branch is done (or upstream CANCELled, or Timer C fired),
 * never after another final; after it only an INVITE's 2xx are relayed;
 * provisionals only before it; CANCEL only for started branches, once
 * each; branches start once, in order; and, once every started branch is
 * made to end, the final has been sent. */
#include <sip/proxy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct driver {
	struct sip_proxy_fork f;
	unsigned started; /* branches [0, started) were started */
	bool final_up;	  /* a final response went upstream */
	bool ok_up;	  /* a 2xx went upstream */
	bool branch_done[SIP_PROXY_MAX_BRANCHES];
	int branch_final[SIP_PROXY_MAX_BRANCHES]; /* the final its client transaction took */
	bool cancelled[SIP_PROXY_MAX_BRANCHES];	  /* a CANCEL went out on it */
	sip_ms_t now;
};

static bool debug; /* FUZZ_DEBUG=1: every event's outcome on stderr */

static void check(struct driver *d, const struct sip_proxy_out *o, int status)
{
	if (debug)
		fprintf(
		    stderr,
		    "t=%llu status %d -> relay %d keep %d final %d cancel %#x start [%u,%u) final_up %d\n",
		    (unsigned long long)d->now, status, o->relay, o->keep, o->final_status, o->cancel_mask,
		    o->start_from, o->start_to, d->final_up);
	/* Starts: the next branches, once each, within the fork. */
	if (o->start_to > o->start_from) {
		if (o->start_from != d->started || o->start_to > d->f.n)
			abort();
		d->started = o->start_to;
	}
	for (unsigned i = 0; i < SIP_PROXY_MAX_BRANCHES; i++)
		if ((o->cancel_mask >> i) & 1) {
			if (i >= d->started || d->cancelled[i])
				abort(); /* CANCEL for a branch never started, or a second one */
			d->cancelled[i] = true;
		}
	if (o->relay) {
		if (status < 100)
			abort(); /* nothing to relay */
		if (status < 200 && d->final_up)
			abort(); /* a provisional after the final */
		if (status >= 200 && status < 300) {
			/* §16.7 step 5: "After a final response has been sent on
			 * the server transaction, ... any 2xx response to an INVITE"
			 * still goes up; a non-INVITE has one final. */
			if (d->final_up && !d->f.invite)
				abort();
			d->final_up = d->ok_up = true;
		} else if (status >= 300) {
			abort(); /* non-2xx finals go up as final_status */
		}
	}
	if (o->final_status) {
		if (d->final_up)
			abort(); /* a second final */
		if (o->final_status < 300 || o->final_status > 699)
			abort();
		if (o->final_status < 600) {
			/* Below 6xx: only once no started branch waits (§16.7 step 4)
			 * and no group is left to try, or upstream CANCELled / Timer C. */
			for (unsigned i = 0; i < d->started; i++)
				if (!d->f.br[i].done && !d->f.cancelled && !d->f.timer_c_fired)
					abort();
		}
		d->final_up = true;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	struct driver d;
	memset(&d, 0, sizeof d);
	debug = getenv("FUZZ_DEBUG") != NULL;
	unsigned n = 1 + data[0] % SIP_PROXY_MAX_BRANCHES;
	bool invite = data[1] & 1;
	int32_t q[SIP_PROXY_MAX_BRANCHES];
	size_t i = 3;
	const int32_t *qp = NULL;
	if (data[1] & 2) {
		if (size < 3 + n)
			return 0;
		/* Highest first, as the caller sorts them; -1 is "none". */
		int32_t prev = 1000;
		for (unsigned k = 0; k < n; k++) {
			int32_t v = data[3 + k] == 255 ? -1 : (int32_t)(data[3 + k] * 1000 / 254);
			q[k] = v < 0 ? (k == 0 ? -1 : q[k - 1]) : (v > prev ? prev : v);
			if (q[k] >= 0)
				prev = q[k];
		}
		qp = q;
		i += n;
	}
	struct sip_proxy_out o;
	d.now = 1000;
	sip_proxy_fork_init(&d.f, n, qp, invite, d.now, 180000, 32000, data[2], &o);
	check(&d, &o, 0);

	while (i + 1 < size) {
		uint8_t kind = data[i], arg = data[i + 1];
		i += 2;
		if (!d.started && kind % 4 < 2)
			continue;
		switch (kind % 4) {
		case 0: {
			unsigned b = arg % d.started;
			int status = 100;
			if (i + 1 < size) {
				status = 100 + ((data[i] << 8 | data[i + 1]) % 600);
				i += 2;
			}
			/* What the client transaction lets through after a final:
			 * only an INVITE's 2xx after its 2xx (RFC 6026 Accepted). */
			if (d.branch_done[b] &&
			    !(invite && status / 100 == 2 && d.branch_final[b] / 100 == 2))
				continue;
			if (status >= 200 && !d.branch_done[b]) {
				d.branch_done[b] = true;
				d.branch_final[b] = status;
			}
			d.now += 10;
			sip_proxy_fork_response(&d.f, b, status, d.now, &o);
			check(&d, &o, status);
			break;
		}
		case 1: {
			unsigned b = arg % d.started;
			static const int why[] = {408, 503, 482};
			if (d.branch_done[b])
				continue;
			d.branch_done[b] = true;
			sip_proxy_fork_failed(&d.f, b, why[arg % 3], &o);
			check(&d, &o, 0);
			break;
		}
		case 2:
			sip_proxy_fork_cancel(&d.f, &o);
			check(&d, &o, 0);
			break;
		case 3: {
			sip_ms_t dl = sip_proxy_fork_deadline(&d.f);
			if (dl == SIP_MS_NEVER)
				continue;
			if (dl > d.now)
				d.now = dl;
			sip_proxy_fork_timer(&d.f, d.now, &o);
			check(&d, &o, 0);
			break;
		}
		}
	}

	/* Liveness: every started branch ends (its transaction times out at
	 * worst), the fork starts what it still wants; then the final is up. */
	for (int round = 0; round < SIP_PROXY_MAX_BRANCHES + 1; round++) {
		for (unsigned b = 0; b < d.started; b++) {
			if (d.branch_done[b])
				continue;
			d.branch_done[b] = true;
			sip_proxy_fork_failed(&d.f, b, 408, &o);
			check(&d, &o, 0);
		}
	}
	if (!d.final_up)
		abort(); /* every branch ended and nothing went upstream */
	return 0;
}
