/* build --check: BuildKit's checks of a Dockerfile, each rule shown to
 * fire on what it is about and to stay quiet otherwise. */
#include "helpers.h"

#include "../../builder/lint.h"

static char **lint(const char *text)
{
	struct dockerfile d;
	struct berr *err = NULL;
	if (dockerfile_parse("Dockerfile", text, strlen(text), &d, &err) < 0)
		fail_msg("parse: %s", err->msg);
	char **w = df_lint(&d);
	dockerfile_free(&d);
	return w;
}

static void each_rule(void **state)
{
	static const char *const cases[][2] = {
		{"FROM a AS Builder\n", "Dockerfile:1: StageNameCasing: Stage name 'Builder' should be lowercase"},
		{"FROM a\nMAINTAINER me\n", "Dockerfile:2: MaintainerDeprecated:"},
		{"FROM a\nCMD run it\n", "Dockerfile:2: JSONArgsRecommended: JSON arguments recommended for CMD"},
		{"FROM a\nENTRYPOINT run it\n",
		 "Dockerfile:2: JSONArgsRecommended: JSON arguments recommended for ENTRYPOINT"},
		{"FROM a\nENV K v\n", "Dockerfile:2: LegacyKeyValueFormat: \"ENV key=value\""},
		{"FROM a\nLABEL k v\n", "Dockerfile:2: LegacyKeyValueFormat: \"LABEL key=value\""},
		{"FROM a\nARG API_TOKEN\n", "Dockerfile:2: SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions "
					    "for sensitive data (ARG \"API_TOKEN\")"},
		{"FROM a\nENV X=1 DB_PASSWORD=p\n", "(ENV \"DB_PASSWORD\")"},
		{"FROM a\nWORKDIR app\n", "Dockerfile:2: WorkdirRelativePath: Relative workdir \"app\""},
		{"FROM a\nCMD [\"a\"]\nCMD [\"b\"]\n",
		 "Dockerfile:3: MultipleInstructionsDisallowed: Multiple CMD instructions"},
		{"FROM a\nHEALTHCHECK NONE\nHEALTHCHECK NONE\n", "Multiple HEALTHCHECK instructions"},
		{"FROM a:$V\n", "Dockerfile:1: UndefinedArgInFrom: FROM argument 'V' is not declared"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char **w = lint(cases[i][0]);
		bool found = false;
		for (size_t k = 0; w[k]; k++)
			found |= strstr(w[k], cases[i][1]) != NULL;
		if (!found)
			fail_msg("%s: no \"%s\" (got %s)", cases[i][0], cases[i][1], w[0] ? w[0] : "nothing");
		strv_free(w);
	}
}

static void quiet_when_fine(void **state)
{
	static const char *const fine[] = {
		"ARG V=1\nFROM a:$V AS build\nFROM --platform=$BUILDPLATFORM a AS other\n",
		"FROM a AS build\nWORKDIR /app\nWORKDIR sub\nENV K=v\nLABEL k=v\nARG VERSION\n"
		"CMD [\"a\"]\nENTRYPOINT [\"b\"]\nFROM build\nCMD [\"c\"]\n",
		"FROM a\nCMD\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(fine); i++) {
		char **w = lint(fine[i]);
		if (w[0])
			fail_msg("%s: %s", fine[i], w[0]);
		strv_free(w);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(each_rule), cmocka_unit_test(quiet_when_fine)};
	return cmocka_run_group_tests_name("lint", tests, NULL, NULL);
}
