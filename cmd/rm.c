/* berth rm. */

#include "../network/net.h"
#include "../orchestrator/apply.h"
#include "../runtime/ctr.h"
#include "cli.h"

int cmd_rm(struct global_opts *g, int argc, char **argv)
{
	bool force = false, stop = false, volumes = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"force", 'f', FLAG_BOOL, &force, NULL, "Do not ask (berth never asks)"},
		{"stop", 's', FLAG_BOOL, &stop, NULL, "Stop the containers first"},
		{"volumes", 'v', FLAG_BOOL, &volumes, NULL, "Remove anonymous volumes too"},
	};
	int rc = cmd_flags("rm", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth rm [OPTIONS] [SERVICE...]",
			   "Remove stopped containers.");
	if (rc >= 0) {
		strv_free(pos);
		return rc;
	}
	struct berr *err = NULL;
	struct selection sel;
	int r = cli_select_containers(g, pos, true, &sel, &err);
	if (r == 0 && stop && !cli_dry_run()) {
		/* --stop stops them as stop does (hooks, signal, grace period) first */
		const struct ctr_info **cs = xcalloc(sel.n + 1, sizeof(*cs));
		for (size_t i = 0; i < sel.n; i++)
			cs[i] = &sel.list[i];
		r = apply_stop(cli_ctx(), sel.p, cs, sel.n, -1, cli_stopped, NULL, &err);
		free(cs);
	}
	bool removed = false;
	for (size_t i = 0; r == 0 && i < sel.n; i++) {
		if (ctr_up(berth_root(), sel.list[i].name, NULL) && !stop)
			continue; /* docker compose rm leaves running containers alone */
		if (cli_dry_run()) {
			cli_progress(NULL, "Container", sel.list[i].name, "Removed");
			continue;
		}
		r = apply_remove_container(berth_root(), sel.list[i].name, volumes, &err);
		if (r == 0)
			cli_progress(NULL, "Container", sel.list[i].name, "Removed");
		removed = true;
	}
	if (removed) {
		int s = net_sync(berth_root(), r == 0 ? &err : NULL);
		r = r < 0 ? r : s;
	}
	cli_selection_free(&sel);
	strv_free(pos);
	return r < 0 ? report(err) : 0;
}
