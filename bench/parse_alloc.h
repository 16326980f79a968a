/* parse_alloc.h — counts heap allocations made anywhere in the process (our
 * code, libsip, libosip2, sofia-sip, libre and libc itself) by interposing the
 * malloc family in the executable. Each wrapper forwards to glibc's
 * __libc_* entry points, so blocks stay interchangeable with glibc's own
 * (a block from strdup or valloc can still be freed here). Counting is on
 * only while bench_alloc_counting is set, i.e. during the timed loop.
 *
 * The wrappers are exported with default visibility (the build hides symbols
 * by default); without that, shared libraries would bind to glibc's malloc
 * and the counts would miss sofia-sip, libosip2 and libre entirely. */
#ifndef BENCH_PARSE_ALLOC_H
#define BENCH_PARSE_ALLOC_H

#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define BENCH_NO_INTERPOSE 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BENCH_NO_INTERPOSE 1
#endif

struct bench_alloc_stats {
	uint64_t calls; /* malloc, calloc, realloc, memalign-family calls that allocate */
	uint64_t bytes; /* bytes requested by those calls */
	uint64_t frees; /* free calls with a non-NULL pointer */
};

static bool bench_alloc_counting;
static struct bench_alloc_stats bench_alloc;

#ifdef BENCH_NO_INTERPOSE
/* Sanitizers own the malloc family: no counting (the figures print as 0). */
static const bool bench_alloc_works = false;
#else
static const bool bench_alloc_works = true;

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t size);

static inline void bench_alloc_note(size_t size)
{
	if (bench_alloc_counting) {
		bench_alloc.calls++;
		bench_alloc.bytes += size;
	}
}

#define BENCH_EXPORT __attribute__((visibility("default")))

BENCH_EXPORT void *malloc(size_t size)
{
	bench_alloc_note(size);
	return __libc_malloc(size);
}

BENCH_EXPORT void *calloc(size_t n, size_t size)
{
	bench_alloc_note(n * size);
	return __libc_calloc(n, size);
}

BENCH_EXPORT void *realloc(void *p, size_t size)
{
	/* realloc(p, 0) frees; anything else (re)allocates and counts once. */
	if (size)
		bench_alloc_note(size);
	else if (p && bench_alloc_counting)
		bench_alloc.frees++;
	return __libc_realloc(p, size);
}

BENCH_EXPORT void free(void *p)
{
	if (p && bench_alloc_counting)
		bench_alloc.frees++;
	__libc_free(p);
}

BENCH_EXPORT void *memalign(size_t align, size_t size)
{
	bench_alloc_note(size);
	return __libc_memalign(align, size);
}

BENCH_EXPORT void *aligned_alloc(size_t align, size_t size)
{
	bench_alloc_note(size);
	return __libc_memalign(align, size);
}

BENCH_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)) != 0)
		return EINVAL;
	bench_alloc_note(size);
	p = __libc_memalign(align, size);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

#endif /* BENCH_NO_INTERPOSE */
#endif
