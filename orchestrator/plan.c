#include "plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/sha256.h"
#include "check.h"
#include "ctrspec.h"
#include "netplan.h"

static void add_wanted(const struct project *p, const char *service, bool deps, char ***out)
{
	if (strv_contains(*out, service) || !project_service(p, service))
		return;
	strv_push(out, xstrdup(service));
	_cleanup_(strv_freep) char **d = deps ? check_dependencies(project_service(p, service)) : NULL;
	for (size_t i = 0; d && d[i]; i++)
		add_wanted(p, d[i], deps, out);
}

char **plan_wanted(const struct project *p, char *const *services, bool deps)
{
	char **out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; services && services[i]; i++)
		add_wanted(p, services[i], deps, &out);
	return out;
}

static int level_of(const struct project *p, const char *service, int depth)
{
	_cleanup_(strv_freep) char **deps = check_dependencies(project_service(p, service));
	int level = 0;
	for (size_t i = 0; depth < 64 && deps[i]; i++) {
		if (!project_service(p, deps[i]))
			continue;
		int l = level_of(p, deps[i], depth + 1) + 1;
		if (l > level)
			level = l;
	}
	return level;
}

int plan_level(const struct project *p, const char *service) { return level_of(p, service, 0); }

const char *plan_verb_name(enum plan_verb v)
{
	static const char *const names[] = {"Running", "Created", "Recreated", "Removed"};
	return names[v];
}

/* --always-recreate-deps: whether a service the up names (all, when it
 * names none) depends on service. */
static bool is_dependency(const struct plan_in *in, const char *service)
{
	const struct project *p = in->p;
	bool dep = false;
	for (size_t i = 0; p->order[i] && !dep; i++) {
		if (in->services && in->services[0] && !strv_contains(in->services, p->order[i]))
			continue;
		_cleanup_(strv_freep) char **deps = check_dependencies(project_service(p, p->order[i]));
		dep = strv_contains(deps, service);
	}
	return dep;
}

static const struct plan_have *have_named(const struct plan_in *in, const char *name)
{
	for (size_t i = 0; i < in->nhave; i++)
		if (streq(in->have[i].name, name))
			return &in->have[i];
	return NULL;
}

static struct plan_step *push(struct plan *pl)
{
	pl->steps = xrealloc(pl->steps, (pl->n + 1) * sizeof(*pl->steps));
	struct plan_step *s = &pl->steps[pl->n++];
	*s = (struct plan_step){0};
	return s;
}

/* Diverged networks: with yes, made again, and the services on them
 * recreated (as docker compose does once told yes); without, refused. */
static int diverged_services(const struct plan_in *in, char *const *want, struct plan *pl, char ***services,
			     struct berr **err)
{
	*services = xcalloc(1, sizeof(char *));
	pl->networks = xcalloc(1, sizeof(char *));
	int r = 0;
	for (size_t i = 0; r == 0 && in->p->order[i]; i++) {
		const char *svc = in->p->order[i];
		if (!strv_contains(want, svc))
			continue;
		char *one[] = {(char *)svc, NULL};
		struct net_def *defs = NULL;
		size_t nd = 0;
		r = netplan_defs(in->p, one, &defs, &nd, err);
		for (size_t k = 0; r == 0 && k < nd; k++)
			for (size_t d = 0; r == 0 && d < in->ndiverged; d++) {
				const struct plan_diverged *dv = &in->diverged[d];
				if (!streq(dv->network, defs[k].name))
					continue;
				if (!in->yes)
					r = berr_set(
						err, EEXIST,
						"network %s diverged from the compose file (%s); berth up -y makes it "
						"again and recreates its containers, or take the project down first",
						dv->network, dv->why);
				if (r == 0 && !strv_contains(pl->networks, dv->network))
					strv_push(&pl->networks, xstrdup(dv->network));
				if (r == 0 && !strv_contains(*services, svc))
					strv_push(services, xstrdup(svc));
			}
		netplan_defs_free(defs, nd);
	}
	return r;
}

/* A network made again goes once none of the containers on it is left:
 * each must be one this up recreates, or nothing is touched. */
static int remade_users(const struct plan_in *in, const struct plan *pl, struct berr **err)
{
	for (size_t d = 0; d < in->ndiverged; d++) {
		const struct plan_diverged *dv = &in->diverged[d];
		if (!strv_contains(pl->networks, dv->network))
			continue;
		for (size_t u = 0; dv->users && dv->users[u]; u++) {
			bool ours = false;
			for (size_t i = 0; i < pl->n && !ours; i++)
				ours = streq(pl->steps[i].name, dv->users[u]) && pl->steps[i].verb == PLAN_RECREATE;
			if (!ours)
				return berr_set(
					err, EBUSY,
					"network %s diverged from the compose file, and %s, which this up does not "
					"recreate, is on it; run berth up -y for the whole project, or take it down "
					"first",
					dv->network, dv->users[u]);
		}
	}
	return 0;
}

int plan_hash(const struct project *p, const char *service, const char *image_id, char out[65], struct berr **err)
{
	char hash[65];
	int r = project_service_hash(p, service, hash, err);
	if (r < 0)
		return r;
	/* the image's id too: the same tag loaded again is another image */
	_cleanup_free_ char *both = xasprintf("%s %s", hash, image_id);
	sha256_of(both, strlen(both), out);
	return 0;
}

/* One replica: its name, its hash, and whether what is recorded under
 * that name can stay. */
static int plan_replica(const struct plan_in *in, const char *service, const char *image_id, int number, bool forced,
			const char *forced_why, struct plan *pl, struct berr **err)
{
	const struct project *p = in->p;
	if (!image_id)
		return berr_set(err, ENOENT, "service %s: its image is not here; pull or build it first", service);
	char hash[65];
	int r = plan_hash(p, service, image_id, hash, err);
	if (r < 0)
		return r;
	struct plan_step *s = push(pl);
	s->service = xstrdup(service);
	s->number = number;
	s->name = ctrspec_name(p, service, number);
	s->level = plan_level(p, service);
	s->hash = xstrdup(hash);
	const struct plan_have *h = have_named(in, s->name);
	if (h && !h->made)
		h = NULL; /* a create cut short: made again from the start */
	/* a container_name another project's container (or another service's) has */
	if (h && h->project && (!streq(h->project, p->name) || (h->service && !streq(h->service, service))))
		return berr_set(err, EEXIST,
				"service %s: container name \"%s\" is already in use by %s of project %s; remove it, "
				"or give this service another container_name",
				service, s->name, h->service ? h->service : "a container", h->project);
	if (!h) {
		s->verb = PLAN_CREATE;
		s->why = "not made yet";
	} else if (in->no_recreate) {
		s->verb = PLAN_KEEP;
	} else if (forced) {
		s->verb = PLAN_RECREATE;
		s->why = forced_why;
	} else if (!h->config_hash || !streq(h->config_hash, s->hash)) {
		s->verb = PLAN_RECREATE;
		s->why = "its configuration or image changed";
	} else {
		s->verb = PLAN_KEEP;
	}
	return 0;
}

/* Whether a planned container of service is made (created or recreated). */
static bool service_made(const struct plan *pl, const char *service)
{
	for (size_t i = 0; i < pl->n; i++)
		if (streq(pl->steps[i].service, service) && pl->steps[i].verb != PLAN_KEEP)
			return true;
	return false;
}

static int plan_service(const struct plan_in *in, size_t idx, char *const *remade, struct plan *pl, struct berr **err)
{
	const struct project *p = in->p;
	const char *service = p->order[idx];
	struct node *svc = project_service(p, service);
	/* network_mode service:X lives in X's namespace: when X is made
	 * again, so is it (as docker compose does) */
	const char *m = node_str(node_map_get(svc, "network_mode"));
	const char *why = NULL;
	if (in->force_recreate)
		why = "--force-recreate";
	else if (in->always_recreate_deps && is_dependency(in, service))
		why = "--always-recreate-deps";
	else if (strv_contains(remade, service))
		why = "a network it is on is made again";
	else if (m && startswith(m, "service:") && service_made(pl, m + 8))
		why = "the service whose network namespace it shares is made again";
	int replicas = ctrspec_replicas(svc);
	int r = 0;
	for (int k = 1; r == 0 && k <= replicas; k++)
		r = plan_replica(in, service, in->image_ids[idx], k, why != NULL, why, pl, err);
	return r;
}

/* Replicas beyond a service's count (scale went down), highest numbers
 * first, as docker compose removes them; and the orphans. */
static void plan_extra(const struct plan_in *in, char *const *want, struct plan *pl)
{
	const struct project *p = in->p;
	pl->orphans = xcalloc(1, sizeof(char *));
	for (size_t i = in->nhave; i > 0; i--) {
		const struct plan_have *h = &in->have[i - 1];
		if (!h->project || !streq(h->project, p->name) || !h->service)
			continue;
		struct node *svc = project_service(p, h->service);
		if (!svc) {
			strv_push(&pl->orphans, xstrdup(h->name));
			continue;
		}
		_cleanup_free_ char *regular = ctrspec_name(p, h->service, h->number);
		if (h->oneoff || !strv_contains(want, h->service) || !streq(regular, h->name) ||
		    h->number <= ctrspec_replicas(svc))
			continue;
		struct plan_step *s = push(pl);
		*s = (struct plan_step){.verb = PLAN_REMOVE,
					.name = xstrdup(h->name),
					.service = xstrdup(h->service),
					.number = h->number,
					.level = plan_level(p, h->service),
					.why = "scaled down"};
	}
}

/* Removals: dependents before what they depend on, highest numbers first. */
static int cmp_removal(const void *a, const void *b)
{
	const struct plan_step *x = a, *y = b;
	if (x->level != y->level)
		return y->level - x->level;
	int c = strcmp(x->service, y->service);
	return c ? c : y->number - x->number;
}

int plan_compute(const struct plan_in *in, struct plan *out, struct berr **err)
{
	*out = (struct plan){0};
	const struct project *p = in->p;
	_cleanup_(strv_freep) char **want = NULL;
	if (in->services) {
		want = plan_wanted(p, in->services, !in->no_deps);
	} else {
		want = xcalloc(1, sizeof(char *));
		for (size_t i = 0; p->order[i]; i++)
			strv_push(&want, xstrdup(p->order[i]));
	}
	int r = diverged_services(in, want, out, &out->renetworked, err);
	for (size_t i = 0; r == 0 && p->order[i]; i++)
		if (strv_contains(want, p->order[i]))
			r = plan_service(in, i, out->renetworked, out, err);
	if (r == 0)
		r = remade_users(in, out, err);
	if (r < 0) {
		plan_free(out);
		return r;
	}
	size_t first = out->n;
	plan_extra(in, want, out);
	if (out->n - first > 1)
		qsort(out->steps + first, out->n - first, sizeof(*out->steps), cmp_removal);
	strv_sort(out->orphans);
	return 0;
}

void plan_free(struct plan *pl)
{
	for (size_t i = 0; i < pl->n; i++) {
		free(pl->steps[i].name);
		free(pl->steps[i].service);
		free(pl->steps[i].hash);
	}
	free(pl->steps);
	strv_free(pl->networks);
	strv_free(pl->renetworked);
	strv_free(pl->orphans);
	*pl = (struct plan){0};
}
