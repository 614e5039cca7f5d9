#include <errno.h>
#include <stdio.h>

#include "cli.h"

static const struct flag *find_long(const struct flag *flags, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0)
			return &flags[i];
	return NULL;
}

static const struct flag *find_short(const struct flag *flags, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (flags[i].short_name == c)
			return &flags[i];
	return NULL;
}

static void store(const struct flag *f, const char *value)
{
	if (f->kind == FLAG_BOOL)
		*(bool *)f->dst = true;
	else if (f->kind == FLAG_STR)
		*(const char **)f->dst = value;
	else
		strv_push((char ***)f->dst, xstrdup(value));
}

static int unknown(const struct flag *flags, size_t n, const char *arg, struct berr **err)
{
	const char *names[64];
	size_t k = 0;
	for (size_t i = 0; i < n && k < ARRAY_SIZE(names); i++)
		names[k++] = flags[i].name;
	const char *word = arg;
	while (*word == '-')
		word++;
	_cleanup_free_ char *bare = xstrndup(word, strcspn(word, "="));
	const char *near = str_nearest(bare, names, k);
	if (near)
		return berr_set(err, EINVAL, "unknown flag: %s (did you mean --%s?)", arg, near);
	return berr_set(err, EINVAL, "unknown flag: %s", arg);
}

static int take_value(const struct flag *f, const char *inline_value, int argc, char **argv, int *i, struct berr **err)
{
	if (f->kind == FLAG_BOOL) {
		/* --flag=true or --flag=false, as Go's flags take them */
		bool on = !inline_value || streq(inline_value, "true") || streq(inline_value, "1");
		if (inline_value && !on && !streq(inline_value, "false") && !streq(inline_value, "0"))
			return berr_set(err, EINVAL, "flag --%s takes true or false, not %s", f->name, inline_value);
		*(bool *)f->dst = on;
		return 0;
	}
	if (inline_value) {
		store(f, inline_value);
		return 0;
	}
	if (*i + 1 >= argc)
		return berr_set(err, EINVAL, "flag --%s needs a value (%s)", f->name, f->arg ? f->arg : "VALUE");
	store(f, argv[++*i]);
	return 0;
}

static int parse_short(const struct flag *flags, size_t n, int argc, char **argv, int *i, struct berr **err)
{
	const char *a = argv[*i];
	for (size_t k = 1; a[k]; k++) {
		const struct flag *f = find_short(flags, n, a[k]);
		if (!f) {
			_cleanup_free_ char *one = xasprintf("-%c", a[k]);
			return unknown(flags, n, one, err);
		}
		if (f->kind != FLAG_BOOL)
			return take_value(f, a[k + 1] ? a + k + 1 : NULL, argc, argv, i, err);
		store(f, NULL);
	}
	return 0;
}

int flags_parse(const struct flag *flags, size_t n, int argc, char **argv, int *i, bool stop_early, char ***pos,
		struct berr **err)
{
	for (; *i < argc; ++*i) {
		const char *a = argv[*i];
		if (streq(a, "--")) {
			for (++*i; pos && *i < argc; ++*i)
				strv_push(pos, xstrdup(argv[*i]));
			return 0;
		}
		if (a[0] != '-' || streq(a, "-")) {
			if (stop_early)
				return 0;
			if (pos)
				strv_push(pos, xstrdup(a));
			continue;
		}
		int r;
		if (a[1] == '-') {
			const char *eq = strchr(a, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			const struct flag *f = find_long(flags, n, a + 2, len);
			r = f ? take_value(f, eq ? eq + 1 : NULL, argc, argv, i, err) : unknown(flags, n, a, err);
		} else {
			r = parse_short(flags, n, argc, argv, i, err);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

void flags_usage(FILE *out, const struct flag *flags, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char left[64];
		snprintf(left, sizeof(left), "%s%c%s--%s %s", flags[i].short_name ? "-" : "",
			 flags[i].short_name ? flags[i].short_name : ' ', flags[i].short_name ? ", " : "  ",
			 flags[i].name,
			 flags[i].kind == FLAG_BOOL ? ""
			 : flags[i].arg             ? flags[i].arg
						    : "VALUE");
		fprintf(out, "  %-34s %s\n", left[0] == ' ' ? left + 1 : left, flags[i].help);
	}
}

/* Every command's flags, with -h, --help added: the help is printed here. */
static int subcommand_flags(const char *cmd, const struct flag *flags, size_t n, int argc, char **argv, bool stop,
			    char ***pos, const char *usage_line, const char *summary)
{
	bool help = false;
	struct flag *all = xcalloc(n + 1, sizeof(*all));
	if (n)
		memcpy(all, flags, n * sizeof(*flags));
	all[n] = (struct flag){"help", 'h', FLAG_BOOL, &help, NULL, "Show this help"};
	int i = 1, rc = -1;
	struct berr *err = NULL;
	if (flags_parse(all, n + 1, argc, argv, &i, stop, stop ? NULL : pos, &err) < 0) {
		rc = usage_error(cmd, err->msg);
		berr_free(err);
	} else if (help) {
		printf("Usage: %s\n\n%s\n\nOptions:\n", usage_line, summary);
		flags_usage(stdout, all, n + 1);
		rc = 0;
	}
	for (; rc < 0 && stop && i < argc; i++)
		strv_push(pos, xstrdup(argv[i]));
	free(all);
	return rc;
}

int cmd_flags(const char *cmd, const struct flag *flags, size_t n, int argc, char **argv, char ***pos,
	      const char *usage_line, const char *summary)
{
	return subcommand_flags(cmd, flags, n, argc, argv, false, pos, usage_line, summary);
}

int cmd_flags_stop(const char *cmd, const struct flag *flags, size_t n, int argc, char **argv, char ***pos,
		   const char *usage_line, const char *summary)
{
	return subcommand_flags(cmd, flags, n, argc, argv, true, pos, usage_line, summary);
}
