/* route.c — sending responses where §18.2.2 (and RFC 3581) says, and the
 * stateless error response for requests the parser rejected. */
#include "tp_int.h"

#include <sip/print.h>

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

/* NUL-terminated copy of a slice; false when it does not fit. */
static bool cstr(struct sip_str s, char *out, size_t cap)
{
	if (!s.p || s.len >= cap)
		return false;
	memcpy(out, s.p, s.len);
	out[s.len] = 0;
	return true;
}

int sip_transport_send_response(struct sip_transport *t, const struct sip_msg *resp, const char *bytes,
				size_t len, uint64_t conn_hint)
{
	if (!t || !resp || !bytes || !len || resp->is_request || t->closing)
		return SIP_EINVAL;
	const struct sip_via *v = &resp->via;
	enum sip_tp_type type = sip_transport_type_parse(v->transport);
	if (type == SIP_TP_NONE)
		return SIP_EUNSUPPORTED;
	uint16_t port = v->has_port ? v->port : (type == SIP_TP_TLS ? 5061 : 5060);
	uint32_t rport = 0;
	bool use_rport = v->has_rport && v->rport_has_value && sip_str_to_u32(v->rport, &rport) == 0 &&
			 rport > 0 && rport <= 65535;
	char host[SIP_TP_HOST_MAX];
	struct sip_tp_dest d;

	if (sip_transport_reliable(type)) {
		/* §18.2.2: the connection the request came on, while it is open. */
		struct sip__conn *c = conn_hint ? sip__conn_find(t, conn_hint) : NULL;
		if (c)
			return sip__conn_write(c, bytes, len, 0, NULL);
		struct sip_str h = v->has_received && v->received.len ? v->received : v->host;
		if (!cstr(h, host, sizeof(host)))
			return SIP_EINVAL;
		if (sip_tp_dest_set(&d, type, host, use_rport ? (uint16_t)rport : port))
			return SIP_ENOTFOUND; /* a host name: resolve per RFC 3263 §5 */
		char name[SIP_TP_HOST_MAX];
		if (v->host_type == SIP_HOST_NAME && cstr(v->host, name, sizeof(name)))
			d.host = name; /* RFC 5922: the certificate must match the sent-by name */
		return sip__stream_send(t, &d, bytes, len, 0, NULL, NULL);
	}
	if (type != SIP_TP_UDP)
		return SIP_EUNSUPPORTED;
	if (v->maddr.len) {
		if (!cstr(v->maddr, host, sizeof(host)) || sip_tp_dest_set(&d, type, host, port))
			return SIP_ENOTFOUND;
		struct sip_listener *l = sip__udp_for(t, d.addr.ss_family);
		if (!l)
			return SIP_ESTATE;
		uint32_t ttl = 1;
		if (v->ttl.len && (sip_str_to_u32(v->ttl, &ttl) || ttl > 255))
			return SIP_EINVAL;
		if (sip__udp_set_multicast_ttl(l, (int)ttl))
			return SIP_EIO;
		return sip__udp_send(t, l, (struct sockaddr *)&d.addr, bytes, len, NULL);
	}
	struct sip_str h = v->has_received && v->received.len ? v->received : v->host;
	if (v->has_received && use_rport)
		port = (uint16_t)rport;
	if (!cstr(h, host, sizeof(host)))
		return SIP_EINVAL;
	if (sip_tp_dest_set(&d, type, host, port))
		return SIP_ENOTFOUND;
	struct sip_listener *l = sip__udp_for(t, d.addr.ss_family);
	if (!l)
		return SIP_ESTATE;
	return sip__udp_send(t, l, (struct sockaddr *)&d.addr, bytes, len, NULL);
}

static size_t line_end(const char *buf, size_t len, size_t pos, size_t *next)
{
	const char *nl = memchr(buf + pos, '\n', len - pos);
	if (!nl) {
		*next = len;
		return SIZE_MAX; /* incomplete line */
	}
	size_t e = (size_t)(nl - buf);
	*next = e + 1;
	return e > pos && buf[e - 1] == '\r' ? e - 1 : e;
}

enum { H_VIA, H_FROM, H_TO, H_CALLID, H_CSEQ, H__N };

static int wanted(struct sip_str name)
{
	name = sip_str_trim(name);
	if (sip_str_caseeq(name, SIP_STR("via")) || sip_str_caseeq(name, SIP_STR("v")))
		return H_VIA;
	if (sip_str_caseeq(name, SIP_STR("from")) || sip_str_caseeq(name, SIP_STR("f")))
		return H_FROM;
	if (sip_str_caseeq(name, SIP_STR("to")) || sip_str_caseeq(name, SIP_STR("t")))
		return H_TO;
	if (sip_str_caseeq(name, SIP_STR("call-id")) || sip_str_caseeq(name, SIP_STR("i")))
		return H_CALLID;
	if (sip_str_caseeq(name, SIP_STR("cseq")))
		return H_CSEQ;
	return -1;
}

static bool has_tag(const char *p, size_t n)
{
	for (size_t i = 0; i + 4 <= n; i++)
		if ((p[i] == 't' || p[i] == 'T') && sip_str_caseeq((struct sip_str){p + i, 4}, SIP_STR("tag=")) &&
		    i > 0 && (p[i - 1] == ';' || p[i - 1] == ' ' || p[i - 1] == '\t'))
			return true;
	return false;
}

int sip_transport_error_response(const char *buf, size_t len, int status, char *out, size_t cap)
{
	if (!buf || !out || status < 300 || status > 699)
		return SIP_EINVAL;
	if (len < 4 || memcmp(buf, "SIP/", 4) == 0)
		return SIP_EPARSE; /* never answer a response */
	/* Built from the raw lines: the parser rejected this message, so the
	 * typed copy in sip_build_response_head() is not available. */
	struct sip_builder o;
	sip_build_init(&o, out, cap);
	sip_build_status_line(&o, status, SIP_STR_NULL);
	size_t pos, next;
	if (line_end(buf, len, 0, &pos) == SIZE_MAX)
		return SIP_EPARSE;
	unsigned seen[H__N] = {0};
	while (pos < len) {
		size_t e = line_end(buf, len, pos, &next);
		if (e == SIZE_MAX || e == pos)
			break; /* incomplete header line or the empty line */
		/* Gather continuation lines (obsolete folding) into this header. */
		size_t last_e = e;
		while (next < len && (buf[next] == ' ' || buf[next] == '\t')) {
			size_t n2, e2 = line_end(buf, len, next, &n2);
			if (e2 == SIZE_MAX)
				break;
			last_e = e2;
			next = n2;
		}
		const char *colon = memchr(buf + pos, ':', e - pos);
		int h = colon ? wanted((struct sip_str){buf + pos, (size_t)(colon - (buf + pos))}) : -1;
		/* Every Via; only the first of the single-valued ones, so a message
		 * with two Call-IDs (RFC 4475 multi01) still gets its 400. */
		if (h >= 0 && (h == H_VIA || !seen[h])) {
			seen[h]++;
			sip_build_raw(&o, (struct sip_str){buf + pos, last_e - pos});
			if (h == H_TO && !has_tag(buf + pos, last_e - pos)) {
				unsigned char r[8];
				char tag[24] = ";tag=";
				if (RAND_bytes(r, sizeof(r)) != 1)
					return SIP_EIO;
				for (int i = 0; i < 8; i++)
					tag[5 + i] = "0123456789abcdef"[r[i] & 15];
				sip_build_raw(&o, (struct sip_str){tag, 13});
			}
			sip_build_raw(&o, SIP_STR("\r\n"));
		}
		pos = next;
	}
	if (!seen[H_VIA] || !seen[H_FROM] || !seen[H_TO] || !seen[H_CALLID] || !seen[H_CSEQ])
		return SIP_EPARSE;
	sip_build_raw(&o, SIP_STR("Content-Length: 0\r\n\r\n"));
	return sip_build_finish(&o);
}
