/* berth convert's naming rules. */
#include "helpers.h"

#include "../../convert/convert.h"

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
	const struct CMUnitTest tests[] = {cmocka_unit_test(names_kubernetes_takes)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
