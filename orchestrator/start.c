/* Starting planned containers: dependency conditions waited for, a
 * wave of shims at once (--parallel), each verdict read. */
#include "apply.h"
#include "applier.h"

#include <errno.h>

#include "../runtime/ctr.h"
#include "ctrspec.h"

/* Before a service starts: each dependency's condition (depends_on), as
 * docker compose waits for it; a dependency that cannot meet it fails up. */
int apply_wait_conditions(const struct apply_ctx *ctx, const struct project *p, const char *service, struct berr **err)
{
	const char *root = ctx->root;
	struct node *deps = node_map_get(project_service(p, service), "depends_on");
	int r = 0;
	for (size_t d = 0; r == 0 && deps && deps->kind == NODE_MAP && d < deps->n; d++) {
		const char *dep = deps->pairs[d].key;
		const char *cond = node_str(node_map_get(deps->pairs[d].val, "condition"));
		if (!cond || streq(cond, "service_started"))
			continue;
		struct node *dsvc = project_service(p, dep);
		int replicas = dsvc ? ctrspec_replicas(dsvc) : 0;
		for (int k = 1; r == 0 && k <= replicas; k++) {
			_cleanup_free_ char *name = ctrspec_name(p, dep, k);
			if (!ctr_exists(root, name))
				continue; /* not made: required: false, or up --no-deps */
			apply_progress(ctx->progress, ctx->progress_data, "Container", name, "Waiting");
			bool healthy = streq(cond, "service_healthy");
			if (ctr_await(root, name, healthy ? AWAIT_HEALTHY : AWAIT_COMPLETED, err) < 0)
				r = healthy ? berr_prefix(err, "dependency failed to start: ")
					    : berr_prefix(err, "service \"%s\" didn't complete successfully: ", dep);
			else
				apply_progress(ctx->progress, ctx->progress_data, "Container", name,
					       healthy ? "Healthy" : "Exited");
		}
	}
	return r;
}

/* How many of n to take on at once. */
size_t apply_chunk_of(const struct apply_ctx *ctx, size_t n)
{
	return ctx->parallel > 0 && (size_t)ctx->parallel < n ? (size_t)ctx->parallel : n;
}

/* Start one wave: every shim first, then every verdict. */
static int start_some(const struct apply_ctx *ctx, struct planned *pl, size_t n, const struct up_opts *o,
		      struct berr **err)
{
	const char *root = ctx->root;
	int *ready = xcalloc(n + 1, sizeof(int));
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		ready[i] = -1;
		if (r == 0 && ctr_up(root, pl[i].name, NULL)) {
			apply_progress(ctx->progress, ctx->progress_data, "Container", pl[i].name, "Running");
			continue;
		}
		if (r == 0 && (r = ctr_start_launch(root, pl[i].name, NULL, &ready[i], err)) < 0)
			r = berr_prefix(err, "service %s: cannot start %s: ", pl[i].service, pl[i].name);
	}
	for (size_t i = 0; i < n; i++) {
		if (ready[i] < 0)
			continue;
		struct berr *e = NULL;
		if (ctr_start_finish(pl[i].name, ready[i], &e) < 0) {
			if (r == 0) {
				*err = e;
				r = berr_prefix(err, "service %s: cannot start %s: ", pl[i].service, pl[i].name);
			} else {
				berr_free(e);
			}
			continue;
		}
		apply_progress(ctx->progress, ctx->progress_data, "Container", pl[i].name, "Started");
	}
	free(ready);
	return r;
}

int apply_start_wave(const struct apply_ctx *ctx, struct planned *pl, size_t n, const struct up_opts *o,
		     struct berr **err)
{
	int r = 0;
	for (size_t base = 0, c = apply_chunk_of(ctx, n); r == 0 && base < n; base += c)
		r = start_some(ctx, pl + base, n - base < c ? n - base : c, o, err);
	return r;
}

int apply_wait_ready(const struct project *p, const char *root, char *const *services, int64_t timeout_ms,
		     struct berr **err)
{
	size_t n;
	struct ctr_info *list = apply_list(p, root, &n);
	char **names = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0, k = 0; i < n; i++)
		if (!services || !services[0] || strv_contains(services, list[i].service))
			names[k++] = xstrdup(list[i].name);
	ctr_info_free(list, n);
	int r = ctr_await_ready(root, names, timeout_ms, err);
	strv_free(names);
	return r;
}
