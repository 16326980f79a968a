/* stun.c — the STUN Binding responder of RFC 5626 §4.4.2 keep-alives
 * (sip/stun.h): nothing but what a Binding request needs, no
 * authentication (RFC 5626 keep-alives use none). */
#include <netinet/in.h>
#include <sip/stun.h>
#include <string.h>

#define BINDING_REQUEST 0x0001u
#define BINDING_SUCCESS 0x0101u
#define ATTR_XOR_MAPPED_ADDRESS 0x0020u
#define ATTR_FINGERPRINT 0x8028u
#define FINGERPRINT_XOR 0x5354554eu

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

uint32_t sip_stun_crc32(const uint8_t *buf, size_t len)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < len; i++) {
		c ^= buf[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

bool sip_stun_is_message(const uint8_t *buf, size_t len)
{
	return buf && len >= SIP_STUN_HEADER && (buf[0] & 0xc0) == 0 && get16(buf + 2) % 4 == 0 &&
	       (size_t)get16(buf + 2) + SIP_STUN_HEADER == len && get32(buf + 4) == SIP_STUN_MAGIC;
}

int sip_stun_binding_response(const uint8_t *req, size_t len, const struct sockaddr *src, uint8_t *out,
			      size_t cap)
{
	if (!sip_stun_is_message(req, len) || get16(req) != BINDING_REQUEST || !src || !out)
		return SIP_EINVAL;
	if (cap < SIP_STUN_RESPONSE_MAX)
		return SIP_ETOOBIG;
	/* XOR-MAPPED-ADDRESS (§15.2): port ^ the cookie's high half, the
	 * address ^ the cookie (IPv4) or ^ cookie + transaction id (IPv6). */
	uint8_t *a = out + SIP_STUN_HEADER;
	size_t alen;
	if (src->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)src;
		alen = 8;
		put16(a + 4, 0x0001);
		put16(a + 6, (uint16_t)(ntohs(s4->sin_port) ^ (SIP_STUN_MAGIC >> 16)));
		put32(a + 8, ntohl(s4->sin_addr.s_addr) ^ SIP_STUN_MAGIC);
	} else if (src->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)src;
		alen = 20;
		put16(a + 4, 0x0002);
		put16(a + 6, (uint16_t)(ntohs(s6->sin6_port) ^ (SIP_STUN_MAGIC >> 16)));
		uint8_t key[16];
		memcpy(key, req + 4, 16); /* cookie then transaction id, as sent */
		for (int i = 0; i < 16; i++)
			a[8 + i] = s6->sin6_addr.s6_addr[i] ^ key[i];
	} else {
		return SIP_EINVAL;
	}
	put16(a, ATTR_XOR_MAPPED_ADDRESS);
	put16(a + 2, (uint16_t)alen);
	size_t n = SIP_STUN_HEADER + 4 + alen;
	/* Header: success type, the length counting FINGERPRINT (§15.5), the
	 * request's cookie and transaction id. */
	put16(out, BINDING_SUCCESS);
	put16(out + 2, (uint16_t)(n + 8 - SIP_STUN_HEADER));
	memcpy(out + 4, req + 4, 16);
	put16(out + n, ATTR_FINGERPRINT);
	put16(out + n + 2, 4);
	put32(out + n + 4, sip_stun_crc32(out, n) ^ FINGERPRINT_XOR);
	return (int)(n + 8);
}
