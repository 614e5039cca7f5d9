#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "buf.h"

static int read_fd(int fd, const char *path, size_t max, char **out, size_t *len, struct berr **err)
{
	struct buf b = {0};
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_free(&b);
			return berr_sys(err, errno, "cannot read %s", path);
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > max) {
			buf_free(&b);
			return berr_set(err, EFBIG, "%s is larger than %zu bytes", path, max);
		}
		buf_add(&b, chunk, (size_t)n);
	}
	*len = b.len;
	*out = buf_steal(&b);
	return 0;
}

int fs_read_file(const char *path, size_t max, char **out, size_t *len, struct berr **err)
{
	if (streq(path, "-"))
		return read_fd(STDIN_FILENO, "standard input", max, out, len, err);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berr_sys(err, errno, "cannot open %s", path);
	return read_fd(fd, path, max, out, len, err);
}

/* Written to a new file of a random name beside path (O_CREAT|O_EXCL, as
 * mkostemp opens it: nothing already there, a symlink least of all, is
 * written through, in a directory another user may write), then renamed
 * over it. */
static int write_renamed(const char *path, const void *data, size_t len, mode_t mode, bool sync, struct berr **err)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	_cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return berr_sys(err, errno, "cannot create a file beside %s", path);
	if (fchmod(fd, mode) < 0) {
		int e = errno;
		unlink(tmp);
		return berr_sys(err, e, "cannot set the mode of %s", tmp);
	}
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			unlink(tmp);
			return berr_sys(err, e, "cannot write %s", tmp);
		}
		p += n;
		len -= (size_t)n;
	}
	if ((sync && fsync(fd) < 0) || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return berr_sys(err, e, "cannot write %s", path);
	}
	return 0;
}

bool fs_write_all(int fd, const void *data, size_t n)
{
	const char *p = data;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w, n -= (size_t)w;
	}
	return true;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct berr **err)
{
	return write_renamed(path, data, len, mode, true, err);
}

int fs_write_replace(const char *path, const void *data, size_t len, mode_t mode, struct berr **err)
{
	return write_renamed(path, data, len, mode, false, err);
}

bool fs_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

bool fs_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *path_clean(const char *p)
{
	bool abs = p[0] == '/';
	_cleanup_free_ char *copy = xstrdup(p);
	char **parts = NULL;
	size_t n = 0;
	char *save = NULL;
	for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (streq(t, "."))
			continue;
		if (streq(t, "..")) {
			if (n > 0 && !streq(parts[n - 1], "..")) {
				n--;
				continue;
			}
			if (abs)
				continue;
		}
		parts = xrealloc(parts, (n + 1) * sizeof(char *));
		parts[n++] = t;
	}
	struct buf b = {0};
	if (abs)
		buf_putc(&b, '/');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(&b, '/');
		buf_puts(&b, parts[i]);
	}
	free(parts);
	if (b.len == 0)
		buf_putc(&b, '.');
	return buf_steal(&b);
}

char *path_join(const char *dir, const char *rel)
{
	if (rel[0] == '/' || !dir || !dir[0])
		return path_clean(rel);
	_cleanup_free_ char *j = xasprintf("%s/%s", dir, rel);
	return path_clean(j);
}

char *path_dirname(const char *p)
{
	_cleanup_free_ char *c = path_clean(p);
	char *slash = strrchr(c, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == c)
		return xstrdup("/");
	return xstrndup(c, (size_t)(slash - c));
}

const char *path_basename(const char *p)
{
	const char *slash = strrchr(p, '/');
	return slash ? slash + 1 : p;
}

char *path_absolute(const char *p)
{
	if (p[0] == '/')
		return path_clean(p);
	char cwd[4096];
	if (!getcwd(cwd, sizeof(cwd)))
		return path_clean(p);
	return path_join(cwd, p);
}

int fs_mkdir_p(const char *path, mode_t mode, struct berr **err)
{
	_cleanup_free_ char *p = path_clean(path);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return berr_sys(err, errno, "cannot create directory %s", p);
		*s = c;
		if (!c)
			break;
	}
	if (!fs_is_dir(p))
		return berr_set(err, ENOTDIR, "%s exists and is not a directory", p);
	return 0;
}

/* Remove name (in the directory parent) and everything below it, through
 * descriptors only: a directory is opened with O_NOFOLLOW and emptied by
 * its own fd, so a process that swaps a directory for a symlink while we
 * walk (a container still using a volume) can never point us elsewhere.
 * Other filesystems mounted below are not entered. */
static int remove_at(int parent, const char *name, dev_t dev, int depth)
{
	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR || depth > 512)
		return -1;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) /* swapped for something else meanwhile: remove that */
		return unlinkat(parent, name, 0) == 0 || errno == ENOENT ? 0 : -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_dev != dev) {
		close(fd);
		errno = EXDEV;
		return -1;
	}
	_cleanup_(closedirp) DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int r = 0;
	for (struct dirent *e; r == 0 && (e = readdir(d));)
		if (!streq(e->d_name, ".") && !streq(e->d_name, ".."))
			r = remove_at(dirfd(d), e->d_name, dev, depth + 1);
	if (r == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -1;
	return r;
}

int fs_remove_tree(const char *path, struct berr **err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : berr_sys(err, errno, "cannot remove %s", path);
	_cleanup_free_ char *parent = path_dirname(path);
	_cleanup_close_ int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0 || remove_at(pfd, path_basename(path), st.st_dev, 0) < 0)
		return berr_sys(err, errno, "cannot remove %s", path);
	return 0;
}

int fs_lock(const char *path, int *fd, struct berr **err)
{
	int f = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f < 0)
		return berr_sys(err, errno, "cannot open lock %s", path);
	while (flock(f, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(f);
		return berr_sys(err, e, "cannot lock %s", path);
	}
	*fd = f;
	return 0;
}

void fs_discard_sweep(const char *parent)
{
	/* what removals that were killed left behind, never one still running */
	_cleanup_(closedirp) DIR *d = opendir(parent);
	for (struct dirent *e; d && (e = readdir(d));) {
		int pid = 0;
		if (sscanf(e->d_name, ".removing-%d-", &pid) != 1 || pid <= 0)
			continue;
		bool running = pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH;
		if (running)
			continue;
		_cleanup_free_ char *left = xasprintf("%s/%s", parent, e->d_name);
		fs_remove_tree(left, NULL);
	}
}

int fs_discard(const char *path, struct berr **err)
{
	_cleanup_free_ char *parent = path_dirname(path);
	_cleanup_free_ char *trash = xasprintf("%s/.removing-%d-%s", parent, (int)getpid(), path_basename(path));
	fs_discard_sweep(parent);
	if (rename(path, trash) < 0)
		return errno == ENOENT ? 0 : berr_sys(err, errno, "cannot remove %s", path);
	return fs_remove_tree(trash, err);
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

char **fs_dir_names(int dirfd)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	_cleanup_(closedirp) DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	rewinddir(d);
	char **names = xcalloc(1, sizeof(char *));
	for (struct dirent *e; (e = readdir(d));)
		if (!streq(e->d_name, ".") && !streq(e->d_name, ".."))
			strv_push(&names, xstrdup(e->d_name));
	qsort(names, strv_len(names), sizeof(char *), cmp_names);
	return names;
}

bool fs_dir_empty(int dirfd)
{
	int dup = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	_cleanup_(closedirp) DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	if (!d) {
		if (dup >= 0)
			close(dup);
		return false;
	}
	bool empty = true;
	for (struct dirent *e; empty && (e = readdir(d));)
		empty = streq(e->d_name, ".") || streq(e->d_name, "..");
	return empty;
}
