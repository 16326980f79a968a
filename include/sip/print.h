/* print.h — building messages from scratch, and re-serializing a parsed
 * message after edits with every untouched byte identical. */
#ifndef SIP_PRINT_H
#define SIP_PRINT_H

#include <sip/msg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Builder: writes a new message into a caller-owned buffer. ----
 * Calls after an overflow are no-ops; sip_build_finish() reports it. */
struct sip_builder {
	char *buf;
	size_t cap, len;
	int err;           /* 0, SIP_ETOOBIG, or SIP_EINVAL (a bad argument: a header name that is
			    * not a token, a value with a line break that is not folding, ...) */
};

SIP_API void sip_build_init(struct sip_builder *b, char *buf, size_t cap);
/* "METHOD uri SIP/2.0\r\n" */
SIP_API void sip_build_request_line(struct sip_builder *b, struct sip_str method, struct sip_str ruri);
/* "SIP/2.0 code reason\r\n"; reason NULL/empty uses the RFC 3261 phrase. */
SIP_API void sip_build_status_line(struct sip_builder *b, int code, struct sip_str reason);
/* "Name: value\r\n" */
SIP_API void sip_build_header(struct sip_builder *b, struct sip_str name, struct sip_str value);
SIP_API void sip_build_headerf(struct sip_builder *b, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Raw bytes, appended verbatim. */
SIP_API void sip_build_raw(struct sip_builder *b, struct sip_str bytes);
/* Content-Type (when ctype is non-empty), Content-Length, the empty line and the body. */
SIP_API void sip_build_body(struct sip_builder *b, struct sip_str ctype, struct sip_str body);
/* Returns the message length, or SIP_ETOOBIG when it did not fit. */
SIP_API int sip_build_finish(struct sip_builder *b);

/* Starts a response to req per §8.2.6: status line, every Via, From, To (with
 * to_tag added when non-empty and To has none), Call-ID, CSeq. The caller
 * adds further headers then sip_build_body(). */
SIP_API void sip_build_response_head(struct sip_builder *b, const struct sip_msg *req, int code,
				     struct sip_str reason, struct sip_str to_tag);

/* Writes the CANCEL of an INVITE as sent (§9.1): its Request-URI, Call-ID,
 * From, To, CSeq number and top Via, its Route headers, method CANCEL.
 * Returns the length, SIP_EINVAL (not an INVITE), SIP_ETOOBIG. */
SIP_API int sip_build_cancel(const struct sip_msg *invite, char *out, size_t cap);

/* The RFC 3261 reason phrase of a status code ("Not Found"), or "". */
SIP_API const char *sip_reason_phrase(int code);

/* ---- Editor: a set of edits applied when printing a parsed message. ----
 * Strings passed in must outlive sip_edit_print(). */
#define SIP_MAX_EDITS 32

enum sip_edit_kind {
	SIP_EDIT_INSERT,   /* new header line before header line `idx` (nhdrs = at the end) */
	SIP_EDIT_REMOVE,   /* drop header line `idx` */
	SIP_EDIT_REPLACE,  /* keep name of line `idx`, new value */
};

struct sip_edit_op {
	enum sip_edit_kind kind;
	uint16_t idx;
	struct sip_str name, value;
};

struct sip_edit {
	const struct sip_msg *m;
	struct sip_str ruri;           /* new Request-URI, or empty to keep */
	struct sip_str body;           /* new body when has_body */
	bool has_body;
	struct sip_edit_op ops[SIP_MAX_EDITS];
	unsigned nops;
	int err;                       /* first error of an edit call (SIP_ETOOBIG) */
};

SIP_API void sip_edit_init(struct sip_edit *e, const struct sip_msg *m);
/* Adds a Via line right before the first Via line (on top of all headers
 * when there is none), per §16.6 step 8; a later push goes above an earlier
 * one. value is the via-parm text. */
SIP_API void sip_edit_push_via(struct sip_edit *e, struct sip_str value);
/* Removes the first Via value (a response going upstream): a line with
 * several values is rewritten with the remaining ones (their bytes kept),
 * else removed. Popping what is not there sets e->err = SIP_ENOTFOUND. */
SIP_API void sip_edit_pop_via(struct sip_edit *e);
/* Removes the first Route value (its line, or just that value of a list line). */
SIP_API void sip_edit_pop_route(struct sip_edit *e);
/* Removes the last Route value (its line, or that value of a list line):
 * what a proxy does for a request from a strict router (§16.4). */
SIP_API void sip_edit_pop_last_route(struct sip_edit *e);
SIP_API void sip_edit_set_ruri(struct sip_edit *e, struct sip_str ruri);
/* Appends "name: value" after the last header. */
SIP_API void sip_edit_add_header(struct sip_edit *e, struct sip_str name, struct sip_str value);
/* Inserts "name: value" before header line idx. */
SIP_API void sip_edit_insert_header(struct sip_edit *e, uint16_t idx, struct sip_str name, struct sip_str value);
SIP_API void sip_edit_remove_header(struct sip_edit *e, uint16_t idx);
/* Replaces the value of header line idx. A value that is a slice of the
 * message's own buffer is written as it is (the parser accepted those
 * bytes); any other is checked like sip_build_header()'s. */
SIP_API void sip_edit_replace_value(struct sip_edit *e, uint16_t idx, struct sip_str value);
/* Replaces the body; Content-Length is rewritten to match. */
SIP_API void sip_edit_set_body(struct sip_edit *e, struct sip_str body);
/* Writes the edited message. Content-Length is added or corrected when the
 * body changed or it was missing. Returns the length, e->err, SIP_ETOOBIG
 * when cap is too small, or SIP_EINVAL (bad index, bad name/value). */
SIP_API int sip_edit_print(const struct sip_edit *e, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
