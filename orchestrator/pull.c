/* Images for the services: pull policies and pulls. */
#include "apply.h"
#include "applier.h"

#include <time.h>

#include "../lib/json.h"
#include "../lib/log.h"
#include "../images/pull.h"
#include "servicebuild.h"
#include "units.h"

/* How old (ms) an image may be under daily, weekly or every_<duration>; 0 for other policies. */
static int64_t policy_age(const char *policy)
{
	long long ns = 0;
	if (streq(policy, "daily"))
		return 86400000;
	if (streq(policy, "weekly"))
		return 7 * 86400000LL;
	if (startswith(policy, "every_") && duration_parse(policy + 6, &ns) == 0 && ns > 0)
		return ns / 1000000;
	return 0;
}

/* Whether the store's copy of image is older than max_ms. */
static bool pulled_before(struct store *st, const char *id, int64_t max_ms)
{
	_cleanup_(json_releasep) json_t *rec = NULL;
	if (store_get_image(st, id, &rec, NULL) < 0)
		return true;
	struct tm tm = {0};
	const char *t = json_string_value(json_object_get(rec, "loaded"));
	bool old = !t || !strptime(t, "%Y-%m-%dT%H:%M:%SZ", &tm) || (int64_t)timegm(&tm) * 1000 < now_ms() - max_ms;
	return old;
}

/* One image of service's, pulled into the store (*locked opened with its
 * lock on first use); said under --dry-run. */
static int pull_image(const struct apply_ctx *ctx, struct store **locked, const char *service, const char *image,
		      const char *platform, FILE *out, bool ignore_failures, struct berr **err)
{
	const char *root = ctx->root;
	if (ctx->dry_run) {
		apply_progress(ctx->progress, ctx->progress_data, "Image", image, "Pulled");
		return 0;
	}
	int r = *locked ? 0 : store_open(root, true, locked, err);
	if (r < 0)
		return r;
	apply_progress(ctx->progress, ctx->progress_data, "Image", image, "Pulling");
	struct pull_opts po = {.platform = platform, .quiet = !out, .out = out, .plain = ctx->plain_progress};
	_cleanup_(berr_freep) struct berr *e = NULL;
	if (image_pull(*locked, image, &po, NULL, &e) == 0) {
		apply_progress(ctx->progress, ctx->progress_data, "Image", image, "Pulled");
	} else if (ignore_failures) {
		log_warn("service %s: %s", service, e->msg);
	} else {
		*err = e;
		e = NULL;
		r = berr_prefix(err, "service %s: cannot pull %s: ", service, image);
	}
	return r;
}

int apply_pull(const struct apply_ctx *ctx, const struct project *p, char *const *services, const char *policy,
	       FILE *out, bool ignore_failures, struct berr **err)
{
	const char *root = ctx->root;
	struct store *st = NULL, *locked = NULL; /* the lock only while pulling */
	_cleanup_(strv_freep) char **done = xcalloc(1, sizeof(char *));
	int r = 0;
	for (size_t i = 0; p->order[i] && r == 0; i++) {
		const char *name = p->order[i];
		if (services && !strv_contains(services, name))
			continue;
		struct node *svc = project_service(p, name);
		const char *pp = policy ? policy : node_str(node_map_get(svc, "pull_policy"));
		pp = pp ? pp : "missing";
		/* the images of its type: image volumes, when the store lacks them */
		struct node *vols = node_map_get(svc, "volumes");
		for (size_t k = 0; r == 0 && vols && vols->kind == NODE_SEQ && k < vols->n; k++) {
			const char *vi = node_str(node_map_get(vols->items[k], "source"));
			if (!streq(node_str(node_map_get(vols->items[k], "type")), "image") || !vi ||
			    strv_contains(done, vi) || streq(pp, "never"))
				continue;
			if (!st && (r = store_open(root, false, &st, err)) < 0)
				break;
			char *vid = NULL;
			bool have = store_resolve(st, vi, &vid, NULL) == 0;
			free(vid);
			strv_push(&done, xstrdup(vi));
			if (!have)
				r = pull_image(ctx, &locked, name, vi, node_str(node_map_get(svc, "platform")), out,
					       ignore_failures, err);
		}
		const char *image = node_str(node_map_get(svc, "image"));
		/* a service that builds its image is built, not pulled, unless asked */
		bool builds = svcbuild_has(p, name) && !policy && (streq(pp, "missing") || streq(pp, "build"));
		if (r < 0 || !image || builds || strv_contains(done, image) || streq(pp, "never") || streq(pp, "build"))
			continue;
		if (!st && (r = store_open(root, false, &st, err)) < 0)
			break;
		char *id = NULL;
		bool have = store_resolve(st, image, &id, NULL) == 0;
		int64_t age = policy_age(pp);
		bool want = streq(pp, "always") || !have || (age && pulled_before(st, id, age));
		free(id);
		if (!want)
			continue;
		strv_push(&done, xstrdup(image));
		r = pull_image(ctx, &locked, name, image, node_str(node_map_get(svc, "platform")), out, ignore_failures,
			       err);
	}
	store_close(locked);
	store_close(st);
	return r;
}
