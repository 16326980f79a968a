/* The credential store's HA1 cache (users.c): answers repeated lookups
 * without the database, sees writes by other connections (another process
 * running `sipd user add/del`, a script writing SQL) within CACHE_CHECK_MS
 * (1 s) on a virtual clock, sees this handle's own writes at once, caches
 * unknown users too, stays bounded, and skips keys too long to cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <sip/location.h>

#include "location/users_int.h"
#include "loc_test.h"

#define ALICE_MD5 "d2d0c8958e1b1c2b989afda0efb9663e" /* alice:example.com:s3cret */
#define ALICE_SHA "5297838bf1a4f1fc5d284fa2f0df90bdf2046b6bf4c022e85118af37bb6dbf75"
#define BOB_MD5 "74a003e9812b253c5b457cb51c978949" /* bob:example.com:pw */
#define BOB_SHA "9611f421f55f594c171c139482590aafec2fc9198790b06b022b25f3d27e5885"
#define REALM "example.com"

static char dir[64], path[128];
static int64_t clock_ms;

static int64_t fake_now(void *ud)
{
	(void)ud;
	return clock_ms;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/sipd-ucache-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/sipd.db", dir);
	clock_ms = 5000;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sip_test_rm_db(dir, path);
	return 0;
}

static struct sip_users *open_virtual(void)
{
	struct sip_users *u = NULL;
	assert_int_equal(sip_users_open(&u, path), 0);
	sip__users_set_clock(u, fake_now, NULL);
	return u;
}

static int get(struct sip_users *u, const char *user, enum sip_digest_alg alg, char *ha1)
{
	return sip_users_get_ha1(u, sip_str_c(user), SIP_STR(REALM), alg, ha1);
}

static struct sip__users_stats stats(struct sip_users *u)
{
	struct sip__users_stats s;
	sip__users_stats_get(u, &s);
	return s;
}

/* Both HA1s come from one database read; unknown users are cached too. */
static void test_hits(void **state)
{
	(void)state;
	struct sip_users *u = open_virtual();
	char ha1[SIP_DIGEST_HEX_MAX];
	assert_int_equal(sip_users_set_ha1(u, SIP_STR("alice"), SIP_STR(REALM), SIP_STR(ALICE_MD5), SIP_STR(ALICE_SHA)), 0);
	assert_int_equal(get(u, "alice", SIP_DIGEST_SHA256, ha1), 0);
	assert_string_equal(ha1, ALICE_SHA);
	assert_int_equal(get(u, "alice", SIP_DIGEST_MD5, ha1), 0);
	assert_string_equal(ha1, ALICE_MD5);
	assert_int_equal(get(u, "alice", SIP_DIGEST_MD5_SESS, ha1), 0);
	assert_string_equal(ha1, ALICE_MD5);
	assert_int_equal(get(u, "alice", SIP_DIGEST_SHA256_SESS, ha1), 0);
	assert_string_equal(ha1, ALICE_SHA);
	struct sip__users_stats s = stats(u);
	assert_int_equal(s.misses, 1);
	assert_int_equal(s.hits, 3);

	assert_int_equal(get(u, "mallory", SIP_DIGEST_MD5, ha1), SIP_ENOTFOUND);
	assert_int_equal(get(u, "mallory", SIP_DIGEST_SHA256, ha1), SIP_ENOTFOUND);
	/* Same username, other realm: another key. */
	assert_int_equal(sip_users_get_ha1(u, SIP_STR("alice"), SIP_STR("example.org"), SIP_DIGEST_MD5, ha1),
			 SIP_ENOTFOUND);
	s = stats(u);
	assert_int_equal(s.misses, 3);
	assert_int_equal(s.hits, 4);

	/* Time passing with nothing written keeps the cache. */
	clock_ms += 10 * 1000;
	assert_int_equal(get(u, "alice", SIP_DIGEST_MD5, ha1), 0);
	assert_string_equal(ha1, ALICE_MD5);
	assert_int_equal(stats(u).misses, 3);
	sip_users_close(u);
}

/* Writes through the handle itself are seen by the very next lookup. */
static void test_own_writes(void **state)
{
	(void)state;
	struct sip_users *u = open_virtual();
	char ha1[SIP_DIGEST_HEX_MAX];
	assert_int_equal(get(u, "alice", SIP_DIGEST_MD5, ha1), SIP_ENOTFOUND);
	assert_int_equal(sip_users_add(u, SIP_STR("alice"), SIP_STR(REALM), SIP_STR("s3cret")), 0);
	assert_int_equal(get(u, "alice", SIP_DIGEST_MD5, ha1), 0);
	assert_string_equal(ha1, ALICE_MD5);
	/* A password change: the MD5 of bob's password stored under alice. */
	assert_int_equal(sip_users_set_ha1(u, SIP_STR("alice"), SIP_STR(REALM), SIP_STR(BOB_MD5), SIP_STR(BOB_SHA)), 0);
	assert_int_equal(get(u, "alice", SIP_DIGEST_MD5, ha1), 0);
	assert_string_equal(ha1, BOB_MD5);
	assert_int_equal(sip_users_del(u, SIP_STR("alice"), SIP_STR_NULL), 0);
	assert_int_equal(get(u, "alice", SIP_DIGEST_SHA256, ha1), SIP_ENOTFOUND);
	sip_users_close(u);
}

/* Another connection (what `sipd user add/del` is) adds, changes and
 * deletes: the reader sees each change once CACHE_CHECK_MS have passed,
 * never later. */
static void test_other_writer(void **state)
{
	(void)state;
	struct sip_users *u = open_virtual(), *w = NULL;
	assert_int_equal(sip_users_open(&w, path), 0);
	char ha1[SIP_DIGEST_HEX_MAX];
	assert_int_equal(get(u, "bob", SIP_DIGEST_MD5, ha1), SIP_ENOTFOUND);

	assert_int_equal(sip_users_add(w, SIP_STR("bob"), SIP_STR(REALM), SIP_STR("pw")), 0);
	clock_ms += 999;
	assert_int_equal(get(u, "bob", SIP_DIGEST_MD5, ha1), SIP_ENOTFOUND); /* cached, within the bound */
	clock_ms += 1;
	assert_int_equal(get(u, "bob", SIP_DIGEST_MD5, ha1), 0);
	assert_string_equal(ha1, BOB_MD5);
	uint64_t flushes = stats(u).flushes;

	assert_int_equal(sip_users_set_ha1(w, SIP_STR("bob"), SIP_STR(REALM), SIP_STR(ALICE_MD5), SIP_STR(ALICE_SHA)), 0);
	clock_ms += 1000;
	assert_int_equal(get(u, "bob", SIP_DIGEST_SHA256, ha1), 0);
	assert_string_equal(ha1, ALICE_SHA);
	assert_int_equal(stats(u).flushes, flushes + 1);

	assert_int_equal(sip_users_del(w, SIP_STR("bob"), SIP_STR(REALM)), 0);
	clock_ms += 1500;
	assert_int_equal(get(u, "bob", SIP_DIGEST_MD5, ha1), SIP_ENOTFOUND);

	/* A clock that steps back forces a re-read rather than trusting the cache. */
	assert_int_equal(sip_users_add(w, SIP_STR("bob"), SIP_STR(REALM), SIP_STR("pw")), 0);
	clock_ms -= 60 * 1000;
	assert_int_equal(get(u, "bob", SIP_DIGEST_MD5, ha1), 0);
	assert_string_equal(ha1, BOB_MD5);
	sip_users_close(w);
	sip_users_close(u);
}

/* Rows written with plain SQL (bench/register.sh does, and an admin might)
 * bump the version through the triggers; an HA1 stored in upper case comes
 * back lower case from the cache (the digest hashes it lower case anyway). */
static void test_raw_sql(void **state)
{
	(void)state;
	struct sip_users *u = open_virtual();
	char ha1[SIP_DIGEST_HEX_MAX];
	assert_int_equal(get(u, "carol", SIP_DIGEST_MD5, ha1), SIP_ENOTFOUND);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "INSERT INTO users VALUES ('carol', 'example.com', "
				      "'D2D0C8958E1B1C2B989AFDA0EFB9663E', '" ALICE_SHA "')",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	clock_ms += 1000;
	assert_int_equal(get(u, "carol", SIP_DIGEST_MD5, ha1), 0);
	assert_string_equal(ha1, "D2D0C8958E1B1C2B989AFDA0EFB9663E"); /* first read: the stored text */
	assert_int_equal(get(u, "carol", SIP_DIGEST_MD5, ha1), 0);
	assert_string_equal(ha1, ALICE_MD5); /* from the cache */
	/* A malformed HA1 is not cached: it fails the same way every time. */
	assert_int_equal(sqlite3_exec(db, "UPDATE users SET ha1_md5 = 'short' WHERE username = 'carol'", NULL, NULL,
				      NULL),
			 SQLITE_OK);
	clock_ms += 1000;
	for (int i = 0; i < 2; i++)
		assert_int_equal(get(u, "carol", SIP_DIGEST_MD5, ha1), SIP_EIO);
	sqlite3_close(db);
	sip_users_close(u);
}

/* Far more distinct keys than the cache holds: answers stay right, old keys
 * are evicted (read again), and keys longer than the cache's key cap are
 * always read from the database. */
static void test_bounded(void **state)
{
	(void)state;
	struct sip_users *u = open_virtual();
	char ha1[SIP_DIGEST_HEX_MAX], name[32];
	assert_int_equal(sip_users_set_ha1(u, SIP_STR("alice"), SIP_STR(REALM), SIP_STR(ALICE_MD5), SIP_STR(ALICE_SHA)), 0);
	assert_int_equal(get(u, "alice", SIP_DIGEST_MD5, ha1), 0);
	enum { N = 40000 }; /* > 16384 entries */
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof name, "nobody%d", i);
		assert_int_equal(get(u, name, SIP_DIGEST_MD5, ha1), SIP_ENOTFOUND);
	}
	struct sip__users_stats s = stats(u);
	assert_int_equal(s.misses, N + 1);
	assert_int_equal(get(u, "nobody0", SIP_DIGEST_MD5, ha1), SIP_ENOTFOUND);
	assert_int_equal(stats(u).misses, N + 2); /* evicted long ago */
	assert_int_equal(get(u, "alice", SIP_DIGEST_SHA256, ha1), 0);
	assert_string_equal(ha1, ALICE_SHA);

	char longname[80];
	memset(longname, 'x', 60);
	longname[60] = '\0';
	assert_int_equal(sip_users_set_ha1(u, sip_str_c(longname), SIP_STR(REALM), SIP_STR(BOB_MD5), SIP_STR(BOB_SHA)), 0);
	s = stats(u);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(get(u, longname, SIP_DIGEST_MD5, ha1), 0);
		assert_string_equal(ha1, BOB_MD5);
	}
	assert_int_equal(stats(u).misses, s.misses + 3);
	assert_int_equal(stats(u).hits, s.hits);
	sip_users_close(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_sql, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
