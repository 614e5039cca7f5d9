#include "yaml.h"

#include <errno.h>
#include <yaml.h>

struct anchor {
	char *name;
	struct node *node; /* a copy kept for aliases */
};

struct frame {
	struct node *node;
	char *anchor;
	char *key; /* mapping: key waiting for its value */
	struct pos kpos;
	bool key_is_merge;
	struct node **merges; /* mappings named by << , in order */
	size_t nmerges;
};

struct builder {
	struct srcfile *file;
	struct frame stack[YAML_MAX_DEPTH + 1];
	int depth;
	struct anchor *anchors;
	size_t nanchors;
	size_t nodes;
	size_t bytes; /* text of the document as aliases expand it */
	struct node *root;
	struct berr **err;
};

static struct pos mark_pos(struct builder *b, yaml_mark_t m)
{
	return (struct pos){b->file, (int)m.line + 1, (int)m.column + 1};
}

static int fail_at(struct builder *b, struct pos p, const char *fmt, const char *arg)
{
	_cleanup_free_ char *where = pos_str(p);
	_cleanup_free_ char *what = xasprintf(fmt, arg);
	return berr_set(b->err, EINVAL, "%s: %s", where, what);
}

static void anchor_set(struct builder *b, const char *name, const struct node *n)
{
	for (size_t i = 0; i < b->nanchors; i++) {
		if (streq(b->anchors[i].name, name)) {
			node_free(b->anchors[i].node);
			b->anchors[i].node = node_clone(n);
			return;
		}
	}
	b->anchors = xrealloc(b->anchors, (b->nanchors + 1) * sizeof(*b->anchors));
	b->anchors[b->nanchors++] = (struct anchor){xstrdup(name), node_clone(n)};
}

static const struct node *anchor_get(struct builder *b, const char *name)
{
	for (size_t i = b->nanchors; i > 0; i--)
		if (streq(b->anchors[i - 1].name, name))
			return b->anchors[i - 1].node;
	return NULL;
}

static void apply_tag(struct node *n, const char *tag)
{
	if (!tag)
		return;
	if (streq(tag, "!reset"))
		n->flags |= NF_RESET;
	else if (streq(tag, "!override"))
		n->flags |= NF_OVERRIDE;
	else if (n->kind == NODE_SCALAR && streq(tag, YAML_STR_TAG))
		n->tag = TAG_STR;
	else if (n->kind == NODE_SCALAR && streq(tag, YAML_INT_TAG))
		n->tag = TAG_INT;
	else if (n->kind == NODE_SCALAR && streq(tag, YAML_FLOAT_TAG))
		n->tag = TAG_FLOAT;
	else if (n->kind == NODE_SCALAR && streq(tag, YAML_BOOL_TAG))
		n->tag = TAG_BOOL;
	else if (n->kind == NODE_SCALAR && streq(tag, YAML_NULL_TAG))
		n->tag = TAG_NULL;
}

/* Attach a finished node to its parent (or make it the root). */
static int attach(struct builder *b, struct node *n, const char *anchor, struct pos p)
{
	if (anchor)
		anchor_set(b, anchor, n);
	if (b->depth == 0) {
		b->root = n;
		return 0;
	}
	struct frame *f = &b->stack[b->depth - 1];
	if (f->node->kind == NODE_SEQ) {
		node_seq_push(f->node, n);
		return 0;
	}
	if (!f->key) {
		if (n->kind != NODE_SCALAR) {
			node_free(n);
			return fail_at(b, p, "%s", "a mapping key must be a plain value, not a list or mapping");
		}
		f->key_is_merge = streq(n->str, "<<") && !(n->flags & NF_QUOTED);
		f->key = steal_ptr(&n->str);
		f->kpos = pos_ref(n->pos);
		node_free(n);
		return 0;
	}
	if (f->key_is_merge) {
		if (n->kind == NODE_MAP) {
			f->merges = xrealloc(f->merges, (f->nmerges + 1) * sizeof(*f->merges));
			f->merges[f->nmerges++] = n;
		} else if (n->kind == NODE_SEQ) {
			for (size_t i = 0; i < n->n; i++) {
				if (n->items[i]->kind != NODE_MAP) {
					node_free(n);
					return fail_at(b, p, "%s",
						       "a merge key << takes a mapping or a list of mappings");
				}
			}
			f->merges = xrealloc(f->merges, (f->nmerges + n->n) * sizeof(*f->merges));
			for (size_t i = 0; i < n->n; i++)
				f->merges[f->nmerges++] = steal_ptr(&n->items[i]);
			n->n = 0;
			node_free(n);
		} else {
			node_free(n);
			return fail_at(b, p, "%s", "a merge key << takes a mapping or a list of mappings");
		}
	} else {
		struct pair *dup = node_map_pair(f->node, f->key);
		if (dup) {
			_cleanup_free_ char *msg = xasprintf(
				"duplicate key \"%s\" (first defined at line %d); remove one of them", f->key,
				dup->pos.line);
			node_free(n);
			struct pos kp = f->kpos;
			return fail_at(b, kp, "%s", msg);
		}
		node_map_set_at(f->node, f->key, f->kpos, n);
	}
	free(f->key);
	f->key = NULL;
	pos_unref(&f->kpos);
	return 0;
}

/* Keys written in the mapping win over merged ones; earlier merges win over later. */
static void apply_merges(struct frame *f)
{
	for (size_t i = 0; i < f->nmerges; i++) {
		struct node *m = f->merges[i];
		for (size_t j = 0; j < m->n; j++) {
			if (node_map_pair(f->node, m->pairs[j].key))
				continue;
			node_map_set_at(f->node, m->pairs[j].key, m->pairs[j].pos, steal_ptr(&m->pairs[j].val));
		}
		node_free(m);
	}
	free(f->merges);
	f->merges = NULL;
	f->nmerges = 0;
}

/* The text an alias would copy: its scalars and keys, recursively (a few
 * aliases of one long string expand to gigabytes without many nodes). */
static size_t text_size(const struct node *n, size_t limit)
{
	size_t total = n->kind == NODE_SCALAR && n->str ? strlen(n->str) : 0;
	for (size_t i = 0; i < n->n && total <= limit; i++) {
		const struct node *c = n->kind == NODE_SEQ ? n->items[i] : n->pairs[i].val;
		total += (n->kind == NODE_MAP ? strlen(n->pairs[i].key) : 0) + text_size(c, limit - total);
	}
	return total;
}

static int count(struct builder *b, size_t n, size_t bytes, struct pos p)
{
	b->nodes += n;
	b->bytes += bytes;
	if (b->nodes > YAML_MAX_NODES)
		return fail_at(b, p, "document expands to more than %s nodes (an alias bomb?)", "2000000");
	if (b->bytes > YAML_MAX_BYTES)
		return fail_at(b, p, "document expands to more than %s MiB of text (an alias bomb?)", "128");
	return 0;
}

static int push(struct builder *b, struct node *n, const char *anchor, const char *tag)
{
	if (b->depth >= YAML_MAX_DEPTH) {
		struct pos p = n->pos;
		int r = fail_at(b, p, "nesting is deeper than %s levels", "200");
		node_free(n);
		return r;
	}
	apply_tag(n, tag);
	b->stack[b->depth++] = (struct frame){.node = n, .anchor = anchor ? xstrdup(anchor) : NULL};
	return count(b, 1, 0, n->pos);
}

static int pop(struct builder *b)
{
	struct frame f = b->stack[--b->depth];
	if (f.node->kind == NODE_MAP)
		apply_merges(&f);
	int r = attach(b, f.node, f.anchor, f.node->pos);
	free(f.anchor);
	return r;
}

static int on_scalar(struct builder *b, yaml_event_t *ev)
{
	struct pos p = mark_pos(b, ev->start_mark);
	const char *v = (const char *)ev->data.scalar.value;
	if (strlen(v) != ev->data.scalar.length)
		return fail_at(b, p, "%s", "a value contains a NUL character");
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	struct node *n = node_new_scalar(plain ? scalar_resolve(v) : TAG_STR, v, p);
	if (!plain)
		n->flags |= NF_QUOTED;
	apply_tag(n, (const char *)ev->data.scalar.tag);
	int r = count(b, 1, ev->data.scalar.length, p);
	if (r < 0) {
		node_free(n);
		return r;
	}
	return attach(b, n, (const char *)ev->data.scalar.anchor, p);
}

static int on_alias(struct builder *b, yaml_event_t *ev)
{
	struct pos p = mark_pos(b, ev->start_mark);
	const char *name = (const char *)ev->data.alias.anchor;
	const struct node *a = anchor_get(b, name);
	if (!a)
		return fail_at(b, p, "unknown anchor \"%s\" (an alias must follow its anchor)", name);
	int r = count(b, node_count(a, YAML_MAX_NODES + 1), text_size(a, YAML_MAX_BYTES + 1), p);
	if (r < 0)
		return r;
	struct node *c = node_clone(a);
	pos_unref(&c->pos);
	c->pos = pos_ref(p);
	return attach(b, c, NULL, p);
}

static int on_event(struct builder *b, yaml_event_t *ev)
{
	struct pos p = mark_pos(b, ev->start_mark);
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_ALIAS_EVENT:
		return on_alias(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return push(b, node_new_seq(p), (const char *)ev->data.sequence_start.anchor,
			    (const char *)ev->data.sequence_start.tag);
	case YAML_MAPPING_START_EVENT:
		return push(b, node_new_map(p), (const char *)ev->data.mapping_start.anchor,
			    (const char *)ev->data.mapping_start.tag);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return pop(b);
	default:
		return 0;
	}
}

static void builder_free(struct builder *b)
{
	while (b->depth > 0) {
		struct frame *f = &b->stack[--b->depth];
		for (size_t i = 0; i < f->nmerges; i++)
			node_free(f->merges[i]);
		free(f->merges);
		free(f->key);
		pos_unref(&f->kpos);
		free(f->anchor);
		node_free(f->node);
	}
	for (size_t i = 0; i < b->nanchors; i++) {
		free(b->anchors[i].name);
		node_free(b->anchors[i].node);
	}
	free(b->anchors);
	b->anchors = NULL;
	b->nanchors = 0;
	node_free(b->root);
	b->root = NULL;
}

/* Encoding errors come with a byte offset only: turn it into line:column. */
static int reader_error(struct builder *b, yaml_parser_t *parser, const char *data, size_t len)
{
	size_t off = parser->problem_offset < len ? parser->problem_offset : len;
	struct pos p = {b->file, 1, 1};
	for (size_t i = 0; i < off; i++) {
		if (data[i] == '\n') {
			p.line++;
			p.col = 1;
		} else if (((unsigned char)data[i] & 0xc0) != 0x80) {
			p.col++;
		}
	}
	_cleanup_free_ char *where = pos_str(p);
	return berr_set(b->err, EINVAL, "%s: invalid YAML: %s (byte 0x%02x); is this a UTF-8 text file?", where,
			parser->problem ? parser->problem : "bad encoding", (unsigned)(parser->problem_value & 0xff));
}

static int parser_error(struct builder *b, yaml_parser_t *parser)
{
	struct pos p = {b->file, (int)parser->problem_mark.line + 1, (int)parser->problem_mark.column + 1};
	_cleanup_free_ char *where = pos_str(p);
	const char *problem = parser->problem ? parser->problem : "invalid YAML";
	if (parser->context)
		return berr_set(b->err, EINVAL, "%s: invalid YAML: %s %s", where, problem, parser->context);
	return berr_set(b->err, EINVAL, "%s: invalid YAML: %s", where, problem);
}

void yaml_docs_free(struct node **docs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		node_free(docs[i]);
	free(docs);
}

int yaml_parse(const char *path, const char *data, size_t len, struct node ***docs, size_t *ndocs, struct berr **err)
{
	struct builder b = {.file = srcfile_new(path), .err = err};
	yaml_parser_t parser;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	struct node **out = NULL;
	size_t nout = 0;
	int r = 0;
	for (bool done = false; !done && r == 0;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			r = parser.error == YAML_READER_ERROR ? reader_error(&b, &parser, data, len)
							      : parser_error(&b, &parser);
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT)
			done = true;
		else if (ev.type == YAML_DOCUMENT_END_EVENT) {
			out = xrealloc(out, (nout + 1) * sizeof(*out));
			out[nout++] = steal_ptr(&b.root);
			builder_free(&b); /* anchors do not cross documents */
		} else
			r = on_event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	builder_free(&b);
	struct pos fp = {b.file, 0, 0};
	pos_unref(&fp);
	if (r < 0) {
		yaml_docs_free(out, nout);
		return r;
	}
	*docs = out;
	*ndocs = nout;
	return 0;
}
