/* sipd's threads end to end, in one process so ThreadSanitizer sees every
 * worker: a 2-worker server (shared in-memory store, then per-worker SQLite
 * handles with batched commits) answers OPTIONS and REGISTERs from several
 * client sockets at once (the kernel spreads them over the workers' reuseport
 * sockets; SQLite also with a commit window), every binding is visible from
 * every worker, and SIGTERM-style
 * shutdown (sip_server_stop) returns cleanly. The proxy test sends requests
 * through sipd to callees on several ports, so responses land on either
 * worker and are handed to the one owning the branch; the flow test calls a
 * phone registered over its own TCP connection from callers on both
 * workers, so the other worker hands its messages to the connection's
 * owner. Runs in the `threads` label. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sip/server.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static uint16_t free_port(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(s, (struct sockaddr *)&a, &l);
	close(s);
	return ntohs(a.sin_port);
}

static int client(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	struct timeval tv = {0, 200000};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return s;
}

/* Sends msg and waits (bounded) for a response whose status line starts with want. */
static bool exchange(int s, uint16_t port, const char *msg, const char *want, char *resp, size_t cap)
{
	resp[0] = 0;
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	for (int attempt = 0; attempt < 25; attempt++) {
		sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&to, sizeof(to));
		ssize_t n = recv(s, resp, cap - 1, 0);
		if (n > 0) {
			resp[n] = 0;
			return !strncmp(resp, want, strlen(want));
		}
	}
	return false;
}

struct run {
	struct sip_server_config cfg;
	int rc;
	pthread_t th;
	uint16_t port;
	char dir[32];
};

static void *server_thread(void *arg)
{
	struct run *r = arg;
	r->rc = sip_server_run(&r->cfg);
	return NULL;
}

/* Starts a 2-worker sipd on a free UDP port with its files in a fresh
 * directory, on its own thread. */
static void start_server(struct run *r, bool memory, unsigned commit_window_ms, bool tcp)
{
	char db[128], spec[64];
	snprintf(r->dir, sizeof(r->dir), "/tmp/sipd-threads-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	snprintf(db, sizeof(db), "%s/sipd.db", r->dir);
	sip_server_config_defaults(&r->cfg);
	r->port = free_port();
	snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u", r->port);
	r->cfg.listen[r->cfg.nlisten++] = strdup(spec);
	if (tcp) {
		snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%u", r->port);
		r->cfg.listen[r->cfg.nlisten++] = strdup(spec);
	}
	r->cfg.domains[r->cfg.ndomains++] = strdup("localhost");
	r->cfg.db_path = strdup(db);
	r->cfg.workers = 2;
	r->cfg.location_memory = memory;
	r->cfg.commit_window_ms = commit_window_ms;
	r->cfg.log_level = SIP_LOG_WARN;
	r->rc = -1;
	assert_int_equal(pthread_create(&r->th, NULL, server_thread, r), 0);
}

/* Stops it as SIGTERM would; it must return 0. */
static void stop_server(struct run *r)
{
	sip_server_stop();
	pthread_join(r->th, NULL);
	assert_int_equal(r->rc, 0);
	sip_server_config_free(&r->cfg);
	char rm[256];
	snprintf(rm, sizeof(rm), "rm -rf %s", r->dir);
	assert_int_equal(system(rm), 0);
}

#define CLIENTS 4
#define PER_CLIENT 25

struct load {
	uint16_t port;
	int id;
	int ok;
};

static void *register_many(void *arg)
{
	struct load *ld = arg;
	int s = client();
	char msg[1024], resp[4096];
	for (int i = 0; i < PER_CLIENT; i++) {
		snprintf(msg, sizeof(msg),
			 "REGISTER sip:localhost SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-t%d-%d;rport\r\n"
			 "Max-Forwards: 70\r\nFrom: <sip:u%d_%d@localhost>;tag=a\r\nTo: <sip:u%d_%d@localhost>\r\n"
			 "Call-ID: c%d-%d@t\r\nCSeq: 1 REGISTER\r\nContact: <sip:u%d_%d@127.0.0.1:9>\r\n"
			 "Content-Length: 0\r\n\r\n",
			 ld->id, i, ld->id, i, ld->id, i, ld->id, i, ld->id, i);
		if (exchange(s, ld->port, msg, "SIP/2.0 200", resp, sizeof(resp)))
			ld->ok++;
		else
			fprintf(stderr, "client %d REGISTER %d: %.60s\n", ld->id, i, resp);
	}
	close(s);
	return NULL;
}

static void run_server(bool memory, unsigned commit_window_ms)
{
	struct run r;
	start_server(&r, memory, commit_window_ms, false);
	uint16_t port = r.port;
	int s = client();
	char resp[4096];
	const char *options = "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-o1;rport\r\n"
			      "Max-Forwards: 70\r\nFrom: <sip:t@localhost>;tag=1\r\nTo: <sip:127.0.0.1>\r\n"
			      "Call-ID: o1@t\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
	assert_true(exchange(s, port, options, "SIP/2.0 200", resp, sizeof(resp)));

	pthread_t lt[CLIENTS];
	struct load ld[CLIENTS];
	for (int i = 0; i < CLIENTS; i++) {
		ld[i] = (struct load){port, i, 0};
		pthread_create(&lt[i], NULL, register_many, &ld[i]);
	}
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(lt[i], NULL);
		assert_int_equal(ld[i].ok, PER_CLIENT);
	}
	/* Every binding is visible whichever worker answers the query. */
	int found = 0;
	char msg[1024];
	for (int c = 0; c < CLIENTS; c++)
		for (int i = 0; i < PER_CLIENT; i += 6) {
			int q = client();
			snprintf(msg, sizeof(msg),
				 "REGISTER sip:localhost SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-q%d-%d;rport\r\n"
				 "Max-Forwards: 70\r\nFrom: <sip:u%d_%d@localhost>;tag=q\r\nTo: <sip:u%d_%d@localhost>\r\n"
				 "Call-ID: q%d-%d@t\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n",
				 c, i, c, i, c, i, c, i);
			if (exchange(q, port, msg, "SIP/2.0 200", resp, sizeof(resp))) {
				char want[64];
				snprintf(want, sizeof(want), "<sip:u%d_%d@127.0.0.1:9>", c, i);
				found += strstr(resp, want) != NULL;
			}
			close(q);
		}
	assert_int_equal(found, CLIENTS * ((PER_CLIENT + 5) / 6));
	close(s);
	stop_server(&r);
}

static void test_memory_store(void **state)
{
	(void)state;
	run_server(true, 0);
}

static void test_sqlite_store(void **state)
{
	(void)state;
	run_server(false, 0);
}

/* REGISTERs of a 20 ms window share a COMMIT: every 200 still only after it. */
static void test_sqlite_commit_window(void **state)
{
	(void)state;
	run_server(false, 20);
}

/* A callee: answers every request with 200 (the request's headers echoed
 * under a status line, as much as a proxy needs) until told to stop. */
struct callee {
	int sock;
	uint16_t port;
	atomic_int stop;
	int answered;
};

static void *callee_main(void *arg)
{
	struct callee *c = arg;
	char in[4096], out[4200];
	while (!atomic_load(&c->stop)) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(c->sock, in, sizeof(in) - 1, 0, (struct sockaddr *)&from, &fl);
		if (n <= 0)
			continue;
		in[n] = 0;
		char *crlf = strstr(in, "\r\n");
		if (!crlf || !strncmp(in, "SIP/2.0", 7))
			continue;
		int m = snprintf(out, sizeof(out), "SIP/2.0 200 OK%s", crlf);
		sendto(c->sock, out, (size_t)m, 0, (struct sockaddr *)&from, fl);
		c->answered++;
	}
	return NULL;
}

#define CALLEES 6

static void test_proxy_across_workers(void **state)
{
	(void)state;
	struct run r;
	start_server(&r, true, 0, false);
	uint16_t port = r.port;
	pthread_t ct[CALLEES];
	struct callee cal[CALLEES];
	char msg[1024], resp[4096];
	for (int i = 0; i < CALLEES; i++) {
		struct sockaddr_in a;
		socklen_t al = sizeof(a);
		cal[i] = (struct callee){.sock = client()};
		getsockname(cal[i].sock, (struct sockaddr *)&a, &al);
		cal[i].port = ntohs(a.sin_port);
		int q = client();
		snprintf(msg, sizeof(msg),
			 "REGISTER sip:localhost SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-pr%d;rport\r\n"
			 "Max-Forwards: 70\r\nFrom: <sip:callee%d@localhost>;tag=r\r\nTo: <sip:callee%d@localhost>\r\n"
			 "Call-ID: pr%d@t\r\nCSeq: 1 REGISTER\r\nContact: <sip:callee%d@127.0.0.1:%u>\r\n"
			 "Content-Length: 0\r\n\r\n",
			 i, i, i, i, i, (unsigned)cal[i].port);
		assert_true(exchange(q, port, msg, "SIP/2.0 200", resp, sizeof(resp)));
		close(q);
		pthread_create(&ct[i], NULL, callee_main, &cal[i]);
	}
	/* Each caller socket asks every callee through the proxy; the callee's
	 * 200 must come back through it with the proxy's Via removed. */
	int ok = 0;
	for (int k = 0; k < 3; k++) {
		int s = client();
		for (int i = 0; i < CALLEES; i++) {
			snprintf(msg, sizeof(msg),
				 "OPTIONS sip:callee%d@localhost SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-po%d-%d;rport\r\n"
				 "Max-Forwards: 70\r\nFrom: <sip:caller@example.net>;tag=c\r\nTo: <sip:callee%d@localhost>\r\n"
				 "Call-ID: po%d-%d@t\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
				 i, k, i, i, k, i);
			if (exchange(s, port, msg, "SIP/2.0 200", resp, sizeof(resp)) &&
			    !strstr(resp, "z9hG4bK-sd") && strstr(resp, "z9hG4bK-po"))
				ok++;
		}
		close(s);
	}
	assert_int_equal(ok, 3 * CALLEES);
	int answered = 0;
	for (int i = 0; i < CALLEES; i++) {
		atomic_store(&cal[i].stop, 1);
		pthread_join(ct[i], NULL);
		answered += cal[i].answered;
		close(cal[i].sock);
	}
	assert_true(answered >= 3 * CALLEES);
	stop_server(&r);
}

/* A phone on an RFC 5626 flow: it registered over its own TCP connection
 * (held by one worker) with an unreachable Contact, so requests reach it
 * only over that connection; it answers every INVITE with 486. */
struct phone {
	int sock;
	atomic_int stop;
	atomic_int invites;
};

static void *phone_main(void *arg)
{
	struct phone *p = arg;
	char buf[16384], out[4200];
	size_t have = 0;
	while (!atomic_load(&p->stop)) {
		ssize_t n = recv(p->sock, buf + have, sizeof(buf) - 1 - have, 0);
		if (n <= 0)
			continue;
		have += (size_t)n;
		buf[have] = 0;
		char *end;
		while ((end = strstr(buf, "\r\n\r\n"))) { /* bodiless messages */
			size_t len = (size_t)(end + 4 - buf);
			char *crlf = strstr(buf, "\r\n");
			if (!strncmp(buf, "INVITE ", 7)) {
				int m = snprintf(out, sizeof(out), "SIP/2.0 486 Busy Here%.*s", (int)(len - (size_t)(crlf - buf)), crlf);
				send(p->sock, out, (size_t)m, 0);
				atomic_fetch_add(&p->invites, 1);
			}
			memmove(buf, buf + len, have - len);
			have -= len;
			buf[have] = 0;
		}
	}
	return NULL;
}

/* Sends an INVITE and waits (bounded) for its final response: true when it
 * starts with want. */
static bool invite_final(int s, uint16_t port, const char *msg, const char *want)
{
	char resp[4096];
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&to, sizeof(to));
	for (int i = 0; i < 25; i++) {
		ssize_t n = recv(s, resp, sizeof(resp) - 1, 0);
		if (n <= 0)
			continue;
		resp[n] = 0;
		if (!strncmp(resp, "SIP/2.0 1", 9))
			continue;
		return !strncmp(resp, want, strlen(want));
	}
	return false;
}

#define FLOW_CALLERS 8

static void test_flow_across_workers(void **state)
{
	(void)state;
	struct run r;
	start_server(&r, true, 0, true);
	char msg[1024], resp[1024];
	/* Wait until the TCP listener takes connections, then register. */
	struct phone ph = {.sock = -1};
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(r.port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	for (int i = 0; i < 50 && ph.sock < 0; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(s, (struct sockaddr *)&to, sizeof(to)) == 0) {
			ph.sock = s;
			break;
		}
		close(s);
		usleep(20000);
	}
	assert_true(ph.sock >= 0);
	struct timeval tv = {0, 100000};
	setsockopt(ph.sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	snprintf(msg, sizeof(msg),
		 "REGISTER sip:localhost SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-fl1;rport\r\n"
		 "Max-Forwards: 70\r\nFrom: <sip:flowy@localhost>;tag=r\r\nTo: <sip:flowy@localhost>\r\n"
		 "Call-ID: fl1@t\r\nCSeq: 1 REGISTER\r\nSupported: outbound\r\n"
		 "Contact: <sip:flowy@192.0.2.77:5060;transport=tcp;ob>;reg-id=1;"
		 "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(send(ph.sock, msg, strlen(msg), 0), (ssize_t)strlen(msg));
	ssize_t n = 0;
	for (int i = 0; i < 50 && n <= 0; i++)
		n = recv(ph.sock, resp, sizeof(resp) - 1, 0);
	assert_true(n > 0);
	resp[n] = 0;
	assert_true(!strncmp(resp, "SIP/2.0 200", 11));
	pthread_t pt;
	pthread_create(&pt, NULL, phone_main, &ph);
	/* Callers on as many ports: the kernel spreads them over both workers,
	 * and whichever has the call hands its messages to the flow's owner. */
	int ok = 0;
	for (int k = 0; k < FLOW_CALLERS; k++) {
		int s = client();
		snprintf(msg, sizeof(msg),
			 "INVITE sip:flowy@localhost SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-fc%d;rport\r\n"
			 "Max-Forwards: 70\r\nFrom: <sip:caller@example.net>;tag=c%d\r\nTo: <sip:flowy@localhost>\r\n"
			 "Call-ID: fc%d@t\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
			 k, k, k);
		ok += invite_final(s, r.port, msg, "SIP/2.0 486");
		close(s);
	}
	atomic_store(&ph.stop, 1);
	pthread_join(pt, NULL);
	close(ph.sock);
	assert_int_equal(ok, FLOW_CALLERS);
	assert_int_equal(atomic_load(&ph.invites), FLOW_CALLERS);
	stop_server(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_store),
		cmocka_unit_test(test_sqlite_store),
		cmocka_unit_test(test_sqlite_commit_window),
		cmocka_unit_test(test_proxy_across_workers),
		cmocka_unit_test(test_flow_across_workers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
