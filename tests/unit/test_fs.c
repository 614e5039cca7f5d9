/* Removing a tree (lib/fs.c) never follows a symlink out of it, whatever
 * the tree holds: containers write into what berth later removes. */
#include "helpers.h"

#include <fcntl.h>
#include <unistd.h>

static void remove_tree_stays_inside(void **state)
{
	_cleanup_free_ char *top = tmpdir_new();
	_cleanup_free_ char *victim = xasprintf("%s/victim", top);
	_cleanup_free_ char *tree = xasprintf("%s/tree", top);
	assert_int_equal(mkdir(victim, 0755), 0);
	write_file(victim, "precious", "keep me\n");
	_cleanup_free_ char *deep = xasprintf("%s/a/b/c", tree);
	assert_int_equal(fs_mkdir_p(deep, 0755, NULL), 0);
	write_file(deep, "file", "x");
	_cleanup_free_ char *l1 = xasprintf("%s/link-to-victim", tree);
	_cleanup_free_ char *l2 = xasprintf("%s/a/dirlink", tree);
	assert_int_equal(symlink(victim, l1), 0);
	assert_int_equal(symlink(victim, l2), 0);
	_cleanup_free_ char *ro = xasprintf("%s/a/b/unreadable", tree);
	assert_int_equal(mkdir(ro, 0), 0);
	struct berr *err = NULL;
	assert_int_equal(fs_remove_tree(tree, &err), 0);
	assert_false(fs_exists(tree));
	_cleanup_free_ char *kept = xasprintf("%s/precious", victim);
	assert_true(fs_exists(kept));
	assert_int_equal(fs_remove_tree(tree, &err), 0); /* gone already: fine */
	rm_rf(top);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(remove_tree_stays_inside),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
