#include "stages.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/util.h"

struct args {
	char **names, **values; /* the ARGs before FROM, with --build-arg over their defaults */
};

static const char *arg_lookup(void *data, const char *name)
{
	struct args *a = data;
	for (size_t i = 0; a->names[i]; i++)
		if (streq(a->names[i], name))
			return a->values[i];
	return NULL;
}

static char *lower(const char *s)
{
	char *l = xstrdup(s);
	for (char *p = l; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

/* A flag's value ("--from=x"), or NULL. */
const char *df_flag(const struct df_instr *ins, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; ins->flags[i]; i++)
		if (!strncmp(ins->flags[i], name, n) && ins->flags[i][n] == '=')
			return ins->flags[i] + n + 1;
	return NULL;
}

/* The stage a --from= names: by name, or by index (earlier only). */
int df_stage_find(const struct df_stage *s, size_t n, const char *what)
{
	char *end = NULL;
	long idx = strtol(what, &end, 10);
	if (*what && !*end)
		return idx >= 0 && (size_t)idx < n ? (int)idx : -2;
	_cleanup_free_ char *l = lower(what);
	for (size_t i = 0; i < n; i++)
		if (s[i].name && streq(s[i].name, l))
			return (int)i;
	return -1;
}

static void add_dep(struct df_stage *st, int d)
{
	for (size_t i = 0; i < st->ndeps; i++)
		if (st->deps[i] == d)
			return;
	st->deps = xrealloc(st->deps, (st->ndeps + 1) * sizeof(int));
	st->deps[st->ndeps++] = d;
}

/* from= of one --mount=type=…,from=X,… */
static char *mount_from(const char *spec)
{
	_cleanup_free_ char *copy = xstrdup(spec);
	char *save = NULL;
	for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save))
		if (startswith(kv, "from="))
			return xstrdup(kv + 5);
	return NULL;
}

static int fail(const struct dockerfile *d, const struct df_instr *ins, struct berr **err, const char *what,
		const char *detail)
{
	return berr_set(err, EINVAL, "%s:%d: %s: %s%s", d->name, ins->line, ins->cmd, what, detail ? detail : "");
}

/* BuildKit's platform ARGs, which FROM lines see without a declaration. */
static bool automatic(const char *kv)
{
	static const char *const names[] = {"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
					    "BUILDPLATFORM",  "BUILDOS",  "BUILDARCH",  "BUILDVARIANT"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (startswith(kv, names[i]) && kv[strlen(names[i])] == '=')
			return true;
	return false;
}

int df_stages(const struct dockerfile *d, char *const *build_args, struct df_stage **out, size_t *n, struct berr **err)
{
	struct args a = {xcalloc(1, sizeof(char *)), xcalloc(1, sizeof(char *))};
	for (size_t i = 0; build_args && build_args[i]; i++) {
		if (!automatic(build_args[i]))
			continue;
		size_t nl = strcspn(build_args[i], "=");
		strv_push(&a.names, xstrndup(build_args[i], nl));
		a.values = xrealloc(a.values, (strv_len(a.names) + 1) * sizeof(char *));
		a.values[strv_len(a.names) - 1] = xstrdup(build_args[i] + nl + 1);
		a.values[strv_len(a.names)] = NULL;
	}
	struct df_stage *s = NULL;
	size_t k = 0;
	int r = 0;
	for (size_t i = 0; r == 0 && i < d->n; i++) {
		const struct df_instr *ins = &d->instrs[i];
		if (!k && streq(ins->cmd, "ARG")) {
			/* ARG NAME[=default] before the first FROM: for FROM lines only */
			char **words = NULL;
			r = df_words(ins->rest, d->escape, NULL, NULL, &words, err);
			for (size_t w = 0; r == 0 && words[w]; w++) {
				char *eq = strchr(words[w], '=');
				_cleanup_free_ char *name = eq ? xstrndup(words[w], (size_t)(eq - words[w]))
							       : xstrdup(words[w]);
				const char *value = eq ? eq + 1 : NULL;
				size_t nl = strlen(name);
				for (size_t b = 0; build_args && build_args[b]; b++)
					if (!strncmp(build_args[b], name, nl) && build_args[b][nl] == '=')
						value = build_args[b] + nl + 1;
				strv_push(&a.names, xstrdup(name));
				/* an ARG with neither default nor --build-arg is empty in FROM */
				a.values = xrealloc(a.values, (strv_len(a.names) + 1) * sizeof(char *));
				a.values[strv_len(a.names) - 1] = xstrdup(value ? value : "");
				a.values[strv_len(a.names)] = NULL;
			}
			strv_free(words);
			continue;
		}
		if (!streq(ins->cmd, "FROM")) {
			if (k)
				s[k - 1].last = i;
			if (k && (streq(ins->cmd, "COPY") || streq(ins->cmd, "ADD")) && df_flag(ins, "--from")) {
				const char *from = df_flag(ins, "--from");
				int st = df_stage_find(s, k - 1, from);
				if (st == -2 || st == (int)k - 1)
					r = fail(d, ins, err, "--from names no earlier stage: ", from);
				else if (st >= 0)
					add_dep(&s[k - 1], st);
				else
					strv_push(&s[k - 1].images, xstrdup(from));
			}
			for (size_t f = 0; r == 0 && k && streq(ins->cmd, "RUN") && ins->flags[f]; f++) {
				if (!startswith(ins->flags[f], "--mount="))
					continue;
				_cleanup_free_ char *from = mount_from(ins->flags[f] + 8);
				int st = from ? df_stage_find(s, k - 1, from) : -1;
				if (from && st >= 0)
					add_dep(&s[k - 1], st);
				else if (from)
					strv_push(&s[k - 1].images, xstrdup(from));
			}
			continue;
		}
		/* FROM [--platform=P] IMAGE [AS NAME] */
		char **words = NULL;
		r = df_words(ins->rest, d->escape, arg_lookup, &a, &words, err);
		size_t nw = words ? strv_len(words) : 0;
		if (r == 0 && (!nw || !words[0][0]))
			r = fail(d, ins, err, "names no image (is an ARG empty?): ", ins->rest);
		if (r == 0 && nw != 1 && !(nw == 3 && !strcasecmp(words[1], "as")))
			r = fail(d, ins, err, "expects IMAGE [AS NAME], not: ", ins->rest);
		s = xrealloc(s, (k + 1) * sizeof(*s));
		struct df_stage *st = &s[k];
		*st = (struct df_stage){.base_stage = -1, .first = i, .last = i, .images = xcalloc(1, sizeof(char *))};
		if (r == 0 && nw == 3) {
			st->name = lower(words[2]);
			for (size_t j = 0; j < k && r == 0; j++)
				if (s[j].name && streq(s[j].name, st->name))
					r = fail(d, ins, err, "a stage of that name exists already: ", words[2]);
		}
		if (r == 0) {
			st->base = xstrdup(words[0]);
			int b = df_stage_find(s, k, words[0]);
			/* a number is an image tag's look, not a stage: FROM 0 is no stage */
			if (b >= 0 && !isdigit((unsigned char)words[0][0])) {
				st->base_stage = b;
				add_dep(st, b);
			}
			const char *pf = df_flag(ins, "--platform");
			if (pf)
				r = df_word(pf, d->escape, arg_lookup, &a, &st->platform, err);
		}
		strv_free(words);
		k++;
	}
	strv_free(a.names);
	strv_free(a.values);
	if (r == 0 && !k)
		r = berr_set(err, EINVAL, "%s: no FROM", d->name);
	if (r < 0) {
		df_stages_free(s, k);
		return r;
	}
	*out = s;
	*n = k;
	return 0;
}

void df_stages_free(struct df_stage *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].name);
		free(s[i].base);
		free(s[i].platform);
		free(s[i].deps);
		strv_free(s[i].images);
	}
	free(s);
}

static void mark(const struct df_stage *s, size_t i, bool *need)
{
	if (need[i])
		return;
	need[i] = true;
	for (size_t d = 0; d < s[i].ndeps; d++)
		mark(s, (size_t)s[i].deps[d], need);
}

int df_needed(const struct dockerfile *d, const struct df_stage *s, size_t n, const char *target, bool *need,
	      struct berr **err)
{
	for (size_t i = 0; i < n; i++)
		need[i] = false;
	int t = (int)n - 1;
	if (target) {
		_cleanup_free_ char *l = lower(target);
		t = -1;
		for (size_t i = 0; i < n; i++)
			if (s[i].name && streq(s[i].name, l))
				t = (int)i;
		if (t < 0)
			return berr_set(err, ENOENT, "%s: target stage \"%s\" could not be found", d->name, target);
	}
	mark(s, (size_t)t, need);
	return 0;
}
