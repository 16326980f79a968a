/* parse_osip.h — the libosip2 adapter: osip_message_parse() (eager: it parses
 * every known header into allocated structures), the fields through the
 * osip_message_get_* accessors, then osip_message_free(). */
#ifndef BENCH_PARSE_OSIP_H
#define BENCH_PARSE_OSIP_H

#include <osipparser2/osip_parser.h>

#include "parse_common.h"

static int osip_bench_init(const struct bench_msg *msgs, size_t n)
{
	(void)msgs;
	(void)n;
	/* osip logs parse errors to stdout, which belongs to the results: mute it
	 * (check_pass names every rejected message itself). */
	osip_trace_initialize(TRACE_LEVEL0, stderr);
	for (int l = TRACE_LEVEL0; l < END_TRACE_LEVEL; l++)
		osip_trace_disable_level((osip_trace_level_t)l);
	return parser_init(); /* builds osip's header-name table once */
}

static void osip_put_url(struct bench_out *o, enum bench_field user, enum bench_field host,
			 const osip_uri_t *url)
{
	if (!url)
		return;
	bench_put_c(o, user, url->username);
	bench_put_c(o, host, url->host);
}

static int osip_run(size_t idx, const struct bench_msg *m, struct bench_out *o)
{
	osip_message_t *sip = NULL;
	osip_via_t *via = NULL;
	osip_contact_t *contact = NULL;
	osip_generic_param_t *param = NULL;
	int rc = -1;

	(void)idx;
	if (osip_message_init(&sip) != 0)
		return -1;
	if (osip_message_parse(sip, m->data, m->len) != 0)
		goto out;
	if (osip_message_get_via(sip, 0, &via) < 0 || !via || !sip->from || !sip->to ||
	    !sip->call_id || !sip->cseq || !sip->cseq->number)
		goto out;
	bench_put_c(o, BF_VIA_HOST, via->host);
	if (osip_via_param_get_byname(via, "branch", &param) == 0 && param)
		bench_put_c(o, BF_VIA_BRANCH, param->gvalue);
	osip_put_url(o, BF_FROM_USER, BF_FROM_HOST, sip->from->url);
	param = NULL;
	if (osip_from_get_tag(sip->from, &param) == 0 && param)
		bench_put_c(o, BF_FROM_TAG, param->gvalue);
	osip_put_url(o, BF_TO_USER, BF_TO_HOST, sip->to->url);
	param = NULL;
	if (osip_to_get_tag(sip->to, &param) == 0 && param)
		bench_put_c(o, BF_TO_TAG, param->gvalue);
	/* osip splits Call-ID at '@'. */
	bench_put_c(o, BF_CALL_ID, sip->call_id->number);
	if (sip->call_id->host) {
		bench_put(o, BF_CALL_ID, "@", 1);
		bench_put_c(o, BF_CALL_ID, sip->call_id->host);
	}
	bench_put_cseq(o, (uint32_t)strtoul(sip->cseq->number, NULL, 10));
	bench_put_c(o, BF_CSEQ_METHOD, sip->cseq->method);
	if (osip_message_get_contact(sip, 0, &contact) >= 0 && contact &&
	    !(contact->displayname && strcmp(contact->displayname, "*") == 0))
		osip_put_url(o, BF_CONTACT_USER, BF_CONTACT_HOST, contact->url);
	rc = 0;
out:
	osip_message_free(sip);
	return rc;
}

static const struct bench_stack bench_osip = {"libosip2", osip_bench_init, osip_run, NULL};

#endif
