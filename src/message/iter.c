/* iter.c — header value iteration (§7.3.1: comma-separated values and
 * repeated lines are the same thing) and the full validation pass. */
#include <sip/msg.h>
#include <string.h>

#include "core/ctype.h"
#include "validate_int.h"

void sip_hdr_iter_init(struct sip_hdr_iter *it, const struct sip_msg *m, enum sip_hdr_id id)
{
	it->m = m;
	it->idx = (unsigned)id < SIP_HDR__COUNT && id != SIP_HDR_OTHER ? m->first[id] : SIP_HDR_NONE;
	it->pos = 0;
}

/* End of the list element starting at v[pos]: the first ',' outside a
 * quoted-string, <...> or (comment). */
static const bool list_special[256] = {['"'] = 1, ['<'] = 1, ['>'] = 1, ['('] = 1, [')'] = 1, [','] = 1};

size_t sip__list_element_end(struct sip_str v, size_t pos)
{
	/* Most values hold no comma at all (one Via, one Contact per line): then
	 * the element is the rest whatever its quoting, and memchr finds that out
	 * many bytes per step. */
	if (pos >= v.len || !memchr(v.p + pos, ',', v.len - pos))
		return v.len;
	bool quoted = false;
	int angle = 0, paren = 0;
	for (size_t i = pos; i < v.len; i++) {
		if (!quoted && !list_special[(unsigned char)v.p[i]])
			continue;
		char c = v.p[i];
		if (quoted) {
			if (c == '\\')
				i++;
			else if (c == '"')
				quoted = false;
			continue;
		}
		switch (c) {
		case '"': quoted = true; break;
		case '<': angle++; break;
		case '>': if (angle) angle--; break;
		case '(': paren++; break;
		case ')': if (paren) paren--; break;
		case ',':
			if (!angle && !paren)
				return i;
			break;
		}
	}
	return v.len;
}

int sip_hdr_iter_next(struct sip_hdr_iter *it, struct sip_str *value)
{
	while (it->idx != SIP_HDR_NONE) {
		const struct sip_hdr *h = &it->m->hdrs[it->idx];
		struct sip_str v = h->value;
		if (!sip_hdr_is_list((enum sip_hdr_id)h->id)) {
			if (it->pos == 0) {
				it->pos = v.len + 1;
				*value = v;
				return 1;
			}
		} else if (it->pos < v.len || (it->pos == v.len && it->pos > 0)) {
			size_t end = sip__list_element_end(v, it->pos);
			struct sip_str e = {v.p + it->pos, end - it->pos};
			while (e.len && sip__is_ws((unsigned char)e.p[0])) {
				e.p++;
				e.len--;
			}
			while (e.len && sip__is_ws((unsigned char)e.p[e.len - 1]))
				e.len--;
			it->pos = end + 1;
			if (e.len == 0)
				return SIP_EPARSE; /* ",," or a trailing comma: not in the §7.3.1 grammar */
			*value = e;
			return 1;
		}
		it->idx = h->next;
		it->pos = 0;
	}
	return 0;
}

int sip_hdr_count(const struct sip_msg *m, enum sip_hdr_id id)
{
	struct sip_hdr_iter it;
	struct sip_str v;
	int n = 0, rc;
	sip_hdr_iter_init(&it, m, id);
	while ((rc = sip_hdr_iter_next(&it, &v)) == 1)
		n++;
	return rc < 0 ? rc : n;
}

/* Checks one value with the typed sub-parser of its header. */
static int check_value(enum sip_hdr_id id, struct sip_str v, size_t *eoff)
{
	union {
		struct sip_via via;
		struct sip_nameaddr na;
		struct sip_contact contact;
		struct sip_content_type ct;
		struct sip_auth auth;
		struct sip_rack rack;
		struct sip_event event;
		struct sip_retry_after ra;
		struct sip_timestamp ts;
		struct sip_date date;
		uint32_t u;
	} out;
	switch (id) {
	case SIP_HDR_VIA: return sip_via_parse(&out.via, v, eoff);
	case SIP_HDR_FROM:
	case SIP_HDR_TO:
	case SIP_HDR_ROUTE:
	case SIP_HDR_RECORD_ROUTE:
	case SIP_HDR_PATH:
	case SIP_HDR_SERVICE_ROUTE:
	case SIP_HDR_REPLY_TO:
	case SIP_HDR_REFER_TO:
	case SIP_HDR_REFERRED_BY: {
		int rc = sip_nameaddr_parse(&out.na, v, eoff);
		if (rc == 0 && out.na.star)
			return SIP_EPARSE;
		return rc;
	}
	case SIP_HDR_CONTACT: return sip_contact_parse(&out.contact, v, eoff);
	case SIP_HDR_EXPIRES:
	case SIP_HDR_MIN_EXPIRES:
	case SIP_HDR_RSEQ:
	case SIP_HDR_MIN_SE:
		return sip_u32_parse(&out.u, v, eoff);
	case SIP_HDR_ALLOW:
	case SIP_HDR_SUPPORTED:
	case SIP_HDR_REQUIRE:
	case SIP_HDR_PROXY_REQUIRE:
	case SIP_HDR_UNSUPPORTED:
	case SIP_HDR_ALLOW_EVENTS:
		return sip_token_parse(v, eoff);
	case SIP_HDR_CONTENT_TYPE: return sip_content_type_parse(&out.ct, v, eoff);
	case SIP_HDR_AUTHORIZATION:
	case SIP_HDR_PROXY_AUTHORIZATION:
	case SIP_HDR_WWW_AUTHENTICATE:
	case SIP_HDR_PROXY_AUTHENTICATE:
		return sip_auth_parse(&out.auth, v, eoff);
	case SIP_HDR_RACK: return sip_rack_parse(&out.rack, v, eoff);
	case SIP_HDR_EVENT: return sip_event_parse(&out.event, v, eoff);
	case SIP_HDR_RETRY_AFTER: return sip_retry_after_parse(&out.ra, v, eoff);
	case SIP_HDR_TIMESTAMP: return sip_timestamp_parse(&out.ts, v, eoff);
	case SIP_HDR_DATE: return sip_date_parse(&out.date, v, eoff);
	default: return 0;
	}
}

static int bad(const struct sip_msg *m, struct sip_parse_err *err, size_t off, const char *reason)
{
	if (err) {
		err->offset = off;
		err->reason = reason;
		err->status = m->is_request ? 400 : 0;
	}
	return SIP_EPARSE;
}

int sip__msg_validate(const struct sip_msg *m, struct sip_parse_err *err, bool eager_done)
{
	int ncontact = 0;
	bool star = false;
	for (unsigned id = 1; id < SIP_HDR__COUNT; id++) {
		if (m->first[id] == SIP_HDR_NONE)
			continue;
		/* The eager pass parsed the (single) From and To with the same
		 * sub-parser and the same star rule: nothing is left to check. */
		if (eager_done && (id == SIP_HDR_FROM || id == SIP_HDR_TO))
			continue;
		struct sip_hdr_iter it;
		struct sip_str v;
		int rc;
		sip_hdr_iter_init(&it, m, (enum sip_hdr_id)id);
		/* ... and the top via-parm: only the Via values after it are left. */
		bool skip = eager_done && id == SIP_HDR_VIA;
		while ((rc = sip_hdr_iter_next(&it, &v)) == 1) {
			size_t eoff = 0;
			if (skip) {
				skip = false;
				continue;
			}
			if (id == SIP_HDR_CONTACT) {
				/* Parsed once here for both its syntax and the star rule. */
				struct sip_contact c;
				if (sip_contact_parse(&c, v, &eoff) < 0)
					return bad(m, err, (size_t)(v.p - m->buf) + eoff, "malformed Contact header");
				ncontact++;
				star |= c.na.star;
				continue;
			}
			if (check_value((enum sip_hdr_id)id, v, &eoff) < 0)
				return bad(m, err, (size_t)(v.p - m->buf) + eoff,
					   id == SIP_HDR_VIA ? "malformed Via header" : "malformed header value");
		}
		if (rc < 0)
			return bad(m, err, m->hdrs[it.idx].line_off, "empty element in header list");
	}
	/* "Contact: *" only alone (§10.2.2); enforced here for every method. */
	if (star && ncontact > 1)
		return bad(m, err, m->hdrs[m->first[SIP_HDR_CONTACT]].line_off, "Contact: * must be the only Contact");
	return 0;
}

int sip_msg_validate(const struct sip_msg *m, struct sip_parse_err *err)
{
	return sip__msg_validate(m, err, false);
}

bool sip_hdr_has_token(const struct sip_msg *m, enum sip_hdr_id id, struct sip_str token)
{
	struct sip_hdr_iter it;
	struct sip_str v;
	sip_hdr_iter_init(&it, m, id);
	while (sip_hdr_iter_next(&it, &v) == 1)
		if (sip_str_caseeq(sip_str_trim(v), token))
			return true;
	return false;
}
