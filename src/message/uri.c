/* uri.c — URI parsing (RFC 3261 §19.1.1 and §25 for sip/sips; RFC 3986
 * scheme syntax for the rest). Zero-copy: every field slices the input. */
#include <string.h>

#include "uri_int.h"

static int fail(size_t *err_off, size_t at, int err)
{
	if (err_off)
		*err_off = at;
	return err;
}

/* uri-parameters: *( ";" pname [ "=" pvalue ] ), pname/pvalue 1*paramchar. */
static int scan_params(const char *p, size_t len, size_t *pi, size_t *bad)
{
	size_t i = *pi;
	unsigned n = 0;
	while (i < len && p[i] == ';') {
		if (++n > SIP_URI_MAX_PARAMS) {
			*bad = i;
			return SIP_ETOOBIG;
		}
		size_t k = sip__scan_esc(p, len, i + 1, SIP_C_PARAM);
		if (k == i + 1) {
			*bad = k;
			return SIP_EPARSE;
		}
		if (k < len && p[k] == '=') {
			size_t v = sip__scan_esc(p, len, k + 1, SIP_C_PARAM);
			if (v == k + 1) {
				*bad = v;
				return SIP_EPARSE;
			}
			k = v;
		}
		i = k;
	}
	*pi = i;
	return 0;
}

/* headers: "?" hname "=" hvalue *( "&" hname "=" hvalue ); hvalue may be empty. */
static int scan_headers(const char *p, size_t len, size_t *pi, size_t *bad)
{
	size_t i = *pi;
	unsigned n = 0;
	do {
		if (++n > SIP_URI_MAX_HEADERS) {
			*bad = i;
			return SIP_ETOOBIG;
		}
		size_t k = sip__scan_esc(p, len, i + 1, SIP_C_HDRCH);
		if (k == i + 1 || k >= len || p[k] != '=') {
			*bad = k;
			return SIP_EPARSE;
		}
		i = sip__scan_esc(p, len, k + 1, SIP_C_HDRCH);
	} while (i < len && p[i] == '&');
	*pi = i;
	return 0;
}

#define name_is(name, lit) sip__esc_eq((name), SIP_STR(lit), true)

enum { P_OTHER, P_LR, P_TRANSPORT, P_USER, P_METHOD, P_MADDR, P_TTL };

/* Which well-known uri-parameter a name is. A name without '%' is compared
 * directly, dispatched on its length; only an escaped name ("%6cr" is lr)
 * takes the §19.1.4 escape-aware comparison. */
static int param_kind(struct sip_str n)
{
	if (!memchr(n.p, '%', n.len)) {
		switch (n.len) {
		case 2: return sip__letters_caseeq(n.p, "lr", 2) ? P_LR : P_OTHER;
		case 3: return sip__letters_caseeq(n.p, "ttl", 3) ? P_TTL : P_OTHER;
		case 4: return sip__letters_caseeq(n.p, "user", 4) ? P_USER : P_OTHER;
		case 5: return sip__letters_caseeq(n.p, "maddr", 5) ? P_MADDR : P_OTHER;
		case 6: return sip__letters_caseeq(n.p, "method", 6) ? P_METHOD : P_OTHER;
		case 9: return sip__letters_caseeq(n.p, "transport", 9) ? P_TRANSPORT : P_OTHER;
		default: return P_OTHER;
		}
	}
	if (name_is(n, "lr"))
		return P_LR;
	if (name_is(n, "transport"))
		return P_TRANSPORT;
	if (name_is(n, "user"))
		return P_USER;
	if (name_is(n, "method"))
		return P_METHOD;
	if (name_is(n, "maddr"))
		return P_MADDR;
	if (name_is(n, "ttl"))
		return P_TTL;
	return P_OTHER;
}

/* Pre-extracts the well-known uri-parameters (first occurrence wins). */
static int pick_params(struct sip_uri *u, size_t base, size_t *bad)
{
	struct sip_str cur = u->params;
	struct sip_param prm;
	int r;
	while ((r = sip_param_next(&cur, &prm)) == 1) {
		struct sip_str *slot = NULL;
		switch (param_kind(prm.name)) {
		case P_LR: u->lr = true; continue;
		case P_TRANSPORT: slot = &u->transport; break;
		case P_USER: slot = &u->user_param; break;
		case P_METHOD: slot = &u->method; break;
		case P_MADDR: slot = &u->maddr; break;
		case P_TTL: slot = &u->ttl; break;
		default: continue;
		}
		/* These five carry meaning in §19.1.4 comparisons: a value is required. */
		if (!prm.has_value) {
			*bad = base + (size_t)(prm.name.p + prm.name.len - u->params.p);
			return SIP_EPARSE;
		}
		size_t voff = base + (size_t)(prm.value.p - u->params.p);
		if (slot == &u->ttl) {
			uint32_t t;
			if (prm.value.len > 3 || sip__to_u32(prm.value.p, prm.value.len, &t) < 0 || t > 255) {
				*bad = voff;
				return SIP_EPARSE;
			}
		} else if (slot == &u->maddr) {
			struct sip_str h;
			enum sip_host_type ht;
			size_t hb = 0;
			int hr = sip__host_scan(prm.value.p, prm.value.len, &h, &ht, &hb);
			if (hr < 0 || (size_t)hr != prm.value.len) {
				*bad = voff + (hr < 0 ? hb : (size_t)hr);
				return SIP_EPARSE;
			}
		}
		if (slot->p == NULL)
			*slot = prm.value;
	}
	if (r < 0) {
		*bad = base + (size_t)(cur.p - u->params.p);
		return SIP_EPARSE;
	}
	return 0;
}

/* sip/sips: [ userinfo "@" ] hostport uri-parameters [ headers ], from p[i]. */
static int parse_sip(struct sip_uri *u, const char *p, size_t len, size_t i, size_t *bad)
{
	int r;
	if (memchr(p + i, '@', len - i)) {
		size_t k = sip__scan_esc(p, len, i, SIP_C_USER);
		if (k == i) {
			*bad = i; /* user = 1*( ... ) */
			return SIP_EPARSE;
		}
		u->user = (struct sip_str){p + i, k - i};
		u->has_user = true;
		if (k < len && p[k] == ':') {
			size_t w = sip__scan_esc(p, len, k + 1, SIP_C_PASSWD);
			u->password = (struct sip_str){p + k + 1, w - k - 1};
			u->has_password = true;
			k = w;
		}
		if (k >= len || p[k] != '@') {
			*bad = k;
			return SIP_EPARSE;
		}
		i = k + 1;
	}

	size_t hb = 0;
	r = sip__host_scan(p + i, len - i, &u->host, &u->host_type, &hb);
	if (r < 0) {
		*bad = i + hb;
		return r;
	}
	i += (size_t)r;

	if (i < len && p[i] == ':') {
		size_t ds = ++i;
		uint32_t port = 0;
		while (i < len && p[i] >= '0' && p[i] <= '9') {
			port = port * 10 + (uint32_t)(p[i] - '0');
			if (port > 65535) {
				*bad = ds;
				return SIP_EPARSE;
			}
			i++;
		}
		if (i == ds) {
			*bad = i;
			return SIP_EPARSE;
		}
		u->port = (uint16_t)port;
		u->has_port = true;
	}

	if (i < len && p[i] == ';') {
		size_t ps = i + 1;
		if ((r = scan_params(p, len, &i, bad)) < 0)
			return r;
		u->params = (struct sip_str){p + ps, i - ps};
		if ((r = pick_params(u, ps, bad)) < 0)
			return r;
	}
	if (i < len && p[i] == '?') {
		size_t hs = i + 1;
		if ((r = scan_headers(p, len, &i, bad)) < 0)
			return r;
		u->headers = (struct sip_str){p + hs, i - hs};
	}
	if (i != len) {
		*bad = i;
		return SIP_EPARSE;
	}
	return 0;
}

/* absoluteURI = scheme ":" ( hier-part / opaque-part ): a non-empty run of
 * uric or escapes ('[' and ']' admitted for RFC 3986 IP literals). */
static int parse_other(const char *p, size_t len, size_t i, size_t *bad)
{
	size_t s = i;
	while (i < len) {
		if (SIP_IS(p[i], SIP_C_URIC) || p[i] == '[' || p[i] == ']')
			i++;
		else if (sip__esc_ok(p, len, i))
			i += 3;
		else
			break;
	}
	if (i == s || i != len) {
		*bad = i;
		return SIP_EPARSE;
	}
	return 0;
}

/* Case-insensitive "sip:" / "sips:" at p (n bytes): 3 or 4 for the scheme's
 * length, 0 for anything else. OR-ing 0x20 folds only 'S'/'I'/'P' onto
 * 's'/'i'/'p'; ':' is compared exactly. */
static size_t sip_scheme_len(const char *p, size_t n)
{
	uint32_t w;
	if (n < 4)
		return 0;
	memcpy(&w, p, 4);
	w = (w | 0x00202020u) & 0x00ffffffu;
	if (w != ((uint32_t)'s' | (uint32_t)'i' << 8 | (uint32_t)'p' << 16))
		return 0;
	if (p[3] == ':')
		return 3;
	if ((p[3] | 0x20) == 's' && n > 4 && p[4] == ':')
		return 4;
	return 0;
}

int sip_uri_parse(struct sip_uri *out, const char *p, size_t len, size_t *err_off)
{
	if (!out || (!p && len))
		return fail(err_off, 0, SIP_EINVAL);
	/* Parsed in place: *out is cleared once here and again on failure, so
	 * a failed parse still leaves it all zero. */
	memset(out, 0, sizeof(*out));
	if (len > SIP_URI_MAX_LEN)
		return fail(err_off, SIP_URI_MAX_LEN, SIP_ETOOBIG);

	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	size_t i = sip_scheme_len(p, len);
	struct sip_uri *u = out;
	size_t bad = 0;
	int r;
	if (i) {
		u->scheme = i == 3 ? SIP_URI_SIP : SIP_URI_SIPS;
	} else {
		if (len == 0 || !SIP_IS(p[0], SIP_C_ALPHA))
			return fail(err_off, 0, SIP_EPARSE);
		while (i < len &&
		       (SIP_IS(p[i], SIP_C_ALPHA | SIP_C_DIGIT) || p[i] == '+' || p[i] == '-' || p[i] == '.'))
			i++;
		if (i == len || p[i] != ':')
			return fail(err_off, i, SIP_EPARSE);
		struct sip_str sch = {p, i};
		if (sip_str_caseeq(sch, SIP_STR("sip")))
			u->scheme = SIP_URI_SIP;
		else if (sip_str_caseeq(sch, SIP_STR("sips")))
			u->scheme = SIP_URI_SIPS;
		else if (sip_str_caseeq(sch, SIP_STR("tel")))
			u->scheme = SIP_URI_TEL;
		else
			u->scheme = SIP_URI_OTHER;
	}
	u->raw = (struct sip_str){p, len};
	u->scheme_str = (struct sip_str){p, i};
	u->opaque = (struct sip_str){p + i + 1, len - i - 1};
	i++;

	if (u->scheme == SIP_URI_SIP || u->scheme == SIP_URI_SIPS)
		r = parse_sip(u, p, len, i, &bad);
	else if (u->scheme == SIP_URI_TEL)
		r = sip__tel_parse(u, p, len, i, &bad);
	else
		r = parse_other(p, len, i, &bad);
	if (r < 0) {
		memset(out, 0, sizeof(*out));
		return fail(err_off, bad, r);
	}
	return 0;
}

uint16_t sip_uri_default_port(const struct sip_uri *u)
{
	if (u && (u->scheme == SIP_URI_SIPS || sip_str_caseeq(u->transport, SIP_STR("tls"))))
		return 5061;
	return 5060;
}

static bool is_scheme_char(char c)
{
	return SIP_IS(c, SIP_C_ALPHA | SIP_C_DIGIT) || c == '+' || c == '-' || c == '.';
}

/* The URI may end at i only before ';', '?', or the limit (LWS, ','); any
 * other byte belongs to it and is reported by the full parse. */
static size_t addrspec_stop(const char *p, size_t lim, size_t i)
{
	return i == lim || p[i] == ';' || p[i] == '?' ? i : lim;
}

/* Where the URI of an un-bracketed addr-spec ends: after hostport for
 * sip/sips, after the number for tel, before ';' or '?' otherwise (§20.10:
 * what follows is header parameters). Malformed input returns a length that
 * lets sip_uri_parse() report the right bad byte. */
static size_t addrspec_end(const char *p, size_t len)
{
	size_t i = 0;
	while (i < len && is_scheme_char(p[i]))
		i++;
	if (i == len || p[i] != ':')
		return i;
	struct sip_str scheme = {p, i};
	size_t s = ++i, lim = s;
	while (lim < len && !sip__is_ws((unsigned char)p[lim]) && p[lim] != ',' && p[lim] != '"' &&
	       p[lim] != '<' && p[lim] != '>')
		lim++;
	if (sip_str_caseeq(scheme, SIP_STR("sip")) || sip_str_caseeq(scheme, SIP_STR("sips"))) {
		const char *at = memchr(p + s, '@', lim - s);
		if (at)
			i = (size_t)(at - p) + 1;
		struct sip_str h;
		enum sip_host_type ht;
		size_t bad;
		int r = sip__host_scan(p + i, lim - i, &h, &ht, &bad);
		if (r < 0)
			return lim;
		i += (size_t)r;
		if (i < lim && p[i] == ':') {
			i++;
			while (i < lim && SIP_IS(p[i], SIP_C_DIGIT))
				i++;
		}
		return addrspec_stop(p, lim, i);
	}
	if (sip_str_caseeq(scheme, SIP_STR("tel"))) {
		if (i < lim && p[i] == '+')
			i++;
		while (i < lim &&
		       (SIP_IS(p[i], SIP_C_HEX) || (p[i] != '\0' && strchr("*#-.()", p[i]) != NULL)))
			i++;
		return addrspec_stop(p, lim, i);
	}
	while (i < lim && p[i] != ';' && p[i] != '?')
		i++;
	return i;
}

int sip_uri_parse_addrspec(struct sip_uri *out, const char *p, size_t len, size_t *err_off)
{
	if (!out || (!p && len))
		return fail(err_off, 0, SIP_EINVAL);
	size_t end = addrspec_end(p, len > SIP_URI_MAX_LEN ? SIP_URI_MAX_LEN + 1 : len);
	int r = sip_uri_parse(out, p, end, err_off);
	return r < 0 ? r : (int)end;
}

struct sip_str sip_uri_request_form(struct sip_str uri)
{
	struct sip_uri u;
	if (!uri.len || sip_uri_parse(&u, uri.p, uri.len, NULL) < 0 ||
	    (u.scheme != SIP_URI_SIP && u.scheme != SIP_URI_SIPS) || !u.headers.p)
		return uri;
	/* u.headers starts right after its '?'. */
	return (struct sip_str){uri.p, (size_t)(u.headers.p - 1 - uri.p)};
}
