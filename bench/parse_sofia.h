/* parse_sofia.h — the sofia-sip adapter: msg_make() with the default SIP
 * message class (it frames the buffer, copies it into the message's own home
 * and parses every known header into typed structures), the fields from the
 * sip_t view, then msg_destroy(). */
#ifndef BENCH_PARSE_SOFIA_H
#define BENCH_PARSE_SOFIA_H

/* sofia-sip declares its own sip_method_name(); libsip's is the one in scope. */
#define sip_method_name sofia_sip_method_name
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#undef sip_method_name

/* sofia-sip defines SIP_METHOD_<NAME> as "enum, string" macro pairs; they
 * would shadow libsip's enum sip_method constants below this point. */
#undef SIP_METHOD_INVITE
#undef SIP_METHOD_ACK
#undef SIP_METHOD_BYE
#undef SIP_METHOD_CANCEL
#undef SIP_METHOD_OPTIONS
#undef SIP_METHOD_REGISTER
#undef SIP_METHOD_PRACK
#undef SIP_METHOD_UPDATE
#undef SIP_METHOD_SUBSCRIBE
#undef SIP_METHOD_NOTIFY
#undef SIP_METHOD_REFER
#undef SIP_METHOD_MESSAGE
#undef SIP_METHOD_INFO
#undef SIP_METHOD_PUBLISH

#include "parse_common.h"

static msg_mclass_t const *sofia_mclass;

static int sofia_init(const struct bench_msg *msgs, size_t n)
{
	(void)msgs;
	(void)n;
	sofia_mclass = sip_default_mclass();
	return sofia_mclass ? 0 : -1;
}

static void sofia_put_url(struct bench_out *o, enum bench_field user, enum bench_field host,
			  const url_t *url)
{
	bench_put_c(o, user, url->url_user);
	bench_put_c(o, host, url->url_host);
}

static int sofia_run(size_t idx, const struct bench_msg *m, struct bench_out *o)
{
	msg_t *msg;
	sip_t const *sip;
	int rc = -1;

	(void)idx;
	msg = msg_make(sofia_mclass, 0, m->data, (ssize_t)m->len);
	if (!msg)
		return -1;
	sip = sip_object(msg);
	if (msg_has_error(msg) || !sip || !sip->sip_via || !sip->sip_from || !sip->sip_to ||
	    !sip->sip_call_id || !sip->sip_cseq)
		goto out;
	bench_put_c(o, BF_VIA_HOST, sip->sip_via->v_host);
	bench_put_c(o, BF_VIA_BRANCH, sip->sip_via->v_branch);
	sofia_put_url(o, BF_FROM_USER, BF_FROM_HOST, sip->sip_from->a_url);
	bench_put_c(o, BF_FROM_TAG, sip->sip_from->a_tag);
	sofia_put_url(o, BF_TO_USER, BF_TO_HOST, sip->sip_to->a_url);
	bench_put_c(o, BF_TO_TAG, sip->sip_to->a_tag);
	bench_put_c(o, BF_CALL_ID, sip->sip_call_id->i_id);
	bench_put_cseq(o, sip->sip_cseq->cs_seq);
	bench_put_c(o, BF_CSEQ_METHOD, sip->sip_cseq->cs_method_name);
	if (sip->sip_contact && !(sip->sip_contact->m_url->url_type == url_any))
		sofia_put_url(o, BF_CONTACT_USER, BF_CONTACT_HOST, sip->sip_contact->m_url);
	rc = 0;
out:
	msg_destroy(msg);
	return rc;
}

static const struct bench_stack bench_sofia = {"sofia-sip", sofia_init, sofia_run, NULL};

#endif
