/* A limit whose cgroup controller is missing is refused, never skipped
 * (runtime/cgroup_v1.c), checked against a made-up hierarchy. */
#include "helpers.h"

#include <errno.h>

#include "../../runtime/cgroup.h"

static void missing_controller_refuses_the_limit(void **state)
{
	_cleanup_free_ char *root = tmpdir_new();
	static const char *const have[] = {"cpu", "cpuacct", "pids", "devices"};
	for (size_t i = 0; i < ARRAY_SIZE(have); i++) {
		_cleanup_free_ char *d = xasprintf("%s/%s", root, have[i]);
		assert_int_equal(mkdir(d, 0755), 0);
	}
	struct berr *err = NULL;
	struct cgroup_spec none = {0};
	assert_int_equal(cgroup_v1_check(root, &none, &err), 0);
	struct cgroup_spec pids = {.pids = 10, .cpu_shares = 512};
	assert_int_equal(cgroup_v1_check(root, &pids, &err), 0);
	struct cgroup_spec mem = {.memory = 1 << 20};
	assert_int_equal(cgroup_v1_check(root, &mem, &err), -ENOTSUP);
	assert_non_null(strstr(err->msg, "the memory cgroup controller is not mounted at"));
	assert_non_null(strstr(err->msg, "cannot be enforced"));
	berr_free(err);
	err = NULL;
	struct cgroup_spec cpus = {.cpuset = "0"};
	assert_int_equal(cgroup_v1_check(root, &cpus, &err), -ENOTSUP);
	assert_non_null(strstr(err->msg, "the cpuset cgroup controller"));
	berr_free(err);
	err = NULL;
	_cleanup_free_ char *devices = xasprintf("%s/devices", root);
	rmdir(devices);
	char *rules[] = {"c 1:3 rwm", NULL};
	struct cgroup_spec dev = {.devices = rules};
	assert_int_equal(cgroup_v1_check(root, &dev, &err), -ENOTSUP);
	assert_non_null(strstr(err->msg, "the devices cgroup controller is not mounted"));
	assert_non_null(strstr(err->msg, "device restrictions cannot be enforced"));
	berr_free(err);
	rm_rf(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(missing_controller_refuses_the_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
