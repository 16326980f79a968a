/* pool.c — slab allocator for transactions and kept messages (see pool.h). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include "transaction/pool.h"

struct sip__slab {
	struct sip__slab *next, *prev; /* on partial[cls] (both) or spare (next only) */
	void *free;                    /* freed objects of this slab, linked through their first word */
	char *bump;                    /* first byte never handed out */
	uint32_t live;                 /* objects out */
	uint16_t cls;
	bool listed;                   /* on partial[cls] */
	max_align_t align[];           /* objects start here, suitably aligned */
};

#ifndef SIP__POOL_BYPASS
static size_t class_of(size_t n) { return (n + SIP__POOL_GRAIN - 1) / SIP__POOL_GRAIN - 1; }

static char *slab_end(struct sip__slab *s) { return (char *)s + SIP__POOL_SLAB; }

/* A fresh slab aligned to its size. First right below the previous one
 * (MAP_FIXED_NOREPLACE: only if that range is free), so the kernel merges
 * the slabs into one mapping — one mapping per slab would reach the
 * per-process map count (65,530) at ~4 GB of slabs; else anywhere: map
 * twice the size and unmap the ends. */
static struct sip__slab *slab_map(struct sip__pool *p)
{
	const size_t S = SIP__POOL_SLAB;
	const int prot = PROT_READ | PROT_WRITE, flags = MAP_PRIVATE | MAP_ANONYMOUS;
	char *a = NULL;
	if (p->next_at) {
		char *m = mmap(p->next_at, S, prot, flags | MAP_FIXED_NOREPLACE, -1, 0);
		if (m == p->next_at)
			a = m;
		else if (m != MAP_FAILED)
			munmap(m, S); /* a kernel without MAP_FIXED_NOREPLACE took it as a hint */
	}
	if (!a) {
		char *m = mmap(NULL, 2 * S, prot, flags, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		a = (char *)(((uintptr_t)m + S - 1) & ~(uintptr_t)(S - 1));
		size_t head = (size_t)(a - m);
		if (head)
			munmap(m, head);
		if (S - head)
			munmap(a + S, S - head);
	}
	p->next_at = (uintptr_t)a >= S ? a - S : NULL;
	p->slab_bytes += S;
	return (struct sip__slab *)a;
}

static void slab_unmap(struct sip__pool *p, struct sip__slab *s)
{
	munmap(s, SIP__POOL_SLAB);
	p->slab_bytes -= SIP__POOL_SLAB;
}

static void list_partial(struct sip__pool *p, struct sip__slab *s)
{
	struct sip__slab **head = &p->partial[s->cls];
	s->prev = NULL;
	s->next = *head;
	if (*head)
		(*head)->prev = s;
	*head = s;
	s->listed = true;
}

static void unlist_partial(struct sip__pool *p, struct sip__slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		p->partial[s->cls] = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->listed = false;
}

/* A slab for class c, listed as partial: a spare one if any, else a new one. */
static struct sip__slab *slab_for(struct sip__pool *p, size_t c)
{
	struct sip__slab *s = p->spare;
	if (s) {
		p->spare = s->next;
		if (--p->nspare < p->spare_low)
			p->spare_low = p->nspare;
	} else if (!(s = slab_map(p))) {
		return NULL;
	}
	s->free = NULL;
	s->bump = (char *)s->align;
	s->live = 0;
	s->cls = (uint16_t)c;
	list_partial(p, s);
	return s;
}
#endif

void *sip__pool_alloc(struct sip__pool *p, size_t n)
{
#ifdef SIP__POOL_BYPASS
	(void)p;
	return sip_malloc(n);
#else
	if (n == 0 || n > SIP__POOL_MAX)
		return sip_malloc(n);
	size_t c = class_of(n), size = (c + 1) * SIP__POOL_GRAIN;
	struct sip__slab *s = p->partial[c];
	if (!s && !(s = slab_for(p, c)))
		return NULL;
	void *o = s->free;
	if (o) {
		s->free = *(void **)o;
	} else {
		o = s->bump;
		s->bump += size;
	}
	s->live++;
	if (!s->free && (size_t)(slab_end(s) - s->bump) < size)
		unlist_partial(p, s); /* full */
	return o;
#endif
}

void sip__pool_free(struct sip__pool *p, void *ptr, size_t n)
{
	if (!ptr)
		return;
#ifdef SIP__POOL_BYPASS
	(void)p;
	(void)n;
	sip_free(ptr);
#else
	if (n == 0 || n > SIP__POOL_MAX) {
		sip_free(ptr);
		return;
	}
	struct sip__slab *s = (struct sip__slab *)((uintptr_t)ptr & ~(uintptr_t)(SIP__POOL_SLAB - 1));
	*(void **)ptr = s->free;
	s->free = ptr;
	if (--s->live == 0) {
		if (s->listed)
			unlist_partial(p, s);
		s->next = p->spare;
		p->spare = s;
		p->nspare++;
	} else if (!s->listed) {
		list_partial(p, s);
	}
#endif
}

#ifndef SIP__POOL_BYPASS
/* Unmaps n spare slabs (all when n >= nspare). */
static void unmap_spares(struct sip__pool *p, size_t n)
{
	for (; n && p->spare; n--) {
		struct sip__slab *s = p->spare;
		p->spare = s->next;
		p->nspare--;
		slab_unmap(p, s);
	}
}
#endif

void sip__pool_trim(struct sip__pool *p)
{
#ifndef SIP__POOL_BYPASS
	unmap_spares(p, p->spare_low);
	p->spare_low = p->nspare;
#else
	(void)p;
#endif
}

void sip__pool_destroy(struct sip__pool *p)
{
#ifndef SIP__POOL_BYPASS
	unmap_spares(p, p->nspare);
	for (size_t c = 0; c < SIP__POOL_CLASSES; c++)
		while (p->partial[c]) {
			struct sip__slab *s = p->partial[c];
			unlist_partial(p, s);
			slab_unmap(p, s);
		}
#endif
	*p = (struct sip__pool){0};
}
