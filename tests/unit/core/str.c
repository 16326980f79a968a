/* Unit tests for src/core: slices, numbers, error strings, allocator seam. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>
#include <sip/core.h>

static void test_eq(void **state)
{
	(void)state;
	assert_true(sip_str_eq(SIP_STR("abc"), sip_str_c("abc")));
	assert_false(sip_str_eq(SIP_STR("abc"), SIP_STR("abd")));
	assert_true(sip_str_caseeq(SIP_STR("Call-ID"), SIP_STR("call-id")));
	assert_false(sip_str_caseeq(SIP_STR("Call-ID"), SIP_STR("call-i")));
	assert_true(sip_str_eq(SIP_STR(""), sip_str_c(NULL)));
}

static void test_u32(void **state)
{
	(void)state;
	uint32_t v = 0;
	assert_int_equal(sip_str_to_u32(SIP_STR("0009"), &v), 0);
	assert_int_equal(v, 9);
	assert_int_equal(sip_str_to_u32(SIP_STR("4294967295"), &v), 0);
	assert_int_equal(v, UINT32_MAX);
	assert_int_equal(sip_str_to_u32(SIP_STR("4294967296"), &v), SIP_ERANGE);
	assert_int_equal(sip_str_to_u32(SIP_STR("36893488147419103232"), &v), SIP_ERANGE);
	assert_int_equal(sip_str_to_u32(SIP_STR("-1"), &v), SIP_EPARSE);
	assert_int_equal(sip_str_to_u32(SIP_STR(""), &v), SIP_EPARSE);
	assert_int_equal(sip_str_to_u32(SIP_STR("12a"), &v), SIP_EPARSE);
}

static void test_trim(void **state)
{
	(void)state;
	struct sip_str t = sip_str_trim(SIP_STR(" \t a b \r\n"));
	assert_true(sip_str_eq(t, SIP_STR("a b")));
	assert_int_equal(sip_str_trim(SIP_STR("   ")).len, 0);
}

static size_t live;
static int fail_at = -1, calls;
static void *count_malloc(size_t n, void *ud)
{
	(void)ud;
	if (calls++ == fail_at)
		return NULL;
	live++;
	return malloc(n);
}
static void *count_realloc(void *p, size_t n, void *ud)
{
	(void)ud;
	if (!p)
		live++;
	return realloc(p, n);
}
static void count_free(void *p, void *ud)
{
	(void)ud;
	live--;
	free(p);
}

static void test_mem_seam(void **state)
{
	(void)state;
	struct sip_mem m = {count_malloc, count_realloc, count_free, NULL};
	sip_mem_set(&m);
	void *a = sip_malloc(10), *b = sip_calloc(4, 4);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(live, 2);
	sip_free(a);
	sip_free(b);
	sip_free(NULL);
	assert_int_equal(live, 0);
	fail_at = calls;
	assert_null(sip_malloc(1));
	assert_null(sip_calloc(SIZE_MAX / 2, 4)); /* overflow caught before allocating */
	sip_mem_set(NULL);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(sip_strerror(SIP_EPARSE), "malformed input");
	assert_string_equal(sip_strerror(12345), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eq),       cmocka_unit_test(test_u32),      cmocka_unit_test(test_trim),
		cmocka_unit_test(test_mem_seam), cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
