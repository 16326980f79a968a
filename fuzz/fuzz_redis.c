/* libFuzzer target: the Redis location backend's value format
 * (src/location/redis_codec.c) on arbitrary bytes — what a store shared
 * with other programs may hold. A value either is refused or decodes into
 * slices inside it, and what decodes encodes back to bytes that decode to
 * the same binding. */
#include <stdlib.h>
#include <string.h>

#include "location/redis_int.h"

static bool same(struct sip_str a, struct sip_str b)
{
	return a.len == b.len && (!a.len || !memcmp(a.p, b.p, a.len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct sip_binding b, back;
	if (!sip__redis_deser(SIP_STR("sip:a@b"), p, size, &b))
		return 0;
	const struct sip_str *f[] = {&b.contact_uri, &b.contact, &b.call_id, &b.path,
				     &b.instance,    &b.received, &b.user_agent};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i]->len && (f[i]->p < p || f[i]->p + f[i]->len > p + size))
			abort();
	size_t n;
	char *v = sip__redis_ser(&b, b.updated, &n);
	if (!v)
		return 0;
	if (!sip__redis_deser(b.aor, v, n, &back) || back.expires != b.expires || back.q != b.q ||
	    back.cseq != b.cseq || back.reg_id != b.reg_id || back.updated != b.updated ||
	    !same(back.contact_uri, b.contact_uri) || !same(back.user_agent, b.user_agent) ||
	    !same(back.instance, b.instance))
		abort();
	char fname[SIP__REDIS_FIELD_MAX];
	if (sip__redis_field_of(&b, fname, sizeof(fname)) >= sizeof(fname))
		abort();
	sip_free(v);
	return 0;
}
