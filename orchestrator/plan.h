/* The planner: what up does to each container, decided from the project
 * and what is recorded, with no I/O (DESIGN.md: planner apart from the
 * applier). The caller reads the records, the image ids and the networks'
 * state; plan_compute says, in dependency order, which container to keep,
 * create or recreate and why, which replicas scale away, and which
 * containers are orphans. */
#ifndef BERTH_PLAN_H
#define BERTH_PLAN_H

#include "../lib/err.h"
#include "project.h"

/* A container recorded under the state root (any project's). */
struct plan_have {
	const char *name, *project, *service;
	const char *config_hash; /* NULL: none recorded */
	int number;
	bool oneoff; /* berth run's */
	bool made;   /* its spec is written: not a create that was cut short */
};

/* A network whose record differs from the file, and what is on it. */
struct plan_diverged {
	const char *network, *why;
	char *const *users; /* containers on it now */
};

struct plan_in {
	const struct project *p;
	char *const *services; /* asked for (NULL: all), with what they depend on unless no_deps */
	bool no_deps, force_recreate, no_recreate, always_recreate_deps;
	bool yes; /* a diverged network is made again (else refused) */
	/* each service's image id, in p->order's order (NULL: the image is not here) */
	char *const *image_ids;
	const struct plan_have *have;
	size_t nhave;
	const struct plan_diverged *diverged;
	size_t ndiverged;
};

enum plan_verb { PLAN_KEEP, PLAN_CREATE, PLAN_RECREATE, PLAN_REMOVE };

struct plan_step {
	enum plan_verb verb;
	char *name, *service;
	char *hash; /* the configuration's, with the image's id (not for PLAN_REMOVE) */
	int number;
	int level;       /* dependency wave: 0 depends on nothing planned */
	const char *why; /* why it is created, recreated or removed (static text) */
};

struct plan {
	struct plan_step *steps; /* the services' in dependency order, then removals, highest numbers first */
	size_t n;
	char **networks;    /* diverged networks made again (with yes) */
	char **renetworked; /* the services on them, recreated */
	char **orphans;     /* the project's containers of services the file no longer has */
};

int plan_compute(const struct plan_in *in, struct plan *out, struct berr **err);
void plan_free(struct plan *pl);
/* A container's configuration hash: the service's (docker compose's
 * config-hash) with the image's id. */
int plan_hash(const struct project *p, const char *service, const char *image_id, char out[65], struct berr **err);
/* The services asked for and, with deps, everything they depend on. */
char **plan_wanted(const struct project *p, char *const *services, bool deps);
/* A service's dependency wave: 0 when it depends on nothing. */
int plan_level(const struct project *p, const char *service);
/* The verb as progress says it ("Created", ...). */
const char *plan_verb_name(enum plan_verb v);

#endif
