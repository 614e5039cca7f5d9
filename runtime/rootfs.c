#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/statfs.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/fdpass.h"
#include "../lib/fs.h"
#include "../volumes/copyup.h"
#include "overlay.h"
#include "state.h"

/* Docker's masked and read-only /proc and /sys paths (moby oci/defaults.go). */
static const char *const masked[] = {
	"/proc/asound",
	"/proc/acpi",
	"/proc/kcore",
	"/proc/keys",
	"/proc/latency_stats",
	"/proc/timer_list",
	"/proc/timer_stats",
	"/proc/sched_debug",
	"/proc/scsi",
	"/sys/firmware",
	"/sys/devices/virtual/powercap",
};
static const char *const readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};

static const struct {
	const char *name;
	unsigned maj, min;
} devices[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};

static const struct {
	const char *name;
	unsigned long flag;
} mount_flags[] = {
	{"ro", MS_RDONLY},
	{"nosuid", MS_NOSUID},
	{"nodev", MS_NODEV},
	{"noexec", MS_NOEXEC},
	{"bind", MS_BIND},
	{"rbind", MS_BIND | MS_REC},
	{"private", MS_PRIVATE},
	{"rprivate", MS_PRIVATE | MS_REC},
	{"shared", MS_SHARED},
	{"rshared", MS_SHARED | MS_REC},
	{"slave", MS_SLAVE},
	{"rslave", MS_SLAVE | MS_REC},
	{"relatime", MS_RELATIME},
	{"noatime", MS_NOATIME},
	{"rw", 0},
};

static int sys_err(struct berr **err, const char *what, const char *on)
{
	return berr_sys(err, errno, "%s %s", what, on);
}

/* Split "ro,nosuid,size=64m" into mount flags and filesystem data. */
static void parse_options(const char *opts, unsigned long *flags, char **data, unsigned long *propagation)
{
	*flags = 0;
	*propagation = 0;
	struct buf d = {0};
	_cleanup_free_ char *copy = xstrdup(opts ? opts : "");
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		bool known = false;
		for (size_t i = 0; i < ARRAY_SIZE(mount_flags) && !known; i++) {
			if (!streq(t, mount_flags[i].name))
				continue;
			known = true;
			unsigned long f = mount_flags[i].flag;
			if (f & (MS_PRIVATE | MS_SHARED | MS_SLAVE))
				*propagation |= f;
			else
				*flags |= f;
		}
		if (!known)
			buf_printf(&d, "%s%s", d.len ? "," : "", t);
	}
	*data = d.len ? buf_steal(&d) : NULL;
	buf_free(&d);
}

static int open_resolved(int root, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve};
	return (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
}

static int open_in_root(int root, const char *path, int flags) { return open_resolved(root, path, flags, 0); }

/* Create path (a directory, or a file when file is set) inside root without
 * ever leaving it, and return an O_PATH fd to it: mounts go through
 * /proc/self/fd/N so that a symlink cannot redirect them (as runc does). */
static int make_target(int root, const char *path, bool file)
{
	_cleanup_free_ char *copy = xstrdup(path);
	char *save = NULL;
	int cur = fcntl(root, F_DUPFD_CLOEXEC, 0);
	char *t = strtok_r(copy, "/", &save);
	while (t && cur >= 0) {
		char *next = strtok_r(NULL, "/", &save);
		bool last = next == NULL;
		if (last && file) {
			/* O_EXCL: an existing node is never opened (a FIFO would block) */
			int fd = openat(cur, t, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
			if (fd >= 0)
				close(fd);
			else if (errno != EEXIST) {
				close(cur);
				return -1;
			}
		} else if (mkdirat(cur, t, 0755) < 0 && errno != EEXIST) {
			close(cur);
			return -1;
		}
		_cleanup_free_ char *sofar = xstrndup(path, (size_t)(t - copy) + strlen(t) + 1);
		int fd = open_in_root(root, sofar, O_PATH);
		close(cur);
		cur = fd;
		t = next;
	}
	return cur;
}

/* Set nosuid/nodev/noexec/ro on the mount at target (a handle opened after
 * the mount, so that it is the new mount and not the one beneath), and on
 * every mount below it when recursive: a bind ignores these flags, and a
 * plain MS_REMOUNT would leave submounts (the host's /sys has many) as
 * they were. */
static int set_flags_at(int root, const char *target, unsigned long flags, bool recursive, struct berr **err)
{
	struct mount_attr attr = {0};
	if (flags & MS_RDONLY)
		attr.attr_set |= MOUNT_ATTR_RDONLY;
	if (flags & MS_NOSUID)
		attr.attr_set |= MOUNT_ATTR_NOSUID;
	if (flags & MS_NODEV)
		attr.attr_set |= MOUNT_ATTR_NODEV;
	if (flags & MS_NOEXEC)
		attr.attr_set |= MOUNT_ATTR_NOEXEC;
	_cleanup_close_ int fd = open_in_root(root, target, O_PATH);
	if (fd < 0 || mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof(attr)) < 0)
		return berr_sys(err, errno, "cannot make %s %s", target, flags & MS_RDONLY ? "read-only" : "nosuid");
	return 0;
}

static int mount_at(int root, const char *target, bool file, const char *source, const char *type, unsigned long flags,
		    const char *data, struct berr **err)
{
	_cleanup_close_ int fd = make_target(root, target, file);
	if (fd < 0)
		return sys_err(err, "cannot create mount point", target);
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (mount(source, proc, type, flags, data) < 0)
		return berr_sys(err, errno, "cannot mount %s on %s", source ? source : type, target);
	if (!(flags & MS_BIND) || !(flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)))
		return 0;
	return set_flags_at(root, target, flags, flags & MS_REC, err);
}

/* The /dev/shm of the container whose init is pid, onto ours: a mount of
 * another mount namespace cannot be bound directly, so a helper joins that
 * namespace, clones the mount (open_tree) and hands the detached copy
 * back, which is then moved into place. */
static int peer_shm(int root, pid_t pid, struct berr **err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return berr_sys(err, errno, "cannot share /dev/shm");
	pid_t h = fork();
	if (h == 0) {
		close(sv[0]);
		char ns[64];
		snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)pid);
		int nfd = open(ns, O_RDONLY | O_CLOEXEC);
		int fd = nfd >= 0 && setns(nfd, CLONE_NEWNS) == 0
				 ? open_tree(AT_FDCWD, "/dev/shm", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)
				 : -1;
		_exit(fd >= 0 && fd_send(sv[1], fd) == 0 ? 0 : 1);
	}
	close(sv[1]);
	int fd = h > 0 ? fd_recv(sv[0]) : -1;
	close(sv[0]);
	while (h > 0 && waitpid(h, NULL, 0) < 0 && errno == EINTR)
		;
	_cleanup_close_ int target = make_target(root, "/dev/shm", false);
	int r = 0;
	if (fd < 0 || target < 0 ||
	    move_mount(fd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		r = berr_sys(err, fd < 0 ? ESRCH : errno, "cannot share the /dev/shm of the container it joins");
	if (fd >= 0)
		close(fd);
	return r;
}

static int overlay(const struct ctr_spec *s, const char *rootfs, struct berr **err)
{
	_cleanup_free_ char *upper = path_join(s->dir, "upper"), *work = path_join(s->dir, "work");
	int r = overlay_mount(rootfs, s->layers, upper, work, 0, err);
	return r < 0 ? berr_prefix(err, "cannot mount the container's root filesystem: ") : 0;
}

/* The nodes devices: asked for, with the host's owner and mode. */
static int make_device_nodes(int root, const struct ctr_spec *s, struct berr **err)
{
	for (size_t i = 0; i < s->ndevices; i++) {
		const struct device_spec *d = &s->devices[i];
		_cleanup_free_ char *parent = path_dirname(d->path);
		const char *base = path_basename(d->path);
		_cleanup_close_ int dir = make_target(root, parent, false);
		if (dir < 0)
			return sys_err(err, "cannot create the directory of device", d->path);
		if (unlinkat(dir, base, 0) < 0 && errno != ENOENT)
			return sys_err(err, "cannot replace", d->path);
		mode_t type = d->type == 'b' ? S_IFBLK : S_IFCHR;
		if (mknodat(dir, base, type | (d->mode & 0777), makedev(d->major, d->minor)) < 0 ||
		    fchownat(dir, base, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(dir, base, d->mode & 07777, 0) < 0)
			return sys_err(err, "cannot create device", d->path);
	}
	return 0;
}

static int make_dev(int root, const struct ctr_spec *s, struct berr **err)
{
	int r = mount_at(root, "/dev", false, "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k",
			 err);
	_cleanup_close_ int dev = r == 0 ? open_in_root(root, "/dev", O_RDONLY | O_DIRECTORY) : -1;
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(devices); i++) {
		if (mknodat(dev, devices[i].name, S_IFCHR | 0666, makedev(devices[i].maj, devices[i].min)) < 0 ||
		    fchmodat(dev, devices[i].name, 0666, 0) < 0)
			r = sys_err(err, "cannot create device /dev/", devices[i].name);
	}
	static const char *const links[][2] = {{"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"},
					       {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
					       {"pts/ptmx", "ptmx"},          {"/proc/kcore", "core"}};
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(links); i++)
		if (symlinkat(links[i][0], dev, links[i][1]) < 0)
			r = sys_err(err, "cannot create /dev/", links[i][1]);
	if (r == 0)
		r = make_device_nodes(root, s, err);
	if (r == 0)
		r = mount_at(root, "/dev/pts", false, "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
			     "newinstance,ptmxmode=0666,mode=0620,gid=5", err);
	char shm[64];
	snprintf(shm, sizeof(shm), "mode=1777,size=%lld", s->shm_size > 0 ? (long long)s->shm_size : 64LL << 20);
	/* ipc container:NAME: that container's /dev/shm too, as Docker shares it */
	pid_t peer = s->ipc && startswith(s->ipc, "container:") ? state_peer_pid(s->dir, s->ipc) : -1;
	if (r == 0 && peer > 0)
		r = peer_shm(root, peer, err);
	else if (r == 0)
		r = mount_at(root, "/dev/shm", false, "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, shm, err);
	if (r == 0)
		r = mount_at(root, "/dev/mqueue", false, "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
			     err);
	return r;
}

int rootfs_console(const char *slave, struct berr **err)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return sys_err(err, "cannot open", "the container's root");
	return mount_at(root, "/dev/console", true, slave, NULL, MS_BIND, NULL, err);
}

static int make_sys(int root, const struct ctr_spec *s, struct berr **err)
{
	unsigned long ro = s->privileged ? 0 : MS_RDONLY;
	int r = streq(s->network, "host")
			? mount_at(root, "/sys", false, "/sys", NULL, MS_BIND | MS_REC | ro, NULL, err)
			: mount_at(root, "/sys", false, "sysfs", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | ro, NULL,
				   err);
	if (r < 0)
		return r;
	unsigned long cg = MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | ro;
	if (fs_exists("/sys/fs/cgroup/cgroup.controllers"))
		return mount_at(root, "/sys/fs/cgroup", false, "cgroup", "cgroup2", cg, NULL, err);
	r = mount_at(root, "/sys/fs/cgroup", false, "tmpfs", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=755",
		     err);
	static const char *const ctrls[] = {"memory", "cpu",   "cpuacct", "pids",
					    "cpuset", "blkio", "freezer", "devices"};
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(ctrls); i++) {
		_cleanup_free_ char *host = xasprintf("/sys/fs/cgroup/%s", ctrls[i]);
		_cleanup_free_ char *target = xasprintf("/sys/fs/cgroup/%s", ctrls[i]);
		if (fs_is_dir(host))
			r = mount_at(root, target, false, "cgroup", "cgroup", cg, ctrls[i], err);
	}
	if (r == 0 && ro)
		r = set_flags_at(root, "/sys/fs/cgroup", MS_RDONLY, false, err);
	return r;
}

/* An empty volume gets what the image has at the mount point, once: the
 * volume's directory is locked meanwhile, so that two containers starting
 * together do not both copy. */
static int copy_up(int root, const struct mount_spec *m, struct berr **err)
{
	/* RESOLVE_NO_XDEV: a symlink in the image (data -> /proc) cannot lead
	 * out of the image's own files */
	_cleanup_close_ int src = open_resolved(root, m->target, O_RDONLY | O_DIRECTORY, RESOLVE_NO_XDEV);
	if (src < 0 && errno == EXDEV)
		return berr_set(err, EXDEV, "volume %s at %s: the image's %s leads out of its own files",
				m->volume ? m->volume : "", m->target, m->target);
	if (src < 0)
		return 0; /* nothing there in the image */
	_cleanup_free_ char *parent = path_dirname(m->source);
	_cleanup_close_ int lock = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int dst = open(m->source, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (lock < 0 || dst < 0)
		return sys_err(err, "cannot open volume", m->source);
	while (flock(lock, LOCK_EX) < 0 && errno == EINTR)
		;
	int r = fs_dir_empty(dst) ? copyup(src, dst, err) : 0;
	flock(lock, LOCK_UN);
	return r < 0 ? berr_prefix(err, "volume %s at %s: ", m->volume ? m->volume : "", m->target) : 0;
}

/* Before /proc, /dev and /sys are there: copy-up sees only the image. */
static int copy_ups(int root, const struct ctr_spec *s, struct berr **err)
{
	for (size_t i = 0; i < s->nmounts; i++)
		if (s->mounts[i].copyup && copy_up(root, &s->mounts[i], err) < 0)
			return -EIO;
	return 0;
}

/* A symlink in the image must not carry a mount onto /proc or /sys (a
 * volume at /data, with data -> /proc in the image, would hide procfs):
 * a target that resolves into one, but was not named there, is refused. */
static int check_target(int root, const struct mount_spec *m, struct berr **err)
{
	if (startswith(m->target, "/proc") || startswith(m->target, "/sys"))
		return 0;
	_cleanup_close_ int fd = open_in_root(root, m->target, O_PATH);
	struct statfs fs;
	if (fd < 0 || fstatfs(fd, &fs) < 0 || (fs.f_type != PROC_SUPER_MAGIC && fs.f_type != SYSFS_MAGIC))
		return 0;
	return berr_set(err, EPERM, "%s is a symlink in the image to %s; berth does not mount over it", m->target,
			fs.f_type == PROC_SUPER_MAGIC ? "/proc" : "/sys");
}

int rootfs_subpath_open(const struct mount_spec *m, struct berr **err)
{
	_cleanup_close_ int vol = open(m->source, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = overlay_subpath_resolve(m->subpath_in_root)};
	int fd = vol < 0 ? -1 : (int)syscall(SYS_openat2, vol, m->subpath, &how, sizeof(how));
	if (fd < 0 && m->subpath_in_root)
		return berr_sys(err, errno, "there is no %s in %s", m->subpath, m->source);
	if (fd < 0)
		return berr_sys(err, errno, "volume %s has no subpath %s (or a symlink on its way)",
				m->volume ? m->volume : m->source, m->subpath);
	return fd;
}

int rootfs_overlay_subpath_tree(const struct mount_spec *m, struct berr **err)
{
	_cleanup_(strv_freep) char **lowers = m->options ? overlay_lowers(m->options) : NULL;
	int fd = overlay_subpath_tree(lowers, m->subpath, m->subpath_in_root, err);
	return fd < 0 ? berr_prefix(err, "%s at %s: ", m->subpath_in_root ? "--mount" : "image volume", m->target) : fd;
}

/* A build's --mount,rw: what was mounted at the target, as the lower
 * layer of an overlay whose upper directory goes with the step. */
static int writable_on_top(int root, const struct mount_spec *m, const char *data, struct berr **err)
{
	_cleanup_free_ char *upper = overlay_option(data, "upperdir"), *work = overlay_option(data, "workdir");
	if (!upper || !work)
		return 0;
	_cleanup_close_ int fd = open_in_root(root, m->target, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return sys_err(err, "cannot open", m->target);
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	int r = overlay_mount(proc, (char *[]){proc, NULL}, upper, work, 0, err);
	return r < 0 ? berr_prefix(err, "%s: ", m->target) : 0;
}

/* An image volume's subpath of several layers: a clone of the subtree of
 * a detached overlay, moved into place (read-only, as the overlay is). */
static int overlay_subpath_mount(int root, const struct mount_spec *m, struct berr **err)
{
	_cleanup_close_ int tree = rootfs_overlay_subpath_tree(m, err);
	struct stat st;
	if (tree < 0 || fstat(tree, &st) < 0)
		return -ENOENT;
	_cleanup_close_ int target = make_target(root, m->target, !S_ISDIR(st.st_mode));
	if (target < 0 || move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return berr_sys(err, errno, "cannot mount the image volume's subpath %s on %s", m->subpath, m->target);
	return 0;
}

/* An overlay the spec names (an image volume, a build step's --mount),
 * its layers each opened rather than named (see overlay.h). */
static int overlay_mount_at(int root, const struct mount_spec *m, unsigned long flags, const char *data,
			    struct berr **err)
{
	_cleanup_close_ int fd = make_target(root, m->target, false);
	if (fd < 0)
		return sys_err(err, "cannot create mount point", m->target);
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	int r = overlay_mount_data(proc, data, flags, err);
	return r < 0 ? berr_prefix(err, "%s: ", m->target) : 0;
}

static int user_mounts(int root, const struct ctr_spec *s, struct berr **err)
{
	for (size_t i = 0; i < s->nmounts; i++) {
		struct mount_spec *m = &s->mounts[i];
		if (check_target(root, m, err) < 0)
			return -EPERM;
		unsigned long flags, prop;
		_cleanup_free_ char *data = NULL;
		parse_options(m->options, &flags, &data, &prop);
		const char *type = m->type && !streq(m->type, "bind") ? m->type : NULL;
		if (!type)
			flags |= MS_BIND | MS_REC;
		if (type && streq(type, "overlay")) {
			if (m->subpath
				    ? overlay_subpath_mount(root, m, err) < 0 || writable_on_top(root, m, data, err) < 0
				    : overlay_mount_at(root, m, flags, data, err) < 0)
				return -EIO;
			continue;
		}
		/* a volume's subpath: opened beneath the volume without following any
		 * symlink (a container that has the volume may have put one there),
		 * and mounted from that handle, so nothing swapped in later counts */
		_cleanup_close_ int sub = -1;
		char subproc[64];
		bool file = m->file;
		if (m->subpath) {
			struct stat st;
			if ((sub = rootfs_subpath_open(m, err)) < 0 || fstat(sub, &st) < 0)
				return -ENOENT;
			file = !S_ISDIR(st.st_mode);
			snprintf(subproc, sizeof(subproc), "/proc/self/fd/%d", sub);
		}
		int r = mount_at(root, m->target, file, m->subpath ? subproc : m->source, type, flags, data, err);
		if (r == 0 && !type)
			r = writable_on_top(root, m, data, err);
		if (r < 0)
			return r;
		if (prop) {
			_cleanup_close_ int fd = open_in_root(root, m->target, O_PATH);
			char proc[64];
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
			if (fd < 0 || mount(NULL, proc, NULL, prop, NULL) < 0)
				return sys_err(err, "cannot set the propagation of", m->target);
		}
	}
	return 0;
}

/* Docker's masked paths read empty; its read-only ones are bound onto
 * themselves read-only. A path this kernel does not have is skipped; any
 * other failure fails the container. */
static int mask_paths(int root, struct berr **err)
{
	for (size_t i = 0; i < ARRAY_SIZE(masked); i++) {
		_cleanup_close_ int fd = open_in_root(root, masked[i], O_PATH | O_NOFOLLOW);
		if (fd < 0 && errno == ENOENT)
			continue;
		struct stat st;
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (fd < 0 || fstat(fd, &st) < 0)
			return sys_err(err, "cannot open", masked[i]);
		int r = S_ISDIR(st.st_mode) ? mount("tmpfs", proc, "tmpfs", MS_RDONLY, "size=0")
					    : mount("/dev/null", proc, NULL, MS_BIND, NULL);
		if (r < 0)
			return sys_err(err, "cannot mask", masked[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(readonly); i++) {
		_cleanup_close_ int fd = open_in_root(root, readonly[i], O_PATH | O_NOFOLLOW);
		if (fd < 0 && errno == ENOENT)
			continue;
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (fd < 0 || mount(proc, proc, NULL, MS_BIND | MS_REC, NULL) < 0)
			return sys_err(err, "cannot bind", readonly[i]);
		int r = set_flags_at(root, readonly[i], MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, true, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int write_sysctls(const struct ctr_spec *s, struct berr **err)
{
	for (size_t i = 0; s->sysctls && s->sysctls[i]; i++) {
		const char *eq = strchr(s->sysctls[i], '=');
		if (!eq)
			continue;
		_cleanup_free_ char *key = xstrndup(s->sysctls[i], (size_t)(eq - s->sysctls[i]));
		for (char *p = key; *p; p++)
			if (*p == '.')
				*p = '/';
		_cleanup_free_ char *path = xasprintf("/proc/sys/%s", key);
		if (fs_write_atomic(path, eq + 1, strlen(eq + 1), 0644, NULL) < 0) {
			_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, eq + 1, strlen(eq + 1)) < 0)
				return berr_sys(err, errno, "cannot set sysctl %s", s->sysctls[i]);
		}
	}
	return 0;
}

static int pivot(const char *rootfs, struct berr **err)
{
	if (chdir(rootfs) < 0)
		return sys_err(err, "cannot enter", rootfs);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return sys_err(err, "cannot pivot_root into", rootfs);
	if (umount2(".", MNT_DETACH) < 0)
		return sys_err(err, "cannot detach the old root of", rootfs);
	return chdir("/") < 0 ? sys_err(err, "cannot enter", "/") : 0;
}

int rootfs_setup(const struct ctr_spec *s, struct berr **err)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return sys_err(err, "cannot make the mount namespace private", "");
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", s->dir);
	int r = overlay(s, rootfs, err);
	_cleanup_close_ int root = r == 0 ? open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (r == 0 && root < 0)
		r = sys_err(err, "cannot open", rootfs);
	if (r == 0)
		r = copy_ups(root, s, err);
	if (r == 0)
		r = mount_at(root, "/proc", false, "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL, err);
	if (r == 0)
		r = make_dev(root, s, err);
	if (r == 0)
		r = make_sys(root, s, err);
	if (r == 0)
		r = user_mounts(root, s, err);
	if (r == 0 && s->init && s->init_path)
		r = mount_at(root, "/sbin/berth-init", true, s->init_path, NULL, MS_BIND | MS_RDONLY, NULL, err);
	if (r < 0)
		return r;
	r = pivot(rootfs, err);
	if (r == 0)
		r = write_sysctls(s, err);
	if (r == 0 && !s->privileged) {
		_cleanup_close_ int newroot = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = newroot < 0 ? sys_err(err, "cannot open", "the new root") : mask_paths(newroot, err);
	}
	if (r == 0 && s->read_only && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
		r = sys_err(err, "cannot make the root filesystem read-only", "");
	return r;
}
