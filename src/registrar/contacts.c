/* contacts.c — RFC 3261 §10.3 step 6: every Contact of a REGISTER read and
 * checked (wildcard rules, expiry from the param / Expires / default, 423 under
 * Min-Expires, cap at max), plus what is stored beside each binding: Path
 * (RFC 3327), +sip.instance / reg-id (RFC 5626) and the source address.
 * Nothing is written here, so a bad request stores nothing. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <string.h>

#include "registrar/reg_int.h"

/* The Expires header (first one): 0 none, 1 found, negative malformed. A
 * value past 2^32-1 is treated as huge and later capped (§20.19). */
static int header_expires(const struct sip_msg *m, uint32_t *out)
{
	uint16_t i = m->first[SIP_HDR_EXPIRES];
	if (i == SIP_HDR_NONE || i >= m->nhdrs)
		return 0;
	int rc = sip_u32_parse(out, m->hdrs[i].value, NULL);
	if (rc == SIP_ERANGE) {
		*out = UINT32_MAX;
		return 1;
	}
	return rc ? rc : 1;
}

/* RFC 5626 §4.2: reg-id is 1..2^31-1. */
static int parse_reg_id(struct sip_str params, uint32_t *out)
{
	struct sip_param p;
	*out = 0;
	if (sip_param_find(params, SIP_STR("reg-id"), &p) != 1)
		return 0;
	if (!p.has_value || sip_str_to_u32(p.value, out) != 0 || *out == 0 || *out > INT32_MAX)
		return SIP_EPARSE;
	return 0;
}

/* Joins the Path values (in order) into reg->path_buf. */
static int join_path(struct sip_registrar *reg, struct reg_req *rq)
{
	struct sip_hdr_iter it;
	struct sip_str v;
	size_t n = 0;
	int rc;
	sip_hdr_iter_init(&it, rq->m, SIP_HDR_PATH);
	while ((rc = sip_hdr_iter_next(&it, &v)) == 1) {
		v = sip_str_trim(v);
		struct sip_nameaddr na;
		if (sip_nameaddr_parse(&na, v, NULL) != 0)
			return SIP_EPARSE;
		if (v.len + 1 > sizeof reg->path_buf - n)
			return SIP_ETOOBIG;
		if (n)
			reg->path_buf[n++] = ',';
		memcpy(reg->path_buf + n, v.p, v.len);
		n += v.len;
	}
	if (rc < 0)
		return rc;
	rq->path = (struct sip_str){reg->path_buf, n};
	return 0;
}

/* "sip:ADDR:PORT;transport=T", a URI a proxy can send to directly. */
static void source_uri(struct sip_registrar *reg, struct reg_req *rq, const struct sip_registrar_src *in)
{
	struct sip_registrar_src tmp;
	const struct sip_registrar_src *src = in;
	char ip[INET6_ADDRSTRLEN];
	if (in && !in->ip.len && in->sockaddr) {
		const struct sockaddr *sa = in->sockaddr;
		tmp = *in;
		if (sa->sa_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = in->sockaddr;
			if (!inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip))
				return;
			tmp.port = ntohs(s6->sin6_port);
		} else if (sa->sa_family == AF_INET) {
			const struct sockaddr_in *s4 = in->sockaddr;
			if (!inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip))
				return;
			tmp.port = ntohs(s4->sin_port);
		} else {
			return;
		}
		tmp.ip = sip_str_c(ip);
		src = &tmp;
	}
	if (!src || !src->ip.len || src->ip.len > 64 || src->transport.len > 16)
		return;
	bool v6 = memchr(src->ip.p, ':', src->ip.len) != NULL;
	char conn[40] = "";
	if (src->conn)
		snprintf(conn, sizeof conn, ";" SIP_REGISTRAR_CONN_PARAM "=%llx", (unsigned long long)src->conn);
	int n = snprintf(reg->received_buf, sizeof reg->received_buf, "sip:%s%.*s%s:%u%s%.*s%s", v6 ? "[" : "",
			 SIP_STR_ARG(src->ip), v6 ? "]" : "", (unsigned)src->port,
			 src->transport.len ? ";transport=" : "", SIP_STR_ARG(src->transport), conn);
	if (n > 0 && (size_t)n < sizeof reg->received_buf)
		rq->received = (struct sip_str){reg->received_buf, (size_t)n};
}

/* Whether two Contacts of the request designate the same binding: the same
 * flow (instance + reg-id) or equal URIs (§19.1.4). §10.3 step 7 read
 * literally fails such a request (the second finds the binding the first
 * just added, with the same Call-ID and CSeq); it is also the only way the
 * registrar's view of the result could differ from the store's, which
 * matches in its own write order. O(n²) over at most max_contacts. */
static bool contacts_conflict(const struct reg_contact *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			if (c[i].reg_id && c[i].reg_id == c[j].reg_id && sip_str_eq(c[i].instance, c[j].instance))
				return true;
			if (sip_registrar_uri_eq(NULL, c[i].uri, c[j].uri))
				return true;
		}
	return false;
}

int sip__reg_contacts(struct sip_registrar *reg, struct reg_req *rq, const struct sip_registrar_src *src,
		      const char **reason)
{
	const struct sip_msg *m = rq->m;
	const struct sip_registrar_config *cfg = &reg->cfg;
	uint32_t hexp = 0;
	size_t total = 0;
	int rc;

	rq->client_path =
	    (cfg->options & SIP_REGISTRAR_OPT_PATH) && sip_hdr_has_token(m, SIP_HDR_SUPPORTED, SIP_STR("path"));
	rq->client_outbound = (cfg->options & SIP_REGISTRAR_OPT_OUTBOUND) &&
			      sip_hdr_has_token(m, SIP_HDR_SUPPORTED, SIP_STR("outbound"));
	int has_hexp = header_expires(m, &hexp);
	if (has_hexp < 0) {
		*reason = "Bad Expires";
		return 400;
	}
	if (m->call_id.len == 0 || m->call_id.len > SIP_LOCATION_MAX_FIELD) {
		*reason = "Bad Call-ID";
		return 400;
	}

	struct sip_hdr_iter it;
	struct sip_str v;
	sip_hdr_iter_init(&it, m, SIP_HDR_CONTACT);
	while ((rc = sip_hdr_iter_next(&it, &v)) == 1) {
		/* Checked before parsing: thousands of values cost no more than the cap. */
		if (total >= cfg->max_contacts) {
			*reason = "Too Many Contacts";
			return 400;
		}
		total++;
		struct sip_contact c;
		v = sip_str_trim(v);
		if (sip_contact_parse(&c, v, NULL) != 0 || v.len > SIP_LOCATION_MAX_FIELD) {
			*reason = "Bad Contact";
			return 400;
		}
		if (c.na.star) {
			rq->star = true;
			continue;
		}
		struct reg_contact *rc_ = &reg->contacts[rq->ncontacts];
		memset(rc_, 0, sizeof *rc_);
		rc_->value = v;
		rc_->uri = c.na.uri_str;
		rc_->q = c.q;
		uint32_t e = c.has_expires ? c.expires : has_hexp ? hexp : cfg->default_expires;
		if (e && e < cfg->min_expires)
			return 423;
		rc_->expires = e > cfg->max_expires ? cfg->max_expires : e;
		struct sip_param p;
		if (sip_param_find(c.na.params, SIP_STR("+sip.instance"), &p) == 1 && p.has_value &&
		    p.value.len)
			rc_->instance = p.value;
		if (parse_reg_id(c.na.params, &rc_->reg_id) != 0) {
			*reason = "Bad reg-id";
			return 400;
		}
		/* RFC 5626 §6: reg-id means a flow only with an instance and a UA
		 * that says it supports outbound; otherwise plain §10.3. */
		if (!rc_->instance.len || !rq->client_outbound)
			rc_->reg_id = 0;
		if (rc_->reg_id)
			rq->outbound_used = true;
		rq->ncontacts++;
	}
	if (rc < 0) {
		*reason = "Bad Contact";
		return 400;
	}
	if (contacts_conflict(reg->contacts, rq->ncontacts)) {
		*reason = "Conflicting Contacts";
		return 400;
	}
	/* §10.3 step 6: "*" only alone and with Expires: 0. */
	if (rq->star && (total != 1 || has_hexp != 1 || hexp != 0)) {
		*reason = "Invalid Wildcard";
		return 400;
	}

	if (rq->client_path) {
		rc = join_path(reg, rq);
		if (rc) {
			*reason = rc == SIP_ETOOBIG ? "Path Too Long" : "Bad Path";
			return 400;
		}
	}
	if (cfg->nat_rewrite || rq->outbound_used)
		source_uri(reg, rq, src);
	uint16_t ua = m->first[SIP_HDR_USER_AGENT];
	if (ua != SIP_HDR_NONE && ua < m->nhdrs && m->hdrs[ua].value.len <= SIP_LOCATION_MAX_FIELD)
		rq->user_agent = m->hdrs[ua].value;
	return 0;
}
