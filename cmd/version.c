#include <stdio.h>

#include "cli.h"

int cmd_version(struct global_opts *g, int argc, char **argv)
{
	bool short_ = false, help = false;
	const char *format = NULL;
	const struct flag flags[] = {
		{"short", 0, FLAG_BOOL, &short_, NULL, "Print only the version number"},
		{"format", 'f', FLAG_STR, &format, "FORMAT", "pretty or json"},
		{"help", 'h', FLAG_BOOL, &help, NULL, "Show this help"},
	};
	int i = 1;
	struct berr *err = NULL;
	if (flags_parse(flags, ARRAY_SIZE(flags), argc, argv, &i, false, NULL, &err) < 0) {
		int rc = usage_error("version", err->msg);
		berr_free(err);
		return rc;
	}
	if (help) {
		printf("Usage: berth version [OPTIONS]\n\nShow the berth version.\n\nOptions:\n");
		flags_usage(stdout, flags, ARRAY_SIZE(flags));
		return 0;
	}
	if (short_)
		printf("%s\n", BERTH_VERSION);
	else if (format && streq(format, "json"))
		printf("{\"version\":\"%s\"}\n", BERTH_VERSION);
	else
		printf("berth version %s\n", BERTH_VERSION);
	return 0;
}
