#define CURL_DL_IMPL
#include "curl_dl.h"

#include <errno.h>

#include "../lib/dl.h"
#include "../lib/util.h"

struct curl_dl curl_dl;

int curl_dl_load(struct berr **err)
{
	static bool loaded;
	if (loaded)
		return 0;
	static const char *const sonames[] = {"libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so", NULL};
	static const char *const names[] = {
#define CURL_DL_NAME(f) #f,
		CURL_DL_FUNCS(CURL_DL_NAME)
#undef CURL_DL_NAME
	};
	void *fns[ARRAY_SIZE(names)];
	int r = dl_load(sonames, "libcurl4 7.83 or later", names, fns, ARRAY_SIZE(names), err);
	if (r < 0)
		return r;
	size_t i = 0;
#define CURL_DL_SET(f) *(void **)&curl_dl.f = fns[i++];
	CURL_DL_FUNCS(CURL_DL_SET)
#undef CURL_DL_SET
	if (curl_dl.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return berr_set(err, EIO, "libcurl could not be initialized");
	loaded = true;
	return 0;
}
