/* libFuzzer target: the stream framer fed the input in chunks whose sizes come
 * from the first bytes, as TCP would deliver it. Every message it frames must
 * lie inside the input; after an error the stream is abandoned. */
#include <sip/msg.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
