/* Unpacking one image layer (tar, gzip or zstd) into a directory, safely:
 * no absolute paths, no "..", no writes through symlinks, no device nodes;
 * whiteouts become overlayfs whiteouts. Nothing half-unpacked is kept. */
#ifndef BERTH_UNPACK_H
#define BERTH_UNPACK_H

#include <stdint.h>

#include "../lib/err.h"

/* Unpack blob_path into dest (which must not exist yet), working in a
 * temporary directory under tmp_parent and renaming it at the end. When
 * dest appears meanwhile (another berth unpacked it), that one is kept. */
int layer_unpack(const char *blob_path, const char *dest, const char *tmp_parent, uint64_t *bytes, struct berr **err);
/* A layer as it arrives: read() gives its next bytes (0 at the end, < 0
 * on an error it sets in *err). Unpacked into a new temporary directory
 * under tmp_parent (*tmp), with the sha256 of the bytes read (digest) and
 * of the uncompressed tar (diff_id), "sha256:<hex>". The caller checks both
 * and then commits or discards *tmp. name names the layer in messages. */
#include <sys/types.h>
typedef ssize_t (*layer_read_fn)(void *ctx, void *buf, size_t n, struct berr **err);
int layer_unpack_stream(layer_read_fn read, void *ctx, const char *name, const char *tmp_parent, char **tmp,
			uint64_t *bytes, char digest[72], char diff_id[72], struct berr **err);
/* Moves an unpacked tmp into place as dest (keeping a dest that another
 * berth put there meanwhile) and frees tmp. */
int layer_commit(char *tmp, const char *dest, struct berr **err);
/* Removes and frees tmp. */
void layer_discard(char *tmp);
/* sha256 of the uncompressed stream of a (possibly compressed) layer blob. */
int layer_diff_id(const char *blob_path, char digest[72], struct berr **err);

#endif
