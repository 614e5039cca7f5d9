/* start, stop, restart, kill, pause and unpause of a project's existing
 * containers, and the bring-up path they share with up and with boot: a
 * container that is not running gets its network again (after a reboot),
 * the firewall and the names follow, then its pending pre_start steps and
 * its start. */
#include "apply.h"
#include "applier.h"

#include <errno.h>

#include "../lib/log.h"
#include "../network/dnsctl.h"
#include "../network/net.h"
#include "../runtime/ctr.h"

int apply_revive(const struct apply_ctx *ctx, char *const *names, size_t n, bool keep_going, bool *skipped,
		 struct berr **err)
{
	bool revived = false;
	for (size_t i = 0; i < n; i++) {
		if (!names[i] || ctr_up(ctx->root, names[i], NULL))
			continue;
		struct berr *e = NULL;
		int v = net_revive(ctx->root, names[i], &e);
		if (v < 0 && !keep_going) {
			*err = e;
			return v;
		}
		if (v < 0) { /* said, and that one is not started */
			log_error("%s", e->msg);
			skipped[i] = true;
		}
		berr_free(e);
		revived |= v > 0;
	}
	/* and names resolve again if the responder was killed meanwhile */
	return revived ? net_sync(ctx->root, err) : dnsctl_ensure(ctx->root, err);
}

int apply_bring_up(const struct apply_ctx *ctx, const struct project *p, char *const *names, size_t n, bool keep_going,
		   struct berr **err)
{
	bool *skipped = xcalloc(n + 1, sizeof(bool));
	int r = apply_revive(ctx, names, n, keep_going, skipped, err);
	int failed = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (!names[i] || skipped[i]) {
			failed += skipped[i];
			continue;
		}
		struct berr *e = NULL;
		/* made by up --no-start, or a pre_start step failed: the steps first */
		int s = p && !ctr_up(ctx->root, names[i], NULL) ? apply_pre_start(ctx, p, &names[i], 1, &e) : 0;
		if (s == 0)
			s = ctr_start(ctx->root, names[i], &e);
		if (s == 0) {
			apply_progress(ctx->progress, ctx->progress_data, "Container", names[i], "Started");
		} else if (keep_going) {
			log_error("cannot start %s: %s", names[i], e->msg);
			failed++;
		} else {
			*err = steal_ptr(&e);
			r = s;
		}
		berr_free(e);
	}
	free(skipped);
	if (r == 0 && failed)
		r = berr_set(err, EIO, "%d container%s did not come back (said above)", failed, failed == 1 ? "" : "s");
	return r;
}

/* stop says each container Stopped, not the steps on the way */
static void only_stopped(void *data, const char *kind, const char *name, const char *what)
{
	const struct apply_ctx *ctx = data;
	if (streq(what, "Stopped"))
		apply_progress(ctx->progress, ctx->progress_data, kind, name, what);
}

/* pause and unpause: only the running ones, or the paused ones */
static bool pausable(const char *root, const char *name, bool pause)
{
	struct ctr_state st;
	if (ctr_state(root, name, &st, NULL) < 0)
		return false;
	bool ok = st.status == ST_RUNNING && st.paused != pause;
	state_free(&st);
	return ok;
}

int apply_act(const struct apply_ctx *ctx, const struct project *p, const struct ctr_info *cs, size_t n,
	      enum apply_action a, int64_t timeout_ms, int sig, struct berr **err)
{
	/* restart: "Restarting", then "Started", as docker compose says it */
	static const char *const done[] = {"Started", "Stopped", "Started", "Killed", "Paused", "Unpaused"};
	const char *root = ctx->root;
	for (size_t i = 0; ctx->dry_run && i < n; i++) {
		/* what would be done, to which container; nothing is */
		bool running = ctr_running(root, cs[i].name);
		if ((a == ACT_STOP || a == ACT_KILL || a == ACT_PAUSE) == running || a == ACT_RESTART ||
		    a == ACT_UNPAUSE)
			apply_progress(ctx->progress, ctx->progress_data, "Container", cs[i].name,
				       a == ACT_RESTART ? "Restarting" : done[a]);
	}
	if (ctx->dry_run)
		return 0;
	for (size_t i = 0; a == ACT_RESTART && i < n; i++)
		apply_progress(ctx->progress, ctx->progress_data, "Container", cs[i].name, "Restarting");
	int r = 0;
	if (a == ACT_STOP || a == ACT_RESTART) {
		/* dependents first, each level of them at once */
		const struct ctr_info **all = xcalloc(n + 1, sizeof(*all));
		for (size_t i = 0; i < n; i++)
			all[i] = &cs[i];
		r = apply_stop(ctx, p, all, n, timeout_ms, a == ACT_STOP ? only_stopped : NULL, (void *)ctx, err);
		free(all);
	}
	if (r == 0 && (a == ACT_START || a == ACT_RESTART)) {
		char **names = xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			names[i] = cs[i].name;
		r = apply_bring_up(ctx, p, names, n, false, err);
		free(names); /* shallow */
	}
	for (size_t i = 0; r == 0 && (a == ACT_KILL || a == ACT_PAUSE || a == ACT_UNPAUSE) && i < n; i++) {
		const char *name = cs[a == ACT_KILL ? n - 1 - i : i].name;
		pid_t pid;
		if (a == ACT_KILL && ctr_up(root, name, &pid) && pid > 0)
			r = ctr_kill(root, name, sig, err);
		else if (a != ACT_KILL && pausable(root, name, a == ACT_PAUSE))
			r = ctr_pause(root, name, a == ACT_PAUSE, err);
		else if (a != ACT_KILL)
			continue;
		if (r == 0)
			apply_progress(ctx->progress, ctx->progress_data, "Container", name, done[a]);
	}
	return r;
}
