/* location_int.h — what the backends share: input checks, the binding
 * match rule, and a builder for lookup results. */
#ifndef SIP_LOCATION_INT_H
#define SIP_LOCATION_INT_H

#include <sip/location.h>

/* Checks a binding given to upsert: required fields and caps. */
int sip__binding_check(const struct sip_binding *b);

/* Index of the binding among v[0..n) that b replaces, or -1 (RFC 5626
 * instance + reg-id first, else contact URI equality). */
long sip__binding_match(const struct sip_location *loc, const struct sip_binding *v, size_t n,
			const struct sip_binding *b);

/* Contact URI equality through the configured callback (bytes by default). */
bool sip__uri_eq(const struct sip_location *loc, struct sip_str a, struct sip_str b);

/* Builds a struct sip_binding_list one binding at a time, copying strings. */
struct sip__list_builder {
	struct sip_binding *v;
	size_t n, cap;
	char *s;
	size_t slen, scap;
	bool failed;
};
void sip__lb_init(struct sip__list_builder *lb);
/* Copies b (strings included); 0 or SIP_ENOMEM. */
int sip__lb_add(struct sip__list_builder *lb, const struct sip_binding *b);
/* Hands the result to out, sorted (q desc, updated desc) when sort is set,
 * else in insertion order; 0 or SIP_ENOMEM (the builder is released either way). */
int sip__lb_finish(struct sip__list_builder *lb, struct sip_binding_list *out, bool sort);
void sip__lb_abort(struct sip__list_builder *lb);

#endif
