/* Named volumes with the local driver: $ROOT/volumes/NAME/ holds
 * volume.json (driver, options, labels, project) and _data/, the data
 * itself, or the mount point of what driver_opts name. Volumes are
 * made on first use and removed only on request (down -v, volume rm,
 * volume prune); nothing else in berth deletes a volume's data. */
#ifndef BERTH_VOLUME_H
#define BERTH_VOLUME_H

#include "../lib/err.h"

struct vol_def {
	const char *name;
	const char *project; /* NULL: made outside any project */
	bool external, anonymous;
	char **opts;   /* driver_opts, key=value: type, device, o */
	char **labels; /* key=value */
};

/* $ROOT/volumes/NAME, all that is the volume. */
char *vol_dir(const char *root, const char *name);
/* $ROOT/volumes/NAME/_data, the data of a volume. */
char *vol_data(const char *root, const char *name);
bool vol_name_ok(const char *name);
bool vol_exists(const char *root, const char *name);
/* Creates it (1) or finds it (0); an external volume must exist. */
int vol_ensure(const char *root, const struct vol_def *d, struct berr **err);
/* What a container mounts for the volume: _data, or for driver_opts
 * type none + o bind the device; for other types (tmpfs, ...) also the
 * mount type and options,
 * which each container mounts itself. opts: the driver_opts
 * the file gives (NULL: those recorded when the volume was made). */
int vol_source(const char *root, const char *name, char **opts, char **source, char **type, char **options,
	       struct berr **err);
/* Deletes it and its data, in use or not (ctr_volume_remove refuses a
 * volume in use); force: a volume that does not exist is no error. */
int vol_delete(const char *root, const char *name, bool force, struct berr **err);
/* Names of every volume, or of one project's. */
char **vol_list(const char *root, const char *project);
/* volume.json with the mount point and users (ctr_volume_users) added, or NULL. */
char *vol_inspect(const char *root, const char *name, char *const *users);
/* A new anonymous volume's name: 64 hex digits, as Docker makes them. */
char *vol_anon_name(void);

#endif
