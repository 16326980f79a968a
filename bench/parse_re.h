/* parse_re.h — the libre adapter: sip_msg_decode() on an mbuf (libre parses
 * the start line, splits and hashes every header, and decodes the top Via,
 * From, To, CSeq and Call-ID eagerly), the first Contact through
 * sip_msg_hdr() + sip_addr_decode(), then mem_deref().
 *
 * libre's receive path hands sip_msg_decode() an mbuf it already owns, so each
 * corpus message gets one mbuf up front and the timed loop only rewinds it:
 * the copy into an mbuf is not charged to libre.
 *
 * libre and libsip both name types struct sip_msg, sip_via, sip_hdr, ... and
 * constants SIP_HDR_*: this header must be included before <sip/msg.h>, and it
 * renames libre's spellings to re_sip_* / RE_SIP_HDR_* for the rest of the
 * translation unit. */
#ifndef BENCH_PARSE_RE_H
#define BENCH_PARSE_RE_H

#ifdef SIP_MSG_H
#error "parse_re.h must come before <sip/msg.h>"
#endif

#include <stdbool.h>
#include <stdint.h>

#define sip_msg re_sip_msg
#define sip_via re_sip_via
#define sip_hdr re_sip_hdr
#define sip_cseq re_sip_cseq
#define sip_contact re_sip_contact
#define sip_auth re_sip_auth
#define PARSE_RE_RENAME
#include "parse_re_names.h"

#include <re_types.h>
#include <re_fmt.h>
#include <re_mbuf.h>
#include <re_mem.h>
#include <re_list.h>
#include <re_sa.h>
#include <re_msg.h>
#include <re_uri.h>
#include <re_sip.h>

#undef sip_msg
#undef sip_via
#undef sip_hdr
#undef sip_cseq
#undef sip_contact
#undef sip_auth
/* Keep the one libre header id we use, then give SIP_HDR_* back to libsip. */
static const enum sip_hdrid re_hdr_contact = RE_SIP_HDR_CONTACT;
#define PARSE_RE_UNRENAME
#include "parse_re_names.h"

#include "parse_common.h"

#define RE_MAX_MSGS 1024 /* corpus messages the adapter holds mbufs for */

static struct mbuf *re_mbufs[RE_MAX_MSGS];

static int re_init(const struct bench_msg *msgs, size_t n)
{
	if (n > RE_MAX_MSGS)
		return -1;
	for (size_t i = 0; i < n; i++) {
		re_mbufs[i] = mbuf_alloc(msgs[i].len);
		if (!re_mbufs[i] || mbuf_write_mem(re_mbufs[i], (const uint8_t *)msgs[i].data, msgs[i].len))
			return -1;
	}
	return 0;
}

static void re_fini(void)
{
	for (size_t i = 0; i < RE_MAX_MSGS; i++)
		re_mbufs[i] = mem_deref(re_mbufs[i]);
}

static void re_put_pl(struct bench_out *o, enum bench_field f, const struct pl *pl)
{
	if (pl->p)
		bench_put(o, f, pl->p, pl->l);
}

/* libre keeps sent-by as one "host[:port]" slice; the host is what is compared. */
static void re_put_sentby(struct bench_out *o, const struct pl *sentby)
{
	size_t n = sentby->l;
	const char *p = sentby->p;

	if (!p)
		return;
	if (n && p[0] == '[') {
		const char *e = memchr(p, ']', n);
		if (e) {
			bench_put(o, BF_VIA_HOST, p + 1, (size_t)(e - p - 1));
			return;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (p[i] == ':') {
			n = i;
			break;
		}
	}
	bench_put(o, BF_VIA_HOST, p, n);
}

static int re_run(size_t idx, const struct bench_msg *m, struct bench_out *o)
{
	struct mbuf *mb = re_mbufs[idx];
	struct re_sip_msg *msg = NULL;
	const struct re_sip_hdr *h;
	int err;

	(void)m;
	mb->pos = 0;
	err = sip_msg_decode(&msg, mb);
	if (err)
		return -1;
	re_put_sentby(o, &msg->via.sentby);
	re_put_pl(o, BF_VIA_BRANCH, &msg->via.branch);
	re_put_pl(o, BF_FROM_USER, &msg->from.uri.user);
	re_put_pl(o, BF_FROM_HOST, &msg->from.uri.host);
	re_put_pl(o, BF_FROM_TAG, &msg->from.tag);
	re_put_pl(o, BF_TO_USER, &msg->to.uri.user);
	re_put_pl(o, BF_TO_HOST, &msg->to.uri.host);
	re_put_pl(o, BF_TO_TAG, &msg->to.tag);
	re_put_pl(o, BF_CALL_ID, &msg->callid);
	bench_put_cseq(o, msg->cseq.num);
	re_put_pl(o, BF_CSEQ_METHOD, &msg->cseq.met);
	h = sip_msg_hdr(msg, re_hdr_contact);
	if (h && !(h->val.l == 1 && h->val.p[0] == '*')) {
		struct sip_addr addr;
		if (sip_addr_decode(&addr, &h->val) != 0) {
			mem_deref(msg);
			return -1;
		}
		re_put_pl(o, BF_CONTACT_USER, &addr.uri.user);
		re_put_pl(o, BF_CONTACT_HOST, &addr.uri.host);
	}
	mem_deref(msg);
	return 0;
}

static const struct bench_stack bench_re = {"libre", re_init, re_run, re_fini};

#endif
