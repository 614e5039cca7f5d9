#include "servicebuild.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../builder/build.h"
#include "../images/pull.h"
#include "../images/store.h"
#include "../lib/fs.h"
#include "../lib/util.h"
#include "ctrspec.h"
#include "env.h"
#include "node.h"

char *svcbuild_image(const struct project *p, const char *service)
{
	const char *image = node_str(node_map_get(project_service(p, service), "image"));
	return image ? xstrdup(image) : xasprintf("%s-%s", p->name, service);
}

bool svcbuild_has(const struct project *p, const char *service)
{
	struct node *b = node_map_get(project_service(p, service), "build");
	return b && b->kind == NODE_MAP;
}

static void warn_at(const struct node *n, const char *service, const char *key, const char *why)
{
	fprintf(stderr, "berth: %s:%d: service %s: build.%s has no effect: %s\n", n->pos.file ? n->pos.file->path : "?",
		n->pos.line, service, key, why);
}

/* Keys berth cannot honour: refused, with what to do. */
static int refuse(const struct node *n, const char *service, const char *key, const char *why, struct berr **err)
{
	return node_err(err, n, "service %s: build.%s is not supported by berth: %s", service, key, why);
}

static char **map_kv(const struct node *m)
{
	char **out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; m && m->kind == NODE_MAP && i < m->n; i++)
		if (!node_is_null(m->pairs[i].val) && node_str(m->pairs[i].val))
			strv_push(&out, xasprintf("%s=%s", m->pairs[i].key, node_str(m->pairs[i].val)));
	return out;
}

static char **seq_strs(const struct node *s)
{
	char **out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; s && s->kind == NODE_SEQ && i < s->n; i++)
		if (node_str(s->items[i]))
			strv_push(&out, xstrdup(node_str(s->items[i])));
	return out;
}

/* build.secrets: each declared secret's content in a file of the build's
 * own (0600), as ID=PATH. */
static int build_secrets(const struct project *p, const char *service, const struct node *list, const char *dir,
			 char ***out, struct berr **err)
{
	*out = xcalloc(1, sizeof(char *));
	struct node *decls = node_map_get(p->doc, "secrets");
	for (size_t i = 0; list && list->kind == NODE_SEQ && i < list->n; i++) {
		struct node *it = list->items[i];
		const char *src = node_str(it) ? node_str(it) : node_str(node_map_get(it, "source"));
		const char *target = node_str(node_map_get(it, "target"));
		struct node *decl = node_map_get(decls, src ? src : "");
		if (!decl)
			return node_err(err, it, "service %s: build.secrets: secret %s is not declared", service,
					src ? src : "?");
		_cleanup_free_ char *content = NULL;
		size_t len;
		int r = ctrspec_secret_content(p, "secret", src, decl, &content, &len, err);
		_cleanup_free_ char *file = xasprintf("%s/%zu", dir, i);
		if (r == 0)
			r = fs_mkdir_p(dir, 0700, err);
		if (r == 0)
			r = fs_write_replace(file, content, len, 0600, err);
		if (r < 0)
			return berr_prefix(err, "service %s: build.secrets: ", service);
		strv_push(out, xasprintf("%s=%s", target ? target : src, file));
	}
	return 0;
}

struct keyrule {
	const char *key;
	int kind; /* 0 honoured, 1 refused, 2 no effect */
	const char *why;
};

static const struct keyrule rules[] = {
	{"context", 0, NULL},
	{"dockerfile", 0, NULL},
	{"dockerfile_inline", 0, NULL},
	{"args", 0, NULL},
	{"target", 0, NULL},
	{"labels", 0, NULL},
	{"tags", 0, NULL},
	{"network", 0, NULL},
	{"extra_hosts", 0, NULL},
	{"no_cache", 0, NULL},
	{"pull", 0, NULL},
	{"secrets", 0, NULL},
	{"platforms", 0, NULL},
	{"shm_size", 2, "berth's build containers have Docker's 64 MiB /dev/shm"},
	{"ulimits", 2, "berth's build containers keep berth's own limits"},
	{"cache_from", 2, "berth keeps its own build cache, which every build uses"},
	{"cache_to", 2, "berth keeps its own build cache"},
	{"isolation", 2, "it is for Windows containers"},
	{"provenance", 2, "berth writes no attestations"},
	{"sbom", 2, "berth writes no attestations"},
	{"ssh", 1, "SSH agent forwarding into RUN is not implemented; use a secret instead"},
	{"additional_contexts", 1, "only the build context is available to COPY"},
	{"privileged", 1, "build steps always run unprivileged"},
	{"entitlements", 1, "build steps always run unprivileged"},
};

static int check_keys(const struct node *b, const char *service, struct berr **err)
{
	for (size_t i = 0; i < b->n; i++) {
		const char *k = b->pairs[i].key;
		size_t r = 0;
		while (r < ARRAY_SIZE(rules) && !streq(rules[r].key, k))
			r++;
		if (r == ARRAY_SIZE(rules)) {
			if (startswith(k, "x-"))
				continue;
			return refuse(b->pairs[i].val, service, k, "it is not a key berth knows", err);
		}
		if (rules[r].kind == 1)
			return refuse(b->pairs[i].val, service, k, rules[r].why, err);
		if (rules[r].kind == 2)
			warn_at(b->pairs[i].val, service, k, rules[r].why);
	}
	return 0;
}

static int check_values(const struct node *b, const char *service, const char *platform, struct berr **err)
{
	const char *net = node_str(node_map_get(b, "network"));
	if (net && !streq(net, "default") && !streq(net, "none") && !streq(net, "host"))
		return refuse(node_map_get(b, "network"), service, "network",
			      "RUN steps use berth's build network, none or host; not a named network", err);
	struct node *pl = node_map_get(b, "platforms");
	for (size_t i = 0; pl && pl->kind == NODE_SEQ && i < pl->n; i++)
		if (!streq(node_str(pl->items[i]), platform))
			return node_err(err, pl->items[i],
					"service %s: build.platforms: berth builds for this machine's platform (%s) "
					"only, not %s",
					service, platform, node_str(pl->items[i]) ?: "?");
	return 0;
}

static int build_one(const struct project *p, const char *root, const char *service, struct svcbuild_opts *o,
		     struct berr **err)
{
	struct node *svc = project_service(p, service);
	struct node *b = node_map_get(svc, "build");
	int r = check_keys(b, service, err);
	_cleanup_free_ char *platform = platform_host();
	if (r == 0)
		r = check_values(b, service, platform, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *image = svcbuild_image(p, service);
	_cleanup_(strv_freep) char **args = map_kv(node_map_get(b, "args"));
	for (size_t i = 0; o->args && o->args[i]; i++) {
		const char *eq = strchr(o->args[i], '=');
		_cleanup_free_ char *name = eq ? xstrndup(o->args[i], (size_t)(eq - o->args[i])) : xstrdup(o->args[i]);
		const char *v = eq ? eq + 1 : env_get(&p->env, name);
		if (v)
			strv_push(&args, xasprintf("%s=%s", name, v));
	}
	_cleanup_(strv_freep) char **tags = seq_strs(node_map_get(b, "tags"));
	strv_push(&tags, xstrdup(image));
	_cleanup_(strv_freep) char **labels = map_kv(node_map_get(b, "labels"));
	_cleanup_(strv_freep) char **hosts = seq_strs(node_map_get(b, "extra_hosts"));
	_cleanup_(strv_freep) char **secrets = NULL;
	_cleanup_free_ char *sdir = xasprintf("%s/build/secrets-%d", root, (int)getpid());
	r = build_secrets(p, service, node_map_get(b, "secrets"), sdir, &secrets, err);
	bool no_cache = o->no_cache, pull = o->pull;
	bool v;
	if (node_bool(node_map_get(b, "no_cache"), &v) == 0)
		no_cache |= v;
	if (node_bool(node_map_get(b, "pull"), &v) == 0)
		pull |= v;
	struct build_opts bo = {.root = root,
				.context = node_str(node_map_get(b, "context")),
				.dockerfile = node_str(node_map_get(b, "dockerfile")),
				.dockerfile_inline = node_str(node_map_get(b, "dockerfile_inline")),
				.args = args,
				.target = node_str(node_map_get(b, "target")),
				.tags = tags,
				.labels = labels,
				.no_cache = no_cache,
				.pull = pull,
				.quiet = !o->out,
				.network = node_str(node_map_get(b, "network")),
				.hosts = hosts,
				.secrets = secrets,
				.title = service,
				.out = o->out};
	if (r == 0 && o->check)
		r = build_check(&bo, err);
	else if (r == 0)
		r = build_image(&bo, NULL, err);
	if (fs_exists(sdir))
		fs_remove_tree(sdir, NULL);
	if (r < 0)
		return berr_prefix(err, "service %s: build: ", service);
	if (o->built)
		strv_push(&o->built, xstrdup(service));
	return 0;
}

int svcbuild_run(const struct project *p, const char *root, char *const *services, struct svcbuild_opts *o,
		 struct berr **err)
{
	struct store *st = NULL;
	int r = 0;
	for (size_t i = 0; r == 0 && p->order[i]; i++) {
		const char *name = p->order[i];
		struct node *pp_node = node_map_get(project_service(p, name), "pull_policy");
		const char *pp = node_str(pp_node);
		if (services && !strv_contains(services, name))
			continue;
		if (streq(pp, "build") && !svcbuild_has(p, name)) {
			r = node_err(err, pp_node, "service %s: pull_policy: build, but it has no build section to build "
						   "its image from",
				     name);
			break;
		}
		if (!svcbuild_has(p, name))
			continue;
		bool want = o->always || o->check || streq(pp, "build");
		if (!want) {
			_cleanup_free_ char *image = svcbuild_image(p, name);
			char *id = NULL;
			if (!st && (r = store_open(root, false, &st, err)) < 0)
				break;
			want = store_resolve(st, image, &id, NULL) < 0;
			free(id);
		}
		if (want)
			r = build_one(p, root, name, o, err);
	}
	store_close(st);
	return r;
}
