/* print_int.h — private helpers shared by build.c and edit.c. */
#ifndef SIP_MESSAGE_PRINT_INT_H
#define SIP_MESSAGE_PRINT_INT_H

#include <sip/print.h>

/* Appends n raw bytes (no-op after an error; sets SIP_ETOOBIG on overflow). */
void sip__build_put(struct sip_builder *b, const char *p, size_t n);
/* Appends v in decimal. */
void sip__build_u32(struct sip_builder *b, uint32_t v);
/* True when a header value holds no NUL and no line break other than folding. */
bool sip__build_value_ok(struct sip_str v);

#endif
