/* text.c — the bounded writer used to build challenge and credential values. */
#include <string.h>

#include "auth/auth_int.h"

void sip__wr_init(struct sip__wr *w, char *buf, size_t cap)
{
	w->p = buf;
	w->cap = buf ? cap : 0;
	w->len = 0;
	w->overflow = w->cap == 0;
}

static void put(struct sip__wr *w, const char *s, size_t n)
{
	/* Keep one byte for the NUL written by sip__wr_end(). */
	if (w->overflow || n >= w->cap - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

void sip__wr_str(struct sip__wr *w, struct sip_str s) { put(w, s.p, s.len); }

void sip__wr_c(struct sip__wr *w, const char *s) { put(w, s, strlen(s)); }

void sip__wr_quoted(struct sip__wr *w, struct sip_str s)
{
	put(w, "\"", 1);
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '"' || s.p[i] == '\\')
			put(w, "\\", 1);
		put(w, s.p + i, 1);
	}
	put(w, "\"", 1);
}

int sip__wr_end(struct sip__wr *w)
{
	if (w->overflow)
		return SIP_ETOOBIG;
	w->p[w->len] = '\0';
	return (int)w->len;
}
