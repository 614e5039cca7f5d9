/* Dockerfile parsing and Docker's word expansion. */
#include "helpers.h"

#include "../../builder/dockerfile.h"
#include "../../builder/stages.h"

static struct dockerfile parse_ok(const char *text)
{
	struct dockerfile d;
	struct berr *err = NULL;
	if (dockerfile_parse("Dockerfile", text, strlen(text), &d, &err) < 0)
		fail_msg("parse: %s", err->msg);
	return d;
}

static char *parse_error(const char *text)
{
	struct dockerfile d;
	struct berr *err = NULL;
	if (dockerfile_parse("Dockerfile", text, strlen(text), &d, &err) == 0) {
		dockerfile_free(&d);
		fail_msg("expected an error for: %s", text);
	}
	char *msg = xstrdup(err->msg);
	berr_free(err);
	return msg;
}

static void instructions_and_forms(void **state)
{
	struct dockerfile d = parse_ok("# syntax=docker/dockerfile:1.7\n"
				       "# a comment\n"
				       "ARG BASE=busybox\n"
				       "from ${BASE} AS build\n"
				       "RUN --mount=type=cache,target=/c --network=none echo \\\n"
				       "  # a comment inside is dropped\n"
				       "  hi \\\n"
				       "  there\n"
				       "CMD [\"sh\", \"-c\", \"echo x\"]\n"
				       "ENTRYPOINT [not json\n"
				       "COPY --from=build --chown=1:1 a b /dst/\n");
	assert_string_equal(d.syntax, "docker/dockerfile:1.7");
	assert_int_equal(d.escape, '\\');
	assert_int_equal(d.n, 6);
	assert_string_equal(d.instrs[0].cmd, "ARG");
	assert_int_equal(d.instrs[0].line, 3);
	assert_string_equal(d.instrs[1].cmd, "FROM");
	assert_string_equal(d.instrs[1].rest, "${BASE} AS build");
	struct df_instr *run = &d.instrs[2];
	assert_int_equal(run->line, 5);
	assert_int_equal(strv_len(run->flags), 2);
	assert_string_equal(run->flags[0], "--mount=type=cache,target=/c");
	assert_string_equal(run->flags[1], "--network=none");
	assert_string_equal(run->rest, "echo   hi   there");
	assert_false(run->exec_form);
	assert_true(d.instrs[3].exec_form);
	assert_int_equal(strv_len(d.instrs[3].argv), 3);
	assert_string_equal(d.instrs[3].argv[2], "echo x");
	assert_false(d.instrs[4].exec_form); /* invalid JSON: the shell form, as Docker reads it */
	assert_string_equal(d.instrs[5].flags[1], "--chown=1:1");
	assert_string_equal(d.instrs[5].rest, "a b /dst/");
	dockerfile_free(&d);
}

static void escape_directive(void **state)
{
	struct dockerfile d = parse_ok("# escape=`\nFROM scratch\nRUN dir c:\\ `\n  && echo done\n");
	assert_int_equal(d.escape, '`');
	assert_string_equal(d.instrs[1].rest, "dir c:\\   && echo done");
	dockerfile_free(&d);
	/* a directive after a comment is only a comment */
	d = parse_ok("# hello\n# escape=`\nFROM scratch\nRUN a \\\n b\n");
	assert_int_equal(d.escape, '\\');
	assert_string_equal(d.instrs[1].rest, "a  b");
	dockerfile_free(&d);
	char *e = parse_error("# escape=x\nFROM scratch\n");
	assert_non_null(strstr(e, "Dockerfile:1: escape must be"));
	free(e);
}

static void heredocs(void **state)
{
	struct dockerfile d = parse_ok("FROM busybox\n"
				       "RUN <<EOF\n"
				       "echo one\n"
				       "echo $HOME\n"
				       "EOF\n"
				       "COPY <<-\"A\" /a <<B /b\n"
				       "\t\tfirst\n"
				       "\tA\n"
				       "second\n"
				       "B\n"
				       "RUN cat <<< here-string\n"
				       "CMD [\"true\"]\n");
	assert_int_equal(d.n, 5);
	struct df_instr *run = &d.instrs[1];
	assert_int_equal(run->nheredocs, 1);
	assert_string_equal(run->heredocs[0].name, "EOF");
	assert_string_equal(run->heredocs[0].body, "echo one\necho $HOME\n");
	assert_true(run->heredocs[0].expand);
	struct df_instr *copy = &d.instrs[2];
	assert_int_equal(copy->line, 6);
	assert_int_equal(copy->nheredocs, 2);
	assert_string_equal(copy->heredocs[0].body, "first\n");
	assert_false(copy->heredocs[0].expand);
	assert_true(copy->heredocs[0].chomp_tabs);
	assert_string_equal(copy->heredocs[1].body, "second\n");
	assert_int_equal(d.instrs[3].nheredocs, 0);
	assert_int_equal(d.instrs[4].line, 12);
	dockerfile_free(&d);
	char *e = parse_error("FROM busybox\nRUN <<EOF\necho never ends\n");
	assert_non_null(strstr(e, "Dockerfile:2: RUN: the heredoc <<EOF never ends"));
	free(e);
}

static void errors(void **state)
{
	char *e = parse_error("FROM busybox\nFOO bar\n");
	assert_string_equal(e, "Dockerfile:2: unknown instruction FOO");
	free(e);
	e = parse_error("RUN echo\nFROM busybox\n");
	assert_non_null(strstr(e, "Dockerfile:1: RUN: comes before the first FROM"));
	free(e);
	e = parse_error("FROM busybox\nWORKDIR\n");
	assert_non_null(strstr(e, "Dockerfile:2: WORKDIR: needs an argument"));
	free(e);
	e = parse_error("# only a comment\n\n");
	assert_non_null(strstr(e, "has no instructions"));
	free(e);
}

static const char *vars(void *data, const char *name)
{
	if (streq(name, "A"))
		return "apple";
	if (streq(name, "EMPTY"))
		return "";
	if (streq(name, "SP"))
		return "two words";
	return NULL;
}

static char *word(const char *s)
{
	char *out = NULL;
	struct berr *err = NULL;
	if (df_word(s, '\\', vars, NULL, &out, &err) < 0)
		fail_msg("%s: %s", s, err->msg);
	return out;
}

static void expansion(void **state)
{
	static const char *const cases[][2] = {
		{"$A", "apple"},
		{"${A}s", "apples"},
		{"$NONE-x", "-x"},
		{"${NONE:-dflt}", "dflt"},
		{"${EMPTY:-dflt}", "dflt"},
		{"${EMPTY-dflt}", ""},
		{"${NONE-dflt}", "dflt"},
		{"${A:+set}", "set"},
		{"${EMPTY:+set}", ""},
		{"${EMPTY+set}", "set"},
		{"${NONE:-$A}", "apple"},
		{"\\$A", "$A"},
		{"'$A'", "$A"},
		{"\"$A\"", "apple"},
		{"\"\\$A\"", "$A"},
		{"a\\ b", "a b"},
		{"$", "$"},
		{"100$", "100$"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *w = word(cases[i][0]);
		if (!streq(w, cases[i][1]))
			fail_msg("%s gave \"%s\", not \"%s\"", cases[i][0], w, cases[i][1]);
		free(w);
	}
	char **ws = NULL;
	struct berr *err = NULL;
	assert_int_equal(df_words("A=$A B=\"x y\" C='$SP' D=$SP \"$SP\" $EMPTY", '\\', vars, NULL, &ws, &err), 0);
	assert_int_equal(strv_len(ws), 6); /* an unquoted expansion splits as in a shell; an empty one is no word */
	assert_string_equal(ws[0], "A=apple");
	assert_string_equal(ws[1], "B=x y");
	assert_string_equal(ws[2], "C=$SP");
	assert_string_equal(ws[3], "D=two");
	assert_string_equal(ws[4], "words");
	assert_string_equal(ws[5], "two words");
	strv_free(ws);
	char *out = NULL;
	assert_true(df_word("\"open", '\\', vars, NULL, &out, &err) < 0);
	assert_non_null(strstr(err->msg, "unclosed quote"));
	berr_free(err);
	err = NULL;
	assert_true(df_word("${A", '\\', vars, NULL, &out, &err) < 0);
	berr_free(err);
	err = NULL;
	assert_true(df_word("${A?x}", '\\', vars, NULL, &out, &err) < 0);
	assert_non_null(strstr(err->msg, "unsupported modifier"));
	berr_free(err);
	/* without a lookup nothing expands */
	assert_int_equal(df_word("$A \"b\"", '\\', NULL, NULL, &out, NULL), 0);
	assert_string_equal(out, "$A b");
	free(out);
}

static void stages(void **state)
{
	struct dockerfile d = parse_ok(
		"ARG BASE=busybox\n"
		"ARG TAG\n"
		"ARG PLAT=linux/amd64\n"
		"FROM --platform=$PLAT ${BASE}:${TAG:-1} AS Deps\n"
		"RUN echo deps\n"
		"FROM deps AS build\n"
		"RUN --mount=type=cache,target=/c --mount=type=bind,from=tools,source=/x,target=/x make\n"
		"COPY --from=0 /a /a\n"
		"FROM busybox AS unused\n"
		"RUN true\n"
		"FROM scratch\n"
		"COPY --from=build /out /out\n"
		"COPY --from=other/image:2 /b /b\n");
	struct df_stage *s = NULL;
	size_t n = 0;
	struct berr *err = NULL;
	char *args[] = {"TAG=2", "UNUSED=x", NULL};
	assert_int_equal(df_stages(&d, args, &s, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(s[0].name, "deps"); /* names are case-insensitive, as Docker's */
	assert_string_equal(s[0].base, "busybox:2");
	assert_string_equal(s[0].platform, "linux/amd64");
	assert_int_equal(s[0].base_stage, -1);
	assert_int_equal(s[0].first, 3);
	assert_int_equal(s[0].last, 4);
	assert_int_equal(s[1].base_stage, 0);
	assert_int_equal(s[1].ndeps, 1);              /* deps, by name and by index: one dependency */
	assert_string_equal(s[1].images[0], "tools"); /* a mount from an image */
	assert_null(s[3].name);
	assert_int_equal(s[3].ndeps, 1);
	assert_int_equal(s[3].deps[0], 1);
	assert_string_equal(s[3].images[0], "other/image:2");
	bool need[4];
	assert_int_equal(df_needed(&d, s, n, NULL, need, &err), 0);
	assert_true(need[0] && need[1] && !need[2] && need[3]); /* only what the last stage needs */
	assert_int_equal(df_needed(&d, s, n, "UNUSED", need, &err), 0);
	assert_true(!need[0] && !need[1] && need[2] && !need[3]);
	assert_true(df_needed(&d, s, n, "nope", need, &err) < 0);
	assert_string_equal(err->msg, "Dockerfile: target stage \"nope\" could not be found");
	berr_free(err);
	err = NULL;
	df_stages_free(s, n);
	dockerfile_free(&d);
	static const char *const bad[][2] = {
		{"FROM a AS x\nFROM b AS X\n", "Dockerfile:2: FROM: a stage of that name exists already: X"},
		{"FROM a AS x y\n", "Dockerfile:1: FROM: expects IMAGE [AS NAME]"},
		{"ARG B\nFROM $B\n", "Dockerfile:2: FROM: names no image (is an ARG empty?)"},
		{"FROM a\nCOPY --from=0 /x /y\n", "Dockerfile:2: COPY: --from names no earlier stage: 0"},
		{"FROM a\nCOPY --from=5 /x /y\n", "Dockerfile:2: COPY: --from names no earlier stage: 5"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		d = parse_ok(bad[i][0]);
		if (df_stages(&d, NULL, &s, &n, &err) == 0)
			fail_msg("no error for %s", bad[i][0]);
		if (!strstr(err->msg, bad[i][1]))
			fail_msg("%s: %s", bad[i][0], err->msg);
		berr_free(err);
		err = NULL;
		dockerfile_free(&d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(instructions_and_forms),
		cmocka_unit_test(escape_directive),
		cmocka_unit_test(heredocs),
		cmocka_unit_test(errors),
		cmocka_unit_test(expansion),
		cmocka_unit_test(stages),
	};
	return cmocka_run_group_tests_name("dockerfile", tests, NULL, NULL);
}
