/* validate_int.h — private: the validation pass behind sip_msg_validate(),
 * shared by iter.c and parse.c. */
#ifndef SIP_MESSAGE_VALIDATE_INT_H
#define SIP_MESSAGE_VALIDATE_INT_H

#include <stdbool.h>
#include <sip/msg.h>

/* sip_msg_validate(); eager_done skips the values sip_msg_parse()'s eager
 * pass already parsed with the same sub-parsers (From, To, the top via-parm). */
int sip__msg_validate(const struct sip_msg *m, struct sip_parse_err *err, bool eager_done);

/* End of the list element of v starting at pos: the first ',' outside a
 * quoted-string, <...> or (comment), or v.len (iter.c; the editor splits
 * list values with it too). */
size_t sip__list_element_end(struct sip_str v, size_t pos);

#endif
