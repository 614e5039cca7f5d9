#include "merge.h"

#include "../lib/buf.h"

static void merge_generic(struct node *base, struct node *over);

static char *json_of(const struct node *n)
{
	struct buf b = {0};
	node_to_json(n, &b, -1);
	return buf_steal(&b);
}

/* Sequences append; a value already present is not added twice. A mapping
 * from each value's JSON serves as the set, so long lists stay linear. */
static void append_unique(struct node *base, struct node *over)
{
	struct node *seen = node_new_map(base->pos);
	for (size_t j = 0; j < base->n; j++) {
		_cleanup_free_ char *k = json_of(base->items[j]);
		node_map_set(seen, k, node_new_null(base->pos));
	}
	for (size_t i = 0; i < over->n; i++) {
		_cleanup_free_ char *k = json_of(over->items[i]);
		if (node_map_get(seen, k))
			continue;
		node_map_set(seen, k, node_new_null(base->pos));
		node_seq_push(base, steal_ptr(&over->items[i]));
	}
	node_free(seen);
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
	return xasprintf("%s|%s|%s|%s", str_or(p, "host_ip", ""), str_or(p, "target", ""), str_or(p, "published", ""),
			 str_or(p, "protocol", "tcp"));
}

static char *target_key(const struct node *v) { return xstrdup(str_or(v, "target", "")); }

/* secrets and configs: by target, which defaults to the source's name */
static char *ref_key(const struct node *v) { return xstrdup(str_or(v, "target", str_or(v, "source", ""))); }

/* Entries with the same key merge, others append; the base's keys are
 * indexed once (a mapping from key to position), so ranges of thousands
 * of ports stay linear. */
static void merge_keyed(struct node *base, struct node *over, key_fn key)
{
	struct node *index = node_new_map(base->pos);
	for (size_t j = 0; j < base->n; j++) {
		if (base->items[j]->kind != NODE_MAP)
			continue;
		_cleanup_free_ char *bk = key(base->items[j]);
		if (!node_map_get(index, bk))
			node_map_set(index, bk, node_new_int((long long)j, base->pos));
	}
	for (size_t i = 0; i < over->n; i++) {
		struct node *o = over->items[i];
		_cleanup_free_ char *ok = o->kind == NODE_MAP ? key(o) : NULL;
		long long j;
		if (ok && node_int(node_map_get(index, ok), &j) == 0) {
			merge_generic(base->items[j], o);
			continue;
		}
		if (ok)
			node_map_set(index, ok, node_new_int((long long)base->n, base->pos));
		node_seq_push(base, steal_ptr(&over->items[i]));
	}
	node_free(index);
}

static const struct {
	const char *key;
	key_fn fn;
} keyed[] = {
	{"ports", port_key},  {"volumes", target_key}, {"devices", target_key},
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
		if (b && b->kind == NODE_MAP && op->val->kind == NODE_MAP &&
		    !(op->val->flags & (NF_RESET | NF_OVERRIDE)))
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
