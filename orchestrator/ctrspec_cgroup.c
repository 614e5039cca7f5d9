/* A service's limits as the container's cgroup and rlimits: memory, CPU,
 * pids, block I/O, devices, ulimits, refused where the host lacks the
 * controller. */
#include "ctrspec.h"
#include "ctrspec_int.h"

#include <errno.h>
#include <math.h>
#include <dirent.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>

#include "../lib/log.h"
#include "../lib/fs.h"
#include "../runtime/devices.h"
#include "units.h"

void ctrspec_ulimit(const struct node *v, long long *soft, long long *hard)
{
	*soft = *hard = 0;
	if (v->kind == NODE_MAP) {
		node_int(node_map_get(v, "soft"), soft);
		node_int(node_map_get(v, "hard"), hard);
	} else if (node_int(v, soft) == 0) {
		*hard = *soft;
	}
}

int ctrspec_set_ulimits(struct node *svc, struct ctr_spec *s)
{
	struct node *u = node_map_get(svc, "ulimits");
	for (size_t i = 0; u && u->kind == NODE_MAP && i < u->n; i++) {
		long long soft, hard;
		ctrspec_ulimit(u->pairs[i].val, &soft, &hard);
		s->rlimits = xrealloc(s->rlimits, (s->nrlimits + 1) * sizeof(*s->rlimits));
		s->rlimits[s->nrlimits++] = (struct rlimit_spec){xstrdup(u->pairs[i].key), soft, hard};
	}
	return 0;
}

long long ctrspec_bytes_of(struct node *n)
{
	long long b = 0;
	if (n && node_int(n, &b) < 0 && node_str(n))
		bytes_parse(n->str, &b);
	return b;
}

enum limit_kind { L_CPUS, L_SHARES, L_QUOTA, L_PERIOD, L_MEMORY, L_BYTES, L_SWAP, L_PIDS };

static const struct {
	const char *path;
	enum limit_kind kind;
} limit_keys[] = {

	{"cpus", L_CPUS},
	{"deploy.resources.limits.cpus", L_CPUS},
	{"deploy.resources.reservations.cpus", L_CPUS},
	{"cpu_shares", L_SHARES},
	{"cpu_quota", L_QUOTA},
	{"cpu_period", L_PERIOD},
	{"mem_limit", L_MEMORY},
	{"deploy.resources.limits.memory", L_MEMORY},
	{"mem_reservation", L_BYTES},
	{"deploy.resources.reservations.memory", L_BYTES},
	{"shm_size", L_BYTES},
	{"memswap_limit", L_SWAP},
	{"pids_limit", L_PIDS},
	{"deploy.resources.limits.pids", L_PIDS},
};

static struct node *at_path(struct node *n, const char *path)
{
	_cleanup_free_ char *copy = xstrdup(path);
	char *save = NULL;
	for (char *k = strtok_r(copy, ".", &save); k && n; k = strtok_r(NULL, ".", &save))
		n = node_map_get(n, k);
	return n;
}

/* What the kernel would not take, or Docker refuses, is refused here
 * with the range, instead of becoming a raw cgroup error or no limit. */
static const char *limit_problem(enum limit_kind kind, struct node *v, char *buf, size_t size)
{
	double f = 0;
	long long n = 0;
	switch (kind) {
	case L_CPUS: {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		if (node_float(v, &f) < 0 || !isfinite(f) || f <= 0)
			return "must be a number of CPUs more than 0";
		if (f > (double)cpus) {
			snprintf(buf, size, "is more than the %ld CPUs this host has", cpus);
			return buf;
		}
		return NULL;
	}
	case L_SHARES:
		return node_int(v, &n) < 0 || n < 0 || n == 1 || n > 262144
			       ? "must be between 2 and 262144 (0: the default)"
			       : NULL;
	case L_QUOTA:
		return node_int(v, &n) < 0 || (n != -1 && n != 0 && n < 1000)
			       ? "must be -1 (no limit) or at least 1000 microseconds"
			       : NULL;
	case L_PERIOD:
		return node_int(v, &n) < 0 || (n != 0 && (n < 1000 || n > 1000000))
			       ? "must be between 1000 and 1000000 microseconds"
			       : NULL;
	case L_PIDS:
		return node_int(v, &n) < 0 || n < -1 ? "must be -1 (no limit) or more" : NULL;
	default:
		break;
	}
	if (node_int(v, &n) < 0 && (!node_str(v) || bytes_parse(v->str, &n) < 0))
		return "is not a size (as 512m or 2g)";
	if (kind == L_SWAP)
		return n < -1 ? "must be -1 (no limit) or a size" : NULL;
	if (n < 0)
		return "cannot be negative";
	return kind == L_MEMORY && n > 0 && n < 6 * 1024 * 1024 ? "is below the 6m that the kernel needs (as Docker)"
								: NULL;
}

int ctrspec_check_limits(struct node *svc, const char *service, struct berr **err)
{
	for (size_t i = 0; i < ARRAY_SIZE(limit_keys); i++) {
		struct node *v = at_path(svc, limit_keys[i].path);
		char buf[96];
		const char *problem = v && !node_is_null(v) ? limit_problem(limit_keys[i].kind, v, buf, sizeof(buf))
							    : NULL;
		if (problem)
			return node_err(err, v, "service %s: %s: %s %s", service, limit_keys[i].path,
					node_str(v) ? v->str : "this value", problem);
	}
	return 0;
}

/* mem_swappiness and oom_kill_disable: cgroup v1 files; on v2 there are
 * none, and berth says so (Docker drops them with a warning too). */
int ctrspec_set_memory_extras(struct node *svc, const char *service, struct cgroup_spec *c, struct berr **err)
{
	struct node *sw = node_map_get(svc, "mem_swappiness"), *ok = node_map_get(svc, "oom_kill_disable");
	long long v = -1;
	if (sw && !node_is_null(sw) && (node_int(sw, &v) < 0 || v < 0 || v > 100))
		return node_err(err, sw, "service %s: mem_swappiness must be a number from 0 to 100", service);
	bool off = false;
	if (ok && !node_is_null(ok))
		node_bool(ok, &off);
	bool v2 = fs_exists("/sys/fs/cgroup/cgroup.controllers");
	if (v2 && (v >= 0 || off))
		log_warn("service %s: %s has no effect on cgroup v2 (this host's); it is ignored, as Docker ignores it",
			 service, v >= 0 ? "mem_swappiness" : "oom_kill_disable");
	c->swappiness_set = !v2 && v >= 0;
	c->swappiness = (int)(v < 0 ? 0 : v);
	c->oom_kill_disable = !v2 && off;
	return 0;
}

/* cpu_rt_runtime, cpu_rt_period: microseconds, or a duration ("400ms");
 * real-time group scheduling exists on cgroup v1 only. */
int ctrspec_set_rt(struct node *svc, const char *service, struct cgroup_spec *c, struct berr **err)
{
	static const char *const keys[] = {"cpu_rt_runtime", "cpu_rt_period"};
	int64_t *dst[] = {&c->rt_runtime, &c->rt_period};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		struct node *n = node_map_get(svc, keys[i]);
		if (!n || node_is_null(n))
			continue;
		long long v = -1, ns;
		if (node_int(n, &v) < 0 && node_str(n) && duration_parse(n->str, &ns) == 0)
			v = ns / 1000;
		if (v <= 0 || (i == 1 && v > 1000000))
			return node_err(err, n,
					"service %s: %s must be a positive number of microseconds or a duration%s",
					service, keys[i], i == 1 ? " of at most 1s" : "");
		if (fs_exists("/sys/fs/cgroup/cgroup.controllers"))
			return node_err(err, n,
					"service %s: %s needs real-time group scheduling, which cgroup v2 (this "
					"host's) does not have",
					service, keys[i]);
		*dst[i] = v;
	}
	if (c->rt_runtime && c->rt_runtime > (c->rt_period ? c->rt_period : 1000000))
		return node_err(err, node_map_get(svc, "cpu_rt_runtime"),
				"service %s: cpu_rt_runtime is more than its period", service);
	return 0;
}

/* cgroup_parent: a group of each hierarchy (made when missing, and left)
 * that takes the container's instead of berth's own; a path of names,
 * never climbing out of the cgroup mount. */
int ctrspec_set_cgroup_parent(struct node *svc, const char *service, struct cgroup_spec *c, struct berr **err)
{
	struct node *n = node_map_get(svc, "cgroup_parent");
	const char *v = node_str(n);
	if (!v)
		return 0;
	while (*v == '/')
		v++;
	_cleanup_free_ char *copy = xstrdup(v);
	size_t len = strlen(copy);
	while (len && copy[len - 1] == '/')
		copy[--len] = 0;
	bool ok = len > 0 && len < 200;
	char *save = NULL;
	for (char *part = strtok_r(copy, "/", &save); ok && part; part = strtok_r(NULL, "/", &save))
		ok = !streq(part, ".") && !streq(part, "..") &&
		     strspn(part, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-@") == strlen(part);
	if (!ok)
		return node_err(err, n,
				"service %s: cgroup_parent %s must be a path of names (letters, digits, '_', '.', "
				"'-', '@'), without . or ..",
				service, node_str(n));
	c->parent = xstrndup(v, len);
	return 0;
}

/* The MAJ:MIN of a block device path. */
static int block_dev(struct node *at, const char *service, const char *path, char out[32], struct berr **err)
{
	struct stat st;
	if (!path || stat(path, &st) < 0)
		return node_err(err, at, "service %s: blkio_config: no such device: %s", service,
				path ? path : "(none)");
	if (!S_ISBLK(st.st_mode))
		return node_err(err, at, "service %s: blkio_config: %s is not a block device", service, path);
	snprintf(out, 32, "%u:%u", major(st.st_rdev), minor(st.st_rdev));
	return 0;
}

/* blkio_config as cgroup rules (see cgroup_spec.blkio). */
int ctrspec_set_blkio(struct node *svc, const char *service, struct cgroup_spec *c, struct berr **err)
{
	struct node *b = node_map_get(svc, "blkio_config");
	if (!b || b->kind != NODE_MAP)
		return 0;
	char **rules = xcalloc(1, sizeof(char *));
	long long w = 0;
	struct node *wn = node_map_get(b, "weight");
	int r = 0;
	if (wn && (node_int(wn, &w) < 0 || w < 10 || w > 1000))
		r = node_err(err, wn, "service %s: blkio_config.weight must be from 10 to 1000", service);
	/* weights need a scheduler that has them (CFQ, or BFQ loaded); Docker drops them otherwise */
	bool weights = fs_exists("/sys/fs/cgroup/cgroup.controllers") ||
		       fs_exists("/sys/fs/cgroup/blkio/blkio.weight") || fs_exists("/sys/module/bfq");
	if (r == 0 && wn && !weights)
		log_warn("service %s: blkio_config weights have no effect here: the kernel has no CFQ or BFQ weights "
			 "(as Docker, berth ignores them)",
			 service);
	if (r == 0 && wn && weights)
		strv_push(&rules, xasprintf("weight %lld", w));
	static const struct {
		const char *key, *rule, *value;
		bool bytes;
	} lists[] = {{"weight_device", "weight_device", "weight", false},
		     {"device_read_bps", "read_bps", "rate", true},
		     {"device_write_bps", "write_bps", "rate", true},
		     {"device_read_iops", "read_iops", "rate", false},
		     {"device_write_iops", "write_iops", "rate", false}};
	for (size_t k = 0; r == 0 && k < ARRAY_SIZE(lists); k++) {
		struct node *l = node_map_get(b, lists[k].key);
		for (size_t i = 0; r == 0 && l && l->kind == NODE_SEQ && i < l->n; i++) {
			struct node *it = l->items[i], *vn = node_map_get(it, lists[k].value);
			char dev[32];
			long long v = 0;
			r = block_dev(it, service, node_str(node_map_get(it, "path")), dev, err);
			bool good = vn && (node_int(vn, &v) == 0 ||
					   (lists[k].bytes && node_str(vn) && bytes_parse(vn->str, &v) == 0));
			if (r == 0 && (!good || v <= 0))
				r = node_err(err, it, "service %s: blkio_config.%s[%zu].%s must be a positive %s",
					     service, lists[k].key, i, lists[k].value,
					     lists[k].bytes ? "size (1mb, 1048576)" : "number");
			if (r == 0 && (k > 0 || weights))
				strv_push(&rules, xasprintf("%s %s %lld", lists[k].rule, dev, v));
		}
	}
	if (r < 0 || !rules[0]) {
		strv_free(rules);
		return r;
	}
	c->blkio = rules;
	return 0;
}

void ctrspec_set_cgroup(struct node *svc, struct cgroup_spec *c)
{
	struct node *limits = node_map_get(node_map_get(node_map_get(svc, "deploy"), "resources"), "limits");
	struct node *res = node_map_get(node_map_get(node_map_get(svc, "deploy"), "resources"), "reservations");
	c->memory = ctrspec_bytes_of(node_map_get(svc, "mem_limit"));
	if (!c->memory)
		c->memory = ctrspec_bytes_of(node_map_get(limits, "memory"));
	c->memory_swap = ctrspec_bytes_of(node_map_get(svc, "memswap_limit"));
	c->memory_reservation = ctrspec_bytes_of(node_map_get(svc, "mem_reservation"));
	if (!c->memory_reservation)
		c->memory_reservation = ctrspec_bytes_of(node_map_get(res, "memory"));
	double cpus = 0;
	if (node_float(node_map_get(svc, "cpus"), &cpus) < 0)
		node_float(node_map_get(limits, "cpus"), &cpus);
	if (cpus > 0) {
		c->cpu_period = 100000;
		c->cpu_quota = (int64_t)llround(cpus * 100000);
	}
	long long v = 0;
	if (node_int(node_map_get(svc, "cpu_shares"), &v) == 0)
		c->cpu_shares = v;
	if (node_int(node_map_get(svc, "cpu_quota"), &v) == 0)
		c->cpu_quota = v;
	if (node_int(node_map_get(svc, "cpu_period"), &v) == 0)
		c->cpu_period = v;
	if (node_int(node_map_get(svc, "pids_limit"), &v) == 0 || node_int(node_map_get(limits, "pids"), &v) == 0)
		c->pids = v;
	const char *cpuset = node_str(node_map_get(svc, "cpuset"));
	c->cpuset = cpuset ? xstrdup(cpuset) : NULL;
}

static void add_device(struct ctr_spec *s, const char *path, const struct stat *st, unsigned access)
{
	char type = S_ISBLK(st->st_mode) ? 'b' : 'c';
	s->devices = xrealloc(s->devices, (s->ndevices + 1) * sizeof(*s->devices));
	s->devices[s->ndevices++] = (struct device_spec){
		xstrdup(path),       type,       major(st->st_rdev), minor(st->st_rdev),
		st->st_mode & 07777, st->st_uid, st->st_gid};
	struct dev_rule r = {type, major(st->st_rdev), minor(st->st_rdev), access};
	strv_push(&s->cgroup.devices, dev_rule_format(&r));
}

/* A host directory of devices (/dev/snd): every device below it, as Docker does. */
static void add_device_dir(struct ctr_spec *s, const char *host, const char *target, unsigned access, int depth)
{
	_cleanup_(closedirp) DIR *d = depth < 8 ? opendir(host) : NULL;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (streq(e->d_name, ".") || streq(e->d_name, ".."))
			continue;
		_cleanup_free_ char *h = path_join(host, e->d_name);
		_cleanup_free_ char *t = path_join(target, e->d_name);
		struct stat st;
		if (lstat(h, &st) < 0)
			continue;
		if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
			add_device(s, t, &st, access);
		else if (S_ISDIR(st.st_mode))
			add_device_dir(s, h, t, access, depth + 1);
	}
}

/* The devices cgroup: Docker's default list, what devices: and
 * device_cgroup_rules: add; everything with privileged. */
int ctrspec_set_devices(struct node *svc, const char *service, struct ctr_spec *s, struct berr **err)
{
	s->cgroup.devices = xcalloc(1, sizeof(char *));
	if (s->privileged) {
		strv_push(&s->cgroup.devices, xstrdup("a *:* rwm"));
		return 0;
	}
	for (size_t i = 0; dev_docker_default[i]; i++)
		strv_push(&s->cgroup.devices, xstrdup(dev_docker_default[i]));
	struct node *devs = node_map_get(svc, "devices");
	for (size_t i = 0; devs && devs->kind == NODE_SEQ && i < devs->n; i++) {
		struct node *d = devs->items[i];
		const char *src = node_str(node_map_get(d, "source"));
		const char *dst = node_str(node_map_get(d, "target"));
		const char *perms = node_str(node_map_get(d, "permissions"));
		unsigned access;
		struct stat st;
		if (!src || src[0] != '/')
			return node_err(err, d,
					"service %s: devices[%zu]: \"%s\" is not a host path; berth has no "
					"CDI devices, name the device as /dev/...",
					service, i, src ? src : "");
		if (!dst || dst[0] != '/' || strstr(dst, ".."))
			return node_err(err, d,
					"service %s: devices[%zu]: the container path must be absolute, without ..",
					service, i);
		if (dev_access_parse(perms ? perms : "rwm", &access) < 0)
			return node_err(err, d,
					"service %s: devices[%zu]: permissions \"%s\" are not a combination of "
					"r, w and m",
					service, i, perms);
		if (stat(src, &st) < 0)
			return node_err(err, d, "service %s: devices[%zu]: %s: %s", service, i, src, strerror(errno));
		if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
			add_device(s, dst, &st, access);
		else if (S_ISDIR(st.st_mode))
			add_device_dir(s, src, dst, access, 0);
		else
			return node_err(err, d, "service %s: devices[%zu]: %s is not a device", service, i, src);
	}
	struct node *rules = node_map_get(svc, "device_cgroup_rules");
	for (size_t i = 0; rules && rules->kind == NODE_SEQ && i < rules->n; i++) {
		struct dev_rule r;
		const char *text = node_str(rules->items[i]);
		_cleanup_(berr_freep) struct berr *e = NULL;
		if (dev_rule_parse(text ? text : "", &r, &e) < 0)
			return node_err(err, rules->items[i], "service %s: device_cgroup_rules[%zu]: %s", service, i,
					e->msg);
		strv_push(&s->cgroup.devices, dev_rule_format(&r));
	}
	return 0;
}
