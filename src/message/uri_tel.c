/* uri_tel.c — tel URIs (RFC 3966 §3 syntax, §4 comparison). */
#include "uri_int.h"

static bool is_visual(unsigned char c)
{
	return c == '-' || c == '.' || c == '(' || c == ')';
}

/* global-number-digits = "+" *phonedigit DIGIT *phonedigit; returns the end
 * offset, or start when the run holds no digit. */
static size_t scan_global(const char *p, size_t len, size_t i)
{
	size_t s = i;
	bool digit = false;
	if (i >= len || p[i] != '+')
		return s;
	i++;
	while (i < len && (SIP_IS(p[i], SIP_C_DIGIT) || is_visual((unsigned char)p[i]))) {
		digit |= SIP_IS(p[i], SIP_C_DIGIT);
		i++;
	}
	return digit ? i : s;
}

/* local-number-digits = *phonedigit-hex (HEXDIG / "*" / "#") *phonedigit-hex */
static size_t scan_local(const char *p, size_t len, size_t i)
{
	size_t s = i;
	bool digit = false;
	while (i < len) {
		unsigned char c = (unsigned char)p[i];
		if (SIP_IS(c, SIP_C_HEX) || c == '*' || c == '#')
			digit = true;
		else if (!is_visual(c))
			break;
		i++;
	}
	return digit ? i : s;
}

int sip__tel_parse(struct sip_uri *u, const char *p, size_t len, size_t off, size_t *bad)
{
	size_t i = off;
	bool global = i < len && p[i] == '+';
	size_t e = global ? scan_global(p, len, i) : scan_local(p, len, i);
	if (e == i) {
		*bad = global ? i + 1 : i;
		return SIP_EPARSE;
	}
	u->host = (struct sip_str){p + i, e - i};
	u->host_type = SIP_HOST_NONE;
	i = e;

	bool context = false;
	unsigned n = 0;
	size_t ps = i + 1;
	while (i < len && p[i] == ';') {
		if (++n > SIP_URI_MAX_PARAMS) {
			*bad = i;
			return SIP_ETOOBIG;
		}
		/* pname = 1*( alphanum / "-" ) */
		size_t ns = i + 1, k = ns;
		while (k < len && (SIP_IS(p[k], SIP_C_ALPHA | SIP_C_DIGIT) || p[k] == '-'))
			k++;
		if (k == ns) {
			*bad = k;
			return SIP_EPARSE;
		}
		struct sip_str name = {p + ns, k - ns};
		if (k < len && p[k] == '=') {
			size_t vs = k + 1;
			size_t v = sip__scan_esc(p, len, vs, SIP_C_PARAM);
			if (v == vs) {
				*bad = v;
				return SIP_EPARSE;
			}
			if (sip_str_caseeq(name, SIP_STR("phone-context"))) {
				/* descriptor = domainname / global-number-digits */
				bool ok = p[vs] == '+' ? scan_global(p, v, vs) == v
						       : sip__is_hostname(p + vs, v - vs);
				if (!ok) {
					*bad = vs;
					return SIP_EPARSE;
				}
				context = true;
			} else if (sip_str_caseeq(name, SIP_STR("ext"))) {
				for (size_t x = vs; x < v; x++) {
					if (!SIP_IS(p[x], SIP_C_DIGIT) && !is_visual((unsigned char)p[x])) {
						*bad = x;
						return SIP_EPARSE;
					}
				}
			}
			k = v;
		} else if (sip_str_caseeq(name, SIP_STR("phone-context")) ||
			   sip_str_caseeq(name, SIP_STR("ext")) || sip_str_caseeq(name, SIP_STR("isub"))) {
			*bad = k;
			return SIP_EPARSE;
		}
		i = k;
	}
	if (n)
		u->params = (struct sip_str){p + ps, i - ps};
	if (i != len) {
		*bad = i; /* tel URIs carry no ?headers */
		return SIP_EPARSE;
	}
	if (!global && !context) {
		*bad = len; /* a local number needs its phone-context (§5.1.5) */
		return SIP_EPARSE;
	}
	return 0;
}

/* Compares two digit strings ignoring visual separators and case. */
static bool digits_eq(struct sip_str a, struct sip_str b)
{
	size_t i = 0, j = 0;
	for (;;) {
		while (i < a.len && is_visual((unsigned char)a.p[i]))
			i++;
		while (j < b.len && is_visual((unsigned char)b.p[j]))
			j++;
		if (i == a.len || j == b.len)
			return i == a.len && j == b.len;
		if (sip__lower[(unsigned char)a.p[i]] != sip__lower[(unsigned char)b.p[j]])
			return false;
		i++;
		j++;
	}
}

static bool tel_value_eq(struct sip_param x, struct sip_param y)
{
	if (x.has_value != y.has_value)
		return false;
	if (sip_str_caseeq(x.name, SIP_STR("ext")) ||
	    (sip_str_caseeq(x.name, SIP_STR("phone-context")) && x.value.len && x.value.p[0] == '+'))
		return digits_eq(x.value, y.value);
	return sip__esc_eq(x.value, y.value, true);
}

/* Every parameter of a has a same-named, equal one in b. */
static bool tel_params_in(struct sip_str a, struct sip_str b)
{
	struct sip_param x, y;
	struct sip_str cur = a;
	while (sip_param_next(&cur, &x) == 1) {
		if (!sip__param_is_first(a, x))
			continue;
		if (sip_param_find(b, x.name, &y) != 1 || !tel_value_eq(x, y))
			return false;
	}
	return true;
}

bool sip__tel_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	bool ga = a->host.len && a->host.p[0] == '+', gb = b->host.len && b->host.p[0] == '+';
	if (ga != gb || !digits_eq(a->host, b->host))
		return false;
	return tel_params_in(a->params, b->params) && tel_params_in(b->params, a->params);
}
