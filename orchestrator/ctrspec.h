/* From a service of the project model and its image, the spec of one of
 * its containers, as Docker would run it. */
#ifndef BERTH_CTRSPEC_H
#define BERTH_CTRSPEC_H

#include "../images/imgcfg.h"
#include "../runtime/spec.h"
#include "../network/net.h"
#include "node.h"
#include "project.h"

struct spec_ctx {
	const struct project *project;
	const char *service;
	int number;           /* replica number, from 1 */
	const char *name;     /* container name */
	const char *dir;      /* its state directory */
	const char *hostname; /* default hostname (a short id) */
	const struct image_config *image;
	const char *init_path;     /* berth-shim, for init: true */
	const char *root;          /* the state root, for named volumes */
	const struct store *store; /* the image store, for image volumes (may be NULL: none allowed) */
	char *const *anon_prev;    /* "target=volume" of the container this one replaces */
	char ***anon_out;          /* gets "target=volume" of each anonymous volume */
};

/* Fill s; errors name the service and what to change. */
int ctrspec_build(const struct spec_ctx *c, struct ctr_spec *s, struct berr **err);
/* Write the files the spec bind-mounts from the state directory: hostname,
 * /etc/hosts and resolv.conf, which name the container's first address and
 * berth's DNS responder when e (attached by net_attach) has networks. */
int ctrspec_write_files(const struct project *p, const char *service, const struct ctr_spec *s,
			const struct net_endpoint *e, struct berr **err);
/* The command: entrypoint and command against the image's, as Docker does. */
char **ctrspec_argv(struct node *svc, const struct image_config *img);
/* Capabilities after privileged, cap_add and cap_drop. */
int ctrspec_caps(struct node *svc, const char *service, uint64_t *caps, struct berr **err);
/* The name of replica number of service: container_name or <project>-<service>-<n>. */
char *ctrspec_name(const struct project *p, const char *service, int number);
/* How many containers the service runs (scale, deploy.replicas; default 1). */
int ctrspec_replicas(struct node *svc);

/* One entry of ulimits: a number (soft and hard) or {soft, hard}. */
void ctrspec_ulimit(const struct node *v, long long *soft, long long *hard);
/* The content of a declared secret or config (decl): its file, its
 * environment variable, or its content. kind: "secret" or "config". */
int ctrspec_secret_content(const struct project *p, const char *kind, const char *name, struct node *decl, char **out,
			   size_t *len, struct berr **err);

/* One hook (post_start, pre_stop, develop.watch exec) from its node: its
 * command, environment, user, working_dir, privileged. what names it in errors. */
int ctrspec_hook(struct node *h, const char *service, const char *what, struct hook_spec *out, struct berr **err);

#endif
