/* tests/unit/message/uri.c — URI parser, comparison and parameter helpers:
 * table-driven vectors (RFC 3261 §19.1, RFC 3966, RFC 4475 URIs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sip/uri.h>

#define NA NULL /* "field absent" in the tables below */

/* Asserts slice s holds exactly text (NULL: empty). */
static void check_str(const char *what, const char *uri, struct sip_str s, const char *text)
{
	size_t n = text ? strlen(text) : 0;
	if (s.len != n || (n && memcmp(s.p, text, n) != 0)) {
		print_error("%s: %s is '%.*s', expected '%s'\n", uri, what, SIP_STR_ARG(s), text ? text : "");
		fail();
	}
}

/* Parses a copy of text in a heap buffer of exactly its length, so ASan sees
 * any read past the end. */
static int parse_exact(struct sip_uri *u, const char *text, size_t len, char **keep, size_t *off)
{
	char *b = malloc(len ? len : 1);
	assert_non_null(b);
	memcpy(b, text, len);
	*keep = b;
	return sip_uri_parse(u, b, len, off);
}

/* ---- valid sip/sips URIs with their fields ---- */

struct valid_vec {
	const char *uri;
	enum sip_uri_scheme scheme;
	const char *user, *password; /* NA: absent */
	const char *host;
	enum sip_host_type ht;
	int port; /* -1: absent */
	const char *params, *headers;
	const char *transport, *user_param, *method, *maddr, *ttl;
	bool lr;
};

static const struct valid_vec valid[] = {
	{"sip:alice@atlanta.com", SIP_URI_SIP, "alice", NA, "atlanta.com", SIP_HOST_NAME, -1, NA, NA, .lr = false},
	{"SIP:alice@atlanta.com", SIP_URI_SIP, "alice", NA, "atlanta.com", SIP_HOST_NAME, -1, NA, NA, .lr = false},
	{"sIpS:bob@biloxi.com:5061", SIP_URI_SIPS, "bob", NA, "biloxi.com", SIP_HOST_NAME, 5061, NA, NA, .lr = false},
	{"sip:alice:secretword@atlanta.com;transport=tcp", SIP_URI_SIP, "alice", "secretword", "atlanta.com",
	 SIP_HOST_NAME, -1, "transport=tcp", NA, "tcp", .lr = false},
	{"sip:alice:@atlanta.com", SIP_URI_SIP, "alice", "", "atlanta.com", SIP_HOST_NAME, -1, NA, NA, .lr = false},
	{"sips:alice@atlanta.com?subject=project%20x&priority=urgent", SIP_URI_SIPS, "alice", NA, "atlanta.com",
	 SIP_HOST_NAME, -1, NA, "subject=project%20x&priority=urgent", .lr = false},
	{"sip:+1-212-555-1212:1234@gateway.com;user=phone", SIP_URI_SIP, "+1-212-555-1212", "1234", "gateway.com",
	 SIP_HOST_NAME, -1, "user=phone", NA, NA, "phone", .lr = false},
	{"sips:1212@gateway.com", SIP_URI_SIPS, "1212", NA, "gateway.com", SIP_HOST_NAME, -1, NA, NA, .lr = false},
	{"sip:alice@192.0.2.4", SIP_URI_SIP, "alice", NA, "192.0.2.4", SIP_HOST_IPV4, -1, NA, NA, .lr = false},
	{"sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com", SIP_URI_SIP, NA, NA, "atlanta.com",
	 SIP_HOST_NAME, -1, "method=REGISTER", "to=alice%40atlanta.com", NA, NA, "REGISTER", .lr = false},
	{"sip:alice;day=tuesday@atlanta.com", SIP_URI_SIP, "alice;day=tuesday", NA, "atlanta.com", SIP_HOST_NAME,
	 -1, NA, NA, .lr = false},
	{"sip:p1.example.com;lr", SIP_URI_SIP, NA, NA, "p1.example.com", SIP_HOST_NAME, -1, "lr", NA, .lr = true},
	{"sip:host.example.com.:0", SIP_URI_SIP, NA, NA, "host.example.com.", SIP_HOST_NAME, 0, NA, NA, .lr = false},
	{"sip:h:65535", SIP_URI_SIP, NA, NA, "h", SIP_HOST_NAME, 65535, NA, NA, .lr = false},
	{"sip:u@h:05060", SIP_URI_SIP, "u", NA, "h", SIP_HOST_NAME, 5060, NA, NA, .lr = false},
	{"sip:x@a-b.c-d.example;maddr=239.255.255.1;ttl=15;transport=udp;method=INVITE;user=ip", SIP_URI_SIP, "x",
	 NA, "a-b.c-d.example", SIP_HOST_NAME, -1, "maddr=239.255.255.1;ttl=15;transport=udp;method=INVITE;user=ip",
	 NA, "udp", "ip", "INVITE", "239.255.255.1", "15", .lr = false},
	{"sip:u@h;maddr=[2001:db8::1];ttl=255", SIP_URI_SIP, "u", NA, "h", SIP_HOST_NAME, -1,
	 "maddr=[2001:db8::1];ttl=255", NA, NA, NA, NA, "[2001:db8::1]", "255", .lr = false},
	/* first occurrence of a well-known param wins */
	{"sip:h;transport=tcp;transport=udp", SIP_URI_SIP, NA, NA, "h", SIP_HOST_NAME, -1,
	 "transport=tcp;transport=udp", NA, "tcp", .lr = false},
	/* param values with param-unreserved chars and escapes */
	{"sip:h;x=[]/:&+$%41;y", SIP_URI_SIP, NA, NA, "h", SIP_HOST_NAME, -1, "x=[]/:&+$%41;y", NA, .lr = false},
	{"sip:h?a=&b=%3C[]/?:+$", SIP_URI_SIP, NA, NA, "h", SIP_HOST_NAME, -1, NA, "a=&b=%3C[]/?:+$", .lr = false},
	/* IPv6 references */
	{"sip:[2001:db8::10]:5070;transport=TCP", SIP_URI_SIP, NA, NA, "2001:db8::10", SIP_HOST_IPV6, 5070,
	 "transport=TCP", NA, "TCP", .lr = false},
	{"sip:alice@[::1]", SIP_URI_SIP, "alice", NA, "::1", SIP_HOST_IPV6, -1, NA, NA, .lr = false},
	{"sip:[::]", SIP_URI_SIP, NA, NA, "::", SIP_HOST_IPV6, -1, NA, NA, .lr = false},
	{"sip:[1:2:3:4:5:6:7:8]", SIP_URI_SIP, NA, NA, "1:2:3:4:5:6:7:8", SIP_HOST_IPV6, -1, NA, NA, .lr = false},
	{"sip:[1:2:3:4:5:6:7::]", SIP_URI_SIP, NA, NA, "1:2:3:4:5:6:7::", SIP_HOST_IPV6, -1, NA, NA, .lr = false},
	{"sip:[::ffff:192.0.2.1]:5060", SIP_URI_SIP, NA, NA, "::ffff:192.0.2.1", SIP_HOST_IPV6, 5060, NA, NA, .lr = false},
	{"sip:[1:2:3:4:5:6:192.0.2.1]", SIP_URI_SIP, NA, NA, "1:2:3:4:5:6:192.0.2.1", SIP_HOST_IPV6, -1, NA, NA, .lr = false},
	{"sip:[FEDC:BA98:7654:3210:FEDC:BA98:7654:3210]", SIP_URI_SIP, NA, NA,
	 "FEDC:BA98:7654:3210:FEDC:BA98:7654:3210", SIP_HOST_IPV6, -1, NA, NA, .lr = false},
	/* RFC 5118 forms */
	{"sip:[2001:db8::10:5070]", SIP_URI_SIP, NA, NA, "2001:db8::10:5070", SIP_HOST_IPV6, -1, NA, NA, .lr = false},
	{"sip:[2001:db8::192.0.2.1]", SIP_URI_SIP, NA, NA, "2001:db8::192.0.2.1", SIP_HOST_IPV6, -1, NA, NA,
	 .lr = false},
	{"sip:[::192.0.2.1]", SIP_URI_SIP, NA, NA, "::192.0.2.1", SIP_HOST_IPV6, -1, NA, NA, .lr = false},
	{"sip:[2001:db8::9:255.255.255.255]", SIP_URI_SIP, NA, NA, "2001:db8::9:255.255.255.255", SIP_HOST_IPV6, -1,
	 NA, NA, .lr = false},
	/* RFC 4475 URIs */
	{"sip:sips%3Auser%40example.com@example.net", SIP_URI_SIP, "sips%3Auser%40example.com", NA, "example.net",
	 SIP_HOST_NAME, -1, NA, NA, .lr = false},                                                            /* esc01 */
	{"sip:%75se%72@example.com", SIP_URI_SIP, "%75se%72", NA, "example.com", SIP_HOST_NAME, -1, NA, NA, .lr = false},
	{"sip:I%20have%20spaces@example.net", SIP_URI_SIP, "I%20have%20spaces", NA, "example.net", SIP_HOST_NAME,
	 -1, NA, NA, .lr = false},
	{"sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31", SIP_URI_SIP, "cal%6Cer", NA,
	 "host5.example.net", SIP_HOST_NAME, -1, "%6C%72;n%61me=v%61lue%25%34%31", NA, .lr = true},
	{"sip:null-%00-null@example.com", SIP_URI_SIP, "null-%00-null", NA, "example.com", SIP_HOST_NAME, -1, NA,
	 NA, .lr = false},                                                                                   /* escnull */
	{"sip:%00%00@host5.example.com", SIP_URI_SIP, "%00%00", NA, "host5.example.com", SIP_HOST_NAME, -1, NA, NA, .lr = false},
	{"sip:user;par=u%40example.net@example.com", SIP_URI_SIP, "user;par=u%40example.net", NA, "example.com",
	 SIP_HOST_NAME, -1, NA, NA, .lr = false},                                                            /* semiuri */
	{"sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
	 "@example.com",
	 SIP_URI_SIP, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*", "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)",
	 "example.com", SIP_HOST_NAME, -1, NA, NA, .lr = false},                                             /* intmeth */
	{"sip:user@example.com?Route=%3Csip:sip.example.com%3E", SIP_URI_SIP, "user", NA, "example.com",
	 SIP_HOST_NAME, -1, NA, "Route=%3Csip:sip.example.com%3E", .lr = false},                            /* regescrt */
	{"sip:+19725552222@gw1.example.net;unknownparam", SIP_URI_SIP, "+19725552222", NA, "gw1.example.net",
	 SIP_HOST_NAME, -1, "unknownparam", NA, .lr = false},                                                /* cparam02 */
	{"sip:vivekg@chair-dnrc.example.com;unknownparam", SIP_URI_SIP, "vivekg", NA, "chair-dnrc.example.com",
	 SIP_HOST_NAME, -1, "unknownparam", NA, .lr = false},                                                /* wsinv */
	{"sip:services.example.com;lr;unknownwith=value;unknown-no-value", SIP_URI_SIP, NA, NA,
	 "services.example.com", SIP_HOST_NAME, -1, "lr;unknownwith=value;unknown-no-value", NA, .lr = true},
	{"sip:user@example.com:6000;unknownparam1=verylonglonglonglongvalue;longparamnamenamename=shortvalue;"
	 "verylongParameterNameWithNoValue",
	 SIP_URI_SIP, "user", NA, "example.com", SIP_HOST_NAME, 6000,
	 "unknownparam1=verylonglonglonglongvalue;longparamnamenamename=shortvalue;verylongParameterNameWithNoValue",
	 NA, .lr = false},                                                                                   /* longreq */
};

static void check_valid(const struct valid_vec *v, const struct sip_uri *u)
{
	assert_int_equal(u->scheme, v->scheme);
	check_str("raw", v->uri, u->raw, v->uri);
	const char *colon = strchr(v->uri, ':');
	assert_int_equal(u->scheme_str.len, (size_t)(colon - v->uri));
	check_str("opaque", v->uri, u->opaque, colon + 1);
	assert_int_equal(u->has_user, v->user != NA);
	check_str("user", v->uri, u->user, v->user);
	assert_int_equal(u->has_password, v->password != NA);
	check_str("password", v->uri, u->password, v->password);
	check_str("host", v->uri, u->host, v->host);
	assert_int_equal(u->host_type, v->ht);
	assert_int_equal(u->has_port, v->port >= 0);
	assert_int_equal(u->port, v->port >= 0 ? v->port : 0);
	check_str("params", v->uri, u->params, v->params);
	check_str("headers", v->uri, u->headers, v->headers);
	check_str("transport", v->uri, u->transport, v->transport);
	check_str("user_param", v->uri, u->user_param, v->user_param);
	check_str("method", v->uri, u->method, v->method);
	check_str("maddr", v->uri, u->maddr, v->maddr);
	check_str("ttl", v->uri, u->ttl, v->ttl);
	assert_int_equal(u->lr, v->lr);
}

static void test_valid_sip(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(valid) / sizeof(valid[0]); k++) {
		struct sip_uri u;
		size_t off = 12345;
		char *b;
		int r = parse_exact(&u, valid[k].uri, strlen(valid[k].uri), &b, &off);
		if (r != 0)
			print_error("%s: r=%d at %zu\n", valid[k].uri, r, off);
		assert_int_equal(r, 0);
		assert_int_equal(off, 12345); /* untouched on success */
		assert_ptr_equal(u.raw.p, b);
		free(b);
		r = sip_uri_parse(&u, valid[k].uri, strlen(valid[k].uri), NULL);
		assert_int_equal(r, 0);
		check_valid(&valid[k], &u);
		assert_true(sip_uri_equal(&u, &u));
	}
}

/* Every prefix of a valid URI parses or fails with an offset inside it. */
static void test_prefixes(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(valid) / sizeof(valid[0]); k++) {
		size_t n = strlen(valid[k].uri);
		for (size_t len = 0; len <= n; len++) {
			struct sip_uri u;
			size_t off = SIZE_MAX;
			char *b;
			int r = parse_exact(&u, valid[k].uri, len, &b, &off);
			if (r == 0)
				assert_int_equal(u.raw.len, len);
			else
				assert_true(r == SIP_EPARSE && off <= len);
			free(b);
		}
	}
}

/* ---- other schemes ---- */

static void test_other_schemes(void **state)
{
	(void)state;
	static const struct {
		const char *uri, *scheme, *opaque;
	} v[] = {
		{"nobodyKnowsThisScheme:totallyopaquecontent", "nobodyKnowsThisScheme", "totallyopaquecontent"},
		{"soap.beep://192.0.2.103:3002", "soap.beep", "//192.0.2.103:3002"},
		{"isbn:2983792873", "isbn", "2983792873"},
		{"http://www.example.com", "http", "//www.example.com"},
		{"http://host/a/b?c=d;e", "http", "//host/a/b?c=d;e"},
		{"name:John_Smith", "name", "John_Smith"},
		{"mailto:alice%40x@example.com", "mailto", "alice%40x@example.com"},
		{"urn:service:sos", "urn", "service:sos"},
		{"im:a+b-c.d@x", "im", "a+b-c.d@x"},
	};
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		struct sip_uri u;
		assert_int_equal(sip_uri_parse(&u, v[k].uri, strlen(v[k].uri), NULL), 0);
		assert_int_equal(u.scheme, SIP_URI_OTHER);
		check_str("scheme", v[k].uri, u.scheme_str, v[k].scheme);
		check_str("opaque", v[k].uri, u.opaque, v[k].opaque);
		assert_int_equal(u.host.len, 0);
		assert_false(u.has_user);
	}
}

/* ---- tel URIs ---- */

static void test_tel(void **state)
{
	(void)state;
	static const struct {
		const char *uri, *number, *params;
	} v[] = {
		{"tel:+1-201-555-0123", "+1-201-555-0123", NA},
		{"tel:+358-555-1234567;postd=pp22", "+358-555-1234567", "postd=pp22"},
		{"TEL:+1(800)555.0100;ext=1234", "+1(800)555.0100", "ext=1234"},
		{"tel:7042;phone-context=example.com", "7042", "phone-context=example.com"},
		{"tel:863-1234;phone-context=+1-914-555", "863-1234", "phone-context=+1-914-555"},
		{"tel:*21#;phone-context=+1", "*21#", "phone-context=+1"},
		{"tel:+1234;isub=a1%20b;foo=bar;x", "+1234", "isub=a1%20b;foo=bar;x"},
	};
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		struct sip_uri u;
		size_t off = 0;
		int r = sip_uri_parse(&u, v[k].uri, strlen(v[k].uri), &off);
		if (r)
			print_error("%s: %d at %zu\n", v[k].uri, r, off);
		assert_int_equal(r, 0);
		assert_int_equal(u.scheme, SIP_URI_TEL);
		check_str("number", v[k].uri, u.host, v[k].number);
		check_str("params", v[k].uri, u.params, v[k].params);
		assert_int_equal(u.host_type, SIP_HOST_NONE);
		assert_true(sip_uri_equal(&u, &u));
	}
}

/* ---- invalid URIs and the offset of the first bad byte ---- */

static void test_invalid(void **state)
{
	(void)state;
	static const struct {
		const char *uri;
		size_t off;
		int err;
	} v[] = {
		{"", 0, SIP_EPARSE},
		{"sip", 3, SIP_EPARSE},
		{"<sip:alice@atlanta.com>", 0, SIP_EPARSE}, /* a bracketed name-addr is not a URI */
		{"sip:alice@atlanta.com>", 21, SIP_EPARSE},
		{"1sip:a", 0, SIP_EPARSE},
		{"si p:a", 2, SIP_EPARSE},
		{"sip:", 4, SIP_EPARSE},                    /* empty host */
		{"sip:alice@", 10, SIP_EPARSE},
		{"sip:@atlanta.com", 4, SIP_EPARSE},        /* empty user */
		{"sip::pw@atlanta.com", 4, SIP_EPARSE},
		{"sip:I have spaces@example.net", 5, SIP_EPARSE},
		{"sip:alice@atlanta.com ", 21, SIP_EPARSE},
		{" sip:alice@atlanta.com", 0, SIP_EPARSE},
		{"sip:alice@atlanta\x01.com", 17, SIP_EPARSE},
		{"sip:al\x7f@x", 6, SIP_EPARSE},
		{"sip:al%4@x", 6, SIP_EPARSE},              /* short escape */
		{"sip:al%zz@x", 6, SIP_EPARSE},
		{"sip:a@b;x=%G1", 10, SIP_EPARSE},
		{"sip:a@b?h=%", 10, SIP_EPARSE},
		{"sip:a@b:", 8, SIP_EPARSE},                /* empty port */
		{"sip:a@b:65536", 8, SIP_EPARSE},
		{"sip:a@b:99999999999999999999", 8, SIP_EPARSE},
		{"sip:a@b:50x", 10, SIP_EPARSE},
		{"sip:a@b:-1", 8, SIP_EPARSE},
		{"sip:a@[::1", 10, SIP_EPARSE},             /* unbalanced bracket */
		{"sip:a@::1]", 6, SIP_EPARSE},
		{"sip:a@[::1]]", 11, SIP_EPARSE},
		{"sip:a@[]", 7, SIP_EPARSE},
		{"sip:[1:2:3:4:5:6:7:8:9]", 21, SIP_EPARSE}, /* nine groups */
		{"sip:[1:2:3:4:5:6:7]", 18, SIP_EPARSE},     /* seven groups, no :: */
		{"sip:[1::2::3]", 10, SIP_EPARSE},           /* a second :: */
		{"sip:[12345::]", 9, SIP_EPARSE},            /* five hex digits */
		{"sip:[:1::2]", 6, SIP_EPARSE},
		{"sip:[1:2:3:4:5:6:7:8::]", 20, SIP_EPARSE}, /* :: with eight groups */
		{"sip:[1:]", 7, SIP_EPARSE},
		{"sip:[::1.2.3.256]", 7, SIP_EPARSE},
		{"sip:[1:2:3:4:5:6:7:1.2.3.4]", 19, SIP_EPARSE}, /* IPv4 tail needs two groups */
		{"sip:[::1.2.3.4:5]", 7, SIP_EPARSE},
		{"sip:[fe80::1%25eth0]", 12, SIP_EPARSE},    /* zone ids are not SIP syntax */
		{"sip:alice@1.2.3.999", 16, SIP_EPARSE},
		{"sip:user@2001:db8::10", 9, SIP_EPARSE},    /* RFC 5118: IPv6 needs brackets */
		{"sip:[2001:db8:::192.0.2.1]", 15, SIP_EPARSE},
		{"sip:user@[2001:db8::10]:", 24, SIP_EPARSE},     /* neither IPv4 nor hostname */
		{"sip:alice@-bad.com", 10, SIP_EPARSE},
		{"sip:alice@bad-.com", 10, SIP_EPARSE},
		{"sip:alice@a..com", 12, SIP_EPARSE},
		{"sip:alice@under_score.com", 15, SIP_EPARSE},
		{"sip:a@b;", 8, SIP_EPARSE},                 /* empty pname */
		{"sip:a@b;;lr", 8, SIP_EPARSE},
		{"sip:a@b;x=", 10, SIP_EPARSE},              /* empty pvalue */
		{"sip:a@b;x=\"q\"", 10, SIP_EPARSE},
		{"sip:a@b;ttl=256", 12, SIP_EPARSE},
		{"sip:a@b;ttl=abc", 12, SIP_EPARSE},
		{"sip:a@b;ttl", 11, SIP_EPARSE},             /* well-known params need a value */
		{"sip:a@b;maddr=bad_host", 17, SIP_EPARSE},
		{"sip:a@b?", 8, SIP_EPARSE},                 /* empty headers */
		{"sip:a@b?x", 9, SIP_EPARSE},                /* hname without = */
		{"sip:a@b?x=1&", 12, SIP_EPARSE},
		{"sip:a@b?x=1;y=2", 11, SIP_EPARSE},
		{"sip:a@b#frag", 7, SIP_EPARSE},
		{"tel:", 4, SIP_EPARSE},
		{"tel:+", 5, SIP_EPARSE},
		{"tel:+-.", 5, SIP_EPARSE},
		{"tel:1234", 8, SIP_EPARSE},                 /* local number without phone-context */
		{"tel:1234;phone-context=", 23, SIP_EPARSE},
		{"tel:1234;phone-context=+", 23, SIP_EPARSE},
		{"tel:+1;ext=12a", 13, SIP_EPARSE},
		{"tel:+1;ext", 10, SIP_EPARSE},
		{"tel:+1 234", 6, SIP_EPARSE},
		{"tel:+1?x=y", 6, SIP_EPARSE},
		{"tel:+1;a_b=c", 8, SIP_EPARSE},
		{"tel:zz;phone-context=x.com", 4, SIP_EPARSE},
		{"nobodyKnowsThisScheme:", 22, SIP_EPARSE},  /* empty opaque */
		{"isbn:29 83", 7, SIP_EPARSE},
		{"http://host/a\"b", 13, SIP_EPARSE},
		{"x:%zz", 2, SIP_EPARSE},
	};
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		struct sip_uri u;
		size_t off = SIZE_MAX;
		char *b;
		int r = parse_exact(&u, v[k].uri, strlen(v[k].uri), &b, &off);
		free(b);
		if (r != v[k].err || off != v[k].off)
			print_error("'%s': r=%d off=%zu, expected r=%d off=%zu\n", v[k].uri, r, off, v[k].err, v[k].off);
		assert_int_equal(r, v[k].err);
		assert_int_equal(off, v[k].off);
	}
}

/* Un-bracketed addr-specs: the URI ends where header params begin (§20.10). */
static void test_addrspec(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int ret;        /* bytes of the URI, or the error */
		size_t off;     /* error offset */
		const char *host, *params;
	} v[] = {
		{"sip:caller@example.org;tag=33242", 22, 0, "example.org", NA},
		{"sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n", 33, 0, "chair-dnrc.example.com", NA},
		{"sip:user@[::1]:5060;tag=1", 19, 0, "::1", NA},
		{"sip:user;par=u%40example.net@example.com;tag=1", 40, 0, "example.com", NA},
		{"sips:a@b?x=1", 8, 0, "b", NA},
		{"sip:alice@atlanta.com, sip:bob@b", 21, 0, "atlanta.com", NA},
		{"sip:alice@atlanta.com", 21, 0, "atlanta.com", NA},
		{"tel:+1-201-555-0123;tag=x", 19, 0, "+1-201-555-0123", NA},
		{"isbn:2983792873", 15, 0, NA, NA},
		{"http://www.example.com;tag=3234233", 22, 0, NA, NA},
		{"<sip:a@b>", SIP_EPARSE, 0, NA, NA},
		{"sip:a@b:99999;tag=1", SIP_EPARSE, 8, NA, NA},
		{"sip:a@b_c;tag=1", SIP_EPARSE, 7, NA, NA},
		{"sip:a b@c", 5, 0, "a", NA}, /* the caller rejects what follows */
		{"tel:+1\\0;x", SIP_EPARSE, 6, NA, NA},
		{"", SIP_EPARSE, 0, NA, NA},
	};
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		struct sip_uri u;
		size_t off = SIZE_MAX;
		char *b;
		size_t len = strlen(v[k].text);
		char *nul = strstr(v[k].text, "\\0");
		b = malloc(len + 1);
		assert_non_null(b);
		memcpy(b, v[k].text, len);
		if (nul) { /* a literal NUL byte in the vector */
			b[nul - v[k].text] = '\0';
			memmove(b + (nul - v[k].text) + 1, b + (nul - v[k].text) + 2, len - (size_t)(nul - v[k].text) - 2);
			len--;
		}
		int r = sip_uri_parse_addrspec(&u, b, len, &off);
		if (r != v[k].ret)
			print_error("%s: %d at %zu\n", v[k].text, r, off);
		assert_int_equal(r, v[k].ret);
		if (r > 0) {
			check_str("host", v[k].text, u.host, v[k].host);
			check_str("params", v[k].text, u.params, v[k].params);
			assert_int_equal(u.raw.len, (size_t)r);
		} else {
			assert_int_equal(off, v[k].off);
		}
		free(b);
	}
}

static void test_limits(void **state)
{
	(void)state;
	struct sip_uri u;
	size_t off = 0;
	assert_int_equal(sip_uri_parse(NULL, "sip:a", 5, &off), SIP_EINVAL);
	assert_int_equal(sip_uri_parse(&u, NULL, 5, &off), SIP_EINVAL);

	/* one byte over SIP_URI_MAX_LEN */
	size_t n = SIP_URI_MAX_LEN + 1;
	char *big = malloc(n);
	assert_non_null(big);
	memcpy(big, "sip:", 4);
	memset(big + 4, 'a', n - 4);
	assert_int_equal(sip_uri_parse(&u, big, n, &off), SIP_ETOOBIG);
	assert_int_equal(off, SIP_URI_MAX_LEN);

	/* SIP_URI_MAX_PARAMS params pass, one more is too many */
	size_t len = (size_t)snprintf(big, n, "sip:h");
	for (int k = 0; k < SIP_URI_MAX_PARAMS; k++)
		len += (size_t)snprintf(big + len, n - len, ";p%d", k);
	assert_int_equal(sip_uri_parse(&u, big, len, &off), 0);
	size_t at = len;
	len += (size_t)snprintf(big + len, n - len, ";x");
	assert_int_equal(sip_uri_parse(&u, big, len, &off), SIP_ETOOBIG);
	assert_int_equal(off, at);

	/* a 63-byte label is fine, 64 is not; 255-byte hostname max */
	len = (size_t)snprintf(big, n, "sip:");
	memset(big + len, 'a', 63);
	memcpy(big + len + 63, ".com", 4);
	assert_int_equal(sip_uri_parse(&u, big, len + 67, &off), 0);
	memset(big + len, 'a', 64);
	memcpy(big + len + 64, ".com", 4);
	assert_int_equal(sip_uri_parse(&u, big, len + 68, &off), SIP_EPARSE);
	assert_int_equal(off, 4);
	free(big);
}

/* ---- RFC 3261 §19.1.4 comparison ---- */

struct eq_vec {
	const char *a, *b;
	bool equal;
};

static const struct eq_vec eqv[] = {
	/* §19.1.4: equivalent */
	{"sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp", true},
	{"sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5", true},
	{"sip:carol@chicago.com", "sip:carol@chicago.com;security=on", true},
	{"sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on", true},
	{"sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
	 "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com", true},
	{"sip:alice@atlanta.com?subject=project%20x&priority=urgent",
	 "sip:alice@atlanta.com?priority=urgent&subject=project%20x", true},
	/* §19.1.4: not equivalent */
	{"SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP", false},
	{"sip:bob@biloxi.com", "sip:bob@biloxi.com:5060", false},
	{"sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp", false},
	{"sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp", false},
	{"sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting", false},
	{"sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4", false},
	{"sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off", false},
	/* more rules */
	{"sip:alice@atlanta.com", "sips:alice@atlanta.com", false},
	{"sip:alice@atlanta.com", "sip:atlanta.com", false},
	{"sip:alice:pw@atlanta.com", "sip:alice@atlanta.com", false},
	{"sip:alice:pw@atlanta.com", "sip:alice:PW@atlanta.com", false},
	{"sip:alice:p%77@atlanta.com", "sip:alice:pw@atlanta.com", true},
	{"sip:a%3bb@h", "sip:a;b@h", false}, /* escaped reserved char differs */
	{"sip:a%3bb@h", "sip:a%3Bb@h", true},
	{"sip:a@h:5060", "sip:a@h:5060", true},
	{"sip:a@h:5060", "sip:a@h:5061", false},
	{"sip:a@h;user=phone", "sip:a@h", false},
	{"sip:a@h;ttl=1", "sip:a@h", false},
	{"sip:a@h;method=INVITE", "sip:a@h", false},
	{"sip:a@h;maddr=1.2.3.4", "sip:a@h", false},
	{"sip:a@h;maddr=1.2.3.4", "sip:a@h;MADDR=1.2.3.4", true},
	{"sip:a@h;lr", "sip:a@h", true},
	{"sip:a@h;lr", "sip:a@h;lr=on", false},
	{"sip:a@h;%74ransport=tcp", "sip:a@h;transport=TCP", true},
	{"sip:a@h;x=%41", "sip:a@h;X=a", true},
	{"sip:a@h?x=1", "sip:a@h?x=1&y=2", false},
	/* repeated params: the first occurrence is the one compared */
	{"sip:user;pas=u%40xaer;pas=u%40xam.ele.com", "sip:user;pas=u%40xaer;pas=u%40xam.ele.com", true},
	{"sip:h;x=1;x=2", "sip:h;x=1", true},
	{"sip:h;x=1;x=2", "sip:h;x=2", false},
	{"tel:+1;a=1;a=2", "tel:+1;a=1", true},
	{"sip:a@h?Subject=Hi", "sip:a@h?subject=Hi", true},
	{"sip:a@h?subject=Hi", "sip:a@h?subject=hi", false},
	{"sip:a@[2001:db8::10]", "sip:a@[2001:DB8:0:0:0:0:0:10]", true},
	{"sip:a@[::ffff:192.0.2.1]", "sip:a@[::FFFF:C000:0201]", true},
	{"sip:a@[::1]", "sip:a@[::2]", false},
	{"sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",
	 "sip:caller@host5.example.net;lr;name=value%2541", true}, /* RFC 4475 esc01 */
	/* tel (RFC 3966 §4) */
	{"tel:+1-201-555-0123", "tel:+12015550123", true},
	{"tel:+1-201-555-0123", "tel:+1(201)555.0124", false},
	{"tel:7042;phone-context=example.com", "tel:7042;phone-context=EXAMPLE.com", true},
	{"tel:7042;phone-context=example.com", "tel:+7042", false},
	{"tel:863-1234;phone-context=+1-914-555", "tel:8631234;phone-context=+1914555", true},
	{"tel:+1234;ext=1-2", "tel:+1234;ext=12", true},
	{"tel:+1234;a=b;c=d", "tel:+1234;c=d;a=B", true},
	{"tel:+1234;a=b", "tel:+1234", false},
	{"tel:+1234", "sip:+1234@h", false},
	/* other schemes */
	{"HTTP://www.example.com", "http://www.example.com", true},
	{"http://www.example.com", "http://WWW.example.com", false},
	{"isbn:2983792873", "isbn:2983792874", false},
	{"name:John_Smith", "other:John_Smith", false},
};

static void test_equal(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(eqv) / sizeof(eqv[0]); k++) {
		struct sip_uri a, b;
		assert_int_equal(sip_uri_parse(&a, eqv[k].a, strlen(eqv[k].a), NULL), 0);
		assert_int_equal(sip_uri_parse(&b, eqv[k].b, strlen(eqv[k].b), NULL), 0);
		bool ab = sip_uri_equal(&a, &b), ba = sip_uri_equal(&b, &a);
		if (ab != eqv[k].equal || ba != eqv[k].equal)
			print_error("%s vs %s: %d/%d, expected %d\n", eqv[k].a, eqv[k].b, ab, ba, eqv[k].equal);
		assert_int_equal(ab, eqv[k].equal);
		assert_int_equal(ba, eqv[k].equal); /* symmetric */
		assert_true(sip_uri_equal(&a, &a));
		assert_true(sip_uri_equal(&b, &b));
	}
	assert_false(sip_uri_equal(NULL, NULL));
}

/* ---- parameter iteration (uri-parameters and header params) ---- */

static void test_param_next(void **state)
{
	(void)state;
	static const struct {
		const char *list;
		const char *items[6][2]; /* name, value (NA: no value) */
		int n;
		bool bad; /* the list ends in SIP_EPARSE after n items */
	} v[] = {
		{"tag=abc;lr;expires=60", {{"tag", "abc"}, {"lr", NA}, {"expires", "60"}}, 3, false},
		{";tag=abc;lr", {{"tag", "abc"}, {"lr", NA}}, 2, false},
		{"; tag = 1918181833n", {{"tag", "1918181833n"}}, 1, false},          /* RFC 4475 wsinv */
		{"\r\n  ;\r\n  tag = 98asjd8", {{"tag", "98asjd8"}}, 1, false},
		{";   branch  =   z9hG4bK9ikj8  ", {{"branch", "z9hG4bK9ikj8"}}, 1, false},
		{"branch=\r\n z9hG4bK30239", {{"branch", "z9hG4bK30239"}}, 1, false},
		{"reason=\"a;b \\\" c\";x", {{"reason", "\"a;b \\\" c\""}, {"x", NA}}, 2, false},
		{"%6C%72;n%61me=v%61lue%25%34%31", {{"%6C%72", NA}, {"n%61me", "v%61lue%25%34%31"}}, 2, false},
		{"maddr=[2001:db8::1];received=192.0.2.1", {{"maddr", "[2001:db8::1]"}, {"received", "192.0.2.1"}}, 2,
		 false},
		{"fromParam''~+*_!.-%=x", {{"fromParam''~+*_!.-%", "x"}}, 1, false}, /* RFC 4475 intmeth */
		{"", {{NA}}, 0, false},
		{"   ", {{NA}}, 0, false},
		{"a;;b", {{"a", NA}}, 1, true},
		{"a;", {{"a", NA}}, 1, true},
		{"a=", {{NA}}, 0, true},
		{"a=\"open", {{NA}}, 0, true},
		{"a b", {{NA}}, 0, true},
		{"a=1,b=2", {{NA}}, 0, true},
		{"=1", {{NA}}, 0, true},
	};
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		struct sip_str cur = sip_str_c(v[k].list);
		struct sip_param prm;
		int n = 0, r;
		while ((r = sip_param_next(&cur, &prm)) == 1) {
			assert_true(n < v[k].n);
			check_str("name", v[k].list, prm.name, v[k].items[n][0]);
			assert_int_equal(prm.has_value, v[k].items[n][1] != NA);
			check_str("value", v[k].list, prm.value, v[k].items[n][1]);
			/* slices stay inside the list */
			assert_true(prm.name.p >= v[k].list && prm.name.p + prm.name.len <= v[k].list + strlen(v[k].list));
			n++;
		}
		assert_int_equal(n, v[k].n);
		assert_int_equal(r, v[k].bad ? SIP_EPARSE : 0);
	}
	struct sip_param prm;
	assert_int_equal(sip_param_next(NULL, &prm), SIP_EINVAL);
}

static void test_param_find(void **state)
{
	(void)state;
	struct sip_str l = SIP_STR("tag=abc;LR;Expires=60;%6C%72x;q=0.5");
	struct sip_param p;
	assert_int_equal(sip_param_find(l, SIP_STR("expires"), &p), 1);
	check_str("value", "find", p.value, "60");
	assert_int_equal(sip_param_find(l, SIP_STR("lr"), &p), 1);
	assert_false(p.has_value);
	check_str("name", "find", p.name, "LR");
	assert_int_equal(sip_param_find(l, SIP_STR("lrx"), &p), 1); /* escaped name */
	check_str("name", "find", p.name, "%6C%72x");
	assert_int_equal(sip_param_find(l, SIP_STR("q"), NULL), 1);
	assert_int_equal(sip_param_find(l, SIP_STR("ta"), &p), 0);
	assert_int_equal(sip_param_find(l, SIP_STR("branch"), &p), 0);
	assert_int_equal(sip_param_find(SIP_STR(""), SIP_STR("a"), &p), 0);
	/* a malformed list ends the search as "not found" */
	assert_int_equal(sip_param_find(SIP_STR("a;;b"), SIP_STR("b"), &p), 0);
}

static void test_unescape(void **state)
{
	(void)state;
	char buf[32];
	int n = sip_unescape(SIP_STR("v%61lue%25%34%31"), buf, sizeof(buf));
	assert_int_equal(n, 8);
	assert_memory_equal(buf, "value%41", 8);
	n = sip_unescape(SIP_STR("null-%00-null"), buf, sizeof(buf));
	assert_int_equal(n, 11);
	assert_memory_equal(buf, "null-\0-null", 11);
	assert_int_equal(sip_unescape(SIP_STR(""), buf, sizeof(buf)), 0);
	assert_int_equal(sip_unescape(SIP_STR("%7e%7E"), buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "~~", 2);
	assert_int_equal(sip_unescape(SIP_STR("ab%"), buf, sizeof(buf)), SIP_EPARSE);
	assert_int_equal(sip_unescape(SIP_STR("ab%4"), buf, sizeof(buf)), SIP_EPARSE);
	assert_int_equal(sip_unescape(SIP_STR("%g0"), buf, sizeof(buf)), SIP_EPARSE);
	assert_int_equal(sip_unescape(SIP_STR("abcd"), buf, 3), SIP_ETOOBIG);
	assert_int_equal(sip_unescape(SIP_STR("%41bc"), buf, 3), 3);
	assert_int_equal(sip_unescape(SIP_STR("x"), NULL, 0), SIP_ETOOBIG);
}

static void test_default_port(void **state)
{
	(void)state;
	static const struct {
		const char *uri;
		uint16_t port;
	} v[] = {
		{"sip:a@h", 5060},           {"sips:a@h", 5061},          {"sip:a@h;transport=TLS", 5061},
		{"sip:a@h;transport=tcp", 5060}, {"sips:a@h;transport=tcp", 5061}, {"tel:+1", 5060},
	};
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		struct sip_uri u;
		assert_int_equal(sip_uri_parse(&u, v[k].uri, strlen(v[k].uri), NULL), 0);
		assert_int_equal(sip_uri_default_port(&u), v[k].port);
	}
	assert_int_equal(sip_uri_default_port(NULL), 5060);
}

static void test_host_parse(void **state)
{
	(void)state;
	struct sip_str h;
	enum sip_host_type t;
	size_t off = 0;
	assert_int_equal(sip_host_parse(SIP_STR("192.0.2.2;branch=x"), &h, &t, &off), 9);
	assert_int_equal(t, SIP_HOST_IPV4);
	check_str("host", "hp", h, "192.0.2.2");
	assert_int_equal(sip_host_parse(SIP_STR("[::1]:5060"), &h, &t, &off), 5);
	assert_int_equal(t, SIP_HOST_IPV6);
	check_str("host", "hp", h, "::1");
	assert_int_equal(sip_host_parse(SIP_STR("spindle.example.com   ;"), &h, &t, &off), 19);
	assert_int_equal(t, SIP_HOST_NAME);
	assert_int_equal(sip_host_parse(SIP_STR(":5060"), &h, &t, &off), SIP_EPARSE);
	assert_int_equal(off, 0);
	assert_int_equal(sip_host_parse(SIP_STR("[::1"), &h, &t, &off), SIP_EPARSE);
	assert_int_equal(off, 4);
	assert_true(sip_host_equal(SIP_STR("Example.COM"), SIP_HOST_NAME, SIP_STR("example.com"), SIP_HOST_NAME));
	assert_true(sip_host_equal(SIP_STR("::"), SIP_HOST_IPV6, SIP_STR("0:0:0:0:0:0:0:0"), SIP_HOST_IPV6));
	assert_false(sip_host_equal(SIP_STR("1.2.3.4"), SIP_HOST_IPV4, SIP_STR("1.2.3.4"), SIP_HOST_NAME));
}

/* The Request-URI and every <URI> of RFC 4475 messages that hold valid URIs. */
static void test_rfc4475_files(void **state)
{
	(void)state;
	static const char *files[] = {"esc01",   "escnull", "semiuri",  "intmeth",  "longreq", "unkscm",
				      "novelsc", "unksm2",  "regescrt", "cparam02", "wsinv"};
	int total = 0;
	for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/rfc4475/%s.dat", SIP_TEST_DATA, files[k]);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		static char buf[16384];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		/* headers only: stop at the blank line */
		const char *end = buf + n;
		for (const char *q = buf; q + 3 < buf + n; q++) {
			if (memcmp(q, "\r\n\r\n", 4) == 0) {
				end = q;
				break;
			}
		}
		/* the Request-URI: second token of the first line */
		const char *sp = memchr(buf, ' ', (size_t)(end - buf));
		assert_non_null(sp);
		const char *sp2 = memchr(sp + 1, ' ', (size_t)(end - sp - 1));
		assert_non_null(sp2);
		struct sip_uri u;
		size_t off = 0;
		int r = sip_uri_parse(&u, sp + 1, (size_t)(sp2 - sp - 1), &off);
		if (r)
			print_error("%s R-URI: %d at %zu\n", files[k], r, off);
		assert_int_equal(r, 0);
		total++;
		for (const char *q = buf; q < end; q++) {
			if (*q != '<')
				continue;
			const char *gt = memchr(q, '>', (size_t)(end - q));
			if (!gt)
				break;
			r = sip_uri_parse(&u, q + 1, (size_t)(gt - q - 1), &off);
			if (r)
				print_error("%s <%.*s>: %d at %zu\n", files[k], (int)(gt - q - 1), q + 1, r, off);
			assert_int_equal(r, 0);
			total++;
			q = gt;
		}
	}
	assert_true(total >= 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_sip),     cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_other_schemes), cmocka_unit_test(test_tel),
		cmocka_unit_test(test_invalid),       cmocka_unit_test(test_limits),
		cmocka_unit_test(test_addrspec),
		cmocka_unit_test(test_equal),         cmocka_unit_test(test_param_next),
		cmocka_unit_test(test_param_find),    cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_default_port),  cmocka_unit_test(test_host_parse),
		cmocka_unit_test(test_rfc4475_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
