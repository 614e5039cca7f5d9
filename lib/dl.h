/* Libraries loaded when first needed rather than linked: each linked one
 * costs every berth command page faults and relocations at start, also
 * the commands that never use it. */
#ifndef BERTH_DL_H
#define BERTH_DL_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Opens the first of sonames (NULL-terminated) that loads and resolves the
 * n symbols names[] into fns[]. package names what to install when none
 * loads. */
int dl_load(const char *const *sonames, const char *package, const char *const *names, void **fns, size_t n,
	    struct berr **err);

/* Defines `int FN(struct berr **err)`: fills the struct VAR (one function
 * pointer per entry of FUNCS, an X-macro list) from the first of the
 * sonames that loads, once; PACKAGE is what to install when none does. */
#define DL_LOADER(FN, VAR, FUNCS, PACKAGE, ...)                                                       \
	int FN(struct berr **err)                                                                     \
	{                                                                                             \
		static bool loaded;                                                                   \
		static const char *const sonames[] = {__VA_ARGS__, NULL};                             \
		static const char *const names[] = {FUNCS(DL_NAME_)};                                 \
		void *fns[sizeof(names) / sizeof(names[0])];                                          \
		__typeof__(VAR) *to = &VAR;                                                           \
		size_t i = 0;                                                                         \
		if (loaded)                                                                           \
			return 0;                                                                     \
		int r = dl_load(sonames, PACKAGE, names, fns, sizeof(names) / sizeof(names[0]), err); \
		if (r < 0)                                                                            \
			return r;                                                                     \
		FUNCS(DL_SET_)                                                                        \
		loaded = true;                                                                        \
		return 0;                                                                             \
	}
#define DL_NAME_(f) #f,
#define DL_SET_(f) *(void **)&to->f = fns[i++];

#endif
