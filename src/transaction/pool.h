/* pool.h — private: the transaction layer's allocator for its own objects
 * (transactions and kept messages). Size classes of SIP__POOL_GRAIN bytes
 * carved from SIP__POOL_SLAB-byte slabs, freed objects kept on per-class
 * free lists and reused; slabs go back only when the layer is freed.
 * Why: at 20k requests/s over UDP ~640k transactions linger in Timer J;
 * glibc grows a thread arena one page at a time (an mprotect() per 4 KiB,
 * ~1 per 7 requests, plus trims and re-faults as the population moves):
 * ~11% of sipd's CPU. Under AddressSanitizer objects come from sip_malloc
 * one by one, so use-after-free stays detectable. */
#ifndef SIP_TXN_POOL_H
#define SIP_TXN_POOL_H

#include <sip/core.h>

#define SIP__POOL_GRAIN 64u
#define SIP__POOL_MAX 2048u          /* larger objects come from sip_malloc */
#define SIP__POOL_SLAB (256u << 10)
#define SIP__POOL_CLASSES (SIP__POOL_MAX / SIP__POOL_GRAIN)

struct sip__slab;

struct sip__pool {
	void *free[SIP__POOL_CLASSES]; /* free lists, by size class */
	struct sip__slab *slabs;       /* every slab (freed with the pool) */
	char *cur;                     /* unused tail of the newest slab */
	size_t left;
	size_t slab_bytes;             /* held in slabs (stats) */
};

/* n bytes (n > 0), or NULL when out of memory. */
void *sip__pool_alloc(struct sip__pool *p, size_t n);
/* Gives back what sip__pool_alloc(p, n) returned, with the same n. */
void sip__pool_free(struct sip__pool *p, void *ptr, size_t n);
/* Frees every slab (objects still out are gone with them). */
void sip__pool_destroy(struct sip__pool *p);

#endif
