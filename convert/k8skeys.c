#include "k8skeys.h"

#include "../lib/buf.h"
#include "../orchestrator/keys.h"

#define M K8S_MAPPED
#define A K8S_APPROXIMATED
#define I K8S_IGNORED

const struct k8s_rule k8s_rules[] = {
	{"version", I, true, "obsolete in Compose; nothing to carry"},
	{"name", M, true, "the Namespace's name, and the com.docker.compose.project label"},
	{"include", M, true, "the included files are part of the model that is converted"},
	{"services", M, false, "one workload per service"},
	{"networks", M, false, "one NetworkPolicy per network"},
	{"networks.*.name", A, true, "the policy is named after the network's key in the file"},
	{"networks.*.internal", M, true, "an internal network's policy has no egress out of its pods (DNS kept)"},
	{"networks.*.driver", I, true, "Kubernetes has one pod network; the CNI plugin is the cluster's"},
	{"networks.*.driver_opts", I, true, "bridge options have no pod-network equivalent"},
	{"networks.*.attachable", I, true, "a swarm setting"},
	{"networks.*.enable_ipv4", I, true, "the cluster decides its IP families"},
	{"networks.*.enable_ipv6", I, true, "the cluster decides its IP families"},
	{"networks.*.external", I, true, "a NetworkPolicy is made for it like any other"},
	{"networks.*.ipam", I, true, "pod addresses are the cluster's to give"},
	{"networks.*.labels", I, true, "NetworkPolicies carry no user labels here"},
	{"volumes", M, false, "one PersistentVolumeClaim per service and named volume it mounts"},
	{"volumes.*.name", A, true, "the claim is named SERVICE-VOLUME after the volume's key"},
	{"volumes.*.driver", I, true, "the storage class is the cluster's (x-kubernetes can set it)"},
	{"volumes.*.driver_opts", I, true, "the storage class is the cluster's"},
	{"volumes.*.external", I, true, "a claim is made for it like any other"},
	{"volumes.*.labels", I, true, "claims carry berth's labels only"},
	{"secrets", M, false, "one Secret per secret, its content base64"},
	{"secrets.*.file", M, true, "its content is read into the Secret"},
	{"secrets.*.environment", M, true, "the variable's value is the Secret's"},
	{"secrets.*.name", A, true, "the Secret is named after the key"},
	{"secrets.*.external", I, true, "an external secret has no content to carry: said"},
	{"secrets.*.driver", I, true, "a swarm setting"},
	{"secrets.*.driver_opts", I, true, "a swarm setting"},
	{"secrets.*.labels", I, true, "Secrets carry berth's labels only"},
	{"secrets.*.template_driver", I, true, "a swarm setting"},
	{"configs", M, false, "one ConfigMap of the project, a key per config"},
	{"configs.*.file", M, true, "its content is the ConfigMap's key"},
	{"configs.*.environment", M, true, "the variable's value"},
	{"configs.*.content", M, true, "the content as given"},
	{"configs.*.name", A, true, "the key is the config's key in the file"},
	{"configs.*.external", I, true, "an external config has no content to carry: said"},
	{"configs.*.labels", I, true, "the ConfigMap carries berth's labels only"},
	{"configs.*.template_driver", I, true, "a swarm setting"},
	{"models", I, true, "berth does not run models"},
	/* services */
	{"services.*.image", M, true, "the container's image (a built service: PROJECT-SERVICE)"},
	{"services.*.build", A, true, "the image is PROJECT-SERVICE, to be built and pushed first"},
	{"services.*.command", M, true, "the container's args"},
	{"services.*.entrypoint", M, true, "the container's command"},
	{"services.*.environment", M, true, "the container's env, interpolated"},
	{"services.*.env_file", M, true, "read into env"},
	{"services.*.working_dir", M, true, "workingDir"},
	{"services.*.user", M, true, "securityContext runAsUser (and runAsGroup) when numeric"},
	{"services.*.cap_add", M, true, "securityContext capabilities add (without CAP_)"},
	{"services.*.cap_drop", M, true, "securityContext capabilities drop (without CAP_)"},
	{"services.*.privileged", M, true, "securityContext privileged"},
	{"services.*.read_only", M, true, "securityContext readOnlyRootFilesystem"},
	{"services.*.init", A, true, "shareProcessNamespace: the pod's pause process reaps zombies"},
	{"services.*.stop_grace_period", M, true, "terminationGracePeriodSeconds"},
	{"services.*.scale", M, true, "replicas"},
	{"services.*.deploy", M, false, ""},
	{"services.*.deploy.replicas", M, true, "replicas"},
	{"services.*.deploy.resources", M, false, ""},
	{"services.*.deploy.resources.limits", M, false, ""},
	{"services.*.deploy.resources.limits.cpus", M, true, "resources limits cpu"},
	{"services.*.deploy.resources.limits.memory", M, true, "resources limits memory (bytes)"},
	{"services.*.deploy.resources.limits.pids", I, true, "Kubernetes limits pids per node, not per container"},
	{"services.*.deploy.resources.reservations", M, false, ""},
	{"services.*.deploy.resources.reservations.cpus", M, true, "resources requests cpu"},
	{"services.*.deploy.resources.reservations.memory", M, true, "resources requests memory (bytes)"},
	{"services.*.deploy.resources.reservations.devices", I, true, "device plugins are the cluster's"},
	{"services.*.deploy.resources.reservations.generic_resources", I, true, "a swarm setting"},
	{"services.*.deploy.mode", M, true,
	 "global: a DaemonSet (a pod on every node, as bridge makes it), in NAME-deployment.yaml"},
	{"services.*.deploy.labels", I, true, "labels of the swarm service"},
	{"services.*.deploy.placement", I, true, "scheduling constraints are written as affinity by hand"},
	{"services.*.deploy.restart_policy", I, true, "the workload's kind follows restart"},
	{"services.*.deploy.rollback_config", I, true, "a swarm setting"},
	{"services.*.deploy.update_config", I, true, "the Deployment's strategy is Recreate"},
	{"services.*.deploy.endpoint_mode", I, true, "a swarm setting"},
	{"services.*.mem_limit", M, true, "resources limits memory"},
	{"services.*.cpus", M, true, "resources limits cpu"},
	{"services.*.labels", M, true, "the pod template's labels"},
	{"services.*.annotations", M, true, "the pod template's annotations"},
	{"services.*.healthcheck", M, true,
	 "liveness and readiness probes (exec; interval, timeout, retries, start_period)"},
	{"services.*.depends_on", A, true,
	 "service_healthy: an init container waits until the dependency's Service answers on its first TCP port "
	 "(its pods are endpoints once ready, and readiness is its healthcheck); service_started: pods start "
	 "together, as Kubernetes has no start order; service_completed_successfully: said (an init container "
	 "cannot see a Job end without API access)"},
	{"services.*.ports", M, true, "a Service NAME-published of the --publish-type, and container ports"},
	{"services.*.expose", M, true, "a ClusterIP Service of the service's name, and container ports"},
	{"services.*.networks", M, true, "a com.docker.compose.network.NAME label the network's policy selects"},
	{"services.*.volumes", M, true,
	 "named: a claim (a StatefulSet's template when replicated); tmpfs: emptyDir in memory; bind: said "
	 "(hostPath with --allow-hostpath)"},
	{"services.*.tmpfs", M, true, "emptyDir in memory"},
	{"services.*.secrets", M, true, "the Secret mounted at the target"},
	{"services.*.configs", M, true, "the ConfigMap's key mounted at the target"},
	{"services.*.restart", M, true, "no / on-failure: a Job; always / unless-stopped: a Deployment"},
	{"services.*.container_name", M, true, "the container's name"},
	{"services.*.pull_policy", M, true, "imagePullPolicy"},
	{"services.*.hostname", M, true, "the pod's hostname"},
	{"services.*.dns", M, true, "dnsConfig nameservers"},
	{"services.*.dns_search", M, true, "dnsConfig searches"},
	{"services.*.dns_opt", M, true, "dnsConfig options"},
	{"services.*.stdin_open", M, true, "stdin"},
	{"services.*.tty", M, true, "tty"},
	{"services.*.profiles", M, true, "only the enabled services are converted"},
	{"services.*.extends", M, true, "resolved into the service before converting"},
	{"services.*.attach", I, true, "about berth up's output"},
	{"services.*.blkio_config", I, true, "Kubernetes has no block I/O limits"},
	{"services.*.cgroup", I, true, "the kubelet's"},
	{"services.*.cgroup_parent", I, true, "the kubelet's"},
	{"services.*.cpu_count", I, true, "a Windows setting"},
	{"services.*.cpu_percent", I, true, "a Windows setting"},
	{"services.*.cpu_period", I, true, "Kubernetes sets CFS periods itself"},
	{"services.*.cpu_quota", I, true, "use cpus"},
	{"services.*.cpu_rt_period", I, true, "no real-time scheduling in Kubernetes"},
	{"services.*.cpu_rt_runtime", I, true, "no real-time scheduling in Kubernetes"},
	{"services.*.cpu_shares", I, true, "use deploy.resources.reservations.cpus"},
	{"services.*.cpuset", I, true, "the kubelet's CPU manager decides"},
	{"services.*.credential_spec", I, true, "a Windows setting"},
	{"services.*.develop", I, true, "about berth watch"},
	{"services.*.device_cgroup_rules", I, true, "device plugins are the cluster's"},
	{"services.*.devices", I, true, "device plugins are the cluster's"},
	{"services.*.domainname", I, true, "the cluster's DNS domain"},
	{"services.*.external_links", I, true, "links are names; Services give them"},
	{"services.*.extra_hosts", I, true, "hostAliases are not written yet"},
	{"services.*.gpus", I, true, "device plugins are the cluster's"},
	{"services.*.group_add", I, true, "supplementalGroups are not written yet"},
	{"services.*.ipc", I, true, "pods do not share IPC namespaces across workloads"},
	{"services.*.isolation", I, true, "a Windows setting"},
	{"services.*.label_file", I, true, "its files are not read into the pod's labels yet"},
	{"services.*.links", I, true, "the Services of the linked services give their names"},
	{"services.*.logging", I, true, "logging is the cluster's"},
	{"services.*.mac_address", I, true, "pod addresses are the CNI's"},
	{"services.*.mem_reservation", I, true, "use deploy.resources.reservations.memory"},
	{"services.*.mem_swappiness", I, true, "the kubelet's"},
	{"services.*.memswap_limit", I, true, "the kubelet's"},
	{"services.*.models", I, true, "berth does not run models"},
	{"services.*.network_mode", I, true, "a pod's containers share one network; services do not"},
	{"services.*.oom_kill_disable", I, true, "the kubelet's"},
	{"services.*.oom_score_adj", I, true, "the kubelet sets it by QoS class"},
	{"services.*.pid", I, true, "shareProcessNamespace is within one pod only"},
	{"services.*.pids_limit", I, true, "Kubernetes limits pids per node"},
	{"services.*.platform", I, true, "the nodes' platform; nodeSelector by hand"},
	{"services.*.post_start", I, true, "lifecycle hooks are not written yet"},
	{"services.*.pre_start", I, true, "lifecycle hooks are not written yet"},
	{"services.*.pre_stop", I, true, "lifecycle hooks are not written yet"},
	{"services.*.provider", I, true, "berth does not run providers"},
	{"services.*.pull_refresh_after", I, true, "the kubelet pulls"},
	{"services.*.runtime", I, true, "a RuntimeClass of the cluster's"},
	{"services.*.security_opt", I, true, "seccomp and AppArmor profiles are the cluster's"},
	{"services.*.shm_size", I, true, "an emptyDir at /dev/shm is not written yet"},
	{"services.*.stop_signal", I, true, "Kubernetes sends SIGTERM (or the image's STOPSIGNAL)"},
	{"services.*.storage_opt", I, true, "ephemeral storage limits are not written yet"},
	{"services.*.sysctls", I, true, "pod sysctls need the cluster to allow them"},
	{"services.*.ulimits", I, true, "Kubernetes has no per-container ulimits"},
	{"services.*.use_api_socket", I, true, "there is no Docker API in a cluster"},
	{"services.*.userns_mode", I, true, "hostUsers is the cluster's to allow"},
	{"services.*.uts", I, true, "hostNetwork-like settings are refused in a cluster"},
	{"services.*.volumes_from", I, true, "pods do not share volumes across workloads"},
};
const size_t k8s_rules_n = sizeof(k8s_rules) / sizeof(k8s_rules[0]);

static const void *exact(const char *path)
{
	for (size_t i = 0; i < k8s_rules_n; i++)
		if (streq(k8s_rules[i].path, path))
			return &k8s_rules[i];
	return NULL;
}

static bool covers(const void *r) { return ((const struct k8s_rule *)r)->subtree; }

const struct k8s_rule *k8s_rule(const char *path) { return keys_nearest(path, exact, covers); }

char *k8s_markdown(void)
{
	static const char *const words[] = {"mapped", "approximated", "ignored (said)"};
	struct buf b = {0};
	buf_puts(&b, "# Compose keys in `berth convert`\n\n"
		     "Every key of the Compose specification's schema, and what `berth convert` makes of it in\n"
		     "Kubernetes: mapped, approximated (and how), or ignored, which convert says on stderr\n"
		     "(`ignored: services.web.devices`; `--strict` makes it an error). Made from\n"
		     "`convert/k8skeys.c` by `make docs`; `tests/unit/test_convert.c` fails when the schema has a\n"
		     "key the table does not classify, or when this file is not the table's.\n\n"
		     "## What is written\n\n"
		     "The files are those docker compose bridge's default transformation writes, named and\n"
		     "laid out as it writes them (`#! FILE` and `# Generated code, do not edit` first, then\n"
		     "Go's yaml.v3 layout: four spaces a level): `0-PROJECT-namespace.yaml`,\n"
		     "`SERVICE-deployment.yaml`, `SERVICE-expose.yaml` (a Service of the service's own name\n"
		     "on every port its container has), `SERVICE-service.yaml` (`SERVICE-published`, its\n"
		     "published ports), `NETWORK-network-policy.yaml`,\n"
		     "`SERVICE-VOLUME-persistentVolumeClaim.yaml`, `SECRET-secret.yaml` and\n"
		     "`PROJECT-configs.yaml`. `--to kustomize` puts them in `base/` with a\n"
		     "`kustomization.yaml`, and writes `overlays/desktop/` (published Services as\n"
		     "LoadBalancers, claims of Docker Desktop's `hostpath` storage class); `--to helm` writes\n"
		     "a chart whose templates read `values.yaml` (`{{ .Values.SERVICE.image }}`, or\n"
		     "`{{ index .Values \"my-svc\" \"image\" }}` for a name that is no Go identifier).\n\n"
		     "## Where berth differs from docker compose bridge, and why\n\n"
		     "- An `internal` network's policy also limits egress, to the network's own pods and\n"
		     "  DNS (bridge's only limits ingress, so an internal network's pods reach anywhere).\n"
		     "  When a pod is also on an ordinary network, that network's policy opens egress\n"
		     "  again (`egress: [{}]`): policies add up, and on one host it reaches out by it.\n"
		     "- A service with published ports gets `SERVICE-published-network-policy.yaml`,\n"
		     "  letting anyone reach those ports: with only the networks' policies, a published\n"
		     "  port is closed to all but the network's pods under any CNI that enforces them.\n"
		     "- `restart: no` and `on-failure` make a Job (`SERVICE-job.yaml`), and a replicated\n"
		     "  service with a named volume a StatefulSet (`SERVICE-statefulset.yaml`): bridge\n"
		     "  writes a Deployment with a restart policy Kubernetes refuses, or one claim shared\n"
		     "  by every replica.\n"
		     "- `command` and `entrypoint` are written as lists of words, split as compose splits\n"
		     "  them; healthchecks are readiness probes as well as liveness probes; limits,\n"
		     "  reservations, `user`, `init`, `stop_grace_period`, `tmpfs`, DNS options and labels\n"
		     "  are carried as the table below says.\n"
		     "- Names never end in `-` and are cut to 63 characters (RFC 1123); port names are cut\n"
		     "  to 15 characters as bridge cuts them, and a UDP or SCTP port's ends in `-udp`/`-sctp`.\n"
		     "- The chart sets no CPU or memory limit the compose file does not have (bridge's\n"
		     "  gives every container 100m and 512Mi), and each service's `replicas` and published\n"
		     "  ports are its own values.\n\n"
		     "## Every key\n\n"
		     "| key | convert | how, or why |\n|---|---|---|\n");
	char **paths = keys_schema_paths();
	for (size_t i = 0; paths[i]; i++) {
		const struct k8s_rule *r = k8s_rule(paths[i]);
		if (!r)
			continue;
		bool own = streq(r->path, paths[i]);
		buf_printf(&b, "| `%s` | %s | %s |\n", paths[i], words[r->state], own ? r->note : "as above");
	}
	strv_free(paths);
	return buf_steal(&b);
}
