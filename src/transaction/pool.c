/* pool.c — size-class pool for transactions and kept messages (see pool.h). */
#include <stddef.h>
#include "transaction/pool.h"

#if defined(__SANITIZE_ADDRESS__)
#define POOL_BYPASS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_BYPASS 1
#endif
#endif

struct sip__slab {
	struct sip__slab *next;
	max_align_t align[]; /* objects start here, suitably aligned */
};

#ifndef POOL_BYPASS
static size_t class_of(size_t n) { return (n + SIP__POOL_GRAIN - 1) / SIP__POOL_GRAIN - 1; }
#endif

void *sip__pool_alloc(struct sip__pool *p, size_t n)
{
#ifdef POOL_BYPASS
	(void)p;
	return sip_malloc(n);
#else
	if (n == 0 || n > SIP__POOL_MAX)
		return sip_malloc(n);
	size_t c = class_of(n), size = (c + 1) * SIP__POOL_GRAIN;
	void *o = p->free[c];
	if (o) {
		p->free[c] = *(void **)o;
		return o;
	}
	if (p->left < size) {
		/* The slab's unused tail (< size bytes) is dropped, not filed: simple,
		 * and at most one object's worth per slab. */
		struct sip__slab *s = sip_malloc(SIP__POOL_SLAB);
		if (!s)
			return NULL;
		s->next = p->slabs;
		p->slabs = s;
		p->cur = (char *)s->align;
		p->left = SIP__POOL_SLAB - offsetof(struct sip__slab, align);
		p->slab_bytes += SIP__POOL_SLAB;
	}
	o = p->cur;
	p->cur += size;
	p->left -= size;
	return o;
#endif
}

void sip__pool_free(struct sip__pool *p, void *ptr, size_t n)
{
	if (!ptr)
		return;
#ifdef POOL_BYPASS
	(void)p;
	(void)n;
	sip_free(ptr);
#else
	if (n == 0 || n > SIP__POOL_MAX) {
		sip_free(ptr);
		return;
	}
	size_t c = class_of(n);
	*(void **)ptr = p->free[c];
	p->free[c] = ptr;
#endif
}

void sip__pool_destroy(struct sip__pool *p)
{
	while (p->slabs) {
		struct sip__slab *s = p->slabs;
		p->slabs = s->next;
		sip_free(s);
	}
	*p = (struct sip__pool){0};
}
