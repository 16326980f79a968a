/* Unit tests for sip_nameaddr_parse and sip_contact_parse (RFC 3261 §20.10,
 * §20.20, §20.39; RFC 4475 vectors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "sip_test.h"
#include <sip/msg.h>



struct na_ok {
	struct sip_str in;
	const char *display, *uri, *params, *tag;
	bool bracketed;
	enum sip_uri_scheme scheme;
	const char *uri_params; /* what the URI parser kept as its own params */
};

static const struct na_ok na_ok[] = {
    /* RFC 4475 wsinv To: bare addr-spec, LWS around ';' and '='. */
    {V("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n"), NULL,
     "sip:vivekg@chair-dnrc.example.com", "tag    = 1918181833n", "1918181833n", false, SIP_URI_SIP, NULL},
    /* RFC 4475 wsinv From: quoted-pairs in the display name, folding before ';'. */
    {V("\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8"),
     "\"J Rosenberg \\\\\\\"\"", "sip:jdrosen@example.com", "tag = 98asjd8", "98asjd8", true, SIP_URI_SIP,
     NULL},
    /* RFC 4475 intmeth To: quoted-pairs escaping BEL, NUL and DEL. */
    {V("\"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" "
       "<sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>"),
     NULL, "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com", NULL, NULL, true, SIP_URI_SIP,
     NULL},
    /* RFC 4475 intmeth From: token display name of every mark, UTF-8 quoted param. */
    {V("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%="
       "\"\xd0\xb2\xd0\xb0\xd1\x81\xd1\x8f\";tag=_token~1'+`*%!-."),
     "token1~` token2'+_ token3*%!.-", "sip:mundane@example.com",
     "fromParam''~+*_!.-%=\"\xd0\xb2\xd0\xb0\xd1\x81\xd1\x8f\";tag=_token~1'+`*%!-.", "_token~1'+`*%!-.",
     true, SIP_URI_SIP, NULL},
    /* RFC 4475 lwsdisp: no LWS between a token display name and '<'. */
    {V("caller<sip:caller@example.com>;tag=323"), "caller", "sip:caller@example.com", "tag=323", "323", true,
     SIP_URI_SIP, NULL},
    /* RFC 4475 cparam01: in a bare addr-spec the params belong to the header. */
    {V("sip:+19725552222@gw1.example.net;unknownparam"), NULL, "sip:+19725552222@gw1.example.net",
     "unknownparam", NULL, false, SIP_URI_SIP, NULL},
    /* RFC 4475 cparam02: inside <> they belong to the URI. */
    {V("<sip:+19725552222@gw1.example.net;unknownparam>"), NULL,
     "sip:+19725552222@gw1.example.net;unknownparam", NULL, NULL, true, SIP_URI_SIP, "unknownparam"},
    /* RFC 4475 regescrt: URI headers are fine inside <>. */
    {V("<sip:user@example.com?Route=%3Csip:sip.example.com%3E>"), NULL,
     "sip:user@example.com?Route=%3Csip:sip.example.com%3E", NULL, NULL, true, SIP_URI_SIP, NULL},
    /* RFC 4475 esc01: escapes are kept as on the wire. */
    {V("<sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>"), NULL,
     "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31", NULL, NULL, true, SIP_URI_SIP,
     "%6C%72;n%61me=v%61lue%25%34%31"},
    /* RFC 4475 esc02: % is no escape in a display name. */
    {V("\"%Z%45\" <sip:resource@example.com>;tag=f232jadfj23"), "\"%Z%45\"", "sip:resource@example.com",
     "tag=f232jadfj23", "f232jadfj23", true, SIP_URI_SIP, NULL},
    /* RFC 4475 badaspec From: a comma inside quotes is just text. */
    {V("\"Bell, Alexander\" <sip:a.g.bell@example.com>;tag=433423"), "\"Bell, Alexander\"",
     "sip:a.g.bell@example.com", "tag=433423", "433423", true, SIP_URI_SIP, NULL},
    /* RFC 4475 unksm2: any scheme. */
    {V("isbn:2983792873"), NULL, "isbn:2983792873", NULL, NULL, false, SIP_URI_OTHER, NULL},
    {V("<http://www.example.com>;tag=3234233"), NULL, "http://www.example.com", "tag=3234233", "3234233",
     true, SIP_URI_OTHER, NULL},
    {V("<name:John_Smith>"), NULL, "name:John_Smith", NULL, NULL, true, SIP_URI_OTHER, NULL},
    /* RFC 4475 inv2543: bare addr-spec with user=phone as a header param. */
    {V("sip:+16505552222@ss1.example.net;user=phone"), NULL, "sip:+16505552222@ss1.example.net", "user=phone",
     NULL, false, SIP_URI_SIP, NULL},
    /* RFC 3261 §20.39 / §20.20 examples. */
    {V("The Operator <sip:operator@cs.columbia.edu>;tag=287447"), "The Operator",
     "sip:operator@cs.columbia.edu", "tag=287447", "287447", true, SIP_URI_SIP, NULL},
    {V("<tel:+1-201-555-0123>"), NULL, "tel:+1-201-555-0123", NULL, NULL, true, SIP_URI_TEL, NULL},
    {V("\"\" <sip:a@b.example>;TAG=x;tag=y"), "\"\"", "sip:a@b.example", "TAG=x;tag=y", "x", true,
     SIP_URI_SIP, NULL},
    /* RFC 4475 baddn: "Watson, Thomas <...>" is split at the comma before us;
     * the second half alone is a legal name-addr. */
    {V(" Thomas <sip:t.watson@example.org>"), "Thomas", "sip:t.watson@example.org", NULL, NULL, true,
     SIP_URI_SIP, NULL},
};

static void test_nameaddr_ok(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(na_ok) / sizeof(na_ok[0]); i++) {
		const struct na_ok *t = &na_ok[i];
		struct sip_nameaddr na;
		size_t off = 999;
		int rc = sip_nameaddr_parse(&na, t->in, &off);
		if (rc)
			fail_msg("row %zu: rc %d at %zu", i, rc, off);
		if (t->display)
			slice_is(na.display, t->display, "display", i);
		else if (i != 2)
			assert_int_equal(na.display.len, 0);
		slice_is(na.uri_str, t->uri, "uri", i);
		slice_is(na.params, t->params, "params", i);
		assert_int_equal(na.has_tag, t->tag != NULL);
		slice_is(na.tag, t->tag, "tag", i);
		assert_int_equal(na.bracketed, t->bracketed);
		assert_int_equal(na.uri.scheme, t->scheme);
		if (t->scheme != SIP_URI_OTHER)
			slice_is(na.uri.params, t->uri_params, "uri.params", i);
		assert_false(na.star);
	}
	/* intmeth To: the display keeps the escaped control bytes verbatim. */
	struct sip_nameaddr na;
	assert_int_equal(sip_nameaddr_parse(&na, na_ok[2].in, NULL), 0);
	assert_int_equal(na.display.len, 22);
	assert_memory_equal(na.display.p, "\"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\"", 22);
	/* cparam01: unknownparam is not a URI parameter. */
	assert_int_equal(sip_nameaddr_parse(&na, na_ok[5].in, NULL), 0);
	assert_int_equal(na.uri.params.len, 0);
	slice_is(na.uri.host, "gw1.example.net", "host", 5);
}

struct bad {
	struct sip_str in;
	int rc;
	size_t off;
};

static const struct bad na_bad[] = {
    /* RFC 4475 quotbal: unterminated quoted display name (blamed at its opening quote). */
    {V("\"Mr. J. User <sip:j.user@example.com>"), SIP_EPARSE, 0},
    /* RFC 4475 badaspec: LWS inside <> around the URI. */
    {V("\"Watson, Thomas\" < sip:t.watson@example.org >"), SIP_EPARSE, 18},
    {V("<sip:t.watson@example.org >"), SIP_EPARSE, 25},
    /* RFC 4475 regbadct: URI headers in a bare addr-spec. */
    {V("sip:user@example.com?Route=%3Csip:sip.example.com%3E"), SIP_EPARSE, 20},
    /* RFC 4475 badinv01 Contact: empty params. */
    {V("\"Joe\" <sip:joe@example.org>;;;;"), SIP_EPARSE, 28},
    {V("<sip:joe@example.org>;"), SIP_EPARSE, 22},
    /* Unterminated '<' (blamed at the '<'). */
    {V("Joe <sip:joe@example.org"), SIP_EPARSE, 4},
    {V("\"Joe\" sip:joe@example.org"), SIP_EPARSE, 6},
    {V("<sip:a@example.com>junk"), SIP_EPARSE, 19},
    {V("<sip:a@example.com> ; tag"), SIP_EPARSE, 25},
    {V("<sip:a@example.com>;tag=\"q\""), SIP_EPARSE, 24},
    {V("<>"), SIP_EPARSE, 1},
    {V(""), SIP_EPARSE, 0},
    {V("   "), SIP_EPARSE, 3},
    {V("Joe Bloggs"), SIP_EPARSE, 3}, /* no URI at all: "Joe" lacks its scheme colon */
};

static void test_nameaddr_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(na_bad) / sizeof(na_bad[0]); i++) {
		struct sip_nameaddr na;
		size_t off = 999;
		int rc = sip_nameaddr_parse(&na, na_bad[i].in, &off);
		if (rc != na_bad[i].rc || off != na_bad[i].off)
			fail_msg("row %zu \"%.*s\": rc %d off %zu, want rc %d off %zu", i,
				 SIP_STR_ARG(na_bad[i].in), rc, off, na_bad[i].rc, na_bad[i].off);
	}
	/* RFC 4475 baddn "Bell" fails as a URI (the offset is the URI parser's). */
	struct sip_nameaddr na;
	assert_int_equal(sip_nameaddr_parse(&na, SIP_STR("Bell"), NULL), SIP_EPARSE);
	assert_int_equal(sip_nameaddr_parse(&na, SIP_STR("*"), NULL), SIP_EPARSE);
}

struct ct_ok {
	struct sip_str in;
	int32_t q;
	int64_t expires; /* -1 absent */
	bool star;
	const char *uri;
};

static const struct ct_ok ct_ok[] = {
    /* RFC 4475 wsinv m: q after folding and LWS around '='. */
    {V("\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;\r\n  "
       "secondparam ; q = 0.33"),
     330, -1, false, "sip:jdrosen@example.com"},
    {V("*"), -1, -1, true, "*"},
    {V("  *  "), -1, -1, true, "*"},
    /* RFC 3261 §10.3 / §20.10 examples. */
    {V("\"Mr. Watson\" <sip:watson@worcester.bell-telephone.com>;q=0.7; expires=3600"), 700, 3600, false,
     "sip:watson@worcester.bell-telephone.com"},
    {V("<sips:bob@192.0.2.4>;expires=0;q=1.000"), 1000, 0, false, "sips:bob@192.0.2.4"},
    {V("<sip:a@b.example>;q=0"), 0, -1, false, "sip:a@b.example"},
    {V("<sip:a@b.example>;q=1"), 1000, -1, false, "sip:a@b.example"},
    {V("<sip:a@b.example>;q=0.005;expires=4294967295"), 5, 4294967295, false, "sip:a@b.example"},
    {V("sip:a@b.example;expires=0009"), -1, 9, false, "sip:a@b.example"},
    /* RFC 4475 cparam01 as a Contact. */
    {V("sip:+19725552222@gw1.example.net;unknownparam"), -1, -1, false, "sip:+19725552222@gw1.example.net"},
};

static void test_contact_ok(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ct_ok) / sizeof(ct_ok[0]); i++) {
		const struct ct_ok *t = &ct_ok[i];
		struct sip_contact c;
		size_t off = 999;
		int rc = sip_contact_parse(&c, t->in, &off);
		if (rc)
			fail_msg("row %zu: rc %d at %zu", i, rc, off);
		assert_int_equal(c.q, t->q);
		assert_int_equal(c.has_expires, t->expires >= 0);
		if (t->expires >= 0)
			assert_int_equal(c.expires, (uint32_t)t->expires);
		assert_int_equal(c.na.star, t->star);
		slice_is(c.na.uri_str, t->uri, "uri", i);
	}
}

static const struct bad ct_bad[] = {
    /* RFC 4475 scalar02: expires beyond 2^32-1 is SIP_ERANGE, never clamped. */
    {V("<sip:user@host129.example.com>\r\n  ;expires=280297596632815"), SIP_ERANGE, 43},
    {V("<sip:a@b.example>;expires=4294967296"), SIP_ERANGE, 26},
    {V("<sip:a@b.example>;expires=-1"), SIP_EPARSE, 26},
    {V("<sip:a@b.example>;expires"), SIP_EPARSE, 25},
    {V("<sip:a@b.example>;q=1.5"), SIP_ERANGE, 20},
    {V("<sip:a@b.example>;q=2"), SIP_ERANGE, 20},
    {V("<sip:a@b.example>;q=0.1234"), SIP_EPARSE, 25},
    {V("<sip:a@b.example>;q=.5"), SIP_EPARSE, 20},
    {V("<sip:a@b.example>;q=0,5"), SIP_EPARSE, 21},
    {V("<sip:a@b.example>;q"), SIP_EPARSE, 19},
    {V("*;q=1"), SIP_EPARSE, 0},
    {V("* *"), SIP_EPARSE, 0},
    /* RFC 4475 regbadct. */
    {V("sip:user@example.com?Route=%3Csip:sip.example.com%3E"), SIP_EPARSE, 20},
};

static void test_contact_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ct_bad) / sizeof(ct_bad[0]); i++) {
		struct sip_contact c;
		size_t off = 999;
		int rc = sip_contact_parse(&c, ct_bad[i].in, &off);
		if (rc != ct_bad[i].rc || off != ct_bad[i].off)
			fail_msg("row %zu \"%.*s\": rc %d off %zu, want rc %d off %zu", i,
				 SIP_STR_ARG(ct_bad[i].in), rc, off, ct_bad[i].rc, ct_bad[i].off);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nameaddr_ok),
	    cmocka_unit_test(test_nameaddr_bad),
	    cmocka_unit_test(test_contact_ok),
	    cmocka_unit_test(test_contact_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
