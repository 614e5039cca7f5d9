/* berth start, stop, restart, kill, rm, exec, top: commands on the
 * project's existing containers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>

#include "../lib/json.h"
#include "../lib/fs.h"
#include "../lib/signals.h"
#include "../network/net.h"
#include "../orchestrator/apply.h"
#include "../orchestrator/units.h"
#include "../runtime/cgroup.h"
#include "../runtime/ctr.h"
#include "../network/dnsctl.h"
#include "../runtime/exec.h"
#include "cli.h"
#include "table.h"

struct selection {
	struct project *p;
	struct ctr_info *list;
	size_t n;
	int lock;
};

static void selection_free(struct selection *s)
{
	ctr_info_free(s->list, s->n);
	project_free(s->p);
	if (s->lock >= 0)
		close(s->lock);
}

/* The project's containers of the named services (all without names). */
static int select_containers(struct global_opts *g, char **services, bool lock, struct selection *sel,
			     struct berr **err)
{
	*sel = (struct selection){.lock = -1};
	int r = project_open(g, services, false, &sel->p, err);
	for (size_t i = 0; r == 0 && services && services[i]; i++)
		if (!project_service(sel->p, services[i]))
			r = berr_set(err, ENOENT, "no such service: %s", services[i]);
	if (r == 0 && lock)
		r = apply_lock(berth_root(), sel->p->name, &sel->lock, err);
	if (r < 0)
		return r;
	size_t n;
	struct ctr_info *all = apply_list(sel->p, berth_root(), &n);
	sel->list = xcalloc(n + 1, sizeof(*sel->list));
	/* one-off containers of berth run are theirs alone, as in docker compose */
	for (size_t i = 0; i < n; i++) {
		if (!all[i].oneoff && (!services || strv_contains(services, all[i].service)))
			sel->list[sel->n++] = all[i];
		else
			ctr_info_clear(&all[i]);
	}
	free(all);
	return 0;
}

static int64_t timeout_arg(const char *t)
{
	if (!t)
		return -1;
	long long ns;
	return duration_parse(t, &ns) == 0 ? ns / 1000000 : atoll(t) * 1000;
}

enum action { A_START, A_STOP, A_RESTART, A_KILL, A_PAUSE, A_UNPAUSE };

static void stopped(void *data, const char *kind, const char *name, const char *what)
{
	if (streq(what, "Stopped"))
		cli_progress(data, kind, name, what);
}

static int act(struct global_opts *g, int argc, char **argv, enum action a)
{
	static const char *const names[] = {"start", "stop", "restart", "kill", "pause", "unpause"};
	static const char *const summaries[] = {"Start existing containers.",
						"Stop running containers.",
						"Restart containers.",
						"Send a signal to containers (default SIGKILL).",
						"Pause services: every process of their containers frozen.",
						"Unpause services."};
	/* restart: "Restarting", then "Started", as docker compose says it */
	static const char *const done[] = {"Started", "Stopped", "Started", "Killed", "Paused", "Unpaused"};
	bool all_projects = false, no_deps = false, remove_orphans = false, wait = false;
	const char *timeout = NULL, *signame = NULL, *wait_timeout = NULL;
	char **pos = NULL;
	const struct {
		unsigned on; /* the actions that take it */
		struct flag f;
	} known[] = {
		{1u << A_STOP | 1u << A_RESTART, {"timeout", 't', FLAG_STR, &timeout, "SECONDS", "Shutdown timeout"}},
		{1u << A_KILL, {"signal", 's', FLAG_STR, &signame, "SIGNAL", "Signal to send (default SIGKILL)"}},
		{1u << A_KILL,
		 {"remove-orphans", 0, FLAG_BOOL, &remove_orphans, NULL, "Remove containers of services no longer in the file"}},
		{1u << A_START,
		 {"all-projects", 0, FLAG_BOOL, &all_projects, NULL,
		  "After a boot: every container of every project whose restart policy brings it back (what systemd "
		  "runs at boot)"}},
		{1u << A_START, {"wait", 0, FLAG_BOOL, &wait, NULL, "Wait for the services to be running and healthy"}},
		{1u << A_START, {"wait-timeout", 0, FLAG_STR, &wait_timeout, "SECONDS", "How long --wait waits"}},
		{1u << A_RESTART,
		 {"no-deps", 0, FLAG_BOOL, &no_deps, NULL, "Do not restart the services that depend on them"}},
	};
	struct flag flags[ARRAY_SIZE(known)];
	size_t nflags = 0;
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (known[i].on & (1u << a))
			flags[nflags++] = known[i].f;
	_cleanup_free_ char *usage = xasprintf("berth %s [OPTIONS] [SERVICE...]", names[a]);
	int rc = cmd_flags(names[a], flags, nflags, argc, argv, &pos, usage, summaries[a]);
	if (rc >= 0) {
		strv_free(pos);
		return rc;
	}
	if (all_projects) {
		struct berr *err = NULL;
		int r = pos && pos[0] ? usage_error("start", "--all-projects takes no service names")
				      : apply_start_all(cli_ctx(), &err);
		strv_free(pos);
		return r < 0 ? report(err) : r;
	}
	int sig = signame ? signal_from_name(signame) : 9;
	if (sig < 0) {
		strv_free(pos);
		return usage_error("kill", "unknown signal");
	}
	struct berr *err = NULL;
	struct selection sel;
	int r = select_containers(g, pos, true, &sel, &err);
	if (r == 0 && a == A_RESTART && pos && pos[0] && !no_deps) {
		/* and what depends on them with restart: true, as docker compose restarts it */
		_cleanup_(strv_freep) char **more = apply_restart_dependents(sel.p, pos);
		if (more[0]) {
			for (size_t i = 0; more[i]; i++)
				strv_push(&pos, xstrdup(more[i]));
			selection_free(&sel);
			r = select_containers(g, pos, true, &sel, &err);
		}
	}
	if (r == 0 && a == A_START && pos && pos[0]) {
		/* what they depend on first, as docker compose starts it */
		size_t had = strv_len(pos);
		for (size_t i = 0; pos[i]; i++) {
			struct node *deps = node_map_get(project_service(sel.p, pos[i]), "depends_on");
			for (size_t k = 0; deps && deps->kind == NODE_MAP && k < deps->n; k++)
				if (!strv_contains(pos, deps->pairs[k].key) && project_service(sel.p, deps->pairs[k].key))
					strv_push(&pos, xstrdup(deps->pairs[k].key));
		}
		if (strv_len(pos) > had) {
			selection_free(&sel);
			r = select_containers(g, pos, true, &sel, &err);
		}
	}
	const char *root = berth_root();
	for (size_t i = 0; r == 0 && cli_dry_run() && i < sel.n; i++) {
		/* what would be done, to which container; nothing is */
		bool running = ctr_running(root, sel.list[i].name);
		if ((a == A_STOP || a == A_KILL || a == A_PAUSE) == running || a == A_RESTART || a == A_UNPAUSE)
			cli_progress(NULL, "Container", sel.list[i].name, a == A_RESTART ? "Restarting" : done[a]);
	}
	if (r == 0 && cli_dry_run()) {
		selection_free(&sel);
		strv_free(pos);
		return 0;
	}
	for (size_t i = 0; r == 0 && a == A_RESTART && i < sel.n; i++)
		cli_progress(NULL, "Container", sel.list[i].name, "Restarting");
	if (r == 0 && (a == A_STOP || a == A_RESTART)) {
		/* dependents first, each level of them at once */
		const struct ctr_info **cs = xcalloc(sel.n + 1, sizeof(*cs));
		for (size_t i = 0; i < sel.n; i++)
			cs[i] = &sel.list[i];
		r = apply_stop(cli_ctx(), sel.p, cs, sel.n, timeout_arg(timeout), a == A_STOP ? stopped : NULL, NULL, &err);
		free(cs);
	}
	bool revived = false;
	for (size_t i = 0; r == 0 && a != A_STOP && i < sel.n; i++) {
		const char *name = sel.list[a == A_KILL ? sel.n - 1 - i : i].name;
		if (a == A_PAUSE || a == A_UNPAUSE) { /* only the running ones, or the paused ones */
			struct ctr_state st;
			bool skip = ctr_state(root, name, &st, NULL) < 0 || st.status != ST_RUNNING ||
				    st.paused == (a == A_PAUSE);
			state_free(&st);
			if (skip)
				continue;
		}
		/* made by up --no-start, or a pre_start step failed: the steps first;
		 * after a reboot, its network again */
		bool down = (a == A_START || a == A_RESTART) && !ctr_up(root, name, NULL);
		if (down && (r = net_revive(root, name, &err)) > 0)
			revived = true;
		if (down && r >= 0)
			r = apply_pre_start(cli_ctx(), sel.p, (char *const *)&name, 1, &err);
		if (r == 0 && (a == A_START || a == A_RESTART))
			r = ctr_start(root, name, &err);
		pid_t pid;
		if (r == 0 && a == A_KILL && ctr_up(root, name, &pid) && pid > 0)
			r = ctr_kill(root, name, sig, &err);
		if (r == 0 && (a == A_PAUSE || a == A_UNPAUSE))
			r = ctr_pause(root, name, a == A_PAUSE, &err);
		if (r == 0)
			cli_progress(NULL, "Container", name, done[a]);
	}
	/* names resolve again if the responder was killed meanwhile */
	if (r == 0 && revived)
		r = net_sync(root, &err);
	else if (r == 0 && (a == A_START || a == A_RESTART))
		r = dnsctl_ensure(root, &err);
	if (r == 0 && remove_orphans)
		r = apply_remove_orphans(cli_ctx(), sel.p, -1, &err);
	if (r == 0 && wait)
		r = wait_services_ready(sel.p, pos, wait_timeout, &err);
	selection_free(&sel);
	strv_free(pos);
	return r < 0 ? report(err) : 0;
}

int cmd_start(struct global_opts *g, int argc, char **argv) { return act(g, argc, argv, A_START); }
int cmd_stop(struct global_opts *g, int argc, char **argv) { return act(g, argc, argv, A_STOP); }
int cmd_restart(struct global_opts *g, int argc, char **argv) { return act(g, argc, argv, A_RESTART); }
int cmd_kill(struct global_opts *g, int argc, char **argv) { return act(g, argc, argv, A_KILL); }
int cmd_pause(struct global_opts *g, int argc, char **argv) { return act(g, argc, argv, A_PAUSE); }
int cmd_unpause(struct global_opts *g, int argc, char **argv) { return act(g, argc, argv, A_UNPAUSE); }

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
	int r = select_containers(g, pos, true, &sel, &err);
	if (r == 0 && stop && !cli_dry_run()) {
		/* --stop stops them as stop does (hooks, signal, grace period) first */
		const struct ctr_info **cs = xcalloc(sel.n + 1, sizeof(*cs));
		for (size_t i = 0; i < sel.n; i++)
			cs[i] = &sel.list[i];
		r = apply_stop(cli_ctx(), sel.p, cs, sel.n, -1, stopped, NULL, &err);
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
	selection_free(&sel);
	strv_free(pos);
	return r < 0 ? report(err) : 0;
}

int cmd_exec(struct global_opts *g, int argc, char **argv)
{
	bool no_tty = false, detach = false, privileged = false, help = false, interactive = true, tty = true;
	const char *user = NULL, *workdir = NULL, *index = NULL;
	char **env = NULL;
	const struct flag flags[] = {
		{"no-TTY", 'T', FLAG_BOOL, &no_tty, NULL, "Do not allocate a TTY"},
		{"interactive", 'i', FLAG_BOOL, &interactive, NULL, "Keep stdin open (the default; --interactive=false: none)"},
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
		printf("Usage: berth exec [OPTIONS] SERVICE COMMAND [ARGS...]\n\nRun a command in a running container.\n\nOptions:\n");
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
	int r = select_containers(g, svc, false, &sel, &err);
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
		selection_free(&sel);
		strv_free(env);
		return 0;
	}
	struct exec_opts o = {.argv = argv + i + 1, .env = env, .user = user, .workdir = workdir,
			      .privileged = privileged, .detach = detach,
			      .tty = tty && !no_tty && isatty(STDIN_FILENO)};
	if (r == 0)
		r = ctr_exec(berth_root(), name, &o, &status, &err);
	selection_free(&sel);
	strv_free(env);
	return r < 0 ? report(err) : status;
}

/* One process as ps -ef shows it (docker top's columns): UID (a name of
 * the host's), PID, PPID, C (CPU % over its life), STIME, TTY, TIME, CMD. */
static int ps_row(const char *pid, char *row[8])
{
	_cleanup_free_ char *stat = NULL, *status = NULL, *cmd = NULL;
	_cleanup_free_ char *sp = xasprintf("/proc/%s/stat", pid), *tp = xasprintf("/proc/%s/status", pid),
			    *cp = xasprintf("/proc/%s/cmdline", pid);
	size_t sl, tl, cl;
	if (fs_read_file(sp, 1 << 16, &stat, &sl, NULL) < 0 || fs_read_file(tp, 1 << 16, &status, &tl, NULL) < 0 ||
	    fs_read_file(cp, 1 << 16, &cmd, &cl, NULL) < 0)
		return -1;
	/* after the command's ")": state ppid pgrp session tty_nr ... utime(14) stime(15) ... starttime(22) */
	const char *rest = strrchr(stat, ')');
	char state;
	int ppid, pgrp, session, tty;
	unsigned long long f[20] = {0};
	if (!rest || sscanf(rest + 2, "%c %d %d %d %d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu",
			    &state, &ppid, &pgrp, &session, &tty, &f[0], &f[1], &f[2]) != 8)
		return -1;
	long hz = sysconf(_SC_CLK_TCK);
	unsigned long long cpu = (f[0] + f[1]) / (unsigned long long)hz;
	struct timespec up;
	clock_gettime(CLOCK_BOOTTIME, &up);
	double age = (double)up.tv_sec - (double)f[2] / (double)hz;
	const char *uidl = strstr(status, "\nUid:\t");
	uid_t uid = uidl ? (uid_t)atoi(uidl + 6) : 0;
	struct passwd *pw = getpwuid(uid);
	time_t started = time(NULL) - (time_t)age;
	struct tm tm;
	localtime_r(&started, &tm);
	char stime[16];
	strftime(stime, sizeof(stime), age < 86400 ? "%H:%M" : "%b%d", &tm);
	for (size_t k = 0; k + 1 < cl; k++)
		if (!cmd[k])
			cmd[k] = ' ';
	row[0] = pw ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned)uid);
	row[1] = xstrdup(pid);
	row[2] = xasprintf("%d", ppid);
	row[3] = xasprintf("%d", age > 0 ? (int)((double)(f[0] + f[1]) / (double)hz * 100.0 / age) : 0);
	row[4] = xstrdup(stime);
	row[5] = tty ? xasprintf("pts/%d", (tty & 0xff) | ((tty >> 12) & 0xfff00)) : xstrdup("?");
	row[6] = xasprintf("%02llu:%02llu:%02llu", cpu / 3600, cpu / 60 % 60, cpu % 60);
	row[7] = cl ? xstrdup(cmd) : xasprintf("[%s]", "?");
	return 0;
}

int cmd_top(struct global_opts *g, int argc, char **argv)
{
	char **pos = NULL;
	int rc = cmd_flags("top", NULL, 0, argc, argv, &pos, "berth top [SERVICE...]",
			   "Display the running processes of containers.");
	if (rc >= 0) {
		strv_free(pos);
		return rc;
	}
	struct berr *err = NULL;
	struct selection sel;
	int r = select_containers(g, pos, false, &sel, &err);
	for (size_t i = 0; r == 0 && i < sel.n; i++) {
		char **paths = cgroup_paths(sel.list[i].name);
		_cleanup_free_ char *procs = paths[0] ? xasprintf("%s/cgroup.procs", paths[0]) : NULL;
		strv_free(paths);
		_cleanup_free_ char *text = NULL;
		size_t len;
		if (!procs || fs_read_file(procs, 1 << 20, &text, &len, NULL) < 0)
			continue;
		printf("%s\n", sel.list[i].name);
		fflush(stdout);
		struct table t;
		table_init(&t, 8, (const char *const[]){"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"});
		char *save = NULL;
		for (char *pid = strtok_r(text, "\n", &save); pid; pid = strtok_r(NULL, "\n", &save)) {
			char *row[8];
			if (ps_row(pid, row) == 0) {
				table_add(&t, (const char *const *)row);
				for (int c = 0; c < 8; c++)
					free(row[c]);
			}
		}
		table_print(&t);
		printf("\n");
	}
	selection_free(&sel);
	strv_free(pos);
	return r < 0 ? report(err) : 0;
}

int cmd_autoremove(int argc, char **argv)
{
	if (argc != 3 || !argv[1][0] || strchr(argv[2], '/') || argv[2][0] == '.' || !argv[2][0])
		return 2;
	setenv("BERTH_ROOT", argv[1], 1);
	const char *root = berth_root(), *name = argv[2];
	/* its shim goes first (it is the one that started this) */
	for (int i = 0; i < 300 && ctr_up(root, name, NULL); i++)
		nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
	_cleanup_(json_releasep) json_t *meta = apply_meta(root, name);
	const char *project = json_string_value(json_object_get(meta, "project"));
	int lock = -1, r = -1;
	_cleanup_(berr_freep) struct berr *err = NULL;
	if (project && ctr_exists(root, name) && !ctr_up(root, name, NULL) && apply_lock(root, project, &lock, &err) == 0) {
		r = apply_remove_container(root, name, true, &err);
		if (r == 0)
			r = net_sync(root, &err);
	}
	if (lock >= 0)
		close(lock);
	return r < 0;
}

/* berth wait SERVICE...: until their containers have stopped; the exit
 * code of the first to stop. --down-project: the project goes down as
 * soon as one stops, as docker compose wait --down-project does. */
int cmd_wait(struct global_opts *g, int argc, char **argv)
{
	bool down = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"down-project", 0, FLAG_BOOL, &down, NULL, "Take the project down when the first container stops"},
	};
	int rc = cmd_flags("wait", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth wait SERVICE [SERVICE...]",
			   "Block until the containers of the services stop; exit with the first one's code.");
	_cleanup_(strv_freep) char **names = pos;
	if (rc >= 0)
		return rc;
	if (!names || !names[0])
		return usage_error("wait", "give the services to wait for");
	struct berr *err = NULL;
	struct selection sel;
	int r = select_containers(g, names, false, &sel, &err);
	if (r == 0 && sel.n == 0)
		r = berr_set(&err, ENOENT, "no containers of %s to wait for", names[0]);
	const char *root = berth_root();
	int code = -1;
	bool *done = xcalloc(sel.n + 1, sizeof(bool));
	for (size_t i = 0; r == 0 && cli_dry_run() && i < sel.n; i++) { /* said; nothing waited for */
		done[i] = true;
		cli_progress(NULL, "Container", sel.list[i].name,
			     ctr_running(root, sel.list[i].name) ? "would be waited for" : "Exited");
	}
	for (size_t left = cli_dry_run() ? 0 : sel.n; r == 0 && left > 0;) {
		for (size_t i = 0; i < sel.n; i++) {
			if (done[i] || ctr_running(root, sel.list[i].name))
				continue;
			done[i] = true;
			left--;
			struct ctr_state st;
			if (code < 0 && ctr_state(root, sel.list[i].name, &st, NULL) == 0) {
				code = st.exit_code < 0 ? 255 : st.exit_code;
				state_free(&st);
			}
		}
		if (left > 0 && down && code >= 0)
			break;
		if (left > 0)
			nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
	}
	free(done);
	if (r == 0 && down) {
		int lock = -1;
		r = apply_lock(root, sel.p->name, &lock, &err);
		struct down_opts o = {.timeout_ms = -1};
		if (r == 0)
			r = apply_down(cli_ctx(), sel.p, &o, &err);
		if (lock >= 0)
			close(lock);
	}
	selection_free(&sel);
	return r < 0 ? report(err) : code < 0 ? 0 : code;
}
