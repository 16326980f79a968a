/* redis_int.h — the Redis backend's byte formats (redis_codec.c): a binding
 * as a hash value, the hash field naming it. */
#ifndef SIP_LOCATION_REDIS_INT_H
#define SIP_LOCATION_REDIS_INT_H

#include <sip/location.h>

#define SIP__REDIS_FIELD_MAX (SIP_LOCATION_MAX_FIELD + 16)

/* b as "1 <expires> <updated> <q> <cseq> <reg_id> " then "<len>:<bytes>"
 * per string: a sip_malloc'd buffer and its length, NULL on ENOMEM. */
char *sip__redis_ser(const struct sip_binding *b, int64_t updated, size_t *len);
/* The binding in value (slices point into it, aor given); false when it is
 * not one we wrote (skipped, never trusted). */
bool sip__redis_deser(struct sip_str aor, const char *p, size_t len, struct sip_binding *b);
/* The hash field naming b: "i<reg-id>:<instance>" for a flow, else
 * "c<contact URI>"; its length (at most cap - 1). */
size_t sip__redis_field_of(const struct sip_binding *b, char *buf, size_t cap);

#endif
