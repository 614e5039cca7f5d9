/* Docker's copy-up: a new, empty volume mounted over a directory of the
 * image first gets what the image has there. Runs in the shim, inside the
 * container's mount namespace, before the volume is mounted. */
#ifndef BERTH_COPYUP_H
#define BERTH_COPYUP_H

#include "../lib/err.h"

/* Copies everything under the directory src into the directory dst (both
 * fds): files, directories, symlinks, device nodes and fifos, with owners,
 * modes, times and extended attributes; hard links within src stay linked.
 * Then dst takes src's owner and mode. */
int copyup(int src, int dst, struct berr **err);

#endif
