#define ARCHIVE_DL_IMPL
#include "archive_dl.h"

#include "../lib/dl.h"

struct archive_dl archive_dl;

DL_LOADER(archive_dl_load, archive_dl, ARCHIVE_DL_FUNCS, "libarchive13 3.6 or later", "libarchive.so.13",
	  "libarchive.so")
