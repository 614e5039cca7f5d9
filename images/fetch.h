/* Downloading one file over HTTP(S) with libcurl, for ADD of a URL: TLS
 * verified, the proxies of berth's configuration, a size bound. */
#ifndef BERTH_FETCH_H
#define BERTH_FETCH_H

#include <stdint.h>
#include <time.h>

#include "../lib/err.h"

/* Writes what url answers into fd (at most max bytes); *mtime gets its
 * Last-Modified (0 when it has none), *digest "sha256:<hex>" of it. */
int http_fetch(const char *url, int fd, uint64_t max, time_t *mtime, char digest[72], struct berr **err);

#endif
