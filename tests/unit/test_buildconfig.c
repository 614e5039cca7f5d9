/* The config-only Dockerfile instructions, as Docker applies them to an
 * image's config: ENV and LABEL forms, ARG scoping, CMD and ENTRYPOINT,
 * SHELL, EXPOSE, VOLUME, HEALTHCHECK, ONBUILD; and RUN's environment. */
#include "helpers.h"

#include <jansson.h>

#include "../../builder/config.h"
#include "../../lib/json.h"

struct fixture {
	struct bstage s;
	char **build_args, **meta;
};

static void stage_init(struct fixture *f, const char *base_config)
{
	memset(f, 0, sizeof(*f));
	f->s.cfg = json_loads(base_config, 0, NULL);
	f->s.escape = '\\';
	f->build_args = xcalloc(1, sizeof(char *));
	f->meta = xcalloc(1, sizeof(char *));
	f->s.build_args = f->build_args;
	f->s.meta = f->meta;
}

static void stage_free(struct fixture *f)
{
	json_decref(f->s.cfg);
	strv_free(f->s.args);
	free(f->s.author);
	strv_free(f->build_args);
	strv_free(f->meta);
}

/* Applies each line of text as an instruction; returns the error, if any. */
static char *apply(struct fixture *f, const char *text, char **last_by)
{
	struct dockerfile d;
	struct berr *err = NULL;
	char *full = xasprintf("FROM base\n%s", text); /* a parser wants a FROM first */
	if (dockerfile_parse("Dockerfile", full, strlen(full), &d, &err) < 0)
		fail_msg("parse: %s", err->msg);
	free(full);
	char *msg = NULL;
	for (size_t i = 1; i < d.n && !msg; i++) {
		char *by = NULL;
		if (bconfig_apply(&f->s, &d.instrs[i], &by, &err) < 0) {
			msg = xstrdup(err->msg);
			berr_free(err);
			err = NULL;
		} else if (last_by) {
			free(*last_by);
			*last_by = by;
		} else {
			free(by);
		}
	}
	dockerfile_free(&d);
	return msg;
}

static char *cfg_get(struct fixture *f, const char *key)
{
	return json_dumps(json_object_get(f->s.cfg, key), JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
}

static void expect_cfg(struct fixture *f, const char *key, const char *want)
{
	char *got = cfg_get(f, key);
	if (!got || strcmp(got, want))
		fail_msg("%s: got %s, want %s", key, got ? got : "(none)", want);
	free(got);
}

static void env_and_labels(void **state)
{
	struct fixture f;
	stage_init(&f, "{\"Env\": [\"PATH=/bin\", \"A=old\"]}");
	char *by = NULL;
	assert_null(apply(&f,
			  "ENV A=new B=\"two words\" C=${A}-x\n"
			  "ENV LEGACY value with spaces\n"
			  "ENV PATH=/opt/bin:$PATH\n"
			  "LABEL org.a=1 \"org.b\"=\"x y\"\n"
			  "LABEL old style label\n",
			  &by));
	/* one ENV expands with the values from before it, as Docker's does */
	expect_cfg(&f, "Env",
		   "[\"PATH=/opt/bin:/bin\",\"A=new\",\"B=two words\",\"C=old-x\",\"LEGACY=value with spaces\"]");
	expect_cfg(&f, "Labels", "{\"old\":\"style label\",\"org.a\":\"1\",\"org.b\":\"x y\"}");
	assert_string_equal(by, "LABEL old=style label");
	free(by);
	char *msg = apply(&f, "ENV =x\n", NULL);
	assert_non_null(strstr(msg, "is not NAME=VALUE"));
	free(msg);
	msg = apply(&f, "ENV ONLYNAME\n", NULL);
	assert_non_null(strstr(msg, "ENV ONLYNAME needs a value"));
	free(msg);
	stage_free(&f);
}

static void args(void **state)
{
	struct fixture f;
	stage_init(&f, "{\"Env\": [\"SHADOW=env\"]}");
	strv_push(&f.build_args, xstrdup("GIVEN=from-cli"));
	strv_push(&f.build_args, xstrdup("HTTP_PROXY=http://proxy:3128"));
	strv_push(&f.meta, xstrdup("GLOBAL=meta-value"));
	f.s.build_args = f.build_args;
	f.s.meta = f.meta;
	assert_null(apply(&f,
			  "ARG GIVEN=default\n"
			  "ARG DEFAULTED=d-${GIVEN}\n"
			  "ARG GLOBAL\n"
			  "ARG UNSET\n"
			  "ARG SHADOW=arg\n"
			  "ENV E=$DEFAULTED:$GLOBAL:${UNSET:-none}:$SHADOW\n",
			  NULL));
	expect_cfg(&f, "Env", "[\"SHADOW=env\",\"E=d-from-cli:meta-value:none:env\"]");
	char **env = bstage_run_env(&f.s);
	/* the config's ENV, PATH for an image without one, the ARGs the ENV does not shadow, proxies */
	assert_string_equal(env[0], "SHADOW=env");
	assert_string_equal(env[1], "E=d-from-cli:meta-value:none:env");
	assert_true(startswith(env[2], "PATH=/usr/local/sbin:"));
	assert_true(strv_contains(env, "GIVEN=from-cli"));
	assert_true(strv_contains(env, "DEFAULTED=d-from-cli"));
	assert_true(strv_contains(env, "GLOBAL=meta-value"));
	assert_true(strv_contains(env, "HTTP_PROXY=http://proxy:3128"));
	assert_false(strv_contains(env, "SHADOW=arg"));
	for (size_t i = 0; env[i]; i++)
		assert_false(startswith(env[i], "UNSET"));
	strv_free(env);
	assert_null(json_object_get(f.s.cfg, "Args")); /* ARGs never reach the image */
	stage_free(&f);
}

static void commands(void **state)
{
	struct fixture f;
	stage_init(&f, "{\"Cmd\": [\"base-cmd\"]}");
	assert_null(apply(&f, "ENTRYPOINT [\"/entry\"]\n", NULL));
	expect_cfg(&f, "Entrypoint", "[\"/entry\"]");
	expect_cfg(&f, "Cmd", "null"); /* ENTRYPOINT resets an inherited CMD */
	assert_null(apply(&f, "CMD echo $HOME\nENTRYPOINT [\"/e2\"]\n", NULL));
	expect_cfg(&f, "Cmd", "[\"/bin/sh\",\"-c\",\"echo $HOME\"]"); /* but not one of this stage */
	assert_null(apply(&f, "SHELL [\"/bin/bash\", \"-eu\", \"-c\"]\nCMD run it\n", NULL));
	expect_cfg(&f, "Cmd", "[\"/bin/bash\",\"-eu\",\"-c\",\"run it\"]");
	char **sh = bstage_shell(&f.s);
	assert_string_equal(sh[0], "/bin/bash");
	strv_free(sh);
	char *msg = apply(&f, "SHELL /bin/sh -c\n", NULL);
	assert_non_null(strstr(msg, "SHELL must be given as a JSON array"));
	free(msg);
	assert_null(apply(&f, "USER app:staff\nSTOPSIGNAL SIGINT\nMAINTAINER someone\n", NULL));
	expect_cfg(&f, "User", "\"app:staff\"");
	expect_cfg(&f, "StopSignal", "\"SIGINT\"");
	assert_string_equal(f.s.author, "someone");
	stage_free(&f);
}

static void ports_and_volumes(void **state)
{
	struct fixture f;
	stage_init(&f, "{}");
	assert_null(apply(
		&f, "ARG P=9000\nEXPOSE 80 53/UDP ${P}/tcp 7000-7002\nVOLUME /data /logs\nVOLUME [\"/a\", \"/b c\"]\n",
		NULL));
	expect_cfg(&f, "ExposedPorts",
		   "{\"53/udp\":{},\"7000/tcp\":{},\"7001/tcp\":{},\"7002/tcp\":{},\"80/tcp\":{},\"9000/tcp\":{}}");
	expect_cfg(&f, "Volumes", "{\"/a\":{},\"/b c\":{},\"/data\":{},\"/logs\":{}}");
	static const char *const bad[] = {"EXPOSE 0\n", "EXPOSE 70000\n", "EXPOSE 80/icmp\n", "EXPOSE 9-3\n",
					  "EXPOSE http\n"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *msg = apply(&f, bad[i], NULL);
		if (!msg || !strstr(msg, "is not a port"))
			fail_msg("%s: %s", bad[i], msg ? msg : "accepted");
		free(msg);
	}
	stage_free(&f);
}

static void healthcheck(void **state)
{
	struct fixture f;
	stage_init(&f, "{}");
	assert_null(apply(&f,
			  "HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=2s --start-interval=1s "
			  "--retries=4 CMD curl -f http://localhost/\n",
			  NULL));
	expect_cfg(&f, "Healthcheck",
		   "{\"Interval\":90000000000,\"Retries\":4,\"StartInterval\":1000000000,\"StartPeriod\":2000000000,"
		   "\"Test\":[\"CMD-SHELL\",\"curl -f http://localhost/\"],\"Timeout\":500000000}");
	assert_null(apply(&f, "HEALTHCHECK CMD [\"/bin/check\", \"-q\"]\n", NULL));
	expect_cfg(&f, "Healthcheck", "{\"Test\":[\"CMD\",\"/bin/check\",\"-q\"]}");
	assert_null(apply(&f, "HEALTHCHECK NONE\n", NULL));
	expect_cfg(&f, "Healthcheck", "{\"Test\":[\"NONE\"]}");
	static const char *const bad[][2] = {
		{"HEALTHCHECK --interval=soon CMD true\n", "--interval=soon is not valid"},
		{"HEALTHCHECK --retries=x CMD true\n", "--retries=x is not valid"},
		{"HEALTHCHECK --every=1s CMD true\n", "unknown flag --every=1s"},
		{"HEALTHCHECK true\n", "must be followed by CMD or NONE"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *msg = apply(&f, bad[i][0], NULL);
		if (!msg || !strstr(msg, bad[i][1]))
			fail_msg("%s: %s", bad[i][0], msg ? msg : "accepted");
		free(msg);
	}
	assert_int_equal(bconfig_duration("1h2m3.5s"), 3723500000000LL);
	assert_int_equal(bconfig_duration("0"), 0);
	assert_int_equal(bconfig_duration("5"), -1);
	assert_int_equal(bconfig_duration(""), -1);
	stage_free(&f);
}

static void onbuild(void **state)
{
	struct fixture f;
	stage_init(&f, "{}");
	assert_null(apply(&f, "ONBUILD COPY . /app\nONBUILD RUN make\n", NULL));
	expect_cfg(&f, "OnBuild", "[\"COPY . /app\",\"RUN make\"]");
	static const char *const bad[] = {"ONBUILD ONBUILD RUN x\n", "ONBUILD FROM x\n", "ONBUILD MAINTAINER me\n"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *msg = apply(&f, bad[i], NULL);
		if (!msg || !strstr(msg, "ONBUILD cannot trigger"))
			fail_msg("%s: %s", bad[i], msg ? msg : "accepted");
		free(msg);
	}
	stage_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(env_and_labels),    cmocka_unit_test(args),        cmocka_unit_test(commands),
		cmocka_unit_test(ports_and_volumes), cmocka_unit_test(healthcheck), cmocka_unit_test(onbuild),
	};
	return cmocka_run_group_tests_name("buildconfig", tests, NULL, NULL);
}
