/* sip_test.h — helpers shared by the cmocka tests (include after <cmocka.h>). */
#ifndef SIP_TEST_H
#define SIP_TEST_H

#include <sip/core.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A struct sip_str initializer for a string literal (in tables). */
#define V(lit)                                                                                               \
	{                                                                                                    \
		(lit), sizeof(lit) - 1                                                                       \
	}
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Whether slice s holds exactly the C string c (NULL: the empty slice). */
static inline bool sip_test_eq(struct sip_str s, const char *c)
{
	size_t n = c ? strlen(c) : 0;
	return s.len == n && (n == 0 || !memcmp(s.p, c, n));
}

/* Fails the test unless slice s holds exactly want; what and row name the case. */
static inline void slice_is(struct sip_str s, const char *want, const char *what, size_t row)
{
	if (!sip_test_eq(s, want))
		fail_msg("row %zu %s: got \"%.*s\", want \"%s\"", row, what, (int)s.len, s.p ? s.p : "",
			 want ? want : "");
}

#define assert_str(s, c)                                                                                     \
	do {                                                                                                 \
		if (!sip_test_eq((s), (c)))                                                                  \
			fail_msg("expected '%s', got '%.*s'", (c), SIP_STR_ARG(s));                           \
	} while (0)

/* Reads SIP_TEST_DATA/<rel> into a malloc'd block of exactly its size (so
 * ASan sees any read past the end); *len gets its length. */
static inline char *sip_test_load(const char *rel, size_t *len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", SIP_TEST_DATA, rel);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	char *b = malloc(n ? (size_t)n : 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* Removes a SQLite file with its -wal and -shm companions, then its directory
 * (which must then be empty). */
static inline void sip_test_rm_db(const char *dir, const char *path)
{
	char p[512];
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", path, suffix[i]);
		unlink(p);
	}
	assert_int_equal(rmdir(dir), 0);
}
#endif
