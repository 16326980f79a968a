/* uri_cmp.c — URI equivalence (RFC 3261 §19.1.4; RFC 3966 §4 for tel). */
#include <string.h>

#include "uri_int.h"

/* Parameters that must be present in both URIs or in neither (§19.1.4). */
static bool is_strict_param(struct sip_str name)
{
	static const struct sip_str strict[] = {SIP_STR("user"), SIP_STR("ttl"), SIP_STR("method"),
						SIP_STR("maddr"), SIP_STR("transport")};
	for (size_t k = 0; k < sizeof(strict) / sizeof(strict[0]); k++)
		if (sip__esc_eq(name, strict[k], true))
			return true;
	return false;
}

static bool opt_eq(struct sip_str a, struct sip_str b)
{
	if ((a.len != 0) != (b.len != 0))
		return false;
	return sip__esc_eq(a, b, true);
}

/* Every other-param of a that b also has must carry an equal value there. */
static bool other_params_agree(struct sip_str a, struct sip_str b)
{
	struct sip_param x, y;
	struct sip_str cur = a;
	while (sip_param_next(&cur, &x) == 1) {
		if (is_strict_param(x.name) || !sip__param_is_first(a, x))
			continue;
		if (sip_param_find(b, x.name, &y) != 1)
			continue;
		if (x.has_value != y.has_value || !sip__esc_eq(x.value, y.value, true))
			return false;
	}
	return true;
}

/* Splits the next hname=hvalue off a '&'-separated list. */
static bool header_next(struct sip_str *cur, struct sip_str *name, struct sip_str *value)
{
	if (cur->len == 0)
		return false;
	const char *amp = memchr(cur->p, '&', cur->len);
	size_t n = amp ? (size_t)(amp - cur->p) : cur->len;
	const char *eq = memchr(cur->p, '=', n);
	size_t nl = eq ? (size_t)(eq - cur->p) : n;
	*name = (struct sip_str){cur->p, nl};
	*value = eq ? (struct sip_str){eq + 1, n - nl - 1} : (struct sip_str){cur->p + n, 0};
	cur->p += amp ? n + 1 : n;
	cur->len -= amp ? n + 1 : n;
	return true;
}

/* Every header of a appears in b with an equal value (names ignore case). */
static bool headers_in(struct sip_str a, struct sip_str b)
{
	struct sip_str an, av, bn, bv;
	while (header_next(&a, &an, &av)) {
		struct sip_str cur = b;
		bool found = false;
		while (!found && header_next(&cur, &bn, &bv))
			found = sip__esc_eq(an, bn, true) && sip__esc_eq(av, bv, false);
		if (!found)
			return false;
	}
	return true;
}

bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	if (!a || !b || a->scheme != b->scheme)
		return false;
	switch (a->scheme) {
	case SIP_URI_SIP:
	case SIP_URI_SIPS:
		break;
	case SIP_URI_TEL:
		return sip__tel_equal(a, b);
	default:
		return sip_str_caseeq(a->scheme_str, b->scheme_str) && sip_str_eq(a->opaque, b->opaque);
	}
	/* userinfo: case-sensitive, escapes of unreserved chars equal the chars */
	if (a->has_user != b->has_user || !sip__esc_eq(a->user, b->user, false))
		return false;
	if (a->has_password != b->has_password || !sip__esc_eq(a->password, b->password, false))
		return false;
	if (!sip_host_equal(a->host, a->host_type, b->host, b->host_type))
		return false;
	if (a->has_port != b->has_port || a->port != b->port)
		return false;
	if (!opt_eq(a->transport, b->transport) || !opt_eq(a->user_param, b->user_param) ||
	    !opt_eq(a->method, b->method) || !opt_eq(a->maddr, b->maddr) || !opt_eq(a->ttl, b->ttl))
		return false;
	if (!other_params_agree(a->params, b->params) || !other_params_agree(b->params, a->params))
		return false;
	return headers_in(a->headers, b->headers) && headers_in(b->headers, a->headers);
}
