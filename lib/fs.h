/* File helpers: whole-file reads with a size bound, atomic writes, paths. */
#ifndef BERTH_FS_H
#define BERTH_FS_H

#include <dirent.h>
#include <errno.h>

#include "err.h"

/* Read a whole file (or stdin for "-") of at most max bytes. */
int fs_read_file(const char *path, size_t max, char **out, size_t *len, struct berr **err);
/* Write data to path via a temporary file, fsync and rename. */
/* All n bytes to fd (a pipe, a socket, a terminal), EINTR retried; false on error. */
bool fs_write_all(int fd, const void *data, size_t n);
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct berr **err);
/* The same without the fsync, for files berth makes again from its state
 * (a container's /etc files, DNS records, caches): readers never see half
 * a file, and a power cut costs nothing that is not made anew. */
int fs_write_replace(const char *path, const void *data, size_t len, mode_t mode, struct berr **err);
bool fs_exists(const char *path);
bool fs_is_dir(const char *path);
/* dir + "/" + rel, or rel alone when it is absolute. Collapses "." and "..". */
char *path_join(const char *dir, const char *rel);
/* A lexically cleaned copy of an absolute or relative path. */
char *path_clean(const char *p);
char *path_dirname(const char *p);
const char *path_basename(const char *p);
/* An absolute, cleaned path for p, relative to the current directory. */
char *path_absolute(const char *p);

/* mkdir -p; existing directories are fine. */
int fs_mkdir_p(const char *path, mode_t mode, struct berr **err);
/* rm -rf that never follows symlinks nor crosses into another mount. */
int fs_remove_tree(const char *path, struct berr **err);
/* rm -rf of a directory that is first renamed out of sight
 * (.removing-PID-NAME beside it), so that a killed removal never leaves half
 * of it under its name; leftovers of killed removals go too. A path that is
 * not there is not an error. */
int fs_discard(const char *path, struct berr **err);
/* Removes what fs_discard calls in parent that were killed midway left
 * (.removing-PID-NAME of processes that are gone). */
void fs_discard_sweep(const char *parent);
/* The names in the directory open at dirfd (which stays open), sorted
 * bytewise, "." and ".." left out; NULL when it cannot be read. */
char **fs_dir_names(int dirfd);
/* Whether the directory dirfd has no entries (false when it cannot be read). */
bool fs_dir_empty(int dirfd);
/* An exclusive lock on path (created if missing), held until the fd is closed. */
int fs_lock(const char *path, int *fd, struct berr **err);

/* _cleanup_(closedirp) DIR *d: closed at the end of its scope, errno kept. */
static inline void closedirp(DIR **d)
{
	if (*d) {
		int saved = errno;
		closedir(*d);
		errno = saved;
	}
	*d = NULL;
}

#endif
