#include "env.h"

static ssize_t find(const struct env *e, const char *key)
{
	for (size_t i = 0; i < e->n; i++)
		if (streq(e->keys[i], key))
			return (ssize_t)i;
	return -1;
}

const char *env_get(const struct env *e, const char *key)
{
	ssize_t i = find(e, key);
	return i < 0 ? NULL : e->vals[i];
}

bool env_has(const struct env *e, const char *key) { return find(e, key) >= 0; }

void env_set(struct env *e, const char *key, const char *val)
{
	ssize_t i = find(e, key);
	if (i >= 0) {
		free(e->vals[i]);
		e->vals[i] = xstrdup(val);
		return;
	}
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		e->keys = xrealloc(e->keys, e->cap * sizeof(char *));
		e->vals = xrealloc(e->vals, e->cap * sizeof(char *));
	}
	e->keys[e->n] = xstrdup(key);
	e->vals[e->n] = xstrdup(val);
	e->n++;
}

void env_free(struct env *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->keys[i]);
		free(e->vals[i]);
	}
	free(e->keys);
	free(e->vals);
	*e = (struct env){0};
}

void env_from_environ(struct env *e, char *const *environ_)
{
	for (size_t i = 0; environ_ && environ_[i]; i++) {
		const char *eq = strchr(environ_[i], '=');
		if (!eq)
			continue;
		_cleanup_free_ char *k = xstrndup(environ_[i], (size_t)(eq - environ_[i]));
		env_set(e, k, eq + 1);
	}
}

const char *env_lookup(void *env, const char *name) { return env_get(env, name); }
