/* berth convert's naming rules. */
#include "helpers.h"

#include "../../convert/convert.h"
#include "../../convert/k8skeys.h"
#include "../../lib/fs.h"
#include "../../orchestrator/emit.h"
#include "../../orchestrator/keys.h"

#define DOC "docs/kubernetes.md"

/* Every key of the schema says what convert makes of it. */
static void every_schema_key_is_classified(void **state)
{
	char **paths = keys_schema_paths();
	size_t missing = 0;
	for (size_t i = 0; paths[i]; i++)
		if (!k8s_rule(paths[i])) {
			fprintf(stderr, "not classified in convert/k8skeys.c: %s\n", paths[i]);
			missing++;
		}
	strv_free(paths);
	assert_int_equal(missing, 0);
}

static void every_rule_is_a_schema_key(void **state)
{
	char **paths = keys_schema_paths();
	for (size_t i = 0; i < k8s_rules_n; i++) {
		const char *r = k8s_rules[i].path;
		bool found = false;
		for (size_t k = 0; paths[k] && !found; k++)
			found = streq(paths[k], r);
		if (!found) {
			strv_free(paths);
			fail_msg("convert/k8skeys.c classifies %s, which the schema does not have", r);
		}
	}
	strv_free(paths);
}

static void the_document_is_the_tables(void **state) { doc_is_the_tables(DOC, k8s_markdown(), "convert/k8skeys.c"); }

static void names_kubernetes_takes(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"web", "web"},
		{"My_App.1", "my-app-1"},
		{"/usr/share/nginx/html", "usr-share-nginx-html"},
		{"--x--", "x"},
		{"a__b", "a--b"},
		{"web2", "web2"},
		{"", "x"},
		{"///", "x"},
		{"Db", "db"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *n = k8s_name(cases[i].in);
		assert_string_equal(n, cases[i].out);
		free(n);
	}
	/* at most 63 characters, never ending in '-' */
	char long_name[100];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[62] = '_';
	long_name[99] = 0;
	char *n = k8s_name(long_name);
	assert_true(strlen(n) <= 63);
	assert_true(n[strlen(n) - 1] != '-');
	free(n);
}

/* ---- the mapping rules, on compose files converted here ---- */

struct conv {
	char *dir;
	struct project *p;
	struct k8s_file *f;
	size_t n;
	char *report; /* what was said on stderr */
	struct node *docs[64];
	size_t ndocs;
};

/* text (a compose file) loaded, not converted yet. */
static struct conv *conv_load(const char *text)
{
	struct conv *c = xcalloc(1, sizeof(*c));
	c->dir = tmpdir_new();
	write_file(c->dir, "app.conf", "listen 80\n");
	char *env[] = {"PW=s3cret", NULL};
	c->p = project_in(c->dir, "shop", text, env);
	return c;
}

/* Convert text (a compose file) with the options; the result must succeed. */
static struct conv *conv_opts(const char *text, struct convert_opts o)
{
	struct conv *c = conv_load(text);
	struct berr *err = NULL;
	size_t len;
	FILE *rep = open_memstream(&c->report, &len);
	o.report = rep;
	if (convert_objects(c->p, &o, &c->f, &c->n, &err) < 0)
		fail_msg("convert: %s", err->msg);
	fclose(rep);
	return c;
}

static struct conv *conv(const char *text) { return conv_opts(text, (struct convert_opts){0}); }

/* The object in file name, parsed back; fails when there is none. */
static struct node *obj(struct conv *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (streq(c->f[i].name, name)) {
			assert_true(c->ndocs < ARRAY_SIZE(c->docs));
			return c->docs[c->ndocs++] = yaml_doc(c->f[i].yaml);
		}
	fail_msg("no file %s", name);
	return NULL;
}

static bool has_file(struct conv *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (streq(c->f[i].name, name))
			return true;
	return false;
}

static const char *yaml_of(struct conv *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (streq(c->f[i].name, name))
			return c->f[i].yaml;
	fail_msg("no file %s", name);
	return NULL;
}

static void conv_free(struct conv *c)
{
	for (size_t i = 0; i < c->ndocs; i++)
		node_free(c->docs[i]);
	convert_files_free(c->f, c->n);
	project_free(c->p);
	rm_rf(c->dir);
	free(c->dir);
	free(c->report);
	free(c);
}

static const char *label(struct node *labels, const char *key) { return node_str(node_map_get(labels, key)); }

static void a_service_is_a_deployment(void **state)
{
	struct conv *c = conv("services:\n  Web:\n    image: nginx:1.25\n    pull_policy: always\n    scale: 3\n"
			      "  api:\n    build: .\n");
	struct node *d = obj(c, "Web-deployment.yaml");
	assert_string_equal(at_str(d, "kind"), "Deployment");
	assert_string_equal(at_str(d, "metadata.name"), "web"); /* a name Kubernetes takes */
	assert_string_equal(at_str(d, "metadata.namespace"), "shop");
	assert_string_equal(label(at(d, "metadata.labels"), "com.docker.compose.service"), "Web"); /* as written */
	assert_string_equal(label(at(d, "spec.selector.matchLabels"), "com.docker.compose.project"), "shop");
	assert_string_equal(at_str(d, "spec.replicas"), "3");
	assert_string_equal(at_str(d, "spec.strategy.type"), "Recreate");
	assert_string_equal(label(at(d, "spec.template.metadata.labels"), "com.docker.compose.network.default"),
			    "true");
	assert_string_equal(at_str(d, "spec.template.spec.containers[0].image"), "nginx:1.25");
	assert_string_equal(at_str(d, "spec.template.spec.containers[0].imagePullPolicy"), "Always");
	/* a service built and not named: the image docker compose would build */
	assert_string_equal(at_str(obj(c, "api-deployment.yaml"), "spec.template.spec.containers[0].image"),
			    "shop-api");
	assert_true(has_file(c, "0-shop-namespace.yaml"));
	assert_string_equal(at_str(obj(c, "0-shop-namespace.yaml"), "metadata.name"), "shop");
	conv_free(c);
}

static void command_environment_and_workdir(void **state)
{
	struct conv *c = conv(
		"services:\n  web:\n    image: a\n    entrypoint: [/bin/sh, -c]\n    command: echo \"a b\" c\n"
		"    working_dir: /srv\n    environment: {A: \"1\", B: two words, C: ''}\n");
	struct node *ctr = at(obj(c, "web-deployment.yaml"), "spec.template.spec.containers[0]");
	assert_string_equal(at_str(ctr, "command[0]"), "/bin/sh");
	assert_string_equal(at_str(ctr, "command[1]"), "-c");
	assert_string_equal(at_str(ctr, "args[0]"), "echo");
	assert_string_equal(at_str(ctr, "args[1]"), "a b");
	assert_string_equal(at_str(ctr, "args[2]"), "c");
	assert_string_equal(at_str(ctr, "workingDir"), "/srv");
	assert_string_equal(at_str(ctr, "env[0].name"), "A");
	assert_string_equal(at_str(ctr, "env[0].value"), "1");
	assert_string_equal(at_str(ctr, "env[1].value"), "two words");
	assert_string_equal(at_str(ctr, "env[2].value"), "");
	/* quoted, as bridge writes them: a value is never read as a number */
	assert_non_null(strstr(yaml_of(c, "web-deployment.yaml"), "value: \"1\"\n"));
	conv_free(c);
}

static void user_capabilities_and_read_only(void **state)
{
	struct conv *c = conv("services:\n  web:\n    image: a\n    user: \"1000:2000\"\n    cap_add: [CAP_NET_ADMIN]\n"
			      "    cap_drop: [ALL]\n    read_only: true\n    privileged: true\n  by-name:\n    image: "
			      "a\n    user: app\n");
	struct node *sc = at(obj(c, "web-deployment.yaml"), "spec.template.spec.containers[0].securityContext");
	assert_string_equal(at_str(sc, "runAsUser"), "1000");
	assert_string_equal(at_str(sc, "runAsGroup"), "2000");
	assert_string_equal(at_str(sc, "capabilities.add[0]"), "NET_ADMIN"); /* without CAP_ */
	assert_string_equal(at_str(sc, "capabilities.drop[0]"), "ALL");
	assert_string_equal(at_str(sc, "readOnlyRootFilesystem"), "true");
	assert_string_equal(at_str(sc, "privileged"), "true");
	assert_null(at(obj(c, "by-name-deployment.yaml"), "spec.template.spec.containers[0].securityContext"));
	assert_non_null(strstr(c->report, "services.by-name.user: app is a name"));
	conv_free(c);
}

static void limits_and_reservations(void **state)
{
	struct conv *c = conv(
		"services:\n  a:\n    image: a\n    deploy: {resources: {limits: {cpus: '0.5', memory: 256M}, "
		"reservations: {cpus: '0.25', memory: 64M}}}\n  b:\n    image: b\n    mem_limit: 1g\n    cpus: 2\n");
	struct node *r = at(obj(c, "a-deployment.yaml"), "spec.template.spec.containers[0].resources");
	assert_string_equal(at_str(r, "limits.cpu"), "0.5");
	assert_string_equal(at_str(r, "limits.memory"), "268435456");
	assert_string_equal(at_str(r, "requests.cpu"), "0.25");
	assert_string_equal(at_str(r, "requests.memory"), "67108864");
	r = at(obj(c, "b-deployment.yaml"), "spec.template.spec.containers[0].resources");
	assert_string_equal(at_str(r, "limits.memory"), "1073741824");
	assert_string_equal(at_str(r, "limits.cpu"), "2");
	conv_free(c);
}

static void healthcheck_as_probes(void **state)
{
	struct conv *c = conv("services:\n  a:\n    image: a\n    healthcheck: {test: [CMD-SHELL, curl -f "
			      "http://localhost/ || exit 1], "
			      "interval: 30s, timeout: 5s, retries: 3, start_period: 1m}\n"
			      "  b:\n    image: b\n    healthcheck: {test: [CMD, pg_isready, -U, app]}\n"
			      "  c:\n    image: c\n    healthcheck: {disable: true}\n");
	struct node *ctr = at(obj(c, "a-deployment.yaml"), "spec.template.spec.containers[0]");
	for (int i = 0; i < 2; i++) {
		struct node *p = node_map_get(ctr, i ? "readinessProbe" : "livenessProbe");
		assert_string_equal(at_str(p, "exec.command[0]"), "/bin/sh");
		assert_string_equal(at_str(p, "exec.command[1]"), "-c");
		assert_string_equal(at_str(p, "exec.command[2]"), "curl -f http://localhost/ || exit 1");
		assert_string_equal(at_str(p, "periodSeconds"), "30");
		assert_string_equal(at_str(p, "timeoutSeconds"), "5");
		assert_string_equal(at_str(p, "failureThreshold"), "3");
		assert_string_equal(at_str(p, "initialDelaySeconds"), "60");
	}
	ctr = at(obj(c, "b-deployment.yaml"), "spec.template.spec.containers[0]");
	assert_string_equal(at_str(ctr, "livenessProbe.exec.command[0]"), "pg_isready");
	assert_string_equal(at_str(ctr, "livenessProbe.exec.command[2]"), "app");
	assert_null(at(obj(c, "c-deployment.yaml"), "spec.template.spec.containers[0].livenessProbe"));
	conv_free(c);
}

static void depends_on_healthy_waits(void **state)
{
	struct conv *c = conv("services:\n  db:\n    image: postgres\n    expose: ['5432']\n"
			      "    healthcheck: {test: [CMD, pg_isready]}\n  once:\n    image: a\n    restart: 'no'\n"
			      "  app:\n    image: a\n    depends_on:\n      db: {condition: service_healthy}\n"
			      "      once: {condition: service_completed_successfully}\n");
	struct node *pod = at(obj(c, "app-deployment.yaml"), "spec.template.spec");
	assert_string_equal(at_str(pod, "initContainers[0].name"), "wait-for-db");
	assert_string_equal(at_str(pod, "initContainers[0].command[2]"), "until nc -z db 5432; do sleep 2; done");
	assert_null(at(pod, "initContainers[1]"));
	assert_non_null(strstr(c->report,
			       "services.app.depends_on.once: service_completed_successfully has no Kubernetes check"));
	conv_free(c);
}

static void ports_as_services(void **state)
{
	struct conv *c = conv_opts("services:\n  web:\n    image: a\n    expose: ['9000-9001', 53/udp]\n"
				   "    ports: ['8080:80', '127.0.0.1:30053:53/udp']\n  quiet:\n    image: a\n",
				   (struct convert_opts){.publish_type = "NodePort"});
	struct node *ctr = at(obj(c, "web-deployment.yaml"), "spec.template.spec.containers[0]");
	static const char *const names[] = {"web-9000", "web-9001", "web-53-udp", "web-80"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char path[32];
		snprintf(path, sizeof(path), "ports[%zu].name", i);
		assert_string_equal(at_str(ctr, path), names[i]);
	}
	assert_string_equal(at_str(ctr, "ports[2].protocol"), "UDP");
	assert_null(at(ctr, "ports[4]"));
	/* the service's own name answers on every port the container has */
	struct node *ex = obj(c, "web-expose.yaml");
	assert_string_equal(at_str(ex, "metadata.name"), "web");
	assert_string_equal(at_str(ex, "spec.ports[3].port"), "80");
	assert_string_equal(at_str(ex, "spec.ports[3].targetPort"), "web-80");
	assert_null(at(ex, "spec.type")); /* ClusterIP */
	/* the published ports: NAME-published, of --publish-type */
	struct node *pub = obj(c, "web-service.yaml");
	assert_string_equal(at_str(pub, "metadata.name"), "web-published");
	assert_string_equal(at_str(pub, "spec.type"), "NodePort");
	assert_string_equal(at_str(pub, "spec.ports[0].name"), "web-8080");
	assert_string_equal(at_str(pub, "spec.ports[0].port"), "8080");
	assert_string_equal(at_str(pub, "spec.ports[0].protocol"), "TCP");
	assert_string_equal(at_str(pub, "spec.ports[0].targetPort"), "web-80");
	assert_null(at(pub, "spec.ports[0].nodePort")); /* 8080 is outside the node port range */
	assert_string_equal(at_str(pub, "spec.ports[1].protocol"), "UDP");
	assert_string_equal(at_str(pub, "spec.ports[1].targetPort"), "web-53-udp");
	assert_string_equal(at_str(pub, "spec.ports[1].nodePort"), "30053");
	/* and open to anyone, past the networks' policies */
	struct node *np = obj(c, "web-published-network-policy.yaml");
	assert_string_equal(label(at(np, "spec.podSelector.matchLabels"), "com.docker.compose.service"), "web");
	assert_string_equal(at_str(np, "spec.ingress[0].ports[0].port"), "80");
	assert_null(at(np, "spec.ingress[0].from"));
	assert_false(has_file(c, "quiet-expose.yaml"));
	assert_false(has_file(c, "quiet-service.yaml"));
	conv_free(c);
}

static void short_port_names(void **state)
{
	struct conv *c = conv("services:\n  averyveryverylongname:\n    image: a\n    ports: ['18080:8080']\n");
	struct node *ctr = at(obj(c, "averyveryverylongname-deployment.yaml"), "spec.template.spec.containers[0]");
	assert_string_equal(at_str(ctr, "ports[0].name"), "averyveryv-8080"); /* 15 characters, as bridge cuts them */
	conv_free(c);
}

static void networks_as_policies(void **state)
{
	struct conv *c = conv("services:\n  web:\n    image: a\n    networks: [front, back]\n  db:\n    image: a\n    "
			      "networks: [back]\n"
			      "  lone:\n    image: a\n    networks: [side]\nnetworks:\n  front: {}\n  back: {internal: "
			      "true}\n  side: {}\n");
	struct node *side = obj(c, "side-network-policy.yaml");
	/* pods on a network take traffic from pods on it, as bridge writes it */
	assert_string_equal(label(at(side, "spec.podSelector.matchLabels"), "com.docker.compose.network.side"), "true");
	assert_string_equal(at_str(side, "spec.policyTypes[0]"), "Ingress");
	assert_null(at(side, "spec.policyTypes[1]"));
	assert_string_equal(
		label(at(side, "spec.ingress[0].from[0].podSelector.matchLabels"), "com.docker.compose.network.side"),
		"true");
	/* internal: out only to its own pods, and DNS */
	struct node *back = obj(c, "back-network-policy.yaml");
	assert_string_equal(at_str(back, "spec.policyTypes[1]"), "Egress");
	assert_string_equal(
		label(at(back, "spec.egress[0].to[0].podSelector.matchLabels"), "com.docker.compose.network.back"),
		"true");
	assert_string_equal(at_str(back, "spec.egress[1].ports[0].port"), "53");
	assert_null(at(back, "spec.egress[2]"));
	/* web is on back too, but front takes it out, as on the host */
	struct node *front = obj(c, "front-network-policy.yaml");
	assert_string_equal(at_str(front, "spec.policyTypes[1]"), "Egress");
	assert_int_equal(at(front, "spec.egress[0]")->kind, NODE_MAP);
	assert_int_equal(at(front, "spec.egress[0]")->n, 0);
	struct node *web = at(obj(c, "web-deployment.yaml"), "spec.template.metadata.labels");
	assert_string_equal(label(web, "com.docker.compose.network.front"), "true");
	assert_string_equal(label(web, "com.docker.compose.network.back"), "true");
	assert_null(label(at(obj(c, "db-deployment.yaml"), "spec.template.metadata.labels"),
			  "com.docker.compose.network.front"));
	conv_free(c);
}

static void volumes_claims_and_tmpfs(void **state)
{
	struct conv *c = conv("services:\n  db:\n    image: a\n    volumes: ['data:/var/lib/data', 'logs:/logs:ro', "
			      "'./conf:/etc/conf', "
			      "{type: tmpfs, target: /run/cache, tmpfs: {size: 64m}}]\n    tmpfs: [/tmp]\n"
			      "volumes:\n  data: {x-kubernetes: {size: 5Gi}}\n  logs: {}\n");
	struct node *pod = at(obj(c, "db-deployment.yaml"), "spec.template.spec");
	assert_string_equal(at_str(pod, "volumes[0].name"), "var-lib-data");
	assert_string_equal(at_str(pod, "volumes[0].persistentVolumeClaim.claimName"), "db-data");
	assert_string_equal(at_str(pod, "containers[0].volumeMounts[0].mountPath"), "/var/lib/data");
	assert_string_equal(at_str(pod, "containers[0].volumeMounts[1].readOnly"), "true");
	assert_string_equal(at_str(pod, "volumes[2].emptyDir.medium"), "Memory"); /* the bind mount is not there */
	assert_string_equal(at_str(pod, "volumes[2].emptyDir.sizeLimit"), "67108864");
	assert_string_equal(at_str(pod, "volumes[3].name"), "tmp");
	assert_null(at(pod, "volumes[4]"));
	assert_non_null(strstr(c->report, "ignored: services.db.volumes: bind mount "));
	struct node *claim = obj(c, "db-data-persistentVolumeClaim.yaml");
	assert_string_equal(at_str(claim, "spec.resources.requests.storage"), "5Gi");
	assert_string_equal(at_str(claim, "spec.accessModes[0]"), "ReadWriteOnce");
	claim = obj(c, "db-logs-persistentVolumeClaim.yaml");
	assert_string_equal(at_str(claim, "spec.resources.requests.storage"), "100Mi"); /* the default, said */
	assert_string_equal(at_str(claim, "spec.accessModes[0]"), "ReadOnlyMany");
	assert_non_null(strstr(c->report, "approximated: volumes.logs: a claim of 100Mi"));
	conv_free(c);
	c = conv_opts("services:\n  db:\n    image: a\n    volumes: ['/srv/conf:/etc/conf']\n",
		      (struct convert_opts){.allow_hostpath = true});
	assert_string_equal(at_str(obj(c, "db-deployment.yaml"), "spec.template.spec.volumes[0].hostPath.path"),
			    "/srv/conf");
	conv_free(c);
}

static void secrets_and_configs_mounted(void **state)
{
	struct conv *c = conv("services:\n  web:\n    image: a\n    secrets: [pw]\n    configs: [{source: app, target: "
			      "/etc/app.conf, mode: 0440}]\n"
			      "secrets:\n  pw: {environment: PW}\nconfigs:\n  app: {file: ./app.conf}\n");
	struct node *pod = at(obj(c, "web-deployment.yaml"), "spec.template.spec");
	assert_string_equal(at_str(pod, "containers[0].volumeMounts[0].mountPath"), "/run/secrets/pw");
	assert_string_equal(at_str(pod, "containers[0].volumeMounts[0].subPath"), "pw");
	assert_string_equal(at_str(pod, "containers[0].volumeMounts[1].mountPath"), "/etc/app.conf");
	assert_string_equal(at_str(pod, "volumes[0].secret.secretName"), "pw");
	assert_string_equal(at_str(pod, "volumes[1].configMap.name"), "shop");
	assert_string_equal(at_str(pod, "volumes[1].configMap.items[0].key"), "app");
	assert_string_equal(at_str(pod, "volumes[1].configMap.items[0].mode"), "288"); /* 0440 */
	assert_string_equal(at_str(obj(c, "pw-secret.yaml"), "data.pw"), "czNjcmV0");  /* base64 of s3cret */
	assert_string_equal(at_str(obj(c, "shop-configs.yaml"), "data.app"), "listen 80\n");
	assert_non_null(strstr(yaml_of(c, "shop-configs.yaml"), "    app: |\n        listen 80\n"));
	conv_free(c);
}

static void one_shot_services_are_jobs(void **state)
{
	struct conv *c = conv(
		"services:\n  a:\n    image: a\n    restart: 'no'\n  b:\n    image: a\n    restart: on-failure:3\n"
		"  c:\n    image: a\n    restart: unless-stopped\n");
	struct node *a = obj(c, "a-job.yaml");
	assert_string_equal(at_str(a, "kind"), "Job");
	assert_string_equal(at_str(a, "apiVersion"), "batch/v1");
	assert_string_equal(at_str(a, "spec.template.spec.restartPolicy"), "Never");
	assert_null(at(a, "spec.replicas"));
	assert_string_equal(at_str(obj(c, "b-job.yaml"), "spec.template.spec.restartPolicy"), "OnFailure");
	assert_string_equal(at_str(obj(c, "c-deployment.yaml"), "kind"), "Deployment");
	conv_free(c);
}

static void global_is_a_daemonset(void **state)
{
	struct conv *c = conv("services:\n  agent:\n    image: a\n    deploy: {mode: global}\n");
	struct node *d = obj(c, "agent-deployment.yaml"); /* bridge's file name */
	assert_string_equal(at_str(d, "kind"), "DaemonSet");
	assert_null(at(d, "spec.replicas"));
	assert_null(at(d, "spec.strategy"));
	assert_string_equal(label(at(d, "spec.selector.matchLabels"), "com.docker.compose.service"), "agent");
	assert_null(strstr(c->report, "deploy.mode"));
	conv_free(c);
}

static void replicated_state_is_a_statefulset(void **state)
{
	struct conv *c = conv("services:\n  db:\n    image: a\n    deploy: {replicas: 3}\n    volumes: ['data:/data']\n"
			      "    init: true\n    stop_grace_period: 1m30s\n    x-kubernetes: {spec: {template: "
			      "{spec: {priorityClassName: high}}}}\n"
			      "volumes:\n  data: {}\n");
	struct node *s = obj(c, "db-statefulset.yaml");
	assert_string_equal(at_str(s, "kind"), "StatefulSet");
	assert_string_equal(at_str(s, "spec.serviceName"), "db");
	assert_string_equal(at_str(s, "spec.replicas"), "3");
	assert_string_equal(at_str(s, "spec.volumeClaimTemplates[0].metadata.name"), "data");
	assert_string_equal(at_str(s, "spec.template.spec.containers[0].volumeMounts[0].name"), "data");
	assert_string_equal(at_str(s, "spec.template.spec.shareProcessNamespace"), "true");
	assert_string_equal(at_str(s, "spec.template.spec.terminationGracePeriodSeconds"), "90");
	assert_string_equal(at_str(s, "spec.template.spec.priorityClassName"), "high"); /* x-kubernetes, as given */
	assert_false(has_file(c, "db-data-persistentVolumeClaim.yaml"));
	conv_free(c);
}

static void unmapped_keys_said_or_refused(void **state)
{
	const char *text = "services:\n  web:\n    image: a\n    devices: ['/dev/null:/dev/n2']\n    security_opt: "
			   "[label=disable]\n";
	struct conv *c = conv(text);
	assert_non_null(strstr(c->report, "ignored: services.web.devices\n"));
	assert_non_null(strstr(c->report, "ignored: services.web.security_opt\n"));
	conv_free(c);
	c = conv_load(text);
	struct berr *err = NULL;
	assert_true(convert_objects(c->p, &(struct convert_opts){.strict = true}, &c->f, &c->n, &err) < 0);
	assert_non_null(strstr(err->msg, "services.web.devices has no Kubernetes mapping (--strict)"));
	berr_free(err);
	conv_free(c);
}

static void a_chart_reads_its_values(void **state)
{
	struct conv *c = conv_opts(
		"services:\n  web:\n    image: nginx\n    ports: ['8080:80']\n  my-api:\n    image: api:2\n",
		(struct convert_opts){.to = "helm"});
	const char *d = yaml_of(c, "web-deployment.yaml");
	assert_non_null(strstr(d, "    namespace: {{ .Values.namespace }}\n"));
	assert_non_null(strstr(d, "    replicas: {{ .Values.web.replicas }}\n"));
	assert_non_null(strstr(d, "                  image: {{ .Values.web.image }}\n"));
	assert_non_null(strstr(d, "        type: {{ .Values.deployment.strategy }}\n"));
	assert_non_null(strstr(d, "        app.kubernetes.io/managed-by: Helm\n"));
	/* a name that is no Go identifier is reached with index */
	assert_non_null(
		strstr(yaml_of(c, "my-api-deployment.yaml"), "image: {{ index .Values \"my-api\" \"image\" }}\n"));
	assert_non_null(strstr(yaml_of(c, "web-service.yaml"), "port: {{ index .Values.web.ports \"web-8080\" }}\n"));
	assert_non_null(strstr(yaml_of(c, "web-service.yaml"), "type: {{ .Values.service.type }}\n"));
	struct node *v = obj(c, "values.yaml");
	assert_string_equal(at_str(v, "namespace"), "shop");
	assert_string_equal(at_str(v, "web.image"), "nginx");
	assert_string_equal(at_str(v, "web.replicas"), "1");
	assert_string_equal(at_str(v, "web.ports.web-8080"), "8080");
	assert_string_equal(at_str(v, "service.type"), "ClusterIP");
	assert_string_equal(node_str(node_map_get(node_map_get(v, "my-api"), "image")), "api:2");
	conv_free(c);
}

/* The layout Go's yaml.v3 writes, which docker compose bridge's files have. */
static void yaml_v3_layout(void **state)
{
	struct node *n = yaml_doc(
		"a:\n  b: 1\n  list:\n  - x: 1\n    y: [p, q]\n    z: {k: v}\n  - plain\n  - \"true\"\n"
		"  text: |\n    two\n    lines\n  empty: {}\n  nested:\n  - - 1\n    - 2\n");
	struct buf out = {0};
	struct berr *err = NULL;
	assert_int_equal(emit_yaml_v3(n, &out, &err), 0);
	assert_string_equal(out.s, "a:\n"
				   "    b: 1\n"
				   "    list:\n"
				   "        - x: 1\n"
				   "          \"y\":\n" /* quoted as yaml.v3 quotes YAML 1.1's booleans */
				   "            - p\n"
				   "            - q\n"
				   "          z:\n"
				   "            k: v\n"
				   "        - plain\n"
				   "        - \"true\"\n"
				   "    text: |\n"
				   "        two\n"
				   "        lines\n"
				   "    empty: {}\n"
				   "    nested:\n"
				   "        - - 1\n"
				   "          - 2\n");
	buf_free(&out);
	node_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(names_kubernetes_takes),
					   cmocka_unit_test(every_schema_key_is_classified),
					   cmocka_unit_test(every_rule_is_a_schema_key),
					   cmocka_unit_test(the_document_is_the_tables),
					   cmocka_unit_test(a_service_is_a_deployment),
					   cmocka_unit_test(command_environment_and_workdir),
					   cmocka_unit_test(user_capabilities_and_read_only),
					   cmocka_unit_test(limits_and_reservations),
					   cmocka_unit_test(healthcheck_as_probes),
					   cmocka_unit_test(depends_on_healthy_waits),
					   cmocka_unit_test(ports_as_services),
					   cmocka_unit_test(short_port_names),
					   cmocka_unit_test(networks_as_policies),
					   cmocka_unit_test(volumes_claims_and_tmpfs),
					   cmocka_unit_test(secrets_and_configs_mounted),
					   cmocka_unit_test(one_shot_services_are_jobs),
					   cmocka_unit_test(global_is_a_daemonset),
					   cmocka_unit_test(replicated_state_is_a_statefulset),
					   cmocka_unit_test(unmapped_keys_said_or_refused),
					   cmocka_unit_test(a_chart_reads_its_values),
					   cmocka_unit_test(yaml_v3_layout)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
