/* parse_libsip.h — the libsip adapter: sip_msg_parse() into one reused struct
 * sip_msg (the header index and the eager fields live in it), then the first
 * Contact value through sip_hdr_iter + sip_contact_parse(). No allocation. */
#ifndef BENCH_PARSE_LIBSIP_H
#define BENCH_PARSE_LIBSIP_H

#include <sip/msg.h>

#include "parse_common.h"

static struct sip_msg libsip_m; /* reused across messages, as a receive loop would */

static int libsip_run(size_t idx, const struct bench_msg *bm, struct bench_out *o)
{
	struct sip_msg *m = &libsip_m;
	struct sip_parse_err err;
	struct sip_hdr_iter it;
	struct sip_str v;
	int rc;

	(void)idx;
	rc = sip_msg_parse(m, bm->data, bm->len, SIP_PARSE_DATAGRAM, &err);
	if (rc < 0)
		return rc;
	if (m->first[SIP_HDR_VIA] == SIP_HDR_NONE || m->first[SIP_HDR_FROM] == SIP_HDR_NONE ||
	    m->first[SIP_HDR_TO] == SIP_HDR_NONE || m->first[SIP_HDR_CALL_ID] == SIP_HDR_NONE ||
	    m->first[SIP_HDR_CSEQ] == SIP_HDR_NONE)
		return SIP_EPARSE;
	bench_put(o, BF_VIA_HOST, m->via.host.p, m->via.host.len);
	if (m->via.has_branch)
		bench_put(o, BF_VIA_BRANCH, m->via.branch.p, m->via.branch.len);
	bench_put(o, BF_FROM_USER, m->from.uri.user.p, m->from.uri.user.len);
	bench_put(o, BF_FROM_HOST, m->from.uri.host.p, m->from.uri.host.len);
	if (m->from.has_tag)
		bench_put(o, BF_FROM_TAG, m->from.tag.p, m->from.tag.len);
	bench_put(o, BF_TO_USER, m->to.uri.user.p, m->to.uri.user.len);
	bench_put(o, BF_TO_HOST, m->to.uri.host.p, m->to.uri.host.len);
	if (m->to.has_tag)
		bench_put(o, BF_TO_TAG, m->to.tag.p, m->to.tag.len);
	bench_put(o, BF_CALL_ID, m->call_id.p, m->call_id.len);
	bench_put_cseq(o, m->cseq.num);
	bench_put(o, BF_CSEQ_METHOD, m->cseq.method.p, m->cseq.method.len);

	sip_hdr_iter_init(&it, m, SIP_HDR_CONTACT);
	rc = sip_hdr_iter_next(&it, &v);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		struct sip_contact c;
		rc = sip_contact_parse(&c, v, NULL);
		if (rc < 0)
			return rc;
		if (!c.na.star) {
			bench_put(o, BF_CONTACT_USER, c.na.uri.user.p, c.na.uri.user.len);
			bench_put(o, BF_CONTACT_HOST, c.na.uri.host.p, c.na.uri.host.len);
		}
	}
	return 0;
}

static const struct bench_stack bench_libsip = {"libsip", NULL, libsip_run, NULL};

#endif
