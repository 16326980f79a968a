/* msg.h — SIP messages (RFC 3261 §7, §20, §25): parse, typed header access,
 * stream framing. Zero-copy: a parsed message points into the caller's buffer,
 * which must outlive it; parsing makes no heap allocation.
 *
 * Eager for the transaction key, lazy for the rest: the top Via, From, To,
 * Call-ID, CSeq, Max-Forwards and Content-Length are parsed by
 * sip_msg_parse(); every other header is parsed on demand by the small pure
 * sub-parsers below (sip_via_parse(), sip_nameaddr_parse(), ...). */
#ifndef SIP_MSG_H
#define SIP_MSG_H

#include <sip/core.h>
#include <sip/uri.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Named caps on every length and count (each overflow is an error). */
#define SIP_MAX_HEADERS 128            /* header lines per message */
#define SIP_MAX_HEADER_BYTES 32768     /* start line + header section */
#define SIP_MAX_BODY_BYTES (1u << 20)  /* Content-Length accepted */

enum sip_hdr_id {
	SIP_HDR_OTHER = 0, /* unknown (extension) header, kept untouched */
#define SIP_HDR(id, name, compact, list) SIP_HDR_##id,
#include <sip/hdr_table.h>
#undef SIP_HDR
	SIP_HDR__COUNT
};

enum sip_method {
	SIP_METHOD_UNKNOWN = 0, /* any other token: see sip_msg.method */
	SIP_METHOD_INVITE,
	SIP_METHOD_ACK,
	SIP_METHOD_BYE,
	SIP_METHOD_CANCEL,
	SIP_METHOD_OPTIONS,
	SIP_METHOD_REGISTER,
	SIP_METHOD_PRACK,
	SIP_METHOD_UPDATE,
	SIP_METHOD_SUBSCRIBE,
	SIP_METHOD_NOTIFY,
	SIP_METHOD_REFER,
	SIP_METHOD_MESSAGE,
	SIP_METHOD_INFO,
	SIP_METHOD_PUBLISH,
	SIP_METHOD__COUNT
};

/* Why parsing failed: where, what, and the response a server should send
 * (400, 505, 513, ...; 0 when the message should be silently dropped). */
struct sip_parse_err {
	size_t offset;
	const char *reason;
	int status;
};

#define SIP_HDR_NONE 0xffffu

/* One header line (with its continuation lines). */
struct sip_hdr {
	struct sip_str name;  /* as written (may be compact or odd-cased) */
	struct sip_str value; /* without surrounding LWS; folding kept as is */
	uint32_t line_off;    /* offset of the line in the message */
	uint32_t line_len;    /* bytes of the line, through its final CRLF */
	uint16_t id;          /* enum sip_hdr_id */
	uint16_t next;        /* index of the next header with the same id, or SIP_HDR_NONE */
};

struct sip_via {
	struct sip_str raw;             /* this via-parm */
	struct sip_str protocol;        /* "SIP" */
	struct sip_str version;         /* "2.0" */
	struct sip_str transport;       /* "UDP", "TCP", "TLS", "SCTP", "WS", or an extension token */
	struct sip_str host;            /* sent-by host (no brackets for IPv6) */
	enum sip_host_type host_type;
	uint16_t port;
	bool has_port;
	struct sip_str params;          /* raw via-params without the leading ';' */
	struct sip_str branch, received, maddr, ttl, rport;
	bool has_branch, has_received, has_rport, rport_has_value;
};

/* name-addr / addr-spec with header parameters: From, To, Contact, Route,
 * Record-Route, Reply-To, Path, Refer-To ... */
struct sip_nameaddr {
	struct sip_str display;         /* raw display-name: quoted (with quotes) or tokens; may be empty */
	struct sip_str uri_str;         /* the URI text (inside <> when bracketed) */
	struct sip_uri uri;
	bool bracketed;                 /* the URI was inside <> */
	bool star;                      /* Contact: * */
	struct sip_str params;          /* raw header params without the leading ';' */
	struct sip_str tag;             /* ;tag= (From/To) */
	bool has_tag;
};

struct sip_contact {
	struct sip_nameaddr na;
	int32_t q;                      /* q-value in thousandths (0..1000); -1 when absent */
	uint32_t expires;
	bool has_expires;
};

struct sip_cseq {
	uint32_t num;
	struct sip_str method;
	enum sip_method method_id;
};

/* A token list header value (Allow, Supported, Require ...) is iterated with
 * sip_hdr_iter; each value is one token. */

struct sip_content_type {
	struct sip_str type, subtype;   /* "application", "sdp" */
	struct sip_str params;          /* raw m-parameters without the leading ';' */
};

/* Challenge (WWW-/Proxy-Authenticate) or credentials ((Proxy-)Authorization). */
struct sip_auth {
	struct sip_str scheme;          /* "Digest", or any other token */
	struct sip_str params;          /* raw auth-params (comma separated) */
	/* Digest parameters, unquoted slices (escapes left in place); empty when absent. */
	struct sip_str realm, nonce, opaque, algorithm, qop, domain, stale;
	struct sip_str username, uri, response, cnonce, nc, userhash;
};

struct sip_rack {
	uint32_t rseq, cseq;
	struct sip_str method;
};

struct sip_event {
	struct sip_str type;            /* event-type token */
	struct sip_str params;
	struct sip_str id;
};

struct sip_retry_after {
	uint32_t seconds;
	struct sip_str comment;         /* without parentheses */
	struct sip_str params;
	uint32_t duration;
	bool has_duration;
};

struct sip_timestamp {
	struct sip_str value, delay;    /* decimal numbers with optional fraction */
};

struct sip_date {
	struct sip_str raw;
	int64_t epoch;                  /* seconds since 1970-01-01 UTC */
};

struct sip_msg {
	const char *buf;                /* the message's first byte */
	size_t len;                     /* bytes of the message (start line .. end of body) */
	bool is_request;

	/* Start line. */
	struct sip_str start_line;      /* without CRLF */
	struct sip_str method;          /* request */
	enum sip_method method_id;
	struct sip_str ruri_str;
	struct sip_uri ruri;
	struct sip_str version;         /* "SIP/2.0" */
	uint16_t status;                /* response */
	struct sip_str reason;

	/* Header lines in order. first[id] indexes hdrs, or SIP_HDR_NONE. */
	struct sip_hdr hdrs[SIP_MAX_HEADERS];
	uint16_t nhdrs;
	uint16_t first[SIP_HDR__COUNT];
	uint32_t body_off;              /* offset of the body (after the empty line) */

	/* Eager fields (valid when the header is present). */
	struct sip_via via;             /* top Via value */
	struct sip_nameaddr from, to;
	struct sip_str call_id;
	struct sip_cseq cseq;
	int32_t max_forwards;           /* -1 when absent */
	bool has_content_length;
	uint32_t content_length;
	struct sip_str body;
};

enum sip_parse_flags {
	SIP_PARSE_DATAGRAM = 0,  /* no Content-Length: body is the rest; extra bytes ignored */
	SIP_PARSE_STREAM = 1,    /* Content-Length required; returns bytes consumed */
	SIP_PARSE_VALIDATE = 2,  /* also run sip_msg_validate() (every known header) */
};

/* Parses one message from [buf, buf+len). Returns the bytes the message
 * occupies (> 0; on a datagram the rest is ignored per §18.3), SIP_EAGAIN
 * when a stream holds an incomplete message, or a negative error with *err
 * filled (reason, byte offset, suggested response status). */
SIP_API int sip_msg_parse(struct sip_msg *m, const char *buf, size_t len, unsigned flags,
			  struct sip_parse_err *err);

/* Name of a header id ("Via"); "" for SIP_HDR_OTHER. */
SIP_API const char *sip_hdr_name(enum sip_hdr_id id);
/* Compact form letter of a header id, or 0. */
SIP_API char sip_hdr_compact(enum sip_hdr_id id);
/* Header id for a name, full or compact, any case; SIP_HDR_OTHER when unknown. */
SIP_API enum sip_hdr_id sip_hdr_lookup(const char *name, size_t len);
/* Whether a header's values are comma-separated lists. */
SIP_API bool sip_hdr_is_list(enum sip_hdr_id id);

/* Method id for a token (case-sensitive, §7.1); SIP_METHOD_UNKNOWN otherwise. */
SIP_API enum sip_method sip_method_lookup(struct sip_str token);
/* Canonical method name ("INVITE"); NULL for SIP_METHOD_UNKNOWN. */
SIP_API const char *sip_method_name(enum sip_method m);

/* Full syntax check of every known header value with its typed sub-parser
 * (sip_msg_parse checks only the eager ones). 0 or SIP_EPARSE with *err. */
SIP_API int sip_msg_validate(const struct sip_msg *m, struct sip_parse_err *err);

/* Finds a header by name (for extension headers); returns its index or -1. */
SIP_API int sip_msg_find(const struct sip_msg *m, struct sip_str name);

/* Iterates the values of one header kind, in order, across repeated lines and
 * (for list headers) comma-separated values alike. */
struct sip_hdr_iter {
	const struct sip_msg *m;
	uint16_t idx;                   /* current header line, SIP_HDR_NONE at end */
	size_t pos;                     /* offset inside the current value */
};
SIP_API void sip_hdr_iter_init(struct sip_hdr_iter *it, const struct sip_msg *m, enum sip_hdr_id id);
/* Returns 1 with *value set, 0 at the end, SIP_EPARSE on an empty list element. */
SIP_API int sip_hdr_iter_next(struct sip_hdr_iter *it, struct sip_str *value);
/* Number of values of one header kind, or SIP_EPARSE. */
SIP_API int sip_hdr_count(const struct sip_msg *m, enum sip_hdr_id id);
/* Whether one value of the token-list headers id (Supported, Require ...) is
 * `token`, compared case-insensitively. */
SIP_API bool sip_hdr_has_token(const struct sip_msg *m, enum sip_hdr_id id, struct sip_str token);

/* Sub-parsers: each parses exactly one header value. 0 or SIP_EPARSE/SIP_ERANGE
 * with *err_off (may be NULL) at the first bad byte, relative to value.p. */
SIP_API int sip_via_parse(struct sip_via *v, struct sip_str value, size_t *err_off);
SIP_API int sip_nameaddr_parse(struct sip_nameaddr *na, struct sip_str value, size_t *err_off);
SIP_API int sip_contact_parse(struct sip_contact *c, struct sip_str value, size_t *err_off);
SIP_API int sip_cseq_parse(struct sip_cseq *c, struct sip_str value, size_t *err_off);
SIP_API int sip_u32_parse(uint32_t *out, struct sip_str value, size_t *err_off); /* Expires, Min-Expires, RSeq, Content-Length, Max-Forwards */
SIP_API int sip_token_parse(struct sip_str value, size_t *err_off);                /* one token (Allow, Supported ...) */
SIP_API int sip_content_type_parse(struct sip_content_type *ct, struct sip_str value, size_t *err_off);
SIP_API int sip_auth_parse(struct sip_auth *a, struct sip_str value, size_t *err_off);
SIP_API int sip_rack_parse(struct sip_rack *r, struct sip_str value, size_t *err_off);
SIP_API int sip_event_parse(struct sip_event *e, struct sip_str value, size_t *err_off);
SIP_API int sip_retry_after_parse(struct sip_retry_after *r, struct sip_str value, size_t *err_off);
SIP_API int sip_timestamp_parse(struct sip_timestamp *t, struct sip_str value, size_t *err_off);
SIP_API int sip_date_parse(struct sip_date *d, struct sip_str value, size_t *err_off);

/* Removes one level of quoting from a quoted-string slice ("a\"b" -> a"b)
 * into dst. Returns the length written, or SIP_ETOOBIG/SIP_EPARSE. */
SIP_API int sip_unquote(struct sip_str quoted, char *dst, size_t cap);

/* Stream framing (TCP/TLS): finds message boundaries across partial reads and
 * several messages per read; re-scans stay linear. */
struct sip_framer {
	size_t scanned;                 /* bytes already searched for the blank line */
	size_t hdr_len;                 /* start line + headers + blank line, once found (else 0) */
	size_t body_len;                /* Content-Length, once hdr_len is known */
	size_t max_header_bytes;        /* 0: SIP_MAX_HEADER_BYTES */
	size_t max_body_bytes;          /* 0: SIP_MAX_BODY_BYTES */
};
SIP_API void sip_framer_init(struct sip_framer *f);
/* Looks at the unconsumed bytes [buf, buf+len) (always starting at a message
 * boundary). Returns 1 with *skip (leading CRLF keep-alives to discard) and
 * *msg_len set when a whole message follows; 0 when more bytes are needed
 * (*skip may still be set); a negative error (the stream cannot be re-synced:
 * close it) with *err filled. After consuming skip + msg_len bytes, call again
 * with the remainder; the framer resets itself. */
SIP_API int sip_framer_next(struct sip_framer *f, const char *buf, size_t len, size_t *skip,
			    size_t *msg_len, struct sip_parse_err *err);

#ifdef __cplusplus
}
#endif
#endif
