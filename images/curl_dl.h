/* libcurl, loaded when berth first talks to a registry rather than linked:
 * with TLS, HTTP/2, IDN, LDAP and more behind it, linking it would cost
 * every berth command its relocations, and only pulling needs it. Include
 * this instead of <curl/curl.h>; call curl_dl_load() before the first
 * curl_* call (the names below go through the loaded library). */
#ifndef BERTH_CURL_DL_H
#define BERTH_CURL_DL_H

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "../lib/err.h"

#define CURL_DL_FUNCS(X)            \
	X(curl_easy_cleanup)        \
	X(curl_easy_getinfo)        \
	X(curl_easy_header)         \
	X(curl_easy_init)           \
	X(curl_easy_perform)        \
	X(curl_easy_reset)          \
	X(curl_easy_setopt)         \
	X(curl_easy_strerror)       \
	X(curl_global_init)         \
	X(curl_multi_add_handle)    \
	X(curl_multi_cleanup)       \
	X(curl_multi_info_read)     \
	X(curl_multi_init)          \
	X(curl_multi_perform)       \
	X(curl_multi_poll)          \
	X(curl_multi_remove_handle) \
	X(curl_slist_append)        \
	X(curl_slist_free_all)

struct curl_dl {
#define CURL_DL_FIELD(f) __typeof__(&f) f;
	CURL_DL_FUNCS(CURL_DL_FIELD)
#undef CURL_DL_FIELD
};
extern struct curl_dl curl_dl;

/* Loads libcurl (7.83 or later: curl_easy_header) and initializes it. */
int curl_dl_load(struct berr **err);

/* curl.h wraps these two in function-like macros of the same name */
#undef curl_easy_setopt
#undef curl_easy_getinfo

#ifndef CURL_DL_IMPL
#define curl_easy_cleanup curl_dl.curl_easy_cleanup
#define curl_easy_getinfo curl_dl.curl_easy_getinfo
#define curl_easy_header curl_dl.curl_easy_header
#define curl_easy_init curl_dl.curl_easy_init
#define curl_easy_perform curl_dl.curl_easy_perform
#define curl_easy_reset curl_dl.curl_easy_reset
#define curl_easy_setopt curl_dl.curl_easy_setopt
#define curl_easy_strerror curl_dl.curl_easy_strerror
#define curl_global_init curl_dl.curl_global_init
#define curl_multi_add_handle curl_dl.curl_multi_add_handle
#define curl_multi_cleanup curl_dl.curl_multi_cleanup
#define curl_multi_info_read curl_dl.curl_multi_info_read
#define curl_multi_init curl_dl.curl_multi_init
#define curl_multi_perform curl_dl.curl_multi_perform
#define curl_multi_poll curl_dl.curl_multi_poll
#define curl_multi_remove_handle curl_dl.curl_multi_remove_handle
#define curl_slist_append curl_dl.curl_slist_append
#define curl_slist_free_all curl_dl.curl_slist_free_all
#endif

#endif
