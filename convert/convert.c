#include "convert.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "../lib/buf.h"
#include "../lib/fs.h"
#include "../orchestrator/emit.h"
#include "../orchestrator/units.h"
#include "k8skeys.h"

/* ---- building objects as node trees (emitted in insertion order) ---- */

static const struct pos nowhere = {0};

static struct node *map(void) { return node_new_map(nowhere); }
static struct node *seq(void) { return node_new_seq(nowhere); }
static struct node *str(const char *s) { return node_new_str(s ? s : "", nowhere); }
static struct node *num(long long v) { return node_new_int(v, nowhere); }
static struct node *flag(bool v) { return node_new_bool(v, nowhere); }
static struct node *set(struct node *m, const char *k, struct node *v)
{
	node_map_set(m, k, v);
	return v;
}
static struct node *push(struct node *s, struct node *v)
{
	node_seq_push(s, v);
	return v;
}

char *k8s_name(const char *s)
{
	struct buf b = {0};
	for (const char *c = s; *c && b.len < 63; c++) {
		char ch = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
		if (ok || b.len) /* no '-' first */
			buf_putc(&b, ok ? ch : '-');
	}
	while (b.len && b.s[b.len - 1] == '-')
		b.s[--b.len] = 0;
	return b.len ? buf_steal(&b) : (buf_free(&b), xstrdup("x"));
}

/* A claim of a service's named volume: SERVICE-VOLUME, as a name Kubernetes takes. */
static char *claim_name(const char *service, const char *volume)
{
	_cleanup_free_ char *both = xasprintf("%s-%s", service, volume);
	return k8s_name(both);
}

/* A port's protocol as Kubernetes names it, from compose's. */
static const char *k8s_proto(const char *proto)
{
	return proto && !strcasecmp(proto, "udp") ? "UDP" : proto && !strcasecmp(proto, "sctp") ? "SCTP" : "TCP";
}

/* A container port's name: SERVICE-PORT (-udp, -sctp for those), as
 * bridge names them, at most 15 characters, a letter in it. */
static char *port_name(const char *service, unsigned port, const char *proto)
{
	_cleanup_free_ char *n = k8s_name(service);
	char num_s[24];
	int d = snprintf(num_s, sizeof(num_s), "%u%s", port, streq(proto, "UDP") ? "-udp" : streq(proto, "SCTP") ? "-sctp" : "");
	int keep = 15 - d - 1;
	int len = (int)strlen(n) < keep ? (int)strlen(n) : keep;
	while (len > 0 && n[len - 1] == '-')
		len--;
	return len > 0 ? xasprintf("%.*s-%s", len, n, num_s) : xasprintf("p-%s", num_s);
}

static struct node *labels_of(const char *project, const char *service)
{
	struct node *l = map();
	set(l, "com.docker.compose.project", str(project));
	if (service)
		set(l, "com.docker.compose.service", str(service));
	return l;
}

static const char *default_size = "100Mi";

struct out {
	struct k8s_file *files;
	size_t n;
	const struct convert_opts *o;
	const struct project *p;
	char *ns;
	bool claims_in_template; /* the service being written is a StatefulSet: its volumes are claim templates */
	struct node *values;	 /* --to helm: values.yaml (images, replicas, published ports), else NULL */
};

/* A mapping's keys, sorted (as Go's templates range over a map); NULL when none. */
static char **sorted_keys(const struct node *m)
{
	char **v = NULL;
	for (size_t i = 0; m && m->kind == NODE_MAP && i < m->n; i++)
		strv_push(&v, xstrdup(m->pairs[i].key));
	if (v)
		strv_sort(v);
	return v;
}

/* A Helm template expression, written as it is. */
static struct node *verbatim(const char *text)
{
	struct node *n = str(text);
	n->flags |= NF_VERBATIM;
	return n;
}

static bool go_ident(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* {{ .Values.a.b }}, or {{ index .Values.a "b-c" }} from the first key
 * that is not a Go identifier. */
static struct node *values_ref(const char *const *keys, size_t n)
{
	struct buf b = {0}, rest = {0};
	buf_puts(&b, ".Values");
	size_t i = 0;
	for (; i < n && go_ident(keys[i]); i++)
		buf_printf(&b, ".%s", keys[i]);
	for (; i < n; i++)
		buf_printf(&rest, " \"%s\"", keys[i]);
	_cleanup_free_ char *t = rest.len ? xasprintf("{{ index %s%s }}", b.s, rest.s) : xasprintf("{{ %s }}", b.s);
	buf_free(&b);
	buf_free(&rest);
	return verbatim(t);
}

/* The namespace objects are in: the project's, or the chart's value. */
static struct node *ns_of(struct out *w)
{
	static const char *const k[] = {"namespace"};
	return w->values ? values_ref(k, 1) : str(w->ns);
}

static struct node *metadata(struct out *w, struct node *obj, const char *name)
{
	struct node *m = set(obj, "metadata", map());
	set(m, "name", str(name));
	set(m, "namespace", ns_of(w));
	return m;
}

/* An object's own labels: the project's and service's, and a chart's mark. */
static struct node *own_labels(struct out *w, const char *service)
{
	struct node *l = labels_of(w->p->name, service);
	if (w->values)
		set(l, "app.kubernetes.io/managed-by", str("Helm"));
	return l;
}

/* --to helm: value (a scalar node) goes to values.yaml under
 * SERVICE.KEY[.SUB], and the object gets the template that reads it. */
static struct node *valued(struct out *w, const char *service, const char *key, const char *sub, struct node *value)
{
	if (!w->values)
		return value;
	struct node *svc = node_map_get(w->values, service) ? node_map_get(w->values, service)
							    : set(w->values, service, map());
	struct node *at = svc;
	if (sub)
		at = node_map_get(svc, key) ? node_map_get(svc, key) : set(svc, key, map());
	set(at, sub ? sub : key, value);
	const char *const keys[] = {service, key, sub};
	return values_ref(keys, sub ? 3 : 2);
}

/* A file's text as bridge writes it: "#! NAME", the generated-code line
 * (not in a chart's Chart.yaml and values.yaml), then obj (taken), or
 * NULL when it cannot be written. */
static char *render(const char *name, bool generated, struct node *obj, struct berr **err)
{
	struct buf y = {0};
	buf_printf(&y, "#! %s\n%s", name, generated ? "# Generated code, do not edit\n" : "");
	int r = emit_yaml_v3(obj, &y, err);
	node_free(obj);
	if (r < 0) {
		buf_free(&y);
		return NULL;
	}
	return buf_steal(&y);
}

static void push_file(struct out *w, const char *name, char *text)
{
	w->files = xrealloc(w->files, (w->n + 1) * sizeof(*w->files));
	w->files[w->n++] = (struct k8s_file){.name = xstrdup(name), .yaml = text};
}

static int add_file(struct out *w, const char *name, struct node *obj, struct berr **err)
{
	char *text = render(name, true, obj, err);
	if (!text)
		return -EIO;
	push_file(w, name, text);
	return 0;
}

/* The desktop overlay's patch of the object just added: kind, name and
 * namespace of it, and spec. */
static int patch_last(struct out *w, const char *api, const char *kind, const char *name, struct node *spec,
		      struct berr **err)
{
	struct node *obj = map();
	set(obj, "apiVersion", str(api));
	set(obj, "kind", str(kind));
	metadata(w, obj, name);
	set(obj, "spec", spec);
	w->files[w->n - 1].patch = render(w->files[w->n - 1].name, true, obj, err);
	return w->files[w->n - 1].patch ? 0 : -EIO;
}

/* A claim's size: x-kubernetes gives it, else the default (a chart's value). */
static struct node *claim_size(struct out *w, const char *size)
{
	static const char *const k[] = {"storage", "defaultSize"};
	return size ? str(size) : w->values ? values_ref(k, 2) : str(default_size);
}

/* ---- what no mapping covers is said (or, strict, refused) ---- */

/* The keys the table (k8skeys.c) says are ignored, each said once as
 * "ignored: services.web.devices" (strict: the first one is an error);
 * path is the schema's ("services.*.devices"), shown the file's. */
static int walk_ignored(struct out *w, struct node *n, const char *path, const char *shown, struct berr **err)
{
	for (size_t i = 0; n && n->kind == NODE_MAP && i < n->n; i++) {
		const char *k = n->pairs[i].key;
		if (startswith(k, "x-"))
			continue;
		bool named = streq(path, "services") || streq(path, "networks") || streq(path, "volumes") ||
			     streq(path, "secrets") || streq(path, "configs");
		_cleanup_free_ char *p = path[0] ? xasprintf("%s.%s", path, named ? "*" : k) : xstrdup(k);
		_cleanup_free_ char *s = shown[0] ? xasprintf("%s.%s", shown, k) : xstrdup(k);
		const struct k8s_rule *r = k8s_rule(p);
		if (r && r->state == K8S_IGNORED) {
			if (w->o->strict)
				return berr_set(err, EINVAL, "%s has no Kubernetes mapping (--strict): %s", s, r->note);
			if (w->o->report)
				fprintf(w->o->report, "ignored: %s\n", s);
			continue;
		}
		if (r && (r->subtree || n->pairs[i].val->kind != NODE_MAP))
			continue;
		int rc = walk_ignored(w, n->pairs[i].val, p, s, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int report_unmapped(struct out *w, const char *service, struct node *svc, struct berr **err)
{
	_cleanup_free_ char *shown = xasprintf("services.%s", service);
	return walk_ignored(w, svc, "services.*", shown, err);
}

/* ---- the pieces of a pod ---- */

static struct node *str_list(struct node *n)
{
	struct node *s = seq();
	if (n && n->kind == NODE_SEQ) {
		for (size_t i = 0; i < n->n; i++)
			push(s, str(node_str(n->items[i])));
	} else if (node_str(n)) {
		char **words = shell_split(n->str);
		for (size_t i = 0; words && words[i]; i++)
			push(s, str(words[i]));
		strv_free(words);
	}
	return s;
}

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

static void resources(struct node *c, struct node *svc)
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
		fprintf(w->o->report, "ignored: services.%s.user: %s is a name; Kubernetes takes a number (runAsUser)\n",
			service, user);
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
			add_cport(&ps, n, p, k8s_proto(slash ? slash + 1 : NULL));
	}
	for (size_t i = 0; ports && ports->kind == NODE_SEQ && i < ports->n; i++) {
		long long t = 0;
		node_int(node_map_get(ports->items[i], "target"), &t);
		if (t > 0 && t < 65536)
			add_cport(&ps, n, (unsigned)t, k8s_proto(node_str(node_map_get(ports->items[i], "protocol"))));
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
		_cleanup_free_ char *pn = port_name(service, ps[i].port, ps[i].proto);
		set(p, "name", str(pn));
		set(p, "containerPort", num(ps[i].port));
		if (!streq(ps[i].proto, "TCP"))
			set(p, "protocol", str(ps[i].proto));
	}
	free(ps);
}

static char *mount_name(const char *target)
{
	return k8s_name(target);
}

/* A mount in the container and the pod volume it names. */
static struct node *mount(struct node *c, struct node *pv, const char *target, bool ro)
{
	struct node *vm = node_map_get(c, "volumeMounts") ? node_map_get(c, "volumeMounts") : set(c, "volumeMounts", seq());
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
				return berr_set(err, EINVAL, "services.%s.volumes: the bind mount of %s has no Kubernetes "
							     "mapping (--allow-hostpath makes it a hostPath)",
						service, src ? src : "?");
			}
			if (w->o->report)
				fprintf(w->o->report,
					"ignored: services.%s.volumes: bind mount %s at %s (a host path: --allow-hostpath "
					"makes it a hostPath)\n",
					service, src ? src : "?", target);
			continue;
		}
		if (!streq(type, "volume") && !streq(type, "bind") && !streq(type, "tmpfs")) {
			if (w->o->report)
				fprintf(w->o->report, "ignored: services.%s.volumes: %s at %s\n", service, type ? type : "?",
					target);
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
			_cleanup_free_ char *claim = claim_name(service, src);
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
			_cleanup_free_ char *deftarget = l == 0 ? xasprintf("/run/secrets/%s", src) : xasprintf("/%s", src);
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
			set(from, l == 0 ? "secretName" : "name", l == 1 && w->values ? values_ref(pk, 1) : str(on));
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
				return berr_set(err, EINVAL, "services.%s.depends_on.%s: %s has no Kubernetes check (--strict)",
						service, dep, cond);
			if (cond && !streq(cond, "service_started") && w->o->report)
				fprintf(w->o->report,
					"ignored: services.%s.depends_on.%s: %s has no Kubernetes check here%s\n", service, dep,
					cond, streq(cond, "service_healthy") ? " (the service has no port to wait for)" : "");
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

static int workload(struct out *w, const char *service, struct node *svc, struct berr **err)
{
	int r = report_unmapped(w, service, svc, err);
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
	struct node *md = metadata(w, obj, name);
	set(md, "labels", own_labels(w, service));
	struct node *ann = node_map_get(svc, "annotations");
	struct node *spec = set(obj, "spec", map());
	if (!job) { /* a DaemonSet has a pod on every node: no replicas, no strategy */
		if (sts)
			set(spec, "serviceName", str(name));
		if (!global)
			set(spec, "replicas", valued(w, service, "replicas", NULL, num(replicas)));
		set(set(spec, "selector", map()), "matchLabels", labels_of(w->p->name, service));
		if (!sts && !global) {
			static const char *const k[] = {"deployment", "strategy"};
			set(set(spec, "strategy", map()), "type", w->values ? values_ref(k, 2) : str("Recreate"));
		}
	}
	struct node *tmpl = set(spec, "template", map());
	struct node *tmd = set(tmpl, "metadata", map());
	struct node *tl = set(tmd, "labels", labels_of(w->p->name, service));
	struct node *nets = node_map_get(svc, "networks");
	_cleanup_(strv_freep) char **net_names = sorted_keys(nets); /* in the order bridge's template ranges them */
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
	set(c, "image", valued(w, service, "image", NULL, str(image ? image : built)));
	const char *pp = node_str(node_map_get(svc, "pull_policy"));
	set(c, "imagePullPolicy",
	    valued(w, service, "imagePullPolicy", NULL,
		   str(streq(pp, "always") ? "Always" : streq(pp, "never") || streq(pp, "build") ? "Never" : "IfNotPresent")));
	if (node_map_get(svc, "entrypoint"))
		set(c, "command", str_list(node_map_get(svc, "entrypoint")));
	if (node_map_get(svc, "command"))
		set(c, "args", str_list(node_map_get(svc, "command")));
	const char *wd = node_str(node_map_get(svc, "working_dir"));
	if (wd)
		set(c, "workingDir", str(wd));
	struct node *env = node_map_get(svc, "environment");
	if (env && env->kind == NODE_MAP && env->n) {
		struct node *e = set(c, "env", seq());
		_cleanup_(strv_freep) char **names = sorted_keys(env);
		for (size_t i = 0; names[i]; i++) {
			struct node *kv = push(e, map());
			set(kv, "name", str(names[i]));
			set(kv, "value", str(node_str(node_map_get(env, names[i]))))->flags |= NF_QUOTED; /* as bridge's %q */
		}
	}
	bool tty = false, in = false;
	if (node_bool(node_map_get(svc, "tty"), &tty) == 0 && tty)
		set(c, "tty", flag(true));
	if (node_bool(node_map_get(svc, "stdin_open"), &in) == 0 && in)
		set(c, "stdin", flag(true));
	security(w, service, c, svc);
	resources(c, svc);
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
			set(dc, "nameservers", str_list(dns));
		if (search)
			set(dc, "searches", str_list(search));
		for (size_t i = 0; opts && opts->kind == NODE_SEQ && i < opts->n; i++) {
			struct node *o = node_map_get(dc, "options") ? node_map_get(dc, "options") : set(dc, "options", seq());
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
			const char *size = node_str(
				node_map_get(node_map_get(node_map_get(node_map_get(w->p->doc, "volumes"), src), "x-kubernetes"), "size"));
			set(set(set(ts, "resources", map()), "requests", map()), "storage", claim_size(w, size));
		}
	}
	struct node *pv = node_map_get(pod, "volumes");
	if (pv && pv->kind == NODE_SEQ && pv->n == 0) /* all of them claim templates */
		node_map_del(pod, "volumes");
	merge_into(obj, node_map_get(svc, "x-kubernetes"));
	_cleanup_free_ char *file = xasprintf("%s-%s.yaml", service, job ? "job" : sts ? "statefulset" : "deployment");
	return add_file(w, file, obj, err);
}

/* A Service of the ports: the exposed ones under the service's own name
 * (ClusterIP: its DNS name keeps working), the published ones as
 * NAME-published. */
static int services_of(struct out *w, const char *service, struct node *svc, struct berr **err)
{
	_cleanup_free_ char *name = k8s_name(service);
	size_t nt;
	struct cport *targets = service_ports(svc, &nt);
	int r = 0;
	if (nt) {
		struct node *obj = map();
		set(obj, "apiVersion", str("v1"));
		set(obj, "kind", str("Service"));
		set(metadata(w, obj, name), "labels", own_labels(w, service));
		struct node *spec = set(obj, "spec", map());
		set(spec, "selector", labels_of(w->p->name, service));
		struct node *ports = set(spec, "ports", seq());
		for (size_t i = 0; i < nt; i++) {
			_cleanup_free_ char *pn = port_name(service, targets[i].port, targets[i].proto);
			struct node *p = push(ports, map());
			set(p, "name", str(pn));
			set(p, "port", num(targets[i].port));
			if (!streq(targets[i].proto, "TCP"))
				set(p, "protocol", str(targets[i].proto));
			set(p, "targetPort", str(pn));
		}
		_cleanup_free_ char *file = xasprintf("%s-expose.yaml", service);
		r = add_file(w, file, obj, err);
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
	set(metadata(w, obj, pname), "labels", own_labels(w, service));
	struct node *spec = set(obj, "spec", map());
	/* no type is ClusterIP (the kustomize overlay makes it a LoadBalancer) */
	const char *type = w->o->publish_type ? w->o->publish_type : "ClusterIP";
	static const char *const tk[] = {"service", "type"};
	if (w->values)
		set(spec, "type", values_ref(tk, 2));
	else if (w->o->publish_type)
		set(spec, "type", str(type));
	set(spec, "selector", labels_of(w->p->name, service));
	struct node *ports = set(spec, "ports", seq()), *allow = seq();
	for (size_t i = 0; i < published->n; i++) {
		struct node *pp = published->items[i];
		const char *pub = node_str(node_map_get(pp, "published"));
		long long target = 0;
		node_int(node_map_get(pp, "target"), &target);
		unsigned port = 0;
		if (!pub || sscanf(pub, "%u", &port) != 1 || !port)
			continue;
		const char *proto = k8s_proto(node_str(node_map_get(pp, "protocol")));
		_cleanup_free_ char *pn = port_name(service, port, proto);
		_cleanup_free_ char *tn = port_name(service, (unsigned)target, proto);
		struct node *p = push(ports, map());
		set(p, "name", str(pn));
		set(p, "port", valued(w, service, "ports", pn, num(port)));
		set(p, "protocol", str(proto));
		set(p, "targetPort", str(tn));
		if (streq(type, "NodePort") && port >= 30000 && port <= 32767)
			set(p, "nodePort", num(port));
		struct node *a = push(allow, map());
		set(a, "port", num(target));
		set(a, "protocol", str(proto));
	}
	_cleanup_free_ char *file = xasprintf("%s-service.yaml", service);
	r = add_file(w, file, obj, err);
	if (r == 0) {
		struct node *ps = map();
		set(ps, "type", str("LoadBalancer"));
		r = patch_last(w, "v1", "Service", pname, ps, err);
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
	metadata(w, obj, pname);
	spec = set(obj, "spec", map());
	set(set(spec, "podSelector", map()), "matchLabels", labels_of(w->p->name, service));
	push(set(spec, "policyTypes", seq()), str("Ingress"));
	set(push(set(spec, "ingress", seq()), map()), "ports", allow);
	_cleanup_free_ char *pfile = xasprintf("%s-published-network-policy.yaml", service);
	return add_file(w, pfile, obj, err);
}

/* ---- the project's objects ---- */

static bool wanted(const struct convert_opts *o, const char *service)
{
	return !o->services || strv_contains(o->services, service);
}

static int namespace_object(struct out *w, struct berr **err)
{
	struct node *obj = map();
	set(obj, "apiVersion", str("v1"));
	set(obj, "kind", str("Namespace"));
	struct node *md = set(obj, "metadata", map());
	set(md, "name", ns_of(w));
	set(md, "labels", labels_of(w->p->name, NULL));
	_cleanup_free_ char *file = xasprintf("0-%s-namespace.yaml", w->ns);
	return add_file(w, file, obj, err);
}

static bool on_network(struct node *svc, const char *net)
{
	struct node *nets = node_map_get(svc, "networks");
	return nets && nets->kind == NODE_MAP && node_map_get(nets, net) != NULL;
}

static bool internal_network(const struct project *p, const char *net)
{
	bool internal = false;
	node_bool(node_map_get(node_map_get(node_map_get(p->doc, "networks"), net), "internal"), &internal);
	return internal;
}

/* Does a converted service on net sit on an internal network too? Then
 * its egress is limited by that network's policy, and net's must open it
 * again (policies add up): on one host it reaches out through net. */
static bool shares_internal(struct out *w, const char *net)
{
	struct node *svcs = project_services(w->p);
	for (size_t i = 0; svcs && i < svcs->n; i++) {
		struct node *svc = svcs->pairs[i].val, *nets = node_map_get(svc, "networks");
		if (!wanted(w->o, svcs->pairs[i].key) || !on_network(svc, net))
			continue;
		for (size_t k = 0; nets && k < nets->n; k++)
			if (internal_network(w->p, nets->pairs[k].key))
				return true;
	}
	return false;
}

static struct node *network_selector(const char *label)
{
	struct node *sel = map();
	set(set(set(sel, "podSelector", map()), "matchLabels", map()), label, str("true"));
	return sel;
}

/* Each network: only the pods on it reach each other (ingress, as docker
 * compose bridge writes it); an internal one has no way out but to its
 * own pods and DNS. */
static int network_policies(struct out *w, struct berr **err)
{
	struct node *nets = node_map_get(w->p->doc, "networks");
	int r = 0;
	for (size_t i = 0; r == 0 && nets && nets->kind == NODE_MAP && i < nets->n; i++) {
		const char *key = nets->pairs[i].key;
		_cleanup_free_ char *label = xasprintf("com.docker.compose.network.%s", key);
		_cleanup_free_ char *njoin = xasprintf("%s-network-policy", key), *name = k8s_name(njoin);
		bool internal = internal_network(w->p, key), reopen = !internal && shares_internal(w, key);
		struct node *obj = map();
		set(obj, "apiVersion", str("networking.k8s.io/v1"));
		set(obj, "kind", str("NetworkPolicy"));
		metadata(w, obj, name);
		struct node *spec = set(obj, "spec", map());
		set(set(spec, "podSelector", map()), "matchLabels", map());
		set(node_map_get(node_map_get(spec, "podSelector"), "matchLabels"), label, str("true"));
		struct node *types = set(spec, "policyTypes", seq());
		push(types, str("Ingress"));
		if (internal || reopen)
			push(types, str("Egress"));
		push(set(push(set(spec, "ingress", seq()), map()), "from", seq()), network_selector(label));
		if (internal) {
			struct node *egress = set(spec, "egress", seq());
			push(set(push(egress, map()), "to", seq()), network_selector(label));
			struct node *dns = set(push(egress, map()), "ports", seq());
			static const char *const protos[] = {"UDP", "TCP"};
			for (size_t k = 0; k < 2; k++) {
				struct node *port = push(dns, map());
				set(port, "port", num(53));
				set(port, "protocol", str(protos[k]));
			}
		} else if (reopen) {
			push(set(spec, "egress", seq()), map()); /* an empty rule: anywhere */
		}
		_cleanup_free_ char *file = xasprintf("%s-network-policy.yaml", key);
		r = add_file(w, file, obj, err);
	}
	return r;
}


static int volume_claims(struct out *w, const char *service, struct node *svc, struct berr **err)
{
	struct node *vols = node_map_get(svc, "volumes"), *decls = node_map_get(w->p->doc, "volumes");
	int r = 0;
	if (w->claims_in_template) /* a StatefulSet's claims are its templates */
		return 0;
	for (size_t i = 0; r == 0 && vols && vols->kind == NODE_SEQ && i < vols->n; i++) {
		struct node *v = vols->items[i];
		const char *src = node_str(node_map_get(v, "source"));
		if (!streq(node_str(node_map_get(v, "type")), "volume") || !src)
			continue;
		struct node *decl = node_map_get(decls, src);
		const char *size = node_str(node_map_get(node_map_get(decl, "x-kubernetes"), "size"));
		if (!size && w->o->report)
			fprintf(w->o->report, "approximated: volumes.%s: a claim of %s (x-kubernetes: {size: …} sets it)\n", src,
				default_size);
		bool ro = false;
		node_bool(node_map_get(v, "read_only"), &ro);
		_cleanup_free_ char *name = claim_name(service, src);
		struct node *obj = map();
		set(obj, "apiVersion", str("v1"));
		set(obj, "kind", str("PersistentVolumeClaim"));
		struct node *md = metadata(w, obj, name);
		struct node *l = set(md, "labels", map());
		set(l, "com.docker.compose.service", str(service));
		set(l, "com.docker.compose.volume", str(src));
		struct node *spec = set(obj, "spec", map());
		push(set(spec, "accessModes", seq()), str(ro ? "ReadOnlyMany" : "ReadWriteOnce"));
		set(spec, "volumeMode", str("Filesystem"));
		set(set(set(spec, "resources", map()), "requests", map()), "storage", claim_size(w, size));
		_cleanup_free_ char *file = xasprintf("%s-%s-persistentVolumeClaim.yaml", service, src);
		r = add_file(w, file, obj, err);
		if (r == 0) { /* Docker Desktop's provisioner */
			struct node *ps = map();
			set(ps, "storageClassName", str("hostpath"));
			r = patch_last(w, "v1", "PersistentVolumeClaim", name, ps, err);
		}
	}
	return r;
}

/* A secret's or config's content: its file, its environment variable, or content. */
static char *content_of(const struct project *p, struct node *decl)
{
	const char *file = node_str(node_map_get(decl, "file"));
	const char *env = node_str(node_map_get(decl, "environment"));
	const char *content = node_str(node_map_get(decl, "content"));
	if (content)
		return xstrdup(content);
	if (env)
		return xstrdup(env_get(&p->env, env) ?: "");
	char *text = NULL;
	size_t len;
	if (file && fs_read_file(file, 1 << 20, &text, &len, NULL) == 0)
		return text;
	return NULL;
}

static char *base64(const char *s)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s);
	struct buf b = {0};
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16 | (i + 1 < n ? (unsigned char)s[i + 1] << 8 : 0) |
			     (i + 2 < n ? (unsigned char)s[i + 2] : 0);
		buf_putc(&b, t[v >> 18 & 63]);
		buf_putc(&b, t[v >> 12 & 63]);
		buf_putc(&b, i + 1 < n ? t[v >> 6 & 63] : '=');
		buf_putc(&b, i + 2 < n ? t[v & 63] : '=');
	}
	return b.s ? buf_steal(&b) : xstrdup("");
}

static int secrets_and_configs(struct out *w, struct berr **err)
{
	struct node *secrets = node_map_get(w->p->doc, "secrets");
	int r = 0;
	for (size_t i = 0; r == 0 && secrets && secrets->kind == NODE_MAP && i < secrets->n; i++) {
		const char *key = secrets->pairs[i].key;
		_cleanup_free_ char *content = content_of(w->p, secrets->pairs[i].val);
		if (!content) {
			if (w->o->report)
				fprintf(w->o->report, "ignored: secrets.%s: no content to carry (external?)\n", key);
			continue;
		}
		_cleanup_free_ char *name = k8s_name(key), *b64 = base64(content);
		struct node *obj = map();
		set(obj, "apiVersion", str("v1"));
		set(obj, "kind", str("Secret"));
		struct node *l = set(metadata(w, obj, name), "labels", labels_of(w->p->name, NULL));
		set(l, "com.docker.compose.secret", str(key));
		set(set(obj, "data", map()), key, str(b64));
		set(obj, "type", str("Opaque"));
		_cleanup_free_ char *file = xasprintf("%s-secret.yaml", key);
		r = add_file(w, file, obj, err);
	}
	struct node *configs = node_map_get(w->p->doc, "configs");
	if (r < 0 || !configs || configs->kind != NODE_MAP || !configs->n)
		return r;
	struct node *obj = map();
	set(obj, "apiVersion", str("v1"));
	set(obj, "kind", str("ConfigMap"));
	static const char *const pk[] = {"projectName"};
	struct node *md = set(obj, "metadata", map());
	set(md, "name", w->values ? values_ref(pk, 1) : str(w->ns));
	set(md, "namespace", ns_of(w));
	set(md, "labels", labels_of(w->p->name, NULL));
	struct node *data = set(obj, "data", map());
	for (size_t i = 0; i < configs->n; i++) {
		_cleanup_free_ char *content = content_of(w->p, configs->pairs[i].val);
		if (content)
			set(data, configs->pairs[i].key, str(content));
		else if (w->o->report)
			fprintf(w->o->report, "ignored: configs.%s: no content to carry (external?)\n", configs->pairs[i].key);
	}
	_cleanup_free_ char *file = xasprintf("%s-configs.yaml", w->p->name);
	return add_file(w, file, obj, err);
}

/* --to helm: values.yaml, the chart's settings and each service's values. */
static int values_file(struct out *w, struct berr **err)
{
	struct buf y = {0};
	buf_puts(&y, "#! values.yaml\n");
	struct node *top = map();
	set(top, "projectName", str(w->ns));
	set(top, "namespace", str(w->ns));
	set(set(top, "deployment", map()), "strategy", str("Recreate"));
	set(set(top, "service", map()), "type", str(w->o->publish_type ? w->o->publish_type : "ClusterIP"));
	set(set(top, "storage", map()), "defaultSize", str(default_size));
	static const char *const comments[] = {"Project Name", "Namespace", "Default deployment settings",
					       "Service settings", "Storage settings"};
	int r = 0;
	for (size_t i = 0; r == 0 && i < top->n; i++) {
		struct node one = {.kind = NODE_MAP, .n = 1, .pairs = &top->pairs[i]};
		buf_printf(&y, "# %s\n", comments[i]);
		r = emit_yaml_v3(&one, &y, err);
	}
	node_free(top);
	if (r == 0 && w->values->n) { /* by name, as bridge's chart has them */
		struct node *sorted = map();
		_cleanup_(strv_freep) char **names = sorted_keys(w->values);
		for (size_t i = 0; names[i]; i++)
			set(sorted, names[i], node_map_take(w->values, names[i]));
		buf_puts(&y, "# Services variables\n");
		r = emit_yaml_v3(sorted, &y, err);
		node_free(sorted);
	}
	node_free(w->values);
	if (r < 0) {
		buf_free(&y);
		return r;
	}
	push_file(w, "values.yaml", buf_steal(&y));
	return 0;
}

int convert_objects(const struct project *p, const struct convert_opts *o, struct k8s_file **out, size_t *n,
		    struct berr **err)
{
	bool helm = o->to && streq(o->to, "helm");
	struct out w = {.o = o, .p = p, .ns = k8s_name(p->name), .values = helm ? map() : NULL};
	for (size_t i = 0; o->services && o->services[i]; i++)
		if (!project_service(p, o->services[i])) {
			free(w.ns);
			return berr_set(err, ENOENT, "no such service: %s", o->services[i]);
		}
	int r = namespace_object(&w, err);
	static const char *const tops[] = {"networks", "volumes", "secrets", "configs", "models"};
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(tops); i++) {
		struct node *section = node_map_get(p->doc, tops[i]);
		struct node wrap = {.kind = NODE_MAP};
		struct pair one = {.key = (char *)tops[i], .val = section};
		if (!section)
			continue;
		wrap.n = 1;
		wrap.pairs = &one;
		r = walk_ignored(&w, &wrap, "", "", err);
	}
	for (size_t i = 0; r == 0 && p->order[i]; i++) {
		const char *s = p->order[i];
		if (!wanted(o, s))
			continue;
		r = workload(&w, s, project_service(p, s), err);
		if (r == 0)
			r = services_of(&w, s, project_service(p, s), err);
		if (r == 0)
			r = volume_claims(&w, s, project_service(p, s), err);
	}
	if (r == 0)
		r = network_policies(&w, err);
	if (r == 0)
		r = secrets_and_configs(&w, err);
	if (r == 0 && helm) {
		r = values_file(&w, err);
		w.values = NULL;
	}
	node_free(w.values);
	free(w.ns);
	if (r < 0) {
		convert_files_free(w.files, w.n);
		return r;
	}
	*out = w.files;
	*n = w.n;
	return 0;
}

void convert_files_free(struct k8s_file *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].yaml);
		free(f[i].patch);
	}
	free(f);
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct k8s_file *)a)->name, ((const struct k8s_file *)b)->name);
}

/* dir/name, said on o->created as written; for its owner only (as
 * bridge writes them): Secrets and environments hold passwords. */
static int write_one(const struct convert_opts *o, const char *dir, const char *name, const char *text,
		     struct berr **err)
{
	_cleanup_free_ char *path = path_join(dir, name);
	int r = fs_write_atomic(path, text, strlen(text), 0600, err);
	if (r == 0 && o->created)
		fprintf(o->created, "Kubernetes resource %s created\n", name);
	return r;
}

/* obj (taken) rendered as bridge writes it, in dir/name. */
static int write_node(const struct convert_opts *o, const char *dir, const char *name, bool generated, struct node *obj,
		      struct berr **err)
{
	_cleanup_free_ char *text = render(name, generated, obj, err);
	return text ? write_one(o, dir, name, text, err) : -EIO;
}

/* base/kustomization.yaml lists every object; the overlay's takes base
 * and its patches. */
static int write_kustomization(const struct convert_opts *o, const char *dir, struct k8s_file *f, size_t n,
			       bool overlay, struct berr **err)
{
	struct node *k = map();
	set(k, "apiVersion", str("kustomize.config.k8s.io/v1beta1"));
	set(k, "kind", str("Kustomization"));
	struct node *res = set(k, "resources", seq()), *patches = overlay ? set(k, "patches", seq()) : NULL;
	if (overlay)
		push(res, str("../../base"));
	for (size_t i = 0; i < n; i++) {
		if (!overlay)
			push(res, str(f[i].name));
		else if (f[i].patch)
			set(push(patches, map()), "path", str(f[i].name));
	}
	return write_node(o, dir, "kustomization.yaml", true, k, err);
}

static int write_chart(const struct project *p, const struct convert_opts *o, struct berr **err)
{
	_cleanup_free_ char *name = k8s_name(p->name);
	_cleanup_free_ char *what = xasprintf("A Helm chart of the compose project %s, made by berth convert.", p->name);
	struct node *c = map();
	set(c, "apiVersion", str("v2"));
	set(c, "name", str(name));
	set(c, "version", str("0.0.1"));
	set(c, "description", str(what));
	set(c, "type", str("application"));
	push(set(c, "keywords", seq()), str(p->name));
	set(c, "appVersion", str("v0.0.1"));
	return write_node(o, o->out, "Chart.yaml", false, c, err);
}

int convert_write(const struct project *p, const struct convert_opts *o, struct berr **err)
{
	struct k8s_file *f = NULL;
	size_t n = 0;
	int r = convert_objects(p, o, &f, &n, err);
	if (r < 0)
		return r;
	qsort(f, n, sizeof(*f), cmp_file); /* in the order a directory lists them */
	bool kustomize = o->to && streq(o->to, "kustomize"), helm = o->to && streq(o->to, "helm");
	_cleanup_free_ char *dir = kustomize ? path_join(o->out, "base") : helm ? path_join(o->out, "templates") : xstrdup(o->out);
	r = fs_mkdir_p(dir, 0755, err);
	for (size_t i = 0; r == 0 && i < n; i++) {
		bool values = helm && streq(f[i].name, "values.yaml"); /* beside templates/ */
		r = write_one(o, values ? o->out : dir, f[i].name, f[i].yaml, err);
	}
	if (r == 0 && helm)
		r = write_chart(p, o, err);
	if (r == 0 && kustomize) {
		_cleanup_free_ char *overlay = path_join(o->out, "overlays/desktop");
		r = write_kustomization(o, dir, f, n, false, err);
		if (r == 0)
			r = fs_mkdir_p(overlay, 0755, err);
		for (size_t i = 0; r == 0 && i < n; i++)
			if (f[i].patch)
				r = write_one(o, overlay, f[i].name, f[i].patch, err);
		if (r == 0)
			r = write_kustomization(o, overlay, f, n, true, err);
	}
	convert_files_free(f, n);
	return r;
}
