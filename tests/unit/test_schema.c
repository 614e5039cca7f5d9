/* Validation against the built-in Compose schema: what passes, and the
 * message for each kind of failure. */
#include "helpers.h"

#include "../../orchestrator/schema.h"

static struct schema *S;

static int setup(void **state)
{
	struct berr *err = NULL;
	assert_int_equal(schema_open(&S, &err), 0);
	return 0;
}

static int teardown(void **state)
{
	schema_close(S);
	return 0;
}

static void valid(const char *text)
{
	struct node *d = yaml_doc(text);
	struct berr *err = NULL;
	if (schema_validate(S, d, &err) < 0)
		fail_msg("expected valid, got: %s", err->msg);
	node_free(d);
}

static void invalid(const char *text, const char *want)
{
	struct node *d = yaml_doc(text);
	struct berr *err = NULL;
	if (schema_validate(S, d, &err) == 0)
		fail_msg("expected an error containing: %s", want);
	if (!strstr(err->msg, want))
		fail_msg("error was:\n  %s\nexpected:\n  %s", err->msg, want);
	berr_free(err);
	node_free(d);
}

static void accepts_real_shapes(void **state)
{
	valid("version: '3.8'\nname: x\nservices:\n  web:\n    image: nginx\n    ports: [80, \"8080:80\", {target: "
	      "80}]\n"
	      "    environment: {A: 1, B: true, C: null}\n    depends_on: {db: {condition: service_healthy}}\n"
	      "    x-custom: anything\n  db: {image: db}\nx-top: {a: 1}\n"
	      "networks: {n: {driver: bridge, ipam: {config: [{subnet: 10.0.0.0/24}]}}}\nvolumes: {v: null}\n");
	valid("services:\n  s:\n    build: .\n    command: echo hi\n    healthcheck: {test: [CMD, \"true\"], interval: "
	      "10s}\n");
	valid("include: [a.yaml, {path: [b.yaml, c.yaml], env_file: .env}]\n");
}

static void unknown_keys(void **state)
{
	invalid("services:\n  web:\n    imgae: x\n",
		"test.yaml:3:5: services.web: unknown key \"imgae\"; did you mean \"image\"?");
	invalid("services:\n  web:\n    image: x\n    healthcheck: {tset: [CMD]}\n",
		"services.web.healthcheck: unknown key \"tset\"; did you mean \"test\"?");
	invalid("volumes:\n  v: {drivr: local}\n", "volumes.v: unknown key \"drivr\"; did you mean \"driver\"?");
	invalid("foo: 1\n", "test.yaml:1:1: unknown key \"foo\" (custom keys must start with \"x-\")");
}

static void wrong_types(void **state)
{
	invalid("services:\n  web:\n    image: {a: 1}\n",
		"test.yaml:3:12: services.web.image: must be a string, not a mapping");
	invalid("services:\n  web:\n    ports: [[80]]\n",
		"services.web.ports[0]: must be a mapping, a string or a number, not a list");
	invalid("services:\n  web:\n    command: {a: b}\n", "services.web.command: must be");
	invalid("services: [web]\n", "test.yaml:1:11: services: must be a mapping, not a list");
}

static void enums_ranges_required_unique(void **state)
{
	invalid("services:\n  web:\n    depends_on: {db: {condition: service_ready}}\n",
		"services.web.depends_on.db.condition: \"service_ready\" is not allowed; use one of "
		"\"service_started\", "
		"\"service_healthy\", \"service_completed_successfully\"");
	invalid("services:\n  web:\n    oom_score_adj: 2000\n",
		"services.web.oom_score_adj: 2000 is above the maximum of 1000");
	invalid("services:\n  web:\n    extends: {file: x.yaml}\n",
		"services.web.extends: the key \"service\" is required here");
	invalid("services:\n  web:\n    cap_add: [NET_ADMIN, NET_ADMIN]\n",
		"services.web.cap_add: item 1 repeats item 0; list each value once");
	invalid("services:\n  web:\n    pull_policy: sometimes\n",
		"services.web.pull_policy: \"sometimes\" does not match");
}

static void interpolated_text_is_cast(void **state)
{
	/* use_api_socket is one of the few fields that take no string at all */
	struct node *d = yaml_doc("services:\n  web:\n    use_api_socket: \"true\"\n");
	at(d, "services.web.use_api_socket")->flags |= NF_INTERP;
	struct berr *err = NULL;
	assert_int_equal(schema_validate(S, d, &err), 0);
	assert_int_equal(at(d, "services.web.use_api_socket")->tag, TAG_BOOL);
	node_free(d);
	/* the same text written quoted by hand is a string, and an error */
	invalid("services:\n  web:\n    use_api_socket: \"true\"\n",
		"services.web.use_api_socket: must be a boolean, not a string");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_real_shapes),
		cmocka_unit_test(unknown_keys),
		cmocka_unit_test(wrong_types),
		cmocka_unit_test(enums_ranges_required_unique),
		cmocka_unit_test(interpolated_text_is_cast),
	};
	return cmocka_run_group_tests_name("schema", tests, setup, teardown);
}
