/* Making the host match the project: create, recreate, start, stop and
 * remove containers, in dependency order. */
#ifndef BERTH_APPLY_H
#define BERTH_APPLY_H

#include <jansson.h>
#include <stdio.h>

#include "project.h"

struct ctr_info {
	char *id; /* 64 hex digits, as docker's container ids */
	char *name, *service, *image, *hash;
	int number;
	char **argv;
	int64_t created_ms;
	bool oneoff; /* made by berth run */
};

/* Progress: what happened ("Created") to which kind of thing ("Container",
 * "Network", "Volume") of that name. */
typedef void (*progress_fn)(void *data, const char *kind, const char *name, const char *what);

/* What every action of the orchestrator is done with, as crun's
 * libcrun_context_t: made once by cmd/ from the global options. What
 * library code has to tell the user besides progress goes through
 * lib/log.h's handler, which cmd/ installs. */
struct apply_ctx {
	const char *root;     /* the state root (BERTH_ROOT or /var/lib/berth) */
	bool dry_run;         /* --dry-run: what would be done is said, with its progress; nothing is done */
	int parallel;         /* --parallel: at most this many containers started or stopped at once (<= 0: no limit) */
	bool plain_progress;  /* --progress plain: a pull's layers as lines, never a live display */
	progress_fn progress; /* what is done, as it is done ("Container x  Created"); NULL: nothing is said */
	void *progress_data;
};

struct up_opts {
	bool no_start, no_deps, remove_orphans;
	bool force_recreate, no_recreate; /* recreate every container, or none that exists */
	bool yes;                         /* -y: a network that diverged from the file is made again */
	bool always_recreate_deps;        /* recreate what the services depend on */
	bool renew_anon;                  /* -V: recreated containers get new anonymous volumes */
	char **services;                  /* only these (and what they depend on, unless no_deps) */
	const char *pull;                 /* --pull: always, missing or never; NULL: each service's pull_policy */
	bool quiet_pull;                  /* no layer progress */
	bool build, no_build; /* build every service with build:, or none (default: those whose image is missing) */
	bool all_resources;   /* every network and volume the file declares, used or not */
	/* -t: the grace period of the containers up replaces or scales away
	 * (unset: each container's stop_grace_period) */
	bool has_timeout;
	int64_t timeout_ms;
};

struct down_opts {
	char **services; /* NULL: all; else only their containers, and what no other container uses */
	bool remove_orphans, volumes;
	int64_t timeout_ms; /* < 0: each container's stop_grace_period */
};

/* The service's container number (not a one-off), and its image when
 * image is not NULL; NULL when there is none. */
char *apply_replica(const struct project *p, const char *root, const char *service, int number, char **image);
int apply_up(const struct apply_ctx *ctx, const struct project *p, const struct up_opts *o, struct berr **err);
int apply_down(const struct apply_ctx *ctx, const struct project *p, const struct down_opts *o, struct berr **err);
/* The project's containers, in dependency order (services not in the
 * model last); the caller frees with ctr_info_free. */
struct ctr_info *apply_list(const struct project *p, const char *root, size_t *n);
void ctr_info_free(struct ctr_info *c, size_t n);
/* Free what one entry holds (not the entry). */
void ctr_info_clear(struct ctr_info *c);
/* Remove the project's containers whose service the file no longer has. */
int apply_remove_orphans(const struct apply_ctx *ctx, const struct project *p, int64_t timeout_ms, struct berr **err);
struct run_opts {
	const char *service;
	char **command, **entrypoint; /* NULL: the service's */
	char **env;                   /* KEY=VALUE (or KEY, from berth's environment) */
	const char *name, *user, *workdir;
	bool detach, rm, no_deps, service_ports;
	bool build;                                                              /* build the service's image first */
	char **publish, **volumes, **labels, **cap_add, **cap_drop, **env_files; /* -p, -v, -l, ... (short syntax) */
	bool publish_all; /* -P: the service's ports and expose, each on an ephemeral host port */
	bool use_aliases; /* the service's name and aliases in DNS, as its containers have */
	bool quiet_pull;
	const char *pull; /* always, missing, never; NULL: the service's pull_policy */
	bool tty;         /* a terminal of its own for the command, relayed to ours */
	int rows, cols;   /* our terminal's size, which the command's starts with */
	int *lock;        /* the project's lock, let go while the container runs */
};

/* berth run: a one-off container of a service (its dependencies started
 * first), attached to the caller's stdio unless detach; waits for it and
 * gives its exit code, removing it with rm. The project's service is
 * changed in place for it. *name: the container's. */
int apply_run(const struct apply_ctx *ctx, struct project *p, const struct run_opts *o, char **name, int *exit_code,
	      struct berr **err);
/* Remove one container with its network attachments and, with volumes,
 * its anonymous volumes. */
int apply_remove_container(const char *root, const char *name, bool volumes, struct berr **err);
/* Stop the containers: dependents first, each dependency level at once
 * (so the grace periods of a level run side by side). */
int apply_stop(const struct apply_ctx *ctx, const struct project *p, const struct ctr_info *const *cs, size_t n,
	       int64_t timeout_ms, progress_fn fn, void *data, struct berr **err);
/* The services that depend on one of services with restart: true (to be
 * restarted with them), not already among them. */
char **apply_restart_dependents(const struct project *p, char *const *services);
/* up --scale SERVICE=N: N containers of the service this time. */
/* pre_start: the steps of the named containers' services that have not run
 * for their configuration, each in an ephemeral container run to its end;
 * a step that fails fails the call, naming it with its last output. */
int apply_pre_start(const struct apply_ctx *ctx, const struct project *p, char *const *names, size_t n,
		    struct berr **err);
/* After a boot: every container of the state root whose restart policy
 * brings it back (as dockerd decides), its network made again, in
 * dependency order within its project. Goes on past a container that
 * fails, and then fails naming how many did. */
int apply_start_all(const struct apply_ctx *ctx, struct berr **err);
/* Pulls the images the services need, as their pull_policy (or policy:
 * always, missing, never) says: missing (the default) pulls what the store
 * lacks, always pulls, daily/weekly/every_<duration> pull what is older
 * than that, never and build pull nothing. services NULL: every enabled
 * one. Layer progress goes to out (NULL: none). ignore_failures: a failed
 * pull is said and the others go on. */
int apply_pull(const struct apply_ctx *ctx, const struct project *p, char *const *services, const char *policy,
	       FILE *out, bool ignore_failures, struct berr **err);
int apply_scale(struct project *p, const char *arg, struct berr **err);
/* Hold the project's lock until *fd is closed. */
int apply_lock(const char *root, const char *project, int *fd, struct berr **err);
/* A container's compose record (compose.json: project, service, labels, …), or NULL. */
json_t *apply_meta(const char *root, const char *name);

/* up --wait, start --wait: the services' containers (all: services NULL or
 * empty) running and healthy, or exited 0; within timeout_ms when > 0
 * (-ETIMEDOUT, saying which is not). */
int apply_wait_ready(const struct project *p, const char *root, char *const *services, int64_t timeout_ms,
		     struct berr **err);

enum apply_action { ACT_START, ACT_STOP, ACT_RESTART, ACT_KILL, ACT_PAUSE, ACT_UNPAUSE };

/* start, stop, restart, kill (with sig), pause, unpause of the containers
 * cs (in dependency order), each said as it is done: stop and restart stop
 * dependents first, a level at once, within timeout_ms (< 0: each one's
 * grace period); start and restart bring them up (apply_bring_up); kill
 * signals what runs, pause and unpause only what runs or is paused. Under
 * ctx->dry_run, what would be done is said. */
int apply_act(const struct apply_ctx *ctx, const struct project *p, const struct ctr_info *cs, size_t n,
	      enum apply_action a, int64_t timeout_ms, int sig, struct berr **err);
/* The bring-up path of start, restart and boot, which up shares (its first
 * step, apply_revive): every named container that is not running gets its
 * network again (after a reboot), the firewall and the names follow; then
 * each, in the order given, gets its pending pre_start steps (with a
 * project) and is started. keep_going: one that fails is said and the
 * others go on, and then the call fails saying how many did (boot). */
int apply_bring_up(const struct apply_ctx *ctx, const struct project *p, char *const *names, size_t n, bool keep_going,
		   struct berr **err);
/* apply_bring_up's first step; with keep_going, skipped[i] marks one whose
 * network could not be made again (said). A NULL name is passed over. */
int apply_revive(const struct apply_ctx *ctx, char *const *names, size_t n, bool keep_going, bool *skipped,
		 struct berr **err);

struct net_def;
/* The firewall and the names follow what the records say now. */
int apply_sync(const struct apply_ctx *ctx, struct berr **err);
/* network create: a network made outside any project (refused when one of
 * that name exists), the firewall following. */
int apply_network_create(const struct apply_ctx *ctx, const struct net_def *d, struct berr **err);
/* network rm: the network goes (refused while a container is on it); a
 * bridge whose record was lost is found by its kernel alias, removed and
 * said. No firewall change until apply_sync. */
int apply_network_remove(const struct apply_ctx *ctx, const char *name, struct berr **err);
/* rm: the containers cs that are not running (running_too: all; stop them
 * first), each said as it goes, with their anonymous volumes when asked;
 * then the firewall and the names follow. */
int apply_rm(const struct apply_ctx *ctx, const struct ctr_info *cs, size_t n, bool running_too, bool volumes,
	     struct berr **err);

struct commit_req {
	const char *container, *image; /* the container, and the image it runs */
	const char *tag;               /* REPOSITORY[:TAG] for the new image, or NULL */
	const char *author, *message;
	char **changes; /* Dockerfile instructions for the image's config */
	bool pause;     /* paused while its changes are copied */
};
/* commit: the container's changes as a new image on its own; id gets the
 * new image's id. */
int apply_commit(const struct apply_ctx *ctx, const struct project *p, const struct commit_req *c, char id[72],
		 struct berr **err);

struct vol_def;
/* volume create: made, or found as it is (an external one must exist). */
int apply_volume_create(const struct apply_ctx *ctx, const struct vol_def *d, struct berr **err);
/* volume rm, volume prune: refused while a container uses it (naming it);
 * force: one that does not exist is no error. */
int apply_volume_remove(const struct apply_ctx *ctx, const char *name, bool force, struct berr **err);

/* The project's containers whose service the file no longer has (the
 * planner's orphans), by name. */
char **apply_orphans(const char *root, const struct project *p);

#endif
