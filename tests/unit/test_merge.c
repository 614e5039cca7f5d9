/* Merge rules (compose-spec 13-merge.md) on canonical documents, and the
 * YAML writer that prints them. */
#include "helpers.h"

#include "../../orchestrator/canon.h"
#include "../../orchestrator/emit.h"
#include "../../orchestrator/merge.h"

static struct node *canonical(const char *text)
{
	struct node *d = yaml_doc(text);
	struct canon_ctx c = {.workdir = "/proj", .home = "/home/u"};
	struct berr *err = NULL;
	if (canon_document(d, &c, &err) < 0)
		fail_msg("canon: %s", err->msg);
	return d;
}

static struct node *merged(const char *a, const char *b)
{
	struct node *base = canonical(a);
	merge_document(base, canonical(b));
	return base;
}

static void scalars_and_mappings(void **state)
{
	struct node *d = merged("services:\n  s:\n    image: a\n    logging: {driver: x, options: {a: 1}}\n",
				"services:\n  s:\n    image: b\n    logging: {options: {b: 2}}\n  t:\n    image: t\n");
	assert_string_equal(at_str(d, "services.s.image"), "b");
	assert_string_equal(at_str(d, "services.s.logging.driver"), "x");
	assert_string_equal(at_str(d, "services.s.logging.options.a"), "1");
	assert_string_equal(at_str(d, "services.s.logging.options.b"), "2");
	assert_string_equal(at_str(d, "services.t.image"), "t");
	node_free(d);
}

static void sequences_append_without_repeats(void **state)
{
	struct node *d = merged("services:\n  s:\n    cap_add: [A, B]\n    expose: [80]\n",
				"services:\n  s:\n    cap_add: [B, C]\n    expose: [\"80\", 90]\n");
	assert_int_equal(at(d, "services.s.cap_add")->n, 3);
	assert_string_equal(at_str(d, "services.s.cap_add[2]"), "C");
	assert_int_equal(at(d, "services.s.expose")->n, 2);
	node_free(d);
}

static void keyed_sequences(void **state)
{
	struct node *d = merged(
		"services:\n  s:\n    ports: [\"80:80\", \"127.0.0.1:81:81\"]\n"
		"    secrets: [a, {source: b, target: /x}]\n    devices: [\"/dev/a:/dev/a\"]\n",
		"services:\n  s:\n    ports: [{target: 80, published: \"80\", protocol: tcp, mode: host}, \"81:81\"]\n"
		"    secrets: [{source: a, mode: 0400}, {source: c, target: /x}]\n"
		"    devices: [\"/dev/b:/dev/a:r\"]\n");
	assert_int_equal(at(d, "services.s.ports")->n, 3); /* 127.0.0.1:81 and 81 differ by host_ip */
	assert_string_equal(at_str(d, "services.s.ports[0].mode"), "host");
	assert_int_equal(at(d, "services.s.secrets")->n, 2);
	assert_string_equal(at_str(d, "services.s.secrets[0].mode"), "0400");
	assert_string_equal(at_str(d, "services.s.secrets[1].source"), "c"); /* same target /x */
	assert_int_equal(at(d, "services.s.devices")->n, 1);
	assert_string_equal(at_str(d, "services.s.devices[0].source"), "/dev/b");
	node_free(d);
}

static void commands_replace(void **state)
{
	struct node *d = merged(
		"services:\n  s:\n    command: [a, b]\n    entrypoint: x y\n"
		"    healthcheck: {test: [CMD, a], retries: 3}\n",
		"services:\n  s:\n    command: [c]\n    entrypoint: [z]\n    healthcheck: {test: [CMD, b]}\n");
	assert_int_equal(at(d, "services.s.command")->n, 1);
	assert_int_equal(at(d, "services.s.entrypoint")->n, 1);
	assert_string_equal(at_str(d, "services.s.healthcheck.test[1]"), "b");
	assert_string_equal(at_str(d, "services.s.healthcheck.retries"), "3");
	node_free(d);
}

static void reset_and_override(void **state)
{
	struct node *d = merged("services:\n  s:\n    image: a\n    ports: [\"80:80\"]\n  gone:\n    image: g\n",
				"services:\n  s:\n    ports: !override [\"90:90\"]\n  gone: !reset {}\n");
	assert_int_equal(at(d, "services.s.ports")->n, 1);
	assert_string_equal(at_str(d, "services.s.ports[0].published"), "90");
	assert_null(at(d, "services.gone"));
	node_free(d);
}

static void extends_merge(void **state)
{
	struct node *doc = canonical("services:\n  b:\n    image: busybox\n    environment: [A=1, B=2]\n"
				     "    volumes: [\"v:/data\"]\n"
				     "  c:\n    environment: {B: 3}\n    volumes: [\"w:/data:ro\"]\n");
	struct node *b = node_clone(at(doc, "services.b"));
	merge_service(b, at(doc, "services.c"));
	assert_string_equal(at_str(b, "environment.A"), "1");
	assert_string_equal(at_str(b, "environment.B"), "3");
	assert_int_equal(at(b, "volumes")->n, 1);
	assert_string_equal(at_str(b, "volumes[0].source"), "w");
	node_free(b);
	node_free(doc);
}

static char *yaml_of(struct node *n)
{
	struct buf b = {0};
	struct berr *err = NULL;
	assert_int_equal(emit_yaml(n, &b, &err), 0);
	return buf_steal(&b);
}

/* Sequences under keys indented by two, as docker compose (Go's yaml) writes them. */
static void writer_indents_sequences_as_docker_compose(void **state)
{
	struct node *d = yaml_doc("a:\n- x\n- k: [1]\n  z: |\n    l1\n    - l2\nb: c\n");
	char *y = yaml_of(d);
	assert_string_equal(y, "a:\n  - x\n  - k:\n      - 1\n    z: |\n      l1\n      - l2\nb: c\n");
	free(y);
	node_free(d);
}

static void writer_quotes_what_would_change_type(void **state)
{
	struct node *d = yaml_doc("a: \"8080\"\nb: \"true\"\nc: \"yes\"\nd: \"null\"\ne: plain\nf: 0440\ng: "
				  "\"line1\\nline2\\n\"\nh: \"\"\n");
	char *y = yaml_of(d);
	assert_non_null(strstr(y, "a: \"8080\""));
	assert_non_null(strstr(y, "b: \"true\""));
	assert_non_null(strstr(y, "c: \"yes\""));
	assert_non_null(strstr(y, "d: \"null\""));
	assert_non_null(strstr(y, "e: plain"));
	assert_non_null(strstr(y, "f: 288"));
	assert_non_null(strstr(y, "g: |"));
	assert_non_null(strstr(y, "h: \"\""));
	/* and it reads back to the same values */
	struct node *back = yaml_doc(y);
	assert_int_equal(at(back, "a")->tag, TAG_STR);
	assert_string_equal(at_str(back, "g"), "line1\nline2\n");
	long long v;
	assert_int_equal(node_int(at(back, "f"), &v), 0);
	assert_int_equal(v, 0440);
	node_free(back);
	free(y);
	node_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scalars_and_mappings),
		cmocka_unit_test(sequences_append_without_repeats),
		cmocka_unit_test(keyed_sequences),
		cmocka_unit_test(commands_replace),
		cmocka_unit_test(reset_and_override),
		cmocka_unit_test(extends_merge),
		cmocka_unit_test(writer_indents_sequences_as_docker_compose),
		cmocka_unit_test(writer_quotes_what_would_change_type),
	};
	return cmocka_run_group_tests_name("merge", tests, NULL, NULL);
}
