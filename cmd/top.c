/* berth top. */
#include <time.h>
#include <pwd.h>

#include "../lib/fs.h"
#include "../orchestrator/apply.h"
#include "../runtime/cgroup.h"
#include "cli.h"
#include "table.h"

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
	int r = cli_select_containers(g, pos, false, &sel, &err);
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
	cli_selection_free(&sel);
	strv_free(pos);
	return r < 0 ? report(err) : 0;
}
