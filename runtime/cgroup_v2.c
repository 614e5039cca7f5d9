/* cgroup v2: one directory, /sys/fs/cgroup/berth/<id>. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "../lib/fs.h"
#include "cgroup.h"
#include "devices.h"

#define ROOT "/sys/fs/cgroup"

char **cgroup_v2_paths(const char *id)
{
	char **v = xcalloc(1, sizeof(char *));
	strv_push(&v, xasprintf("%s/%s%s", ROOT, strchr(id, '/') ? "" : "berth/", id));
	return v;
}

/* cgroup v2 has no devices files: the rules become a BPF program. */
int cgroup_v2_devices(const char *dir, char *const *rules, struct berr **err)
{
	size_t n = strv_len(rules);
	struct dev_rule *parsed = xcalloc(n + 1, sizeof(*parsed));
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = dev_rule_parse(rules[i], &parsed[i], err);
	_cleanup_close_ int fd = r == 0 ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (r == 0 && fd < 0)
		r = berr_sys(err, errno, "cannot open cgroup %s", dir);
	if (r == 0)
		r = dev_bpf_attach(fd, parsed, n, err);
	free(parsed);
	return r;
}

/* A level gives the controllers to the next. */
static int delegate(const char *level, void *data, struct berr **err)
{
	(void)err;
	const char *const *ctrls = data;
	for (size_t i = 0; ctrls[i]; i++)
		cgroup_write(level, "cgroup.subtree_control", ctrls[i], NULL);
	return 0;
}

int cgroup_v2_create(const char *id, const struct cgroup_spec *c, struct berr **err)
{
	/* berth's group, or the cgroup_parent's, level by level, each giving
	 * the controllers to the next: one by one, as a write naming a
	 * controller the kernel lacks enables none (a limit whose controller
	 * is missing then fails to be set, and says so) */
	static const char *const ctrls[] = {"+memory", "+cpu", "+pids", "+cpuset", "+io", NULL};
	_cleanup_free_ char *rel = strchr(id, '/') ? path_dirname(id) : xstrdup("berth");
	delegate(ROOT, (void *)ctrls, NULL);
	if (cgroup_mkdirs(ROOT, rel, delegate, (void *)ctrls, err) < 0)
		return -EIO;
	_cleanup_free_ char *dir = xasprintf("%s/%s/%s", ROOT, rel, path_basename(id));
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
	if (r == 0 && c->devices)
		r = cgroup_v2_devices(dir, c->devices, err);
	/* blkio_config: io.weight and io.max (swappiness and oom_kill_disable have
	 * no v2 file: berth said so when it made the spec) */
	for (size_t i = 0; r == 0 && c->blkio && c->blkio[i]; i++) {
		char kind[32], dev[32];
		long long v;
		if (sscanf(c->blkio[i], "weight %lld", &v) == 1) {
			_cleanup_free_ char *w = xasprintf("default %lld", v);
			r = cgroup_write(dir, "io.weight", w, err);
		} else if (sscanf(c->blkio[i], "%31s %31s %lld", kind, dev, &v) == 3) {
			static const char *const keys[][2] = {{"weight_device", ""},
							      {"read_bps", "rbps"},
							      {"write_bps", "wbps"},
							      {"read_iops", "riops"},
							      {"write_iops", "wiops"}};
			for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
				if (!streq(kind, keys[k][0]))
					continue;
				_cleanup_free_ char *line = k ? xasprintf("%s %s=%lld", dev, keys[k][1], v)
							      : xasprintf("%s %lld", dev, v);
				r = cgroup_write(dir, k ? "io.max" : "io.weight", line, err);
			}
		}
	}
	return r;
}
