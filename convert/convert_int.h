/* What the files of convert share among themselves. */
#ifndef BERTH_CONVERT_INT_H
#define BERTH_CONVERT_INT_H

#include "convert.h"

/* ---- building objects as node trees (emitted in insertion order) ---- */

static const struct pos nowhere = {0};

static inline struct node *map(void) { return node_new_map(nowhere); }
static inline struct node *seq(void) { return node_new_seq(nowhere); }
static inline struct node *str(const char *s) { return node_new_str(s ? s : "", nowhere); }
static inline struct node *num(long long v) { return node_new_int(v, nowhere); }
static inline struct node *flag(bool v) { return node_new_bool(v, nowhere); }
static inline struct node *set(struct node *m, const char *k, struct node *v)
{
	node_map_set(m, k, v);
	return v;
}

static inline struct node *push(struct node *s, struct node *v)
{
	node_seq_push(s, v);
	return v;
}

#define DEFAULT_SIZE "100Mi" /* a volume claim's size when nothing says one */

struct out {
	struct k8s_file *files;
	size_t n;
	const struct convert_opts *o;
	const struct project *p;
	char *ns;
	bool claims_in_template; /* the service being written is a StatefulSet: its volumes are claim templates */
	struct node *values;     /* --to helm: values.yaml (images, replicas, published ports), else NULL */
};

/* A claim of a service's named volume: SERVICE-VOLUME, as a name Kubernetes takes. */
char *convert_claim_name(const char *service, const char *volume);
/* A port's protocol as Kubernetes names it, from compose's. */
const char *convert_k8s_proto(const char *proto);
/* A container port's name: SERVICE-PORT (-udp, -sctp for those), as
 * bridge names them, at most 15 characters, a letter in it. */
char *convert_port_name(const char *service, unsigned port, const char *proto);
struct node *convert_labels_of(const char *project, const char *service);
/* A mapping's keys, sorted (as Go's templates range over a map); NULL when none. */
char **convert_sorted_keys(const struct node *m);
/* {{ .Values.a.b }}, or {{ index .Values.a "b-c" }} from the first key
 * that is not a Go identifier. */
struct node *convert_values_ref(const char *const *keys, size_t n);
/* The namespace objects are in: the project's, or the chart's value. */
struct node *convert_ns_of(struct out *w);
struct node *convert_metadata(struct out *w, struct node *obj, const char *name);
/* An object's own labels: the project's and service's, and a chart's mark. */
struct node *convert_own_labels(struct out *w, const char *service);
/* --to helm: value (a scalar node) goes to values.yaml under
 * SERVICE.KEY[.SUB], and the object gets the template that reads it. */
struct node *convert_valued(struct out *w, const char *service, const char *key, const char *sub, struct node *value);
void convert_push_file(struct out *w, const char *name, char *text);
int convert_add_file(struct out *w, const char *name, struct node *obj, struct berr **err);
/* The desktop overlay's patch of the object just added: kind, name and
 * namespace of it, and spec. */
int convert_patch_last(struct out *w, const char *api, const char *kind, const char *name, struct node *spec,
		       struct berr **err);
/* A claim's size: x-kubernetes gives it, else the default (a chart's value). */
struct node *convert_claim_size(struct out *w, const char *size);
int convert_report_unmapped(struct out *w, const char *service, struct node *svc, struct berr **err);
struct node *convert_str_list(struct node *n);
void convert_resources(struct node *c, struct node *svc);
int convert_workload(struct out *w, const char *service, struct node *svc, struct berr **err);
/* A Service of the ports: the exposed ones under the service's own name
 * (ClusterIP: its DNS name keeps working), the published ones as
 * NAME-published. */
int convert_services_of(struct out *w, const char *service, struct node *svc, struct berr **err);
bool convert_wanted(const struct convert_opts *o, const char *service);
int convert_namespace_object(struct out *w, struct berr **err);
/* Each network: only the pods on it reach each other (ingress, as docker
 * compose bridge writes it); an internal one has no way out but to its
 * own pods and DNS. */
int convert_network_policies(struct out *w, struct berr **err);
int convert_volume_claims(struct out *w, const char *service, struct node *svc, struct berr **err);
int convert_secrets_and_configs(struct out *w, struct berr **err);
/* --to helm: values.yaml, the chart's settings and each service's values. */
int convert_values_file(struct out *w, struct berr **err);

#endif
