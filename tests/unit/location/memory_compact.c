/* The memory location backend's packed storage: every field survives the
 * round trip whatever its length and shape (contact URI inside the Contact
 * value or not), records grow, shrink and move inside one AOR without
 * disturbing their neighbours, the table grows, everything is freed (counted
 * allocator, and ASan in CI), allocation failures leave the store as it was,
 * the RFC 5626 match rule holds with several records, the shared wrapper
 * still works, and a SIPp-like binding stays small. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sip/location.h>
#include "sip_test.h"

#include "loc_test.h"

static int setup(void **state)
{
	live = 0;
	live_bytes = 0;
	fail_after = -1;
	sip_mem_set(&loc_cnt_mem);
	struct sip_location *loc;
	assert_int_equal(sip_location_open_memory(&loc, NULL), 0);
	*state = loc;
	return 0;
}

static int teardown(void **state)
{
	fail_after = -1;
	sip_location_close(*state);
	sip_mem_set(NULL);
	assert_int_equal(live, 0);
	assert_int_equal(live_bytes, 0);
	return 0;
}

/* ---- generated bindings: every field a function of (user, device, version) ---- */

#define GEN_FIELD 512
struct gen {
	char aor[64], uri[96], contact[GEN_FIELD], call_id[GEN_FIELD], path[GEN_FIELD], instance[96],
		received[96], ua[GEN_FIELD];
	struct sip_binding b;
};

/* A string of len bytes starting with tag (varied lengths exercise the packing). */
static struct sip_str fill(char *buf, size_t cap, size_t len, const char *tag)
{
	if (len >= cap)
		len = cap - 1;
	memset(buf, 'a' + (int)(len % 26), len);
	size_t t = strlen(tag);
	memcpy(buf, tag, t < len ? t : len);
	buf[len] = 0;
	return (struct sip_str){buf, len};
}

/* Device d of user u at version v (versions share the contact URI: a
 * later one is a refresh of an earlier one). Contact shapes rotate: equal to the URI,
 * "<uri>;params", "name <uri>", and a value that does not hold the URI. */
static void gen(struct gen *g, int u, int d, int v, int64_t expires)
{
	memset(&g->b, 0, sizeof g->b);
	snprintf(g->aor, sizeof g->aor, "sip:user%d@example.com", u);
	int nu = snprintf(g->uri, sizeof g->uri, "sip:user%d@10.%d.%d.1:5060", u, d, u % 200);
	g->b.aor = sip_str_c(g->aor);
	g->b.contact_uri = (struct sip_str){g->uri, (size_t)nu};
	int n = 0;
	switch ((u + d) % 4) {
	case 0:
		n = snprintf(g->contact, sizeof g->contact, "%s", g->uri);
		break;
	case 1:
		n = snprintf(g->contact, sizeof g->contact, "<%s>;expires=%d", g->uri, 60 + v);
		break;
	case 2:
		n = snprintf(g->contact, sizeof g->contact, "\"Device %d\" <%s>;+sip.instance=\"<urn:x>\"", d,
			     g->uri);
		break;
	default:
		n = snprintf(g->contact, sizeof g->contact, "<sip:alias%d@proxy.example.com>", d);
		break;
	}
	g->b.contact = (struct sip_str){g->contact, (size_t)n};
	char tag[64];
	snprintf(tag, sizeof tag, "%d-%d-%d@", u, d, v);
	g->b.call_id = fill(g->call_id, sizeof g->call_id, 5 + (size_t)((u * 37 + d * 11 + v * 101) % 300), tag);
	g->b.path = (d + v) % 2 ? fill(g->path, sizeof g->path, (size_t)((d * 53 + v * 7) % 200), "<sip:p")
				: (struct sip_str){NULL, 0};
	g->b.instance = d % 3 == 1 ? fill(g->instance, sizeof g->instance, 20 + (size_t)d, "\"<urn:uuid:")
				   : (struct sip_str){NULL, 0};
	g->b.received = v % 2 ? fill(g->received, sizeof g->received, 19, "sip:192.0.2.9:4")
			      : (struct sip_str){NULL, 0};
	g->b.user_agent = fill(g->ua, sizeof g->ua, (size_t)((u + d * 29 + v * 61) % 250), "UA/");
	g->b.q = (d * 100 + v) % 1001;
	g->b.reg_id = 0;
	g->b.expires = expires;
	g->b.cseq = (uint32_t)(v + 1);
}

static void assert_same(const struct sip_binding *got, const struct sip_binding *want, int64_t updated)
{
	assert_true(sip_str_eq(got->aor, want->aor));
	assert_true(sip_str_eq(got->contact_uri, want->contact_uri));
	assert_true(sip_str_eq(got->contact, want->contact));
	assert_true(sip_str_eq(got->call_id, want->call_id));
	assert_true(sip_str_eq(got->path, want->path));
	assert_true(sip_str_eq(got->instance, want->instance));
	assert_true(sip_str_eq(got->received, want->received));
	assert_true(sip_str_eq(got->user_agent, want->user_agent));
	assert_int_equal(got->q, want->q);
	assert_int_equal(got->expires, want->expires);
	assert_int_equal(got->cseq, want->cseq);
	assert_int_equal(got->reg_id, want->reg_id);
	assert_int_equal(got->updated, updated);
	/* Empty slices still point somewhere (callers may print them). */
	assert_non_null(got->path.p);
	assert_non_null(got->user_agent.p);
}

/* The binding of the list whose contact URI is uri, or fails. */
static const struct sip_binding *find(const struct sip_binding_list *l, struct sip_str uri)
{
	for (size_t i = 0; i < l->n; i++)
		if (sip_str_eq(l->v[i].contact_uri, uri))
			return &l->v[i];
	fail_msg("no binding for %.*s", SIP_STR_ARG(uri));
	return NULL;
}

/* ---- tests ---- */

/* Each contact shape, including ones where the URI is almost but not
 * quite inside the Contact value, round-trips exactly. */
static void test_contact_shapes(void **state)
{
	struct sip_location *loc = *state;
	static const struct {
		const char *uri, *contact;
	} rows[] = {
		{"sip:a@h", "sip:a@h"},
		{"sip:a@h", "<sip:a@h>"},
		{"sip:a@h", "\"A <b>\" <sip:a@h>;q=0.1"}, /* first '<' is in the display name */
		{"sip:a@h", "<sip:a@h"},                 /* URI runs to the end */
		{"sip:a@h", "<sip:a@"},                  /* contact shorter than the URI after '<' */
		{"sip:a@h", "sip:a@"},
		{"sip:a@h", ""},
		{"sip:a@h", "<"},
		{"sip:a@h", "x <sip:b@h>"},
		{"sip:a@h;transport=tcp", "sip:a@h;transport=tcp;x"},
		{"sip:b@h", "sip:a@h <sip:b@h>"},
	};
	char aor[32];
	for (size_t i = 0; i < N(rows); i++) {
		snprintf(aor, sizeof aor, "sip:shape%zu@example.com", i);
		struct sip_binding b = {
			.aor = sip_str_c(aor),
			.contact_uri = sip_str_c(rows[i].uri),
			.contact = sip_str_c(rows[i].contact),
			.q = (int32_t)i,
			.expires = 500,
			.call_id = SIP_STR("cid"),
			.cseq = 9 + (uint32_t)i, /* same Call-ID: each refresh needs a higher CSeq */
			.user_agent = SIP_STR("ua"),
		};
		assert_int_equal(sip_location_upsert(loc, &b, 100), 0);
		/* The same binding again in one shared AOR, to mix shapes in one node. */
		b.aor = SIP_STR("sip:mixed@example.com");
		assert_int_equal(sip_location_upsert(loc, &b, 100), 0);
	}
	for (size_t i = 0; i < N(rows); i++) {
		snprintf(aor, sizeof aor, "sip:shape%zu@example.com", i);
		struct sip_binding_list l;
		assert_int_equal(sip_location_lookup(loc, sip_str_c(aor), 100, &l), 0);
		assert_int_equal(l.n, 1);
		slice_is(l.v[0].contact_uri, rows[i].uri, "contact_uri", i);
		slice_is(l.v[0].contact, rows[i].contact, "contact", i);
		slice_is(l.v[0].aor, aor, "aor", i);
		slice_is(l.v[0].call_id, "cid", "call_id", i);
		slice_is(l.v[0].user_agent, "ua", "user_agent", i);
		slice_is(l.v[0].path, "", "path", i);
		assert_int_equal(l.v[0].q, (int)i);
		sip_binding_list_free(&l);
	}
	/* Rows with the same URI replaced each other in the shared AOR: the
	 * last one of each URI is what remains. */
	struct sip_binding_list l;
	assert_int_equal(sip_location_lookup(loc, SIP_STR("sip:mixed@example.com"), 100, &l), 0);
	assert_int_equal(l.n, 3);
	slice_is(find(&l, SIP_STR("sip:a@h"))->contact, "x <sip:b@h>", "mixed a", 0);
	slice_is(find(&l, SIP_STR("sip:a@h;transport=tcp"))->contact, "sip:a@h;transport=tcp;x", "mixed tcp", 0);
	slice_is(find(&l, SIP_STR("sip:b@h"))->contact, "sip:a@h <sip:b@h>", "mixed b", 0);
	sip_binding_list_free(&l);
}

/* 64 records of varied sizes in one AOR; refreshes that grow and shrink
 * records in the middle, removals at the front, middle and back, expiry and
 * purge: every survivor keeps every field. */
static void test_multi_binding_grow_shrink(void **state)
{
	struct sip_location *loc = *state;
	enum { D = SIP_LOCATION_MAX_BINDINGS };
	static struct gen g;
	int ver[D];
	int64_t upd[D];
	bool gone[D] = {false};
	for (int d = 0; d < D; d++) {
		gen(&g, 7, d, 0, 10000 + d);
		assert_int_equal(sip_location_upsert(loc, &g.b, 100), 0);
		ver[d] = 0;
		upd[d] = 100;
	}
	/* Past the cap. */
	gen(&g, 7, D, 0, 10000);
	assert_int_equal(sip_location_upsert(loc, &g.b, 100), SIP_ETOOBIG);
	assert_int_equal(sip_location_count(loc, g.b.aor, 100), D);

	/* Refresh a third of them with new versions (new lengths: some grow,
	 * some shrink), at a later time. */
	for (int d = 0; d < D; d += 3) {
		for (int v = 1; v <= 2; v++) {
			gen(&g, 7, d, v, 10000 + d);
			assert_int_equal(sip_location_upsert(loc, &g.b, 100 + v), 0);
			ver[d] = v;
			upd[d] = 100 + v;
		}
	}
	/* Remove the first, one in the middle and the last. */
	int rm[] = {0, 31, D - 1};
	for (size_t k = 0; k < N(rm); k++) {
		gen(&g, 7, rm[k], ver[rm[k]], 0);
		assert_int_equal(sip_location_remove(loc, g.b.aor, g.b.contact_uri), 0);
		assert_int_equal(sip_location_remove(loc, g.b.aor, g.b.contact_uri), SIP_ENOTFOUND);
		gone[rm[k]] = true;
	}
	/* An upsert with expires <= now removes one too. */
	gen(&g, 7, 10, ver[10], 50);
	g.b.cseq = 99;
	assert_int_equal(sip_location_upsert(loc, &g.b, 103), 0);
	gone[10] = true;

	int live_n = 0;
	for (int d = 0; d < D; d++)
		live_n += !gone[d];
	struct sip_binding_list l;
	assert_int_equal(sip_location_lookup(loc, SIP_STR("sip:user7@example.com"), 103, &l), 0);
	assert_int_equal(l.n, (size_t)live_n);
	for (int d = 0; d < D; d++) {
		if (gone[d])
			continue;
		gen(&g, 7, d, ver[d], 10000 + d);
		assert_same(find(&l, g.b.contact_uri), &g.b, upd[d]);
	}
	/* Sorted by q, highest first. */
	for (size_t i = 1; i < l.n; i++)
		assert_true(l.v[i - 1].q >= l.v[i].q);
	sip_binding_list_free(&l);

	/* Binding d expires at 10000+d: at 10019 purge drops the live ones of 0..19. */
	int expect = 0;
	for (int d = 0; d < 20; d++)
		expect += !gone[d];
	assert_int_equal(sip_location_count(loc, SIP_STR("sip:user7@example.com"), 10019), live_n - expect);
	assert_int_equal(sip_location_purge(loc, 10019), expect);
	assert_int_equal(sip_location_purge(loc, 10019), 0);
	for (int d = 0; d < 20; d++)
		gone[d] = true;
	assert_int_equal(sip_location_lookup(loc, SIP_STR("sip:user7@example.com"), 10019, &l), 0);
	assert_int_equal(l.n, (size_t)(live_n - expect));
	for (int d = 20; d < D; d++) {
		if (gone[d])
			continue;
		gen(&g, 7, d, ver[d], 10000 + d);
		assert_same(find(&l, g.b.contact_uri), &g.b, upd[d]);
	}
	sip_binding_list_free(&l);

	/* Everything expires: the AOR node goes away with the last record. */
	assert_int_equal(sip_location_purge(loc, 20000), live_n - expect);
	assert_int_equal(sip_location_count(loc, SIP_STR_NULL, 0), 0);
}

/* Expired records make room under the cap (as before the packing). */
static void test_cap_counts_live_only(void **state)
{
	struct sip_location *loc = *state;
	static struct gen g;
	for (int d = 0; d < SIP_LOCATION_MAX_BINDINGS; d++) {
		gen(&g, 3, d, 0, d < 2 ? 150 : 5000);
		assert_int_equal(sip_location_upsert(loc, &g.b, 100), 0);
	}
	gen(&g, 3, 100, 0, 5000);
	assert_int_equal(sip_location_upsert(loc, &g.b, 100), SIP_ETOOBIG);
	assert_int_equal(sip_location_upsert(loc, &g.b, 200), 0); /* two expired at 200 */
	assert_int_equal(sip_location_count(loc, g.b.aor, 200), SIP_LOCATION_MAX_BINDINGS - 1);
	gen(&g, 3, 101, 0, 5000);
	assert_int_equal(sip_location_upsert(loc, &g.b, 200), 0);
	gen(&g, 3, 102, 0, 5000);
	assert_int_equal(sip_location_upsert(loc, &g.b, 200), SIP_ETOOBIG);
}

/* Table growth from 64 buckets; removal of half the AORs. */
static void test_many_aors(void **state)
{
	struct sip_location *loc = *state;
	enum { U = 20000 };
	static struct gen g;
	for (int u = 0; u < U; u++) {
		gen(&g, u, u % 5, 0, 9000);
		assert_int_equal(sip_location_upsert(loc, &g.b, 100), 0);
	}
	assert_int_equal(sip_location_count(loc, SIP_STR_NULL, 100), U);
	for (int u = 1; u < U; u += 2) {
		gen(&g, u, 0, 0, 0);
		assert_int_equal(sip_location_remove_aor(loc, g.b.aor), 1);
		assert_int_equal(sip_location_remove_aor(loc, g.b.aor), 0);
	}
	assert_int_equal(sip_location_count(loc, SIP_STR_NULL, 100), U / 2);
	struct sip_binding_list l;
	for (int u = 0; u < U; u++) {
		gen(&g, u, u % 5, 0, 9000);
		assert_int_equal(sip_location_lookup(loc, g.b.aor, 100, &l), 0);
		assert_int_equal(l.n, u % 2 ? 0 : 1);
		if (l.n)
			assert_same(&l.v[0], &g.b, 100);
		sip_binding_list_free(&l);
	}
	/* AORs differing only in their last byte, or as prefixes, stay apart. */
	assert_int_equal(sip_location_count(loc, SIP_STR("sip:user2@example.co"), 100), 0);
	assert_int_equal(sip_location_count(loc, SIP_STR("sip:user2@example.con"), 100), 0);
	assert_int_equal(sip_location_count(loc, SIP_STR("sip:user2@example.com"), 100), 1);
}

/* Fields at SIP_LOCATION_MAX_FIELD round-trip; one byte more is refused
 * and stores nothing. */
static void test_max_fields(void **state)
{
	struct sip_location *loc = *state;
	enum { M = SIP_LOCATION_MAX_FIELD };
	static char aor[M + 1], uri[M + 1], contact[M + 1], cid[M + 1], path[M + 1], inst[M + 1], rcv[M + 1],
		ua[M + 1];
	struct sip_binding b = {
		.aor = fill(aor, sizeof aor, M, "sip:big@"),
		.contact_uri = fill(uri, sizeof uri, M - 2, "sip:u@"),
		.q = 1000,
		.expires = 1000,
		.call_id = fill(cid, sizeof cid, M, "c"),
		.cseq = UINT32_MAX,
		.path = fill(path, sizeof path, M, "<p"),
		.instance = fill(inst, sizeof inst, M, "\"<i"),
		.reg_id = UINT32_MAX,
		.received = fill(rcv, sizeof rcv, M, "r"),
		.user_agent = fill(ua, sizeof ua, M, "u"),
	};
	/* The URI inside "<...>" at the full Contact length. */
	contact[0] = '<';
	memcpy(contact + 1, uri, M - 2);
	contact[M - 1] = '>';
	b.contact = (struct sip_str){contact, M};
	assert_int_equal(sip_location_upsert(loc, &b, 1), 0);
	struct sip_binding_list l;
	assert_int_equal(sip_location_lookup(loc, b.aor, 1, &l), 0);
	assert_int_equal(l.n, 1);
	assert_same(&l.v[0], &b, 1);
	sip_binding_list_free(&l);

	/* A URI of the full length that is not inside the Contact value (and
	 * another flow: the same instance and reg-id would replace the first). */
	b.contact_uri = fill(uri, sizeof uri, M, "sip:v@");
	b.reg_id = UINT32_MAX - 1;
	assert_int_equal(sip_location_upsert(loc, &b, 1), 0);
	assert_int_equal(sip_location_lookup(loc, b.aor, 1, &l), 0);
	assert_int_equal(l.n, 2);
	assert_same(find(&l, b.contact_uri), &b, 1);
	sip_binding_list_free(&l);

	static char over[M + 2];
	struct sip_binding o = b;
	o.aor = SIP_STR("sip:over@example.com");
	const size_t fields[] = {offsetof(struct sip_binding, contact_uri), offsetof(struct sip_binding, contact),
				 offsetof(struct sip_binding, call_id),     offsetof(struct sip_binding, path),
				 offsetof(struct sip_binding, instance),    offsetof(struct sip_binding, received),
				 offsetof(struct sip_binding, user_agent)};
	for (size_t k = 0; k < N(fields); k++) {
		struct sip_binding t = o;
		*(struct sip_str *)((char *)&t + fields[k]) = fill(over, sizeof over, M + 1, "sip:");
		assert_int_equal(sip_location_upsert(loc, &t, 1), SIP_ETOOBIG);
	}
	o.aor = fill(over, sizeof over, M + 1, "sip:");
	assert_int_equal(sip_location_upsert(loc, &o, 1), SIP_ETOOBIG);
	assert_int_equal(sip_location_count(loc, SIP_STR_NULL, 1), 2);
}

/* Removal paths give back every block: after remove, remove_aor and purge
 * the heap holds what an empty store holds (the grown bucket array aside). */
static void test_frees_everything(void **state)
{
	struct sip_location *loc = *state;
	long base = live;
	static struct gen g;
	for (int u = 0; u < 3000; u++)
		for (int d = 0; d < 3; d++) {
			gen(&g, u, d, 0, u % 3 == 2 ? 500 : 5000);
			assert_int_equal(sip_location_upsert(loc, &g.b, 100), 0);
		}
	assert_int_equal(live, base + 3000); /* one block per AOR */
	for (int u = 0; u < 3000; u += 3) {
		for (int d = 0; d < 3; d++) {
			gen(&g, u, d, 0, 0);
			assert_int_equal(sip_location_remove(loc, g.b.aor, g.b.contact_uri), 0);
		}
	}
	for (int u = 1; u < 3000; u += 3) {
		gen(&g, u, 0, 0, 0);
		assert_int_equal(sip_location_remove_aor(loc, g.b.aor), 3);
	}
	assert_int_equal(sip_location_purge(loc, 600), 3000);
	assert_int_equal(live, base);
	assert_int_equal(sip_location_count(loc, SIP_STR_NULL, 0), 0);
}

/* Every allocation of an upsert (new AOR with table growth, append,
 * growing replacement) failing in turn: SIP_ENOMEM and the store exactly
 * as before, or success and the new state. */
static void test_alloc_failure(void **state)
{
	struct sip_location *loc = *state;
	static struct gen g, h;
	/* 64 AORs fill the first table: the next new AOR doubles it. */
	for (int u = 0; u < 64; u++) {
		gen(&g, u, 0, 0, 5000);
		assert_int_equal(sip_location_upsert(loc, &g.b, 100), 0);
	}
	/* prev: the version a replacement overwrites (-1: none); nomem: the
	 * step has to allocate (a shrinking replacement need not). */
	struct {
		int u, d, v, prev;
		bool nomem;
	} steps[] = {
		{1000, 0, 0, -1, true}, /* new AOR: bucket array, node, record */
		{5, 1, 0, -1, true},    /* a second record */
		{5, 0, 3, 0, true},     /* a replacement that grows */
		{5, 0, 1, 3, false},    /* one that shrinks */
	};
	for (size_t s = 0; s < N(steps); s++) {
		gen(&g, steps[s].u, steps[s].d, steps[s].v, 5000);
		int nomem = 0;
		for (long k = 0;; k++) {
			int before = sip_location_count(loc, SIP_STR_NULL, 100);
			fail_after = k;
			int rc = sip_location_upsert(loc, &g.b, 100);
			fail_after = -1;
			if (rc == SIP_ENOMEM) {
				nomem++;
				assert_int_equal(sip_location_count(loc, SIP_STR_NULL, 100), before);
				if (steps[s].prev >= 0) { /* the old version is intact */
					gen(&h, steps[s].u, steps[s].d, steps[s].prev, 5000);
					struct sip_binding_list l;
					assert_int_equal(sip_location_lookup(loc, h.b.aor, 100, &l), 0);
					assert_same(find(&l, h.b.contact_uri), &h.b, 100);
					sip_binding_list_free(&l);
				}
				continue;
			}
			assert_int_equal(rc, 0);
			break;
		}
		assert_int_equal(nomem > 0, steps[s].nomem);
		struct sip_binding_list l;
		assert_int_equal(sip_location_lookup(loc, g.b.aor, 100, &l), 0);
		assert_same(find(&l, g.b.contact_uri), &g.b, 100);
		sip_binding_list_free(&l);
	}
}

/* RFC 5626 with several records: a flow replaces its own record whatever
 * its URI; a flow with a plain binding's URI replaces the plain one; a flow
 * never replaces another flow by URI. CSeq ordering per match. */
static void test_match_rule(void **state)
{
	struct sip_location *loc = *state;
	struct sip_binding b = {
		.aor = SIP_STR("sip:bob@example.com"),
		.q = -1,
		.expires = 5000,
		.call_id = SIP_STR("c1"),
		.cseq = 1,
	};
	struct sip_binding plain = b, flow = b, other = b;
	plain.contact_uri = plain.contact = SIP_STR("sip:bob@10.0.0.1");
	flow.contact_uri = flow.contact = SIP_STR("sip:bob@10.0.0.2");
	flow.instance = SIP_STR("\"<urn:uuid:f>\"");
	flow.reg_id = 1;
	other.contact_uri = other.contact = SIP_STR("sip:bob@10.0.0.3");
	assert_int_equal(sip_location_upsert(loc, &plain, 100), 0);
	assert_int_equal(sip_location_upsert(loc, &flow, 100), 0);
	assert_int_equal(sip_location_upsert(loc, &other, 100), 0);

	/* The flow re-registers from a new NAT address: replaces its record. */
	struct sip_binding moved = flow;
	moved.contact_uri = moved.contact = SIP_STR("sip:bob@198.51.100.7:4000");
	moved.cseq = 2;
	assert_int_equal(sip_location_upsert(loc, &moved, 101), 0);
	assert_int_equal(sip_location_count(loc, b.aor, 101), 3);
	/* Same Call-ID, same CSeq: refused, nothing changes. */
	assert_int_equal(sip_location_upsert(loc, &moved, 102), SIP_ESTATE);

	/* A different flow using the plain binding's URI replaces the plain one. */
	struct sip_binding f2 = plain;
	f2.instance = SIP_STR("\"<urn:uuid:g>\"");
	f2.reg_id = 2;
	f2.cseq = 5;
	assert_int_equal(sip_location_upsert(loc, &f2, 103), 0);
	assert_int_equal(sip_location_count(loc, b.aor, 103), 3);

	/* A third flow with the first flow's URI: added, not a replacement. */
	struct sip_binding f3 = moved;
	f3.instance = SIP_STR("\"<urn:uuid:h>\"");
	f3.reg_id = 1;
	f3.call_id = SIP_STR("c3");
	assert_int_equal(sip_location_upsert(loc, &f3, 104), 0);
	assert_int_equal(sip_location_count(loc, b.aor, 104), 4);

	struct sip_binding_list l;
	assert_int_equal(sip_location_lookup(loc, b.aor, 104, &l), 0);
	assert_int_equal(l.n, 4);
	int flows = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (sip_test_eq(l.v[i].instance, "\"<urn:uuid:f>\"")) {
			slice_is(l.v[i].contact_uri, "sip:bob@198.51.100.7:4000", "moved", i);
			assert_int_equal(l.v[i].cseq, 2);
			assert_int_equal(l.v[i].updated, 101);
			flows++;
		} else if (sip_test_eq(l.v[i].instance, "\"<urn:uuid:g>\"")) {
			slice_is(l.v[i].contact_uri, "sip:bob@10.0.0.1", "f2", i);
			assert_int_equal(l.v[i].reg_id, 2);
			flows++;
		} else if (sip_test_eq(l.v[i].instance, "\"<urn:uuid:h>\"")) {
			slice_is(l.v[i].contact_uri, "sip:bob@198.51.100.7:4000", "f3", i);
			flows++;
		} else {
			slice_is(l.v[i].contact_uri, "sip:bob@10.0.0.3", "other", i);
		}
	}
	assert_int_equal(flows, 3);
	sip_binding_list_free(&l);

	/* Live, the same Call-ID with a lower CSeq is refused; once expired
	 * the record may be re-registered with it. */
	struct sip_binding late = other;
	late.cseq = 0;
	late.expires = 200000;
	assert_int_equal(sip_location_upsert(loc, &late, 104), SIP_ESTATE);
	assert_int_equal(sip_location_upsert(loc, &late, 100000), 0);
	assert_int_equal(sip_location_count(loc, b.aor, 100000), 1);
	assert_int_equal(sip_location_lookup(loc, b.aor, 100000, &l), 0);
	assert_int_equal(l.n, 1);
	slice_is(l.v[0].contact_uri, "sip:bob@10.0.0.3", "late", 0);
	assert_int_equal(l.v[0].cseq, 0);
	sip_binding_list_free(&l);
}

/* The multi-worker wrapper over the packed store (single-threaded here;
 * tests/unit/server/threads_server.c runs it under threads). */
static void test_shared_wrapper(void **state)
{
	struct sip_location *inner = *state;
	*state = NULL; /* the share owns it now */
	struct sip_location_share *sh;
	struct sip_location *h1, *h2;
	assert_int_equal(sip_location_share_new(&sh, inner), 0);
	assert_int_equal(sip_location_share_open(&h1, sh), 0);
	assert_int_equal(sip_location_share_open(&h2, sh), 0);
	static struct gen g;
	assert_int_equal(sip_location_begin(h1), 0);
	for (int d = 0; d < 4; d++) {
		gen(&g, 42, d, 0, 5000);
		assert_int_equal(sip_location_upsert(h1, &g.b, 100), 0);
	}
	assert_int_equal(sip_location_commit(h1), 0);
	struct sip_binding_list l;
	assert_int_equal(sip_location_lookup(h2, g.b.aor, 100, &l), 0);
	assert_int_equal(l.n, 4);
	for (int d = 0; d < 4; d++) {
		gen(&g, 42, d, 0, 5000);
		assert_same(find(&l, g.b.contact_uri), &g.b, 100);
	}
	sip_binding_list_free(&l);
	assert_int_equal(sip_location_remove_aor(h2, g.b.aor), 4);
	assert_int_equal(sip_location_count(h1, SIP_STR_NULL, 100), 0);
	sip_location_close(h1);
	sip_location_close(h2);
	sip_location_share_free(sh);
}

/* A binding shaped like bench/register.sh's SIPp REGISTER costs well under
 * the ~430 bytes of the unpacked layout (bytes requested, bucket array
 * included; glibc adds ~8 per block: see bench/location_mem). */
static void test_bytes_per_binding(void **state)
{
	struct sip_location *loc = *state;
	enum { U = 10000 };
	size_t before = live_bytes;
	char aor[64], contact[64], cid[64];
	for (int i = 0; i < U; i++) {
		int na = snprintf(aor, sizeof aor, "sip:user%d@localhost", i);
		int nc = snprintf(contact, sizeof contact, "<sip:user%d@127.0.0.1:5060>", i);
		int ni = snprintf(cid, sizeof cid, "1-%d@127.0.0.1", 12345 + i);
		struct sip_binding b = {
			.aor = {aor, (size_t)na},
			.contact_uri = {contact + 1, (size_t)nc - 2},
			.contact = {contact, (size_t)nc},
			.q = -1,
			.expires = 4600,
			.call_id = {cid, (size_t)ni},
			.cseq = 1,
		};
		assert_int_equal(sip_location_upsert(loc, &b, 1000), 0);
	}
	size_t per = (live_bytes - before) / U;
	printf("memory backend: %zu bytes requested per SIPp-like binding (%d AORs)\n", per, U);
	assert_true(per <= 160);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_contact_shapes),    T(test_multi_binding_grow_shrink), T(test_cap_counts_live_only),
		T(test_many_aors),         T(test_max_fields),                T(test_frees_everything),
		T(test_alloc_failure),     T(test_match_rule),                T(test_shared_wrapper),
		T(test_bytes_per_binding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
