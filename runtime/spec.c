#include "spec.h"

#include <errno.h>
#include <jansson.h>

#include "../lib/fs.h"
#include "../lib/json.h"

static char **strv_or_empty(char **v) { return v ? v : xcalloc(1, sizeof(char *)); }

static json_t *opt_str(const char *s) { return s ? json_string(s) : json_null(); }

static char *get_str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? xstrdup(s) : NULL;
}

static int64_t get_int(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }
static bool get_bool(json_t *o, const char *k) { return json_is_true(json_object_get(o, k)); }
/* NULL when absent or null, unlike an empty list */
static char **get_json_strv(json_t *o, const char *k)
{
	json_t *a = json_object_get(o, k);
	return json_is_array(a) ? strv_or_empty(json_strv(a)) : NULL;
}

static json_t *hooks_json(const struct hook_spec *h, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:o, s:b}", "argv", strv_json(h[i].argv), "env",
						   strv_json(h[i].env), "user", opt_str(h[i].user), "workdir",
						   opt_str(h[i].workdir), "privileged", h[i].privileged));
	return a;
}

static struct hook_spec *read_hooks(json_t *a, size_t *n)
{
	*n = json_array_size(a);
	struct hook_spec *h = xcalloc(*n + 1, sizeof(*h));
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e)
		h[i] = (struct hook_spec){strv_or_empty(json_strv(json_object_get(e, "argv"))),
					  strv_or_empty(json_strv(json_object_get(e, "env"))), get_str(e, "user"),
					  get_str(e, "workdir"), get_bool(e, "privileged")};
	return h;
}

static void free_hooks(struct hook_spec *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		strv_free(h[i].argv);
		strv_free(h[i].env);
		free(h[i].user);
		free(h[i].workdir);
	}
	free(h);
}

static json_t *mounts_json(const struct ctr_spec *s)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->nmounts; i++) {
		struct mount_spec *m = &s->mounts[i];
		json_t *j = json_pack("{s:o, s:s, s:o, s:o, s:b, s:o, s:b, s:o}", "source", opt_str(m->source),
				      "target", m->target, "type", opt_str(m->type), "options", opt_str(m->options),
				      "file", m->file, "volume", opt_str(m->volume), "copyup", m->copyup, "subpath",
				      opt_str(m->subpath));
		if (m->subpath_in_root)
			json_object_set_new(j, "subpath_in_root", json_true());
		json_array_append_new(a, j);
	}
	return a;
}

static json_t *rlimits_json(const struct ctr_spec *s)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->nrlimits; i++)
		json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "name", s->rlimits[i].name, "soft",
						   (json_int_t)s->rlimits[i].soft, "hard",
						   (json_int_t)s->rlimits[i].hard));
	return a;
}

static json_t *cgroup_json(const struct cgroup_spec *c)
{
	json_t *j = json_pack(
		"{s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:o, s:i, s:b, s:o}", "memory", (json_int_t)c->memory,
		"memory_swap", (json_int_t)c->memory_swap, "memory_reservation", (json_int_t)c->memory_reservation,
		"cpu_shares", (json_int_t)c->cpu_shares, "cpu_quota", (json_int_t)c->cpu_quota, "cpu_period",
		(json_int_t)c->cpu_period, "cpuset", opt_str(c->cpuset), "pids", (json_int_t)c->pids, "devices",
		c->devices ? strv_json(c->devices) : json_null(), "swappiness", c->swappiness_set ? c->swappiness : -1,
		"oom_kill_disable", c->oom_kill_disable, "blkio", c->blkio ? strv_json(c->blkio) : json_null());
	if (c->parent)
		json_object_set_new(j, "parent", json_string(c->parent));
	if (c->rt_runtime || c->rt_period) {
		json_object_set_new(j, "rt_runtime", json_integer(c->rt_runtime));
		json_object_set_new(j, "rt_period", json_integer(c->rt_period));
	}
	return j;
}

static json_t *devices_json(const struct ctr_spec *s)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->ndevices; i++) {
		struct device_spec *d = &s->devices[i];
		char type[2] = {d->type, 0};
		json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "path", d->path, "type", type,
						   "major", (json_int_t)d->major, "minor", (json_int_t)d->minor, "mode",
						   (json_int_t)d->mode, "uid", (json_int_t)d->uid, "gid",
						   (json_int_t)d->gid));
	}
	return a;
}

int spec_write(const struct ctr_spec *s, const char *path, struct berr **err)
{
	json_t *groups = json_array();
	for (size_t i = 0; i < s->ngroups; i++)
		json_array_append_new(groups, json_integer(s->groups[i]));
	json_t *j = json_object();
	json_object_set_new(j, "id", json_string(s->id));
	json_object_set_new(j, "dir", json_string(s->dir));
	json_object_set_new(j, "layers", strv_json(s->layers));
	json_object_set_new(j, "argv", strv_json(s->argv));
	json_object_set_new(j, "env", strv_json(s->env));
	json_object_set_new(j, "cwd", opt_str(s->cwd));
	json_object_set_new(j, "hostname", opt_str(s->hostname));
	json_object_set_new(j, "domainname", opt_str(s->domainname));
	json_object_set_new(j, "uid", json_integer(s->uid));
	json_object_set_new(j, "gid", json_integer(s->gid));
	json_object_set_new(j, "groups", groups);
	json_object_set_new(j, "caps", json_integer((json_int_t)s->caps));
	json_object_set_new(j, "privileged", json_boolean(s->privileged));
	json_object_set_new(j, "read_only", json_boolean(s->read_only));
	json_object_set_new(j, "no_new_privs", json_boolean(s->no_new_privs));
	json_object_set_new(j, "tty", json_boolean(s->tty));
	json_object_set_new(j, "stdin_open", json_boolean(s->stdin_open));
	if (s->cgroupns_host)
		json_object_set_new(j, "cgroupns_host", json_true());
	json_object_set_new(j, "init", json_boolean(s->init));
	json_object_set_new(j, "attach", json_boolean(s->attach));
	json_object_set_new(j, "seccomp", opt_str(s->seccomp));
	json_object_set_new(j, "seccomp_profile", opt_str(s->seccomp_profile));
	json_object_set_new(j, "autoremove", opt_str(s->autoremove));
	json_object_set_new(j, "rlimits", rlimits_json(s));
	json_object_set_new(j, "sysctls", strv_json(s->sysctls));
	json_object_set_new(j, "mounts", mounts_json(s));
	json_object_set_new(j, "devices", devices_json(s));
	json_object_set_new(j, "network", opt_str(s->network));
	json_object_set_new(j, "ipc", opt_str(s->ipc));
	json_object_set_new(j, "pid", opt_str(s->pid_ns));
	json_object_set_new(j, "uts", opt_str(s->uts));
	json_object_set_new(j, "cgroup", cgroup_json(&s->cgroup));
	json_object_set_new(j, "restart", json_integer(s->restart));
	json_object_set_new(j, "restart_max", json_integer(s->restart_max));
	json_object_set_new(j, "stop_signal", json_integer(s->stop_signal));
	json_object_set_new(j, "stop_grace_ms", json_integer(s->stop_grace_ms));
	json_object_set_new(j, "shm_size", json_integer(s->shm_size));
	json_object_set_new(j, "oom_score_adj", s->oom_score_set ? json_integer(s->oom_score_adj) : json_null());
	json_object_set_new(j, "log_max_size", json_integer(s->log_max_size));
	json_object_set_new(j, "log_none", json_boolean(s->log_none));
	json_object_set_new(j, "log_max_files", json_integer(s->log_max_files));
	json_object_set_new(j, "init_path", opt_str(s->init_path));
	json_object_set_new(j, "tty_rows", json_integer(s->tty_rows));
	json_object_set_new(j, "tty_cols", json_integer(s->tty_cols));
	json_object_set_new(j, "post_start", hooks_json(s->post_start, s->npost_start));
	json_object_set_new(j, "pre_stop", hooks_json(s->pre_stop, s->npre_stop));
	if (s->health.test)
		json_object_set_new(j, "health",
				    json_pack("{s:o, s:I, s:I, s:I, s:I, s:i}", "test", strv_json(s->health.test),
					      "interval_ms", (json_int_t)s->health.interval_ms, "timeout_ms",
					      (json_int_t)s->health.timeout_ms, "start_period_ms",
					      (json_int_t)s->health.start_period_ms, "start_interval_ms",
					      (json_int_t)s->health.start_interval_ms, "retries", s->health.retries));
	char *text = json_dumps(j, JSON_INDENT(1));
	json_decref(j);
	int r = fs_write_atomic(path, text, strlen(text), 0600, err);
	free(text);
	return r;
}

static void read_mounts(json_t *a, struct ctr_spec *s)
{
	s->nmounts = json_array_size(a);
	s->mounts = xcalloc(s->nmounts + 1, sizeof(*s->mounts));
	size_t i;
	json_t *m;
	json_array_foreach(a, i, m) s->mounts[i] = (struct mount_spec){
		get_str(m, "source"),  get_str(m, "target"),  get_str(m, "type"),
		get_str(m, "options"), get_bool(m, "file"),   get_str(m, "volume"),
		get_bool(m, "copyup"), get_str(m, "subpath"), get_bool(m, "subpath_in_root")};
}

static void read_rlimits(json_t *a, struct ctr_spec *s)
{
	s->nrlimits = json_array_size(a);
	s->rlimits = xcalloc(s->nrlimits + 1, sizeof(*s->rlimits));
	size_t i;
	json_t *r;
	json_array_foreach(a, i, r)
		s->rlimits[i] = (struct rlimit_spec){get_str(r, "name"), get_int(r, "soft"), get_int(r, "hard")};
}

static void read_cgroup(json_t *c, struct cgroup_spec *g)
{
	*g = (struct cgroup_spec){
		.memory = get_int(c, "memory"),
		.memory_swap = get_int(c, "memory_swap"),
		.memory_reservation = get_int(c, "memory_reservation"),
		.cpu_shares = get_int(c, "cpu_shares"),
		.cpu_quota = get_int(c, "cpu_quota"),
		.cpu_period = get_int(c, "cpu_period"),
		.cpuset = get_str(c, "cpuset"),
		.pids = get_int(c, "pids"),
		.devices = get_json_strv(c, "devices"),
		.swappiness_set = json_object_get(c, "swappiness") && get_int(c, "swappiness") >= 0,
		.swappiness = (int)get_int(c, "swappiness"),
		.oom_kill_disable = get_bool(c, "oom_kill_disable"),
		.rt_runtime = get_int(c, "rt_runtime"),
		.rt_period = get_int(c, "rt_period"),
		.blkio = get_json_strv(c, "blkio"),
		.parent = get_str(c, "parent"),
	};
}

static void read_devices(json_t *a, struct ctr_spec *s)
{
	s->ndevices = json_array_size(a);
	s->devices = xcalloc(s->ndevices + 1, sizeof(*s->devices));
	size_t i;
	json_t *d;
	json_array_foreach(a, i, d)
	{
		const char *type = json_string_value(json_object_get(d, "type"));
		s->devices[i] = (struct device_spec){get_str(d, "path"),
						     type ? type[0] : 'c',
						     (unsigned)get_int(d, "major"),
						     (unsigned)get_int(d, "minor"),
						     (unsigned)get_int(d, "mode"),
						     (uid_t)get_int(d, "uid"),
						     (gid_t)get_int(d, "gid")};
	}
}

int spec_read(const char *path, struct ctr_spec *s, struct berr **err)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j)
		return berr_set(err, EINVAL, "cannot read %s: %s", path, je.text);
	*s = (struct ctr_spec){0};
	s->id = get_str(j, "id");
	s->dir = get_str(j, "dir");
	s->layers = strv_or_empty(json_strv(json_object_get(j, "layers")));
	s->argv = strv_or_empty(json_strv(json_object_get(j, "argv")));
	s->env = strv_or_empty(json_strv(json_object_get(j, "env")));
	s->cwd = get_str(j, "cwd");
	s->hostname = get_str(j, "hostname");
	s->domainname = get_str(j, "domainname");
	s->uid = (uid_t)get_int(j, "uid");
	s->gid = (gid_t)get_int(j, "gid");
	json_t *groups = json_object_get(j, "groups");
	s->ngroups = json_array_size(groups);
	s->groups = xcalloc(s->ngroups + 1, sizeof(gid_t));
	for (size_t i = 0; i < s->ngroups; i++)
		s->groups[i] = (gid_t)json_integer_value(json_array_get(groups, i));
	s->caps = (uint64_t)get_int(j, "caps");
	s->privileged = get_bool(j, "privileged");
	s->read_only = get_bool(j, "read_only");
	s->no_new_privs = get_bool(j, "no_new_privs");
	s->tty = get_bool(j, "tty");
	s->stdin_open = get_bool(j, "stdin_open");
	s->cgroupns_host = get_bool(j, "cgroupns_host");
	s->init = get_bool(j, "init");
	s->attach = get_bool(j, "attach");
	s->seccomp = get_str(j, "seccomp");
	s->seccomp_profile = get_str(j, "seccomp_profile");
	s->autoremove = get_str(j, "autoremove");
	read_rlimits(json_object_get(j, "rlimits"), s);
	s->sysctls = strv_or_empty(json_strv(json_object_get(j, "sysctls")));
	read_mounts(json_object_get(j, "mounts"), s);
	read_devices(json_object_get(j, "devices"), s);
	s->network = get_str(j, "network");
	s->ipc = get_str(j, "ipc");
	s->pid_ns = get_str(j, "pid");
	s->uts = get_str(j, "uts");
	read_cgroup(json_object_get(j, "cgroup"), &s->cgroup);
	s->restart = (enum restart_policy)get_int(j, "restart");
	s->restart_max = (int)get_int(j, "restart_max");
	s->stop_signal = (int)get_int(j, "stop_signal");
	s->stop_grace_ms = get_int(j, "stop_grace_ms");
	s->shm_size = get_int(j, "shm_size");
	s->oom_score_set = json_is_integer(json_object_get(j, "oom_score_adj"));
	s->oom_score_adj = (int)get_int(j, "oom_score_adj");
	s->log_max_size = get_int(j, "log_max_size");
	s->log_none = json_is_true(json_object_get(j, "log_none"));
	s->log_max_files = (int)get_int(j, "log_max_files");
	s->init_path = get_str(j, "init_path");
	s->tty_rows = (int)get_int(j, "tty_rows");
	s->tty_cols = (int)get_int(j, "tty_cols");
	s->post_start = read_hooks(json_object_get(j, "post_start"), &s->npost_start);
	s->pre_stop = read_hooks(json_object_get(j, "pre_stop"), &s->npre_stop);
	json_t *h = json_object_get(j, "health");
	if (json_is_object(h)) {
		s->health = (struct health_spec){json_strv(json_object_get(h, "test")),
						 get_int(h, "interval_ms"),
						 get_int(h, "timeout_ms"),
						 get_int(h, "start_period_ms"),
						 get_int(h, "start_interval_ms"),
						 (int)get_int(h, "retries")};
	}
	json_decref(j);
	if (!s->id || !s->dir || !s->argv[0])
		return berr_set(err, EINVAL, "%s is incomplete (id, dir and argv are required)", path);
	return 0;
}

void spec_free(struct ctr_spec *s)
{
	free(s->id);
	free(s->dir);
	strv_free(s->layers);
	strv_free(s->argv);
	strv_free(s->env);
	free(s->cwd);
	free(s->hostname);
	free(s->domainname);
	free(s->groups);
	free(s->seccomp);
	free(s->seccomp_profile);
	free(s->autoremove);
	for (size_t i = 0; i < s->nrlimits; i++)
		free(s->rlimits[i].name);
	free(s->rlimits);
	strv_free(s->sysctls);
	for (size_t i = 0; i < s->nmounts; i++) {
		free(s->mounts[i].source);
		free(s->mounts[i].target);
		free(s->mounts[i].type);
		free(s->mounts[i].options);
		free(s->mounts[i].volume);
		free(s->mounts[i].subpath);
	}
	free(s->mounts);
	for (size_t i = 0; i < s->ndevices; i++)
		free(s->devices[i].path);
	free(s->devices);
	free(s->network);
	free(s->ipc);
	free(s->pid_ns);
	free(s->uts);
	free(s->cgroup.cpuset);
	strv_free(s->cgroup.devices);
	strv_free(s->cgroup.blkio);
	free(s->cgroup.parent);
	free(s->init_path);
	strv_free(s->health.test);
	free_hooks(s->post_start, s->npost_start);
	free_hooks(s->pre_stop, s->npre_stop);
	*s = (struct ctr_spec){0};
}
