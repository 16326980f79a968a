/* clock.c — the clock seam: the one place libsip reads real time, plus the
 * virtual clock used by tests. */
#include <sip/clock.h>
#include <time.h>

sip_ms_t sip_clock_now(const struct sip_clock *c) { return c->now(c->ctx); }

static sip_ms_t mono_now(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	/* CLOCK_MONOTONIC cannot fail with a valid clock id; keep 0 if it does. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (sip_ms_t)ts.tv_sec * 1000u + (sip_ms_t)ts.tv_nsec / 1000000u;
}

static const struct sip_clock mono_clock = {mono_now, NULL};

const struct sip_clock *sip_clock_monotonic(void) { return &mono_clock; }

static sip_ms_t vclock_now(void *ctx) { return ((const struct sip_vclock *)ctx)->now_ms; }

void sip_vclock_init(struct sip_vclock *vc, sip_ms_t start_ms)
{
	vc->clock.now = vclock_now;
	vc->clock.ctx = vc;
	vc->now_ms = start_ms;
}

void sip_vclock_advance(struct sip_vclock *vc, sip_ms_t ms)
{
	/* Saturate rather than wrap: time never runs backwards. */
	vc->now_ms = (ms > SIP_MS_NEVER - vc->now_ms) ? SIP_MS_NEVER : vc->now_ms + ms;
}

void sip_vclock_set(struct sip_vclock *vc, sip_ms_t ms)
{
	if (ms > vc->now_ms)
		vc->now_ms = ms;
}
