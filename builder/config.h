/* The instructions that only change an image's config (ENV, LABEL, ARG,
 * WORKDIR's path, USER, CMD, ENTRYPOINT, SHELL, EXPOSE, VOLUME,
 * STOPSIGNAL, HEALTHCHECK, ONBUILD, MAINTAINER), as Docker applies them. */
#ifndef BERTH_BUILD_CONFIG_H
#define BERTH_BUILD_CONFIG_H

#include <jansson.h>

#include "dockerfile.h"

/* A stage while it is built. */
struct bstage {
	json_t *cfg;     /* the image config's "config" */
	json_t *history; /* its "history" */
	json_t *layers;  /* [{digest, diff_id}], bottom first */
	char *author;
	char **args;       /* this stage's ARGs with a value: NAME=VALUE */
	char **build_args; /* --build-arg and build: args (not owned) */
	char **meta;       /* the ARGs before the first FROM, NAME=VALUE (not owned) */
	char escape;
	bool cmd_set; /* CMD given in this stage (ENTRYPOINT then keeps it) */
};

/* $NAME as the instruction sees it: ENV first, then ARG. */
const char *bstage_lookup(void *data, const char *name);

/* Applies a config-only instruction; its text for the image's history
 * and the cache goes to *created_by. */
int bconfig_apply(struct bstage *s, const struct df_instr *ins, char **created_by, struct berr **err);

/* The environment a RUN sees: the config's ENV (PATH added when it has
 * none), and the ARGs in scope under it. */
char **bstage_run_env(const struct bstage *s);
/* The config's Shell, or /bin/sh -c. */
char **bstage_shell(const struct bstage *s);

/* Go's time.ParseDuration for HEALTHCHECK: "1m30s" in ns; -1 when bad. */
long long bconfig_duration(const char *s);

#endif
