/* bench/location_mem.c — resident bytes per binding of the in-memory location
 * store, for issue 4's "<= 1 KiB per stored binding" budget. Upserts N
 * bindings shaped like the ones bench/register.sh makes SIPp send (one
 * binding per AOR "sip:user<i>@localhost", Contact "<sip:user<i>@127.0.0.1:5060>",
 * Call-ID "1-<pid>@127.0.0.1", no User-Agent, Expires 3600), then reports:
 *
 *   heap  — glibc mallinfo2() uordblks + hblkhd delta: bytes in use by
 *           malloc, chunk headers and rounding included (hblkhd: blocks big
 *           enough to be mmapped, such as the hash table's bucket array);
 *   rss   — /proc/self/statm resident delta (pages actually touched);
 *
 * both divided by N. Then refreshes every binding once (a re-REGISTER: the
 * figures must not grow) and times N lookups. Nothing here is a timed test.
 * heap_left after close is what glibc still counts as used: chunks parked
 * in its per-thread cache (a few KiB; GLIBC_TUNABLES=glibc.malloc.tcache_count=0
 * shows 0 when the store frees everything).
 *
 * Output: one line per figure set, "location_mem.<what> key=value ...".
 * Usage: build/bench/location_mem [n]   (default 10000) */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sip/location.h>

#define BENCH_MAX_N 10000000 /* keeps the user numbers in the fixed buffers */

static long rss_bytes(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

static long heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();
	return (long)(mi.uordblks + mi.hblkhd);
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

struct sipp_binding {
	char aor[64], contact[64], call_id[64];
	struct sip_binding b;
};

/* One SIPp-like REGISTER's binding for user i. */
static void make(struct sipp_binding *s, long i, uint32_t cseq)
{
	int na = snprintf(s->aor, sizeof s->aor, "sip:user%ld@localhost", i);
	int nc = snprintf(s->contact, sizeof s->contact, "<sip:user%ld@127.0.0.1:5060>", i);
	int ni = snprintf(s->call_id, sizeof s->call_id, "1-%ld@127.0.0.1", 12345 + i);
	s->b = (struct sip_binding){
		.aor = {s->aor, (size_t)na},
		.contact_uri = {s->contact + 1, (size_t)nc - 2},
		.contact = {s->contact, (size_t)nc},
		.q = -1,
		.expires = 1000 + 3600,
		.call_id = {s->call_id, (size_t)ni},
		.cseq = cseq,
	};
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
	if (n <= 0 || n > BENCH_MAX_N) {
		fprintf(stderr, "usage: %s [n (1..%d)]\n", argv[0], BENCH_MAX_N);
		return 2;
	}
	const int64_t now = 1000;
	struct sipp_binding s;
	/* Warm up stdio and /proc reading so their buffers are not counted. */
	static char outbuf[4096];
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	(void)rss_bytes();
	long m0 = heap_bytes();
	long r0 = rss_bytes();

	struct sip_location *loc;
	if (sip_location_open_memory(&loc, NULL) != 0)
		return 1;
	for (long i = 0; i < n; i++) {
		make(&s, i, 1);
		if (sip_location_upsert(loc, &s.b, now) != 0) {
			fprintf(stderr, "upsert %ld failed\n", i);
			return 1;
		}
	}
	if (sip_location_count(loc, SIP_STR_NULL, now) != n) {
		fprintf(stderr, "count mismatch\n");
		return 1;
	}
	long m1 = heap_bytes();
	long r1 = rss_bytes();
	printf("location_mem.insert n=%ld heap_per_binding=%.1f rss_per_binding=%.1f\n", n,
	       (double)(m1 - m0) / (double)n, (double)(r1 - r0) / (double)n);

	/* A re-REGISTER of every user: same Call-ID, next CSeq. */
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		make(&s, i, 2);
		if (sip_location_upsert(loc, &s.b, now + 1) != 0) {
			fprintf(stderr, "refresh %ld failed\n", i);
			return 1;
		}
	}
	double t1 = now_ns();
	long m2 = heap_bytes();
	long r2 = rss_bytes();
	printf("location_mem.refresh n=%ld heap_per_binding=%.1f rss_per_binding=%.1f ns_per_upsert=%.0f\n", n,
	       (double)(m2 - m0) / (double)n, (double)(r2 - r0) / (double)n, (t1 - t0) / (double)n);

	t0 = now_ns();
	size_t found = 0;
	for (long i = 0; i < n; i++) {
		make(&s, i, 2);
		struct sip_binding_list l;
		if (sip_location_lookup(loc, s.b.aor, now + 2, &l) == 0)
			found += l.n;
		sip_binding_list_free(&l);
	}
	t1 = now_ns();
	printf("location_mem.lookup n=%ld found=%zu ns_per_lookup=%.0f\n", n, found, (t1 - t0) / (double)n);

	sip_location_close(loc);
	long m3 = heap_bytes();
	printf("location_mem.close heap_left=%ld\n", m3 - m0);
	return found == (size_t)n ? 0 : 1;
}
