/* berth commit: a container's changes (a copy of its overlay upper
 * directory) as a new layer on its image, with the config changes of
 * docker commit --change (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD,
 * USER, VOLUME, WORKDIR, STOPSIGNAL, HEALTHCHECK). */
#ifndef BERTH_BUILD_COMMIT_H
#define BERTH_BUILD_COMMIT_H

#include "../images/store.h"

struct commit_opts {
	const char *base;     /* the container's image id (its config's digest) */
	const char *upper;    /* a copy of the container's upper directory; moved into the store */
	char *const *changes; /* Dockerfile instructions, one per entry */
	const char *author, *message;
};

/* The new image's id in id. */
int commit_image(struct store *st, const struct commit_opts *o, char id[72], struct berr **err);

#endif
