/* libFuzzer target: the location store's two local backends against each
 * other — memory (src/location/memory.c: packed records, in-place resizes)
 * and SQLite (src/location/sqlite.c) — on the same script of upserts,
 * removals, purges, lookups and clock steps. Both implement one contract
 * (sip/location.h), so every return code, count and lookup must agree; a
 * difference is a bug in one of them.
 *
 * Each op is a kind byte and operand bytes (missing ones read as 0):
 *   0 upsert  (aor, contact, instance, reg-id, expires, call-id, cseq, q, field length)
 *   1 remove  (aor, contact)       2 remove every binding of an aor (aor)
 *   3 the clock advances (seconds) 4 purge
 *   5 lookup  (aor)                6 count (aor, or all when the byte is odd)
 * Contacts include URIs equal by RFC 3261 §19.1.4 but not byte for byte:
 * both stores compare with the registrar's sip_registrar_uri_eq. The SQLite
 * file lives on /dev/shm and each input runs inside one transaction that is
 * rolled back, so every input starts from an empty store. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sip/location.h>
#include <sip/registrar.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BINDINGS 4 /* small, so the cap is reached */

static const char *const aors[] = {"sip:alice@example.com", "sip:bob@example.com", "sips:carol@example.org"};
static const char *const contacts[] = {
    "sip:alice@192.0.2.1:5060",	  "sip:alice@192.0.2.1:5060;transport=udp", "sip:ALICE@192.0.2.1:5060",
    "sip:alice@192.0.2.2",	  "sip:alice@[2001:db8::1]:5070",	    "sip:bob@host.example.com;ob",
    "sip:%61lice@192.0.2.1:5060",
};
static const char *const instances[] = {"", "\"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>\"",
					"\"<urn:uuid:11111111-0000-1000-8000-000a95a0e128>\""};
static const char *const call_ids[] = {"cid-1@h", "cid-2@h"};

static struct sip_location *sql;
static char sql_path[64];
static char filler[SIP_LOCATION_MAX_FIELD];

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The SQLite file and its companions go when the fuzzer exits. */
static void remove_db(void)
{
	char p[80];
	sip_location_close(sql);
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s%s", sql_path, suffix[i]);
		unlink(p);
	}
}

/* Removes what a crashed run left (a crash skips atexit): files of ours
 * whose process is gone. */
static void remove_stale(void)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		int pid;
		if (sscanf(e->d_name, "fuzz-location-%d.db", &pid) != 1 || pid == (int)getpid() ||
		    (kill(pid, 0) != 0 && errno != ESRCH) || kill(pid, 0) == 0)
			continue;
		char p[300];
		snprintf(p, sizeof p, "/dev/shm/%s", e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
}

static void setup_once(void)
{
	if (sql)
		return;
	remove_stale();
	snprintf(sql_path, sizeof sql_path, "/dev/shm/fuzz-location-%d.db", (int)getpid());
	struct sip_location_config lc = {.uri_eq = sip_registrar_uri_eq, .max_bindings = MAX_BINDINGS};
	if (sip_location_open_sqlite(&sql, sql_path, &lc) != 0)
		abort();
	atexit(remove_db);
	memset(filler, 'x', sizeof filler);
}

static int cmp_binding(const void *a, const void *b)
{
	const struct sip_binding *x = a, *y = b;
	size_t n = x->contact_uri.len < y->contact_uri.len ? x->contact_uri.len : y->contact_uri.len;
	int c = memcmp(x->contact_uri.p, y->contact_uri.p, n);
	return c ? c : (x->contact_uri.len > y->contact_uri.len) - (x->contact_uri.len < y->contact_uri.len);
}

static bool same_binding(const struct sip_binding *x, const struct sip_binding *y)
{
	return sip_str_eq(x->aor, y->aor) && sip_str_eq(x->contact_uri, y->contact_uri) &&
	       sip_str_eq(x->contact, y->contact) && x->q == y->q && x->expires == y->expires &&
	       sip_str_eq(x->call_id, y->call_id) && x->cseq == y->cseq && sip_str_eq(x->path, y->path) &&
	       sip_str_eq(x->instance, y->instance) && x->reg_id == y->reg_id &&
	       sip_str_eq(x->received, y->received) && sip_str_eq(x->user_agent, y->user_agent) &&
	       x->updated == y->updated;
}

static int32_t qv(int32_t q)
{
	return q < 0 ? 1000 : q;
}

/* FUZZ_DEBUG=1: one backend's lookup on stderr, for reading a crash input. */
static void dump(const char *who, const struct sip_binding_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		fprintf(stderr, "%s %.*s q=%d upd=%lld exp=%lld\n", who, SIP_STR_ARG(l->v[i].contact_uri), l->v[i].q,
			(long long)l->v[i].updated, (long long)l->v[i].expires);
}

/* Both lookups of aor hold the same bindings (the order of equal q and
 * update time is unspecified: compared sorted by contact). */
static void compare_lookup(struct sip_location *mem, struct sip_str aor, int64_t now)
{
	struct sip_binding_list a, b;
	int ra = sip_location_lookup(mem, aor, now, &a), rb = sip_location_lookup(sql, aor, now, &b);
	if (getenv("FUZZ_DEBUG")) {
		dump("mem", &a);
		dump("sql", &b);
	}
	if (ra != rb || a.n != b.n)
		abort();
	/* Both orders must follow the contract: q descending, an absent q
	 * (-1) counting as 1.0 as the proxy takes it. */
	for (size_t i = 1; i < a.n; i++)
		if (qv(a.v[i - 1].q) < qv(a.v[i].q) || qv(b.v[i - 1].q) < qv(b.v[i].q))
			abort();
	if (a.n > 1) {
		qsort(a.v, a.n, sizeof *a.v, cmp_binding);
		qsort(b.v, b.n, sizeof *b.v, cmp_binding);
	}
	for (size_t i = 0; i < a.n; i++)
		if (!same_binding(&a.v[i], &b.v[i]) || a.v[i].expires <= now)
			abort();
	sip_binding_list_free(&a);
	sip_binding_list_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup_once();
	struct sip_location *mem;
	struct sip_location_config lc = {.uri_eq = sip_registrar_uri_eq, .max_bindings = MAX_BINDINGS};
	if (sip_location_open_memory(&mem, &lc) != 0 || sip_location_begin(sql) != 0)
		abort();
	int64_t now = 1700000000;
	size_t i = 0;
#define ARG() (i < size ? data[i++] : 0)
	while (i < size) {
		uint8_t op = ARG() % 7;
		struct sip_str aor = sip_str_c(aors[ARG() % N(aors)]);
		switch (op) {
		case 0: {
			const char *c = contacts[ARG() % N(contacts)];
			uint8_t inst = ARG(), rid = ARG(), exp = ARG(), cid = ARG(), cseq = ARG(), q = ARG(),
				flen = ARG();
			struct sip_binding b = {
			    .aor = aor,
			    .contact_uri = sip_str_c(c),
			    .contact = sip_str_c(c),
			    .q = q % 4 == 0 ? -1 : (int32_t)(q * 4 % 1001),
			    .expires = now + (int64_t)(exp % 8) * 30 - 30,
			    .call_id = sip_str_c(call_ids[cid % N(call_ids)]),
			    .cseq = cseq % 4,
			    .path = (struct sip_str){filler, (size_t)flen * 16},
			    .instance = sip_str_c(instances[inst % N(instances)]),
			    .reg_id = rid % 3,
			    .received = (struct sip_str){filler, (size_t)(flen % 7)},
			    .user_agent = (struct sip_str){filler, (size_t)(flen % 5) * 100},
			};
			if (sip_location_upsert(mem, &b, now) != sip_location_upsert(sql, &b, now))
				abort();
			break;
		}
		case 1: {
			struct sip_str c = sip_str_c(contacts[ARG() % N(contacts)]);
			if (sip_location_remove(mem, aor, c) != sip_location_remove(sql, aor, c))
				abort();
			break;
		}
		case 2:
			if (sip_location_remove_aor(mem, aor) != sip_location_remove_aor(sql, aor))
				abort();
			break;
		case 3:
			now += ARG();
			break;
		case 4:
			if (sip_location_purge(mem, now) != sip_location_purge(sql, now))
				abort();
			break;
		case 5:
			compare_lookup(mem, aor, now);
			break;
		case 6: {
			struct sip_str which = ARG() & 1 ? SIP_STR_NULL : aor;
			if (sip_location_count(mem, which, now) != sip_location_count(sql, which, now))
				abort();
			break;
		}
		}
	}
	for (size_t k = 0; k < N(aors); k++)
		compare_lookup(mem, sip_str_c(aors[k]), now);
	if (sip_location_rollback(sql) != 0)
		abort();
	sip_location_close(mem);
	return 0;
}
