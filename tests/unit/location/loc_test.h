/* loc_test.h — helpers shared by the location tests: a counting allocator
 * (blocks and bytes live, optional failure after N allocations) to install
 * with sip_mem_set(&loc_cnt_mem); SQLite files are removed with
 * sip_test_rm_db() (sip_test.h). */
#ifndef SIP_TEST_LOC_TEST_H
#define SIP_TEST_LOC_TEST_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>
#include <sip/core.h>
#include "sip_test.h"

static long live;            /* blocks */
static size_t live_bytes;    /* bytes requested */
static long fail_after = -1; /* allocations left before failing; -1: never */

/* Whether this allocation is refused (fail_after counts down to 0). */
static inline int loc_cnt_refuse(void)
{
	if (fail_after == 0)
		return 1;
	if (fail_after > 0)
		fail_after--;
	return 0;
}

static inline void *loc_cnt_malloc(size_t n, void *ud)
{
	(void)ud;
	if (loc_cnt_refuse())
		return NULL;
	size_t *p = malloc(n + sizeof(size_t) * 2);
	if (!p)
		return NULL;
	live++;
	live_bytes += n;
	p[0] = n;
	return p + 2;
}

static inline void loc_cnt_free(void *q, void *ud)
{
	(void)ud;
	if (!q)
		return;
	size_t *p = (size_t *)q - 2;
	live--;
	live_bytes -= p[0];
	free(p);
}

static inline void *loc_cnt_realloc(void *q, size_t n, void *ud)
{
	if (!q)
		return loc_cnt_malloc(n, ud);
	if (loc_cnt_refuse())
		return NULL;
	size_t *p = (size_t *)q - 2;
	size_t old = p[0];
	size_t *np = realloc(p, n + sizeof(size_t) * 2);
	if (!np)
		return NULL;
	live_bytes = live_bytes - old + n;
	np[0] = n;
	return np + 2;
}

static const struct sip_mem loc_cnt_mem __attribute__((unused)) = {loc_cnt_malloc, loc_cnt_realloc, loc_cnt_free,
								     NULL};

#endif
