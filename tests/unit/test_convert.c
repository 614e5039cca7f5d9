/* berth convert's naming rules. */
#include "helpers.h"

#include "../../convert/convert.h"
#include "../../convert/k8skeys.h"
#include "../../lib/fs.h"
#include "../../orchestrator/keys.h"

#define DOC "docs/kubernetes.md"

/* Every key of the schema says what convert makes of it. */
static void every_schema_key_is_classified(void **state)
{
	char **paths = keys_schema_paths();
	size_t missing = 0;
	for (size_t i = 0; paths[i]; i++)
		if (!k8s_rule(paths[i])) {
			fprintf(stderr, "not classified in convert/k8skeys.c: %s\n", paths[i]);
			missing++;
		}
	strv_free(paths);
	assert_int_equal(missing, 0);
}

static void every_rule_is_a_schema_key(void **state)
{
	char **paths = keys_schema_paths();
	for (size_t i = 0; i < k8s_rules_n; i++) {
		const char *r = k8s_rules[i].path;
		bool found = false;
		for (size_t k = 0; paths[k] && !found; k++)
			found = streq(paths[k], r);
		if (!found) {
			strv_free(paths);
			fail_msg("convert/k8skeys.c classifies %s, which the schema does not have", r);
		}
	}
	strv_free(paths);
}

static void the_document_is_the_tables(void **state) { doc_is_the_tables(DOC, k8s_markdown(), "convert/k8skeys.c"); }

static void names_kubernetes_takes(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"web", "web"},		      {"My_App.1", "my-app-1"}, {"/usr/share/nginx/html", "usr-share-nginx-html"},
		{"--x--", "x"},		      {"a__b", "a-b"},		{"web2", "web2"},
		{"", "x"},		      {"///", "x"},		{"Db", "db"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *n = k8s_name(cases[i].in);
		assert_string_equal(n, cases[i].out);
		free(n);
	}
	/* at most 63 characters, never ending in '-' */
	char long_name[100];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[62] = '_';
	long_name[99] = 0;
	char *n = k8s_name(long_name);
	assert_true(strlen(n) <= 63);
	assert_true(n[strlen(n) - 1] != '-');
	free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(names_kubernetes_takes),
					   cmocka_unit_test(every_schema_key_is_classified),
					   cmocka_unit_test(every_rule_is_a_schema_key),
					   cmocka_unit_test(the_document_is_the_tables)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
