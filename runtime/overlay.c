#include "overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/util.h"

/* What the kernel takes of mount(2)'s options: one page. */
#define MOUNT_DATA_MAX 4096

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
}

/* dirs[i] opened into fds[i], named "/proc/self/fd/N" after key in o. */
static int add_dirs(struct buf *o, const char *key, char *const *dirs, int *fds, struct berr **err)
{
	buf_printf(o, "%s%s=", o->len ? "," : "", key);
	for (size_t i = 0; dirs[i]; i++) {
		fds[i] = open(dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fds[i] < 0)
			return berr_sys(err, errno, "cannot open the overlay's directory %s", dirs[i]);
		buf_printf(o, "%s/proc/self/fd/%d", i ? ":" : "", fds[i]);
	}
	return 0;
}

int overlay_mount(const char *target, char *const *lowers, const char *upper, const char *work, unsigned long flags,
		  struct berr **err)
{
	size_t n = strv_len(lowers);
	if (n == 0)
		return berr_set(err, EINVAL, "an overlay needs at least one layer");
	/* overlayfs takes one lower directory only with an upper one */
	if (n == 1 && !upper) {
		if (mount(lowers[0], target, NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | flags, NULL) < 0)
			return berr_sys(err, errno, "cannot mount the layer %s", lowers[0]);
		return 0;
	}
	int *fds = xcalloc(n + 2, sizeof(int));
	for (size_t i = 0; i < n + 2; i++)
		fds[i] = -1;
	struct buf o = {0};
	int r = add_dirs(&o, "lowerdir", lowers, fds, err);
	if (r == 0 && upper) {
		r = add_dirs(&o, "upperdir", (char *[]){(char *)upper, NULL}, fds + n, err);
		if (r == 0)
			r = add_dirs(&o, "workdir", (char *[]){(char *)work, NULL}, fds + n + 1, err);
	}
	buf_puts(&o, ",redirect_dir=nofollow,metacopy=off");
	if (r == 0 && o.len >= MOUNT_DATA_MAX)
		r = berr_set(err, E2BIG, "an overlay of %zu layers is more than one mount can take", n);
	if (r == 0 && mount("overlay", target, "overlay", upper ? flags : flags | MS_RDONLY, o.s) < 0)
		r = berr_sys(err, errno, "cannot mount an overlay of %zu layers", n);
	buf_free(&o);
	close_fds(fds, n + 2);
	return r;
}

uint64_t overlay_subpath_resolve(bool in_root)
{
	return in_root ? RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS
		       : RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
}

char *overlay_option(const char *data, const char *key)
{
	size_t k = strlen(key);
	for (const char *p = data; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, key, k) == 0 && p[k] == '=')
			return xstrndup(p + k + 1, strcspn(p + k + 1, ","));
	return NULL;
}

static char **split(const char *s, char sep)
{
	char **v = xcalloc(1, sizeof(char *));
	for (const char *p = s; p;) {
		const char *e = strchr(p, sep);
		strv_push(&v, e ? xstrndup(p, (size_t)(e - p)) : xstrdup(p));
		p = e ? e + 1 : NULL;
	}
	return v;
}

char **overlay_lowers(const char *data)
{
	_cleanup_free_ char *lower = overlay_option(data, "lowerdir");
	return lower ? split(lower, ':') : NULL;
}

int overlay_mount_data(const char *target, const char *data, unsigned long flags, struct berr **err)
{
	_cleanup_(strv_freep) char **opts = split(data ? data : "", ',');
	for (size_t i = 0; opts[i]; i++)
		if (!startswith(opts[i], "lowerdir=") && !startswith(opts[i], "upperdir=") &&
		    !startswith(opts[i], "workdir=") && opts[i][0])
			return berr_set(err, EINVAL, "an overlay's option %s is not one berth sets", opts[i]);
	_cleanup_(strv_freep) char **lowers = overlay_lowers(data);
	_cleanup_free_ char *upper = overlay_option(data, "upperdir"), *work = overlay_option(data, "workdir");
	if (!lowers || !lowers[0] || !upper != !work)
		return berr_set(err, EINVAL, "an overlay needs its layers (and an upper with a work directory)");
	return overlay_mount(target, lowers, upper, work, flags, err);
}

/* The child of overlay_subpath_tree: the overlay mounted over its lowest
 * layer (a directory there is, in a namespace only it has), the subpath
 * cloned and sent back; else which step failed and errno. */
static void subpath_child(int sock, char *const *lowers, const char *subpath, bool in_root)
{
	int step = 1, e = 0, root = -1, sub = -1, tree = -1;
	/* by its path: reopened through a descriptor, the directory would be
	 * the one beneath the mount; the store is root's alone */
	const char *at = lowers[strv_len(lowers) - 1];
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		e = errno;
	if (!e) {
		int r = overlay_mount(at, lowers, NULL, NULL, MS_RDONLY, NULL);
		e = r < 0 ? -r : 0;
	}
	struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = overlay_subpath_resolve(in_root)};
	if (!e && (root = open(at, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		e = errno;
	if (!e && (step = 2, sub = (int)syscall(SYS_openat2, root, subpath, &how, sizeof(how))) < 0)
		e = errno;
	if (!e && (step = 3, tree = (int)syscall(SYS_open_tree, sub, "",
						 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH)) < 0)
		e = errno;
	int msg[2] = {step, e ? e : EIO};
	struct iovec iov = {msg, sizeof(msg)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (tree >= 0) {
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &tree, sizeof(int));
	}
	_exit(sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(msg) ? 0 : 1);
}

int overlay_subpath_tree(char *const *lowers, const char *subpath, bool in_root, struct berr **err)
{
	if (!lowers || !lowers[0])
		return berr_set(err, EINVAL, "an overlay needs at least one layer");
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return berr_sys(err, errno, "cannot mount the layers");
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		subpath_child(sv[1], lowers, subpath, in_root);
	}
	close(sv[1]);
	int msg[2] = {0, EIO};
	struct iovec iov = {msg, sizeof(msg)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	ssize_t n = pid < 0 ? -1 : recvmsg(sv[0], &mh, MSG_CMSG_CLOEXEC);
	close(sv[0]);
	while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	struct cmsghdr *c = n == (ssize_t)sizeof(msg) ? CMSG_FIRSTHDR(&mh) : NULL;
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
		int fd;
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
		return fd;
	}
	if (msg[0] == 2)
		return berr_sys(err, msg[1], "there is no %s in the layers (or a symlink on its way)", subpath);
	return berr_sys(err, msg[1], "cannot mount an overlay of %zu layers", strv_len(lowers));
}
