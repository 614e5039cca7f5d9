/* berth create. */

#include "cli.h"

/* berth create: up --no-start, with create's own flags only. */
int cmd_create(struct global_opts *g, int argc, char **argv)
{
	bool b = false;
	const char *s = NULL;
	char **l = NULL, **pos = NULL;
	const struct flag flags[] = {
		{"build", 0, FLAG_BOOL, &b, NULL, "Build images before creating containers"},
		{"no-build", 0, FLAG_BOOL, &b, NULL, "Do not build images, even those that are missing"},
		{"force-recreate", 0, FLAG_BOOL, &b, NULL, "Recreate containers even if nothing changed"},
		{"no-recreate", 0, FLAG_BOOL, &b, NULL, "Do not recreate containers that exist"},
		{"pull", 0, FLAG_STR, &s, "POLICY", "Pull images: always, missing, never"},
		{"quiet-pull", 0, FLAG_BOOL, &b, NULL, "Pull without printing progress"},
		{"remove-orphans", 0, FLAG_BOOL, &b, NULL, "Remove containers of services no longer in the file"},
		{"scale", 0, FLAG_LIST, &l, "SERVICE=N", "N containers of SERVICE; repeatable"},
		{"yes", 'y', FLAG_BOOL, &b, NULL, "Assume yes: a network that diverged from the file is made again"},
	};
	int rc = cmd_flags("create", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth create [OPTIONS] [SERVICE...]",
			   "Create containers for services, without starting them.");
	strv_free(l);
	strv_free(pos);
	if (rc >= 0)
		return rc;
	/* the flags are up's: up runs them with --no-start */
	char **up = xcalloc((size_t)argc + 2, sizeof(char *));
	up[0] = "up";
	up[1] = "--no-start";
	for (int i = 1; i < argc; i++)
		up[i + 1] = argv[i];
	rc = cmd_up(g, argc + 1, up);
	free(up);
	return rc;
}
