/* berth watch, and the watch up --watch runs beside its logs. */
#include <fcntl.h>
#include <sys/prctl.h>

#include "../orchestrator/keys.h"
#include "../orchestrator/watch.h"
#include "cli.h"

volatile sig_atomic_t cli_watch_stop;

static void on_watch_signal(int sig) { cli_watch_stop = sig; }

/* up --watch: the watch in a child process while up shows the logs; the
 * child ends with up. */
pid_t cli_start_watcher(const struct project *p, char **services)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	struct sigaction sa = {.sa_handler = on_watch_signal};
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGINT, SIG_IGN); /* Ctrl-C is up's; up then ends the watch */
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null >= 0)
		dup2(null, STDIN_FILENO);
	struct berr *err = NULL;
	struct watch_opts wo = {.services = services, .stop = &cli_watch_stop};
	if (watch_run(cli_ctx(), p, &wo, &err) < 0) {
		fprintf(stderr, "berth: watch: %s\n", err->msg);
		berr_free(err);
		_exit(1);
	}
	_exit(0);
}

/* berth watch [SERVICE...]: up (unless --no-up), then the services'
 * develop.watch rules until Ctrl-C. */
int cmd_watch(struct global_opts *g, int argc, char **argv)
{
	bool no_up = false, prune = false, quiet = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"no-up", 0, FLAG_BOOL, &no_up, NULL, "Do not build and start the services first"},
		{"prune", 0, FLAG_BOOL, &prune, NULL, "Remove dangling images after a rebuild"},
		{"quiet", 0, FLAG_BOOL, &quiet, NULL, "Hide the build output"},
	};
	int rc = cmd_flags("watch", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth watch [OPTIONS] [SERVICE...]",
			   "Watch the build contexts and paths of develop.watch; sync, restart or rebuild on changes.");
	_cleanup_(strv_freep) char **names = pos;
	if (rc >= 0)
		return rc;
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	int r = project_open(g, names, false, &p, &err);
	if (r == 0)
		r = keys_check(p, true, stderr, &err);
	if (r == 0 && !no_up) {
		_cleanup_close_ int lock = -1;
		r = apply_lock(berth_root(), p->name, &lock, &err);
		struct up_opts o = {.services = names};
		if (r == 0)
			r = apply_up(cli_ctx(), p, &o, &err);
	}
	struct sigaction sa = {.sa_handler = on_watch_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct watch_opts wo = {.services = names, .quiet = quiet, .prune = prune, .stop = &cli_watch_stop};
	if (r == 0)
		r = watch_run(cli_ctx(), p, &wo, &err);
	return r < 0 ? report(err) : 0;
}
