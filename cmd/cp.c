/* berth cp: copy files between a service's container and the host, as
 * docker compose cp (SERVICE:PATH on one side; - for a tar stream). */
#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "../images/ref.h"
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
	bool archive = false, follow = false, all = false;
	const char *index = NULL;
	char **pos = NULL;
	const struct flag flags[] = {
		{"archive", 'a', FLAG_BOOL, &archive, NULL, "Keep the files' owners (uid and gid)"},
		{"follow-link", 'L', FLAG_BOOL, &follow, NULL, "Follow a symlink that is the source itself"},
		{"index", 0, FLAG_STR, &index, "N", "Which container of the service (default: the first; into: all)"},
		{"all", 0, FLAG_BOOL, &all, NULL, "Also the service's one-off containers (berth run's)"},
	};
	int rc = cmd_flags("cp", flags, ARRAY_SIZE(flags), argc, argv, &pos,
			   "berth cp [OPTIONS] SERVICE:SRC_PATH DEST_PATH|-\n       berth cp [OPTIONS] SRC_PATH|- "
			   "SERVICE:DEST_PATH",
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
	int r = k ? 0
		  : berr_set(&err, ENOENT, "service %s has no container%s%s", svc, index ? " number " : "",
			     index ? index : "");
	struct host_job hj = {.path = from ? dst : src, .follow = follow, .keep_owner = archive};
	const char *root = berth_root();
	/* the project's lock: a stopped container's filesystem is mounted for
	 * the copy, and must not be started (mounted again) meanwhile */
	_cleanup_close_ int lock = -1;
	if (r == 0 && !cli_dry_run())
		r = apply_lock(root, p->name, &lock, &err);
	for (size_t i = 0; r == 0 && cli_dry_run() && i < k; i++) {
		_cleanup_free_ char *what = from ? xasprintf("%s:%s to %s", names[i], cpath, dst)
						 : xasprintf("%s to %s:%s", src, names[i], dpath);
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

/* berth export [--index N] [-o FILE] SERVICE: a container's filesystem as
 * a tar, as docker compose export writes it. */
int cmd_export(struct global_opts *g, int argc, char **argv)
{
	const char *index = NULL, *output = NULL;
	char **pos = NULL;
	const struct flag flags[] = {
		{"output", 'o', FLAG_STR, &output, "FILE", "Write to FILE instead of standard output"},
		{"index", 0, FLAG_STR, &index, "N", "Which container of the service (default 1)"},
	};
	int rc = cmd_flags("export", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth export [OPTIONS] SERVICE",
			   "Export a service container's filesystem as a tar archive.");
	_cleanup_(strv_freep) char **args = pos;
	if (rc >= 0)
		return rc;
	if (strv_len(args) != 1)
		return usage_error("export", "export takes one service");
	if (!output && isatty(STDOUT_FILENO))
		return usage_error("export",
				   "refusing to write a tar to a terminal: give -o FILE, or redirect the output");
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	if (project_open(g, args, false, &p, &err) < 0)
		return report(err);
	int want = index ? atoi(index) : 1;
	_cleanup_free_ char *name = apply_replica(p, berth_root(), args[0], want, NULL);
	if (!name)
		return report((berr_set(&err, ENOENT, "service %s has no container number %d", args[0], want), err));
	if (cli_dry_run()) {
		cli_progress(NULL, "Container", name, output ? "would be exported" : "would be exported to stdout");
		return 0;
	}
	_cleanup_close_ int lock = -1;
	int r = apply_lock(berth_root(), p->name, &lock, &err);
	_cleanup_close_ int fd = r == 0 && output ? open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
	if (r == 0 && output && fd < 0)
		r = berr_sys(&err, errno, "cannot write %s", output);
	if (r == 0)
		r = ctr_export(berth_root(), name, output ? fd : STDOUT_FILENO, &err);
	return r < 0 ? report(err) : 0;
}

/* berth commit [OPTIONS] SERVICE [REPOSITORY[:TAG]]: what the container
 * changed, as a new image on its image, as docker compose commit. */
int cmd_commit(struct global_opts *g, int argc, char **argv)
{
	const char *index = NULL, *author = NULL, *message = NULL;
	bool pause = true;
	char **pos = NULL, **changes = NULL;
	const struct flag flags[] = {
		{"author", 'a', FLAG_STR, &author, "AUTHOR", "Author (e.g. \"Jane Doe <jane@example.com>\")"},
		{"change", 'c', FLAG_LIST, &changes, "INSTRUCTION",
		 "A Dockerfile instruction for the image; repeatable"},
		{"message", 'm', FLAG_STR, &message, "MESSAGE", "Commit message"},
		{"pause", 'p', FLAG_BOOL, &pause, NULL, "Pause the container while it is committed (default true)"},
		{"index", 0, FLAG_STR, &index, "N", "Which container of the service (default 1)"},
	};
	int rc = cmd_flags("commit", flags, ARRAY_SIZE(flags), argc, argv, &pos,
			   "berth commit [OPTIONS] SERVICE [REPOSITORY[:TAG]]",
			   "Create a new image from a service container's changes.");
	_cleanup_(strv_freep) char **args = pos;
	_cleanup_(strv_freep) char **chg = changes;
	if (rc >= 0)
		return rc;
	if (strv_len(args) < 1 || strv_len(args) > 2)
		return usage_error("commit", "commit takes a service and, optionally, REPOSITORY[:TAG]");
	struct berr *err = NULL;
	struct image_ref ref = {0};
	if (args[1] && ref_parse(args[1], &ref, &err) < 0)
		return report(err);
	_cleanup_free_ char *full = args[1] ? ref_string(&ref) : NULL;
	ref_free(&ref);
	_cleanup_(project_freep) struct project *p = NULL;
	char *one[] = {args[0], NULL};
	if (project_open(g, one, false, &p, &err) < 0)
		return report(err);
	const char *root = berth_root();
	int want = index ? atoi(index) : 1;
	_cleanup_free_ char *image = NULL;
	_cleanup_free_ char *name = apply_replica(p, root, args[0], want, &image);
	if (!name)
		return report((berr_set(&err, ENOENT, "service %s has no container number %d", args[0], want), err));
	if (cli_dry_run()) {
		cli_progress(NULL, "Container", name, full ? "would be committed" : "would be committed, untagged");
		return 0;
	}
	char id[72] = "";
	struct commit_req c = {.container = name,
			       .image = image,
			       .tag = full,
			       .author = author,
			       .message = message,
			       .changes = chg,
			       .pause = pause};
	int r = apply_commit(cli_ctx(), p, &c, id, &err);
	if (r < 0)
		return report(err);
	printf("%s\n", id);
	return 0;
}
