/* The transaction layer's size-class pool (src/transaction/pool.c):
 * objects never overlap, a freed object is reused by its size class, large
 * objects and the slabs go through the allocator seam and all come back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "transaction/pool.h"

enum { N = 3000 };

static long live;
static void *c_malloc(size_t n, void *ud)
{
	(void)ud;
	live++;
	return malloc(n);
}
static void *c_realloc(void *p, size_t n, void *ud)
{
	(void)ud;
	if (!p)
		live++;
	return realloc(p, n);
}
static void c_free(void *p, void *ud)
{
	(void)ud;
	if (p)
		live--;
	free(p);
}
static const struct sip_mem counting = {c_malloc, c_realloc, c_free, NULL};

static void test_pool_no_overlap_and_reuse(void **state)
{
	(void)state;
	sip_mem_set(&counting);
	live = 0;
	struct sip__pool p = {0};
	static unsigned char *obj[N];
	static size_t len[N];
	for (int i = 0; i < N; i++) {
		len[i] = 1 + (size_t)(i * 37) % (SIP__POOL_MAX + 300); /* some above the pool's max */
		obj[i] = sip__pool_alloc(&p, len[i]);
		assert_non_null(obj[i]);
		assert_int_equal((uintptr_t)obj[i] % sizeof(void *), 0);
		memset(obj[i], i & 0xff, len[i]);
	}
	/* Free every other one, allocate them again: contents of the others intact. */
	for (int i = 0; i < N; i += 2)
		sip__pool_free(&p, obj[i], len[i]);
	for (int i = 0; i < N; i += 2) {
		obj[i] = sip__pool_alloc(&p, len[i]);
		memset(obj[i], i & 0xff, len[i]);
	}
	for (int i = 0; i < N; i++)
		for (size_t k = 0; k < len[i]; k++)
			assert_int_equal(obj[i][k], i & 0xff);
	for (int i = 0; i < N; i++)
		sip__pool_free(&p, obj[i], len[i]);
	sip__pool_destroy(&p);
	assert_int_equal(live, 0);
	sip_mem_set(NULL);
}

static void test_pool_class_reuse(void **state)
{
	(void)state;
	struct sip__pool p = {0};
	void *a = sip__pool_alloc(&p, 200);
	sip__pool_free(&p, a, 200);
	void *b = sip__pool_alloc(&p, 250); /* same 64-byte class (193..256) */
#if defined(__SANITIZE_ADDRESS__)
	(void)a; /* objects come from the seam one by one under ASan */
#elif defined(__has_feature)
#if !__has_feature(address_sanitizer)
	assert_ptr_equal(a, b);
#endif
#else
	assert_ptr_equal(a, b);
#endif
	sip__pool_free(&p, b, 250);
	sip__pool_destroy(&p);
	assert_null(p.slabs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_no_overlap_and_reuse),
		cmocka_unit_test(test_pool_class_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
