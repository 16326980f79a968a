/* location_sqlite.c — CPU and wall time per REGISTER of the SQLite location
 * store, doing what the registrar does for SIPp's register scenario: in a
 * batch, per REGISTER a lookup of the AOR then an upsert of its one contact,
 * a COMMIT every BATCH REGISTERs. Pass 1 inserts NAORS bindings, pass 2
 * refreshes them (same contact, new Call-ID).
 *
 * usage: location_sqlite [naors] [batch] [db path] */
#include <sip/location.h>
#include <sip/registrar.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NAORS_DEFAULT 10000
#define BATCH_DEFAULT 32
#define FIELD_CAP 96

static double now_us(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void unlink_db(const char *path)
{
	char p[512];
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
}

/* One pass over every AOR; returns the number of failed REGISTERs. */
static long run_pass(struct sip_location *loc, long naors, long batch, long pass, int64_t now)
{
	char aor[FIELD_CAP], contact[FIELD_CAP + 2], uri[FIELD_CAP], callid[FIELD_CAP];
	long failed = 0;
	if (sip_location_begin(loc) != 0)
		return naors;
	for (long i = 0; i < naors; i++) {
		snprintf(aor, sizeof aor, "sip:user%ld@localhost", i);
		snprintf(uri, sizeof uri, "sip:user%ld@127.0.0.1:5060", i);
		snprintf(contact, sizeof contact, "<%s>", uri);
		snprintf(callid, sizeof callid, "%ld-%ld-%ld@127.0.0.1", pass, i, (long)getpid());
		struct sip_binding_list cur;
		if (sip_location_lookup(loc, sip_str_c(aor), now, &cur) != 0) {
			failed++;
			continue;
		}
		sip_binding_list_free(&cur);
		struct sip_binding b = {
			.aor = sip_str_c(aor),
			.contact_uri = sip_str_c(uri),
			.contact = sip_str_c(contact),
			.q = -1,
			.expires = now + 3600,
			.call_id = sip_str_c(callid),
			.cseq = 1,
			.received = SIP_STR("udp:127.0.0.1:5060"),
			.user_agent = SIP_STR("SIPp"),
		};
		if (sip_location_upsert(loc, &b, now) != 0)
			failed++;
		if ((i + 1) % batch == 0) {
			if (sip_location_commit(loc) != 0 || sip_location_begin(loc) != 0)
				return failed + naors - i;
		}
	}
	if (sip_location_commit(loc) != 0)
		failed++;
	return failed;
}

int main(int argc, char **argv)
{
	long naors = argc > 1 ? strtol(argv[1], NULL, 10) : NAORS_DEFAULT;
	long batch = argc > 2 ? strtol(argv[2], NULL, 10) : BATCH_DEFAULT;
	char path[256];
	if (argc > 3)
		snprintf(path, sizeof path, "%s", argv[3]);
	else
		snprintf(path, sizeof path, "/tmp/sipd-bench-location-%ld.db", (long)getpid());
	if (naors <= 0 || batch <= 0) {
		fprintf(stderr, "usage: %s [naors] [batch] [db path]\n", argv[0]);
		return 2;
	}
	unlink_db(path);
	struct sip_location *loc;
	/* The registrar's Contact URI equality, as sipd opens the store. */
	struct sip_location_config lc = {.uri_eq = sip_registrar_uri_eq};
	if (sip_location_open_sqlite(&loc, path, &lc) != 0) {
		fprintf(stderr, "cannot open %s\n", path);
		return 1;
	}
	int64_t now = (int64_t)time(NULL);
	const char *name[2] = {"insert", "refresh"};
	int status = 0;
	printf("sqlite location store, %ld AORs, COMMIT every %ld REGISTERs (WAL, synchronous=FULL), %s\n", naors,
	       batch, path);
	for (long pass = 0; pass < 2; pass++) {
		double c0 = now_us(CLOCK_PROCESS_CPUTIME_ID), w0 = now_us(CLOCK_MONOTONIC);
		long failed = run_pass(loc, naors, batch, pass, now);
		double c1 = now_us(CLOCK_PROCESS_CPUTIME_ID), w1 = now_us(CLOCK_MONOTONIC);
		printf("%-8s cpu %6.2f us/REGISTER  wall %6.2f us/REGISTER  failed %ld\n", name[pass],
		       (c1 - c0) / (double)naors, (w1 - w0) / (double)naors, failed);
		if (failed)
			status = 1;
	}
	if (sip_location_count(loc, SIP_STR_NULL, now) != naors) {
		fprintf(stderr, "expected %ld bindings, store has %d\n", naors, sip_location_count(loc, SIP_STR_NULL, now));
		status = 1;
	}
	sip_location_close(loc);
	unlink_db(path);
	return status;
}
