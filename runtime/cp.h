/* berth cp: files between a container (running or not) and the host, as
 * tar streams. The container's side runs in a child chrooted into the
 * container's filesystem, with every path opened by openat2 under
 * RESOLVE_IN_ROOT, so that no symlink of the container leads out of it. */
#ifndef BERTH_CP_H
#define BERTH_CP_H

#include "../lib/err.h"

/* A tar of path (a file or a directory, named by its base name; "dir/."
 * gives the directory's contents, named "."): follow the path's own last
 * symlink (docker cp -L); owners are kept in the headers. */
int cp_tar_write(const char *path, bool follow, int out, struct berr **err);
/* A tar of the paths rels (relative to dir; a directory with what it
 * holds), each under its name of names: what berth watch syncs. A path
 * gone meanwhile is left out. */
int cp_tar_write_paths(const char *dir, char *const *rels, char *const *names, int out, struct berr **err);
/* Extract the tar on in at dest as docker cp places it: into dest when it
 * is a directory, as dest when it is not there (its parent must be);
 * raw: the stream's entries as they are, into the directory dest (cp -).
 * keep_owner: the headers' owners (cp -a), else the extracting user's. */
int cp_tar_extract(const char *dest, bool raw, bool keep_owner, int in, struct berr **err);

/* berth export: the container's own filesystem (its layers and what it
 * changed, not its volumes, binds or /proc) as a tar on out, running or
 * not: a read-only overlay of its upper directory over its layers. */
int ctr_export(const char *root, const char *name, int out, struct berr **err);

/* The same, inside the container name of the state root. */
int ctr_cp_out(const char *root, const char *name, const char *path, bool follow, int out, struct berr **err);
int ctr_cp_in(const char *root, const char *name, const char *dest, bool raw, bool keep_owner, int in,
	      struct berr **err);

#endif
