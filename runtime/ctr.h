/* Containers from berth's side: state directories under <root>/containers,
 * a shim per running container, stop and removal that leave nothing. */
#ifndef BERTH_CTR_H
#define BERTH_CTR_H

#include "spec.h"
#include "state.h"

/* <root>/containers/<name> */
char *ctr_dir(const char *root, const char *name);
/* Path of berth-shim: $BERTH_SHIM, else beside the running berth. */
char *ctr_shim_path(void);

/* Make the state directory (upper, work, rootfs mount point) and write the
 * spec. Refuses when a container of that name exists. */
int ctr_create(const char *root, const struct ctr_spec *s, struct berr **err);
/* Start its shim and wait until the command is running (or failed to). */
int ctr_start(const char *root, const char *name, struct berr **err);
/* Stop it: the stop signal, then SIGKILL after timeout_ms (< 0: the spec's). */
int ctr_stop(const char *root, const char *name, int64_t timeout_ms, struct berr **err);
int ctr_kill(const char *root, const char *name, int sig, struct berr **err);
/* Remove a stopped container (force: stop it first). */
int ctr_remove(const char *root, const char *name, bool force, struct berr **err);
/* State, with a shim that died unseen reported as exited. */
int ctr_state(const char *root, const char *name, struct ctr_state *st, struct berr **err);
bool ctr_exists(const char *root, const char *name);
/* Names of every container in the state root. */
char **ctr_list(const char *root);

#endif
