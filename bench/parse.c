/* parse.c — bench/parse: parses one corpus (the RFC 4475 messages whose
 * verdict is "valid" and the tests/data/typical .sip files) with libsip, libosip2,
 * sofia-sip and libre, reading the top Via, From, To, CSeq, Call-ID and first
 * Contact from each so that lazy parsers do the same work as eager ones.
 *
 * stdout: one line per stack, `<stack> <messages/s> <ns/message>
 * <allocations/message> <bytes/message>`, nothing else. Diagnostics go to
 * stderr. See bench/README.md. */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "parse_alloc.h"

/* Include order matters, because the four stacks share the sip_ prefix:
 * libre first (parse_re.h renames its clashing types and SIP_HDR_* constants),
 * then libsip, then sofia-sip (parse_sofia.h hides its sip_method_name and
 * SIP_METHOD_* macros), then libosip2 (its SIP_OK macro would break libsip's
 * enum sip_err if it came first). Third-party headers are not written for
 * our warning set. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wpedantic"
#include "parse_re.h"
#pragma GCC diagnostic pop

#include "parse_libsip.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wpedantic"
#include "parse_sofia.h"
#include "parse_osip.h"
#pragma GCC diagnostic pop

#include "parse_common.h"

#ifndef SIP_TEST_DATA
#define SIP_TEST_DATA "tests/data"
#endif

#define BENCH_MAX_MSGS RE_MAX_MSGS         /* corpus messages */
#define BENCH_MAX_MSG_BYTES (1u << 20)     /* one corpus file */
#define BENCH_MAX_STACKS 4
#define BENCH_WARMUP_NS 100000000.0        /* 0.1 s of untimed runs per stack */

static const struct bench_stack *const stacks[BENCH_MAX_STACKS] = {
	&bench_libsip,
	&bench_osip,
	&bench_sofia,
	&bench_re,
};
static size_t nstacks;

static struct bench_msg msgs[BENCH_MAX_MSGS];
static bool typical[BENCH_MAX_MSGS]; /* from tests/data/typical: every stack must parse it */
static size_t nmsgs;
static volatile uint64_t sink;       /* keeps the checksums alive */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int load_file(const char *path, const char *name, bool is_typical)
{
	FILE *f;
	char *buf;
	size_t n;

	if (nmsgs == BENCH_MAX_MSGS) {
		fprintf(stderr, "parse: more than %d corpus messages\n", BENCH_MAX_MSGS);
		return -1;
	}
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "parse: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(BENCH_MAX_MSG_BYTES);
	if (!buf) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, BENCH_MAX_MSG_BYTES, f);
	fclose(f);
	if (n == 0 || n == BENCH_MAX_MSG_BYTES) {
		fprintf(stderr, "parse: %s: empty or over %u bytes\n", path, BENCH_MAX_MSG_BYTES);
		free(buf);
		return -1;
	}
	msgs[nmsgs].data = buf;
	msgs[nmsgs].len = n;
	snprintf(msgs[nmsgs].name, sizeof(msgs[nmsgs].name), "%s", name);
	typical[nmsgs] = is_typical;
	nmsgs++;
	return 0;
}

/* RFC 4475 messages whose verdict in expected.tsv is "valid", then typical/NAME.sip. */
static int load_corpus(const char *dir)
{
	char path[4096], line[4096];
	FILE *tsv;
	glob_t g;
	int rc;

	snprintf(path, sizeof(path), "%s/rfc4475/expected.tsv", dir);
	tsv = fopen(path, "r");
	if (!tsv) {
		fprintf(stderr, "parse: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), tsv)) {
		char *tab = strchr(line, '\t');
		if (!tab || strncmp(tab + 1, "valid\t", 6) != 0)
			continue;
		*tab = '\0';
		if ((size_t)snprintf(path, sizeof(path), "%s/rfc4475/%s", dir, line) >= sizeof(path) ||
		    load_file(path, line, false) < 0) {
			fclose(tsv);
			return -1;
		}
	}
	fclose(tsv);

	snprintf(path, sizeof(path), "%s/typical/*.sip", dir);
	rc = glob(path, 0, NULL, &g);
	if (rc != 0) {
		fprintf(stderr, "parse: no %s\n", path);
		return -1;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *name = strrchr(g.gl_pathv[i], '/');
		if (load_file(g.gl_pathv[i], name ? name + 1 : g.gl_pathv[i], true) < 0) {
			globfree(&g);
			return -1;
		}
	}
	globfree(&g);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %HH-decodes src into dst up to the first NUL: libosip2 hands out user parts
 * decoded into C strings, the others as escaped on the wire. */
static size_t user_norm(char *dst, const char *src, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = src[i];
		if (c == '%' && i + 2 < n && hexval(src[i + 1]) >= 0 && hexval(src[i + 2]) >= 0) {
			c = (char)(hexval(src[i + 1]) * 16 + hexval(src[i + 2]));
			i += 2;
		}
		if (c == '\0')
			break;
		dst[o++] = c;
	}
	return o;
}

static bool field_eq(enum bench_field f, const struct bench_out *a, const struct bench_out *b)
{
	size_t la = a->has[f] ? a->len[f] : 0, lb = b->has[f] ? b->len[f] : 0;

	if (f == BF_FROM_USER || f == BF_TO_USER || f == BF_CONTACT_USER) {
		char da[BENCH_FIELD_CAP], db[BENCH_FIELD_CAP];
		la = user_norm(da, a->val[f], la);
		lb = user_norm(db, b->val[f], lb);
		return la == lb && memcmp(da, db, la) == 0;
	}
	if (la != lb)
		return false;
	/* Host names compare without case; the rest byte for byte. */
	if (f == BF_VIA_HOST || f == BF_FROM_HOST || f == BF_TO_HOST || f == BF_CONTACT_HOST)
		return strncasecmp(a->val[f], b->val[f], la) == 0;
	return memcmp(a->val[f], b->val[f], la) == 0;
}

/* Untimed pass: which messages every stack accepts, and do they agree? */
static int check_pass(bool *use, size_t *nuse, bool verbose)
{
	static struct bench_out outs[BENCH_MAX_STACKS];
	size_t rejected[BENCH_MAX_STACKS] = {0};
	int failures = 0;

	*nuse = 0;
	for (size_t i = 0; i < nmsgs; i++) {
		bool all = true;
		for (size_t s = 0; s < nstacks; s++) {
			memset(&outs[s], 0, sizeof(outs[s]));
			outs[s].record = true;
			if (stacks[s]->run(i, &msgs[i], &outs[s]) < 0) {
				all = false;
				rejected[s]++;
				fprintf(stderr, "parse: %s rejects %s%s\n", stacks[s]->name, msgs[i].name,
					typical[i] ? " (typical message: a defect)" : "");
				/* libsip must take the whole corpus; the others only the
				 * plain typical messages. */
				if (typical[i] || strcmp(stacks[s]->name, "libsip") == 0)
					failures++;
			}
		}
		use[i] = all;
		if (!all)
			continue;
		(*nuse)++;
		int before = failures;
		for (size_t s = 1; s < nstacks; s++) {
			if (outs[s].cseq != outs[0].cseq) {
				fprintf(stderr, "parse: %s: CSeq number %u (%s) != %u (%s)\n", msgs[i].name,
					outs[s].cseq, stacks[s]->name, outs[0].cseq, stacks[0]->name);
				failures++;
			}
			for (int f = 0; f < BF__COUNT; f++) {
				if (field_eq((enum bench_field)f, &outs[s], &outs[0]))
					continue;
				fprintf(stderr, "parse: %s: %s \"%.*s\" (%s) != \"%.*s\" (%s)\n", msgs[i].name,
					bench_field_names[f], (int)outs[s].len[f], outs[s].val[f],
					stacks[s]->name, (int)outs[0].len[f], outs[0].val[f], stacks[0]->name);
				failures++;
			}
		}
		if (verbose && failures == before)
			fprintf(stderr, "parse: %s: all %zu stacks agree\n", msgs[i].name, nstacks);
	}
	for (size_t s = 0; s < nstacks; s++)
		fprintf(stderr, "parse: %s rejected %zu of %zu corpus messages\n", stacks[s]->name,
			rejected[s], nmsgs);
	fprintf(stderr, "parse: %zu of %zu messages parsed by every stack are measured\n", *nuse,
		nmsgs);
	return failures;
}

static int run_corpus(const struct bench_stack *st, const bool *use, struct bench_out *o)
{
	for (size_t i = 0; i < nmsgs; i++) {
		if (use[i] && st->run(i, &msgs[i], o) < 0)
			return -1;
	}
	return 0;
}

#if defined(__clang__)
#define BENCH_NOINLINE __attribute__((noinline))
#else
#define BENCH_NOINLINE __attribute__((noinline, noclone)) /* gcc would clone it as timed_round.constprop.0 */
#endif

struct bench_result {
	long iterations;        /* corpus passes per round */
	double best_ns;         /* fastest round, ns per message */
	double total_ns;        /* all rounds */
	double messages;        /* all rounds */
	struct bench_alloc_stats alloc; /* all rounds */
};

/* Warm-up (untimed): caches, branch predictors, allocator free lists; it
 * also sizes the rounds when only --seconds is given. */
static int warm_up(const struct bench_stack *st, const bool *use, double seconds, int rounds,
		   long iterations, struct bench_result *r)
{
	struct bench_out o = {0};
	double t0 = now_ns(), t1;
	long iters = 0;

	do {
		if (run_corpus(st, use, &o) < 0)
			return -1;
		iters++;
		t1 = now_ns();
	} while (t1 - t0 < BENCH_WARMUP_NS);
	sink += o.acc;
	memset(r, 0, sizeof(*r));
	r->best_ns = -1;
	r->iterations = iterations;
	if (iterations <= 0) {
		double per_iter = (t1 - t0) / (double)iters;
		r->iterations = (long)(seconds * 1e9 / rounds / per_iter);
		if (r->iterations < 1)
			r->iterations = 1;
	}
	return 0;
}

/* One timed round: the corpus r->iterations times, allocations counted.
 * Never inlined, so that callgrind --toggle-collect=timed_round can count
 * the instructions of the timed work alone (see README.md). */
BENCH_NOINLINE static void timed_round(const struct bench_stack *st, const bool *use, size_t nuse,
			struct bench_result *r)
{
	struct bench_out o = {0};
	double t0, t1;

	memset(&bench_alloc, 0, sizeof(bench_alloc));
	bench_alloc_counting = true;
	t0 = now_ns();
	for (long k = 0; k < r->iterations; k++)
		run_corpus(st, use, &o);
	t1 = now_ns();
	bench_alloc_counting = false;
	sink += o.acc;

	double n = (double)r->iterations * (double)nuse;
	double ns = (t1 - t0) / n;
	if (r->best_ns < 0 || ns < r->best_ns)
		r->best_ns = ns;
	r->total_ns += t1 - t0;
	r->messages += n;
	r->alloc.calls += bench_alloc.calls;
	r->alloc.bytes += bench_alloc.bytes;
	r->alloc.frees += bench_alloc.frees;
}

/* Rounds interleave the stacks so that a burst of load on a shared machine
 * hits all of them alike; each stack reports its fastest round. */
static int measure_all(const bool *use, size_t nuse, const char *only, double seconds, int rounds,
		       long iterations)
{
	static struct bench_result res[BENCH_MAX_STACKS];
	bool on[BENCH_MAX_STACKS] = {false};

	for (size_t s = 0; s < nstacks; s++) {
		if (only && strcmp(only, stacks[s]->name) != 0)
			continue;
		if (warm_up(stacks[s], use, seconds, rounds, iterations, &res[s]) < 0) {
			fprintf(stderr, "parse: %s failed in the warm-up\n", stacks[s]->name);
			return 1;
		}
		on[s] = true;
	}
	size_t non = 0;
	for (size_t s = 0; s < nstacks; s++)
		non += on[s];
	if (non == 0) {
		fprintf(stderr, "parse: no stack named %s\n", only);
		return 2;
	}
	for (int r = 0; r < rounds; r++) {
		for (size_t s = 0; s < nstacks; s++) {
			if (on[s])
				timed_round(stacks[s], use, nuse, &res[s]);
		}
	}
	for (size_t s = 0; s < nstacks; s++) {
		const struct bench_result *r = &res[s];
		if (!on[s])
			continue;
		printf("%s %.0f %.1f %.2f %.1f\n", stacks[s]->name, 1e9 / r->best_ns, r->best_ns,
		       (double)r->alloc.calls / r->messages, (double)r->alloc.bytes / r->messages);
		fprintf(stderr,
			"parse: %s: %d rounds x %ld iterations x %zu messages; mean %.1f ns, best %.1f ns; "
			"frees/message %.2f\n",
			stacks[s]->name, rounds, r->iterations, nuse, r->total_ns / r->messages, r->best_ns,
			(double)r->alloc.frees / r->messages);
	}
	fflush(stdout);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: parse [--seconds S | --iterations N] [--rounds R] [--check] [--data DIR] [--only STACK]\n"
		   "  --seconds S     time each stack for about S seconds in all (default 1)\n"
		   "  --iterations N  run the corpus exactly N times per stack and round instead\n"
		   "  --rounds R      interleave the stacks R times, report each one's fastest round (default 5)\n"
		   "  --check         only verify the stacks parse the corpus and agree; exit 1 if not\n"
		   "  --data DIR      corpus root (default " SIP_TEST_DATA ")\n"
		   "  --only STACK    measure one stack (libsip, libosip2, sofia-sip, libre)\n");
}

int main(int argc, char **argv)
{
	static bool use[BENCH_MAX_MSGS];
	const char *dir = SIP_TEST_DATA, *only = NULL;
	double seconds = 1.0;
	long iterations = 0;
	int rounds = 5;
	bool check = false;
	size_t nuse;
	int failures, rc = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end;
		if (strcmp(a, "--check") == 0) {
			check = true;
		} else if (strcmp(a, "--seconds") == 0 && i + 1 < argc) {
			seconds = strtod(argv[++i], &end);
			if (*end || !(seconds > 0 && seconds < 3600)) {
				usage(stderr);
				return 2;
			}
		} else if (strcmp(a, "--iterations") == 0 && i + 1 < argc) {
			iterations = strtol(argv[++i], &end, 10);
			if (*end || iterations <= 0) {
				usage(stderr);
				return 2;
			}
		} else if (strcmp(a, "--rounds") == 0 && i + 1 < argc) {
			long v = strtol(argv[++i], &end, 10);
			if (*end || v <= 0 || v > 1000) {
				usage(stderr);
				return 2;
			}
			rounds = (int)v;
		} else if (strcmp(a, "--data") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strcmp(a, "--only") == 0 && i + 1 < argc) {
			only = argv[++i];
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}

	while (nstacks < BENCH_MAX_STACKS && stacks[nstacks])
		nstacks++;
	if (!bench_alloc_works)
		fprintf(stderr, "parse: sanitizer build: allocations are not counted\n");
	if (load_corpus(dir) < 0)
		return 1;
	for (size_t s = 0; s < nstacks; s++) {
		if (stacks[s]->init && stacks[s]->init(msgs, nmsgs) != 0) {
			fprintf(stderr, "parse: %s: init failed\n", stacks[s]->name);
			return 1;
		}
	}

	failures = check_pass(use, &nuse, check);
	if (check) {
		fprintf(stderr, "parse: check %s (%d problems)\n", failures ? "FAILED" : "ok", failures);
		rc = failures ? 1 : 0;
	} else if (nuse == 0) {
		fprintf(stderr, "parse: no message is parsed by every stack\n");
		rc = 1;
	} else {
		if (failures)
			fprintf(stderr, "parse: warning: %d check problems (run --check)\n", failures);
		rc = measure_all(use, nuse, only, seconds, rounds, iterations);
	}

	for (size_t s = 0; s < nstacks; s++) {
		if (stacks[s]->fini)
			stacks[s]->fini();
	}
	for (size_t i = 0; i < nmsgs; i++)
		free((void *)msgs[i].data);
	return rc;
}
