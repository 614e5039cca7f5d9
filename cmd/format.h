/* --format as docker takes it: "table" (the command's own table), "json"
 * (one object per line), or a Go template over the row's fields:
 * {{.Field}}, {{json .}}, {{json .Field}}, {{upper .Field}}, {{lower .Field}},
 * with \t and \n, and "table TEMPLATE" for aligned columns under a header.
 * Anything else a Go template can do is refused by name, never ignored. */
#ifndef BERTH_FORMAT_H
#define BERTH_FORMAT_H

#include <jansson.h>

#include "../lib/err.h"

enum format_kind { FORMAT_TABLE, FORMAT_JSON, FORMAT_TEMPLATE };

struct format {
	enum format_kind kind;
	bool header; /* "table TEMPLATE" */
	char *tmpl;  /* \t and \n made real */
};

/* arg NULL or "table": the command's table. fields: the names a template
 * may use (NULL-terminated). */
int format_parse(const char *arg, const char *const *fields, struct format *f, struct berr **err);
/* format_parse for a command's --format: -1 to go on, or the usage error's
 * exit code (2), said. */
int format_flag(const char *cmd, const char *arg, const char *const *fields, struct format *f);
/* Print rows (an array of objects) as f says; FORMAT_TABLE is the caller's. */
void format_print(const struct format *f, json_t *rows);
void format_free(struct format *f);

#endif
