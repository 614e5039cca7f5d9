/* What a user makes and removes by name, outside up and down: networks
 * (network create, network rm), volumes (volume create, rm, prune),
 * containers (rm, and what a shim asks for a container of run -d --rm),
 * and the firewall and names that follow. */
#include "apply.h"
#include "applier.h"

#include <errno.h>

#include "../lib/log.h"
#include "../network/net.h"
#include "../runtime/ctr.h"
#include "../volumes/volume.h"

int apply_sync(const struct apply_ctx *ctx, struct berr **err) { return net_sync(ctx->root, err); }

int apply_network_create(const struct apply_ctx *ctx, const struct net_def *d, struct berr **err)
{
	if (net_exists(ctx->root, d->name))
		return berr_set(err, EEXIST, "network %s exists already", d->name);
	int r = net_ensure(ctx->root, d, err);
	return r < 0 ? r : net_sync(ctx->root, err);
}

int apply_network_remove(const struct apply_ctx *ctx, const char *name, struct berr **err)
{
	if (net_exists(ctx->root, name))
		return net_remove(ctx->root, name, err);
	/* no record, but the kernel may still have its bridge */
	_cleanup_(strv_freep) char **lost = net_reclaim(ctx->root, NULL, name, NULL);
	if (!lost[0])
		return berr_set(err, ENOENT, "no such network: %s", name);
	_cleanup_free_ char *msg = net_reclaimed_msg(lost[0]);
	log_error("%s", msg);
	return 0;
}

int apply_rm(const struct apply_ctx *ctx, const struct ctr_info *cs, size_t n, bool running_too, bool volumes,
	     struct berr **err)
{
	int r = 0;
	bool removed = false;
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (ctr_up(ctx->root, cs[i].name, NULL) && !running_too)
			continue; /* docker compose rm leaves running containers alone */
		if (!ctx->dry_run) {
			r = apply_remove_container(ctx->root, cs[i].name, volumes, err);
			removed = true;
		}
		if (r == 0)
			apply_progress(ctx->progress, ctx->progress_data, "Container", cs[i].name, "Removed");
	}
	if (removed) { /* the firewall and the names follow, failed or not */
		struct berr *e = NULL;
		int s = net_sync(ctx->root, r == 0 ? err : &e);
		berr_free(e);
		r = r < 0 ? r : s;
	}
	return r;
}

int apply_volume_create(const struct apply_ctx *ctx, const struct vol_def *d, struct berr **err)
{
	int r = vol_ensure(ctx->root, d, err);
	return r < 0 ? r : 0;
}

int apply_volume_remove(const struct apply_ctx *ctx, const char *name, bool force, struct berr **err)
{
	return ctr_volume_remove(ctx->root, name, force, err);
}
