/* fuzz_uri.c — libFuzzer target for sip_uri_parse and the parameter helpers.
 * Checks invariants, not just "no crash": slices stay inside the input, a URI
 * equals itself, a re-parse of a copy gives the same fields, and comparison is
 * symmetric (input split at the first '\n' gives two URIs). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sip/uri.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *g_base;
static size_t g_size;

static void check_in(struct sip_str s)
{
	if (s.len == 0)
		return;
	if (s.p < g_base || s.p + s.len > g_base + g_size || s.len > g_size)
		abort();
}

/* Offset of a slice from base; (size_t)-1 for an absent one. */
static size_t rel(struct sip_str s, const char *base)
{
	return s.p ? (size_t)(s.p - base) : (size_t)-1;
}

static void same(struct sip_str a, const char *ba, struct sip_str b, const char *bb)
{
	if (a.len != b.len || (a.len && rel(a, ba) != rel(b, bb)))
		abort();
}

static void check_uri(const struct sip_uri *u, const char *p, size_t len)
{
	g_base = p;
	g_size = len;
	const struct sip_str *all[] = {&u->raw,	   &u->scheme_str, &u->opaque,	&u->user,      &u->password,
				       &u->host,   &u->params,	   &u->headers, &u->transport, &u->user_param,
				       &u->method, &u->maddr,	   &u->ttl};
	for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
		check_in(*all[k]);
	if (u->raw.p != p || u->raw.len != len)
		abort();
	if (!sip_uri_equal(u, u))
		abort();

	/* Re-parse a copy: same result, same fields at the same offsets. */
	char *copy = malloc(len ? len : 1);
	if (!copy)
		return;
	memcpy(copy, p, len);
	struct sip_uri v;
	if (sip_uri_parse(&v, copy, len, NULL) != 0)
		abort();
	const struct sip_str *bll[] = {&v.raw,	  &v.scheme_str, &v.opaque,  &v.user,	   &v.password,
				       &v.host,	  &v.params,	 &v.headers, &v.transport, &v.user_param,
				       &v.method, &v.maddr,	 &v.ttl};
	for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
		same(*all[k], p, *bll[k], copy);
	if (u->scheme != v.scheme || u->host_type != v.host_type || u->port != v.port ||
	    u->has_port != v.has_port || u->has_user != v.has_user || u->has_password != v.has_password ||
	    u->lr != v.lr)
		abort();
	if (!sip_uri_equal(u, &v) || !sip_uri_equal(&v, u))
		abort();
	free(copy);

	/* The parameter list of a parsed URI iterates cleanly to its end. */
	struct sip_str cur = u->params;
	struct sip_param prm;
	int r;
	while ((r = sip_param_next(&cur, &prm)) == 1) {
		check_in(prm.name);
		check_in(prm.value);
		if (prm.name.len == 0)
			abort();
	}
	if (r != 0 && u->scheme != SIP_URI_OTHER)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct sip_uri u;
	size_t off = (size_t)-1;
	int r = sip_uri_parse(&u, p, size, &off);
	if (r == 0)
		check_uri(&u, p, size);
	else if (off > size)
		abort();

	/* The same bytes as an un-bracketed addr-spec: a prefix that parses alone. */
	struct sip_uri w;
	int n0 = sip_uri_parse_addrspec(&w, p, size, &off);
	if (n0 > 0) {
		if ((size_t)n0 > size || w.raw.len != (size_t)n0 ||
		    sip_uri_parse(&u, p, (size_t)n0, NULL) != 0)
			abort();
		check_uri(&w, p, (size_t)n0);
	} else if (n0 == 0 || off > size) {
		abort();
	}

	/* The same bytes as a header-parameter list. */
	struct sip_str cur = {p, size};
	struct sip_param prm;
	g_base = p;
	g_size = size;
	while (sip_param_next(&cur, &prm) == 1) {
		check_in(prm.name);
		check_in(prm.value);
	}
	char buf[256];
	int n = sip_unescape((struct sip_str){p, size}, buf, sizeof(buf));
	if (n > (int)sizeof(buf))
		abort();

	/* Two URIs split at the first newline: equality is symmetric. */
	const char *nl = memchr(p, '\n', size);
	if (nl) {
		struct sip_uri a, b;
		size_t la = (size_t)(nl - p);
		if (sip_uri_parse(&a, p, la, NULL) == 0 &&
		    sip_uri_parse(&b, nl + 1, size - la - 1, NULL) == 0) {
			if (sip_uri_equal(&a, &b) != sip_uri_equal(&b, &a))
				abort();
		}
	}
	return 0;
}
