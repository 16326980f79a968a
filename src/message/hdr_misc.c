/* hdr_misc.c — small header values: CSeq, numbers, tokens, Content-Type,
 * RAck (RFC 3262), Event (RFC 6665), Retry-After, Timestamp, Date (RFC 3261 §25). */
#include <sip/msg.h>
#include <limits.h>
#include <string.h>

#include "scan.h"

/* Scans 1*DIGIT at p into *out. Returns the byte after the digits, or NULL
 * with *rc (SIP_EPARSE when no digit, SIP_ERANGE beyond 2^32-1). */
static const char *scan_u32(const char *p, const char *e, uint32_t *out, int *rc)
{
	const char *d = sip__scan_digits(p, e);
	*rc = sip__to_u32(p, (size_t)(d - p), out);
	return *rc ? NULL : d;
}

/* Scans a required LWS run; NULL when there is none. */
static const char *need_lws(const char *p, const char *e)
{
	const char *q = sip__skip_lws(p, e);
	return q == p ? NULL : q;
}

/* Scans a method token (Method = INVITEm / ... / extension-method = token). */
static const char *scan_method(const char *p, const char *e, struct sip_str *m)
{
	const char *t = sip__scan_token(p, e);
	*m = (struct sip_str){p, (size_t)(t - p)};
	return t;
}

/* "1*DIGIT LWS Method *LWS" up to e, starting at p (s: the value's start, for
 * error offsets): the tail shared by CSeq and RAck. */
static int num_method(const char *s, const char *p, const char *e, uint32_t *num, struct sip_str *method,
		      size_t *err_off)
{
	int rc;
	const char *q = scan_u32(p, e, num, &rc);
	if (!q)
		return sip__fail(err_off, s, p, rc);
	p = need_lws(q, e);
	if (!p)
		return sip__fail(err_off, s, q, SIP_EPARSE);
	q = scan_method(p, e, method);
	if (q == p)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	p = sip__skip_lws(q, e);
	if (p != e)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	return 0;
}

int sip_cseq_parse(struct sip_cseq *c, struct sip_str value, size_t *err_off)
{
	memset(c, 0, sizeof(*c));
	SIP__CHECK_VALUE(value, err_off);
	const char *s = value.p, *e = s + value.len;

	/* CSeq = 1*DIGIT LWS Method; leading zeros are fine (RFC 4475 wsinv "0009"). */
	int rc = num_method(s, sip__skip_lws(s, e), e, &c->num, &c->method, err_off);
	if (rc < 0)
		return rc;
	c->method_id = sip_method_lookup(c->method);
	return 0;
}

int sip_u32_parse(uint32_t *out, struct sip_str value, size_t *err_off)
{
	SIP__CHECK_VALUE(value, err_off);
	const char *s = value.p, *e = s + value.len, *p, *q;
	int rc;
	uint32_t v;

	p = sip__skip_lws(s, e);
	q = scan_u32(p, e, &v, &rc);
	if (!q)
		return sip__fail(err_off, s, p, rc);
	q = sip__skip_lws(q, e);
	if (q != e)
		return sip__fail(err_off, s, q, SIP_EPARSE);
	*out = v;
	return 0;
}

int sip_token_parse(struct sip_str value, size_t *err_off)
{
	SIP__CHECK_VALUE(value, err_off);
	const char *s = value.p, *e = s + value.len, *p, *q;

	p = sip__skip_lws(s, e);
	q = sip__scan_token(p, e);
	if (q == p)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	q = sip__skip_lws(q, e);
	if (q != e)
		return sip__fail(err_off, s, q, SIP_EPARSE);
	return 0;
}

/* Runs the generic-param list [p, e): sets *raw (without the leading ';') and
 * hands each param to fn (may be NULL). 0 or an error with *err_off. */
typedef int (*param_fn)(void *ctx, const struct sip_param *prm, const char **bad);
static int params_run(const char *s, const char *p, const char *e, struct sip_str *raw, param_fn fn,
		      void *ctx, size_t *err_off)
{
	struct sip_str cur = {p, (size_t)(e - p)};
	struct sip_param prm;
	const char *bad = NULL, *end = p;
	int rc;

	*raw = SIP_STR_NULL;
	while ((rc = sip__param_next(&cur, &prm, 0, &bad)) == 1) {
		if (!raw->p)
			raw->p = prm.name.p;
		if (fn) {
			rc = fn(ctx, &prm, &bad);
			if (rc)
				return sip__fail(err_off, s, bad, rc);
		}
		end = cur.p;
	}
	if (rc < 0)
		return sip__fail(err_off, s, bad, rc);
	if (raw->p)
		raw->len = (size_t)(end - raw->p);
	return 0;
}

/* m-parameter = m-attribute EQUAL m-value: a value is required. */
static int ct_param(void *ctx, const struct sip_param *prm, const char **bad)
{
	(void)ctx;
	if (prm->has_value && *prm->value.p != '[')
		return 0;
	*bad = prm->has_value ? prm->value.p : prm->name.p + prm->name.len;
	return SIP_EPARSE;
}

int sip_content_type_parse(struct sip_content_type *ct, struct sip_str value, size_t *err_off)
{
	memset(ct, 0, sizeof(*ct));
	SIP__CHECK_VALUE(value, err_off);
	const char *s = value.p, *e = s + value.len, *p, *q;

	/* media-type = m-type SLASH m-subtype *(SEMI m-parameter), SLASH = SWS "/" SWS. */
	p = sip__skip_lws(s, e);
	q = sip__scan_token(p, e);
	if (q == p)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	ct->type = (struct sip_str){p, (size_t)(q - p)};
	p = sip__skip_lws(q, e);
	if (p == e || *p != '/')
		return sip__fail(err_off, s, p, SIP_EPARSE);
	p = sip__skip_lws(p + 1, e);
	q = sip__scan_token(p, e);
	if (q == p)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	ct->subtype = (struct sip_str){p, (size_t)(q - p)};
	return params_run(s, q, e, &ct->params, ct_param, NULL, err_off);
}

int sip_rack_parse(struct sip_rack *r, struct sip_str value, size_t *err_off)
{
	memset(r, 0, sizeof(*r));
	SIP__CHECK_VALUE(value, err_off);
	const char *s = value.p, *e = s + value.len, *p, *q;
	int rc;

	/* RAck = response-num LWS CSeq-num LWS Method (RFC 3262 §7.2). */
	p = sip__skip_lws(s, e);
	q = scan_u32(p, e, &r->rseq, &rc);
	if (!q)
		return sip__fail(err_off, s, p, rc);
	p = need_lws(q, e);
	if (!p)
		return sip__fail(err_off, s, q, SIP_EPARSE);
	return num_method(s, p, e, &r->cseq, &r->method, err_off);
}

static int event_param(void *ctx, const struct sip_param *prm, const char **bad)
{
	struct sip_event *ev = ctx;
	if (SIP__IS_NAME(prm->name, "id") && !ev->id.len) {
		/* id is a token (RFC 6665 §8.4); a quoted or empty id is malformed. */
		if (!prm->has_value || *prm->value.p == '"' || *prm->value.p == '[') {
			*bad = prm->has_value ? prm->value.p : prm->name.p + prm->name.len;
			return SIP_EPARSE;
		}
		ev->id = prm->value;
	}
	return 0;
}

int sip_event_parse(struct sip_event *ev, struct sip_str value, size_t *err_off)
{
	memset(ev, 0, sizeof(*ev));
	SIP__CHECK_VALUE(value, err_off);
	const char *s = value.p, *e = s + value.len, *p, *q;

	/* event-type = event-package *( "." event-template ): all token chars. */
	p = sip__skip_lws(s, e);
	q = sip__scan_token(p, e);
	if (q == p)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	ev->type = (struct sip_str){p, (size_t)(q - p)};
	return params_run(s, q, e, &ev->params, event_param, ev, err_off);
}

static int retry_param(void *ctx, const struct sip_param *prm, const char **bad)
{
	struct sip_retry_after *r = ctx;
	if (SIP__IS_NAME(prm->name, "duration") && !r->has_duration) {
		if (!prm->has_value) {
			*bad = prm->name.p + prm->name.len;
			return SIP_EPARSE;
		}
		int rc = sip__to_u32(prm->value.p, prm->value.len, &r->duration);
		if (rc) {
			*bad = prm->value.p;
			return rc;
		}
		r->has_duration = true;
	}
	return 0;
}

int sip_retry_after_parse(struct sip_retry_after *r, struct sip_str value, size_t *err_off)
{
	memset(r, 0, sizeof(*r));
	SIP__CHECK_VALUE(value, err_off);
	const char *s = value.p, *e = s + value.len, *p, *q;
	int rc;

	/* Retry-After = delta-seconds [ comment ] *( SEMI retry-param ). */
	p = sip__skip_lws(s, e);
	q = scan_u32(p, e, &r->seconds, &rc);
	if (!q)
		return sip__fail(err_off, s, p, rc);
	p = sip__skip_lws(q, e);
	if (p < e && *p == '(') {
		q = sip__scan_comment(p, e);
		if (!q)
			return sip__fail(err_off, s, p, SIP_EPARSE);
		r->comment = (struct sip_str){p + 1, (size_t)(q - p - 2)};
	}
	return params_run(s, q, e, &r->params, retry_param, r, err_off);
}

/* Scans 1*DIGIT [ "." *DIGIT ]; returns p when there is no leading digit. */
static const char *scan_decimal(const char *p, const char *e)
{
	const char *q = sip__scan_digits(p, e);
	if (q == p)
		return p;
	if (q < e && *q == '.')
		q = sip__scan_digits(q + 1, e);
	return q;
}

int sip_timestamp_parse(struct sip_timestamp *t, struct sip_str value, size_t *err_off)
{
	memset(t, 0, sizeof(*t));
	SIP__CHECK_VALUE(value, err_off);
	const char *s = value.p, *e = s + value.len, *p, *q;

	/* Timestamp = 1*(DIGIT) [ "." *(DIGIT) ] [ LWS delay ],
	 * delay = *(DIGIT) [ "." *(DIGIT) ]. */
	p = sip__skip_lws(s, e);
	q = scan_decimal(p, e);
	if (q == p)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	t->value = (struct sip_str){p, (size_t)(q - p)};
	p = sip__skip_lws(q, e);
	if (p != e && p == q)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	if (p < e && *p == '.')
		q = sip__scan_digits(p + 1, e); /* ".5": the integer part is optional */
	else
		q = scan_decimal(p, e);
	if (q != p)
		t->delay = (struct sip_str){p, (size_t)(q - p)};
	p = sip__skip_lws(q, e);
	if (p != e)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (era-based days-from-civil: no timegm, no locale, no table of leap years). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);			/* [0, 399] */
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;		/* [0, 146096] */
	return era * 146097 + (int64_t)doe - 719468;
}

/* Matches one of n 3-letter names (case-sensitive, as RFC 1123 / §25 spell them). */
static int name3(const char *p, const char *e, const char *names, int n)
{
	if (e - p < 3)
		return -1;
	for (int i = 0; i < n; i++)
		if (memcmp(p, names + 3 * i, 3) == 0)
			return i;
	return -1;
}

/* Reads exactly n digits at *pp; -1 when they are not all digits. */
static int fixed_digits(const char **pp, const char *e, int n)
{
	const char *p = *pp;
	int v = 0;
	if (e - p < n)
		return -1;
	for (int i = 0; i < n; i++, p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	*pp = p;
	return v;
}

int sip_date_parse(struct sip_date *d, struct sip_str value, size_t *err_off)
{
	static const char days[] = "MonTueWedThuFriSatSun";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	memset(d, 0, sizeof(*d));
	SIP__CHECK_VALUE(value, err_off);
	const char *s = value.p, *e = s + value.len, *p, *start;
	int day, mon, year, hh, mm, ss;

	/* rfc1123-date = wkday "," SP date1 SP time SP "GMT",
	 * date1 = 2DIGIT SP month SP 4DIGIT, time = 2DIGIT ":" 2DIGIT ":" 2DIGIT. */
	p = start = sip__skip_lws(s, e);
	if (name3(p, e, days, 7) < 0)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	p += 3;
	if (e - p < 2 || p[0] != ',' || p[1] != ' ')
		return sip__fail(err_off, s, p, SIP_EPARSE);
	p += 2;
	if ((day = fixed_digits(&p, e, 2)) < 1)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	if (p == e || *p++ != ' ' || (mon = name3(p, e, months, 12)) < 0)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	p += 3;
	if (p == e || *p++ != ' ' || (year = fixed_digits(&p, e, 4)) < 0)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	const char *dp = p - 11; /* the day digits, blamed for a day the month lacks */
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (day > mdays[mon] || (mon == 1 && day == 29 && !leap))
		return sip__fail(err_off, s, dp, SIP_EPARSE);
	if (p == e || *p++ != ' ' || (hh = fixed_digits(&p, e, 2)) < 0 || hh > 23)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	if (p == e || *p++ != ':' || (mm = fixed_digits(&p, e, 2)) < 0 || mm > 59)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	if (p == e || *p++ != ':' || (ss = fixed_digits(&p, e, 2)) < 0 || ss > 60) /* 60: a leap second */
		return sip__fail(err_off, s, p, SIP_EPARSE);
	if (p == e || *p++ != ' ')
		return sip__fail(err_off, s, p, SIP_EPARSE);
	/* Only GMT is legal (RFC 4475 baddate: "EST" is rejected here). */
	if (e - p < 3 || memcmp(p, "GMT", 3) != 0)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	const char *end = p + 3;
	p = sip__skip_lws(end, e);
	if (p != e)
		return sip__fail(err_off, s, p, SIP_EPARSE);
	d->raw = (struct sip_str){start, (size_t)(end - start)};
	d->epoch = days_from_civil(year, (unsigned)mon + 1, (unsigned)day) * 86400 + hh * 3600 + mm * 60 + ss;
	return 0;
}

int sip_unquote(struct sip_str quoted, char *dst, size_t cap)
{
	if (!quoted.p)
		return quoted.len ? SIP_EINVAL : 0;
	const char *p = quoted.p, *e = p + quoted.len;
	size_t n = 0;

	/* Accepts a whole quoted-string ("a\"b") or its inside (a\"b), as the
	 * typed parsers hand out: an inside never starts with a bare '"'. */
	if (p < e && *p == '"') {
		if (sip__scan_quoted(p, e) != e)
			return SIP_EPARSE;
		p++;
		e--;
	}
	if (cap > INT_MAX)
		cap = INT_MAX;
	while (p < e) {
		char c = *p++;
		if (c == '\\') {
			if (p == e || !sip__qpair_ok((unsigned char)*p))
				return SIP_EPARSE;
			c = *p++;
		} else if (c == '"') {
			return SIP_EPARSE;
		}
		if (n == cap)
			return SIP_ETOOBIG;
		dst[n++] = c;
	}
	return (int)n;
}
