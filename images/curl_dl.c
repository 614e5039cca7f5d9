#define CURL_DL_IMPL
#include "curl_dl.h"

#include <errno.h>

#include "../lib/dl.h"

struct curl_dl curl_dl;

static DL_LOADER(curl_lib_load, curl_dl, CURL_DL_FUNCS, "libcurl4 7.83 or later", "libcurl.so.4", "libcurl-gnutls.so.4",
		 "libcurl.so")

	int curl_dl_load(struct berr **err)
{
	static bool initialized;
	int r = curl_lib_load(err);
	if (r < 0 || initialized)
		return r;
	if (curl_dl.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return berr_set(err, EIO, "libcurl could not be initialized");
	initialized = true;
	return 0;
}
