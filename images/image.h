/* Images in the store: loading archives (docker save / OCI layout), and
 * the records commands list, inspect and remove. */
#ifndef BERTH_IMAGE_H
#define BERTH_IMAGE_H

#include "store.h"

/* Load every image of a docker-archive or OCI image layout archive read
 * from fd (source names it in messages). *loaded gets one line per image:
 * "Loaded image: busybox:latest" or "Loaded image ID: sha256:...". */
int image_load(struct store *s, int fd, const char *source, char ***loaded, struct berr **err);

/* The familiar references ("busybox:latest") that point at id, sorted. */
char **image_tags(const struct store *s, const char *id);
/* Remove a tag, or an image by id; layers and blobs no image uses go too.
 * *lines says what happened ("Untagged: x", "Deleted: sha256:..."). An
 * image whose layers are among in_use_layers (containers') is never
 * deleted: its last tag is refused, or with force only untagged, as
 * docker rmi does. */
int image_remove(struct store *s, const char *what, bool force, char *const *in_use_layers, char ***lines,
		 struct berr **err);

/* image prune: images without a tag (all: every image), and layers no
 * image uses; never an image or layer whose layer directory is among
 * in_use_layers (the containers' lower layers). *lines says what went,
 * *reclaimed the bytes of the layers that went with no image. */
int image_prune(struct store *s, char *const *in_use_layers, bool all, char ***lines, uint64_t *reclaimed,
		struct berr **err);

/* Removes the layers no image uses (nor a container: in_use_layers). */
int image_prune_layers(struct store *s, char *const *in_use_layers, char ***lines, uint64_t *reclaimed);

#endif
