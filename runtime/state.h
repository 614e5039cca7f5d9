/* A container's state as its shim records it (state.json, written
 * atomically on every change) and as commands read it. */
#ifndef BERTH_STATE_H
#define BERTH_STATE_H

#include <stdint.h>
#include <sys/types.h>

#include "../lib/err.h"

enum ctr_status { ST_CREATED, ST_RUNNING, ST_RESTARTING, ST_EXITED, ST_DEAD };

struct ctr_state {
	enum ctr_status status;
	pid_t pid;	/* the container's init, as the host sees it */
	pid_t shim_pid;
	int exit_code;
	int64_t started_at, finished_at; /* unix time in ms; 0 = never */
	int restart_count;
	bool oom_killed;
	bool stopped_by_user;
	bool unmonitored; /* read, not recorded: running, but its shim died */
	char *error;	  /* why the last start failed; why the exit status is unknown */
};

/* exit_code when nobody saw the container end (its shim died first) */
#define EXIT_UNKNOWN (-1)

const char *ctr_status_name(enum ctr_status s);
int state_write(const char *dir, const struct ctr_state *st, struct berr **err);
/* A missing state file reads as created. */
int state_read(const char *dir, struct ctr_state *st, struct berr **err);
void state_free(struct ctr_state *st);

#endif
