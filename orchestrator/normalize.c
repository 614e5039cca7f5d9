#include "normalize.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "../lib/fs.h"
#include "canon.h"
#include "dotenv.h"
#include "units.h"

/* Remove keys still tagged !reset (a reset with nothing beneath it). */
static void drop_resets(struct node *n)
{
	if (n->kind == NODE_MAP) {
		for (size_t i = n->n; i > 0; i--) {
			if (n->pairs[i - 1].val->flags & NF_RESET)
				node_map_del(n, n->pairs[i - 1].key);
			else
				drop_resets(n->pairs[i - 1].val);
		}
	} else if (n->kind == NODE_SEQ) {
		for (size_t i = 0; i < n->n; i++)
			drop_resets(n->items[i]);
	}
}

static void set_default(struct node *m, const char *key, struct node *val)
{
	if (node_map_get(m, key))
		node_free(val);
	else
		node_map_set(m, key, val);
}

static const char *lookup_env(void *ctx, const char *name) { return env_get(ctx, name); }

/* env_file entries first, then environment over them; a bare KEY takes the
 * project's value or is dropped (05-services.md#environment). */
static int normalize_environment(struct node *svc, const char *name, const struct normalize_ctx *c, struct berr **err)
{
	if (c->no_env_resolution)
		return 0;
	_cleanup_(node_freep) struct node *files = node_map_take(svc, "env_file");
	struct node *envn = node_map_get(svc, "environment");
	if (!files && !envn)
		return 0;
	struct node *out = node_new_map(envn ? envn->pos : files->pos);
	for (size_t i = 0; files && files->kind == NODE_SEQ && i < files->n; i++) {
		struct node *f = files->items[i];
		const char *path = node_str(node_map_get(f, "path"));
		bool required = true;
		node_bool(node_map_get(f, "required"), &required);
		bool raw = streq(node_str(node_map_get(f, "format")), "raw");
		if (!path)
			continue;
		if (!required && !fs_exists(path))
			continue;
		struct env fenv = {0};
		struct berr *e = NULL;
		if (dotenv_read(path, lookup_env, (void *)c->env, raw, &fenv, &e) < 0 && e->code == ENOENT &&
		    c->deferred) {
			/* as docker compose: an error only for the commands that need this service */
			struct berr *missing = NULL;
			node_err(&missing, f, "services.%s.env_file: env file %s not found", name, path);
			if (!env_get(c->deferred, name))
				env_set(c->deferred, name, missing->msg);
			berr_free(missing);
			berr_free(e);
			env_free(&fenv);
			continue;
		}
		if (e) {
			int r = node_err(err, f, "services.%s.env_file: %s", name, e->msg);
			berr_free(e);
			env_free(&fenv);
			node_free(out);
			return r;
		}
		for (size_t k = 0; k < fenv.n; k++)
			node_map_set(out, fenv.keys[k], node_new_str(fenv.vals[k], f->pos));
		env_free(&fenv);
	}
	for (size_t i = 0; envn && envn->kind == NODE_MAP && i < envn->n; i++) {
		struct pair *p = &envn->pairs[i];
		if (node_is_null(p->val)) {
			const char *v = env_get(c->env, p->key);
			if (v)
				node_map_set_at(out, p->key, p->pos, node_new_str(v, p->val->pos));
			else
				node_map_del(out, p->key);
			continue;
		}
		struct node *v = node_clone(p->val);
		node_make_str(v);
		node_map_set_at(out, p->key, p->pos, v);
	}
	node_map_set(svc, "environment", out);
	return 0;
}

static void strings_in_map(struct node *m, bool null_is_empty)
{
	for (size_t i = 0; m && m->kind == NODE_MAP && i < m->n; i++) {
		struct node *v = m->pairs[i].val;
		if (null_is_empty && node_is_null(v))
			node_replace(v, node_new_str("", v->pos));
		node_make_str(v);
	}
}

/* build.args: a bare KEY takes the project's value, as environment does;
 * one that is set nowhere stays null (the Dockerfile's default applies). */
static void resolve_args(struct node *args, const struct env *env)
{
	for (size_t i = 0; args && args->kind == NODE_MAP && i < args->n; i++) {
		struct node *v = args->pairs[i].val;
		const char *from_env = node_is_null(v) ? env_get(env, args->pairs[i].key) : NULL;
		if (from_env)
			node_replace(v, node_new_str(from_env, v->pos));
		node_make_str(v);
	}
}

static int set_bytes(struct node *m, const char *key, const char *where, struct berr **err)
{
	struct node *v = node_map_get(m, key);
	if (!v || v->kind != NODE_SCALAR || v->tag == TAG_NULL)
		return 0;
	long long b;
	if (node_int(v, &b) < 0 && bytes_parse(v->str, &b) < 0)
		return node_err(err, v, "%s.%s: \"%s\" is not a size; write it like 512m, 1g or 1073741824", where, key,
				v->str);
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%lld", b);
	node_replace(v, node_new_str(tmp, v->pos));
	return 0;
}

static int set_duration(struct node *m, const char *key, const char *where, struct berr **err)
{
	struct node *v = node_map_get(m, key);
	if (!v || v->kind != NODE_SCALAR || v->tag == TAG_NULL)
		return 0;
	long long ns;
	if (duration_parse(v->str, &ns) < 0)
		return node_err(err, v, "%s.%s: \"%s\" is not a duration; write it like 30s, 1m30s or 500ms", where,
				key, v->str);
	_cleanup_free_ char *s = duration_format(ns);
	node_replace(v, node_new_str(s, v->pos));
	return 0;
}

static int set_number(struct node *m, const char *key, const char *where, struct berr **err)
{
	struct node *v = node_map_get(m, key);
	if (!v || v->kind != NODE_SCALAR || v->tag == TAG_NULL)
		return 0;
	double d;
	if (node_float(v, &d) < 0 || !isfinite(d))
		return node_err(err, v, "%s.%s: \"%s\" is not a number", where, key, v->str);
	_cleanup_free_ char *s = float_format(d);
	node_replace(v, node_new_scalar(TAG_FLOAT, s, v->pos));
	return 0;
}

static int set_bool(struct node *m, const char *key, const char *where, struct berr **err)
{
	struct node *v = node_map_get(m, key);
	if (!v || v->kind != NODE_SCALAR || v->tag == TAG_BOOL || v->tag == TAG_NULL)
		return 0;
	bool b;
	if (node_bool(v, &b) < 0)
		return node_err(err, v, "%s.%s: \"%s\" is not true or false", where, key, v->str);
	node_replace(v, node_new_bool(b, v->pos));
	return 0;
}

static int set_int(struct node *m, const char *key, const char *where, struct berr **err)
{
	struct node *v = node_map_get(m, key);
	if (!v || v->kind != NODE_SCALAR || v->tag == TAG_NULL)
		return 0;
	long long i;
	if (node_int(v, &i) < 0)
		return node_err(err, v, "%s.%s: \"%s\" is not a whole number that fits in 64 bits", where, key, v->str);
	node_replace(v, node_new_int(i, v->pos));
	return 0;
}

typedef int (*setter)(struct node *, const char *, const char *, struct berr **);

static const struct {
	const char *key;
	setter fn;
} service_values[] = {
	{"mem_limit", set_bytes},    {"memswap_limit", set_bytes}, {"mem_reservation", set_bytes},
	{"shm_size", set_bytes},     {"cpus", set_number},         {"stop_grace_period", set_duration},
	{"privileged", set_bool},    {"read_only", set_bool},      {"init", set_bool},
	{"tty", set_bool},           {"stdin_open", set_bool},     {"oom_kill_disable", set_bool},
	{"cpu_shares", set_int},     {"cpu_quota", set_int},       {"cpu_period", set_int},
	{"pids_limit", set_int},     {"scale", set_int},           {"oom_score_adj", set_int},
	{"mem_swappiness", set_int},
};

static int apply_setters(struct node *m, const char *const *keys, setter fn, const char *where, struct berr **err)
{
	for (size_t i = 0; keys[i]; i++) {
		int r = fn(m, keys[i], where, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int normalize_healthcheck(struct node *svc, const char *where, struct berr **err)
{
	struct node *h = node_map_get(svc, "healthcheck");
	if (!h || h->kind != NODE_MAP)
		return 0;
	static const char *const durations[] = {"interval", "timeout", "start_period", "start_interval", NULL};
	_cleanup_free_ char *w = xasprintf("%s.healthcheck", where);
	int r = apply_setters(h, durations, set_duration, w, err);
	if (r == 0)
		r = set_int(h, "retries", w, err);
	if (r == 0)
		r = set_bool(h, "disable", w, err);
	return r;
}

static int normalize_deploy(struct node *svc, const char *where, struct berr **err)
{
	struct node *res = node_map_get(node_map_get(svc, "deploy"), "resources");
	static const char *const sides[] = {"limits", "reservations"};
	for (size_t i = 0; res && i < ARRAY_SIZE(sides); i++) {
		struct node *m = node_map_get(res, sides[i]);
		if (!m)
			continue;
		_cleanup_free_ char *w = xasprintf("%s.deploy.resources.%s", where, sides[i]);
		int r = set_bytes(m, "memory", w, err);
		if (r == 0)
			r = set_number(m, "cpus", w, err);
		if (r < 0)
			return r;
	}
	struct node *d = node_map_get(svc, "deploy");
	if (d) {
		_cleanup_free_ char *w = xasprintf("%s.deploy", where);
		return set_int(d, "replicas", w, err);
	}
	return 0;
}

static int normalize_volumes(struct node *svc, const char *where, struct berr **err)
{
	struct node *vols = node_map_get(svc, "volumes");
	for (size_t i = 0; vols && vols->kind == NODE_SEQ && i < vols->n; i++) {
		struct node *v = vols->items[i];
		if (v->kind != NODE_MAP)
			continue;
		_cleanup_free_ char *w = xasprintf("%s.volumes[%zu]", where, i);
		int r = set_bool(v, "read_only", w, err);
		if (r == 0)
			r = set_bool(node_map_get(v, "bind"), "create_host_path", w, err);
		if (r == 0)
			r = set_bool(node_map_get(v, "volume"), "nocopy", w, err);
		struct node *tmpfs = node_map_get(v, "tmpfs");
		if (r == 0 && tmpfs)
			r = set_bytes(tmpfs, "size", w, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static void normalize_ports(struct node *svc)
{
	struct node *ports = node_map_get(svc, "ports");
	for (size_t i = 0; ports && ports->kind == NODE_SEQ && i < ports->n; i++) {
		struct node *p = ports->items[i];
		set_default(p, "mode", node_new_str("ingress", p->pos));
		set_default(p, "protocol", node_new_str("tcp", p->pos));
	}
}

static int normalize_depends_on(struct node *svc, const char *where, struct berr **err)
{
	struct node *deps = node_map_get(svc, "depends_on");
	for (size_t i = 0; deps && deps->kind == NODE_MAP && i < deps->n; i++) {
		struct node *d = deps->pairs[i].val;
		if (node_is_null(d))
			node_replace(d, node_new_map(d->pos));
		set_default(d, "condition", node_new_str("service_started", d->pos));
		set_default(d, "required", node_new_bool(true, d->pos));
		_cleanup_free_ char *w = xasprintf("%s.depends_on.%s", where, deps->pairs[i].key);
		int r = set_bool(d, "required", w, err);
		if (r == 0)
			r = set_bool(d, "restart", w, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* secrets and configs of a service: mode is a number (0440 written in octal). */
static int normalize_refs(struct node *svc, const char *key, const char *where, struct berr **err)
{
	struct node *refs = node_map_get(svc, key);
	for (size_t i = 0; refs && refs->kind == NODE_SEQ && i < refs->n; i++) {
		_cleanup_free_ char *w = xasprintf("%s.%s[%zu]", where, key, i);
		int r = set_int(refs->items[i], "mode", w, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int normalize_ulimits(struct node *svc, const char *where, struct berr **err)
{
	struct node *u = node_map_get(svc, "ulimits");
	for (size_t i = 0; u && u->kind == NODE_MAP && i < u->n; i++) {
		_cleanup_free_ char *w = xasprintf("%s.ulimits", where);
		int r = u->pairs[i].val->kind == NODE_MAP ? 0 : set_int(u, u->pairs[i].key, w, err);
		_cleanup_free_ char *w2 = xasprintf("%s.ulimits.%s", where, u->pairs[i].key);
		if (r == 0)
			r = set_int(u->pairs[i].val, "soft", w2, err);
		if (r == 0)
			r = set_int(u->pairs[i].val, "hard", w2, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static void normalize_build(struct node *svc, const struct normalize_ctx *c)
{
	struct node *b = node_map_get(svc, "build");
	if (!b || b->kind != NODE_MAP)
		return;
	set_default(b, "context", node_new_str(c->workdir, b->pos));
	if (!node_map_get(b, "dockerfile_inline"))
		set_default(b, "dockerfile", node_new_str("Dockerfile", b->pos));
}

/* The implicit default network (05-services.md#networks). */
static void normalize_service_networks(struct node *svc)
{
	if (node_map_get(svc, "networks") || node_map_get(svc, "network_mode"))
		return;
	struct node *nets = node_new_map(svc->pos);
	node_map_set(nets, "default", node_new_null(svc->pos));
	node_map_set(svc, "networks", nets);
}

/* extra_hosts as Compose prints them: a sorted list of "host=ip". */
static void normalize_extra_hosts(struct node *svc)
{
	struct node *h = node_map_get(svc, "extra_hosts");
	if (!h || h->kind != NODE_MAP)
		return;
	node_sort(h);
	struct node *seq = node_new_seq(h->pos);
	for (size_t i = 0; i < h->n; i++) {
		struct node *v = h->pairs[i].val;
		for (size_t k = 0; k < (v->kind == NODE_SEQ ? v->n : 1); k++) {
			const char *ip = node_str(v->kind == NODE_SEQ ? v->items[k] : v);
			_cleanup_free_ char *s = xasprintf("%s=%s", h->pairs[i].key, ip ? ip : "");
			node_seq_push(seq, node_new_str(s, v->pos));
		}
	}
	node_replace(h, seq);
}

int normalize_service(struct node *svc, const char *name, const struct normalize_ctx *c, struct berr **err)
{
	_cleanup_free_ char *where = xasprintf("services.%s", name);
	node_map_del(svc, "extends");
	int r = normalize_environment(svc, name, c, err);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(service_values); i++)
		r = service_values[i].fn(svc, service_values[i].key, where, err);
	if (r == 0)
		r = normalize_healthcheck(svc, where, err);
	if (r == 0)
		r = normalize_deploy(svc, where, err);
	if (r == 0)
		r = normalize_volumes(svc, where, err);
	if (r == 0)
		r = normalize_depends_on(svc, where, err);
	if (r == 0)
		r = normalize_refs(svc, "secrets", where, err);
	if (r == 0)
		r = normalize_refs(svc, "configs", where, err);
	if (r == 0)
		r = normalize_ulimits(svc, where, err);
	if (r < 0)
		return r;
	strings_in_map(node_map_get(svc, "labels"), true);
	strings_in_map(node_map_get(svc, "annotations"), true);
	strings_in_map(node_map_get(svc, "sysctls"), false);
	strings_in_map(node_map_get(svc, "storage_opt"), false);
	strings_in_map(node_map_get(node_map_get(svc, "logging"), "options"), false);
	strings_in_map(node_map_get(node_map_get(svc, "deploy"), "labels"), true);
	strings_in_map(node_map_get(node_map_get(svc, "build"), "labels"), true);
	resolve_args(node_map_get(node_map_get(svc, "build"), "args"), c->env);
	normalize_ports(svc);
	normalize_build(svc, c);
	normalize_service_networks(svc);
	normalize_extra_hosts(svc);
	return 0;
}

/* Top-level networks, volumes, secrets, configs: flags are booleans and
 * string maps print as strings. */
static int normalize_resource(struct node *r, const char *where, struct berr **err)
{
	static const char *const flags[] = {"external", "internal", "attachable", "enable_ipv4", "enable_ipv6", NULL};
	int rc = apply_setters(r, flags, set_bool, where, err);
	if (rc < 0)
		return rc;
	strings_in_map(node_map_get(r, "labels"), true);
	strings_in_map(node_map_get(r, "driver_opts"), false);
	struct node *ipam = node_map_get(r, "ipam");
	strings_in_map(node_map_get(ipam, "options"), false);
	struct node *pools = node_map_get(ipam, "config");
	for (size_t i = 0; pools && pools->kind == NODE_SEQ && i < pools->n; i++)
		strings_in_map(node_map_get(pools->items[i], "aux_addresses"), false);
	return 0;
}

static bool uses_default_network(struct node *services)
{
	for (size_t i = 0; services && i < services->n; i++)
		if (node_map_pair(node_map_get(services->pairs[i].val, "networks"), "default"))
			return true;
	return false;
}

/* Real names: explicit name:, the key for external ones, else <project>_<key>. */
static void resolve_names(struct node *section, const char *project)
{
	for (size_t i = 0; section && section->kind == NODE_MAP && i < section->n; i++) {
		struct node *r = section->pairs[i].val;
		if (r->kind != NODE_MAP || node_map_get(r, "name"))
			continue;
		bool external = false;
		node_bool(node_map_get(r, "external"), &external);
		_cleanup_free_ char *name = external ? xstrdup(section->pairs[i].key)
						     : xasprintf("%s_%s", project, section->pairs[i].key);
		node_map_set(r, "name", node_new_str(name, r->pos));
	}
}

int normalize_document(struct node *doc, const struct normalize_ctx *c, struct berr **err)
{
	drop_resets(doc);
	node_map_del(doc, "version");
	node_map_del(doc, "include");
	node_map_set(doc, "name", node_new_str(c->project, doc->pos));
	struct node *services = node_map_get(doc, "services");
	for (size_t i = 0; services && i < services->n; i++) {
		int r = normalize_service(services->pairs[i].val, services->pairs[i].key, c, err);
		if (r < 0)
			return r;
	}
	if (uses_default_network(services)) {
		struct node *nets = node_map_get(doc, "networks");
		if (!nets) {
			nets = node_new_map(doc->pos);
			node_map_set(doc, "networks", nets);
		}
		set_default(nets, "default", node_new_map(doc->pos));
	}
	static const char *const sections[] = {"networks", "volumes", "secrets", "configs"};
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
		struct node *sec = node_map_get(doc, sections[i]);
		for (size_t k = 0; sec && sec->kind == NODE_MAP && k < sec->n; k++) {
			_cleanup_free_ char *w = xasprintf("%s.%s", sections[i], sec->pairs[k].key);
			int r = normalize_resource(sec->pairs[k].val, w, err);
			if (r < 0)
				return r;
		}
		resolve_names(sec, c->project);
	}
	return 0;
}
