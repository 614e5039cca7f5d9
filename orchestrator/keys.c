#include "keys.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../images/pull.h"
#include "../lib/buf.h"
#include "../lib/util.h"
#include "node.h"

#define H KEY_HONOURED
#define R KEY_REFUSED
#define W KEY_NO_EFFECT

/* In schema order, more or less; the tests that show a key honoured are
 * named where one file holds them. */
const struct key_rule key_rules[] = {
	/* the file */
	{"version", W, true, "obsolete in the Compose specification; docker compose ignores it too", NULL},
	{"name", H, false, "the project name (test_up.sh)", NULL},
	{"include", H, true, "include: path, env_file, project_directory (test_config.sh)", NULL},
	{"models", R, true, "berth runs no AI models", NULL},
	{"services", H, false, "", NULL},
	{"networks", H, false, "", NULL},
	{"volumes", H, false, "", NULL},
	{"secrets", H, false, "", NULL},
	{"configs", H, false, "", NULL},
	/* services */
	{"services.*", H, false, "", NULL},
	{"services.*.annotations", H, true, "stored, shown by inspect as HostConfig.Annotations (test_keys.sh)", NULL},
	{"services.*.attach", H, true, "false: up does not show its logs, unless --attach names it (test_keys.sh)",
	 NULL},
	{"services.*.blkio_config", H, true,
	 "test_limits.sh: throttles (blkio.throttle.* on v1, io.max on v2); weights where the kernel has CFQ or BFQ "
	 "weights, else a warning, as Docker",
	 NULL},
	{"services.*.build", H, false, "berth's builder (test_build.sh)", NULL},
	{"services.*.build.additional_contexts", H, true, "directories, docker-image:// and service: (test_build.sh)",
	 NULL},
	{"services.*.build.args", H, true, "test_build.sh", NULL},
	{"services.*.build.cache_from", H, true, "images built here (test_build.sh); other kinds warn", NULL},
	{"services.*.build.cache_to", W, true, "berth keeps its own build cache", NULL},
	{"services.*.build.context", H, true, "test_build.sh", NULL},
	{"services.*.build.dockerfile", H, true, "test_build.sh", NULL},
	{"services.*.build.dockerfile_inline", H, true, "test_build.sh", NULL},
	{"services.*.build.entitlements", H, true,
	 "security.insecure allows RUN --security=insecure, network.host RUN --network=host", NULL},
	{"services.*.build.extra_hosts", H, true, "test_build.sh", NULL},
	{"services.*.build.isolation", W, true, "it is for Windows containers", NULL},
	{"services.*.build.labels", H, true, "test_build.sh", NULL},
	{"services.*.build.network", H, true, "default, none or host (test_build.sh)", NULL},
	{"services.*.build.no_cache", H, true, "test_build.sh", NULL},
	{"services.*.build.no_cache_filter", R, true, "berth cannot leave the cache out for some stages only", NULL},
	{"services.*.build.platforms", H, true, "this machine's platform only; others are refused", NULL},
	{"services.*.build.privileged", H, true, "allows RUN --security=insecure (test_build.sh)", NULL},
	{"services.*.build.provenance", W, true, "berth writes no attestations", NULL},
	{"services.*.build.pull", H, true, "test_build.sh", NULL},
	{"services.*.build.sbom", W, true, "berth writes no attestations", NULL},
	{"services.*.build.secrets", H, false, "test_build.sh", NULL},
	{"services.*.build.secrets[].source", H, true, "", NULL},
	{"services.*.build.secrets[].target", H, true, "the secret's id in RUN --mount=type=secret", NULL},
	{"services.*.build.secrets[].uid", R, true, "build secrets are mounted root's, read-only", NULL},
	{"services.*.build.secrets[].gid", R, true, "build secrets are mounted root's, read-only", NULL},
	{"services.*.build.secrets[].mode", R, true, "build secrets are mounted root's, read-only", NULL},
	{"services.*.build.shm_size", H, true, "test_build.sh", NULL},
	{"services.*.build.ssh", R, true, "SSH agent forwarding into RUN is not implemented; use a secret", NULL},
	{"services.*.build.tags", H, true, "test_build.sh", NULL},
	{"services.*.build.target", H, true, "test_build.sh", NULL},
	{"services.*.build.ulimits", H, true, "test_build.sh", NULL},
	{"services.*.cap_add", H, true, "test_security.sh", NULL},
	{"services.*.cap_drop", H, true, "test_security.sh", NULL},
	{"services.*.cgroup", H, true, "private (Docker's default) or host: the host's cgroup namespace (test_keys.sh)",
	 "private|host"},
	{"services.*.cgroup_parent", H, true,
	 "the container's cgroup goes under that group of each hierarchy, made when "
	 "missing and left as the user's (test_limits.sh)",
	 NULL},
	{"services.*.command", H, true, "", NULL},
	{"services.*.configs", H, true, "test_volumes.sh", NULL},
	{"services.*.container_name", H, true, "", NULL},
	{"services.*.cpu_count", R, true, "it is for Windows containers", NULL},
	{"services.*.cpu_percent", R, true, "it is for Windows containers", NULL},
	{"services.*.cpu_period", H, true, "test_limits.sh", NULL},
	{"services.*.cpu_quota", H, true, "test_limits.sh", NULL},
	{"services.*.cpu_rt_period", H, true, "cgroup v1 real-time group scheduling (test_limits.sh); refused on v2",
	 NULL},
	{"services.*.cpu_rt_runtime", H, true, "cgroup v1 real-time group scheduling (test_limits.sh); refused on v2",
	 NULL},
	{"services.*.cpu_shares", H, true, "test_limits.sh", NULL},
	{"services.*.cpus", H, true, "test_limits.sh", NULL},
	{"services.*.cpuset", H, true, "test_limits.sh", NULL},
	{"services.*.credential_spec", W, true, "it is for Windows containers", NULL},
	{"services.*.depends_on", H, true, "conditions, required and restart (test_health.sh)", NULL},
	{"services.*.deploy", H, false, "", NULL},
	{"services.*.deploy.endpoint_mode", W, true, "a swarm setting; one host has no load balancer to choose", NULL},
	{"services.*.deploy.labels", W, true, "labels of a swarm service; berth has no swarm services", NULL},
	{"services.*.deploy.mode", W, true, "a swarm setting; on one host replicated and global are the same", NULL},
	{"services.*.deploy.placement", W, true, "a swarm setting; there is one host to place on", NULL},
	{"services.*.deploy.replicas", H, true, "test_health.sh", NULL},
	{"services.*.deploy.resources", H, false, "", NULL},
	{"services.*.deploy.resources.limits", H, true, "cpus, memory, pids (test_limits.sh)", NULL},
	{"services.*.deploy.resources.reservations", H, false, "", NULL},
	{"services.*.deploy.resources.reservations.cpus", H, true, "test_limits.sh", NULL},
	{"services.*.deploy.resources.reservations.memory", H, true, "test_limits.sh", NULL},
	{"services.*.deploy.resources.reservations.devices", R, true, "berth has no GPU or device reservations", NULL},
	{"services.*.deploy.resources.reservations.generic_resources", R, true,
	 "berth has no generic resource reservations", NULL},
	{"services.*.deploy.restart_policy", H, false, "", NULL},
	{"services.*.deploy.restart_policy.condition", H, true, "as restart:", NULL},
	{"services.*.deploy.restart_policy.max_attempts", H, true, "as on-failure:N", NULL},
	{"services.*.deploy.restart_policy.delay", W, true, "a swarm setting; docker compose ignores it too", NULL},
	{"services.*.deploy.restart_policy.window", W, true, "a swarm setting; docker compose ignores it too", NULL},
	{"services.*.deploy.rollback_config", W, true, "a swarm setting; berth recreates containers at up", NULL},
	{"services.*.deploy.update_config", W, true, "a swarm setting; berth recreates containers at up", NULL},
	{"services.*.develop", H, true,
	 "berth watch and up --watch: sync, sync+restart, sync+exec, restart, rebuild (test_cmds.sh)", NULL},
	{"services.*.device_cgroup_rules", H, true, "test_limits.sh", NULL},
	{"services.*.devices", H, true, "test_limits.sh", NULL},
	{"services.*.dns", H, true, "test_network.sh", NULL},
	{"services.*.dns_opt", H, true, "test_network.sh", NULL},
	{"services.*.dns_search", H, true, "test_network.sh", NULL},
	{"services.*.domainname", H, true, "", NULL},
	{"services.*.entrypoint", H, true, "", NULL},
	{"services.*.env_file", H, false, "test_config.sh", NULL},
	{"services.*.env_file[].path", H, true, "", NULL},
	{"services.*.env_file[].required", H, true, "", NULL},
	{"services.*.env_file[].format", H, true, "the compose .env format only; raw is refused", NULL},
	{"services.*.environment", H, true, "", NULL},
	{"services.*.expose", H, true,
	 "information only, as in Docker: containers of a network reach each other's "
	 "ports anyway",
	 NULL},
	{"services.*.extends", H, true, "test_config.sh", NULL},
	{"services.*.external_links", H, true, "test_network.sh", NULL},
	{"services.*.extra_hosts", H, true,
	 "host-gateway is the first network's gateway (test_network.sh, "
	 "test_keys.sh)",
	 NULL},
	{"services.*.gpus", R, true, "berth has no GPU support", NULL},
	{"services.*.group_add", H, true, "numbers, and names from the image's /etc/group (test_keys.sh)", NULL},
	{"services.*.healthcheck", H, true, "test_health.sh", NULL},
	{"services.*.hostname", H, true, "", NULL},
	{"services.*.image", H, true, "", NULL},
	{"services.*.init", H, true, "test_up.sh", NULL},
	{"services.*.ipc", H, true,
	 "host, private, shareable, or another container's (service:, container:; its "
	 "/dev/shm too) (test_cmds.sh)",
	 "host|private|shareable|service:*|container:*"},
	{"services.*.isolation", W, true, "it is for Windows containers", NULL},
	{"services.*.label_file", H, true, "read under labels (test_keys.sh)", NULL},
	{"services.*.labels", H, true, "stored with com.docker.compose.* labels, shown by inspect (test_keys.sh)",
	 NULL},
	{"services.*.links", H, true, "test_network.sh", NULL},
	{"services.*.logging", H, false, "", NULL},
	{"services.*.logging.driver", H, true,
	 "json-file and local keep berth's JSON log; none keeps none, and logs "
	 "says so (test_keys.sh)",
	 "json-file|local|none"},
	{"services.*.logging.options", H, true,
	 "max-size and max-file rotate the log; compress, labels, env, tag: a warning that they have no effect; any "
	 "other is refused (test_keys.sh)",
	 NULL},
	{"services.*.mac_address", H, true, "test_network.sh", NULL},
	{"services.*.mem_limit", H, true, "test_limits.sh", NULL},
	{"services.*.mem_reservation", H, true, "test_limits.sh", NULL},
	{"services.*.mem_swappiness", H, true, "test_limits.sh; cgroup v1 (on v2 a warning: it has no file there)",
	 NULL},
	{"services.*.memswap_limit", H, true, "test_limits.sh", NULL},
	{"services.*.models", R, true, "berth runs no AI models", NULL},
	{"services.*.network_mode", H, true, "test_network.sh", NULL},
	{"services.*.networks", H, false, "test_network.sh", NULL},
	{"services.*.networks.*", H, false, "", NULL},
	{"services.*.networks.*.aliases", H, true, "test_network.sh", NULL},
	{"services.*.networks.*.driver_opts", H, true,
	 "com.docker.network.endpoint.sysctls, the interface's sysctls (test_netopts.sh); others refused", NULL},
	{"services.*.networks.*.gw_priority", H, true, "the highest gives the default route (test_netopts.sh)", NULL},
	{"services.*.networks.*.interface_name", H, true, "the interface's name in the container (test_netopts.sh)",
	 NULL},
	{"services.*.networks.*.ipv4_address", H, true, "test_network.sh", NULL},
	{"services.*.networks.*.ipv6_address", R, true, "berth's networks are IPv4 only", NULL},
	{"services.*.networks.*.link_local_ips", H, true,
	 "IPv4 addresses of 169.254.0.0/16 on the interface (test_netopts.sh)", NULL},
	{"services.*.networks.*.mac_address", H, true, "test_network.sh", NULL},
	{"services.*.networks.*.priority", H, true, "test_network.sh", NULL},
	{"services.*.oom_kill_disable", H, true, "test_limits.sh; cgroup v1 (on v2 a warning: it has no file there)",
	 NULL},
	{"services.*.oom_score_adj", H, true, "written to the container's /proc/self/oom_score_adj (test_keys.sh)",
	 NULL},
	{"services.*.pid", H, true, "host, or another container's (service:, container:) (test_cmds.sh)",
	 "host|private|service:*|container:*"},
	{"services.*.pids_limit", H, true, "test_limits.sh", NULL},
	{"services.*.platform", H, true, "this machine's platform only (pull picks it); others are refused",
	 "$platform"},
	{"services.*.ports", H, false, "test_network.sh", NULL},
	{"services.*.ports[].target", H, true, "", NULL},
	{"services.*.ports[].published", H, true, "", NULL},
	{"services.*.ports[].host_ip", H, true, "", NULL},
	{"services.*.ports[].protocol", H, true, "tcp and udp", NULL},
	{"services.*.ports[].app_protocol", W, true, "information only; nothing on one host reads it", NULL},
	{"services.*.ports[].mode", W, true, "a swarm setting; ports are published on this host", "ingress|host"},
	{"services.*.ports[].name", W, true, "information only; nothing on one host reads it", NULL},
	{"services.*.post_start", H, true, "test_health.sh", NULL},
	{"services.*.pre_start", H, true, "test_health.sh", NULL},
	{"services.*.pre_stop", H, true, "test_health.sh", NULL},
	{"services.*.privileged", H, true, "test_security.sh", NULL},
	{"services.*.profiles", H, true, "test_config.sh", NULL},
	{"services.*.provider", R, true, "service providers are not supported by berth", NULL},
	{"services.*.pull_policy", H, true, "test_pull.sh", NULL},
	{"services.*.pull_refresh_after", R, true,
	 "not implemented; use pull_policy: daily, weekly or every_<duration>", NULL},
	{"services.*.read_only", H, true, "test_security.sh", NULL},
	{"services.*.restart", H, true, "test_health.sh", NULL},
	{"services.*.runtime", H, true, "berth's own runtime; any other is refused", "runc|berth"},
	{"services.*.scale", H, true, "test_health.sh", NULL},
	{"services.*.secrets", H, true, "test_volumes.sh", NULL},
	{"services.*.security_opt", H, true, "seccomp and no-new-privileges (test_security.sh)", NULL},
	{"services.*.shm_size", H, true, "test_build.sh", NULL},
	{"services.*.stdin_open", H, true, "", NULL},
	{"services.*.stop_grace_period", H, true, "", NULL},
	{"services.*.stop_signal", H, true, "", NULL},
	{"services.*.storage_opt", R, true, "storage driver options are not supported (berth uses overlayfs)", NULL},
	{"services.*.sysctls", H, true, "test_limits.sh", NULL},
	{"services.*.tmpfs", H, true, "test_volumes.sh", NULL},
	{"services.*.tty", H, true, "", NULL},
	{"services.*.ulimits", H, true, "test_limits.sh", NULL},
	{"services.*.use_api_socket", R, true, "there is no Docker API socket to give", NULL},
	{"services.*.user", H, true, "", NULL},
	{"services.*.userns_mode", H, true,
	 "host only (the default: no user namespace); others are refused, as berth "
	 "has no user namespaces",
	 "host"},
	{"services.*.uts", H, true, "host: the host's UTS namespace and name (test_keys.sh)", "host"},
	{"services.*.volumes", H, false, "test_volumes.sh", NULL},
	{"services.*.volumes[].type", H, true,
	 "bind, volume, tmpfs and image (read-only, test_volumes.sh); others are "
	 "refused",
	 NULL},
	{"services.*.volumes[].source", H, true, "", NULL},
	{"services.*.volumes[].target", H, true, "", NULL},
	{"services.*.volumes[].read_only", H, true, "", NULL},
	{"services.*.volumes[].bind", H, false, "", NULL},
	{"services.*.volumes[].bind.create_host_path", H, true, "", NULL},
	{"services.*.volumes[].bind.propagation", H, true, "", NULL},
	{"services.*.volumes[].bind.recursive", R, true, "binds are always recursive here", NULL},
	{"services.*.volumes[].bind.selinux", W, true, "this host has no SELinux labels to set", NULL},
	{"services.*.volumes[].consistency", W, true, "a macOS setting", NULL},
	{"services.*.volumes[].image", H, false, "", NULL},
	{"services.*.volumes[].image.subpath", H, true,
	 "a directory or file of the image, no symlink followed on its way (test_volumes.sh)", NULL},
	{"services.*.volumes[].tmpfs", H, true, "size and mode", NULL},
	{"services.*.volumes[].volume", H, false, "", NULL},
	{"services.*.volumes[].volume.nocopy", H, true, "", NULL},
	{"services.*.volumes[].volume.labels", W, true, "labels of an anonymous volume are not stored by berth yet",
	 NULL},
	{"services.*.volumes[].volume.subpath", H, true, "test_volumes.sh; no symlink is followed on its way", NULL},
	{"services.*.volumes_from", H, true, "test_volumes.sh", NULL},
	{"services.*.working_dir", H, true, "", NULL},
	/* networks */
	{"networks.*", H, false, "", NULL},
	{"networks.*.attachable", W, true, "a swarm setting; every berth network takes containers", NULL},
	{"networks.*.driver", H, true, "bridge only; others are refused", NULL},
	{"networks.*.driver_opts", H, true,
	 "com.docker.network.bridge.name, .enable_icc, .enable_ip_masquerade, .host_binding_ipv4 and "
	 "com.docker.network.driver.mtu (test_netopts.sh); others are refused",
	 NULL},
	{"networks.*.enable_ipv4", H, true, "berth's networks are IPv4: false is refused", "true"},
	{"networks.*.enable_ipv6", W, true, "berth's networks are IPv4 only", NULL},
	{"networks.*.external", H, true, "test_network.sh", NULL},
	{"networks.*.internal", H, true, "test_network.sh", NULL},
	{"networks.*.ipam", H, false, "", NULL},
	{"networks.*.ipam.config", H, false, "", NULL},
	{"networks.*.ipam.config[].subnet", H, true, "", NULL},
	{"networks.*.ipam.config[].ip_range", H, true, "", NULL},
	{"networks.*.ipam.config[].gateway", H, true, "", NULL},
	{"networks.*.ipam.config[].aux_addresses", H, true, "never handed to a container (test_netopts.sh)", NULL},
	{"networks.*.ipam.driver", H, true, "the default driver only", "default"},
	{"networks.*.ipam.options", R, true, "IPAM driver options are not supported", NULL},
	{"networks.*.labels", H, true, "stored with the network", NULL},
	{"networks.*.name", H, true, "", NULL},
	/* volumes */
	{"volumes.*", H, false, "", NULL},
	{"volumes.*.driver", H, true, "local only; others are refused", NULL},
	{"volumes.*.driver_opts", H, true, "test_volumes.sh", NULL},
	{"volumes.*.external", H, true, "test_volumes.sh", NULL},
	{"volumes.*.labels", H, true, "stored with the volume", NULL},
	{"volumes.*.name", H, true, "", NULL},
	/* secrets and configs */
	{"secrets.*", H, false, "", NULL},
	{"secrets.*.file", H, true, "test_volumes.sh", NULL},
	{"secrets.*.environment", H, true, "", NULL},
	{"secrets.*.name", H, true, "", NULL},
	{"secrets.*.external", H, true, "false only: berth has no secret store to take external secrets from", "false"},
	{"secrets.*.driver", R, true, "secret drivers are a swarm feature", NULL},
	{"secrets.*.driver_opts", R, true, "secret drivers are a swarm feature", NULL},
	{"secrets.*.template_driver", R, true, "templates are a swarm feature", NULL},
	{"secrets.*.labels", W, true, "labels of a swarm secret; berth keeps none", NULL},
	{"configs.*", H, false, "", NULL},
	{"configs.*.file", H, true, "test_volumes.sh", NULL},
	{"configs.*.content", H, true, "", NULL},
	{"configs.*.environment", H, true, "", NULL},
	{"configs.*.name", H, true, "", NULL},
	{"configs.*.external", H, true, "false only: berth has no config store to take external configs from", "false"},
	{"configs.*.template_driver", R, true, "templates are a swarm feature", NULL},
	{"configs.*.labels", W, true, "labels of a swarm config; berth keeps none", NULL},
};
const size_t key_rules_n = ARRAY_SIZE(key_rules);

static const struct key_rule *exact(const char *path)
{
	for (size_t i = 0; i < key_rules_n; i++)
		if (streq(key_rules[i].path, path))
			return &key_rules[i];
	return NULL;
}

const void *keys_nearest(const char *path, const void *(*find)(const char *path), bool (*covers)(const void *rule))
{
	const void *r = find(path);
	if (r)
		return r;
	_cleanup_free_ char *p = xstrdup(path);
	for (;;) {
		char *dot = strrchr(p, '.'), *br = strrchr(p, '[');
		char *cut = dot > br ? dot : br;
		if (!cut)
			return NULL;
		*cut = '\0';
		r = find(p);
		if (r)
			return covers(r) ? r : NULL;
	}
}

static const void *find_rule(const char *path) { return exact(path); }
static bool covers_rule(const void *r) { return ((const struct key_rule *)r)->subtree; }

const struct key_rule *keys_rule(const char *path) { return keys_nearest(path, find_rule, covers_rule); }

/* Whether the table knows keys below path (so that it is walked into). */
static bool has_below(const char *path)
{
	size_t n = strlen(path);
	for (size_t i = 0; i < key_rules_n; i++)
		if (!strncmp(key_rules[i].path, path, n) &&
		    (key_rules[i].path[n] == '.' || key_rules[i].path[n] == '['))
			return true;
	return false;
}

struct walk {
	const struct project *p;
	bool refuse;
	FILE *warn;
	char **said; /* paths warned about already */
	char *platform;
	struct berr **err;
};

static const char *where(const struct node *n) { return n->pos.file ? n->pos.file->path : "?"; }

static bool value_ok(struct walk *w, const struct key_rule *rule, const struct node *v)
{
	const char *s = node_str(v);
	if (!rule->values)
		return true;
	if (!s)
		return false; /* a mapping where only some values are honoured (external: {name}) */
	if (streq(rule->values, "$platform"))
		return streq(s, w->platform);
	_cleanup_free_ char *copy = xstrdup(rule->values);
	char *save = NULL;
	for (char *a = strtok_r(copy, "|", &save); a; a = strtok_r(NULL, "|", &save)) {
		size_t n = strlen(a);
		if (streq(a, s) || (n > 1 && a[n - 1] == '*' && strncmp(a, s, n - 1) == 0)) /* "service:*": a prefix */
			return true;
	}
	return false;
}

/* The place in a user's words: services.web.gpus, not the table's services.*.gpus. */
static int judge(struct walk *w, const char *path, const char *shown, const struct node *v)
{
	const struct key_rule *rule = exact(path);
	if (!rule)
		return 0;
	bool bad_value = rule->state == KEY_HONOURED && !value_ok(w, rule, v);
	if (rule->state == KEY_HONOURED && !bad_value)
		return 0;
	if (rule->state == KEY_NO_EFFECT) {
		if (rule->values && value_ok(w, rule, v))
			return 0; /* the default, as the model fills it in */
		if (w->warn && !strv_contains(w->said, path)) {
			fprintf(w->warn, "berth: %s:%d: %s has no effect: %s\n", where(v), v->pos.line, shown,
				rule->note);
			strv_push(&w->said, xstrdup(path));
		}
		return 0;
	}
	_cleanup_free_ char *what = bad_value ? xasprintf("%s \"%s\"", shown, node_str(v)) : xstrdup(shown);
	if (w->refuse)
		return node_err(w->err, v, "%s is not supported by berth: %s", what, rule->note);
	if (w->warn && !strv_contains(w->said, path)) {
		fprintf(w->warn, "berth: %s:%d: %s is not supported by berth (up refuses it): %s\n", where(v),
			v->pos.line, what, rule->note);
		strv_push(&w->said, xstrdup(path));
	}
	return 0;
}

static int walk(struct walk *w, const struct node *n, const char *path, const char *shown)
{
	if (n->kind == NODE_SEQ) {
		_cleanup_free_ char *p = xasprintf("%s[]", path);
		for (size_t i = 0; i < n->n && has_below(p); i++) {
			_cleanup_free_ char *s = xasprintf("%s[%zu]", shown, i);
			int r = walk(w, n->items[i], p, s);
			if (r < 0)
				return r;
		}
		return 0;
	}
	if (n->kind != NODE_MAP)
		return 0;
	for (size_t i = 0; i < n->n; i++) {
		const char *k = n->pairs[i].key;
		if (startswith(k, "x-"))
			continue;
		_cleanup_free_ char *named = path[0] ? xasprintf("%s.%s", path, k) : xstrdup(k);
		_cleanup_free_ char *any = path[0] ? xasprintf("%s.*", path) : xstrdup("*");
		_cleanup_free_ char *s = shown[0] ? xasprintf("%s.%s", shown, k) : xstrdup(k);
		const char *p = exact(named) || has_below(named) ? named : exact(any) || has_below(any) ? any : NULL;
		if (!p)
			continue; /* a name of the user's: an environment variable, a label */
		int r = judge(w, p, s, n->pairs[i].val);
		if (r == 0 && has_below(p))
			r = walk(w, n->pairs[i].val, p, s);
		if (r < 0)
			return r;
	}
	return 0;
}

int keys_check(const struct project *p, bool refuse, FILE *warn, struct berr **err)
{
	struct walk w = {.p = p,
			 .refuse = refuse,
			 .warn = warn,
			 .said = xcalloc(1, sizeof(char *)),
			 .platform = platform_host(),
			 .err = err};
	int r = walk(&w, p->doc, "", "");
	strv_free(w.said);
	free(w.platform);
	return r;
}

/* --- the schema's keys, and the document made of them --- */

extern const char berth_compose_schema[];

static json_t *resolve_ref(json_t *defs, json_t *n)
{
	for (int i = 0; i < 16 && json_is_object(n) && json_object_get(n, "$ref"); i++) {
		const char *ref = json_string_value(json_object_get(n, "$ref"));
		const char *slash = ref ? strrchr(ref, '/') : NULL;
		n = slash ? json_object_get(defs, slash + 1) : NULL;
	}
	return n;
}

static void schema_walk(json_t *defs, json_t *n, const char *path, int depth, char ***out)
{
	n = resolve_ref(defs, n);
	if (!json_is_object(n) || depth > 8)
		return;
	static const char *const alts[] = {"oneOf", "anyOf", "allOf"};
	for (size_t a = 0; a < ARRAY_SIZE(alts); a++) {
		size_t i;
		json_t *sub;
		json_array_foreach(json_object_get(n, alts[a]), i, sub) schema_walk(defs, sub, path, depth + 1, out);
	}
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(n, "properties"), k, v)
	{
		char *p = path[0] ? xasprintf("%s.%s", path, k) : xstrdup(k);
		if (!strv_contains(*out, p))
			strv_push(out, xstrdup(p));
		schema_walk(defs, v, p, depth + 1, out);
		free(p);
	}
	json_object_foreach(json_object_get(n, "patternProperties"), k, v)
	{
		json_t *r = resolve_ref(defs, v);
		if (startswith(k, "^x-") || !json_is_object(r) ||
		    !(json_object_get(r, "properties") || json_object_get(r, "oneOf") || json_object_get(r, "anyOf") ||
		      json_object_get(v, "$ref")))
			continue;
		_cleanup_free_ char *p = xasprintf("%s.*", path);
		schema_walk(defs, v, p, depth + 1, out);
	}
	if (json_object_get(n, "items")) {
		_cleanup_free_ char *p = xasprintf("%s[]", path);
		schema_walk(defs, json_object_get(n, "items"), p, depth + 1, out);
	}
	json_t *ap = json_object_get(n, "additionalProperties");
	if (json_is_object(ap)) {
		_cleanup_free_ char *p = xasprintf("%s.*", path);
		schema_walk(defs, ap, p, depth + 1, out);
	}
}

static int cmp_path(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

char **keys_schema_paths(void)
{
	char **out = xcalloc(1, sizeof(char *));
	json_t *root = json_loads(berth_compose_schema, 0, NULL);
	schema_walk(json_object_get(root, "$defs"), root, "", 0, &out);
	json_decref(root);
	qsort(out, strv_len(out), sizeof(char *), cmp_path);
	return out;
}

char *keys_markdown(void)
{
	static const char *const words[] = {"honoured", "refused", "no effect (warned)"};
	struct buf b = {0};
	buf_puts(&b, "# Compose keys in berth\n\n"
		     "Every key of the Compose specification's schema, and what berth does with it: honoured,\n"
		     "refused by `up` and `run` (an error naming the file, the line and why; `config` says it),\n"
		     "or accepted with a warning that it has no effect here. Made from\n"
		     "`orchestrator/keys.c` by `make docs`; `tests/unit/test_keys.c` fails when the schema has a\n"
		     "key the table does not classify, or when this file is not the table's.\n\n"
		     "| key | berth | how, or why |\n|---|---|---|\n");
	char **paths = keys_schema_paths();
	for (size_t i = 0; paths[i]; i++) {
		const struct key_rule *r = keys_rule(paths[i]);
		if (!r)
			continue;
		bool own = streq(r->path, paths[i]);
		const char *note = own ? r->note : "as above";
		_cleanup_free_ char *vals = r->values && r->state == KEY_HONOURED && !streq(r->values, "$platform")
						    ? xasprintf(" (values: %s)", r->values)
						    : NULL;
		buf_printf(&b, "| `%s` | %s | %s%s |\n", paths[i], words[r->state], note, vals ? vals : "");
	}
	strv_free(paths);
	return buf_steal(&b);
}
