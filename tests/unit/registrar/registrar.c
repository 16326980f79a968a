/* The registrar (RFC 3261 §10.3) end to end through its sans-I/O API: every
 * step, against the memory and the SQLite location backends, with the real
 * digest module on both sides and RFC 4475 REGISTERs from tests/data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include "sip_test.h"
#include <sip/ratelimit.h>
#include <sip/registrar.h>

static long live;
static long fail_at = -1; /* the allocation number that fails (-1: none) */
static void *cnt_malloc(size_t n, void *ud)
{
	(void)ud;
	if (fail_at >= 0 && fail_at-- == 0)
		return NULL;
	void *p = malloc(n);
	if (p)
		live++;
	return p;
}
static void *cnt_realloc(void *p, size_t n, void *ud)
{
	(void)ud;
	if (!p)
		return cnt_malloc(n, ud);
	if (fail_at >= 0 && fail_at-- == 0)
		return NULL;
	return realloc(p, n);
}
static void cnt_free(void *p, void *ud)
{
	(void)ud;
	if (p)
		live--;
	free(p);
}
static const struct sip_mem cnt_mem = {cnt_malloc, cnt_realloc, cnt_free, NULL};

static int fake_random(void *ud, uint8_t *buf, size_t len)
{
	unsigned *ctr = ud;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(++*ctr * 131u);
	return 0;
}
static unsigned rnd_ctr;
static const uint8_t SECRET[] = "registrar-test-secret-0123456789";

enum backend { MEMORY, SQLITE };
struct fx {
	enum backend kind;
	char dir[64], path[128];
	struct sip_location *loc;
	struct sip_users *users;
	struct sip_auth_server *auth;
	struct sip_registrar *reg;
	struct sip_registrar_config cfg;
	struct sip_registrar_domain dom[2];
	size_t max_bindings;
	/* last exchange */
	char req[65536], out[65536];
	struct sip_msg m, resp;
	struct sip_registrar_result res;
};

static struct fx fx_mem = {.kind = MEMORY}, fx_sql = {.kind = SQLITE};

#define NOW 1700000000 /* Tue, 14 Nov 2023 22:13:20 GMT */

static int setup(void **state)
{
	struct fx *f = *state;
	live = 0;
	sip_mem_set(&cnt_mem);
	memset(&f->cfg, 0, sizeof f->cfg);
	f->dom[0] = (struct sip_registrar_domain){"example.com", NULL};
	f->dom[1] = (struct sip_registrar_domain){"Other.Example.ORG", "other-realm"};
	f->cfg.domains = f->dom;
	f->cfg.ndomains = 2;
	f->max_bindings = 0;
	f->reg = NULL;
	f->loc = NULL;
	if (f->kind == SQLITE) {
		snprintf(f->dir, sizeof f->dir, "/tmp/sipd-reg-XXXXXX");
		assert_non_null(mkdtemp(f->dir));
		snprintf(f->path, sizeof f->path, "%s/sipd.db", f->dir);
	}
	assert_int_equal(sip_users_open(&f->users, f->kind == SQLITE ? f->path : NULL), 0);
	assert_int_equal(sip_users_add(f->users, SIP_STR("alice"), SIP_STR("example.com"), SIP_STR("secret")),
			 0);
	assert_int_equal(sip_users_add(f->users, SIP_STR("bob"), SIP_STR("example.com"), SIP_STR("hunter2")),
			 0);
	struct sip_auth_server_config ac = {
	    .secret = SECRET, .secret_len = sizeof SECRET - 1, .random = fake_random, .random_ud = &rnd_ctr};
	assert_int_equal(sip_auth_server_new(&f->auth, &ac), 0);
	f->cfg.auth = f->auth;
	f->cfg.ha1 = sip_users_get_ha1;
	f->cfg.ha1_ud = f->users;
	return 0;
}

/* Opens the store and the registrar with f->cfg (tests tweak cfg first). */
static void start(struct fx *f)
{
	struct sip_location_config lc = {.uri_eq = sip_registrar_uri_eq, .max_bindings = f->max_bindings};
	if (f->kind == MEMORY)
		assert_int_equal(sip_location_open_memory(&f->loc, &lc), 0);
	else
		assert_int_equal(sip_location_open_sqlite(&f->loc, f->path, &lc), 0);
	assert_int_equal(sip_registrar_new(&f->reg, &f->cfg, f->loc), 0);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sip_registrar_free(f->reg);
	sip_location_close(f->loc);
	sip_auth_server_free(f->auth);
	sip_users_close(f->users);
	if (f->kind == SQLITE) {
		sip_test_rm_db(f->dir, f->path);
	}
	sip_mem_set(NULL);
	assert_int_equal(live, 0);
	return 0;
}

/* When set, the source is given as a socket address instead of text (what
 * sipd passes), formatted by the registrar only when it needs it. */
static const void *src_sockaddr;
/* When set, the REGISTER came over this stream connection (over TCP). */
static uint64_t src_conn;

/* Hands the bytes in f->req to the registrar; parses the response. Returns its status. */
static int send_raw(struct fx *f, size_t len, int64_t now)
{
	struct sip_parse_err err;
	struct sip_registrar_src src = {.ip = SIP_STR("192.0.2.9"), .port = 40000, .transport = SIP_STR("udp")};
	if (src_sockaddr)
		src = (struct sip_registrar_src){.transport = SIP_STR("udp"), .sockaddr = src_sockaddr};
	if (src_conn) {
		src.transport = SIP_STR("tcp");
		src.conn = src_conn;
	}
	assert_true(sip_msg_parse(&f->m, f->req, len, SIP_PARSE_DATAGRAM, &err) > 0);
	assert_int_equal(sip_registrar_handle(f->reg, &f->m, &src, now, f->out, sizeof f->out, &f->res), 0);
	if (f->res.not_ours)
		return 0;
	assert_int_equal(f->res.len, strlen(f->out) < f->res.len ? strlen(f->out) : f->res.len);
	assert_true(sip_msg_parse(&f->resp, f->out, f->res.len, SIP_PARSE_STREAM, &err) > 0);
	assert_int_equal(f->resp.status, f->res.status);
	return f->res.status;
}

/* REGISTER from user for To user, with extra header lines (each ending CRLF). */
static int reg_as(struct fx *f, const char *to_user, const char *call_id, unsigned cseq, const char *extra,
		  int64_t now)
{
	int n = snprintf(f->req, sizeof f->req,
			 "REGISTER sip:example.com SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-%s-%u\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <sip:%s@example.com>;tag=f%u\r\n"
			 "To: <sip:%s@example.com>\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: %u REGISTER\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 call_id, cseq, to_user, cseq, to_user, call_id, cseq, extra ? extra : "");
	assert_true(n > 0 && (size_t)n < sizeof f->req);
	return send_raw(f, (size_t)n, now);
}

static int reg(struct fx *f, const char *call_id, unsigned cseq, const char *extra, int64_t now)
{
	return reg_as(f, "alice", call_id, cseq, extra, now);
}

/* The value of the i-th header named name in the last response, or "" (NUL-terminated copy). */
static const char *hdr(struct fx *f, const char *name, int nth)
{
	static char buf[8192];
	enum sip_hdr_id id = sip_hdr_lookup(name, strlen(name));
	buf[0] = '\0';
	for (uint16_t i = 0; i < f->resp.nhdrs; i++) {
		const struct sip_hdr *h = &f->resp.hdrs[i];
		bool same = id != SIP_HDR_OTHER ? h->id == id : sip_str_caseeq(h->name, sip_str_c(name));
		if (same && nth-- == 0) {
			snprintf(buf, sizeof buf, "%.*s", SIP_STR_ARG(h->value));
			break;
		}
	}
	return buf;
}

static int nhdr(struct fx *f, const char *name)
{
	int n = 0;
	while (hdr(f, name, n)[0])
		n++;
	return n;
}

/* The stored bindings of alice (or aor). */
static size_t stored(struct fx *f, const char *aor, struct sip_binding_list *l, int64_t now)
{
	assert_int_equal(sip_location_lookup(f->loc, sip_str_c(aor), now, l), 0);
	return l->n;
}

static size_t count(struct fx *f, const char *aor, int64_t now)
{
	struct sip_binding_list l;
	size_t n = stored(f, aor, &l, now);
	sip_binding_list_free(&l);
	return n;
}

#define ALICE "sip:alice@example.com"

/* ---- step 1: Request-URI domain ---- */
static void test_domain(void **state)
{
	struct fx *f = *state;
	start(f);
	int n = snprintf(f->req, sizeof f->req,
			 "REGISTER sip:elsewhere.net SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			 "From: <sip:a@elsewhere.net>;tag=1\r\nTo: <sip:a@elsewhere.net>\r\nCall-ID: d1\r\n"
			 "CSeq: 1 REGISTER\r\nContact: <sip:a@192.0.2.1>\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(send_raw(f, (size_t)n, NOW), 0);
	assert_true(f->res.not_ours);
	assert_int_equal(f->res.len, 0);
	assert_int_equal(sip_location_count(f->loc, SIP_STR_NULL, NOW), 0);
	/* Case-insensitive match of a configured domain (and of the AOR host). */
	n = snprintf(
	    f->req, sizeof f->req,
	    "REGISTER sip:OTHER.example.org SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\r\n"
	    "From: <sip:a@other.example.org>;tag=1\r\nTo: <sip:a@other.EXAMPLE.org>\r\nCall-ID: d2\r\n"
	    "CSeq: 1 REGISTER\r\nContact: <sip:a@192.0.2.1>\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(send_raw(f, (size_t)n, NOW), 200);
	assert_int_equal(count(f, "sip:a@other.example.org", NOW), 1);
	/* To in a domain that is not ours: 404. */
	n = snprintf(f->req, sizeof f->req,
		     "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK3\r\n"
		     "From: <sip:a@x.net>;tag=1\r\nTo: <sip:a@x.net>\r\nCall-ID: d3\r\n"
		     "CSeq: 1 REGISTER\r\nContact: <sip:a@192.0.2.1>\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(send_raw(f, (size_t)n, NOW), 404);
	assert_int_equal(count(f, "sip:a@x.net", NOW), 0);
}

/* ---- step 2: Require ---- */
static void test_require(void **state)
{
	struct fx *f = *state;
	start(f);
	assert_int_equal(
	    reg(f, "r1", 1, "Require: path, foo\r\nRequire: bar\r\nContact: <sip:a@192.0.2.1>\r\n", NOW),
	    420);
	assert_int_equal(nhdr(f, "Unsupported"), 2);
	assert_string_equal(hdr(f, "Unsupported", 0), "foo");
	assert_string_equal(hdr(f, "Unsupported", 1), "bar");
	assert_int_equal(count(f, ALICE, NOW), 0);
	assert_int_equal(reg(f, "r1", 2, "Require: path, outbound\r\nContact: <sip:a@192.0.2.1>\r\n", NOW),
			 200);
}

/* ---- step 6/8: a plain registration and its 200 ---- */
static void test_basic_200(void **state)
{
	struct fx *f = *state;
	start(f);
	assert_int_equal(reg(f, "b1", 1, "Contact: \"Al\" <sip:alice@192.0.2.1:5062;transport=tcp>\r\n", NOW),
			 200);
	assert_string_equal(hdr(f, "Contact", 0), "<sip:alice@192.0.2.1:5062;transport=tcp>;expires=3600");
	assert_string_equal(hdr(f, "Date", 0), "Tue, 14 Nov 2023 22:13:20 GMT");
	assert_true(f->resp.to.has_tag);
	assert_string_equal(hdr(f, "Supported", 0), "path, outbound");
	assert_string_equal(hdr(f, "Content-Length", 0), "0");
	assert_true(f->res.wrote);
	struct sip_binding_list l;
	assert_int_equal(stored(f, ALICE, &l, NOW), 1);
	assert_true(sip_str_eq(l.v[0].contact_uri, SIP_STR("sip:alice@192.0.2.1:5062;transport=tcp")));
	assert_true(sip_str_eq(l.v[0].contact, SIP_STR("\"Al\" <sip:alice@192.0.2.1:5062;transport=tcp>")));
	assert_int_equal(l.v[0].expires, NOW + 3600);
	assert_true(sip_str_eq(l.v[0].call_id, SIP_STR("b1")));
	assert_int_equal(l.v[0].cseq, 1);
	assert_int_equal(l.v[0].q, -1);
	assert_int_equal(l.v[0].received.len, 0); /* nat_rewrite is opt-in */
	sip_binding_list_free(&l);
	/* The same request again gets the same To tag (derived, not random). */
	char tag[64];
	snprintf(tag, sizeof tag, "%.*s", SIP_STR_ARG(f->resp.to.tag));
	assert_int_equal(reg(f, "b1", 1, "Contact: <sip:alice@192.0.2.1:5062;transport=tcp>\r\n", NOW), 500);
	assert_true(sip_str_eq(f->resp.to.tag, sip_str_c(tag)));
	/* A Date at the epoch and in a leap year. */
	char d[40];
	sip_registrar_error(f->reg, &f->m, 500, 0, f->out, sizeof f->out);
	assert_non_null(strstr(f->out, "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"));
	sip_registrar_error(f->reg, &f->m, 500, 951782400 + 86399, f->out, sizeof f->out);
	assert_non_null(strstr(f->out, "Date: Tue, 29 Feb 2000 23:59:59 GMT\r\n"));
	(void)d;
}

/* ---- step 6: expiry from the param, else Expires, else the default; 423; cap ---- */
static void test_expires(void **state)
{
	struct fx *f = *state;
	start(f);
	assert_int_equal(reg(f, "e1", 1,
			     "Expires: 300\r\nContact: <sip:a@192.0.2.1>;expires=120, <sip:b@192.0.2.1>\r\n",
			     NOW),
			 200);
	assert_string_equal(hdr(f, "Contact", 0), "<sip:a@192.0.2.1>;expires=120");
	assert_string_equal(hdr(f, "Contact", 1), "<sip:b@192.0.2.1>;expires=300");
	assert_int_equal(reg(f, "e1", 2, "Contact: <sip:c@192.0.2.1>\r\n", NOW), 200);
	assert_int_equal(nhdr(f, "Contact"), 3);
	assert_string_equal(hdr(f, "Contact", 2), "<sip:c@192.0.2.1>;expires=3600");
	/* Over max: capped at 86400; Expires past 2^32-1 is huge, so capped too. */
	assert_int_equal(reg(f, "e1", 3, "Contact: <sip:d@192.0.2.1>;expires=999999\r\n", NOW), 200);
	assert_string_equal(hdr(f, "Contact", 3), "<sip:d@192.0.2.1>;expires=86400");
	assert_int_equal(reg(f, "e1", 4, "Expires: 99999999999999\r\nContact: <sip:e@192.0.2.1>\r\n", NOW),
			 200);
	assert_string_equal(hdr(f, "Contact", 4), "<sip:e@192.0.2.1>;expires=86400");
	assert_int_equal(count(f, ALICE, NOW), 5);
	/* Under min: 423 with Min-Expires, and nothing of that request is stored. */
	assert_int_equal(reg(f, "e1", 5, "Contact: <sip:f@192.0.2.1>, <sip:g@192.0.2.1>;expires=30\r\n", NOW),
			 423);
	assert_string_equal(hdr(f, "Min-Expires", 0), "60");
	assert_int_equal(reg(f, "e1", 6, "Expires: 59\r\nContact: <sip:f@192.0.2.1>\r\n", NOW), 423);
	assert_int_equal(count(f, ALICE, NOW), 5);
	/* Exactly min is fine; the binding expires on time. */
	assert_int_equal(reg(f, "e1", 7, "Contact: <sip:f@192.0.2.1>;expires=60\r\n", NOW), 200);
	assert_int_equal(count(f, ALICE, NOW + 59), 6);
	assert_int_equal(count(f, ALICE, NOW + 60), 5);
	assert_int_equal(count(f, ALICE, NOW + 120), 4);
}

static void test_expires_config(void **state)
{
	struct fx *f = *state;
	f->cfg.default_expires = 600;
	f->cfg.min_expires = 100;
	f->cfg.max_expires = 1000;
	start(f);
	assert_int_equal(reg(f, "c1", 1, "Contact: <sip:a@192.0.2.1>\r\n", NOW), 200);
	assert_string_equal(hdr(f, "Contact", 0), "<sip:a@192.0.2.1>;expires=600");
	assert_int_equal(reg(f, "c1", 2, "Contact: <sip:a@192.0.2.1>;expires=99\r\n", NOW), 423);
	assert_string_equal(hdr(f, "Min-Expires", 0), "100");
	assert_int_equal(reg(f, "c1", 3, "Contact: <sip:a@192.0.2.1>;expires=5000\r\n", NOW), 200);
	assert_string_equal(hdr(f, "Contact", 0), "<sip:a@192.0.2.1>;expires=1000");
	/* Bad configurations are refused. */
	struct sip_registrar *r = NULL;
	struct sip_registrar_config bad = f->cfg;
	bad.min_expires = 700;
	assert_int_equal(sip_registrar_new(&r, &bad, f->loc), SIP_ECONFIG);
	bad = f->cfg;
	bad.ndomains = 0;
	assert_int_equal(sip_registrar_new(&r, &bad, f->loc), SIP_ECONFIG);
	bad = f->cfg;
	bad.require_auth = true;
	bad.auth = NULL;
	assert_int_equal(sip_registrar_new(&r, &bad, f->loc), SIP_ECONFIG);
	assert_null(r);
}

/* ---- step 7: removing one binding, then all with * ---- */
static void test_unregister(void **state)
{
	struct fx *f = *state;
	start(f);
	assert_int_equal(reg(f, "u1", 1, "Contact: <sip:a@192.0.2.1>, <sip:b@192.0.2.2>\r\n", NOW), 200);
	assert_int_equal(count(f, ALICE, NOW), 2);
	/* A URI equal per §19.1.4 (host case) removes it. */
	assert_int_equal(reg(f, "u1", 2, "Contact: <sip:a@192.0.2.1>;expires=0\r\n", NOW + 10), 200);
	assert_int_equal(nhdr(f, "Contact"), 1);
	assert_string_equal(hdr(f, "Contact", 0), "<sip:b@192.0.2.2>;expires=3590");
	assert_int_equal(count(f, ALICE, NOW), 1);
	/* Removing what is not there is fine. */
	assert_int_equal(reg(f, "u1", 3, "Expires: 0\r\nContact: <sip:zz@192.0.2.1>\r\n", NOW + 10), 200);
	assert_int_equal(count(f, ALICE, NOW), 1);

	/* Wildcard: only alone, only with Expires: 0. */
	assert_int_equal(reg(f, "u1", 4, "Contact: *\r\n", NOW + 10), 400);
	assert_int_equal(reg(f, "u1", 5, "Expires: 10\r\nContact: *\r\n", NOW + 10), 400);
	assert_int_equal(reg(f, "u1", 6, "Expires: 0\r\nContact: *, <sip:c@192.0.2.3>\r\n", NOW + 10), 400);
	assert_int_equal(
	    reg(f, "u1", 7, "Expires: 0\r\nContact: *\r\nContact: <sip:c@192.0.2.3>\r\n", NOW + 10), 400);
	assert_int_equal(count(f, ALICE, NOW + 10), 1);
	assert_int_equal(reg(f, "other-call", 1, "Contact: <sip:d@192.0.2.4>\r\n", NOW + 10), 200);
	assert_int_equal(count(f, ALICE, NOW + 10), 2);
	assert_int_equal(reg(f, "u1", 8, "Expires: 0\r\nContact: *\r\n", NOW + 20), 200);
	assert_int_equal(nhdr(f, "Contact"), 0);
	assert_int_equal(count(f, ALICE, NOW + 20), 0);
}

/* ---- step 7: Call-ID / CSeq ordering ---- */
static void test_cseq(void **state)
{
	struct fx *f = *state;
	start(f);
	assert_int_equal(reg(f, "s1", 5, "Contact: <sip:a@192.0.2.1>;expires=600\r\n", NOW), 200);
	/* Same Call-ID, lower or equal CSeq: the request fails, the binding stays as it was. */
	assert_int_equal(reg(f, "s1", 4, "Contact: <sip:a@192.0.2.1>;expires=0\r\n", NOW + 1), 500);
	assert_int_equal(
	    reg(f, "s1", 5, "Contact: <sip:a@192.0.2.1>;expires=3000, <sip:new@192.0.2.2>\r\n", NOW + 1),
	    500);
	assert_int_equal(reg(f, "s1", 3, "Expires: 0\r\nContact: *\r\n", NOW + 1), 500);
	struct sip_binding_list l;
	assert_int_equal(stored(f, ALICE, &l, NOW + 1), 1); /* and <sip:new> was not added */
	assert_int_equal(l.v[0].expires, NOW + 600);
	assert_int_equal(l.v[0].cseq, 5);
	sip_binding_list_free(&l);
	/* Higher CSeq updates; another Call-ID updates whatever its CSeq. */
	assert_int_equal(reg(f, "s1", 6, "Contact: <sip:a@192.0.2.1>;expires=900\r\n", NOW + 1), 200);
	assert_int_equal(reg(f, "s2", 1, "Contact: <sip:a@192.0.2.1>;expires=1200\r\n", NOW + 2), 200);
	assert_int_equal(stored(f, ALICE, &l, NOW + 2), 1);
	assert_int_equal(l.v[0].expires, NOW + 2 + 1200);
	assert_true(sip_str_eq(l.v[0].call_id, SIP_STR("s2")));
	assert_int_equal(l.v[0].cseq, 1);
	sip_binding_list_free(&l);
}

/* ---- q, Path, outbound, NAT ---- */
static void test_q_path(void **state)
{
	struct fx *f = *state;
	start(f);
	assert_int_equal(
	    reg(f, "q1", 1,
		"Supported: path\r\nPath: <sip:edge1.example.com;lr>\r\nPath: <sip:edge2.example.com;lr>\r\n"
		"Contact: "
		"<sip:a@192.0.2.1>;q=0.7;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-0000000000a1>"
		"\"\r\n",
		NOW),
	    200);
	assert_string_equal(
	    hdr(f, "Contact", 0),
	    "<sip:a@192.0.2.1>;q=0.7;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-0000000000a1>\";"
	    "expires=3600");
	assert_string_equal(hdr(f, "Path", 0), "<sip:edge1.example.com;lr>,<sip:edge2.example.com;lr>");
	struct sip_binding_list l;
	assert_int_equal(stored(f, ALICE, &l, NOW), 1);
	assert_int_equal(l.v[0].q, 700);
	assert_true(
	    sip_str_eq(l.v[0].path, SIP_STR("<sip:edge1.example.com;lr>,<sip:edge2.example.com;lr>")));
	assert_true(
	    sip_str_eq(l.v[0].instance, SIP_STR("\"<urn:uuid:00000000-0000-0000-0000-0000000000a1>\"")));
	assert_int_equal(l.v[0].reg_id, 0);
	sip_binding_list_free(&l);
	/* Without Supported: path the Path is neither stored nor echoed. */
	assert_int_equal(
	    reg(f, "q2", 1, "Path: <sip:edge1.example.com;lr>\r\nContact: <sip:b@192.0.2.1>;q=1\r\n", NOW),
	    200);
	assert_int_equal(nhdr(f, "Path"), 0);
	assert_int_equal(stored(f, ALICE, &l, NOW), 2);
	for (size_t i = 0; i < l.n; i++)
		if (sip_str_eq(l.v[i].contact_uri, SIP_STR("sip:b@192.0.2.1"))) {
			assert_int_equal(l.v[i].path.len, 0);
			assert_int_equal(l.v[i].q, 1000);
		}
	sip_binding_list_free(&l);
	/* A malformed Path value is a 400. */
	assert_int_equal(
	    reg(f, "q3", 1, "Supported: path\r\nPath: <sip:edge1\r\nContact: <sip:c@192.0.2.1>\r\n", NOW),
	    400);
	assert_int_equal(count(f, ALICE, NOW), 2);
}

static void test_outbound(void **state)
{
	struct fx *f = *state;
	start(f);
#define INST "+sip.instance=\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\""
	assert_int_equal(
	    reg(f, "o1", 1,
		"Supported: outbound, path\r\nContact: <sip:a@10.0.0.1:5060>;" INST ";reg-id=1\r\n", NOW),
	    200);
	assert_string_equal(hdr(f, "Require", 0), "outbound");
	/* Same instance and reg-id from a new address (new NAT binding): replaces the flow. */
	assert_int_equal(reg(f, "o2", 1,
			     "Supported: outbound\r\nContact: <sip:a@10.0.0.2:6000>;" INST ";reg-id=1\r\n",
			     NOW + 5),
			 200);
	struct sip_binding_list l;
	assert_int_equal(stored(f, ALICE, &l, NOW + 5), 1);
	assert_true(sip_str_eq(l.v[0].contact_uri, SIP_STR("sip:a@10.0.0.2:6000")));
	assert_int_equal(l.v[0].reg_id, 1);
	/* The flow's source is stored for the proxy. */
	assert_true(sip_str_eq(l.v[0].received, SIP_STR("sip:192.0.2.9:40000;transport=udp")));
	sip_binding_list_free(&l);
	/* A second flow (reg-id 2) lives beside it. */
	assert_int_equal(reg(f, "o3", 1,
			     "Supported: outbound\r\nContact: <sip:a@10.0.0.3>;" INST ";reg-id=2\r\n",
			     NOW + 6),
			 200);
	assert_int_equal(count(f, ALICE, NOW + 6), 2);
	/* reg-id from a UA that does not support outbound is plain §10.3: no Require. */
	assert_int_equal(reg(f, "o4", 1, "Contact: <sip:a@10.0.0.4>;" INST ";reg-id=1\r\n", NOW + 7), 200);
	assert_int_equal(nhdr(f, "Require"), 0);
	assert_int_equal(count(f, ALICE, NOW + 7), 3);
	/* Over a connection: the flow's id goes with its address, so any
	 * worker can send back over it (RFC 5626 §5.3). */
	src_conn = 0x2000000000007ull;
	assert_int_equal(reg(f, "o6", 1,
			     "Supported: outbound\r\nContact: <sip:a@10.0.0.6;transport=tcp>;" INST ";reg-id=3\r\n",
			     NOW + 7),
			 200);
	src_conn = 0;
	assert_int_equal(stored(f, ALICE, &l, NOW + 7), 4);
	bool found = false;
	for (size_t i = 0; i < l.n; i++)
		found |= l.v[i].reg_id == 3 &&
			 sip_str_eq(l.v[i].received, SIP_STR("sip:192.0.2.9:40000;transport=tcp;sipd-conn=2000000000007"));
	assert_true(found);
	sip_binding_list_free(&l);
	/* A bad reg-id is a 400. */
	assert_int_equal(reg(f, "o5", 1,
			     "Supported: outbound\r\nContact: <sip:a@10.0.0.5>;" INST ";reg-id=0\r\n",
			     NOW + 7),
			 400);
	assert_int_equal(count(f, ALICE, NOW + 7), 4);
}

static void test_nat_rewrite(void **state)
{
	struct fx *f = *state;
	f->cfg.nat_rewrite = true;
	start(f);
	assert_int_equal(reg(f, "n1", 1, "Contact: <sip:a@10.0.0.1:5060>\r\n", NOW), 200);
	struct sip_binding_list l;
	assert_int_equal(stored(f, ALICE, &l, NOW), 1);
	assert_true(sip_str_eq(l.v[0].received, SIP_STR("sip:192.0.2.9:40000;transport=udp")));
	assert_true(sip_str_eq(l.v[0].contact_uri, SIP_STR("sip:a@10.0.0.1:5060"))); /* as sent */
	sip_binding_list_free(&l);
}

/* The same from a socket address (IPv4 and IPv6), as sipd passes it. */
static void test_nat_rewrite_sockaddr(void **state)
{
	struct fx *f = *state;
	f->cfg.nat_rewrite = true;
	start(f);
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(40001)};
	assert_int_equal(inet_pton(AF_INET, "192.0.2.10", &s4.sin_addr), 1);
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(5070)};
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::7", &s6.sin6_addr), 1);
	struct sip_binding_list l;
	src_sockaddr = &s4;
	assert_int_equal(reg(f, "n1", 1, "Contact: <sip:a@10.0.0.1:5060>\r\n", NOW), 200);
	assert_int_equal(stored(f, ALICE, &l, NOW), 1);
	assert_true(sip_str_eq(l.v[0].received, SIP_STR("sip:192.0.2.10:40001;transport=udp")));
	sip_binding_list_free(&l);
	src_sockaddr = &s6;
	assert_int_equal(reg(f, "n1", 2, "Contact: <sip:a@10.0.0.1:5060>\r\n", NOW), 200);
	src_sockaddr = NULL;
	assert_int_equal(stored(f, ALICE, &l, NOW), 1);
	assert_true(sip_str_eq(l.v[0].received, SIP_STR("sip:[2001:db8::7]:5070;transport=udp")));
	sip_binding_list_free(&l);
}

/* ---- query, and the 200 listing every binding with what is left ---- */
static void test_query(void **state)
{
	struct fx *f = *state;
	start(f);
	assert_int_equal(reg(f, "y1", 1, "Contact: <sip:a@192.0.2.1>;q=0.5;expires=600\r\n", NOW), 200);
	assert_int_equal(reg(f, "y2", 1, "Contact: <sip:b@192.0.2.2>\r\n", NOW + 100), 200);
	assert_int_equal(reg(f, "y3", 1, NULL, NOW + 300), 200);
	assert_false(f->res.wrote);
	assert_int_equal(nhdr(f, "Contact"), 2);
	const char *c0 = hdr(f, "Contact", 0);
	char first[256];
	snprintf(first, sizeof first, "%s", c0);
	const char *c1 = hdr(f, "Contact", 1);
	bool order_ab = strcmp(first, "<sip:a@192.0.2.1>;q=0.5;expires=300") == 0;
	if (order_ab)
		assert_string_equal(c1, "<sip:b@192.0.2.2>;expires=3400");
	else {
		assert_string_equal(first, "<sip:b@192.0.2.2>;expires=3400");
		assert_string_equal(c1, "<sip:a@192.0.2.1>;q=0.5;expires=300");
	}
	assert_string_equal(hdr(f, "Date", 0), "Tue, 14 Nov 2023 22:18:20 GMT");
	/* Empty AOR: 200 without Contact. */
	assert_int_equal(reg_as(f, "nobody", "y4", 1, NULL, NOW), 200);
	assert_int_equal(nhdr(f, "Contact"), 0);
	/* Expired bindings are not listed. */
	assert_int_equal(reg(f, "y5", 1, NULL, NOW + 600), 200);
	assert_int_equal(nhdr(f, "Contact"), 1);
}

/* ---- bad input: 4xx and nothing stored ---- */
static void test_bad_input(void **state)
{
	struct fx *f = *state;
	start(f);
	static const char *const bad[] = {
	    "Contact: <sip:a@192.0.2.1\r\n",
	    "Contact: <sip:a@192.0.2.1>;q=2\r\n",
	    "Contact: <sip:a@192.0.2.1>;expires=abc\r\n",
	    "Contact: <sip:a@192.0.2.1>;expires=99999999999\r\n",
	    "Contact: <sip:a@192.0.2.1>,,<sip:b@192.0.2.1>\r\n",
	    "Expires: soon\r\nContact: <sip:a@192.0.2.1>\r\n",
	    "Contact: <sip:ok@192.0.2.1>, <sip:a@192.0.2.1>;expires=\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(reg(f, "x1", (unsigned)i + 1, bad[i], NOW), 400);
		assert_false(f->res.wrote);
	}
	assert_int_equal(count(f, ALICE, NOW), 0);
	assert_int_equal(sip_location_count(f->loc, SIP_STR_NULL, NOW), 0);

	/* Over-long AOR: 400. */
	char user[400];
	memset(user, 'u', sizeof user - 1);
	user[sizeof user - 1] = '\0';
	assert_int_equal(reg_as(f, user, "x2", 1, "Contact: <sip:a@192.0.2.1>\r\n", NOW), 400);
	assert_int_equal(sip_location_count(f->loc, SIP_STR_NULL, NOW), 0);

	/* Not a REGISTER: the caller's mistake. */
	int n = snprintf(f->req, sizeof f->req,
			 "OPTIONS sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			 "From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: o\r\n"
			 "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	struct sip_parse_err err;
	assert_true(sip_msg_parse(&f->m, f->req, (size_t)n, SIP_PARSE_DATAGRAM, &err) > 0);
	assert_int_equal(sip_registrar_handle(f->reg, &f->m, NULL, NOW, f->out, sizeof f->out, &f->res),
			 SIP_EINVAL);
	/* Too small an output buffer: an error, and nothing stored. */
	assert_int_equal(reg(f, "x3", 1, "Contact: <sip:a@192.0.2.1>\r\n", NOW), 200);
	n = snprintf(f->req, sizeof f->req,
		     "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		     "From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\nCall-ID: x4\r\n"
		     "CSeq: 1 REGISTER\r\nContact: <sip:b@192.0.2.1>\r\nContent-Length: 0\r\n\r\n");
	assert_true(sip_msg_parse(&f->m, f->req, (size_t)n, SIP_PARSE_DATAGRAM, &err) > 0);
	char small[100];
	int rc = sip_registrar_handle(f->reg, &f->m, NULL, NOW, small, sizeof small, &f->res);
	assert_int_equal(rc, SIP_ETOOBIG);
	assert_int_equal(count(f, ALICE, NOW), 1);
}

/* Thousands of Contacts (RFC 4475 style): 400 after the cap, nothing stored. */
static void test_too_many_contacts(void **state)
{
	struct fx *f = *state;
	start(f);
	static char extra[40000];
	size_t n = 0;
	for (int line = 0; line < 20; line++) {
		n += (size_t)snprintf(extra + n, sizeof extra - n, "Contact: ");
		for (int i = 0; i < 100; i++)
			n += (size_t)snprintf(extra + n, sizeof extra - n, "%s<sip:%d@h>", i ? "," : "",
					      line * 100 + i);
		n += (size_t)snprintf(extra + n, sizeof extra - n, "\r\n");
	}
	assert_int_equal(reg(f, "t1", 1, extra, NOW), 400);
	assert_string_equal(f->resp.reason.p ? "" : "", "");
	assert_int_equal(sip_location_count(f->loc, SIP_STR_NULL, NOW), 0);
	/* Exactly the cap (32) is accepted; one more is not. */
	n = 0;
	extra[0] = '\0';
	for (int i = 0; i < 32; i++)
		n += (size_t)snprintf(extra + n, sizeof extra - n, "Contact: <sip:%d@192.0.2.1>\r\n", i);
	assert_int_equal(reg(f, "t2", 1, extra, NOW), 200);
	assert_int_equal(nhdr(f, "Contact"), 32);
	assert_int_equal(reg(f, "t2", 2, "Expires: 0\r\nContact: *\r\n", NOW), 200);
	snprintf(extra + n, sizeof extra - n, "Contact: <sip:32@192.0.2.1>\r\n");
	assert_int_equal(reg(f, "t3", 1, extra, NOW), 400);
	assert_int_equal(count(f, ALICE, NOW), 0);
}

/* Two Contacts of one REGISTER that designate the same binding: §10.3 step 7
 * fails the request (the second finds the first's binding, same Call-ID and
 * CSeq) — 400, nothing stored, never the 500 of a store write refused half-way. */
static void test_conflicting_contacts(void **state)
{
	struct fx *f = *state;
	start(f);
	assert_int_equal(reg(f, "d1", 1, "Contact: <sip:a@h>, <sip:a@h>;expires=0\r\n", NOW), 400);
	assert_true(sip_str_eq(f->resp.reason, SIP_STR("Conflicting Contacts")));
	/* Equal by §19.1.4 (host case), in two header lines. */
	assert_int_equal(reg(f, "d2", 1, "Contact: <sip:a@h.example>\r\nContact: <sip:a@H.Example>;q=0.5\r\n", NOW),
			 400);
	/* The same flow twice, under two URIs. */
	assert_int_equal(reg(f, "d3", 1,
			     "Supported: outbound\r\nContact: <sip:a@10.0.0.1>;" INST ";reg-id=1, <sip:a@10.0.0.2>;" INST
			     ";reg-id=1\r\n",
			     NOW),
			 400);
	/* Two flows and a plain contact on one URI (found by fuzz_registrar: the
	 * store refused the third write and the REGISTER got a 500). */
	assert_int_equal(reg(f, "d4", 1,
			     "Supported: outbound\r\n"
			     "Contact: <sip:a@10.0.0.1>;+sip.instance=\"<urn:uuid:1>\";reg-id=1\r\n"
			     "Contact: <sip:a@10.0.0.1>;+sip.instance=\"<urn:uuid:2>\";reg-id=1\r\n"
			     "Contact: <sip:a@10.0.0.1>\r\n",
			     NOW),
			 400);
	assert_int_equal(count(f, ALICE, NOW), 0);
	/* URIs that differ by §19.1.4 (transport in one only) are two bindings. */
	assert_int_equal(reg(f, "d5", 1, "Contact: <sip:a@h>, <sip:a@h;transport=tcp>\r\n", NOW), 200);
	assert_int_equal(count(f, ALICE, NOW), 2);
}

/* The per-AOR cap of the store: a request that would pass it stores nothing. */
static void test_binding_cap(void **state)
{
	struct fx *f = *state;
	f->max_bindings = 3;
	start(f);
	assert_int_equal(reg(f, "k1", 1, "Contact: <sip:1@h>, <sip:2@h>\r\n", NOW), 200);
	assert_int_equal(reg(f, "k2", 1, "Contact: <sip:3@h>, <sip:4@h>\r\n", NOW), 403);
	assert_int_equal(count(f, ALICE, NOW), 2);
	/* Removing one while adding two fits (removals are applied first). */
	assert_int_equal(reg(f, "k1", 2, "Contact: <sip:1@h>;expires=0, <sip:3@h>, <sip:4@h>\r\n", NOW), 200);
	assert_int_equal(count(f, ALICE, NOW), 3);
	/* Refreshing at the cap is fine. */
	assert_int_equal(reg(f, "k1", 3, "Contact: <sip:3@h>, <sip:4@h>, <sip:2@h>\r\n", NOW), 200);
}

/* ---- RFC 4475 ---- */
static size_t load(struct fx *f, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/rfc4475/%s", SIP_TEST_DATA, name);
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	size_t n = fread(f->req, 1, sizeof f->req, fp);
	fclose(fp);
	return n;
}

static void test_rfc4475(void **state)
{
	struct fx *f = *state;
	start(f);
	struct sip_binding_list l;
	/* cparam01: ;unknownparam after a bare URI is a contact param. */
	assert_int_equal(send_raw(f, load(f, "cparam01.dat"), NOW), 200);
	assert_int_equal(stored(f, "sip:watson@example.com", &l, NOW), 1);
	assert_true(sip_str_eq(l.v[0].contact_uri, SIP_STR("sip:+19725552222@gw1.example.net")));
	sip_binding_list_free(&l);
	assert_string_equal(hdr(f, "Contact", 0),
			    "<sip:+19725552222@gw1.example.net>;unknownparam;expires=3600");
	/* cparam02: inside <> it is a URI param. Per §19.1.4 a parameter present in
	 * one URI only is ignored, so this URI equals cparam01's and (another
	 * Call-ID) replaces that binding: the stored URI now carries it. */
	assert_int_equal(send_raw(f, load(f, "cparam02.dat"), NOW), 200);
	assert_int_equal(stored(f, "sip:watson@example.com", &l, NOW), 1);
	assert_true(sip_str_eq(l.v[0].contact_uri, SIP_STR("sip:+19725552222@gw1.example.net;unknownparam")));
	sip_binding_list_free(&l);
	assert_string_equal(hdr(f, "Contact", 0),
			    "<sip:+19725552222@gw1.example.net;unknownparam>;expires=3600");
	/* regescrt: the escaped Route header stays in the URI. */
	assert_int_equal(send_raw(f, load(f, "regescrt.dat"), NOW), 200);
	assert_int_equal(stored(f, "sip:user@example.com", &l, NOW), 1);
	assert_true(
	    sip_str_eq(l.v[0].contact_uri, SIP_STR("sip:user@example.com?Route=%3Csip:sip.example.com%3E")));
	sip_binding_list_free(&l);
	assert_string_equal(hdr(f, "Contact", 0),
			    "<sip:user@example.com?Route=%3Csip:sip.example.com%3E>;expires=3600");
	/* unksm2: To is isbn: -> 400. */
	assert_int_equal(send_raw(f, load(f, "unksm2.dat"), NOW), 400);
	/* regaut01 (unknown auth scheme) with auth off: processed normally (a query). */
	assert_int_equal(send_raw(f, load(f, "regaut01.dat"), NOW), 200);
	assert_int_equal(sip_location_count(f->loc, SIP_STR_NULL, NOW), 2);
}

/* ---- step 3-5: digest authentication and authorization ---- */

/* Answers the 401 in f->resp as user/password: returns the Authorization line. */
static struct sip_digest_challenge saved_ch[4];
static size_t saved_n;
static char saved_out[65536]; /* the 401 the saved challenges point into */
static struct sip_msg saved_msg;

/* Answers the last challenge seen (the client counts nc on its nonce). */
static const char *answer(struct fx *f, const char *user, const char *pw, struct sip_auth_client *cl)
{
	static char line[2048];
	struct sip_digest_challenge *ch = saved_ch;
	size_t n = 0;
	if (f->res.status != 401) {
		n = saved_n;
		goto have;
	}
	struct sip_parse_err err;
	memcpy(saved_out, f->out, f->res.len);
	assert_true(sip_msg_parse(&saved_msg, saved_out, f->res.len, SIP_PARSE_STREAM, &err) > 0);
	for (int i = 0; i < 4 && hdr(f, "WWW-Authenticate", i)[0]; i++) {
		struct sip_auth a;
		uint16_t idx = 0;
		int seen = 0;
		for (uint16_t k = 0; k < saved_msg.nhdrs; k++)
			if (saved_msg.hdrs[k].id == SIP_HDR_WWW_AUTHENTICATE && seen++ == i)
				idx = k;
		assert_int_equal(sip_auth_parse(&a, saved_msg.hdrs[idx].value, NULL), 0);
		assert_int_equal(sip_digest_challenge_from_auth(&ch[n], &a), 0);
		n++;
	}
	saved_n = n;
have:
	assert_true(n > 0);
	int pick = sip_auth_client_pick(cl, ch, n);
	assert_true(pick >= 0);
	char val[1800];
	int len = sip_auth_client_answer(cl, &ch[pick], sip_str_c(user), sip_str_c(pw), SIP_STR("REGISTER"),
					 SIP_STR("sip:example.com"), val, sizeof val);
	assert_true(len > 0);
	snprintf(line, sizeof line, "Authorization: %s\r\n", val);
	return line;
}

static int reg_auth(struct fx *f, const char *to, const char *call_id, unsigned cseq, const char *auth,
		    const char *contact, int64_t now)
{
	char extra[4096];
	snprintf(extra, sizeof extra, "%s%s", auth ? auth : "", contact ? contact : "");
	return reg_as(f, to, call_id, cseq, extra, now);
}

static void test_auth(void **state)
{
	struct fx *f = *state;
	f->cfg.require_auth = true;
	start(f);
	struct sip_auth_client cl;
	sip_auth_client_init(&cl);
	const char *ct = "Contact: <sip:alice@192.0.2.1>\r\n";
	/* No credentials: 401 with one challenge per algorithm (SHA-256, MD5), nothing stored. */
	assert_int_equal(reg_auth(f, "alice", "a1", 1, NULL, ct, NOW), 401);
	assert_int_equal(nhdr(f, "WWW-Authenticate"), 2);
	assert_non_null(strstr(hdr(f, "WWW-Authenticate", 0), "realm=\"example.com\""));
	assert_non_null(strstr(hdr(f, "WWW-Authenticate", 0), "algorithm=SHA-256"));
	assert_null(strstr(hdr(f, "WWW-Authenticate", 0), "stale"));
	assert_int_equal(count(f, ALICE, NOW), 0);
	/* The right password: 200. */
	char auth[2048];
	snprintf(auth, sizeof auth, "%s", answer(f, "alice", "secret", &cl));
	assert_int_equal(reg_auth(f, "alice", "a1", 2, auth, ct, NOW + 1), 200);
	assert_int_equal(count(f, ALICE, NOW + 1), 1);
	/* Wrong password and unknown user: the same 401 (fresh challenge, nothing stored). */
	assert_int_equal(reg_auth(f, "alice", "a1", 3, NULL, ct, NOW + 2), 401);
	snprintf(auth, sizeof auth, "%s", answer(f, "alice", "wrong", &cl));
	assert_int_equal(reg_auth(f, "alice", "a1", 4, auth, "Contact: <sip:x@192.0.2.1>\r\n", NOW + 2), 401);
	size_t len_wrong = f->res.len;
	int nch_wrong = nhdr(f, "WWW-Authenticate");
	assert_null(strstr(hdr(f, "WWW-Authenticate", 0), "stale"));
	struct sip_auth_client cl2;
	sip_auth_client_init(&cl2);
	snprintf(auth, sizeof auth, "%s", answer(f, "mallory", "wrong", &cl2));
	assert_int_equal(reg_auth(f, "mallory", "a1", 4, auth, "Contact: <sip:x@192.0.2.1>\r\n", NOW + 2),
			 401);
	/* Same length once the To/From user length difference is accounted for. */
	assert_int_equal(f->res.len - 2 * (strlen("mallory") - strlen("alice")), len_wrong);
	assert_int_equal(nhdr(f, "WWW-Authenticate"), nch_wrong);
	assert_int_equal(count(f, ALICE, NOW + 2), 1);
	assert_int_equal(count(f, "sip:mallory@example.com", NOW + 2), 0);
	/* Stale nonce (older than its 300 s lifetime) with a right digest: stale=true. */
	assert_int_equal(reg_auth(f, "alice", "a1", 5, NULL, ct, NOW + 10), 401);
	snprintf(auth, sizeof auth, "%s", answer(f, "alice", "secret", &cl));
	assert_int_equal(reg_auth(f, "alice", "a1", 6, auth, ct, NOW + 10 + 400), 401);
	assert_non_null(strstr(hdr(f, "WWW-Authenticate", 0), "stale=true"));
	/* Answering the fresh challenge works. */
	snprintf(auth, sizeof auth, "%s", answer(f, "alice", "secret", &cl));
	assert_int_equal(reg_auth(f, "alice", "a1", 7, auth, ct, NOW + 411), 200);
	/* Malformed credentials: 400. Another scheme (RFC 4475 regaut01): a challenge. */
	assert_int_equal(reg_auth(f, "alice", "a1", 8,
				  "Authorization: Digest username=\"alice\", realm=\"example.com\"\r\n", ct,
				  NOW + 412),
			 400);
	assert_int_equal(reg_auth(f, "alice", "a1", 9, "Authorization: Digest ,,,=\r\n", ct, NOW + 412), 400);
	assert_int_equal(send_raw(f, load(f, "regaut01.dat"), NOW + 412), 401);
	assert_int_equal(nhdr(f, "WWW-Authenticate"), 2);
}

static void test_auth_authz(void **state)
{
	struct fx *f = *state;
	f->cfg.require_auth = true;
	start(f);
	struct sip_auth_client cl;
	sip_auth_client_init(&cl);
	/* alice authenticates but registers bob: 403, nothing stored. */
	assert_int_equal(reg_auth(f, "bob", "z1", 1, NULL, "Contact: <sip:x@192.0.2.1>\r\n", NOW), 401);
	char auth[2048];
	snprintf(auth, sizeof auth, "%s", answer(f, "alice", "secret", &cl));
	assert_int_equal(reg_auth(f, "bob", "z1", 2, auth, "Contact: <sip:x@192.0.2.1>\r\n", NOW), 403);
	assert_int_equal(count(f, "sip:bob@example.com", NOW), 0);
	/* Non-SIP To after authentication: 400. */
	snprintf(auth, sizeof auth, "%s", answer(f, "alice", "secret", &cl));
	int n = snprintf(f->req, sizeof f->req,
			 "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK9\r\n"
			 "From: <sip:alice@example.com>;tag=1\r\nTo: <tel:+15551234>\r\nCall-ID: z2\r\n"
			 "CSeq: 1 REGISTER\r\n%sContact: <sip:a@192.0.2.1>\r\nContent-Length: 0\r\n\r\n",
			 auth);
	assert_int_equal(send_raw(f, (size_t)n, NOW), 400);
	/* Third-party registration (From differs from To) is fine when authorized. */
	snprintf(auth, sizeof auth, "%s", answer(f, "alice", "secret", &cl));
	n = snprintf(
	    f->req, sizeof f->req,
	    "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK10\r\n"
	    "From: <sip:secretary@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\nCall-ID: z3\r\n"
	    "CSeq: 1 REGISTER\r\n%sContact: <sip:alice@192.0.2.7>\r\nContent-Length: 0\r\n\r\n",
	    auth);
	assert_int_equal(send_raw(f, (size_t)n, NOW), 200);
	assert_int_equal(count(f, ALICE, NOW), 1);
}

static bool allow_all(void *ud, struct sip_str user, struct sip_str realm, struct sip_str aor)
{
	(void)ud;
	(void)user;
	(void)realm;
	(void)aor;
	return true;
}

/* With a custom authorize callback, a registration of another AOR needs the AOR to exist (404). */
static void test_auth_callback(void **state)
{
	struct fx *f = *state;
	f->cfg.require_auth = true;
	f->cfg.authorize = allow_all;
	start(f);
	struct sip_auth_client cl;
	sip_auth_client_init(&cl);
	assert_int_equal(reg_auth(f, "bob", "w1", 1, NULL, "Contact: <sip:x@192.0.2.1>\r\n", NOW), 401);
	char auth[2048];
	snprintf(auth, sizeof auth, "%s", answer(f, "alice", "secret", &cl));
	assert_int_equal(reg_auth(f, "bob", "w1", 2, auth, "Contact: <sip:x@192.0.2.1>\r\n", NOW), 200);
	assert_int_equal(count(f, "sip:bob@example.com", NOW), 1);
	snprintf(auth, sizeof auth, "%s", answer(f, "alice", "secret", &cl));
	assert_int_equal(reg_auth(f, "carol", "w1", 3, auth, "Contact: <sip:x@192.0.2.1>\r\n", NOW), 404);
	assert_int_equal(count(f, "sip:carol@example.com", NOW), 0);
}

/* The guard against password guessing (cfg.auth_failures): three failures
 * from one address — a wrong password or an unknown user alike — and its
 * next credentials get 403 unchecked, the right password too; it is still
 * challenged, other addresses are not affected, a stale nonce is no
 * failure, and a minute later (one token back) the right password works. */
static void test_auth_guard(void **state)
{
	struct fx *f = *state;
	struct sip_ratelimit_config gc = {.rate = 1, .burst = 3, .period_ms = 60000, .seed = 11};
	assert_int_equal(sip_ratelimit_new(&f->cfg.auth_failures, &gc), 0);
	f->cfg.require_auth = true;
	start(f);
	struct sockaddr_in guesser = {.sin_family = AF_INET, .sin_port = htons(5060)}, other = guesser;
	inet_pton(AF_INET, "203.0.113.9", &guesser.sin_addr);
	inet_pton(AF_INET, "198.51.100.1", &other.sin_addr);
	src_sockaddr = &guesser;
	struct sip_auth_client cl;
	sip_auth_client_init(&cl);
	const char *ct = "Contact: <sip:alice@192.0.2.1>\r\n";
	char auth[2048];
	/* A stale nonce with the right password is not a failure (were it one,
	 * the third guess below would already get 403). */
	assert_int_equal(reg_auth(f, "alice", "g1", 1, NULL, ct, NOW), 401);
	snprintf(auth, sizeof auth, "%s", answer(f, "alice", "secret", &cl));
	assert_int_equal(reg_auth(f, "alice", "g1", 2, auth, ct, NOW + 400), 401);
	assert_non_null(strstr(hdr(f, "WWW-Authenticate", 0), "stale=true"));
	const char *guesses[][2] = {{"alice", "guess1"}, {"nobody", "guess2"}, {"alice", "guess3"}};
	for (unsigned i = 0; i < 3; i++) {
		struct sip_auth_client c;
		sip_auth_client_init(&c);
		snprintf(auth, sizeof auth, "%s", answer(f, guesses[i][0], guesses[i][1], &c));
		assert_int_equal(reg_auth(f, guesses[i][0], "g1", 10 + i, auth, ct, NOW + 401), 401);
		assert_false(f->res.guard_tripped);
	}
	/* Out of failures: the right password is refused, unchecked. */
	snprintf(auth, sizeof auth, "%s", answer(f, "alice", "secret", &cl));
	assert_int_equal(reg_auth(f, "alice", "g1", 20, auth, ct, NOW + 402), 403);
	assert_true(f->res.guard_tripped); /* the first refusal: log it */
	assert_non_null(strstr(f->out, "SIP/2.0 403 Too Many Failed Authentications\r\n"));
	assert_int_equal(reg_auth(f, "alice", "g1", 21, auth, ct, NOW + 403), 403);
	assert_false(f->res.guard_tripped); /* the same run */
	assert_int_equal(count(f, ALICE, NOW + 403), 0);
	/* No credentials: still the challenge (no hint of the block in it). */
	assert_int_equal(reg_auth(f, "alice", "g1", 22, NULL, ct, NOW + 404), 401);
	/* Another address is not held back. */
	src_sockaddr = &other;
	snprintf(auth, sizeof auth, "%s", answer(f, "alice", "secret", &cl));
	assert_int_equal(reg_auth(f, "alice", "g1", 23, auth, ct, NOW + 404), 200);
	/* A minute after the last failure one token is back. */
	src_sockaddr = &guesser;
	assert_int_equal(reg_auth(f, "alice", "g1", 24, NULL, ct, NOW + 461), 401);
	snprintf(auth, sizeof auth, "%s", answer(f, "alice", "secret", &cl));
	assert_int_equal(reg_auth(f, "alice", "g1", 25, auth, ct, NOW + 461), 200);
	src_sockaddr = NULL;
	sip_registrar_free(f->reg);
	f->reg = NULL;
	sip_ratelimit_free(f->cfg.auth_failures);
}

/* ---- canonical AOR ---- */
static void test_aor(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} v[] = {
	    {"sip:alice@EXAMPLE.com", "sip:alice@example.com"},
	    {"sip:Alice@example.com:5070;user=phone;transport=tcp?subject=x", "sip:Alice@example.com"},
	    {"SIPS:%61lice@Example.COM", "sips:alice@example.com"},
	    {"sip:bob:pw@[2001:DB8::1]", "sip:bob@[2001:db8::1]"},
	    {"sip:example.com", "sip:example.com"},
	};
	char out[256];
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		struct sip_uri u;
		assert_int_equal(sip_uri_parse(&u, v[i].in, strlen(v[i].in), NULL), 0);
		int n = sip_registrar_aor(&u, out, sizeof out);
		assert_int_equal(n, (int)strlen(v[i].out));
		assert_memory_equal(out, v[i].out, (size_t)n);
	}
	struct sip_uri u;
	assert_int_equal(sip_uri_parse(&u, "tel:+1555", 9, NULL), 0);
	assert_int_equal(sip_registrar_aor(&u, out, sizeof out), SIP_EUNSUPPORTED);
	assert_int_equal(sip_uri_parse(&u, "sip:alice@example.com", 21, NULL), 0);
	assert_int_equal(sip_registrar_aor(&u, out, 10), SIP_ETOOBIG);
	assert_true(sip_registrar_uri_eq(NULL, SIP_STR("sip:a@EXAMPLE.com;transport=tcp"),
					 SIP_STR("sip:a@example.com;Transport=TCP")));
	assert_false(sip_registrar_uri_eq(NULL, SIP_STR("sip:a@example.com"), SIP_STR("sip:A@example.com")));
}

/* ---- batching: many REGISTERs, one commit, then their 200s ---- */
static void test_batch(void **state)
{
	struct fx *f = *state;
	start(f);
	assert_int_equal(sip_location_begin(f->loc), 0);
	assert_int_equal(reg(f, "bt1", 1, "Contact: <sip:a@192.0.2.1>\r\n", NOW), 200);
	assert_true(f->res.wrote);
	assert_int_equal(reg_as(f, "bob", "bt2", 1, "Contact: <sip:b@192.0.2.1>\r\n", NOW), 200);
	assert_true(f->res.wrote);
	assert_true(f->loc->in_batch); /* the registrar did not commit the caller's batch */
	if (f->kind == SQLITE) {
		/* Another connection does not see the batch before the commit. */
		struct sip_location *other;
		assert_int_equal(sip_location_open_sqlite(&other, f->path, NULL), 0);
		assert_int_equal(sip_location_count(other, SIP_STR_NULL, NOW), 0);
		assert_int_equal(sip_location_commit(f->loc), 0);
		assert_int_equal(sip_location_count(other, SIP_STR_NULL, NOW), 2);
		sip_location_close(other);
	} else {
		assert_int_equal(sip_location_commit(f->loc), 0);
	}
	assert_int_equal(sip_location_count(f->loc, SIP_STR_NULL, NOW), 2);
	/* A query writes nothing: its 200 need not wait. */
	assert_int_equal(sip_location_begin(f->loc), 0);
	assert_int_equal(reg(f, "bt3", 1, NULL, NOW), 200);
	assert_false(f->res.wrote);
	assert_int_equal(sip_location_commit(f->loc), 0);
	/* A rolled back batch (SQLite) loses its writes: the server answers 500 instead. */
	if (f->kind == SQLITE) {
		assert_int_equal(sip_location_begin(f->loc), 0);
		assert_int_equal(reg(f, "bt4", 1, "Contact: <sip:c@192.0.2.1>\r\n", NOW), 200);
		assert_int_equal(sip_location_rollback(f->loc), 0);
		int n = sip_registrar_error(f->reg, &f->m, 500, NOW, f->out, sizeof f->out);
		assert_true(n > 0);
		assert_memory_equal(f->out, "SIP/2.0 500 ", 12);
		assert_int_equal(count(f, ALICE, NOW), 1);
	}
}

/* Every allocation of a REGISTER that removes, updates and adds bindings is
 * failed in turn: the answer is then 500 and the store holds exactly the old
 * bindings (§10.3 step 7: all or nothing), or it is 200 and holds the new. */
static void test_atomic_enomem(void **state)
{
	struct fx *f = *state;
	start(f);
	const char *old_req = "Contact: <sip:a@192.0.2.1>, <sip:b@192.0.2.2>;expires=500\r\n";
	const char *new_req =
	    "Contact: <sip:a@192.0.2.1>;expires=0, <sip:b@192.0.2.2>;expires=900, <sip:c@192.0.2.3>\r\n";
	unsigned cseq = 1;
	bool done = false;
	for (long k = 0; k < 400 && !done; k++) {
		assert_int_equal(reg(f, "at", cseq++, "Expires: 0\r\nContact: *\r\n", NOW), 200);
		assert_int_equal(reg(f, "at", cseq++, old_req, NOW), 200);
		fail_at = k;
		int st = reg(f, "at", cseq++, new_req, NOW);
		fail_at = -1;
		struct sip_binding_list l;
		size_t n = stored(f, ALICE, &l, NOW);
		if (st == 200) {
			assert_int_equal(n, 2);
			for (size_t i = 0; i < n; i++) {
				assert_false(sip_str_eq(l.v[i].contact_uri, SIP_STR("sip:a@192.0.2.1")));
				if (sip_str_eq(l.v[i].contact_uri, SIP_STR("sip:b@192.0.2.2")))
					assert_int_equal(l.v[i].expires, NOW + 900);
			}
			done = true;
		} else {
			assert_int_equal(st, 500);
			assert_int_equal(n, 2);
			for (size_t i = 0; i < n; i++) {
				assert_false(sip_str_eq(l.v[i].contact_uri, SIP_STR("sip:c@192.0.2.3")));
				if (sip_str_eq(l.v[i].contact_uri, SIP_STR("sip:b@192.0.2.2")))
					assert_int_equal(l.v[i].expires, NOW + 500);
			}
		}
		sip_binding_list_free(&l);
	}
	assert_true(done);
}

#define BOTH(t)                                                                                              \
	cmocka_unit_test_prestate_setup_teardown(t, setup, teardown, &fx_mem),                               \
	    cmocka_unit_test_prestate_setup_teardown(t, setup, teardown, &fx_sql)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    BOTH(test_domain),
	    BOTH(test_require),
	    BOTH(test_basic_200),
	    BOTH(test_expires),
	    BOTH(test_expires_config),
	    BOTH(test_unregister),
	    BOTH(test_cseq),
	    BOTH(test_q_path),
	    BOTH(test_outbound),
	    BOTH(test_nat_rewrite),
	    BOTH(test_nat_rewrite_sockaddr),
	    BOTH(test_query),
	    BOTH(test_bad_input),
	    BOTH(test_too_many_contacts),
	    BOTH(test_conflicting_contacts),
	    BOTH(test_binding_cap),
	    BOTH(test_rfc4475),
	    BOTH(test_auth),
	    BOTH(test_auth_authz),
	    BOTH(test_auth_callback),
	    BOTH(test_auth_guard),
	    BOTH(test_aor),
	    BOTH(test_batch),
	    BOTH(test_atomic_enomem),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
