/* fuzz_dns — DNS answers are hostile input: arbitrary bytes as the answer to
 * every query of an RFC 3263 resolution (NAPTR, SRV, A, AAAA through c-ares's
 * parsers into the resolver core), and through the answer cache's TTL
 * walker and put/get. Nothing may crash, hang or read out of bounds. */
#include <ares.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transport/resolver_int.h"

static uint32_t fixed_rand(void *ud)
{
	(void)ud;
	return 7;
}

static struct sip__dcache cache;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)sip__dns_answer_ttl(data, size, false);
	(void)sip__dns_answer_ttl(data, size, true);
	sip__dcache_put(&cache, "example.test", 35, ARES_SUCCESS, false, data, size, 0);
	sip__dcache_put(&cache, "example.test", 33, ARES_ENOTFOUND, true, data, size, 0);
	int st;
	const unsigned char *msg;
	size_t len;
	(void)sip__dcache_get(&cache, "EXAMPLE.test", 35, 1000, &st, &msg, &len);

	static struct sip__rsm m;
	struct sip_uri u;
	memset(&u, 0, sizeof u);
	u.scheme = SIP_URI_SIP;
	u.host = SIP_STR("example.test");
	u.host_type = SIP_HOST_NAME;
	struct sip__rcfg cfg = {.protos = SIP_RESOLVE_PROTO_DEFAULT, .rand = fixed_rand};
	if (sip__rsm_init(&m, &u, &cfg) != 0)
		return 0;
	int qid;
	const char *name;
	enum sip__rtype type;
	/* Every query gets these bytes as its answer (success status, so the
	 * parsers run), however many the answers make the core ask. */
	for (int rounds = 0; rounds < 4 * SIP__RSM_MAX_QUERIES && sip__rsm_next_query(&m, &qid, &name, &type);
	     rounds++)
		sip__rsm_feed_ares(&m, qid, type, ARES_SUCCESS, data, (int)size);
	struct sip_resolve_result *res = NULL;
	if (sip__rsm_done(&m) && sip__rsm_result(&m, &res) == 0)
		sip_resolve_result_free(res);
	return 0;
}
