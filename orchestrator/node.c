#include "node.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

struct srcfile *srcfile_new(const char *path)
{
	size_t len = strlen(path);
	struct srcfile *f = xmalloc(sizeof(*f) + len + 1);
	f->refs = 1;
	memcpy(f->path, path, len + 1);
	return f;
}

struct pos pos_ref(struct pos p)
{
	if (p.file)
		p.file->refs++;
	return p;
}

void pos_unref(struct pos *p)
{
	if (p->file && --p->file->refs == 0)
		free(p->file);
	p->file = NULL;
}

char *pos_str(struct pos p)
{
	if (!p.file)
		return xstrdup("");
	if (p.line <= 0)
		return xasprintf("%s", p.file->path);
	return xasprintf("%s:%d:%d", p.file->path, p.line, p.col);
}

static struct node *alloc(enum node_kind kind, struct pos p)
{
	struct node *n = xcalloc(1, sizeof(*n));
	n->kind = kind;
	n->pos = pos_ref(p);
	return n;
}

struct node *node_new_scalar(enum scalar_tag tag, const char *s, struct pos p)
{
	struct node *n = alloc(NODE_SCALAR, p);
	n->tag = tag;
	n->str = xstrdup(s);
	return n;
}

struct node *node_new_str(const char *s, struct pos p) { return node_new_scalar(TAG_STR, s, p); }

struct node *node_new_int(long long v, struct pos p)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%lld", v);
	return node_new_scalar(TAG_INT, tmp, p);
}

struct node *node_new_bool(bool v, struct pos p) { return node_new_scalar(TAG_BOOL, v ? "true" : "false", p); }

struct node *node_new_null(struct pos p) { return node_new_scalar(TAG_NULL, "null", p); }
struct node *node_new_seq(struct pos p) { return alloc(NODE_SEQ, p); }
struct node *node_new_map(struct pos p) { return alloc(NODE_MAP, p); }

static void index_drop(struct node *n)
{
	free(n->index);
	n->index = NULL;
	n->index_cap = 0;
}

static void node_clear(struct node *n)
{
	index_drop(n);
	free(n->str);
	for (size_t i = 0; n->kind == NODE_SEQ && i < n->n; i++)
		node_free(n->items[i]);
	for (size_t i = 0; n->kind == NODE_MAP && i < n->n; i++) {
		free(n->pairs[i].key);
		pos_unref(&n->pairs[i].pos);
		node_free(n->pairs[i].val);
	}
	free(n->kind == NODE_SEQ ? (void *)n->items : (void *)n->pairs);
	pos_unref(&n->pos);
}

void node_free(struct node *n)
{
	if (!n)
		return;
	node_clear(n);
	free(n);
}

void node_freep(struct node **n)
{
	node_free(*n);
	*n = NULL;
}

void node_replace(struct node *dst, struct node *src)
{
	unsigned keep = dst->flags & (NF_RESET | NF_OVERRIDE);
	node_clear(dst);
	*dst = *src;
	dst->flags |= keep;
	free(src);
}

struct node *node_clone(const struct node *n)
{
	struct node *c = alloc(n->kind, n->pos);
	c->tag = n->tag;
	c->flags = n->flags; /* the index is not copied: it is rebuilt on demand */
	if (n->str)
		c->str = xstrdup(n->str);
	if (n->kind == NODE_SEQ) {
		c->items = xcalloc(n->n, sizeof(*c->items));
		for (size_t i = 0; i < n->n; i++)
			c->items[i] = node_clone(n->items[i]);
	} else if (n->kind == NODE_MAP) {
		c->pairs = xcalloc(n->n, sizeof(*c->pairs));
		for (size_t i = 0; i < n->n; i++) {
			c->pairs[i].key = xstrdup(n->pairs[i].key);
			c->pairs[i].pos = pos_ref(n->pairs[i].pos);
			c->pairs[i].val = node_clone(n->pairs[i].val);
		}
	}
	c->n = c->cap = n->n;
	return c;
}

size_t node_count(const struct node *n, size_t limit)
{
	size_t total = 1;
	for (size_t i = 0; i < n->n && total <= limit; i++)
		total += node_count(n->kind == NODE_SEQ ? n->items[i] : n->pairs[i].val, limit - total);
	return total;
}

#define INDEX_FROM 16 /* mappings with fewer keys are searched in order */

static size_t hash_key(const char *s)
{
	size_t h = 14695981039346656037ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void index_insert(struct node *m, size_t i)
{
	size_t mask = m->index_cap - 1;
	size_t h = hash_key(m->pairs[i].key) & mask;
	while (m->index[h])
		h = (h + 1) & mask;
	m->index[h] = (unsigned)i + 1;
}

static void index_build(struct node *m)
{
	unsigned cap = 32;
	while (cap < m->n * 2)
		cap *= 2;
	free(m->index);
	m->index = xcalloc(cap, sizeof(*m->index));
	m->index_cap = cap;
	for (size_t i = 0; i < m->n; i++)
		index_insert(m, i);
}

struct pair *node_map_pair(const struct node *map, const char *key)
{
	if (!map || map->kind != NODE_MAP)
		return NULL;
	if (map->n < INDEX_FROM) {
		for (size_t i = 0; i < map->n; i++)
			if (streq(map->pairs[i].key, key))
				return &map->pairs[i];
		return NULL;
	}
	struct node *m = (struct node *)map; /* the index is a cache, not content */
	if (!m->index)
		index_build(m);
	size_t mask = m->index_cap - 1;
	for (size_t h = hash_key(key) & mask; m->index[h]; h = (h + 1) & mask)
		if (streq(m->pairs[m->index[h] - 1].key, key))
			return &m->pairs[m->index[h] - 1];
	return NULL;
}

struct node *node_map_get(const struct node *map, const char *key)
{
	struct pair *p = node_map_pair(map, key);
	return p ? p->val : NULL;
}

void node_map_set_at(struct node *map, const char *key, struct pos kpos, struct node *val)
{
	struct pair *p = node_map_pair(map, key);
	if (p) {
		node_free(p->val);
		p->val = val;
		return;
	}
	if (map->n == map->cap) {
		map->cap = map->cap ? map->cap * 2 : 4;
		map->pairs = xrealloc(map->pairs, map->cap * sizeof(*map->pairs));
	}
	map->pairs[map->n++] = (struct pair){xstrdup(key), pos_ref(kpos), val};
	if (map->index && map->n * 2 <= map->index_cap)
		index_insert(map, map->n - 1);
	else
		index_drop(map);
}

void node_map_set(struct node *map, const char *key, struct node *val) { node_map_set_at(map, key, val->pos, val); }

struct node *node_map_take(struct node *map, const char *key)
{
	for (size_t i = 0; map && map->kind == NODE_MAP && i < map->n; i++) {
		if (!streq(map->pairs[i].key, key))
			continue;
		struct node *v = map->pairs[i].val;
		index_drop(map);
		free(map->pairs[i].key);
		pos_unref(&map->pairs[i].pos);
		memmove(&map->pairs[i], &map->pairs[i + 1], (map->n - i - 1) * sizeof(*map->pairs));
		map->n--;
		return v;
	}
	return NULL;
}

void node_map_del(struct node *map, const char *key) { node_free(node_map_take(map, key)); }

void node_seq_push(struct node *seq, struct node *val)
{
	if (seq->n == seq->cap) {
		seq->cap = seq->cap ? seq->cap * 2 : 4;
		seq->items = xrealloc(seq->items, seq->cap * sizeof(*seq->items));
	}
	seq->items[seq->n++] = val;
}

struct node *node_seq_take(struct node *seq, size_t i)
{
	struct node *v = seq->items[i];
	memmove(&seq->items[i], &seq->items[i + 1], (seq->n - i - 1) * sizeof(*seq->items));
	seq->n--;
	return v;
}

static int pair_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pair *)a)->key, ((const struct pair *)b)->key);
}

void node_order(struct node *map, const char *const *first)
{
	if (!map || map->kind != NODE_MAP)
		return;
	index_drop(map);
	size_t at = 0;
	for (size_t f = 0; first[f]; f++)
		for (size_t i = at; i < map->n; i++)
			if (streq(map->pairs[i].key, first[f])) {
				struct pair p = map->pairs[i];
				memmove(&map->pairs[at + 1], &map->pairs[at], (i - at) * sizeof(p));
				map->pairs[at++] = p;
				break;
			}
}

void node_sort(struct node *n)
{
	if (n->kind == NODE_MAP) {
		index_drop(n);
		if (n->n > 1)
			qsort(n->pairs, n->n, sizeof(*n->pairs), pair_cmp);
		for (size_t i = 0; i < n->n; i++)
			node_sort(n->pairs[i].val);
	} else if (n->kind == NODE_SEQ) {
		for (size_t i = 0; i < n->n; i++)
			node_sort(n->items[i]);
	}
}

static bool all_digits(const char *s, const char *set)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr(set, *s))
			return false;
	return true;
}

static bool is_float(const char *s)
{
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (strcasecmp(p, ".inf") == 0)
		return true;
	if (p == s && strcasecmp(p, ".nan") == 0)
		return true;
	bool digits = false;
	while (*p >= '0' && *p <= '9') {
		p++;
		digits = true;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			digits = true;
		}
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

enum scalar_tag scalar_resolve(const char *s)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	static const char *const bools[] = {"true", "True", "TRUE", "false", "False", "FALSE"};
	for (size_t i = 0; i < ARRAY_SIZE(nulls); i++)
		if (streq(s, nulls[i]))
			return TAG_NULL;
	for (size_t i = 0; i < ARRAY_SIZE(bools); i++)
		if (streq(s, bools[i]))
			return TAG_BOOL;
	const char *p = (*s == '+' || *s == '-') ? s + 1 : s;
	if (startswith(p, "0x") && all_digits(p + 2, "0123456789abcdefABCDEF"))
		return TAG_INT;
	if (startswith(p, "0o") && all_digits(p + 2, "01234567"))
		return TAG_INT;
	if (p[0] == '0' && p[1] && all_digits(p + 1, "01234567"))
		return TAG_INT; /* yaml.v3 reads a leading 0 as octal */
	if (all_digits(p, "0123456789") && !(p[0] == '0' && p[1]))
		return TAG_INT;
	if (is_float(s))
		return TAG_FLOAT;
	return TAG_STR;
}

bool node_is_str(const struct node *n) { return n && n->kind == NODE_SCALAR && n->tag == TAG_STR; }
bool node_is_null(const struct node *n) { return !n || (n->kind == NODE_SCALAR && n->tag == TAG_NULL); }

const char *node_str(const struct node *n) { return n && n->kind == NODE_SCALAR ? n->str : NULL; }

int node_int(const struct node *n, long long *v)
{
	if (!n || n->kind != NODE_SCALAR || (n->tag != TAG_INT && n->tag != TAG_STR))
		return -EINVAL;
	const char *s = n->str;
	if (scalar_resolve(s) != TAG_INT)
		return -EINVAL;
	int base = 10;
	const char *p = (*s == '+' || *s == '-') ? s + 1 : s;
	if (startswith(p, "0x"))
		base = 16;
	else if (startswith(p, "0o") || (p[0] == '0' && p[1]))
		base = 8;
	char digits[64];
	const char *d = startswith(p, "0x") || startswith(p, "0o") ? p + 2 : p;
	if (strlen(d) >= sizeof(digits) - 2)
		return -ERANGE;
	snprintf(digits, sizeof(digits), "%s%s", *s == '-' ? "-" : "", d);
	errno = 0;
	char *end;
	long long r = strtoll(digits, &end, base);
	if (errno || *end)
		return -ERANGE;
	*v = r;
	return 0;
}

int node_float(const struct node *n, double *v)
{
	if (!n || n->kind != NODE_SCALAR)
		return -EINVAL;
	long long i;
	if (node_int(n, &i) == 0) {
		*v = (double)i;
		return 0;
	}
	if ((n->tag != TAG_FLOAT && n->tag != TAG_STR) || !is_float(n->str))
		return -EINVAL;
	const char *p = n->str;
	bool neg = *p == '-';
	if (*p == '+' || *p == '-')
		p++;
	if (strcasecmp(p, ".inf") == 0)
		*v = neg ? -INFINITY : INFINITY;
	else if (strcasecmp(p, ".nan") == 0)
		*v = NAN;
	else
		*v = strtod(n->str, NULL);
	return 0;
}

int node_bool(const struct node *n, bool *v)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "y", "Y", "on", "On", "ON"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "n", "N", "off", "Off", "OFF"};
	if (!n || n->kind != NODE_SCALAR || (n->tag != TAG_BOOL && n->tag != TAG_STR))
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (streq(n->str, yes[i])) {
			*v = true;
			return 0;
		}
		if (streq(n->str, no[i])) {
			*v = false;
			return 0;
		}
	}
	return -EINVAL;
}

const char *node_kind_name(const struct node *n)
{
	if (n->kind == NODE_SEQ)
		return "a list";
	if (n->kind == NODE_MAP)
		return "a mapping";
	switch (n->tag) {
	case TAG_INT:
		return "an integer";
	case TAG_FLOAT:
		return "a number";
	case TAG_BOOL:
		return "a boolean";
	case TAG_NULL:
		return "null";
	default:
		return "a string";
	}
}

static void json_string(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			buf_puts(b, "\\\"");
			break;
		case '\\':
			buf_puts(b, "\\\\");
			break;
		case '\n':
			buf_puts(b, "\\n");
			break;
		case '\r':
			buf_puts(b, "\\r");
			break;
		case '\t':
			buf_puts(b, "\\t");
			break;
		default:
			if (*p < 0x20)
				buf_printf(b, "\\u%04x", *p);
			else
				buf_putc(b, (char)*p);
		}
	}
	buf_putc(b, '"');
}

static void newline(struct buf *b, int indent, int depth)
{
	if (indent < 0)
		return;
	buf_putc(b, '\n');
	for (int i = 0; i < indent * depth; i++)
		buf_putc(b, ' ');
}

static void json_scalar(const struct node *n, struct buf *b)
{
	double d;
	switch (n->tag) {
	case TAG_NULL:
		buf_puts(b, "null");
		break;
	case TAG_BOOL:
		buf_puts(b, (n->str[0] == 't' || n->str[0] == 'T') ? "true" : "false");
		break;
	case TAG_INT:
	case TAG_FLOAT:
		if (node_float(n, &d) == 0 && isfinite(d)) {
			long long i;
			if (node_int(n, &i) == 0)
				buf_printf(b, "%lld", i);
			else
				buf_printf(b, "%.17g", d);
			break;
		}
		json_string(b, n->str);
		break;
	default:
		json_string(b, n->str);
	}
}

static void to_json(const struct node *n, struct buf *b, int indent, int depth)
{
	if (n->kind == NODE_SCALAR) {
		json_scalar(n, b);
		return;
	}
	bool map = n->kind == NODE_MAP;
	buf_putc(b, map ? '{' : '[');
	for (size_t i = 0; i < n->n; i++) {
		if (i)
			buf_putc(b, ',');
		newline(b, indent, depth + 1);
		if (map) {
			json_string(b, n->pairs[i].key);
			buf_puts(b, indent < 0 ? ":" : ": ");
		}
		to_json(map ? n->pairs[i].val : n->items[i], b, indent, depth + 1);
	}
	if (n->n)
		newline(b, indent, depth);
	buf_putc(b, map ? '}' : ']');
}

void node_to_json(const struct node *n, struct buf *b, int indent) { to_json(n, b, indent, 0); }

static int vpos_err(struct berr **err, struct pos p, const char *fmt, va_list ap)
{
	char *what;
	if (vasprintf(&what, fmt, ap) < 0)
		abort();
	_cleanup_free_ char *where = pos_str(p);
	int r = where[0] ? berr_set(err, EINVAL, "%s: %s", where, what) : berr_set(err, EINVAL, "%s", what);
	free(what);
	return r;
}

int pos_err(struct berr **err, struct pos p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vpos_err(err, p, fmt, ap);
	va_end(ap);
	return r;
}

int node_err(struct berr **err, const struct node *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vpos_err(err, n->pos, fmt, ap);
	va_end(ap);
	return r;
}

char *node_path_str(const struct node_path *p)
{
	struct buf b = {0};
	for (int i = 0; i < p->depth && i < NODE_PATH_MAX; i++) {
		if (p->seg[i].key)
			buf_printf(&b, "%s%s", b.len ? "." : "", p->seg[i].key);
		else
			buf_printf(&b, "[%zu]", p->seg[i].index);
	}
	return buf_steal(&b);
}

char **node_kv(const struct node *map)
{
	char **out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; map && map->kind == NODE_MAP && i < map->n; i++)
		strv_push(&out, xasprintf("%s=%s", map->pairs[i].key, node_str(map->pairs[i].val) ?: ""));
	return out;
}
