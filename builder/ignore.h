/* .dockerignore (and Dockerfile.dockerignore) as Docker reads it: one
 * pattern a line, # comments, Go's filepath.Match syntax (* ? [class] and
 * escapes) with ** for any number of directories, ! for exceptions; the
 * last pattern that matches a path or one of its parent directories
 * decides. */
#ifndef BERTH_IGNORE_H
#define BERTH_IGNORE_H

#include <stdbool.h>

#include "../lib/err.h"

struct ignore {
	char **patterns; /* cleaned: no leading "/", no "./", no trailing "/" */
	bool *except;    /* the pattern began with ! */
	size_t n;
};

/* The patterns of a .dockerignore's text; name names it in errors (a
 * malformed [class]). */
int ignore_parse(const char *name, const char *text, struct ignore *out, struct berr **err);
void ignore_free(struct ignore *ig);
/* Whether path (relative to the context, "a/b/c") is left out. */
bool ignore_excludes(const struct ignore *ig, const char *path);
/* Go's filepath.Match with ** (any run of directories): whether pattern
 * matches all of path. */
bool ignore_match(const char *pattern, const char *path);

#endif
