/* fuzz_hdr.c — libFuzzer target for the typed header sub-parsers.
 * The first byte selects the parser; the rest is one header value, copied to
 * an exact-size heap buffer so ASan sees any read past it. Every slice a
 * parser returns on success must lie inside the value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sip/msg.h>

static const char *lo, *hi;

/* Aborts when a non-empty slice escapes [lo, hi). */
static void in(struct sip_str s)
{
	if (s.len == 0)
		return;
	if (!s.p || s.p < lo || s.p > hi || s.len > (size_t)(hi - s.p))
		abort();
}

static void in_uri(const struct sip_uri *u)
{
	in(u->raw);
	in(u->scheme_str);
	in(u->opaque);
	in(u->user);
	in(u->password);
	in(u->host);
	in(u->params);
	in(u->headers);
	in(u->transport);
	in(u->user_param);
	in(u->method);
	in(u->maddr);
	in(u->ttl);
}

static void in_na(const struct sip_nameaddr *na)
{
	in(na->display);
	in(na->uri_str);
	in(na->params);
	in(na->tag);
	if (!na->star)
		in_uri(&na->uri);
}

static void check_off(int rc, size_t off, size_t len)
{
	if (rc < 0 && off > len)
		abort(); /* the error offset points into the value (or just past it) */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t len = size - 1;
	char *buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	lo = buf;
	hi = buf + len;
	struct sip_str v = {buf, len};
	size_t off = 0;
	int rc;

	switch (data[0] % 14) {
	case 0: {
		struct sip_via x;
		rc = sip_via_parse(&x, v, &off);
		if (rc == 0) {
			struct sip_str f[] = {x.raw,	x.protocol, x.version, x.transport, x.host, x.params,
					      x.branch, x.received, x.maddr,   x.ttl,	    x.rport};
			for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
				in(f[i]);
		}
		break;
	}
	case 1: {
		struct sip_nameaddr x;
		rc = sip_nameaddr_parse(&x, v, &off);
		if (rc == 0)
			in_na(&x);
		break;
	}
	case 2: {
		struct sip_contact x;
		rc = sip_contact_parse(&x, v, &off);
		if (rc == 0) {
			in_na(&x.na);
			if (x.q > 1000 || x.q < -1)
				abort();
		}
		break;
	}
	case 3: {
		struct sip_cseq x;
		rc = sip_cseq_parse(&x, v, &off);
		if (rc == 0)
			in(x.method);
		break;
	}
	case 4: {
		uint32_t x;
		rc = sip_u32_parse(&x, v, &off);
		break;
	}
	case 5:
		rc = sip_token_parse(v, &off);
		break;
	case 6: {
		struct sip_content_type x;
		rc = sip_content_type_parse(&x, v, &off);
		if (rc == 0) {
			in(x.type);
			in(x.subtype);
			in(x.params);
		}
		break;
	}
	case 7: {
		struct sip_auth x;
		rc = sip_auth_parse(&x, v, &off);
		if (rc == 0) {
			struct sip_str f[] = {x.scheme,	   x.params,   x.realm,	 x.nonce, x.opaque,
					      x.algorithm, x.qop,      x.domain, x.stale, x.username,
					      x.uri,	   x.response, x.cnonce, x.nc,	  x.userhash};
			for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
				in(f[i]);
		}
		break;
	}
	case 8: {
		struct sip_rack x;
		rc = sip_rack_parse(&x, v, &off);
		if (rc == 0)
			in(x.method);
		break;
	}
	case 9: {
		struct sip_event x;
		rc = sip_event_parse(&x, v, &off);
		if (rc == 0) {
			in(x.type);
			in(x.params);
			in(x.id);
		}
		break;
	}
	case 10: {
		struct sip_retry_after x;
		rc = sip_retry_after_parse(&x, v, &off);
		if (rc == 0) {
			in(x.comment);
			in(x.params);
		}
		break;
	}
	case 11: {
		struct sip_timestamp x;
		rc = sip_timestamp_parse(&x, v, &off);
		if (rc == 0) {
			in(x.value);
			in(x.delay);
		}
		break;
	}
	case 12: {
		struct sip_date x;
		rc = sip_date_parse(&x, v, &off);
		if (rc == 0)
			in(x.raw);
		break;
	}
	default: {
		char out[64];
		rc = sip_unquote(v, out, sizeof(out));
		if (rc > (int)sizeof(out))
			abort();
		rc = rc < 0 ? rc : 0;
		off = 0;
		break;
	}
	}
	check_off(rc, off, len);
	free(buf);
	return 0;
}
