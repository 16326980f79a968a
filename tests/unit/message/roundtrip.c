/* Round-trip tests of the editor over the RFC 4475 messages that must parse:
 * printing with no edits gives back the message's bytes exactly; a proxy's
 * edits (Via pushed on top, a Route popped, Request-URI rewritten, a header
 * added) give a message that re-parses with every untouched line identical. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sip/print.h>

#define MAX_FILE (64 * 1024)
#define MAX_FILES 64

struct corpus {
	char names[MAX_FILES][64];
	unsigned n;
};

static size_t read_file(const char *name, char *buf, size_t cap)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/rfc4475/%s", SIP_TEST_DATA, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(buf, 1, cap, f);
	assert_true(n < cap);
	fclose(f);
	return n;
}

/* Names of the files whose verdict in expected.tsv is `valid`. */
static void load_valid(struct corpus *c)
{
	char path[512], line[1024];
	snprintf(path, sizeof(path), "%s/rfc4475/expected.tsv", SIP_TEST_DATA);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	c->n = 0;
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t');
		if (!tab || strncmp(tab + 1, "valid\t", 6) != 0)
			continue;
		assert_true(c->n < MAX_FILES);
		size_t len = (size_t)(tab - line);
		assert_true(len < sizeof(c->names[0]));
		memcpy(c->names[c->n], line, len);
		c->names[c->n][len] = 0;
		c->n++;
	}
	fclose(f);
	assert_int_equal(c->n, 13); /* RFC 4475 §3.1.1 */
}

static void test_identity(void **state)
{
	(void)state;
	struct corpus c;
	char *buf = malloc(MAX_FILE), *out = malloc(2 * MAX_FILE);
	struct sip_msg *m = malloc(sizeof(*m));
	struct sip_edit *e = malloc(sizeof(*e));

	load_valid(&c);
	for (unsigned i = 0; i < c.n; i++) {
		size_t n = read_file(c.names[i], buf, MAX_FILE);
		struct sip_parse_err err = {0};
		int rc = sip_msg_parse(m, buf, n, SIP_PARSE_DATAGRAM, &err);
		if (rc <= 0)
			fprintf(stderr, "%s: %d %s at %zu\n", c.names[i], rc, err.reason ? err.reason : "", err.offset);
		assert_true(rc > 0);
		assert_int_equal((size_t)rc, m->len);
		sip_edit_init(e, m);
		int w = sip_edit_print(e, out, 2 * MAX_FILE);
		if (w != (int)m->len || memcmp(out, buf, m->len) != 0)
			fprintf(stderr, "%s: not identical (%d vs %zu)\n", c.names[i], w, m->len);
		assert_int_equal(w, (int)m->len);
		assert_memory_equal(out, buf, m->len);
	}
	free(e);
	free(m);
	free(out);
	free(buf);
}

static bool line_eq(const struct sip_msg *a, unsigned i, const struct sip_msg *b, unsigned j)
{
	return a->hdrs[i].line_len == b->hdrs[j].line_len &&
	       memcmp(a->buf + a->hdrs[i].line_off, b->buf + b->hdrs[j].line_off, a->hdrs[i].line_len) == 0;
}

/* How many values of line i's header kind sit on line i. */
static unsigned values_in_line(const struct sip_msg *m, unsigned i)
{
	struct sip_hdr_iter it;
	struct sip_str v, lv = m->hdrs[i].value;
	unsigned n = 0;

	sip_hdr_iter_init(&it, m, (enum sip_hdr_id)m->hdrs[i].id);
	while (sip_hdr_iter_next(&it, &v) == 1)
		if (v.p >= lv.p && v.p < lv.p + lv.len)
			n++;
	return n;
}

static void test_proxy_edits(void **state)
{
	(void)state;
	struct corpus c;
	char *buf = malloc(MAX_FILE), *out = malloc(2 * MAX_FILE);
	struct sip_msg *m = malloc(sizeof(*m)), *r = malloc(sizeof(*r));
	struct sip_edit *e = malloc(sizeof(*e));
	const struct sip_str via = SIP_STR("SIP/2.0/TCP proxy.example.net:5060;branch=z9hG4bK-rt-1");
	const struct sip_str ruri = SIP_STR("sip:rewritten@192.0.2.77:5080;transport=tcp");
	const struct sip_str xname = SIP_STR("X-Roundtrip"), xval = SIP_STR("yes; n=1");
	unsigned popped_total = 0;

	load_valid(&c);
	for (unsigned f = 0; f < c.n; f++) {
		size_t n = read_file(c.names[f], buf, MAX_FILE);
		struct sip_parse_err err = {0};
		assert_true(sip_msg_parse(m, buf, n, SIP_PARSE_DATAGRAM, &err) > 0);

		sip_edit_init(e, m);
		uint16_t via_at = m->first[SIP_HDR_VIA] == SIP_HDR_NONE ? 0 : m->first[SIP_HDR_VIA];
		uint16_t route_at = m->first[SIP_HDR_ROUTE];
		if (m->nhdrs + 2 > SIP_MAX_HEADERS)
			continue;
		sip_edit_push_via(e, via);
		if (route_at != SIP_HDR_NONE)
			sip_edit_pop_route(e);
		if (m->is_request)
			sip_edit_set_ruri(e, ruri);
		sip_edit_add_header(e, xname, xval);
		assert_int_equal(e->err, 0);
		int w = sip_edit_print(e, out, 2 * MAX_FILE);
		assert_true(w > 0);

		int rc = sip_msg_parse(r, out, (size_t)w, SIP_PARSE_DATAGRAM, &err);
		if (rc != w)
			fprintf(stderr, "%s: re-parse %d: %s at %zu\n%.*s\n", c.names[f], rc,
				err.reason ? err.reason : "", err.offset, w, out);
		assert_int_equal(rc, w);

		/* Start line. */
		assert_int_equal(r->is_request, m->is_request);
		if (m->is_request) {
			assert_true(sip_str_eq(r->ruri_str, ruri));
			assert_true(sip_str_eq(r->method, m->method));
			assert_true(sip_str_eq(r->version, m->version));
		} else {
			assert_true(sip_str_eq(r->start_line, m->start_line));
		}
		/* The top Via is ours. */
		assert_true(sip_str_eq(r->via.raw, via));
		assert_true(sip_str_eq(r->via.branch, SIP_STR("z9hG4bK-rt-1")));

		/* Walk both header lists side by side. */
		unsigned j = 0;
		for (unsigned i = 0; i < m->nhdrs; i++) {
			if (i == via_at) {
				assert_int_equal(r->hdrs[j].id, SIP_HDR_VIA);
				assert_true(sip_str_eq(r->hdrs[j].value, via));
				j++;
			}
			if (i == route_at) {
				/* The first Route value is gone: a one-value line
				 * vanished, a list line keeps the tail of its bytes. */
				popped_total++;
				assert_int_equal(sip_hdr_count(r, SIP_HDR_ROUTE), sip_hdr_count(m, SIP_HDR_ROUTE) - 1);
				if (values_in_line(m, i) > 1) {
					struct sip_str ov = m->hdrs[i].value, nv = r->hdrs[j].value;
					assert_int_equal(r->hdrs[j].id, SIP_HDR_ROUTE);
					assert_true(nv.len > 0 && nv.len < ov.len);
					assert_memory_equal(ov.p + ov.len - nv.len, nv.p, nv.len);
					j++;
				}
				continue;
			}
			assert_true(j < r->nhdrs);
			if (!line_eq(m, i, r, j))
				fprintf(stderr, "%s: line %u differs\n", c.names[f], i);
			assert_true(line_eq(m, i, r, j));
			j++;
		}
		assert_int_equal(j + 1, r->nhdrs);
		assert_true(sip_str_eq(r->hdrs[j].name, xname));
		assert_true(sip_str_eq(r->hdrs[j].value, xval));
		/* Body bytes unchanged. */
		assert_int_equal(r->body.len, m->body.len);
		if (m->body.len)
			assert_memory_equal(r->body.p, m->body.p, m->body.len);
	}
	assert_int_equal(popped_total, 2); /* wsinv and mpart01 carry a Route */
	free(e);
	free(r);
	free(m);
	free(out);
	free(buf);
}

/* Every prefix of the output buffer is refused with SIP_ETOOBIG, never overrun. */
static void test_small_buffers(void **state)
{
	(void)state;
	char *buf = malloc(MAX_FILE), *out = malloc(MAX_FILE + 64);
	struct sip_msg *m = malloc(sizeof(*m));
	struct sip_edit *e = malloc(sizeof(*e));
	size_t n = read_file("wsinv.dat", buf, MAX_FILE);
	struct sip_parse_err err = {0};

	assert_true(sip_msg_parse(m, buf, n, SIP_PARSE_DATAGRAM, &err) > 0);
	sip_edit_init(e, m);
	sip_edit_push_via(e, SIP_STR("SIP/2.0/UDP p;branch=z9hG4bKq"));
	sip_edit_pop_route(e);
	sip_edit_set_body(e, SIP_STR("x"));
	int full = sip_edit_print(e, out, MAX_FILE);
	assert_true(full > 0);
	for (int cap = 0; cap < full; cap++) {
		memset(out, 0x77, (size_t)full + 64);
		assert_int_equal(sip_edit_print(e, out, (size_t)cap), SIP_ETOOBIG);
		for (int k = cap; k < full + 64; k++)
			assert_int_equal((unsigned char)out[k], 0x77);
	}
	free(e);
	free(m);
	free(out);
	free(buf);
}

/* inv2543.dat (RFC 2543 style, §3.4.1) has no Content-Length: the body is
 * the rest of the datagram. Printed, it gains a correct Content-Length after
 * its last header and is otherwise byte-identical. */
static void test_missing_content_length(void **state)
{
	(void)state;
	char *buf = malloc(MAX_FILE), *out = malloc(MAX_FILE + 64), *want = malloc(MAX_FILE + 64);
	struct sip_msg *m = malloc(sizeof(*m));
	struct sip_edit *e = malloc(sizeof(*e));
	size_t n = read_file("inv2543.dat", buf, MAX_FILE);
	struct sip_parse_err err = {0};

	assert_true(sip_msg_parse(m, buf, n, SIP_PARSE_DATAGRAM, &err) > 0);
	assert_false(m->has_content_length);
	assert_int_equal(m->body.len, 105);
	size_t hdr_end = m->hdrs[m->nhdrs - 1].line_off + m->hdrs[m->nhdrs - 1].line_len;
	const char *cl = "Content-Length: 105\r\n";
	memcpy(want, buf, hdr_end);
	memcpy(want + hdr_end, cl, strlen(cl));
	memcpy(want + hdr_end + strlen(cl), buf + hdr_end, m->len - hdr_end);
	sip_edit_init(e, m);
	int w = sip_edit_print(e, out, MAX_FILE + 64);
	assert_int_equal(w, (int)(m->len + strlen(cl)));
	assert_memory_equal(out, want, (size_t)w);

	/* The printed message now frames on a stream too. */
	struct sip_msg *r = malloc(sizeof(*r));
	assert_int_equal(sip_msg_parse(r, out, (size_t)w, SIP_PARSE_STREAM, &err), w);
	assert_true(r->has_content_length);
	assert_int_equal(r->content_length, 105);
	free(r);
	free(e);
	free(m);
	free(want);
	free(out);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_proxy_edits),
		cmocka_unit_test(test_small_buffers),
		cmocka_unit_test(test_missing_content_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
