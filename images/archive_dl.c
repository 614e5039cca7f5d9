#define ARCHIVE_DL_IMPL
#include "archive_dl.h"

#include "../lib/dl.h"
#include "../lib/util.h"

struct archive_dl archive_dl;

int archive_dl_load(struct berr **err)
{
	static bool loaded;
	if (loaded)
		return 0;
	static const char *const sonames[] = {"libarchive.so.13", "libarchive.so", NULL};
	static const char *const names[] = {
#define ARCHIVE_DL_NAME(f) #f,
		ARCHIVE_DL_FUNCS(ARCHIVE_DL_NAME)
#undef ARCHIVE_DL_NAME
	};
	void *fns[ARRAY_SIZE(names)];
	int r = dl_load(sonames, "libarchive13 3.6 or later", names, fns, ARRAY_SIZE(names), err);
	if (r < 0)
		return r;
	size_t i = 0;
#define ARCHIVE_DL_SET(f) *(void **)&archive_dl.f = fns[i++];
	ARCHIVE_DL_FUNCS(ARCHIVE_DL_SET)
#undef ARCHIVE_DL_SET
	loaded = true;
	return 0;
}
