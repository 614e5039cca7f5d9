/* YAML reading: positions, type resolution, anchors, merge keys, tags, limits. */
#include "helpers.h"

static void positions_are_kept(void **state)
{
	struct node *d = yaml_doc("services:\n  web:\n    image: nginx\n");
	struct node *img = at(d, "services.web.image");
	assert_string_equal(img->str, "nginx");
	assert_int_equal(img->pos.line, 3);
	assert_int_equal(img->pos.col, 12);
	assert_string_equal(img->pos.file->path, "test.yaml");
	node_free(d);
}

static void plain_scalars_resolve_like_yaml_v3(void **state)
{
	struct node *d = yaml_doc("a: 8080\nb: \"8080\"\nc: true\nd: yes\ne: ~\nf: 1.5\ng: 0755\nh: 0x1F\ni: .inf\nj:\n"
				  "k: 1e3\nl: 08\n");
	assert_int_equal(at(d, "a")->tag, TAG_INT);
	assert_int_equal(at(d, "b")->tag, TAG_STR);
	assert_true(at(d, "b")->flags & NF_QUOTED);
	assert_int_equal(at(d, "c")->tag, TAG_BOOL);
	assert_int_equal(at(d, "d")->tag, TAG_STR); /* YAML 1.2: yes is a string */
	assert_int_equal(at(d, "e")->tag, TAG_NULL);
	assert_int_equal(at(d, "f")->tag, TAG_FLOAT);
	long long v;
	assert_int_equal(node_int(at(d, "g"), &v), 0);
	assert_int_equal(v, 0755);
	assert_int_equal(node_int(at(d, "h"), &v), 0);
	assert_int_equal(v, 31);
	assert_int_equal(at(d, "i")->tag, TAG_FLOAT);
	assert_int_equal(at(d, "j")->tag, TAG_NULL);
	assert_int_equal(at(d, "k")->tag, TAG_FLOAT);
	assert_int_equal(at(d, "l")->tag, TAG_FLOAT);
	node_free(d);
}

static void anchors_and_aliases_copy(void **state)
{
	struct node *d = yaml_doc(
		"x-env: &env\n  A: 1\nservices:\n  a:\n    environment: *env\n  b:\n    environment: *env\n");
	assert_string_equal(at_str(d, "services.a.environment.A"), "1");
	assert_string_equal(at_str(d, "services.b.environment.A"), "1");
	assert_ptr_not_equal(at(d, "services.a.environment"), at(d, "services.b.environment"));
	node_free(d);
}

static void merge_keys_single_and_list(void **state)
{
	struct node *d = yaml_doc("base: &b\n  image: x\n  user: root\nmore: &m\n  user: nobody\n  tty: true\n"
				  "one:\n  <<: *b\n  image: y\n"
				  "two:\n  <<: [*m, *b]\n");
	assert_string_equal(at_str(d, "one.image"), "y"); /* explicit keys win */
	assert_string_equal(at_str(d, "one.user"), "root");
	assert_string_equal(at_str(d, "two.user"), "nobody"); /* earlier merges win */
	assert_string_equal(at_str(d, "two.image"), "x");
	assert_string_equal(at_str(d, "two.tty"), "true");
	assert_null(at(d, "two.<<"));
	node_free(d);
}

static void quoted_merge_key_is_a_plain_key(void **state)
{
	struct node *d = yaml_doc("a:\n  \"<<\": 1\n");
	assert_string_equal(at_str(d, "a.<<"), "1");
	node_free(d);
}

static void reset_and_override_tags(void **state)
{
	struct node *d = yaml_doc("ports: !reset []\ncmd: !override [a]\nplain: !!str 80\n");
	assert_true(at(d, "ports")->flags & NF_RESET);
	assert_true(at(d, "cmd")->flags & NF_OVERRIDE);
	assert_int_equal(at(d, "plain")->tag, TAG_STR);
	node_free(d);
}

static void duplicate_keys_are_refused(void **state)
{
	const char *t = "services:\n  web:\n    image: a\n    image: b\n";
	char *msg = yaml_error(t, strlen(t));
	assert_non_null(strstr(msg, "test.yaml:4:5: duplicate key \"image\" (first defined at line 3)"));
	free(msg);
}

static void syntax_errors_name_line_and_column(void **state)
{
	const char *t = "services:\n  web:\n    image: [a\n";
	char *msg = yaml_error(t, strlen(t));
	assert_non_null(strstr(msg, "test.yaml:"));
	assert_non_null(strstr(msg, "invalid YAML"));
	free(msg);
}

static void unknown_alias_is_refused(void **state)
{
	const char *t = "a: *nope\n";
	char *msg = yaml_error(t, strlen(t));
	assert_non_null(strstr(msg, "unknown anchor \"nope\""));
	free(msg);
}

static void alias_bomb_is_bounded(void **state)
{
	const char *t = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
			"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
			"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
			"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
			"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
			"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
	char *msg = yaml_error(t, strlen(t));
	assert_non_null(strstr(msg, "alias bomb"));
	free(msg);
}

static void deep_nesting_is_refused(void **state)
{
	size_t depth = 10000;
	char *t = xmalloc(depth * 2 + 1);
	for (size_t i = 0; i < depth; i++) {
		t[i] = '[';
		t[depth + i] = ']';
	}
	t[depth * 2] = '\0';
	char *msg = yaml_error(t, depth * 2);
	assert_non_null(strstr(msg, "nesting is deeper than 200 levels"));
	free(msg);
	free(t);
}

static void invalid_utf8_and_binary_are_refused(void **state)
{
	const char bad[] = "a: \xff\xfe\x00junk";
	char *msg = yaml_error(bad, sizeof(bad) - 1);
	assert_non_null(strstr(msg, "invalid YAML"));
	free(msg);
}

static void keys_must_be_scalars(void **state)
{
	const char *t = "? [a, b]\n: 1\n";
	char *msg = yaml_error(t, strlen(t));
	assert_non_null(strstr(msg, "mapping key must be a plain value"));
	free(msg);
}

static void several_documents(void **state)
{
	struct node **docs;
	size_t n;
	struct berr *err = NULL;
	const char *t = "a: 1\n---\nb: 2\n";
	assert_int_equal(yaml_parse("t", t, strlen(t), &docs, &n, &err), 0);
	assert_int_equal(n, 2);
	yaml_docs_free(docs, n);
	assert_int_equal(yaml_parse("t", "", 0, &docs, &n, &err), 0);
	assert_int_equal(n, 0);
	yaml_docs_free(docs, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(positions_are_kept),
		cmocka_unit_test(plain_scalars_resolve_like_yaml_v3),
		cmocka_unit_test(anchors_and_aliases_copy),
		cmocka_unit_test(merge_keys_single_and_list),
		cmocka_unit_test(quoted_merge_key_is_a_plain_key),
		cmocka_unit_test(reset_and_override_tags),
		cmocka_unit_test(duplicate_keys_are_refused),
		cmocka_unit_test(syntax_errors_name_line_and_column),
		cmocka_unit_test(unknown_alias_is_refused),
		cmocka_unit_test(alias_bomb_is_bounded),
		cmocka_unit_test(deep_nesting_is_refused),
		cmocka_unit_test(invalid_utf8_and_binary_are_refused),
		cmocka_unit_test(keys_must_be_scalars),
		cmocka_unit_test(several_documents),
	};
	return cmocka_run_group_tests_name("yaml", tests, NULL, NULL);
}
