#include "convert_int.h"

#include <errno.h>

#include "../lib/fs.h"
#include "../orchestrator/emit.h"
#include "../orchestrator/units.h"
#include "k8skeys.h"

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
char *convert_claim_name(const char *service, const char *volume)
{
	_cleanup_free_ char *both = xasprintf("%s-%s", service, volume);
	return k8s_name(both);
}

/* A port's protocol as Kubernetes names it, from compose's. */
const char *convert_k8s_proto(const char *proto)
{
	return proto && !strcasecmp(proto, "udp") ? "UDP" : proto && !strcasecmp(proto, "sctp") ? "SCTP" : "TCP";
}

/* A container port's name: SERVICE-PORT (-udp, -sctp for those), as
 * bridge names them, at most 15 characters, a letter in it. */
char *convert_port_name(const char *service, unsigned port, const char *proto)
{
	_cleanup_free_ char *n = k8s_name(service);
	char num_s[24];
	int d = snprintf(num_s, sizeof(num_s), "%u%s", port,
			 streq(proto, "UDP")    ? "-udp"
			 : streq(proto, "SCTP") ? "-sctp"
						: "");
	int keep = 15 - d - 1;
	int len = (int)strlen(n) < keep ? (int)strlen(n) : keep;
	while (len > 0 && n[len - 1] == '-')
		len--;
	return len > 0 ? xasprintf("%.*s-%s", len, n, num_s) : xasprintf("p-%s", num_s);
}

struct node *convert_labels_of(const char *project, const char *service)
{
	struct node *l = map();
	set(l, "com.docker.compose.project", str(project));
	if (service)
		set(l, "com.docker.compose.service", str(service));
	return l;
}

/* A mapping's keys, sorted (as Go's templates range over a map); NULL when none. */
char **convert_sorted_keys(const struct node *m)
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
struct node *convert_values_ref(const char *const *keys, size_t n)
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
struct node *convert_ns_of(struct out *w)
{
	static const char *const k[] = {"namespace"};
	return w->values ? convert_values_ref(k, 1) : str(w->ns);
}

struct node *convert_metadata(struct out *w, struct node *obj, const char *name)
{
	struct node *m = set(obj, "metadata", map());
	set(m, "name", str(name));
	set(m, "namespace", convert_ns_of(w));
	return m;
}

/* An object's own labels: the project's and service's, and a chart's mark. */
struct node *convert_own_labels(struct out *w, const char *service)
{
	struct node *l = convert_labels_of(w->p->name, service);
	if (w->values)
		set(l, "app.kubernetes.io/managed-by", str("Helm"));
	return l;
}

/* --to helm: value (a scalar node) goes to values.yaml under
 * SERVICE.KEY[.SUB], and the object gets the template that reads it. */
struct node *convert_valued(struct out *w, const char *service, const char *key, const char *sub, struct node *value)
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
	return convert_values_ref(keys, sub ? 3 : 2);
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

void convert_push_file(struct out *w, const char *name, char *text)
{
	w->files = xrealloc(w->files, (w->n + 1) * sizeof(*w->files));
	w->files[w->n++] = (struct k8s_file){.name = xstrdup(name), .yaml = text};
}

int convert_add_file(struct out *w, const char *name, struct node *obj, struct berr **err)
{
	char *text = render(name, true, obj, err);
	if (!text)
		return -EIO;
	convert_push_file(w, name, text);
	return 0;
}

/* The desktop overlay's patch of the object just added: kind, name and
 * namespace of it, and spec. */
int convert_patch_last(struct out *w, const char *api, const char *kind, const char *name, struct node *spec,
		       struct berr **err)
{
	struct node *obj = map();
	set(obj, "apiVersion", str(api));
	set(obj, "kind", str(kind));
	convert_metadata(w, obj, name);
	set(obj, "spec", spec);
	w->files[w->n - 1].patch = render(w->files[w->n - 1].name, true, obj, err);
	return w->files[w->n - 1].patch ? 0 : -EIO;
}

/* A claim's size: x-kubernetes gives it, else the default (a chart's value). */
struct node *convert_claim_size(struct out *w, const char *size)
{
	static const char *const k[] = {"storage", "defaultSize"};
	return size ? str(size) : w->values ? convert_values_ref(k, 2) : str(DEFAULT_SIZE);
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

int convert_report_unmapped(struct out *w, const char *service, struct node *svc, struct berr **err)
{
	_cleanup_free_ char *shown = xasprintf("services.%s", service);
	return walk_ignored(w, svc, "services.*", shown, err);
}

/* ---- the pieces of a pod ---- */

struct node *convert_str_list(struct node *n)
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
	int r = convert_namespace_object(&w, err);
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
		if (!convert_wanted(o, s))
			continue;
		r = convert_workload(&w, s, project_service(p, s), err);
		if (r == 0)
			r = convert_services_of(&w, s, project_service(p, s), err);
		if (r == 0)
			r = convert_volume_claims(&w, s, project_service(p, s), err);
	}
	if (r == 0)
		r = convert_network_policies(&w, err);
	if (r == 0)
		r = convert_secrets_and_configs(&w, err);
	if (r == 0 && helm) {
		r = convert_values_file(&w, err);
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
	_cleanup_free_ char *what = xasprintf("A Helm chart of the compose project %s, made by berth convert.",
					      p->name);
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
	_cleanup_free_ char *dir = kustomize ? path_join(o->out, "base")
				   : helm    ? path_join(o->out, "templates")
					     : xstrdup(o->out);
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
