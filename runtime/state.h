/* A container's state as its shim records it (state.json, written
 * atomically on every change) and as commands read it. */
#ifndef BERTH_STATE_H
#define BERTH_STATE_H

#include <stdint.h>
#include <sys/types.h>

#include "../lib/err.h"

enum ctr_status { ST_CREATED, ST_RUNNING, ST_RESTARTING, ST_EXITED, ST_DEAD };

/* HEALTH_UNKNOWN: its shim died, nobody checks it any more. */
enum health_status { HEALTH_NONE, HEALTH_STARTING, HEALTH_HEALTHY, HEALTH_UNHEALTHY, HEALTH_UNKNOWN };

#define HEALTH_LOG 5 /* results kept, as Docker keeps them */

struct health_result {
	int64_t start, end; /* unix time in ms */
	int exit_code;      /* -1: it ran past its timeout */
	char *output;       /* its first 4 KiB */
};

struct ctr_state {
	enum ctr_status status;
	pid_t pid; /* the container's init, as the host sees it */
	pid_t shim_pid;
	int exit_code;
	int64_t started_at, finished_at; /* unix time in ms; 0 = never */
	int restart_count;
	bool oom_killed;
	bool stopped_by_user;
	bool unmonitored; /* read, not recorded: running, but its shim died */
	bool paused;      /* read, not recorded: running, its cgroup frozen (berth pause) */
	enum health_status health;
	int failing_streak;
	struct health_result log[HEALTH_LOG]; /* oldest first */
	size_t nlog;
	char *error; /* why the last start failed; why the exit status is unknown */
};

/* exit_code when nobody saw the container end (its shim died first) */
#define EXIT_UNKNOWN (-1)

const char *ctr_status_name(enum ctr_status s);
const char *health_status_name(enum health_status h);
/* A check's result, kept with the last HEALTH_LOG (takes output). */
void health_log_add(struct ctr_state *st, int64_t start, int64_t end, int exit_code, char *output);
int state_write(const char *dir, const struct ctr_state *st, struct berr **err);
/* A missing state file reads as created. */
int state_read(const char *dir, struct ctr_state *st, struct berr **err);
void state_free(struct ctr_state *st);
/* ipc or pid "container:NAME" (NAME a container of the same state root as
 * the one in dir): that container's init pid while it runs, else -1. */
pid_t state_peer_pid(const char *dir, const char *how);

#endif
