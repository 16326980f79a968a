/* The credential store: HA1s per (user, realm), stored in the SQLite file
 * next to the bindings, surviving a reopen. Expected HA1s were computed
 * independently (Python hashlib: md5/sha256 of "user:realm:password"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sip/location.h>
#include "loc_test.h"

#define ALICE_MD5 "d2d0c8958e1b1c2b989afda0efb9663e"  /* alice:example.com:s3cret */
#define ALICE_SHA "5297838bf1a4f1fc5d284fa2f0df90bdf2046b6bf4c022e85118af37bb6dbf75"
#define BOB_MD5 "74a003e9812b253c5b457cb51c978949"    /* bob:example.com:pw */
#define BOB_SHA "9611f421f55f594c171c139482590aafec2fc9198790b06b022b25f3d27e5885"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/sipd-users-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/sipd.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sip_test_rm_db(dir, path);
	return 0;
}

struct listing {
	char text[512];
	size_t len;
};

static int collect(void *ud, struct sip_str user, struct sip_str realm)
{
	struct listing *l = ud;
	int n = snprintf(l->text + l->len, sizeof l->text - l->len, "%.*s@%.*s;", SIP_STR_ARG(user),
			 SIP_STR_ARG(realm));
	assert_true(n > 0 && (size_t)n < sizeof l->text - l->len);
	l->len += (size_t)n;
	return 0;
}

static int stop_at_first(void *ud, struct sip_str user, struct sip_str realm)
{
	(void)user;
	(void)realm;
	++*(int *)ud;
	return 7;
}

static void test_users(void **state)
{
	(void)state;
	struct sip_users *u = NULL;
	char ha1[SIP_DIGEST_HEX_MAX];
	assert_int_equal(sip_users_open(&u, path), 0);
	assert_int_equal(sip_users_set_ha1(u, SIP_STR("alice"), SIP_STR("example.com"), SIP_STR(ALICE_MD5),
					   SIP_STR(ALICE_SHA)),
			 0);
	/* Upper-case input is stored lower-case. */
	char up[65];
	for (int i = 0; i < 64; i++)
		up[i] = (char)(BOB_SHA[i] >= 'a' ? BOB_SHA[i] - 32 : BOB_SHA[i]);
	assert_int_equal(sip_users_set_ha1(u, SIP_STR("bob"), SIP_STR("example.com"), SIP_STR(BOB_MD5),
					   (struct sip_str){up, 64}),
			 0);
	assert_int_equal(sip_users_set_ha1(u, SIP_STR("bob"), SIP_STR("other.org"), SIP_STR(BOB_MD5),
					   SIP_STR(BOB_SHA)),
			 0);

	assert_int_equal(sip_users_get_ha1(u, SIP_STR("alice"), SIP_STR("example.com"), SIP_DIGEST_MD5, ha1), 0);
	assert_string_equal(ha1, ALICE_MD5);
	assert_int_equal(sip_users_get_ha1(u, SIP_STR("alice"), SIP_STR("example.com"), SIP_DIGEST_SHA256, ha1), 0);
	assert_string_equal(ha1, ALICE_SHA);
	/* -sess variants use the base hash's HA1. */
	assert_int_equal(sip_users_get_ha1(u, SIP_STR("alice"), SIP_STR("example.com"), SIP_DIGEST_MD5_SESS, ha1), 0);
	assert_string_equal(ha1, ALICE_MD5);
	assert_int_equal(sip_users_get_ha1(u, SIP_STR("bob"), SIP_STR("example.com"), SIP_DIGEST_SHA256, ha1), 0);
	assert_string_equal(ha1, BOB_SHA);
	assert_int_equal(sip_users_get_ha1(u, SIP_STR("carol"), SIP_STR("example.com"), SIP_DIGEST_MD5, ha1),
			 SIP_ENOTFOUND);
	assert_int_equal(sip_users_get_ha1(u, SIP_STR("alice"), SIP_STR("other.org"), SIP_DIGEST_MD5, ha1),
			 SIP_ENOTFOUND);

	struct listing l = {{0}, 0};
	assert_int_equal(sip_users_list(u, collect, &l), 0);
	assert_string_equal(l.text, "alice@example.com;bob@example.com;bob@other.org;");
	int calls = 0;
	assert_int_equal(sip_users_list(u, stop_at_first, &calls), 7);
	assert_int_equal(calls, 1);

	/* Bad input. */
	assert_int_equal(sip_users_set_ha1(u, SIP_STR(""), SIP_STR("r"), SIP_STR(BOB_MD5), SIP_STR(BOB_SHA)),
			 SIP_EINVAL);
	assert_int_equal(sip_users_set_ha1(u, SIP_STR("x"), SIP_STR("r"), SIP_STR("1234"), SIP_STR(BOB_SHA)),
			 SIP_EINVAL);
	assert_int_equal(sip_users_set_ha1(u, SIP_STR("x"), SIP_STR("r"), SIP_STR(BOB_SHA), SIP_STR(BOB_MD5)),
			 SIP_EINVAL);

	/* Survives a reopen; the file never holds a password. */
	sip_users_close(u);
	assert_int_equal(sip_users_open(&u, path), 0);
	assert_int_equal(sip_users_get_ha1(u, SIP_STR("bob"), SIP_STR("other.org"), SIP_DIGEST_MD5, ha1), 0);
	assert_string_equal(ha1, BOB_MD5);

	assert_int_equal(sip_users_del(u, SIP_STR("alice"), SIP_STR("example.com")), 0);
	assert_int_equal(sip_users_del(u, SIP_STR("alice"), SIP_STR("example.com")), SIP_ENOTFOUND);
	assert_int_equal(sip_users_del(u, SIP_STR("bob"), SIP_STR_NULL), 0); /* every realm */
	l.len = 0;
	l.text[0] = '\0';
	assert_int_equal(sip_users_list(u, collect, &l), 0);
	assert_int_equal(l.len, 0);
	sip_users_close(u);

	/* The users table shares the file with the bindings. */
	struct sip_location *loc = NULL;
	assert_int_equal(sip_location_open_sqlite(&loc, path, NULL), 0);
	assert_int_equal(sip_users_open(&u, path), 0);
	assert_int_equal(sip_users_set_ha1(u, SIP_STR("alice"), SIP_STR("example.com"), SIP_STR(ALICE_MD5),
					   SIP_STR(ALICE_SHA)),
			 0);
	struct sip_binding b = {.aor = SIP_STR("sip:alice@example.com"), .contact_uri = SIP_STR("sip:a@h"),
				.q = -1, .expires = 100};
	assert_int_equal(sip_location_upsert(loc, &b, 1), 0);
	assert_int_equal(sip_location_count(loc, SIP_STR_NULL, 1), 1);
	sip_location_close(loc);
	sip_users_close(u);
}

/* In-memory users (path NULL) for tests and the memory mode. */
static void test_users_memory(void **state)
{
	(void)state;
	struct sip_users *u = NULL;
	char ha1[SIP_DIGEST_HEX_MAX];
	assert_int_equal(sip_users_open(&u, NULL), 0);
	assert_int_equal(sip_users_set_ha1(u, SIP_STR("a"), SIP_STR("r"), SIP_STR(BOB_MD5), SIP_STR(BOB_SHA)), 0);
	assert_int_equal(sip_users_get_ha1(u, SIP_STR("a"), SIP_STR("r"), SIP_DIGEST_MD5, ha1), 0);
	assert_string_equal(ha1, BOB_MD5);
	sip_users_close(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_users, setup, teardown),
		cmocka_unit_test(test_users_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
