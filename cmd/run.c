/* berth run. */
#include <fcntl.h>
#include <sys/ioctl.h>

#include "../orchestrator/apply.h"
#include "../orchestrator/keys.h"
#include "cli.h"

int cmd_run(struct global_opts *g, int argc, char **argv)
{
	bool detach = false, rm = false, no_deps = false, service_ports = false, no_tty = false;
	bool build = false, interactive = true, tty = true, publish_all = false, use_aliases = false;
	bool remove_orphans = false, quiet = false, quiet_pull = false;
	const char *name = NULL, *user = NULL, *workdir = NULL, *entrypoint = NULL, *pull = NULL;
	char **env = NULL, **pos = NULL, **publish = NULL, **volumes = NULL, **labels = NULL, **cap_add = NULL;
	char **cap_drop = NULL, **env_files = NULL;
	const struct flag flags[] = {
		{"detach", 'd', FLAG_BOOL, &detach, NULL, "Run in the background; print the container's name"},
		{"rm", 0, FLAG_BOOL, &rm, NULL, "Remove the container when it exits"},
		{"no-deps", 0, FLAG_BOOL, &no_deps, NULL, "Do not start the services it depends on"},
		{"service-ports", 0, FLAG_BOOL, &service_ports, NULL, "Publish the service's ports"},
		{"name", 0, FLAG_STR, &name, "NAME", "The container's name"},
		{"env", 'e', FLAG_LIST, &env, "KEY=VALUE", "Set an environment variable; repeatable"},
		{"user", 'u', FLAG_STR, &user, "USER", "Run as this user"},
		{"workdir", 'w', FLAG_STR, &workdir, "DIR", "Working directory"},
		{"entrypoint", 0, FLAG_STR, &entrypoint, "CMD", "Override the entrypoint"},
		{"no-TTY", 'T', FLAG_BOOL, &no_tty, NULL, "Do not allocate a TTY (one is when stdin is a terminal)"},
		{"tty", 't', FLAG_BOOL, &tty, NULL, "Allocate a TTY when stdin is one (the default)"},
		{"interactive", 'i', FLAG_BOOL, &interactive, NULL,
		 "Keep stdin open (the default; --interactive=false: none)"},
		{"build", 0, FLAG_BOOL, &build, NULL, "Build the service's image before running it"},
		{"publish", 'p', FLAG_LIST, &publish, "[IP:]HOST:CONTAINER", "Publish a port; repeatable"},
		{"publish-all", 'P', FLAG_BOOL, &publish_all, NULL,
		 "Publish every port of the service on ephemeral host ports"},
		{"volume", 'v', FLAG_LIST, &volumes, "SOURCE:TARGET[:MODE]", "Mount a volume or bind; repeatable"},
		{"label", 'l', FLAG_LIST, &labels, "KEY=VALUE", "Add a label; repeatable"},
		{"cap-add", 0, FLAG_LIST, &cap_add, "CAP", "Add a capability; repeatable"},
		{"cap-drop", 0, FLAG_LIST, &cap_drop, "CAP", "Drop a capability; repeatable"},
		{"env-from-file", 0, FLAG_LIST, &env_files, "FILE",
		 "Set environment variables from a file; repeatable"},
		{"use-aliases", 0, FLAG_BOOL, &use_aliases, NULL, "Answer to the service's name and network aliases"},
		{"remove-orphans", 0, FLAG_BOOL, &remove_orphans, NULL,
		 "Remove containers of services no longer in the file"},
		{"pull", 0, FLAG_STR, &pull, "POLICY",
		 "Pull the image: always, missing, never (default: its pull_policy)"},
		{"quiet-pull", 0, FLAG_BOOL, &quiet_pull, NULL, "Pull without printing progress"},
		{"quiet", 'q', FLAG_BOOL, &quiet, NULL, "Print nothing but the command's own output"},
	};
	int rc = cmd_flags_stop("run", flags, ARRAY_SIZE(flags), argc, argv, &pos,
				"berth run [OPTIONS] SERVICE [COMMAND] [ARGS...]",
				"Run a one-off command of a service.");
	_cleanup_(strv_freep) char **args = pos;
	_cleanup_(strv_freep) char **envs = env;
	_cleanup_(strv_freep) char **pub = publish;
	_cleanup_(strv_freep) char **vols = volumes;
	_cleanup_(strv_freep) char **labs = labels;
	_cleanup_(strv_freep) char **cadd = cap_add;
	_cleanup_(strv_freep) char **cdrop = cap_drop;
	_cleanup_(strv_freep) char **efiles = env_files;
	if (rc < 0 && pull && !streq(pull, "always") && !streq(pull, "missing") && !streq(pull, "never"))
		rc = usage_error("run", "--pull takes always, missing or never");
	if (rc >= 0)
		return rc;
	if (strv_len(args) < 1)
		return usage_error("run", "give the service to run");
	_cleanup_close_ int devnull = -1;
	if (!interactive) { /* no stdin for the command */
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
	}
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	_cleanup_close_ int lock = -1;
	char *service[] = {args[0], NULL};
	int r = project_open(g, service, false, &p, &err);
	if (r == 0)
		r = keys_check(p, true, stderr, &err);
	if (r == 0)
		r = apply_lock(berth_root(), p->name, &lock, &err);
	if (r == 0)
		remove_orphans = cli_orphans_wanted_gone(p, remove_orphans);
	struct apply_ctx said = *cli_ctx(); /* -q: nothing said but the command's own output */
	if (quiet)
		said.progress = NULL;
	if (r == 0 && remove_orphans)
		r = apply_remove_orphans(&said, p, -1, &err);
	_cleanup_free_ char *cname = NULL;
	char *ep[] = {(char *)entrypoint, NULL};
	int code = 0;
	struct winsize ws = {0};
	ioctl(STDIN_FILENO, TIOCGWINSZ, &ws); /* stays 0 x 0 when stdin is no terminal */
	if (r == 0) {
		struct run_opts o = {.service = args[0],
				     .command = args[1] ? args + 1 : NULL,
				     .entrypoint = entrypoint ? ep : NULL,
				     .env = envs,
				     .name = name,
				     .user = user,
				     .workdir = workdir,
				     .detach = detach,
				     .rm = rm,
				     .no_deps = no_deps,
				     .tty = tty && !no_tty && isatty(STDIN_FILENO),
				     .rows = ws.ws_row,
				     .cols = ws.ws_col,
				     .service_ports = service_ports,
				     .lock = &lock,
				     .build = build,
				     .publish = pub,
				     .volumes = vols,
				     .labels = labs,
				     .cap_add = cadd,
				     .cap_drop = cdrop,
				     .env_files = efiles,
				     .publish_all = publish_all,
				     .use_aliases = use_aliases,
				     .quiet_pull = quiet || quiet_pull,
				     .pull = pull};
		r = apply_run(&said, p, &o, &cname, &code, &err);
	}
	if (r < 0 && (code == 126 || code == 127)) { /* the command could not run: docker run's codes */
		report(err);
		return code;
	}
	if (r < 0)
		return report(err);
	if (detach)
		printf("%s\n", cname);
	return code;
}
