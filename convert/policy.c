/* What surrounds the workloads: the namespace, networks as
 * NetworkPolicies, volumes as PersistentVolumeClaims, secrets and configs,
 * and a Helm chart's values. */
#include "convert_int.h"

#include "../lib/fs.h"
#include "../orchestrator/emit.h"

int convert_namespace_object(struct out *w, struct berr **err)
{
	struct node *obj = map();
	set(obj, "apiVersion", str("v1"));
	set(obj, "kind", str("Namespace"));
	struct node *md = set(obj, "metadata", map());
	set(md, "name", convert_ns_of(w));
	set(md, "labels", convert_labels_of(w->p->name, NULL));
	_cleanup_free_ char *file = xasprintf("0-%s-namespace.yaml", w->ns);
	return convert_add_file(w, file, obj, err);
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
		if (!convert_wanted(w->o, svcs->pairs[i].key) || !on_network(svc, net))
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
int convert_network_policies(struct out *w, struct berr **err)
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
		convert_metadata(w, obj, name);
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
		r = convert_add_file(w, file, obj, err);
	}
	return r;
}

int convert_volume_claims(struct out *w, const char *service, struct node *svc, struct berr **err)
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
			fprintf(w->o->report,
				"approximated: volumes.%s: a claim of %s (x-kubernetes: {size: …} sets it)\n", src,
				DEFAULT_SIZE);
		bool ro = false;
		node_bool(node_map_get(v, "read_only"), &ro);
		_cleanup_free_ char *name = convert_claim_name(service, src);
		struct node *obj = map();
		set(obj, "apiVersion", str("v1"));
		set(obj, "kind", str("PersistentVolumeClaim"));
		struct node *md = convert_metadata(w, obj, name);
		struct node *l = set(md, "labels", map());
		set(l, "com.docker.compose.service", str(service));
		set(l, "com.docker.compose.volume", str(src));
		struct node *spec = set(obj, "spec", map());
		push(set(spec, "accessModes", seq()), str(ro ? "ReadOnlyMany" : "ReadWriteOnce"));
		set(spec, "volumeMode", str("Filesystem"));
		set(set(set(spec, "resources", map()), "requests", map()), "storage", convert_claim_size(w, size));
		_cleanup_free_ char *file = xasprintf("%s-%s-persistentVolumeClaim.yaml", service, src);
		r = convert_add_file(w, file, obj, err);
		if (r == 0) { /* Docker Desktop's provisioner */
			struct node *ps = map();
			set(ps, "storageClassName", str("hostpath"));
			r = convert_patch_last(w, "v1", "PersistentVolumeClaim", name, ps, err);
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

int convert_secrets_and_configs(struct out *w, struct berr **err)
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
		struct node *l = set(convert_metadata(w, obj, name), "labels", convert_labels_of(w->p->name, NULL));
		set(l, "com.docker.compose.secret", str(key));
		set(set(obj, "data", map()), key, str(b64));
		set(obj, "type", str("Opaque"));
		_cleanup_free_ char *file = xasprintf("%s-secret.yaml", key);
		r = convert_add_file(w, file, obj, err);
	}
	struct node *configs = node_map_get(w->p->doc, "configs");
	if (r < 0 || !configs || configs->kind != NODE_MAP || !configs->n)
		return r;
	struct node *obj = map();
	set(obj, "apiVersion", str("v1"));
	set(obj, "kind", str("ConfigMap"));
	static const char *const pk[] = {"projectName"};
	struct node *md = set(obj, "metadata", map());
	set(md, "name", w->values ? convert_values_ref(pk, 1) : str(w->ns));
	set(md, "namespace", convert_ns_of(w));
	set(md, "labels", convert_labels_of(w->p->name, NULL));
	struct node *data = set(obj, "data", map());
	for (size_t i = 0; i < configs->n; i++) {
		_cleanup_free_ char *content = content_of(w->p, configs->pairs[i].val);
		if (content)
			set(data, configs->pairs[i].key, str(content));
		else if (w->o->report)
			fprintf(w->o->report, "ignored: configs.%s: no content to carry (external?)\n",
				configs->pairs[i].key);
	}
	_cleanup_free_ char *file = xasprintf("%s-configs.yaml", w->p->name);
	return convert_add_file(w, file, obj, err);
}

/* --to helm: values.yaml, the chart's settings and each service's values. */
int convert_values_file(struct out *w, struct berr **err)
{
	struct buf y = {0};
	buf_puts(&y, "#! values.yaml\n");
	struct node *top = map();
	set(top, "projectName", str(w->ns));
	set(top, "namespace", str(w->ns));
	set(set(top, "deployment", map()), "strategy", str("Recreate"));
	set(set(top, "service", map()), "type", str(w->o->publish_type ? w->o->publish_type : "ClusterIP"));
	set(set(top, "storage", map()), "defaultSize", str(DEFAULT_SIZE));
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
		_cleanup_(strv_freep) char **names = convert_sorted_keys(w->values);
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
	convert_push_file(w, "values.yaml", buf_steal(&y));
	return 0;
}
