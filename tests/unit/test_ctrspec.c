/* Container specs from services: Docker's entrypoint/command rules and
 * capability arithmetic. */
#include "helpers.h"

#include "../../orchestrator/ctrspec.h"
#include "../../runtime/caps.h"

static char *joined(char **v)
{
	struct buf b = {0};
	for (size_t i = 0; v[i]; i++)
		buf_printf(&b, "%s%s", i ? "|" : "", v[i]);
	strv_free(v);
	return buf_steal(&b);
}

static char **V(const char *a, const char *b)
{
	char **v = xcalloc(1, sizeof(char *));
	if (a)
		strv_push(&v, xstrdup(a));
	if (b)
		strv_push(&v, xstrdup(b));
	return v;
}

static void argv_case(const char *svc_yaml, char **ep, char **cmd, const char *want)
{
	struct node *svc = yaml_doc(svc_yaml);
	struct image_config img = {.entrypoint = ep, .cmd = cmd};
	char *got = joined(ctrspec_argv(svc, &img));
	assert_string_equal(got, want);
	free(got);
	node_free(svc);
	strv_free(ep);
	strv_free(cmd);
}

static void entrypoint_and_command(void **state)
{
	/* image ENTRYPOINT ["ep"], CMD ["cmd"] */
	argv_case("image: x\n", V("ep", NULL), V("cmd", NULL), "ep|cmd");
	argv_case("command: [c1, c2]\n", V("ep", NULL), V("cmd", NULL), "ep|c1|c2");
	/* an entrypoint in the file drops the image's CMD */
	argv_case("entrypoint: [e1]\n", V("ep", NULL), V("cmd", NULL), "e1");
	argv_case("entrypoint: [e1]\ncommand: [c1]\n", V("ep", NULL), V("cmd", NULL), "e1|c1");
	/* an empty entrypoint resets it */
	argv_case("entrypoint: []\n", V("ep", NULL), V("cmd", "arg"), "");
	argv_case("entrypoint: []\ncommand: [sh]\n", V("ep", NULL), V("cmd", NULL), "sh");
	argv_case("command: []\n", V("ep", NULL), V("cmd", NULL), "ep");
	argv_case("image: x\n", NULL, V("sh", NULL), "sh");
	argv_case("entrypoint: null\n", V("ep", NULL), V("cmd", NULL), "ep|cmd");
}

static uint64_t caps_of(const char *yaml)
{
	struct node *svc = yaml_doc(yaml);
	uint64_t c = 0;
	struct berr *err = NULL;
	if (ctrspec_caps(svc, "s", &c, &err) < 0)
		fail_msg("%s", err->msg);
	node_free(svc);
	return c;
}

static void capabilities(void **state)
{
	assert_int_equal(caps_of("image: x\n"), CAPS_DOCKER_DEFAULT);
	assert_int_equal(caps_of("cap_add: [NET_ADMIN]\n"), CAPS_DOCKER_DEFAULT | (1ULL << 12));
	assert_int_equal(caps_of("cap_add: [CAP_SYS_ADMIN]\ncap_drop: [CHOWN]\n"),
			 (CAPS_DOCKER_DEFAULT | (1ULL << 21)) & ~1ULL);
	assert_int_equal(caps_of("cap_drop: [ALL]\ncap_add: [NET_BIND_SERVICE]\n"), 1ULL << 10);
	assert_int_equal(caps_of("cap_add: [ALL]\ncap_drop: [MKNOD]\n"), CAPS_ALL & ~(1ULL << 27));
	assert_int_equal(caps_of("privileged: true\ncap_drop: [ALL]\n"), CAPS_ALL);
	struct node *svc = yaml_doc("cap_add: [NOT_A_CAP]\n");
	uint64_t c;
	struct berr *err = NULL;
	assert_true(ctrspec_caps(svc, "web", &c, &err) < 0);
	assert_non_null(strstr(err->msg, "service web: cap_add: unknown capability \"NOT_A_CAP\""));
	berr_free(err);
	node_free(svc);
}

static void replicas(void **state)
{
	struct node *a = yaml_doc("image: x\n"), *b = yaml_doc("scale: 3\n"), *c = yaml_doc("deploy: {replicas: 2}\n");
	assert_int_equal(ctrspec_replicas(a), 1);
	assert_int_equal(ctrspec_replicas(b), 3);
	assert_int_equal(ctrspec_replicas(c), 2);
	node_free(a), node_free(b), node_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entrypoint_and_command),
		cmocka_unit_test(capabilities),
		cmocka_unit_test(replicas),
	};
	return cmocka_run_group_tests_name("ctrspec", tests, NULL, NULL);
}
