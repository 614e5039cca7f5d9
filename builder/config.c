#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../lib/util.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ARGs Docker knows without a declaration in RUN's environment. */
static const char *const proxy_args[] = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
					 "ftp_proxy",  "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy"};

static const char *env_in(json_t *env, const char *name)
{
	size_t n = strlen(name), i;
	json_t *v;
	json_array_foreach(env, i, v)
	{
		const char *s = json_string_value(v);
		if (s && !strncmp(s, name, n) && s[n] == '=')
			return s + n + 1;
	}
	return NULL;
}

const char *bstage_lookup(void *data, const char *name)
{
	struct bstage *s = data;
	const char *v = env_in(json_object_get(s->cfg, "Env"), name);
	return v ? v : strv_env_get(s->args, name);
}

static void env_set(json_t *cfg, const char *name, const char *value)
{
	json_t *env = json_object_get(cfg, "Env");
	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(cfg, "Env", env);
	}
	size_t n = strlen(name), i;
	json_t *v;
	char *kv = xasprintf("%s=%s", name, value);
	json_array_foreach(env, i, v)
	{
		const char *s = json_string_value(v);
		if (s && !strncmp(s, name, n) && s[n] == '=') {
			json_array_set_new(env, i, json_string(kv));
			free(kv);
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
	free(kv);
}

char **bstage_run_env(const struct bstage *s)
{
	json_t *env = json_object_get(s->cfg, "Env");
	char **out = json_is_array(env) ? json_strv(env) : xcalloc(1, sizeof(char *));
	if (!env_in(env, "PATH"))
		strv_push(&out, xstrdup(DEFAULT_PATH));
	for (size_t i = 0; s->args && s->args[i]; i++) {
		_cleanup_free_ char *name = xstrndup(s->args[i], strcspn(s->args[i], "="));
		if (!env_in(env, name))
			strv_push(&out, xstrdup(s->args[i]));
	}
	for (size_t i = 0; i < ARRAY_SIZE(proxy_args); i++) {
		const char *v = strv_env_get(s->build_args, proxy_args[i]);
		if (v && !env_in(env, proxy_args[i]) && !strv_env_get(s->args, proxy_args[i]))
			strv_push(&out, xasprintf("%s=%s", proxy_args[i], v));
	}
	return out;
}

char **bstage_shell(const struct bstage *s)
{
	char **sh = json_strv(json_object_get(s->cfg, "Shell"));
	if (sh && sh[0])
		return sh;
	strv_free(sh);
	sh = xcalloc(3, sizeof(char *));
	sh[0] = xstrdup("/bin/sh");
	sh[1] = xstrdup("-c");
	return sh;
}

static int words(struct bstage *s, const struct df_instr *ins, char ***out, struct berr **err)
{
	return df_words(ins->rest, s->escape, bstage_lookup, s, out, err);
}

/* ENV and LABEL: KEY=VALUE pairs, or the old "KEY VALUE" form. */
static int pairs(struct bstage *s, const struct df_instr *ins, char ***keys, char ***values, struct berr **err)
{
	_cleanup_(strv_freep) char **w = NULL;
	int r = words(s, ins, &w, err);
	if (r < 0)
		return r;
	*keys = xcalloc(1, sizeof(char *));
	*values = xcalloc(1, sizeof(char *));
	if (w[0] && !strchr(w[0], '=')) {
		/* KEY the rest of the line */
		const char *rest = ins->rest + strcspn(ins->rest, " \t");
		rest += strspn(rest, " \t");
		char *v = NULL;
		r = df_word(rest, s->escape, bstage_lookup, s, &v, err);
		if (r < 0 || !rest[0]) {
			strv_free(*keys);
			strv_free(*values);
			free(v);
			return r < 0 ? r : berr_set(err, EINVAL, "%s %s needs a value", ins->cmd, w[0]);
		}
		strv_push(keys, xstrdup(w[0]));
		strv_push(values, v);
		return 0;
	}
	for (size_t i = 0; w[i]; i++) {
		char *eq = strchr(w[i], '=');
		if (!eq || eq == w[i]) {
			strv_free(*keys);
			strv_free(*values);
			return berr_set(err, EINVAL, "%s: \"%s\" is not NAME=VALUE", ins->cmd, w[i]);
		}
		strv_push(keys, xstrndup(w[i], (size_t)(eq - w[i])));
		strv_push(values, xstrdup(eq + 1));
	}
	return 0;
}

static int do_env(struct bstage *s, const struct df_instr *ins, struct buf *by, struct berr **err)
{
	char **k, **v;
	int r = pairs(s, ins, &k, &v, err);
	for (size_t i = 0; r == 0 && k[i]; i++) {
		env_set(s->cfg, k[i], v[i]);
		buf_printf(by, " %s=%s", k[i], v[i]);
	}
	if (r == 0) {
		strv_free(k);
		strv_free(v);
	}
	return r;
}

static int do_label(struct bstage *s, const struct df_instr *ins, struct buf *by, struct berr **err)
{
	char **k, **v;
	int r = pairs(s, ins, &k, &v, err);
	if (r < 0)
		return r;
	json_t *labels = json_object_get(s->cfg, "Labels");
	if (!json_is_object(labels)) {
		labels = json_object();
		json_object_set_new(s->cfg, "Labels", labels);
	}
	for (size_t i = 0; k[i]; i++) {
		json_object_set_new(labels, k[i], json_string(v[i]));
		buf_printf(by, " %s=%s", k[i], v[i]);
	}
	strv_free(k);
	strv_free(v);
	return 0;
}

static void arg_set(struct bstage *s, const char *name, const char *value)
{
	size_t n = strlen(name);
	for (size_t i = 0; s->args && s->args[i]; i++)
		if (!strncmp(s->args[i], name, n) && s->args[i][n] == '=') {
			free(s->args[i]);
			s->args[i] = xasprintf("%s=%s", name, value);
			return;
		}
	if (!s->args)
		s->args = xcalloc(1, sizeof(char *));
	strv_push(&s->args, xasprintf("%s=%s", name, value));
}

/* ARG NAME[=default]: --build-arg first, then the default; a bare NAME
 * takes the value of an ARG before FROM. */
static int do_arg(struct bstage *s, const struct df_instr *ins, struct buf *by, struct berr **err)
{
	_cleanup_(strv_freep) char **w = NULL;
	int r = words(s, ins, &w, err);
	for (size_t i = 0; r == 0 && w[i]; i++) {
		char *eq = strchr(w[i], '=');
		_cleanup_free_ char *name = eq ? xstrndup(w[i], (size_t)(eq - w[i])) : xstrdup(w[i]);
		const char *v = strv_env_get(s->build_args, name);
		if (!v)
			v = eq ? eq + 1 : strv_env_get(s->meta, name);
		if (v) {
			arg_set(s, name, v);
			buf_printf(by, " %s=%s", name, v);
		} else {
			buf_printf(by, " %s", name);
		}
	}
	return r;
}

static json_t *argv_of(struct bstage *s, const struct df_instr *ins)
{
	if (ins->exec_form)
		return strv_json(ins->argv);
	char **sh = bstage_shell(s);
	strv_push(&sh, xstrdup(ins->rest));
	json_t *j = strv_json(sh);
	strv_free(sh);
	return j;
}

static int do_cmd(struct bstage *s, const struct df_instr *ins, struct buf *by, struct berr **err)
{
	(void)err;
	bool entry = streq(ins->cmd, "ENTRYPOINT");
	json_t *v = ins->rest[0] || ins->exec_form ? argv_of(s, ins) : json_null();
	char *text = json_dumps(v, JSON_COMPACT);
	buf_printf(by, " %s", text);
	free(text);
	json_object_set_new(s->cfg, entry ? "Entrypoint" : "Cmd", v);
	if (entry && !s->cmd_set)
		json_object_set_new(s->cfg, "Cmd", json_null());
	if (!entry)
		s->cmd_set = true;
	return 0;
}

static int do_shell(struct bstage *s, const struct df_instr *ins, struct buf *by, struct berr **err)
{
	if (!ins->exec_form || !ins->argv[0])
		return berr_set(err, EINVAL, "SHELL must be given as a JSON array: SHELL [\"/bin/sh\", \"-c\"]");
	json_object_set_new(s->cfg, "Shell", strv_json(ins->argv));
	buf_printf(by, " %s", ins->rest);
	return 0;
}

static void object_add(json_t *cfg, const char *key, const char *name)
{
	json_t *o = json_object_get(cfg, key);
	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(cfg, key, o);
	}
	json_object_set_new(o, name, json_object());
}

static int one_port(json_t *cfg, const char *w, struct buf *by, struct berr **err)
{
	const char *slash = strchr(w, '/');
	_cleanup_free_ char *proto = xstrdup(slash ? slash + 1 : "tcp");
	for (char *c = proto; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	char *end = NULL;
	long lo = strtol(w, &end, 10), hi = lo;
	if (end && *end == '-')
		hi = strtol(end + 1, &end, 10);
	if (end == w || (end && *end && *end != '/') || lo < 1 || hi > 65535 || hi < lo ||
	    (!streq(proto, "tcp") && !streq(proto, "udp") && !streq(proto, "sctp")))
		return berr_set(err, EINVAL, "EXPOSE: \"%s\" is not a port (PORT[/tcp|udp], or a range)", w);
	for (long p = lo; p <= hi; p++) {
		char name[32];
		snprintf(name, sizeof(name), "%ld/%s", p, proto);
		object_add(cfg, "ExposedPorts", name);
		buf_printf(by, " %s", name);
	}
	return 0;
}

static int do_expose(struct bstage *s, const struct df_instr *ins, struct buf *by, struct berr **err)
{
	_cleanup_(strv_freep) char **w = NULL;
	int r = words(s, ins, &w, err);
	for (size_t i = 0; r == 0 && w[i]; i++)
		r = one_port(s->cfg, w[i], by, err);
	return r;
}

static int do_volume(struct bstage *s, const struct df_instr *ins, struct buf *by, struct berr **err)
{
	_cleanup_(strv_freep) char **w = NULL;
	int r = ins->exec_form ? (w = strv_copy(ins->argv), 0) : words(s, ins, &w, err);
	for (size_t i = 0; r == 0 && w[i]; i++) {
		if (!w[i][0])
			return berr_set(err, EINVAL, "VOLUME: a path cannot be empty");
		object_add(s->cfg, "Volumes", w[i]);
		buf_printf(by, " %s", w[i]);
	}
	return r;
}

/* USER, STOPSIGNAL, MAINTAINER: one word, expanded. */
static int do_word(struct bstage *s, const struct df_instr *ins, struct buf *by, struct berr **err)
{
	_cleanup_free_ char *v = NULL;
	int r = df_word(ins->rest, s->escape, bstage_lookup, s, &v, err);
	if (r < 0)
		return r;
	buf_printf(by, " %s", v);
	if (streq(ins->cmd, "MAINTAINER")) {
		free(s->author);
		s->author = steal_ptr(&v);
	} else {
		json_object_set_new(s->cfg, streq(ins->cmd, "USER") ? "User" : "StopSignal", json_string(v));
	}
	return 0;
}

long long bconfig_duration(const char *s)
{
	static const struct {
		const char *unit;
		long long ns;
	} units[] = {{"ns", 1},           {"us", 1000},         {"µs", 1000},          {"ms", 1000000},
		     {"s", 1000000000LL}, {"m", 60000000000LL}, {"h", 3600000000000LL}};
	if (!s || !*s)
		return -1;
	if (streq(s, "0"))
		return 0;
	long long total = 0;
	while (*s) {
		char *end = NULL;
		double v = strtod(s, &end);
		if (end == s || v < 0)
			return -1;
		size_t best = 0;
		int found = -1;
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			size_t n = strlen(units[i].unit);
			if (!strncmp(end, units[i].unit, n) && n > best) {
				best = n;
				found = (int)i;
			}
		}
		if (found < 0)
			return -1;
		total += (long long)(v * (double)units[found].ns);
		s = end + best;
	}
	return total;
}

static int health_flags(const struct df_instr *ins, json_t *hc, struct berr **err)
{
	static const char *const names[] = {"--interval", "--timeout", "--start-period", "--start-interval",
					    "--retries"};
	static const char *const keys[] = {"Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"};
	for (size_t i = 0; ins->flags[i]; i++) {
		const char *f = ins->flags[i], *eq = strchr(f, '=');
		size_t k = 0;
		while (k < ARRAY_SIZE(names) &&
		       (!eq || strncmp(f, names[k], (size_t)(eq - f)) || strlen(names[k]) != (size_t)(eq - f)))
			k++;
		if (k == ARRAY_SIZE(names))
			return berr_set(err, EINVAL, "HEALTHCHECK: unknown flag %s", f);
		char *end = NULL;
		long long v = k == 4 ? strtoll(eq + 1, &end, 10) : bconfig_duration(eq + 1);
		if (v < 0 || (k == 4 && *end))
			return berr_set(err, EINVAL, "HEALTHCHECK: %s is not valid", f);
		json_object_set_new(hc, keys[k], json_integer(v));
	}
	return 0;
}

static int do_healthcheck(struct bstage *s, const struct df_instr *ins, struct buf *by, struct berr **err)
{
	const char *rest = ins->rest;
	size_t w = strcspn(rest, " \t");
	if (w == 4 && !strncasecmp(rest, "NONE", 4) && !rest[4]) {
		json_object_set_new(s->cfg, "Healthcheck", json_pack("{s:[s]}", "Test", "NONE"));
		buf_puts(by, " NONE");
		return 0;
	}
	if (w != 3 || strncasecmp(rest, "CMD", 3))
		return berr_set(err, EINVAL, "HEALTHCHECK must be followed by CMD or NONE");
	const char *cmd = rest + 3 + strspn(rest + 3, " \t");
	json_t *hc = json_object();
	int r = health_flags(ins, hc, err);
	json_t *test = json_loads(cmd, JSON_DECODE_ANY, NULL);
	if (json_is_array(test) && json_array_size(test)) {
		json_array_insert_new(test, 0, json_string("CMD"));
	} else {
		json_decref(test);
		test = json_pack("[s, s]", "CMD-SHELL", cmd);
	}
	json_object_set_new(hc, "Test", test);
	if (r < 0) {
		json_decref(hc);
		return r;
	}
	char *text = json_dumps(test, JSON_COMPACT);
	buf_printf(by, " %s", text);
	free(text);
	json_object_set_new(s->cfg, "Healthcheck", hc);
	return 0;
}

static int do_onbuild(struct bstage *s, const struct df_instr *ins, struct buf *by, struct berr **err)
{
	size_t n = strcspn(ins->rest, " \t");
	if ((n == 7 && !strncasecmp(ins->rest, "ONBUILD", 7)) || (n == 4 && !strncasecmp(ins->rest, "FROM", 4)) ||
	    (n == 10 && !strncasecmp(ins->rest, "MAINTAINER", 10)))
		return berr_set(err, EINVAL, "ONBUILD cannot trigger %.*s", (int)n, ins->rest);
	json_t *ob = json_object_get(s->cfg, "OnBuild");
	if (!json_is_array(ob)) {
		ob = json_array();
		json_object_set_new(s->cfg, "OnBuild", ob);
	}
	json_array_append_new(ob, json_string(ins->rest));
	buf_printf(by, " %s", ins->rest);
	return 0;
}

int bconfig_apply(struct bstage *s, const struct df_instr *ins, char **created_by, struct berr **err)
{
	static const struct {
		const char *cmd;
		int (*fn)(struct bstage *, const struct df_instr *, struct buf *, struct berr **);
	} table[] = {{"ENV", do_env},         {"LABEL", do_label},     {"ARG", do_arg},
		     {"CMD", do_cmd},         {"ENTRYPOINT", do_cmd},  {"SHELL", do_shell},
		     {"EXPOSE", do_expose},   {"VOLUME", do_volume},   {"USER", do_word},
		     {"STOPSIGNAL", do_word}, {"MAINTAINER", do_word}, {"HEALTHCHECK", do_healthcheck},
		     {"ONBUILD", do_onbuild}};
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		if (!streq(table[i].cmd, ins->cmd))
			continue;
		struct buf by = {0};
		buf_puts(&by, ins->cmd);
		int r = table[i].fn(s, ins, &by, err);
		if (r < 0) {
			buf_free(&by);
			return r;
		}
		*created_by = buf_steal(&by);
		return 0;
	}
	return berr_set(err, EINVAL, "%s is not a config instruction", ins->cmd);
}
