#include "cp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../images/archive_dl.h"
#include "../lib/buf.h"
#include "../lib/fs.h"
#include "../lib/spawn.h"
#include "ctr.h"
#include "overlay.h"
#include "rootfs.h"
#include "spec.h"

/* ---- writing a tree as tar, through file descriptors only ---- */

static int add_entry(struct archive *a, int dirfd, const char *name, const char *tarname, bool follow,
		     struct berr **err);

static int add_children(struct archive *a, int fd, const char *tarname, struct berr **err)
{
	_cleanup_(closedirp) DIR *d = fdopendir(dup(fd));
	if (!d)
		return berr_sys(err, errno, "cannot read %s", tarname);
	int r = 0;
	for (struct dirent *e; r == 0 && (e = readdir(d));) {
		if (streq(e->d_name, ".") || streq(e->d_name, ".."))
			continue;
		_cleanup_free_ char *child = streq(tarname, ".") ? xstrdup(e->d_name)
								 : xasprintf("%s/%s", tarname, e->d_name);
		r = add_entry(a, fd, e->d_name, child, false, err);
	}
	return r;
}

static int add_entry(struct archive *a, int dirfd, const char *name, const char *tarname, bool follow,
		     struct berr **err)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0)
		return berr_sys(err, errno, "cannot read %s", tarname);
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		log_warn("cp: %s is a device or a socket, left out", tarname);
		return 0;
	}
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, tarname);
	archive_entry_set_filetype(e, st.st_mode & S_IFMT);
	archive_entry_set_perm(e, st.st_mode & 07777);
	archive_entry_set_uid(e, st.st_uid);
	archive_entry_set_gid(e, st.st_gid);
	archive_entry_set_mtime(e, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	int fd = -1, r = 0;
	if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		if (n < 0) {
			archive_entry_free(e);
			return berr_sys(err, errno, "cannot read %s", tarname);
		}
		target[n] = 0;
		archive_entry_set_symlink(e, target);
	} else if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		fd = openat(dirfd, name,
			    (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
		if (fd < 0) {
			archive_entry_free(e);
			return berr_sys(err, errno, "cannot open %s", tarname);
		}
		if (S_ISREG(st.st_mode))
			archive_entry_set_size(e, st.st_size);
	}
	if (archive_write_header(a, e) != ARCHIVE_OK)
		r = berr_set(err, EIO, "cannot write %s: %s", tarname, archive_error_string(a));
	archive_entry_free(e);
	if (r == 0 && fd >= 0 && S_ISREG(st.st_mode)) {
		char buf[65536];
		int64_t left = st.st_size; /* no more than the header says, should the file grow */
		for (ssize_t n;
		     r == 0 && left > 0 &&
		     (n = read(fd, buf, (size_t)(left < (int64_t)sizeof(buf) ? left : (int64_t)sizeof(buf)))) > 0;
		     left -= n)
			if (archive_write_data(a, buf, (size_t)n) < 0)
				r = berr_set(err, EIO, "cannot write %s: %s", tarname, archive_error_string(a));
	}
	if (r == 0 && fd >= 0 && S_ISDIR(st.st_mode))
		r = add_children(a, fd, tarname, err);
	if (fd >= 0)
		close(fd);
	return r;
}

/* A tar stream (pax) to out; *r set when it cannot be opened. */
static struct archive *tar_begin(int out, int *r, struct berr **err)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open_fd(a, out) != ARCHIVE_OK)
		*r = berr_set(err, EIO, "cannot write the archive: %s", archive_error_string(a));
	return a;
}

static int tar_end(struct archive *a, int r, struct berr **err)
{
	if (archive_write_close(a) != ARCHIVE_OK && r == 0)
		r = berr_set(err, EIO, "cannot write the archive: %s", archive_error_string(a));
	archive_write_free(a);
	return r;
}

int cp_tar_write(const char *path, bool follow, int out, struct berr **err)
{
	int r = archive_dl_load(err);
	if (r < 0)
		return r;
	/* "dir/." : the directory's contents; else the entry under its base name */
	size_t len = strlen(path);
	bool contents = len >= 2 && streq(path + len - 2, "/.");
	_cleanup_free_ char *trimmed = xstrdup(path);
	while (strlen(trimmed) > 1 && trimmed[strlen(trimmed) - 1] == '/')
		trimmed[strlen(trimmed) - 1] = 0;
	contents = contents || streq(trimmed, "/");
	_cleanup_free_ char *dir = contents ? xstrdup(trimmed) : path_dirname(trimmed);
	_cleanup_free_ char *base = contents ? xstrdup(".") : xstrdup(path_basename(trimmed));
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return berr_sys(err, errno, "cannot open %s", dir);
	struct archive *a = tar_begin(out, &r, err);
	struct stat st;
	if (r == 0 && fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		r = berr_sys(err, errno, "%s", path);
	if (r == 0)
		r = add_entry(a, dfd, base, base, follow || streq(base, "."), err);
	return tar_end(a, r, err);
}

int cp_tar_write_paths(const char *dir, char *const *rels, char *const *names, int out, struct berr **err)
{
	int r = archive_dl_load(err);
	if (r < 0)
		return r;
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return berr_sys(err, errno, "cannot open %s", dir);
	struct archive *a = tar_begin(out, &r, err);
	for (size_t i = 0; r == 0 && rels && rels[i]; i++) {
		_cleanup_free_ char *parent = path_dirname(rels[i]);
		_cleanup_close_ int pfd = openat(dfd, parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
		struct stat st;
		if (pfd < 0 || fstatat(pfd, path_basename(rels[i]), &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile: its removal is synced instead */
		r = add_entry(a, pfd, path_basename(rels[i]), names[i], false, err);
	}
	return tar_end(a, r, err);
}

/* ---- extracting, into the current root ---- */

int cp_tar_extract(const char *dest, bool raw, bool keep_owner, int in, struct berr **err)
{
	int r = archive_dl_load(err);
	if (r < 0)
		return r;
	struct stat st;
	bool exists = stat(dest, &st) == 0, is_dir = exists && S_ISDIR(st.st_mode);
	size_t dl = strlen(dest);
	bool wants_dir = dl > 0 && dest[dl - 1] == '/';
	if (raw && !is_dir)
		return berr_set(err, ENOTDIR, "%s is not a directory (a tar stream goes into a directory)", dest);
	if (!exists && wants_dir)
		return berr_set(err, ENOENT, "no such directory: %s", dest);
	/* into dest, or as dest: its parent is where entries land, renamed */
	_cleanup_free_ char *at = is_dir ? xstrdup(dest) : path_dirname(dest);
	_cleanup_free_ char *as = is_dir ? NULL : xstrdup(path_basename(dest));
	if (chdir(at) < 0)
		return berr_sys(err, errno, "no such directory: %s", at);
	struct statvfs vfs;
	if (statvfs(".", &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
		return berr_set(err, EROFS, "%s is on a read-only filesystem", dest);
	struct archive *a = archive_read_new(), *w = archive_write_disk_new();
	archive_read_support_format_tar(a);
	int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
		    ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_UNLINK;
	archive_write_disk_set_options(w, flags | (keep_owner ? ARCHIVE_EXTRACT_OWNER : 0));
	if (archive_read_open_fd(a, in, 65536) != ARCHIVE_OK)
		r = berr_set(err, EIO, "cannot read the archive: %s", archive_error_string(a));
	_cleanup_free_ char *top = NULL; /* the stream's first name, replaced by as */
	struct archive_entry *e;
	for (int h; r == 0 && (h = archive_read_next_header(a, &e)) != ARCHIVE_EOF;) {
		if (h != ARCHIVE_OK && h != ARCHIVE_WARN) {
			r = berr_set(err, EIO, "cannot read the archive: %s", archive_error_string(a));
			break;
		}
		const char *name = archive_entry_pathname(e);
		int type = archive_entry_filetype(e);
		if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && type != AE_IFIFO) {
			log_warn("cp: %s is a device or a socket, left out", name);
			continue;
		}
		if (!raw && !top) {
			top = xstrndup(name, strcspn(name, "/"));
			if (exists && !is_dir && type == AE_IFDIR)
				r = berr_set(err, EISDIR, "cannot copy a directory onto the file %s", dest);
			if (!exists && streq(top, ".") && type == AE_IFDIR && mkdir(as, 0755) < 0)
				r = berr_sys(err, errno, "cannot make %s", dest);
		}
		if (r < 0)
			break;
		/* renamed: the top entry becomes as ("dir/." contents go into it) */
		_cleanup_free_ char *renamed = NULL;
		if (!raw && as) {
			const char *rest = name + strlen(top);
			if (streq(top, ".")) /* a directory's contents: "./a" or "a" go into as */
				rest = startswith(name, "./") ? name + 1 : streq(name, ".") ? "" : NULL;
			renamed = rest ? xasprintf("%s%s", as, rest) : xasprintf("%s/%s", as, name);
			archive_entry_set_pathname(e, renamed);
		}
		if (archive_write_header(w, e) != ARCHIVE_OK) {
			r = berr_set(err, EIO, "cannot write %s: %s", archive_entry_pathname(e),
				     archive_error_string(w));
			break;
		}
		const void *buf;
		size_t size;
		int64_t off;
		for (int d; (d = archive_read_data_block(a, &buf, &size, &off)) != ARCHIVE_EOF;) {
			if (d != ARCHIVE_OK || archive_write_data_block(w, buf, size, off) != ARCHIVE_OK) {
				r = berr_set(err, EIO, "cannot write %s: %s", archive_entry_pathname(e),
					     archive_error_string(d != ARCHIVE_OK ? a : w));
				break;
			}
		}
		if (r == 0 && archive_write_finish_entry(w) != ARCHIVE_OK)
			r = berr_set(err, EIO, "cannot write %s: %s", archive_entry_pathname(e),
				     archive_error_string(w));
	}
	archive_write_close(w);
	archive_write_free(w);
	archive_read_free(a);
	return r;
}

/* ---- the container's side ---- */

/* Mount the stopped container's filesystem at its rootfs directory (in
 * this process's own mount namespace): its layers, its upper directory,
 * and its volumes and binds at their targets, read-only where they are. */
static int mount_stopped(const char *dir, const struct ctr_spec *s, struct berr **err)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return berr_sys(err, errno, "cannot make a mount namespace");
	_cleanup_free_ char *rootfs = path_join(dir, "rootfs"), *upper = path_join(dir, "upper"),
			    *work = path_join(dir, "work");
	if (overlay_mount(rootfs, s->layers, upper, work, s->read_only ? MS_RDONLY : 0, err) < 0)
		return berr_prefix(err, "cannot mount the filesystem of %s: ", s->id);
	int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; rootfd >= 0 && i < s->nmounts; i++) {
		const struct mount_spec *m = &s->mounts[i];
		bool bind = !m->type || streq(m->type, "bind");
		if (!bind || !m->source || startswith(m->source, dir)) /* tmpfs, and berth's own /etc files */
			continue;
		struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
		int t = (int)syscall(SYS_openat2, rootfd, m->target, &how, sizeof(how));
		if (t < 0)
			continue; /* made when it starts; nothing there to copy yet */
		char at[64], from[64];
		snprintf(at, sizeof(at), "/proc/self/fd/%d", t);
		bool ro = m->options && (strstr(m->options, "ro,") == m->options || streq(m->options, "ro") ||
					 strstr(m->options, ",ro"));
		int sub = m->subpath ? rootfs_subpath_open(m, NULL) : -1;
		snprintf(from, sizeof(from), "/proc/self/fd/%d", sub);
		if ((!m->subpath || sub >= 0) &&
		    mount(m->subpath ? from : m->source, at, NULL, MS_BIND | MS_REC, NULL) == 0 && ro)
			mount(NULL, at, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
		if (sub >= 0)
			close(sub);
		close(t);
	}
	if (rootfd >= 0)
		close(rootfd);
	return 0;
}

/* export: the upper directory as the top of read-only layers, mounted in
 * this process's own mount namespace, nothing mounted inside it. */
static int mount_export(const char *dir, const struct ctr_spec *s, struct berr **err)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return berr_sys(err, errno, "cannot make a mount namespace");
	_cleanup_free_ char *rootfs = path_join(dir, "rootfs"), *upper = path_join(dir, "upper");
	char **lowers = xcalloc(1, sizeof(char *));
	strv_push(&lowers, xstrdup(upper));
	for (size_t i = 0; s->layers && s->layers[i]; i++)
		strv_push(&lowers, xstrdup(s->layers[i]));
	int r = overlay_mount(rootfs, lowers, NULL, NULL, MS_RDONLY, err);
	strv_free(lowers);
	return r < 0 ? berr_prefix(err, "cannot mount the filesystem of %s: ", s->id) : 0;
}

static int export_in(const char *root, const char *name, int fd, struct berr **err)
{
	_cleanup_free_ char *dir = ctr_dir(root, name);
	_cleanup_free_ char *specp = path_join(dir, "spec.json");
	struct ctr_spec s;
	if (spec_read(specp, &s, err) < 0)
		return -EIO;
	int r = mount_export(dir, &s, err);
	spec_free(&s);
	_cleanup_free_ char *at = path_join(dir, "rootfs");
	if (r == 0 && (chroot(at) < 0 || chdir("/") < 0))
		r = berr_sys(err, errno, "cannot enter the filesystem of %s", name);
	return r < 0 ? r : cp_tar_write("/.", false, fd, err);
}

/* In a child: enter the container's filesystem (the running one's root, or
 * the stopped one's mounted), then copy out or in. */
static int in_container(const char *root, const char *name, bool out, const char *path, bool follow, bool raw,
			bool keep_owner, int fd, struct berr **err)
{
	_cleanup_free_ char *dir = ctr_dir(root, name);
	_cleanup_free_ char *specp = path_join(dir, "spec.json");
	struct ctr_spec s;
	if (spec_read(specp, &s, err) < 0)
		return -EIO;
	pid_t pid = 0;
	int r = 0;
	_cleanup_free_ char *at = NULL;
	if (ctr_up(root, name, &pid) && pid > 0) {
		at = xasprintf("/proc/%d/root", (int)pid);
	} else {
		r = mount_stopped(dir, &s, err);
		at = path_join(dir, "rootfs");
	}
	spec_free(&s);
	if (r == 0 && (chroot(at) < 0 || chdir("/") < 0))
		r = berr_sys(err, errno, "cannot enter the filesystem of %s", name);
	if (r < 0)
		return r;
	/* the path resolved inside; a parent that is a symlink is resolved
	 * in the container, never on the host */
	if (out)
		return cp_tar_write(path, follow, fd, err);
	return cp_tar_extract(path, raw, keep_owner, fd, err);
}

struct job {
	const char *root, *name, *path;
	bool out, follow, raw, keep_owner;
	int fd;
};

static int job_run(void *arg, struct berr **err)
{
	const struct job *j = arg;
	if (!j->path)
		return export_in(j->root, j->name, j->fd, err);
	return in_container(j->root, j->name, j->out, j->path, j->follow, j->raw, j->keep_owner, j->fd, err);
}

static int in_child(const struct job *j, struct berr **err)
{
	if (!ctr_exists(j->root, j->name))
		return berr_set(err, ENOENT, "no such container: %s", j->name);
	int r = archive_dl_load(err); /* before the chroot: the library is on the host */
	return r < 0 ? r : fork_call(job_run, (void *)j, err);
}

int ctr_export(const char *root, const char *name, int out, struct berr **err)
{
	struct job j = {root, name, NULL, true, false, false, true, out};
	return in_child(&j, err);
}

int ctr_cp_out(const char *root, const char *name, const char *path, bool follow, int out, struct berr **err)
{
	struct job j = {root, name, path, true, follow, false, false, out};
	return in_child(&j, err);
}

int ctr_cp_in(const char *root, const char *name, const char *dest, bool raw, bool keep_owner, int in,
	      struct berr **err)
{
	struct job j = {root, name, dest, false, false, raw, keep_owner, in};
	return in_child(&j, err);
}
