/* berth rm. */

#include "../orchestrator/apply.h"
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
	if (r == 0)
		r = apply_rm(cli_ctx(), sel.list, sel.n, stop, volumes, &err);
	cli_selection_free(&sel);
	strv_free(pos);
	return r < 0 ? report(err) : 0;
}
