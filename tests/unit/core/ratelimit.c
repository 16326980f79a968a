/* The per-source flood limit (sip/ratelimit.h) on a virtual clock: burst,
 * refill, independence of addresses, one log per run of drops, bounded
 * table with eviction, time gaps that must not overflow, rates per minute
 * and peeking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <sip/ratelimit.h>
#include <stdio.h>
#include <string.h>

static struct sockaddr_in v4(const char *ip, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

static int allow4(struct sip_ratelimit *rl, const char *ip, sip_ms_t now)
{
	struct sockaddr_in a = v4(ip, 5060);
	return sip_ratelimit_allow(rl, (struct sockaddr *)&a, now, NULL);
}

/* How many of n messages at time now get through. */
static int passes(struct sip_ratelimit *rl, const char *ip, sip_ms_t now, int n)
{
	int ok = 0;
	for (int i = 0; i < n; i++)
		ok += allow4(rl, ip, now);
	return ok;
}

static void test_burst_then_refill(void **state)
{
	(void)state;
	struct sip_ratelimit *rl;
	struct sip_ratelimit_config c = {.rate = 100, .burst = 10, .seed = 1};
	assert_int_equal(sip_ratelimit_new(&rl, &c), 0);
	assert_int_equal(passes(rl, "192.0.2.1", 1000, 50), 10); /* the burst, then drops */
	assert_int_equal(passes(rl, "192.0.2.1", 1005, 5), 0);	 /* 5 ms at 100/s: half a token */
	assert_int_equal(passes(rl, "192.0.2.1", 1010, 5), 1);	 /* 10 ms: the first whole token */
	assert_int_equal(passes(rl, "192.0.2.1", 1110, 50), 10); /* 100 ms: 10 tokens (capped at burst) */
	assert_int_equal(passes(rl, "192.0.2.1", 60000, 50), 10); /* a long pause refills only to the burst */
	/* A steady 100/s all pass: one every 10 ms. */
	int ok = 0;
	for (sip_ms_t t = 70000; t < 71000; t += 10)
		ok += allow4(rl, "192.0.2.1", t);
	assert_int_equal(ok, 100);
	sip_ratelimit_free(rl);
}

static void test_default_burst_and_errors(void **state)
{
	(void)state;
	struct sip_ratelimit *rl = NULL;
	struct sip_ratelimit_config c = {.rate = 0};
	assert_int_equal(sip_ratelimit_new(&rl, &c), SIP_EINVAL);
	assert_int_equal(sip_ratelimit_new(&rl, NULL), SIP_EINVAL);
	c.rate = 7;
	assert_int_equal(sip_ratelimit_new(&rl, &c), 0);
	assert_int_equal(passes(rl, "192.0.2.9", 5, 100), 14); /* burst 0: twice the rate */
	assert_int_equal(sip_ratelimit_burst(rl), 14);
	/* Other families and NULL are not limited (nothing to key on). */
	struct sockaddr un = {.sa_family = AF_UNIX};
	assert_int_equal(sip_ratelimit_allow(rl, &un, 5, NULL), 1);
	assert_int_equal(sip_ratelimit_allow(rl, NULL, 5, NULL), 1);
	sip_ratelimit_free(rl);
	sip_ratelimit_free(NULL);
}

static void test_addresses_apart_ports_together(void **state)
{
	(void)state;
	struct sip_ratelimit *rl;
	struct sip_ratelimit_config c = {.rate = 10, .burst = 3, .seed = 42};
	assert_int_equal(sip_ratelimit_new(&rl, &c), 0);
	assert_int_equal(passes(rl, "198.51.100.1", 0, 10), 3);
	assert_int_equal(passes(rl, "198.51.100.2", 0, 10), 3); /* a neighbour has its own bucket */
	/* Another port of the same address shares its bucket. */
	struct sockaddr_in other = v4("198.51.100.1", 40000);
	assert_int_equal(sip_ratelimit_allow(rl, (struct sockaddr *)&other, 0, NULL), 0);
	/* IPv6, and an IPv4-mapped IPv6 address is the same host as its IPv4. */
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
	inet_pton(AF_INET6, "2001:db8::1", &a6.sin6_addr);
	int ok = 0;
	for (int i = 0; i < 10; i++)
		ok += sip_ratelimit_allow(rl, (struct sockaddr *)&a6, 0, NULL);
	assert_int_equal(ok, 3);
	inet_pton(AF_INET6, "::ffff:198.51.100.2", &a6.sin6_addr);
	assert_int_equal(sip_ratelimit_allow(rl, (struct sockaddr *)&a6, 0, NULL), 0);
	sip_ratelimit_free(rl);
}

static void test_first_drop_once_per_run(void **state)
{
	(void)state;
	struct sip_ratelimit *rl;
	struct sip_ratelimit_config c = {.rate = 1, .burst = 1, .seed = 3};
	assert_int_equal(sip_ratelimit_new(&rl, &c), 0);
	struct sockaddr_in a = v4("203.0.113.5", 1);
	bool first = true;
	assert_int_equal(sip_ratelimit_allow(rl, (struct sockaddr *)&a, 0, &first), 1);
	assert_false(first);
	assert_int_equal(sip_ratelimit_allow(rl, (struct sockaddr *)&a, 0, &first), 0);
	assert_true(first); /* the run of drops starts: log it */
	assert_int_equal(sip_ratelimit_allow(rl, (struct sockaddr *)&a, 10, &first), 0);
	assert_false(first); /* same run: no second log line */
	assert_int_equal(sip_ratelimit_allow(rl, (struct sockaddr *)&a, 1000, &first), 1);
	assert_int_equal(sip_ratelimit_allow(rl, (struct sockaddr *)&a, 1000, &first), 0);
	assert_true(first); /* a new run after a pass */
	sip_ratelimit_free(rl);
}

/* A table of 4 entries (one set): a fifth address takes the least
 * recently seen one, which comes back with a fresh (full) bucket. Memory
 * never grows however many addresses send. */
static void test_bounded_table(void **state)
{
	(void)state;
	struct sip_ratelimit *rl;
	struct sip_ratelimit_config c = {.rate = 1, .burst = 1, .entries = 4, .seed = 9};
	assert_int_equal(sip_ratelimit_new(&rl, &c), 0);
	const char *ips[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"};
	for (int i = 0; i < 4; i++)
		assert_int_equal(passes(rl, ips[i], (sip_ms_t)i, 2), 1);
	/* All four tracked and empty. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(allow4(rl, ips[i], 10 + (sip_ms_t)i), 0);
	assert_int_equal(allow4(rl, "10.0.0.5", 20), 1); /* evicts 10.0.0.1, seen least recently */
	assert_int_equal(allow4(rl, "10.0.0.2", 21), 0); /* still tracked, still empty */
	assert_int_equal(allow4(rl, "10.0.0.1", 22), 1); /* forgotten: a fresh bucket */
	/* Spraying many addresses stays within the table. */
	char ip[32];
	for (int i = 0; i < 100000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		allow4(rl, ip, 30);
	}
	sip_ratelimit_free(rl);
}

static void test_huge_gap_and_rate(void **state)
{
	(void)state;
	struct sip_ratelimit *rl;
	struct sip_ratelimit_config c = {.rate = UINT32_MAX, .burst = UINT32_MAX, .seed = 5};
	assert_int_equal(sip_ratelimit_new(&rl, &c), 0);
	assert_int_equal(allow4(rl, "192.0.2.200", 0), 1);
	assert_int_equal(allow4(rl, "192.0.2.200", UINT64_MAX / 2), 1); /* no overflow on the refill */
	sip_ratelimit_free(rl);
	c = (struct sip_ratelimit_config){.rate = 1, .burst = 2};
	assert_int_equal(sip_ratelimit_new(&rl, &c), 0);
	assert_int_equal(passes(rl, "192.0.2.201", 100, 5), 2);
	assert_int_equal(passes(rl, "192.0.2.201", UINT64_MAX - 1, 5), 2);
	assert_int_equal(passes(rl, "192.0.2.201", 50, 5), 0); /* time going back adds nothing */
	sip_ratelimit_free(rl);
}

/* Rates per minute (period_ms), and peek: it reports without taking, adds
 * no address, and starts a run of refusals like a drop — what the guard
 * against password guessing uses (a failure takes, a credential peeks). */
static void test_period_and_peek(void **state)
{
	(void)state;
	struct sip_ratelimit *rl;
	struct sip_ratelimit_config c = {.rate = 10, .burst = 3, .period_ms = 60000, .seed = 7};
	assert_int_equal(sip_ratelimit_new(&rl, &c), 0);
	assert_int_equal(sip_ratelimit_burst(rl), 3);
	struct sockaddr_in a = v4("198.51.100.7", 5060), b = v4("198.51.100.8", 5060);
	bool first = true;
	assert_int_equal(sip_ratelimit_peek(rl, (struct sockaddr *)&a, 0, &first), 1); /* not tracked: full */
	assert_false(first);
	assert_int_equal(passes(rl, "198.51.100.7", 0, 3), 3);
	assert_int_equal(sip_ratelimit_peek(rl, (struct sockaddr *)&a, 0, &first), 0);
	assert_true(first);
	assert_int_equal(sip_ratelimit_peek(rl, (struct sockaddr *)&a, 5999, &first), 0);
	assert_false(first); /* same run */
	/* 10 a minute: one token back after 6 s; peeking does not use it. */
	assert_int_equal(sip_ratelimit_peek(rl, (struct sockaddr *)&a, 6000, &first), 1);
	assert_int_equal(sip_ratelimit_peek(rl, (struct sockaddr *)&a, 6000, NULL), 1);
	assert_int_equal(allow4(rl, "198.51.100.7", 6000), 1);
	assert_int_equal(sip_ratelimit_peek(rl, (struct sockaddr *)&a, 6000, NULL), 0);
	/* Another address is not touched. */
	assert_int_equal(sip_ratelimit_peek(rl, (struct sockaddr *)&b, 6000, NULL), 1);
	sip_ratelimit_free(rl);
	c.period_ms = SIP_RATELIMIT_MAX_PERIOD_MS + 1;
	assert_int_equal(sip_ratelimit_new(&rl, &c), SIP_EINVAL);
	c = (struct sip_ratelimit_config){.rate = UINT32_MAX, .burst = UINT32_MAX, .period_ms = SIP_RATELIMIT_MAX_PERIOD_MS};
	assert_int_equal(sip_ratelimit_new(&rl, &c), 0);
	assert_int_equal(passes(rl, "192.0.2.9", 0, 2), 2);
	assert_int_equal(passes(rl, "192.0.2.9", UINT64_MAX / 2, 2), 2); /* no overflow */
	sip_ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_refill),
		cmocka_unit_test(test_default_burst_and_errors),
		cmocka_unit_test(test_addresses_apart_ports_together),
		cmocka_unit_test(test_first_drop_once_per_run),
		cmocka_unit_test(test_bounded_table),
		cmocka_unit_test(test_huge_gap_and_rate),
		cmocka_unit_test(test_period_and_peek),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
