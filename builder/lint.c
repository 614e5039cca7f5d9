#include "lint.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../lib/util.h"

/* The platform ARGs FROM lines have without a declaration. */
static const char *const automatic[] = {"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
					"BUILDPLATFORM",  "BUILDOS",  "BUILDARCH",  "BUILDVARIANT"};

struct lint {
	const struct dockerfile *d;
	char **out;
	char **meta; /* the ARGs declared before the first FROM */
};

static void warn(struct lint *l, const struct df_instr *ins, const char *rule, const char *fmt, ...) _printf_(4, 5);
static void warn(struct lint *l, const struct df_instr *ins, const char *rule, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *what = NULL;
	if (vasprintf(&what, fmt, ap) >= 0)
		strv_push(&l->out, xasprintf("%s:%d: %s: %s", l->d->name, ins->line, rule, what));
	free(what);
	va_end(ap);
}

/* $NAME and ${NAME…} in a FROM line that no ARG before FROM declares. */
static void from_args(struct lint *l, const struct df_instr *ins)
{
	for (const char *p = strchr(ins->rest, '$'); p; p = strchr(p + 1, '$')) {
		const char *s = p + 1 + (p[1] == '{');
		size_t n = 0;
		while (isalnum((unsigned char)s[n]) || s[n] == '_')
			n++;
		if (!n)
			continue;
		_cleanup_free_ char *name = xstrndup(s, n);
		bool known = strv_contains(l->meta, name);
		for (size_t i = 0; i < ARRAY_SIZE(automatic) && !known; i++)
			known = streq(automatic[i], name);
		if (!known)
			warn(l, ins, "UndefinedArgInFrom", "FROM argument '%s' is not declared", name);
	}
}

/* ARG and ENV names that say they hold a secret. */
static void secret_names(struct lint *l, const struct df_instr *ins)
{
	static const char *const words[] = {"password", "passwd",  "secret",      "token",
					    "apikey",   "api_key", "private_key", "credential"};
	char *copy = xstrdup(ins->rest);
	char *save = NULL;
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		w[strcspn(w, "=")] = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(words); i++)
			if (strcasestr(w, words[i])) {
				warn(l, ins, "SecretsUsedInArgOrEnv",
				     "Do not use ARG or ENV instructions for sensitive data (%s \"%s\"); use RUN "
				     "--mount=type=secret",
				     ins->cmd, w);
				break;
			}
		if (streq(ins->cmd, "ENV") && !strchr(ins->rest, '='))
			break; /* ENV key value: the rest is the value */
	}
	free(copy);
}

/* What the instructions of one stage say, the FROM at first. */
static void stage(struct lint *l, size_t first, size_t last)
{
	const struct df_instr *from = &l->d->instrs[first];
	from_args(l, from);
	const char *as = strcasestr(from->rest, " as ");
	if (as) {
		const char *name = as + 4 + strspn(as + 4, " \t");
		for (const char *c = name; *c && !isspace((unsigned char)*c); c++)
			if (isupper((unsigned char)*c)) {
				warn(l, from, "StageNameCasing", "Stage name '%.*s' should be lowercase",
				     (int)strcspn(name, " \t"), name);
				break;
			}
	}
	int cmds = 0, entries = 0, checks = 0;
	bool workdir = false;
	for (size_t i = first + 1; i <= last; i++) {
		const struct df_instr *ins = &l->d->instrs[i];
		const char *c = ins->cmd;
		if (streq(c, "MAINTAINER"))
			warn(l, ins, "MaintainerDeprecated",
			     "MAINTAINER instruction is deprecated in favor of using label");
		if ((streq(c, "CMD") || streq(c, "ENTRYPOINT")) && !ins->exec_form && ins->rest[0])
			warn(l, ins, "JSONArgsRecommended",
			     "JSON arguments recommended for %s to prevent unintended behavior related to OS signals",
			     c);
		if ((streq(c, "ENV") || streq(c, "LABEL")) && !strchr(ins->rest, '='))
			warn(l, ins, "LegacyKeyValueFormat",
			     "\"%s key=value\" should be used instead of legacy \"%s key value\" format", c, c);
		if (streq(c, "ENV") || streq(c, "ARG"))
			secret_names(l, ins);
		if (streq(c, "WORKDIR") && !workdir && ins->rest[0] != '/' && ins->rest[0] != '$')
			warn(l, ins, "WorkdirRelativePath",
			     "Relative workdir \"%s\" can have unexpected results if the base image changes",
			     ins->rest);
		workdir |= streq(c, "WORKDIR");
		int *count = streq(c, "CMD")           ? &cmds
			     : streq(c, "ENTRYPOINT")  ? &entries
			     : streq(c, "HEALTHCHECK") ? &checks
						       : NULL;
		if (count && ++*count == 2)
			warn(l, ins, "MultipleInstructionsDisallowed",
			     "Multiple %s instructions should not be used in the same stage because only the last one "
			     "will be used",
			     c);
	}
}

char **df_lint(const struct dockerfile *d)
{
	struct lint l = {.d = d, .out = xcalloc(1, sizeof(char *)), .meta = xcalloc(1, sizeof(char *))};
	size_t i = 0;
	for (; i < d->n && !streq(d->instrs[i].cmd, "FROM"); i++) {
		char *copy = xstrdup(d->instrs[i].rest);
		char *save = NULL;
		for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
			strv_push(&l.meta, xstrndup(w, strcspn(w, "=")));
		free(copy);
	}
	while (i < d->n) {
		size_t last = i;
		while (last + 1 < d->n && !streq(d->instrs[last + 1].cmd, "FROM"))
			last++;
		stage(&l, i, last);
		i = last + 1;
	}
	strv_free(l.meta);
	return l.out;
}
