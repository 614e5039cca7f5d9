#include "dl.h"

#include <dlfcn.h>
#include <errno.h>

int dl_load(const char *const *sonames, const char *package, const char *const *names, void **fns, size_t n,
	    struct berr **err)
{
	void *lib = NULL;
	for (size_t i = 0; sonames[i] && !lib; i++)
		lib = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return berr_set(err, ENOENT, "cannot load %s (install %s): %s", sonames[0], package, dlerror());
	for (size_t i = 0; i < n; i++)
		if (!(fns[i] = dlsym(lib, names[i])))
			return berr_set(err, ENOENT, "%s has no %s; install a newer %s", sonames[0], names[i], package);
	return 0;
}
