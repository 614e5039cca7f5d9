/* Device rules (runtime/devices.c): the devices cgroup's text, Docker's
 * default list, and the cgroup v2 program, run against the real kernel
 * where a cgroup2 hierarchy is mounted (the hybrid layout has one too). */
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../runtime/devices.h"

static void parses_and_formats_rules(void **state)
{
	struct dev_rule r;
	struct berr *err = NULL;
	assert_int_equal(dev_rule_parse("c 1:3 rwm", &r, &err), 0);
	assert_int_equal(r.type, 'c');
	assert_int_equal(r.major, 1);
	assert_int_equal(r.minor, 3);
	assert_int_equal(r.access, DEV_READ | DEV_WRITE | DEV_MKNOD);
	assert_int_equal(dev_rule_parse("b *:* m", &r, &err), 0);
	assert_int_equal(r.major, DEV_ANY);
	assert_int_equal(r.access, DEV_MKNOD);
	char *s = dev_rule_format(&r);
	assert_string_equal(s, "b *:* m");
	free(s);
	assert_int_equal(dev_rule_parse("c 136:* rw", &r, &err), 0);
	s = dev_rule_format(&r);
	assert_string_equal(s, "c 136:* rw");
	free(s);
	assert_int_equal(dev_rule_parse("a", &r, &err), 0);
	assert_int_equal(r.type, 'a');
	static const char *const bad[] = {"x 1:3 rwm", "c 1:3",    "c 1 rwm",           "c 1:3 rwx",       "c 1:3 rr",
					  "c 1:3 ",    "c -1:3 r", "c 99999999999:1 r", "c 1:3 rwm extra", ""};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (dev_rule_parse(bad[i], &r, &err) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(strstr(err->msg, "is not TYPE MAJOR:MINOR ACCESS"));
		berr_free(err);
		err = NULL;
	}
}

static void docker_default_list_parses(void **state)
{
	for (size_t i = 0; dev_docker_default[i]; i++) {
		struct dev_rule r;
		struct berr *err = NULL;
		assert_int_equal(dev_rule_parse(dev_docker_default[i], &r, &err), 0);
		char *s = dev_rule_format(&r);
		assert_string_equal(s, dev_docker_default[i]);
		free(s);
	}
}

static char *cgroup2_mount(void)
{
	FILE *f = setmntent("/proc/self/mounts", "re");
	char *dir = NULL;
	for (struct mntent *m; f && !dir && (m = getmntent(f));)
		if (streq(m->mnt_type, "cgroup2"))
			dir = xstrdup(m->mnt_dir);
	if (f)
		endmntent(f);
	return dir;
}

/* In a child moved into the cgroup: what mknod and open of major:minor give. */
static int try_device(const char *procs, int maj, int min)
{
	pid_t pid = fork();
	if (pid == 0) {
		FILE *f = fopen(procs, "w");
		if (!f || fprintf(f, "%d", (int)getpid()) < 0 || fclose(f) != 0)
			_exit(100);
		char path[64];
		snprintf(path, sizeof(path), "/tmp/berth-devtest-%d", (int)getpid());
		if (mknod(path, S_IFCHR | 0600, makedev(maj, min)) < 0)
			_exit(101);
		int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		int e = errno;
		unlink(path);
		_exit(fd >= 0 ? 0 : e == EPERM ? 1 : 102);
	}
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void v2_program_allows_only_the_rules(void **state)
{
	_cleanup_free_ char *mnt = cgroup2_mount();
	if (geteuid() != 0 || !mnt) {
		print_message("skipped: needs root and a cgroup2 mount\n");
		skip();
	}
	_cleanup_free_ char *dir = xasprintf("%s/berth-devtest-%d", mnt, (int)getpid());
	assert_int_equal(mkdir(dir, 0755), 0);
	size_t n = 0;
	while (dev_docker_default[n])
		n++;
	struct dev_rule *rules = xcalloc(n + 1, sizeof(*rules));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(dev_rule_parse(dev_docker_default[i], &rules[i], NULL), 0);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct berr *err = NULL;
	int r = dev_bpf_attach(fd, rules, n, &err);
	close(fd);
	free(rules);
	if (r < 0) {
		rmdir(dir);
		fail_msg("%s", err->msg);
	}
	_cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", dir);
	int null = try_device(procs, 1, 3), pts = try_device(procs, 136, 0), loopctl = try_device(procs, 10, 237),
	    fuse = try_device(procs, 10, 229);
	rmdir(dir);
	assert_int_equal(null, 0);    /* /dev/null opens */
	assert_int_not_equal(pts, 1); /* any pty slave is allowed (ENXIO/EIO if it does not exist) */
	assert_int_equal(loopctl, 1); /* loop-control: EPERM */
	assert_int_equal(fuse, 1);    /* fuse: EPERM */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_and_formats_rules),
		cmocka_unit_test(docker_default_list_parses),
		cmocka_unit_test(v2_program_allows_only_the_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
