/* The location store: one table of tests run against every backend (memory,
 * SQLite, Redis — a real redis-server this test starts on a free loopback
 * port and stops by PID), plus SQLite restart, batched commits, memory per
 * binding, and the Redis store shared by two handles at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>
#include <sip/location.h>

#include "loc_test.h"

enum backend { MEMORY, SQLITE, REDIS };
struct fixture {
	enum backend kind;
	char dir[64];
	char path[128];
	struct sip_location *loc;
};

static struct fixture fx_mem = {.kind = MEMORY}, fx_sql = {.kind = SQLITE}, fx_red = {.kind = REDIS};

/* ---- a real redis-server for the REDIS fixture ---- */
static pid_t redis_pid;
static int redis_port;
static char redis_url[64];

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return ntohs(a.sin_port);
}

/* Starts redis-server in the foreground as our child (no persistence) and
 * waits until it answers; the group fails when it cannot. */
static int redis_start(void **state)
{
	(void)state;
	redis_port = free_port();
	if (redis_port < 0)
		return -1;
	char port[16];
	snprintf(port, sizeof port, "%d", redis_port);
	snprintf(redis_url, sizeof redis_url, "redis://127.0.0.1:%d", redis_port);
	redis_pid = fork();
	if (redis_pid < 0)
		return -1;
	if (redis_pid == 0) {
		freopen("/dev/null", "w", stdout);
		execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
		       "--appendonly", "no", (char *)NULL);
		_exit(127);
	}
	/* Readiness, not timing: poll until it accepts (at most 5 s). */
	for (int i = 0; i < 100; i++) {
		struct sip_location *loc = NULL;
		if (sip_location_open_redis(&loc, redis_url, NULL) == 0) {
			sip_location_close(loc);
			return 0;
		}
		if (waitpid(redis_pid, NULL, WNOHANG) == redis_pid)
			break;
		nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
	}
	fprintf(stderr, "redis-server did not start on port %d\n", redis_port);
	kill(redis_pid, SIGTERM);
	waitpid(redis_pid, NULL, 0);
	return -1;
}

static int redis_stop(void **state)
{
	(void)state;
	if (redis_pid > 0) {
		kill(redis_pid, SIGTERM);
		waitpid(redis_pid, NULL, 0);
	}
	return 0;
}

/* Empties the Redis store between tests. */
static void redis_flush(void)
{
	char cmd[96];
	snprintf(cmd, sizeof cmd, "redis-cli -p %d FLUSHALL >/dev/null", redis_port);
	assert_int_equal(system(cmd), 0);
}

static struct sip_location *open_store(struct fixture *f, const struct sip_location_config *cfg)
{
	struct sip_location *loc = NULL;
	if (f->kind == MEMORY)
		assert_int_equal(sip_location_open_memory(&loc, cfg), 0);
	else if (f->kind == REDIS)
		assert_int_equal(sip_location_open_redis(&loc, redis_url, cfg), 0);
	else
		assert_int_equal(sip_location_open_sqlite(&loc, f->path, cfg), 0);
	return loc;
}

static int setup(void **state)
{
	struct fixture *f = *state;
	live = 0;
	live_bytes = 0;
	sip_mem_set(&loc_cnt_mem);
	if (f->kind == SQLITE) {
		snprintf(f->dir, sizeof f->dir, "/tmp/sipd-loc-XXXXXX");
		assert_non_null(mkdtemp(f->dir));
		snprintf(f->path, sizeof f->path, "%s/loc.db", f->dir);
	}
	if (f->kind == REDIS)
		redis_flush();
	f->loc = open_store(f, NULL);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	sip_location_close(f->loc);
	f->loc = NULL;
	if (f->kind == SQLITE) {
		sip_test_rm_db(f->dir, f->path);
	}
	sip_mem_set(NULL);
	assert_int_equal(live, 0);
	return 0;
}

#define AOR "sip:alice@example.com"

static struct sip_binding binding(const char *contact_uri, int64_t expires, const char *call_id, uint32_t cseq)
{
	struct sip_binding b;
	memset(&b, 0, sizeof b);
	b.aor = SIP_STR(AOR);
	b.contact_uri = sip_str_c(contact_uri);
	b.contact = sip_str_c(contact_uri);
	b.q = -1;
	b.expires = expires;
	b.call_id = sip_str_c(call_id);
	b.cseq = cseq;
	return b;
}

static void test_upsert_lookup(void **state)
{
	struct fixture *f = *state;
	struct sip_binding b = binding("sip:alice@10.0.0.1:5060", 1000 + 3600, "call-1@x", 1);
	b.contact = SIP_STR("\"Alice\" <sip:alice@10.0.0.1:5060>;q=0.5;expires=3600;+sip.instance=\"<urn:uuid:1>\"");
	b.q = 500;
	b.path = SIP_STR("<sip:edge.example.com;lr>");
	b.instance = SIP_STR("\"<urn:uuid:1>\"");
	b.reg_id = 1;
	b.received = SIP_STR("udp:192.0.2.4:40000");
	b.user_agent = SIP_STR("baresip 3.0");
	assert_int_equal(sip_location_upsert(f->loc, &b, 1000), 0);

	struct sip_binding_list l;
	assert_int_equal(sip_location_lookup(f->loc, SIP_STR(AOR), 1000, &l), 0);
	assert_int_equal(l.n, 1);
	const struct sip_binding *r = &l.v[0];
	assert_true(sip_str_eq(r->aor, b.aor));
	assert_true(sip_str_eq(r->contact_uri, b.contact_uri));
	assert_true(sip_str_eq(r->contact, b.contact));
	assert_int_equal(r->q, 500);
	assert_int_equal(r->expires, 4600);
	assert_true(sip_str_eq(r->call_id, b.call_id));
	assert_int_equal(r->cseq, 1);
	assert_true(sip_str_eq(r->path, b.path));
	assert_true(sip_str_eq(r->instance, b.instance));
	assert_int_equal(r->reg_id, 1);
	assert_true(sip_str_eq(r->received, b.received));
	assert_true(sip_str_eq(r->user_agent, b.user_agent));
	assert_int_equal(r->updated, 1000);
	sip_binding_list_free(&l);
	assert_null(l.v);

	/* Unknown AOR: empty list, not an error. */
	assert_int_equal(sip_location_lookup(f->loc, SIP_STR("sip:bob@example.com"), 1000, &l), 0);
	assert_int_equal(l.n, 0);
	sip_binding_list_free(&l);
}

static void test_refresh_and_order(void **state)
{
	struct fixture *f = *state;
	struct sip_binding a = binding("sip:alice@10.0.0.1", 2000, "c1", 1);
	struct sip_binding b = binding("sip:alice@10.0.0.2", 2000, "c2", 1);
	struct sip_binding c = binding("sip:alice@10.0.0.3", 2000, "c3", 1);
	a.q = 100;
	b.q = 900;
	assert_int_equal(sip_location_upsert(f->loc, &a, 100), 0);
	assert_int_equal(sip_location_upsert(f->loc, &b, 101), 0);
	assert_int_equal(sip_location_upsert(f->loc, &c, 102), 0); /* no q: counts as 1.0 */
	assert_int_equal(sip_location_count(f->loc, SIP_STR(AOR), 100), 3);

	/* Same contact, same Call-ID, higher CSeq: refreshed in place. */
	a.cseq = 2;
	a.expires = 5000;
	assert_int_equal(sip_location_upsert(f->loc, &a, 200), 0);
	assert_int_equal(sip_location_count(f->loc, SIP_STR(AOR), 200), 3);
	/* Same Call-ID with a CSeq not higher: rejected, nothing changes (§10.3 step 7). */
	a.expires = 9999;
	assert_int_equal(sip_location_upsert(f->loc, &a, 201), SIP_ESTATE);
	/* Another Call-ID (the UA rebooted) replaces whatever its CSeq. */
	struct sip_binding a2 = binding("sip:alice@10.0.0.1", 6000, "c1-new", 1);
	a2.q = 100;
	assert_int_equal(sip_location_upsert(f->loc, &a2, 202), 0);

	struct sip_binding_list l;
	assert_int_equal(sip_location_lookup(f->loc, SIP_STR(AOR), 300, &l), 0);
	assert_int_equal(l.n, 3);
	assert_true(sip_str_eq(l.v[0].contact_uri, SIP_STR("sip:alice@10.0.0.3"))); /* q absent = 1000 */
	assert_true(sip_str_eq(l.v[1].contact_uri, SIP_STR("sip:alice@10.0.0.2")));
	assert_true(sip_str_eq(l.v[2].contact_uri, SIP_STR("sip:alice@10.0.0.1")));
	assert_int_equal(l.v[2].expires, 6000);
	assert_true(sip_str_eq(l.v[2].call_id, SIP_STR("c1-new")));
	assert_int_equal(l.v[2].updated, 202);
	sip_binding_list_free(&l);
}

static void test_expiry(void **state)
{
	struct fixture *f = *state;
	struct sip_binding a = binding("sip:alice@10.0.0.1", 1060, "c1", 1);
	struct sip_binding b = binding("sip:alice@10.0.0.2", 1120, "c2", 1);
	struct sip_binding other = binding("sip:bob@10.0.0.9", 1060, "c9", 1);
	other.aor = SIP_STR("sip:bob@example.com");
	assert_int_equal(sip_location_upsert(f->loc, &a, 1000), 0);
	assert_int_equal(sip_location_upsert(f->loc, &b, 1000), 0);
	assert_int_equal(sip_location_upsert(f->loc, &other, 1000), 0);
	assert_int_equal(sip_location_count(f->loc, SIP_STR_NULL, 1000), 3);

	/* At its expiry instant a binding is gone from lookups, purged or not. */
	struct sip_binding_list l;
	assert_int_equal(sip_location_lookup(f->loc, SIP_STR(AOR), 1060, &l), 0);
	assert_int_equal(l.n, 1);
	assert_true(sip_str_eq(l.v[0].contact_uri, SIP_STR("sip:alice@10.0.0.2")));
	sip_binding_list_free(&l);
	assert_int_equal(sip_location_count(f->loc, SIP_STR(AOR), 1060), 1);
	assert_int_equal(sip_location_count(f->loc, SIP_STR_NULL, 1060), 1);

	/* An expired binding does not block a new one with an old CSeq. */
	struct sip_binding again = binding("sip:bob@10.0.0.9", 2000, "c9", 1);
	again.aor = other.aor;
	assert_int_equal(sip_location_upsert(f->loc, &again, 1070), 0);
	assert_int_equal(sip_location_remove(f->loc, other.aor, again.contact_uri), 0);

	/* A slice big enough for the whole store purges what a full purge would
	 * (the memory store always purges everything). */
	assert_int_equal(sip_location_purge_some(f->loc, 1060, 1000), 1);
	assert_int_equal(sip_location_purge(f->loc, 1060), 0);
	assert_int_equal(sip_location_purge(f->loc, 5000), 1);
	assert_int_equal(sip_location_count(f->loc, SIP_STR_NULL, 0), 0);

	/* expires <= now in an upsert removes the binding (REGISTER with expires=0). */
	assert_int_equal(sip_location_upsert(f->loc, &a, 1000), 0);
	a.cseq = 2;
	a.expires = 1000;
	assert_int_equal(sip_location_upsert(f->loc, &a, 1000), 0);
	assert_int_equal(sip_location_count(f->loc, SIP_STR(AOR), 0), 0);
	/* ... and is harmless when nothing matches. */
	assert_int_equal(sip_location_upsert(f->loc, &a, 1000), 0);
	assert_int_equal(sip_location_count(f->loc, SIP_STR_NULL, 0), 0);
}

static void test_remove(void **state)
{
	struct fixture *f = *state;
	struct sip_binding a = binding("sip:alice@10.0.0.1", 2000, "c1", 1);
	struct sip_binding b = binding("sip:alice@10.0.0.2", 2000, "c2", 1);
	assert_int_equal(sip_location_upsert(f->loc, &a, 100), 0);
	assert_int_equal(sip_location_upsert(f->loc, &b, 100), 0);
	assert_int_equal(sip_location_remove(f->loc, SIP_STR(AOR), SIP_STR("sip:alice@10.0.0.1")), 0);
	assert_int_equal(sip_location_remove(f->loc, SIP_STR(AOR), SIP_STR("sip:alice@10.0.0.1")), SIP_ENOTFOUND);
	assert_int_equal(sip_location_remove(f->loc, SIP_STR("sip:x@y"), SIP_STR("sip:alice@10.0.0.2")),
			 SIP_ENOTFOUND);
	assert_int_equal(sip_location_count(f->loc, SIP_STR(AOR), 100), 1);
	assert_int_equal(sip_location_upsert(f->loc, &a, 100), 0);
	assert_int_equal(sip_location_remove_aor(f->loc, SIP_STR(AOR)), 2);
	assert_int_equal(sip_location_remove_aor(f->loc, SIP_STR(AOR)), 0);
	assert_int_equal(sip_location_count(f->loc, SIP_STR_NULL, 100), 0);
}

/* RFC 5626: the same instance + reg-id replaces the flow whatever the URI. */
static void test_instance_regid(void **state)
{
	struct fixture *f = *state;
	struct sip_binding a = binding("sip:alice@192.0.2.1:5060;ob", 2000, "c1", 1);
	a.instance = SIP_STR("\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"");
	a.reg_id = 1;
	struct sip_binding a2 = a;
	a2.reg_id = 2;
	a2.contact_uri = SIP_STR("sip:alice@192.0.2.1:5062;ob");
	assert_int_equal(sip_location_upsert(f->loc, &a, 100), 0);
	assert_int_equal(sip_location_upsert(f->loc, &a2, 100), 0);
	assert_int_equal(sip_location_count(f->loc, SIP_STR(AOR), 100), 2);
	/* Flow 1 comes back through a new NAT mapping: replaced, not added. */
	struct sip_binding moved = a;
	moved.contact_uri = SIP_STR("sip:alice@198.51.100.7:33333;ob");
	moved.call_id = SIP_STR("c1-after-reboot");
	assert_int_equal(sip_location_upsert(f->loc, &moved, 200), 0);
	struct sip_binding_list l;
	assert_int_equal(sip_location_lookup(f->loc, SIP_STR(AOR), 200, &l), 0);
	assert_int_equal(l.n, 2);
	int seen = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].reg_id == 1) {
			assert_true(sip_str_eq(l.v[i].contact_uri, moved.contact_uri));
			seen++;
		}
	}
	assert_int_equal(seen, 1);
	sip_binding_list_free(&l);
}

/* The contact comparison is the caller's (RFC 3261 §19.1.4 lives in uri.h). */
static bool caseless_eq(void *ud, struct sip_str a, struct sip_str b)
{
	(void)ud;
	return sip_str_caseeq(a, b);
}

static void test_uri_eq_callback(void **state)
{
	struct fixture *f = *state;
	sip_location_close(f->loc);
	struct sip_location_config cfg = {.uri_eq = caseless_eq, .max_bindings = 2};
	f->loc = open_store(f, &cfg);
	struct sip_binding a = binding("sip:alice@HOST.example", 2000, "c1", 1);
	assert_int_equal(sip_location_upsert(f->loc, &a, 100), 0);
	struct sip_binding b = binding("sip:alice@host.example", 2000, "c1", 2);
	assert_int_equal(sip_location_upsert(f->loc, &b, 100), 0);
	assert_int_equal(sip_location_count(f->loc, SIP_STR(AOR), 100), 1);
	assert_int_equal(sip_location_remove(f->loc, SIP_STR(AOR), SIP_STR("SIP:ALICE@HOST.EXAMPLE")), 0);
	/* The per-AOR cap. */
	struct sip_binding c[3] = {binding("sip:1@h", 2000, "x", 1), binding("sip:2@h", 2000, "x", 1),
				   binding("sip:3@h", 2000, "x", 1)};
	assert_int_equal(sip_location_upsert(f->loc, &c[0], 100), 0);
	assert_int_equal(sip_location_upsert(f->loc, &c[1], 100), 0);
	assert_int_equal(sip_location_upsert(f->loc, &c[2], 100), SIP_ETOOBIG);
	/* ...counting only live bindings. */
	c[0].expires = 150;
	c[0].call_id = SIP_STR("y");
	assert_int_equal(sip_location_upsert(f->loc, &c[0], 100), 0);
	assert_int_equal(sip_location_upsert(f->loc, &c[2], 200), 0);
	assert_int_equal(sip_location_count(f->loc, SIP_STR(AOR), 200), 2);
}

static void test_bad_input(void **state)
{
	struct fixture *f = *state;
	struct sip_binding b = binding("sip:alice@10.0.0.1", 2000, "c1", 1);
	b.aor = SIP_STR_NULL;
	assert_int_equal(sip_location_upsert(f->loc, &b, 100), SIP_EINVAL);
	b = binding("", 2000, "c1", 1);
	assert_int_equal(sip_location_upsert(f->loc, &b, 100), SIP_EINVAL);
	b = binding("sip:a@b", 2000, "c1", 1);
	b.q = 1001;
	assert_int_equal(sip_location_upsert(f->loc, &b, 100), SIP_EINVAL);
	static char big[SIP_LOCATION_MAX_FIELD + 1];
	memset(big, 'a', sizeof big);
	b = binding("sip:a@b", 2000, "c1", 1);
	b.user_agent = (struct sip_str){big, sizeof big};
	assert_int_equal(sip_location_upsert(f->loc, &b, 100), SIP_ETOOBIG);
	assert_int_equal(sip_location_upsert(NULL, &b, 100), SIP_EINVAL);
	struct sip_binding_list l;
	assert_int_equal(sip_location_lookup(f->loc, SIP_STR_NULL, 100, &l), SIP_EINVAL);
	assert_int_equal(l.n, 0);
	assert_int_equal(sip_location_count(f->loc, SIP_STR_NULL, 100), 0);
	/* Binary-safe strings: embedded NUL and quotes survive. */
	b = binding("sip:a@b", 2000, "c1", 1);
	b.user_agent = (struct sip_str){"a\0b'\"", 5};
	assert_int_equal(sip_location_upsert(f->loc, &b, 100), 0);
	b.aor = SIP_STR(AOR);
	assert_int_equal(sip_location_lookup(f->loc, SIP_STR(AOR), 100, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].user_agent.len, 5);
	assert_memory_equal(l.v[0].user_agent.p, "a\0b'\"", 5);
	sip_binding_list_free(&l);
}

static void test_batch(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(sip_location_commit(f->loc), SIP_ESTATE);
	assert_int_equal(sip_location_begin(f->loc), 0);
	assert_int_equal(sip_location_begin(f->loc), SIP_ESTATE);
	char uri[64];
	for (int i = 0; i < 50; i++) {
		snprintf(uri, sizeof uri, "sip:alice@10.0.1.%d", i);
		struct sip_binding b = binding(uri, 2000, "c", 1);
		assert_int_equal(sip_location_upsert(f->loc, &b, 100), 0);
	}
	/* A refused write inside a batch does not spoil the batch. */
	struct sip_binding dup = binding("sip:alice@10.0.1.0", 2000, "c", 1);
	assert_int_equal(sip_location_upsert(f->loc, &dup, 100), SIP_ESTATE);
	/* The batch's own writes are visible before the commit. */
	assert_int_equal(sip_location_count(f->loc, SIP_STR(AOR), 100), 50);
	assert_int_equal(sip_location_commit(f->loc), 0);
	assert_int_equal(sip_location_count(f->loc, SIP_STR(AOR), 100), 50);

	if (f->kind == SQLITE) {
		assert_int_equal(sip_location_begin(f->loc), 0);
		assert_int_equal(sip_location_remove_aor(f->loc, SIP_STR(AOR)), 50);
		assert_int_equal(sip_location_rollback(f->loc), 0);
		assert_int_equal(sip_location_count(f->loc, SIP_STR(AOR), 100), 50);
	} else {
		assert_int_equal(sip_location_begin(f->loc), 0);
		assert_int_equal(sip_location_rollback(f->loc), SIP_EUNSUPPORTED);
		assert_int_equal(sip_location_commit(f->loc), 0);
	}
}

/* SQLite: what was committed is there after close + reopen (and a batch left
 * open at close is not). */
static void test_sqlite_restart(void **state)
{
	struct fixture *f = *state;
	struct sip_binding a = binding("sip:alice@10.0.0.1", 2000, "c1", 7);
	a.path = SIP_STR("<sip:p1;lr>,<sip:p2;lr>");
	assert_int_equal(sip_location_upsert(f->loc, &a, 100), 0);
	assert_int_equal(sip_location_begin(f->loc), 0);
	struct sip_binding b = binding("sip:alice@10.0.0.2", 2000, "c2", 1);
	assert_int_equal(sip_location_upsert(f->loc, &b, 100), 0);
	sip_location_close(f->loc);
	f->loc = open_store(f, NULL);
	struct sip_binding_list l;
	assert_int_equal(sip_location_lookup(f->loc, SIP_STR(AOR), 100, &l), 0);
	assert_int_equal(l.n, 1);
	assert_true(sip_str_eq(l.v[0].contact_uri, a.contact_uri));
	assert_true(sip_str_eq(l.v[0].path, a.path));
	assert_int_equal(l.v[0].cseq, 7);
	sip_binding_list_free(&l);
	/* The file is in WAL mode. */
	char wal[160];
	snprintf(wal, sizeof wal, "%s-wal", f->path);
	assert_int_equal(access(wal, F_OK), 0);
}

/* Memory backend: bytes of heap per binding, printed for the report. */
static void test_memory_per_binding(void **state)
{
	struct fixture *f = *state;
	enum { N = 10000 };
	size_t before = live_bytes;
	char aor[64], uri[64];
	for (int i = 0; i < N; i++) {
		snprintf(aor, sizeof aor, "sip:user%d@example.com", i);
		snprintf(uri, sizeof uri, "sip:user%d@192.0.2.%d:5060", i, i % 250);
		struct sip_binding b = binding(uri, 4000, "a84b4c76e66710@pc33.example.com", 1);
		b.aor = sip_str_c(aor);
		b.contact = b.contact_uri;
		b.user_agent = SIP_STR("Linphone/5.2");
		assert_int_equal(sip_location_upsert(f->loc, &b, 100), 0);
	}
	assert_int_equal(sip_location_count(f->loc, SIP_STR_NULL, 100), N);
	size_t per = (live_bytes - before) / N;
	printf("memory backend: %zu bytes of heap per binding (one binding per AOR, %d AORs, ~130 bytes of text "
	       "each; allocator overhead not counted)\n",
	       per, N);
	assert_true(per < 1024);
}

/* Two servers on one Redis store: what one writes the other reads, and the
 * per-AOR cap holds when both add at once (WATCH/MULTI/EXEC: no lost
 * update lets the AOR grow past it). */
struct adder {
	int id, ok;
};

static void *add_contacts(void *arg)
{
	struct adder *a = arg;
	struct sip_location_config cfg = {.max_bindings = 10};
	struct sip_location *loc = NULL;
	if (sip_location_open_redis(&loc, redis_url, &cfg) != 0)
		return NULL;
	for (int i = 0; i < 10; i++) {
		char uri[64];
		snprintf(uri, sizeof uri, "sip:alice@10.%d.0.%d", a->id, i);
		struct sip_binding b = binding(uri, 2000, "c", 1);
		a->ok += sip_location_upsert(loc, &b, 100) == 0;
	}
	sip_location_close(loc);
	return NULL;
}

static void test_redis_shared(void **state)
{
	struct fixture *f = *state;
	struct sip_location *other = NULL;
	assert_int_equal(sip_location_open_redis(&other, redis_url, NULL), 0);
	struct sip_binding a = binding("sip:alice@10.0.0.1", 2000, "c1", 1);
	assert_int_equal(sip_location_upsert(f->loc, &a, 100), 0);
	struct sip_binding_list l;
	assert_int_equal(sip_location_lookup(other, SIP_STR(AOR), 100, &l), 0);
	assert_int_equal(l.n, 1);
	assert_true(sip_str_eq(l.v[0].contact_uri, a.contact_uri));
	assert_int_equal(l.v[0].updated, 100);
	sip_binding_list_free(&l);
	/* The CSeq rule across servers: the other one refuses a replay. */
	assert_int_equal(sip_location_upsert(other, &a, 101), SIP_ESTATE);
	/* A lookup's read serves the upsert right after it (one round trip
	 * less) — but not when another server wrote in between: the WATCH
	 * from the lookup makes the write retry on fresh data. */
	assert_int_equal(sip_location_lookup(f->loc, SIP_STR(AOR), 100, &l), 0);
	sip_binding_list_free(&l);
	struct sip_binding x = binding("sip:alice@10.0.0.9", 2000, "cx", 5);
	assert_int_equal(sip_location_upsert(other, &x, 100), 0);
	x.cseq = 3;
	assert_int_equal(sip_location_upsert(f->loc, &x, 100), SIP_ESTATE); /* saw other's CSeq 5 */
	assert_int_equal(sip_location_lookup(f->loc, SIP_STR(AOR), 100, &l), 0);
	assert_int_equal(l.n, 2);
	sip_binding_list_free(&l);
	x.cseq = 6; /* the usual case: lookup, then this server's own write */
	assert_int_equal(sip_location_upsert(f->loc, &x, 100), 0);
	assert_int_equal(sip_location_remove(other, SIP_STR(AOR), x.contact_uri), 0);
	assert_int_equal(sip_location_remove_aor(other, SIP_STR(AOR)), 1);
	sip_location_close(other);

	sip_mem_set(NULL); /* two threads: the counting allocator is not thread-safe */
	struct adder ad[2] = {{.id = 1}, {.id = 2}};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, add_contacts, &ad[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	sip_mem_set(&loc_cnt_mem);
	assert_int_equal(ad[0].ok + ad[1].ok, 10);
	assert_int_equal(sip_location_count(f->loc, SIP_STR(AOR), 100), 10);
}

static void test_redis_url(void **state)
{
	(void)state;
	char host[64];
	int port, db;
	assert_int_equal(sip_location_redis_url("redis://10.1.2.3:6380/2", host, sizeof host, &port, &db), 0);
	assert_string_equal(host, "10.1.2.3");
	assert_int_equal(port, 6380);
	assert_int_equal(db, 2);
	assert_int_equal(sip_location_redis_url("redis://[::1]", host, sizeof host, &port, &db), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 6379);
	assert_int_equal(db, 0);
	assert_int_equal(sip_location_redis_url("redis://h:0", host, sizeof host, &port, &db), SIP_EINVAL);
	assert_int_equal(sip_location_redis_url("redis://h:x", host, sizeof host, &port, &db), SIP_EINVAL);
	assert_int_equal(sip_location_redis_url("redis://", host, sizeof host, &port, &db), SIP_EINVAL);
	assert_int_equal(sip_location_redis_url("http://h", host, sizeof host, &port, &db), SIP_EINVAL);
	/* Nothing listening: the open fails at once. */
	struct sip_location *loc = NULL;
	char url[64];
	snprintf(url, sizeof url, "redis://127.0.0.1:%d", free_port());
	assert_int_equal(sip_location_open_redis(&loc, url, NULL), SIP_EIO);
	assert_null(loc);
}

int main(void)
{
#define BOTH(t)                                                                      \
	cmocka_unit_test_prestate_setup_teardown(t, setup, teardown, &fx_mem), \
		cmocka_unit_test_prestate_setup_teardown(t, setup, teardown, &fx_sql), \
		cmocka_unit_test_prestate_setup_teardown(t, setup, teardown, &fx_red)
	const struct CMUnitTest tests[] = {
		BOTH(test_upsert_lookup),
		BOTH(test_refresh_and_order),
		BOTH(test_expiry),
		BOTH(test_remove),
		BOTH(test_instance_regid),
		BOTH(test_uri_eq_callback),
		BOTH(test_bad_input),
		BOTH(test_batch),
		cmocka_unit_test_prestate_setup_teardown(test_sqlite_restart, setup, teardown, &fx_sql),
		cmocka_unit_test_prestate_setup_teardown(test_memory_per_binding, setup, teardown, &fx_mem),
		cmocka_unit_test_prestate_setup_teardown(test_redis_shared, setup, teardown, &fx_red),
		cmocka_unit_test(test_redis_url),
	};
	return cmocka_run_group_tests(tests, redis_start, redis_stop);
}
