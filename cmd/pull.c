/* berth pull. */

#include "../orchestrator/apply.h"
#include "../orchestrator/check.h"
#include "cli.h"

bool service_named(const struct project *p, char *const *names, bool deps, const char *service)
{
	bool named = !names || strv_contains(names, service);
	for (size_t k = 0; !named && deps && names[k]; k++) {
		_cleanup_(strv_freep) char **d = check_dependencies(project_service(p, names[k]));
		named = strv_contains(d, service);
	}
	return named;
}

/* berth pull [SERVICE...]: the services' images, as their pull_policy says
 * (--policy missing or always), as docker compose pull does. */
int cmd_pull(struct global_opts *g, int argc, char **argv)
{
	bool ignore = false, deps = false, quiet = false, ignore_buildable = false;
	const char *policy = NULL;
	char **pos = NULL;
	const struct flag flags[] = {
		{"ignore-pull-failures", 0, FLAG_BOOL, &ignore, NULL,
		 "Pull what can be pulled, and say what could not"},
		{"include-deps", 0, FLAG_BOOL, &deps, NULL, "Also pull the services they depend on"},
		{"quiet", 'q', FLAG_BOOL, &quiet, NULL, "Pull without printing progress"},
		{"policy", 0, FLAG_STR, &policy, "POLICY", "missing or always (default: each service's pull_policy)"},
		{"ignore-buildable", 0, FLAG_BOOL, &ignore_buildable, NULL, "Skip services that have a build section"},
	};
	int rc = cmd_flags("pull", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth pull [OPTIONS] [SERVICE...]",
			   "Pull service images.");
	_cleanup_(strv_freep) char **names = pos;
	if (rc < 0 && policy && !streq(policy, "missing") && !streq(policy, "always"))
		rc = usage_error("pull", "--policy takes missing or always");
	if (rc >= 0)
		return rc;
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	int r = project_open(g, names, false, &p, &err);
	/* docker compose pull pulls every service named, and by default what
	 * each names as image: with --policy absent, always */
	char **want = NULL;
	for (size_t i = 0; r == 0 && p->order[i]; i++) {
		struct node *svc = project_service(p, p->order[i]);
		bool named = service_named(p, names, deps, p->order[i]);
		const char *pp = node_str(node_map_get(svc, "pull_policy"));
		bool never = !policy && pp && (streq(pp, "never") || streq(pp, "build"));
		if (named && !never && !(ignore_buildable && node_map_get(svc, "build")))
			strv_push(&want, xstrdup(p->order[i]));
	}
	struct apply_ctx said = *cli_ctx();
	if (quiet)
		said.progress = NULL;
	if (r == 0 && want)
		r = apply_pull(&said, p, want, policy ? policy : "always", quiet ? NULL : stderr, ignore, &err);
	strv_free(want);
	return r < 0 ? report(err) : 0;
}
