/* berth cp: copy files between a service's container and the host, as
 * docker compose cp (SERVICE:PATH on one side; - for a tar stream). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../orchestrator/apply.h"
#include "../runtime/cp.h"
#include "cli.h"

/* Run fn(fd) in a child on one end of a pipe; *other: the end left. */
static pid_t side(bool writes, int *other, int (*fn)(void *, int, struct berr **), void *arg)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(writes ? p[0] : p[1]);
		struct berr *e = NULL;
		if (fn(arg, writes ? p[1] : p[0], &e) < 0) {
			fprintf(stderr, "berth: %s\n", e->msg);
			_exit(1);
		}
		_exit(0);
	}
	close(writes ? p[1] : p[0]);
	*other = writes ? p[0] : p[1];
	return pid;
}

struct host_job {
	const char *path;
	bool follow, keep_owner;
};

static int host_write(void *arg, int fd, struct berr **err)
{
	struct host_job *j = arg;
	return cp_tar_write(j->path, j->follow, fd, err);
}

static int host_extract(void *arg, int fd, struct berr **err)
{
	struct host_job *j = arg;
	return cp_tar_extract(j->path, false, j->keep_owner, fd, err);
}

static bool child_ok(pid_t pid)
{
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* "web:/etc/hosts": the service and the path; NULL for a host path. */
static char *service_of(const char *arg, const char **path)
{
	const char *colon = strchr(arg, ':');
	const char *slash = strchr(arg, '/');
	if (!colon || colon == arg || (slash && slash < colon)) /* ./a:b is a host path */
		return NULL;
	*path = colon + 1;
	return xstrndup(arg, (size_t)(colon - arg));
}

int cmd_cp(struct global_opts *g, int argc, char **argv)
{
	bool archive = false, follow = false, all = false, help = false;
	const char *index = NULL;
	char **pos = NULL;
	const struct flag flags[] = {
		{"archive", 'a', FLAG_BOOL, &archive, NULL, "Keep the files' owners (uid and gid)"},
		{"follow-link", 'L', FLAG_BOOL, &follow, NULL, "Follow a symlink that is the source itself"},
		{"index", 0, FLAG_STR, &index, "N", "Which container of the service (default: the first; into: all)"},
		{"all", 0, FLAG_BOOL, &all, NULL, "Also the service's one-off containers (berth run's)"},
		{"help", 'h', FLAG_BOOL, &help, NULL, "Show this help"},
	};
	int rc = cmd_flags("cp", flags, ARRAY_SIZE(flags), argc, argv, &pos, &help,
			   "berth cp [OPTIONS] SERVICE:SRC_PATH DEST_PATH|-\n       berth cp [OPTIONS] SRC_PATH|- SERVICE:DEST_PATH",
			   "Copy files between a service's container and the host.");
	_cleanup_(strv_freep) char **args = pos;
	if (rc >= 0)
		return rc;
	if (strv_len(args) != 2)
		return usage_error("cp", "cp takes a source and a destination");
	const char *src = args[0], *dst = args[1], *cpath = NULL, *dpath = NULL;
	_cleanup_free_ char *from = service_of(src, &cpath);
	_cleanup_free_ char *to = service_of(dst, &dpath);
	if ((from != NULL) == (to != NULL))
		return usage_error("cp", "one side must be SERVICE:PATH and the other a path on the host (or -)");
	if ((from && !cpath[0]) || (to && !dpath[0]))
		return usage_error("cp", "give a path after SERVICE:");
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	if (project_open(g, NULL, false, &p, &err) < 0)
		return report(err);
	const char *svc = from ? from : to;
	if (!project_service(p, svc))
		return report((berr_set(&err, ENOENT, "no such service: %s", svc), err));
	size_t n;
	struct ctr_info *list = apply_list(p, berth_root(), &n);
	char **names = xcalloc(n + 1, sizeof(char *));
	size_t k = 0;
	int want = index ? atoi(index) : 0;
	for (size_t i = 0; i < n; i++)
		if (streq(list[i].service, svc) && (all || !list[i].oneoff) && (!want || list[i].number == want) &&
		    !(from && k > 0))
			names[k++] = xstrdup(list[i].name);
	ctr_info_free(list, n);
	int r = k ? 0 : berr_set(&err, ENOENT, "service %s has no container%s%s", svc, index ? " number " : "", index ? index : "");
	struct host_job hj = {.path = from ? dst : src, .follow = follow, .keep_owner = archive};
	const char *root = berth_root();
	/* the project's lock: a stopped container's filesystem is mounted for
	 * the copy, and must not be started (mounted again) meanwhile */
	_cleanup_close_ int lock = -1;
	if (r == 0 && !cli_dry_run())
		r = apply_lock(root, p->name, &lock, &err);
	for (size_t i = 0; r == 0 && cli_dry_run() && i < k; i++) {
		_cleanup_free_ char *what = from ? xasprintf("%s:%s to %s", names[i], cpath, dst) : xasprintf("%s to %s:%s", src, names[i], dpath);
		cli_progress(NULL, "Copy", what, "Copied");
	}
	for (size_t i = 0; r == 0 && !cli_dry_run() && i < k; i++) {
		int fd = -1;
		pid_t pid = 0;
		if (from && streq(dst, "-")) {
			r = ctr_cp_out(root, names[i], cpath, follow, STDOUT_FILENO, &err);
		} else if (from) {
			if ((pid = side(false, &fd, host_extract, &hj)) < 0)
				r = berr_sys(&err, errno, "cannot start the copy");
			if (r == 0)
				r = ctr_cp_out(root, names[i], cpath, follow, fd, &err);
		} else if (streq(src, "-")) {
			r = ctr_cp_in(root, names[i], dpath, true, archive, STDIN_FILENO, &err);
		} else {
			if ((pid = side(true, &fd, host_write, &hj)) < 0)
				r = berr_sys(&err, errno, "cannot start the copy");
			if (r == 0)
				r = ctr_cp_in(root, names[i], dpath, false, archive, fd, &err);
		}
		if (fd >= 0)
			close(fd);
		if (pid > 0 && !child_ok(pid) && r == 0)
			r = berr_set(&err, EIO, "copying %s to %s failed", src, dst);
	}
	strv_free(names);
	return r < 0 ? report(err) : 0;
}
