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
int layer_unpack(const char *blob_path, const char *dest, const char *tmp_parent, uint64_t *bytes,
		 struct berr **err);
/* sha256 of the uncompressed stream of a (possibly compressed) layer blob. */
int layer_diff_id(const char *blob_path, char digest[72], struct berr **err);

#endif
