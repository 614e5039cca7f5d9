#include "registry.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/json.h"
#include "../lib/buf.h"
#include "../lib/fs.h"
#include "../lib/util.h"
#include "auth.h"
#include "ref.h"
#include "curl_dl.h"

#define MANIFEST_MAX (4 << 20)
#define ATTEMPTS 4
#define RESUMES 5

struct registry {
	char *domain, *repo;
	char *base;    /* "https://host[:port]" or "http://…", what is used now */
	char **bases;  /* in order of trying: mirrors first, then the registry */
	size_t at;     /* which of bases */
	bool may_http; /* loopback, or named insecure */
	struct creds creds;
	bool have_creds;
	bool creds_read;
	char *token;                               /* a Bearer token for repository:repo:pull (and push) */
	bool push;                                 /* tokens are asked for push too */
	bool basic;                                /* the registry asked for Basic */
	bool auth_to_url;                          /* a token request: Basic credentials go to its realm */
	struct buf ca;                             /* the system's CAs and certs.d's, as one PEM blob */
	char *cert, *key;                          /* a client certificate from certs.d */
	char *proxy_http, *proxy_https, *no_proxy; /* "proxies" of berth's configuration */
	char *tls_error;                           /* why TLS failed before plain HTTP was tried */
	CURL *h;
};

const char *registry_host(const struct registry *r) { return r->base + (startswith(r->base, "https://") ? 8 : 7); }

/* ---- configuration ---- */

static json_t *berth_config(void)
{
	const char *p = getenv("BERTH_CONFIG");
	return json_load_file(p && p[0] ? p : "/etc/berth/config.json", 0, NULL);
}

void registry_proxies(char **http, char **https, char **no_proxy)
{
	/* as Docker's daemon.json has them (else libcurl's *_proxy variables apply) */
	_cleanup_(json_releasep) json_t *cfg = berth_config();
	json_t *px = json_object_get(cfg, "proxies");
	const char *v;
	if ((v = json_string_value(json_object_get(px, "http-proxy"))))
		*http = xstrdup(v);
	if ((v = json_string_value(json_object_get(px, "https-proxy"))))
		*https = xstrdup(v);
	if ((v = json_string_value(json_object_get(px, "no-proxy"))))
		*no_proxy = xstrdup(v);
}

static bool is_loopback(const char *host)
{
	struct in_addr a;
	if (streq(host, "localhost") || streq(host, "::1") || streq(host, "[::1]"))
		return true;
	return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

/* host without its port: "127.0.0.1:5000" -> "127.0.0.1". */
static char *host_only(const char *domain)
{
	if (domain[0] == '[')
		return xstrndup(domain, strcspn(domain, "]") + 1);
	return xstrndup(domain, strcspn(domain, ":"));
}

static bool in_cidr(const char *host, const char *cidr)
{
	const char *slash = strchr(cidr, '/');
	struct in_addr a, net;
	if (!slash || inet_pton(AF_INET, host, &a) != 1)
		return false;
	_cleanup_free_ char *ip = xstrndup(cidr, (size_t)(slash - cidr));
	int bits = atoi(slash + 1);
	if (inet_pton(AF_INET, ip, &net) != 1 || bits < 0 || bits > 32)
		return false;
	uint32_t mask = bits ? 0xffffffffu << (32 - bits) : 0;
	return (ntohl(a.s_addr) & mask) == (ntohl(net.s_addr) & mask);
}

static bool named_insecure(json_t *cfg, const char *domain)
{
	_cleanup_free_ char *host = host_only(domain);
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(cfg, "insecure-registries"), i, v)
	{
		const char *s = json_string_value(v);
		if (s && (streq(s, domain) || streq(s, host) || in_cidr(host, s)))
			return true;
	}
	return false;
}

/* The CAs: the system's bundle, and every *.crt of certs.d/<domain>; a
 * client certificate there (<name>.cert with <name>.key) as well. */
static void load_certs(struct registry *r)
{
	const char *top = getenv("BERTH_CERTS_DIR");
	_cleanup_free_ char *dir = path_join(top && top[0] ? top : "/etc/docker/certs.d", r->domain);
	_cleanup_(closedirp) DIR *d = opendir(dir);
	if (!d)
		return;
	char *text = NULL;
	size_t len;
	if (fs_read_file("/etc/ssl/certs/ca-certificates.crt", 16 << 20, &text, &len, NULL) == 0)
		buf_add(&r->ca, text, len);
	free(text);
	bool extra = false;
	for (struct dirent *e; (e = readdir(d));) {
		_cleanup_free_ char *p = path_join(dir, e->d_name);
		if (endswith(e->d_name, ".crt") && fs_read_file(p, 1 << 20, &text, &len, NULL) == 0) {
			buf_add(&r->ca, "\n", 1);
			buf_add(&r->ca, text, len);
			free(text);
			extra = true;
		} else if (endswith(e->d_name, ".cert") && !r->cert) {
			_cleanup_free_ char *stem = xstrndup(p, strlen(p) - 5);
			_cleanup_free_ char *key = xasprintf("%s.key", stem);
			if (fs_exists(key)) {
				r->cert = xstrdup(p);
				r->key = steal_ptr(&key);
			}
		}
	}
	if (!extra)
		buf_free(&r->ca);
}

int registry_open(const char *domain, const char *repo, struct registry **out, struct berr **err)
{
	if (curl_dl_load(err) < 0)
		return -EIO;
	struct registry *r = xcalloc(1, sizeof(*r));
	r->domain = xstrdup(ref_is_hub(domain) ? "docker.io" : domain);
	r->repo = xstrdup(repo);
	r->bases = xcalloc(1, sizeof(char *));
	json_t *cfg = berth_config();
	_cleanup_free_ char *host = host_only(domain);
	r->may_http = is_loopback(host) || named_insecure(cfg, domain);
	if (ref_is_hub(domain)) {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(cfg, "registry-mirrors"), i, v)
		{
			const char *m = json_string_value(v);
			if (m && (startswith(m, "https://") || startswith(m, "http://"))) {
				size_t n = strlen(m);
				strv_push(&r->bases, xstrndup(m, n && m[n - 1] == '/' ? n - 1 : n));
			}
		}
		strv_push(&r->bases, xstrdup("https://registry-1.docker.io"));
	} else {
		strv_push(&r->bases, xasprintf("https://%s", domain));
	}
	json_decref(cfg);
	registry_proxies(&r->proxy_http, &r->proxy_https, &r->no_proxy);
	r->base = xstrdup(r->bases[0]);
	load_certs(r);
	r->h = curl_easy_init();
	if (!r->h) {
		registry_close(r);
		return berr_set(err, ENOMEM, "cannot make an HTTP client");
	}
	*out = r;
	return 0;
}

void registry_close(struct registry *r)
{
	if (!r)
		return;
	if (r->h)
		curl_easy_cleanup(r->h);
	free(r->domain);
	free(r->repo);
	free(r->base);
	strv_free(r->bases);
	creds_free(&r->creds);
	if (r->token)
		explicit_bzero(r->token, strlen(r->token));
	free(r->token);
	buf_free(&r->ca);
	free(r->cert);
	free(r->key);
	free(r->proxy_http);
	free(r->proxy_https);
	free(r->no_proxy);
	free(r->tls_error);
	free(r);
}

/* ---- one HTTP exchange ---- */

struct resp {
	long status;
	struct buf body;
	size_t max;
	bool overflow;
	char *content_type, *challenge, *retry_after, *error, *location;
	CURLcode code;
};

/* What a request sends besides GET: a method, and a body from memory or
 * from a file (read from its start at each attempt). */
struct send {
	const char *method; /* "HEAD", "POST", "PUT" */
	const char *type;   /* Content-Type */
	const char *data;
	size_t len;
	int fd; /* > 0: the body is this file, of size bytes */
	uint64_t size;
};

static void resp_free(struct resp *x)
{
	buf_free(&x->body);
	free(x->content_type);
	free(x->challenge);
	free(x->retry_after);
	free(x->error);
	free(x->location);
	*x = (struct resp){0};
}

static size_t to_buf(char *data, size_t size, size_t n, void *user)
{
	struct resp *x = user;
	size_t len = size * n;
	if (x->body.len + len > x->max) {
		x->overflow = true;
		return 0;
	}
	buf_add(&x->body, data, len);
	return len;
}

static char *header_of(CURL *h, const char *name)
{
	struct curl_header *hd = NULL;
	if (curl_easy_header(h, name, 0, CURLH_HEADER, -1, &hd) != CURLHE_OK || !hd || !hd->value)
		return NULL;
	return xstrdup(hd->value);
}

/* TLS, redirects, timeouts and the credentials of the moment; curl sends
 * them to this registry's host only, never to where it redirects. */
static void common_opts(struct registry *r, CURL *h, const char *url, bool blob)
{
	curl_easy_setopt(h, CURLOPT_USERAGENT, "berth");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, startswith(r->base, "https://") ? "https" : "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, startswith(r->base, "https://") ? "https" : "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
	/* a transfer that stalls for 30 s is broken; a slow one is not */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
	if (!blob)
		curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	const char *proxy = startswith(r->base, "https://") ? r->proxy_https : r->proxy_http;
	if (proxy)
		curl_easy_setopt(h, CURLOPT_PROXY, proxy);
	if (r->no_proxy)
		curl_easy_setopt(h, CURLOPT_NOPROXY, r->no_proxy);
	if (r->ca.len) {
		struct curl_blob cb = {r->ca.s, r->ca.len, CURL_BLOB_NOCOPY};
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &cb);
	}
	if (r->cert) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, r->cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, r->key);
	}
	/* the registry's credentials go to the registry's own scheme, host
	 * and port only (and to the realm that issues its tokens): never to
	 * whatever host an upload's Location names */
	if (!r->auth_to_url && !auth_same_origin(url, r->base))
		return;
	if (r->token) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, r->token);
	} else if (r->basic && r->have_creds) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, r->creds.username);
		curl_easy_setopt(h, CURLOPT_PASSWORD, r->creds.password);
	}
}

static size_t from_fd(char *data, size_t size, size_t n, void *user)
{
	ssize_t got = read(*(int *)user, data, size * n);
	return got < 0 ? CURL_READFUNC_ABORT : (size_t)got;
}

/* The request's method and body (s may be NULL: GET). */
static void sending(CURL *h, const struct send *s, struct curl_slist **hdrs)
{
	if (!s)
		return;
	if (streq(s->method, "HEAD"))
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (s->fd > 0) {
		lseek(s->fd, 0, SEEK_SET);
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, from_fd);
		curl_easy_setopt(h, CURLOPT_READDATA, &s->fd);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)s->size);
	} else {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, s->data ? s->data : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->len);
	}
	if (!streq(s->method, "HEAD"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, s->method);
	if (s->type) {
		_cleanup_free_ char *t = xasprintf("Content-Type: %s", s->type);
		*hdrs = curl_slist_append(*hdrs, t);
	}
}

static void exchange_send(struct registry *r, const char *url, const char *accept, const struct send *s, struct resp *x)
{
	CURL *h = r->h;
	curl_easy_reset(h);
	common_opts(r, h, url, s && s->fd > 0);
	curl_easy_setopt(h, CURLOPT_URL, url);
	struct curl_slist *hdrs = NULL;
	if (accept) {
		_cleanup_free_ char *a = xasprintf("Accept: %s", accept);
		hdrs = curl_slist_append(hdrs, a);
	}
	sending(h, s, &hdrs);
	if (hdrs)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_buf);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	x->code = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x->status);
	x->content_type = header_of(h, "Content-Type");
	x->challenge = header_of(h, "WWW-Authenticate");
	x->retry_after = header_of(h, "Retry-After");
	x->location = header_of(h, "Location");
	if (x->code != CURLE_OK)
		x->error = xstrdup(errbuf[0] ? errbuf : curl_easy_strerror(x->code));
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hdrs);
}

static void exchange(struct registry *r, const char *url, const char *accept, const char *post, struct resp *x)
{
	struct send s = {.method = "POST", .data = post, .len = post ? strlen(post) : 0};
	exchange_send(r, url, accept, post ? &s : NULL, x);
}

/* ---- authentication ---- */

static void append_escaped(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr("-._~", c))
			buf_putc(b, (char)c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

static int read_creds(struct registry *r, struct berr **err)
{
	if (r->creds_read)
		return 0;
	r->creds_read = true;
	int f = auth_lookup(r->domain, &r->creds, err);
	if (f < 0)
		return f;
	r->have_creds = f > 0;
	return 0;
}

/* A Bearer token from the challenge's realm, with the credentials when
 * there are some (Basic to the realm, or an identity token by OAuth). */
static int fetch_token(struct registry *r, const struct challenge *c, struct berr **err)
{
	if (!c->realm || !(startswith(c->realm, "https://") || (r->may_http && startswith(c->realm, "http://"))))
		return berr_set(err, EPROTO, "%s asks for a token from %s, which berth does not use (not https)",
				registry_host(r), c->realm ? c->realm : "nowhere");
	struct buf url = {0}, form = {0};
	buf_printf(&url, "%s%s", c->realm, strchr(c->realm, '?') ? "&" : "?");
	/* no repository (berth login): a token for the account alone */
	_cleanup_free_ char *scope = r->repo[0] ? xasprintf("repository:%s:pull%s", r->repo, r->push ? ",push" : "")
						: NULL;
	if (c->service) {
		buf_puts(&url, "service=");
		append_escaped(&url, c->service);
	}
	if (scope) {
		buf_puts(&url, c->service ? "&scope=" : "scope=");
		append_escaped(&url, scope);
	}
	struct resp x = {.max = 1 << 20};
	/* the realm is another host: nothing of this registry's auth goes there but what is meant for it */
	_cleanup_free_ char *saved = r->token;
	r->token = NULL;
	bool basic = r->basic;
	r->basic = r->have_creds && !r->creds.identity_token;
	if (r->creds.identity_token) {
		buf_puts(&form, "grant_type=refresh_token&client_id=berth&refresh_token=");
		append_escaped(&form, r->creds.identity_token);
		if (scope) {
			buf_puts(&form, "&scope=");
			append_escaped(&form, scope);
		}
		if (c->service) {
			buf_puts(&form, "&service=");
			append_escaped(&form, c->service);
		}
	}
	r->auth_to_url = true;
	exchange(r, url.s, NULL, form.s, &x);
	r->auth_to_url = false;
	r->basic = basic;
	buf_free(&url);
	if (form.s)
		explicit_bzero(form.s, form.len);
	buf_free(&form);
	int ret = 0;
	if (x.code != CURLE_OK)
		ret = berr_set(err, EIO, "cannot get a token from %s: %s", c->realm, x.error);
	else if (x.status == 401 || x.status == 403)
		ret = berr_set(err, EACCES, "%s refused the credentials for %s (HTTP %ld); run berth login %s",
			       c->realm, r->domain, x.status, r->domain);
	else if (x.status != 200)
		ret = berr_set(err, EIO, "cannot get a token from %s: HTTP %ld", c->realm, x.status);
	json_t *j = ret == 0 ? json_loads(x.body.s ? x.body.s : "", 0, NULL) : NULL;
	const char *tok = json_string_value(json_object_get(j, "token"));
	if (!tok || !tok[0])
		tok = json_string_value(json_object_get(j, "access_token"));
	if (ret == 0 && (!tok || !tok[0]))
		ret = berr_set(err, EPROTO, "the token service %s answered without a token", c->realm);
	if (ret == 0)
		r->token = xstrdup(tok);
	json_decref(j);
	if (x.body.s)
		explicit_bzero(x.body.s, x.body.len);
	resp_free(&x);
	return ret;
}

/* After a 401: what the challenge asks for, once. */
static int authenticate(struct registry *r, const char *header, struct berr **err)
{
	struct challenge c;
	if (!header || auth_parse_challenge(header, &c) < 0)
		return berr_set(err, EACCES, "%s answered 401 without a usable WWW-Authenticate challenge",
				registry_host(r));
	int ret = read_creds(r, err);
	if (ret == 0 && streq(c.scheme, "bearer")) {
		ret = fetch_token(r, &c, err);
	} else if (ret == 0 && streq(c.scheme, "basic")) {
		if (!r->have_creds || !r->creds.username)
			ret = berr_set(err, EACCES, "%s requires a login: run berth login %s", r->domain, r->domain);
		r->basic = true;
	} else if (ret == 0) {
		ret = berr_set(err, EPROTO, "%s asks for %s authentication, which berth does not speak",
			       registry_host(r), c.scheme);
	}
	challenge_free(&c);
	return ret;
}

/* ---- requests with retries ---- */

static bool transient(CURLcode c)
{
	return c == CURLE_COULDNT_CONNECT || c == CURLE_OPERATION_TIMEDOUT || c == CURLE_RECV_ERROR ||
	       c == CURLE_SEND_ERROR || c == CURLE_GOT_NOTHING || c == CURLE_PARTIAL_FILE || c == CURLE_HTTP2 ||
	       c == CURLE_HTTP2_STREAM;
}

/* The server does not speak TLS where plain HTTP may be used: loopback,
 * or named insecure. A certificate that does not verify is an error, also
 * there (Docker would then skip the check; berth never does). */
static bool try_http(struct registry *r, CURLcode c, const char *error)
{
	if (!r->may_http || !startswith(r->base, "https://"))
		return false;
	if (c != CURLE_SSL_CONNECT_ERROR && c != CURLE_GOT_NOTHING && c != CURLE_RECV_ERROR)
		return false;
	free(r->tls_error);
	r->tls_error = xstrdup(error);
	char *http = xasprintf("http://%s", r->base + 8);
	free(r->base);
	r->base = http;
	return true;
}

static void pause_ms(int64_t ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* How long to wait before attempt n (from 1): what Retry-After says (up to
 * 30 s), else 0.5, 1, 2, 4 s. */
static int64_t backoff(const struct resp *x, int n)
{
	if (x->retry_after && isdigit((unsigned char)x->retry_after[0])) {
		long s = atol(x->retry_after);
		return (s > 30 ? 30 : s) * 1000;
	}
	return 500LL << (n - 1);
}

/* The registry's own words from an error body ({"errors":[{"message":…}]}). */
static char *registry_words(const struct resp *x)
{
	_cleanup_(json_releasep) json_t *j = x->body.s ? json_loads(x->body.s, 0, NULL) : NULL;
	json_t *e = json_array_get(json_object_get(j, "errors"), 0);
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	char *out = msg ? xasprintf("%s%s%s", msg, code ? ": " : "", code ? code : "") : NULL;
	return out;
}

/* path: under /v2/, or a whole URL (an upload's Location) */
static int request_send(struct registry *r, const char *path, const char *accept, const struct send *s, size_t max,
			struct resp *x, struct berr **err)
{
	bool authed = false;
	for (int attempt = 1;; attempt++) {
		resp_free(x);
		x->max = max;
		_cleanup_free_ char *url = strstr(path, "://") ? xstrdup(path) : xasprintf("%s/v2/%s", r->base, path);
		exchange_send(r, url, accept, s, x);
		if (x->code != CURLE_OK) {
			if (try_http(r, x->code, x->error))
				continue;
			/* a mirror that does not answer: the next, or the registry itself */
			if (r->bases[r->at + 1] && attempt >= 2) {
				free(r->base);
				r->base = xstrdup(r->bases[++r->at]);
				attempt = 0;
				continue;
			}
			if (transient(x->code) && attempt < ATTEMPTS) {
				pause_ms(backoff(x, attempt));
				continue;
			}
			if (x->overflow)
				return berr_set(err, EFBIG,
						"%s answered %s/%s with more than %zu bytes; berth refuses it",
						registry_host(r), r->repo, path, max);
			return berr_set(err, EIO, "cannot reach %s: %s", registry_host(r), x->error);
		}
		if (x->status == 401 && !authed) {
			authed = true;
			int a = authenticate(r, x->challenge, err);
			if (a < 0 && !r->bases[r->at + 1])
				return a;
			if (a == 0)
				continue;
			berr_free(*err);
			*err = NULL;
		}
		/* a mirror that lacks it or refuses: the next, as Docker falls back to the registry */
		if ((x->status == 404 || x->status == 401 || x->status == 403) && r->bases[r->at + 1]) {
			free(r->base);
			r->base = xstrdup(r->bases[++r->at]);
			free(r->token);
			r->token = NULL;
			r->basic = false;
			authed = false;
			attempt = 0;
			continue;
		}
		/* plain HTTP to a server that does speak TLS (and refused our handshake) */
		if (x->status == 400 && r->tls_error && startswith(r->base, "http://"))
			return berr_set(err, EPROTO, "cannot reach %s over TLS: %s", registry_host(r), r->tls_error);
		if ((x->status == 429 || x->status >= 500) && attempt < ATTEMPTS) {
			pause_ms(backoff(x, attempt));
			continue;
		}
		return 0;
	}
}

static int request(struct registry *r, const char *path, const char *accept, size_t max, struct resp *x,
		   struct berr **err)
{
	return request_send(r, path, accept, NULL, max, x, err);
}

static int status_error(struct registry *r, const struct resp *x, const char *what, struct berr **err)
{
	_cleanup_free_ char *words = registry_words(x);
	if (x->status == 401 || x->status == 403)
		return berr_set(err, EACCES,
				"%s access denied for %s/%s, the repository does not exist or needs "
				"a login (berth login %s)%s%s",
				r->push ? "push" : "pull", r->domain, r->repo, r->domain, words ? ": " : "",
				words ? words : "");
	if (x->status == 404)
		return berr_set(err, ENOENT, "%s not found in %s/%s%s%s", what, r->domain, r->repo, words ? ": " : "",
				words ? words : "");
	return berr_set(err, EIO, "%s from %s/%s: HTTP %ld%s%s", what, r->domain, r->repo, x->status, words ? ": " : "",
			words ? words : "");
}

int registry_manifest(struct registry *r, const char *reference, char **body, size_t *len, char **media_type,
		      struct berr **err)
{
	static const char accept[] = MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " MT_DOCKER_MANIFEST
						  ", " MT_DOCKER_V1_SIGNED ", " MT_DOCKER_V1;
	_cleanup_free_ char *path = xasprintf("%s/manifests/%s", r->repo, reference);
	struct resp x = {0};
	int ret = request(r, path, accept, MANIFEST_MAX, &x, err);
	_cleanup_free_ char *what = xasprintf("manifest for %s", reference);
	if (ret == 0 && x.status != 200)
		ret = status_error(r, &x, what, err);
	if (ret == 0) {
		*len = x.body.len;
		*body = buf_steal(&x.body);
		const char *ct = x.content_type ? x.content_type : "";
		*media_type = xstrndup(ct, strcspn(ct, "; "));
	}
	resp_free(&x);
	return ret;
}

int registry_blob(struct registry *r, const char *digest, size_t max, char **body, size_t *len, struct berr **err)
{
	_cleanup_free_ char *path = xasprintf("%s/blobs/%s", r->repo, digest);
	struct resp x = {0};
	int ret = request(r, path, NULL, max, &x, err);
	if (ret == 0 && x.status != 200)
		ret = status_error(r, &x, digest, err);
	if (ret == 0) {
		*len = x.body.len;
		*body = buf_steal(&x.body);
	}
	resp_free(&x);
	return ret;
}

int registry_check_login(struct registry *r, const struct creds *c, struct berr **err)
{
	creds_free(&r->creds);
	r->creds = (struct creds){xstrdup(c->username), xstrdup(c->password), NULL};
	r->have_creds = r->creds_read = true;
	struct resp x = {0};
	int ret = request(r, "", NULL, 1 << 16, &x, err);
	if (ret == 0 && x.status == 401)
		ret = berr_set(err, EACCES, "%s refused the credentials (HTTP 401)", r->domain);
	else if (ret == 0 && x.status != 200)
		ret = berr_set(err, EIO, "%s answered HTTP %ld to /v2/", r->domain, x.status);
	resp_free(&x);
	return ret;
}

/* ---- pushing ---- */

void registry_want_push(struct registry *r)
{
	r->push = true;
	free(r->token);
	r->token = NULL;
}

int registry_blob_exists(struct registry *r, const char *digest, bool *exists, struct berr **err)
{
	_cleanup_free_ char *path = xasprintf("%s/blobs/%s", r->repo, digest);
	struct resp x = {0};
	struct send s = {.method = "HEAD"};
	int ret = request_send(r, path, NULL, &s, 1 << 16, &x, err);
	*exists = ret == 0 && x.status == 200;
	if (ret == 0 && x.status != 200 && x.status != 404)
		ret = status_error(r, &x, digest, err);
	resp_free(&x);
	return ret;
}

/* Where an upload goes next: its Location, made whole. */
static char *upload_url(struct registry *r, const char *location)
{
	if (strstr(location, "://"))
		return xstrdup(location);
	return xasprintf("%s%s%s", r->base, location[0] == '/' ? "" : "/", location);
}

int registry_blob_upload(struct registry *r, const char *digest, int fd, uint64_t size, struct berr **err)
{
	_cleanup_free_ char *path = xasprintf("%s/blobs/uploads/", r->repo);
	struct resp x = {0};
	struct send post = {.method = "POST"};
	int ret = request_send(r, path, NULL, &post, 1 << 16, &x, err);
	if (ret == 0 && (x.status != 202 || !x.location))
		ret = status_error(r, &x, "an upload", err);
	if (ret < 0) {
		resp_free(&x);
		return ret;
	}
	/* one monolithic PUT of the whole blob, its digest in the query */
	_cleanup_free_ char *base = upload_url(r, x.location);
	_cleanup_free_ char *url = xasprintf("%s%sdigest=%s", base, strchr(base, '?') ? "&" : "?", digest);
	struct send put = {.method = "PUT", .type = "application/octet-stream", .fd = fd, .size = size};
	ret = request_send(r, url, NULL, &put, 1 << 16, &x, err);
	if (ret == 0 && x.status != 201)
		ret = status_error(r, &x, digest, err);
	resp_free(&x);
	return ret;
}

int registry_put_manifest(struct registry *r, const char *reference, const char *body, size_t len,
			  const char *media_type, struct berr **err)
{
	_cleanup_free_ char *path = xasprintf("%s/manifests/%s", r->repo, reference);
	struct resp x = {0};
	struct send put = {.method = "PUT", .type = media_type, .data = body, .len = len};
	int ret = request_send(r, path, NULL, &put, 1 << 16, &x, err);
	_cleanup_free_ char *what = xasprintf("manifest %s", reference);
	if (ret == 0 && x.status != 201)
		ret = status_error(r, &x, what, err);
	resp_free(&x);
	return ret;
}

/* ---- streamed blobs ---- */

struct blob_stream {
	struct registry *r;
	char *url;
	CURLM *m;
	CURL *h;
	struct curl_slist *hdrs;
	struct buf pending;
	size_t pos;     /* read of pending so far */
	uint64_t got;   /* bytes of the blob received (delivered or pending) */
	uint64_t total; /* announced size */
	uint64_t skip;  /* a resumed transfer that restarted at 0: bytes to drop */
	int resumes;
	bool fresh; /* no byte of the current transfer seen yet */
	bool running, done;
	long status;
	struct buf errbody;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t stream_write(char *data, size_t size, size_t n, void *user)
{
	struct blob_stream *s = user;
	size_t len = size * n;
	if (!s->status)
		curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->status);
	if (s->fresh) {
		/* a resumed transfer: 206 goes on where we were; 200 starts again at 0,
		 * and what was received already is dropped */
		s->fresh = false;
		s->skip = s->status == 200 ? s->got : 0;
	}
	if (s->status != 200 && s->status != 206) {
		if (s->errbody.len < 4096)
			buf_add(&s->errbody, data, len);
		return len;
	}
	size_t drop = s->skip < len ? (size_t)s->skip : len;
	s->skip -= drop;
	buf_add(&s->pending, data + drop, len - drop);
	s->got += len - drop;
	return len;
}

static int stream_start(struct blob_stream *s, struct berr **err)
{
	if (s->h) {
		curl_multi_remove_handle(s->m, s->h);
		curl_easy_cleanup(s->h);
	}
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
	s->h = curl_easy_init();
	if (!s->h)
		return berr_set(err, ENOMEM, "cannot make an HTTP client");
	common_opts(s->r, s->h, s->url, true);
	curl_easy_setopt(s->h, CURLOPT_URL, s->url);
	curl_easy_setopt(s->h, CURLOPT_ACCEPT_ENCODING, NULL); /* the blob's own bytes, as its digest counts them */
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, stream_write);
	curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, s->errbuf);
	if (s->got) {
		_cleanup_free_ char *range = xasprintf("Range: bytes=%llu-", (unsigned long long)s->got);
		s->hdrs = curl_slist_append(s->hdrs, range);
		curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hdrs);
	}
	s->status = 0;
	s->fresh = true;
	s->errbuf[0] = '\0';
	buf_free(&s->errbody);
	curl_multi_add_handle(s->m, s->h);
	s->running = true;
	return 0;
}

int blob_stream_open(struct registry *r, const char *digest, struct blob_stream **out, struct berr **err)
{
	struct blob_stream *s = xcalloc(1, sizeof(*s));
	s->r = r;
	s->url = xasprintf("%s/v2/%s/blobs/%s", r->base, r->repo, digest);
	s->m = curl_multi_init();
	int ret = s->m ? stream_start(s, err) : berr_set(err, ENOMEM, "cannot make an HTTP client");
	if (ret < 0) {
		blob_stream_close(s);
		return ret;
	}
	*out = s;
	return 0;
}

/* The transfer ended: done, resumed, or an error. */
static int stream_ended(struct blob_stream *s, CURLcode code, struct berr **err)
{
	s->running = false;
	if (code == CURLE_OK && (s->status == 200 || s->status == 206)) {
		if (s->skip)
			return berr_set(err, EIO, "%s: the blob is shorter than before the connection broke", s->url);
		s->done = true;
		return 0;
	}
	if (code == CURLE_OK) {
		struct resp x = {.status = s->status, .body = s->errbody};
		s->errbody = (struct buf){0};
		_cleanup_free_ char *what = xasprintf("blob %s", strrchr(s->url, '/') + 1);
		int ret = status_error(s->r, &x, what, err);
		resp_free(&x);
		return ret;
	}
	if (s->resumes++ < RESUMES && transient(code)) {
		pause_ms(250LL << (s->resumes - 1));
		return stream_start(s, err);
	}
	return berr_set(err, EIO, "%s: %s", s->url, s->errbuf[0] ? s->errbuf : curl_easy_strerror(code));
}

ssize_t blob_stream_read(struct blob_stream *s, void *buf, size_t n, struct berr **err)
{
	while (s->pos >= s->pending.len && !s->done) {
		s->pending.len = 0;
		s->pos = 0;
		int still = 0;
		if (curl_multi_perform(s->m, &still) != CURLM_OK)
			return berr_set(err, EIO, "%s: the transfer failed", s->url);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(s->m, &left)))
			if (msg->msg == CURLMSG_DONE && stream_ended(s, msg->data.result, err) < 0)
				return -1;
		if (s->pos >= s->pending.len && s->running && still)
			curl_multi_poll(s->m, NULL, 0, 1000, NULL);
	}
	size_t avail = s->pending.len - s->pos;
	size_t k = avail < n ? avail : n;
	memcpy(buf, s->pending.s + s->pos, k);
	s->pos += k;
	if (!s->total) {
		curl_off_t cl = -1;
		curl_easy_getinfo(s->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		if (cl > 0 && s->status == 200)
			s->total = (uint64_t)cl;
	}
	return (ssize_t)k;
}

void blob_stream_progress(const struct blob_stream *s, uint64_t *done, uint64_t *total)
{
	*done = s->got - (s->pending.len - s->pos);
	*total = s->total;
}

void blob_stream_close(struct blob_stream *s)
{
	if (!s)
		return;
	if (s->h) {
		curl_multi_remove_handle(s->m, s->h);
		curl_easy_cleanup(s->h);
	}
	if (s->m)
		curl_multi_cleanup(s->m);
	curl_slist_free_all(s->hdrs);
	buf_free(&s->pending);
	buf_free(&s->errbody);
	free(s->url);
	free(s);
}
