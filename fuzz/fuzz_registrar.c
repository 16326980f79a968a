/* libFuzzer target: the registrar (src/registrar, RFC 3261 §10.3) with the
 * digest verifier (src/auth) in front and the memory location store behind,
 * on any REGISTER the parser accepts — i.e. on what reaches it from the
 * network: malformed Contact, Expires and Authorization values, thousands of
 * Contacts, odd AORs.
 *
 * The first input byte picks the set-up (bit 0: authentication required,
 * bit 1: NAT rewriting, bit 2: the source as a socket address, bit 3: over a
 * stream connection); the rest is the message. What must hold:
 * - the registrar answers every parsed REGISTER (or says it is not ours);
 * - the answer parses back, carries the request's Call-ID and CSeq, and is
 *   one of the statuses §10.3 and RFC 3327/5626 can give (no 500 from a
 *   store that cannot fail);
 * - a refused REGISTER stores nothing, an accepted one at most the Contact
 *   cap;
 * - the same REGISTER again (a retransmission the transaction layer missed)
 *   leaves the store's count as it was.
 *
 * FUZZ_DEBUG=1 prints each answer (for reading a crash input). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sip/registrar.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t secret[] = "fuzz-registrar-secret-0123456789";
static const struct sip_registrar_domain domains[] = {{"example.com", NULL}, {"other.example.org", "other"}};
#define NOW 1700000000

static struct sip_users *users;
static struct sip_auth_server *auth;
static struct sip_msg req, resp;
static char out[65536];

static int counter_random(void *ud, uint8_t *buf, size_t len)
{
	(void)ud;
	static unsigned n;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(++n * 131u);
	return 0;
}

static void setup_once(void)
{
	if (users)
		return;
	struct sip_auth_server_config ac = {
	    .secret = secret, .secret_len = sizeof secret - 1, .random = counter_random};
	if (sip_users_open(&users, NULL) != 0 ||
	    sip_users_add(users, SIP_STR("alice"), SIP_STR("example.com"), SIP_STR("secret")) != 0 ||
	    sip_auth_server_new(&auth, &ac) != 0)
		abort();
}

/* Bindings of the To AOR (0 when the To is no SIP URI: nothing could be stored). */
static int aor_count(struct sip_location *loc)
{
	char aor[SIP_REGISTRAR_MAX_AOR_LEN + 1];
	int n = sip_registrar_aor(&req.to.uri, aor, sizeof aor);
	if (n <= 0)
		return 0;
	int c = sip_location_count(loc, (struct sip_str){aor, (size_t)n}, NOW);
	if (c < 0)
		abort(); /* the memory store cannot fail to count */
	return c;
}

static bool status_allowed(int status)
{
	switch (status) {
	case 200: /* registered, removed or queried */
	case 400: /* bad Contact, Expires, wildcard, AOR, Authorization */
	case 401: /* challenge */
	case 403: /* authenticated as someone else */
	case 404: /* an AOR of our domain we do not serve */
	case 420: /* Require */
	case 423: /* Min-Expires */
	case 439: /* outbound flow-token not usable (RFC 5626) */
		return true;
	default:
		return false;
	}
}

/* One REGISTER through the registrar; returns the store count after it, or
 * -1 when the registrar said it is not ours. A replay may also get §10.3
 * step 7's refusal of a CSeq that is not higher than the binding's (500,
 * as §12.2.2 answers an out-of-order CSeq). */
static int handle_once(struct sip_registrar *reg, struct sip_location *loc,
		       const struct sip_registrar_src *src, bool replay)
{
	struct sip_registrar_result res;
	int before = aor_count(loc);
	int rc = sip_registrar_handle(reg, &req, src, NOW, out, sizeof out, &res);
	if (rc == SIP_ETOOBIG) {
		if (aor_count(loc) != before)
			abort(); /* "nothing was stored" */
		return before;
	}
	if (rc != 0)
		abort();
	if (res.not_ours)
		return -1;
	if (getenv("FUZZ_DEBUG"))
		fprintf(stderr, "status %d len %zu\n%.*s\n", res.status, res.len, (int)res.len, out);
	if (!(status_allowed(res.status) || (replay && res.status == 500)) || res.len == 0 ||
	    res.len > sizeof out)
		abort();
	if (sip_msg_parse(&resp, out, res.len, SIP_PARSE_STREAM, NULL) != (int)res.len)
		abort();
	if (resp.is_request || resp.status != res.status || !sip_str_eq(resp.call_id, req.call_id) ||
	    resp.cseq.num != req.cseq.num)
		abort();
	int after = aor_count(loc);
	if (res.status != 200 && after != before)
		abort();
	if (after > SIP_REGISTRAR_MAX_CONTACTS)
		abort();
	return after;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	setup_once();
	uint8_t mode = data[0];
	char *buf = malloc(size - 1 ? size - 1 : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	if (sip_msg_parse(&req, buf, size - 1, SIP_PARSE_DATAGRAM | SIP_PARSE_VALIDATE, NULL) <= 0 ||
	    !req.is_request || req.method_id != SIP_METHOD_REGISTER) {
		free(buf);
		return 0;
	}

	struct sip_location *loc;
	struct sip_location_config lc = {.uri_eq = sip_registrar_uri_eq};
	struct sip_registrar_config cfg = {.domains = domains,
					   .ndomains = sizeof domains / sizeof domains[0],
					   .require_auth = mode & 1,
					   .nat_rewrite = mode & 2,
					   .auth = auth,
					   .ha1 = sip_users_get_ha1,
					   .ha1_ud = users};
	struct sip_registrar *reg;
	if (sip_location_open_memory(&loc, &lc) != 0 || sip_registrar_new(&reg, &cfg, loc) != 0)
		abort();

	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(40000)};
	sin.sin_addr.s_addr = htonl(0xC0000209); /* 192.0.2.9 */
	struct sip_registrar_src src = {
	    .ip = SIP_STR("192.0.2.9"), .port = 40000, .transport = SIP_STR("udp")};
	if (mode & 4)
		src = (struct sip_registrar_src){.transport = SIP_STR("udp"), .sockaddr = &sin};
	if (mode & 8) {
		src.transport = SIP_STR("tcp");
		src.conn = 0x1234;
	}

	int first = handle_once(reg, loc, &src, false);
	if (first >= 0 && handle_once(reg, loc, &src, true) != first)
		abort(); /* a repeated REGISTER changed the store */

	sip_registrar_free(reg);
	sip_location_close(loc);
	free(buf);
	return 0;
}
