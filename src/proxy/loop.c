/* loop.c — what keeps a forking proxy from amplifying a loop (RFC 5393):
 * the loop-detection hash its branch ids carry (RFC 3261 §16.6 step 8 as
 * corrected by RFC 5393 §4.2), the check of a received request against the
 * Via values we put on earlier copies of it (§16.3 step 4), and the
 * Max-Breadth value a request allows (RFC 5393 §5). */
#include <sip/auth.h>
#include <sip/proxy.h>
#include <string.h>

/* FNV-1a, 64 bits: not a secret (a sender who makes two of its own requests
 * collide only gets its own request refused), stable across workers and
 * restarts, so a copy that loops back to another worker still matches. */
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t mix(uint64_t h, struct sip_str s)
{
	for (size_t i = 0; i < s.len; i++)
		h = (h ^ (uint8_t)s.p[i]) * FNV_PRIME;
	/* A separator no SIP text contains, so "ab"+"c" and "a"+"bc" differ. */
	return (h ^ 0xffu) * FNV_PRIME;
}

static uint64_t mix_header(uint64_t h, const struct sip_msg *req, enum sip_hdr_id id)
{
	for (uint16_t i = req->first[id]; i != SIP_HDR_NONE; i = req->hdrs[i].next)
		h = mix(h, req->hdrs[i].value);
	return h;
}

void sip_proxy_loop_hash(const struct sip_msg *req, struct sip_str consumed_realm, char out[SIP_PROXY_LOOP_HASH_LEN + 1])
{
	/* Everything that decides how the request is routed, as received —
	 * and not the top Via (RFC 5393 §4.2: a looped copy comes back with
	 * another hop's Via on top, so hashing it would hide every loop), nor
	 * Max-Forwards or Max-Breadth, which each hop changes. */
	uint64_t h = FNV_OFFSET;
	h = mix(h, req->ruri_str);
	h = mix(h, req->from.tag);
	h = mix(h, req->to.tag);
	h = mix(h, req->call_id);
	char num[12];
	size_t n = 0;
	uint32_t v = req->cseq.num;
	do {
		num[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < sizeof(num));
	h = mix(h, (struct sip_str){num, n});
	h = mix_header(h, req, SIP_HDR_ROUTE);
	h = mix_header(h, req, SIP_HDR_PROXY_REQUIRE);
	/* Not the credentials we consume when forwarding (§22.3): our copy
	 * leaves without them, and must hash the same when it comes back. */
	struct sip_digest_creds c;
	for (uint16_t i = req->first[SIP_HDR_PROXY_AUTHORIZATION]; i != SIP_HDR_NONE; i = req->hdrs[i].next)
		if (!consumed_realm.len || sip_auth_creds_in(req->hdrs[i].value, consumed_realm, &c) != 1)
			h = mix(h, req->hdrs[i].value);
	static const char hex[] = "0123456789abcdef";
	for (int i = SIP_PROXY_LOOP_HASH_LEN - 1; i >= 0; i--, h >>= 4)
		out[i] = hex[h & 15];
	out[SIP_PROXY_LOOP_HASH_LEN] = '\0';
}

#define MARK "z9hG4bK-sd"

struct sip_str sip_proxy_branch_loop_hash(struct sip_str b)
{
	if (sip_proxy_branch_worker(b) < 0)
		return SIP_STR_NULL;
	const char *dash = memchr(b.p + sizeof(MARK) - 1, '-', b.len - (sizeof(MARK) - 1));
	if (!dash)
		return SIP_STR_NULL;
	size_t at = (size_t)(dash + 1 - b.p);
	if (b.len < at + SIP_PROXY_LOOP_HASH_LEN + 1 || b.p[at + SIP_PROXY_LOOP_HASH_LEN] != '.')
		return SIP_STR_NULL; /* no hash: an ACK's branch, or another sipd version's */
	return (struct sip_str){b.p + at, SIP_PROXY_LOOP_HASH_LEN};
}

int sip_proxy_loop_check(const struct sip_msg *req, struct sip_str consumed_realm, sip_proxy_via_ours_fn ours,
			 void *ud)
{
	if (!req || !ours)
		return SIP_EINVAL;
	bool candidate = false;
	char hash[SIP_PROXY_LOOP_HASH_LEN + 1];
	struct sip_hdr_iter it;
	struct sip_str v;
	sip_hdr_iter_init(&it, req, SIP_HDR_VIA);
	int rc;
	while ((rc = sip_hdr_iter_next(&it, &v)) == 1) {
		struct sip_via via;
		if (sip_via_parse(&via, v, NULL) != 0 || !via.has_branch)
			continue;
		struct sip_str mine = sip_proxy_branch_loop_hash(via.branch);
		if (!mine.len || !ours(ud, &via))
			continue;
		/* One of our earlier copies: spiral (the hash differs: it was
		 * retargeted on the way) or loop (§16.3 step 4). */
		if (!candidate) {
			sip_proxy_loop_hash(req, consumed_realm, hash);
			candidate = true;
		}
		if (memcmp(mine.p, hash, SIP_PROXY_LOOP_HASH_LEN) == 0)
			return 1;
	}
	return rc < 0 ? SIP_EPARSE : 0;
}

int sip_proxy_max_breadth(const struct sip_msg *req)
{
	if (!req)
		return SIP_EINVAL;
	int i = sip_msg_find(req, SIP_STR("Max-Breadth"));
	if (i < 0)
		return SIP_PROXY_DEFAULT_MAX_BREADTH;
	for (uint16_t k = (uint16_t)(i + 1); k < req->nhdrs; k++)
		if (sip_str_caseeq(req->hdrs[k].name, SIP_STR("Max-Breadth")))
			return SIP_EPARSE; /* a single value (§5.8): two are malformed */
	/* Max-Breadth = "Max-Breadth" HCOLON 1*DIGIT (RFC 5393 §5.8). Past
	 * the cap the value means "no limit worth keeping": the cap. */
	struct sip_str s = req->hdrs[i].value;
	if (!s.len)
		return SIP_EPARSE;
	uint32_t n = 0;
	for (size_t k = 0; k < s.len; k++) {
		if (s.p[k] < '0' || s.p[k] > '9')
			return SIP_EPARSE;
		n = n * 10 + (uint32_t)(s.p[k] - '0');
		if (n > SIP_PROXY_MAX_MAX_BREADTH)
			n = SIP_PROXY_MAX_MAX_BREADTH + 1; /* saturate: no overflow on long values */
	}
	return n > SIP_PROXY_MAX_MAX_BREADTH ? SIP_PROXY_MAX_MAX_BREADTH : (int)n;
}
