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
/* The same in two halves, to start many at once: launch returns a file
 * descriptor to wait on (-1 when it was running already); finish reads
 * the verdict and closes it. stdio: the shim's (berth run's link to it,
 * see console.h), or NULL. */
int ctr_start_launch(const char *root, const char *name, const int *stdio, int *ready, struct berr **err);
/* Until the container's shim is gone; its command's exit code. */
int ctr_wait(const char *root, const char *name, int *exit_code, struct berr **err);
int ctr_start_finish(const char *name, int ready, struct berr **err);
/* Stop it: the stop signal, then SIGKILL after timeout_ms (< 0: the spec's). */
int ctr_stop(const char *root, const char *name, int64_t timeout_ms, struct berr **err);
/* The same in two halves, so that other work can go on while it stops:
 * begin sends the signal, end waits until the container is down (and
 * always frees s, also after a failed begin). */
struct ctr_stopping {
	char *name;
	char *cg; /* its cgroup's id */
	int pidfd;
	pid_t shim; /* 0: nothing to wait for */
	int64_t timeout_ms;
	char *orphan_dir; /* running without its shim: berth waits out the grace itself */
};
int ctr_stop_begin(const char *root, const char *name, int64_t timeout_ms, struct ctr_stopping *s, struct berr **err);
void ctr_stop_end(struct ctr_stopping *s);
/* Wait until the container is healthy, or has exited 0; -1 with *why
 * (malloc'd) once it cannot be: unhealthy, exited, no healthcheck. */
enum ctr_await { AWAIT_HEALTHY, AWAIT_COMPLETED };
int ctr_await(const char *root, const char *name, enum ctr_await what, struct berr **err);
/* up --wait: until every container is running (and healthy, when it has a
 * healthcheck) or has exited 0, at most timeout_ms (0: no limit); -1 with
 * *why (malloc'd) naming one that is not. */
int ctr_await_ready(const char *root, char *const *names, int64_t timeout_ms, struct berr **err);
int ctr_kill(const char *root, const char *name, int sig, struct berr **err);
/* berth pause / unpause: freeze or thaw every process of a running container. */
int ctr_pause(const char *root, const char *name, bool pause, struct berr **err);
/* Remove a stopped container (force: stop it first). */
int ctr_remove(const char *root, const char *name, bool force, struct berr **err);
/* State, with a shim that died unseen reported as exited. */
int ctr_state(const char *root, const char *name, struct ctr_state *st, struct berr **err);
bool ctr_exists(const char *root, const char *name);
/* The id of its cgroup for the cgroup_* calls (cgroup_id). */
char *ctr_cgroup(const char *root, const char *name);
/* Running or restarting, watched by its shim or not (what stop stops). */
bool ctr_running(const char *root, const char *name);
/* Running or restarting (its shim alive)? pid, when not NULL, gets the
 * container's init as the host sees it (0 while it restarts). */
bool ctr_up(const char *root, const char *name, pid_t *pid);
/* Names of every container in the state root. */
char **ctr_list(const char *root);
/* The image layer directories the containers of the state root are made
 * of (what no image removal or prune may take from under them). */
char **ctr_layers_in_use(const char *root);

/* Containers whose spec mounts the volume NAME. */
char **ctr_volume_users(const char *root, const char *name);
/* Removes the volume; refused while a container uses it (naming them).
 * force: a volume that does not exist is no error. */
int ctr_volume_remove(const char *root, const char *name, bool force, struct berr **err);

#endif
