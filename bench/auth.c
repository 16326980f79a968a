/* bench/auth.c — CPU cost of digest authentication on one thread, the work
 * sipd does per authenticated REGISTER (bench/register.sh's auth variant):
 *
 *   challenge — sip_auth_challenges(): one fresh nonce and the 401's
 *               WWW-Authenticate values (SHA-256 then MD5, sipd's default);
 *   nonce     — sip_auth_nonce_make() alone, and nonce_check alone;
 *   ha1       — sip_users_get_ha1() from a real SQLite users file with
 *               USERS users, the users taken in turn (as SIPp's -inf does);
 *   verify    — sip_auth_verify(): nonce check + HA1 lookup from that file +
 *               response digest + nonce-count record, MD5 and SHA-256, each
 *               nonce used once (nc=00000001), users in turn.
 *
 * Figures are thread CPU ns per operation (CLOCK_THREAD_CPUTIME_ID), the best
 * of ROUNDS rounds (the machine is shared; the minimum is the least
 * disturbed). Client responses are computed before timing starts.
 *
 * Output: "auth.<what> ns=<n>" lines. Usage: build/bench/auth [users] [ops] */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sip/auth.h>
#include <sip/location.h>
#if __has_include("location/users_int.h")
#include "location/users_int.h"
#define HAVE_USERS_STATS 1
#endif

#define ROUNDS 5
#define USERS_MAX 1000000
#define OPS_MAX 1000000
#define REALM "localhost"
#define URI "sip:localhost"
#define NOW 1000000

static double cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "auth bench: %s\n", what);
	exit(1);
}

/* Writes users user0..user<n-1> (password pw<i>) in one transaction: one
 * sip_users_add() per user would fsync each row. The schema is sipd's own. */
static void fill_users(const char *path, int n)
{
	struct sip_users *u;
	sqlite3 *db;
	sqlite3_stmt *st;
	if (sip_users_open(&u, path) != 0)
		die("sip_users_open");
	sip_users_close(u);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO users (username, realm, ha1_md5, ha1_sha256) VALUES (?1, ?2, ?3, ?4)",
			       -1, &st, NULL) != SQLITE_OK)
		die("sqlite open/prepare");
	for (int i = 0; i < n; i++) {
		char user[32], pw[32], md5[SIP_DIGEST_HEX_MAX], sha[SIP_DIGEST_HEX_MAX];
		snprintf(user, sizeof user, "user%d", i);
		snprintf(pw, sizeof pw, "pw%d", i);
		if (sip_digest_ha1(SIP_DIGEST_MD5, sip_str_c(user), SIP_STR(REALM), sip_str_c(pw), md5) != 0 ||
		    sip_digest_ha1(SIP_DIGEST_SHA256, sip_str_c(user), SIP_STR(REALM), sip_str_c(pw), sha) != 0)
			die("ha1");
		sqlite3_bind_text(st, 1, user, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, REALM, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, md5, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, sha, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			die("insert");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		die("commit");
	sqlite3_close(db);
}

/* One prepared request: what a client sends back after the 401. */
struct cred {
	char user[16];
	char nonce[SIP_AUTH_NONCE_LEN + 1];
	char response[SIP_DIGEST_HEX_MAX];
};

static struct sip_auth_server *new_server(void)
{
	static const uint8_t secret[32] = "bench-secret-0123456789abcdefgh";
	struct sip_auth_server_config cfg = {.secret = secret, .secret_len = sizeof secret};
	struct sip_auth_server *s;
	if (sip_auth_server_new(&s, &cfg) != 0)
		die("sip_auth_server_new");
	return s;
}

/* Nonces and client responses for ops requests, users in turn. */
static void prepare(struct sip_auth_server *s, enum sip_digest_alg alg, struct cred *c, int ops, int users)
{
	for (int i = 0; i < ops; i++) {
		char pw[32], ha1[SIP_DIGEST_HEX_MAX];
		snprintf(c[i].user, sizeof c[i].user, "user%d", i % users);
		snprintf(pw, sizeof pw, "pw%d", i % users);
		if (sip_auth_nonce_make(s, SIP_STR(REALM), NOW, c[i].nonce, sizeof c[i].nonce) < 0 ||
		    sip_digest_ha1(alg, sip_str_c(c[i].user), SIP_STR(REALM), sip_str_c(pw), ha1) != 0)
			die("prepare");
		struct sip_digest_input in = {
			.alg = alg,
			.ha1 = sip_str_c(ha1),
			.nonce = sip_str_c(c[i].nonce),
			.cnonce = SIP_STR("0a4f113b"),
			.nc = SIP_STR("00000001"),
			.qop = SIP_STR("auth"),
			.method = SIP_STR("REGISTER"),
			.uri = SIP_STR(URI),
		};
		if (sip_digest_response(&in, c[i].response) != 0)
			die("response");
	}
}

static double bench_verify(struct sip_users *u, enum sip_digest_alg alg, struct cred *c, int ops, int users)
{
	double best = 0;
	for (int r = 0; r < ROUNDS; r++) {
		/* A fresh verifier per round: each nonce's nc=1 is new to it. */
		struct sip_auth_server *s = new_server();
		prepare(s, alg, c, ops, users);
		struct sip_auth_request req = {SIP_STR("REGISTER"), SIP_STR(URI), SIP_STR(REALM)};
		struct sip_digest_creds cr;
		memset(&cr, 0, sizeof cr);
		cr.realm = SIP_STR(REALM);
		cr.uri = SIP_STR(URI);
		cr.algorithm = sip_str_c(sip_digest_alg_name(alg));
		cr.cnonce = SIP_STR("0a4f113b");
		cr.nc = SIP_STR("00000001");
		cr.qop = SIP_STR("auth");
		int ok = 0;
		double t0 = cpu_ns();
		for (int i = 0; i < ops; i++) {
			cr.username = sip_str_c(c[i].user);
			cr.nonce = (struct sip_str){c[i].nonce, SIP_AUTH_NONCE_LEN};
			cr.response = sip_str_c(c[i].response);
			ok += sip_auth_verify(s, &cr, &req, NOW, sip_users_get_ha1, u) == SIP_AUTH_OK;
		}
		double ns = (cpu_ns() - t0) / ops;
		if (ok != ops)
			die("a verification failed");
		if (r == 0 || ns < best)
			best = ns;
		sip_auth_server_free(s);
	}
	return best;
}

int main(int argc, char **argv)
{
	long lu = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
	long lo = argc > 2 ? strtol(argv[2], NULL, 10) : 20000;
	if (lu < 1 || lu > USERS_MAX || lo < 1 || lo > OPS_MAX)
		die("usage: auth [users 1..1000000] [ops 1..1000000]");
	int users = (int)lu, ops = (int)lo;
	char dir[] = "/tmp/sipd-bench-auth-XXXXXX", path[64];
	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(path, sizeof path, "%s/users.db", dir);
	fill_users(path, users);
	struct sip_users *u;
	if (sip_users_open(&u, path) != 0)
		die("sip_users_open");
	struct cred *c = calloc((size_t)ops, sizeof *c);
	if (!c)
		die("calloc");
	struct sip_auth_server *s = new_server();

	double best_ch = 0, best_mk = 0, best_ck = 0, best_ha1 = 0;
	char buf[2048];
	struct sip_str vals[SIP_DIGEST__COUNT];
	size_t nvals;
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = cpu_ns();
		for (int i = 0; i < ops; i++)
			if (sip_auth_challenges(s, SIP_STR(REALM), NOW, false, buf, sizeof buf, vals, SIP_DIGEST__COUNT,
						&nvals) != 0 || nvals != 2)
				die("challenge");
		double ns = (cpu_ns() - t0) / ops;
		best_ch = r == 0 || ns < best_ch ? ns : best_ch;

		t0 = cpu_ns();
		for (int i = 0; i < ops; i++)
			if (sip_auth_nonce_make(s, SIP_STR(REALM), NOW, c[i].nonce, sizeof c[i].nonce) < 0)
				die("nonce");
		ns = (cpu_ns() - t0) / ops;
		best_mk = r == 0 || ns < best_mk ? ns : best_mk;

		t0 = cpu_ns();
		for (int i = 0; i < ops; i++)
			if (sip_auth_nonce_check(s, SIP_STR(REALM), (struct sip_str){c[i].nonce, SIP_AUTH_NONCE_LEN},
						 NOW) != SIP_AUTH_OK)
				die("nonce check");
		ns = (cpu_ns() - t0) / ops;
		best_ck = r == 0 || ns < best_ck ? ns : best_ck;

		char user[32], ha1[SIP_DIGEST_HEX_MAX];
		t0 = cpu_ns();
		for (int i = 0; i < ops; i++) {
			int n = snprintf(user, sizeof user, "user%d", i % users);
			if (sip_users_get_ha1(u, (struct sip_str){user, (size_t)n}, SIP_STR(REALM),
					      i & 1 ? SIP_DIGEST_MD5 : SIP_DIGEST_SHA256, ha1) != 0)
				die("ha1 lookup");
		}
		ns = (cpu_ns() - t0) / ops;
		best_ha1 = r == 0 || ns < best_ha1 ? ns : best_ha1;
	}
	sip_auth_server_free(s);
	double md5 = bench_verify(u, SIP_DIGEST_MD5, c, ops, users);
	double sha = bench_verify(u, SIP_DIGEST_SHA256, c, ops, users);

	printf("auth.setup users=%d ops=%d rounds=%d (best round, thread CPU ns per op)\n", users, ops, ROUNDS);
	printf("auth.challenge ns=%.0f   (nonce + SHA-256 and MD5 WWW-Authenticate values)\n", best_ch);
	printf("auth.nonce_make ns=%.0f\n", best_mk);
	printf("auth.nonce_check ns=%.0f\n", best_ck);
	printf("auth.ha1_lookup ns=%.0f   (SQLite users file)\n", best_ha1);
#ifdef HAVE_USERS_STATS
	struct sip__users_stats us;
	sip__users_stats_get(u, &us);
	printf("auth.ha1_cache hits=%llu misses=%llu flushes=%llu\n", (unsigned long long)us.hits,
	       (unsigned long long)us.misses, (unsigned long long)us.flushes);
#endif
	printf("auth.verify_md5 ns=%.0f   (nonce check + HA1 lookup + response + nc record)\n", md5);
	printf("auth.verify_sha256 ns=%.0f\n", sha);

	free(c);
	sip_users_close(u);
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		char p[80];
		snprintf(p, sizeof p, "%s%s", path, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}
