#include "schema.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>

extern const char berth_compose_schema[];

struct rx {
	char *pattern;
	regex_t re;
	bool ok;
};

struct schema {
	json_t *root;
	struct rx *rx;
	size_t nrx;
};

/* The first failure found, kept until it is reported or a oneOf moves on. */
struct fail {
	char *msg;
	struct pos pos;
};

struct vctx {
	struct schema *s;
	struct buf path;
	struct fail fail;
};

int schema_open(struct schema **out, struct berr **err)
{
	json_error_t je;
	json_t *root = json_loads(berth_compose_schema, 0, &je);
	if (!root)
		return berr_set(err, EINVAL, "built-in compose schema is invalid: %s (line %d)", je.text, je.line);
	struct schema *s = xcalloc(1, sizeof(*s));
	s->root = root;
	*out = s;
	return 0;
}

void schema_close(struct schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nrx; i++) {
		if (s->rx[i].ok)
			regfree(&s->rx[i].re);
		free(s->rx[i].pattern);
	}
	free(s->rx);
	json_decref(s->root);
	free(s);
}

static bool rx_match(struct schema *s, const char *pattern, const char *text)
{
	struct rx *r = NULL;
	for (size_t i = 0; i < s->nrx && !r; i++)
		if (streq(s->rx[i].pattern, pattern))
			r = &s->rx[i];
	if (!r) {
		s->rx = xrealloc(s->rx, (s->nrx + 1) * sizeof(*s->rx));
		r = &s->rx[s->nrx++];
		r->pattern = xstrdup(pattern);
		r->ok = regcomp(&r->re, pattern, REG_EXTENDED | REG_NOSUB) == 0;
	}
	return r->ok && regexec(&r->re, text, 0, NULL, 0) == 0;
}

static json_t *deref(struct schema *s, json_t *sch)
{
	for (int guard = 0; guard < 16; guard++) {
		json_t *ref = json_object_get(sch, "$ref");
		if (!json_is_string(ref))
			return sch;
		const char *r = json_string_value(ref);
		if (!startswith(r, "#/definitions/"))
			return sch;
		json_t *d = json_object_get(json_object_get(s->root, "definitions"), r + 14);
		if (!d)
			return sch;
		sch = d;
	}
	return sch;
}

static void fail_clear(struct fail *f)
{
	free(f->msg);
	f->msg = NULL;
	pos_unref(&f->pos);
}

static bool fail(struct vctx *v, struct pos p, const char *fmt, ...) _printf_(3, 4);
static bool fail(struct vctx *v, struct pos p, const char *fmt, ...)
{
	if (v->fail.msg)
		return false;
	va_list ap;
	va_start(ap, fmt);
	char *what;
	if (vasprintf(&what, fmt, ap) < 0)
		abort();
	va_end(ap);
	v->fail.msg = xasprintf("%s%s%s", v->path.len ? v->path.s : "", v->path.len ? ": " : "", what);
	free(what);
	v->fail.pos = pos_ref(p);
	return false;
}

static bool parses_as(const struct node *n, const char *type)
{
	long long i;
	double d;
	bool b;
	if (streq(type, "integer"))
		return node_int(n, &i) == 0;
	if (streq(type, "number"))
		return node_float(n, &d) == 0;
	if (streq(type, "boolean"))
		return node_bool(n, &b) == 0;
	return false;
}

static bool type_is(const struct node *n, const char *type)
{
	double d;
	if (streq(type, "object"))
		return n->kind == NODE_MAP;
	if (streq(type, "array"))
		return n->kind == NODE_SEQ;
	if (n->kind != NODE_SCALAR)
		return false;
	if (streq(type, "string"))
		return n->tag == TAG_STR;
	if (streq(type, "boolean"))
		return n->tag == TAG_BOOL;
	if (streq(type, "null"))
		return n->tag == TAG_NULL;
	if (streq(type, "integer"))
		return n->tag == TAG_INT || (n->tag == TAG_FLOAT && node_float(n, &d) == 0 && d == floor(d));
	if (streq(type, "number"))
		return n->tag == TAG_INT || n->tag == TAG_FLOAT;
	return false;
}

static const char *type_words(const char *type)
{
	static const char *const map[][2] = {
		{"object", "a mapping"}, {"array", "a list"},	  {"string", "a string"}, {"boolean", "a boolean"},
		{"null", "null"},	 {"integer", "an integer"}, {"number", "a number"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (streq(map[i][0], type))
			return map[i][1];
	return type;
}

/* Does n have one of the schema's types? A value that came out of
 * interpolation is read as the type asked for, as Compose casts it. */
static bool check_type(struct vctx *v, struct node *n, json_t *types)
{
	if (!types)
		return true;
	size_t count = json_is_array(types) ? json_array_size(types) : 1;
	bool want_string = false;
	for (size_t i = 0; i < count; i++) {
		const char *t = json_string_value(json_is_array(types) ? json_array_get(types, i) : types);
		if (t && type_is(n, t))
			return true;
		want_string |= streq(t, "string");
	}
	if (n->kind == NODE_SCALAR && n->tag == TAG_STR && (n->flags & NF_INTERP) && !want_string) {
		for (size_t i = 0; i < count; i++) {
			const char *t = json_string_value(json_is_array(types) ? json_array_get(types, i) : types);
			if (t && parses_as(n, t)) {
				n->tag = streq(t, "boolean") ? TAG_BOOL : scalar_resolve(n->str);
				return true;
			}
		}
	}
	struct buf w = {0};
	for (size_t i = 0; i < count; i++) {
		const char *t = json_string_value(json_is_array(types) ? json_array_get(types, i) : types);
		buf_printf(&w, "%s%s", i == 0 ? "" : i + 1 == count ? " or " : ", ", type_words(t));
	}
	fail(v, n->pos, "must be %s, not %s", w.s, node_kind_name(n));
	buf_free(&w);
	return false;
}

static bool validate(struct vctx *v, struct node *n, json_t *sch);

static void path_push_key(struct buf *p, const char *key)
{
	if (p->len)
		buf_putc(p, '.');
	buf_puts(p, key);
}

static void path_pop(struct buf *p, size_t mark)
{
	p->len = mark;
	if (p->s)
		p->s[mark] = '\0';
}

static bool unknown_key(struct vctx *v, struct pair *pr, json_t *props)
{
	const char *names[256];
	size_t n = 0;
	const char *k;
	json_t *val;
	json_object_foreach(props, k, val)
	{
		if (n < ARRAY_SIZE(names))
			names[n++] = k;
	}
	const char *near = str_nearest(pr->key, names, n);
	if (near)
		return fail(v, pr->pos, "unknown key \"%s\"; did you mean \"%s\"?", pr->key, near);
	return fail(v, pr->pos, "unknown key \"%s\" (custom keys must start with \"x-\")", pr->key);
}

static bool check_object(struct vctx *v, struct node *n, json_t *sch)
{
	json_t *props = json_object_get(sch, "properties");
	json_t *patterns = json_object_get(sch, "patternProperties");
	json_t *additional = json_object_get(sch, "additionalProperties");
	for (size_t i = 0; i < n->n; i++) {
		struct pair *pr = &n->pairs[i];
		size_t mark = v->path.len;
		path_push_key(&v->path, pr->key);
		bool matched = false, ok = true;
		json_t *ps = json_object_get(props, pr->key);
		if (ps) {
			matched = true;
			ok = validate(v, pr->val, ps);
		}
		const char *pat;
		json_t *psch;
		json_object_foreach(patterns, pat, psch)
		{
			if (!ok || !rx_match(v->s, pat, pr->key))
				continue;
			matched = true;
			ok = validate(v, pr->val, psch);
		}
		if (ok && !matched && json_is_false(additional)) {
			path_pop(&v->path, mark);
			return unknown_key(v, pr, props);
		}
		if (ok && !matched && json_is_object(additional))
			ok = validate(v, pr->val, additional);
		path_pop(&v->path, mark);
		if (!ok)
			return false;
	}
	json_t *req = json_object_get(sch, "required");
	size_t idx;
	json_t *r;
	json_array_foreach(req, idx, r)
	{
		if (!node_map_get(n, json_string_value(r)))
			return fail(v, n->pos, "the key \"%s\" is required here", json_string_value(r));
	}
	return true;
}

static bool same_value(const struct node *a, const struct node *b)
{
	struct buf x = {0}, y = {0};
	node_to_json(a, &x, -1);
	node_to_json(b, &y, -1);
	bool same = streq(x.s, y.s);
	buf_free(&x);
	buf_free(&y);
	return same;
}

static bool check_array(struct vctx *v, struct node *n, json_t *sch)
{
	json_t *items = json_object_get(sch, "items");
	for (size_t i = 0; items && i < n->n; i++) {
		size_t mark = v->path.len;
		buf_printf(&v->path, "[%zu]", i);
		bool ok = validate(v, n->items[i], items);
		path_pop(&v->path, mark);
		if (!ok)
			return false;
	}
	if (!json_is_true(json_object_get(sch, "uniqueItems")))
		return true;
	for (size_t i = 0; i < n->n; i++) {
		for (size_t j = 0; j < i; j++) {
			if (same_value(n->items[i], n->items[j]))
				return fail(v, n->items[i]->pos, "item %zu repeats item %zu; list each value once", i, j);
		}
	}
	return true;
}

static bool check_scalar(struct vctx *v, struct node *n, json_t *sch)
{
	json_t *en = json_object_get(sch, "enum");
	if (en) {
		size_t idx;
		json_t *e;
		struct buf w = {0};
		json_array_foreach(en, idx, e)
		{
			if (json_is_string(e) && streq(json_string_value(e), n->str)) {
				buf_free(&w);
				return true;
			}
			if (json_is_integer(e) && n->tag == TAG_INT && atoll(n->str) == json_integer_value(e)) {
				buf_free(&w);
				return true;
			}
			if (json_is_string(e))
				buf_printf(&w, "%s\"%s\"", idx ? ", " : "", json_string_value(e));
		}
		fail(v, n->pos, "\"%s\" is not allowed; use one of %s", n->str, w.s ? w.s : "");
		buf_free(&w);
		return false;
	}
	double d;
	json_t *min = json_object_get(sch, "minimum"), *max = json_object_get(sch, "maximum");
	if ((min || max) && n->tag != TAG_STR && node_float(n, &d) == 0) {
		if (min && d < json_number_value(min))
			return fail(v, n->pos, "%s is below the minimum of %g", n->str, json_number_value(min));
		if (max && d > json_number_value(max))
			return fail(v, n->pos, "%s is above the maximum of %g", n->str, json_number_value(max));
	}
	json_t *pat = json_object_get(sch, "pattern");
	if (pat && n->tag == TAG_STR && !rx_match(v->s, json_string_value(pat), n->str))
		return fail(v, n->pos, "\"%s\" does not match the expected format %s", n->str,
			    json_string_value(pat));
	return true;
}

/* The branch of a oneOf whose type fits n, to explain why n is wrong. */
static json_t *fitting_branch(struct vctx *v, struct node *n, json_t *branches)
{
	size_t idx;
	json_t *b, *found = NULL;
	json_array_foreach(branches, idx, b)
	{
		json_t *t = json_object_get(deref(v->s, b), "type");
		if (!t)
			continue;
		bool fits = false;
		for (size_t i = 0; i < (json_is_array(t) ? json_array_size(t) : 1); i++)
			fits |= type_is(n, json_string_value(json_is_array(t) ? json_array_get(t, i) : t));
		if (fits) {
			if (found)
				return NULL;
			found = b;
		}
	}
	return found;
}

static bool check_one_of(struct vctx *v, struct node *n, json_t *branches)
{
	size_t idx;
	json_t *b;
	json_array_foreach(branches, idx, b)
	{
		struct fail saved = v->fail;
		v->fail = (struct fail){0};
		bool ok = validate(v, n, b);
		fail_clear(&v->fail);
		v->fail = saved;
		if (ok)
			return true;
	}
	json_t *fit = fitting_branch(v, n, branches);
	if (fit)
		return validate(v, n, fit);
	struct buf w = {0};
	size_t count = json_array_size(branches);
	json_array_foreach(branches, idx, b)
	{
		json_t *t = json_object_get(deref(v->s, b), "type");
		const char *word = json_is_string(t) ? type_words(json_string_value(t)) : "another form";
		buf_printf(&w, "%s%s", idx == 0 ? "" : idx + 1 == count ? " or " : ", ", word);
	}
	fail(v, n->pos, "must be %s, not %s", w.s ? w.s : "another form", node_kind_name(n));
	buf_free(&w);
	return false;
}

static bool validate(struct vctx *v, struct node *n, json_t *sch)
{
	sch = deref(v->s, sch);
	if (!json_is_object(sch))
		return true;
	json_t *one = json_object_get(sch, "oneOf");
	if (!one)
		one = json_object_get(sch, "anyOf");
	if (one && !check_one_of(v, n, one))
		return false;
	json_t *all = json_object_get(sch, "allOf");
	size_t idx;
	json_t *a;
	json_array_foreach(all, idx, a)
	{
		if (!validate(v, n, a))
			return false;
	}
	if (!check_type(v, n, json_object_get(sch, "type")))
		return false;
	if (n->kind == NODE_MAP)
		return check_object(v, n, sch);
	if (n->kind == NODE_SEQ)
		return check_array(v, n, sch);
	return check_scalar(v, n, sch);
}

int schema_validate(struct schema *s, struct node *doc, struct berr **err)
{
	struct vctx v = {.s = s};
	bool ok = validate(&v, doc, s->root);
	buf_free(&v.path);
	if (ok)
		return 0;
	_cleanup_free_ char *where = pos_str(v.fail.pos);
	int r = berr_set(err, EINVAL, "%s: %s", where, v.fail.msg);
	fail_clear(&v.fail);
	return r;
}
