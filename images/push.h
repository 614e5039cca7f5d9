/* Pushing an image of the store to its registry, as docker push does: each
 * layer blob the registry lacks (one PUT each), the config, and an OCI
 * manifest under the reference's tag. */
#ifndef BERTH_PUSH_H
#define BERTH_PUSH_H

#include <stdio.h>

#include "store.h"

struct push_opts {
	bool quiet; /* no progress */
	FILE *out;  /* progress; NULL: stdout */
};

/* Pushes the image ref names in the store to ref's repository and tag;
 * *digest (may be NULL) gets the manifest's digest. The store must be
 * open with its lock. */
int image_push(struct store *s, const char *ref, const struct push_opts *o, char **digest, struct berr **err);

#endif
