#include "copyup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../lib/fs.h"

#define MAX_DEPTH 256

/* Inodes already copied, for hard links. */
struct seen {
	dev_t dev;
	ino_t ino;
	int dirfd; /* where the first copy is */
	char *name;
};

struct copy {
	struct seen *seen;
	size_t nseen;
	struct berr **err;
};

static void copy_xattrs(int from, int to)
{
	char names[4096];
	ssize_t n = flistxattr(from, names, sizeof(names));
	for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(names + off) + 1) {
		char value[4096];
		ssize_t v = fgetxattr(from, names + off, value, sizeof(value));
		if (v >= 0)
			fsetxattr(to, names + off, value, (size_t)v, 0);
	}
}

/* Owner, mode and times of st onto the fd, after the content. */
static void finish(int fd, const struct stat *st)
{
	if (fchown(fd, st->st_uid, st->st_gid) < 0 && errno != EPERM)
		return;
	fchmod(fd, st->st_mode & 07777);
	struct timespec t[2] = {st->st_atim, st->st_mtim};
	futimens(fd, t);
}

static int fail(struct copy *c, const char *what, const char *name)
{
	return berr_sys(c->err, errno, "copy-up: cannot %s %s", what, name);
}

static int copy_file(struct copy *c, int sdir, int ddir, const char *name, const struct stat *st)
{
	_cleanup_close_ int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int out = in < 0 ? -1
					 : openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
						  0600);
	if (in < 0 || out < 0)
		return fail(c, "copy", name);
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(c, "read", name);
		if (n == 0)
			break;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));
			if (w < 0 && errno != EINTR)
				return fail(c, "write", name);
			done += w > 0 ? w : 0;
		}
	}
	copy_xattrs(in, out);
	finish(out, st);
	return 0;
}

static int copy_dir(struct copy *c, int sdir, int ddir, int depth);

static int copy_entry(struct copy *c, int sdir, int ddir, const char *name, int depth)
{
	struct stat st;
	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(c, "read", name);
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		for (size_t i = 0; i < c->nseen; i++)
			if (c->seen[i].dirfd >= 0 && c->seen[i].dev == st.st_dev && c->seen[i].ino == st.st_ino)
				return linkat(c->seen[i].dirfd, c->seen[i].name, ddir, name, 0) < 0
					       ? fail(c, "link", name)
					       : 0;
	}
	int r = 0;
	if (S_ISREG(st.st_mode)) {
		r = copy_file(c, sdir, ddir, name, &st);
	} else if (S_ISDIR(st.st_mode)) {
		if (mkdirat(ddir, name, 0700) < 0)
			return fail(c, "create", name);
		_cleanup_close_ int s = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int d = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0 || d < 0)
			return fail(c, "open", name);
		r = copy_dir(c, s, d, depth + 1);
		copy_xattrs(s, d);
		finish(d, &st);
	} else if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);
		if (n < 0)
			return fail(c, "read link", name);
		target[n] = '\0';
		if (symlinkat(target, ddir, name) < 0)
			return fail(c, "create link", name);
		fchownat(ddir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
		struct timespec t[2] = {st.st_atim, st.st_mtim};
		utimensat(ddir, name, t, AT_SYMLINK_NOFOLLOW);
	} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
		if (mknodat(ddir, name, st.st_mode, st.st_rdev) < 0)
			return fail(c, "create", name);
		fchownat(ddir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
	} /* sockets are not copied */
	if (r == 0 && !S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		c->seen = xrealloc(c->seen, (c->nseen + 1) * sizeof(*c->seen));
		c->seen[c->nseen++] = (struct seen){st.st_dev, st.st_ino, ddir, xstrdup(name)};
	}
	return r;
}

static int copy_dir(struct copy *c, int sdir, int ddir, int depth)
{
	if (depth > MAX_DEPTH)
		return berr_set(c->err, ELOOP, "copy-up: directories nested deeper than %d", MAX_DEPTH);
	int dup = fcntl(sdir, F_DUPFD_CLOEXEC, 0);
	_cleanup_(closedirp) DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	if (!d) {
		if (dup >= 0)
			close(dup);
		return berr_sys(c->err, errno, "copy-up: cannot list a directory");
	}
	int r = 0;
	for (struct dirent *e; r == 0 && (e = readdir(d));)
		if (!streq(e->d_name, ".") && !streq(e->d_name, ".."))
			r = copy_entry(c, sdir, ddir, e->d_name, depth);
	/* links recorded in this directory must not outlive its fd */
	for (size_t i = 0; i < c->nseen; i++)
		if (c->seen[i].dirfd == ddir)
			c->seen[i].dirfd = -1;
	return r;
}

int copyup(int src, int dst, struct berr **err)
{
	struct copy c = {.err = err};
	int r = copy_dir(&c, src, dst, 0);
	for (size_t i = 0; i < c.nseen; i++)
		free(c.seen[i].name);
	free(c.seen);
	struct stat st;
	if (r == 0 && fstat(src, &st) == 0) {
		copy_xattrs(src, dst);
		finish(dst, &st);
	}
	return r;
}
