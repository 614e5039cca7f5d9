/* cgroup v1: one directory per controller, /sys/fs/cgroup/<ctrl>/berth/<id>. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "../lib/fs.h"
#include "cgroup.h"

#define ROOT "/sys/fs/cgroup"

static const char *const controllers[] = {"memory", "cpu", "cpuacct", "pids", "cpuset", "blkio", "freezer", "devices"};

char **cgroup_v1_paths(const char *id)
{
	char **v = xcalloc(1, sizeof(char *));
	for (size_t i = 0; i < ARRAY_SIZE(controllers); i++) {
		_cleanup_free_ char *mount = xasprintf("%s/%s", ROOT, controllers[i]);
		if (fs_is_dir(mount))
			strv_push(&v, xasprintf("%s/%s%s", mount, strchr(id, '/') ? "" : "berth/", id));
	}
	return v;
}

/* cpuset children start empty: copy cpus and mems down from the parent. */
static int cpuset_inherit(const char *dir, struct berr **err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	_cleanup_free_ char *parent = path_dirname(dir);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", parent, files[i]);
		_cleanup_free_ char *text = NULL;
		size_t len;
		if (fs_read_file(p, 4096, &text, &len, err) < 0)
			return -EIO;
		text[strcspn(text, "\n")] = '\0';
		_cleanup_free_ char *mine = xasprintf("%s/%s", dir, files[i]);
		_cleanup_free_ char *cur = NULL;
		if (fs_read_file(mine, 4096, &cur, &len, NULL) == 0 && cur[0] != '\n' && cur[0])
			continue;
		int r = cgroup_write(dir, files[i], text, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* cpu_rt_runtime / cpu_rt_period: the kernel gives a group real-time time
 * only out of its parent's, so berth's own group gets what its containers
 * ask for first (as dockerd's --cpu-rt-runtime does for its parent). */
static int rt_budget(const char *dir, const struct cgroup_spec *c, struct berr **err)
{
	_cleanup_free_ char *parent = path_dirname(dir);
	_cleanup_free_ char *mine = path_join(dir, "cpu.rt_runtime_us");
	if (!fs_exists(mine))
		return berr_set(err, ENOTSUP,
				"cpu_rt_runtime needs real-time group scheduling, which this kernel lacks");
	long long have = cgroup_rt_share(parent, 0, 0);
	long long want = c->rt_runtime;
	/* the siblings' budgets stay theirs: the parent grows by this one's
	 * share, counted in the parent's period (the kernel compares ratios) */
	long long share = cgroup_rt_share(parent, want, c->rt_period > 0 ? c->rt_period : 1000000);
	if (want > 0 && cgroup_write_int(parent, "cpu.rt_runtime_us", have + share, NULL) < 0)
		return berr_set(err, EBUSY,
				"cpu_rt_runtime %lld: the host has no real-time time left to give (berth's "
				"group has %lld µs of its period)",
				want, have);
	int r = 0;
	if (c->rt_period > 0)
		r = cgroup_write_int(dir, "cpu.rt_period_us", c->rt_period, err);
	if (r == 0 && want > 0)
		r = cgroup_write_int(dir, "cpu.rt_runtime_us", want, err);
	return r;
}

/* blkio_config on v1: weights through blkio.weight (CFQ) or blkio.bfq.weight
 * (BFQ), whichever the kernel has; throttles through blkio.throttle.*. */
static int blkio_v1(const char *dir, char *const *rules, struct berr **err)
{
	int r = 0;
	for (size_t i = 0; r == 0 && rules && rules[i]; i++) {
		char kind[32], rest[96];
		if (sscanf(rules[i], "%31s %95[^\n]", kind, rest) != 2)
			continue;
		bool weight = startswith(kind, "weight");
		_cleanup_free_ char *cfq = xasprintf("%s/blkio.%s", dir, kind);
		const char *file = weight ? (fs_exists(cfq) ? kind : NULL) : NULL;
		_cleanup_free_ char *bfq = weight && !file ? xasprintf("bfq.%s", kind) : NULL;
		_cleanup_free_ char *throttle = !weight ? xasprintf("throttle.%s_device", kind) : NULL;
		_cleanup_free_ char *name = xasprintf("blkio.%s", file ? file : bfq ? bfq : throttle);
		r = cgroup_write(dir, name, rest, err);
	}
	return r;
}

static int apply(const char *ctrl, const char *dir, const struct cgroup_spec *c, struct berr **err)
{
	int r = 0;
	if (streq(ctrl, "blkio"))
		return blkio_v1(dir, c->blkio, err);
	if (streq(ctrl, "memory")) {
		if (c->memory > 0)
			r = cgroup_write_int(dir, "memory.limit_in_bytes", c->memory, err);
		_cleanup_free_ char *memsw = xasprintf("%s/memory.memsw.limit_in_bytes", dir);
		if (r == 0 && c->memory_swap != 0 && fs_exists(memsw))
			r = cgroup_write_int(dir, "memory.memsw.limit_in_bytes", c->memory_swap, err);
		if (r == 0 && c->memory_reservation > 0)
			r = cgroup_write_int(dir, "memory.soft_limit_in_bytes", c->memory_reservation, err);
		if (r == 0 && c->swappiness_set)
			r = cgroup_write_int(dir, "memory.swappiness", c->swappiness, err);
		if (r == 0 && c->oom_kill_disable)
			r = cgroup_write_int(dir, "memory.oom_control", 1, err);
	} else if (streq(ctrl, "cpu")) {
		if (c->cpu_shares > 0)
			r = cgroup_write_int(dir, "cpu.shares", c->cpu_shares, err);
		if (r == 0 && c->cpu_quota > 0) {
			r = cgroup_write_int(dir, "cpu.cfs_period_us", c->cpu_period > 0 ? c->cpu_period : 100000, err);
			if (r == 0)
				r = cgroup_write_int(dir, "cpu.cfs_quota_us", c->cpu_quota, err);
		}
		if (r == 0 && (c->rt_runtime > 0 || c->rt_period > 0))
			r = rt_budget(dir, c, err);
	} else if (streq(ctrl, "pids")) {
		if (c->pids > 0)
			r = cgroup_write_int(dir, "pids.max", c->pids, err);
	} else if (streq(ctrl, "devices") && c->devices) {
		/* deny everything, then allow the rules one by one */
		r = cgroup_write(dir, "devices.deny", "a", err);
		for (size_t i = 0; r == 0 && c->devices[i]; i++)
			r = cgroup_write(dir, "devices.allow", c->devices[i], err);
	} else if (streq(ctrl, "cpuset")) {
		r = cpuset_inherit(dir, err);
		if (r == 0 && c->cpuset)
			r = cgroup_write(dir, "cpuset.cpus", c->cpuset, err);
	}
	return r;
}

/* What the spec asks of each controller: a limit whose controller is
 * missing would be no limit at all, so the container is refused. */
static bool needed(const char *ctrl, const struct cgroup_spec *c)
{
	if (streq(ctrl, "memory"))
		return c->memory > 0 || c->memory_reservation > 0 || c->memory_swap > 0 || c->swappiness_set ||
		       c->oom_kill_disable;
	if (streq(ctrl, "blkio"))
		return c->blkio != NULL;
	if (streq(ctrl, "cpu"))
		return c->cpu_shares > 0 || c->cpu_quota > 0 || c->rt_runtime > 0 || c->rt_period > 0;
	if (streq(ctrl, "pids"))
		return c->pids > 0;
	if (streq(ctrl, "cpuset"))
		return c->cpuset != NULL;
	if (streq(ctrl, "devices"))
		return c->devices != NULL;
	return false;
}

int cgroup_v1_check(const char *root, const struct cgroup_spec *c, struct berr **err)
{
	for (size_t i = 0; i < ARRAY_SIZE(controllers); i++) {
		_cleanup_free_ char *mount = xasprintf("%s/%s", root, controllers[i]);
		if (needed(controllers[i], c) && !fs_is_dir(mount))
			return berr_set(err, ENOTSUP,
					"the %s cgroup controller is not mounted at %s, so the container's %s "
					"cannot be enforced; mount it, or remove the setting",
					controllers[i], mount,
					streq(controllers[i], "devices") ? "device restrictions" : "limits");
	}
	return 0;
}

static int inherit_level(const char *level, void *data, struct berr **err)
{
	(void)data;
	return cpuset_inherit(level, err) < 0 ? -EIO : 0;
}

int cgroup_v1_create(const char *id, const struct cgroup_spec *c, struct berr **err)
{
	if (cgroup_v1_check(ROOT, c, err) < 0)
		return -ENOTSUP;
	for (size_t i = 0; i < ARRAY_SIZE(controllers); i++) {
		_cleanup_free_ char *mount = xasprintf("%s/%s", ROOT, controllers[i]);
		if (!fs_is_dir(mount))
			continue;
		/* berth's group, or the cgroup_parent's, level by level (cpuset's
		 * each inheriting its parent's cpus and mems) */
		_cleanup_free_ char *rel = strchr(id, '/') ? path_dirname(id) : xstrdup("berth");
		_cleanup_free_ char *dir = xasprintf("%s/%s/%s", mount, rel, path_basename(id));
		if (cgroup_mkdirs(mount, rel, streq(controllers[i], "cpuset") ? inherit_level : NULL, NULL, err) < 0)
			return -EIO;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return berr_sys(err, errno, "cannot create cgroup %s", dir);
		int r = apply(controllers[i], dir, c, err);
		if (r < 0)
			return r;
	}
	return 0;
}
