#include "ctrspec.h"

#include <errno.h>
#include <math.h>
#include <strings.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../network/hostnet.h"
#include "../lib/fs.h"
#include "../lib/signals.h"
#include "../runtime/caps.h"
#include "../runtime/ctr.h"
#include "../runtime/devices.h"
#include "../runtime/rootfs.h"
#include "../runtime/user.h"
#include "../network/ipam.h"
#include "../volumes/volume.h"
#include "env.h"
#include "netplan.h"
#include "units.h"

static char **node_strv(struct node *n)
{
	char **v = xcalloc(1, sizeof(char *));
	for (size_t i = 0; n && n->kind == NODE_SEQ && i < n->n; i++)
		if (node_str(n->items[i]))
			strv_push(&v, xstrdup(n->items[i]->str));
	return v;
}

static void strv_append(char ***v, char *const *more)
{
	for (size_t i = 0; more && more[i]; i++)
		strv_push(v, xstrdup(more[i]));
}

char **ctrspec_argv(struct node *svc, const struct image_config *img)
{
	struct pair *ep = node_map_pair(svc, "entrypoint");
	struct pair *cmd = node_map_pair(svc, "command");
	char **argv = xcalloc(1, sizeof(char *));
	/* Docker: an entrypoint given in the file clears the image's CMD too */
	if (ep && !node_is_null(ep->val)) {
		char **e = node_strv(ep->val);
		strv_append(&argv, e);
		strv_free(e);
	} else {
		strv_append(&argv, img->entrypoint);
	}
	if (cmd && !node_is_null(cmd->val)) {
		char **c = node_strv(cmd->val);
		strv_append(&argv, c);
		strv_free(c);
	} else if (!ep || node_is_null(ep->val)) {
		strv_append(&argv, img->cmd);
	}
	return argv;
}

static int cap_list(struct node *list, const char *service, const char *key, uint64_t *mask, bool *all,
		    struct berr **err)
{
	*mask = 0;
	*all = false;
	for (size_t i = 0; list && list->kind == NODE_SEQ && i < list->n; i++) {
		const char *name = node_str(list->items[i]);
		if (name && strcasecmp(name, "ALL") == 0) {
			*all = true;
			continue;
		}
		int c = name ? cap_from_name(name) : -1;
		if (c < 0)
			return node_err(err, list->items[i], "service %s: %s: unknown capability \"%s\"", service, key,
					name ? name : "?");
		*mask |= 1ULL << c;
	}
	return 0;
}

int ctrspec_caps(struct node *svc, const char *service, uint64_t *caps, struct berr **err)
{
	bool privileged = false;
	node_bool(node_map_get(svc, "privileged"), &privileged);
	if (privileged) {
		*caps = CAPS_ALL;
		return 0;
	}
	uint64_t add, drop;
	bool add_all, drop_all;
	int r = cap_list(node_map_get(svc, "cap_add"), service, "cap_add", &add, &add_all, err);
	if (r == 0)
		r = cap_list(node_map_get(svc, "cap_drop"), service, "cap_drop", &drop, &drop_all, err);
	if (r < 0)
		return r;
	uint64_t c = drop_all ? 0 : CAPS_DOCKER_DEFAULT & ~drop;
	c |= add_all ? CAPS_ALL & ~drop : add;
	*caps = c;
	return 0;
}

char *ctrspec_name(const struct project *p, const char *service, int number)
{
	const char *fixed = node_str(node_map_get(project_service(p, service), "container_name"));
	char sep = p->sep ? p->sep : '-';
	return fixed ? xstrdup(fixed) : xasprintf("%s%c%s%c%d", p->name, sep, service, sep, number);
}

int ctrspec_replicas(struct node *svc)
{
	long long n = 1;
	if (node_int(node_map_get(svc, "scale"), &n) < 0)
		node_int(node_map_get(node_map_get(svc, "deploy"), "replicas"), &n);
	return n < 0 ? 0 : (int)n;
}

static const char *env_key_end(const char *kv) { return strchr(kv, '=') ? strchr(kv, '=') : kv + strlen(kv); }

static void env_put(char ***env, const char *key, const char *val)
{
	size_t klen = strlen(key);
	for (size_t i = 0; *env && (*env)[i]; i++) {
		if ((size_t)(env_key_end((*env)[i]) - (*env)[i]) == klen && strncmp((*env)[i], key, klen) == 0) {
			free((*env)[i]);
			(*env)[i] = xasprintf("%s=%s", key, val);
			return;
		}
	}
	strv_push(env, xasprintf("%s=%s", key, val));
}

static bool env_has_key(char **env, const char *key)
{
	size_t klen = strlen(key);
	for (size_t i = 0; env && env[i]; i++)
		if ((size_t)(env_key_end(env[i]) - env[i]) == klen && strncmp(env[i], key, klen) == 0)
			return true;
	return false;
}

static char **build_env(struct node *svc, const struct image_config *img, const char *hostname)
{
	char **env = xcalloc(1, sizeof(char *));
	if (!env_has_key(img->env, "PATH"))
		env_put(&env, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	env_put(&env, "HOSTNAME", hostname);
	for (size_t i = 0; img->env && img->env[i]; i++) {
		_cleanup_free_ char *k = xstrndup(img->env[i], (size_t)(env_key_end(img->env[i]) - img->env[i]));
		const char *eq = strchr(img->env[i], '=');
		env_put(&env, k, eq ? eq + 1 : "");
	}
	struct node *e = node_map_get(svc, "environment");
	for (size_t i = 0; e && e->kind == NODE_MAP && i < e->n; i++)
		env_put(&env, e->pairs[i].key, node_str(e->pairs[i].val) ? e->pairs[i].val->str : "");
	return env;
}

/* security_opt: seccomp=unconfined|PROFILE, no-new-privileges[:true]; labels ignored. */
static int security_opts(struct node *svc, const char *service, const char *dir, struct ctr_spec *s,
			 struct berr **err)
{
	bool unconfined = s->privileged;
	const char *profile = NULL;
	struct node *so = node_map_get(svc, "security_opt");
	for (size_t i = 0; so && so->kind == NODE_SEQ && i < so->n; i++) {
		const char *o = node_str(so->items[i]);
		if (!o)
			continue;
		if (startswith(o, "seccomp=") || startswith(o, "seccomp:")) {
			if (streq(o + 8, "unconfined"))
				unconfined = true;
			else
				profile = o + 8;
		} else if (startswith(o, "no-new-privileges")) {
			const char *v = o + 17;
			s->no_new_privs = !*v || streq(v, ":true") || streq(v, "=true");
		} else if (!startswith(o, "label") && !startswith(o, "apparmor")) {
			return node_err(err, so->items[i], "service %s: unsupported security_opt \"%s\"", service, o);
		}
	}
	if (unconfined)
		return 0;
	s->seccomp = xasprintf("%s/seccomp.bpf", dir);
	if (profile)
		s->seccomp_profile = xstrdup(profile);
	return 0;
}

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

static int set_ulimits(struct node *svc, struct ctr_spec *s)
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

static long long bytes_of(struct node *n)
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
		return node_int(v, &n) < 0 || n < 0 || n == 1 || n > 262144 ? "must be between 2 and 262144 (0: the default)"
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

static int check_limits(struct node *svc, const char *service, struct berr **err)
{
	for (size_t i = 0; i < ARRAY_SIZE(limit_keys); i++) {
		struct node *v = at_path(svc, limit_keys[i].path);
		char buf[96];
		const char *problem = v && !node_is_null(v) ? limit_problem(limit_keys[i].kind, v, buf, sizeof(buf)) : NULL;
		if (problem)
			return node_err(err, v, "service %s: %s: %s %s", service, limit_keys[i].path,
					node_str(v) ? v->str : "this value", problem);
	}
	return 0;
}

/* mem_swappiness and oom_kill_disable: cgroup v1 files; on v2 there are
 * none, and berth says so (Docker drops them with a warning too). */
static int set_memory_extras(struct node *svc, const char *service, struct cgroup_spec *c, struct berr **err)
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
		fprintf(stderr, "berth: service %s: %s has no effect on cgroup v2 (this host's); it is ignored, as "
				"Docker ignores it\n",
			service, v >= 0 ? "mem_swappiness" : "oom_kill_disable");
	c->swappiness_set = !v2 && v >= 0;
	c->swappiness = (int)(v < 0 ? 0 : v);
	c->oom_kill_disable = !v2 && off;
	return 0;
}

/* cpu_rt_runtime, cpu_rt_period: microseconds, or a duration ("400ms");
 * real-time group scheduling exists on cgroup v1 only. */
static int set_rt(struct node *svc, const char *service, struct cgroup_spec *c, struct berr **err)
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
			return node_err(err, n, "service %s: %s must be a positive number of microseconds or a duration%s",
					service, keys[i], i == 1 ? " of at most 1s" : "");
		if (fs_exists("/sys/fs/cgroup/cgroup.controllers"))
			return node_err(err, n, "service %s: %s needs real-time group scheduling, which cgroup v2 (this "
						   "host's) does not have", service, keys[i]);
		*dst[i] = v;
	}
	if (c->rt_runtime && c->rt_runtime > (c->rt_period ? c->rt_period : 1000000))
		return node_err(err, node_map_get(svc, "cpu_rt_runtime"), "service %s: cpu_rt_runtime is more than its period",
				service);
	return 0;
}

/* cgroup_parent: a group of each hierarchy (made when missing, and left)
 * that takes the container's instead of berth's own; a path of names,
 * never climbing out of the cgroup mount. */
static int set_cgroup_parent(struct node *svc, const char *service, struct cgroup_spec *c, struct berr **err)
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
		ok = !streq(part, ".") && !streq(part, "..") && strspn(part, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-@") == strlen(part);
	if (!ok)
		return node_err(err, n, "service %s: cgroup_parent %s must be a path of names (letters, digits, '_', '.', "
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
		return node_err(err, at, "service %s: blkio_config: no such device: %s", service, path ? path : "(none)");
	if (!S_ISBLK(st.st_mode))
		return node_err(err, at, "service %s: blkio_config: %s is not a block device", service, path);
	snprintf(out, 32, "%u:%u", major(st.st_rdev), minor(st.st_rdev));
	return 0;
}

/* blkio_config as cgroup rules (see cgroup_spec.blkio). */
static int set_blkio(struct node *svc, const char *service, struct cgroup_spec *c, struct berr **err)
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
	bool weights = fs_exists("/sys/fs/cgroup/cgroup.controllers") || fs_exists("/sys/fs/cgroup/blkio/blkio.weight") ||
		       fs_exists("/sys/module/bfq");
	if (r == 0 && wn && !weights)
		fprintf(stderr, "berth: service %s: blkio_config weights have no effect here: the kernel has no CFQ or "
				"BFQ weights (as Docker, berth ignores them)\n", service);
	if (r == 0 && wn && weights)
		strv_push(&rules, xasprintf("weight %lld", w));
	static const struct {
		const char *key, *rule, *value;
		bool bytes;
	} lists[] = {{"weight_device", "weight_device", "weight", false}, {"device_read_bps", "read_bps", "rate", true},
		     {"device_write_bps", "write_bps", "rate", true},	   {"device_read_iops", "read_iops", "rate", false},
		     {"device_write_iops", "write_iops", "rate", false}};
	for (size_t k = 0; r == 0 && k < ARRAY_SIZE(lists); k++) {
		struct node *l = node_map_get(b, lists[k].key);
		for (size_t i = 0; r == 0 && l && l->kind == NODE_SEQ && i < l->n; i++) {
			struct node *it = l->items[i], *vn = node_map_get(it, lists[k].value);
			char dev[32];
			long long v = 0;
			r = block_dev(it, service, node_str(node_map_get(it, "path")), dev, err);
			bool good = vn && (node_int(vn, &v) == 0 || (lists[k].bytes && node_str(vn) && bytes_parse(vn->str, &v) == 0));
			if (r == 0 && (!good || v <= 0))
				r = node_err(err, it, "service %s: blkio_config.%s[%zu].%s must be a positive %s", service,
					     lists[k].key, i, lists[k].value, lists[k].bytes ? "size (1mb, 1048576)" : "number");
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

static void set_cgroup(struct node *svc, struct cgroup_spec *c)
{
	struct node *limits = node_map_get(node_map_get(node_map_get(svc, "deploy"), "resources"), "limits");
	struct node *res = node_map_get(node_map_get(node_map_get(svc, "deploy"), "resources"), "reservations");
	c->memory = bytes_of(node_map_get(svc, "mem_limit"));
	if (!c->memory)
		c->memory = bytes_of(node_map_get(limits, "memory"));
	c->memory_swap = bytes_of(node_map_get(svc, "memswap_limit"));
	c->memory_reservation = bytes_of(node_map_get(svc, "mem_reservation"));
	if (!c->memory_reservation)
		c->memory_reservation = bytes_of(node_map_get(res, "memory"));
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
	s->devices[s->ndevices++] = (struct device_spec){xstrdup(path), type, major(st->st_rdev), minor(st->st_rdev),
							 st->st_mode & 07777, st->st_uid, st->st_gid};
	struct dev_rule r = {type, major(st->st_rdev), minor(st->st_rdev), access};
	strv_push(&s->cgroup.devices, dev_rule_format(&r));
}

/* A host directory of devices (/dev/snd): every device below it, as Docker does. */
static void add_device_dir(struct ctr_spec *s, const char *host, const char *target, unsigned access, int depth)
{
	DIR *d = depth < 8 ? opendir(host) : NULL;
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
	if (d)
		closedir(d);
}

/* The devices cgroup: Docker's default list, what devices: and
 * device_cgroup_rules: add; everything with privileged. */
static int set_devices(struct node *svc, const char *service, struct ctr_spec *s, struct berr **err)
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
			return node_err(err, d, "service %s: devices[%zu]: \"%s\" is not a host path; berth has no "
						"CDI devices, name the device as /dev/...",
					service, i, src ? src : "");
		if (!dst || dst[0] != '/' || strstr(dst, ".."))
			return node_err(err, d, "service %s: devices[%zu]: the container path must be absolute, without ..",
					service, i);
		if (dev_access_parse(perms ? perms : "rwm", &access) < 0)
			return node_err(err, d, "service %s: devices[%zu]: permissions \"%s\" are not a combination of "
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
			return node_err(err, rules->items[i], "service %s: device_cgroup_rules[%zu]: %s", service, i, e->msg);
		strv_push(&s->cgroup.devices, dev_rule_format(&r));
	}
	return 0;
}

static int64_t ms_of(struct node *n, int64_t image_ns, int64_t def_ms)
{
	long long ns = 0;
	if (node_str(n) && duration_parse(n->str, &ns) == 0 && ns > 0)
		return ns / 1000000;
	return image_ns > 0 ? image_ns / 1000000 : def_ms;
}

/* healthcheck: the service's, else the image's HEALTHCHECK, with Docker's
 * defaults (30 s interval and timeout, 3 retries, 5 s start interval);
 * disable: true or ["NONE"] turns it off. */
static int set_health(struct node *svc, const char *service, const struct image_config *img, struct ctr_spec *s,
		      struct berr **err)
{
	struct node *h = node_map_get(svc, "healthcheck");
	bool disable = false;
	node_bool(node_map_get(h, "disable"), &disable);
	struct node *test = node_map_get(h, "test");
	char **t = test ? node_strv(test) : strv_copy(img->health_test);
	if (disable || !t || !t[0] || streq(t[0], "NONE")) {
		strv_free(t);
		return 0;
	}
	char **argv = xcalloc(1, sizeof(char *));
	if (streq(t[0], "CMD-SHELL") && t[1] && !t[2]) {
		strv_push(&argv, xstrdup("/bin/sh"));
		strv_push(&argv, xstrdup("-c"));
		strv_push(&argv, xstrdup(t[1]));
	} else if (streq(t[0], "CMD") && t[1]) {
		for (size_t i = 1; t[i]; i++)
			strv_push(&argv, xstrdup(t[i]));
	} else {
		strv_free(t);
		strv_free(argv);
		return node_err(err, test ? test : svc,
				"service %s: healthcheck test must start with CMD, CMD-SHELL or NONE (or be a string)",
				service);
	}
	strv_free(t);
	long long retries = 0;
	if (node_int(node_map_get(h, "retries"), &retries) < 0 || retries <= 0)
		retries = img->health_retries > 0 ? img->health_retries : 3;
	s->health = (struct health_spec){
		.test = argv,
		.interval_ms = ms_of(node_map_get(h, "interval"), img->health_interval, 30000),
		.timeout_ms = ms_of(node_map_get(h, "timeout"), img->health_timeout, 30000),
		.start_period_ms = ms_of(node_map_get(h, "start_period"), img->health_start_period, 0),
		.start_interval_ms = ms_of(node_map_get(h, "start_interval"), img->health_start_interval, 5000),
		.retries = (int)retries,
	};
	return 0;
}

int ctrspec_hook(struct node *h, const char *service, const char *what, struct hook_spec *out, struct berr **err)
{
	struct node *cmd = node_map_get(h, "command");
	char **argv = node_is_str(cmd) ? shell_split(cmd->str) : node_strv(cmd);
	if (!argv || !argv[0]) {
		strv_free(argv);
		return node_err(err, h, "service %s: %s has no command", service, what);
	}
	char **env = xcalloc(1, sizeof(char *));
	struct node *e = node_map_get(h, "environment");
	for (size_t k = 0; e && e->kind == NODE_MAP && k < e->n; k++)
		strv_push(&env, xasprintf("%s=%s", e->pairs[k].key, node_str(e->pairs[k].val) ?: ""));
	for (size_t k = 0; e && e->kind == NODE_SEQ && k < e->n; k++)
		if (node_str(e->items[k]))
			strv_push(&env, xstrdup(e->items[k]->str));
	bool privileged = false;
	struct node *pv = node_map_get(h, "privileged");
	if (node_bool(pv, &privileged) < 0 && node_str(pv))
		privileged = streq(pv->str, "true");
	const char *user = node_str(node_map_get(h, "user")), *wd = node_str(node_map_get(h, "working_dir"));
	*out = (struct hook_spec){argv, env, user ? xstrdup(user) : NULL, wd ? xstrdup(wd) : NULL, privileged};
	return 0;
}

/* ipc, pid: host, private, shareable, or another container's, written
 * "container:NAME" for the runtime (service:X is X's first container). */
static int join_ns(const struct spec_ctx *c, struct node *svc, const char *key, char **out, struct berr **err)
{
	struct node *n = node_map_get(svc, key);
	const char *v = node_str(n);
	*out = NULL;
	if (!v)
		return 0;
	const char *name = NULL;
	_cleanup_free_ char *made = NULL;
	if (startswith(v, "service:"))
		name = made = ctrspec_name(c->project, v + 8, 1);
	else if (startswith(v, "container:"))
		name = v + 10;
	if (name && (!name[0] || strchr(name, '/') || streq(name, ".") || streq(name, "..")))
		return node_err(err, n, "service %s: %s: %s names no container", c->service, key, v);
	if (name && !made && !ctr_exists(c->root, name))
		return node_err(err, n, "service %s: %s: no such container: %s", c->service, key, name);
	*out = name ? xasprintf("container:%s", name) : xstrdup(v);
	return 0;
}

/* post_start, pre_stop: commands the shim runs in the container. */
static int set_hooks(struct node *svc, const char *service, const char *key, struct hook_spec **out, size_t *n,
		     struct berr **err)
{
	struct node *list = node_map_get(svc, key);
	*n = 0;
	*out = NULL;
	for (size_t i = 0; list && list->kind == NODE_SEQ && i < list->n; i++) {
		_cleanup_free_ char *what = xasprintf("%s[%zu]", key, i);
		struct hook_spec h;
		int r = ctrspec_hook(list->items[i], service, what, &h, err);
		if (r < 0)
			return r;
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = h;
	}
	return 0;
}

static int set_restart(struct node *svc, const char *service, struct ctr_spec *s, struct berr **err)
{
	struct node *rn = node_map_get(svc, "restart");
	const char *r = node_str(rn);
	struct node *rp = node_map_get(node_map_get(svc, "deploy"), "restart_policy");
	if (!r && rp) {
		const char *cond = node_str(node_map_get(rp, "condition"));
		long long max = 0;
		node_int(node_map_get(rp, "max_attempts"), &max);
		s->restart = streq(cond, "none") ? RESTART_NO : streq(cond, "on-failure") ? RESTART_ON_FAILURE : RESTART_ALWAYS;
		s->restart_max = (int)max;
		return 0;
	}
	if (!r || streq(r, "no") || streq(r, "false"))
		s->restart = RESTART_NO;
	else if (streq(r, "always"))
		s->restart = RESTART_ALWAYS;
	else if (streq(r, "unless-stopped"))
		s->restart = RESTART_UNLESS_STOPPED;
	else if (startswith(r, "on-failure")) {
		s->restart = RESTART_ON_FAILURE;
		if (r[10] == ':')
			s->restart_max = atoi(r + 11);
	} else
		return node_err(err, rn, "service %s: restart: \"%s\" is not a policy; use no, always, on-failure[:N] or "
					 "unless-stopped",
				service, r);
	return 0;
}

static int set_stop_and_logs(struct node *svc, const char *service, const struct image_config *img,
			     struct ctr_spec *s, struct berr **err)
{
	struct node *sn = node_map_get(svc, "stop_signal");
	const char *sig = node_str(sn) ? sn->str : img->stop_signal;
	s->stop_signal = sig ? signal_from_name(sig) : SIGTERM;
	if (s->stop_signal < 0)
		return node_err(err, sn ? sn : svc, "service %s: stop_signal: unknown signal \"%s\"", service, sig);
	long long ns = 10LL * 1000000000;
	const char *grace = node_str(node_map_get(svc, "stop_grace_period"));
	if (grace)
		duration_parse(grace, &ns);
	s->stop_grace_ms = ns / 1000000;
	struct node *opts = node_map_get(node_map_get(svc, "logging"), "options");
	const char *driver = node_str(node_map_get(node_map_get(svc, "logging"), "driver"));
	/* each option as its driver takes it: honoured, said to have no effect, or refused */
	static const char *const kept[] = {"max-size", "max-file", NULL};
	static const char *const moot[] = {"compress", "labels", "labels-regex", "env", "env-regex", "tag", NULL};
	for (size_t i = 0; opts && opts->kind == NODE_MAP && i < opts->n; i++) {
		const char *k = opts->pairs[i].key;
		bool none = driver && streq(driver, "none");
		if (!none && strv_contains((char **)kept, k))
			continue;
		if (!none && strv_contains((char **)moot, k)) {
			fprintf(stderr, "berth: service %s: logging option %s has no effect here (berth keeps the log as "
					"it is, uncompressed, without extra attributes)\n",
				service, k);
			continue;
		}
		return node_err(err, opts->pairs[i].val, "service %s: logging option %s is not one the %s driver takes%s",
				service, k, driver ? driver : "json-file", none ? " (none takes no options)" : "");
	}
	const char *max_size = node_str(node_map_get(opts, "max-size"));
	const char *max_file = node_str(node_map_get(opts, "max-file"));
	long long b = 0;
	if (max_size && bytes_parse(max_size, &b) < 0)
		return node_err(err, node_map_get(opts, "max-size"), "service %s: logging max-size \"%s\" is not a size",
				service, max_size);
	s->log_max_size = b;
	if (max_file && (atoi(max_file) < 1 || strspn(max_file, "0123456789") != strlen(max_file)))
		return node_err(err, node_map_get(opts, "max-file"), "service %s: logging max-file \"%s\" must be a number of 1 or more",
				service, max_file);
	s->log_max_files = max_file ? atoi(max_file) : 1;
	s->log_none = streq(node_str(node_map_get(node_map_get(svc, "logging"), "driver")), "none");
	return 0;
}

static struct mount_spec *add_mount(struct ctr_spec *s, const char *source, const char *target, const char *type,
				     const char *options, bool file)
{
	s->mounts = xrealloc(s->mounts, (s->nmounts + 1) * sizeof(*s->mounts));
	struct mount_spec *m = &s->mounts[s->nmounts++];
	*m = (struct mount_spec){source ? xstrdup(source) : NULL, xstrdup(target), type ? xstrdup(type) : NULL,
				 options ? xstrdup(options) : NULL, file, NULL, false, NULL, false};
	return m;
}

/* "nosuid,nodev" and the rest, comma-joined. */
static char *join_opts(const char *a, const char *b, const char *c)
{
	struct buf o = {0};
	const char *parts[] = {a, b, c};
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		if (parts[i] && parts[i][0])
			buf_printf(&o, "%s%s", o.len ? "," : "", parts[i]);
	return o.s ? buf_steal(&o) : NULL;
}

static int bind_mount(const struct spec_ctx *c, struct node *v, const char *source, const char *target, bool ro,
		      struct ctr_spec *s, struct berr **err)
{
	struct node *b = node_map_get(v, "bind");
	bool create = false;
	node_bool(node_map_get(b, "create_host_path"), &create);
	if (!source || source[0] != '/')
		return node_err(err, v, "service %s: bind mount of %s has no absolute source", c->service, target);
	if (!fs_exists(source)) {
		if (!create)
			return node_err(err, v, "service %s: bind source path %s does not exist; create it, or use the "
						"short syntax, which creates it",
					c->service, source);
		if (fs_mkdir_p(source, 0755, err) < 0)
			return berr_prefix(err, "service %s: ", c->service);
	}
	/* selinux z/Z relabels; there is no SELinux to tell here, so it is accepted and ignored */
	const char *prop = node_str(node_map_get(b, "propagation"));
	_cleanup_free_ char *o = join_opts(ro ? "ro" : NULL, prop, NULL);
	add_mount(s, source, target, "bind", o, !fs_is_dir(source));
	return 0;
}

/* The volume a mount of top-level volume `key` uses, as the file declares it. */
static struct node *volume_decl(const struct spec_ctx *c, const char *key)
{
	return node_map_get(node_map_get(c->project->doc, "volumes"), key);
}

/* A subpath: relative, and no ".." part (symlinks are refused when opened). */
static bool subpath_ok(const char *p)
{
	size_t n = strlen(p);
	return p[0] && p[0] != '/' && !streq(p, "..") && !startswith(p, "../") && !strstr(p, "/../") &&
	       !(n >= 3 && streq(p + n - 3, "/.."));
}

static int volume_mount(const struct spec_ctx *c, struct node *v, const char *source, const char *target, bool ro,
			struct ctr_spec *s, struct berr **err)
{
	bool nocopy = false;
	node_bool(node_map_get(node_map_get(v, "volume"), "nocopy"), &nocopy);
	struct node *subn = node_map_get(node_map_get(v, "volume"), "subpath");
	const char *subpath = node_str(subn);
	if (subpath && !subpath_ok(subpath))
		return node_err(err, subn, "service %s: volume subpath %s must be a relative path inside the volume, "
					   "without ..", c->service, subpath);
	_cleanup_free_ char *anon = NULL;
	const char *name;
	char **opts = NULL;
	if (source) {
		struct node *decl = volume_decl(c, source);
		name = node_str(node_map_get(decl, "name"));
		if (!name)
			return node_err(err, v, "service %s: volume %s is not declared under the top-level volumes",
					c->service, source);
		bool external = false;
		node_bool(node_map_get(decl, "external"), &external);
		const char *driver = node_str(node_map_get(decl, "driver"));
		if (driver && !streq(driver, "local"))
			return node_err(err, node_map_get(decl, "driver"),
					"volume %s: driver %s is not supported; berth has the local driver", source, driver);
		/* an external volume's options are those it was made with */
		opts = node_kv(external ? NULL : node_map_get(decl, "driver_opts"));
	} else {
		/* an anonymous volume: the same one again when the container is made anew */
		for (size_t i = 0; c->anon_prev && c->anon_prev[i]; i++) {
			const char *eq = strrchr(c->anon_prev[i], '=');
			if (eq && strlen(target) == (size_t)(eq - c->anon_prev[i]) &&
			    strncmp(c->anon_prev[i], target, (size_t)(eq - c->anon_prev[i])) == 0)
				anon = xstrdup(eq + 1);
		}
		if (!anon)
			anon = vol_anon_name();
		if (c->anon_out)
			strv_push(c->anon_out, xasprintf("%s=%s", target, anon));
		name = anon;
	}
	char *src = NULL, *type = NULL, *o = NULL;
	int r = vol_source(c->root, name, opts, &src, &type, &o, err);
	strv_free(opts);
	if (r < 0)
		return berr_prefix(err, "service %s: ", c->service);
	_cleanup_free_ char *mo = join_opts(ro ? "ro" : NULL, o, NULL);
	if (subpath && type) {
		free(src), free(type), free(o);
		return node_err(err, subn, "service %s: volume %s is mounted by each container (driver_opts type); a "
					   "subpath of it is not supported", c->service, name);
	}
	/* the subpath must be there before anything is made (the shim opens it again, safely, at each start) */
	struct mount_spec probe = {.source = src, .volume = (char *)name, .subpath = (char *)subpath};
	int sfd = subpath ? rootfs_subpath_open(&probe, err) : -1;
	if (subpath && sfd < 0) {
		free(src), free(type), free(o);
		return berr_prefix(err, "service %s: ", c->service);
	}
	if (sfd >= 0)
		close(sfd);
	struct mount_spec *m = add_mount(s, src, target, type ? type : "bind", mo, false);
	m->volume = xstrdup(name);
	m->subpath = subpath ? xstrdup(subpath) : NULL;
	/* content of the image goes into a new, empty volume, as Docker does (not into a subpath) */
	m->copyup = !nocopy && !type && !subpath;
	free(src);
	free(type);
	free(o);
	return 0;
}

/* type: image: the image's files, read-only, at target (its layers as a
 * read-only overlay; a single layer bound read-only), as Docker mounts an
 * image volume. The image is pulled with the service's (apply_pull). */
static int image_mount(const struct spec_ctx *c, struct node *v, const char *source, const char *target,
		       struct ctr_spec *s, struct berr **err)
{
	char *id = NULL;
	if (!source || !c->store || store_resolve(c->store, source, &id, NULL) < 0)
		return node_err(err, v, "service %s: volume image %s is not in the store (berth pull, or berth image pull "
					"%s)", c->service, source ? source : "(none)", source ? source : "IMAGE");
	struct image_config ic;
	int r = image_config_load(c->store, id, &ic, err);
	free(id);
	if (r < 0)
		return berr_prefix(err, "service %s: volume image %s: ", c->service, source);
	size_t n = strv_len(ic.layers);
	if (n == 0) {
		image_config_free(&ic);
		return node_err(err, v, "service %s: volume image %s has no layers to mount", c->service, source);
	}
	struct node *subn = node_map_get(node_map_get(v, "image"), "subpath");
	const char *subpath = node_str(subn);
	if (subpath && !subpath_ok(subpath)) {
		image_config_free(&ic);
		return node_err(err, subn, "service %s: image volume subpath %s must be a relative path inside the "
					   "image, without ..",
				c->service, subpath);
	}
	struct mount_spec *m;
	if (n == 1) {
		m = add_mount(s, ic.layers[0], target, "bind", "ro", false);
	} else {
		struct buf o = {0};
		buf_puts(&o, "ro,lowerdir=");
		for (size_t i = 0; i < n; i++)
			buf_printf(&o, "%s%s", i ? ":" : "", ic.layers[i]);
		m = add_mount(s, "overlay", target, "overlay", o.s, false);
		buf_free(&o);
	}
	image_config_free(&ic);
	if (!subpath)
		return 0;
	/* there before anything is made; opened again, the same safe way, at each start */
	m->subpath = xstrdup(subpath);
	int fd = n == 1 ? rootfs_subpath_open(m, NULL) : rootfs_overlay_subpath_tree(m, NULL);
	struct stat st;
	bool dir = fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
	m->file = fd >= 0 && !dir;
	if (fd >= 0)
		close(fd);
	if (fd < 0)
		return node_err(err, subn, "service %s: image %s has no subpath %s (or a symlink on its way)", c->service,
				source, subpath);
	image_config_free(&ic);
	return 0;
}

/* An image's declared VOLUMEs get an anonymous volume each (filled from the
 * image, kept across recreation, removed by down -v), as Docker gives them,
 * unless the service mounts something at that path itself. */
static int image_volumes(const struct spec_ctx *c, struct ctr_spec *s, struct berr **err)
{
	for (size_t i = 0; c->image->volumes && c->image->volumes[i]; i++) {
		_cleanup_free_ char *target = path_clean(c->image->volumes[i]);
		bool taken = target[0] != '/' || strstr(target, "..") || streq(target, "/");
		for (size_t k = 0; !taken && k < s->nmounts; k++)
			taken = streq(s->mounts[k].target, target);
		if (!taken && volume_mount(c, NULL, NULL, target, false, s, err) < 0)
			return -EIO;
	}
	return 0;
}

/* Mounts from volumes: and tmpfs:. */
static int set_mounts(const struct spec_ctx *c, struct node *svc, struct ctr_spec *s, struct berr **err)
{
	struct node *t = node_map_get(svc, "tmpfs");
	for (size_t i = 0; t && t->kind == NODE_SEQ && i < t->n; i++) {
		const char *spec = node_str(t->items[i]);
		_cleanup_free_ char *target = xstrndup(spec, strcspn(spec, ":"));
		const char *opts = strchr(spec, ':');
		_cleanup_free_ char *o = join_opts("nosuid,nodev", opts ? opts + 1 : NULL, NULL);
		add_mount(s, "tmpfs", target, "tmpfs", o, false);
	}
	struct node *vols = node_map_get(svc, "volumes");
	for (size_t i = 0; vols && vols->kind == NODE_SEQ && i < vols->n; i++) {
		struct node *v = vols->items[i];
		const char *type = node_str(node_map_get(v, "type"));
		const char *source = node_str(node_map_get(v, "source"));
		const char *target = node_str(node_map_get(v, "target"));
		bool ro = false;
		node_bool(node_map_get(v, "read_only"), &ro);
		int r = 0;
		if (streq(type, "tmpfs")) {
			struct node *tm = node_map_get(v, "tmpfs");
			long long size = bytes_of(node_map_get(tm, "size")), mode = -1;
			node_int(node_map_get(tm, "mode"), &mode);
			_cleanup_free_ char *sz = size ? xasprintf("size=%lld", size) : NULL;
			_cleanup_free_ char *md = mode >= 0 ? xasprintf("mode=%llo", mode) : NULL;
			_cleanup_free_ char *o = join_opts(ro ? "ro,nosuid,nodev" : "nosuid,nodev", sz, md);
			add_mount(s, "tmpfs", target, "tmpfs", o, false);
		} else if (streq(type, "bind")) {
			r = bind_mount(c, v, source, target, ro, s, err);
		} else if (streq(type, "volume")) {
			r = volume_mount(c, v, source, target, ro, s, err);
		} else if (streq(type, "image")) {
			r = image_mount(c, v, source, target, s, err);
		} else {
			r = node_err(err, v, "service %s: volumes[%zu]: type \"%s\" is not supported", c->service, i,
				     type ? type : "?");
		}
		if (r < 0)
			return r;
	}
	return image_volumes(c, s, err);
}

/* A secret's or config's content, from its top-level definition. */
int ctrspec_secret_content(const struct project *p, const char *kind, const char *name, struct node *decl,
			  char **out, size_t *len, struct berr **err)
{
	const char *file = node_str(node_map_get(decl, "file"));
	const char *env = node_str(node_map_get(decl, "environment"));
	const char *content = node_str(node_map_get(decl, "content"));
	bool external = false;
	node_bool(node_map_get(decl, "external"), &external);
	if (file) {
		if (fs_read_file(file, 16u << 20, out, len, err) < 0)
			return berr_prefix(err, "%s %s: ", kind, name);
		return 0;
	}
	if (env) {
		const char *v = env_get(&p->env, env);
		if (!v)
			return node_err(err, decl, "%s %s: environment variable %s is not set; set it where berth runs",
					kind, name, env);
		*out = xstrdup(v);
	} else if (content) {
		*out = xstrdup(content);
	} else {
		return node_err(err, decl, "%s %s: %s; give file, environment or content", kind, name,
				external ? "external ones live in a swarm, which berth does not have" : "it has no source");
	}
	*len = strlen(*out);
	return 0;
}

/* secrets: at /run/secrets/NAME, configs: at /NAME (or their target),
 * read-only: copies in the state directory with their uid, gid and mode.
 * With s, checks them and adds the mounts; without, writes the copies
 * (once the state directory is made). */
static int secrets(const struct project *p, const char *service, const char *cdir, struct ctr_spec *s,
		   struct berr **err)
{
	struct node *svc = project_service(p, service);
	static const struct {
		const char *key, *kind, *dir;
	} kinds[] = {{"secrets", "secret", "/run/secrets"}, {"configs", "config", ""}};
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		struct node *list = node_map_get(svc, kinds[k].key);
		struct node *decls = node_map_get(p->doc, kinds[k].key);
		for (size_t i = 0; list && list->kind == NODE_SEQ && i < list->n; i++) {
			struct node *it = list->items[i];
			const char *src = node_str(node_map_get(it, "source"));
			struct node *decl = node_map_get(decls, src ? src : "");
			if (!decl)
				return node_err(err, it, "service %s: %s %s is not declared", service, kinds[k].kind,
						src ? src : "?");
			_cleanup_free_ char *content = NULL;
			size_t len;
			if (ctrspec_secret_content(p, kinds[k].kind, src, decl, &content, &len, err) < 0)
				return berr_prefix(err, "service %s: ", service);
			const char *t = node_str(node_map_get(it, "target"));
			_cleanup_free_ char *target = t && t[0] == '/' ? xstrdup(t)
						      : xasprintf("%s/%s", kinds[k].dir, t ? t : src);
			long long uid = 0, gid = 0, mode = 0444;
			node_int(node_map_get(it, "uid"), &uid);
			node_int(node_map_get(it, "gid"), &gid);
			node_int(node_map_get(it, "mode"), &mode);
			_cleanup_free_ char *dir = xasprintf("%s/%s", cdir, kinds[k].key);
			_cleanup_free_ char *file = xasprintf("%s/%zu-%s", dir, i, src);
			if (s) {
				add_mount(s, file, target, "bind", "ro", true);
				continue;
			}
			int r = fs_mkdir_p(dir, 0700, err);
			if (r == 0)
				r = fs_write_replace(file, content, len, 0600, err);
			if (r == 0 && (chown(file, (uid_t)uid, (gid_t)gid) < 0 || chmod(file, (mode_t)(mode & 07777)) < 0))
				r = berr_sys(err, errno, "cannot set the owner and mode of %s", file);
			if (r < 0)
				return berr_prefix(err, "service %s: %s %s: ", service, kinds[k].kind, src);
		}
	}
	return 0;
}

/* /etc/hostname, /etc/hosts and /etc/resolv.conf of the container, written
 * into its state directory once that exists (ctrspec_write_files). */
static void etc_mounts(const struct spec_ctx *c, struct ctr_spec *s)
{
	static const char *const files[] = {"hostname", "hosts", "resolv.conf"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *src = xasprintf("%s/%s", c->dir, files[i]);
		_cleanup_free_ char *dst = xasprintf("/etc/%s", files[i]);
		add_mount(s, src, dst, "bind", NULL, true);
	}
}


static void resolv_conf(struct node *svc, const struct ctr_spec *s, const struct net_endpoint *e, struct buf *out)
{
	struct node *dns = node_map_get(svc, "dns"), *search = node_map_get(svc, "dns_search");
	struct node *opts = node_map_get(svc, "dns_opt");
	if (streq(s->network, "host") && !dns && !search && !opts) {
		hostnet_resolv(out, true, false, true, true);
		return;
	}
	for (size_t i = 0; dns && dns->kind == NODE_SEQ && i < dns->n; i++)
		buf_printf(out, "nameserver %s\n", node_str(dns->items[i]) ?: "");
	if (!dns && e && e->nlinks) {
		/* berth's responder, on the gateway of the first network */
		_cleanup_free_ char *gw = ip_format(e->links[0].gateway);
		buf_printf(out, "nameserver %s\n", gw);
	}
	if (search && search->kind == NODE_SEQ && search->n) {
		buf_puts(out, "search");
		for (size_t i = 0; i < search->n; i++)
			buf_printf(out, " %s", node_str(search->items[i]) ?: "");
		buf_putc(out, '\n');
	}
	hostnet_resolv(out, !dns && !(e && e->nlinks), false, !search, false);
	/* names are tried as they are first, so that "db" never goes to the
	 * host's search domains upstream; as Docker does */
	bool ndots = false;
	for (size_t i = 0; opts && opts->kind == NODE_SEQ && i < opts->n; i++)
		ndots |= node_str(opts->items[i]) && startswith(opts->items[i]->str, "ndots");
	if (opts && opts->kind == NODE_SEQ && opts->n) {
		buf_puts(out, "options");
		for (size_t i = 0; i < opts->n; i++)
			buf_printf(out, " %s", node_str(opts->items[i]) ?: "");
		buf_putc(out, '\n');
	}
	if (!ndots && e && e->nlinks)
		buf_puts(out, "options ndots:0\n");
}

int ctrspec_write_files(const struct project *p, const char *service, const struct ctr_spec *s,
			const struct net_endpoint *e, struct berr **err)
{
	struct node *svc = project_service(p, service);
	_cleanup_free_ char *hn = xasprintf("%s/hostname", s->dir);
	_cleanup_free_ char *text = xasprintf("%s\n", s->hostname);
	int r = fs_write_replace(hn, text, strlen(text), 0644, err);
	struct buf hosts = {0};
	buf_printf(&hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
	struct node *eh = node_map_get(svc, "extra_hosts");
	/* host-gateway: the host as the container reaches it, its first network's gateway (the host's own
	 * addresses with the host's network), as Docker's host-gateway is the host on its bridge */
	_cleanup_free_ char *gw = e && e->nlinks ? ip_format(e->links[0].gateway) : xstrdup("127.0.0.1");
	for (size_t i = 0; eh && eh->kind == NODE_SEQ && i < eh->n; i++) {
		const char *x = node_str(eh->items[i]);
		const char *eq = x ? strchr(x, '=') : NULL;
		if (eq)
			buf_printf(&hosts, "%s\t%.*s\n", streq(eq + 1, "host-gateway") ? gw : eq + 1, (int)(eq - x), x);
	}
	_cleanup_free_ char *self = e && e->nlinks ? ip_format(e->links[0].addr) : xstrdup("127.0.1.1");
	if (s->domainname)
		buf_printf(&hosts, "%s\t%s.%s %s\n", self, s->hostname, s->domainname, s->hostname);
	else
		buf_printf(&hosts, "%s\t%s\n", self, s->hostname);
	_cleanup_free_ char *hp = xasprintf("%s/hosts", s->dir);
	if (r == 0)
		r = fs_write_replace(hp, hosts.s, hosts.len, 0644, err);
	buf_free(&hosts);
	if (r == 0)
		r = secrets(p, service, s->dir, NULL, err);
	struct buf resolv = {0};
	resolv_conf(svc, s, e, &resolv);
	_cleanup_free_ char *rp = xasprintf("%s/resolv.conf", s->dir);
	if (r == 0)
		r = fs_write_replace(rp, resolv.s ? resolv.s : "", resolv.len, 0644, err);
	buf_free(&resolv);
	return r;
}

/* Only sysctls of the container's own namespaces, as Docker allows: the
 * others would change the host. */
static bool sysctl_namespaced(const char *key, bool host_network)
{
	static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
					  "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
	for (size_t i = 0; i < ARRAY_SIZE(ipc); i++)
		if (streq(key, ipc[i]))
			return true;
	if (startswith(key, "fs.mqueue."))
		return true;
	return startswith(key, "net.") && !host_network;
}

static int set_sysctls(struct node *svc, const char *service, struct ctr_spec *s, struct berr **err)
{
	struct node *sysctls = node_map_get(svc, "sysctls");
	s->sysctls = xcalloc(1, sizeof(char *));
	for (size_t i = 0; sysctls && sysctls->kind == NODE_MAP && i < sysctls->n; i++) {
		const char *key = sysctls->pairs[i].key;
		if (strstr(key, "..") || strchr(key, '/') || !sysctl_namespaced(key, streq(s->network, "host")))
			return pos_err(err, sysctls->pairs[i].pos,
				       "service %s: sysctl %s is not namespaced, so it would change the host; "
				       "only kernel.msg*/sem/shm*, fs.mqueue.* and net.* (without network_mode: host) "
				       "are allowed",
				       service, key);
		strv_push(&s->sysctls, xasprintf("%s=%s", key, node_str(sysctls->pairs[i].val)));
	}
	return 0;
}

static int set_user(const struct spec_ctx *c, struct node *svc, struct ctr_spec *s, struct berr **err)
{
	const char *user = node_str(node_map_get(svc, "user"));
	if (!user)
		user = c->image->user;
	if (user_lookup(c->image->layers, user, &s->uid, &s->gid, &s->groups, &s->ngroups, err) < 0)
		return berr_prefix(err, "service %s: ", c->service);
	struct node *ga = node_map_get(svc, "group_add");
	for (size_t i = 0; ga && ga->kind == NODE_SEQ && i < ga->n; i++) {
		long long g;
		if (node_int(ga->items[i], &g) < 0) {
			/* a group name, looked up in the image's /etc/group as Docker does */
			uid_t u;
			gid_t gid, *more = NULL;
			size_t nmore = 0;
			_cleanup_free_ char *who = xasprintf("0:%s", node_str(ga->items[i]) ?: "");
			struct berr *e = NULL;
			int r = user_lookup(c->image->layers, who, &u, &gid, &more, &nmore, &e);
			free(more);
			berr_free(e);
			if (r < 0)
				return node_err(err, ga->items[i], "service %s: group_add: group \"%s\" is not in the image's "
								    "/etc/group",
						c->service, node_str(ga->items[i]) ?: "");
			g = gid;
		}
		s->groups = xrealloc(s->groups, (s->ngroups + 1) * sizeof(gid_t));
		s->groups[s->ngroups++] = (gid_t)g;
	}
	return 0;
}

int ctrspec_build(const struct spec_ctx *c, struct ctr_spec *s, struct berr **err)
{
	struct node *svc = project_service(c->project, c->service);
	*s = (struct ctr_spec){0};
	s->id = xstrdup(c->name);
	s->dir = xstrdup(c->dir);
	s->layers = strv_copy(c->image->layers);
	s->argv = ctrspec_argv(svc, c->image);
	if (!s->argv[0])
		return berr_set(err, EINVAL, "service %s: no command: the image has no ENTRYPOINT or CMD, and the "
					     "service sets no command",
				c->service);
	const char *hostname = node_str(node_map_get(svc, "hostname"));
	const char *domain = node_str(node_map_get(svc, "domainname"));
	struct node *uts = node_map_get(svc, "uts");
	if (streq(node_str(uts), "host")) {
		/* the host's UTS namespace: its name, which the container does not set */
		if (hostname || domain)
			return node_err(err, uts, "service %s: uts: host takes the host's name; hostname and "
						  "domainname cannot go with it",
					c->service);
		char host[256] = "";
		gethostname(host, sizeof(host) - 1);
		s->uts = xstrdup("host");
		s->hostname = xstrdup(host);
	} else {
		s->hostname = xstrdup(hostname ? hostname : c->hostname);
	}
	s->domainname = domain ? xstrdup(domain) : NULL;
	s->env = build_env(svc, c->image, s->hostname);
	const char *wd = node_str(node_map_get(svc, "working_dir"));
	s->cwd = xstrdup(wd ? wd : c->image->workdir ? c->image->workdir : "/");
	node_bool(node_map_get(svc, "privileged"), &s->privileged);
	node_bool(node_map_get(svc, "read_only"), &s->read_only);
	node_bool(node_map_get(svc, "tty"), &s->tty);
	if (s->tty && !env_has_key(s->env, "TERM"))
		env_put(&s->env, "TERM", "xterm"); /* as Docker sets it for a container with a terminal */
	node_bool(node_map_get(svc, "stdin_open"), &s->stdin_open);
	node_bool(node_map_get(svc, "init"), &s->init);
	if (s->init) {
		s->init_path = xstrdup(c->init_path);
		char **argv = xcalloc(1, sizeof(char *));
		strv_push(&argv, xstrdup("/sbin/berth-init"));
		strv_push(&argv, xstrdup("--"));
		strv_append(&argv, s->argv);
		strv_free(s->argv);
		s->argv = argv;
	}
	int r = ctrspec_caps(svc, c->service, &s->caps, err);
	if (r == 0)
		r = security_opts(svc, c->service, c->dir, s, err);
	if (r == 0)
		r = set_user(c, svc, s, err);
	if (r == 0)
		r = set_ulimits(svc, s);
	s->shm_size = bytes_of(node_map_get(svc, "shm_size"));
	struct node *oom = node_map_get(svc, "oom_score_adj");
	long long adj = 0;
	if (r == 0 && oom && !node_is_null(oom) && (node_int(oom, &adj) < 0 || adj < -1000 || adj > 1000))
		r = node_err(err, oom, "service %s: oom_score_adj must be a number from -1000 to 1000", c->service);
	s->oom_score_set = oom && !node_is_null(oom);
	s->oom_score_adj = (int)adj;
	if (r == 0)
		r = check_limits(svc, c->service, err);
	set_cgroup(svc, &s->cgroup);
	if (r == 0)
		r = set_memory_extras(svc, c->service, &s->cgroup, err);
	if (r == 0)
		r = set_blkio(svc, c->service, &s->cgroup, err);
	if (r == 0)
		r = set_rt(svc, c->service, &s->cgroup, err);
	if (r == 0)
		r = set_cgroup_parent(svc, c->service, &s->cgroup, err);
	if (r == 0)
		r = set_devices(svc, c->service, s, err);
	if (r == 0)
		r = set_restart(svc, c->service, s, err);
	if (r == 0)
		r = set_health(svc, c->service, c->image, s, err);
	if (r == 0)
		r = set_hooks(svc, c->service, "post_start", &s->post_start, &s->npost_start, err);
	if (r == 0)
		r = set_hooks(svc, c->service, "pre_stop", &s->pre_stop, &s->npre_stop, err);
	if (r == 0)
		r = set_stop_and_logs(svc, c->service, c->image, s, err);
	s->network = netplan_netns(c->project, c->root, c->service, c->name);
	if (r == 0)
		r = set_sysctls(svc, c->service, s, err);
	s->cgroupns_host = streq(node_str(node_map_get(svc, "cgroup")), "host");
	if (r == 0)
		r = join_ns(c, svc, "ipc", &s->ipc, err);
	if (r == 0)
		r = join_ns(c, svc, "pid", &s->pid_ns, err);
	if (r == 0)
		r = set_mounts(c, svc, s, err);
	if (r == 0)
		r = secrets(c->project, c->service, c->dir, s, err);
	etc_mounts(c, s);
	return r;
}
