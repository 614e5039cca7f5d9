/* berth exec. */
#include <errno.h>
#include <fcntl.h>

#include "../orchestrator/apply.h"
#include "../runtime/ctr.h"
#include "../runtime/exec.h"
#include "cli.h"

int cmd_exec(struct global_opts *g, int argc, char **argv)
{
	bool no_tty = false, detach = false, privileged = false, help = false, interactive = true, tty = true;
	const char *user = NULL, *workdir = NULL, *index = NULL;
	char **env = NULL;
	const struct flag flags[] = {
		{"no-TTY", 'T', FLAG_BOOL, &no_tty, NULL, "Do not allocate a TTY"},
		{"interactive", 'i', FLAG_BOOL, &interactive, NULL,
		 "Keep stdin open (the default; --interactive=false: none)"},
		{"tty", 't', FLAG_BOOL, &tty, NULL, "Allocate a TTY when stdin is one (the default)"},
		{"detach", 'd', FLAG_BOOL, &detach, NULL, "Run the command in the background"},
		{"privileged", 0, FLAG_BOOL, &privileged, NULL, "Give the command every capability"},
		{"user", 'u', FLAG_STR, &user, "USER", "Run as this user"},
		{"workdir", 'w', FLAG_STR, &workdir, "DIR", "Working directory"},
		{"env", 'e', FLAG_LIST, &env, "KEY=VALUE", "Set an environment variable"},
		{"index", 0, FLAG_STR, &index, "N", "Which replica (default 1)"},
		{"help", 'h', FLAG_BOOL, &help, NULL, "Show this help"},
	};
	int i = 1;
	struct berr *err = NULL;
	if (flags_parse(flags, ARRAY_SIZE(flags), argc, argv, &i, true, NULL, &err) < 0) {
		int rc = usage_error("exec", err->msg);
		berr_free(err);
		strv_free(env);
		return rc;
	}
	if (help) {
		printf("Usage: berth exec [OPTIONS] SERVICE COMMAND [ARGS...]\n\nRun a command in a running "
		       "container.\n\nOptions:\n");
		flags_usage(stdout, flags, ARRAY_SIZE(flags));
		strv_free(env);
		return 0;
	}
	if (argc - i < 2) {
		strv_free(env);
		return usage_error("exec", "exec needs a service and a command");
	}
	for (size_t k = 0; env && env[k]; k++) /* -e NAME: berth's own NAME, or none when it has none */
		if (!strchr(env[k], '=')) {
			const char *v = getenv(env[k]);
			char *kv = v ? xasprintf("%s=%s", env[k], v) : NULL;
			free(env[k]);
			env[k] = kv ? kv : xstrdup("");
		}
	char *svc[] = {argv[i], NULL};
	struct selection sel;
	int r = cli_select_containers(g, svc, false, &sel, &err);
	int want = index ? atoi(index) : 1, status = 0;
	const char *name = NULL;
	for (size_t k = 0; r == 0 && k < sel.n; k++)
		if (sel.list[k].number == want)
			name = sel.list[k].name;
	if (r == 0 && !name)
		r = berr_set(&err, ENOENT, "service %s has no container number %d", argv[i], want);
	struct ctr_state st = {0};
	if (r == 0 && ctr_state(berth_root(), name, &st, NULL) == 0 && st.paused)
		r = berr_set(&err, EBUSY, "container %s is paused; unpause it first (berth unpause %s)", name, argv[i]);
	state_free(&st);
	_cleanup_close_ int devnull = -1;
	if (r == 0 && !interactive) { /* no stdin for the command: /dev/null */
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0)
			r = berr_sys(&err, errno, "cannot open /dev/null");
	}
	if (r == 0 && cli_dry_run()) { /* said, not run */
		struct buf msg = {0};
		buf_puts(&msg, "would run:");
		for (int k = i + 1; k < argc; k++)
			buf_printf(&msg, " %s", argv[k]);
		cli_progress(NULL, "Container", name, msg.s);
		buf_free(&msg);
		cli_selection_free(&sel);
		strv_free(env);
		return 0;
	}
	struct exec_opts o = {.argv = argv + i + 1,
			      .env = env,
			      .user = user,
			      .workdir = workdir,
			      .privileged = privileged,
			      .detach = detach,
			      .tty = tty && !no_tty && isatty(STDIN_FILENO)};
	if (r == 0)
		r = ctr_exec(berth_root(), name, &o, &status, &err);
	cli_selection_free(&sel);
	strv_free(env);
	return r < 0 ? report(err) : status;
}
