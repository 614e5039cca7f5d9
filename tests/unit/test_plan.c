/* The planner's decisions: what up keeps, creates, recreates and removes,
 * from a project and what is recorded, with no state root at all. */
#include "helpers.h"

#include <errno.h>

#include "../../orchestrator/plan.h"

static char *dirs[8];
static size_t ndirs;

static struct project *project(const char *yaml)
{
	char *dir = dirs[ndirs++] = tmpdir_new();
	return project_in(dir, "demo", yaml, NULL);
}

/* Frees p and the files of every project the test loaded. */
static void done(struct project *p)
{
	project_free(p);
	for (; ndirs > 0; ndirs--) {
		rm_rf(dirs[ndirs - 1]);
		free(dirs[ndirs - 1]);
	}
}

/* Every service's image id: "sha256:one" unless given in ids. */
static char **images(const struct project *p, const char *const *ids)
{
	size_t n = strv_len(p->order);
	char **v = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		v[i] = xstrdup(ids && ids[i] ? ids[i] : "sha256:one");
	return v;
}

/* A record of the container the plan would make for service/number, as
 * the given plan made it (same hash), or with the hash given. */
static struct plan_have had(const char *name, const char *service, int number, const char *hash)
{
	return (struct plan_have){.name = name,
				  .project = "demo",
				  .service = service,
				  .config_hash = hash,
				  .number = number,
				  .made = true};
}

static const struct plan_step *step(const struct plan *pl, const char *name)
{
	for (size_t i = 0; i < pl->n; i++)
		if (streq(pl->steps[i].name, name))
			return &pl->steps[i];
	fail_msg("no step for %s", name);
	return NULL;
}

static void compute(struct plan_in *in, struct plan *pl)
{
	struct berr *err = NULL;
	if (plan_compute(in, pl, &err) < 0)
		fail_msg("plan: %s", err->msg);
}

static int refused(struct plan_in *in, const char *part)
{
	struct plan pl;
	struct berr *err = NULL;
	int r = plan_compute(in, &pl, &err);
	assert_true(r < 0);
	if (!strstr(err->msg, part))
		fail_msg("'%s' does not say '%s'", err->msg, part);
	berr_free(err);
	return r;
}

static const char *const two = "services:\n"
			       "  web: {image: web, depends_on: [db]}\n"
			       "  db: {image: db}\n";

static void creates_in_dependency_waves(void **state)
{
	struct project *p = project(two);
	char **ids = images(p, NULL);
	struct plan_in in = {.p = p, .image_ids = ids};
	struct plan pl;
	compute(&in, &pl);
	assert_int_equal(pl.n, 2);
	assert_string_equal(pl.steps[0].name, "demo-db-1"); /* what it depends on first */
	assert_int_equal(pl.steps[0].verb, PLAN_CREATE);
	assert_int_equal(pl.steps[0].level, 0);
	assert_string_equal(pl.steps[1].name, "demo-web-1");
	assert_int_equal(pl.steps[1].verb, PLAN_CREATE);
	assert_int_equal(pl.steps[1].level, 1);
	assert_int_equal(strlen(pl.steps[1].hash), 64);
	assert_null(pl.orphans[0]);
	plan_free(&pl);
	strv_free(ids);
	done(p);
}

/* The hash a container of service would be recorded with. */
static char *hash_of(struct project *p, const char *service, const char *image_id)
{
	char h[65];
	struct berr *err = NULL;
	if (plan_hash(p, service, image_id, h, &err) < 0)
		fail_msg("%s", err->msg);
	return xstrdup(h);
}

static void keeps_recreates_on_each_divergence(void **state)
{
	struct project *p = project(two);
	char **ids = images(p, NULL);
	char *db = hash_of(p, "db", "sha256:one"), *web = hash_of(p, "web", "sha256:one");
	struct plan_have have[] = {had("demo-db-1", "db", 1, db), had("demo-web-1", "web", 1, web)};
	struct plan_in in = {.p = p, .image_ids = ids, .have = have, .nhave = 2};
	struct plan pl;
	compute(&in, &pl);
	assert_int_equal(step(&pl, "demo-db-1")->verb, PLAN_KEEP);
	assert_int_equal(step(&pl, "demo-web-1")->verb, PLAN_KEEP);
	plan_free(&pl);

	/* another image under the same names */
	char **other = images(p, (const char *const[]){"sha256:two", "sha256:two"});
	in.image_ids = other;
	compute(&in, &pl);
	assert_int_equal(step(&pl, "demo-db-1")->verb, PLAN_RECREATE);
	assert_string_equal(step(&pl, "demo-db-1")->why, "its configuration or image changed");
	plan_free(&pl);
	strv_free(other);
	in.image_ids = ids;

	/* the configuration changed */
	struct project *q = project("services:\n"
				    "  web: {image: web, depends_on: [db], environment: [A=2]}\n"
				    "  db: {image: db}\n");
	in.p = q;
	compute(&in, &pl);
	assert_int_equal(step(&pl, "demo-db-1")->verb, PLAN_KEEP);
	assert_int_equal(step(&pl, "demo-web-1")->verb, PLAN_RECREATE);
	plan_free(&pl);

	/* what docker compose leaves out of the hash does not count */
	struct project *r = project(
		"services:\n"
		"  web: {image: web, depends_on: {db: {condition: service_healthy}}, pull_policy: always}\n"
		"  db: {image: db}\n");
	in.p = r;
	compute(&in, &pl);
	assert_int_equal(step(&pl, "demo-web-1")->verb, PLAN_KEEP);
	plan_free(&pl);

	/* a record with no hash: a create that was cut short after the spec */
	in.p = p;
	have[1].config_hash = NULL;
	compute(&in, &pl);
	assert_int_equal(step(&pl, "demo-web-1")->verb, PLAN_RECREATE);
	plan_free(&pl);
	/* one whose spec was never written is made from the start */
	have[1].made = false;
	compute(&in, &pl);
	assert_int_equal(step(&pl, "demo-web-1")->verb, PLAN_CREATE);
	plan_free(&pl);
	free(db);
	free(web);
	strv_free(ids);
	project_free(q);
	project_free(r);
	done(p);
}

static void forced_and_refused_recreates(void **state)
{
	struct project *p = project(two);
	char **ids = images(p, NULL);
	char *db = hash_of(p, "db", "sha256:one"), *web = hash_of(p, "web", "sha256:one");
	struct plan_have have[] = {had("demo-db-1", "db", 1, db), had("demo-web-1", "web", 1, "stale")};
	struct plan_in in = {.p = p, .image_ids = ids, .have = have, .nhave = 2, .force_recreate = true};
	struct plan pl;
	compute(&in, &pl);
	assert_int_equal(step(&pl, "demo-db-1")->verb, PLAN_RECREATE);
	assert_string_equal(step(&pl, "demo-db-1")->why, "--force-recreate");
	plan_free(&pl);
	/* --no-recreate keeps what exists, changed or not */
	in.force_recreate = false;
	in.no_recreate = true;
	compute(&in, &pl);
	assert_int_equal(step(&pl, "demo-web-1")->verb, PLAN_KEEP);
	plan_free(&pl);
	/* --always-recreate-deps: up web recreates db, its dependency */
	in.no_recreate = false;
	in.always_recreate_deps = true;
	have[1].config_hash = web;
	char *only[] = {"web", NULL};
	in.services = only;
	compute(&in, &pl);
	assert_int_equal(step(&pl, "demo-db-1")->verb, PLAN_RECREATE);
	assert_int_equal(step(&pl, "demo-web-1")->verb, PLAN_KEEP);
	plan_free(&pl);
	free(db);
	free(web);
	strv_free(ids);
	done(p);
}

static void the_services_asked_for(void **state)
{
	struct project *p = project("services:\n"
				    "  web: {image: web, depends_on: [db]}\n"
				    "  db: {image: db}\n"
				    "  other: {image: other}\n");
	char **ids = images(p, NULL);
	char *only[] = {"web", NULL};
	struct plan_in in = {.p = p, .image_ids = ids, .services = only};
	struct plan pl;
	compute(&in, &pl);
	assert_int_equal(pl.n, 2); /* web and what it depends on */
	step(&pl, "demo-db-1");
	plan_free(&pl);
	in.no_deps = true;
	compute(&in, &pl);
	assert_int_equal(pl.n, 1);
	assert_string_equal(pl.steps[0].name, "demo-web-1");
	plan_free(&pl);
	/* an image that is not here is an error, not a guess */
	in.no_deps = false;
	size_t dbi = 0;
	while (!streq(p->order[dbi], "db"))
		dbi++;
	free(ids[dbi]);
	ids[dbi] = NULL;
	refused(&in, "service db: its image is not here");
	ids[dbi] = xstrdup("x");
	strv_free(ids);
	done(p);
}

static void shared_namespace_follows_its_host(void **state)
{
	struct project *p = project("services:\n"
				    "  app: {image: app}\n"
				    "  side: {image: side, network_mode: 'service:app'}\n");
	char **ids = images(p, NULL);
	char *side = hash_of(p, "side", "sha256:one");
	struct plan_have have[] = {had("demo-app-1", "app", 1, "stale"), had("demo-side-1", "side", 1, side)};
	struct plan_in in = {.p = p, .image_ids = ids, .have = have, .nhave = 2};
	struct plan pl;
	compute(&in, &pl);
	assert_int_equal(step(&pl, "demo-app-1")->verb, PLAN_RECREATE);
	assert_int_equal(step(&pl, "demo-side-1")->verb, PLAN_RECREATE);
	assert_string_equal(step(&pl, "demo-side-1")->why,
			    "the service whose network namespace it shares is made again");
	assert_int_equal(step(&pl, "demo-side-1")->level, 1);
	plan_free(&pl);
	/* app kept: side is kept */
	char *app = hash_of(p, "app", "sha256:one");
	have[0].config_hash = app;
	compute(&in, &pl);
	assert_int_equal(step(&pl, "demo-side-1")->verb, PLAN_KEEP);
	plan_free(&pl);
	free(app);
	free(side);
	strv_free(ids);
	done(p);
}

static void scale_up_and_down(void **state)
{
	struct project *p = project("services:\n  web: {image: web, scale: 3}\n");
	char **ids = images(p, NULL);
	char *web = hash_of(p, "web", "sha256:one");
	struct plan_have have[] = {had("demo-web-1", "web", 1, web), had("demo-web-2", "web", 2, web),
				   had("demo-web-3", "web", 3, web), had("demo-web-4", "web", 4, web),
				   had("demo-web-5", "web", 5, web)};
	struct plan_in in = {.p = p, .image_ids = ids, .have = have, .nhave = 1};
	struct plan pl;
	compute(&in, &pl);
	assert_int_equal(pl.n, 3);
	assert_int_equal(step(&pl, "demo-web-1")->verb, PLAN_KEEP);
	assert_int_equal(step(&pl, "demo-web-2")->verb, PLAN_CREATE);
	assert_int_equal(step(&pl, "demo-web-3")->verb, PLAN_CREATE);
	plan_free(&pl);
	/* five there, three wanted: 5 then 4 go */
	in.nhave = 5;
	compute(&in, &pl);
	assert_int_equal(pl.n, 5);
	assert_int_equal(pl.steps[3].verb, PLAN_REMOVE);
	assert_string_equal(pl.steps[3].name, "demo-web-5");
	assert_int_equal(pl.steps[4].verb, PLAN_REMOVE);
	assert_string_equal(pl.steps[4].name, "demo-web-4");
	assert_string_equal(pl.steps[4].why, "scaled down");
	plan_free(&pl);
	free(web);
	strv_free(ids);
	done(p);
}

static void orphans_and_oneoffs(void **state)
{
	struct project *p = project("services:\n  web: {image: web}\n");
	char **ids = images(p, NULL);
	char *web = hash_of(p, "web", "sha256:one");
	struct plan_have have[] = {
		had("demo-web-1", "web", 1, web),
		had("demo-old-1", "old", 1, "x"), /* its service left the file */
		{.name = "demo-web-run-0123abcd",
		 .project = "demo",
		 .service = "web",
		 .number = 1,
		 .oneoff = true,
		 .made = true},
		{.name = "other-web-2", .project = "other", .service = "web", .number = 2, .made = true},
	};
	struct plan_in in = {.p = p, .image_ids = ids, .have = have, .nhave = 4};
	struct plan pl;
	compute(&in, &pl);
	assert_int_equal(pl.n, 1); /* the one-off is neither a replica nor one too many */
	assert_int_equal(pl.steps[0].verb, PLAN_KEEP);
	assert_string_equal(pl.orphans[0], "demo-old-1");
	assert_null(pl.orphans[1]); /* another project's container is not this one's orphan */
	plan_free(&pl);
	free(web);
	strv_free(ids);
	done(p);
}

static void a_name_in_use_elsewhere(void **state)
{
	struct project *p = project("services:\n  web: {image: web, container_name: shared}\n");
	char **ids = images(p, NULL);
	struct plan_have have[] = {{.name = "shared", .project = "other", .service = "api", .number = 1, .made = true}};
	struct plan_in in = {.p = p, .image_ids = ids, .have = have, .nhave = 1};
	assert_int_equal(refused(&in, "container name \"shared\" is already in use by api of project other"), -EEXIST);
	/* a create cut short under that name (no spec) does not hold it */
	have[0].made = false;
	struct plan pl;
	compute(&in, &pl);
	assert_int_equal(pl.steps[0].verb, PLAN_CREATE);
	plan_free(&pl);
	strv_free(ids);
	done(p);
}

static void diverged_networks(void **state)
{
	struct project *p = project("services:\n"
				    "  web: {image: web, networks: [front]}\n"
				    "  db: {image: db}\n"
				    "networks:\n  front: {}\n");
	char **ids = images(p, NULL);
	char *web = hash_of(p, "web", "sha256:one"), *db = hash_of(p, "db", "sha256:one");
	struct plan_have have[] = {had("demo-web-1", "web", 1, web), had("demo-db-1", "db", 1, db)};
	char *users[] = {"demo-web-1", NULL};
	struct plan_diverged dv = {.network = "demo_front", .why = "its subnet changed", .users = users};
	struct plan_in in = {.p = p, .image_ids = ids, .have = have, .nhave = 2, .diverged = &dv, .ndiverged = 1};
	assert_int_equal(
		refused(&in, "network demo_front diverged from the compose file (its subnet changed); berth up -y"),
		-EEXIST);
	in.yes = true;
	struct plan pl;
	compute(&in, &pl);
	assert_string_equal(pl.networks[0], "demo_front");
	assert_string_equal(pl.renetworked[0], "web");
	assert_null(pl.renetworked[1]);
	assert_int_equal(step(&pl, "demo-web-1")->verb, PLAN_RECREATE);
	assert_string_equal(step(&pl, "demo-web-1")->why, "a network it is on is made again");
	assert_int_equal(step(&pl, "demo-db-1")->verb, PLAN_KEEP);
	plan_free(&pl);
	/* a container on it that this up does not recreate: nothing is touched */
	char *more[] = {"demo-web-1", "lone", NULL};
	dv.users = more;
	assert_int_equal(refused(&in, "and lone, which this up does not recreate, is on it"), -EBUSY);
	/* a network of a service not asked for is not this up's */
	dv.users = users;
	char *only[] = {"db", NULL};
	in.services = only;
	compute(&in, &pl);
	assert_null(pl.networks[0]);
	assert_int_equal(pl.n, 1);
	plan_free(&pl);
	free(web);
	free(db);
	strv_free(ids);
	done(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(creates_in_dependency_waves),
		cmocka_unit_test(keeps_recreates_on_each_divergence),
		cmocka_unit_test(forced_and_refused_recreates),
		cmocka_unit_test(the_services_asked_for),
		cmocka_unit_test(shared_namespace_follows_its_host),
		cmocka_unit_test(scale_up_and_down),
		cmocka_unit_test(orphans_and_oneoffs),
		cmocka_unit_test(a_name_in_use_elsewhere),
		cmocka_unit_test(diverged_networks),
	};
	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
