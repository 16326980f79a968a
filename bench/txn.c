/* bench/txn.c — transaction layer figures on the virtual clock with a no-op
 * transport: memory per transaction at 10k / 100k / 1M concurrent
 * transactions (a 25% mix each of ICT, NICT, IST, NIST), the cost of timer
 * operations on the heap at those sizes (O(log n) shows as slow growth), and
 * the cost of matching an incoming request/response to its transaction.
 *
 * Output: one machine-readable line per figure set, "txn.<what> key=value ...".
 * Usage: build/bench/txn [max_n]   (default 1000000) */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sip/clock.h>
#include <sip/msg.h>
#include <sip/txn.h>
#include "transaction/timer_heap.h"

/* ---- allocator seam that counts live bytes (usable size, as malloc sees it) ---- */
static size_t live_bytes;
static void *c_malloc(size_t n, void *ud)
{
	(void)ud;
	void *p = malloc(n);
	if (p)
		live_bytes += malloc_usable_size(p);
	return p;
}
static void *c_realloc(void *p, size_t n, void *ud)
{
	(void)ud;
	size_t old = p ? malloc_usable_size(p) : 0;
	void *q = realloc(p, n);
	if (q)
		live_bytes += malloc_usable_size(q) - old;
	return q;
}
static void c_free(void *p, void *ud)
{
	(void)ud;
	if (p)
		live_bytes -= malloc_usable_size(p);
	free(p);
}
static const struct sip_mem counting = {c_malloc, c_realloc, c_free, NULL};

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int noop_send(void *ctx, struct sip_txn *t, const char *b, size_t n, const struct sip_txn_dest *d)
{
	(void)ctx, (void)t, (void)b, (void)n, (void)d;
	return 0;
}
static void noop_tu(void *ctx, struct sip_txn *t, enum sip_txn_event ev, const struct sip_msg *m)
{
	(void)ctx, (void)t, (void)ev, (void)m;
}

static const char *const methods[4] = {"INVITE", "OPTIONS", "INVITE", "REGISTER"};

/* Request i: kind i%4 = ICT, NICT, IST, NIST. */
static int request_text(char *buf, size_t cap, size_t i, const char *method)
{
	return snprintf(buf, cap,
			"%s sip:user%zu@example.com SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 192.0.2.%zu:5060;branch=z9hG4bK%08zx\r\n"
			"Max-Forwards: 70\r\n"
			"To: <sip:user%zu@example.com>\r\n"
			"From: <sip:caller@example.org>;tag=%zx\r\n"
			"Call-ID: %zx@192.0.2.1\r\n"
			"CSeq: 1 %s\r\n"
			"Contact: <sip:caller@192.0.2.1:5060>\r\n"
			"Content-Length: 0\r\n\r\n",
			method, i, i % 250 + 1, i, i, i * 7919u, i, method);
}

static int response_text(char *buf, size_t cap, size_t i, const char *method, int code)
{
	return snprintf(buf, cap,
			"SIP/2.0 %d Trying\r\n"
			"Via: SIP/2.0/UDP 192.0.2.%zu:5060;branch=z9hG4bK%08zx\r\n"
			"To: <sip:user%zu@example.com>\r\n"
			"From: <sip:caller@example.org>;tag=%zx\r\n"
			"Call-ID: %zx@192.0.2.1\r\n"
			"CSeq: 1 %s\r\n"
			"Content-Length: 0\r\n\r\n",
			code, i % 250 + 1, i, i, i * 7919u, i, method);
}

static int parse(struct sip_msg *m, const char *buf, int len)
{
	struct sip_parse_err err;
	return sip_msg_parse(m, buf, (size_t)len, SIP_PARSE_DATAGRAM, &err) > 0 ? 0 : -1;
}

#define SAMPLES 2048
#define ROUNDS 50

static int run_layer(size_t n)
{
	static char buf[1024];
	struct sip_msg *m = malloc(sizeof(*m));
	struct sip_txn_dest dest = {.addr_len = 4, .transport = 1};
	struct sip_txn_callbacks cb = {noop_send, noop_tu, NULL};
	struct sip_txn_config cfg;
	sip_txn_config_default(&cfg);
	cfg.hash_seed = 0x9e3779b97f4a7c15ull;

	sip_mem_set(&counting);
	size_t before = live_bytes;
	struct mallinfo2 mi0 = mallinfo2();
	struct sip_txn_layer *l;
	if (sip_txn_layer_new(&l, &cfg, &cb))
		return -1;
	double t0 = now_ns();
	for (size_t i = 0; i < n; i++) {
		int kind = (int)(i % 4);
		int len = request_text(buf, sizeof(buf), i, methods[kind]);
		if (parse(m, buf, len))
			return -1;
		int rc;
		if (kind < 2) {
			struct sip_txn *t;
			rc = sip_txn_client_new(l, m, &dest, 0, &t);
		} else {
			rc = sip_txn_on_message(l, m, &dest, 0);
		}
		if (rc) {
			fprintf(stderr, "create %zu: %s\n", i, sip_strerror(rc));
			return -1;
		}
	}
	double t1 = now_ns();
	struct mallinfo2 mi1 = mallinfo2();
	size_t used = live_bytes - before;
	struct sip_txn_stats st;
	sip_txn_layer_stats(l, &st);
	double dn = (double)n;
	/* Transactions and kept messages live in the layer's slabs (mapped
	 * directly, so not seen by the seam); the table, the timer heap and
	 * anything over the pool's size limit come through the seam. */
	size_t total = used + st.pool_bytes;
	printf("txn.mem n=%zu txns=%zu bytes_per_txn=%.1f bytes_per_txn_excl_msg=%.1f pool_bytes_per_txn=%.1f "
	       "msg_bytes_per_txn=%.1f struct_bytes_per_txn=%.1f table_bytes_per_txn=%.1f "
	       "timer_bytes_per_txn=%.1f mallinfo_bytes_per_txn=%.1f create_ns=%.0f\n",
	       n, st.txns, total / dn, (total - st.msg_bytes) / dn, st.pool_bytes / dn, st.msg_bytes / dn,
	       st.txn_bytes / dn, st.table_bytes / dn, st.timer_bytes / dn,
	       (double)(mi1.uordblks - mi0.uordblks) / dn, (t1 - t0) / dn);

	/* Matching: retransmitted requests to NISTs in Trying (absorbed, no
	 * send) and 1xx responses to NICTs (passed to the no-op TU), on
	 * pre-parsed messages spread over the whole table. */
	struct sip_msg *req = malloc(SAMPLES * sizeof(*req));
	struct sip_msg *resp = malloc(SAMPLES * sizeof(*resp));
	char (*rbuf)[1024] = malloc(SAMPLES * sizeof(*rbuf));
	char (*sbuf)[1024] = malloc(SAMPLES * sizeof(*sbuf));
	uint64_t x = 12345;
	for (size_t s = 0; s < SAMPLES; s++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		size_t i = (size_t)(x >> 33) % (n / 4) * 4;
		if (parse(&req[s], rbuf[s], request_text(rbuf[s], sizeof(rbuf[s]), i + 3, methods[3])) ||
		    parse(&resp[s], sbuf[s], response_text(sbuf[s], sizeof(sbuf[s]), i + 1, methods[1], 100)))
			return -1;
	}
	double a = now_ns();
	for (int r = 0; r < ROUNDS; r++)
		for (size_t s = 0; s < SAMPLES; s++)
			sip_txn_on_message(l, &req[s], &dest, 1);
	double b = now_ns();
	for (int r = 0; r < ROUNDS; r++)
		for (size_t s = 0; s < SAMPLES; s++)
			sip_txn_on_message(l, &resp[s], &dest, 1);
	double c = now_ns();
	printf("txn.match n=%zu request_match_ns=%.1f response_match_ns=%.1f\n", n,
	       (b - a) / (SAMPLES * ROUNDS), (c - b) / (SAMPLES * ROUNDS));
	free(req);
	free(resp);
	free(rbuf);
	free(sbuf);

	/* Firing: run the virtual clock past every deadline (retransmissions,
	 * 100 Trying, timeouts) until the table is empty. */
	size_t fired = 0;
	double f0 = now_ns();
	for (sip_ms_t d; (d = sip_txn_next_deadline(l)) != SIP_MS_NEVER;)
		fired += sip_txn_process_timers(l, d);
	double f1 = now_ns();
	printf("txn.expire n=%zu timers_fired=%zu ns_per_fire=%.1f left=%zu\n", n, fired, (f1 - f0) / (double)fired,
	       sip_txn_layer_count(l));
	sip_txn_layer_free(l);
	sip_mem_set(NULL);
	free(m);
	return 0;
}

/* The bare heap: n armed timers, then arm+cancel of one more, then pops. */
static void run_heap(size_t n)
{
	struct sip__theap h = {0};
	struct sip__timer *tm = calloc(n + 1, sizeof(*tm));
	sip__theap_reserve(&h, n + 1);
	uint64_t x = 42;
	for (size_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		sip__theap_arm(&h, &tm[i], (x >> 33) % 64000);
	}
	enum { OPS = 1000000 };
	double a = now_ns();
	for (int i = 0; i < OPS; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		sip__theap_arm(&h, &tm[n], (x >> 33) % 64000);
		sip__theap_cancel(&h, &tm[n]);
	}
	double b = now_ns();
	/* Re-arm of an armed timer (Timer A/E/G doubling). */
	for (int i = 0; i < OPS; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		sip__theap_arm(&h, &tm[(x >> 33) % n], (x >> 20) % 64000);
	}
	double c = now_ns();
	size_t pops = 0;
	while (sip__theap_pop_due(&h, SIP_MS_NEVER - 1))
		pops++;
	double d = now_ns();
	printf("txn.timer n=%zu arm_cancel_ns=%.1f rearm_ns=%.1f fire_ns=%.1f\n", n, (b - a) / OPS, (c - b) / OPS,
	       (d - c) / (double)pops);
	sip__theap_free(&h);
	free(tm);
}

int main(int argc, char **argv)
{
	size_t max_n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	for (size_t n = 10000; n <= max_n; n *= 10) {
		run_heap(n);
		if (run_layer(n)) {
			fprintf(stderr, "bench failed at n=%zu\n", n);
			return 1;
		}
	}
	return 0;
}
