/* build.c — the message builder: writes a new message into a caller-owned
 * buffer with no heap use. The first overflow (or malformed input) sticks in
 * b->err and every later call becomes a no-op, so a caller checks once, at
 * sip_build_finish(). */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sip/print.h>
#include "core/ctype.h"
#include "message/print_int.h"

void sip_build_init(struct sip_builder *b, char *buf, size_t cap)
{
	b->buf = buf;
	b->cap = buf ? cap : 0;
	b->len = 0;
	b->err = 0;
}

void sip__build_put(struct sip_builder *b, const char *p, size_t n)
{
	if (b->err || n == 0)
		return;
	if (n > b->cap - b->len) {
		b->err = SIP_ETOOBIG;
		return;
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static void put_c(struct sip_builder *b, const char *s)
{
	sip__build_put(b, s, strlen(s));
}

/* A header name must be a non-empty token, so that nothing can smuggle a
 * colon or a line break into the header section. */
static bool name_ok(struct sip_str name)
{
	if (name.len == 0 || !name.p)
		return false;
	for (size_t i = 0; i < name.len; i++)
		if (!SIP_IS(name.p[i], SIP_C_TOKEN))
			return false;
	return true;
}

bool sip__build_value_ok(struct sip_str v)
{
	/* CR and LF only as folding (CRLF, or the bare LF the parser also
	 * accepts, followed by SP/HTAB, §7.3.1), which a raw value copied from a
	 * parsed message may hold; any other line break would start a new
	 * header line (header injection). NUL is refused too. */
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (c == '\0')
			return false;
		if (c == '\r') {
			if (i + 1 >= v.len || v.p[i + 1] != '\n')
				return false;
			i++;
			c = '\n';
		}
		if (c == '\n' && (i + 1 >= v.len || (v.p[i + 1] != ' ' && v.p[i + 1] != '\t')))
			return false;
	}
	return true;
}

/* Bytes that would break the start line (CR, LF, NUL) or its SP separators. */
static bool line_part_ok(struct sip_str s, bool allow_sp)
{
	if (s.len && !s.p)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '\r' || c == '\n' || c == '\0' || (!allow_sp && (c == ' ' || c == '\t')))
			return false;
	}
	return true;
}

void sip_build_request_line(struct sip_builder *b, struct sip_str method, struct sip_str ruri)
{
	if (b->err)
		return;
	if (!name_ok(method) || ruri.len == 0 || !line_part_ok(ruri, false)) {
		b->err = SIP_EINVAL;
		return;
	}
	sip__build_put(b, method.p, method.len);
	sip__build_put(b, " ", 1);
	sip__build_put(b, ruri.p, ruri.len);
	put_c(b, " SIP/2.0\r\n");
}

void sip_build_status_line(struct sip_builder *b, int code, struct sip_str reason)
{
	char num[4];

	if (b->err)
		return;
	if (code < 100 || code > 699 || !line_part_ok(reason, true)) {
		b->err = SIP_EINVAL;
		return;
	}
	num[0] = (char)('0' + code / 100);
	num[1] = (char)('0' + code / 10 % 10);
	num[2] = (char)('0' + code % 10);
	num[3] = ' ';
	put_c(b, "SIP/2.0 ");
	sip__build_put(b, num, sizeof(num));
	if (reason.len)
		sip__build_put(b, reason.p, reason.len);
	else
		put_c(b, sip_reason_phrase(code));
	put_c(b, "\r\n");
}

void sip_build_header(struct sip_builder *b, struct sip_str name, struct sip_str value)
{
	if (b->err)
		return;
	if (!name_ok(name) || (value.len && !value.p) || !sip__build_value_ok(value)) {
		b->err = SIP_EINVAL;
		return;
	}
	sip__build_put(b, name.p, name.len);
	sip__build_put(b, ": ", 2);
	sip__build_put(b, value.p, value.len);
	sip__build_put(b, "\r\n", 2);
}

void sip_build_headerf(struct sip_builder *b, const char *name, const char *fmt, ...)
{
	struct sip_str n = sip_str_c(name);
	size_t mark, room;
	va_list ap;
	int w;

	if (b->err)
		return;
	if (!name_ok(n) || !fmt) {
		b->err = SIP_EINVAL;
		return;
	}
	mark = b->len;
	sip__build_put(b, n.p, n.len);
	sip__build_put(b, ": ", 2);
	if (b->err)
		return;
	room = b->cap - b->len;
	if (room == 0) {
		b->err = SIP_ETOOBIG;
		return;
	}
	va_start(ap, fmt);
	/* vsnprintf always NUL-terminates within room and reports the full
	 * length, so a truncation is detected without writing past the end. */
	w = vsnprintf(b->buf + b->len, room, fmt, ap);
	va_end(ap);
	if (w < 0) {
		b->len = mark;
		b->err = SIP_EINVAL;
		return;
	}
	if ((size_t)w >= room) {
		b->len = mark;
		b->err = SIP_ETOOBIG;
		return;
	}
	if (!sip__build_value_ok((struct sip_str){b->buf + b->len, (size_t)w})) {
		b->len = mark;
		b->err = SIP_EINVAL;
		return;
	}
	b->len += (size_t)w;
	sip__build_put(b, "\r\n", 2);
}

void sip_build_raw(struct sip_builder *b, struct sip_str bytes)
{
	if (bytes.len && !bytes.p) {
		if (!b->err)
			b->err = SIP_EINVAL;
		return;
	}
	sip__build_put(b, bytes.p, bytes.len);
}

void sip__build_u32(struct sip_builder *b, uint32_t v)
{
	char tmp[10];
	size_t n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sip__build_put(b, tmp + sizeof(tmp) - n, n);
}

void sip_build_body(struct sip_builder *b, struct sip_str ctype, struct sip_str body)
{
	if (b->err)
		return;
	if ((body.len && !body.p) || body.len > UINT32_MAX) {
		b->err = SIP_EINVAL;
		return;
	}
	if (ctype.len)
		sip_build_header(b, SIP_STR("Content-Type"), ctype);
	put_c(b, "Content-Length: ");
	sip__build_u32(b, (uint32_t)body.len);
	put_c(b, "\r\n\r\n");
	sip__build_put(b, body.p, body.len);
}

int sip_build_finish(struct sip_builder *b)
{
	if (b->err)
		return b->err;
	if (b->len > INT_MAX)
		return SIP_ETOOBIG;
	return (int)b->len;
}

static void copy_line(struct sip_builder *b, const struct sip_msg *req, unsigned i, const char *name)
{
	const struct sip_hdr *h = &req->hdrs[i];

	put_c(b, name);
	sip__build_put(b, ": ", 2);
	sip__build_put(b, h->value.p, h->value.len);
}

void sip_build_response_head(struct sip_builder *b, const struct sip_msg *req, int code,
			     struct sip_str reason, struct sip_str to_tag)
{
	if (b->err)
		return;
	if (!req || !req->is_request || !line_part_ok(to_tag, false) ||
	    (to_tag.len && !sip__build_value_ok(to_tag))) {
		b->err = SIP_EINVAL;
		return;
	}
	sip_build_status_line(b, code, reason);
	/* §8.2.6.2: Via values in order, each line's value byte-identical. The
	 * full name is used: the value is what must not change. */
	for (unsigned i = 0; i < req->nhdrs && i < SIP_MAX_HEADERS; i++) {
		if (req->hdrs[i].id != SIP_HDR_VIA)
			continue;
		copy_line(b, req, i, "Via");
		sip__build_put(b, "\r\n", 2);
	}
	static const struct {
		uint16_t id;
		const char *name;
	} copy[] = {
		{SIP_HDR_FROM, "From"},
		{SIP_HDR_TO, "To"},
		{SIP_HDR_CALL_ID, "Call-ID"},
		{SIP_HDR_CSEQ, "CSeq"},
	};
	for (size_t k = 0; k < sizeof(copy) / sizeof(copy[0]); k++) {
		uint16_t i = req->first[copy[k].id];
		if (i == SIP_HDR_NONE || i >= req->nhdrs)
			continue;
		copy_line(b, req, i, copy[k].name);
		if (copy[k].id == SIP_HDR_TO && to_tag.len && !req->to.has_tag) {
			put_c(b, ";tag=");
			sip__build_put(b, to_tag.p, to_tag.len);
		}
		sip__build_put(b, "\r\n", 2);
	}
}

static struct sip_str hdr_value(const struct sip_msg *m, enum sip_hdr_id id)
{
	uint16_t i = m->first[id];
	return i == SIP_HDR_NONE ? SIP_STR_NULL : m->hdrs[i].value;
}

/* "name: value" CRLF with value as parsed. */
static void copy_value(struct sip_builder *b, const char *name, struct sip_str value)
{
	put_c(b, name);
	sip__build_put(b, ": ", 2);
	sip__build_put(b, value.p, value.len);
	sip__build_put(b, "\r\n", 2);
}

int sip_build_cancel(const struct sip_msg *r, char *out, size_t cap)
{
	if (!r || !out || !r->is_request || r->method_id != SIP_METHOD_INVITE ||
	    r->first[SIP_HDR_VIA] == SIP_HDR_NONE || r->first[SIP_HDR_CSEQ] == SIP_HDR_NONE)
		return SIP_EINVAL;
	unsigned lines = 7; /* Via, Max-Forwards, From, To, Call-ID, CSeq, Content-Length */
	for (uint16_t i = r->first[SIP_HDR_ROUTE]; i != SIP_HDR_NONE; i = r->hdrs[i].next)
		lines++;
	if (lines > SIP_MAX_HEADERS)
		return SIP_ETOOBIG;
	struct sip_builder b;
	sip_build_init(&b, out, cap);
	sip_build_request_line(&b, SIP_STR("CANCEL"), r->ruri_str);
	/* The copied values come from a parsed message: as received, without the
	 * builder's value checks (a quoted-pair may legally hold a NUL). */
	copy_value(&b, "Via", r->via.raw);
	for (uint16_t i = r->first[SIP_HDR_ROUTE]; i != SIP_HDR_NONE; i = r->hdrs[i].next)
		copy_value(&b, "Route", r->hdrs[i].value);
	sip_build_header(&b, SIP_STR("Max-Forwards"), SIP_STR("70"));
	copy_value(&b, "From", hdr_value(r, SIP_HDR_FROM));
	copy_value(&b, "To", hdr_value(r, SIP_HDR_TO));
	copy_value(&b, "Call-ID", r->call_id);
	sip_build_headerf(&b, "CSeq", "%u CANCEL", (unsigned)r->cseq.num);
	sip_build_body(&b, SIP_STR_NULL, SIP_STR_NULL);
	return sip_build_finish(&b);
}
