/* build --check: BuildKit's Dockerfile checks that need no build, each
 * warning as "NAME:LINE: Rule: what" (rule names as BuildKit's). */
#ifndef BERTH_BUILD_LINT_H
#define BERTH_BUILD_LINT_H

#include "dockerfile.h"

/* The warnings of a parsed Dockerfile (an empty list when none). */
char **df_lint(const struct dockerfile *d);

#endif
