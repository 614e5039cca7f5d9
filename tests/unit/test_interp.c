/* Interpolation (compose-spec 12-interpolation.md) and the .env format. */
#include "helpers.h"

#include "../../orchestrator/dotenv.h"
#include "../../orchestrator/interp.h"

static struct env E;
static int unset_calls;
static void on_unset(void *data, const char *name) { unset_calls++; }

static int setup(void **state)
{
	E = (struct env){0};
	env_set(&E, "SET", "value");
	env_set(&E, "EMPTY", "");
	env_set(&E, "B", "bee");
	unset_calls = 0;
	return 0;
}

static int teardown(void **state)
{
	env_free(&E);
	return 0;
}

static char *expand(const char *in)
{
	struct interp_ctx ic = {.lookup = env_lookup, .data = &E, .unset = on_unset};
	char *out, *msg;
	if (interp_string(in, &ic, &out, &msg) < 0)
		fail_msg("unexpected error: %s", msg);
	return out;
}

static char *expand_error(const char *in)
{
	struct interp_ctx ic = {.lookup = env_lookup, .data = &E};
	char *out, *msg;
	if (interp_string(in, &ic, &out, &msg) == 0)
		fail_msg("expected an error for %s, got %s", in, out);
	return msg;
}

#define EXPECT(in, want)                         \
	do {                                     \
		char *got_ = expand(in);         \
		assert_string_equal(got_, want); \
		free(got_);                      \
	} while (0)

static void simple_forms(void **state)
{
	EXPECT("$SET", "value");
	EXPECT("${SET}", "value");
	EXPECT("a-${SET}-b", "a-value-b");
	EXPECT("$SET.x", "value.x");
	EXPECT("no vars", "no vars");
}

static void defaults(void **state)
{
	EXPECT("${UNSET:-d}", "d");
	EXPECT("${EMPTY:-d}", "d");
	EXPECT("${SET:-d}", "value");
	EXPECT("${UNSET-d}", "d");
	EXPECT("${EMPTY-d}", "");
	EXPECT("${UNSET:-}", "");
}

static void alternatives(void **state)
{
	EXPECT("${SET:+alt}", "alt");
	EXPECT("${EMPTY:+alt}", "");
	EXPECT("${EMPTY+alt}", "alt");
	EXPECT("${UNSET+alt}", "");
}

static void nesting(void **state)
{
	EXPECT("${UNSET:-${B}}", "bee");
	EXPECT("${UNSET:-${ALSO_UNSET:-x}}", "x");
	EXPECT("${UNSET:-pre-$B-post}", "pre-bee-post");
	EXPECT("${SET:+${B}!}", "bee!");
}

static void dollars(void **state)
{
	EXPECT("$$SET", "$SET");
	EXPECT("$${SET}", "${SET}");
	EXPECT("cost: 5$", "cost: 5$");
	EXPECT("$1 and $ and $-", "$1 and $ and $-");
}

static void unset_warns_and_is_empty(void **state)
{
	EXPECT("[$UNSET]", "[]");
	EXPECT("[${UNSET}]", "[]");
	assert_int_equal(unset_calls, 2);
	EXPECT("${UNSET:-x}", "x");
	assert_int_equal(unset_calls, 2);
}

static void required(void **state)
{
	char *m = expand_error("${UNSET:?please set UNSET}");
	assert_string_equal(m, "required variable UNSET is missing a value: please set UNSET");
	free(m);
	m = expand_error("${EMPTY:?}");
	assert_string_equal(m, "required variable EMPTY is missing a value");
	free(m);
	m = expand_error("${UNSET?need $B}");
	assert_string_equal(m, "required variable UNSET is missing a value: need bee");
	free(m);
	EXPECT("${EMPTY?x}", "");
	EXPECT("${SET:?x}", "value");
}

static void invalid_forms(void **state)
{
	char *m = expand_error("${}");
	assert_non_null(strstr(m, "invalid interpolation format"));
	free(m);
	m = expand_error("${A B}");
	assert_non_null(strstr(m, "invalid interpolation format"));
	free(m);
	m = expand_error("${SET");
	assert_non_null(strstr(m, "missing closing brace"));
	free(m);
	m = expand_error("${VAR/foo/bar}");
	assert_non_null(strstr(m, "invalid interpolation format"));
	free(m);
}

static void tree_values_not_keys(void **state)
{
	struct node *d = yaml_doc("services:\n  web:\n    image: \"img:${SET}\"\n    labels:\n      \"$SET\": x\n"
				  "    ports: [\"${PORT:-80}:80\"]\n");
	struct interp_ctx ic = {.lookup = env_lookup, .data = &E};
	struct berr *err = NULL;
	assert_int_equal(interp_tree(d, &ic, &err), 0);
	assert_string_equal(at_str(d, "services.web.image"), "img:value");
	assert_non_null(node_map_get(at(d, "services.web.labels"), "$SET"));
	assert_string_equal(at_str(d, "services.web.ports[0]"), "80:80");
	assert_true(at(d, "services.web.image")->flags & NF_INTERP);
	node_free(d);
}

static void tree_error_names_file_line_path(void **state)
{
	struct node *d = yaml_doc("services:\n  web:\n    image: ${IMG:?set IMG first}\n");
	struct interp_ctx ic = {.lookup = env_lookup, .data = &E};
	struct berr *err = NULL;
	assert_true(interp_tree(d, &ic, &err) < 0);
	assert_string_equal(
		err->msg,
		"test.yaml:3:12: services.web.image: required variable IMG is missing a value: set IMG first");
	berr_free(err);
	node_free(d);
}

static struct env parse_env(const char *text)
{
	struct env out = {0};
	struct berr *err = NULL;
	if (dotenv_parse(".env", text, env_lookup, &E, false, &out, &err) < 0)
		fail_msg("dotenv: %s", err->msg);
	return out;
}

static void dotenv_basics(void **state)
{
	struct env e = parse_env("# comment\n\nA=1\nexport B2=two\nC = spaced \nD=\nE=x # comment\nF=x#not\n"
				 "G='single $SET \\n'\nH=\"double $SET\\tq\\\"\"\nI=\"a # b\" # c\nSET\n");
	assert_string_equal(env_get(&e, "A"), "1");
	assert_string_equal(env_get(&e, "B2"), "two");
	assert_string_equal(env_get(&e, "C"), "spaced");
	assert_string_equal(env_get(&e, "D"), "");
	assert_string_equal(env_get(&e, "E"), "x");
	assert_string_equal(env_get(&e, "F"), "x#not");
	assert_string_equal(env_get(&e, "G"), "single $SET \\n");
	assert_string_equal(env_get(&e, "H"), "double value\tq\"");
	assert_string_equal(env_get(&e, "I"), "a # b");
	assert_string_equal(env_get(&e, "SET"), "value"); /* a bare name takes the environment's value */
	env_free(&e);
}

static void dotenv_multiline_and_references(void **state)
{
	struct env e = parse_env("FIRST=one\nSECOND=${FIRST}-2\nML=\"line1\nline2\"\nAFTER=${ML:+yes}\nQ='it\\'s'\n");
	assert_string_equal(env_get(&e, "SECOND"), "one-2");
	assert_string_equal(env_get(&e, "ML"), "line1\nline2");
	assert_string_equal(env_get(&e, "AFTER"), "yes");
	assert_string_equal(env_get(&e, "Q"), "it's");
	env_free(&e);
}

static void dotenv_process_env_wins_in_references(void **state)
{
	struct env e = parse_env("SET=fromfile\nREF=$SET\n");
	assert_string_equal(env_get(&e, "REF"), "value");
	env_free(&e);
}

static void dotenv_errors_name_line(void **state)
{
	struct env out = {0};
	struct berr *err = NULL;
	assert_true(dotenv_parse("x.env", "A=1\nB=\"open\n", NULL, NULL, false, &out, &err) < 0);
	assert_string_equal(err->msg, "x.env:2: a quoted value is not closed");
	berr_free(err);
	env_free(&out);
	err = NULL;
	assert_true(dotenv_parse("x.env", "A=1\n\nnot valid line\n", NULL, NULL, false, &out, &err) < 0);
	assert_string_equal(err->msg, "x.env:3: expected NAME=value");
	berr_free(err);
	env_free(&out);
}

static void dotenv_raw(void **state)
{
	struct env out = {0};
	struct berr *err = NULL;
	assert_int_equal(dotenv_parse("r", "A='$X' \"q\"\n", NULL, NULL, true, &out, &err), 0);
	assert_string_equal(env_get(&out, "A"), "'$X' \"q\"");
	env_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(simple_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(alternatives, setup, teardown),
		cmocka_unit_test_setup_teardown(nesting, setup, teardown),
		cmocka_unit_test_setup_teardown(dollars, setup, teardown),
		cmocka_unit_test_setup_teardown(unset_warns_and_is_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(required, setup, teardown),
		cmocka_unit_test_setup_teardown(invalid_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(tree_values_not_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(tree_error_names_file_line_path, setup, teardown),
		cmocka_unit_test_setup_teardown(dotenv_basics, setup, teardown),
		cmocka_unit_test_setup_teardown(dotenv_multiline_and_references, setup, teardown),
		cmocka_unit_test_setup_teardown(dotenv_process_env_wins_in_references, setup, teardown),
		cmocka_unit_test_setup_teardown(dotenv_errors_name_line, setup, teardown),
		cmocka_unit_test_setup_teardown(dotenv_raw, setup, teardown),
	};
	return cmocka_run_group_tests_name("interp", tests, NULL, NULL);
}
