/* A build step's changes as an image layer: the overlay upper directory a
 * step wrote into, written as a tar (deletions as .wh. whiteouts, opaque
 * directories as .wh..wh..opq, xattrs kept) into a gzip blob of the store,
 * and the directory itself kept as the unpacked layer. */
#ifndef BERTH_BUILD_LAYER_H
#define BERTH_BUILD_LAYER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../images/store.h"

struct blayer {
	char digest[72];  /* of the gzip blob */
	char diff_id[72]; /* of the tar */
	uint64_t size;    /* of the blob */
};

/* Commits upper as a layer; upper is moved into the store, or removed
 * when it holds no change (*empty). */
int blayer_commit(struct store *st, const char *upper, struct blayer *out, bool *empty, struct berr **err);

/* The unpacked size of layers ([{digest, diff_id}]), from the store. */
uint64_t blayer_size(struct store *st, json_t *layers);

/* What a path is in the image made of layers (top first), lexically:
 * whiteouts and opaque directories hide what is below; symlinks in its
 * directories are not followed. 0, or -ENOENT. */
int blayer_lstat(char *const *layers, const char *path, struct stat *st);

/* The directories that make up path in the image of layers (top first),
 * for an overlay of just that part: each layer's path/ that is not hidden
 * by a whiteout or an opaque directory above it. A path that is a file
 * gives the one file (*file set). -ENOENT when the image has no path. */
int blayer_subdirs(char *const *layers, const char *path, char ***out, bool *file);

/* Removes from upper the mount points a step's container made there
 * (stubs: paths from the root) when they are still empty and the image
 * has no such path, and the directories made only to hold them. */
void blayer_drop_stubs(const char *upper, char *const *layers, char *const *stubs);

#endif
