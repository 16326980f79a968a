/* log.h — one line per event on stderr, with a level filter, and optional
 * message tracing (every message sent and received, as sngrep would show it). */
#ifndef SIP_LOG_H
#define SIP_LOG_H

#include <sip/core.h>

#ifdef __cplusplus
extern "C" {
#endif

enum sip_log_level { SIP_LOG_ERROR = 0, SIP_LOG_WARN, SIP_LOG_INFO, SIP_LOG_DEBUG };

/* Sets the most verbose level printed (default SIP_LOG_INFO). */
SIP_API void sip_log_set_level(enum sip_log_level lvl);
SIP_API enum sip_log_level sip_log_get_level(void);
/* Parses "error", "warn", "info", "debug". Returns 0 or SIP_EINVAL. */
SIP_API int sip_log_level_parse(const char *s, enum sip_log_level *out);
/* Whether messages are traced. */
SIP_API void sip_log_set_trace(bool on);
SIP_API bool sip_log_trace_enabled(void);

/* Prints one line "<time> <LEVEL> <text>" if lvl is enabled. Thread-safe. */
SIP_API void sip_log(enum sip_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Traces one message: direction ("recv"/"send"), transport, peer, and the bytes. */
SIP_API void sip_log_trace(const char *dir, const char *transport, const char *peer, const char *buf, size_t len);

#define sip_log_enabled(lvl) ((lvl) <= sip_log_get_level())

#ifdef __cplusplus
}
#endif
#endif
