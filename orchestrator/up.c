/* berth up: build and pull, the plan, replaced containers stopped
 * gracefully, scale down, create, start in dependency waves; up --dry-run. */
#include "apply.h"
#include "applier.h"

#include <errno.h>

#include "../runtime/ctr.h"
#include "../network/dnsctl.h"
#include "../volumes/volume.h"
#include "ctrspec.h"
#include "servicebuild.h"
#include "netplan.h"

/* Whether service depends on dep with restart: true. */
bool apply_restarts_with(const struct project *p, const char *service, const char *dep)
{
	struct node *d = node_map_get(node_map_get(project_service(p, service), "depends_on"), dep);
	bool restart = false;
	node_bool(node_map_get(d, "restart"), &restart);
	return restart;
}

/* -t, else each container's own grace period. */
static int64_t stop_timeout(const struct up_opts *o) { return o->has_timeout ? o->timeout_ms : -1; }

/* The containers up replaces (a changed service, --force-recreate, a new
 * image, a network made again), of services only (NULL: all), stopped
 * first exactly as stop stops them: pre_stop hooks, the stop signal, the
 * grace period, then SIGKILL, dependents before what they depend on.
 * Nothing a database acknowledged is lost to a recreate. */
static int stop_replaced(const struct apply_ctx *ctx, const struct project *p, const struct planned *pl, size_t n,
			 char *const *services, const struct up_opts *o, struct berr **err)
{
	struct ctr_info *ci = xcalloc(n + 1, sizeof(*ci));
	const struct ctr_info **cs = xcalloc(n + 1, sizeof(*cs));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (pl[i].exists && !pl[i].same && (!services || strv_contains(services, pl[i].service))) {
			ci[k] = (struct ctr_info){.name = pl[i].name, .service = pl[i].service};
			cs[k] = &ci[k];
			k++;
		}
	int r = k ? apply_stop_in_rounds(ctx, p, cs, k, stop_timeout(o), false, false, NULL, NULL, err) : 0;
	free(cs);
	free(ci); /* shallow: pl owns the names */
	return r;
}

/* depends_on restart: true: a container kept as it was is restarted when
 * up recreated what it depends on (stopped here; the waves start it). */
static void restart_dependents(const struct apply_ctx *ctx, const struct project *p, const struct planned *pl, size_t n,
			       const struct up_opts *o)
{
	const char *root = ctx->root;
	for (size_t i = 0; i < n; i++) {
		if (!pl[i].same || !ctr_running(root, pl[i].name))
			continue;
		bool again = false;
		for (size_t j = 0; j < n && !again; j++)
			again = !pl[j].same && apply_restarts_with(p, pl[i].service, pl[j].service);
		if (!again)
			continue;
		apply_progress(ctx->progress, ctx->progress_data, "Container", pl[i].name, "Restarting");
		ctr_stop(root, pl[i].name, stop_timeout(o), NULL);
	}
}

/* Replicas beyond a service's count (scale went down): stopped and
 * removed, highest numbers first (the plan's order), as docker compose
 * does; their anonymous volumes too, which no container would take again. */
static int scale_down(const struct apply_ctx *ctx, const struct plan *decided, const struct up_opts *o,
		      struct berr **err)
{
	struct ctr_info *ci = xcalloc(decided->n + 1, sizeof(*ci));
	const struct ctr_info **extra = xcalloc(decided->n + 1, sizeof(*extra));
	size_t k = 0;
	for (size_t i = 0; i < decided->n; i++)
		if (decided->steps[i].verb == PLAN_REMOVE) {
			ci[k] = (struct ctr_info){.name = decided->steps[i].name,
						  .service = decided->steps[i].service,
						  .number = decided->steps[i].number};
			extra[k] = &ci[k];
			k++;
		}
	int r = k ? apply_stop_in_rounds(ctx, NULL, extra, k, stop_timeout(o), true, true, ctx->progress,
					 ctx->progress_data, err)
		  : 0;
	free(extra);
	free(ci); /* shallow: the plan owns the names */
	return r;
}

/* up --dry-run: what up would build, pull, create, recreate and start,
 * said as its progress; nothing is made. */
static int dry_up(const struct apply_ctx *ctx, const struct project *p, const struct up_opts *o, char **want,
		  struct berr **err)
{
	const char *root = ctx->root;
	struct store *st = NULL;
	int r = store_open(root, false, &st, err);
	char **ready = xcalloc(1, sizeof(char *)), **missing = xcalloc(1, sizeof(char *));
	for (size_t i = 0; r == 0 && p->order[i]; i++) {
		const char *name = p->order[i];
		if (want && !strv_contains(want, name))
			continue;
		_cleanup_free_ char *image = svcbuild_image(p, name), *id = NULL;
		bool have = store_resolve(st, image, &id, NULL) == 0;
		bool builds = svcbuild_has(p, name) && !o->no_build && (o->build || !have);
		const char *pp = o->pull ? o->pull : node_str(node_map_get(project_service(p, name), "pull_policy"));
		bool pulls = !builds && (!have || (pp && streq(pp, "always"))) && !(pp && streq(pp, "never"));
		if (builds || pulls)
			apply_progress(ctx->progress, ctx->progress_data, "Image", image, builds ? "Built" : "Pulled");
		strv_push(builds || !have ? &missing : &ready, xstrdup(name));
	}
	store_close(st);
	struct up_opts only = *o;
	only.services = ready;
	only.no_deps = true;
	struct planned *pl = NULL;
	size_t n = 0;
	struct plan decided = {0};
	if (r == 0 && ready[0])
		r = apply_plan(ctx, p, &only, NULL, 0, &decided, &pl, &n, err);
	plan_free(&decided);
	struct net_def *defs = NULL;
	size_t nd = 0;
	if (r == 0)
		r = o->all_resources ? netplan_defs_declared(p, &defs, &nd, err)
				     : netplan_defs(p, want, &defs, &nd, err);
	for (size_t i = 0; r == 0 && i < nd; i++)
		if (!net_exists(root, defs[i].name) && !defs[i].external)
			apply_progress(ctx->progress, ctx->progress_data, "Network", defs[i].name, "Created");
	netplan_defs_free(defs, nd);
	for (size_t i = 0; r == 0 && i < n; i++) {
		bool exists = pl[i].exists;
		for (size_t k = 0; !pl[i].same && k < pl[i].spec.nmounts; k++) {
			const char *v = pl[i].spec.mounts[k].volume;
			if (v && !vol_exists(root, v))
				apply_progress(ctx->progress, ctx->progress_data, "Volume", v, "Created");
		}
		if (!pl[i].same)
			apply_progress(ctx->progress, ctx->progress_data, "Container", pl[i].name,
				       exists ? "Recreated" : "Created");
		if (!o->no_start)
			apply_progress(ctx->progress, ctx->progress_data, "Container", pl[i].name,
				       pl[i].same && ctr_up(root, pl[i].name, NULL) ? "Running" : "Started");
	}
	/* what waits for its image: its containers by name only */
	for (size_t i = 0; r == 0 && missing[i]; i++) {
		int replicas = ctrspec_replicas(project_service(p, missing[i]));
		for (int k = 1; k <= replicas; k++) {
			_cleanup_free_ char *cname = ctrspec_name(p, missing[i], k);
			apply_progress(ctx->progress, ctx->progress_data, "Container", cname,
				       ctr_exists(root, cname) ? "Recreated" : "Created");
			if (!o->no_start)
				apply_progress(ctx->progress, ctx->progress_data, "Container", cname, "Started");
		}
	}
	apply_planned_free(pl, n);
	strv_free(ready);
	strv_free(missing);
	return r;
}

/* Networks whose record differs from the file (its ipam changed between
 * two ups), with the containers on them: the planner decides. */
struct diverged_list {
	struct plan_diverged *v;
	size_t n;
};

static void diverged_free(struct diverged_list *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free((char *)d->v[i].network);
		free((char *)d->v[i].why);
		strv_free((char **)d->v[i].users);
	}
	free(d->v);
}

static int diverged_networks(const struct project *p, const char *root, char *const *want, struct diverged_list *out,
			     struct berr **err)
{
	*out = (struct diverged_list){0};
	struct net_def *defs = NULL;
	size_t nd = 0;
	int r = netplan_defs(p, want, &defs, &nd, err);
	for (size_t k = 0; r == 0 && k < nd; k++) {
		char *why = net_diverged(root, &defs[k]);
		if (!why)
			continue;
		out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
		out->v[out->n++] = (struct plan_diverged){
			.network = xstrdup(defs[k].name), .why = why, .users = net_users(root, defs[k].name)};
	}
	netplan_defs_free(defs, nd);
	return r;
}

int apply_up(const struct apply_ctx *ctx, const struct project *p, const struct up_opts *o, struct berr **err)
{
	const char *root = ctx->root;
	struct planned *pl = NULL;
	size_t n = 0;
	/* the images first, so that one that cannot be had stops up before anything is made */
	_cleanup_(strv_freep) char **want = o->services ? plan_wanted(p, o->services, !o->no_deps) : NULL;
	if (ctx->dry_run) {
		char **all = want;
		if (!all) {
			all = xcalloc(1, sizeof(char *));
			for (size_t i = 0; p->order[i]; i++)
				strv_push(&all, xstrdup(p->order[i]));
		}
		int r = dry_up(ctx, p, o, all, err);
		if (all != want)
			strv_free(all);
		return r;
	}
	struct svcbuild_opts bo = {.always = o->build, .out = stderr};
	int r = o->no_build ? 0 : svcbuild_run(ctx, p, want, &bo, err);
	if (r == 0)
		r = apply_pull(ctx, p, want, o->pull, o->quiet_pull ? NULL : stderr, false, err);
	struct diverged_list dv = {0};
	if (r == 0)
		r = diverged_networks(p, root, want, &dv, err);
	struct plan decided = {0};
	if (r == 0)
		r = apply_plan(ctx, p, o, dv.v, dv.n, &decided, &pl, &n, err);
	diverged_free(&dv);
	if (r < 0)
		return r;
	/* diverged networks made again (-y): the containers on them, which
	 * the plan recreates, stopped and removed first, then the networks */
	char **remade = decided.networks, **recreate = decided.renetworked;
	if (remade[0])
		r = stop_replaced(ctx, p, pl, n, recreate, o, err);
	for (size_t i = 0; r == 0 && remade[0] && i < n; i++)
		if (pl[i].exists && strv_contains(recreate, pl[i].service)) {
			apply_progress(ctx->progress, ctx->progress_data, "Container", pl[i].name, "Recreate");
			r = apply_remove_container(root, pl[i].name, false, err);
			pl[i].exists = false;
		}
	for (size_t i = 0; r == 0 && remade[i]; i++) {
		apply_progress(ctx->progress, ctx->progress_data, "Network", remade[i], "Recreate");
		r = net_remove(root, remade[i], err);
	}
	if (r < 0) {
		apply_discard_new(root, pl, n);
		apply_planned_free(pl, n);
		plan_free(&decided);
		return r;
	}
	r = scale_down(ctx, &decided, o, err);
	bool changes = false;
	for (size_t i = 0; i < n; i++)
		changes |= !pl[i].same;
	if (r == 0 && changes)
		r = apply_check_ports(root, pl, n, err);
	if (r == 0 && changes)
		r = apply_ensure_networks(ctx, p, pl, n, o, err);
	if (r == 0 && changes)
		r = apply_ensure_volumes(ctx, p, pl, n, o, err);
	if (r == 0 && o->all_resources)
		r = apply_ensure_declared(ctx, p, o, err);
	if (r == 0)
		r = stop_replaced(ctx, p, pl, n, NULL, o, err);
	if (r < 0)
		apply_discard_new(root, pl, n);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (!pl[i].same)
			r = apply_create_one(ctx, p, &pl[i], o, err);
	if (r == 0)
		restart_dependents(ctx, p, pl, n, o);
	/* the firewall and the names follow what now exists, failed or not */
	if (changes) {
		struct berr *e = NULL;
		int s = net_sync(root, r == 0 ? err : &e);
		berr_free(e);
		if (r == 0)
			r = s;
	} else if (r == 0) {
		r = dnsctl_ensure(root, err); /* nothing changed, but the responder may have been killed */
	}
	/* after a reboot: the networks of what is kept, made again (the
	 * first step of the bring-up path start and boot take) */
	char **kept = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		kept[i] = pl[i].same ? pl[i].name : NULL;
	if (r == 0 && !o->no_start)
		r = apply_revive(ctx, kept, n, false, NULL, err);
	free(kept); /* shallow */
	/* apply_plan() keeps dependency order, so each level is a run of entries */
	int *levels = xcalloc(n + 1, sizeof(int));
	int top = 0;
	for (size_t i = 0; i < n; i++) {
		levels[i] = plan_level(p, pl[i].service);
		if (levels[i] > top)
			top = levels[i];
	}
	for (int l = 0; r == 0 && !o->no_start && l <= top; l++) {
		struct planned *wave = xcalloc(n + 1, sizeof(*wave));
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (levels[i] == l)
				wave[k++] = pl[i];
		for (size_t i = 0; r == 0 && i < k; i++)
			if (!ctr_up(root, wave[i].name, NULL))
				r = apply_wait_conditions(ctx, p, wave[i].service, err);
		char **pending = xcalloc(k + 1, sizeof(char *));
		size_t np = 0;
		for (size_t i = 0; r == 0 && i < k; i++)
			if (!ctr_up(root, wave[i].name, NULL))
				pending[np++] = wave[i].name;
		if (r == 0 && np)
			r = apply_pre_start(ctx, p, pending, np, err);
		free(pending); /* shallow */
		if (r == 0)
			r = apply_start_wave(ctx, wave, k, o, err);
		free(wave); /* a shallow copy: pl still owns everything */
	}
	free(levels);
	apply_planned_free(pl, n);
	plan_free(&decided);
	return r;
}

int apply_scale(struct project *p, const char *arg, struct berr **err)
{
	const char *eq = strchr(arg, '=');
	char *end = NULL;
	long n = eq ? strtol(eq + 1, &end, 10) : -1;
	if (!eq || !eq[1] || *end || n < 0 || n > 1000)
		return berr_set(err, EINVAL, "--scale %s: give SERVICE=N, N from 0 to 1000", arg);
	_cleanup_free_ char *name = xstrndup(arg, (size_t)(eq - arg));
	struct node *svc = project_service(p, name);
	if (!svc)
		return berr_set(err, ENOENT, "--scale %s: no such service: %s", arg, name);
	node_map_set(svc, "scale", node_new_int(n, svc->pos));
	node_map_del(node_map_get(svc, "deploy"), "replicas");
	return 0;
}
