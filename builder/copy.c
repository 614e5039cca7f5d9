#include "copy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../images/archive_dl.h"
#include "../lib/buf.h"
#include "../lib/fs.h"
#include "../lib/sha256.h"
#include "../lib/spawn.h"
#include "../lib/util.h"
#include "../runtime/overlay.h"

/* A source tree: its root, and what of it is left out. */
struct tree {
	int fd;
	const struct ignore *ig, *ex;
	bool keep_owner; /* a stage's files keep their owners; the context's are root's */
	int proc;        /* the host's /proc (the copy runs chrooted); -1: /proc */
};

static bool excluded(const struct tree *t, const char *rel);

/* Where an open descriptor of the tree is, relative to its root (a new
 * string; NULL when that cannot be read). */
static char *where(const struct tree *t, int fd)
{
	char link[64], root[PATH_MAX], path[PATH_MAX];
	int dir = t->proc >= 0 ? t->proc : AT_FDCWD;
	const char *self = t->proc >= 0 ? "self/fd/%d" : "/proc/self/fd/%d";
	snprintf(link, sizeof(link), self, t->fd);
	ssize_t nr = readlinkat(dir, link, root, sizeof(root) - 1);
	snprintf(link, sizeof(link), self, fd);
	ssize_t np = nr > 0 ? readlinkat(dir, link, path, sizeof(path) - 1) : -1;
	if (np < 0)
		return NULL;
	root[nr] = path[np] = '\0';
	size_t k = streq(root, "/") ? 0 : (size_t)nr;
	if (strncmp(path, root, k) != 0 || (path[k] && path[k] != '/'))
		return NULL;
	return xstrdup(path[k] ? path + k + 1 : "");
}

/* Opened inside the tree (its symlinks resolve there). What a symlink
 * leads to is left out as what it names is: in BuildKit's filtered
 * context, a link to an ignored file dangles. */
static int open_in(const struct tree *t, const char *rel, int flags, bool follow)
{
	struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW)),
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, t->fd, rel[0] ? rel : ".", &how, sizeof(how));
	if (fd < 0 || (!t->ig && !t->ex))
		return fd;
	_cleanup_free_ char *real = where(t, fd);
	if (!real || (!streq(real, rel) && excluded(t, real))) {
		close(fd);
		errno = real ? ENOENT : EIO;
		return -1;
	}
	return fd;
}

static bool has_exceptions(const struct ignore *ig)
{
	for (size_t i = 0; ig && i < ig->n; i++)
		if (ig->except[i])
			return true;
	return false;
}

static bool excluded(const struct tree *t, const char *rel)
{
	return rel[0] && ((t->ig && ignore_excludes(t->ig, rel)) || (t->ex && ignore_excludes(t->ex, rel)));
}

/* An excluded directory is still walked when an exception may bring back
 * something inside it. */
static bool skip(const struct tree *t, const char *rel, bool dir)
{
	return excluded(t, rel) && !(dir && (has_exceptions(t->ig) || has_exceptions(t->ex)));
}

static bool has_meta(const char *s) { return strpbrk(s, "*?[\\") != NULL; }

static char *clean_src(const char *s)
{
	_cleanup_free_ char *c = path_clean(s);
	const char *p = c;
	while (*p == '/')
		p++;
	return xstrdup(streq(p, ".") ? "" : p);
}

static char *join_rel(const char *a, const char *b) { return a[0] ? xasprintf("%s/%s", a, b) : xstrdup(b); }

static char **list_dir(const struct tree *t, const char *rel)
{
	_cleanup_close_ int fd = open_in(t, rel, O_RDONLY | O_DIRECTORY, true);
	char **names = fd >= 0 ? fs_dir_names(fd) : NULL;
	return names ? names : xcalloc(1, sizeof(char *));
}

/* The paths under dir (rel) that the pattern's components from comp on
 * match, component by component as Go's filepath.Glob. */
static void glob_walk(const struct tree *t, const char *rel, char **comps, char ***out)
{
	if (!comps[0]) {
		if (!excluded(t, rel))
			strv_push(out, xstrdup(rel));
		return;
	}
	if (!has_meta(comps[0])) {
		_cleanup_free_ char *next = join_rel(rel, comps[0]);
		struct stat st;
		int fd = open_in(t, next, O_PATH, true); /* a source that is a symlink is followed, in the tree */
		bool there = fd >= 0 && fstat(fd, &st) == 0;
		if (fd >= 0)
			close(fd);
		if (there && !(comps[1] && !S_ISDIR(st.st_mode)))
			glob_walk(t, next, comps + 1, out);
		return;
	}
	_cleanup_(strv_freep) char **names = list_dir(t, rel);
	for (size_t i = 0; names[i]; i++)
		if (ignore_match(comps[0], names[i])) {
			_cleanup_free_ char *next = join_rel(rel, names[i]);
			glob_walk(t, next, comps + 1, out);
		}
}

/* What src names: itself, or what its pattern matches; -ENOENT when nothing. */
static int match(const struct tree *t, const char *src, char ***out, struct berr **err)
{
	_cleanup_free_ char *rel = clean_src(src);
	*out = xcalloc(1, sizeof(char *));
	char **comps = xcalloc(strlen(rel) / 2 + 2, sizeof(char *));
	size_t n = 0;
	_cleanup_free_ char *copy = xstrdup(rel);
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
		comps[n++] = c;
	glob_walk(t, "", comps, out);
	free(comps);
	if (!(*out)[0]) {
		strv_free(steal_ptr(out));
		return berr_set(err, ENOENT, "\"%s\": not found%s", src,
				t->ig ? " in the build context (or left out by .dockerignore)" : "");
	}
	return 0;
}

/* --- hashing, for the cache --- */

static int hash_file(int fd, char hex[65])
{
	struct sha256 h;
	sha256_begin(&h);
	char buf[65536];
	for (ssize_t n; (n = read(fd, buf, sizeof(buf))) != 0;) {
		if (n < 0)
			return -errno;
		sha256_add(&h, buf, (size_t)n);
	}
	sha256_hex(&h, hex);
	return 0;
}

static int hash_entry(const struct tree *t, const char *rel, bool top, struct sha256 *h, struct berr **err)
{
	_cleanup_close_ int fd = open_in(t, rel, O_PATH, top);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return berr_sys(err, errno, "cannot read %s", rel);
	if (!top && !S_ISDIR(st.st_mode) && excluded(t, rel))
		return 0;
	char line[PATH_MAX + 128];
	int n = snprintf(line, sizeof(line), "%s %o ", rel, (unsigned)st.st_mode);
	sha256_add(h, line, (size_t)n);
	if (S_ISREG(st.st_mode)) {
		_cleanup_close_ int in = open_in(t, rel, O_RDONLY, top);
		char hex[65];
		int r = in < 0 ? -errno : hash_file(in, hex);
		if (r < 0)
			return berr_sys(err, -r, "cannot read %s", rel);
		sha256_add(h, hex, 64);
	} else if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t len = readlinkat(fd, "", target, sizeof(target));
		if (len > 0)
			sha256_add(h, target, (size_t)len);
	} else if (S_ISDIR(st.st_mode)) {
		_cleanup_(strv_freep) char **names = list_dir(t, rel);
		for (size_t i = 0; names[i]; i++) {
			_cleanup_free_ char *sub = join_rel(rel, names[i]);
			int r = skip(t, sub, true) ? 0 : hash_entry(t, sub, false, h, err);
			if (r < 0)
				return r;
		}
	}
	sha256_add(h, "\n", 1);
	return 0;
}

int bcopy_hash(const char *dir, const struct ignore *ig, const struct ignore *ex, char *const *srcs, char out[65],
	       struct berr **err)
{
	_cleanup_close_ int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return berr_sys(err, errno, "cannot open the build context %s", dir);
	struct tree t = {fd, ig, ex, false, -1};
	struct sha256 h;
	sha256_begin(&h);
	for (size_t i = 0; srcs && srcs[i]; i++) {
		_cleanup_(strv_freep) char **paths = NULL;
		int r = match(&t, srcs[i], &paths, err);
		for (size_t k = 0; r == 0 && paths[k]; k++)
			r = hash_entry(&t, paths[k], true, &h, err);
		if (r < 0)
			return r;
	}
	sha256_hex(&h, out);
	return 0;
}

/* --- copying, in the child, chrooted into the stage --- */

struct job {
	const struct bcopy *c;
	struct tree t;
	struct berr **err;
};

static int fail(struct job *j, const char *what, const char *path)
{
	return berr_sys(j->err, errno, "%s %s: cannot %s", j->c->what, path, what);
}

/* mkdir -p inside the chroot; the directories it makes get the owner. A
 * symlink on the way whose target is missing gets its target made, as
 * BuildKit's MkdirAll does (inside the chroot, so inside the image). */
static int make_dirs_depth(struct job *j, const char *path, int depth)
{
	_cleanup_free_ char *p = path_clean(path);
	size_t len = strlen(p);
	for (size_t i = 1; i <= len; i++) {
		char c = p[i];
		if (c != '/' && c != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) == 0) {
			if (j->c->chown && lchown(p, j->c->uid, j->c->gid) < 0)
				return fail(j, "change the owner of", p);
		} else if (errno != EEXIST) {
			return fail(j, "create the directory", p);
		} else if (!fs_is_dir(p)) {
			char target[PATH_MAX];
			ssize_t n = readlink(p, target, sizeof(target) - 1);
			if (n <= 0 || depth > 40)
				return errno = ENOTDIR, fail(j, "create the directory", p);
			target[n] = '\0';
			_cleanup_free_ char *parent = path_dirname(p);
			_cleanup_free_ char *to = path_join(parent, target);
			int r = make_dirs_depth(j, to, depth + 1);
			if (r < 0)
				return r;
		}
		p[i] = c;
	}
	if (fs_is_dir(p))
		return 0;
	errno = ENOTDIR;
	return fail(j, "create the directory", p);
}

static int make_dirs(struct job *j, const char *path) { return make_dirs_depth(j, path, 0); }

static void set_meta(struct job *j, const char *dst, const struct stat *st)
{
	uid_t u = j->c->chown ? j->c->uid : j->t.keep_owner ? st->st_uid : 0;
	gid_t g = j->c->chown ? j->c->gid : j->t.keep_owner ? st->st_gid : 0;
	if (lchown(dst, u, g) < 0)
		fail(j, "change the owner of", dst);
	if (!S_ISLNK(st->st_mode))
		chmod(dst, j->c->chmod ? j->c->mode : st->st_mode & 07777);
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	utimensat(AT_FDCWD, dst, ts, AT_SYMLINK_NOFOLLOW);
}

/* Makes room for a new node at dst: whatever is there goes, unless it is
 * a directory and a directory comes. */
static void clear_for(const char *dst, bool dir)
{
	struct stat st;
	if (lstat(dst, &st) == 0 && !(dir && S_ISDIR(st.st_mode))) {
		if (S_ISDIR(st.st_mode))
			fs_remove_tree(dst, NULL);
		else
			unlink(dst);
	}
}

static int copy_data(struct job *j, int in, const char *dst)
{
	_cleanup_close_ int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return fail(j, "create", dst);
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return fail(j, "write", dst);
		break;
	}
	char buf[65536];
	for (ssize_t n; (n = read(in, buf, sizeof(buf))) != 0;) {
		if (n < 0 || write(out, buf, (size_t)n) != n)
			return fail(j, "write", dst);
	}
	return 0;
}

static int copy_tree(struct job *j, const char *rel, const char *dst, bool top);

static int copy_dir(struct job *j, const char *rel, const char *dst, const struct stat *st, bool top)
{
	clear_for(dst, true);
	if (mkdir(dst, 0755) < 0 && errno != EEXIST)
		return fail(j, "create the directory", dst);
	_cleanup_(strv_freep) char **names = list_dir(&j->t, rel);
	int r = 0;
	for (size_t i = 0; r == 0 && names[i]; i++) {
		_cleanup_free_ char *sub = join_rel(rel, names[i]);
		_cleanup_free_ char *to = xasprintf("%s/%s", streq(dst, "/") ? "" : dst, names[i]);
		if (!skip(&j->t, sub, true))
			r = copy_tree(j, sub, to, false);
	}
	/* an excluded directory walked for its exceptions is kept only with something in it */
	if (r == 0 && excluded(&j->t, rel) && rmdir(dst) == 0)
		return 0;
	if (r == 0 && (!top || j->c->chown))
		set_meta(j, dst, st); /* a directory whose contents are copied keeps its own */
	return r;
}

static int copy_tree(struct job *j, const char *rel, const char *dst, bool top)
{
	_cleanup_close_ int fd = open_in(&j->t, rel, O_PATH, top);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return fail(j, "read", rel);
	if (S_ISDIR(st.st_mode))
		return copy_dir(j, rel, dst, &st, top);
	if (excluded(&j->t, rel))
		return 0;
	clear_for(dst, false);
	if (S_ISREG(st.st_mode)) {
		_cleanup_close_ int in = open_in(&j->t, rel, O_RDONLY, top);
		int r = in < 0 ? fail(j, "read", rel) : copy_data(j, in, dst);
		if (r < 0)
			return r;
	} else if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
		if (n < 0)
			return fail(j, "read", rel);
		target[n] = '\0';
		if (symlink(target, dst) < 0)
			return fail(j, "create", dst);
	} else if (S_ISFIFO(st.st_mode)) {
		if (mkfifo(dst, 0600) < 0)
			return fail(j, "create", dst);
	} else {
		return 0; /* sockets and devices are not copied */
	}
	set_meta(j, dst, &st);
	return 0;
}

/* ADD of a local tar (plain or compressed): extracted into dir, without
 * ever writing outside it. 1 when src was no archive. */
static int extract(struct job *j, const char *rel, const char *dir)
{
	_cleanup_close_ int in = open_in(&j->t, rel, O_RDONLY, true);
	if (in < 0)
		return fail(j, "read", rel);
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	struct archive_entry *e = NULL;
	if (archive_read_open_fd(a, in, 65536) < 0 || archive_read_next_header(a, &e) < ARCHIVE_WARN) {
		archive_read_free(a);
		return 1;
	}
	int r = make_dirs(j, dir);
	_cleanup_close_ int saved = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r == 0 && chdir(dir) < 0)
		r = fail(j, "enter", dir);
	struct archive *out = archive_write_disk_new();
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_OWNER |
						    ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
						    ARCHIVE_EXTRACT_SECURE_SYMLINKS |
						    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_UNLINK);
	for (int h = ARCHIVE_OK; r == 0 && h != ARCHIVE_EOF; h = archive_read_next_header(a, &e)) {
		if (h < ARCHIVE_WARN || archive_write_header(out, e) < ARCHIVE_WARN) {
			r = berr_set(j->err, EIO, "%s %s: cannot extract it: %s", j->c->what, rel,
				     archive_error_string(h < ARCHIVE_WARN ? a : out));
			break;
		}
		const void *buf;
		size_t len;
		int64_t off;
		for (int d; r == 0 && (d = archive_read_data_block(a, &buf, &len, &off)) != ARCHIVE_EOF;)
			if (d < ARCHIVE_WARN || archive_write_data_block(out, buf, len, off) < ARCHIVE_WARN)
				r = berr_set(j->err, EIO, "%s %s: cannot extract it: %s", j->c->what, rel,
					     archive_error_string(d < ARCHIVE_WARN ? a : out));
		if (r == 0 && archive_write_finish_entry(out) < ARCHIVE_WARN)
			r = berr_set(j->err, EIO, "%s %s: %s", j->c->what, rel, archive_error_string(out));
	}
	archive_write_free(out);
	archive_read_free(a);
	if (saved >= 0 && fchdir(saved) < 0 && r == 0)
		r = fail(j, "return to", "/");
	return r;
}

/* Where a source goes: into dest when it is a directory, else dest. */
static char *target_of(const struct bcopy *c, const char *rel, bool many)
{
	if (c->parents && rel[0])
		return xasprintf("%s/%s", streq(c->dest, "/") ? "" : c->dest, rel);
	if (c->dest_dir || many || fs_is_dir(c->dest))
		return xasprintf("%s/%s", streq(c->dest, "/") ? "" : c->dest, path_basename(rel));
	return xstrdup(c->dest);
}

static int copy_one(struct job *j, const char *rel, bool many)
{
	struct stat st;
	_cleanup_close_ int fd = open_in(&j->t, rel, O_PATH, true);
	if (fd < 0 || fstat(fd, &st) < 0)
		return fail(j, "read", rel);
	if (S_ISDIR(st.st_mode)) {
		_cleanup_free_ char *to = j->c->parents && rel[0] ? target_of(j->c, rel, true) : path_clean(j->c->dest);
		int r = make_dirs(j, to);
		return r < 0 ? r : copy_tree(j, rel, to, true);
	}
	_cleanup_free_ char *to = target_of(j->c, rel, many);
	_cleanup_free_ char *parent = path_dirname(to);
	int r = make_dirs(j, parent);
	if (r == 0 && j->c->add && S_ISREG(st.st_mode) && !j->t.keep_owner) {
		_cleanup_free_ char *dir = path_clean(j->c->dest);
		r = extract(j, rel, dir);
		if (r <= 0)
			return r;
		r = 0;
	}
	return r < 0 ? r : copy_tree(j, rel, to, true);
}

static int write_heredocs(struct job *j)
{
	const struct bcopy *c = j->c;
	size_t n = strv_len(c->here_names);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *to = c->dest_dir || n > 1 ? xasprintf("%s/%s", streq(c->dest, "/") ? "" : c->dest,
									   c->here_names[i])
							       : xstrdup(c->dest);
		_cleanup_free_ char *parent = path_dirname(to);
		int r = make_dirs(j, parent);
		if (r < 0)
			return r;
		clear_for(to, false);
		_cleanup_close_ int fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		size_t len = strlen(c->here_bodies[i]);
		if (fd < 0 || write(fd, c->here_bodies[i], len) != (ssize_t)len)
			return fail(j, "write", to);
		if (c->chown && fchown(fd, c->uid, c->gid) < 0)
			return fail(j, "change the owner of", to);
		if (c->chmod && fchmod(fd, c->mode) < 0)
			return fail(j, "change the mode of", to);
	}
	return 0;
}

static int do_copy(struct job *j)
{
	const struct bcopy *c = j->c;
	if (c->mkdir_only)
		return make_dirs(j, c->dest);
	char **all = xcalloc(1, sizeof(char *));
	int r = 0;
	for (size_t i = 0; r == 0 && c->srcs && c->srcs[i]; i++) {
		char **paths = NULL;
		r = match(&j->t, c->srcs[i], &paths, j->err);
		for (size_t k = 0; r == 0 && paths[k]; k++)
			strv_push(&all, xstrdup(paths[k]));
		strv_free(paths);
	}
	bool many = strv_len(all) + strv_len(c->here_names) > 1;
	if (r == 0 && many && !c->dest_dir && !c->parents)
		r = berr_set(j->err, EINVAL,
			     "%s: with more than one source, the destination must be a directory and end "
			     "with a /",
			     c->what);
	for (size_t i = 0; r == 0 && all[i]; i++)
		r = copy_one(j, all[i], many);
	strv_free(all);
	return r == 0 ? write_heredocs(j) : r;
}

/* The child: the stage at work/rootfs, the sources opened, then chrooted. */
static int child(void *arg, struct berr **err)
{
	const struct bcopy *c = arg;
	_cleanup_free_ char *empty = xasprintf("%s/empty", c->work);
	_cleanup_free_ char *upper = xasprintf("%s/upper", c->work);
	_cleanup_free_ char *wdir = xasprintf("%s/work", c->work);
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", c->work);
	_cleanup_free_ char *src = xasprintf("%s/src", c->work);
	char *none[] = {empty, NULL};
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return berr_sys(err, errno, "cannot make a mount namespace");
	if (overlay_mount(rootfs, c->layers && c->layers[0] ? c->layers : none, upper, wdir, 0, err) < 0)
		return berr_prefix(err, "cannot mount the stage's filesystem: ");
	const char *from = c->src_dir;
	size_t nl = strv_len(c->src_layers);
	if (!from && nl < 2)
		from = nl ? c->src_layers[0] : empty;
	if (!from && overlay_mount(src, c->src_layers, NULL, NULL, MS_RDONLY, err) < 0)
		return berr_prefix(err, "cannot mount the stage copied from: ");
	struct job j = {.c = c, .err = err};
	j.t = (struct tree){.ig = c->src_dir ? c->ig : NULL, .ex = c->ex, .keep_owner = !c->src_dir};
	j.t.fd = open(from ? from : src, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (j.t.fd < 0)
		return berr_sys(err, errno, "cannot open the sources of %s", c->what);
	j.t.proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (j.t.proc < 0)
		return berr_sys(err, errno, "cannot open /proc");
	if (chroot(rootfs) < 0 || chdir("/") < 0)
		return berr_sys(err, errno, "cannot enter the stage's filesystem");
	umask(0);
	return do_copy(&j);
}

int bcopy_run(const struct bcopy *c, char **upper, struct berr **err)
{
	static const char *const dirs[] = {"empty", "upper", "work", "rootfs", "src"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *d = path_join(c->work, dirs[i]);
		int r = fs_mkdir_p(d, 0755, err);
		if (r < 0)
			return r;
	}
	int r = archive_dl_load(err);
	if (r == 0)
		r = fork_call(child, (void *)c, err);
	if (r == 0)
		*upper = xasprintf("%s/upper", c->work);
	return r;
}
