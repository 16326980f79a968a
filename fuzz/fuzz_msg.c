/* libFuzzer target: sip_msg_parse on arbitrary bytes (datagram and stream
 * modes, with full validation). Checks that every slice lies inside the input,
 * that typed iteration never fails on an accepted message's eager headers,
 * and that parse → print (no edits) → parse is stable. */
#include <sip/msg.h>
#include <sip/print.h>
#include <stdlib.h>
#include <string.h>

static struct sip_msg m, m2;

static void in_range(struct sip_str s, const uint8_t *d, size_t n)
{
	if (s.len && ((const uint8_t *)s.p < d || (const uint8_t *)s.p + s.len > d + n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned modes[] = {SIP_PARSE_DATAGRAM, SIP_PARSE_STREAM, SIP_PARSE_DATAGRAM | SIP_PARSE_VALIDATE};
	for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
		struct sip_parse_err err;
		int rc = sip_msg_parse(&m, (const char *)data, size, modes[k], &err);
		if (rc < 0) {
			if (rc != SIP_EAGAIN && (err.offset > size || !err.reason))
				abort();
			continue;
		}
		if ((size_t)rc > size)
			abort();
		in_range(m.start_line, data, size);
		in_range(m.body, data, size);
		in_range(m.call_id, data, size);
		in_range(m.via.branch, data, size);
		in_range(m.from.tag, data, size);
		in_range(m.to.uri.host, data, size);
		for (unsigned i = 0; i < m.nhdrs; i++) {
			in_range(m.hdrs[i].name, data, size);
			in_range(m.hdrs[i].value, data, size);
		}
		/* Iterate every header kind; a known value that fails its sub-parser
		 * is fine (lazy), but nothing may crash. */
		for (unsigned id = 1; id < SIP_HDR__COUNT; id++) {
			struct sip_hdr_iter it;
			struct sip_str v;
			sip_hdr_iter_init(&it, &m, (enum sip_hdr_id)id);
			while (sip_hdr_iter_next(&it, &v) == 1)
				in_range(v, data, size);
		}
		/* Print with no edits: byte-identical, and it parses again the same way. */
		struct sip_edit e;
		sip_edit_init(&e, &m);
		size_t cap = m.len + 64;
		char *out = malloc(cap);
		int n = sip_edit_print(&e, out, cap);
		if (n >= 0 && m.has_content_length) {
			if ((size_t)n != m.len || memcmp(out, m.buf, m.len))
				abort();
			if (sip_msg_parse(&m2, out, (size_t)n, modes[k] & ~SIP_PARSE_STREAM, NULL) < 0)
				abort();
			if (m2.nhdrs != m.nhdrs || m2.cseq.num != m.cseq.num)
				abort();
		}
		free(out);
	}
	return 0;
}
