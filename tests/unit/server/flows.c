/* The directory of inbound connections by peer address (src/server/flows.c):
 * what a worker asks before opening a connection to a phone, to find the
 * worker holding the connection the phone opened. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "server/worker.h"

static struct sockaddr_in v4(const char *ip, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	return a;
}

static void test_up_find_down(void **state)
{
	(void)state;
	struct sip__flows *f = NULL;
	assert_int_equal(sip__flows_new(&f), 0);
	struct sockaddr_in a = v4("192.0.2.1", 40000), b = v4("192.0.2.1", 40001);
	struct sockaddr_in6 c = {.sin6_family = AF_INET6, .sin6_port = htons(40000)};
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", &c.sin6_addr), 1);
	uint64_t w1 = sip__worker_conn_base(1) + 7, w0 = sip__worker_conn_base(0) + 3;
	sip__flows_update(f, w1, SIP_TP_TCP, (struct sockaddr *)&a, true);
	sip__flows_update(f, w0, SIP_TP_TLS, (struct sockaddr *)&c, true);
	assert_int_equal(sip__flows_find(f, SIP_TP_TCP, (struct sockaddr *)&a), w1);
	assert_int_equal(sip__flows_find(f, SIP_TP_TCP, (struct sockaddr *)&b), 0);  /* another port */
	assert_int_equal(sip__flows_find(f, SIP_TP_TLS, (struct sockaddr *)&a), 0);  /* another transport */
	assert_int_equal(sip__flows_find(f, SIP_TP_TLS, (struct sockaddr *)&c), w0); /* IPv6 */
	assert_int_equal((w1 >> 48) - 1, 1); /* the id names its worker */
	/* The same address again (a phone reconnecting to another worker
	 * before the old connection's end was seen): the newer one answers, and
	 * the older one's end does not remove it. */
	uint64_t w0b = sip__worker_conn_base(0) + 9;
	sip__flows_update(f, w0b, SIP_TP_TCP, (struct sockaddr *)&a, true);
	assert_int_equal(sip__flows_find(f, SIP_TP_TCP, (struct sockaddr *)&a), w0b);
	sip__flows_update(f, w1, SIP_TP_TCP, (struct sockaddr *)&a, false);
	assert_int_equal(sip__flows_find(f, SIP_TP_TCP, (struct sockaddr *)&a), w0b);
	sip__flows_update(f, w0b, SIP_TP_TCP, (struct sockaddr *)&a, false);
	assert_int_equal(sip__flows_find(f, SIP_TP_TCP, (struct sockaddr *)&a), 0);
	/* Unknown families and NULLs are ignored. */
	struct sockaddr un = {.sa_family = AF_UNIX};
	sip__flows_update(f, 5, SIP_TP_TCP, &un, true);
	assert_int_equal(sip__flows_find(f, SIP_TP_TCP, &un), 0);
	assert_int_equal(sip__flows_find(NULL, SIP_TP_TCP, (struct sockaddr *)&a), 0);
	sip__flows_free(f); /* frees what is left (the IPv6 entry) */
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_up_find_down)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
