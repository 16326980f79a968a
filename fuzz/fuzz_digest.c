/* libFuzzer target: the client side of digest authentication (src/auth/client.c)
 * on any challenge a server — a hostile one included — can send. The input is
 * a WWW-Authenticate value, carried in a 401 that must pass the message
 * parser first (as on the wire: no control characters, folding unfolded
 * by the header reader). When the client answers it, the answer must be
 * what a verifier reads back: it parses, carries the challenge's realm, nonce
 * and opaque and our username and uri, and its response is the RFC 7616
 * digest of exactly those fields (recomputed here with sip_digest_response,
 * the server's function) — i.e. a correct password is accepted. */
#include <sip/auth.h>
#include <sip/msg.h>
#include <stdlib.h>
#include <string.h>

static const struct sip_str user = SIP_STR("alice"), password = SIP_STR("secret"),
			    method = SIP_STR("REGISTER"), uri = SIP_STR("sip:example.com");

static int fixed_cnonce(void *ud, char *out, size_t cap)
{
	(void)ud;
	if (cap < 9)
		return SIP_ETOOBIG;
	memcpy(out, "0a4f113b", 9);
	return 8;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char head[] =
	    "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKf\r\n"
	    "From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>;tag=2\r\n"
	    "Call-ID: fz\r\nCSeq: 1 REGISTER\r\nWWW-Authenticate: ";
	static const char tail[] = "\r\nContent-Length: 0\r\n\r\n";
	size_t len = sizeof head - 1 + size + sizeof tail - 1;
	char *buf = malloc(len);
	if (!buf)
		return 0;
	memcpy(buf, head, sizeof head - 1);
	memcpy(buf + sizeof head - 1, data, size);
	memcpy(buf + sizeof head - 1 + size, tail, sizeof tail - 1);
	struct sip_msg m;
	struct sip_hdr_iter it;
	struct sip_str value;
	struct sip_auth a;
	struct sip_digest_challenge ch;
	if (sip_msg_parse(&m, buf, len, SIP_PARSE_DATAGRAM | SIP_PARSE_VALIDATE, NULL) <= 0 ||
	    (sip_hdr_iter_init(&it, &m, SIP_HDR_WWW_AUTHENTICATE), sip_hdr_iter_next(&it, &value)) != 1 ||
	    sip_auth_parse(&a, value, NULL) != 0 || sip_digest_challenge_from_auth(&ch, &a) != 0) {
		free(buf);
		return 0;
	}
	struct sip_auth_client cl;
	sip_auth_client_init(&cl);
	cl.cnonce = fixed_cnonce;
	if (sip_auth_client_pick(&cl, &ch, 1) != 0) {
		free(buf);
		return 0;
	}
	char out[4096];
	int n = sip_auth_client_answer(&cl, &ch, user, password, method, uri, out, sizeof out);
	if (n < 0) {
		free(buf);
		return 0;
	}
	if ((size_t)n >= sizeof out || out[n] != '\0')
		abort();

	/* What a server reads from it. */
	struct sip_auth back;
	struct sip_digest_creds c;
	if (sip_auth_parse(&back, (struct sip_str){out, (size_t)n}, NULL) != 0 ||
	    sip_digest_creds_from_auth(&c, &back) != 0)
		abort(); /* we wrote something no verifier can read */
	if (!sip_str_eq(c.realm, ch.realm) || !sip_str_eq(c.nonce, ch.nonce) ||
	    !sip_str_eq(c.opaque, ch.opaque) || !sip_str_eq(c.username, user) || !sip_str_eq(c.uri, uri))
		abort();
	enum sip_digest_alg alg;
	if (sip_digest_alg_parse(c.algorithm, &alg) != 0)
		abort();
	char ha1[SIP_DIGEST_HEX_MAX], want[SIP_DIGEST_HEX_MAX];
	struct sip_digest_input in = {.alg = alg,
				      .nonce = c.nonce,
				      .cnonce = c.cnonce,
				      .nc = c.nc,
				      .qop = c.qop,
				      .method = method,
				      .uri = c.uri};
	if (sip_digest_ha1(sip_digest_alg_base(alg), c.username, c.realm, password, ha1) != 0)
		abort();
	in.ha1 = sip_str_c(ha1);
	if (sip_digest_response(&in, want) != 0 || !sip_str_eq(c.response, sip_str_c(want)))
		abort(); /* the right password would be refused */
	free(buf);
	return 0;
}
