#define ARCHIVE_DL_IMPL
#include "archive_dl.h"

#include <dlfcn.h>
#include <errno.h>

struct archive_dl archive_dl;

int archive_dl_load(struct berr **err)
{
	static bool loaded;
	if (loaded)
		return 0;
	void *lib = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		lib = dlopen("libarchive.so", RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return berr_set(err, ENOENT, "cannot load libarchive (install libarchive13): %s", dlerror());
#define ARCHIVE_DL_SYM(f)                                                                                              \
	if (!(*(void **)&archive_dl.f = dlsym(lib, #f)))                                                               \
		return berr_set(err, ENOENT, "libarchive has no %s; berth needs libarchive 3.6 or later", #f);
	ARCHIVE_DL_FUNCS(ARCHIVE_DL_SYM)
#undef ARCHIVE_DL_SYM
	loaded = true;
	return 0;
}
