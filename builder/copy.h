/* COPY, ADD and WORKDIR's directory: files put into a stage's filesystem
 * without a container. A child of berth, in a mount namespace of its own,
 * mounts the stage's layers with a new upper directory, chroots into it
 * (so the image's symlinks resolve inside it), and copies from the
 * context or another stage, opening every source with RESOLVE_IN_ROOT. */
#ifndef BERTH_BUILD_COPY_H
#define BERTH_BUILD_COPY_H

#include <stdbool.h>
#include <sys/types.h>

#include "ignore.h"

struct bcopy {
	char **layers;                    /* the stage's, top first; none: scratch */
	const char *work;                 /* a new directory to work in */
	const char *src_dir;              /* the sources: the context, or a stage's one layer ... */
	char **src_layers;                /* ... or its layers, top first */
	const struct ignore *ig;          /* of the context */
	char **srcs;                      /* source paths and patterns */
	char **here_names, **here_bodies; /* COPY <<EOF: files and their text */
	const char *dest;                 /* absolute */
	bool dest_dir;                    /* it ends in "/" */
	const struct ignore *ex;          /* --exclude */
	bool parents;                     /* --parents */
	bool chown, chmod;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	bool add;         /* local tar archives are extracted */
	bool mkdir_only;  /* WORKDIR: dest made, nothing copied */
	const char *what; /* "COPY", "ADD", "WORKDIR": for messages */
};

/* Does it; *upper (inside work) holds what changed. */
int bcopy_run(const struct bcopy *c, char **upper, struct berr **err);

/* A digest of what srcs name in the directory dir (after ig and
 * excludes): names, types, modes and contents; for the build cache.
 * A source that matches nothing is an error, as in bcopy_run. */
int bcopy_hash(const char *dir, const struct ignore *ig, const struct ignore *ex, char *const *srcs, char out[65],
	       struct berr **err);

#endif
