#include <stdio.h>

#include "cli.h"
#include "../lib/json.h"
#include "format.h"

int cmd_version(struct global_opts *g, int argc, char **argv)
{
	bool short_ = false;
	const char *format = NULL;
	char **pos = NULL;
	const struct flag flags[] = {
		{"short", 0, FLAG_BOOL, &short_, NULL, "Print only the version number"},
		{"format", 'f', FLAG_STR, &format, "FORMAT",
		 "pretty (default), json or a template such as '{{.Version}}'"},
	};
	static const char *const fields[] = {"Version", NULL};
	int rc = cmd_flags("version", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth version [OPTIONS]",
			   "Show the berth version.");
	_cleanup_(strv_freep) char **args = pos;
	struct format fmt = {0};
	if (rc < 0 && args && args[0])
		rc = usage_error("version", "version takes no arguments");
	if (rc < 0)
		rc = format_flag("version", format && streq(format, "pretty") ? NULL : format, fields, &fmt);
	if (rc >= 0)
		return rc;
	if (short_) {
		printf("%s\n", BERTH_VERSION);
	} else if (fmt.kind == FORMAT_JSON) {
		printf("{\"version\":\"%s\"}\n", BERTH_VERSION);
	} else if (fmt.kind == FORMAT_TEMPLATE) {
		_cleanup_(json_releasep) json_t *rows = json_pack("[{s:s}]", "Version", BERTH_VERSION);
		format_print(&fmt, rows);
	} else {
		printf("berth version %s\n", BERTH_VERSION);
	}
	format_free(&fmt);
	return 0;
}
