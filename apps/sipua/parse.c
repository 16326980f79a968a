/* parse.c — `sipua parse FILE|-`: parses one raw SIP message as a UDP
 * datagram (§18.3: bytes after Content-Length are ignored) and prints it as
 * JSON, every known header also in typed form.
 *
 * JSON strings must be UTF-8 but SIP bytes need not be (RFC 4475 has NULs and
 * binary bytes): valid UTF-8 is kept, NUL becomes \u0000, and every byte that
 * is not part of a valid UTF-8 sequence is shown as the code point U+00XX
 * (the byte read as Latin-1), so the output is always valid JSON. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sip/msg.h>

#include "sipua.h"

/* Input cap: the largest message we accept is headers plus a body of
 * SIP_MAX_BODY_BYTES; anything longer is refused before parsing. */
#define SIPUA_MAX_INPUT (1u << 20)

struct ctx {
	const char *base;   /* first input byte, for error offsets */
	size_t err_off;
	const char *err;    /* first error, or NULL */
};

static void fail(struct ctx *c, const char *at, size_t rel, const char *reason)
{
	if (c->err)
		return;
	c->err = reason;
	c->err_off = (size_t)(at - c->base) + rel;
}

/* ---- UTF-8-safe strings ---- */

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static json_t *jstr(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;
	char *tmp;
	json_t *j;

	if (!s)
		return json_string("");
	while (i < n && (k = utf8_seq(p + i, n - i)) != 0)
		i += k;
	if (i == n)
		return json_stringn(s, n);
	/* Each invalid byte grows to two bytes at most. */
	tmp = sip_malloc(2 * n + 1);
	if (!tmp)
		return NULL;
	k = 0;
	for (i = 0; i < n;) {
		size_t l = utf8_seq(p + i, n - i);
		if (l) {
			memcpy(tmp + k, s + i, l);
			k += l;
			i += l;
		} else {
			tmp[k++] = (char)(0xc0 | p[i] >> 6);
			tmp[k++] = (char)(0x80 | (p[i] & 0x3f));
			i++;
		}
	}
	j = json_stringn(tmp, k);
	sip_free(tmp);
	return j;
}

static json_t *js(struct sip_str s)
{
	return jstr(s.p, s.len);
}

/* The slice, or null when absent. */
static json_t *js_opt(struct sip_str s, bool present)
{
	return present ? js(s) : json_null();
}

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v ? v : json_null());
}

/* Object key from wire bytes (made UTF-8 safe like any string). */
static void setk(json_t *o, struct sip_str key, json_t *v)
{
	json_t *k = js(key);
	if (k) {
		json_object_setn_new(o, json_string_value(k), json_string_length(k), v ? v : json_null());
		json_decref(k);
	} else {
		json_decref(v);
	}
}

/* ;name=value list -> {name: value | true}. */
static json_t *params_json(struct sip_str params)
{
	json_t *o = json_object();
	struct sip_str cur = params;
	struct sip_param prm;

	while (sip_param_next(&cur, &prm) == 1)
		setk(o, prm.name, prm.has_value ? js(prm.value) : json_true());
	return o;
}

static const char *host_type_name(enum sip_host_type t)
{
	switch (t) {
	case SIP_HOST_NAME: return "name";
	case SIP_HOST_IPV4: return "ipv4";
	case SIP_HOST_IPV6: return "ipv6";
	default: return "none";
	}
}

static json_t *port_json(uint16_t port, bool has)
{
	return has ? json_integer(port) : json_null();
}

/* ?h1=v1&h2=v2 -> {h1: v1, h2: v2} (escapes left as on the wire). */
static json_t *uri_headers_json(struct sip_str h)
{
	json_t *o = json_object();
	size_t i = 0;

	while (i < h.len) {
		size_t s = i, eq = 0;
		bool has_eq = false;
		while (i < h.len && h.p[i] != '&') {
			if (h.p[i] == '=' && !has_eq)
				eq = i, has_eq = true;
			i++;
		}
		if (has_eq)
			setk(o, (struct sip_str){h.p + s, eq - s}, jstr(h.p + eq + 1, i - eq - 1));
		else if (i > s)
			setk(o, (struct sip_str){h.p + s, i - s}, json_string(""));
		i++;
	}
	return o;
}

static json_t *uri_json(const struct sip_uri *u)
{
	json_t *o = json_object();

	set(o, "raw", js(u->raw));
	set(o, "scheme", js(u->scheme_str));
	switch (u->scheme) {
	case SIP_URI_SIP:
	case SIP_URI_SIPS:
		set(o, "user", js_opt(u->user, u->has_user));
		set(o, "password", js_opt(u->password, u->has_password));
		set(o, "host", js(u->host));
		set(o, "host_type", json_string(host_type_name(u->host_type)));
		set(o, "port", port_json(u->port, u->has_port));
		set(o, "params", params_json(u->params));
		set(o, "headers", uri_headers_json(u->headers));
		break;
	case SIP_URI_TEL:
		set(o, "number", js(u->host));
		set(o, "params", params_json(u->params));
		break;
	default:
		set(o, "opaque", js(u->opaque));
		break;
	}
	return o;
}

/* ---- typed header values ---- */

static json_t *via_json(struct ctx *c, struct sip_str v)
{
	struct sip_via via;
	size_t off = 0;
	json_t *o;

	if (sip_via_parse(&via, v, &off) != 0) {
		fail(c, v.p, off, "bad Via value");
		return NULL;
	}
	o = json_object();
	set(o, "protocol", js(via.protocol));
	set(o, "version", js(via.version));
	set(o, "transport", js(via.transport));
	set(o, "host", js(via.host));
	set(o, "host_type", json_string(host_type_name(via.host_type)));
	set(o, "port", port_json(via.port, via.has_port));
	set(o, "branch", js_opt(via.branch, via.has_branch));
	set(o, "received", js_opt(via.received, via.has_received));
	if (!via.has_rport) {
		set(o, "rport", json_null());
	} else if (!via.rport_has_value) {
		set(o, "rport", json_true());
	} else {
		uint32_t n;
		set(o, "rport", sip_str_to_u32(via.rport, &n) == 0 ? json_integer(n) : js(via.rport));
	}
	set(o, "maddr", via.maddr.len ? js(via.maddr) : json_null());
	set(o, "ttl", via.ttl.len ? js(via.ttl) : json_null());
	set(o, "params", params_json(via.params));
	return o;
}

static void nameaddr_fields(json_t *o, const struct sip_nameaddr *na)
{
	set(o, "display", na->display.len ? js(na->display) : json_null());
	set(o, "uri", na->star ? json_null() : uri_json(&na->uri));
	set(o, "tag", js_opt(na->tag, na->has_tag));
	set(o, "params", params_json(na->params));
}

static json_t *nameaddr_json(struct ctx *c, struct sip_str v)
{
	struct sip_nameaddr na;
	size_t off = 0;
	json_t *o;

	if (sip_nameaddr_parse(&na, v, &off) != 0) {
		fail(c, v.p, off, "bad name-addr value");
		return NULL;
	}
	o = json_object();
	nameaddr_fields(o, &na);
	return o;
}

static json_t *contact_json(struct ctx *c, struct sip_str v)
{
	struct sip_contact ct;
	size_t off = 0;
	json_t *o;

	if (sip_contact_parse(&ct, v, &off) != 0) {
		fail(c, v.p, off, "bad Contact value");
		return NULL;
	}
	o = json_object();
	nameaddr_fields(o, &ct.na);
	set(o, "q", ct.q >= 0 ? json_real(ct.q / 1000.0) : json_null());
	set(o, "expires", ct.has_expires ? json_integer(ct.expires) : json_null());
	set(o, "star", json_boolean(ct.na.star));
	return o;
}

static json_t *token_json(struct ctx *c, struct sip_str v)
{
	size_t off = 0;

	if (sip_token_parse(v, &off) != 0) {
		fail(c, v.p, off, "bad token");
		return NULL;
	}
	return js(v);
}

typedef json_t *(*value_fn)(struct ctx *c, struct sip_str v);

/* A list header line -> array of its values (those lying on this line). */
static json_t *list_json(struct ctx *c, const struct sip_msg *m, unsigned i, value_fn fn)
{
	const struct sip_str lv = m->hdrs[i].value;
	struct sip_hdr_iter it;
	struct sip_str v;
	json_t *a = json_array();
	int rc;

	sip_hdr_iter_init(&it, m, (enum sip_hdr_id)m->hdrs[i].id);
	/* Values of earlier lines are skipped by position; the iterator is
	 * the one definition of how a list splits. */
	while ((rc = sip_hdr_iter_next(&it, &v)) == 1) {
		if (v.p < lv.p || v.p > lv.p + lv.len)
			continue;
		json_t *j = fn(c, v);
		if (!j)
			break;
		json_array_append_new(a, j);
	}
	if (rc < 0 && it.idx == i)
		fail(c, lv.p, 0, "empty list element");
	if (c->err) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *u32_json(struct ctx *c, struct sip_str v)
{
	uint32_t n;
	size_t off = 0;

	if (sip_u32_parse(&n, v, &off) != 0) {
		fail(c, v.p, off, "bad number");
		return NULL;
	}
	return json_integer(n);
}

static json_t *cseq_json(struct ctx *c, struct sip_str v)
{
	struct sip_cseq cs;
	size_t off = 0;
	json_t *o;

	if (sip_cseq_parse(&cs, v, &off) != 0) {
		fail(c, v.p, off, "bad CSeq value");
		return NULL;
	}
	o = json_object();
	set(o, "number", json_integer(cs.num));
	set(o, "method", js(cs.method));
	return o;
}

static json_t *ctype_json(struct ctx *c, struct sip_str v)
{
	struct sip_content_type ct;
	size_t off = 0;
	json_t *o;

	if (sip_content_type_parse(&ct, v, &off) != 0) {
		fail(c, v.p, off, "bad Content-Type value");
		return NULL;
	}
	o = json_object();
	set(o, "type", js(ct.type));
	set(o, "subtype", js(ct.subtype));
	set(o, "params", params_json(ct.params));
	return o;
}

static json_t *auth_json(struct ctx *c, struct sip_str v)
{
	struct sip_auth a;
	size_t off = 0;
	json_t *o, *p;

	if (sip_auth_parse(&a, v, &off) != 0) {
		fail(c, v.p, off, "bad authentication value");
		return NULL;
	}
	o = json_object();
	p = json_object();
	set(o, "scheme", js(a.scheme));
	const struct {
		const char *name;
		struct sip_str *val;
	} f[] = {
		{"realm", &a.realm}, {"nonce", &a.nonce}, {"opaque", &a.opaque}, {"algorithm", &a.algorithm},
		{"qop", &a.qop}, {"domain", &a.domain}, {"stale", &a.stale}, {"username", &a.username},
		{"uri", &a.uri}, {"response", &a.response}, {"cnonce", &a.cnonce}, {"nc", &a.nc},
		{"userhash", &a.userhash},
	};
	for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
		if (f[k].val->len)
			set(p, f[k].name, js(*f[k].val));
	set(o, "params", p);
	set(o, "raw_params", js(a.params));
	return o;
}

static json_t *rack_json(struct ctx *c, struct sip_str v)
{
	struct sip_rack r;
	size_t off = 0;
	json_t *o;

	if (sip_rack_parse(&r, v, &off) != 0) {
		fail(c, v.p, off, "bad RAck value");
		return NULL;
	}
	o = json_object();
	set(o, "rseq", json_integer(r.rseq));
	set(o, "cseq", json_integer(r.cseq));
	set(o, "method", js(r.method));
	return o;
}

static json_t *event_json(struct ctx *c, struct sip_str v)
{
	struct sip_event ev;
	size_t off = 0;
	json_t *o;

	if (sip_event_parse(&ev, v, &off) != 0) {
		fail(c, v.p, off, "bad Event value");
		return NULL;
	}
	o = json_object();
	set(o, "type", js(ev.type));
	set(o, "id", ev.id.len ? js(ev.id) : json_null());
	set(o, "params", params_json(ev.params));
	return o;
}

static json_t *date_json(struct ctx *c, struct sip_str v)
{
	struct sip_date d;
	size_t off = 0;
	json_t *o;

	if (sip_date_parse(&d, v, &off) != 0) {
		fail(c, v.p, off, "bad Date value");
		return NULL;
	}
	o = json_object();
	set(o, "raw", js(v));
	set(o, "epoch", json_integer((json_int_t)d.epoch));
	return o;
}

static json_t *retry_after_json(struct ctx *c, struct sip_str v)
{
	struct sip_retry_after r;
	size_t off = 0;
	json_t *o;

	if (sip_retry_after_parse(&r, v, &off) != 0) {
		fail(c, v.p, off, "bad Retry-After value");
		return NULL;
	}
	o = json_object();
	set(o, "seconds", json_integer(r.seconds));
	set(o, "comment", r.comment.len ? js(r.comment) : json_null());
	set(o, "duration", r.has_duration ? json_integer(r.duration) : json_null());
	set(o, "params", params_json(r.params));
	return o;
}

static json_t *timestamp_json(struct ctx *c, struct sip_str v)
{
	struct sip_timestamp t;
	size_t off = 0;
	json_t *o;

	if (sip_timestamp_parse(&t, v, &off) != 0) {
		fail(c, v.p, off, "bad Timestamp value");
		return NULL;
	}
	o = json_object();
	set(o, "value", js(t.value));
	set(o, "delay", t.delay.len ? js(t.delay) : json_null());
	return o;
}

static json_t *raw_json(struct ctx *c, struct sip_str v)
{
	(void)c;
	return js(v);
}

/* The typed form of header line i, NULL when the header has none (or on
 * error, with c->err set). */
static json_t *typed_json(struct ctx *c, const struct sip_msg *m, unsigned i)
{
	struct sip_str v = m->hdrs[i].value;

	switch (m->hdrs[i].id) {
	case SIP_HDR_VIA: return list_json(c, m, i, via_json);
	case SIP_HDR_CONTACT: return list_json(c, m, i, contact_json);
	case SIP_HDR_ROUTE:
	case SIP_HDR_RECORD_ROUTE:
	case SIP_HDR_PATH: return list_json(c, m, i, nameaddr_json);
	case SIP_HDR_ALLOW:
	case SIP_HDR_SUPPORTED:
	case SIP_HDR_REQUIRE:
	case SIP_HDR_PROXY_REQUIRE:
	case SIP_HDR_UNSUPPORTED: return list_json(c, m, i, token_json);
	case SIP_HDR_FROM:
	case SIP_HDR_TO: return nameaddr_json(c, v);
	case SIP_HDR_CSEQ: return cseq_json(c, v);
	case SIP_HDR_CALL_ID:
	case SIP_HDR_USER_AGENT:
	case SIP_HDR_SERVER: return raw_json(c, v);
	case SIP_HDR_MAX_FORWARDS:
	case SIP_HDR_EXPIRES:
	case SIP_HDR_MIN_EXPIRES:
	case SIP_HDR_CONTENT_LENGTH:
	case SIP_HDR_RSEQ: return u32_json(c, v);
	case SIP_HDR_CONTENT_TYPE: return ctype_json(c, v);
	case SIP_HDR_AUTHORIZATION:
	case SIP_HDR_PROXY_AUTHORIZATION:
	case SIP_HDR_WWW_AUTHENTICATE:
	case SIP_HDR_PROXY_AUTHENTICATE: return auth_json(c, v);
	case SIP_HDR_RACK: return rack_json(c, v);
	case SIP_HDR_EVENT: return event_json(c, v);
	case SIP_HDR_DATE: return date_json(c, v);
	case SIP_HDR_RETRY_AFTER: return retry_after_json(c, v);
	case SIP_HDR_TIMESTAMP: return timestamp_json(c, v);
	default: return NULL;
	}
}

static json_t *msg_json(struct ctx *c, const struct sip_msg *m)
{
	json_t *o = json_object(), *hdrs = json_array();

	set(o, "type", json_string(m->is_request ? "request" : "response"));
	if (m->is_request) {
		set(o, "method", js(m->method));
		set(o, "request_uri", js(m->ruri_str));
		set(o, "uri", uri_json(&m->ruri));
	} else {
		set(o, "status", json_integer(m->status));
		set(o, "reason", js(m->reason));
	}
	set(o, "version", js(m->version));
	for (unsigned i = 0; i < m->nhdrs && i < SIP_MAX_HEADERS; i++) {
		const struct sip_hdr *h = &m->hdrs[i];
		json_t *hj = json_object();
		const char *canon = h->id != SIP_HDR_OTHER ? sip_hdr_name((enum sip_hdr_id)h->id) : NULL;

		set(hj, "name", js(h->name));
		set(hj, "canonical", canon && *canon ? json_string(canon) : json_null());
		set(hj, "value", js(h->value));
		json_t *t = typed_json(c, m, i);
		if (c->err) {
			json_decref(hj);
			break;
		}
		if (t)
			set(hj, "typed", t);
		json_array_append_new(hdrs, hj);
	}
	set(o, "headers", hdrs);
	set(o, "body_length", json_integer((json_int_t)m->body.len));
	if (c->err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- the command ---- */

/* Reads all of f into a fresh buffer; 0, or SIP_ETOOBIG past SIPUA_MAX_INPUT,
 * or SIP_EIO (errno kept). */
static int read_all(FILE *f, char **out, size_t *len)
{
	char *buf = sip_malloc(SIPUA_MAX_INPUT + 1);
	size_t n = 0;

	if (!buf)
		return SIP_ENOMEM;
	/* One byte more than the cap tells "exactly the cap" from "over it". */
	while (n < SIPUA_MAX_INPUT + 1) {
		size_t r = fread(buf + n, 1, SIPUA_MAX_INPUT + 1 - n, f);
		if (r == 0)
			break;
		n += r;
	}
	if (ferror(f)) {
		sip_free(buf);
		return SIP_EIO;
	}
	if (n > SIPUA_MAX_INPUT) {
		sip_free(buf);
		return SIP_ETOOBIG;
	}
	*out = buf;
	*len = n;
	return 0;
}

static int parse_usage(FILE *out)
{
	fputs("usage: sipua parse FILE|-\n"
	      "Parses one raw SIP message (a UDP datagram's payload; - reads stdin) and\n"
	      "prints it as JSON on stdout (exit 0), or 'error: REASON at offset N' on\n"
	      "stderr (exit 1). See sipua(1).\n",
	      out);
	return out == stdout ? 0 : 2;
}

int sipua_cmd_parse(int argc, char **argv)
{
	const char *path;
	struct sip_parse_err perr = {0};
	struct sip_msg *m = NULL;
	struct ctx c = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	json_t *j;
	int rc, status = 1;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return parse_usage(stdout);
	if (argc != 2)
		return parse_usage(stderr);
	path = argv[1];
	f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		fprintf(stderr, "sipua parse: %s: %s\n", path, strerror(errno));
		return 2;
	}
	rc = read_all(f, &buf, &len);
	if (f != stdin)
		fclose(f);
	if (rc == SIP_ETOOBIG) {
		fprintf(stderr, "error: message larger than %u bytes at offset %u\n", SIPUA_MAX_INPUT,
			SIPUA_MAX_INPUT);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "sipua parse: %s: %s\n", path, rc == SIP_EIO ? strerror(errno) : sip_strerror(rc));
		return 2;
	}

	m = sip_malloc(sizeof(*m));
	if (!m) {
		fprintf(stderr, "sipua parse: %s\n", sip_strerror(SIP_ENOMEM));
		status = 2;
		goto out;
	}
	rc = sip_msg_parse(m, buf, len, SIP_PARSE_DATAGRAM, &perr);
	if (rc < 0) {
		/* A datagram never "needs more bytes": it is truncated. */
		const char *why = perr.reason ? perr.reason
				  : rc == SIP_EAGAIN ? "incomplete message" : sip_strerror(rc);
		fprintf(stderr, "error: %s at offset %zu\n", why, perr.offset);
		goto out;
	}
	c.base = buf;
	j = msg_json(&c, m);
	if (!j) {
		fprintf(stderr, "error: %s at offset %zu\n", c.err ? c.err : "out of memory", c.err_off);
		goto out;
	}
	rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4));
	json_decref(j);
	if (rc != 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
		fprintf(stderr, "sipua parse: cannot write the output\n");
		status = 2;
		goto out;
	}
	status = 0;
out:
	sip_free(m);
	sip_free(buf);
	return status;
}
