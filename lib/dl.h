/* Libraries loaded when first needed rather than linked: each linked one
 * costs every berth command page faults and relocations at start, also
 * the commands that never use it. */
#ifndef BERTH_DL_H
#define BERTH_DL_H

#include <stddef.h>

#include "err.h"

/* Opens the first of sonames (NULL-terminated) that loads and resolves the
 * n symbols names[] into fns[]. package names what to install when none
 * loads. */
int dl_load(const char *const *sonames, const char *package, const char *const *names, void **fns, size_t n,
	    struct berr **err);

#endif
