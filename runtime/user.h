/* USER as the image's own files say it: a name or number, and a group,
 * looked up in the image's /etc/passwd and /etc/group. The image is an
 * attacker's input: those files are read inside its own root only, and
 * only when they are regular files. */
#ifndef BERTH_USER_H
#define BERTH_USER_H

#include <stddef.h>
#include <sys/types.h>

#include "../lib/err.h"

/* Resolve "name", "uid", "uid:gid", "name:group" (and "") against the
 * image's /etc/passwd and /etc/group (layers: its layer directories, top
 * first); groups gets the supplementary groups. */
int user_lookup(char **layers, const char *user, uid_t *uid, gid_t *gid, gid_t **groups, size_t *ngroups,
		struct berr **err);

#endif
