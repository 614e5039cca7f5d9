/* Image reference parsing and normalization. */
#include "helpers.h"

#include "../../images/ref.h"

static void check(const char *in, const char *full, const char *familiar)
{
	struct image_ref r;
	struct berr *err = NULL;
	if (ref_parse(in, &r, &err) < 0)
		fail_msg("%s: %s", in, err->msg);
	char *f = ref_string(&r), *s = ref_familiar(&r);
	assert_string_equal(f, full);
	assert_string_equal(s, familiar);
	free(f);
	free(s);
	ref_free(&r);
}

static void normalization(void **state)
{
	const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	check("busybox", "docker.io/library/busybox:latest", "busybox:latest");
	check("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36");
	check("library/busybox", "docker.io/library/busybox:latest", "busybox:latest");
	check("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest");
	check("index.docker.io/library/busybox:1", "docker.io/library/busybox:1", "busybox:1");
	check("user/app:v2", "docker.io/user/app:v2", "user/app:v2");
	check("localhost/app", "localhost/app:latest", "localhost/app:latest");
	check("localhost:5000/app:1", "localhost:5000/app:1", "localhost:5000/app:1");
	check("127.0.0.1:5000/a/b/c:x_y.z-1", "127.0.0.1:5000/a/b/c:x_y.z-1", "127.0.0.1:5000/a/b/c:x_y.z-1");
	check("registry.example.com/team/svc", "registry.example.com/team/svc:latest",
	      "registry.example.com/team/svc:latest");
	char *in = xasprintf("busybox@%s", d), *full = xasprintf("docker.io/library/busybox@%s", d);
	char *fam = xasprintf("busybox@%s", d);
	check(in, full, fam);
	free(in), free(full), free(fam);
	in = xasprintf("busybox:1@%s", d), full = xasprintf("docker.io/library/busybox:1@%s", d);
	fam = xasprintf("busybox:1@%s", d);
	check(in, full, fam);
	free(in), free(full), free(fam);
}

static void refused(const char *in, const char *want)
{
	struct image_ref r;
	struct berr *err = NULL;
	if (ref_parse(in, &r, &err) == 0)
		fail_msg("%s parsed; expected an error", in);
	assert_non_null(strstr(err->msg, want));
	berr_free(err);
}

static void invalid(void **state)
{
	refused("", "it is empty");
	refused("Busybox", "repository name");
	refused("busybox:", "the tag");
	refused("busybox:bad tag", "the tag");
	refused("busybox@sha256:abc", "digest");
	refused("a//b", "repository name");
	refused("a/../b", "repository name");
	refused("-a", "repository name");
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(normalization), cmocka_unit_test(invalid)};
	return cmocka_run_group_tests_name("ref", tests, NULL, NULL);
}
