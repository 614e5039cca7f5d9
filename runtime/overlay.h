/* Overlay mounts of image layers, for containers, build steps, cp and
 * image volumes.
 *
 * mount(2) takes its options in one page. Named by their paths under the
 * state root (about 90 bytes each), layers fill it at about 42, where
 * Docker runs images of up to 127. Here each directory is opened and
 * named by its descriptor, /proc/self/fd/N (at most 18 bytes), as Docker's
 * overlay2 names layers by short links: 127 layers fit on every kernel
 * berth supports (fsconfig's "lowerdir+", one layer a call, came only in
 * Linux 6.8).
 *
 * Redirects and metacopy are off: a layer is an attacker's input, and the
 * xattrs that ask for them (trusted.overlay.*) must not steer lookups. */
#ifndef BERTH_OVERLAY_H
#define BERTH_OVERLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/err.h"

/* Mount an overlay of lowers (topmost first) on target: with upper and
 * work (both or neither) writable, else read-only; flags as mount(2)'s.
 * target must be in the caller's mount namespace (a descriptor opened
 * before an unshare is not). */
int overlay_mount(const char *target, char *const *lowers, const char *upper, const char *work, unsigned long flags,
		  struct berr **err);
/* The same from a mount's options, "lowerdir=A:B[,upperdir=U,workdir=W]"
 * (the form berth records in a container's spec); anything else in them
 * is refused. */
int overlay_mount_data(const char *target, const char *data, unsigned long flags, struct berr **err);
/* The layers of such options (a new list; NULL without a lowerdir). */
char **overlay_lowers(const char *data);
/* The value of KEY= in such options (a new string), or NULL. */
char *overlay_option(const char *data, const char *key);
/* How a subpath is opened in what it is a subpath of (openat2's resolve):
 * a volume's beneath its root with no symlink followed; a build's --mount
 * source (in_root) with symlinks followed, as the source's own root sees
 * them, never out of it. */
uint64_t overlay_subpath_resolve(bool in_root);
/* A read-only overlay of lowers, made in a mount namespace of a child's
 * own (nothing is mounted here), and of it only subpath, opened as
 * overlay_subpath_resolve says: returned as a detached mount (open_tree),
 * to move into place or to fstat. */
int overlay_subpath_tree(char *const *lowers, const char *subpath, bool in_root, struct berr **err);

#endif
