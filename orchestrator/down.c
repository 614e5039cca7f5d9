/* Stopping and removing: in rounds, dependents first (stop, down,
 * rm, orphans). */
#include "apply.h"
#include "applier.h"

#include <dirent.h>

#include "../lib/log.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../runtime/ctr.h"
#include "../runtime/events.h"
#include "../volumes/volume.h"
#include "check.h"

int apply_remove_container(const char *root, const char *name, bool volumes, struct berr **err)
{
	json_t *meta = volumes ? apply_meta(root, name) : NULL;
	_cleanup_(strv_freep) char **anon = json_strv(json_object_get(meta, "anonymous_volumes"));
	json_decref(meta);
	int r = ctr_remove(root, name, true, err);
	if (r == 0)
		r = net_detach(root, name, err);
	/* its anonymous volumes, unless another container still has one */
	for (size_t i = 0; r == 0 && anon && anon[i]; i++) {
		const char *vol = strrchr(anon[i], '=');
		_cleanup_(berr_freep) struct berr *e = NULL;
		if (vol && vol_exists(root, vol + 1) && ctr_volume_remove(root, vol + 1, false, &e) < 0)
			log_error("%s", e->msg);
	}
	if (r == 0)
		events_add(root, name, "destroy", NULL);
	return r;
}

/* The round in which each container may stop: 0 when no container of the
 * list depends on its service, else one after its last dependent. */
static size_t *stop_rounds(const struct project *p, const struct ctr_info *const *cs, size_t n, size_t *nrounds)
{
	size_t *round = xcalloc(n + 1, sizeof(size_t));
	char ***deps = xcalloc(n + 1, sizeof(char **));
	for (size_t i = 0; i < n; i++) {
		struct node *svc = p ? project_service(p, cs[i]->service) : NULL;
		deps[i] = svc ? check_dependencies(svc) : xcalloc(1, sizeof(char *));
	}
	/* the graph has no cycle (the loader refuses them): it settles, at
	 * the latest after n passes */
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t d = 0; d < n; d++)
			for (size_t c = 0; c < n; c++)
				if (round[c] < round[d] + 1 && !streq(cs[c]->service, cs[d]->service) &&
				    strv_contains(deps[d], cs[c]->service)) {
					round[c] = round[d] + 1;
					changed = true;
				}
	}
	*nrounds = 0;
	for (size_t i = 0; i < n; i++) {
		if (round[i] + 1 > *nrounds)
			*nrounds = round[i] + 1;
		strv_free(deps[i]);
	}
	free(deps);
	return round;
}

/* Stops the containers round by round, every container of a round at
 * once (as docker compose does: the grace periods of one round run side
 * by side), dependents before what they depend on; with remove, the
 * files of one round go while the next one stops. */
int apply_stop_in_rounds(const struct apply_ctx *ctx, const struct project *p, const struct ctr_info *const *cs,
			 size_t n, int64_t timeout_ms, bool remove, bool volumes, progress_fn fn, void *data,
			 struct berr **err)
{
	const char *root = ctx->root;
	size_t nrounds;
	size_t *round = stop_rounds(p, cs, n, &nrounds);
	struct ctr_stopping *st = xcalloc(n + 1, sizeof(*st));
	bool *up = xcalloc(n + 1, sizeof(bool));
	int r = 0;
	size_t *idx = xcalloc(n + 1, sizeof(size_t));
	for (size_t k = 0; k <= nrounds && r == 0; k++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (round[i] == k)
				idx[m++] = i;
		/* the round's stops, --parallel at a time; the last round's removals while the first wait */
		bool removed = false;
		for (size_t base = 0, c = apply_chunk_of(ctx, m); r == 0 && (base < m || !removed); base += c ? c : 1) {
			size_t end = base + c < m ? base + c : m;
			for (size_t j = base; j < end && r == 0; j++) {
				size_t i = idx[j];
				if (!(up[i] = ctr_running(root, cs[i]->name)))
					continue;
				apply_progress(fn, data, "Container", cs[i]->name, "Stopping");
				r = ctr_stop_begin(root, cs[i]->name, timeout_ms, &st[i], err);
			}
			for (size_t i = 0; i < n && r == 0 && remove && k > 0 && !removed; i++) {
				if (round[i] != k - 1)
					continue;
				r = apply_remove_container(root, cs[i]->name, volumes, err);
				if (r == 0)
					apply_progress(fn, data, "Container", cs[i]->name, "Removed");
			}
			removed = true;
			for (size_t j = base; j < end; j++) {
				size_t i = idx[j];
				if (!up[i])
					continue;
				ctr_stop_end(&st[i]);
				events_add(root, cs[i]->name, "stop", NULL);
				if (r == 0)
					apply_progress(fn, data, "Container", cs[i]->name, "Stopped");
			}
		}
	}
	free(idx);
	free(st);
	free(up);
	free(round);
	return r;
}

int apply_stop(const struct apply_ctx *ctx, const struct project *p, const struct ctr_info *const *cs, size_t n,
	       int64_t timeout_ms, progress_fn fn, void *data, struct berr **err)
{
	return apply_stop_in_rounds(ctx, p, cs, n, timeout_ms, false, false, fn, data, err);
}

char **apply_restart_dependents(const struct project *p, char *const *services)
{
	char **out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; p->order[i]; i++)
		for (size_t k = 0; services && services[k]; k++)
			if (!strv_contains(services, p->order[i]) && apply_restarts_with(p, p->order[i], services[k]) &&
			    !strv_contains(out, p->order[i]))
				strv_push(&out, xstrdup(p->order[i]));
	return out;
}

int apply_remove_orphans(const struct apply_ctx *ctx, const struct project *p, int64_t timeout_ms, struct berr **err)
{
	const char *root = ctx->root;
	_cleanup_(strv_freep) char **names = apply_orphans(root, p);
	size_t k = strv_len(names);
	struct ctr_info *list = xcalloc(k + 1, sizeof(*list));
	const struct ctr_info **orphans = xcalloc(k + 1, sizeof(*orphans));
	for (size_t i = 0; i < k; i++) {
		list[i].name = names[i];
		orphans[i] = &list[i];
	}
	int r = apply_stop_in_rounds(ctx, NULL, orphans, k, timeout_ms, true, false, ctx->progress, ctx->progress_data,
				     err);
	free(orphans);
	free(list); /* shallow: names holds them */
	if (k > 0 && r == 0)
		r = net_sync(root, err);
	return r;
}

/* Whether one of the services mounts the file's volume KEY. */
static bool services_mount(const struct project *p, char *const *services, const char *key)
{
	for (size_t i = 0; services[i]; i++) {
		struct node *vols = node_map_get(project_service(p, services[i]), "volumes");
		for (size_t k = 0; vols && vols->kind == NODE_SEQ && k < vols->n; k++)
			if (streq(node_str(node_map_get(vols->items[k], "type")), "volume") &&
			    streq(node_str(node_map_get(vols->items[k], "source")), key))
				return true;
	}
	return false;
}

int apply_down(const struct apply_ctx *ctx, const struct project *p, const struct down_opts *o, struct berr **err)
{
	const char *root = ctx->root;
	size_t n;
	struct ctr_info *list = apply_list(p, root, &n);
	/* dependents first */
	const struct ctr_info **order = xcalloc(n + 1, sizeof(*order));
	size_t k = 0;
	for (size_t i = n; i > 0; i--) {
		bool orphan = !project_service(p, list[i - 1].service);
		if (orphan ? o->remove_orphans : !o->services || strv_contains(o->services, list[i - 1].service))
			order[k++] = &list[i - 1];
	}
	if (ctx->dry_run) {
		/* what down would stop and remove, said; nothing is touched */
		for (size_t i = 0; i < k; i++) {
			if (ctr_running(root, order[i]->name))
				apply_progress(ctx->progress, ctx->progress_data, "Container", order[i]->name,
					       "Stopped");
			apply_progress(ctx->progress, ctx->progress_data, "Container", order[i]->name, "Removed");
		}
		char **nets = net_list(root, p->name);
		for (size_t i = 0; nets && nets[i]; i++)
			apply_progress(ctx->progress, ctx->progress_data, "Network", nets[i], "Removed");
		strv_free(nets);
		char **vols = o->volumes ? vol_list(root, p->name) : NULL;
		for (size_t i = 0; vols && vols[i]; i++)
			apply_progress(ctx->progress, ctx->progress_data, "Volume", vols[i], "Removed");
		strv_free(vols);
		free(order);
		ctr_info_free(list, n);
		return 0;
	}
	int r = apply_stop_in_rounds(ctx, p, order, k, o->timeout_ms, true, o->volumes, ctx->progress,
				     ctx->progress_data, err);
	free(order);
	/* directories a killed up made for this project's containers before
	 * writing their record: nothing else of them exists yet */
	_cleanup_free_ char *cdir = path_join(root, "containers");
	_cleanup_free_ char *prefix = xasprintf("%s-", p->name);
	_cleanup_(closedirp) DIR *d = r == 0 && !o->services ? opendir(cdir) : NULL;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (startswith(e->d_name, prefix) && !apply_has_record(cdir, e->d_name))
			ctr_remove(root, e->d_name, true, NULL);
	}
	/* and removals a killed down had begun */
	if (r == 0)
		fs_discard_sweep(cdir);
	/* attachments whose container is gone (a killed up or down) */
	char **eps = r == 0 ? net_endpoints(root, p->name) : NULL;
	for (size_t i = 0; eps && eps[i] && r == 0; i++)
		if (!ctr_exists(root, eps[i]))
			r = net_detach(root, eps[i], err);
	strv_free(eps);
	/* the project's networks go too, unless another project's container still uses one */
	char **nets = r == 0 ? net_list(root, p->name) : NULL;
	for (size_t i = 0; nets && nets[i]; i++) {
		_cleanup_(berr_freep) struct berr *e = NULL;
		if (net_remove(root, nets[i], &e) == 0)
			apply_progress(ctx->progress, ctx->progress_data, "Network", nets[i], "Removed");
		else if (o->services) /* down SERVICE: the others still on it */
			apply_progress(ctx->progress, ctx->progress_data, "Network", nets[i],
				       "Resource is still in use");
		else
			log_error("%s; it is kept", e->msg);
	}
	strv_free(nets);
	/* bridges whose record a crash or a damaged disk took: found by the
	 * alias the kernel keeps with each */
	char **lost = r == 0 ? net_reclaim(root, p->name, NULL, NULL) : NULL;
	for (size_t i = 0; lost && lost[i]; i++) {
		_cleanup_free_ char *msg = net_reclaimed_msg(lost[i]);
		log_warn("%s", msg);
		apply_progress(ctx->progress, ctx->progress_data, "Network", strchr(lost[i], ' ') + 1, "Removed");
	}
	strv_free(lost);
	if (r == 0)
		r = net_sync(root, err);
	if (r == 0 && o->volumes) {
		/* the file's volumes; without a file, those made for the project */
		char **names = p->files[0] ? xcalloc(1, sizeof(char *)) : vol_list(root, p->name);
		struct node *vols = p->files[0] ? node_map_get(p->doc, "volumes") : NULL;
		for (size_t i = 0; vols && i < vols->n; i++) {
			bool external = false;
			node_bool(node_map_get(vols->pairs[i].val, "external"), &external);
			const char *name = node_str(node_map_get(vols->pairs[i].val, "name"));
			if (!external && name && (!o->services || services_mount(p, o->services, vols->pairs[i].key)))
				strv_push(&names, xstrdup(name));
		}
		for (size_t i = 0; names[i]; i++) {
			if (!vol_exists(root, names[i]))
				continue;
			_cleanup_(berr_freep) struct berr *e = NULL;
			if (ctr_volume_remove(root, names[i], false, &e) == 0)
				apply_progress(ctx->progress, ctx->progress_data, "Volume", names[i], "Removed");
			else if (o->services)
				apply_progress(ctx->progress, ctx->progress_data, "Volume", names[i],
					       "Resource is still in use");
			else
				log_error("%s; it is kept", e->msg);
		}
		strv_free(names);
	}
	ctr_info_free(list, n);
	return r;
}
