/* Every key of the Compose schema is classified (honoured, refused, or no
 * effect), and docs/compose-keys.md is the table's. BERTH_WRITE_DOCS=1
 * (make docs) writes the document instead of comparing it. */
#include "helpers.h"

#include "../../lib/fs.h"
#include "../../orchestrator/keys.h"

#define DOC "docs/compose-keys.md"

static void every_schema_key_is_classified(void **state)
{
	char **paths = keys_schema_paths();
	assert_true(strv_len(paths) > 300); /* the schema was read, all of it */
	size_t missing = 0;
	for (size_t i = 0; paths[i]; i++)
		if (!keys_rule(paths[i])) {
			fprintf(stderr, "not classified in orchestrator/keys.c: %s\n", paths[i]);
			missing++;
		}
	strv_free(paths);
	assert_int_equal(missing, 0);
}

static void every_rule_is_a_schema_key(void **state)
{
	char **paths = keys_schema_paths();
	for (size_t i = 0; i < key_rules_n; i++) {
		/* the key itself, or a level the schema names keys below ("services.*") */
		const char *r = key_rules[i].path;
		bool found = false;
		for (size_t k = 0; paths[k] && !found; k++)
			found = streq(paths[k], r) ||
				(startswith(paths[k], r) && (paths[k][strlen(r)] == '.' || paths[k][strlen(r)] == '['));
		if (!found) {
			strv_free(paths);
			fail_msg("orchestrator/keys.c classifies %s, which the schema does not have", r);
		}
	}
	strv_free(paths);
}

static void the_document_is_the_tables(void **state) { doc_is_the_tables(DOC, keys_markdown(), "orchestrator/keys.c"); }

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(every_schema_key_is_classified),
					   cmocka_unit_test(every_rule_is_a_schema_key),
					   cmocka_unit_test(the_document_is_the_tables)};
	return cmocka_run_group_tests_name("keys", tests, NULL, NULL);
}
