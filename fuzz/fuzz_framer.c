/* libFuzzer target: the stream framer fed the input in chunks whose sizes come
 * from the first bytes, as TCP would deliver it. Every message it frames must
 * lie inside the input; after an error the stream is abandoned. The input is
 * also tried as a STUN keep-alive (a datagram's other possible content). */
#include <netinet/in.h>
#include <sip/msg.h>
#include <sip/stun.h>
#include <stdlib.h>
#include <string.h>

/* The datagram demultiplexer's other side: any bytes as a STUN keep-alive
 * (sip/stun.h). A response is only ever made for a Binding request, fits
 * its cap, and is itself a well-formed STUN message. */
static void stun(const uint8_t *data, size_t size)
{
	struct sockaddr_in6 src = {.sin6_family = AF_INET6, .sin6_port = htons(5060)};
	uint8_t out[SIP_STUN_RESPONSE_MAX];
	int n = sip_stun_binding_response(data, size, (struct sockaddr *)&src, out, sizeof(out));
	if (n > 0 && (!sip_stun_is_message(data, size) || data[0] != 0 || data[1] != 1 ||
		      (size_t)n > sizeof(out) || !sip_stun_is_message(out, (size_t)n)))
		abort();
	if (n < 0 && n != SIP_EINVAL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	stun(data, size);
	if (size < 2)
		return 0;
	size_t step = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	struct sip_framer f = {0};
	sip_framer_init(&f);
	static struct sip_msg m;
	size_t consumed = 0, have = 0;
	while (have < size) {
		have = have + step > size ? size : have + step;
		for (;;) {
			size_t skip, len;
			struct sip_parse_err err;
			/* A private copy of exactly the visible bytes, so over-reads trip ASan. */
			size_t n = have - consumed;
			char *win = malloc(n ? n : 1);
			memcpy(win, data + consumed, n);
			int rc = sip_framer_next(&f, win, n, &skip, &len, &err);
			if (rc < 0) {
				free(win);
				return 0;
			}
			if (skip > n || (rc == 1 && skip + len > n))
				abort();
			consumed += skip;
			if (rc == 0) {
				free(win);
				break;
			}
			(void)sip_msg_parse(&m, win + skip, len, SIP_PARSE_STREAM, &err);
			free(win);
			consumed += len;
		}
	}
	return 0;
}
