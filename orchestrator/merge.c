#include "merge.h"

#include "../lib/buf.h"

static void merge_generic(struct node *base, struct node *over);

static bool same(const struct node *a, const struct node *b)
{
	struct buf x = {0}, y = {0};
	node_to_json(a, &x, -1);
	node_to_json(b, &y, -1);
	bool r = streq(x.s, y.s);
	buf_free(&x);
	buf_free(&y);
	return r;
}

/* Sequences append; a value already present is not added twice. */
static void append_unique(struct node *base, struct node *over)
{
	for (size_t i = 0; i < over->n; i++) {
		bool dup = false;
		for (size_t j = 0; j < base->n && !dup; j++)
			dup = same(base->items[j], over->items[i]);
		if (!dup)
			node_seq_push(base, steal_ptr(&over->items[i]));
	}
}

/* Apply !reset and !override; returns true when the key was dealt with. */
static bool apply_tags(struct node *base, struct pair *op)
{
	if (op->val->flags & NF_RESET) {
		node_map_del(base, op->key);
		return true;
	}
	if (op->val->flags & NF_OVERRIDE) {
		op->val->flags &= ~(unsigned)NF_OVERRIDE;
		node_map_set_at(base, op->key, op->pos, steal_ptr(&op->val));
		return true;
	}
	return false;
}

static void merge_value(struct node *base, struct pair *op, void (*merge_maps)(struct node *, struct node *))
{
	if (apply_tags(base, op))
		return;
	struct node *b = node_map_get(base, op->key);
	if (b && b->kind == NODE_MAP && op->val->kind == NODE_MAP)
		merge_maps(b, op->val);
	else if (b && b->kind == NODE_SEQ && op->val->kind == NODE_SEQ)
		append_unique(b, op->val);
	else
		node_map_set_at(base, op->key, op->pos, steal_ptr(&op->val));
}

static void merge_generic(struct node *base, struct node *over)
{
	for (size_t i = 0; i < over->n; i++)
		merge_value(base, &over->pairs[i], merge_generic);
}

typedef char *(*key_fn)(const struct node *item);

static const char *str_or(const struct node *m, const char *key, const char *dflt)
{
	const char *s = node_str(node_map_get(m, key));
	return s ? s : dflt;
}

/* compose-spec 13-merge.md: ports are unique by {ip, target, published, protocol} */
static char *port_key(const struct node *p)
{
	return xasprintf("%s|%s|%s|%s", str_or(p, "host_ip", ""), str_or(p, "target", ""),
			 str_or(p, "published", ""), str_or(p, "protocol", "tcp"));
}

static char *target_key(const struct node *v) { return xstrdup(str_or(v, "target", "")); }

/* secrets and configs: by target, which defaults to the source's name */
static char *ref_key(const struct node *v)
{
	return xstrdup(str_or(v, "target", str_or(v, "source", "")));
}

static void merge_keyed(struct node *base, struct node *over, key_fn key)
{
	for (size_t i = 0; i < over->n; i++) {
		struct node *o = over->items[i];
		_cleanup_free_ char *ok = o->kind == NODE_MAP ? key(o) : NULL;
		struct node *match = NULL;
		for (size_t j = 0; ok && j < base->n && !match; j++) {
			_cleanup_free_ char *bk = base->items[j]->kind == NODE_MAP ? key(base->items[j]) : NULL;
			if (streq(bk, ok))
				match = base->items[j];
		}
		if (match)
			merge_generic(match, o);
		else
			node_seq_push(base, steal_ptr(&over->items[i]));
	}
}

static const struct {
	const char *key;
	key_fn fn;
} keyed[] = {
	{"ports", port_key}, {"volumes", target_key}, {"devices", target_key},
	{"secrets", ref_key}, {"configs", ref_key},
};

static void merge_healthcheck(struct node *base, struct node *over)
{
	for (size_t i = 0; i < over->n; i++) {
		struct pair *op = &over->pairs[i];
		if (streq(op->key, "test") && !(op->val->flags & NF_RESET))
			node_map_set_at(base, op->key, op->pos, steal_ptr(&op->val));
		else
			merge_value(base, op, merge_generic);
	}
}

void merge_service(struct node *base, struct node *over)
{
	for (size_t i = 0; i < over->n; i++) {
		struct pair *op = &over->pairs[i];
		if (apply_tags(base, op))
			continue;
		struct node *b = node_map_get(base, op->key);
		/* compose-spec 13-merge.md: shell commands are replaced, not appended */
		if (!b || streq(op->key, "command") || streq(op->key, "entrypoint")) {
			node_map_set_at(base, op->key, op->pos, steal_ptr(&op->val));
			continue;
		}
		if (streq(op->key, "healthcheck") && b->kind == NODE_MAP && op->val->kind == NODE_MAP) {
			merge_healthcheck(b, op->val);
			continue;
		}
		bool done = false;
		for (size_t k = 0; k < ARRAY_SIZE(keyed) && !done; k++) {
			if (streq(keyed[k].key, op->key) && b->kind == NODE_SEQ && op->val->kind == NODE_SEQ) {
				merge_keyed(b, op->val, keyed[k].fn);
				done = true;
			}
		}
		if (!done)
			merge_value(base, op, merge_generic);
	}
}

static void merge_services(struct node *base, struct node *over)
{
	for (size_t i = 0; i < over->n; i++) {
		struct pair *op = &over->pairs[i];
		struct node *b = node_map_get(base, op->key);
		if (b && b->kind == NODE_MAP && op->val->kind == NODE_MAP && !(op->val->flags & (NF_RESET | NF_OVERRIDE)))
			merge_service(b, op->val);
		else
			merge_value(base, op, merge_generic);
	}
}

void merge_document(struct node *base, struct node *over)
{
	for (size_t i = 0; i < over->n; i++) {
		struct pair *op = &over->pairs[i];
		struct node *b = node_map_get(base, op->key);
		if (streq(op->key, "services") && b && b->kind == NODE_MAP && op->val->kind == NODE_MAP)
			merge_services(b, op->val);
		else
			merge_value(base, op, merge_generic);
	}
	node_free(over);
}
