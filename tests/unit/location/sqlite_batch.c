/* The SQLite store inside a batch, as a REGISTER uses it: a lookup then an
 * upsert of the same AOR (the upsert may reuse the lookup's rows, so every
 * way they can go stale is tried: our own writes, other AORs, a transaction
 * ending, a second connection writing the same file between batches), and
 * the narrow refresh UPDATE leaving every other column as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sip/location.h>
#include "loc_test.h"

#define AOR "sip:alice@example.com"
#define BOB "sip:bob@example.com"
#define NOW 100

struct fixture {
	char dir[64];
	char path[128];
	struct sip_location *loc;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/sipd-sqlb-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/loc.db", f->dir);
	assert_int_equal(sip_location_open_sqlite(&f->loc, f->path, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	sip_location_close(f->loc);
	sip_test_rm_db(f->dir, f->path);
	free(f);
	return 0;
}

static struct sip_binding binding(const char *aor, const char *uri, int64_t expires, const char *call_id,
				  uint32_t cseq)
{
	return (struct sip_binding){
		.aor = sip_str_c(aor),
		.contact_uri = sip_str_c(uri),
		.contact = sip_str_c(uri),
		.q = -1,
		.expires = expires,
		.call_id = sip_str_c(call_id),
		.cseq = cseq,
	};
}

/* What a REGISTER does: lookup (its result discarded here), then upsert. */
static int reg(struct sip_location *loc, const struct sip_binding *b, int64_t now)
{
	struct sip_binding_list l;
	int rc = sip_location_lookup(loc, b->aor, now, &l);
	if (rc)
		return rc;
	sip_binding_list_free(&l);
	return sip_location_upsert(loc, b, now);
}

/* The only live binding of aor, checked for its expires, Call-ID and CSeq. */
static void expect_one(struct sip_location *loc, const char *aor, int64_t expires, const char *call_id,
		       uint32_t cseq)
{
	struct sip_binding_list l;
	assert_int_equal(sip_location_lookup(loc, sip_str_c(aor), NOW, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].expires, expires);
	assert_int_equal(l.v[0].cseq, cseq);
	assert_true(sip_str_eq(l.v[0].call_id, sip_str_c(call_id)));
	sip_binding_list_free(&l);
}

static void test_lookup_then_upsert(void **state)
{
	struct fixture *f = *state;
	struct sip_location *loc = f->loc;
	struct sip_binding b = binding(AOR, "sip:alice@10.0.0.1", 2000, "c1", 1);
	assert_int_equal(sip_location_begin(loc), 0);
	assert_int_equal(reg(loc, &b, NOW), 0); /* insert */
	b.cseq = 2;
	b.expires = 3000;
	assert_int_equal(reg(loc, &b, NOW), 0); /* refresh */
	expect_one(loc, AOR, 3000, "c1", 2);
	/* A replay (same Call-ID and CSeq) after a lookup is refused. */
	assert_int_equal(reg(loc, &b, NOW), SIP_ESTATE);
	/* Lookup, then our own removal, then an upsert with the old CSeq: the
	 * row is gone, so it is inserted again (the lookup's rows are stale). */
	struct sip_binding_list l;
	assert_int_equal(sip_location_lookup(loc, b.aor, NOW, &l), 0);
	sip_binding_list_free(&l);
	assert_int_equal(sip_location_remove(loc, b.aor, b.contact_uri), 0);
	b.expires = 2500;
	assert_int_equal(sip_location_upsert(loc, &b, NOW), 0);
	expect_one(loc, AOR, 2500, "c1", 2);
	/* The same with remove_aor and purge between lookup and upsert. */
	assert_int_equal(sip_location_lookup(loc, b.aor, NOW, &l), 0);
	sip_binding_list_free(&l);
	assert_int_equal(sip_location_remove_aor(loc, b.aor), 1);
	b.expires = 2600;
	assert_int_equal(sip_location_upsert(loc, &b, NOW), 0);
	expect_one(loc, AOR, 2600, "c1", 2);
	assert_int_equal(sip_location_lookup(loc, b.aor, NOW, &l), 0);
	sip_binding_list_free(&l);
	assert_int_equal(sip_location_purge(loc, 3000), 1);
	b.expires = 2700;
	assert_int_equal(sip_location_upsert(loc, &b, NOW), 0);
	expect_one(loc, AOR, 2700, "c1", 2);
	/* A lookup of another AOR does not stand in for this one: the replay is
	 * still seen, and bob's own upsert inserts into bob. */
	struct sip_binding o = binding(BOB, "sip:bob@10.0.0.2", 2000, "c9", 1);
	assert_int_equal(sip_location_lookup(loc, o.aor, NOW, &l), 0);
	sip_binding_list_free(&l);
	assert_int_equal(sip_location_upsert(loc, &b, NOW), SIP_ESTATE);
	assert_int_equal(sip_location_upsert(loc, &o, NOW), 0);
	/* Lookup of alice, a write to bob, then alice's upsert. */
	assert_int_equal(sip_location_lookup(loc, b.aor, NOW, &l), 0);
	sip_binding_list_free(&l);
	o.cseq = 2;
	assert_int_equal(sip_location_upsert(loc, &o, NOW), 0);
	b.cseq = 3;
	b.expires = 2800;
	assert_int_equal(sip_location_upsert(loc, &b, NOW), 0);
	/* A second contact of alice joins the first. */
	struct sip_binding b2 = binding(AOR, "sip:alice@10.0.0.9", 2900, "c2", 1);
	assert_int_equal(reg(loc, &b2, NOW), 0);
	assert_int_equal(sip_location_count(loc, b.aor, NOW), 2);
	/* An expiring upsert (expires <= now) after a lookup deletes the row. */
	b2.cseq = 2;
	b2.expires = NOW;
	assert_int_equal(reg(loc, &b2, NOW), 0);
	assert_int_equal(sip_location_commit(loc), 0);
	expect_one(loc, AOR, 2800, "c1", 3);
	expect_one(loc, BOB, 2000, "c9", 2);
}

/* The lookup's rows never outlive the transaction they were read in: a
 * lookup, then the batch ends (commit or rollback), a second connection
 * writes the AOR, and the next batch's upsert (no lookup of its own) must
 * see that write. */
/* Dirties the stack below the caller, so a local the store forgets to set
 * holds garbage rather than a lucky 0. */
static __attribute__((noinline)) void poison_stack(void)
{
	volatile unsigned char junk[4096];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)(0xA5 ^ i);
}

/* Upserts served from the lookup's rows that write no existing row: a new
 * binding (insert) and the removal of a binding that is not there. Both
 * succeed (an uninitialized result here once turned 200s into 500s). */
static void test_cached_insert_and_absent_remove(void **state)
{
	struct fixture *f = *state;
	struct sip_location *loc = f->loc;
	char aor[64];
	assert_int_equal(sip_location_begin(loc), 0);
	for (int i = 0; i < 50; i++) {
		snprintf(aor, sizeof aor, "sip:user%d@example.com", i);
		struct sip_binding b = binding(aor, "sip:u@10.0.0.9", 2000, "c-new", 1);
		poison_stack();
		assert_int_equal(reg(loc, &b, NOW), 0);
		struct sip_binding gone = binding(aor, "sip:other@10.0.0.8", NOW, "c-gone", 1);
		poison_stack();
		assert_int_equal(reg(loc, &gone, NOW), 0);
	}
	assert_int_equal(sip_location_commit(loc), 0);
	for (int i = 0; i < 50; i += 7) {
		snprintf(aor, sizeof aor, "sip:user%d@example.com", i);
		expect_one(loc, aor, 2000, "c-new", 1);
	}
}

static void test_second_connection(void **state)
{
	struct fixture *f = *state;
	struct sip_location *a = f->loc, *b2;
	assert_int_equal(sip_location_open_sqlite(&b2, f->path, NULL), 0);
	struct sip_binding x = binding(AOR, "sip:alice@10.0.0.1", 2000, "c1", 1);
	assert_int_equal(sip_location_begin(a), 0);
	assert_int_equal(reg(a, &x, NOW), 0);
	assert_int_equal(sip_location_commit(a), 0);

	/* Lookup in a batch, commit, the other connection refreshes to CSeq 5. */
	struct sip_binding_list l;
	assert_int_equal(sip_location_begin(a), 0);
	assert_int_equal(sip_location_lookup(a, x.aor, NOW, &l), 0);
	assert_int_equal(l.n, 1);
	sip_binding_list_free(&l);
	assert_int_equal(sip_location_commit(a), 0);
	struct sip_binding y = x;
	y.cseq = 5;
	y.expires = 2100;
	assert_int_equal(sip_location_begin(b2), 0);
	assert_int_equal(reg(b2, &y, NOW), 0);
	assert_int_equal(sip_location_commit(b2), 0);
	/* CSeq 3 of the same Call-ID is now out of order. */
	x.cseq = 3;
	assert_int_equal(sip_location_begin(a), 0);
	assert_int_equal(sip_location_upsert(a, &x, NOW), SIP_ESTATE);
	assert_int_equal(sip_location_commit(a), 0);

	/* Lookup in a batch that is rolled back; the other connection removes
	 * the binding; the next batch's upsert inserts it again. */
	assert_int_equal(sip_location_begin(a), 0);
	assert_int_equal(sip_location_lookup(a, x.aor, NOW, &l), 0);
	sip_binding_list_free(&l);
	assert_int_equal(sip_location_rollback(a), 0);
	assert_int_equal(sip_location_remove(b2, x.aor, x.contact_uri), 0);
	assert_int_equal(sip_location_begin(a), 0);
	assert_int_equal(sip_location_upsert(a, &x, NOW), 0);
	assert_int_equal(sip_location_commit(a), 0);
	expect_one(b2, AOR, 2000, "c1", 3);

	/* Lookup outside any batch keeps nothing: the other connection writes,
	 * then our upsert (its own transaction) sees the write. */
	assert_int_equal(sip_location_lookup(a, x.aor, NOW, &l), 0);
	sip_binding_list_free(&l);
	y.cseq = 9;
	assert_int_equal(sip_location_upsert(b2, &y, NOW), 0);
	x.cseq = 8;
	assert_int_equal(sip_location_upsert(a, &x, NOW), SIP_ESTATE);
	expect_one(a, AOR, 2100, "c1", 9);

	/* Alternating batches of both connections on the same AORs. */
	for (uint32_t i = 0; i < 20; i++) {
		struct sip_location *w = i % 2 ? b2 : a;
		struct sip_binding z = binding(AOR, "sip:alice@10.0.0.1", 3000 + i, "c1", 10 + i);
		assert_int_equal(sip_location_begin(w), 0);
		assert_int_equal(reg(w, &z, NOW), 0);
		assert_int_equal(reg(w, &z, NOW), SIP_ESTATE);
		assert_int_equal(sip_location_commit(w), 0);
	}
	expect_one(a, AOR, 3019, "c1", 29);
	expect_one(b2, AOR, 3019, "c1", 29);
	sip_location_close(b2);
}

static void expect_fields(const struct sip_binding *got, const struct sip_binding *want, int64_t updated)
{
	assert_true(sip_str_eq(got->aor, want->aor));
	assert_true(sip_str_eq(got->contact_uri, want->contact_uri));
	assert_true(sip_str_eq(got->contact, want->contact));
	assert_int_equal(got->q, want->q);
	assert_int_equal(got->expires, want->expires);
	assert_true(sip_str_eq(got->call_id, want->call_id));
	assert_int_equal(got->cseq, want->cseq);
	assert_true(sip_str_eq(got->path, want->path));
	assert_true(sip_str_eq(got->instance, want->instance));
	assert_int_equal(got->reg_id, want->reg_id);
	assert_true(sip_str_eq(got->received, want->received));
	assert_true(sip_str_eq(got->user_agent, want->user_agent));
	assert_int_equal(got->updated, updated);
}

/* A refresh rewrites expires/Call-ID/CSeq/updated and leaves the rest; a
 * re-REGISTER that changes anything else rewrites that too. */
static void test_refresh_columns(void **state)
{
	struct fixture *f = *state;
	struct sip_location *loc = f->loc;
	struct sip_binding b = {
		.aor = SIP_STR(AOR),
		.contact_uri = SIP_STR("sip:alice@10.0.0.1;transport=tcp"),
		.contact = SIP_STR("<sip:alice@10.0.0.1;transport=tcp>;q=0.5;+sip.instance=\"<urn:uuid:1>\";reg-id=1"),
		.q = 500,
		.expires = 2000,
		.call_id = SIP_STR("c1"),
		.cseq = 1,
		.path = SIP_STR("<sip:edge.example.com;lr>"),
		.instance = SIP_STR("\"<urn:uuid:1>\""),
		.reg_id = 1,
		.received = SIP_STR("tcp:192.0.2.1:5060"),
		.user_agent = SIP_STR("phone/1.0"),
	};
	struct sip_binding_list l;
	for (int batch = 0; batch < 2; batch++) {
		if (batch)
			assert_int_equal(sip_location_begin(loc), 0);
		b.cseq++;
		b.expires += 100;
		b.call_id = batch ? SIP_STR("c2") : SIP_STR("c1");
		assert_int_equal(reg(loc, &b, NOW + batch), 0);
		if (batch)
			assert_int_equal(sip_location_commit(loc), 0);
		assert_int_equal(sip_location_lookup(loc, b.aor, NOW, &l), 0);
		assert_int_equal(l.n, 1);
		expect_fields(&l.v[0], &b, NOW + batch);
		sip_binding_list_free(&l);
	}
	/* Same flow (instance + reg-id), everything else changed. */
	struct sip_binding c = b;
	c.contact_uri = SIP_STR("sip:alice@10.0.0.7");
	c.contact = SIP_STR("<sip:alice@10.0.0.7>");
	c.q = 900;
	c.path = SIP_STR("");
	c.received = SIP_STR("udp:192.0.2.7:5060");
	c.user_agent = SIP_STR("phone/2.0");
	c.cseq = 10;
	assert_int_equal(sip_location_begin(loc), 0);
	assert_int_equal(reg(loc, &c, NOW + 5), 0);
	assert_int_equal(sip_location_commit(loc), 0);
	assert_int_equal(sip_location_lookup(loc, b.aor, NOW, &l), 0);
	assert_int_equal(l.n, 1);
	expect_fields(&l.v[0], &c, NOW + 5);
	sip_binding_list_free(&l);
	/* Then a plain refresh of that again leaves the new values. */
	c.cseq = 11;
	c.expires = 5000;
	assert_int_equal(reg(loc, &c, NOW + 6), 0);
	assert_int_equal(sip_location_lookup(loc, b.aor, NOW, &l), 0);
	assert_int_equal(l.n, 1);
	expect_fields(&l.v[0], &c, NOW + 6);
	sip_binding_list_free(&l);
	/* Survives a reopen (it was committed). */
	sip_location_close(loc);
	assert_int_equal(sip_location_open_sqlite(&f->loc, f->path, NULL), 0);
	assert_int_equal(sip_location_lookup(f->loc, b.aor, NOW, &l), 0);
	assert_int_equal(l.n, 1);
	expect_fields(&l.v[0], &c, NOW + 6);
	sip_binding_list_free(&l);
}

/* Purging a slice at a time: each call examines the next `max_rows` row ids
 * (expired ones among them go), the cursor wraps after the last row, live
 * bindings stay, and a full pass removes exactly the expired ones. */
static void test_purge_slices(void **state)
{
	struct fixture *f = *state;
	struct sip_location *loc = f->loc;
	char aor[64];
	for (int i = 0; i < 100; i++) {
		snprintf(aor, sizeof aor, "sip:p%d@example.com", i);
		/* every third one expires at NOW + 10, the rest much later */
		struct sip_binding b = binding(aor, "sip:p@10.0.0.1", i % 3 == 0 ? NOW + 10 : NOW + 5000, "cp", 1);
		assert_int_equal(sip_location_upsert(loc, &b, NOW), 0);
	}
	int64_t later = NOW + 100;
	assert_int_equal(sip_location_count(loc, SIP_STR_NULL, later), 66);
	/* Rows 1..30 first: ids 1, 4, ..., 28 are the expired ones (10). */
	assert_int_equal(sip_location_purge_some(loc, later, 30), 10);
	int total = 10;
	for (int k = 0; k < 3; k++)
		total += sip_location_purge_some(loc, later, 30);
	assert_int_equal(total, 34);
	assert_int_equal(sip_location_count(loc, SIP_STR_NULL, later), 66);
	/* Nothing left to purge; the cursor wrapped and a new pass finds none. */
	assert_int_equal(sip_location_purge_some(loc, later, 1000), 0);
	/* Bindings added after the pass are found by the next one. */
	struct sip_binding e = binding("sip:late@example.com", "sip:l@10.0.0.2", NOW + 10, "cl", 1);
	assert_int_equal(sip_location_upsert(loc, &e, NOW), 0);
	assert_int_equal(sip_location_purge_some(loc, later, 1000), 1);
	assert_int_equal(sip_location_count(loc, SIP_STR_NULL, later), 66);
	assert_int_equal(sip_location_count(loc, SIP_STR_NULL, NOW), 66);
	assert_int_equal(sip_location_purge_some(loc, later, 0), SIP_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lookup_then_upsert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cached_insert_and_absent_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_slices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_columns, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
