/* registrar.c — the registrar object and RFC 3261 §10.3 steps 1-5: the
 * Request-URI domain, Require, digest authentication, and the To AOR
 * (canonical form, authorization, existence). Steps 6-8 are in contacts.c. */
#include <stdio.h>
#include <string.h>

#include <sip/ratelimit.h>

#include "core/ctype.h"
#include "registrar/reg_int.h"

static int copy_name(char *dst, size_t *len, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n == 0 || n > SIP_REGISTRAR_MAX_DOMAIN_LEN)
		return SIP_ECONFIG;
	memcpy(dst, src, n);
	dst[n] = '\0';
	*len = n;
	return 0;
}

int sip_registrar_new(struct sip_registrar **out, const struct sip_registrar_config *cfg,
		      struct sip_location *loc)
{
	if (!out)
		return SIP_EINVAL;
	*out = NULL;
	if (!cfg || !loc || (cfg->ndomains && !cfg->domains))
		return SIP_EINVAL;
	if (cfg->ndomains == 0 || cfg->ndomains > SIP_REGISTRAR_MAX_DOMAINS)
		return SIP_ECONFIG;
	if (cfg->require_auth && (!cfg->auth || !cfg->ha1))
		return SIP_ECONFIG;
	struct sip_registrar *r = sip_calloc(1, sizeof *r);
	if (!r)
		return SIP_ENOMEM;
	r->cfg = *cfg;
	r->loc = loc;
	struct sip_registrar_config *c = &r->cfg;
	if (!c->default_expires)
		c->default_expires = SIP_REGISTRAR_DEFAULT_EXPIRES;
	if (!c->min_expires)
		c->min_expires = SIP_REGISTRAR_MIN_EXPIRES;
	if (!c->max_expires)
		c->max_expires = SIP_REGISTRAR_MAX_EXPIRES;
	if (!c->max_contacts)
		c->max_contacts = SIP_REGISTRAR_MAX_CONTACTS;
	if (!c->max_aor_len)
		c->max_aor_len = SIP_REGISTRAR_MAX_AOR_LEN;
	if (!c->options)
		c->options = SIP_REGISTRAR_OPT_PATH | SIP_REGISTRAR_OPT_OUTBOUND;
	int rc = 0;
	if (c->min_expires > c->default_expires || c->default_expires > c->max_expires ||
	    c->max_contacts > 65535 || c->max_aor_len > SIP_LOCATION_MAX_FIELD)
		rc = SIP_ECONFIG;
	for (size_t i = 0; rc == 0 && i < cfg->ndomains; i++) {
		const struct sip_registrar_domain *d = &cfg->domains[i];
		rc = copy_name(r->dom[i].name, &r->dom[i].name_len, d->name);
		if (rc == 0)
			rc = copy_name(r->dom[i].realm, &r->dom[i].realm_len,
				       d->realm && d->realm[0] ? d->realm : d->name);
	}
	r->ndom = cfg->ndomains;
	c->domains = NULL; /* the caller's array need not outlive us */
	if (rc == 0) {
		r->contacts = sip_calloc(c->max_contacts, sizeof *r->contacts);
		r->aor_buf = sip_malloc(c->max_aor_len);
		if (!r->contacts || !r->aor_buf)
			rc = SIP_ENOMEM;
	}
	if (rc) {
		sip_registrar_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void sip_registrar_free(struct sip_registrar *reg)
{
	if (!reg)
		return;
	sip_free(reg->contacts);
	sip_free(reg->aor_buf);
	sip_free(reg);
}

const char *sip_registrar_supported(const struct sip_registrar *reg)
{
	static const char *const tags[4] = {"", "path", "outbound", "path, outbound"};
	unsigned o = reg ? reg->cfg.options : 0;
	return tags[((o & SIP_REGISTRAR_OPT_PATH) ? 1 : 0) | ((o & SIP_REGISTRAR_OPT_OUTBOUND) ? 2 : 0)];
}

bool sip_registrar_uri_eq(void *ud, struct sip_str a, struct sip_str b)
{
	(void)ud;
	/* Byte-identical URIs are equal under every rule below (a refresh
	 * resends the same Contact): skip parsing both. */
	if (sip_str_eq(a, b))
		return true;
	struct sip_uri ua, ub;
	if (sip_uri_parse(&ua, a.p, a.len, NULL) != 0 || sip_uri_parse(&ub, b.p, b.len, NULL) != 0)
		return sip_str_eq(a, b);
	if ((ua.scheme != SIP_URI_SIP && ua.scheme != SIP_URI_SIPS) || ua.scheme != ub.scheme)
		return sip_str_eq(a, b);
	return sip_uri_equal(&ua, &ub);
}

/* Appends the canonical AOR of uri to out; *user / *host get its parts. */
static int make_aor(const struct sip_uri *uri, char *out, size_t cap, struct sip_str *user,
		    struct sip_str *host)
{
	if (!uri || !out || (uri->scheme != SIP_URI_SIP && uri->scheme != SIP_URI_SIPS))
		return SIP_EUNSUPPORTED;
	const char *scheme = uri->scheme == SIP_URI_SIPS ? "sips:" : "sip:";
	size_t n = strlen(scheme);
	if (cap < n)
		return SIP_ETOOBIG;
	memcpy(out, scheme, n);
	size_t ustart = n;
	if (uri->has_user && uri->user.len) {
		int u = sip_unescape(uri->user, out + n, cap - n);
		if (u < 0)
			return u;
		n += (size_t)u;
		if (user)
			*user = (struct sip_str){out + ustart, (size_t)u};
		if (n >= cap)
			return SIP_ETOOBIG;
		out[n++] = '@';
	} else if (user) {
		*user = (struct sip_str){out + ustart, 0};
	}
	size_t hstart = n;
	if (uri->host_type == SIP_HOST_IPV6) {
		if (cap - n < uri->host.len + 2)
			return SIP_ETOOBIG;
		out[n++] = '[';
	} else if (cap - n < uri->host.len) {
		return SIP_ETOOBIG;
	}
	for (size_t i = 0; i < uri->host.len; i++)
		out[n++] = (char)sip__lower[(unsigned char)uri->host.p[i]];
	if (uri->host_type == SIP_HOST_IPV6)
		out[n++] = ']';
	if (host)
		*host = (struct sip_str){out + hstart, n - hstart};
	return (int)n;
}

int sip_registrar_aor(const struct sip_uri *uri, char *out, size_t cap)
{
	return make_aor(uri, out, cap, NULL, NULL);
}

const struct reg_domain *sip__reg_domain(const struct sip_registrar *reg, struct sip_str host)
{
	for (size_t i = 0; i < reg->ndom; i++)
		if (sip_str_caseeq(host, (struct sip_str){reg->dom[i].name, reg->dom[i].name_len}))
			return &reg->dom[i];
	return NULL;
}

/* The domain of a URI host, IPv6 compared as written in brackets or not. */
static const struct reg_domain *uri_domain(const struct sip_registrar *reg, const struct sip_uri *u)
{
	const struct reg_domain *d = sip__reg_domain(reg, u->host);
	for (size_t i = 0; !d && u->host_type == SIP_HOST_IPV6 && i < reg->ndom; i++) {
		struct sip_str n = {reg->dom[i].name, reg->dom[i].name_len};
		if (n.len > 2 && n.p[0] == '[' && n.p[n.len - 1] == ']')
			n = (struct sip_str){n.p + 1, n.len - 2};
		if (sip_host_equal(u->host, SIP_HOST_IPV6, n, SIP_HOST_IPV6))
			d = &reg->dom[i];
	}
	return d;
}

static bool option_known(const struct sip_registrar *reg, struct sip_str tag)
{
	if ((reg->cfg.options & SIP_REGISTRAR_OPT_PATH) && sip_str_caseeq(tag, SIP_STR("path")))
		return true;
	if ((reg->cfg.options & SIP_REGISTRAR_OPT_OUTBOUND) && sip_str_caseeq(tag, SIP_STR("outbound")))
		return true;
	return false;
}

/* Step 2: Require with option tags we do not support -> 420 + Unsupported. */
static int check_require(struct sip_registrar *reg, const struct sip_msg *m, int64_t now, char *out,
			 size_t cap, struct sip_registrar_result *res, bool *answered)
{
	struct sip_hdr_iter it;
	struct sip_str tag, bad[SIP_REGISTRAR_MAX_UNSUPPORTED];
	size_t nbad = 0;
	int rc;
	*answered = false;
	sip_hdr_iter_init(&it, m, SIP_HDR_REQUIRE);
	while ((rc = sip_hdr_iter_next(&it, &tag)) == 1) {
		if (!option_known(reg, tag) && nbad < SIP_REGISTRAR_MAX_UNSUPPORTED)
			bad[nbad++] = tag;
	}
	*answered = true;
	if (rc < 0)
		return sip__reg_simple(m, 400, "Bad Require", NULL, SIP_STR_NULL, now, out, cap, res);
	if (nbad == 0) {
		*answered = false;
		return 0;
	}
	struct sip_builder b;
	sip_build_init(&b, out, cap);
	sip__reg_head(&b, m, 420, NULL, now);
	for (size_t i = 0; i < nbad; i++)
		sip_build_header(&b, SIP_STR("Unsupported"), bad[i]);
	return sip__reg_finish(&b, 420, res);
}

/* 401 with one WWW-Authenticate per configured algorithm. */
static int challenge(struct sip_registrar *reg, const struct sip_msg *m, const struct reg_domain *d,
		     bool stale, int64_t now, char *out, size_t cap, struct sip_registrar_result *res)
{
	struct sip_builder b;
	sip_build_init(&b, out, cap);
	sip__reg_head(&b, m, 401, NULL, now);
	if (sip_auth_build_challenges(reg->cfg.auth, (struct sip_str){d->realm, d->realm_len}, now, stale, false,
				      &b) != 0)
		return sip__reg_simple(m, 500, NULL, NULL, SIP_STR_NULL, now, out, cap, res);
	return sip__reg_finish(&b, 401, res);
}

/* Step 3. Returns 0 with *user set when authenticated; otherwise answers
 * (401/400/403/500) and sets *answered. Credentials for another realm or
 * another scheme (RFC 4475 regaut01) count as none: the client gets a
 * challenge. A source out of failures (auth_failures) gets 403 unchecked. */
static int authenticate(struct sip_registrar *reg, const struct sip_msg *m, const struct sip_registrar_src *src,
			const struct reg_domain *d, int64_t now, char *out, size_t cap,
			struct sip_registrar_result *res, bool *answered, struct sip_str *user)
{
	struct sip_str realm = {d->realm, d->realm_len};
	struct sip_digest_creds *c = &reg->creds;
	*answered = true;
	int found = sip_auth_find_creds(m, false, realm, c);
	if (found < 0)
		return sip__reg_simple(m, 400, "Malformed Authorization", NULL, SIP_STR_NULL, now, out, cap, res);
	if (!found)
		return challenge(reg, m, d, false, now, out, cap, res);
	const struct sockaddr *sa = src ? src->sockaddr : NULL;
	sip_ms_t now_ms = (sip_ms_t)(now < 0 ? 0 : now) * 1000u;
	if (reg->cfg.auth_failures && !sip_ratelimit_peek(reg->cfg.auth_failures, sa, now_ms, &res->guard_tripped))
		return sip__reg_simple(m, 403, "Too Many Failed Authentications", NULL, SIP_STR_NULL, now, out, cap,
				       res);
	struct sip_auth_request ar = {m->method, m->ruri_str, realm};
	enum sip_auth_result verdict = sip_auth_verify(reg->cfg.auth, c, &ar, now, reg->cfg.ha1, reg->cfg.ha1_ud);
	if (verdict == SIP_AUTH_BAD)
		sip_ratelimit_allow(reg->cfg.auth_failures, sa, now_ms, NULL); /* one failure spent */
	switch (verdict) {
	case SIP_AUTH_OK:
		*answered = false;
		*user = c->username;
		return 0;
	case SIP_AUTH_STALE:
		return challenge(reg, m, d, true, now, out, cap, res);
	case SIP_AUTH_BAD:
		return challenge(reg, m, d, false, now, out, cap, res);
	case SIP_AUTH_MALFORMED:
		return sip__reg_simple(m, 400, "Malformed Authorization", NULL, SIP_STR_NULL, now, out, cap,
				       res);
	default:
		return sip__reg_simple(m, 500, NULL, NULL, SIP_STR_NULL, now, out, cap, res);
	}
}

/* Whether user (authenticated in realm) may register rq->aor (step 4). */
static bool authorized(struct sip_registrar *reg, const struct reg_req *rq, const struct reg_domain *aor_dom,
		       struct sip_str user, struct sip_str realm)
{
	if (reg->cfg.authorize)
		return reg->cfg.authorize(reg->cfg.authorize_ud, user, realm, rq->aor);
	return aor_dom && sip_str_eq((struct sip_str){aor_dom->realm, aor_dom->realm_len}, realm) &&
	       rq->aor_user.len && sip_str_eq(rq->aor_user, user);
}

/* Step 5 with a custom authorize callback: the AOR must name a known user. */
static int aor_exists(struct sip_registrar *reg, const struct reg_req *rq, const struct reg_domain *aor_dom)
{
	char ha1[SIP_DIGEST_HEX_MAX];
	struct sip_str realm = {aor_dom->realm, aor_dom->realm_len};
	int rc = reg->cfg.ha1(reg->cfg.ha1_ud, rq->aor_user, realm, SIP_DIGEST_MD5, ha1);
	if (rc == SIP_ENOTFOUND)
		rc = reg->cfg.ha1(reg->cfg.ha1_ud, rq->aor_user, realm, SIP_DIGEST_SHA256, ha1);
	return rc;
}

int sip_registrar_error(struct sip_registrar *reg, const struct sip_msg *req, int status, int64_t now,
			char *out, size_t cap)
{
	struct sip_registrar_result res;
	if (!reg || !req || !out || status < 300 || status > 699)
		return SIP_EINVAL;
	int rc = sip__reg_simple(req, status, NULL, NULL, SIP_STR_NULL, now, out, cap, &res);
	return rc ? rc : (int)res.len;
}

int sip_registrar_handle(struct sip_registrar *reg, const struct sip_msg *m,
			 const struct sip_registrar_src *src, int64_t now, char *out, size_t cap,
			 struct sip_registrar_result *res)
{
	if (res)
		memset(res, 0, sizeof *res);
	if (!reg || !m || !out || !res || !m->is_request || m->method_id != SIP_METHOD_REGISTER)
		return SIP_EINVAL;
	bool answered;
	int rc;

	/* 1. Request-URI: one of our domains, else the caller proxies it. */
	const struct reg_domain *d = NULL;
	if (m->ruri.scheme == SIP_URI_SIP || m->ruri.scheme == SIP_URI_SIPS)
		d = uri_domain(reg, &m->ruri);
	if (!d) {
		res->not_ours = true;
		return 0;
	}

	/* 2. Require. */
	rc = check_require(reg, m, now, out, cap, res, &answered);
	if (answered || rc)
		return rc;

	/* 3. Authentication. */
	struct sip_str user = SIP_STR_NULL;
	if (reg->cfg.require_auth) {
		rc = authenticate(reg, m, src, d, now, out, cap, res, &answered, &user);
		if (answered || rc)
			return rc;
	}

	/* 4. The AOR: a SIP/SIPS To URI in canonical form, and the right to change it. */
	struct reg_req rq = {.m = m};
	if (m->to.uri.scheme != SIP_URI_SIP && m->to.uri.scheme != SIP_URI_SIPS)
		return sip__reg_simple(m, 400, "AOR Must Be a SIP or SIPS URI", NULL, SIP_STR_NULL, now, out,
				       cap, res);
	int n = make_aor(&m->to.uri, reg->aor_buf, reg->cfg.max_aor_len, &rq.aor_user, &rq.aor_host);
	if (n == SIP_ETOOBIG)
		return sip__reg_simple(m, 400, "AOR Too Long", NULL, SIP_STR_NULL, now, out, cap, res);
	if (n < 0)
		return sip__reg_simple(m, 400, "Bad AOR", NULL, SIP_STR_NULL, now, out, cap, res);
	rq.aor = (struct sip_str){reg->aor_buf, (size_t)n};
	const struct reg_domain *aor_dom = uri_domain(reg, &m->to.uri);
	if (reg->cfg.require_auth &&
	    !authorized(reg, &rq, aor_dom, user, (struct sip_str){d->realm, d->realm_len}))
		return sip__reg_simple(m, 403, NULL, NULL, SIP_STR_NULL, now, out, cap, res);

	/* 5. The AOR must be ours (and, when someone else registers it, exist). */
	if (!aor_dom)
		return sip__reg_simple(m, 404, NULL, NULL, SIP_STR_NULL, now, out, cap, res);
	if (reg->cfg.require_auth && !sip_str_eq(user, rq.aor_user)) {
		rc = aor_exists(reg, &rq, aor_dom);
		if (rc)
			return sip__reg_simple(m, rc == SIP_ENOTFOUND ? 404 : 500, NULL, NULL, SIP_STR_NULL,
					       now, out, cap, res);
	}

	/* 6. Contacts, Expires, Path. */
	const char *reason = NULL;
	int status = sip__reg_contacts(reg, &rq, src, &reason);
	if (status == 423) {
		char v[16];
		int k = snprintf(v, sizeof v, "%u", (unsigned)reg->cfg.min_expires);
		return sip__reg_simple(m, 423, NULL, "Min-Expires", (struct sip_str){v, (size_t)k}, now, out,
				       cap, res);
	}
	if (status)
		return sip__reg_simple(m, status, reason, NULL, SIP_STR_NULL, now, out, cap, res);

	/* 7-8. Bindings, atomically, then the 200 listing them. */
	return sip__reg_apply(reg, &rq, now, out, cap, res);
}
