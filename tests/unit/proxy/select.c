/* Unit tests for the proxy's pure choices (src/proxy/select.c): the best
 * final response of a fork (RFC 3261 §16.7 step 6), the status sent
 * upstream, and branch ids that carry a worker number (§8.1.1.7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sip_test.h"
#include <sip/proxy.h>

/* ---- sip_proxy_better ---- */

static void test_better_table(void **state)
{
	(void)state;
	static const struct {
		int best, cand;
		bool want;
	} rows[] = {
		/* best = 0: any final status is taken. */
		{0, 200, true},
		{0, 302, true},
		{0, 404, true},
		{0, 503, true},
		{0, 699, true},
		/* 6xx over everything, in both directions. */
		{486, 600, true},
		{302, 603, true},
		{401, 604, true},
		{500, 606, true},
		{603, 486, false},
		{600, 302, false},
		{600, 401, false},
		{603, 500, false},
		{600, 603, false}, /* first 6xx stays */
		/* Otherwise the lowest class. */
		{486, 302, true},
		{302, 486, false},
		{503, 486, true},
		{486, 503, false},
		{500, 404, true},
		{404, 500, false},
		/* Within a class the first stays. */
		{404, 480, false},
		{480, 404, false},
		{301, 302, false},
		{500, 502, false},
		/* Challenges over other 4xx (the caller can answer them). */
		{404, 401, true},
		{486, 407, true},
		{401, 404, false},
		{407, 486, false},
		{401, 407, false},
		{407, 401, false},
		/* ... but not over a lower class or a 6xx. */
		{302, 401, false},
		{401, 302, true},
		{401, 603, true},
		/* 503 loses to other 5xx. */
		{503, 500, true},
		{503, 504, true},
		{500, 503, false},
		{503, 503, false},
		/* Not final statuses: never win. */
		{0, 100, false},
		{0, 180, false},
		{0, 199, false},
		{0, 700, false},
		{0, 0, false},
		{0, -1, false},
		{486, 100, false},
		{486, 700, false},
		{486, 0, false},
		{486, 1000, false},
	};
	for (size_t i = 0; i < N(rows); i++)
		if (sip_proxy_better(rows[i].best, rows[i].cand) != rows[i].want)
			fail_msg("row %zu: better(%d, %d) should be %s", i, rows[i].best, rows[i].cand,
				 rows[i].want ? "true" : "false");
}

/* Folding a fork's responses in arrival order with sip_proxy_better gives
 * the one §16.7 step 6 picks. */
static int fold(const int *st, size_t n)
{
	int best = 0;
	for (size_t i = 0; i < n; i++)
		if (sip_proxy_better(best, st[i]))
			best = st[i];
	return best;
}

static void test_better_fold(void **state)
{
	(void)state;
	assert_int_equal(fold((const int[]){404, 480, 486}, 3), 404);
	assert_int_equal(fold((const int[]){503, 486, 500}, 3), 486);
	assert_int_equal(fold((const int[]){503, 500}, 2), 500);
	assert_int_equal(fold((const int[]){503, 503}, 2), 503);
	assert_int_equal(fold((const int[]){404, 407, 401}, 3), 407);
	assert_int_equal(fold((const int[]){486, 302, 603, 301}, 4), 603);
	assert_int_equal(fold((const int[]){100, 700, 0}, 3), 0);
}

/* ---- sip_proxy_upstream_status ---- */

static void test_upstream_status(void **state)
{
	(void)state;
	assert_int_equal(sip_proxy_upstream_status(503), 500);
	static const int same[] = {200, 302, 401, 404, 407, 480, 486, 500, 502, 504, 600, 603};
	for (size_t i = 0; i < N(same); i++)
		assert_int_equal(sip_proxy_upstream_status(same[i]), same[i]);
}

/* ---- sip_proxy_branch / sip_proxy_branch_worker ---- */

static void test_branch_round_trip(void **state)
{
	(void)state;
	static const unsigned workers[] = {0, 1, 7, 10, 99, 100, 254, SIP_PROXY_MAX_WORKER};
	static const char *const tokens[] = {"a", "9f3c2e", "x-y.z!%*_+`'~", "0123456789abcdef0123456789abcdef"};
	char b[SIP_PROXY_BRANCH_MAX];

	for (size_t w = 0; w < N(workers); w++) {
		for (size_t t = 0; t < N(tokens); t++) {
			struct sip_str tok = {tokens[t], strlen(tokens[t])};
			int n = sip_proxy_branch(workers[w], tok, b, sizeof(b));
			assert_true(n > 0);
			assert_int_equal((size_t)n, strlen(b));
			assert_memory_equal(b, "z9hG4bK", 7); /* §8.1.1.7 magic cookie */
			char want[SIP_PROXY_BRANCH_MAX];
			snprintf(want, sizeof(want), "z9hG4bK-sd%u-%s", workers[w], tokens[t]);
			assert_string_equal(b, want);
			assert_int_equal(sip_proxy_branch_worker((struct sip_str){b, (size_t)n}), (int)workers[w]);
		}
	}
}

static void test_branch_errors(void **state)
{
	(void)state;
	char b[SIP_PROXY_BRANCH_MAX];

	assert_int_equal(sip_proxy_branch(SIP_PROXY_MAX_WORKER + 1, SIP_STR("abc"), b, sizeof(b)), SIP_EINVAL);
	assert_int_equal(sip_proxy_branch(1000, SIP_STR("abc"), b, sizeof(b)), SIP_EINVAL);
	/* Not a token: a branch is a via-param token (§20.42). */
	static const char *const bad[] = {"a b", " ab", "ab\r\n", "a;b", "a,b", "a=b", "a\"b", "a/b", "a:b", "<a>"};
	for (size_t i = 0; i < N(bad); i++)
		if (sip_proxy_branch(3, (struct sip_str){bad[i], strlen(bad[i])}, b, sizeof(b)) != SIP_EINVAL)
			fail_msg("token '%s' accepted", bad[i]);
	assert_int_equal(sip_proxy_branch(3, (struct sip_str){"a\0b", 3}, b, sizeof(b)), SIP_EINVAL);
	assert_int_equal(sip_proxy_branch(3, SIP_STR_NULL, b, sizeof(b)), SIP_EINVAL);
	assert_int_equal(sip_proxy_branch(3, SIP_STR("abc"), NULL, 64), SIP_EINVAL);

	/* Too small: "z9hG4bK-sd3-abc" is 15 bytes and needs 16 with the NUL. */
	for (size_t cap = 0; cap < 16; cap++)
		assert_int_equal(sip_proxy_branch(3, SIP_STR("abc"), b, cap), SIP_ETOOBIG);
	assert_int_equal(sip_proxy_branch(3, SIP_STR("abc"), b, 16), 15);
	assert_string_equal(b, "z9hG4bK-sd3-abc");
	/* A token that cannot fit a SIP_PROXY_BRANCH_MAX buffer. */
	char tok[SIP_PROXY_BRANCH_MAX];
	memset(tok, 'k', sizeof(tok));
	assert_int_equal(sip_proxy_branch(255, (struct sip_str){tok, sizeof(tok)}, b, sizeof(b)), SIP_ETOOBIG);
}

static void test_branch_worker_foreign(void **state)
{
	(void)state;
	static const char *const foreign[] = {
		"z9hG4bK776asdhds", /* RFC 3261 example */
		"z9hG4bK-sd",	    /* mark only */
		"z9hG4bK-sdx-1",    /* no number */
		"z9hG4bK-sd1234-a", /* more digits than a worker has */
		"z9hG4bK-sd256-a",  /* above SIP_PROXY_MAX_WORKER */
		"z9hG4bK-sd999-a",
		"z9hG4bK-sd7",	    /* no '-' after the number */
		"z9hG4bK-sd7x-a",
		"z9hG4bK-sd-7-a",
		"z9hG4bk-sd7-a", /* cookie is case-sensitive here */
		"z9hG4bK-SD7-a",
		"1234",
		"-sd7-a",
		"",
	};
	for (size_t i = 0; i < N(foreign); i++) {
		struct sip_str s = {foreign[i], strlen(foreign[i])};
		if (sip_proxy_branch_worker(s) != -1)
			fail_msg("'%s' taken for ours (worker %d)", foreign[i], sip_proxy_branch_worker(s));
	}
	assert_int_equal(sip_proxy_branch_worker(SIP_STR_NULL), -1);

	/* The worker number is read from the slice, never past it. */
	const char *b = "z9hG4bK-sd12-tok";
	assert_int_equal(sip_proxy_branch_worker((struct sip_str){b, strlen(b)}), 12);
	assert_int_equal(sip_proxy_branch_worker((struct sip_str){b, 12}), -1);  /* "z9hG4bK-sd12" */
	assert_int_equal(sip_proxy_branch_worker((struct sip_str){b, 11}), -1);  /* "z9hG4bK-sd1" */
	char *heap = malloc(13);
	assert_non_null(heap);
	memcpy(heap, b, 13); /* "z9hG4bK-sd12-", no NUL: ASan checks the bound */
	int w = sip_proxy_branch_worker((struct sip_str){heap, 13});
	assert_true(w == 12 || w == -1);
	free(heap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_better_table),
		cmocka_unit_test(test_better_fold),
		cmocka_unit_test(test_upstream_status),
		cmocka_unit_test(test_branch_round_trip),
		cmocka_unit_test(test_branch_errors),
		cmocka_unit_test(test_branch_worker_foreign),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
