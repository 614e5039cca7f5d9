/* What the orchestrator's applier files (record, create, start, hooks,
 * up, down, run, pull, boot) share among themselves; the rest of berth
 * includes apply.h. */
#ifndef BERTH_APPLIER_H
#define BERTH_APPLIER_H

#include <jansson.h>

#include "../network/net.h"
#include "../runtime/spec.h"
#include "apply.h"
#include "plan.h"

struct store;

/* One container that up will create, with its spec ready. */
struct planned {
	char *name, *service, *hash, *image;
	char *image_id; /* the image's id (its config digest) when planned */
	char **exposed; /* "80/tcp": the image's EXPOSE and the service's expose, for ps */
	int number;
	struct ctr_spec spec;
	struct net_endpoint ep; /* with own_netns: its networks and ports */
	char **anon;            /* "target=volume" of its anonymous volumes */
	char **deps;            /* the services it depends on, for start --all-projects */
	bool own_netns;
	bool exists, same; /* exists already; with the same configuration */
	bool oneoff;       /* berth run's */
};

struct have_list {
	struct plan_have *v;
	size_t n;
};

void apply_progress(progress_fn fn, void *data, const char *kind, const char *name, const char *what);
char *apply_short_id(void);
/* A one-off (berth run, a pre_start step): made new under the name the
 * project gives the service's container number. */
int apply_prepare_oneoff(const struct apply_ctx *ctx, const struct project *p, struct store *st, const char *service,
			 int number, const char *anon_from, struct planned *pl, struct berr **err);
void apply_planned_free(struct planned *pl, size_t n);
/* Directories made for containers that do not exist yet go again. */
void apply_discard_new(const char *root, struct planned *pl, size_t n);
/* Every container first, so that a bad input changes nothing: the
 * planner decides (plan.c), then each container to make is prepared. */
int apply_plan(const struct apply_ctx *ctx, const struct project *p, const struct up_opts *o,
	       const struct plan_diverged *dv, size_t ndv, struct plan *decided, struct planned **out, size_t *n,
	       struct berr **err);
int apply_create_one(const struct apply_ctx *ctx, const struct project *p, struct planned *pl, const struct up_opts *o,
		     struct berr **err);
/* Host ports, before anything is made: free on the host, not published by
 * another container, and not twice in this project. */
int apply_check_ports(const char *root, struct planned *pl, size_t n, struct berr **err);
int apply_ensure_networks(const struct apply_ctx *ctx, const struct project *p, struct planned *pl, size_t n,
			  const struct up_opts *o, struct berr **err);
/* --all-resources: every network and volume the file declares, used or not. */
int apply_ensure_declared(const struct apply_ctx *ctx, const struct project *p, const struct up_opts *o,
			  struct berr **err);
/* The volumes of what will be made. */
int apply_ensure_volumes(const struct apply_ctx *ctx, const struct project *p, struct planned *pl, size_t n,
			 const struct up_opts *o, struct berr **err);
/* A record that a power cut left empty counts as none. */
bool apply_has_record(const char *containers, const char *name);
/* The container's record: what down and ps find it by. Written before
 * anything is made for the container (partial, without the config hash,
 * so that the next up makes it again) and again once it is complete. */
int apply_write_meta(const struct project *proj, const char *root, struct planned *pl, bool partial, struct berr **err);
void apply_have_free(struct have_list *h);
/* Every container under the state root, as the planner sees it: its record
 * (any project's), and whether its spec is written. */
struct have_list apply_load_have(const char *root);
/* A flag in a container's record (pre_start_done). */
void apply_mark_meta(const char *root, const char *name, const char *key);
/* Before a service starts: each dependency's condition (depends_on), as
 * docker compose waits for it; a dependency that cannot meet it fails up. */
int apply_wait_conditions(const struct apply_ctx *ctx, const struct project *p, const char *service, struct berr **err);
/* How many of n to take on at once. */
size_t apply_chunk_of(const struct apply_ctx *ctx, size_t n);
int apply_start_wave(const struct apply_ctx *ctx, struct planned *pl, size_t n, const struct up_opts *o,
		     struct berr **err);
/* Whether service depends on dep with restart: true. */
bool apply_restarts_with(const struct project *p, const char *service, const char *dep);
/* Stops the containers round by round, every container of a round at
 * once (as docker compose does: the grace periods of one round run side
 * by side), dependents before what they depend on; with remove, the
 * files of one round go while the next one stops. */
int apply_stop_in_rounds(const struct apply_ctx *ctx, const struct project *p, const struct ctr_info *const *cs,
			 size_t n, int64_t timeout_ms, bool remove, bool volumes, progress_fn fn, void *data,
			 struct berr **err);

#endif
