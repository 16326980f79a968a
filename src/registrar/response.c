/* response.c — the registrar's responses: the §8.2.6 head with a To tag,
 * the Date header (RFC 1123, §20.17) and the small error responses. */
#include <string.h>

#include "registrar/reg_int.h"

/* §8.2.6.2 wants a To tag on every final response. It is derived from the
 * request (Call-ID, From tag, CSeq, branch) rather than drawn at random, so
 * the core needs no randomness and a retransmitted request that reaches us
 * again gets the same tag. */
static uint64_t tag_hash(const struct sip_msg *m)
{
	uint64_t h = 1469598103934665603ull;
	const struct sip_str parts[] = {m->call_id, m->from.tag, m->via.branch};
	for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
		for (size_t i = 0; i < parts[k].len; i++)
			h = (h ^ (unsigned char)parts[k].p[i]) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	h ^= m->cseq.num;
	h *= 1099511628211ull;
	return h;
}

/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm):
 * locale-free and needs no gmtime. */
static void civil(int64_t days, int64_t *y, unsigned *mo, unsigned *d)
{
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	unsigned doe = (unsigned)(days - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*mo = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*mo <= 2);
}

static char *put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

/* Formats the date by hand: snprintf per response was ~4% of a REGISTER. */
static size_t format_date(int64_t now, char *buf)
{
	static const char wd[7][4] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
	static const char mn[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	int64_t days = now / 86400, secs = now % 86400, y;
	unsigned mo, d;
	civil(days, &y, &mo, &d);
	char *p = buf;
	memcpy(p, wd[days % 7], 3);
	p += 3;
	*p++ = ',';
	*p++ = ' ';
	p = put2(p, d);
	*p++ = ' ';
	memcpy(p, mn[mo - 1], 3);
	p += 3;
	*p++ = ' ';
	/* Years beyond 9999 keep all their digits (the %04lld it replaces). */
	char yd[24];
	int nd = 0;
	uint64_t yy = (uint64_t)y;
	do {
		yd[nd++] = (char)('0' + yy % 10);
		yy /= 10;
	} while (yy);
	while (nd < 4)
		yd[nd++] = '0';
	while (nd)
		*p++ = yd[--nd];
	*p++ = ' ';
	p = put2(p, (unsigned)(secs / 3600));
	*p++ = ':';
	p = put2(p, (unsigned)(secs / 60 % 60));
	*p++ = ':';
	p = put2(p, (unsigned)(secs % 60));
	memcpy(p, " GMT", 4);
	p += 4;
	return (size_t)(p - buf);
}

#define DATE_MAX 48 /* "Www, DD Mon YYYYYYYYYYYYYYYYYYY HH:MM:SS GMT" */

size_t sip__reg_date(int64_t now, char *buf, size_t cap)
{
	/* The string changes once a second: keep the last one per thread. */
	static _Thread_local int64_t cached_now = -1;
	static _Thread_local char cached[DATE_MAX];
	static _Thread_local size_t cached_len;
	if (now < 0)
		now = 0;
	if (now != cached_now) {
		cached_len = format_date(now, cached);
		cached_now = now;
	}
	if (!cap)
		return 0;
	size_t n = cached_len < cap ? cached_len : cap - 1;
	memcpy(buf, cached, n);
	buf[n] = '\0';
	return n;
}

void sip__reg_head(struct sip_builder *b, const struct sip_msg *m, int status, const char *reason,
		   int64_t now)
{
	static const char hex[] = "0123456789abcdef";
	char tag[16], date[DATE_MAX];
	uint64_t h = tag_hash(m);
	for (int i = 15; i >= 0; i--, h >>= 4)
		tag[i] = hex[h & 15];
	sip_build_response_head(b, m, status, sip_str_c(reason),
				m->to.has_tag ? SIP_STR_NULL : (struct sip_str){tag, sizeof tag});
	size_t n = sip__reg_date(now, date, sizeof date);
	sip_build_header(b, SIP_STR("Date"), (struct sip_str){date, n});
}

int sip__reg_finish(struct sip_builder *b, int status, struct sip_registrar_result *res)
{
	sip_build_body(b, SIP_STR_NULL, SIP_STR_NULL);
	int n = sip_build_finish(b);
	if (n < 0)
		return n;
	res->status = status;
	res->len = (size_t)n;
	return 0;
}

int sip__reg_simple(const struct sip_msg *m, int status, const char *reason, const char *hname,
		    struct sip_str hvalue, int64_t now, char *out, size_t cap,
		    struct sip_registrar_result *res)
{
	struct sip_builder b;
	sip_build_init(&b, out, cap);
	sip__reg_head(&b, m, status, reason, now);
	if (hname)
		sip_build_header(&b, sip_str_c(hname), hvalue);
	return sip__reg_finish(&b, status, res);
}
