/* Services as Kubernetes workloads: Deployments or StatefulSets with their
 * containers, probes, resources, security contexts, ports, mounts and the
 * init containers that wait for dependencies; and their Services. */
#include "convert_int.h"

#include <errno.h>

#include "../orchestrator/units.h"

static long long seconds_of(struct node *n)
{
	long long ns = 0;
	if (node_str(n) && duration_parse(n->str, &ns) == 0)
		return ns / 1000000000LL;
	return 0;
}

static struct node *probe(struct node *hc)
{
	struct node *test = node_map_get(hc, "test");
	if (!test || test->kind != NODE_SEQ || test->n < 2)
		return NULL;
	const char *kind = node_str(test->items[0]);
	struct node *p = map(), *cmd = set(set(p, "exec", map()), "command", seq());
	if (streq(kind, "CMD-SHELL")) {
		push(cmd, str("/bin/sh"));
		push(cmd, str("-c"));
		struct buf b = {0};
		for (size_t i = 1; i < test->n; i++)
			buf_printf(&b, "%s%s", i > 1 ? " " : "", node_str(test->items[i]) ?: "");
		push(cmd, str(b.s));
		buf_free(&b);
	} else {
		for (size_t i = 1; i < test->n; i++)
			push(cmd, str(node_str(test->items[i])));
	}
	long long v;
	if ((v = seconds_of(node_map_get(hc, "interval"))) > 0)
		set(p, "periodSeconds", num(v));
	if ((v = seconds_of(node_map_get(hc, "start_period"))) > 0)
		set(p, "initialDelaySeconds", num(v));
	if ((v = seconds_of(node_map_get(hc, "timeout"))) > 0)
		set(p, "timeoutSeconds", num(v));
	if (node_int(node_map_get(hc, "retries"), &v) == 0 && v > 0)
		set(p, "failureThreshold", num(v));
	return p;
}

static char *quantity_bytes(struct node *n)
{
	long long b = 0;
	if (node_int(n, &b) == 0 || (node_str(n) && bytes_parse(n->str, &b) == 0))
		return b > 0 ? xasprintf("%lld", b) : NULL;
	return NULL;
}

void convert_resources(struct node *c, struct node *svc)
{
	struct node *res = node_map_get(node_map_get(svc, "deploy"), "resources");
	static const char *const sides[] = {"limits", "reservations"}, *const k8s[] = {"limits", "requests"};
	struct node *out = NULL;
	for (size_t s = 0; s < 2; s++) {
		struct node *from = node_map_get(res, sides[s]);
		const char *cpus = node_str(node_map_get(from, "cpus"));
		_cleanup_free_ char *mem = quantity_bytes(node_map_get(from, "memory"));
		if (s == 0 && !cpus)
			cpus = node_str(node_map_get(svc, "cpus"));
		if (s == 0 && !mem)
			mem = quantity_bytes(node_map_get(svc, "mem_limit"));
		if (!cpus && !mem)
			continue;
		if (!out)
			out = set(c, "resources", map());
		struct node *side = set(out, k8s[s], map());
		if (cpus)
			set(side, "cpu", str(cpus));
		if (mem)
			set(side, "memory", str(mem));
	}
}

static void security(struct out *w, const char *service, struct node *c, struct node *svc)
{
	const char *user = node_str(node_map_get(svc, "user"));
	bool ro = false, priv = false;
	node_bool(node_map_get(svc, "read_only"), &ro);
	node_bool(node_map_get(svc, "privileged"), &priv);
	struct node *add = node_map_get(svc, "cap_add"), *drop = node_map_get(svc, "cap_drop");
	unsigned uid, gid;
	int got = user ? sscanf(user, "%u:%u", &uid, &gid) : 0;
	if (user && got < 1 && w->o->report) /* runAsUser takes a number; the image's user by name stays */
		fprintf(w->o->report,
			"ignored: services.%s.user: %s is a name; Kubernetes takes a number (runAsUser)\n", service,
			user);
	if (got < 1 && !ro && !priv && !add && !drop)
		return;
	struct node *sc = set(c, "securityContext", map());
	if (got >= 1)
		set(sc, "runAsUser", num(uid));
	if (got == 2)
		set(sc, "runAsGroup", num(gid));
	if (ro)
		set(sc, "readOnlyRootFilesystem", flag(true));
	if (priv)
		set(sc, "privileged", flag(true));
	if (add || drop) {
		struct node *caps = set(sc, "capabilities", map());
		static const char *const keys[] = {"cap_add", "cap_drop"}, *const k8s[] = {"add", "drop"};
		for (size_t i = 0; i < 2; i++) {
			struct node *l = node_map_get(svc, keys[i]);
			if (!l || l->kind != NODE_SEQ)
				continue;
			struct node *s = set(caps, k8s[i], seq());
			for (size_t k = 0; k < l->n; k++) { /* Kubernetes names them without CAP_ */
				const char *cap = node_str(l->items[k]) ?: "";
				push(s, str(startswith(cap, "CAP_") ? cap + 4 : cap));
			}
		}
	}
}

struct cport {
	unsigned port;
	const char *proto; /* TCP, UDP, SCTP */
};

static void add_cport(struct cport **ps, size_t *n, unsigned port, const char *proto)
{
	for (size_t k = 0; k < *n; k++)
		if ((*ps)[k].port == port && streq((*ps)[k].proto, proto))
			return;
	*ps = xrealloc(*ps, (*n + 1) * sizeof(**ps));
	(*ps)[(*n)++] = (struct cport){port, proto};
}

/* The ports the container answers on: its expose (ranges one by one) and
 * its published ports' targets. */
static struct cport *service_ports(struct node *svc, size_t *n)
{
	struct cport *ps = NULL;
	*n = 0;
	struct node *ex = node_map_get(svc, "expose"), *ports = node_map_get(svc, "ports");
	for (size_t i = 0; ex && ex->kind == NODE_SEQ && i < ex->n; i++) {
		const char *e = node_str(ex->items[i]);
		unsigned lo = 0, hi = 0;
		int got = e ? sscanf(e, "%u-%u", &lo, &hi) : 0;
		if (got < 2)
			hi = lo;
		const char *slash = e ? strchr(e, '/') : NULL;
		for (unsigned p = lo; got >= 1 && lo && p <= hi && hi < 65536; p++)
			add_cport(&ps, n, p, convert_k8s_proto(slash ? slash + 1 : NULL));
	}
	for (size_t i = 0; ports && ports->kind == NODE_SEQ && i < ports->n; i++) {
		long long t = 0;
		node_int(node_map_get(ports->items[i], "target"), &t);
		if (t > 0 && t < 65536)
			add_cport(&ps, n, (unsigned)t,
				  convert_k8s_proto(node_str(node_map_get(ports->items[i], "protocol"))));
	}
	return ps;
}

static void container_ports(struct node *c, const char *service, struct node *svc)
{
	size_t n;
	struct cport *ps = service_ports(svc, &n);
	struct node *s = n ? set(c, "ports", seq()) : NULL;
	for (size_t i = 0; i < n; i++) {
		struct node *p = push(s, map());
		_cleanup_free_ char *pn = convert_port_name(service, ps[i].port, ps[i].proto);
		set(p, "name", str(pn));
		set(p, "containerPort", num(ps[i].port));
		if (!streq(ps[i].proto, "TCP"))
			set(p, "protocol", str(ps[i].proto));
	}
	free(ps);
}

static char *mount_name(const char *target) { return k8s_name(target); }

/* A mount in the container and the pod volume it names. */
static struct node *mount(struct node *c, struct node *pv, const char *target, bool ro)
{
	struct node *vm = node_map_get(c, "volumeMounts") ? node_map_get(c, "volumeMounts")
							  : set(c, "volumeMounts", seq());
	_cleanup_free_ char *mn = mount_name(target);
	struct node *m = push(vm, map());
	set(m, "name", str(mn));
	set(m, "mountPath", str(target));
	if (ro)
		set(m, "readOnly", flag(true));
	struct node *pvol = push(pv, map());
	set(pvol, "name", str(mn));
	return pvol;
}

/* The container's mounts (volumes, tmpfs, secrets, configs) and into
 * *pod_volumes the pod's volumes they name (secrets and configs first, as
 * docker compose bridge lists them); NULL when there are none. */
static int mounts(struct out *w, const char *service, struct node *svc, struct node *c, struct node **pod_volumes,
		  struct berr **err)
{
	struct node *vols = node_map_get(svc, "volumes"), *tmpfs = node_map_get(svc, "tmpfs");
	struct node *front = seq(), *back = seq();
	*pod_volumes = NULL;
	for (size_t i = 0; vols && vols->kind == NODE_SEQ && i < vols->n; i++) {
		struct node *v = vols->items[i];
		const char *type = node_str(node_map_get(v, "type")), *src = node_str(node_map_get(v, "source")),
			   *target = node_str(node_map_get(v, "target"));
		bool ro = false;
		node_bool(node_map_get(v, "read_only"), &ro);
		if (!target)
			continue;
		if (streq(type, "bind") && !w->o->allow_hostpath) {
			if (w->o->strict) {
				node_free(front);
				node_free(back);
				return berr_set(err, EINVAL,
						"services.%s.volumes: the bind mount of %s has no Kubernetes "
						"mapping (--allow-hostpath makes it a hostPath)",
						service, src ? src : "?");
			}
			if (w->o->report)
				fprintf(w->o->report,
					"ignored: services.%s.volumes: bind mount %s at %s (a host path: "
					"--allow-hostpath "
					"makes it a hostPath)\n",
					service, src ? src : "?", target);
			continue;
		}
		if (!streq(type, "volume") && !streq(type, "bind") && !streq(type, "tmpfs")) {
			if (w->o->report)
				fprintf(w->o->report, "ignored: services.%s.volumes: %s at %s\n", service,
					type ? type : "?", target);
			continue;
		}
		struct node *pvol = mount(c, back, target, ro);
		if (streq(type, "volume") && src && w->claims_in_template) {
			/* the claim template's name is the mount's: the pod volume goes */
			struct node *vm = node_map_get(c, "volumeMounts");
			_cleanup_free_ char *vn = k8s_name(src);
			node_map_set(vm->items[vm->n - 1], "name", str(vn));
			back->n--;
			node_free(pvol);
		} else if (streq(type, "volume") && src) {
			_cleanup_free_ char *claim = convert_claim_name(service, src);
			set(set(pvol, "persistentVolumeClaim", map()), "claimName", str(claim));
		} else if (streq(type, "volume")) { /* anonymous: the pod's own */
			set(pvol, "emptyDir", map());
		} else if (streq(type, "bind")) {
			set(set(pvol, "hostPath", map()), "path", str(src));
		} else {
			struct node *ed = set(pvol, "emptyDir", map());
			set(ed, "medium", str("Memory"));
			_cleanup_free_ char *size = quantity_bytes(node_map_get(node_map_get(v, "tmpfs"), "size"));
			if (size)
				set(ed, "sizeLimit", str(size));
		}
	}
	for (size_t i = 0; tmpfs && tmpfs->kind == NODE_SEQ && i < tmpfs->n; i++) {
		const char *spec = node_str(tmpfs->items[i]);
		if (!spec)
			continue;
		_cleanup_free_ char *target = xstrndup(spec, strcspn(spec, ":"));
		set(set(mount(c, back, target, false), "emptyDir", map()), "medium", str("Memory"));
	}
	static const char *const lists[] = {"secrets", "configs"};
	for (size_t l = 0; l < 2; l++) {
		struct node *refs = node_map_get(svc, lists[l]);
		for (size_t i = 0; refs && refs->kind == NODE_SEQ && i < refs->n; i++) {
			struct node *ref = refs->items[i];
			const char *src = node_str(node_map_get(ref, "source"));
			const char *target = node_str(node_map_get(ref, "target"));
			if (!src)
				continue;
			_cleanup_free_ char *deftarget = l == 0 ? xasprintf("/run/secrets/%s", src)
								: xasprintf("/%s", src);
			if (!target)
				target = deftarget;
			else if (l == 0 && target[0] != '/')
				target = deftarget; /* a relative secret target is under /run/secrets */
			struct node *pvol = mount(c, front, target, false);
			struct node *m = node_map_get(c, "volumeMounts");
			m = m->items[m->n - 1];
			set(m, "subPath", str(src));
			set(m, "readOnly", flag(true));
			struct node *from = set(pvol, l == 0 ? "secret" : "configMap", map());
			static const char *const pk[] = {"projectName"};
			_cleanup_free_ char *on = k8s_name(l == 0 ? src : w->p->name);
			set(from, l == 0 ? "secretName" : "name",
			    l == 1 && w->values ? convert_values_ref(pk, 1) : str(on));
			struct node *item = push(set(from, "items", seq()), map());
			set(item, "key", str(src));
			set(item, "path", str(src));
			long long mode;
			if (node_int(node_map_get(ref, "mode"), &mode) == 0)
				set(item, "mode", num(mode));
		}
	}
	for (size_t i = 0; i < back->n; i++)
		push(front, back->items[i]);
	back->n = 0;
	node_free(back);
	if (front->n)
		*pod_volumes = front;
	else
		node_free(front);
	return 0;
}

/* x-kubernetes: its keys merged into the object as given (maps into maps,
 * anything else replacing what is there). */
static void merge_into(struct node *obj, const struct node *ext)
{
	for (size_t i = 0; ext && ext->kind == NODE_MAP && obj->kind == NODE_MAP && i < ext->n; i++) {
		struct node *have = node_map_get(obj, ext->pairs[i].key);
		if (have && have->kind == NODE_MAP && ext->pairs[i].val->kind == NODE_MAP)
			merge_into(have, ext->pairs[i].val);
		else
			node_map_set(obj, ext->pairs[i].key, node_clone(ext->pairs[i].val));
	}
}

/* The first TCP port a service answers on (expose, or a published
 * port's target), 0 when none. */
static unsigned first_port(struct node *svc)
{
	size_t n;
	struct cport *ps = service_ports(svc, &n);
	unsigned p = 0;
	for (size_t i = 0; !p && i < n; i++)
		p = streq(ps[i].proto, "TCP") ? ps[i].port : 0;
	free(ps);
	return p;
}

/* depends_on service_healthy: an init container that waits until the
 * dependency's Service answers on its first port (its pods are ready
 * only once healthy: the readiness probe is its healthcheck). Other
 * conditions have no such check: said. */
static int wait_for_deps(struct out *w, const char *service, struct node *svc, struct node *pod, struct berr **err)
{
	struct node *deps = node_map_get(svc, "depends_on");
	struct node *inits = NULL;
	for (size_t i = 0; deps && deps->kind == NODE_MAP && i < deps->n; i++) {
		const char *dep = deps->pairs[i].key;
		const char *cond = node_str(node_map_get(deps->pairs[i].val, "condition"));
		unsigned port = first_port(project_service(w->p, dep));
		if (!streq(cond, "service_healthy") || !port) {
			if (cond && !streq(cond, "service_started") && w->o->strict)
				return berr_set(err, EINVAL,
						"services.%s.depends_on.%s: %s has no Kubernetes check (--strict)",
						service, dep, cond);
			if (cond && !streq(cond, "service_started") && w->o->report)
				fprintf(w->o->report,
					"ignored: services.%s.depends_on.%s: %s has no Kubernetes check here%s\n",
					service, dep, cond,
					streq(cond, "service_healthy") ? " (the service has no port to wait for)" : "");
			continue;
		}
		if (!inits)
			inits = set(pod, "initContainers", seq());
		_cleanup_free_ char *dn = k8s_name(dep);
		_cleanup_free_ char *join = xasprintf("wait-for-%s", dep), *name = k8s_name(join); /* at most 63 */
		_cleanup_free_ char *script = xasprintf("until nc -z %s %u; do sleep 2; done", dn, port);
		struct node *c = push(inits, map());
		set(c, "name", str(name));
		set(c, "image", str("busybox"));
		struct node *cmd = set(c, "command", seq());
		push(cmd, str("sh"));
		push(cmd, str("-c"));
		push(cmd, str(script));
	}
	return 0;
}

/* A replicated service with a named volume: each replica its own claim. */
static bool stateful(struct node *svc, long long replicas)
{
	struct node *vols = node_map_get(svc, "volumes");
	for (size_t i = 0; replicas > 1 && vols && vols->kind == NODE_SEQ && i < vols->n; i++)
		if (streq(node_str(node_map_get(vols->items[i], "type")), "volume") &&
		    node_str(node_map_get(vols->items[i], "source")))
			return true;
	return false;
}

/* ---- one service: a Deployment (a DaemonSet when global, a
 * StatefulSet when its replicas each need a volume), or a Job when it
 * runs once ---- */

int convert_workload(struct out *w, const char *service, struct node *svc, struct berr **err)
{
	int r = convert_report_unmapped(w, service, svc, err);
	if (r < 0)
		return r;
	const char *restart = node_str(node_map_get(svc, "restart"));
	bool job = restart && (streq(restart, "no") || startswith(restart, "on-failure"));
	long long replicas = 1;
	if (node_int(node_map_get(svc, "scale"), &replicas) < 0)
		node_int(node_map_get(node_map_get(svc, "deploy"), "replicas"), &replicas);
	bool global = !job && streq(node_str(node_map_get(node_map_get(svc, "deploy"), "mode")), "global");
	bool sts = !job && !global && stateful(svc, replicas);
	w->claims_in_template = sts;
	if (w->values) { /* its values in the order bridge's chart has them: image first */
		struct node *v = set(w->values, service, map());
		set(v, "image", node_new_null(nowhere));
		set(v, "imagePullPolicy", node_new_null(nowhere));
	}
	_cleanup_free_ char *name = k8s_name(service);
	struct node *obj = map();
	set(obj, "apiVersion", str(job ? "batch/v1" : "apps/v1"));
	set(obj, "kind", str(job ? "Job" : sts ? "StatefulSet" : global ? "DaemonSet" : "Deployment"));
	struct node *md = convert_metadata(w, obj, name);
	set(md, "labels", convert_own_labels(w, service));
	struct node *ann = node_map_get(svc, "annotations");
	struct node *spec = set(obj, "spec", map());
	if (!job) { /* a DaemonSet has a pod on every node: no replicas, no strategy */
		if (sts)
			set(spec, "serviceName", str(name));
		if (!global)
			set(spec, "replicas", convert_valued(w, service, "replicas", NULL, num(replicas)));
		set(set(spec, "selector", map()), "matchLabels", convert_labels_of(w->p->name, service));
		if (!sts && !global) {
			static const char *const k[] = {"deployment", "strategy"};
			set(set(spec, "strategy", map()), "type",
			    w->values ? convert_values_ref(k, 2) : str("Recreate"));
		}
	}
	struct node *tmpl = set(spec, "template", map());
	struct node *tmd = set(tmpl, "metadata", map());
	struct node *tl = set(tmd, "labels", convert_labels_of(w->p->name, service));
	struct node *nets = node_map_get(svc, "networks");
	_cleanup_(strv_freep) char **net_names = convert_sorted_keys(
		nets); /* in the order bridge's template ranges them */
	for (size_t i = 0; net_names && net_names[i]; i++) {
		_cleanup_free_ char *l = xasprintf("com.docker.compose.network.%s", net_names[i]);
		set(tl, l, str("true"));
	}
	struct node *ul = node_map_get(svc, "labels");
	for (size_t i = 0; ul && ul->kind == NODE_MAP && i < ul->n; i++)
		set(tl, ul->pairs[i].key, str(node_str(ul->pairs[i].val)));
	if (ann && ann->kind == NODE_MAP) {
		struct node *ta = set(tmd, "annotations", map());
		for (size_t i = 0; i < ann->n; i++)
			set(ta, ann->pairs[i].key, str(node_str(ann->pairs[i].val)));
	}
	struct node *pod = set(tmpl, "spec", map());
	if (job)
		set(pod, "restartPolicy", str(streq(restart, "no") ? "Never" : "OnFailure"));
	bool init = false;
	node_bool(node_map_get(svc, "init"), &init);
	if (init) /* the pod's pause process reaps zombies, as an init does */
		set(pod, "shareProcessNamespace", flag(true));
	long long grace = seconds_of(node_map_get(svc, "stop_grace_period"));
	if (node_map_get(svc, "stop_grace_period"))
		set(pod, "terminationGracePeriodSeconds", num(grace));
	const char *hostname = node_str(node_map_get(svc, "hostname"));
	if (hostname) {
		_cleanup_free_ char *h = k8s_name(hostname);
		set(pod, "hostname", str(h));
	}
	r = wait_for_deps(w, service, svc, pod, err);
	if (r < 0) {
		node_free(obj);
		return r;
	}
	struct node *containers = set(pod, "containers", seq());
	struct node *c = push(containers, map());
	const char *cname = node_str(node_map_get(svc, "container_name"));
	_cleanup_free_ char *cn = k8s_name(cname ? cname : service);
	set(c, "name", str(cn));
	const char *image = node_str(node_map_get(svc, "image"));
	_cleanup_free_ char *built = image ? NULL : xasprintf("%s-%s", w->p->name, service);
	set(c, "image", convert_valued(w, service, "image", NULL, str(image ? image : built)));
	const char *pp = node_str(node_map_get(svc, "pull_policy"));
	set(c, "imagePullPolicy",
	    convert_valued(w, service, "imagePullPolicy", NULL,
			   str(streq(pp, "always")                        ? "Always"
			       : streq(pp, "never") || streq(pp, "build") ? "Never"
									  : "IfNotPresent")));
	if (node_map_get(svc, "entrypoint"))
		set(c, "command", convert_str_list(node_map_get(svc, "entrypoint")));
	if (node_map_get(svc, "command"))
		set(c, "args", convert_str_list(node_map_get(svc, "command")));
	const char *wd = node_str(node_map_get(svc, "working_dir"));
	if (wd)
		set(c, "workingDir", str(wd));
	struct node *env = node_map_get(svc, "environment");
	if (env && env->kind == NODE_MAP && env->n) {
		struct node *e = set(c, "env", seq());
		_cleanup_(strv_freep) char **names = convert_sorted_keys(env);
		for (size_t i = 0; names[i]; i++) {
			struct node *kv = push(e, map());
			set(kv, "name", str(names[i]));
			set(kv, "value", str(node_str(node_map_get(env, names[i]))))->flags |=
				NF_QUOTED; /* as bridge's %q */
		}
	}
	bool tty = false, in = false;
	if (node_bool(node_map_get(svc, "tty"), &tty) == 0 && tty)
		set(c, "tty", flag(true));
	if (node_bool(node_map_get(svc, "stdin_open"), &in) == 0 && in)
		set(c, "stdin", flag(true));
	security(w, service, c, svc);
	convert_resources(c, svc);
	struct node *hc = node_map_get(svc, "healthcheck");
	bool disabled = false;
	node_bool(node_map_get(hc, "disable"), &disabled);
	struct node *live = hc && !disabled ? probe(hc) : NULL, *ready = hc && !disabled ? probe(hc) : NULL;
	if (live) {
		set(c, "livenessProbe", live);
		set(c, "readinessProbe", ready);
	}
	container_ports(c, service, svc);
	struct node *pod_volumes = NULL;
	r = mounts(w, service, svc, c, &pod_volumes, err);
	struct node *dns = node_map_get(svc, "dns"), *search = node_map_get(svc, "dns_search"),
		    *opts = node_map_get(svc, "dns_opt");
	if (r == 0 && (dns || search || opts)) {
		struct node *dc = set(pod, "dnsConfig", map());
		if (dns)
			set(dc, "nameservers", convert_str_list(dns));
		if (search)
			set(dc, "searches", convert_str_list(search));
		for (size_t i = 0; opts && opts->kind == NODE_SEQ && i < opts->n; i++) {
			struct node *o = node_map_get(dc, "options") ? node_map_get(dc, "options")
								     : set(dc, "options", seq());
			const char *t = node_str(opts->items[i]) ?: "";
			const char *colon = strchr(t, ':');
			struct node *one = push(o, map());
			_cleanup_free_ char *k = colon ? xstrndup(t, (size_t)(colon - t)) : xstrdup(t);
			set(one, "name", str(k));
			if (colon)
				set(one, "value", str(colon + 1));
		}
	}
	if (pod_volumes)
		set(pod, "volumes", pod_volumes);
	if (r < 0) {
		node_free(obj);
		return r;
	}
	if (sts) { /* each replica its own claim of each named volume */
		struct node *vct = set(spec, "volumeClaimTemplates", seq());
		struct node *vols = node_map_get(svc, "volumes");
		for (size_t i = 0; vols && vols->kind == NODE_SEQ && i < vols->n; i++) {
			const char *src = node_str(node_map_get(vols->items[i], "source"));
			if (!streq(node_str(node_map_get(vols->items[i], "type")), "volume") || !src)
				continue;
			_cleanup_free_ char *vn = k8s_name(src);
			struct node *t = push(vct, map());
			set(set(t, "metadata", map()), "name", str(vn));
			struct node *ts = set(t, "spec", map());
			push(set(ts, "accessModes", seq()), str("ReadWriteOnce"));
			const char *size = node_str(node_map_get(
				node_map_get(node_map_get(node_map_get(w->p->doc, "volumes"), src), "x-kubernetes"),
				"size"));
			set(set(set(ts, "resources", map()), "requests", map()), "storage",
			    convert_claim_size(w, size));
		}
	}
	struct node *pv = node_map_get(pod, "volumes");
	if (pv && pv->kind == NODE_SEQ && pv->n == 0) /* all of them claim templates */
		node_map_del(pod, "volumes");
	merge_into(obj, node_map_get(svc, "x-kubernetes"));
	_cleanup_free_ char *file = xasprintf("%s-%s.yaml", service, job ? "job" : sts ? "statefulset" : "deployment");
	return convert_add_file(w, file, obj, err);
}

/* A Service of the ports: the exposed ones under the service's own name
 * (ClusterIP: its DNS name keeps working), the published ones as
 * NAME-published. */
int convert_services_of(struct out *w, const char *service, struct node *svc, struct berr **err)
{
	_cleanup_free_ char *name = k8s_name(service);
	size_t nt;
	struct cport *targets = service_ports(svc, &nt);
	int r = 0;
	if (nt) {
		struct node *obj = map();
		set(obj, "apiVersion", str("v1"));
		set(obj, "kind", str("Service"));
		set(convert_metadata(w, obj, name), "labels", convert_own_labels(w, service));
		struct node *spec = set(obj, "spec", map());
		set(spec, "selector", convert_labels_of(w->p->name, service));
		struct node *ports = set(spec, "ports", seq());
		for (size_t i = 0; i < nt; i++) {
			_cleanup_free_ char *pn = convert_port_name(service, targets[i].port, targets[i].proto);
			struct node *p = push(ports, map());
			set(p, "name", str(pn));
			set(p, "port", num(targets[i].port));
			if (!streq(targets[i].proto, "TCP"))
				set(p, "protocol", str(targets[i].proto));
			set(p, "targetPort", str(pn));
		}
		_cleanup_free_ char *file = xasprintf("%s-expose.yaml", service);
		r = convert_add_file(w, file, obj, err);
	}
	free(targets);
	struct node *published = node_map_get(svc, "ports");
	bool any = false;
	for (size_t i = 0; published && published->kind == NODE_SEQ && i < published->n; i++)
		any |= node_str(node_map_get(published->items[i], "published")) != NULL;
	if (r < 0 || !any)
		return r;
	_cleanup_free_ char *pjoin = xasprintf("%s-published", service), *pname = k8s_name(pjoin);
	struct node *obj = map();
	set(obj, "apiVersion", str("v1"));
	set(obj, "kind", str("Service"));
	set(convert_metadata(w, obj, pname), "labels", convert_own_labels(w, service));
	struct node *spec = set(obj, "spec", map());
	/* no type is ClusterIP (the kustomize overlay makes it a LoadBalancer) */
	const char *type = w->o->publish_type ? w->o->publish_type : "ClusterIP";
	static const char *const tk[] = {"service", "type"};
	if (w->values)
		set(spec, "type", convert_values_ref(tk, 2));
	else if (w->o->publish_type)
		set(spec, "type", str(type));
	set(spec, "selector", convert_labels_of(w->p->name, service));
	struct node *ports = set(spec, "ports", seq()), *allow = seq();
	for (size_t i = 0; i < published->n; i++) {
		struct node *pp = published->items[i];
		const char *pub = node_str(node_map_get(pp, "published"));
		long long target = 0;
		node_int(node_map_get(pp, "target"), &target);
		unsigned port = 0;
		if (!pub || sscanf(pub, "%u", &port) != 1 || !port)
			continue;
		const char *proto = convert_k8s_proto(node_str(node_map_get(pp, "protocol")));
		_cleanup_free_ char *pn = convert_port_name(service, port, proto);
		_cleanup_free_ char *tn = convert_port_name(service, (unsigned)target, proto);
		struct node *p = push(ports, map());
		set(p, "name", str(pn));
		set(p, "port", convert_valued(w, service, "ports", pn, num(port)));
		set(p, "protocol", str(proto));
		set(p, "targetPort", str(tn));
		if (streq(type, "NodePort") && port >= 30000 && port <= 32767)
			set(p, "nodePort", num(port));
		struct node *a = push(allow, map());
		set(a, "port", num(target));
		set(a, "protocol", str(proto));
	}
	_cleanup_free_ char *file = xasprintf("%s-service.yaml", service);
	r = convert_add_file(w, file, obj, err);
	if (r == 0) {
		struct node *ps = map();
		set(ps, "type", str("LoadBalancer"));
		r = convert_patch_last(w, "v1", "Service", pname, ps, err);
	}
	if (r < 0) {
		node_free(allow);
		return r;
	}
	/* The networks' policies let in only their own pods: a published
	 * port is open to anyone, as on the host. */
	obj = map();
	set(obj, "apiVersion", str("networking.k8s.io/v1"));
	set(obj, "kind", str("NetworkPolicy"));
	convert_metadata(w, obj, pname);
	spec = set(obj, "spec", map());
	set(set(spec, "podSelector", map()), "matchLabels", convert_labels_of(w->p->name, service));
	push(set(spec, "policyTypes", seq()), str("Ingress"));
	set(push(set(spec, "ingress", seq()), map()), "ports", allow);
	_cleanup_free_ char *pfile = xasprintf("%s-published-network-policy.yaml", service);
	return convert_add_file(w, pfile, obj, err);
}

/* ---- the project's objects ---- */

bool convert_wanted(const struct convert_opts *o, const char *service)
{
	return !o->services || strv_contains(o->services, service);
}
