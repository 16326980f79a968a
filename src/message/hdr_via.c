/* hdr_via.c — the Via header value (RFC 3261 §20.42, §25 via-parm; RFC 3581 rport). */
#include <sip/msg.h>
#include <string.h>

#include "scan.h"
#include "uri_int.h"

/* IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each <= 255. */
static bool ipv4_ok(const char *p, const char *e)
{
	for (int i = 0; i < 4; i++) {
		if (i > 0) {
			if (p == e || *p != '.')
				return false;
			p++;
		}
		const char *d = p;
		unsigned v = 0;
		while (p < e && *p >= '0' && *p <= '9' && p - d < 3)
			v = v * 10 + (unsigned)(*p++ - '0');
		if (p == d || v > 255)
			return false;
	}
	return p == e;
}

/* IPv6address (§25: hexpart [":" IPv4address]), without brackets. */
static bool ipv6_ok(const char *p, const char *e)
{
	int groups = 0;
	bool dbl = false;
	if (e - p >= 2 && p[0] == ':' && p[1] == ':') {
		dbl = true;
		p += 2;
		if (p == e)
			return true;
	}
	for (;;) {
		const char *g = p;
		while (p < e && sip__hexval((unsigned char)*p) >= 0 && p - g < 5)
			p++;
		if (p < e && *p == '.') {
			if (!ipv4_ok(g, e))
				return false;
			groups += 2;
			break;
		}
		if (p == g || p - g > 4)
			return false;
		groups++;
		if (p == e)
			break;
		if (*p != ':')
			return false;
		p++;
		if (p < e && *p == ':') {
			if (dbl)
				return false;
			dbl = true;
			p++;
			if (p == e)
				break;
		} else if (p == e) {
			return false;
		}
		if (groups > 8)
			return false;
	}
	return dbl ? groups <= 7 : groups == 8;
}

/* Classifies a host (IPv6 without brackets when bracketed was stripped). */
static enum sip_host_type host_type(const char *p, const char *e, bool bracketed)
{
	if (bracketed)
		return ipv6_ok(p, e) ? SIP_HOST_IPV6 : SIP_HOST_NONE;
	/* One pass over the bytes, shared with the URI parser; Via takes no
	 * DNS length caps. The whole of [p, e) must be the host. */
	size_t n = (size_t)(e - p), bad;
	if (n && *p >= '0' && *p <= '9' && sip__ipv4_len(p, n) == n)
		return SIP_HOST_IPV4;
	return n && sip__hostname_scan(p, n, false, &bad) == n && bad == n ? SIP_HOST_NAME : SIP_HOST_NONE;
}

/* Parses decimal digits [p, e) into a port; SIP_EPARSE/SIP_ERANGE. */
static int port_parse(const char *p, const char *e, uint16_t *out)
{
	uint32_t v;
	int rc = sip__to_u32(p, (size_t)(e - p), &v);
	if (rc)
		return rc;
	if (v > 65535)
		return SIP_ERANGE;
	*out = (uint16_t)v;
	return 0;
}

/* Checks one via-param the grammar constrains and records it. Returns 0 or an error with *bad. */
static int via_param(struct sip_via *v, const struct sip_param *prm, const char **bad)
{
	const char *vp = prm->value.p, *ve = vp ? vp + prm->value.len : vp;
	const char *colon = prm->has_value ? memchr(vp, ':', prm->value.len) : NULL;
	if (colon && *vp != '[' && !SIP__IS_NAME(prm->name, "received")) {
		*bad = colon; /* only received= may hold a bare IPv6 address */
		return SIP_EPARSE;
	}
	if (SIP__IS_NAME(prm->name, "branch")) {
		if (!prm->has_value || *vp == '"')
			goto bad_value;
		if (!v->has_branch) {
			v->branch = prm->value;
			v->has_branch = true;
		}
	} else if (SIP__IS_NAME(prm->name, "received")) {
		if (!prm->has_value)
			goto bad_value;
		bool br = *vp == '[';
		if (br) {
			vp++;
			ve--;
		}
		/* An address, never a name; IPv6 with or without brackets. */
		if (br ? !ipv6_ok(vp, ve) : !(ipv4_ok(vp, ve) || ipv6_ok(vp, ve)))
			goto bad_value;
		if (!v->has_received) {
			v->received = (struct sip_str){vp, (size_t)(ve - vp)};
			v->has_received = true;
		}
	} else if (SIP__IS_NAME(prm->name, "rport")) {
		uint16_t port;
		if (prm->has_value) {
			int rc = port_parse(vp, ve, &port);
			if (rc) {
				*bad = vp;
				return rc;
			}
		}
		if (!v->has_rport) {
			v->has_rport = true;
			v->rport_has_value = prm->has_value;
			v->rport = prm->value;
		}
	} else if (SIP__IS_NAME(prm->name, "maddr")) {
		if (!prm->has_value)
			goto bad_value;
		bool br = *vp == '[';
		if (host_type(vp + br, ve - br, br) == SIP_HOST_NONE)
			goto bad_value;
		if (!v->maddr.len)
			v->maddr = prm->value;
	} else if (SIP__IS_NAME(prm->name, "ttl")) {
		uint32_t ttl;
		if (!prm->has_value || prm->value.len > 3 || sip__to_u32(prm->value.p, prm->value.len, &ttl))
			goto bad_value;
		if (ttl > 255) {
			*bad = vp;
			return SIP_ERANGE;
		}
		if (!v->ttl.len)
			v->ttl = prm->value;
	}
	return 0;
bad_value:
	*bad = prm->has_value ? prm->value.p : prm->name.p + prm->name.len;
	return SIP_EPARSE;
}

/* Scans the sent-by host at p into v; returns the byte after it or NULL (*bad set). */
static const char *sent_by_host(struct sip_via *v, const char *p, const char *e, const char **bad)
{
	const char *h = p;
	if (p < e && *p == '[') {
		const char *c = memchr(p, ']', (size_t)(e - p));
		if (!c || !ipv6_ok(p + 1, c)) {
			*bad = p;
			return NULL;
		}
		v->host = (struct sip_str){p + 1, (size_t)(c - p - 1)};
		v->host_type = SIP_HOST_IPV6;
		return c + 1;
	}
	/* The sent-by host is the run of hostname bytes: an IPv4 address or a
	 * hostname (no DNS length caps), classified in one pass. */
	size_t n = (size_t)(e - p), len, b;
	if (n && *p >= '0' && *p <= '9' && (len = sip__ipv4_len(p, n)) > 0) {
		v->host_type = SIP_HOST_IPV4;
	} else {
		len = sip__hostname_scan(p, n, false, &b);
		if (len == 0 || b != len) {
			*bad = h;
			return NULL;
		}
		v->host_type = SIP_HOST_NAME;
	}
	v->host = (struct sip_str){h, len};
	return p + len;
}

int sip_via_parse(struct sip_via *v, struct sip_str value, size_t *err_off)
{
	memset(v, 0, sizeof(*v));
	SIP__CHECK_VALUE(value, err_off);
	const char *s = value.p, *e = s + value.len, *p, *t, *bad;
	struct sip_str *parts[3];
	int rc;

	parts[0] = &v->protocol;
	parts[1] = &v->version;
	parts[2] = &v->transport;
	p = sip__skip_lws(s, e);
	v->raw.p = p;
	/* sent-protocol = protocol-name SLASH protocol-version SLASH transport, SLASH = SWS "/" SWS. */
	for (int i = 0; i < 3; i++) {
		if (i > 0) {
			p = sip__skip_lws(p, e);
			if (p == e || *p != '/')
				return sip__fail(err_off, s, p, SIP_EPARSE);
			p = sip__skip_lws(p + 1, e);
		}
		t = p;
		p = sip__scan_token(p, e);
		if (p == t)
			return sip__fail(err_off, s, p, SIP_EPARSE);
		*parts[i] = (struct sip_str){t, (size_t)(p - t)};
	}
	t = sip__skip_lws(p, e);
	if (t == p)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	p = sent_by_host(v, t, e, &bad);
	if (!p)
		return sip__fail(err_off, s, bad, SIP_EPARSE);
	t = sip__skip_lws(p, e);
	if (t < e && *t == ':') {
		p = sip__skip_lws(t + 1, e);
		t = sip__scan_digits(p, e);
		if (t == p)
			return sip__fail(err_off, s, p, SIP_EPARSE);
		rc = port_parse(p, t, &v->port);
		if (rc)
			return sip__fail(err_off, s, p, rc);
		v->has_port = true;
		p = t;
	}

	struct sip_str cur = {p, (size_t)(e - p)};
	struct sip_param prm;
	const char *pend = p;
	while ((rc = sip__param_next(&cur, &prm, SIP__PV_COLON, &bad)) == 1) {
		if (!v->params.p)
			v->params.p = prm.name.p;
		rc = via_param(v, &prm, &bad);
		if (rc)
			return sip__fail(err_off, s, bad, rc);
		pend = cur.p;
	}
	if (rc < 0)
		return sip__fail(err_off, s, bad, rc);
	if (v->params.p)
		v->params.len = (size_t)(pend - v->params.p);
	v->raw.len = (size_t)(pend - v->raw.p);
	return 0;
}
