#include "canon.h"

#include <errno.h>

#include "../lib/fs.h"
#include "units.h"

typedef int (*rule_fn)(const struct canon_ctx *c, const char *svc, struct pair *pr, struct berr **err);

void node_make_str(struct node *n)
{
	if (n->kind == NODE_SCALAR && n->tag != TAG_NULL)
		n->tag = TAG_STR;
}

static char *resolve_path(const struct canon_ctx *c, const char *p)
{
	if (c->keep_relative)
		return xstrdup(p);
	if (c->home && (streq(p, "~") || startswith(p, "~/")))
		return path_join(c->home, p[1] ? p + 2 : ".");
	return path_join(c->workdir, p);
}

static void resolve_in_place(const struct canon_ctx *c, struct node *n)
{
	if (!node_is_str(n))
		return;
	char *abs = resolve_path(c, n->str);
	free(n->str);
	n->str = abs;
}

/* string -> [string] (string_or_list keys) */
static int to_list(const struct canon_ctx *c, const char *svc, struct pair *pr, struct berr **err)
{
	struct node *v = pr->val;
	if (v->kind != NODE_SCALAR || v->tag == TAG_NULL)
		return 0;
	struct node *seq = node_new_seq(v->pos);
	node_seq_push(seq, node_clone(v));
	node_replace(v, seq);
	return 0;
}

/* ["K=V", "K"] -> {K: "V", K: null}; the key=value spelling of a mapping. */
static int to_mapping(const struct canon_ctx *c, const char *svc, struct pair *pr, struct berr **err)
{
	struct node *v = pr->val;
	if (v->kind != NODE_SEQ)
		return 0;
	struct node *map = node_new_map(v->pos);
	for (size_t i = 0; i < v->n; i++) {
		struct node *it = v->items[i];
		const char *s = node_str(it);
		if (!s || it->kind != NODE_SCALAR)
			return node_err(err, it, "services.%s.%s[%zu]: expected \"KEY=VALUE\"", svc, pr->key, i);
		const char *eq = strchr(s, '=');
		_cleanup_free_ char *key = eq ? xstrndup(s, (size_t)(eq - s)) : xstrdup(s);
		struct node *val = eq ? node_new_str(eq + 1, it->pos) : node_new_null(it->pos);
		node_map_set_at(map, key, it->pos, val);
	}
	node_replace(v, map);
	return 0;
}

/* extra_hosts: "host:ip" or "host=ip" items, or a mapping, to {host: ip}. */
static int canon_extra_hosts(const struct canon_ctx *c, const char *svc, struct pair *pr, struct berr **err)
{
	struct node *v = pr->val;
	if (v->kind == NODE_MAP) {
		for (size_t i = 0; i < v->n; i++)
			node_make_str(v->pairs[i].val);
		return 0;
	}
	struct node *map = node_new_map(v->pos);
	for (size_t i = 0; i < v->n; i++) {
		const char *s = node_str(v->items[i]);
		const char *sep = s ? strchr(s, '=') : NULL;
		if (s && !sep)
			sep = strchr(s, ':');
		if (!sep) {
			node_free(map);
			return node_err(err, v->items[i], "services.%s.extra_hosts[%zu]: expected \"HOST=IP\"", svc, i);
		}
		_cleanup_free_ char *host = xstrndup(s, (size_t)(sep - s));
		node_map_set_at(map, host, v->items[i]->pos, node_new_str(sep + 1, v->items[i]->pos));
	}
	node_replace(v, map);
	return 0;
}

/* depends_on: [a, b] -> {a: {condition: service_started}, ...} */
static int canon_depends_on(const struct canon_ctx *c, const char *svc, struct pair *pr, struct berr **err)
{
	struct node *v = pr->val;
	if (v->kind != NODE_SEQ)
		return 0;
	struct node *map = node_new_map(v->pos);
	for (size_t i = 0; i < v->n; i++) {
		struct node *dep = node_new_map(v->items[i]->pos);
		node_map_set(dep, "condition", node_new_str("service_started", v->items[i]->pos));
		node_map_set_at(map, v->items[i]->str, v->items[i]->pos, dep);
	}
	node_replace(v, map);
	return 0;
}

/* networks: [a, b] -> {a: null, b: null} */
static int canon_networks(const struct canon_ctx *c, const char *svc, struct pair *pr, struct berr **err)
{
	struct node *v = pr->val;
	if (v->kind != NODE_SEQ)
		return 0;
	struct node *map = node_new_map(v->pos);
	for (size_t i = 0; i < v->n; i++)
		node_map_set_at(map, v->items[i]->str, v->items[i]->pos, node_new_null(v->items[i]->pos));
	node_replace(v, map);
	return 0;
}

/* command, entrypoint: a string is split into words (no implicit sh -c). */
static int canon_command(const struct canon_ctx *c, const char *svc, struct pair *pr, struct berr **err)
{
	struct node *v = pr->val;
	if (!node_is_str(v))
		return 0;
	char **words = shell_split(v->str);
	if (!words)
		return node_err(err, v, "services.%s.%s: unclosed quote in \"%s\"", svc, pr->key, v->str);
	struct node *seq = node_new_seq(v->pos);
	for (size_t i = 0; words[i]; i++)
		node_seq_push(seq, node_new_str(words[i], v->pos));
	strv_free(words);
	node_replace(v, seq);
	return 0;
}

static bool is_remote(const char *s)
{
	return strstr(s, "://") || startswith(s, "git@") || startswith(s, "github.com/");
}

static int canon_build(const struct canon_ctx *c, const char *svc, struct pair *pr, struct berr **err)
{
	struct node *v = pr->val;
	if (node_is_str(v)) {
		struct node *map = node_new_map(v->pos);
		node_map_set(map, "context", node_clone(v));
		node_replace(v, map);
	}
	struct node *ctx = node_map_get(v, "context");
	if (node_is_str(ctx) && !is_remote(ctx->str))
		resolve_in_place(c, ctx);
	struct pair *args = node_map_pair(v, "args");
	if (args)
		to_mapping(c, svc, args, err);
	struct pair *labels = node_map_pair(v, "labels");
	if (labels)
		to_mapping(c, svc, labels, err);
	return 0;
}

/* env_file: string | [string | {path, required, format}] -> [{path, required?, format?}] */
static int canon_env_file(const struct canon_ctx *c, const char *svc, struct pair *pr, struct berr **err)
{
	to_list(c, svc, pr, err);
	struct node *v = pr->val;
	for (size_t i = 0; v->kind == NODE_SEQ && i < v->n; i++) {
		struct node *it = v->items[i];
		if (it->kind == NODE_SCALAR) {
			struct node *m = node_new_map(it->pos);
			node_map_set(m, "path", node_clone(it));
			node_replace(it, m);
		}
		resolve_in_place(c, node_map_get(it, "path"));
	}
	return 0;
}

static int canon_path_list(const struct canon_ctx *c, const char *svc, struct pair *pr, struct berr **err)
{
	to_list(c, svc, pr, err);
	for (size_t i = 0; pr->val->kind == NODE_SEQ && i < pr->val->n; i++)
		resolve_in_place(c, pr->val->items[i]);
	return 0;
}

static int canon_healthcheck(const struct canon_ctx *c, const char *svc, struct pair *pr, struct berr **err)
{
	struct node *test = node_map_get(pr->val, "test");
	if (node_is_str(test)) {
		struct node *seq = node_new_seq(test->pos);
		node_seq_push(seq, node_new_str("CMD-SHELL", test->pos));
		node_seq_push(seq, node_clone(test));
		node_replace(test, seq);
	}
	return 0;
}

/* secrets, configs: "name" -> {source: name} */
static int canon_refs(const struct canon_ctx *c, const char *svc, struct pair *pr, struct berr **err)
{
	struct node *v = pr->val;
	for (size_t i = 0; v->kind == NODE_SEQ && i < v->n; i++) {
		struct node *it = v->items[i];
		if (it->kind != NODE_SCALAR)
			continue;
		struct node *m = node_new_map(it->pos);
		node_map_set(m, "source", node_clone(it));
		node_replace(it, m);
	}
	return 0;
}

static int canon_expose(const struct canon_ctx *c, const char *svc, struct pair *pr, struct berr **err)
{
	for (size_t i = 0; pr->val->kind == NODE_SEQ && i < pr->val->n; i++)
		node_make_str(pr->val->items[i]);
	return 0;
}

static int canon_extends(const struct canon_ctx *c, const char *svc, struct pair *pr, struct berr **err)
{
	struct node *v = pr->val;
	if (node_is_str(v)) {
		struct node *m = node_new_map(v->pos);
		node_map_set(m, "service", node_clone(v));
		node_replace(v, m);
	}
	return 0;
}

/* devices: "src[:dst[:perms]]" -> {source, target, permissions} */
static int canon_devices(const struct canon_ctx *c, const char *svc, struct pair *pr, struct berr **err)
{
	struct node *v = pr->val;
	for (size_t i = 0; v->kind == NODE_SEQ && i < v->n; i++) {
		struct node *it = v->items[i];
		if (!node_is_str(it))
			continue;
		_cleanup_free_ char *copy = xstrdup(it->str);
		char *parts[3] = {copy, NULL, NULL};
		for (int k = 1; k < 3 && parts[k - 1]; k++) {
			char *colon = strchr(parts[k - 1], ':');
			if (colon) {
				*colon = '\0';
				parts[k] = colon + 1;
			}
		}
		struct node *m = node_new_map(it->pos);
		node_map_set(m, "source", node_new_str(parts[0], it->pos));
		node_map_set(m, "target", node_new_str(parts[1] ? parts[1] : parts[0], it->pos));
		node_map_set(m, "permissions", node_new_str(parts[2] ? parts[2] : "rwm", it->pos));
		node_replace(it, m);
	}
	return 0;
}

static struct node *port_node(const struct port_spec *p, struct pos pos)
{
	struct node *m = node_new_map(pos);
	if (p->host_ip[0])
		node_map_set(m, "host_ip", node_new_str(p->host_ip, pos));
	if (p->published[0])
		node_map_set(m, "published", node_new_str(p->published, pos));
	node_map_set(m, "protocol", node_new_str(p->protocol, pos));
	node_map_set(m, "target", node_new_int(p->target, pos));
	return m;
}

static int canon_long_port(struct node *it, const char *svc, size_t i, struct berr **err)
{
	struct node *t = node_map_get(it, "target");
	long long target;
	if (!t)
		return node_err(err, it,
				"services.%s.ports[%zu]: the key \"target\" is required (the port inside "
				"the container)",
				svc, i);
	if (node_int(t, &target) < 0)
		return node_err(err, t, "services.%s.ports[%zu].target: \"%s\" is not a port number", svc, i, t->str);
	if (target < 1 || target > 65535)
		return node_err(err, t, "services.%s.ports[%zu].target: %lld is not between 1 and 65535", svc, i,
				target);
	node_map_set(it, "target", node_new_int(target, t->pos));
	struct node *pub = node_map_get(it, "published");
	if (pub)
		node_make_str(pub);
	return 0;
}

static int canon_ports(const struct canon_ctx *c, const char *svc, struct pair *pr, struct berr **err)
{
	struct node *v = pr->val;
	if (v->kind != NODE_SEQ)
		return 0;
	struct node *out = node_new_seq(v->pos);
	for (size_t i = 0; i < v->n; i++) {
		struct node *it = v->items[i];
		if (it->kind == NODE_MAP) {
			int r = canon_long_port(it, svc, i, err);
			if (r < 0) {
				node_free(out);
				return r;
			}
			node_seq_push(out, node_clone(it));
			continue;
		}
		size_t n;
		struct berr *why = NULL;
		_cleanup_free_ struct port_spec *specs = NULL;
		int r = port_parse(it->str, NULL, 0, &n, &why);
		if (r == 0) {
			specs = xcalloc(n, sizeof(*specs));
			r = port_parse(it->str, specs, n, &n, &why);
		}
		if (r < 0) {
			node_free(out);
			r = node_err(err, it, "services.%s.ports[%zu]: invalid port \"%s\": %s", svc, i, it->str,
				     why->msg);
			berr_free(why);
			return r;
		}
		for (size_t k = 0; k < n; k++)
			node_seq_push(out, port_node(&specs[k], it->pos));
	}
	node_replace(v, out);
	return 0;
}

static bool is_volume_mode(const char *s)
{
	static const char *const modes[] = {"ro",       "rw",      "z",         "Z",         "nocopy",
					    "shared",   "rshared", "slave",     "rslave",    "private",
					    "rprivate", "cached",  "delegated", "consistent"};
	_cleanup_free_ char *copy = xstrdup(s);
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		bool ok = false;
		for (size_t i = 0; i < ARRAY_SIZE(modes) && !ok; i++)
			ok = streq(t, modes[i]);
		if (!ok)
			return false;
	}
	return true;
}

static void apply_volume_mode(struct node *m, const char *mode, bool bind, struct pos p)
{
	_cleanup_free_ char *copy = xstrdup(mode);
	char *save = NULL;
	struct node *opts = node_map_get(m, bind ? "bind" : "volume");
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (streq(t, "ro"))
			node_map_set(m, "read_only", node_new_bool(true, p));
		else if (streq(t, "rw"))
			node_map_del(m, "read_only");
		else if ((streq(t, "z") || streq(t, "Z")) && bind)
			node_map_set(opts, "selinux", node_new_str(t, p));
		else if (streq(t, "nocopy") && !bind)
			node_map_set(opts, "nocopy", node_new_bool(true, p));
		else if (strstr("shared rshared slave rslave private rprivate", t) && bind)
			node_map_set(opts, "propagation", node_new_str(t, p));
		else if (strstr("cached delegated consistent", t))
			node_map_set(m, "consistency", node_new_str(t, p));
	}
}

static bool is_path_source(const char *s) { return s[0] == '/' || s[0] == '.' || s[0] == '~'; }

/* "[SOURCE:]TARGET[:MODE]" -> {type, source, target, read_only, bind|volume} */
static int short_volume(const struct canon_ctx *c, const char *svc, size_t i, struct node *it, struct berr **err)
{
	_cleanup_free_ char *copy = xstrdup(it->str);
	char *parts[4] = {0};
	size_t n = 0;
	char *save = NULL;
	for (char *t = strtok_r(copy, ":", &save); t && n < 4; t = strtok_r(NULL, ":", &save))
		parts[n++] = t;
	if (n == 0 || n > 3 || (n == 2 && !parts[1][0]))
		return node_err(err, it, "services.%s.volumes[%zu]: invalid volume \"%s\"; use SOURCE:TARGET[:MODE]",
				svc, i, it->str);
	const char *source = NULL, *target, *mode = NULL;
	if (n == 1)
		target = parts[0];
	else if (n == 2 && parts[1][0] != '/' && is_volume_mode(parts[1])) {
		target = parts[0];
		mode = parts[1];
	} else {
		source = parts[0];
		target = parts[1];
		mode = n == 3 ? parts[2] : NULL;
	}
	if (mode && !is_volume_mode(mode))
		return node_err(err, it, "services.%s.volumes[%zu]: unknown mode \"%s\"; use ro, rw, z, Z or nocopy",
				svc, i, mode);
	bool bind = source && is_path_source(source);
	struct pos p = it->pos;
	struct node *m = node_new_map(p);
	node_map_set(m, "type", node_new_str(bind ? "bind" : "volume", p));
	if (source) {
		_cleanup_free_ char *abs = bind ? resolve_path(c, source) : xstrdup(source);
		node_map_set(m, "source", node_new_str(abs, p));
	}
	node_map_set(m, "target", node_new_str(target, p));
	struct node *opts = node_new_map(p);
	if (bind)
		node_map_set(opts, "create_host_path", node_new_bool(true, p));
	node_map_set(m, bind ? "bind" : "volume", opts);
	if (mode)
		apply_volume_mode(m, mode, bind, p);
	node_replace(it, m);
	return 0;
}

static int canon_volumes(const struct canon_ctx *c, const char *svc, struct pair *pr, struct berr **err)
{
	struct node *v = pr->val;
	for (size_t i = 0; v->kind == NODE_SEQ && i < v->n; i++) {
		struct node *it = v->items[i];
		if (node_is_str(it)) {
			int r = short_volume(c, svc, i, it, err);
			if (r < 0)
				return r;
			continue;
		}
		struct node *type = node_map_get(it, "type");
		struct node *src = node_map_get(it, "source");
		if (node_is_str(type) && streq(type->str, "bind") && node_is_str(src))
			resolve_in_place(c, src);
	}
	return 0;
}

/* pre_start steps: each command as a list, each environment a mapping. */
static int canon_pre_start(const struct canon_ctx *c, const char *svc, struct pair *pr, struct berr **err)
{
	for (size_t i = 0; pr->val->kind == NODE_SEQ && i < pr->val->n; i++) {
		struct node *step = pr->val->items[i];
		struct pair *cmd = node_map_pair(step, "command"), *env = node_map_pair(step, "environment");
		int r = cmd && !node_is_null(cmd->val) ? canon_command(c, svc, cmd, err) : 0;
		if (r == 0 && env && !node_is_null(env->val))
			r = to_mapping(c, svc, env, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static const struct {
	const char *key;
	rule_fn fn;
} service_rules[] = {
	{"annotations", to_mapping},
	{"build", canon_build},
	{"command", canon_command},
	{"configs", canon_refs},
	{"depends_on", canon_depends_on},
	{"devices", canon_devices},
	{"dns", to_list},
	{"dns_search", to_list},
	{"entrypoint", canon_command},
	{"env_file", canon_env_file},
	{"environment", to_mapping},
	{"expose", canon_expose},
	{"extends", canon_extends},
	{"extra_hosts", canon_extra_hosts},
	{"healthcheck", canon_healthcheck},
	{"label_file", canon_path_list},
	{"labels", to_mapping},
	{"networks", canon_networks},
	{"ports", canon_ports},
	{"pre_start", canon_pre_start},
	{"secrets", canon_refs},
	{"sysctls", to_mapping},
	{"tmpfs", to_list},
	{"volumes", canon_volumes},
};

int canon_service(struct node *svc, const char *name, const struct canon_ctx *c, struct berr **err)
{
	if (svc->kind != NODE_MAP)
		return 0;
	for (size_t k = 0; k < ARRAY_SIZE(service_rules); k++) {
		struct pair *pr = node_map_pair(svc, service_rules[k].key);
		if (!pr || node_is_null(pr->val))
			continue;
		int r = service_rules[k].fn(c, name, pr, err);
		if (r < 0)
			return r;
	}
	struct node *deploy = node_map_get(svc, "deploy");
	struct pair *dl = node_map_pair(deploy, "labels");
	if (dl)
		to_mapping(c, name, dl, err);
	return 0;
}

/* Top-level networks, volumes, secrets, configs: null -> {}, legacy external.name. */
static void canon_resources(struct node *section, const struct canon_ctx *c, bool files)
{
	for (size_t i = 0; section && section->kind == NODE_MAP && i < section->n; i++) {
		struct node *r = section->pairs[i].val;
		if (node_is_null(r)) {
			node_replace(r, node_new_map(r->pos));
			continue;
		}
		struct node *ext = node_map_get(r, "external");
		if (ext && ext->kind == NODE_MAP) {
			struct node *name = node_map_take(ext, "name");
			if (name)
				node_map_set(r, "name", name);
			node_replace(ext, node_new_bool(true, ext->pos));
		}
		if (files)
			resolve_in_place(c, node_map_get(r, "file"));
		struct pair *labels = node_map_pair(r, "labels");
		if (labels)
			to_mapping(c, section->pairs[i].key, labels, NULL);
	}
}

int canon_document(struct node *doc, const struct canon_ctx *c, struct berr **err)
{
	struct node *services = node_map_get(doc, "services");
	for (size_t i = 0; services && services->kind == NODE_MAP && i < services->n; i++) {
		struct pair *pr = &services->pairs[i];
		if (node_is_null(pr->val))
			node_replace(pr->val, node_new_map(pr->val->pos));
		int r = canon_service(pr->val, pr->key, c, err);
		if (r < 0)
			return r;
	}
	canon_resources(node_map_get(doc, "networks"), c, false);
	canon_resources(node_map_get(doc, "volumes"), c, false);
	canon_resources(node_map_get(doc, "secrets"), c, true);
	canon_resources(node_map_get(doc, "configs"), c, true);
	return 0;
}
