/* berth convert: the project model as Kubernetes objects, one file per
 * object, named and shaped as docker compose bridge writes them: a
 * Namespace, a Deployment (a Job for a one-shot service) per service, a
 * Service for its exposed ports and one for its published ones, a
 * NetworkPolicy per network, PersistentVolumeClaims, Secrets and a
 * ConfigMap. Every key with no mapping is named on stderr ("ignored:
 * services.web.devices"), an error with strict. See docs/kubernetes.md. */
#ifndef BERTH_CONVERT_H
#define BERTH_CONVERT_H

#include <stdio.h>

#include "../orchestrator/project.h"

struct convert_opts {
	const char *to;           /* "kubernetes" (one directory), "kustomize" (base/ and overlays/desktop/) */
	const char *out;          /* the directory written (made when missing) */
	char **services;          /* NULL: every enabled service */
	const char *publish_type; /* the published Service's type: ClusterIP (default), NodePort, LoadBalancer */
	bool strict;              /* a key with no mapping is an error */
	bool allow_hostpath;      /* bind mounts as hostPath volumes rather than refused */
	FILE *report;             /* where "ignored: …" lines go */
	FILE *created;            /* where "Kubernetes resource NAME created" lines go, or NULL */
};

/* One object: its file name and YAML text, and the kustomize desktop
 * overlay's patch of it (a published Service a LoadBalancer, a claim of
 * Docker Desktop's storage class), or NULL. */
struct k8s_file {
	char *name;
	char *yaml;
	char *patch;
};

/* The objects, in the order they are written; *n of them. */
int convert_objects(const struct project *p, const struct convert_opts *o, struct k8s_file **out, size_t *n,
		    struct berr **err);
void convert_files_free(struct k8s_file *f, size_t n);
/* convert_objects, written under o->out. */
int convert_write(const struct project *p, const struct convert_opts *o, struct berr **err);

/* A name as Kubernetes takes it (RFC 1123 label): lower case letters,
 * digits and '-', none at either end, at most 63 characters. */
char *k8s_name(const char *s);

#endif
