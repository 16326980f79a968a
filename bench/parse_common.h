/* parse_common.h — what every stack adapter hands back: the fields a SIP
 * element needs from every message (top Via host and branch, From/To URI and
 * tag, Call-ID, CSeq, first Contact URI). In the timed loop the adapters only
 * touch them (their lengths and first bytes feed a checksum, so no compiler
 * can drop the work); in the check pass they are copied out and compared. */
#ifndef BENCH_PARSE_COMMON_H
#define BENCH_PARSE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum bench_field {
	BF_VIA_HOST,
	BF_VIA_BRANCH,
	BF_FROM_USER,
	BF_FROM_HOST,
	BF_FROM_TAG,
	BF_TO_USER,
	BF_TO_HOST,
	BF_TO_TAG,
	BF_CALL_ID,
	BF_CSEQ_METHOD,
	BF_CONTACT_USER,
	BF_CONTACT_HOST,
	BF__COUNT
};

static const char *const bench_field_names[BF__COUNT] = {
	"Via host",  "Via branch", "From user", "From host",   "From tag",     "To user",
	"To host",   "To tag",     "Call-ID",   "CSeq method", "Contact user", "Contact host",
};

#define BENCH_FIELD_CAP 512 /* bytes kept per field in the check pass (longreq has 350+ byte values) */

struct bench_out {
	bool record;                  /* check pass: copy the fields out */
	uint64_t acc;                 /* checksum over everything touched */
	uint32_t cseq;
	bool has[BF__COUNT];
	size_t len[BF__COUNT];
	char val[BF__COUNT][BENCH_FIELD_CAP];
};

static inline void bench_put(struct bench_out *o, enum bench_field f, const char *p, size_t n)
{
	o->acc += n;
	if (n)
		o->acc += (unsigned char)p[0] + (unsigned char)p[n - 1];
	if (o->record) {
		size_t have = o->has[f] ? o->len[f] : 0;
		size_t room = BENCH_FIELD_CAP - have;
		if (n > room)
			n = room;
		memcpy(o->val[f] + have, p, n);
		o->len[f] = have + n;
		o->has[f] = true;
	}
}

/* For NUL-terminated fields (sofia-sip, libosip2); NULL means absent. */
static inline void bench_put_c(struct bench_out *o, enum bench_field f, const char *s)
{
	if (s)
		bench_put(o, f, s, strlen(s));
}

static inline void bench_put_cseq(struct bench_out *o, uint32_t num)
{
	o->acc += num;
	o->cseq = num;
}

struct bench_msg {
	char name[64];
	const char *data;
	size_t len;
};

/* One stack: run() parses one message from its raw bytes, touches every field
 * above, frees what it allocated; returns 0, or < 0 when the stack rejects it. */
struct bench_stack {
	const char *name;
	int (*init)(const struct bench_msg *msgs, size_t n);
	int (*run)(size_t idx, const struct bench_msg *m, struct bench_out *o);
	void (*fini)(void);
};

#endif
