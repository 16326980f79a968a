/* mem.c — the allocator seam; every heap allocation in libsip goes through here. */
#include <sip/core.h>
#include <stdlib.h>
#include <string.h>

static void *libc_malloc(size_t n, void *ud) { (void)ud; return malloc(n); }
static void *libc_realloc(void *p, size_t n, void *ud) { (void)ud; return realloc(p, n); }
static void libc_free(void *p, void *ud) { (void)ud; free(p); }

static const struct sip_mem libc_mem = {libc_malloc, libc_realloc, libc_free, NULL};
static struct sip_mem cur = {libc_malloc, libc_realloc, libc_free, NULL};

void sip_mem_set(const struct sip_mem *mem) { cur = mem ? *mem : libc_mem; }

void *sip_malloc(size_t size) { return cur.malloc(size ? size : 1, cur.ud); }

void *sip_calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	void *p = sip_malloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

char *sip_memdup_str(const char *p, size_t n)
{
	if (n == SIZE_MAX)
		return NULL;
	char *d = sip_malloc(n + 1);
	if (d) {
		if (n)
			memcpy(d, p, n);
		d[n] = 0;
	}
	return d;
}

void *sip_realloc(void *ptr, size_t size) { return cur.realloc(ptr, size ? size : 1, cur.ud); }

void sip_free(void *ptr)
{
	if (ptr)
		cur.free(ptr, cur.ud);
}
