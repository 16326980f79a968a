/* The transaction layer's slab pool (src/transaction/pool.c): objects never
 * overlap, a freed object is reused by its size class, large objects go
 * through the allocator seam and all come back, and slabs no object needed
 * for a whole trim period go back to the system. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
	void *keep = sip__pool_alloc(&p, 100); /* keeps the slab in use */
	sip__pool_free(&p, a, 200);
	void *b = sip__pool_alloc(&p, 250); /* same 64-byte class (193..256) */
#ifndef SIP__POOL_BYPASS
	assert_ptr_equal(a, b);
#else
	(void)a; /* objects come from the seam one by one under ASan */
#endif
	sip__pool_free(&p, b, 250);
	sip__pool_free(&p, keep, 100);
	sip__pool_destroy(&p);
}

/* A burst fills many slabs; once its objects are freed the slabs are spare,
 * and the second trim (a whole period with no use of them) unmaps them all. */
static void test_pool_trim_after_burst(void **state)
{
	(void)state;
	struct sip__pool p = {0};
	enum { BURST = 5000 };
	static void *obj[BURST];
	for (int i = 0; i < BURST; i++) {
		obj[i] = sip__pool_alloc(&p, 300 + (size_t)(i % 3) * 400);
		assert_non_null(obj[i]);
		memset(obj[i], 0x5a, 300);
	}
#ifndef SIP__POOL_BYPASS
	size_t peak = p.slab_bytes;
	assert_true(peak >= (size_t)BURST * 300);
	/* All but one object freed: the slab of the survivor stays. */
	for (int i = 1; i < BURST; i++)
		sip__pool_free(&p, obj[i], 300 + (size_t)(i % 3) * 400);
	sip__pool_trim(&p); /* the spares appeared during this period: kept */
	assert_int_equal(p.slab_bytes, peak);
	sip__pool_trim(&p); /* unused for a whole period: unmapped */
	assert_int_equal(p.slab_bytes, SIP__POOL_SLAB);
	assert_int_equal(p.nspare, 0);
	sip__pool_free(&p, obj[0], 300);
	sip__pool_trim(&p);
	sip__pool_trim(&p);
	assert_int_equal(p.slab_bytes, 0);
	/* And the pool still works from nothing. */
	void *o = sip__pool_alloc(&p, 100);
	assert_non_null(o);
	assert_int_equal(p.slab_bytes, SIP__POOL_SLAB);
	sip__pool_free(&p, o, 100);
#else
	for (int i = 0; i < BURST; i++)
		sip__pool_free(&p, obj[i], 300 + (size_t)(i % 3) * 400);
	sip__pool_trim(&p);
#endif
	sip__pool_destroy(&p);
}

/* A steady load takes its slabs back between trims: nothing is unmapped and
 * the same slab serves every period (no map/unmap churn). A spare slab is
 * re-carved for whatever class needs one. */
static void test_pool_steady_load_keeps_slabs(void **state)
{
	(void)state;
	struct sip__pool p = {0};
	void *first = sip__pool_alloc(&p, 500);
	sip__pool_free(&p, first, 500);
	for (int period = 0; period < 10; period++) {
		void *o = sip__pool_alloc(&p, period % 2 ? 500 : 1500);
		assert_non_null(o);
#ifndef SIP__POOL_BYPASS
		assert_ptr_equal(o, first); /* the spare slab, carved for this class */
		assert_int_equal(p.slab_bytes, SIP__POOL_SLAB);
#endif
		sip__pool_free(&p, o, period % 2 ? 500 : 1500);
		sip__pool_trim(&p);
	}
	sip__pool_destroy(&p);
}

/* Random churn against a reference: 200,000 operations — allocations of
 * every size class and beyond the pool's maximum, frees of random live
 * objects, a trim every 1,000 — with each object filled with its own byte
 * and checked when freed (an overlap or a free-list write into a live
 * object shows). At the end everything is freed and two trims leave nothing
 * mapped. */
static void test_pool_random_churn(void **state)
{
	(void)state;
	enum { OPS = 200000, LIVE_MAX = 4000 };
	static unsigned char *obj[LIVE_MAX];
	static size_t len[LIVE_MAX];
	static unsigned char tag[LIVE_MAX];
	size_t nlive = 0;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct sip__pool p = {0};
	for (int op = 0; op < OPS; op++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		bool alloc = nlive == 0 || (nlive < LIVE_MAX && (x % 100) < (op < OPS / 2 ? 55u : 45u));
		if (alloc) {
			size_t n = 1 + (size_t)(x >> 16) % (SIP__POOL_MAX + 200);
			unsigned char *o = sip__pool_alloc(&p, n);
			assert_non_null(o);
			obj[nlive] = o;
			len[nlive] = n;
			tag[nlive] = (unsigned char)(op * 31 + 7);
			memset(o, tag[nlive], n);
			nlive++;
		} else {
			size_t i = (size_t)(x >> 24) % nlive;
			for (size_t k = 0; k < len[i]; k++)
				assert_int_equal(obj[i][k], tag[i]);
			sip__pool_free(&p, obj[i], len[i]);
			nlive--;
			obj[i] = obj[nlive], len[i] = len[nlive], tag[i] = tag[nlive];
		}
		if (op % 1000 == 999)
			sip__pool_trim(&p);
	}
	while (nlive) {
		nlive--;
		for (size_t k = 0; k < len[nlive]; k++)
			assert_int_equal(obj[nlive][k], tag[nlive]);
		sip__pool_free(&p, obj[nlive], len[nlive]);
	}
	sip__pool_trim(&p);
	sip__pool_trim(&p);
	assert_int_equal(p.slab_bytes, 0);
	assert_int_equal(p.nspare, 0);
	sip__pool_destroy(&p);
}

#ifndef SIP__POOL_BYPASS
static int count_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	int n = 0, c;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}
#endif

/* Slabs are mapped next to each other where the address space allows, so
 * the kernel merges them into a few mappings: a pool holding gigabytes of
 * transactions must not run into the per-process map count (65,530 by
 * default) at one mapping per 64 KiB slab. */
static void test_pool_slabs_share_mappings(void **state)
{
	(void)state;
#ifndef SIP__POOL_BYPASS
	enum { SLABS = 1000, PER = SIP__POOL_SLAB / 2048 };
	static void *obj[SLABS * PER];
	struct sip__pool p = {0};
	int before = count_mappings();
	for (int i = 0; i < SLABS * PER; i++)
		assert_non_null(obj[i] = sip__pool_alloc(&p, 2000));
	int grown = count_mappings() - before;
	assert_true(p.slab_bytes >= (size_t)(SLABS - 1) * SIP__POOL_SLAB);
	assert_true(grown < SLABS / 10);
	for (int i = 0; i < SLABS * PER; i++)
		sip__pool_free(&p, obj[i], 2000);
	sip__pool_destroy(&p);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_no_overlap_and_reuse),
		cmocka_unit_test(test_pool_class_reuse),
		cmocka_unit_test(test_pool_trim_after_burst),
		cmocka_unit_test(test_pool_steady_load_keeps_slabs),
		cmocka_unit_test(test_pool_random_churn),
		cmocka_unit_test(test_pool_slabs_share_mappings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
