/* pool.h — private: the transaction layer's allocator for its own objects
 * (transactions and kept messages). Why: at 20k requests/s over UDP ~640k
 * transactions linger in Timer J; glibc grows a thread arena one page at a
 * time (an mprotect() per 4 KiB, ~1 per 7 requests, plus trims and re-faults
 * as the population moves): ~11% of sipd's CPU.
 *
 * Slab allocator: SIP__POOL_SLAB-byte slabs mapped from the kernel, aligned
 * to their size (an object finds its slab by masking its address), each
 * carved into objects of one size class (multiples of SIP__POOL_GRAIN). A
 * slab whose last object is freed becomes spare; sip__pool_trim() unmaps the
 * spares that stayed unused for a whole period, so memory taken by a burst
 * (10,000 REGISTERs keep 7 MB for Timer J's 32 s) goes back to the system
 * once the burst's transactions end, while a steady load keeps reusing its
 * slabs with no mmap churn.
 *
 * Under AddressSanitizer objects come from sip_malloc one by one, so
 * use-after-free stays detectable. */
#ifndef SIP_TXN_POOL_H
#define SIP_TXN_POOL_H

#include <sip/core.h>

/* Defined under AddressSanitizer: the pool hands every object to sip_malloc
 * (no slabs are mapped, trim does nothing). */
#if defined(__SANITIZE_ADDRESS__)
#define SIP__POOL_BYPASS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIP__POOL_BYPASS 1
#endif
#endif

#define SIP__POOL_GRAIN 64u
#define SIP__POOL_MAX 2048u          /* larger objects come from sip_malloc */
#define SIP__POOL_SLAB (64u << 10)   /* a power of two */
#define SIP__POOL_CLASSES (SIP__POOL_MAX / SIP__POOL_GRAIN)

struct sip__slab;

struct sip__pool {
	struct sip__slab *partial[SIP__POOL_CLASSES]; /* slabs with room, by size class */
	struct sip__slab *spare;       /* slabs with no object out */
	size_t nspare;
	size_t spare_low;              /* fewest spares since the last trim */
	size_t slab_bytes;             /* mapped (stats) */
	char *next_at;                 /* where the next slab is tried first: below the last one mapped */
};

/* n bytes (n > 0), or NULL when out of memory. */
void *sip__pool_alloc(struct sip__pool *p, size_t n);
/* Gives back what sip__pool_alloc(p, n) returned, with the same n. */
void sip__pool_free(struct sip__pool *p, void *ptr, size_t n);
/* Unmaps the spare slabs no allocation needed since the previous call
 * (the low-water mark of the spare count); call it periodically. */
void sip__pool_trim(struct sip__pool *p);
/* Unmaps every slab; every object must have been freed. */
void sip__pool_destroy(struct sip__pool *p);

#endif
