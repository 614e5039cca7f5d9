#include "ctrspec_int.h"

#include <errno.h>
#include <signal.h>

#include "../lib/log.h"
#include "../lib/signals.h"
#include "../runtime/caps.h"
#include "../runtime/ctr.h"
#include "../runtime/user.h"
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
static int security_opts(struct node *svc, const char *service, const char *dir, struct ctr_spec *s, struct berr **err)
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
		s->restart = streq(cond, "none")         ? RESTART_NO
			     : streq(cond, "on-failure") ? RESTART_ON_FAILURE
							 : RESTART_ALWAYS;
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
		return node_err(err, rn,
				"service %s: restart: \"%s\" is not a policy; use no, always, on-failure[:N] or "
				"unless-stopped",
				service, r);
	return 0;
}

static int set_stop_and_logs(struct node *svc, const char *service, const struct image_config *img, struct ctr_spec *s,
			     struct berr **err)
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
			log_warn("service %s: logging option %s has no effect here (berth keeps the log as it is, "
				 "uncompressed, without extra attributes)",
				 service, k);
			continue;
		}
		return node_err(err, opts->pairs[i].val,
				"service %s: logging option %s is not one the %s driver takes%s", service, k,
				driver ? driver : "json-file", none ? " (none takes no options)" : "");
	}
	const char *max_size = node_str(node_map_get(opts, "max-size"));
	const char *max_file = node_str(node_map_get(opts, "max-file"));
	long long b = 0;
	if (max_size && bytes_parse(max_size, &b) < 0)
		return node_err(err, node_map_get(opts, "max-size"),
				"service %s: logging max-size \"%s\" is not a size", service, max_size);
	s->log_max_size = b;
	if (max_file && (atoi(max_file) < 1 || strspn(max_file, "0123456789") != strlen(max_file)))
		return node_err(err, node_map_get(opts, "max-file"),
				"service %s: logging max-file \"%s\" must be a number of 1 or more", service, max_file);
	s->log_max_files = max_file ? atoi(max_file) : 1;
	s->log_none = streq(node_str(node_map_get(node_map_get(svc, "logging"), "driver")), "none");
	return 0;
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
				return node_err(err, ga->items[i],
						"service %s: group_add: group \"%s\" is not in the image's "
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
		return berr_set(err, EINVAL,
				"service %s: no command: the image has no ENTRYPOINT or CMD, and the "
				"service sets no command",
				c->service);
	const char *hostname = node_str(node_map_get(svc, "hostname"));
	const char *domain = node_str(node_map_get(svc, "domainname"));
	struct node *uts = node_map_get(svc, "uts");
	if (streq(node_str(uts), "host")) {
		/* the host's UTS namespace: its name, which the container does not set */
		if (hostname || domain)
			return node_err(err, uts,
					"service %s: uts: host takes the host's name; hostname and "
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
		r = ctrspec_set_ulimits(svc, s);
	s->shm_size = ctrspec_bytes_of(node_map_get(svc, "shm_size"));
	struct node *oom = node_map_get(svc, "oom_score_adj");
	long long adj = 0;
	if (r == 0 && oom && !node_is_null(oom) && (node_int(oom, &adj) < 0 || adj < -1000 || adj > 1000))
		r = node_err(err, oom, "service %s: oom_score_adj must be a number from -1000 to 1000", c->service);
	s->oom_score_set = oom && !node_is_null(oom);
	s->oom_score_adj = (int)adj;
	if (r == 0)
		r = ctrspec_check_limits(svc, c->service, err);
	ctrspec_set_cgroup(svc, &s->cgroup);
	if (r == 0)
		r = ctrspec_set_memory_extras(svc, c->service, &s->cgroup, err);
	if (r == 0)
		r = ctrspec_set_blkio(svc, c->service, &s->cgroup, err);
	if (r == 0)
		r = ctrspec_set_rt(svc, c->service, &s->cgroup, err);
	if (r == 0)
		r = ctrspec_set_cgroup_parent(svc, c->service, &s->cgroup, err);
	if (r == 0)
		r = ctrspec_set_devices(svc, c->service, s, err);
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
		r = ctrspec_set_mounts(c, svc, s, err);
	if (r == 0)
		r = ctrspec_secrets(c->project, c->service, c->dir, s, err);
	ctrspec_etc_mounts(c, s);
	return r;
}
