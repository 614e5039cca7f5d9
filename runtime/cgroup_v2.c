/* cgroup v2: one directory, /sys/fs/cgroup/berth/<id>. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "../lib/fs.h"
#include "cgroup.h"

#define ROOT "/sys/fs/cgroup"

char **cgroup_v2_paths(const char *id)
{
	char **v = xcalloc(1, sizeof(char *));
	strv_push(&v, xasprintf("%s/berth/%s", ROOT, id));
	return v;
}



int cgroup_v2_create(const char *id, const struct cgroup_spec *c, struct berr **err)
{
	_cleanup_free_ char *base = xasprintf("%s/berth", ROOT);
	if (mkdir(base, 0755) < 0 && errno != EEXIST)
		return berr_sys(err, errno, "cannot create cgroup %s", base);
	cgroup_write(ROOT, "cgroup.subtree_control", "+memory +cpu +pids +cpuset +io", NULL);
	cgroup_write(base, "cgroup.subtree_control", "+memory +cpu +pids +cpuset +io", NULL);
	_cleanup_free_ char *dir = xasprintf("%s/%s", base, id);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return berr_sys(err, errno, "cannot create cgroup %s", dir);
	int r = 0;
	if (c->memory > 0)
		r = cgroup_write_int(dir, "memory.max", c->memory, err);
	if (r == 0 && c->memory_swap > 0 && c->memory > 0)
		r = cgroup_write_int(dir, "memory.swap.max", c->memory_swap - c->memory, err);
	if (r == 0 && c->memory_reservation > 0)
		r = cgroup_write_int(dir, "memory.low", c->memory_reservation, err);
	if (r == 0 && c->cpu_shares > 0) /* the conversion runc and crun use */
		r = cgroup_write_int(dir, "cpu.weight", 1 + ((c->cpu_shares - 2) * 9999) / 262142, err);
	if (r == 0 && c->cpu_quota > 0) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%lld %lld", (long long)c->cpu_quota,
			 (long long)(c->cpu_period > 0 ? c->cpu_period : 100000));
		r = cgroup_write(dir, "cpu.max", buf, err);
	}
	if (r == 0 && c->pids > 0)
		r = cgroup_write_int(dir, "pids.max", c->pids, err);
	if (r == 0 && c->cpuset)
		r = cgroup_write(dir, "cpuset.cpus", c->cpuset, err);
	return r;
}
