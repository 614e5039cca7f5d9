#include "servicebuild.h"
#include "apply.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../builder/build.h"
#include "../images/pull.h"
#include "../images/store.h"
#include "../lib/fs.h"
#include "../lib/util.h"
#include "ctrspec.h"
#include "env.h"
#include "node.h"
#include "units.h"

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
	log_warn("%s:%d: service %s: build.%s has no effect: %s", n->pos.file ? n->pos.file->path : "?", n->pos.line,
		 service, key, why);
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

/* build.cache_from: images (REF, or type=registry,ref=REF as buildx
 * writes them); another kind of cache has no effect here, said once. */
static char **cache_refs(const struct node *b, const char *service)
{
	char **out = xcalloc(1, sizeof(char *));
	struct node *cf = node_map_get(b, "cache_from");
	for (size_t i = 0; cf && cf->kind == NODE_SEQ && i < cf->n; i++) {
		const char *s = node_str(cf->items[i]);
		if (!s)
			continue;
		const char *ref = strstr(s, "ref=");
		if (!strchr(s, '=') || (startswith(s, "type=registry") && ref))
			strv_push(&out, xstrndup(ref ? ref + 4 : s, strcspn(ref ? ref + 4 : s, ",")));
		else
			warn_at(cf->items[i], service, "cache_from", "berth takes its cache from images only");
	}
	return out;
}

/* build.ulimits as the builder takes them: NAME=SOFT:HARD. */
static char **ulimit_strs(const struct node *u)
{
	char **out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; u && u->kind == NODE_MAP && i < u->n; i++) {
		long long soft, hard;
		ctrspec_ulimit(u->pairs[i].val, &soft, &hard);
		strv_push(&out, xasprintf("%s=%lld:%lld", u->pairs[i].key, soft, hard));
	}
	return out;
}

static long long bytes_of(const struct node *n)
{
	long long b = 0;
	if (n && node_int(n, &b) < 0 && node_str(n))
		bytes_parse(n->str, &b);
	return b;
}

static bool entitled(const struct node *b, const char *what)
{
	struct node *e = node_map_get(b, "entitlements");
	for (size_t i = 0; e && e->kind == NODE_SEQ && i < e->n; i++)
		if (streq(node_str(e->items[i]), what))
			return true;
	return false;
}

/* build.privileged: true, or entitlements: [security.insecure]: RUN
 * --security=insecure is allowed (as docker compose allows it). */
static bool privileged(const struct node *b)
{
	bool v = false;
	if (node_bool(node_map_get(b, "privileged"), &v) == 0 && v)
		return true;
	return entitled(b, "security.insecure");
}

/* entitlements: [network.host], or network: host: RUN --network=host. */
static bool host_network(const struct node *b)
{
	const char *net = node_str(node_map_get(b, "network"));
	return entitled(b, "network.host") || (net && streq(net, "host"));
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

struct run {
	const struct project *p;
	const char *root;
	struct svcbuild_opts *o;
	const struct apply_ctx *ctx;
	struct store *st;
	char **done, **doing; /* services built (or found) in this run, and those being built */
};

static int build_service(struct run *x, const char *name, struct berr **err);

/* additional_contexts, as NAME=VALUE: a directory (relative to the
 * project directory), docker-image://REF, or service:NAME, the image
 * built for that service (built first). */
static int named_contexts(struct run *x, const char *service, const struct node *ac, char ***out, struct berr **err)
{
	*out = xcalloc(1, sizeof(char *));
	_cleanup_(strv_freep) char **kv = ac && ac->kind == NODE_MAP ? node_kv(ac) : seq_strs(ac);
	for (size_t i = 0; kv[i]; i++) {
		char *eq = strchr(kv[i], '=');
		if (!eq || eq == kv[i])
			return node_err(err, ac, "service %s: build.additional_contexts: \"%s\" is not NAME=VALUE",
					service, kv[i]);
		*eq = '\0';
		const char *v = eq + 1;
		if (startswith(v, "service:")) {
			if (!project_service(x->p, v + 8))
				return node_err(err, ac, "service %s: build.additional_contexts: %s names no service",
						service, v);
			int r = build_service(x, v + 8, err);
			if (r < 0)
				return r;
			_cleanup_free_ char *image = svcbuild_image(x->p, v + 8);
			strv_push(out, xasprintf("%s=docker-image://%s", kv[i], image));
		} else if (startswith(v, "docker-image://")) {
			strv_push(out, xasprintf("%s=%s", kv[i], v));
		} else if (strstr(v, "://") || startswith(v, "git@")) {
			return node_err(err, ac,
					"service %s: build.additional_contexts: %s: berth takes directories, "
					"docker-image:// and service: contexts only",
					service, v);
		} else {
			_cleanup_free_ char *dir = path_join(x->p->workdir, v);
			if (!fs_is_dir(dir))
				return node_err(err, ac, "service %s: build.additional_contexts: %s is not a directory",
						service, dir);
			strv_push(out, xasprintf("%s=%s", kv[i], dir));
		}
	}
	return 0;
}

static int build_one(struct run *x, const char *service, struct berr **err)
{
	const struct project *p = x->p;
	const char *root = x->root;
	struct svcbuild_opts *o = x->o;
	struct node *svc = project_service(p, service);
	struct node *b = node_map_get(svc, "build");
	_cleanup_(strv_freep) char **contexts = NULL;
	int r = 0; /* its keys are checked with the project's (keys_check) */
	_cleanup_free_ char *platform = platform_host();
	if (r == 0)
		r = check_values(b, service, platform, err);
	if (r == 0)
		r = named_contexts(x, service, node_map_get(b, "additional_contexts"), &contexts, err);
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
	_cleanup_(strv_freep) char **ulimits = ulimit_strs(node_map_get(b, "ulimits"));
	_cleanup_(strv_freep) char **cache_from = cache_refs(b, service);
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
				.contexts = contexts,
				.shm_size = bytes_of(node_map_get(b, "shm_size")),
				.ulimits = ulimits,
				.privileged = privileged(b),
				.host_network = host_network(b),
				.cache_from = cache_from,
				.title = service,
				.out = o->out};
	char **found = NULL;
	if (r == 0 && o->check)
		r = build_check(&bo, &found, err);
	for (size_t i = 0; found && found[i]; i++)
		strv_push(&o->warnings, xasprintf("service %s: %s", service, found[i]));
	strv_free(found);
	if (r == 0 && !o->check)
		r = build_image(&bo, NULL, err);
	if (fs_exists(sdir))
		fs_remove_tree(sdir, NULL);
	if (r < 0)
		return berr_prefix(err, "service %s: build: ", service);
	if (o->built)
		strv_push(&o->built, xstrdup(service));
	return 0;
}

/* One service, once per run: built when asked to, when its pull_policy
 * is build, or when its image is missing. */
static int build_service(struct run *x, const char *name, struct berr **err)
{
	if (strv_contains(x->doing, name))
		return berr_set(err, ELOOP, "service %s: build.additional_contexts: its images need each other", name);
	if (strv_contains(x->done, name))
		return 0;
	struct node *pp_node = node_map_get(project_service(x->p, name), "pull_policy");
	const char *pp = node_str(pp_node);
	if (streq(pp, "build") && !svcbuild_has(x->p, name))
		return node_err(err, pp_node,
				"service %s: pull_policy: build, but it has no build section to build its "
				"image from",
				name);
	strv_push(&x->done, xstrdup(name));
	if (!svcbuild_has(x->p, name))
		return 0;
	bool want = x->o->always || x->o->check || streq(pp, "build");
	if (!want) {
		_cleanup_free_ char *image = svcbuild_image(x->p, name);
		char *id = NULL;
		int r = x->st ? 0 : store_open(x->root, false, &x->st, err);
		if (r < 0)
			return r;
		want = store_resolve(x->st, image, &id, NULL) < 0;
		free(id);
	}
	if (!want)
		return 0;
	if (x->ctx->dry_run) {
		_cleanup_free_ char *image = svcbuild_image(x->p, name);
		if (x->ctx->progress)
			x->ctx->progress(x->ctx->progress_data, "Image", image, "Built");
		return 0;
	}
	strv_push(&x->doing, xstrdup(name));
	int r = build_one(x, name, err);
	free(x->doing[strv_len(x->doing) - 1]);
	x->doing[strv_len(x->doing) - 1] = NULL;
	return r;
}

int svcbuild_run(const struct apply_ctx *ctx, const struct project *p, char *const *services, struct svcbuild_opts *o,
		 struct berr **err)
{
	struct run x = {.p = p,
			.root = ctx->root,
			.o = o,
			.ctx = ctx,
			.done = xcalloc(1, sizeof(char *)),
			.doing = xcalloc(1, sizeof(char *))};
	int r = 0;
	for (size_t i = 0; r == 0 && p->order[i]; i++)
		if (!services || strv_contains(services, p->order[i]))
			r = build_service(&x, p->order[i], err);
	store_close(x.st);
	strv_free(x.done);
	strv_free(x.doing);
	return r;
}
