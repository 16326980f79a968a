/* core.h — string slices, error codes, the allocator seam and the export macro.
 * Everything else in libsip stands on this header. */
#ifndef SIP_CORE_H
#define SIP_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define SIP_API __attribute__((visibility("default")))
#else
#define SIP_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* A slice of bytes; never NUL-terminated, usually pointing into a receive buffer. */
struct sip_str {
	const char *p;
	size_t len;
};

#define SIP_STR(lit) ((struct sip_str){(lit), sizeof(lit) - 1})
#define SIP_STR_NULL ((struct sip_str){NULL, 0})
/* printf("%.*s", SIP_STR_ARG(s)) — keeps -Wformat checking. */
#define SIP_STR_ARG(s) (int)(s).len, (s).p

/* Builds a slice from a NUL-terminated string (NULL gives the empty slice). */
SIP_API struct sip_str sip_str_c(const char *s);
/* 1 when a and b hold the same bytes. */
SIP_API bool sip_str_eq(struct sip_str a, struct sip_str b);
/* 1 when a and b are equal ignoring ASCII case. */
SIP_API bool sip_str_caseeq(struct sip_str a, struct sip_str b);
/* Parses a decimal uint32 (digits only, leading zeros allowed); 0 or SIP_ERANGE/SIP_EPARSE. */
SIP_API int sip_str_to_u32(struct sip_str s, uint32_t *out);
/* Removes leading and trailing SP/HTAB/CR/LF. */
SIP_API struct sip_str sip_str_trim(struct sip_str s);

/* One negative error enum for the whole library. 0 is success. */
enum sip_err {
	SIP_OK = 0,
	SIP_EINVAL = -1,     /* bad argument from the caller */
	SIP_ENOMEM = -2,     /* allocation failed */
	SIP_EAGAIN = -3,     /* incomplete input: feed more bytes */
	SIP_EPARSE = -4,     /* malformed input */
	SIP_ERANGE = -5,     /* number out of range */
	SIP_ETOOBIG = -6,    /* a size or count limit was exceeded */
	SIP_EVERSION = -7,   /* SIP-Version other than SIP/2.0 */
	SIP_ENOTFOUND = -8,  /* no such item */
	SIP_EIO = -9,        /* transport or system error */
	SIP_ESTATE = -10,    /* operation not allowed in this state */
	SIP_ETIMEDOUT = -11, /* a timer expired */
	SIP_EUNSUPPORTED = -12, /* a feature or scheme we do not handle */
	SIP_ECONFIG = -13,   /* bad configuration */
	SIP_EAUTH = -14,     /* authentication failed */
};

/* Static, human-readable text for an sip_err code. */
SIP_API const char *sip_strerror(int err);

/* The allocator seam (like nghttp2_mem): tests count and fail allocations. */
struct sip_mem {
	void *(*malloc)(size_t size, void *ud);
	void *(*realloc)(void *ptr, size_t size, void *ud);
	void (*free)(void *ptr, void *ud);
	void *ud;
};

/* Replaces the allocator used by libsip (NULL restores libc). Not thread-safe: call at start-up. */
SIP_API void sip_mem_set(const struct sip_mem *mem);
/* Allocate through the seam; NULL on failure. */
SIP_API void *sip_malloc(size_t size);
SIP_API void *sip_calloc(size_t n, size_t size);
SIP_API void *sip_realloc(void *ptr, size_t size);
SIP_API void sip_free(void *ptr);
/* A NUL-terminated heap copy of the n bytes at p (sip_malloc), or NULL. */
SIP_API char *sip_memdup_str(const char *p, size_t n);

#ifdef __cplusplus
}
#endif
#endif
