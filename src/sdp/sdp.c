/* sdp.c — RFC 4566 session descriptions: a strict one-pass parser over
 * lines, fields as slices of the caller's buffer. */
#include <sip/sdp.h>
#include <string.h>

#include "core/ctype.h"

/* Order of the optional lines of each level (RFC 4566 §5): a line may not
 * come after one of a higher rank; t= and r= share one (they interleave). */
static int session_rank(char c)
{
	switch (c) {
	case 'i': return 1;
	case 'u': return 2;
	case 'e': return 3;
	case 'p': return 4;
	case 'c': return 5;
	case 'b': return 6;
	case 't': case 'r': return 7;
	case 'z': return 8;
	case 'k': return 9;
	case 'a': return 10;
	default: return -1;
	}
}

static int media_rank(char c)
{
	switch (c) {
	case 'i': return 1;
	case 'c': return 2;
	case 'b': return 3;
	case 'k': return 4;
	case 'a': return 5;
	default: return -1;
	}
}

/* Splits the next space-separated field off *rest; false when none. */
static bool field(struct sip_str *rest, struct sip_str *out)
{
	if (!rest->len || rest->p[0] == ' ')
		return false;
	const char *sp = memchr(rest->p, ' ', rest->len);
	size_t n = sp ? (size_t)(sp - rest->p) : rest->len;
	*out = (struct sip_str){rest->p, n};
	rest->p += n;
	rest->len -= n;
	if (rest->len) { /* exactly one space between fields */
		rest->p++;
		rest->len--;
		if (!rest->len)
			return false;
	}
	return true;
}

static bool digits(struct sip_str s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (!s.len || s.len > 20)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s.p[i] - '0');
		if (v > max)
			return false;
	}
	if (out)
		*out = v;
	return true;
}

/* A numeric string of any length (o= session id and version, t= times:
 * RFC 4566 gives them no bound). */
static bool all_digits(struct sip_str s)
{
	if (!s.len || s.len > 64)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
	return true;
}

static bool token(struct sip_str s)
{
	if (!s.len)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (!SIP_IS(s.p[i], SIP_C_TOKEN))
			return false;
	return true;
}

static bool conn(struct sip_str v, struct sip_sdp_conn *c)
{
	return field(&v, &c->nettype) && field(&v, &c->addrtype) && field(&v, &c->addr) && !v.len &&
	       token(c->nettype) && token(c->addrtype);
}

static bool media_line(struct sip_str v, struct sip_sdp_media *m)
{
	struct sip_str port, f;
	uint64_t n;
	if (!field(&v, &m->type) || !token(m->type) || !field(&v, &port) || !field(&v, &m->proto))
		return false;
	const char *slash = memchr(port.p, '/', port.len);
	m->nports = 1;
	if (slash) {
		struct sip_str np = {slash + 1, (size_t)(port.p + port.len - slash - 1)};
		if (!digits(np, 65535, &n) || !n)
			return false;
		m->nports = (uint16_t)n;
		port.len = (size_t)(slash - port.p);
	}
	if (!digits(port, 65535, &n))
		return false;
	m->port = (uint16_t)n;
	for (size_t i = 0; i < m->proto.len; i++)
		if (!SIP_IS(m->proto.p[i], SIP_C_TOKEN) && m->proto.p[i] != '/')
			return false;
	m->nfmt = 0;
	while (v.len) {
		if (!field(&v, &f) || m->nfmt == SIP_SDP_MAX_FORMATS)
			return false;
		m->fmt[m->nfmt++] = f;
	}
	return m->nfmt > 0;
}

static bool dir_of(struct sip_str name, enum sip_sdp_dir *d)
{
	static const struct {
		const char *n;
		enum sip_sdp_dir d;
	} t[] = {{"sendrecv", SIP_SDP_SENDRECV},
		 {"sendonly", SIP_SDP_SENDONLY},
		 {"recvonly", SIP_SDP_RECVONLY},
		 {"inactive", SIP_SDP_INACTIVE}};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (sip_str_eq(name, sip_str_c(t[i].n))) {
			*d = t[i].d;
			return true;
		}
	return false;
}

int sip_sdp_parse(struct sip_sdp *s, const char *buf, size_t len, size_t *err_off)
{
	size_t bad = 0;
	if (err_off)
		*err_off = 0;
	if (!s || !buf)
		return SIP_EINVAL;
	if (len > SIP_SDP_MAX_BYTES)
		return SIP_ETOOBIG;
	memset(s, 0, sizeof(*s));
	bool media_dir[SIP_SDP_MAX_MEDIA] = {false};
	int stage = 0; /* 0: want v=, 1: o=, 2: s=, 3: session fields, 4: media */
	int rank = 0;
	bool have_t = false;
	size_t i = 0;
	while (i < len) {
		bad = i;
		const char *nl = memchr(buf + i, '\n', len - i);
		if (!nl)
			goto fail; /* every line ends in a line break */
		size_t end = (size_t)(nl - buf), vend = end;
		if (vend > i && buf[vend - 1] == '\r')
			vend--;
		if (vend - i < 2 || buf[i] < 'a' || buf[i] > 'z' || buf[i + 1] != '=')
			goto fail;
		char type = buf[i];
		struct sip_str v = {buf + i + 2, vend - i - 2};
		for (size_t k = 0; k < v.len; k++) {
			unsigned char ch = (unsigned char)v.p[k];
			if (ch == 0 || ch == '\r') {
				bad = (size_t)(v.p + k - buf);
				goto fail;
			}
		}
		switch (stage) {
		case 0:
			if (type != 'v' || !sip_str_eq(v, SIP_STR("0")))
				goto fail;
			stage = 1;
			break;
		case 1: {
			struct sip_str a = v;
			if (type != 'o' || !field(&a, &s->o_user) || !field(&a, &s->o_sess_id) ||
			    !field(&a, &s->o_sess_version) || !all_digits(s->o_sess_id) ||
			    !all_digits(s->o_sess_version) || !conn(a, &s->origin))
				goto fail;
			stage = 2;
			break;
		}
		case 2:
			/* RFC 8866 §5.3: "s=" MUST NOT be empty — a rule for the
			 * sender: RFC 5118 §4.8's own example sends one, and a
			 * session's name changes nothing we do. Taken as unnamed. */
			if (type != 's')
				goto fail;
			s->name = v;
			stage = 3;
			break;
		case 3: {
			if (type == 'm') {
				if (!have_t)
					goto fail;
				stage = 4;
				goto media;
			}
			int r = session_rank(type);
			if (r < 0 || r < rank || (r == rank && (type == 'i' || type == 'u' || type == 'c' ||
							   type == 'z' || type == 'k')))
				goto fail;
			if (type == 'r' && !have_t)
				goto fail;
			rank = r;
			if (type == 'c' && !conn(v, &s->conn))
				goto fail;
			s->has_conn |= type == 'c';
			if (type == 't') {
				struct sip_str a = v, t0, t1;
				if (!field(&a, &t0) || !field(&a, &t1) || a.len || !all_digits(t0) || !all_digits(t1))
					goto fail;
				if (!have_t) {
					s->t_start = t0;
					s->t_stop = t1;
				}
				have_t = true;
			}
			if (type == 'a')
				goto attr;
			break;
		}
		case 4:
		media:
			if (type == 'm') {
				if (s->nmedia == SIP_SDP_MAX_MEDIA)
					return SIP_ETOOBIG;
				if (!media_line(v, &s->media[s->nmedia]))
					goto fail;
				s->nmedia++;
				rank = 0;
				break;
			} else {
				int r = media_rank(type);
				struct sip_sdp_media *m = &s->media[s->nmedia - 1];
				if (r < 0 || r < rank || (r == rank && (type == 'i' || type == 'k')))
					goto fail;
				rank = r;
				if (type == 'c') {
					if (!conn(v, &m->conn))
						goto fail;
					m->has_conn = true;
				}
				if (type == 'a')
					goto attr;
			}
			break;
		attr: {
			if (s->nattr == SIP_SDP_MAX_ATTRS)
				return SIP_ETOOBIG;
			struct sip_sdp_attr *a = &s->attr[s->nattr++];
			const char *colon = memchr(v.p, ':', v.len);
			a->name = colon ? (struct sip_str){v.p, (size_t)(colon - v.p)} : v;
			a->value = colon ? (struct sip_str){colon + 1, (size_t)(v.p + v.len - colon - 1)} : SIP_STR_NULL;
			a->media = stage == 4 ? (int)s->nmedia - 1 : -1;
			if (!token(a->name))
				goto fail;
			enum sip_sdp_dir d;
			if (!colon && dir_of(a->name, &d)) {
				if (stage == 4) {
					s->media[s->nmedia - 1].dir = d;
					media_dir[s->nmedia - 1] = true;
				} else {
					s->dir = d;
				}
			}
			break;
		}
		}
		i = end + 1;
	}
	bad = len;
	if (stage < 3 || !have_t)
		goto fail;
	for (unsigned k = 0; k < s->nmedia; k++) {
		if (!s->has_conn && !s->media[k].has_conn)
			goto fail; /* §5.7: a c= at one level or the other */
		if (!media_dir[k])
			s->media[k].dir = s->dir;
	}
	return 0;
fail:
	if (err_off)
		*err_off = bad;
	return SIP_EPARSE;
}

struct sip_str sip_sdp_rtpmap(const struct sip_sdp *s, unsigned m, struct sip_str fmt)
{
	for (unsigned i = 0; i < s->nattr; i++) {
		const struct sip_sdp_attr *a = &s->attr[i];
		if (a->media == (int)m && sip_str_eq(a->name, SIP_STR("rtpmap")) && a->value.len > fmt.len &&
		    !memcmp(a->value.p, fmt.p, fmt.len) && a->value.p[fmt.len] == ' ')
			return a->value;
	}
	return SIP_STR_NULL;
}

struct sip_str sip_sdp_encoding(const struct sip_sdp *s, unsigned m, struct sip_str fmt)
{
	/* "<payload type> <encoding name>/<clock rate>[/<parameters>]" */
	struct sip_str v = sip_sdp_rtpmap(s, m, fmt);
	if (v.len) {
		const char *name = v.p + fmt.len + 1;
		const char *slash = memchr(name, '/', (size_t)(v.p + v.len - name));
		return (struct sip_str){name, slash ? (size_t)(slash - name) : (size_t)(v.p + v.len - name)};
	}
	static const struct {
		const char *pt, *name;
	} statics[] = {{"0", "PCMU"}, {"8", "PCMA"}, {"9", "G722"}, {"18", "G729"}};
	for (size_t i = 0; i < sizeof(statics) / sizeof(statics[0]); i++)
		if (sip_str_eq(fmt, sip_str_c(statics[i].pt)))
			return sip_str_c(statics[i].name);
	return SIP_STR_NULL;
}

unsigned sip_sdp_accepted(const struct sip_sdp *answer)
{
	unsigned n = 0;
	for (unsigned i = 0; i < answer->nmedia; i++)
		n += answer->media[i].port != 0;
	return n;
}
