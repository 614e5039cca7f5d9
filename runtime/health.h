/* Healthchecks, run by the shim (runtime/shim.c) inside its container:
 * one check at a time, no process kept between checks, Docker's rules
 * for starting -> healthy / unhealthy. */
#ifndef BERTH_HEALTH_H
#define BERTH_HEALTH_H

#include <sys/types.h>

#include "spec.h"
#include "state.h"

struct health {
	int timer;      /* timerfd: the next check, or the running one's timeout */
	pid_t pid;      /* the running check, or 0 */
	int out;        /* its output (read end), or -1 */
	char buf[4096]; /* its first 4 KiB */
	size_t len;
	int64_t start; /* when it began, ms */
	bool timed_out;
};

/* The timer made, nothing running (timer -1 when the spec has no check). */
void health_init(struct health *h, const struct ctr_spec *s);
/* The container (re)started: status starting, first check scheduled. */
void health_started(struct health *h, const struct ctr_spec *s, struct ctr_state *st);
/* The container ended: any check running is killed, none scheduled. */
void health_stopped(struct health *h);
/* The timer fired: start a check, or kill one past its timeout. */
void health_on_timer(struct health *h, const struct ctr_spec *s, const struct ctr_state *st);
/* Output is readable. */
void health_on_output(struct health *h);
/* A child was reaped: if it was the check, apply its result to st and
 * schedule the next; returns whether it was. */
bool health_on_exit(struct health *h, const struct ctr_spec *s, struct ctr_state *st, pid_t pid, int status);

#endif
