/* hdr_addr.c — name-addr / addr-spec values with header parameters
 * (RFC 3261 §20.10, §25: From, To, Contact, Route, Record-Route, ...). */
#include <sip/msg.h>
#include <string.h>

#include "scan.h"

/* Parses the URI [p, e) into na; on failure reports the URI parser's offset.
 * sip_uri_parse() sets every field of na->uri (all zero on failure); when it
 * is not reached, nameaddr_parse() clears na->uri itself. */
static int parse_uri(struct sip_nameaddr *na, const char *s, const char *p, const char *e, size_t *err_off,
		     bool *uri_set)
{
	size_t uoff = 0;
	na->uri_str = (struct sip_str){p, (size_t)(e - p)};
	if (p == e)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	int rc = sip_uri_parse(&na->uri, p, (size_t)(e - p), &uoff);
	*uri_set = true;
	if (rc)
		return sip__fail(err_off, s, p + (uoff <= (size_t)(e - p) ? uoff : 0), rc);
	return 0;
}

/* Scans a display-name made of tokens separated by LWS. Returns the end of the
 * last token when a '<' follows (after optional LWS), else NULL: then the value
 * is an addr-spec (a bare URI's scheme is a token followed by ':'). */
static const char *token_display(const char *p, const char *e, const char **lt)
{
	const char *end = NULL;
	for (;;) {
		const char *t = sip__scan_token(p, e);
		if (t == p)
			break;
		end = t;
		p = sip__skip_lws(t, e);
	}
	if (end && p < e && *p == '<') {
		*lt = p;
		return end;
	}
	return NULL;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths. */
static int qvalue_parse(struct sip_str v, int32_t *out, const char **bad)
{
	const char *p = v.p, *e = p + v.len;
	if (p == e || *p < '0' || *p > '9') {
		*bad = p;
		return SIP_EPARSE;
	}
	int32_t q = (*p++ - '0') * 1000;
	if (p < e && *p == '.') {
		p++;
		for (int32_t scale = 100; p < e && *p >= '0' && *p <= '9'; scale /= 10, p++) {
			if (scale == 0) {
				*bad = p; /* more than 3 decimals */
				return SIP_EPARSE;
			}
			q += (*p - '0') * scale;
		}
	}
	if (p != e) {
		*bad = p;
		return SIP_EPARSE;
	}
	if (q > 1000) {
		*bad = v.p;
		return SIP_ERANGE;
	}
	*out = q;
	return 0;
}

/* Records a Contact q / expires parameter; 0 or an error with *bad. */
static int contact_param(struct sip_contact *c, const struct sip_param *prm, const char **bad)
{
	int rc;
	if (SIP__IS_NAME(prm->name, "q") && c->q < 0) {
		if (!prm->has_value) {
			*bad = prm->name.p + prm->name.len;
			return SIP_EPARSE;
		}
		return qvalue_parse(prm->value, &c->q, bad);
	}
	if (SIP__IS_NAME(prm->name, "expires") && !c->has_expires) {
		/* delta-seconds beyond 2^32-1 (RFC 4475 scalar02) are SIP_ERANGE,
		 * not clamped: the registrar decides what to answer. */
		if (!prm->has_value) {
			*bad = prm->name.p + prm->name.len;
			return SIP_EPARSE;
		}
		rc = sip__to_u32(prm->value.p, prm->value.len, &c->expires);
		if (rc) {
			*bad = prm->value.p;
			return rc;
		}
		c->has_expires = true;
	}
	return 0;
}

/* name-addr / addr-spec with header params; c (may be NULL) collects Contact
 * params. Every field but na->uri starts cleared; *uri_set tells whether
 * sip_uri_parse() filled na->uri. */
static int nameaddr_fields(struct sip_nameaddr *na, struct sip_contact *c, struct sip_str value,
			   size_t *err_off, bool *uri_set)
{
	SIP__CHECK_VALUE(value, err_off);
	const char *s = value.p, *e = s + value.len, *p, *lt = NULL, *bad;
	int rc;

	p = sip__skip_lws(s, e);
	if (p == e)
		return sip__fail(err_off, s, p, SIP_EPARSE);

	if (*p == '"') {
		const char *q = sip__scan_quoted(p, e);
		if (!q) /* unbalanced quote: blame the opening one */
			return sip__fail(err_off, s, p, SIP_EPARSE);
		na->display = (struct sip_str){p, (size_t)(q - p)};
		lt = sip__skip_lws(q, e);
		if (lt == e || *lt != '<')
			return sip__fail(err_off, s, lt, SIP_EPARSE);
	} else if (*p == '<') {
		lt = p;
	} else {
		const char *d = token_display(p, e, &lt);
		if (d)
			na->display = (struct sip_str){p, (size_t)(d - p)};
	}

	if (lt) {
		/* name-addr: LAQUOT addr-spec RAQUOT, no LWS inside the brackets. */
		const char *u = lt + 1;
		const char *gt = memchr(u, '>', (size_t)(e - u));
		if (!gt)
			return sip__fail(err_off, s, lt, SIP_EPARSE);
		if (u < gt && SIP_IS(*u, SIP_C_WS))
			return sip__fail(err_off, s, u, SIP_EPARSE);
		if (u < gt && SIP_IS(gt[-1], SIP_C_WS))
			return sip__fail(err_off, s, gt - 1, SIP_EPARSE);
		rc = parse_uri(na, s, u, gt, err_off, uri_set);
		if (rc)
			return rc;
		na->bracketed = true;
		p = gt + 1;
	} else {
		/* addr-spec: §20.10 — a URI holding ',', ';' or '?' must be in <>,
		 * so the URI ends at the first ';' (or LWS) and what follows are
		 * header parameters. */
		const char *u = p;
		while (p < e && *p != ';' && !SIP_IS(*p, SIP_C_WS)) {
			if (*p == '?' || *p == ',')
				return sip__fail(err_off, s, p, SIP_EPARSE);
			p++;
		}
		rc = parse_uri(na, s, u, p, err_off, uri_set);
		if (rc)
			return rc;
	}

	struct sip_str cur = {p, (size_t)(e - p)};
	struct sip_param prm;
	const char *pend = p;
	while ((rc = sip__param_next(&cur, &prm, 0, &bad)) == 1) {
		if (!na->params.p)
			na->params.p = prm.name.p;
		if (SIP__IS_NAME(prm.name, "tag") && !na->has_tag) {
			if (!prm.has_value || *prm.value.p == '"' || *prm.value.p == '[')
				return sip__fail(err_off, s, prm.has_value ? prm.value.p : cur.p, SIP_EPARSE);
			na->tag = prm.value;
			na->has_tag = true;
		}
		if (c) {
			rc = contact_param(c, &prm, &bad);
			if (rc)
				return sip__fail(err_off, s, bad, rc);
		}
		pend = cur.p;
	}
	if (rc < 0)
		return sip__fail(err_off, s, bad, rc);
	if (na->params.p)
		na->params.len = (size_t)(pend - na->params.p);
	return 0;
}

/* The whole struct ends up as a memset-then-parse would leave it, without
 * clearing the large URI twice (sip_uri_parse() clears it anyway). */
static int nameaddr_parse(struct sip_nameaddr *na, struct sip_contact *c, struct sip_str value,
			  size_t *err_off)
{
	bool uri_set = false;
	na->display = na->uri_str = na->params = na->tag = SIP_STR_NULL;
	na->bracketed = na->star = na->has_tag = false;
	int rc = nameaddr_fields(na, c, value, err_off, &uri_set);
	if (!uri_set)
		memset(&na->uri, 0, sizeof(na->uri));
	return rc;
}

int sip_nameaddr_parse(struct sip_nameaddr *na, struct sip_str value, size_t *err_off)
{
	return nameaddr_parse(na, NULL, value, err_off);
}

int sip_contact_parse(struct sip_contact *c, struct sip_str value, size_t *err_off)
{
	c->q = -1;
	c->expires = 0;
	c->has_expires = false;
	struct sip_str t = sip_str_trim(value);
	if (t.len == 1 && t.p[0] == '*') {
		/* STAR alone: the wildcard of a REGISTER that removes every binding. */
		memset(&c->na, 0, sizeof(c->na));
		c->na.star = true;
		c->na.uri_str = t;
		return 0;
	}
	int rc = nameaddr_parse(&c->na, c, value, err_off);
	return rc;
}
