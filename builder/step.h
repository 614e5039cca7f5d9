/* What the builder's files share while one build runs: the build and its
 * stages, the progress lines, the step cache, and where files come from.
 * Not for callers of the builder (build.h is theirs). */
#ifndef BERTH_BUILD_STEP_H
#define BERTH_BUILD_STEP_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "../images/store.h"
#include "../lib/buf.h"
#include "../lib/util.h"
#include "build.h"
#include "config.h"
#include "dockerfile.h"
#include "ignore.h"
#include "stages.h"

/* A stage while it is built: its config, its layers and its cache key. */
struct sstate {
	struct bstage s;
	char key[65];
	json_t *steps; /* [{key, layer, created}] of the steps that changed files: what cache_from seeds */
	bool built;
};

struct build {
	const struct build_opts *o;
	struct store *st;
	struct dockerfile df;
	struct df_stage *stages;
	size_t nstages;
	struct ignore ig;
	char *context; /* absolute */
	struct sstate *ss;
	char **lines;   /* the Dockerfile's text, for what a failure shows */
	char **meta;    /* ARGs before FROM, and the platform's */
	char **args;    /* the platform's ARGs, then --build-arg over them */
	char *platform; /* linux/amd64 */
	char *created;
	char *work;  /* <root>/build/<pid>: scratch space, gone at the end */
	char *empty; /* an empty directory: the lower layer of scratch */
	int *vertex; /* shared with the processes that build stages side by side */
	int nrun;
	char *prefix; /* of the build's container names: build-<pid>- */
	int64_t t0;
	FILE *out;
	bool used_network;
	/* the current step, for RUN's output */
	int cur_vertex;
	int64_t cur_t0;
	struct buf partial;
	char *tail[10];
	size_t ntail;
};

/* Where a step's files come from: a directory (the build context, a
 * named context, fetched URLs), or the layers of a stage or an image. */
struct bsource {
	char *dir;
	const struct ignore *ig; /* the context's .dockerignore */
	char **layers;           /* top first */
	char *key;               /* a stage's cache key or an image's id; NULL: hash dir's files */
};

/* Progress, as BuildKit's plain output: one line written at once (stages
 * built side by side share the output); a step's number, its end. */
void build_say(struct build *b, const char *fmt, ...) _printf_(2, 3);
int build_vstart(struct build *b, const char *fmt, ...) _printf_(2, 3);
void build_vdone(struct build *b, int v, int64_t t0, bool cached);
/* A RUN's output as it comes (brun's output callback), its last line, and
 * the lines kept for an error. */
void build_output(void *data, const char *text, size_t len);
void build_output_flush(struct build *b);
void build_tail_clear(struct build *b);
/* The instruction as the Dockerfile has it, for progress lines. */
char *build_instr_text(const struct df_instr *ins);

/* The next cache key: sha256 of the previous and what the step is. */
void build_key(char key[65], const char *prev, const char *text);
/* A cached step applied to the stage (false: not cached); a step's changes
 * (upper) made the stage's next layer and cached under key. */
bool build_cached(struct build *b, struct sstate *ss, const char *key, const char *by);
int build_commit(struct build *b, struct sstate *ss, const char *key, const char *upper, const char *by,
		 struct berr **err);
void build_history(struct sstate *ss, const char *by, bool empty, const char *created);
/* A step that changes files begins: its key after the stage's (from
 * key_text), its progress line, and (try_cache) the cache: *cached when
 * its layer was there, applied with hist as its history. Its number. */
int build_step_begin(struct build *b, struct sstate *ss, const struct df_instr *ins, const char *step,
		     const char *key_text, const char *hist, bool try_cache, int64_t *t0, bool *cached);

/* Layer directories, top first: of a record's layers; of the stage (or
 * one empty directory for scratch). */
char **build_layer_dirs(struct build *b, json_t *layers);
char **build_lower(struct build *b, struct sstate *ss);
/* A new scratch directory name of this process under the build's. */
char *build_scratch(struct build *b);

/* --from=NAME (NULL: the build context): a stage, a named context or an image. */
int build_source(struct build *b, size_t si, const char *from, struct bsource *s, struct berr **err);
void build_source_free(struct bsource *s);
/* --ulimit / build: ulimits (NAME=SOFT[:HARD]) as rlimits; an error names a bad one. */
struct rlimit_spec;
int build_limits(char *const *ulimits, struct rlimit_spec **out, size_t *n, struct berr **err);
/* A flag's boolean value: absent or "true" or "1". */
bool build_flag_bool(const char *v);

/* The steps that change files. */
int build_step_run(struct build *b, size_t si, struct sstate *ss, const struct df_instr *ins, const char *step,
		   struct berr **err);
int build_step_copy(struct build *b, size_t si, struct sstate *ss, const struct df_instr *ins, const char *step,
		    struct berr **err);
int build_step_workdir(struct build *b, struct sstate *ss, const struct df_instr *ins, const char *step,
		       struct berr **err);

#endif
