/* libFuzzer target: the transaction layer (src/transaction, RFC 3261 §17
 * with RFC 6026) driven by a script of network messages, client requests,
 * transport failures and clock steps — the matching, CANCEL, ACK and timer
 * paths every datagram from the network goes through.
 *
 * The input is a sequence of records, each an op byte and its operands
 * (flag: op / 6 is odd):
 *   op % 6 == 0  a message from the network: 2-byte length, then its bytes
 *                (parsed like the transport does; flag: over a stream)
 *   op % 6 == 1  a client transaction: INVITE (flag: OPTIONS) with branch
 *                z9hG4bKfz<d>, d the next byte % 10
 *   op % 6 == 2  the clock advances by (next byte) × 20 ms; timers fire
 *   op % 6 == 3  the next send fails (transport error paths)
 *   op % 6 == 4  a transport error on live transaction (next byte) % count
 *                (flag: the TU CANCELs it instead, sip_txn_client_cancelled)
 *   op % 6 == 5  the TU's next final status: 180-then-final, 200, 404, 486
 * The TU answers every request it is given (CANCEL with 200 and, when its
 * INVITE is still unanswered, 487 there) and at the end CANCELs every INVITE
 * of its own still without a final answer (as Timer C would), so what must
 * hold is liveness: once the clock runs past every timer, no transaction is
 * left (none can be stuck waiting for something that never comes). ASan and
 * LeakSanitizer check the rest. */
#include <sip/print.h>
#include <sip/txn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIVE 256

static struct sip_txn_layer *layer;
static sip_ms_t now;
static bool fail_next_send;
static bool debug; /* FUZZ_DEBUG=1: every send and event on stderr */
static int next_status;
static struct sip_txn *live[MAX_LIVE]; /* every transaction not yet terminated */
static size_t nlive;
/* Server transactions given a provisional answer only, with a copy of
 * their request: answered finally at the next clock step (or 487 when
 * CANCELled first). */
struct pending {
	struct sip_txn *t;
	char *req;
	size_t len;
};
static struct pending pending[MAX_LIVE];
static size_t npending;

static void forget_live(const struct sip_txn *t)
{
	for (size_t i = 0; i < nlive; i++)
		if (live[i] == t) {
			live[i] = live[--nlive];
			return;
		}
}

static int on_send(void *ctx, struct sip_txn *t, const char *bytes, size_t len, const struct sip_txn_dest *d)
{
	(void)ctx, (void)t, (void)d;
	if (len == 0)
		abort();
	if (debug)
		fprintf(stderr, "%6llu send %.*s%s\n", (unsigned long long)now, (int)strcspn(bytes, "\r"),
			bytes, fail_next_send ? " (fails)" : "");
	if (fail_next_send) {
		fail_next_send = false;
		return SIP_EIO;
	}
	return 0;
}

/* Answers the request of server transaction t with status. Returns what
 * sip_txn_respond() did: after a failed send t is gone. */
static int answer(struct sip_txn *t, const struct sip_msg *req, int status)
{
	char out[8192];
	struct sip_builder b;
	sip_build_init(&b, out, sizeof out);
	sip_build_response_head(&b, req, status, SIP_STR_NULL,
				status > 100 ? SIP_STR("fz-tag") : SIP_STR_NULL);
	sip_build_body(&b, SIP_STR_NULL, SIP_STR_NULL);
	int n = sip_build_finish(&b);
	if (n <= 0)
		abort(); /* every request the layer hands over can be answered */
	return sip_txn_respond(t, out, (size_t)n, now);
}

/* Gives pending entry i its final answer and drops it (the answer may end
 * the transaction, which calls back into on_event: drop first). */
static void answer_pending(size_t i, int status)
{
	struct pending p = pending[i];
	pending[i] = pending[--npending];
	struct sip_msg req;
	if (sip_msg_parse(&req, p.req, p.len, SIP_PARSE_DATAGRAM, NULL) <= 0)
		abort();		 /* it parsed when it arrived */
	(void)answer(p.t, &req, status); /* a CANCELled INVITE may have its final answer already */
	free(p.req);
}

static long find_pending(const struct sip_txn *t)
{
	for (size_t i = 0; i < npending; i++)
		if (pending[i].t == t)
			return (long)i;
	return -1;
}

static void on_request(struct sip_txn *t, const struct sip_msg *m)
{
	if (nlive == MAX_LIVE)
		abort(); /* max_txns (below) keeps the layer under this */
	live[nlive++] = t;
	if (m->method_id == SIP_METHOD_CANCEL) {
		struct sip_txn *inv = sip_txn_find_cancel_target(layer, m);
		(void)answer(t, m, inv ? 200 : 481);
		long i = inv ? find_pending(inv) : -1;
		if (i >= 0)
			answer_pending((size_t)i, 487);
		return;
	}
	int status = next_status ? next_status : 200;
	if (status != 180) {
		(void)answer(t, m, status);
		return;
	}
	if (answer(t, m, 180) != 0)
		return; /* the 180 could not be sent: the transaction is gone */
	char *copy = malloc(m->len);
	if (!copy)
		abort();
	memcpy(copy, m->buf, m->len);
	pending[npending++] = (struct pending){t, copy, m->len};
}

static void on_event(void *ctx, struct sip_txn *t, enum sip_txn_event ev, const struct sip_msg *m)
{
	(void)ctx;
	if (debug)
		fprintf(stderr, "%6llu event %d on %s %s\n", (unsigned long long)now, (int)ev,
			t ? sip_txn_kind_name(sip_txn_kind(t)) : "-",
			t ? sip_txn_state_name(sip_txn_state(t)) : "-");
	if (ev == SIP_TXN_EV_REQUEST) {
		on_request(t, m);
	} else if (ev == SIP_TXN_EV_TERMINATED) {
		forget_live(t);
		long i = find_pending(t);
		if (i >= 0) {
			free(pending[i].req);
			pending[i] = pending[--npending];
		}
	}
}

/* Runs the clock to ms later, answering the pending transactions first. */
static void advance(sip_ms_t ms)
{
	while (npending)
		answer_pending(npending - 1, 200);
	sip_ms_t end = now + ms;
	for (;;) {
		sip_ms_t d = sip_txn_next_deadline(layer);
		if (d == SIP_MS_NEVER || d > end)
			break;
		if (d > now)
			now = d;
		sip_txn_process_timers(layer, now);
	}
	now = end;
}

static void client_request(bool invite, unsigned digit)
{
	char buf[512];
	int n = snprintf(
	    buf, sizeof buf,
	    "%s sip:bob@example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfz%u\r\n"
	    "Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=fz\r\nTo: <sip:bob@example.com>\r\n"
	    "Call-ID: fz-call\r\nCSeq: 1 %s\r\nContent-Length: 0\r\n\r\n",
	    invite ? "INVITE" : "OPTIONS", digit, invite ? "INVITE" : "OPTIONS");
	struct sip_msg req;
	if (sip_msg_parse(&req, buf, (size_t)n, SIP_PARSE_DATAGRAM, NULL) <= 0)
		abort();
	static const struct sip_txn_dest to = {.addr = {192, 0, 2, 2}, .addr_len = 4, .transport = 1};
	struct sip_txn *t;
	if (nlive < MAX_LIVE - 1 && sip_txn_client_new(layer, &req, &to, now, &t) == 0)
		live[nlive++] = t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_txn_config cfg;
	sip_txn_config_default(&cfg);
	cfg.max_txns = MAX_LIVE / 2;
	cfg.hash_seed = 1;
	struct sip_txn_callbacks cb = {on_send, on_event, NULL};
	now = 1000;
	debug = getenv("FUZZ_DEBUG") != NULL;
	fail_next_send = false;
	next_status = 0;
	nlive = npending = 0;
	if (sip_txn_layer_new(&layer, &cfg, &cb) != 0)
		abort();

	static const int statuses[] = {180, 200, 404, 486};
	size_t i = 0;
	while (i < size) {
		uint8_t op = data[i++];
		uint8_t arg = i < size ? data[i] : 0;
		bool flag = (op / 6) & 1;
		switch (op % 6) {
		case 0: {
			if (i + 2 > size)
				goto done;
			size_t len = (size_t)data[i] << 8 | data[i + 1];
			i += 2;
			if (len > size - i)
				len = size - i;
			char *buf = malloc(len ? len : 1);
			if (!buf)
				abort();
			memcpy(buf, data + i, len);
			i += len;
			bool stream = flag;
			struct sip_msg m;
			if (sip_msg_parse(&m, buf, len,
					  (stream ? SIP_PARSE_STREAM : SIP_PARSE_DATAGRAM) |
					      SIP_PARSE_VALIDATE,
					  NULL) > 0) {
				struct sip_txn_dest src = {.addr = {192, 0, 2, 9},
							   .addr_len = 4,
							   .transport = stream ? 2 : 1,
							   .reliable = stream,
							   .conn = stream ? 7 : 0};
				(void)sip_txn_on_message(layer, &m, &src, now);
			}
			free(buf); /* the layer keeps nothing of it: ASan would tell */
			break;
		}
		case 1:
			i++;
			client_request(!flag, arg % 10);
			break;
		case 2:
			i++;
			advance((sip_ms_t)arg * 20);
			break;
		case 3:
			fail_next_send = true;
			break;
		case 4:
			i++;
			if (nlive && flag)
				(void)sip_txn_client_cancelled(live[arg % nlive],
							       now); /* SIP_EINVAL if no ICT */
			else if (nlive)
				sip_txn_on_transport_error(live[arg % nlive], now);
			break;
		case 5:
			i++;
			next_status = statuses[arg % 4];
			break;
		}
	}
done:
	for (size_t k = 0; k < nlive; k++)
		if (sip_txn_kind(live[k]) == SIP_TXN_ICT)
			(void)sip_txn_client_cancelled(live[k], now);
	/* Liveness: past every timer (Timer B/F/H/J/K/L are at most 64 × T1,
	 * T4 or T2-bounded), nothing may be left. */
	advance(3600 * 1000);
	advance(3600 * 1000);
	if (sip_txn_layer_count(layer) != 0 || nlive != 0)
		abort();
	sip_txn_layer_free(layer);
	return 0;
}
