/* Building an image from a Dockerfile, as BuildKit does it: the stages the
 * target needs, each instruction in order, RUN in berth's own containers,
 * COPY and ADD without one, each step that changes files a layer in the
 * store, a cache of steps, progress like BuildKit's plain output. */
#ifndef BERTH_BUILD_H
#define BERTH_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../lib/err.h"

struct build_opts {
	const char *root;              /* berth's state root */
	const char *context;           /* a directory */
	const char *dockerfile;        /* relative to the context unless absolute; NULL: Dockerfile */
	const char *dockerfile_inline; /* the Dockerfile's text instead */
	char **args;                   /* NAME=VALUE */
	const char *target;            /* NULL: the last stage */
	char **tags;                   /* references the image gets */
	char **labels;                 /* NAME=VALUE */
	bool no_cache, pull, quiet;
	const char *network; /* RUN's default: "default", "none", "host" */
	char **hosts;        /* extra_hosts: "NAME=ADDRESS" or "NAME:ADDRESS" */
	char **secrets;      /* ID=PATH, for RUN --mount=type=secret */
	char **contexts;     /* named contexts, NAME=DIR or NAME=docker-image://REF */
	int64_t shm_size;    /* RUN's /dev/shm in bytes; 0: 64 MiB */
	char **ulimits;      /* RUN's limits: NAME=SOFT[:HARD] */
	bool privileged;     /* RUN --security=insecure is allowed */
	bool host_network;   /* RUN --network=host is allowed (the network.host entitlement) */
	char **cache_from;   /* images built here whose steps the cache takes up */
	const char *title;   /* a service's name, before its progress lines */
	FILE *out;           /* progress; NULL: stderr */
};

/* Builds; *id (may be NULL) gets the image id. */
int build_image(const struct build_opts *o, char **id, struct berr **err);

/* Parses the Dockerfile and its stages and checks what can be checked
 * without running anything (build --check); *warnings (may be NULL) gets
 * BuildKit's checks that failed, "Dockerfile:LINE: Rule: what". */
int build_check(const struct build_opts *o, char ***warnings, struct berr **err);

/* Frees the build cache: its records, and the layers only it used.
 * *freed: the bytes of those layers. */
int build_cache_prune(const char *root, uint64_t *freed, char ***lines, struct berr **err);

#endif
