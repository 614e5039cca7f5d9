/* .dockerignore patterns, with the examples of Docker's documentation. */
#include "helpers.h"

#include "../../builder/ignore.h"

static void matching(void **state)
{
	static const struct {
		const char *pattern, *path;
		bool match;
	} cases[] = {
		{"*/temp*", "somedir/temporary.txt", true},
		{"*/temp*", "somedir/temp", true},
		{"*/temp*", "temp", false},
		{"*/temp*", "a/b/temp", false},
		{"*/*/temp*", "somedir/subdir/temporary.txt", true},
		{"temp?", "tempa", true},
		{"temp?", "temp", false},
		{"temp?", "temp/", false},
		{"**/*.go", "a.go", true},
		{"**/*.go", "x/y/z.go", true},
		{"**/*.go", "x/y/z.c", false},
		{"a/**", "a/b/c", true},
		{"a/**/z", "a/z", true},
		{"a/**/z", "a/b/c/z", true},
		{"[a-c]at", "bat", true},
		{"[a-c]at", "rat", false},
		{"[^a-c]at", "rat", true},
		{"[!a-c]at", "bat", false},
		{"\\*", "*", true},
		{"\\*", "x", false},
		{"*", "a/b", false},
		{"node_modules", "node_modules", true},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (ignore_match(cases[i].pattern, cases[i].path) != cases[i].match)
			fail_msg("%s on %s: expected %s", cases[i].pattern, cases[i].path,
				 cases[i].match ? "a match" : "none");
}

/* stars cannot make a match take exponential time */
static void many_stars(void **state)
{
	char path[201];
	memset(path, 'a', 200);
	path[200] = '\0';
	assert_false(ignore_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*c", path));
	assert_false(ignore_match("**a**a**a**a**a**a**a**a**a**a**a**a**a**c", path));
	assert_true(ignore_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a", path));
}

static void files(void **state)
{
	struct ignore ig;
	struct berr *err = NULL;
	assert_int_equal(ignore_parse(".dockerignore",
				      "# a comment\n"
				      "\n"
				      "  *.md  \r\n"
				      "!README*.md\n"
				      "README-secret.md\n"
				      "/node_modules/\n"
				      "./build\n"
				      "docs/../tmp\n",
				      &ig, &err),
			 0);
	assert_int_equal(ig.n, 6);
	assert_string_equal(ig.patterns[3], "node_modules");
	assert_string_equal(ig.patterns[4], "build");
	assert_string_equal(ig.patterns[5], "tmp");
	assert_true(ignore_excludes(&ig, "CHANGES.md"));
	assert_false(ignore_excludes(&ig, "README.md"));              /* the exception */
	assert_true(ignore_excludes(&ig, "README-secret.md"));        /* excluded again by a later line */
	assert_false(ignore_excludes(&ig, "docs/guide.md"));          /* *.md is for the top only */
	assert_true(ignore_excludes(&ig, "node_modules/x/index.js")); /* what is inside an excluded directory */
	assert_true(ignore_excludes(&ig, "build"));
	assert_true(ignore_excludes(&ig, "tmp/a"));
	assert_false(ignore_excludes(&ig, "src/main.c"));
	ignore_free(&ig);
	assert_true(ignore_parse(".dockerignore", "ok\n[abc\n", &ig, &err) < 0);
	assert_non_null(strstr(err->msg, ".dockerignore: pattern \"[abc\" has a [ without its ]"));
	berr_free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(matching), cmocka_unit_test(many_stars),
					   cmocka_unit_test(files)};
	return cmocka_run_group_tests_name("ignore", tests, NULL, NULL);
}
