/* Unit tests for sip/rand.h: seeding, hex output shape, no repeats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sip/rand.h>
#include <string.h>

static void test_hex(void **state)
{
	(void)state;
	struct sip_rand r;
	sip_rand_seed(&r);
	assert_true(r.s != 0);
	char a[41], b[41];
	memset(a, 'x', sizeof(a));
	sip_rand_hex(&r, a, 40);
	sip_rand_hex(&r, b, 40);
	assert_int_equal(strlen(a), 40); /* NUL-terminated exactly at n */
	assert_int_equal(strspn(a, "0123456789abcdef"), 40);
	assert_string_not_equal(a, b);
	char one[2];
	sip_rand_hex(&r, one, 1);
	assert_int_equal(strlen(one), 1);
}

static void test_no_repeats(void **state)
{
	(void)state;
	struct sip_rand r = {1}; /* a fixed state: the sequence is deterministic */
	uint64_t first = sip_rand_next(&r), v = first;
	for (int i = 0; i < 100000; i++) {
		v = sip_rand_next(&r);
		assert_true(v != first);
		assert_true(r.s != 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_hex), cmocka_unit_test(test_no_repeats)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
