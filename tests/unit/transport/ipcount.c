/* The per-address connection counts behind limits.max_connections_per_ip
 * (src/transport/ipcount.c): the cap per address, addresses apart, IPv4 and
 * its IPv6-mapped form as one, and — against a reference count — thousands
 * of random takes and gives over colliding addresses, which exercises the
 * backward-shift deletion of the open-addressed table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "transport/tp_int.h"

static struct sip_transport *fake(unsigned max_conns, unsigned per_ip)
{
	struct sip_transport *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->cfg.max_connections = max_conns;
	t->cfg.max_connections_per_ip = per_ip;
	return t;
}

static struct sockaddr_in v4(uint32_t host_order, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(host_order);
	return a;
}

static void test_cap_per_address(void **state)
{
	(void)state;
	struct sip_transport *t = fake(64, 3);
	struct sockaddr_in a = v4(0xc0000201, 1000), b = v4(0xc0000202, 1000);
	for (int i = 0; i < 3; i++) {
		a.sin_port = htons((uint16_t)(1000 + i)); /* the port does not count */
		assert_true(sip__ipcount_take(t, (struct sockaddr *)&a));
	}
	assert_false(sip__ipcount_take(t, (struct sockaddr *)&a));
	assert_true(sip__ipcount_take(t, (struct sockaddr *)&b)); /* another address */
	/* ::ffff:192.0.2.1 is the same host as 192.0.2.1. */
	struct sockaddr_in6 m = {.sin6_family = AF_INET6};
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &m.sin6_addr);
	assert_false(sip__ipcount_take(t, (struct sockaddr *)&m));
	sip__ipcount_give(t, (struct sockaddr *)&m);
	assert_true(sip__ipcount_take(t, (struct sockaddr *)&a));
	assert_false(sip__ipcount_take(t, (struct sockaddr *)&a));
	/* Not an IP address: never refused. */
	struct sockaddr u = {.sa_family = AF_UNIX};
	assert_true(sip__ipcount_take(t, &u));
	sip__ipcount_free(t);
	free(t);
}

/* Random takes and gives over 40 addresses in a 64-slot table (so runs of
 * collisions form and break up); after every step each address can take
 * exactly cap - count more. */
static void test_random_against_reference(void **state)
{
	(void)state;
	enum { ADDRS = 40, CAP = 4, STEPS = 20000 };
	struct sip_transport *t = fake(20, CAP); /* 64 slots for 40 addresses: long runs */
	int count[ADDRS] = {0};
	srand(7);
	for (int step = 0; step < STEPS; step++) {
		int i = rand() % ADDRS;
		struct sockaddr_in a = v4(0x0a000000u + (uint32_t)i * 977u, 5060);
		if (rand() % 2) {
			bool ok = sip__ipcount_take(t, (struct sockaddr *)&a);
			assert_int_equal(ok, count[i] < CAP);
			if (ok)
				count[i]++;
		} else if (count[i]) {
			sip__ipcount_give(t, (struct sockaddr *)&a);
			count[i]--;
		}
		if (step % 997 == 0) {
			/* Probe every address: exactly CAP - count[i] more fit; undo. */
			for (int k = 0; k < ADDRS; k++) {
				struct sockaddr_in b = v4(0x0a000000u + (uint32_t)k * 977u, 5060);
				int more = 0;
				while (sip__ipcount_take(t, (struct sockaddr *)&b))
					more++;
				assert_int_equal(more, CAP - count[k]);
				for (int j = 0; j < more; j++)
					sip__ipcount_give(t, (struct sockaddr *)&b);
			}
		}
	}
	sip__ipcount_free(t);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cap_per_address),
	    cmocka_unit_test(test_random_against_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
