/* libFuzzer target: the proxy's message edits (src/proxy/forward.c) on any
 * message the parser accepts. A forwarded request, a response relayed
 * upstream or a CANCEL that no longer parses is a bug (the next hop would
 * drop it), so each output is parsed back and checked against what was
 * asked; the first bytes also go to sip_proxy_branch_worker. */
#include <sip/msg.h>
#include <sip/print.h>
#include <sip/proxy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Output room: the input plus what the edits may add. */
#define OUT_CAP (SIP_MAX_HEADER_BYTES + SIP_MAX_BODY_BYTES + 4096)

static struct sip_msg m, back;
static char out[OUT_CAP];

/* Whether an output of n bytes with at most `lines` header lines stays
 * within the parser's caps; past them the next hop (sipd itself) rejects
 * it: the edit functions refuse too many lines, but not too many bytes. */
static bool within_caps(unsigned lines, int n, const struct sip_msg *orig)
{
	return lines <= SIP_MAX_HEADERS && (size_t)n - orig->body.len <= SIP_MAX_HEADER_BYTES;
}

static void reparse(int n, const struct sip_msg *orig)
{
	/* The output always carries a right Content-Length: the stream mode
	 * must take exactly n bytes. */
	if (sip_msg_parse(&back, out, (size_t)n, SIP_PARSE_STREAM, NULL) != n)
		abort();
	if (back.is_request != orig->is_request || back.cseq.num != orig->cseq.num ||
	    !sip_str_eq(back.call_id, orig->call_id))
		abort();
}

static int count(const struct sip_msg *msg, enum sip_hdr_id id)
{
	int c = sip_hdr_count(msg, id);
	return c < 0 ? 0 : c;
}

static void forward(void)
{
	int routes = count(&m, SIP_HDR_ROUTE);
	struct sip_proxy_fwd f = {
		.ruri = SIP_STR("sip:bob@192.0.2.4:5062;transport=tcp"),
		.via = SIP_STR("SIP/2.0/UDP proxy.example.org:5060;branch=z9hG4bK-sd3-f00d"),
		.record_route = {SIP_STR("<sip:proxy.example.org;lr>"), SIP_STR("<sip:10.0.0.1;lr>")},
		.route_pre = SIP_STR("<sip:pcscf.example.net;lr>"),
		.pop_routes = routes > 0 ? 1 : 0,
		.max_breadth = 7,
	};
	int n = sip_proxy_forward(&m, &f, out, sizeof(out));
	if (n >= 0) {
		if (!within_caps(m.nhdrs + SIP_PROXY_ADDED_LINES, n, &m))
			return;
		reparse(n, &m);
		if (back.method_id != m.method_id || !sip_str_eq(back.ruri_str, f.ruri) ||
		    !sip_str_eq(back.via.branch, SIP_STR("z9hG4bK-sd3-f00d")) ||
		    back.max_forwards != (m.max_forwards < 0 ? SIP_PROXY_DEFAULT_MAX_FORWARDS : m.max_forwards - 1))
			abort();
		if (sip_proxy_max_breadth(&back) != 7) /* exactly one value, ours */
			abort();
		if (sip_hdr_count(&m, SIP_HDR_VIA) >= 0 && count(&back, SIP_HDR_VIA) != count(&m, SIP_HDR_VIA) + 1)
			abort();
		/* The popped value gone, the pre-loaded one in front of the rest. */
		if (sip_hdr_count(&m, SIP_HDR_ROUTE) >= 0 && count(&back, SIP_HDR_ROUTE) != routes - (int)f.pop_routes + 1)
			abort();
	} else if (m.max_forwards != 0 && m.nhdrs + SIP_PROXY_ADDED_LINES <= SIP_MAX_HEADERS && n != SIP_ETOOBIG) {
		abort(); /* every parsed request with hops left and room for our lines can be forwarded */
	}
	/* A request with Max-Forwards 0 is never forwarded. */
	if (m.max_forwards == 0 && n >= 0)
		abort();
}

static void cancel(void)
{
	int n = sip_build_cancel(&m, out, sizeof(out));
	if (m.method_id != SIP_METHOD_INVITE) {
		if (n != SIP_EINVAL)
			abort();
		return;
	}
	if (n == SIP_ETOOBIG)
		return; /* more Route lines than a message may carry */
	if (n < 0)
		abort(); /* every parsed INVITE can be cancelled */
	unsigned lines = 8;
	for (uint16_t i = m.first[SIP_HDR_ROUTE]; i != SIP_HDR_NONE; i = m.hdrs[i].next)
		lines++;
	if (!within_caps(lines, n, &m))
		return;
	reparse(n, &m);
	if (back.method_id != SIP_METHOD_CANCEL || back.cseq.method_id != SIP_METHOD_CANCEL ||
	    !sip_str_eq(back.ruri_str, m.ruri_str) || count(&back, SIP_HDR_VIA) != 1 ||
	    !sip_str_eq(back.via.branch, m.via.branch) || back.content_length != 0)
		abort();
}

static void response_up(void)
{
	int vias = sip_hdr_count(&m, SIP_HDR_VIA);
	int n = sip_proxy_response_up(&m, out, sizeof(out));
	if (n < 0) {
		if (vias >= 2)
			abort(); /* a relayed response always fits OUT_CAP */
		return;
	}
	if (vias < 2)
		abort();
	/* Only the top Via is checked by the parser: when the value that
	 * becomes the top one is malformed, the relayed copy cannot parse
	 * (the caller, which needs that Via to send the response, finds it). */
	struct sip_hdr_iter it;
	struct sip_str v;
	struct sip_via second;
	sip_hdr_iter_init(&it, &m, SIP_HDR_VIA);
	if (sip_hdr_iter_next(&it, &v) != 1 || sip_hdr_iter_next(&it, &v) != 1 || sip_via_parse(&second, v, NULL) < 0)
		return;
	if (!within_caps(m.nhdrs + 1u, n, &m))
		return;
	reparse(n, &m);
	if (back.status != m.status || count(&back, SIP_HDR_VIA) != vias - 1)
		abort();
}

static bool all_ours(void *ud, const struct sip_via *v)
{
	(void)ud;
	return v->host.len > 0;
}

/* Loop detection and Max-Breadth on any request: defined answers, and a
 * request carrying a Via with its own hash is a loop. */
/* The realm whose credentials the forwarded copy loses (§22.3). */
#define REALM SIP_STR("example.com")

static void loops(void)
{
	int mb = sip_proxy_max_breadth(&m);
	if (mb != SIP_EPARSE && (mb < 0 || mb > SIP_PROXY_MAX_MAX_BREADTH))
		abort();
	int l = sip_proxy_loop_check(&m, REALM, all_ours, NULL);
	if (l != 0 && l != 1 && l != SIP_EPARSE)
		abort();
	char h[SIP_PROXY_LOOP_HASH_LEN + 1], token[SIP_PROXY_LOOP_HASH_LEN + 8], b[SIP_PROXY_BRANCH_MAX],
	    via[SIP_PROXY_BRANCH_MAX + 40];
	sip_proxy_loop_hash(&m, REALM, h);
	snprintf(token, sizeof(token), "%s.a1", h);
	int n = sip_proxy_branch(1, sip_str_c(token), b, sizeof(b));
	if (n < 0 || !sip_str_eq(sip_proxy_branch_loop_hash((struct sip_str){b, (size_t)n}), sip_str_c(h)))
		abort();
	/* Forwarded with our Via (and no Route: a strict router next would
	 * rewrite the routing fields), the copy hashes the same and is a loop. */
	if (m.first[SIP_HDR_ROUTE] != SIP_HDR_NONE)
		return;
	snprintf(via, sizeof(via), "SIP/2.0/UDP p.example.org;branch=%s", b);
	struct sip_proxy_fwd f = {.via = sip_str_c(via), .consume_realm = REALM};
	n = sip_proxy_forward(&m, &f, out, sizeof(out));
	if (n > 0 && within_caps(m.nhdrs + SIP_PROXY_ADDED_LINES, n, &m)) {
		reparse(n, &m);
		char h2[SIP_PROXY_LOOP_HASH_LEN + 1];
		sip_proxy_loop_hash(&back, REALM, h2);
		if (strcmp(h, h2) != 0 || sip_proxy_loop_check(&back, REALM, all_ours, NULL) != 1)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Any prefix of the input as a branch id: never a read past it, and
	 * a worker number only within range. */
	size_t bl = size < SIP_PROXY_BRANCH_MAX ? size : SIP_PROXY_BRANCH_MAX;
	int w = sip_proxy_branch_worker((struct sip_str){(const char *)data, bl});
	if (w < -1 || w > SIP_PROXY_MAX_WORKER)
		abort();
	if (w >= 0) {
		/* Ours: the same worker makes a branch that reads back the same. */
		char b[SIP_PROXY_BRANCH_MAX];
		int n = sip_proxy_branch((unsigned)w, SIP_STR("x"), b, sizeof(b));
		if (n < 0 || sip_proxy_branch_worker((struct sip_str){b, (size_t)n}) != w)
			abort();
	}

	if (sip_msg_parse(&m, (const char *)data, size, SIP_PARSE_DATAGRAM, NULL) < 0)
		return 0;
	if (m.is_request) {
		forward();
		cancel();
		loops();
		if (sip_proxy_response_up(&m, out, sizeof(out)) != SIP_EINVAL)
			abort();
	} else {
		response_up();
		struct sip_proxy_fwd f = {.via = SIP_STR("SIP/2.0/UDP p;branch=z9hG4bK-sd0-x")};
		if (sip_proxy_forward(&m, &f, out, sizeof(out)) != SIP_EINVAL)
			abort();
		if (sip_build_cancel(&m, out, sizeof(out)) != SIP_EINVAL)
			abort();
	}
	return 0;
}
