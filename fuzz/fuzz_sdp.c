/* libFuzzer target: the SDP parser (RFC 4566) and the answer generator
 * (RFC 3264). Every slice the parser returns lies inside the input, and
 * every answer to a parsed offer parses back with the same number of
 * m-lines (an answer that breaks the offer/answer rules is a bug). */
#include <sip/sdp.h>
#include <stdlib.h>
#include <string.h>

static struct sip_sdp s, ans;
static char out[1 << 17];
static const char *lo, *hi;

static void in(struct sip_str v)
{
	if (v.len && (!v.p || v.p < lo || v.p > hi || v.len > (size_t)(hi - v.p)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	lo = buf;
	hi = buf + size;
	if (sip_sdp_parse(&s, buf, size, NULL) == 0) {
		in(s.o_user);
		in(s.name);
		in(s.conn.addr);
		for (unsigned i = 0; i < s.nmedia; i++) {
			in(s.media[i].type);
			in(s.media[i].proto);
			for (unsigned f = 0; f < s.media[i].nfmt; f++) {
				in(s.media[i].fmt[f]);
				struct sip_str e = sip_sdp_encoding(&s, i, s.media[i].fmt[f]);
				(void)e;
			}
		}
		for (unsigned i = 0; i < s.nattr; i++) {
			in(s.attr[i].name);
			in(s.attr[i].value);
		}
		struct sip_sdp_answer_opts o = {.addr = "192.0.2.1", .port = 4000, .codecs = "PCMU,PCMA,opus"};
		int n = sip_sdp_answer(&s, &o, out, sizeof(out));
		if (n < 0)
			abort(); /* an answer to what fits 64 KiB fits twice that */
		if (sip_sdp_parse(&ans, out, (size_t)n, NULL) != 0 || ans.nmedia != s.nmedia)
			abort();
	}
	free(buf);
	return 0;
}
