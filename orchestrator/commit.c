/* berth commit: what a container changed, as a new image on its own
 * image, as docker compose commit makes it. */
#include "apply.h"
#include "applier.h"

#include <sys/wait.h>

#include "../builder/commit.h"
#include "../lib/fs.h"
#include "../lib/spawn.h"
#include "../runtime/ctr.h"

/* A copy of the container's upper directory (owners, modes, xattrs and
 * overlay whiteouts kept) at dst, by cp -a. */
static int copy_upper(const char *src, const char *dst, struct berr **err)
{
	_cleanup_free_ char *from = xasprintf("%s/.", src);
	char *argv[] = {"cp", "-a", "--", from, (char *)dst, NULL};
	pid_t pid;
	int e = spawn_fds("/bin/cp", argv, (const int[]){-1, -1, STDERR_FILENO}, 3, false, &pid);
	int status = 0;
	while (e == 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (e || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return berr_set(err, EIO, "cannot copy the container's changes (%s)", e ? strerror(e) : "cp failed");
	return 0;
}

/* Paused while its upper directory is copied (a consistent picture of a
 * running container), when it runs and is not paused already. */
static bool pause_for_copy(const char *root, const char *name)
{
	struct ctr_state cs;
	if (ctr_state(root, name, &cs, NULL) < 0)
		return false;
	bool paused = cs.status == ST_RUNNING && !cs.paused && ctr_pause(root, name, true, NULL) == 0;
	state_free(&cs);
	return paused;
}

int apply_commit(const struct apply_ctx *ctx, const struct project *p, const struct commit_req *c, char id[72],
		 struct berr **err)
{
	const char *root = ctx->root;
	_cleanup_close_ int lock = -1;
	int r = apply_lock(root, p->name, &lock, err);
	_cleanup_(store_closep) struct store *st = NULL;
	if (r == 0)
		r = store_open(root, true, &st, err);
	_cleanup_free_ char *base = NULL;
	if (r == 0 && store_resolve(st, c->image, &base, err) < 0)
		r = berr_prefix(err, "the image of %s: ", c->container);
	_cleanup_free_ char *dir = ctr_dir(root, c->container);
	_cleanup_free_ char *upper = path_join(dir, "upper");
	_cleanup_free_ char *tmp = xasprintf("%s/images/tmp/commit-XXXXXX", root);
	if (r == 0 && !mkdtemp(tmp))
		r = berr_sys(err, errno, "cannot make %s", tmp);
	bool paused_here = r == 0 && c->pause && pause_for_copy(root, c->container);
	if (r == 0)
		r = copy_upper(upper, tmp, err);
	if (paused_here)
		ctr_pause(root, c->container, false, NULL);
	struct commit_opts co = {
		.base = base, .upper = tmp, .changes = c->changes, .author = c->author, .message = c->message};
	if (r == 0)
		r = commit_image(st, &co, id, err);
	if (r < 0 && tmp[strlen(tmp) - 1] != 'X')
		fs_remove_tree(tmp, NULL);
	if (r == 0 && c->tag)
		r = store_set_tag(st, c->tag, id, err);
	return r;
}
