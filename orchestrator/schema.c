/* Validation against the Compose JSON schema. The schema (JSON, built in)
 * is compiled once into a tree of struct sch, with every $ref resolved to a
 * pointer, regular expressions compiled and properties sorted; validation
 * then walks the document and that tree side by side. Only the keywords the
 * Compose schema uses are implemented: type, properties, patternProperties,
 * additionalProperties, required, items, uniqueItems, enum, minimum,
 * maximum, pattern, oneOf, anyOf, allOf, $ref. */
#include "schema.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>

extern const char berth_compose_schema[];

enum {
	T_OBJECT = 1 << 0,
	T_ARRAY = 1 << 1,
	T_STRING = 1 << 2,
	T_BOOLEAN = 1 << 3,
	T_NULL = 1 << 4,
	T_INTEGER = 1 << 5,
	T_NUMBER = 1 << 6,
};

static const struct {
	const char *name, *words;
	unsigned bit;
} type_names[] = {
	{"object", "a mapping", T_OBJECT},   {"array", "a list", T_ARRAY}, {"string", "a string", T_STRING},
	{"boolean", "a boolean", T_BOOLEAN}, {"null", "null", T_NULL},     {"integer", "an integer", T_INTEGER},
	{"number", "a number", T_NUMBER},
};

struct sch;

struct sch_prop {
	const char *name; /* points into the JSON, which lives as long as the schema */
	struct sch *s;
};

struct sch_pat {
	regex_t re;
	struct sch *s;
};

struct sch {
	json_t *json;   /* the source, for memoizing $refs */
	unsigned types; /* 0: any */
	struct sch_prop *props;
	size_t nprops;
	struct sch_pat *pats;
	size_t npats;
	bool closed;            /* additionalProperties: false */
	struct sch *additional; /* additionalProperties: {schema} */
	const char **required;
	size_t nrequired;
	struct sch *items;
	bool unique;
	struct sch **one_of; /* oneOf or anyOf (treated alike: first match wins) */
	size_t none_of;
	struct sch **all_of;
	size_t nall_of;
	json_t *enum_;
	bool has_min, has_max;
	double min, max;
	regex_t *pattern;
	const char *pattern_src;
};

struct schema {
	json_t *root;
	struct sch **all; /* every compiled node, for freeing and memoizing */
	size_t nall;
	struct sch *top;
};

static struct sch *compile(struct schema *s, json_t *j);

static json_t *resolve_ref(struct schema *s, json_t *j)
{
	for (int guard = 0; guard < 16; guard++) {
		/* draft 2020-12 keeps them under $defs, draft 7 under definitions */
		const char *r = json_string_value(json_object_get(j, "$ref"));
		const char *where = r && startswith(r, "#/$defs/")         ? "$defs"
				    : r && startswith(r, "#/definitions/") ? "definitions"
									   : NULL;
		if (!where)
			return j;
		json_t *d = json_object_get(json_object_get(s->root, where), r + strlen(where) + 3);
		if (!d)
			return j;
		j = d;
	}
	return j;
}

static int prop_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sch_prop *)a)->name, ((const struct sch_prop *)b)->name);
}

static struct sch **compile_list(struct schema *s, json_t *arr, size_t *n)
{
	*n = json_array_size(arr);
	if (!*n)
		return NULL;
	struct sch **out = xcalloc(*n, sizeof(*out));
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) out[i] = compile(s, v);
	return out;
}

static unsigned compile_types(json_t *t)
{
	unsigned bits = 0;
	for (size_t i = 0; i < (json_is_array(t) ? json_array_size(t) : 1); i++) {
		const char *name = json_string_value(json_is_array(t) ? json_array_get(t, i) : t);
		for (size_t k = 0; name && k < ARRAY_SIZE(type_names); k++)
			if (streq(name, type_names[k].name))
				bits |= type_names[k].bit;
	}
	return bits;
}

static void compile_object(struct schema *s, struct sch *c, json_t *j)
{
	json_t *props = json_object_get(j, "properties");
	c->nprops = json_object_size(props);
	c->props = c->nprops ? xcalloc(c->nprops, sizeof(*c->props)) : NULL;
	size_t i = 0;
	const char *k;
	json_t *v;
	json_object_foreach(props, k, v) c->props[i++] = (struct sch_prop){k, compile(s, v)};
	if (c->nprops > 1)
		qsort(c->props, c->nprops, sizeof(*c->props), prop_cmp);
	json_t *pats = json_object_get(j, "patternProperties");
	c->pats = json_object_size(pats) ? xcalloc(json_object_size(pats), sizeof(*c->pats)) : NULL;
	json_object_foreach(pats, k, v)
	{
		if (regcomp(&c->pats[c->npats].re, k, REG_EXTENDED | REG_NOSUB) != 0)
			continue;
		c->pats[c->npats++].s = compile(s, v);
	}
	json_t *add = json_object_get(j, "additionalProperties");
	c->closed = json_is_false(add);
	if (json_is_object(add))
		c->additional = compile(s, add);
	json_t *req = json_object_get(j, "required");
	c->nrequired = json_array_size(req);
	c->required = c->nrequired ? xcalloc(c->nrequired, sizeof(char *)) : NULL;
	json_array_foreach(req, i, v) c->required[i] = json_string_value(v);
}

static struct sch *compile(struct schema *s, json_t *j)
{
	j = resolve_ref(s, j);
	for (size_t i = 0; i < s->nall; i++)
		if (s->all[i]->json == j)
			return s->all[i]; /* shared definitions, and cycles */
	struct sch *c = xcalloc(1, sizeof(*c));
	c->json = j;
	s->all = xrealloc(s->all, (s->nall + 1) * sizeof(*s->all));
	s->all[s->nall++] = c;
	if (!json_is_object(j))
		return c;
	c->types = compile_types(json_object_get(j, "type"));
	compile_object(s, c, j);
	json_t *items = json_object_get(j, "items");
	if (json_is_object(items))
		c->items = compile(s, items);
	c->unique = json_is_true(json_object_get(j, "uniqueItems"));
	json_t *one = json_object_get(j, "oneOf");
	c->one_of = compile_list(s, one ? one : json_object_get(j, "anyOf"), &c->none_of);
	c->all_of = compile_list(s, json_object_get(j, "allOf"), &c->nall_of);
	c->enum_ = json_object_get(j, "enum");
	json_t *min = json_object_get(j, "minimum"), *max = json_object_get(j, "maximum");
	c->has_min = json_is_number(min);
	c->min = json_number_value(min);
	c->has_max = json_is_number(max);
	c->max = json_number_value(max);
	c->pattern_src = json_string_value(json_object_get(j, "pattern"));
	if (c->pattern_src) {
		c->pattern = xmalloc(sizeof(*c->pattern));
		if (regcomp(c->pattern, c->pattern_src, REG_EXTENDED | REG_NOSUB) != 0) {
			free(c->pattern);
			c->pattern = NULL;
		}
	}
	return c;
}

int schema_open(struct schema **out, struct berr **err)
{
	json_error_t je;
	json_t *root = json_loads(berth_compose_schema, 0, &je);
	if (!root)
		return berr_set(err, EINVAL, "built-in compose schema is invalid: %s (line %d)", je.text, je.line);
	struct schema *s = xcalloc(1, sizeof(*s));
	s->root = root;
	s->top = compile(s, root);
	*out = s;
	return 0;
}

void schema_close(struct schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nall; i++) {
		struct sch *c = s->all[i];
		for (size_t k = 0; k < c->npats; k++)
			regfree(&c->pats[k].re);
		if (c->pattern)
			regfree(c->pattern);
		free(c->pattern);
		free(c->props);
		free(c->pats);
		free(c->required);
		free(c->one_of);
		free(c->all_of);
		free(c);
	}
	free(s->all);
	json_decref(s->root);
	free(s);
}

/* ---- validation ---- */

struct fail {
	char *msg;
	struct pos pos;
};

struct vctx {
	struct node_path path;
	struct fail fail;
	int trial; /* inside a oneOf branch: failures are not explained */
};

static bool fail(struct vctx *v, struct pos p, const char *fmt, ...) _printf_(3, 4);
static bool fail(struct vctx *v, struct pos p, const char *fmt, ...)
{
	if (v->fail.msg || v->trial)
		return false;
	va_list ap;
	va_start(ap, fmt);
	char *what;
	if (vasprintf(&what, fmt, ap) < 0)
		abort();
	va_end(ap);
	_cleanup_free_ char *at = node_path_str(&v->path);
	v->fail.msg = xasprintf("%s%s%s", at, at[0] ? ": " : "", what);
	free(what);
	v->fail.pos = pos_ref(p);
	return false;
}

static unsigned node_types(const struct node *n)
{
	double d;
	if (n->kind == NODE_MAP)
		return T_OBJECT;
	if (n->kind == NODE_SEQ)
		return T_ARRAY;
	switch (n->tag) {
	case TAG_STR:
		return T_STRING;
	case TAG_BOOL:
		return T_BOOLEAN;
	case TAG_NULL:
		return T_NULL;
	case TAG_INT:
		return T_INTEGER | T_NUMBER;
	default:
		return T_NUMBER | (node_float(n, &d) == 0 && d == floor(d) ? T_INTEGER : 0);
	}
}

static char *types_words(unsigned bits)
{
	struct buf w = {0};
	size_t count = 0, seen = 0;
	for (size_t i = 0; i < ARRAY_SIZE(type_names); i++)
		count += (bits & type_names[i].bit) != 0;
	for (size_t i = 0; i < ARRAY_SIZE(type_names); i++) {
		if (!(bits & type_names[i].bit))
			continue;
		buf_printf(&w, "%s%s", seen == 0 ? "" : seen + 1 == count ? " or " : ", ", type_names[i].words);
		seen++;
	}
	return buf_steal(&w);
}

/* Compose casts interpolated text to the type a field needs ("true", "8080"). */
static bool coerce(struct node *n, unsigned want)
{
	long long i;
	double d;
	bool b;
	if (n->kind != NODE_SCALAR || n->tag != TAG_STR || !(n->flags & NF_INTERP) || (want & T_STRING))
		return false;
	if ((want & T_INTEGER) && node_int(n, &i) == 0)
		n->tag = TAG_INT;
	else if ((want & T_NUMBER) && node_float(n, &d) == 0)
		n->tag = scalar_resolve(n->str) == TAG_INT ? TAG_INT : TAG_FLOAT;
	else if ((want & T_BOOLEAN) && node_bool(n, &b) == 0)
		n->tag = TAG_BOOL;
	else
		return false;
	return true;
}

static bool check_type(struct vctx *v, struct node *n, unsigned want)
{
	if (!want || (node_types(n) & want) || coerce(n, want))
		return true;
	if (v->trial)
		return false;
	_cleanup_free_ char *w = types_words(want);
	return fail(v, n->pos, "must be %s, not %s", w, node_kind_name(n));
}

static bool validate(struct vctx *v, struct node *n, struct sch *c);

static struct sch *find_prop(struct sch *c, const char *name)
{
	struct sch_prop key = {name, NULL};
	struct sch_prop *p = c->nprops ? bsearch(&key, c->props, c->nprops, sizeof(*c->props), prop_cmp) : NULL;
	return p ? p->s : NULL;
}

static bool unknown_key(struct vctx *v, struct pair *pr, struct sch *c)
{
	if (v->trial)
		return false;
	const char **names = xcalloc(c->nprops + 1, sizeof(char *));
	for (size_t i = 0; i < c->nprops; i++)
		names[i] = c->props[i].name;
	const char *near = str_nearest(pr->key, names, c->nprops);
	bool r = near ? fail(v, pr->pos, "unknown key \"%s\"; did you mean \"%s\"?", pr->key, near)
		      : fail(v, pr->pos, "unknown key \"%s\" (custom keys must start with \"x-\")", pr->key);
	free(names);
	return r;
}

static bool check_pair(struct vctx *v, struct pair *pr, struct sch *c)
{
	bool matched = false;
	struct sch *ps = find_prop(c, pr->key);
	if (ps) {
		matched = true;
		if (!validate(v, pr->val, ps))
			return false;
	}
	for (size_t k = 0; k < c->npats; k++) {
		if (regexec(&c->pats[k].re, pr->key, 0, NULL, 0) != 0)
			continue;
		matched = true;
		if (!validate(v, pr->val, c->pats[k].s))
			return false;
	}
	if (matched)
		return true;
	if (c->closed) {
		node_path_pop(&v->path);
		bool r = unknown_key(v, pr, c);
		node_path_key(&v->path, pr->key);
		return r;
	}
	return c->additional ? validate(v, pr->val, c->additional) : true;
}

static bool check_object(struct vctx *v, struct node *n, struct sch *c)
{
	for (size_t i = 0; i < n->n; i++) {
		node_path_key(&v->path, n->pairs[i].key);
		bool ok = check_pair(v, &n->pairs[i], c);
		node_path_pop(&v->path);
		if (!ok)
			return false;
	}
	for (size_t i = 0; i < c->nrequired; i++)
		if (!node_map_get(n, c->required[i]))
			return fail(v, n->pos, "the key \"%s\" is required here", c->required[i]);
	return true;
}

static bool same_value(const struct node *a, const struct node *b)
{
	if (a->kind == NODE_SCALAR && b->kind == NODE_SCALAR)
		return a->tag == b->tag && streq(a->str, b->str);
	struct buf x = {0}, y = {0};
	node_to_json(a, &x, -1);
	node_to_json(b, &y, -1);
	bool same = streq(x.s, y.s);
	buf_free(&x);
	buf_free(&y);
	return same;
}

static bool check_array(struct vctx *v, struct node *n, struct sch *c)
{
	for (size_t i = 0; c->items && i < n->n; i++) {
		node_path_index(&v->path, i);
		bool ok = validate(v, n->items[i], c->items);
		node_path_pop(&v->path);
		if (!ok)
			return false;
	}
	for (size_t i = 0; c->unique && i < n->n; i++)
		for (size_t j = 0; j < i; j++)
			if (same_value(n->items[i], n->items[j]))
				return fail(v, n->items[i]->pos, "item %zu repeats item %zu; list each value once", i,
					    j);
	return true;
}

static bool check_enum(struct vctx *v, struct node *n, json_t *en)
{
	size_t idx;
	json_t *e;
	json_array_foreach(en, idx, e)
	{
		if (json_is_string(e) && streq(json_string_value(e), n->str))
			return true;
		if (json_is_integer(e) && n->tag == TAG_INT && atoll(n->str) == json_integer_value(e))
			return true;
	}
	if (v->trial)
		return false;
	struct buf w = {0};
	json_array_foreach(en, idx, e)
	{
		if (json_is_string(e))
			buf_printf(&w, "%s\"%s\"", idx ? ", " : "", json_string_value(e));
	}
	fail(v, n->pos, "\"%s\" is not allowed; use one of %s", n->str, w.s ? w.s : "");
	buf_free(&w);
	return false;
}

static bool check_scalar(struct vctx *v, struct node *n, struct sch *c)
{
	if (c->enum_ && !check_enum(v, n, c->enum_))
		return false;
	double d;
	if ((c->has_min || c->has_max) && n->tag != TAG_STR && node_float(n, &d) == 0) {
		if (c->has_min && d < c->min)
			return fail(v, n->pos, "%s is below the minimum of %g", n->str, c->min);
		if (c->has_max && d > c->max)
			return fail(v, n->pos, "%s is above the maximum of %g", n->str, c->max);
	}
	if (c->pattern && n->tag == TAG_STR && regexec(c->pattern, n->str, 0, NULL, 0) != 0)
		return fail(v, n->pos, "\"%s\" does not match the expected format %s", n->str, c->pattern_src);
	return true;
}

/* The one branch whose type fits n, to explain why n is wrong; else NULL. */
static struct sch *fitting_branch(struct node *n, struct sch *c)
{
	struct sch *found = NULL;
	for (size_t i = 0; i < c->none_of; i++) {
		unsigned t = c->one_of[i]->types;
		if (!t || !(node_types(n) & t))
			continue;
		if (found)
			return NULL;
		found = c->one_of[i];
	}
	return found;
}

static bool check_one_of(struct vctx *v, struct node *n, struct sch *c)
{
	for (size_t i = 0; i < c->none_of; i++) {
		v->trial++;
		bool ok = validate(v, n, c->one_of[i]);
		v->trial--;
		if (ok)
			return true;
	}
	struct sch *fit = fitting_branch(n, c);
	if (fit)
		return validate(v, n, fit);
	if (v->trial)
		return false;
	unsigned all = 0;
	for (size_t i = 0; i < c->none_of; i++)
		all |= c->one_of[i]->types;
	_cleanup_free_ char *w = types_words(all);
	return fail(v, n->pos, "must be %s, not %s", w[0] ? w : "another form", node_kind_name(n));
}

static bool validate(struct vctx *v, struct node *n, struct sch *c)
{
	if (c->none_of && !check_one_of(v, n, c))
		return false;
	for (size_t i = 0; i < c->nall_of; i++)
		if (!validate(v, n, c->all_of[i]))
			return false;
	if (!check_type(v, n, c->types))
		return false;
	if (n->kind == NODE_MAP)
		return check_object(v, n, c);
	if (n->kind == NODE_SEQ)
		return check_array(v, n, c);
	return check_scalar(v, n, c);
}

int schema_validate(struct schema *s, struct node *doc, struct berr **err)
{
	struct vctx v = {0};
	if (validate(&v, doc, s->top))
		return 0;
	_cleanup_free_ char *where = pos_str(v.fail.pos);
	int r = berr_set(err, EINVAL, "%s: %s", where, v.fail.msg);
	free(v.fail.msg);
	pos_unref(&v.fail.pos);
	return r;
}
