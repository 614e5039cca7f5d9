#include "emit.h"

#include <errno.h>
#include <stdio.h>
#include <yaml.h>

static int write_cb(void *data, unsigned char *buffer, size_t size)
{
	buf_add(data, (const char *)buffer, size);
	return 1;
}

static yaml_scalar_style_t style_for(const struct node *n)
{
	if (n->tag != TAG_STR)
		return YAML_PLAIN_SCALAR_STYLE;
	if (scalar_resolve(n->str) != TAG_STR || streq(n->str, "<<"))
		return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (strchr(n->str, '\n'))
		return YAML_LITERAL_SCALAR_STYLE;
	/* the 1.1 booleans other readers (PyYAML, old Go yaml) would take as bool */
	static const char *const words[] = {"y",  "Y",  "yes", "Yes", "YES", "n",   "N",   "no",
					    "No", "NO", "on",  "On",  "ON",  "off", "Off", "OFF"};
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (streq(n->str, words[i]))
			return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	return YAML_ANY_SCALAR_STYLE;
}

static int emit_raw(const struct node *n, struct buf *out, struct berr **err);

static int emit(yaml_emitter_t *em, yaml_event_t *ev) { return yaml_emitter_emit(em, ev) ? 0 : -EIO; }

static int emit_scalar(yaml_emitter_t *em, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;
	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1, style);
	return emit(em, &ev);
}

static int emit_node(yaml_emitter_t *em, const struct node *n)
{
	yaml_event_t ev;
	if (n->kind == NODE_SCALAR) {
		long long v;
		char dec[32];
		const char *text = n->tag == TAG_NULL ? "null" : n->str;
		if (n->tag == TAG_INT && node_int(n, &v) == 0) { /* 0440 and 0x1F print in decimal */
			snprintf(dec, sizeof(dec), "%lld", v);
			text = dec;
		}
		return emit_scalar(em, text, style_for(n));
	}
	bool flow = n->n == 0;
	if (n->kind == NODE_SEQ)
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
						     flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
	else
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
						    flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
	int r = emit(em, &ev);
	for (size_t i = 0; r == 0 && i < n->n; i++) {
		if (n->kind == NODE_MAP) {
			struct node key = {.kind = NODE_SCALAR, .tag = TAG_STR, .str = n->pairs[i].key};
			r = emit_scalar(em, key.str, style_for(&key));
			if (r == 0)
				r = emit_node(em, n->pairs[i].val);
		} else {
			r = emit_node(em, n->items[i]);
		}
	}
	if (r < 0)
		return r;
	if (n->kind == NODE_SEQ)
		yaml_sequence_end_event_initialize(&ev);
	else
		yaml_mapping_end_event_initialize(&ev);
	return emit(em, &ev);
}

static size_t indent_of(const char *line) { return strspn(line, " "); }

/* Where a line's content begins, past its indentation and any "- ". */
static size_t content_col(const char *line)
{
	size_t c = indent_of(line);
	while (line[c] == '-' && line[c + 1] == ' ')
		c += 2;
	return c;
}

/* libyaml writes a block sequence that is a mapping's value at the key's
 * own indentation; docker compose (Go's yaml) indents it by two more.
 * Each such sequence, with all it holds, is moved right by two. */
static void indent_sequences(const char *in, struct buf *out)
{
	size_t open[64], depth = 0; /* the original columns of the sequences being moved */
	const char *line = in;
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		size_t i = indent_of(line);
		bool dash = line[i] == '-' && line[i + 1] == ' ';
		while (depth && !(i > open[depth - 1] || (i == open[depth - 1] && dash)))
			depth--;
		for (size_t k = 0; k < depth; k++)
			buf_puts(out, "  ");
		buf_add(out, line, len);
		buf_putc(out, '\n');
		const char *next = end ? end + 1 : line + len;
		/* "key:" whose value is a block sequence at the key's column */
		size_t col = content_col(line);
		if (len && line[len - 1] == ':' && *next && indent_of(next) == col && next[col] == '-' &&
		    next[col + 1] == ' ' && depth < ARRAY_SIZE(open))
			open[depth++] = col;
		line = next;
	}
}

int emit_yaml(const struct node *n, struct buf *out, struct berr **err)
{
	struct buf raw = {0};
	int r = emit_raw(n, &raw, err);
	if (r == 0)
		indent_sequences(raw.s ? raw.s : "", out);
	buf_free(&raw);
	return r;
}

/* One YAML document into out, its content written by body(em, arg);
 * *problem is libyaml's word when it fails. */
static int emit_doc(struct buf *out, int (*body)(yaml_emitter_t *, const void *), const void *arg, const char **problem)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	yaml_emitter_initialize(&em);
	yaml_emitter_set_output(&em, write_cb, out);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_indent(&em, 2);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	int r = emit(&em, &ev);
	if (r == 0) {
		yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
		r = emit(&em, &ev);
	}
	if (r == 0)
		r = body(&em, arg);
	if (r == 0) {
		yaml_document_end_event_initialize(&ev, 1);
		r = emit(&em, &ev);
	}
	if (r == 0) {
		yaml_stream_end_event_initialize(&ev);
		r = emit(&em, &ev);
	}
	*problem = em.problem ? em.problem : "emitter error";
	yaml_emitter_delete(&em);
	return r;
}

static int node_body(yaml_emitter_t *em, const void *n) { return emit_node(em, n); }

static int emit_raw(const struct node *n, struct buf *out, struct berr **err)
{
	const char *problem;
	int r = emit_doc(out, node_body, n, &problem);
	return r < 0 ? berr_set(err, EIO, "cannot write YAML: %s", problem) : 0;
}

/* ---- yaml.v3's layout ---- */

struct styled {
	const char *text;
	yaml_scalar_style_t style;
};

static int styled_body(yaml_emitter_t *em, const void *arg)
{
	const struct styled *sc = arg;
	yaml_event_t ev;
	yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
	int r = emit(em, &ev);
	if (r == 0)
		r = emit_scalar(em, "x", YAML_PLAIN_SCALAR_STYLE);
	if (r == 0)
		r = emit_scalar(em, sc->text, sc->style);
	if (r == 0) {
		yaml_mapping_end_event_initialize(&ev);
		r = emit(em, &ev);
	}
	return r;
}

/* How libyaml writes the scalar n as a mapping's value: "x: TEXT\n", or
 * for a literal block "x: |-\n  line\n…". */
static int scalar_alone(const struct node *n, yaml_scalar_style_t style, struct buf *out)
{
	long long v;
	char dec[32];
	struct styled sc = {n->tag == TAG_NULL ? "null" : n->str, style};
	if (n->tag == TAG_INT && node_int(n, &v) == 0) {
		snprintf(dec, sizeof(dec), "%lld", v);
		sc.text = dec;
	}
	const char *problem;
	return emit_doc(out, styled_body, &sc, &problem);
}

/* yaml.v3's next level: the next multiple of four (a sequence item's
 * content is the exception: two past its "- "). */
static int v3_deeper(int indent) { return 4 * ((indent + 4) / 4); }

static void spaces(struct buf *out, int n)
{
	for (int i = 0; i < n; i++)
		buf_putc(out, ' ');
}

/* A scalar after "key: " or "- "; block lines go at content_indent. */
static int v3_scalar(const struct node *n, int content_indent, struct buf *out)
{
	if (n->flags & NF_VERBATIM) {
		buf_puts(out, n->str);
		buf_putc(out, '\n');
		return 0;
	}
	yaml_scalar_style_t style = style_for(n);
	if (n->flags & NF_QUOTED && n->tag == TAG_STR && style != YAML_LITERAL_SCALAR_STYLE)
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (style == YAML_LITERAL_SCALAR_STYLE && n->str[0] == ' ') /* would need an indentation indicator */
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	struct buf one = {0};
	int r = scalar_alone(n, style, &one);
	if (r < 0 || !one.s || !startswith(one.s, "x: ")) {
		buf_free(&one);
		return r < 0 ? r : -EIO;
	}
	const char *text = one.s + 3, *nl = strchr(text, '\n');
	buf_add(out, text, nl ? (size_t)(nl - text) + 1 : strlen(text));
	for (const char *line = nl ? nl + 1 : ""; *line;) { /* a literal block's lines, two in */
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (len > 2) {
			spaces(out, content_indent);
			buf_add(out, line + 2, len - 2);
		}
		buf_putc(out, '\n');
		line = end ? end + 1 : line + len;
	}
	buf_free(&one);
	return 0;
}

static int v3_node(const struct node *n, int indent, bool first_inline, struct buf *out);

/* A collection or scalar as the value after "key:" (a mapping at indent). */
static int v3_value(const struct node *v, int indent, struct buf *out)
{
	int deeper = v3_deeper(indent);
	if (v->kind == NODE_SCALAR) {
		buf_putc(out, ' ');
		return v3_scalar(v, deeper, out);
	}
	if (v->n == 0) {
		buf_puts(out, v->kind == NODE_MAP ? " {}\n" : " []\n");
		return 0;
	}
	buf_putc(out, '\n');
	return v3_node(v, deeper, false, out);
}

/* n at indent; first_inline: its first line goes where the caller is
 * (after "- "). */
static int v3_node(const struct node *n, int indent, bool first_inline, struct buf *out)
{
	int r = 0;
	if (n->kind == NODE_MAP) {
		for (size_t i = 0; r == 0 && i < n->n; i++) {
			if (i || !first_inline)
				spaces(out, indent);
			struct node key = {.kind = NODE_SCALAR, .tag = TAG_STR, .str = n->pairs[i].key};
			struct buf k = {0};
			r = v3_scalar(&key, indent, &k);
			if (r == 0) {
				buf_add(out, k.s, k.len - 1); /* without its newline */
				buf_putc(out, ':');
				r = v3_value(n->pairs[i].val, indent, out);
			}
			buf_free(&k);
		}
		return r;
	}
	if (n->kind == NODE_SEQ) {
		for (size_t i = 0; r == 0 && i < n->n; i++) {
			const struct node *it = n->items[i];
			if (i || !first_inline)
				spaces(out, indent);
			buf_puts(out, "-");
			if (it->kind == NODE_SCALAR) {
				buf_putc(out, ' ');
				r = v3_scalar(it, indent + 2, out);
			} else if (it->n == 0) {
				buf_puts(out, it->kind == NODE_MAP ? " {}\n" : " []\n");
			} else {
				buf_putc(out, ' ');
				r = v3_node(it, indent + 2, true, out);
			}
		}
		return r;
	}
	return v3_scalar(n, v3_deeper(indent), out);
}

int emit_yaml_v3(const struct node *n, struct buf *out, struct berr **err)
{
	int r = n->kind != NODE_SCALAR && n->n == 0 ? (buf_puts(out, n->kind == NODE_MAP ? "{}\n" : "[]\n"), 0)
						    : v3_node(n, 0, false, out);
	return r < 0 ? berr_set(err, EIO, "cannot write YAML") : 0;
}
