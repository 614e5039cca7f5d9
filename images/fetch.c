#include "fetch.h"

#include <errno.h>
#include <unistd.h>

#include "../lib/sha256.h"
#include "../lib/util.h"
#include "curl_dl.h"
#include "registry.h"

struct sink {
	int fd;
	uint64_t got, max;
	struct sha256 h;
	bool failed;
};

static size_t to_fd(char *data, size_t size, size_t n, void *user)
{
	struct sink *k = user;
	size_t len = size * n;
	if (k->got + len > k->max)
		return 0;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(k->fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			k->failed = true;
			return 0;
		}
		off += (size_t)w;
	}
	sha256_add(&k->h, data, len);
	k->got += len;
	return len;
}

int http_fetch(const char *url, int fd, uint64_t max, time_t *mtime, char digest[72], struct berr **err)
{
	if (curl_dl_load(err) < 0)
		return -EIO;
	CURL *h = curl_easy_init();
	if (!h)
		return berr_set(err, ENOMEM, "cannot make an HTTP client");
	_cleanup_free_ char *http = NULL, *https = NULL, *no_proxy = NULL;
	registry_proxies(&http, &https, &no_proxy);
	bool tls = startswith(url, "https://");
	struct sink k = {.fd = fd, .max = max};
	sha256_begin(&k.h);
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "berth");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, tls ? "https" : "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
	curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	if (tls ? https : http)
		curl_easy_setopt(h, CURLOPT_PROXY, tls ? https : http);
	if (no_proxy)
		curl_easy_setopt(h, CURLOPT_NOPROXY, no_proxy);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_fd);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &k);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	CURLcode c = curl_easy_perform(h);
	long ft = -1;
	curl_easy_getinfo(h, CURLINFO_FILETIME, &ft);
	int r = 0;
	if (c != CURLE_OK && k.got >= max)
		r = berr_set(err, EFBIG, "%s is larger than %llu bytes", url, (unsigned long long)max);
	else if (c != CURLE_OK && k.failed)
		r = berr_sys(err, EIO, "cannot write what %s sent", url);
	else if (c != CURLE_OK)
		r = berr_set(err, EIO, "cannot fetch %s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(c));
	curl_easy_cleanup(h);
	*mtime = ft > 0 ? (time_t)ft : 0;
	char hex[65];
	sha256_hex(&k.h, hex);
	snprintf(digest, 72, "sha256:%s", hex);
	return r;
}
