/* Loading a library when first needed (lib/dl.c): what a user sees when it
 * is not installed or too old. */
#include "helpers.h"

#include <errno.h>

#include "../../lib/dl.h"

static void loads_and_resolves(void **state)
{
	static const char *const sonames[] = {"libnosuch-berth.so.9", "libc.so.6", NULL};
	static const char *const names[] = {"strlen", "getpid"};
	void *fns[2] = {0};
	struct berr *err = NULL;
	assert_int_equal(dl_load(sonames, "libc6", names, fns, 2, &err), 0);
	assert_non_null(fns[0]);
	assert_non_null(fns[1]);
	assert_int_equal(((size_t(*)(const char *))fns[0])("four"), 4);
}

static void missing_library_names_the_package(void **state)
{
	static const char *const sonames[] = {"libnosuch-berth.so.9", "libnosuch-berth.so", NULL};
	static const char *const names[] = {"f"};
	void *fns[1];
	struct berr *err = NULL;
	assert_int_equal(dl_load(sonames, "nosuch-pkg", names, fns, 1, &err), -ENOENT);
	assert_non_null(strstr(err->msg, "cannot load libnosuch-berth.so.9 (install nosuch-pkg)"));
	berr_free(err);
}

static void missing_symbol_asks_for_a_newer_one(void **state)
{
	static const char *const sonames[] = {"libc.so.6", NULL};
	static const char *const names[] = {"strlen", "no_such_function_in_libc"};
	void *fns[2];
	struct berr *err = NULL;
	assert_int_equal(dl_load(sonames, "libc6", names, fns, 2, &err), -ENOENT);
	assert_string_equal(err->msg, "libc.so.6 has no no_such_function_in_libc; install a newer libc6");
	berr_free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loads_and_resolves),
		cmocka_unit_test(missing_library_names_the_package),
		cmocka_unit_test(missing_symbol_asks_for_a_newer_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
