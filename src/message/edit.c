/* edit.c — the message editor: records edits against a parsed message and
 * prints it with every untouched byte identical to the original (a proxy
 * forwards what it does not understand exactly as received).
 *
 * Edits address original header lines by index. At print time each line is
 * preceded by the lines inserted before it, then copied verbatim, rewritten
 * (REPLACE: original name bytes, new value) or dropped (REMOVE). Bytes the
 * parser kept between lines, the blank line and the body are copied as they
 * were. */
#include <string.h>

#include <sip/print.h>
#include "message/print_int.h"
#include "message/validate_int.h"

void sip_edit_init(struct sip_edit *e, const struct sip_msg *m)
{
	memset(e, 0, sizeof(*e));
	e->m = m;
	if (!m || m->nhdrs > SIP_MAX_HEADERS)
		e->err = SIP_EINVAL;
}

static void fail(struct sip_edit *e, int err)
{
	if (!e->err)
		e->err = err;
}

static struct sip_edit_op *add_op(struct sip_edit *e, enum sip_edit_kind kind, uint16_t idx,
				  struct sip_str name, struct sip_str value)
{
	struct sip_edit_op *op;

	if (e->err)
		return NULL;
	if (kind == SIP_EDIT_INSERT ? idx > e->m->nhdrs : idx >= e->m->nhdrs) {
		fail(e, SIP_EINVAL);
		return NULL;
	}
	if (e->nops >= SIP_MAX_EDITS) {
		fail(e, SIP_ETOOBIG);
		return NULL;
	}
	op = &e->ops[e->nops++];
	op->kind = kind;
	op->idx = idx;
	op->name = name;
	op->value = value;
	return op;
}

/* The REMOVE/REPLACE op in force for line idx (the latest wins), or NULL. */
static struct sip_edit_op *line_op(const struct sip_edit *e, uint16_t idx)
{
	for (unsigned k = e->nops; k-- > 0;) {
		const struct sip_edit_op *op = &e->ops[k];
		if (op->idx == idx && op->kind != SIP_EDIT_INSERT)
			return (struct sip_edit_op *)op;
	}
	return NULL;
}

static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* What follows the first element of a comma-separated value: the remaining
 * elements as their original bytes (leading separators and LWS skipped), or
 * an empty slice. Commas inside quoted strings, <...> and (comments) do not
 * separate (a display name or a URI may hold one), as in sip_hdr_iter. */
static struct sip_str after_first_value(struct sip_str v)
{
	size_t i = sip__list_element_end(v, 0);
	while (i < v.len && (v.p[i] == ',' || is_lws(v.p[i])))
		i++;
	if (i >= v.len)
		return SIP_STR_NULL;
	return (struct sip_str){v.p + i, v.len - i};
}

/* The elements of a comma-separated value before its last one (trailing
 * separators and LWS dropped), or empty when it has a single element. */
static struct sip_str before_last_value(struct sip_str v)
{
	size_t last = 0, i = 0;
	bool found = false;
	while ((i = sip__list_element_end(v, i)) < v.len) {
		/* A comma with only separators after it ends nothing. */
		size_t j = i + 1;
		while (j < v.len && (v.p[j] == ',' || is_lws(v.p[j])))
			j++;
		if (j < v.len) {
			last = i;
			found = true;
		}
		i++;
	}
	if (!found)
		return SIP_STR_NULL;
	while (last > 0 && (v.p[last - 1] == ',' || is_lws(v.p[last - 1])))
		last--;
	return (struct sip_str){v.p, last};
}

/* Takes the first (or last) value off header line i as edited so far: the
 * line is rewritten with the rest, or removed when it was the only one.
 * False when the line holds no value (removed already, or empty: the
 * iterator skips an empty line too, and it is left as it is). */
static bool pop_line_value(struct sip_edit *e, uint16_t i, bool last)
{
	struct sip_edit_op *op = line_op(e, i);
	if (op && op->kind == SIP_EDIT_REMOVE)
		return false;
	struct sip_str cur = op ? op->value : e->m->hdrs[i].value;
	if (!cur.len)
		return false;
	struct sip_str rest = last ? before_last_value(cur) : after_first_value(cur);
	if (op) {
		op->kind = rest.len ? SIP_EDIT_REPLACE : SIP_EDIT_REMOVE;
		op->value = rest;
	} else {
		add_op(e, rest.len ? SIP_EDIT_REPLACE : SIP_EDIT_REMOVE, i, SIP_STR_NULL, rest);
	}
	return true;
}

/* Removes the first value of header kind id still present after the edits so
 * far: its line is rewritten with the remaining values, or removed. */
static void pop_first(struct sip_edit *e, enum sip_hdr_id id)
{
	const struct sip_msg *m = e->m;
	unsigned guard = 0;

	if (e->err)
		return;
	for (uint16_t i = m->first[id]; i != SIP_HDR_NONE && i < m->nhdrs && guard++ < SIP_MAX_HEADERS;
	     i = m->hdrs[i].next) {
		if (pop_line_value(e, i, false))
			return;
	}
	fail(e, SIP_ENOTFOUND);
}

/* Removes the last value of header kind id still present after the edits so
 * far (a strict router's Request-URI, §16.4). */
static void pop_last(struct sip_edit *e, enum sip_hdr_id id)
{
	const struct sip_msg *m = e->m;
	uint16_t lines[SIP_MAX_HEADERS];
	unsigned n = 0;
	if (e->err)
		return;
	for (uint16_t i = m->first[id]; i != SIP_HDR_NONE && i < m->nhdrs && n < SIP_MAX_HEADERS; i = m->hdrs[i].next)
		lines[n++] = i;
	while (n--) {
		if (pop_line_value(e, lines[n], true))
			return;
	}
	fail(e, SIP_ENOTFOUND);
}

void sip_edit_pop_last_route(struct sip_edit *e)
{
	pop_last(e, SIP_HDR_ROUTE);
}

void sip_edit_push_via(struct sip_edit *e, struct sip_str value)
{
	uint16_t at;

	if (e->err)
		return;
	/* §16.6 step 8: the new value goes before the existing Via values, so
	 * the line is inserted right before the first Via line (on top of the
	 * header section when there is none). */
	at = e->m->first[SIP_HDR_VIA];
	if (at == SIP_HDR_NONE || at > e->m->nhdrs)
		at = 0;
	if (!add_op(e, SIP_EDIT_INSERT, at, SIP_STR("Via"), value))
		return;
	/* Inserts at one index print in op order; a pushed Via goes first so
	 * that the latest push is the topmost value. */
	struct sip_edit_op top = e->ops[e->nops - 1];
	memmove(&e->ops[1], &e->ops[0], (e->nops - 1) * sizeof(e->ops[0]));
	e->ops[0] = top;
}

void sip_edit_pop_via(struct sip_edit *e)
{
	pop_first(e, SIP_HDR_VIA);
}

void sip_edit_pop_route(struct sip_edit *e)
{
	pop_first(e, SIP_HDR_ROUTE);
}

void sip_edit_set_ruri(struct sip_edit *e, struct sip_str ruri)
{
	if (e->err)
		return;
	if (!e->m->is_request || !ruri.len || !ruri.p) {
		fail(e, SIP_EINVAL);
		return;
	}
	for (size_t i = 0; i < ruri.len; i++) {
		char c = ruri.p[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0') {
			fail(e, SIP_EINVAL);
			return;
		}
	}
	e->ruri = ruri;
}

void sip_edit_add_header(struct sip_edit *e, struct sip_str name, struct sip_str value)
{
	if (!e->err)
		add_op(e, SIP_EDIT_INSERT, e->m->nhdrs, name, value);
}

void sip_edit_insert_header(struct sip_edit *e, uint16_t idx, struct sip_str name, struct sip_str value)
{
	add_op(e, SIP_EDIT_INSERT, idx, name, value);
}

void sip_edit_remove_header(struct sip_edit *e, uint16_t idx)
{
	add_op(e, SIP_EDIT_REMOVE, idx, SIP_STR_NULL, SIP_STR_NULL);
}

void sip_edit_replace_value(struct sip_edit *e, uint16_t idx, struct sip_str value)
{
	add_op(e, SIP_EDIT_REPLACE, idx, SIP_STR_NULL, value);
}

void sip_edit_set_body(struct sip_edit *e, struct sip_str body)
{
	if (e->err)
		return;
	if ((body.len && !body.p) || body.len > UINT32_MAX) {
		fail(e, SIP_EINVAL);
		return;
	}
	e->body = body;
	e->has_body = true;
}

static void emit_inserts(const struct sip_edit *e, struct sip_builder *b, uint16_t idx)
{
	for (unsigned k = 0; k < e->nops; k++)
		if (e->ops[k].kind == SIP_EDIT_INSERT && e->ops[k].idx == idx)
			sip_build_header(b, e->ops[k].name, e->ops[k].value);
}

static void emit_content_length(struct sip_builder *b, struct sip_str name, uint32_t n)
{
	sip__build_put(b, name.p, name.len);
	sip__build_put(b, ": ", 2);
	sip__build_u32(b, n);
	sip__build_put(b, "\r\n", 2);
}

/* The first Content-Length line that survives the edits, or -1. */
static int content_length_line(const struct sip_edit *e)
{
	const struct sip_msg *m = e->m;
	unsigned guard = 0;

	for (uint16_t i = m->first[SIP_HDR_CONTENT_LENGTH];
	     i != SIP_HDR_NONE && i < m->nhdrs && guard++ < SIP_MAX_HEADERS; i = m->hdrs[i].next) {
		const struct sip_edit_op *op = line_op(e, i);
		if (!op || op->kind != SIP_EDIT_REMOVE)
			return i;
	}
	return -1;
}

/* The offsets the printer relies on must describe the buffer the parser saw:
 * ordered, inside m->len. Checked rather than trusted so that a hand-made or
 * corrupted sip_msg cannot make the printer read out of bounds. */
static bool layout_ok(const struct sip_msg *m, size_t *sl_end)
{
	size_t pos, x;

	if (!m->buf || m->nhdrs > SIP_MAX_HEADERS || !m->start_line.p || m->start_line.p < m->buf ||
	    (size_t)(m->start_line.p - m->buf) > m->len ||
	    m->start_line.len > m->len - (size_t)(m->start_line.p - m->buf))
		return false;
	x = (size_t)(m->start_line.p - m->buf) + m->start_line.len;
	if (x < m->len && m->buf[x] == '\r')
		x++;
	if (x < m->len && m->buf[x] == '\n')
		x++;
	*sl_end = x;
	pos = x;
	for (unsigned i = 0; i < m->nhdrs; i++) {
		const struct sip_hdr *h = &m->hdrs[i];
		if (h->line_off < pos || h->line_off > m->len || h->line_len > m->len - h->line_off)
			return false;
		pos = h->line_off + h->line_len;
	}
	if (m->body_off < pos || m->body_off > m->len)
		return false;
	if (m->body.len && (m->body.p != m->buf + m->body_off || m->body.len > m->len - m->body_off))
		return false;
	if (m->is_request && m->ruri_str.len &&
	    (m->ruri_str.p < m->start_line.p ||
	     m->ruri_str.p + m->ruri_str.len > m->start_line.p + m->start_line.len))
		return false;
	return true;
}

/* Header line `name: value` for a REPLACE op. A value that is still the
 * message's own bytes (what popping a list value leaves) goes out as it
 * arrived: the parser accepted it, and it may hold what a new value may not
 * (a NUL in a quoted-pair, §25.1; an obs-fold). */
static void emit_replace(const struct sip_msg *m, struct sip_builder *b, struct sip_str name, struct sip_str value)
{
	if (value.p < m->buf || value.p + value.len > m->buf + m->len) {
		sip_build_header(b, name, value);
		return;
	}
	sip__build_put(b, name.p, name.len);
	sip__build_put(b, ": ", 2);
	sip__build_put(b, value.p, value.len);
	sip__build_put(b, "\r\n", 2);
}

int sip_edit_print(const struct sip_edit *e, char *out, size_t cap)
{
	const struct sip_msg *m = e->m;
	struct sip_builder b;
	size_t pos = 0, sl_end, hdr_end;
	bool fix_cl, edited;
	uint32_t body_len;
	int cl_line = -1;

	if (!m)
		return SIP_EINVAL;
	if (e->err)
		return e->err;
	if (!layout_ok(m, &sl_end))
		return SIP_EINVAL;
	for (unsigned k = 0; k < e->nops; k++) {
		const struct sip_edit_op *op = &e->ops[k];
		if (op->kind == SIP_EDIT_INSERT ? op->idx > m->nhdrs : op->idx >= m->nhdrs)
			return SIP_EINVAL;
	}
	if (e->ruri.len && (!m->is_request || !m->ruri_str.p))
		return SIP_EINVAL;

	sip_build_init(&b, out, cap);
	if (e->ruri.len) {
		/* Method, spacing and version bytes stay; only the URI changes. */
		size_t ro = (size_t)(m->ruri_str.p - m->buf);
		sip__build_put(&b, m->buf, ro);
		sip__build_put(&b, e->ruri.p, e->ruri.len);
		pos = ro + m->ruri_str.len;
	}

	/* §18.3/§20.14: a message that may travel over a stream needs a
	 * Content-Length matching its body. */
	fix_cl = e->has_body || !m->has_content_length;
	body_len = e->has_body ? (uint32_t)e->body.len : (uint32_t)m->body.len;
	if (fix_cl)
		cl_line = content_length_line(e);

	for (uint16_t i = 0; i < m->nhdrs; i++) {
		const struct sip_hdr *h = &m->hdrs[i];
		const struct sip_edit_op *op = line_op(e, i);

		sip__build_put(&b, m->buf + pos, h->line_off - pos);
		emit_inserts(e, &b, i);
		if (i == cl_line)
			emit_content_length(&b, h->name, body_len);
		else if (op && op->kind == SIP_EDIT_REPLACE)
			emit_replace(m, &b, h->name, op->value);
		else if (!op)
			sip__build_put(&b, m->buf + h->line_off, h->line_len);
		pos = h->line_off + h->line_len;
	}
	hdr_end = m->nhdrs ? pos : sl_end;
	if (hdr_end > pos)
		sip__build_put(&b, m->buf + pos, hdr_end - pos);
	emit_inserts(e, &b, m->nhdrs);
	if (fix_cl && cl_line < 0)
		emit_content_length(&b, SIP_STR("Content-Length"), body_len);

	edited = e->nops || e->ruri.len || fix_cl;
	if (m->body_off > hdr_end)
		sip__build_put(&b, m->buf + hdr_end, m->body_off - hdr_end);
	else if (edited)
		sip__build_put(&b, "\r\n", 2); /* the original lacked the empty line */
	if (e->has_body)
		sip__build_put(&b, e->body.p, e->body.len);
	else
		sip__build_put(&b, m->body.p, m->body.len);
	return sip_build_finish(&b);
}
