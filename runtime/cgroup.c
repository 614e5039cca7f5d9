#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>

#include "../lib/fs.h"

bool cgroup_is_v2(void) { return fs_exists("/sys/fs/cgroup/cgroup.controllers"); }

char **cgroup_paths(const char *id) { return cgroup_is_v2() ? cgroup_v2_paths(id) : cgroup_v1_paths(id); }

char *cgroup_id(const char *parent, const char *name)
{
	return parent && parent[0] ? xasprintf("%s/%s", parent, name) : xstrdup(name);
}

int cgroup_create(const char *id, const struct cgroup_spec *c, struct berr **err)
{
	return cgroup_is_v2() ? cgroup_v2_create(id, c, err) : cgroup_v1_create(id, c, err);
}

void cgroup_mark(const char *id, const char *dir)
{
	char **paths = cgroup_paths(id);
	for (size_t i = 0; paths[i]; i++)
		setxattr(paths[i], "trusted.berth.dir", dir, strlen(dir), 0);
	strv_free(paths);
}

int cgroup_add(const char *id, pid_t pid, struct berr **err)
{
	char **paths = cgroup_paths(id);
	int r = 0;
	for (size_t i = 0; paths[i] && r == 0; i++) {
		_cleanup_free_ char *f = xasprintf("%s/cgroup.procs", paths[i]);
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
		_cleanup_close_ int fd = open(f, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, buf, (size_t)n) != n)
			r = berr_sys(err, errno, "cannot move process %d into cgroup %s", (int)pid, paths[i]);
	}
	strv_free(paths);
	return r;
}

static pid_t *read_pids(const char *dir, size_t *n)
{
	_cleanup_free_ char *f = xasprintf("%s/cgroup.procs", dir);
	FILE *fp = fopen(f, "re");
	pid_t *pids = NULL;
	*n = 0;
	if (!fp)
		return NULL;
	int p;
	while (fscanf(fp, "%d", &p) == 1) {
		pids = xrealloc(pids, (*n + 1) * sizeof(*pids));
		pids[(*n)++] = p;
	}
	fclose(fp);
	return pids;
}

void cgroup_signal(const char *id, int sig)
{
	char **paths = cgroup_paths(id);
	size_t n = 0;
	pid_t *pids = paths[0] ? read_pids(paths[0], &n) : NULL;
	for (size_t i = 0; i < n; i++)
		kill(pids[i], sig);
	free(pids);
	strv_free(paths);
}

void cgroup_kill(const char *id)
{
	char **paths = cgroup_paths(id);
	if (paths[0]) {
		_cleanup_free_ char *killf = xasprintf("%s/cgroup.kill", paths[0]);
		_cleanup_close_ int fd = open(killf, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "1", 1) != 1) {
			/* v1, or a kernel without cgroup.kill: kill what we see, a few rounds */
			for (int round = 0; round < 8; round++) {
				size_t n;
				pid_t *pids = read_pids(paths[0], &n);
				for (size_t i = 0; i < n; i++)
					kill(pids[i], SIGKILL);
				free(pids);
				if (n == 0)
					break;
			}
		}
	}
	strv_free(paths);
}

bool cgroup_empty(const char *id)
{
	char **paths = cgroup_paths(id);
	size_t n = 0;
	if (paths[0])
		free(read_pids(paths[0], &n));
	strv_free(paths);
	return n == 0;
}

int cgroup_remove(const char *id, struct berr **err)
{
	char **paths = cgroup_paths(id);
	int r = 0;
	for (size_t i = 0; paths[i] && r == 0; i++) {
		if (!fs_is_dir(paths[i]))
			continue;
		/* a real-time budget it had goes back to berth's group (see rt_budget) */
		_cleanup_free_ char *up = path_dirname(paths[i]), *rpf = path_join(paths[i], "cpu.rt_period_us"),
				    *rp = NULL;
		size_t rtlen;
		long long period = fs_read_file(rpf, 64, &rp, &rtlen, NULL) == 0 ? atoll(rp) : 0;
		long long given = period > 0 ? cgroup_rt_share(up, cgroup_rt_share(paths[i], 0, 0), period) : 0;
		for (int tries = 0;; tries++) {
			if (rmdir(paths[i]) == 0 || errno == ENOENT)
				break;
			if (errno != EBUSY || tries >= 200) {
				r = berr_sys(err, errno, "cannot remove cgroup %s", paths[i]);
				break;
			}
			cgroup_kill(id);
			nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
		}
		/* the shared berth parent goes with the last container (a
		 * cgroup_parent is the user's, and stays) */
		_cleanup_free_ char *parent = path_dirname(paths[i]);
		bool ours = streq(path_basename(parent), "berth") && !strchr(id, '/');
		long long pool = given > 0 ? cgroup_rt_share(parent, 0, 0) : 0;
		/* the kernel frees a removed group's share a moment later: a few tries */
		for (int t = 0; r == 0 && given > 0 && pool >= given && t < 40; t++) {
			if (cgroup_write_int(parent, "cpu.rt_runtime_us", pool - given, NULL) == 0)
				break;
			nanosleep(&(struct timespec){0, 25 * 1000 * 1000}, NULL);
		}
		if (r == 0 && ours)
			rmdir(parent);
	}
	strv_free(paths);
	return r;
}

bool cgroup_oom_killed(const char *id)
{
	char **paths = cgroup_paths(id);
	bool oom = false;
	for (size_t i = 0; paths[i] && !oom; i++) {
		const char *file = cgroup_is_v2() ? "memory.events" : "memory.oom_control";
		_cleanup_free_ char *f = xasprintf("%s/%s", paths[i], file);
		_cleanup_free_ char *text = NULL;
		size_t len;
		if (fs_read_file(f, 1 << 16, &text, &len, NULL) < 0)
			continue;
		const char *k = strstr(text, "oom_kill ");
		oom = k && atoll(k + 9) > 0;
	}
	strv_free(paths);
	return oom;
}

int cgroup_mkdirs(const char *base, const char *rel, int (*each)(const char *level, void *data, struct berr **err),
		  void *data, struct berr **err)
{
	_cleanup_free_ char *r = xstrdup(rel);
	for (char *at = r;; at++) {
		if (*at != '/' && *at)
			continue;
		char keep = *at;
		*at = 0;
		_cleanup_free_ char *level = xasprintf("%s/%s", base, r);
		*at = keep;
		if (mkdir(level, 0755) < 0 && errno != EEXIST)
			return berr_sys(err, errno, "cannot create cgroup %s", level);
		int rc = each ? each(level, data, err) : 0;
		if (rc < 0)
			return rc;
		if (!keep)
			return 0;
	}
}

int cgroup_write(const char *dir, const char *file, const char *value, struct berr **err)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
	ssize_t n = (ssize_t)strlen(value);
	if (fd < 0 || write(fd, value, (size_t)n) != n)
		return berr_sys(err, errno, "cannot set %s to %s", p, value);
	return 0;
}

int cgroup_write_int(const char *dir, const char *file, long long v, struct berr **err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", v);
	return cgroup_write(dir, file, buf, err);
}

/* The directory that freezes the container: the v2 cgroup, or v1's freezer one. */
static char *freezer_dir(const char *id)
{
	char **paths = cgroup_paths(id);
	char *dir = NULL;
	for (size_t i = 0; paths[i] && !dir; i++)
		if (cgroup_is_v2() || strstr(paths[i], "/freezer/"))
			dir = xstrdup(paths[i]);
	strv_free(paths);
	return dir;
}

bool cgroup_frozen(const char *id)
{
	_cleanup_free_ char *dir = freezer_dir(id);
	if (!dir)
		return false;
	_cleanup_free_ char *f = path_join(dir, cgroup_is_v2() ? "cgroup.freeze" : "freezer.state");
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (fs_read_file(f, 256, &text, &len, NULL) < 0)
		return false;
	/* v1 says FREEZING while it is on its way, which is paused all the same */
	return cgroup_is_v2() ? text[0] == '1' : !startswith(text, "THAWED");
}

int cgroup_freeze(const char *id, bool freeze, struct berr **err)
{
	_cleanup_free_ char *dir = freezer_dir(id);
	if (!dir || !fs_is_dir(dir))
		return berr_set(err, ENOENT, "no cgroup freezer for %s", id);
	bool v2 = cgroup_is_v2();
	int r = v2 ? cgroup_write(dir, "cgroup.freeze", freeze ? "1" : "0", err)
		   : cgroup_write(dir, "freezer.state", freeze ? "FROZEN" : "THAWED", err);
	/* until every task got there (a task in a system call can take a moment), at most 5 s */
	_cleanup_free_ char *f = path_join(dir, v2 ? "cgroup.events" : "freezer.state");
	for (int t = 0; r == 0 && t < 500; t++) {
		_cleanup_free_ char *text = NULL;
		size_t len;
		if (fs_read_file(f, 4096, &text, &len, NULL) < 0)
			break;
		bool there = v2 ? (strstr(text, freeze ? "frozen 1" : "frozen 0") != NULL)
				: startswith(text, freeze ? "FROZEN" : "THAWED");
		if (there)
			return 0;
		if (!v2 && freeze && startswith(text, "THAWED")) /* v1 asks again until it holds */
			cgroup_write(dir, "freezer.state", "FROZEN", NULL);
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	return r < 0 ? r : berr_set(err, ETIMEDOUT, "%s did not %s within 5 s", id, freeze ? "freeze" : "thaw");
}

/* The directory of one controller: v2's single one, or v1's <ctrl>/berth/<id>. */
static char *controller_dir(const char *id, const char *ctrl)
{
	const char *in = strchr(id, '/') ? "" : "berth/"; /* cgroup_parent: the id has its parent */
	if (cgroup_is_v2())
		return xasprintf("/sys/fs/cgroup/%s%s", in, id);
	return xasprintf("/sys/fs/cgroup/%s/%s%s", ctrl, in, id);
}

/* The number after "key " in a "key value" file (memory.stat, cpu.stat), or -1. */
static int64_t keyed(const char *dir, const char *file, const char *key)
{
	_cleanup_free_ char *p = path_join(dir, file), *text = NULL;
	size_t len, klen = strlen(key);
	if (fs_read_file(p, 1 << 20, &text, &len, NULL) < 0)
		return -1;
	for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			return atoll(line + klen + 1);
	return -1;
}

/* A file holding one number; "max" and a missing file are -1. */
static int64_t number(const char *dir, const char *file)
{
	_cleanup_free_ char *p = path_join(dir, file), *text = NULL;
	size_t len;
	if (fs_read_file(p, 4096, &text, &len, NULL) < 0 || startswith(text, "max"))
		return -1;
	return atoll(text);
}

/* Read and write bytes of blkio.throttle.io_service_bytes (v1) or io.stat (v2). */
static void block_io(const char *dir, bool v2, int64_t *rd, int64_t *wr)
{
	_cleanup_free_ char *p = path_join(dir, v2 ? "io.stat" : "blkio.throttle.io_service_bytes"), *text = NULL;
	size_t len;
	*rd = *wr = 0;
	if (fs_read_file(p, 1 << 20, &text, &len, NULL) < 0)
		return;
	for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (v2) {
			const char *r = strstr(line, "rbytes="), *w = strstr(line, "wbytes="),
				   *end = strchr(line, '\n');
			if (r && (!end || r < end))
				*rd += atoll(r + 7);
			if (w && (!end || w < end))
				*wr += atoll(w + 7);
			continue;
		}
		unsigned maj, min;
		char op[16];
		long long v;
		if (sscanf(line, "%u:%u %15s %lld", &maj, &min, op, &v) == 4) {
			if (streq(op, "Read"))
				*rd += v;
			else if (streq(op, "Write"))
				*wr += v;
		}
	}
}

int cgroup_stats(const char *id, struct cgroup_stats *s)
{
	bool v2 = cgroup_is_v2();
	*s = (struct cgroup_stats){0};
	_cleanup_free_ char *mem = controller_dir(id, "memory"), *cpu = controller_dir(id, "cpuacct"),
			    *pids = controller_dir(id, "pids"), *blk = controller_dir(id, "blkio");
	if (!fs_is_dir(mem))
		return -ENOENT;
	/* memory as docker counts it: usage without the inactive page cache */
	int64_t usage = number(mem, v2 ? "memory.current" : "memory.usage_in_bytes");
	int64_t inactive = keyed(mem, "memory.stat", v2 ? "inactive_file" : "total_inactive_file");
	s->memory = usage > 0 ? usage - (inactive > 0 && inactive < usage ? inactive : 0) : 0;
	s->memory_limit = number(mem, v2 ? "memory.max" : "memory.limit_in_bytes");
	int64_t cpu_us = v2 ? keyed(cpu, "cpu.stat", "usage_usec") : number(cpu, "cpuacct.usage") / 1000;
	s->cpu_ns = cpu_us > 0 ? cpu_us * 1000 : 0;
	s->pids = number(pids, "pids.current");
	block_io(blk, v2, &s->block_read, &s->block_write);
	return 0;
}

long long cgroup_rt_share(const char *dir, long long runtime, long long period)
{
	_cleanup_free_ char *rf = path_join(dir, "cpu.rt_runtime_us"), *pf = path_join(dir, "cpu.rt_period_us");
	_cleanup_free_ char *rt = NULL, *pt = NULL;
	size_t len;
	long long have = fs_read_file(rf, 64, &rt, &len, NULL) == 0 ? atoll(rt) : 0;
	long long own = fs_read_file(pf, 64, &pt, &len, NULL) == 0 ? atoll(pt) : 1000000;
	if (!period) /* its own budget */
		return have;
	/* runtime/period in dir's period, rounded up */
	return own > 0 ? (runtime * own + period - 1) / period : runtime;
}
