/* berth inspect: a container as docker inspect shows it (Id, State,
 * Config, HostConfig, NetworkSettings, Mounts), from berth's records. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../lib/json.h"
#include "../lib/fs.h"
#include "../network/ipam.h"
#include "../network/net.h"
#include "../orchestrator/apply.h"
#include "../runtime/caps.h"
#include "../runtime/ctr.h"
#include "../runtime/spec.h"
#include "cli.h"

json_t *compose_labels(json_t *labels, const char *project, const char *name, const char *key)
{
	json_t *out = json_is_object(labels) ? json_deep_copy(labels) : json_object();
	if (project && project[0]) {
		size_t pl = strlen(project);
		const char *in_file = strncmp(name, project, pl) == 0 && name[pl] == '_' ? name + pl + 1 : name;
		json_object_set_new(out, "com.docker.compose.project", json_string(project));
		json_object_set_new(out, key, json_string(in_file));
	}
	return out;
}

char *inspect_text(json_t *obj)
{
	_cleanup_(json_releasep) json_t *arr = json_pack("[o]", obj);
	char *out = json_dumps(arr, JSON_INDENT(4));
	return out;
}

json_t *json_rfc3339(int64_t ms)
{
	if (ms <= 0)
		return json_string("0001-01-01T00:00:00Z");
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char buf[40];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	char out[64];
	snprintf(out, sizeof(out), "%s.%03dZ", buf, (int)(ms % 1000));
	return json_string(out);
}

static json_t *state_json(const struct ctr_state *st)
{
	json_t *state = json_pack(
		"{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:o, s:o, s:o, s:s}", "Status",
		st->paused ? "paused" : ctr_status_name(st->status), "Running", st->status == ST_RUNNING, "Paused",
		st->paused, "Restarting", st->status == ST_RESTARTING, "OOMKilled", st->oom_killed, "Dead",
		st->status == ST_DEAD, "Pid", (int)st->pid, "ExitCode", st->exit_code, "Error",
		json_string(st->error ? st->error : ""), "StartedAt", json_rfc3339(st->started_at), "FinishedAt",
		json_rfc3339(st->finished_at), "BerthShim", st->unmonitored ? "dead" : "alive");
	if (st->health != HEALTH_NONE) {
		json_t *log = json_array();
		for (size_t i = 0; i < st->nlog; i++)
			json_array_append_new(
				log, json_pack("{s:o, s:o, s:i, s:s}", "Start", json_rfc3339(st->log[i].start), "End",
					       json_rfc3339(st->log[i].end), "ExitCode", st->log[i].exit_code, "Output",
					       st->log[i].output ? st->log[i].output : ""));
		json_object_set_new(state, "Health",
				    json_pack("{s:s, s:i, s:o}", "Status", health_status_name(st->health),
					      "FailingStreak", st->failing_streak, "Log", log));
	}
	return state;
}

static json_t *caps_json(uint64_t caps, bool add)
{
	json_t *a = json_array();
	for (int c = 0; c <= CAPS_LAST; c++) {
		bool have = caps & (1ULL << c), dflt = CAPS_DOCKER_DEFAULT & (1ULL << c);
		if (cap_name(c) && (add ? have && !dflt : !have && dflt)) {
			_cleanup_free_ char *n = xasprintf("CAP_%s", cap_name(c));
			json_array_append_new(a, json_string(n));
		}
	}
	return json_array_size(a) ? a : (json_decref(a), json_null());
}

static const char *restart_name(enum restart_policy r)
{
	return r == RESTART_ALWAYS           ? "always"
	       : r == RESTART_ON_FAILURE     ? "on-failure"
	       : r == RESTART_UNLESS_STOPPED ? "unless-stopped"
					     : "no";
}

/* Mounts and the binds of HostConfig, leaving out berth's own /etc files. */
static void mounts_json(const struct ctr_spec *s, const char *dir, json_t *mounts, json_t *binds)
{
	for (size_t i = 0; i < s->nmounts; i++) {
		const struct mount_spec *m = &s->mounts[i];
		bool tmpfs = m->type && streq(m->type, "tmpfs"), image = m->type && streq(m->type, "overlay");
		if (!tmpfs && (!m->source || startswith(m->source, dir)) && !m->volume)
			continue;
		bool ro = m->options &&
			  (streq(m->options, "ro") || startswith(m->options, "ro,") || strstr(m->options, ",ro"));
		const char *type = tmpfs ? "tmpfs" : image ? "image" : m->volume ? "volume" : "bind";
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", type, "Source",
				      tmpfs || image ? "" : m->source, "Destination", m->target, "Mode", ro ? "ro" : "",
				      "RW", !ro, "Propagation", m->volume || tmpfs ? "" : "rprivate");
		if (m->volume)
			json_object_set_new(j, "Name", json_string(m->volume));
		json_array_append_new(mounts, j);
		if (!tmpfs && !image) {
			_cleanup_free_ char *b = xasprintf("%s:%s%s", m->volume ? m->volume : m->source, m->target,
							   ro ? ":ro" : ":rw");
			json_array_append_new(binds, json_string(b));
		}
	}
}

/* NetworkSettings, and HostConfig's PortBindings, from the attachment record. */
static json_t *network_json(const char *root, const char *name, json_t **bindings)
{
	json_t *ns = json_object(), *nets = json_object(), *ports = json_object();
	*bindings = json_object();
	json_t *ep = net_endpoint_record(root, name);
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(ep, "links"), i, l)
	{
		const char *ip = json_string_value(json_object_get(l, "ip")) ?: "";
		const char *gw = json_string_value(json_object_get(l, "gateway")) ?: "";
		const char *mac = json_string_value(json_object_get(l, "mac")) ?: "";
		json_t *net = json_pack("{s:O, s:s, s:I, s:s, s:s}", "Aliases",
					json_object_get(l, "aliases") ? json_object_get(l, "aliases") : json_null(),
					"IPAddress", ip, "IPPrefixLen",
					json_integer_value(json_object_get(l, "prefix")), "Gateway", gw, "MacAddress",
					mac);
		json_object_set_new(nets, json_string_value(json_object_get(l, "network")) ?: "", net);
		if (i == 0) {
			json_object_set_new(ns, "IPAddress", json_string(ip));
			json_object_set_new(ns, "Gateway", json_string(gw));
			json_object_set_new(ns, "MacAddress", json_string(mac));
		}
	}
	json_decref(ep);
	struct net_port *p = NULL;
	size_t np = 0;
	net_ports(root, name, &p, &np);
	for (size_t k = 0; k < np; k++) {
		_cleanup_free_ char *key = xasprintf("%u/%s", p[k].ctr_port, p[k].udp ? "udp" : "tcp");
		_cleanup_free_ char *hip = ip_format(p[k].host_ip), *hport = xasprintf("%u", p[k].host_port);
		json_t *b = json_pack("{s:s, s:s}", "HostIp", hip, "HostPort", hport);
		json_t *have = json_object_get(ports, key);
		if (!have) {
			have = json_array();
			json_object_set_new(ports, key, have);
			json_object_set_new(*bindings, key, json_array());
		}
		json_array_append(have, b);
		json_array_append_new(json_object_get(*bindings, key), b);
	}
	free(p);
	json_object_set_new(ns, "Ports", ports);
	json_object_set_new(ns, "Networks", nets);
	return ns;
}

static json_t *strv_or_null(char *const *v, size_t from)
{
	json_t *a = json_array();
	for (size_t i = from; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static char *inspect_container(const char *root, const char *name)
{
	struct ctr_state st;
	if (!ctr_exists(root, name) || ctr_state(root, name, &st, NULL) < 0)
		return NULL;
	_cleanup_free_ char *dir = ctr_dir(root, name);
	_cleanup_free_ char *specp = path_join(dir, "spec.json");
	struct ctr_spec s;
	if (spec_read(specp, &s, NULL) < 0) {
		state_free(&st);
		return NULL;
	}
	json_t *meta = apply_meta(root, name);
	json_t *labels = json_object_get(meta, "labels"), *ann = json_object_get(meta, "annotations");
	json_t *cmd = json_object_get(meta, "command");
	const char *id = json_string_value(json_object_get(meta, "id"));
	_cleanup_free_ char *nm = xasprintf("/%s", name), *user = xasprintf("%u:%u", (unsigned)s.uid, (unsigned)s.gid);
	_cleanup_free_ char *logp = path_join(dir, "log.json");
	size_t first = s.init ? 2 : 0; /* berth-init -- COMMAND */
	json_t *mounts = json_array(), *binds = json_array(), *bindings = NULL;
	mounts_json(&s, dir, mounts, binds);
	json_t *netset = network_json(root, name, &bindings);
	json_t *sysctls = json_object(), *ulimits = json_array(), *devices = json_array();
	for (size_t i = 0; s.sysctls && s.sysctls[i]; i++) {
		const char *eq = strchr(s.sysctls[i], '=');
		_cleanup_free_ char *k = eq ? xstrndup(s.sysctls[i], (size_t)(eq - s.sysctls[i]))
					    : xstrdup(s.sysctls[i]);
		json_object_set_new(sysctls, k, json_string(eq ? eq + 1 : ""));
	}
	for (size_t i = 0; i < s.nrlimits; i++)
		json_array_append_new(ulimits,
				      json_pack("{s:s, s:I, s:I}", "Name", s.rlimits[i].name, "Soft",
						(json_int_t)s.rlimits[i].soft, "Hard", (json_int_t)s.rlimits[i].hard));
	for (size_t i = 0; i < s.ndevices; i++) {
		_cleanup_free_ char *host = xasprintf("%c %u:%u", s.devices[i].type, s.devices[i].major,
						      s.devices[i].minor);
		json_array_append_new(devices, json_pack("{s:s, s:s, s:s}", "PathOnHost", host, "PathInContainer",
							 s.devices[i].path, "CgroupPermissions", "rwm"));
	}
	const char *netmode = !s.network                                             ? "bridge"
			      : streq(s.network, "host") || streq(s.network, "none") ? s.network
										     : "bridge";
	json_t *host = json_pack(
		"{s:o, s:s, s:o, s:{s:s, s:i}, s:o, s:o, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:I, s:b, s:o, "
		"s:o, s:o, s:o, s:{s:s, s:{}}, s:i, s:s, s:s, s:s}",
		"Binds", binds, "NetworkMode", netmode, "PortBindings", bindings, "RestartPolicy", "Name",
		restart_name(s.restart), "MaximumRetryCount", s.restart_max, "CapAdd", caps_json(s.caps, true),
		"CapDrop", caps_json(s.caps, false), "Privileged", s.privileged, "ReadonlyRootfs", s.read_only,
		"Memory", (json_int_t)s.cgroup.memory, "MemorySwap", (json_int_t)s.cgroup.memory_swap, "CpuShares",
		(json_int_t)s.cgroup.cpu_shares, "CpuQuota", (json_int_t)s.cgroup.cpu_quota, "CpuPeriod",
		(json_int_t)s.cgroup.cpu_period, "CpusetCpus", s.cgroup.cpuset ? s.cgroup.cpuset : "", "PidsLimit",
		(json_int_t)s.cgroup.pids, "ShmSize", (json_int_t)(s.shm_size ? s.shm_size : 64 << 20), "Init", s.init,
		"Annotations", json_is_object(ann) ? json_incref(ann) : json_object(), "Sysctls", sysctls, "Ulimits",
		ulimits, "Devices", devices, "LogConfig", "Type", s.log_none ? "none" : "json-file", "Config",
		"OomScoreAdj", s.oom_score_adj, "IpcMode", s.ipc ? s.ipc : "private", "PidMode",
		s.pid_ns ? s.pid_ns : "", "UTSMode", s.uts ? s.uts : "");
	json_t *health = json_null();
	if (s.health.test) {
		health = json_pack("{s:o, s:I, s:I, s:I, s:i}", "Test", strv_or_null(s.health.test, 0), "Interval",
				   (json_int_t)s.health.interval_ms * 1000000, "Timeout",
				   (json_int_t)s.health.timeout_ms * 1000000, "StartPeriod",
				   (json_int_t)s.health.start_period_ms * 1000000, "Retries", s.health.retries);
	}
	char sig[32];
	snprintf(sig, sizeof(sig), "%d", s.stop_signal > 0 ? s.stop_signal : SIGTERM);
	json_t *config = json_pack("{s:s, s:s, s:s, s:b, s:b, s:o, s:O, s:s, s:s, s:o, s:s, s:I, s:o}", "Hostname",
				   s.hostname ? s.hostname : "", "Domainname", s.domainname ? s.domainname : "", "User",
				   user, "Tty", s.tty, "OpenStdin", s.stdin_open, "Env", strv_or_null(s.env, 0), "Cmd",
				   json_is_array(cmd) ? cmd : json_null(), "Image",
				   json_string_value(json_object_get(meta, "image")) ?: "", "WorkingDir",
				   s.cwd ? s.cwd : "", "Labels",
				   json_is_object(labels) ? json_incref(labels) : json_object(), "StopSignal", sig,
				   "StopTimeout", (json_int_t)(s.stop_grace_ms / 1000), "Healthcheck", health);
	_cleanup_(json_releasep) json_t *j = json_pack(
		"[{s:s, s:o, s:s, s:o, s:o, s:s, s:s, s:i, s:s, s:s, s:s, s:o, s:o, s:o, s:o}]", "Id", id ? id : "",
		"Created", json_rfc3339(json_integer_value(json_object_get(meta, "created_ms"))), "Path",
		s.argv && s.argv[first] ? s.argv[first] : "", "Args",
		strv_or_null(s.argv && s.argv[first] ? s.argv : NULL, first + 1), "State", state_json(&st), "Name", nm,
		"Driver", "overlay", "RestartCount", st.restart_count, "Platform", "linux", "LogPath",
		s.log_none ? "" : logp, "Image", json_string_value(json_object_get(meta, "image")) ?: "", "Config",
		config, "HostConfig", host, "NetworkSettings", netset, "Mounts", mounts);
	json_decref(meta);
	spec_free(&s);
	state_free(&st);
	char *text = json_dumps(j, JSON_INDENT(4));
	return text;
}

/* A name, or a prefix of a container's id as docker takes one. */
static char *resolve_id(const char *root, const char *what)
{
	if (ctr_exists(root, what))
		return xstrdup(what);
	char **names = ctr_list(root);
	char *found = NULL;
	for (size_t i = 0; names[i] && strlen(what) >= 3; i++) {
		_cleanup_(json_releasep) json_t *m = apply_meta(root, names[i]);
		const char *id = json_string_value(json_object_get(m, "id"));
		if (id && startswith(id, what))
			found = found ? (free(found), xstrdup("")) : xstrdup(names[i]); /* "": more than one */
	}
	strv_free(names);
	return found;
}

static char *inspect_any(const char *root, const char *what)
{
	_cleanup_free_ char *name = resolve_id(root, what);
	return name && name[0] ? inspect_container(root, name) : NULL;
}

int cmd_inspect(struct global_opts *g, int argc, char **argv)
{
	(void)g;
	return inspect_each("", "container", inspect_any, argc, argv);
}
