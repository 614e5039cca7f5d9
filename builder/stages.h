/* The stages of a parsed Dockerfile: where each begins and ends, its base
 * (an image, or an earlier stage), the stages it copies or mounts from,
 * and which of them a target needs, with the ARGs before the first FROM
 * (and --build-arg) expanded in FROM lines, as Docker does. */
#ifndef BERTH_STAGES_H
#define BERTH_STAGES_H

#include "dockerfile.h"

struct df_stage {
	char *name;         /* AS name, lower case; NULL when unnamed */
	char *base;         /* the image, expanded; or the base stage's name */
	int base_stage;     /* index of the stage it is built on, or -1 */
	char *platform;     /* --platform=, expanded; NULL when none */
	size_t first, last; /* its instructions: first is its FROM */
	int *deps;          /* stages it needs (its base, COPY --from, RUN --mount from=) */
	size_t ndeps;
	char **images; /* images it copies or mounts from that are no stage */
};

/* build_args: "NAME=VALUE" (--build-arg, build: args); among them
 * BuildKit's platform ARGs (TARGETPLATFORM, BUILDARCH, …), which FROM
 * lines see without a declaration. */
int df_stages(const struct dockerfile *d, char *const *build_args, struct df_stage **out, size_t *n, struct berr **err);
void df_stages_free(struct df_stage *s, size_t n);
/* The stages target (a name, or NULL for the last) needs, itself included,
 * in need[]; -1 with an error naming the target when there is none. */
int df_needed(const struct dockerfile *d, const struct df_stage *s, size_t n, const char *target, bool *need,
	      struct berr **err);

/* A flag's value ("--from=x" gives "x" for "--from"), or NULL. */
const char *df_flag(const struct df_instr *ins, const char *name);
/* The stage --from= names: by name (any case) or index; -1 when none,
 * -2 for an index out of range. */
int df_stage_find(const struct df_stage *s, size_t n, const char *what);

#endif
