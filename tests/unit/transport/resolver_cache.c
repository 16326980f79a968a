/* The resolver's answer cache (src/transport/resolver_cache.c) on crafted DNS
 * messages and a virtual clock: the TTL of an answer is the least of its
 * records, a negative answer's is min(SOA TTL, SOA MINIMUM) (RFC 2308 §5),
 * without a SOA it is not cached, TTL 0 is never cached, malformed messages
 * are not cached, entries expire exactly at their TTL, names compare without
 * case, and a full table keeps working. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <ares.h>

#include "transport/resolver_int.h"

struct msg {
	unsigned char b[1024];
	size_t n;
};

static void put8(struct msg *m, unsigned v) { m->b[m->n++] = (unsigned char)v; }
static void put16(struct msg *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v & 0xff);
}
static void put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}
static void put_name(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		put8(m, (unsigned)l);
		memcpy(m->b + m->n, name, l);
		m->n += l;
		name += l + (dot ? 1 : 0);
	}
	put8(m, 0);
}

/* Header + one question for name/type. */
static void start(struct msg *m, const char *name, unsigned type, unsigned an, unsigned ns)
{
	m->n = 0;
	put16(m, 0x1234);
	put16(m, 0x8180);
	put16(m, 1);
	put16(m, an);
	put16(m, ns);
	put16(m, 0);
	put_name(m, name);
	put16(m, type);
	put16(m, 1);
}

static void a_record(struct msg *m, uint32_t ttl)
{
	put16(m, 0xC00C); /* the question's name */
	put16(m, 1);
	put16(m, 1);
	put32(m, ttl);
	put16(m, 4);
	put32(m, 0x7F000001);
}

static void soa_record(struct msg *m, uint32_t ttl, uint32_t minimum)
{
	put16(m, 0xC00C);
	put16(m, 6);
	put16(m, 1);
	put32(m, ttl);
	size_t len_at = m->n;
	put16(m, 0);
	size_t rd = m->n;
	put_name(m, "ns.test");
	put_name(m, "hostmaster.test");
	put32(m, 1);
	put32(m, 3600);
	put32(m, 600);
	put32(m, 86400);
	put32(m, minimum);
	size_t rdlen = m->n - rd;
	m->b[len_at] = (unsigned char)(rdlen >> 8);
	m->b[len_at + 1] = (unsigned char)rdlen;
}

static void test_ttl_of_answers(void **state)
{
	(void)state;
	struct msg m;
	start(&m, "a.test", 1, 2, 0);
	a_record(&m, 300);
	a_record(&m, 60);
	assert_int_equal(sip__dns_answer_ttl(m.b, m.n, false), 60);
	/* truncated anywhere: no TTL */
	for (size_t cut = 0; cut < m.n; cut++)
		assert_int_equal(sip__dns_answer_ttl(m.b, cut, false), 0);

	start(&m, "none.test", 1, 0, 1);
	soa_record(&m, 900, 120);
	assert_int_equal(sip__dns_answer_ttl(m.b, m.n, true), 120);
	start(&m, "none.test", 1, 0, 1);
	soa_record(&m, 30, 120);
	assert_int_equal(sip__dns_answer_ttl(m.b, m.n, true), 30);
	/* negative without a SOA: not cacheable */
	start(&m, "none.test", 1, 0, 0);
	assert_int_equal(sip__dns_answer_ttl(m.b, m.n, true), 0);
}

static void test_expiry_and_names(void **state)
{
	(void)state;
	struct sip__dcache *c = calloc(1, sizeof *c);
	assert_non_null(c);
	struct msg m;
	start(&m, "a.test", 1, 1, 0);
	a_record(&m, 60);
	sip__dcache_put(c, "a.test", 1, ARES_SUCCESS, false, m.b, m.n, 1000);
	int st;
	const unsigned char *got;
	size_t len;
	assert_true(sip__dcache_get(c, "A.Test", 1, 1000 + 59999, &st, &got, &len));
	assert_int_equal(st, ARES_SUCCESS);
	assert_int_equal(len, m.n);
	assert_memory_equal(got, m.b, m.n);
	assert_false(sip__dcache_get(c, "a.test", 28, 2000, &st, &got, &len)); /* other type */
	assert_false(sip__dcache_get(c, "a.test", 1, 1000 + 60000, &st, &got, &len)); /* expired */
	assert_false(sip__dcache_get(c, "a.test", 1, 2000, &st, &got, &len));        /* and dropped */

	/* TTL 0 and malformed answers are not kept */
	start(&m, "z.test", 1, 1, 0);
	a_record(&m, 0);
	sip__dcache_put(c, "z.test", 1, ARES_SUCCESS, false, m.b, m.n, 0);
	assert_false(sip__dcache_get(c, "z.test", 1, 0, &st, &got, &len));
	sip__dcache_put(c, "z.test", 1, ARES_SUCCESS, false, m.b, 5, 0);
	assert_false(sip__dcache_get(c, "z.test", 1, 0, &st, &got, &len));

	/* a negative answer is kept with its status */
	start(&m, "nx.test", 35, 0, 1);
	soa_record(&m, 900, 300);
	sip__dcache_put(c, "nx.test", 35, ARES_ENOTFOUND, true, m.b, m.n, 0);
	assert_true(sip__dcache_get(c, "nx.test", 35, 299999, &st, &got, &len));
	assert_int_equal(st, ARES_ENOTFOUND);
	assert_false(sip__dcache_get(c, "nx.test", 35, 300000, &st, &got, &len));

	/* many more names than slots: no failure, the newest is there */
	char name[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "h%d.test", i);
		start(&m, name, 1, 1, 0);
		a_record(&m, 600);
		sip__dcache_put(c, name, 1, ARES_SUCCESS, false, m.b, m.n, 5000);
	}
	int hits = 0;
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "h%d.test", i);
		hits += sip__dcache_get(c, name, 1, 6000, &st, &got, &len);
	}
	assert_true(hits > 0 && hits <= (int)SIP__DCACHE_SLOTS);
	assert_true(sip__dcache_get(c, "h999.test", 1, 6000, &st, &got, &len));
	sip__dcache_free(c);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttl_of_answers),
		cmocka_unit_test(test_expiry_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
