/* berth scale. */

#include "../orchestrator/apply.h"
#include "../orchestrator/keys.h"
#include "cli.h"

/* berth scale SERVICE=N...: as up -d --scale of those services. */
int cmd_scale(struct global_opts *g, int argc, char **argv)
{
	bool no_deps = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"no-deps", 0, FLAG_BOOL, &no_deps, NULL, "Do not start linked services"},
	};
	int rc = cmd_flags("scale", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth scale [OPTIONS] SERVICE=N...",
			   "Scale services.");
	_cleanup_(strv_freep) char **args = pos;
	if (rc >= 0)
		return rc;
	if (!args || !args[0])
		return usage_error("scale", "give SERVICE=N");
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	_cleanup_close_ int lock = -1;
	char **services = xcalloc(1, sizeof(char *));
	int r = project_open(g, NULL, false, &p, &err);
	if (r == 0)
		r = keys_check(p, true, stderr, &err);
	for (size_t i = 0; r == 0 && args[i]; i++) {
		r = apply_scale(p, args[i], &err);
		if (r == 0)
			strv_push(&services, xstrndup(args[i], strcspn(args[i], "=")));
	}
	if (r == 0)
		r = apply_lock(berth_root(), p->name, &lock, &err);
	if (r == 0) {
		struct up_opts o = {.no_deps = no_deps, .no_recreate = true, .services = services};
		r = apply_up(cli_ctx(), p, &o, &err);
	}
	strv_free(services);
	return r < 0 ? report(err) : 0;
}
