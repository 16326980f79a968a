/* framer.c — message boundaries on a stream (TCP/TLS, §18.3): the blank line
 * that ends the headers, then Content-Length bytes of body. Remembers how far
 * it searched so feeding a message byte by byte stays linear. */
#include <sip/msg.h>
#include <string.h>

#include "core/ctype.h"

void sip_framer_init(struct sip_framer *f)
{
	size_t mh = f->max_header_bytes, mb = f->max_body_bytes;
	memset(f, 0, sizeof(*f));
	f->max_header_bytes = mh;
	f->max_body_bytes = mb;
}

static int ferr(struct sip_parse_err *err, size_t off, const char *reason, int status, int code)
{
	if (err) {
		err->offset = off;
		err->reason = reason;
		err->status = status;
	}
	return code;
}

/* Finds Content-Length (or "l") among the header lines of p[0..n). Returns 1
 * with *cl set, 0 when absent, negative when malformed or conflicting. */
static int find_content_length(const char *p, size_t n, uint32_t *cl, size_t *bad)
{
	int found = 0;
	size_t pos = 0;
	/* Skip the start line. */
	const char *nl = memchr(p, '\n', n);
	if (!nl)
		return 0;
	pos = (size_t)(nl - p) + 1;
	while (pos < n) {
		size_t line = pos, name_end;
		while (pos < n && SIP_IS(p[pos], SIP_C_TOKEN))
			pos++;
		name_end = pos;
		while (pos < n && (p[pos] == ' ' || p[pos] == '\t'))
			pos++;
		bool is_cl = pos < n && p[pos] == ':' &&
			     sip_hdr_lookup(p + line, name_end - line) == SIP_HDR_CONTENT_LENGTH;
		/* The end of this header (past its continuation lines). */
		size_t vstart = pos + 1, end = pos;
		for (;;) {
			const char *e = memchr(p + end, '\n', n - end);
			if (!e)
				return found;
			end = (size_t)(e - p) + 1;
			if (end >= n || (p[end] != ' ' && p[end] != '\t'))
				break;
		}
		if (is_cl) {
			uint32_t v;
			size_t eoff = 0;
			size_t vend = end; /* drop the line's own CRLF */
			while (vend > vstart && (p[vend - 1] == '\n' || p[vend - 1] == '\r'))
				vend--;
			if (sip_u32_parse(&v, (struct sip_str){p + vstart, vend - vstart}, &eoff) < 0) {
				*bad = vstart + eoff;
				return SIP_EPARSE;
			}
			if (found && v != *cl) {
				*bad = line;
				return SIP_EPARSE;
			}
			*cl = v;
			found = 1;
		}
		pos = end;
	}
	return found;
}

int sip_framer_next(struct sip_framer *f, const char *buf, size_t len, size_t *skip, size_t *msg_len,
		    struct sip_parse_err *err)
{
	size_t max_h = f->max_header_bytes ? f->max_header_bytes : SIP_MAX_HEADER_BYTES;
	size_t max_b = f->max_body_bytes ? f->max_body_bytes : SIP_MAX_BODY_BYTES;
	size_t s = 0;

	*msg_len = 0;
	/* CRLF keep-alives between messages (RFC 5626 §3.5.1). Recomputed on every
	 * call, so the caller may discard them at once or with the message. */
	while (s < len && (buf[s] == '\r' || buf[s] == '\n'))
		s++;
	*skip = s;
	const char *p = buf + s;
	size_t n = len - s;

	if (f->hdr_len == 0) {
		/* Look for LF (CR) LF, resuming just before where the last call stopped. */
		size_t i = f->scanned > 2 ? f->scanned - 2 : 0;
		size_t end = 0;
		while (i < n) {
			const char *nl = memchr(p + i, '\n', n - i);
			if (!nl)
				break;
			i = (size_t)(nl - p) + 1;
			if (i < n && p[i] == '\n') {
				end = i + 1;
				break;
			}
			if (i + 1 < n && p[i] == '\r' && p[i + 1] == '\n') {
				end = i + 2;
				break;
			}
		}
		if (!end) {
			f->scanned = n;
			if (n > max_h)
				return ferr(err, s + max_h, "header section too large", 513, SIP_ETOOBIG);
			return 0;
		}
		if (end > max_h)
			return ferr(err, s + max_h, "header section too large", 513, SIP_ETOOBIG);
		uint32_t cl = 0;
		size_t bad = 0;
		int rc = find_content_length(p, end, &cl, &bad);
		if (rc < 0)
			return ferr(err, s + bad, "malformed or conflicting Content-Length", 400, SIP_EPARSE);
		if (rc == 0)
			return ferr(err, s + end, "missing Content-Length on a stream", 400, SIP_EPARSE);
		if (cl > max_b)
			return ferr(err, s + end, "Content-Length too large", 513, SIP_ETOOBIG);
		f->hdr_len = end;
		f->body_len = cl;
	}
	if (n < f->hdr_len + f->body_len)
		return 0;
	*msg_len = f->hdr_len + f->body_len;
	sip_framer_init(f);
	return 1;
}
