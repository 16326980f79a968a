/* uri.h — SIP/SIPS URIs (RFC 3261 §19.1), tel URIs (RFC 3966) and other
 * schemes kept as absolute URIs. Zero-copy: every field slices the input. */
#ifndef SIP_URI_H
#define SIP_URI_H

#include <sip/core.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Named caps (exceeding one is SIP_ETOOBIG). */
#define SIP_URI_MAX_LEN 8192     /* bytes of one URI */
#define SIP_URI_MAX_PARAMS 64    /* uri-parameters of one URI */
#define SIP_URI_MAX_HEADERS 32   /* ?headers of one URI */
#define SIP_URI_MAX_HOST 255     /* bytes of a hostname (DNS limit) */
#define SIP_URI_MAX_LABEL 63     /* bytes of one hostname label (DNS limit) */

enum sip_uri_scheme {
	SIP_URI_SIP = 1,
	SIP_URI_SIPS,
	SIP_URI_TEL,
	SIP_URI_OTHER, /* absoluteURI: only scheme and opaque part are set */
};

enum sip_host_type {
	SIP_HOST_NONE = 0,
	SIP_HOST_NAME,
	SIP_HOST_IPV4,
	SIP_HOST_IPV6, /* host slice excludes the brackets */
};

/* One ;name[=value] item of a parameter list. */
struct sip_param {
	struct sip_str name;
	struct sip_str value; /* empty when has_value is false */
	bool has_value;
};

struct sip_uri {
	enum sip_uri_scheme scheme;
	struct sip_str raw;       /* the whole URI text */
	struct sip_str scheme_str;
	struct sip_str opaque;    /* everything after "scheme:" (all schemes) */
	struct sip_str user;      /* escaped, as on the wire; empty when absent */
	struct sip_str password;
	bool has_user, has_password;
	struct sip_str host;      /* tel: the number (global or local) */
	enum sip_host_type host_type;
	uint16_t port;            /* 0 when absent */
	bool has_port;
	struct sip_str params;    /* raw uri-parameters, without the leading ';' */
	struct sip_str headers;   /* raw headers, without the leading '?' */
	/* Well-known uri-parameters, pre-extracted (empty when absent). */
	struct sip_str transport, user_param, method, maddr, ttl;
	bool lr;
};

/* Parses one URI occupying exactly [p, p+len). Returns 0, or SIP_EPARSE
 * (SIP_ETOOBIG past a SIP_URI_MAX_* cap, SIP_EINVAL for a NULL argument) with
 * *err_off (if non-NULL) set to the offset of the first bad byte.
 * sip/sips: user/password/host/port/params/headers are set, escapes left in
 * place; the well-known params are found even when their names are escaped.
 * tel: host is the number (host_type SIP_HOST_NONE), params the parameters.
 * Other schemes: only scheme_str and opaque (always non-empty). */
SIP_API int sip_uri_parse(struct sip_uri *out, const char *p, size_t len, size_t *err_off);
/* The form of a SIP/SIPS URI that may stand in a Request-URI (§19.1.1,
 * §19.1.5): without its "?headers" part (a Contact or Record-Route URI may
 * carry one, a Request-URI must not). Other schemes and unparsable text come
 * back unchanged. */
SIP_API struct sip_str sip_uri_request_form(struct sip_str uri);

/* Parses the URI at the start of an un-bracketed addr-spec (From/To/Contact
 * without <>): per §20.10 what follows host[:port] (';' params, '?') is not
 * part of the URI, nor is anything after LWS or ','. Returns the bytes the
 * URI occupies (> 0; the caller checks what follows: header params, or a
 * '?' which un-bracketed URIs may not hold), or an error as sip_uri_parse()
 * with *err_off set. */
SIP_API int sip_uri_parse_addrspec(struct sip_uri *out, const char *p, size_t len, size_t *err_off);

/* RFC 3261 §19.1.4 comparison. Returns true when a and b are equivalent. */
SIP_API bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b);

/* Iterates a ';'-separated parameter list (uri-parameters or header params,
 * with or without a leading ';'). *cursor starts at the list and advances;
 * returns 1 with *out filled, 0 at the end, SIP_EPARSE on a malformed item. */
SIP_API int sip_param_next(struct sip_str *cursor, struct sip_param *out);

/* Finds a parameter by name (case-insensitive). Returns 1 found, 0 not found. */
SIP_API int sip_param_find(struct sip_str params, struct sip_str name, struct sip_param *out);

/* Decodes %HH escapes of src into dst (capacity dstcap). Returns the decoded
 * length, or SIP_EPARSE on a bad escape, SIP_ETOOBIG when dst is too small. */
SIP_API int sip_unescape(struct sip_str src, char *dst, size_t dstcap);

/* The default port of a scheme/transport: 5061 for sips or tls, else 5060. */
SIP_API uint16_t sip_uri_default_port(const struct sip_uri *u);

/* Parses the host (hostname, IPv4 address, or [IPv6] reference) at the start
 * of s, e.g. a Via sent-by or a received/maddr value; stops at the first byte
 * that cannot continue it (':' before a port, ';', LWS ...). Returns the bytes
 * consumed (> 0, brackets included) with *host (no brackets) and *type set,
 * or SIP_EPARSE with *err_off (may be NULL) at the first bad byte. */
SIP_API int sip_host_parse(struct sip_str s, struct sip_str *host, enum sip_host_type *type, size_t *err_off);

/* Host equality: hostnames ignoring case; IPv6 addresses by value
 * ([::1] equals [0:0:0:0:0:0:0:1]); different host types never equal. */
SIP_API bool sip_host_equal(struct sip_str a, enum sip_host_type ta, struct sip_str b, enum sip_host_type tb);

#ifdef __cplusplus
}
#endif
#endif
