/* tests/unit/message/fastpath.c — the parser's fast paths give the same
 * answers as the general code they short-cut: header-name lookup by words,
 * method lookup by length, the one-pass host classifier (URI and Via), the
 * sip:/sips: scheme check, well-known uri-parameter dispatch (plain and
 * escaped names), the comma-free list-element path and the eager top Via,
 * and the in-place URI/name-addr parse that must still leave cleared fields
 * after a failure. Inputs are copied to heap buffers of their exact length so
 * ASan sees any read past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "sip_test.h"

#include <sip/msg.h>
#include <sip/uri.h>

static char *dup_exact(const char *s, size_t n)
{
	char *b = malloc(n ? n : 1);
	assert_non_null(b);
	memcpy(b, s, n);
	return b;
}


/* ---- header names ---- */

static enum sip_hdr_id lookup(const char *name)
{
	size_t n = strlen(name);
	char *b = dup_exact(name, n);
	enum sip_hdr_id id = sip_hdr_lookup(b, n);
	free(b);
	return id;
}

static void test_hdr_lookup_every_name(void **state)
{
	(void)state;
	for (unsigned id = 1; id < SIP_HDR__COUNT; id++) {
		const char *name = sip_hdr_name((enum sip_hdr_id)id);
		size_t n = strlen(name);
		char up[64], lo[64], alt[64], bad[64];
		assert_true(n > 0 && n < sizeof(up));
		for (size_t i = 0; i <= n; i++) {
			char c = name[i];
			up[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
			lo[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			alt[i] = i % 2 ? up[i] : lo[i];
		}
		assert_int_equal(lookup(name), id);
		assert_int_equal(lookup(up), id);
		assert_int_equal(lookup(lo), id);
		assert_int_equal(lookup(alt), id);
		/* One byte off anywhere (first, middle, last) is another name. */
		size_t at[3] = {0, n / 2, n - 1};
		for (int k = 0; k < 3; k++) {
			memcpy(bad, name, n + 1);
			bad[at[k]] = bad[at[k]] == 'x' ? 'y' : 'x';
			assert_int_not_equal(lookup(bad), id);
		}
		/* One byte more or less. */
		memcpy(bad, name, n);
		bad[n] = 's';
		bad[n + 1] = 0;
		assert_int_not_equal(lookup(bad), id);
		if (n > 2) { /* "T" is To's compact form */
			memcpy(bad, name, n - 1);
			bad[n - 1] = 0;
			assert_int_not_equal(lookup(bad), id);
		}
		/* '-' is compared exactly: no byte that merely ORs to it matches
		 * (CR | 0x20 == '-'), nor '_' for '-'. */
		const char *dash = strchr(name, '-');
		if (dash) {
			memcpy(bad, name, n + 1);
			bad[dash - name] = '\r';
			assert_int_equal(lookup(bad), SIP_HDR_OTHER);
			bad[dash - name] = '_';
			assert_int_equal(lookup(bad), SIP_HDR_OTHER);
		}
		char c = sip_hdr_compact((enum sip_hdr_id)id);
		if (c) {
			char one[2] = {c, 0};
			assert_int_equal(lookup(one), id);
			one[0] = (char)(c - 32);
			assert_int_equal(lookup(one), id);
		}
	}
	/* Letters only fold onto letters: '@' | 0x20 is '`', not a name byte. */
	assert_int_equal(lookup("Vi@"), SIP_HDR_OTHER);
	assert_int_equal(lookup("\x16IA"), SIP_HDR_OTHER);
	assert_int_equal(lookup("n"), SIP_HDR_OTHER);
	assert_int_equal(lookup("N"), SIP_HDR_OTHER);
	assert_int_equal(lookup("X-Via"), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_lookup("Via", 0), SIP_HDR_OTHER);
}

/* ---- methods ---- */

static void test_method_lookup(void **state)
{
	(void)state;
	for (unsigned id = 1; id < SIP_METHOD__COUNT; id++) {
		const char *name = sip_method_name((enum sip_method)id);
		assert_non_null(name);
		size_t n = strlen(name);
		char *b = dup_exact(name, n);
		assert_int_equal(sip_method_lookup((struct sip_str){b, n}), id);
		/* Case matters (§7.1), and so does every byte and the length. */
		b[n - 1] = (char)(b[n - 1] + 32);
		assert_int_equal(sip_method_lookup((struct sip_str){b, n}), SIP_METHOD_UNKNOWN);
		b[n - 1] = name[n - 1];
		b[0] = 'X';
		assert_int_equal(sip_method_lookup((struct sip_str){b, n}), SIP_METHOD_UNKNOWN);
		assert_int_equal(sip_method_lookup((struct sip_str){name, n - 1}), SIP_METHOD_UNKNOWN);
		free(b);
	}
	assert_int_equal(sip_method_lookup((struct sip_str){"INVITEX", 7}), SIP_METHOD_UNKNOWN);
	assert_int_equal(sip_method_lookup((struct sip_str){NULL, 0}), SIP_METHOD_UNKNOWN);
}

/* ---- hosts ---- */

struct host_vec {
	const char *in;
	int rc;           /* bytes consumed, or SIP_EPARSE */
	size_t off;       /* error offset */
	enum sip_host_type type;
};

static void test_host_classifier(void **state)
{
	(void)state;
	char l63[80], l64[80], h256[300], h255[300];
	memset(l63, 'a', 63);
	strcpy(l63 + 63, ".com");
	memset(l64, 'a', 64);
	strcpy(l64 + 64, ".com");
	/* 255 bytes: labels of 9 letters and a dot. */
	for (int i = 0; i < 255; i++)
		h255[i] = i % 10 == 9 ? '.' : 'b';
	h255[255] = 0;
	memcpy(h256, h255, 255);
	h256[255] = 'c';
	h256[256] = 0;
	const struct host_vec v[] = {
		{"example.com", 11, 0, SIP_HOST_NAME},
		{"EXAMPLE.COM.", 12, 0, SIP_HOST_NAME},
		{"a", 1, 0, SIP_HOST_NAME},
		{"a-b.c-d", 7, 0, SIP_HOST_NAME},
		{"1.2.3.4", 7, 0, SIP_HOST_IPV4},
		{"255.255.255.255:5060", 15, 0, SIP_HOST_IPV4},
		{"1.2.3.4;x", 7, 0, SIP_HOST_IPV4},
		{"1.2.3.4.com", 11, 0, SIP_HOST_NAME},
		{"1a.example", 10, 0, SIP_HOST_NAME},
		{"[::1]", 5, 0, SIP_HOST_IPV6},
		{"1.2.3.999", SIP_EPARSE, 6, 0},
		{"1.2.3.4.", SIP_EPARSE, 6, 0},
		{"1.2.3.4444", SIP_EPARSE, 6, 0},
		{"1.2.3", SIP_EPARSE, 4, 0},
		{"a..b", SIP_EPARSE, 2, 0},
		{".a", SIP_EPARSE, 0, 0},
		{"-a.com", SIP_EPARSE, 0, 0},
		{"a-.com", SIP_EPARSE, 0, 0},
		{"x.a-", SIP_EPARSE, 2, 0},
		{"x.-a", SIP_EPARSE, 2, 0},
		{"x.y-.9z", SIP_EPARSE, 2, 0},
		{"a.9", SIP_EPARSE, 2, 0},
		{";", SIP_EPARSE, 0, 0},
		{l63, 67, 0, SIP_HOST_NAME},
		{l64, SIP_EPARSE, 0, 0},
		{h255, 255, 0, SIP_HOST_NAME},
		{h256, SIP_EPARSE, 0, 0},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = strlen(v[i].in), off = 12345;
		char *b = dup_exact(v[i].in, n);
		struct sip_str h = SIP_STR_NULL;
		enum sip_host_type t = SIP_HOST_NONE;
		int rc = sip_host_parse((struct sip_str){b, n}, &h, &t, &off);
		if (rc != v[i].rc || (rc < 0 && off != v[i].off) || (rc > 0 && t != v[i].type)) {
			print_error("%s: rc %d off %zu type %d\n", v[i].in, rc, off, t);
			fail();
		}
		free(b);
	}
}

/* Via sent-by takes the same hostname rules without the DNS length caps. */
static void test_via_host(void **state)
{
	(void)state;
	char val[200];
	char label[70];
	memset(label, 'a', 64);
	label[64] = 0;
	const char *ok[] = {"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1", "SIP/2.0/UDP host.example.com.;branch=z9hG4bK1",
			    "SIP/2.0/UDP 1.2.3.4.example;branch=z9hG4bK1"};
	const enum sip_host_type ok_t[] = {SIP_HOST_IPV4, SIP_HOST_NAME, SIP_HOST_NAME};
	for (size_t i = 0; i < 3; i++) {
		struct sip_via via;
		size_t n = strlen(ok[i]), off = 0;
		char *b = dup_exact(ok[i], n);
		assert_int_equal(sip_via_parse(&via, (struct sip_str){b, n}, &off), 0);
		assert_int_equal(via.host_type, ok_t[i]);
		assert_true(via.has_branch && sip_test_eq(via.branch, "z9hG4bK1"));
		free(b);
	}
	snprintf(val, sizeof(val), "SIP/2.0/UDP %s.com;branch=z9hG4bK1", label);
	{
		struct sip_via via;
		size_t n = strlen(val), off = 0;
		char *b = dup_exact(val, n);
		assert_int_equal(sip_via_parse(&via, (struct sip_str){b, n}, &off), 0);
		assert_int_equal(via.host.len, 68);
		free(b);
	}
	/* Errors point at the start of the host, whatever label is bad. */
	const char *bad[] = {"SIP/2.0/UDP 1.2.3.999;branch=1", "SIP/2.0/UDP a..b;branch=1", "SIP/2.0/UDP x.-y;branch=1",
			     "SIP/2.0/UDP 1.2.3.4.;branch=1", "SIP/2.0/UDP ;branch=1"};
	for (size_t i = 0; i < 5; i++) {
		struct sip_via via;
		size_t n = strlen(bad[i]), off = 0;
		char *b = dup_exact(bad[i], n);
		assert_int_equal(sip_via_parse(&via, (struct sip_str){b, n}, &off), SIP_EPARSE);
		assert_int_equal(off, 12);
		free(b);
	}
}

/* ---- URIs ---- */

static void test_uri_scheme_and_params(void **state)
{
	(void)state;
	struct {
		const char *in;
		enum sip_uri_scheme scheme;
		const char *transport, *maddr, *ttl, *user, *method;
		bool lr;
	} v[] = {
		{"sip:a@b.com", SIP_URI_SIP, "", "", "", "", "", false},
		{"SIP:a@b.com", SIP_URI_SIP, "", "", "", "", "", false},
		{"sIpS:b.com", SIP_URI_SIPS, "", "", "", "", "", false},
		{"sip:b.com;LR;Transport=TCP", SIP_URI_SIP, "TCP", "", "", "", "", true},
		{"sip:b.com;%6cr;tr%61nsport=udp", SIP_URI_SIP, "udp", "", "", "", "", true},
		{"sip:b.com;lrx;ttlx=1;lr=1", SIP_URI_SIP, "", "", "", "", "", true},
		{"sip:b.com;maddr=1.2.3.4;TTL=255;user=phone;method=INVITE", SIP_URI_SIP, "", "1.2.3.4", "255", "phone",
		 "INVITE", false},
		{"sip:b.com;transport=tcp;transport=udp", SIP_URI_SIP, "tcp", "", "", "", "", false},
		{"sipx:whatever", SIP_URI_OTHER, "", "", "", "", "", false},
		{"si:x", SIP_URI_OTHER, "", "", "", "", "", false},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct sip_uri u;
		size_t n = strlen(v[i].in), off = 0;
		char *b = dup_exact(v[i].in, n);
		int rc = sip_uri_parse(&u, b, n, &off);
		if (rc)
			print_error("%s: %d at %zu\n", v[i].in, rc, off);
		assert_int_equal(rc, 0);
		assert_int_equal(u.scheme, v[i].scheme);
		assert_true(sip_test_eq(u.transport, v[i].transport));
		assert_true(sip_test_eq(u.maddr, v[i].maddr));
		assert_true(sip_test_eq(u.ttl, v[i].ttl));
		assert_true(sip_test_eq(u.user_param, v[i].user));
		assert_true(sip_test_eq(u.method, v[i].method));
		assert_int_equal(u.lr, v[i].lr);
		free(b);
	}
	struct {
		const char *in;
		int rc;
		size_t off;
	} bad[] = {
		{"sips", SIP_EPARSE, 4},  {"sip", SIP_EPARSE, 3},         {"sip:", SIP_EPARSE, 4},
		{"sips:", SIP_EPARSE, 5}, {"sip:b.com;ttl=256", SIP_EPARSE, 14}, {"sip:b.com;%6c%72x;lr", 0, 0},
		{"sip:b.com;transport", SIP_EPARSE, 19}, {"sip:b.com;%54TL", SIP_EPARSE, 15},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sip_uri u;
		size_t n = strlen(bad[i].in), off = 0;
		char *b = dup_exact(bad[i].in, n);
		memset(&u, 0x5a, sizeof(u));
		int rc = sip_uri_parse(&u, b, n, &off);
		if (rc != bad[i].rc || (rc && off != bad[i].off)) {
			print_error("%s: %d at %zu\n", bad[i].in, rc, off);
			fail();
		}
		if (rc) {
			/* A failed parse leaves the whole struct cleared. */
			struct sip_uri zero;
			memset(&zero, 0, sizeof(zero));
			assert_int_equal(u.scheme, 0);
			assert_null(u.host.p);
			assert_null(u.raw.p);
			assert_false(u.lr);
			assert_memory_equal(&u, &zero, sizeof(u));
		}
		free(b);
	}
}

/* A failed name-addr parse leaves its URI cleared, whether the URI parser
 * ran or not; a good one after a bad one is complete. */
static void test_nameaddr_clears(void **state)
{
	(void)state;
	const char *bad[] = {"\"open <sip:a@b.com>", "<sip:a@b.com", "Bob sip:a@b.com", "", "   ",
			     "<sip:a@b..com>", "sip:a@b.com?x=y", "< sip:a@b.com>"};
	struct sip_nameaddr na;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i]), off = 0;
		char *b = dup_exact(bad[i], n);
		const char *good = "\"A\" <sip:x@y.com;lr>;tag=1";
		char *g = dup_exact(good, strlen(good));
		assert_int_equal(sip_nameaddr_parse(&na, (struct sip_str){g, strlen(good)}, NULL), 0);
		assert_true(na.uri.lr && sip_test_eq(na.uri.host, "y.com") && sip_test_eq(na.tag, "1"));
		assert_int_equal(sip_nameaddr_parse(&na, (struct sip_str){b, n}, &off), SIP_EPARSE);
		assert_int_equal(na.uri.scheme, 0);
		assert_null(na.uri.host.p);
		assert_null(na.uri.raw.p);
		assert_false(na.uri.lr);
		assert_false(na.has_tag);
		assert_null(na.tag.p);
		free(g);
		free(b);
	}
	struct sip_contact c;
	const char *star = " * ";
	char *b = dup_exact(star, 3);
	assert_int_equal(sip_contact_parse(&c, (struct sip_str){b, 3}, NULL), 0);
	assert_true(c.na.star);
	assert_int_equal(c.q, -1);
	assert_false(c.has_expires);
	assert_null(c.na.uri.host.p);
	free(b);
	const char *ct = "<sip:a@b.com>;expires=60;q=0.5";
	b = dup_exact(ct, strlen(ct));
	assert_int_equal(sip_contact_parse(&c, (struct sip_str){b, strlen(ct)}, NULL), 0);
	assert_true(c.has_expires && c.expires == 60 && c.q == 500 && !c.na.star);
	free(b);
}

/* ---- list elements and the eager top Via ---- */

static void test_list_elements(void **state)
{
	(void)state;
	const char *text = "OPTIONS sip:b.com SIP/2.0\r\n"
			   "Via: SIP/2.0/UDP a.com;branch=z9hG4bK1 , SIP/2.0/TCP b.com;branch=z9hG4bK2\r\n"
			   "Via: SIP/2.0/UDP c.com;branch=z9hG4bK3\r\n"
			   "Contact: \"x,y\" <sip:p@q.com>, <sip:r@s.com;a=\"1,2\">, (c,d) <sip:t@u.com>\r\n"
			   "Contact: <sip:v@w.com>\r\n"
			   "From: <sip:a@b.com>;tag=1\r\nTo: <sip:c@d.com>\r\nCall-ID: x@y\r\nCSeq: 1 OPTIONS\r\n"
			   "Content-Length: 0\r\n\r\n";
	size_t n = strlen(text);
	char *b = dup_exact(text, n);
	static struct sip_msg m;
	struct sip_parse_err err;
	assert_int_equal(sip_msg_parse(&m, b, n, SIP_PARSE_DATAGRAM, &err), (int)n);
	assert_true(sip_test_eq(m.via.host, "a.com") && sip_test_eq(m.via.branch, "z9hG4bK1"));
	assert_true(sip_test_eq(m.via.transport, "UDP"));

	struct sip_hdr_iter it;
	struct sip_str v;
	const char *vias[] = {"SIP/2.0/UDP a.com;branch=z9hG4bK1", "SIP/2.0/TCP b.com;branch=z9hG4bK2",
			      "SIP/2.0/UDP c.com;branch=z9hG4bK3"};
	sip_hdr_iter_init(&it, &m, SIP_HDR_VIA);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sip_hdr_iter_next(&it, &v), 1);
		assert_true(sip_test_eq(v, vias[i]));
	}
	assert_int_equal(sip_hdr_iter_next(&it, &v), 0);
	const char *contacts[] = {"\"x,y\" <sip:p@q.com>", "<sip:r@s.com;a=\"1,2\">", "(c,d) <sip:t@u.com>",
				  "<sip:v@w.com>"};
	sip_hdr_iter_init(&it, &m, SIP_HDR_CONTACT);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(sip_hdr_iter_next(&it, &v), 1);
		assert_true(sip_test_eq(v, contacts[i]));
	}
	assert_int_equal(sip_hdr_iter_next(&it, &v), 0);
	assert_int_equal(sip_hdr_count(&m, SIP_HDR_CONTACT), 4);
	free(b);

	/* An empty element in the top Via line: rejected like before. */
	const char *bad = "OPTIONS sip:b.com SIP/2.0\r\nVia: , SIP/2.0/UDP a.com\r\n"
			  "From: <sip:a@b.com>;tag=1\r\nTo: <sip:c@d.com>\r\nCall-ID: x@y\r\nCSeq: 1 OPTIONS\r\n\r\n";
	n = strlen(bad);
	b = dup_exact(bad, n);
	assert_int_equal(sip_msg_parse(&m, b, n, SIP_PARSE_DATAGRAM, &err), SIP_EPARSE);
	assert_string_equal(err.reason, "empty Via header");
	free(b);
	/* A trailing comma is an empty element for the iterator. */
	const char *trail = "OPTIONS sip:b.com SIP/2.0\r\nVia: SIP/2.0/UDP a.com;branch=z9hG4bK1,\r\n"
			    "From: <sip:a@b.com>;tag=1\r\nTo: <sip:c@d.com>\r\nCall-ID: x@y\r\nCSeq: 1 OPTIONS\r\n\r\n";
	n = strlen(trail);
	b = dup_exact(trail, n);
	assert_int_equal(sip_msg_parse(&m, b, n, SIP_PARSE_DATAGRAM, &err), (int)n);
	assert_true(sip_test_eq(m.via.branch, "z9hG4bK1"));
	sip_hdr_iter_init(&it, &m, SIP_HDR_VIA);
	assert_int_equal(sip_hdr_iter_next(&it, &v), 1);
	assert_int_equal(sip_hdr_iter_next(&it, &v), SIP_EPARSE);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_lookup_every_name), cmocka_unit_test(test_method_lookup),
		cmocka_unit_test(test_host_classifier),       cmocka_unit_test(test_via_host),
		cmocka_unit_test(test_uri_scheme_and_params), cmocka_unit_test(test_nameaddr_clears),
		cmocka_unit_test(test_list_elements),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
