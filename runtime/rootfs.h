/* The container's root filesystem, built inside its own mount namespace
 * (so nothing is visible on the host, and nothing outlives the container):
 * overlay of the image layers, /proc, /dev, /sys, the spec's mounts, the
 * masked and read-only paths Docker uses, then pivot_root. */
#ifndef BERTH_ROOTFS_H
#define BERTH_ROOTFS_H

#include "spec.h"

/* Runs in the container's first process, before it drops privileges. */
int rootfs_setup(const struct ctr_spec *s, struct berr **err);
/* Bind the container's terminal (a path in its own devpts) onto
 * /dev/console; called inside the new root. */
int rootfs_console(const char *slave, struct berr **err);
/* A volume mount's subpath, opened (O_PATH) beneath the volume's root
 * without following any symlink or magic link: what to mount from. */
int rootfs_subpath_open(const struct mount_spec *m, struct berr **err);
/* The subpath of an image volume of several layers (an overlay mount's
 * options, "ro,lowerdir=A:B…"), opened as rootfs_subpath_open does, in a
 * read-only overlay of them: a detached mount of it alone (open_tree). */
int rootfs_overlay_subpath_tree(const struct mount_spec *m, struct berr **err);

#endif
