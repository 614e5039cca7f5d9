/* berth config: the resolved, normalized project, as docker compose config prints it. */
#include <errno.h>
#include <stdio.h>

#include "../lib/json.h"
#include "../lib/buf.h"
#include "../lib/fs.h"
#include "../images/pull.h"
#include "../images/store.h"
#include "../orchestrator/emit.h"
#include "../orchestrator/interp.h"
#include "../orchestrator/keys.h"
#include "cli.h"
#include "table.h"

struct config_opts {
	bool quiet, services, volumes, networks, profiles, images, no_interpolate, help, variables, environment, models;
	bool resolve_digests, lock_digests;
	const char *hash, *output, *format;
	char **positional;
};

/* ---- config --variables: each variable the files use, as written ---- */

static const char *no_value(void *data, const char *name) { return (void)data, (void)name, NULL; }

static void var_used(void *data, const char *name, char op, const char *word, size_t wlen)
{
	json_t *vars = data, *v = json_object_get(vars, name);
	if (!v) {
		v = json_pack("{s:s, s:s, s:s, s:b}", "Name", name, "DefaultValue", "", "PresenceValue", "", "Required",
			      0);
		json_object_set_new(vars, name, v);
	}
	_cleanup_free_ char *w = xstrndup(word, wlen);
	if (op == '?')
		json_object_set_new(v, "Required", json_true());
	else if (op == '-' && !json_string_length(json_object_get(v, "DefaultValue")))
		json_object_set_new(v, "DefaultValue", json_string(w));
	else if (op == '+' && !json_string_length(json_object_get(v, "PresenceValue")))
		json_object_set_new(v, "PresenceValue", json_string(w));
}

static void scan_vars(const struct node *n, const struct interp_ctx *ctx)
{
	if (n->kind == NODE_SCALAR) {
		char *out = NULL, *msg = NULL;
		if (n->tag == TAG_STR && strchr(n->str, '$'))
			interp_string(n->str, ctx, &out, &msg);
		free(out);
		free(msg);
		return;
	}
	for (size_t i = 0; i < n->n; i++)
		scan_vars(n->kind == NODE_SEQ ? n->items[i] : n->pairs[i].val, ctx);
}

/* A table (NAME REQUIRED DEFAULT VALUE ALTERNATE VALUE), or --format json
 * or yaml: one entry per variable, as docker compose config --variables. */
static void list_variables(const struct project *p, const char *format, struct buf *out)
{
	_cleanup_(json_releasep) json_t *vars = json_object();
	struct interp_ctx ctx = {.lookup = no_value, .data = vars, .used = var_used};
	scan_vars(p->doc, &ctx);
	_cleanup_(strv_freep) char **names = xcalloc(json_object_size(vars) + 1, sizeof(char *));
	size_t n = 0;
	const char *key;
	json_t *val;
	json_object_foreach(vars, key, val) names[n++] = xstrdup(key);
	strv_sort(names);
	if (format && streq(format, "json")) {
		char *s = json_dumps(vars, JSON_SORT_KEYS | JSON_INDENT(2));
		buf_printf(out, "%s\n", s);
		free(s);
	} else if (format && streq(format, "yaml")) {
		for (size_t i = 0; names[i]; i++) {
			const char *k = names[i];
			json_t *v = json_object_get(vars, k);
			/* a JSON string is a YAML double-quoted scalar */
			_cleanup_free_ char *d = json_dumps(json_object_get(v, "DefaultValue"), JSON_ENCODE_ANY);
			_cleanup_free_ char *a = json_dumps(json_object_get(v, "PresenceValue"), JSON_ENCODE_ANY);
			buf_printf(out, "%s:\n  name: %s\n  defaultvalue: %s\n  presencevalue: %s\n  required: %s\n", k,
				   k, d, a, json_is_true(json_object_get(v, "Required")) ? "true" : "false");
		}
	} else {
		fflush(stdout);
		struct table t;
		table_init(&t, 4, (const char *const[]){"NAME", "REQUIRED", "DEFAULT VALUE", "ALTERNATE VALUE"});
		for (size_t i = 0; names[i]; i++) {
			const char *k = names[i];
			json_t *v = json_object_get(vars, k);
			table_add(&t, (const char *const[]){
					      k, json_is_true(json_object_get(v, "Required")) ? "true" : "false",
					      json_string_value(json_object_get(v, "DefaultValue")),
					      json_string_value(json_object_get(v, "PresenceValue"))});
		}
		table_print(&t);
	}
}

static void list_keys(struct buf *out, struct node *section)
{
	for (size_t i = 0; section && section->kind == NODE_MAP && i < section->n; i++)
		buf_printf(out, "%s\n", section->pairs[i].key);
}

static void list_images(struct buf *out, struct project *p)
{
	for (size_t i = 0; p->order[i]; i++) {
		struct node *svc = project_service(p, p->order[i]);
		const char *img = node_str(node_map_get(svc, "image"));
		if (img)
			buf_printf(out, "%s\n", img);
		else
			buf_printf(out, "%s-%s\n", p->name, p->order[i]);
	}
}

static int list_hashes(struct buf *out, struct project *p, const char *which, struct berr **err)
{
	for (size_t i = 0; p->order[i]; i++) {
		if (!streq(which, "*") && !streq(which, p->order[i]))
			continue;
		char hash[65];
		int r = project_service_hash(p, p->order[i], hash, err);
		if (r < 0)
			return r;
		buf_printf(out, "%s %s\n", p->order[i], hash);
	}
	if (!streq(which, "*") && !project_service(p, which))
		return berr_set(err, ENOENT, "no such service: %s", which);
	return 0;
}

/* Keep only the named services and what they depend on. */
static void select_services(struct project *p, char **names)
{
	struct node *services = project_services(p);
	char **keep = strv_copy(names);
	for (size_t i = 0; keep[i]; i++) {
		struct node *deps = node_map_get(node_map_get(services, keep[i]), "depends_on");
		for (size_t k = 0; deps && k < deps->n; k++)
			if (!strv_contains(keep, deps->pairs[k].key))
				strv_push(&keep, xstrdup(deps->pairs[k].key));
	}
	for (size_t i = services->n; i > 0; i--)
		if (!strv_contains(keep, services->pairs[i - 1].key))
			node_map_del(services, services->pairs[i - 1].key);
	for (size_t i = 0, j = 0;; i++) {
		if (!p->order[i]) {
			p->order[j] = NULL;
			break;
		}
		if (strv_contains(keep, p->order[i]))
			p->order[j++] = p->order[i];
		else
			free(p->order[i]);
	}
	strv_free(keep);
}

/* Every service's image as NAME:TAG@DIGEST (the store's record of the
 * pull, else the registry's answer); with lock, the document becomes an
 * override file that says only that. */
static int pin_images(struct project *p, bool lock, struct berr **err)
{
	struct store *st = NULL;
	store_open(berth_root(), false, &st, NULL);
	struct node *services = project_services(p);
	struct node *pins = node_new_map(p->doc->pos);
	int r = 0;
	for (size_t i = 0; r == 0 && services && i < services->n; i++) {
		struct node *img = node_map_get(services->pairs[i].val, "image");
		if (!node_str(img))
			continue;
		char *digest = NULL;
		r = image_digest(st, img->str, &digest, err);
		if (r < 0) {
			r = berr_prefix(err, "service %s: ", services->pairs[i].key);
			break;
		}
		_cleanup_free_ char *pinned = strchr(img->str, '@') ? xstrdup(img->str)
								    : xasprintf("%s@%s", img->str, digest);
		free(digest);
		struct pos at = img->pos;
		struct node *one = node_new_map(at);
		node_map_set(one, "image", node_new_str(pinned, at));
		node_map_set(pins, services->pairs[i].key, one);
		node_map_set(services->pairs[i].val, "image", node_new_str(pinned, at)); /* img is freed */
	}
	store_close(st);
	if (r == 0 && lock) {
		struct node *doc = node_new_map(p->doc->pos);
		node_map_set(doc, "services", pins);
		node_free(p->doc);
		p->doc = doc;
	} else {
		node_free(pins);
	}
	return r;
}

/* docker compose prints its model in the order of compose-go's structures
 * (services' keys mostly alphabetical, but not all): berth's sorted model
 * put in that order. */
static void order_items(struct node *seq, const char *const *keys)
{
	for (size_t i = 0; seq && seq->kind == NODE_SEQ && i < seq->n; i++)
		node_order(seq->items[i], keys);
}

static void order_values(struct node *map, const char *const *keys)
{
	for (size_t i = 0; map && map->kind == NODE_MAP && i < map->n; i++)
		node_order(map->pairs[i].val, keys);
}

static void docker_order(struct node *doc)
{
	static const char *const service[] = {"name",
					      "profiles",
					      "annotations",
					      "attach",
					      "build",
					      "develop",
					      "blkio_config",
					      "cap_add",
					      "cap_drop",
					      "cgroup_parent",
					      "cgroup",
					      "cpu_count",
					      "cpu_percent",
					      "cpu_period",
					      "cpu_quota",
					      "cpu_rt_period",
					      "cpu_rt_runtime",
					      "cpus",
					      "cpuset",
					      "cpu_shares",
					      "command",
					      "configs",
					      "container_name",
					      "credential_spec",
					      "depends_on",
					      "deploy",
					      "device_cgroup_rules",
					      "devices",
					      "dns",
					      "dns_opt",
					      "dns_search",
					      "dockerfile",
					      "domainname",
					      "entrypoint",
					      "provider",
					      "environment",
					      "env_file",
					      "expose",
					      "extends",
					      "external_links",
					      "extra_hosts",
					      "group_add",
					      "gpus",
					      "hostname",
					      "healthcheck",
					      "image",
					      "init",
					      "ipc",
					      "isolation",
					      "labels",
					      "label_file",
					      "links",
					      "logging",
					      "log_driver",
					      "log_opt",
					      "mem_limit",
					      "mem_reservation",
					      "memswap_limit",
					      "mem_swappiness",
					      "mac_address",
					      "models",
					      "net",
					      "network_mode",
					      "networks",
					      "oom_kill_disable",
					      "oom_score_adj",
					      "pid",
					      "pids_limit",
					      "platform",
					      "ports",
					      "privileged",
					      "pull_policy",
					      "read_only",
					      "restart",
					      "runtime",
					      "scale",
					      "secrets",
					      "security_opt",
					      "shm_size",
					      "stdin_open",
					      "stop_grace_period",
					      "stop_signal",
					      "storage_opt",
					      "sysctls",
					      "tmpfs",
					      "tty",
					      "ulimits",
					      "use_api_socket",
					      "user",
					      "userns_mode",
					      "uts",
					      "volume_driver",
					      "volumes",
					      "volumes_from",
					      "working_dir",
					      "post_start",
					      "pre_stop",
					      NULL};
	static const char *const port[] = {"name",      "mode",     "host_ip",      "target",
					   "published", "protocol", "app_protocol", NULL};
	static const char *const volume[] = {"type", "source", "target", "read_only", "consistency",
					     "bind", "volume", "tmpfs",  "image",     NULL};
	static const char *const fileref[] = {"source", "target", "uid", "gid", "mode", NULL};
	static const char *const dep[] = {"condition", "restart", "required", NULL};
	static const char *const health[] = {"test",         "timeout",        "interval", "retries",
					     "start_period", "start_interval", "disable",  NULL};
	static const char *const deploy[] = {
		"mode",      "replicas",       "labels",    "update_config", "rollback_config",
		"resources", "restart_policy", "placement", "endpoint_mode", NULL};
	static const char *const resource[] = {"cpus", "memory", "pids", "devices", "generic_resources", NULL};
	static const char *const ulimit[] = {"soft", "hard", NULL};
	static const char *const network[] = {"name",        "driver",      "driver_opts", "ipam",
					      "external",    "internal",    "attachable",  "labels",
					      "enable_ipv4", "enable_ipv6", NULL};
	static const char *const pool[] = {"subnet", "gateway", "ip_range", "aux_addresses", NULL};
	static const char *const vol[] = {"name", "driver", "driver_opts", "external", "labels", NULL};
	static const char *const object[] = {"name",   "file",   "environment", "content",         "external",
					     "labels", "driver", "driver_opts", "template_driver", NULL};
	struct node *svcs = node_map_get(doc, "services");
	order_values(svcs, service);
	for (size_t i = 0; svcs && svcs->kind == NODE_MAP && i < svcs->n; i++) {
		struct node *svc = svcs->pairs[i].val;
		order_items(node_map_get(svc, "ports"), port);
		order_items(node_map_get(svc, "volumes"), volume);
		order_items(node_map_get(svc, "secrets"), fileref);
		order_items(node_map_get(svc, "configs"), fileref);
		order_values(node_map_get(svc, "depends_on"), dep);
		order_values(node_map_get(svc, "ulimits"), ulimit);
		node_order(node_map_get(svc, "healthcheck"), health);
		struct node *d = node_map_get(svc, "deploy");
		node_order(d, deploy);
		order_values(node_map_get(d, "resources"), resource);
	}
	order_values(node_map_get(doc, "networks"), network);
	struct node *nets = node_map_get(doc, "networks");
	for (size_t i = 0; nets && nets->kind == NODE_MAP && i < nets->n; i++)
		order_items(node_map_get(node_map_get(nets->pairs[i].val, "ipam"), "config"), pool);
	order_values(node_map_get(doc, "volumes"), vol);
	order_values(node_map_get(doc, "secrets"), object);
	order_values(node_map_get(doc, "configs"), object);
}

static int render(struct config_opts *o, struct project *p, struct buf *out, struct berr **err)
{
	if (o->resolve_digests || o->lock_digests) {
		int r = pin_images(p, o->lock_digests, err);
		if (r < 0)
			return r;
	}
	if (o->variables) {
		list_variables(p, o->format, out);
	} else if (o->environment) { /* what interpolation saw: the process's over .env */
		_cleanup_(strv_freep) char **lines = xcalloc(p->env.n + 1, sizeof(char *));
		for (size_t i = 0; i < p->env.n; i++)
			lines[i] = xasprintf("%s=%s", p->env.keys[i], p->env.vals[i]);
		strv_sort(lines);
		for (size_t i = 0; lines[i]; i++)
			buf_printf(out, "%s\n", lines[i]);
	} else if (o->models) {
		list_keys(out, node_map_get(p->doc, "models"));
	} else if (o->services) {
		for (size_t i = 0; p->order[i]; i++)
			buf_printf(out, "%s\n", p->order[i]);
	} else if (o->volumes) {
		list_keys(out, node_map_get(p->doc, "volumes"));
	} else if (o->networks) {
		list_keys(out, node_map_get(p->doc, "networks"));
	} else if (o->profiles) {
		for (size_t i = 0; p->all_profiles[i]; i++)
			buf_printf(out, "%s\n", p->all_profiles[i]);
	} else if (o->images) {
		list_images(out, p);
	} else if (o->hash) {
		return list_hashes(out, p, o->hash, err);
	} else {
		node_sort(p->doc);
		/* docker compose's order: the project's fields, and each port's */
		static const char *const top[] = {"name",    "services", "networks", "volumes",
						  "secrets", "configs",  "models",   NULL};
		node_order(p->doc, top);
		docker_order(p->doc);
		if (o->format && streq(o->format, "json")) {
			node_to_json(p->doc, out, 2);
			buf_putc(out, '\n');
			return 0;
		}
		return emit_yaml(p->doc, out, err);
	}
	return 0;
}

static int usage(const struct flag *flags, size_t n)
{
	printf("Usage: berth config [OPTIONS] [SERVICE...]\n\n"
	       "Parse, resolve and render the compose file in canonical form.\n\nOptions:\n");
	flags_usage(stdout, flags, n);
	return 0;
}

int cmd_config(struct global_opts *g, int argc, char **argv)
{
	struct config_opts o = {0};
	const struct flag flags[] = {
		{"quiet", 'q', FLAG_BOOL, &o.quiet, NULL, "Only validate; print nothing"},
		{"services", 0, FLAG_BOOL, &o.services, NULL, "Print the service names, one per line"},
		{"volumes", 0, FLAG_BOOL, &o.volumes, NULL, "Print the volume names"},
		{"networks", 0, FLAG_BOOL, &o.networks, NULL, "Print the network names"},
		{"profiles", 0, FLAG_BOOL, &o.profiles, NULL, "Print the profile names"},
		{"images", 0, FLAG_BOOL, &o.images, NULL, "Print the image names"},
		{"hash", 0, FLAG_STR, &o.hash, "SERVICE|*", "Print the configuration hash of services"},
		{"no-interpolate", 0, FLAG_BOOL, &o.no_interpolate, NULL, "Do not interpolate variables"},
		{"variables", 0, FLAG_BOOL, &o.variables, NULL,
		 "Print the variables the files use, with their defaults"},
		{"no-env-resolution", 0, FLAG_BOOL, &g->no_env_resolution, NULL, "Do not read the services' env files"},
		{"no-consistency", 0, FLAG_BOOL, &g->no_consistency, NULL, "Do not check references between services"},
		{"no-path-resolution", 0, FLAG_BOOL, &g->no_path_resolution, NULL, "Keep relative paths relative"},
		{"no-normalize", 0, FLAG_BOOL, &g->no_normalize, NULL, "Print the merged model without normalizing it"},
		{"environment", 0, FLAG_BOOL, &o.environment, NULL, "Print the environment used for interpolation"},
		{"models", 0, FLAG_BOOL, &o.models, NULL, "Print the model names"},
		{"format", 0, FLAG_STR, &o.format, "FORMAT", "yaml (default) or json"},
		{"resolve-image-digests", 0, FLAG_BOOL, &o.resolve_digests, NULL, "Pin image tags to digests"},
		{"lock-image-digests", 0, FLAG_BOOL, &o.lock_digests, NULL,
		 "Print an override file that pins every service's image to its digest"},
		{"output", 'o', FLAG_STR, &o.output, "FILE", "Write to FILE instead of standard output"},
		{"help", 'h', FLAG_BOOL, &o.help, NULL, "Show this help"},
	};
	int i = 1;
	struct berr *err = NULL;
	int rc = 0;
	if (flags_parse(flags, ARRAY_SIZE(flags), argc, argv, &i, false, &o.positional, &err) < 0) {
		rc = usage_error("config", err->msg);
		berr_free(err);
	} else if (o.help) {
		rc = usage(flags, ARRAY_SIZE(flags));
	} else if (o.format && !streq(o.format, "json") && !streq(o.format, "yaml")) {
		rc = usage_error("config", "--format takes yaml or json");
	} else {
		_cleanup_(project_freep) struct project *p = NULL;
		struct buf out = {0};
		/* --hash SERVICE and the lists need no other service's env_file */
		g->lenient_env = o.hash || o.services || o.volumes || o.networks || o.profiles || o.images;
		int r = project_open(g, o.positional, o.no_interpolate || o.variables, &p, &err);
		char *one[] = {(char *)o.hash, NULL};
		if (r == 0 && o.hash)
			r = project_env_check(p, streq(o.hash, "*") ? NULL : one, &err);
		if (r == 0 && o.positional)
			select_services(p, o.positional);
		/* what has no effect here, or what up would refuse, is said on stderr */
		if (r == 0)
			r = keys_check(p, false, stderr, &err);
		if (r == 0 && !o.quiet)
			r = render(&o, p, &out, &err);
		if (r == 0 && !o.quiet && o.output)
			r = fs_write_atomic(o.output, out.s ? out.s : "", out.len, 0644, &err);
		else if (r == 0 && !o.quiet)
			fwrite(out.s ? out.s : "", 1, out.len, stdout);
		buf_free(&out);
		rc = r < 0 ? report(err) : 0;
	}
	strv_free(o.positional);
	return rc;
}
