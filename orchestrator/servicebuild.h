/* A service's build: section, handed to the builder: which image it makes
 * (image:, or <project>-<service> as docker compose names it), when it is
 * built (missing, --build, pull_policy: build), and every build key either
 * honoured, refused, or said to have no effect. */
#ifndef BERTH_SERVICEBUILD_H
#define BERTH_SERVICEBUILD_H

#include <stdio.h>

#include "apply.h"
#include "project.h"

struct svcbuild_opts {
	bool always; /* build even when the image exists (build, up --build) */
	bool no_cache, pull, quiet, check;
	char **args;     /* --build-arg NAME=VALUE (a bare NAME: from the environment) */
	FILE *out;       /* progress; NULL: none */
	char **built;    /* gets the services built (may be NULL) */
	char **warnings; /* check: gets "SERVICE: Dockerfile:LINE: Rule: what" */
};

/* The image the service runs: its image:, or <project>-<service>. */
char *svcbuild_image(const struct project *p, const char *service);
/* Whether the service has a build: section. */
bool svcbuild_has(const struct project *p, const char *service);
/* Builds services (NULL: every one with build:) that need it; under
 * ctx->dry_run says "Image NAME Built" for each it would build, and builds
 * nothing. */
int svcbuild_run(const struct apply_ctx *ctx, const struct project *p, char *const *services, struct svcbuild_opts *o,
		 struct berr **err);

#endif
