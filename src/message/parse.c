/* parse.c — sip_msg_parse(): start line, header splitting, the eager fields
 * (top Via, From, To, Call-ID, CSeq, Max-Forwards, Content-Length) and body
 * framing per RFC 3261 §7, §18.3 and §25.
 *
 * One pass over the header section checks every byte (control characters,
 * bare CR, UTF-8) while splitting lines; typed values are then parsed by the
 * sub-parsers in hdr_*.c. Nothing is allocated: the message points into buf. */
#include <sip/msg.h>
#include <string.h>

#include "core/ctype.h"
#include "hdr_lookup.h"
#include "scan.h"
#include "str_int.h"
#include "validate_int.h"

static int fail(struct sip_parse_err *err, size_t off, const char *reason, int status, int code)
{
	if (err) {
		err->offset = off;
		err->reason = reason;
		err->status = status;
	}
	return code;
}

/* Index of the first byte of p[0..n) outside printable ASCII (< 0x20 or
 * >= 0x7f), or n. Header bytes are almost all printable, so the scan checks 16
 * bytes per step (SSE2, baseline on x86-64; 8 with SWAR elsewhere) and only
 * the special bytes (CR, LF, HTAB, UTF-8, controls) reach the per-byte code. */
#if defined(__SSE2__)
#include <emmintrin.h>
static inline size_t scan_plain(const unsigned char *p, size_t n)
{
	size_t i = 0;
	const __m128i lo = _mm_set1_epi8(0x1f), hi = _mm_set1_epi8(0x7f);
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(p + i));
		/* Signed compares: 0x80..0xff are negative, so they fail "> 0x1f". */
		__m128i ok = _mm_and_si128(_mm_cmpgt_epi8(v, lo), _mm_cmplt_epi8(v, hi));
		unsigned mask = (unsigned)_mm_movemask_epi8(ok) ^ 0xffffu;
		if (mask)
			return i + (size_t)__builtin_ctz(mask);
	}
	while (i < n && p[i] >= 0x20 && p[i] < 0x7f)
		i++;
	return i;
}
#else
static inline size_t scan_plain(const unsigned char *p, size_t n)
{
	size_t i = 0;
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		if (((w - ones * 0x20) & ~w & highs) | (((w + ones) | w) & highs))
			break;
	}
	while (i < n && p[i] >= 0x20 && p[i] < 0x7f)
		i++;
	return i;
}
#endif

/* Length of the valid UTF-8 sequence starting at p (first byte >= 0x80), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	size_t n;
	uint32_t min;
	uint32_t cp;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static const struct {
	const char *name;
	uint8_t len;
	enum sip_method id;
} methods[] = {
	{"INVITE", 6, SIP_METHOD_INVITE},       {"ACK", 3, SIP_METHOD_ACK},
	{"BYE", 3, SIP_METHOD_BYE},             {"CANCEL", 6, SIP_METHOD_CANCEL},
	{"OPTIONS", 7, SIP_METHOD_OPTIONS},     {"REGISTER", 8, SIP_METHOD_REGISTER},
	{"PRACK", 5, SIP_METHOD_PRACK},         {"UPDATE", 6, SIP_METHOD_UPDATE},
	{"SUBSCRIBE", 9, SIP_METHOD_SUBSCRIBE}, {"NOTIFY", 6, SIP_METHOD_NOTIFY},
	{"REFER", 5, SIP_METHOD_REFER},         {"MESSAGE", 7, SIP_METHOD_MESSAGE},
	{"INFO", 4, SIP_METHOD_INFO},           {"PUBLISH", 7, SIP_METHOD_PUBLISH},
};

/* t is exactly the literal m (constant length: the compiler compares words). */
#define METHOD_IS(t, m) (!memcmp((t).p, (m), sizeof(m) - 1))

enum sip_method sip_method_lookup(struct sip_str t)
{
	/* Methods are case-sensitive (§7.1): "invite" is an unknown method.
	 * Dispatched on the length; the table above stays the list of names. */
	switch (t.len) {
	case 3:
		if (METHOD_IS(t, "ACK"))
			return SIP_METHOD_ACK;
		if (METHOD_IS(t, "BYE"))
			return SIP_METHOD_BYE;
		break;
	case 4:
		if (METHOD_IS(t, "INFO"))
			return SIP_METHOD_INFO;
		break;
	case 5:
		if (METHOD_IS(t, "PRACK"))
			return SIP_METHOD_PRACK;
		if (METHOD_IS(t, "REFER"))
			return SIP_METHOD_REFER;
		break;
	case 6:
		if (METHOD_IS(t, "INVITE"))
			return SIP_METHOD_INVITE;
		if (METHOD_IS(t, "CANCEL"))
			return SIP_METHOD_CANCEL;
		if (METHOD_IS(t, "UPDATE"))
			return SIP_METHOD_UPDATE;
		if (METHOD_IS(t, "NOTIFY"))
			return SIP_METHOD_NOTIFY;
		break;
	case 7:
		if (METHOD_IS(t, "OPTIONS"))
			return SIP_METHOD_OPTIONS;
		if (METHOD_IS(t, "MESSAGE"))
			return SIP_METHOD_MESSAGE;
		if (METHOD_IS(t, "PUBLISH"))
			return SIP_METHOD_PUBLISH;
		break;
	case 8:
		if (METHOD_IS(t, "REGISTER"))
			return SIP_METHOD_REGISTER;
		break;
	case 9:
		if (METHOD_IS(t, "SUBSCRIBE"))
			return SIP_METHOD_SUBSCRIBE;
		break;
	}
	return SIP_METHOD_UNKNOWN;
}

const char *sip_method_name(enum sip_method m)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].id == m)
			return methods[i].name;
	return NULL;
}

static bool all_token(const char *p, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!SIP_IS(p[i], SIP_C_TOKEN))
			return false;
	return true;
}

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT ("SIP" case-insensitive, §7.1).
 * Returns 1 for 2.0, 0 for another well-formed version, -1 when malformed. */
static int check_version(const char *p, size_t n)
{
	if (n == 7 && !memcmp(p, "SIP/2.0", 7))
		return 1; /* as nearly every message writes it */
	if (n < 7 || sip__lower[(unsigned char)p[0]] != 's' || sip__lower[(unsigned char)p[1]] != 'i' ||
	    sip__lower[(unsigned char)p[2]] != 'p' || p[3] != '/')
		return -1;
	size_t i = 4, major = i;
	while (i < n && SIP_IS(p[i], SIP_C_DIGIT))
		i++;
	if (i == major || i >= n || p[i] != '.')
		return -1;
	size_t minor = ++i;
	while (i < n && SIP_IS(p[i], SIP_C_DIGIT))
		i++;
	if (i == minor || i != n)
		return -1;
	/* Leading zeros are not a different version: compare numerically. */
	uint32_t a = 0, b = 0;
	if (sip__to_u32(p + major, minor - 1 - major, &a) || sip__to_u32(p + minor, n - minor, &b))
		return 0;
	return a == 2 && b == 0;
}

/* Request-Line = Method SP Request-URI SP SIP-Version (exactly one SP each). */
static int parse_request_line(struct sip_msg *m, const char *line, size_t n, size_t base,
			      struct sip_parse_err *err)
{
	const char *sp1 = memchr(line, ' ', n);
	if (!sp1)
		return fail(err, base, "malformed start line", 400, SIP_EPARSE);
	size_t mlen = (size_t)(sp1 - line);
	if (!all_token(line, mlen))
		return fail(err, base, "method is not a token", 400, SIP_EPARSE);
	const char *sp2 = memrchr(line, ' ', n);
	if (sp2 == sp1)
		return fail(err, base + n, "request line has no SIP-Version", 400, SIP_EPARSE);
	const char *uri = sp1 + 1;
	size_t ulen = (size_t)(sp2 - uri);
	if (ulen == 0 || uri[0] == ' ')
		return fail(err, base + mlen + 1, "extra whitespace in request line", 400, SIP_EPARSE);
	const char *ws = memchr(uri, ' ', ulen);
	if (!ws)
		ws = memchr(uri, '\t', ulen);
	if (ws)
		return fail(err, base + (size_t)(ws - line), "whitespace in Request-URI", 400, SIP_EPARSE);
	const char *ver = sp2 + 1;
	size_t vlen = n - (size_t)(ver - line);
	int v = check_version(ver, vlen);
	if (v < 0)
		return fail(err, base + (size_t)(ver - line), "malformed SIP-Version", 400, SIP_EPARSE);
	if (v == 0)
		return fail(err, base + (size_t)(ver - line), "SIP version not supported", 505, SIP_EVERSION);

	m->is_request = true;
	m->method = (struct sip_str){line, mlen};
	m->method_id = sip_method_lookup(m->method);
	m->ruri_str = (struct sip_str){uri, ulen};
	m->version = (struct sip_str){ver, vlen};
	size_t uoff = 0;
	if (sip_uri_parse(&m->ruri, uri, ulen, &uoff) < 0)
		return fail(err, base + (size_t)(uri - line) + uoff, "malformed Request-URI", 400, SIP_EPARSE);
	/* §19.1.1: headers are not allowed in a Request-URI. We reject rather than
	 * strip them so such a request is never forwarded unrepaired (RFC 4475 escruri). */
	if ((m->ruri.scheme == SIP_URI_SIP || m->ruri.scheme == SIP_URI_SIPS) && m->ruri.headers.p)
		return fail(err, base + (size_t)(m->ruri.headers.p - line) - 1, "headers in Request-URI", 400,
			    SIP_EPARSE);
	return 0;
}

/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase. */
static int parse_status_line(struct sip_msg *m, const char *line, size_t n, size_t base,
			     struct sip_parse_err *err)
{
	const char *sp1 = memchr(line, ' ', n);
	if (!sp1)
		return fail(err, base, "malformed status line", 0, SIP_EPARSE);
	size_t vlen = (size_t)(sp1 - line);
	int v = check_version(line, vlen);
	if (v < 0)
		return fail(err, base, "malformed SIP-Version", 0, SIP_EPARSE);
	if (v == 0)
		return fail(err, base, "SIP version not supported", 0, SIP_EVERSION);
	const char *code = sp1 + 1;
	size_t rest = n - vlen - 1;
	if (rest < 3 || !SIP_IS(code[0], SIP_C_DIGIT) || !SIP_IS(code[1], SIP_C_DIGIT) ||
	    !SIP_IS(code[2], SIP_C_DIGIT) || (rest > 3 && code[3] != ' '))
		return fail(err, base + vlen + 1, "status code is not 3 digits", 0, SIP_EPARSE);
	unsigned status = (unsigned)(code[0] - '0') * 100 + (unsigned)(code[1] - '0') * 10 + (unsigned)(code[2] - '0');
	if (status < 100 || status > 699)
		return fail(err, base + vlen + 1, "status code out of range 100-699", 0, SIP_EPARSE);
	m->is_request = false;
	m->version = (struct sip_str){line, vlen};
	m->status = (uint16_t)status;
	/* A missing reason phrase (no SP after the code) is tolerated. */
	m->reason = rest > 4 ? (struct sip_str){code + 4, rest - 4} : (struct sip_str){code + rest, 0};
	return 0;
}

/* The value without surrounding LWS (the scan already found both ends). */
static inline struct sip_str trim_lws(const char *p, size_t n)
{
	/* Nearly every value is ": value\r\n": one SP before, nothing after
	 * (LWS bytes are all <= 0x20). */
	if (n >= 2 && p[0] == ' ' && (unsigned char)p[1] > ' ' && (unsigned char)p[n - 1] > ' ')
		return (struct sip_str){p + 1, n - 1};
	while (n && (p[0] == ' ' || p[0] == '\t' || p[0] == '\r' || p[0] == '\n')) {
		p++;
		n--;
	}
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
		n--;
	return (struct sip_str){p, n};
}

/* Single-valued headers whose repetition makes a message invalid (RFC 4475 multi01, mcl01). */
static bool is_singleton(unsigned id)
{
	switch (id) {
	case SIP_HDR_CALL_ID:
	case SIP_HDR_CSEQ:
	case SIP_HDR_FROM:
	case SIP_HDR_TO:
	case SIP_HDR_MAX_FORWARDS:
	case SIP_HDR_CONTENT_LENGTH:
	case SIP_HDR_CONTENT_TYPE:
	case SIP_HDR_EXPIRES:
	case SIP_HDR_MIN_EXPIRES:
	case SIP_HDR_RSEQ:
	case SIP_HDR_RACK:
		return true;
	}
	return false;
}

/* Call-ID = word [ "@" word ] (§25). */
static bool valid_call_id(struct sip_str v)
{
	if (v.len == 0)
		return false;
	size_t at = 0, i = 0;
#if defined(__SSE2__)
	/* Word bytes and '@' are the printable ones (0x21-0x7e) but #$&,;=^|:
	 * 16 bytes per step while whole blocks hold only those, counting the
	 * '@'s; the byte loop takes the rest. */
	const __m128i c20 = _mm_set1_epi8(0x20), c7f = _mm_set1_epi8(0x7f);
	for (; v.len - i >= 16; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(v.p + i));
		__m128i ok = _mm_and_si128(_mm_cmpgt_epi8(x, c20), _mm_cmplt_epi8(x, c7f));
		__m128i no1 = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('#')), _mm_cmpeq_epi8(x, _mm_set1_epi8('$')));
		__m128i no2 = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('&')), _mm_cmpeq_epi8(x, _mm_set1_epi8(',')));
		__m128i no3 = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(';')), _mm_cmpeq_epi8(x, _mm_set1_epi8('=')));
		__m128i no4 = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('^')), _mm_cmpeq_epi8(x, _mm_set1_epi8('|')));
		__m128i no = _mm_or_si128(_mm_or_si128(no1, no2), _mm_or_si128(no3, no4));
		if (_mm_movemask_epi8(_mm_andnot_si128(no, ok)) != 0xffff)
			break;
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('@')));
		if (m) {
			size_t k = i + (size_t)__builtin_ctz(m);
			if (at || (m & (m - 1)) || k == 0 || k + 1 == v.len)
				return false;
			at = 1;
		}
	}
#endif
	for (; i < v.len; i++) {
		if (v.p[i] == '@') {
			if (at++ || i == 0 || i + 1 == v.len)
				return false;
		} else if (!SIP_IS(v.p[i], SIP_C_WORD)) {
			return false;
		}
	}
	return true;
}

/* Parses the eager header values once every line is known. */
static int parse_eager(struct sip_msg *m, const char *start, struct sip_parse_err *err)
{
	int st = m->is_request ? 400 : 0; /* a bad response is dropped, never answered */
	size_t off = (size_t)(m->buf - start);
	uint16_t i;
	size_t eoff = 0;

#define HDR_OFF(h, sub) (off + (size_t)((h)->value.p - m->buf) + (sub))
	if ((i = m->first[SIP_HDR_VIA]) == SIP_HDR_NONE)
		return fail(err, off + m->start_line.len, "missing Via header", st, SIP_EPARSE);
	{
		/* The top Via line usually holds one via-parm: a value without a
		 * comma is that via-parm as it stands (already trimmed); anything
		 * else goes through the list iterator. */
		struct sip_str v = m->hdrs[i].value;
		if (v.len == 0 || memchr(v.p, ',', v.len)) {
			struct sip_hdr_iter it;
			sip_hdr_iter_init(&it, m, SIP_HDR_VIA);
			if (sip_hdr_iter_next(&it, &v) != 1)
				return fail(err, HDR_OFF(&m->hdrs[i], 0), "empty Via header", st, SIP_EPARSE);
		}
		if (sip_via_parse(&m->via, v, &eoff) < 0)
			return fail(err, off + (size_t)(v.p - m->buf) + eoff, "malformed Via header", st, SIP_EPARSE);
	}
	if ((i = m->first[SIP_HDR_FROM]) == SIP_HDR_NONE)
		return fail(err, off + m->start_line.len, "missing From header", st, SIP_EPARSE);
	if (sip_nameaddr_parse(&m->from, m->hdrs[i].value, &eoff) < 0 || m->from.star)
		return fail(err, HDR_OFF(&m->hdrs[i], eoff), "malformed From header", st, SIP_EPARSE);
	if ((i = m->first[SIP_HDR_TO]) == SIP_HDR_NONE)
		return fail(err, off + m->start_line.len, "missing To header", st, SIP_EPARSE);
	if (sip_nameaddr_parse(&m->to, m->hdrs[i].value, &eoff) < 0 || m->to.star)
		return fail(err, HDR_OFF(&m->hdrs[i], eoff), "malformed To header", st, SIP_EPARSE);
	if ((i = m->first[SIP_HDR_CALL_ID]) == SIP_HDR_NONE)
		return fail(err, off + m->start_line.len, "missing Call-ID header", st, SIP_EPARSE);
	m->call_id = m->hdrs[i].value;
	if (!valid_call_id(m->call_id))
		return fail(err, HDR_OFF(&m->hdrs[i], 0), "malformed Call-ID header", st, SIP_EPARSE);
	if ((i = m->first[SIP_HDR_CSEQ]) == SIP_HDR_NONE)
		return fail(err, off + m->start_line.len, "missing CSeq header", st, SIP_EPARSE);
	if (sip_cseq_parse(&m->cseq, m->hdrs[i].value, &eoff) < 0)
		return fail(err, HDR_OFF(&m->hdrs[i], eoff), "malformed CSeq header (not a 32-bit number and method)",
			    st, SIP_EPARSE);
	if (m->is_request && !sip_str_eq(m->cseq.method, m->method))
		return fail(err, HDR_OFF(&m->hdrs[i], 0), "CSeq method does not match the request method",
			    m->method_id == SIP_METHOD_UNKNOWN ? 501 : 400, SIP_EPARSE);
	if ((i = m->first[SIP_HDR_MAX_FORWARDS]) != SIP_HDR_NONE) {
		uint32_t mf;
		if (sip_u32_parse(&mf, m->hdrs[i].value, &eoff) < 0)
			return fail(err, HDR_OFF(&m->hdrs[i], eoff), "malformed Max-Forwards header", st,
				    SIP_EPARSE);
		/* §20.22 says 0-255; larger values are tolerated (RFC 4475 scalar02) and
		 * treated as 255 so a proxy's decrement stays meaningful. */
		m->max_forwards = mf > 255 ? 255 : (int32_t)mf;
	}
#undef HDR_OFF
	return 0;
}

static void reset(struct sip_msg *m)
{
	m->buf = NULL;
	m->len = 0;
	m->is_request = false;
	m->start_line = m->method = m->ruri_str = m->version = m->reason = m->call_id = m->body = SIP_STR_NULL;
	m->method_id = SIP_METHOD_UNKNOWN;
	m->status = 0;
	m->nhdrs = 0;
	memset(m->first, 0xff, sizeof(m->first));
	m->body_off = 0;
	m->max_forwards = -1;
	m->has_content_length = false;
	m->content_length = 0;
	m->ruri.scheme = 0;
}

int sip_msg_parse(struct sip_msg *m, const char *buf, size_t len, unsigned flags, struct sip_parse_err *err)
{
	const bool stream = flags & SIP_PARSE_STREAM;
	const unsigned char *b = (const unsigned char *)buf;
	uint16_t last[SIP_HDR__COUNT];
	size_t pos = 0;
	int rc;

	reset(m);
	if (!buf)
		return fail(err, 0, "no input", 0, SIP_EINVAL);
	/* §7.5: CRLFs before the start line are ignored (stream keep-alives). */
	while (pos < len && (b[pos] == '\r' || b[pos] == '\n'))
		pos++;
	if (pos == len)
		return stream ? SIP_EAGAIN : fail(err, pos, "empty message", 0, SIP_EPARSE);
	const size_t start = pos;
	m->buf = buf + start;

	/* Start line. */
	const unsigned char *nl = memchr(b + pos, '\n', len - pos);
	if (!nl)
		return stream && len - start <= SIP_MAX_HEADER_BYTES
			       ? SIP_EAGAIN
			       : fail(err, len, "start line not terminated", 400, SIP_EPARSE);
	size_t eol = (size_t)(nl - b);
	size_t lend = eol > pos && b[eol - 1] == '\r' ? eol - 1 : eol;
	for (size_t k = pos + scan_plain(b + pos, lend - pos); k < lend; k++) {
		if (b[k] < 0x20 || b[k] == 0x7f)
			return fail(err, k, "control character in start line",
				    len - start >= 4 && !memcmp(buf + start, "SIP/", 4) ? 0 : 400, SIP_EPARSE);
		if (b[k] >= 0x80) {
			size_t u = utf8_len(b + k, b + lend);
			if (!u)
				return fail(err, k, "invalid UTF-8 in start line", 400, SIP_EPARSE);
			k += u - 1;
		}
	}
	m->start_line = (struct sip_str){buf + pos, lend - pos};
	if (lend - pos >= 4 && !memcmp(buf + pos, "SIP/", 4))
		rc = parse_status_line(m, buf + pos, lend - pos, pos, err);
	else
		rc = parse_request_line(m, buf + pos, lend - pos, pos, err);
	if (rc < 0)
		return rc;
	pos = eol + 1;

	/* Header lines, each with its continuation lines. */
	for (;;) {
		if (pos >= len)
			goto incomplete;
		if (pos - start > SIP_MAX_HEADER_BYTES)
			return fail(err, pos, "header section too large", m->is_request ? 513 : 0, SIP_ETOOBIG);
		if (b[pos] == '\n') {
			pos++;
			break;
		}
		if (b[pos] == '\r') {
			if (pos + 1 >= len)
				goto incomplete;
			if (b[pos + 1] != '\n')
				return fail(err, pos, "bare CR in header section", m->is_request ? 400 : 0, SIP_EPARSE);
			pos += 2;
			break;
		}
		if (b[pos] == ' ' || b[pos] == '\t')
			return fail(err, pos, "continuation line without a header", m->is_request ? 400 : 0,
				    SIP_EPARSE);
		const size_t line = pos;
		/* header-name *(SP/HTAB) ":" */
		pos += sip__token_len(buf + pos, len - pos);
		const size_t name_end = pos;
		while (pos < len && (b[pos] == ' ' || b[pos] == '\t'))
			pos++;
		if (pos >= len)
			goto incomplete;
		if (name_end == line || b[pos] != ':')
			return fail(err, pos, name_end == line ? "malformed header name" : "header line has no colon",
				    m->is_request ? 400 : 0, SIP_EPARSE);
		pos++;
		const size_t vstart = pos;
		/* Scan the value through its continuation lines, checking every byte:
		 * no bare CR, no control character outside a quoted-pair, valid UTF-8. */
		size_t vend;
		for (;;) {
			pos += scan_plain(b + pos, len - pos);
			if (pos >= len)
				goto incomplete;
			unsigned char c = b[pos];
			if (c == '\t') {
				pos++;
				continue;
			}
			if (c == '\r' || c == '\n') {
				size_t e = pos;
				if (c == '\r') {
					if (pos + 1 >= len)
						goto incomplete;
					if (b[pos + 1] != '\n')
						return fail(err, pos, "bare CR in header", m->is_request ? 400 : 0,
							    SIP_EPARSE);
					pos++;
				}
				pos++;
				if (pos >= len)
					goto incomplete;
				if (b[pos] == ' ' || b[pos] == '\t')
					continue; /* folded: LWS */
				vend = e;
				break;
			}
			if (c >= 0x80) {
				size_t u = utf8_len(b + pos, b + len);
				if (!u) {
					if (stream && len - pos < 4)
						goto incomplete;
					return fail(err, pos, "invalid UTF-8 in header", m->is_request ? 400 : 0,
						    SIP_EPARSE);
				}
				pos += u;
				continue;
			}
			/* A control character is only legal as a quoted-pair (\ CTL). */
			if (pos > vstart && b[pos - 1] == '\\') {
				pos++;
				continue;
			}
			return fail(err, pos, "control character in header", m->is_request ? 400 : 0, SIP_EPARSE);
		}
		if (m->nhdrs == SIP_MAX_HEADERS)
			return fail(err, line, "too many header fields", m->is_request ? 513 : 0, SIP_ETOOBIG);
		struct sip_hdr *h = &m->hdrs[m->nhdrs];
		h->name = (struct sip_str){buf + line, name_end - line};
		h->value = trim_lws(buf + vstart, vend - vstart);
		h->line_off = (uint32_t)(line - start);
		h->line_len = (uint32_t)(pos - line);
		h->id = (uint16_t)sip__hdr_lookup(buf + line, name_end - line);
		h->next = SIP_HDR_NONE;
		if (h->id != SIP_HDR_OTHER) {
			if (m->first[h->id] == SIP_HDR_NONE) {
				m->first[h->id] = m->nhdrs;
			} else {
				if (is_singleton(h->id))
					return fail(err, line, "header may appear only once", m->is_request ? 400 : 0,
						    SIP_EPARSE);
				m->hdrs[last[h->id]].next = m->nhdrs;
			}
			last[h->id] = m->nhdrs;
			if (h->id == SIP_HDR_CONTENT_LENGTH) {
				size_t eoff = 0;
				if (sip_u32_parse(&m->content_length, h->value, &eoff) < 0)
					return fail(err, (size_t)(h->value.p - buf) + eoff, "malformed Content-Length",
						    m->is_request ? 400 : 0, SIP_EPARSE);
				m->has_content_length = true;
			}
		}
		m->nhdrs++;
	}

	/* Body framing (§18.3). */
	m->body_off = (uint32_t)(pos - start);
	size_t avail = len - pos;
	if (m->has_content_length) {
		if (m->content_length > SIP_MAX_BODY_BYTES)
			return fail(err, pos, "Content-Length too large", m->is_request ? 513 : 0, SIP_ETOOBIG);
		if (avail < m->content_length) {
			if (stream)
				return SIP_EAGAIN;
			return fail(err, len, "body shorter than Content-Length", m->is_request ? 400 : 0, SIP_EPARSE);
		}
		m->body = (struct sip_str){buf + pos, m->content_length};
	} else {
		if (stream)
			return fail(err, pos, "missing Content-Length on a stream", m->is_request ? 400 : 0,
				    SIP_EPARSE);
		m->body = (struct sip_str){buf + pos, avail};
	}
	m->len = m->body_off + m->body.len;

	if ((rc = parse_eager(m, buf, err)) < 0)
		return rc;
	if ((flags & SIP_PARSE_VALIDATE) && (rc = sip__msg_validate(m, err, true)) < 0) {
		if (err)
			err->offset += start;
		return rc;
	}
	return (int)(start + m->len);

incomplete:
	if (stream && pos - start <= SIP_MAX_HEADER_BYTES)
		return SIP_EAGAIN;
	if (pos - start > SIP_MAX_HEADER_BYTES)
		return fail(err, pos, "header section too large", m->is_request ? 513 : 0, SIP_ETOOBIG);
	return fail(err, len, "header section not terminated by an empty line", m->is_request ? 400 : 0,
		    SIP_EPARSE);
}

int sip_msg_find(const struct sip_msg *m, struct sip_str name)
{
	for (unsigned i = 0; i < m->nhdrs; i++)
		if (sip_str_caseeq(m->hdrs[i].name, name))
			return (int)i;
	return -1;
}
