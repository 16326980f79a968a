/* validate_int.h — private: the validation pass behind sip_msg_validate(),
 * shared by iter.c and parse.c. */
#ifndef SIP_MESSAGE_VALIDATE_INT_H
#define SIP_MESSAGE_VALIDATE_INT_H

#include <stdbool.h>
#include <sip/msg.h>

/* sip_msg_validate(); eager_done skips the values sip_msg_parse()'s eager
 * pass already parsed with the same sub-parsers (From, To, the top via-parm). */
int sip__msg_validate(const struct sip_msg *m, struct sip_parse_err *err, bool eager_done);

#endif
