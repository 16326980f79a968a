/* answer.c — the answer to an SDP offer (RFC 3264 §6): one m-line per
 * offered one, in order; shared audio codecs accepted, the rest rejected
 * with port 0. */
#include <sip/print.h>
#include <sip/sdp.h>
#include <stdio.h>
#include <string.h>


/* Whether name is one of the comma-separated codecs (case-insensitive). */
static bool wanted(const char *codecs, struct sip_str name)
{
	if (!name.len)
		return false;
	const char *p = codecs;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (sip_str_caseeq((struct sip_str){p, n}, name))
			return true;
		if (!comma)
			break;
		p = comma + 1;
	}
	return false;
}

/* Formats an accepted stream keeps: enough for any codec choice, and few
 * enough that an answer to any offer stays within SIP_SDP_MAX_ATTRS. */
#define ANSWER_MAX_FORMATS 4

static bool listed(const struct sip_str *v, unsigned n, struct sip_str f)
{
	for (unsigned i = 0; i < n; i++)
		if (sip_str_eq(v[i], f))
			return true;
	return false;
}

static bool is_rtp(struct sip_str proto)
{
	return proto.len >= 7 && !memcmp(proto.p, "RTP/", 4);
}

static const char *mirror(enum sip_sdp_dir d)
{
	switch (d) {
	case SIP_SDP_SENDONLY: return "recvonly";
	case SIP_SDP_RECVONLY: return "sendonly";
	case SIP_SDP_INACTIVE: return "inactive";
	default: return "sendrecv";
	}
}

int sip_sdp_answer(const struct sip_sdp *offer, const struct sip_sdp_answer_opts *o, char *out, size_t cap)
{
	if (!offer || !o || !out)
		return SIP_EINVAL;
	const char *addr = o->addr ? o->addr : "0.0.0.0", *at = o->ipv6 ? "IP6" : "IP4";
	const char *codecs = o->codecs ? o->codecs : "PCMU,PCMA";
	struct sip_builder b;
	sip_build_init(&b, out, cap);
	char line[256];
	int n = snprintf(line, sizeof(line), "v=0\r\no=- %llu %llu IN %s %s\r\ns=-\r\nc=IN %s %s\r\n",
			 (unsigned long long)o->sess_id, (unsigned long long)o->sess_id, at, addr, at, addr);
	if (n < 0 || (size_t)n >= sizeof(line))
		return SIP_ETOOBIG;
	sip_build_raw(&b, (struct sip_str){line, (size_t)n});
	/* §6: the t= line of the answer equals the offer's. */
	sip_build_raw(&b, SIP_STR("t="));
	sip_build_raw(&b, offer->t_start);
	sip_build_raw(&b, SIP_STR(" "));
	sip_build_raw(&b, offer->t_stop);
	sip_build_raw(&b, SIP_STR("\r\n"));
	for (unsigned i = 0; i < offer->nmedia; i++) {
		const struct sip_sdp_media *m = &offer->media[i];
		struct sip_str take[SIP_SDP_MAX_FORMATS];
		unsigned nt = 0;
		if (m->port && sip_str_eq(m->type, SIP_STR("audio")) && is_rtp(m->proto))
			for (unsigned f = 0; f < m->nfmt && nt < ANSWER_MAX_FORMATS; f++)
				if (wanted(codecs, sip_sdp_encoding(offer, i, m->fmt[f])) && !listed(take, nt, m->fmt[f]))
					take[nt++] = m->fmt[f];
		bool accept = nt > 0;
		n = snprintf(line, sizeof(line), " %u ", accept ? (unsigned)(o->port ? o->port : 9) : 0u);
		sip_build_raw(&b, SIP_STR("m="));
		sip_build_raw(&b, m->type);
		sip_build_raw(&b, (struct sip_str){line, (size_t)n});
		sip_build_raw(&b, m->proto);
		/* A rejected stream still lists formats (the offered ones, §6). */
		const struct sip_str *list = accept ? take : m->fmt;
		for (unsigned f = 0; f < (accept ? nt : m->nfmt); f++) {
			sip_build_raw(&b, SIP_STR(" "));
			sip_build_raw(&b, list[f]);
		}
		sip_build_raw(&b, SIP_STR("\r\n"));
		if (!accept)
			continue;
		for (unsigned f = 0; f < nt; f++) {
			/* The offer's own rtpmap for it (clock rate, channels), else the
			 * static payload type's (RFC 3551: 8000 Hz). */
			struct sip_str map = sip_sdp_rtpmap(offer, i, take[f]);
			sip_build_raw(&b, SIP_STR("a=rtpmap:"));
			if (map.len) {
				sip_build_raw(&b, map);
			} else {
				struct sip_str enc = sip_sdp_encoding(offer, i, take[f]);
				n = snprintf(line, sizeof(line), "%.*s %.*s/8000", SIP_STR_ARG(take[f]), SIP_STR_ARG(enc));
				if (n < 0 || (size_t)n >= sizeof(line))
					return SIP_ETOOBIG;
				sip_build_raw(&b, (struct sip_str){line, (size_t)n});
			}
			sip_build_raw(&b, SIP_STR("\r\n"));
		}
		n = snprintf(line, sizeof(line), "a=%s\r\n", o->inactive ? "inactive" : mirror(m->dir));
		sip_build_raw(&b, (struct sip_str){line, (size_t)n});
	}
	if (b.err)
		return b.err;
	if (b.len >= cap)
		return SIP_ETOOBIG;
	out[b.len] = 0;
	return (int)b.len;
}
