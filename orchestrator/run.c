/* berth run: a one-off container of a service. */
#include "apply.h"
#include "applier.h"
#include "canon.h"
#include "normalize.h"

#include <errno.h>

#include "../runtime/console.h"
#include "../runtime/ctr.h"
#include "../images/imgcfg.h"
#include "check.h"
#include "servicebuild.h"

static struct node *str_seq(char *const *v, struct pos at)
{
	struct node *seq = node_new_seq(at);
	for (size_t i = 0; v && v[i]; i++)
		node_seq_push(seq, node_new_str(v[i], at));
	return seq;
}

/* The service as run sees it: another command, name and environment, no
 * published ports (unless asked), no restart policy. */
/* run's -p, -v, -l, --cap-add, --cap-drop and --env-from-file: a service
 * fragment in short syntax, made long and normalized as the file's own
 * keys are, then added to the service. */
static int run_fragment(struct project *p, const struct run_opts *o, struct node *svc, struct berr **err)
{
	struct pos at = svc->pos;
	_cleanup_(node_freep) struct node *f = node_new_map(at);
	const struct {
		const char *key;
		char **vals;
	} lists[] = {{"ports", o->publish},   {"volumes", o->volumes},   {"labels", o->labels},
		     {"cap_add", o->cap_add}, {"cap_drop", o->cap_drop}, {"env_file", o->env_files}};
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		if (lists[i].vals && lists[i].vals[0])
			node_map_set(f, lists[i].key, str_seq(lists[i].vals, at));
	if (!f->n)
		return 0;
	struct canon_ctx cc = {.workdir = p->workdir, .home = getenv("HOME")};
	struct normalize_ctx nc = {.project = p->name, .env = &p->env, .workdir = p->workdir};
	int r = canon_service(f, o->service, &cc, err);
	if (r == 0)
		r = normalize_service(f, o->service, &nc, err);
	if (r < 0)
		return berr_prefix(err, "berth run: ");
	for (size_t i = 0; i < f->n; i++) {
		const char *key = f->pairs[i].key;
		struct node *add = f->pairs[i].val, *have = node_map_get(svc, key);
		if (add->kind == NODE_SEQ && (!have || have->kind != NODE_SEQ)) {
			have = node_new_seq(at);
			node_map_set(svc, key, have);
		} else if (add->kind == NODE_MAP && (!have || have->kind != NODE_MAP)) {
			have = node_new_map(at);
			node_map_set(svc, key, have);
		}
		for (size_t k = 0; add->kind == NODE_SEQ && k < add->n; k++)
			node_seq_push(have, node_clone(add->items[k]));
		for (size_t k = 0; add->kind == NODE_MAP && k < add->n; k++)
			node_map_set(have, add->pairs[k].key, node_clone(add->pairs[k].val));
	}
	return 0;
}

static int run_service(struct project *p, const struct run_opts *o, const char *name, struct berr **err)
{
	struct node *svc = project_service(p, o->service);
	struct pos at = svc->pos;
	if (o->command)
		node_map_set(svc, "command", str_seq(o->command, at));
	if (o->entrypoint)
		node_map_set(svc, "entrypoint", str_seq(o->entrypoint, at));
	node_map_set(svc, "container_name", node_new_str(name, at));
	node_map_set(svc, "restart", node_new_str("no", at));
	node_map_set(svc, "tty", node_new_bool(o->tty && !o->detach, at));
	node_map_del(svc, "deploy");
	node_map_del(svc, "scale");
	struct node *ports = node_map_get(svc, "ports");
	if (o->publish_all && ports && ports->kind == NODE_SEQ) {
		/* -P: each port of the service on an ephemeral host port */
		for (size_t i = 0; i < ports->n; i++) {
			node_map_del(ports->items[i], "published");
			node_map_del(ports->items[i], "host_ip");
		}
	} else if (!o->service_ports) {
		node_map_del(svc, "ports");
	}
	struct node *expose = node_map_get(svc, "expose");
	for (size_t i = 0; o->publish_all && expose && expose->kind == NODE_SEQ && i < expose->n; i++) {
		const char *e = node_str(expose->items[i]);
		if (!e)
			continue;
		ports = node_map_get(svc, "ports");
		if (!ports || ports->kind != NODE_SEQ) {
			ports = node_new_seq(at);
			node_map_set(svc, "ports", ports);
		}
		struct node *pm = node_new_map(at);
		node_map_set(pm, "target", node_new_int(atoll(e), at));
		node_map_set(pm, "protocol", node_new_str(strchr(e, '/') ? strchr(e, '/') + 1 : "tcp", at));
		node_map_set(pm, "mode", node_new_str("ingress", at));
		node_seq_push(ports, pm);
	}
	if (o->user)
		node_map_set(svc, "user", node_new_str(o->user, at));
	if (o->workdir)
		node_map_set(svc, "working_dir", node_new_str(o->workdir, at));
	int r = run_fragment(p, o, svc, err);
	if (r < 0)
		return r;
	struct node *env = node_map_get(svc, "environment");
	if (!env || env->kind != NODE_MAP) {
		env = node_new_map(at);
		node_map_set(svc, "environment", env);
	}
	for (size_t i = 0; o->env && o->env[i]; i++) {
		const char *eq = strchr(o->env[i], '=');
		_cleanup_free_ char *k = eq ? xstrndup(o->env[i], (size_t)(eq - o->env[i])) : xstrdup(o->env[i]);
		const char *v = eq ? eq + 1 : getenv(k);
		if (v) /* -e NAME: berth's own NAME; unset when berth has none */
			node_map_set(env, k, node_new_str(v, at));
		else
			node_map_del(env, k);
	}
	return 0;
}

int apply_run(const struct apply_ctx *ctx, struct project *p, const struct run_opts *o, char **name, int *exit_code,
	      struct berr **err)
{
	const char *root = ctx->root;
	*name = NULL;
	*exit_code = 0;
	struct node *svc = project_service(p, o->service);
	if (!svc)
		return berr_set(err, ENOENT, "no such service: %s", o->service);
	/* what it depends on runs first, as up would start it */
	_cleanup_(strv_freep) char **deps = o->no_deps ? NULL : check_dependencies(svc);
	int r = 0;
	if (deps && deps[0]) {
		struct up_opts up = {.services = deps};
		r = apply_up(ctx, p, &up, err);
		if (r == 0) /* and their conditions, as up waits for them */
			r = apply_wait_conditions(ctx, p, o->service, err);
	}
	char *self[] = {(char *)o->service, NULL};
	struct svcbuild_opts bo = {.always = o->build, .out = stderr};
	if (r == 0)
		r = svcbuild_run(ctx, p, self, &bo, err);
	struct apply_ctx pulling = *ctx; /* --quiet-pull: no pull is said */
	if (o->quiet_pull)
		pulling.progress = NULL;
	if (r == 0)
		r = apply_pull(&pulling, p, self, o->pull, o->quiet_pull ? NULL : stderr, false, err);
	_cleanup_free_ char *id = apply_short_id();
	char sep = p->sep ? p->sep : '-';
	char *cname = o->name ? xstrdup(o->name) : xasprintf("%s%c%s%crun%c%s", p->name, sep, o->service, sep, sep, id);
	*name = cname;
	if (r == 0 && ctr_exists(root, cname))
		r = berr_set(err, EEXIST,
			     "a container named %s exists already; remove it (berth rm) or give another "
			     "--name",
			     cname);
	if (r < 0)
		return r;
	r = run_service(p, o, cname, err);
	if (r == 0 && ctx->dry_run) { /* the one-off, said; nothing made */
		apply_progress(ctx->progress, ctx->progress_data, "Container", cname, "Created");
		apply_progress(ctx->progress, ctx->progress_data, "Container", cname, "Started");
		return 0;
	}
	struct store *st = NULL;
	struct planned *pl = xcalloc(1, sizeof(*pl));
	if (r == 0)
		r = store_open(root, false, &st, err);
	if (r == 0)
		r = apply_prepare_oneoff(ctx, p, st, o->service, 1, NULL, pl, err);
	store_close(st);
	/* a one-off answers to its own name, not the service's, unless --use-aliases */
	pl->ep.no_service_name = !o->use_aliases;
	for (size_t i = 0; !o->use_aliases && i < pl->ep.nlinks; i++) {
		strv_free(pl->ep.links[i].aliases);
		pl->ep.links[i].aliases = xcalloc(1, sizeof(char *));
	}
	pl->spec.attach = !o->detach;
	pl->oneoff = true;
	char exe[4096];
	ssize_t sl = o->rm && o->detach ? readlink("/proc/self/exe", exe, sizeof(exe) - 1) : -1;
	if (sl > 0) { /* run -d --rm: its shim has berth remove it once it ends */
		exe[sl] = 0;
		pl->spec.autoremove = xstrdup(exe);
	}
	pl->spec.tty_rows = o->rows;
	pl->spec.tty_cols = o->cols;
	struct up_opts uo = {0};
	if (r == 0)
		r = apply_check_ports(root, pl, 1, err);
	if (r == 0)
		r = apply_ensure_networks(ctx, p, pl, 1, &uo, err);
	if (r == 0)
		r = apply_ensure_volumes(ctx, p, pl, 1, &uo, err);
	if (r < 0)
		apply_discard_new(root, pl, 1);
	struct up_opts quiet = {0};
	struct apply_ctx silent = *ctx; /* the one-off container itself is not announced */
	silent.progress = NULL;
	bool made = false;
	if (r == 0)
		r = apply_create_one(&silent, p, pl, &quiet, err);
	made = r == 0 || ctr_exists(root, cname);
	if (r == 0)
		r = net_sync(root, err);
	/* attached: the container's stdio are pipes or a terminal of its own, relayed */
	struct console_link link;
	if (r == 0 && pl->spec.attach && console_link_open(&link, pl->spec.tty) < 0)
		r = berr_sys(err, errno, "cannot set up the stdio of %s", cname);
	int ready = -1;
	if (r == 0)
		r = ctr_start_launch(root, cname, pl->spec.attach ? link.shim : NULL, &ready, err);
	if (r == 0)
		r = ctr_start_finish(cname, ready, err);
	bool attached = pl->spec.attach;
	apply_planned_free(pl, 1);
	if (attached && (r < 0 || o->detach))
		console_link_close(&link);
	if (r < 0 && made) {
		/* it could not start: its exit code as docker's (126, 127), and
		 * with --rm it goes, as docker run --rm removes it */
		struct ctr_state cs;
		if (ctr_state(root, cname, &cs, NULL) == 0) {
			*exit_code = cs.exit_code;
			state_free(&cs);
		}
		if (o->rm && apply_remove_container(root, cname, true, NULL) == 0)
			net_sync(root, NULL);
	}
	if (r < 0 || o->detach)
		return r;
	if (o->lock && *o->lock >= 0) {
		close(*o->lock);
		*o->lock = -1;
	}
	int lost = console_link_relay(&link);
	r = ctr_wait(root, cname, exit_code, err);
	if (r == 0 && o->rm && o->lock)
		r = apply_lock(root, p->name, o->lock, err);
	if (r == 0 && o->rm) {
		r = apply_remove_container(root, cname, true, err);
		if (r == 0)
			r = net_sync(root, err);
	}
	if (r == 0 && lost < 0)
		r = berr_sys(err, -lost, "cannot write the output of %s", cname);
	return r;
}
