/* uri_host.c — host syntax of RFC 3261 §25: hostname, IPv4address and
 * IPv6reference (RFC 4291 §2.2 text forms, embedded IPv4 and "::" included). */
#include <string.h>

#include "uri_int.h"

bool sip__is_ipv4(const char *p, size_t len)
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= len || p[i] != '.')
				return false;
			i++;
		}
		unsigned v = 0;
		size_t n = 0;
		while (i < len && p[i] >= '0' && p[i] <= '9' && n < 4) {
			v = v * 10 + (unsigned)(p[i] - '0');
			i++;
			n++;
		}
		if (n == 0 || n > 3 || v > 255)
			return false;
	}
	return i == len;
}

const uint8_t sip__label_ch[256] = {
	['-'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
	['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
	['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1,
	['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
	['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1,
	['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

bool sip__is_hostname(const char *p, size_t len)
{
	size_t bad;
	return len > 0 && sip__hostname_scan(p, len, true, &bad) == len && bad == len;
}

int sip__ipv6_to_bin(const char *p, size_t len, uint8_t out[16], size_t *bad)
{
	uint16_t g[8];
	int n = 0, dc = -1; /* groups so far; group index where "::" stands */
	size_t i = 0, dc_off = 0;

	if (len >= 1 && p[0] == ':') {
		if (len < 2 || p[1] != ':') {
			*bad = 1;
			return SIP_EPARSE;
		}
		dc = 0;
		i = 2;
	}
	while (i < len) {
		size_t start = i;
		unsigned v = 0;
		int h;
		while (i < len && (h = sip__hexval((unsigned char)p[i])) >= 0 && i - start < 4) {
			v = (v << 4) | (unsigned)h;
			i++;
		}
		if (i < len && p[i] == '.') {
			/* The embedded IPv4 address must end the text and take two groups. */
			if (n > 6 || !sip__is_ipv4(p + start, len - start)) {
				*bad = start;
				return SIP_EPARSE;
			}
			uint32_t a = 0, octet = 0;
			for (size_t k = start; k < len; k++) {
				if (p[k] == '.') {
					a = (a << 8) | octet;
					octet = 0;
				} else {
					octet = octet * 10 + (uint32_t)(p[k] - '0');
				}
			}
			a = (a << 8) | octet;
			g[n++] = (uint16_t)(a >> 16);
			g[n++] = (uint16_t)a;
			i = len;
			break;
		}
		if (i == start || n == 8) {
			*bad = i == start ? i : start; /* an empty group, or a ninth one */
			return SIP_EPARSE;
		}
		g[n++] = (uint16_t)v;
		if (i == len)
			break;
		if (p[i] != ':') {
			*bad = i; /* non-hex, or a fifth hex digit */
			return SIP_EPARSE;
		}
		i++;
		if (i < len && p[i] == ':') {
			if (dc >= 0) {
				*bad = i;
				return SIP_EPARSE;
			}
			dc = n;
			dc_off = i - 1;
			i++;
		} else if (i == len) {
			*bad = i; /* a single trailing ':' */
			return SIP_EPARSE;
		}
	}
	if (dc < 0 && n != 8) {
		*bad = len;
		return SIP_EPARSE;
	}
	if (dc >= 0 && n > 7) {
		*bad = dc_off; /* "::" must stand for at least one group */
		return SIP_EPARSE;
	}
	uint16_t full[8] = {0};
	if (dc < 0) {
		memcpy(full, g, sizeof(full));
	} else {
		int tail = n - dc;
		for (int k = 0; k < dc; k++)
			full[k] = g[k];
		for (int k = 0; k < tail; k++)
			full[8 - tail + k] = g[dc + k];
	}
	for (int k = 0; k < 8; k++) {
		out[2 * k] = (uint8_t)(full[k] >> 8);
		out[2 * k + 1] = (uint8_t)full[k];
	}
	return 0;
}

int sip__host_scan(const char *p, size_t len, struct sip_str *host, enum sip_host_type *type, size_t *bad)
{
	if (len == 0) {
		*bad = 0;
		return SIP_EPARSE;
	}
	if (p[0] == '[') {
		size_t j = 1;
		while (j < len && (SIP_IS(p[j], SIP_C_HEX) || p[j] == ':' || p[j] == '.'))
			j++;
		if (j == len || p[j] != ']') {
			*bad = j;
			return SIP_EPARSE;
		}
		uint8_t bin[16];
		size_t b6 = 0;
		if (sip__ipv6_to_bin(p + 1, j - 1, bin, &b6) < 0) {
			*bad = 1 + b6;
			return SIP_EPARSE;
		}
		host->p = p + 1;
		host->len = j - 1;
		*type = SIP_HOST_IPV6;
		return (int)(j + 1);
	}
	/* One pass: an IPv4 address when the host starts with a digit and is
	 * one, else the hostname rules (which also reject "1.2.3.999"). */
	size_t j;
	if (p[0] >= '0' && p[0] <= '9' && (j = sip__ipv4_len(p, len)) > 0) {
		*type = SIP_HOST_IPV4;
	} else {
		size_t b;
		j = sip__hostname_scan(p, len, true, &b);
		if (b != j || j == 0) {
			*bad = b;
			return SIP_EPARSE;
		}
		*type = SIP_HOST_NAME;
	}
	host->p = p;
	host->len = j;
	return (int)j;
}

int sip_host_parse(struct sip_str s, struct sip_str *host, enum sip_host_type *type, size_t *err_off)
{
	size_t bad = 0;
	struct sip_str h = SIP_STR_NULL;
	enum sip_host_type t = SIP_HOST_NONE;
	if (!s.p && s.len) {
		if (err_off)
			*err_off = 0;
		return SIP_EINVAL;
	}
	if (s.len > SIP_URI_MAX_LEN) {
		if (err_off)
			*err_off = 0;
		return SIP_ETOOBIG;
	}
	int r = sip__host_scan(s.p, s.len, &h, &t, &bad);
	if (r < 0) {
		if (err_off)
			*err_off = bad;
		return r;
	}
	if (host)
		*host = h;
	if (type)
		*type = t;
	return r;
}

bool sip_host_equal(struct sip_str a, enum sip_host_type ta, struct sip_str b, enum sip_host_type tb)
{
	if (ta != tb)
		return false;
	if (ta == SIP_HOST_IPV6) {
		uint8_t x[16], y[16];
		size_t bad;
		if (sip__ipv6_to_bin(a.p, a.len, x, &bad) < 0 || sip__ipv6_to_bin(b.p, b.len, y, &bad) < 0)
			return sip_str_caseeq(a, b);
		return memcmp(x, y, 16) == 0;
	}
	return sip_str_caseeq(a, b);
}
