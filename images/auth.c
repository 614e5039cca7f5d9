#include "auth.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <nettle/base64.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/json.h"
#include "../lib/buf.h"
#include "../lib/fs.h"
#include "../lib/spawn.h"
#include "../lib/util.h"
#include "ref.h"

#define HUB_KEY "https://index.docker.io/v1/"

/* ---- WWW-Authenticate ---- */

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

int auth_parse_challenge(const char *header, struct challenge *c)
{
	*c = (struct challenge){0};
	const char *s = skip_space(header);
	size_t n = strcspn(s, " \t");
	if (!n)
		return -1;
	c->scheme = xstrndup(s, n);
	for (char *p = c->scheme; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	s += n;
	while (*s) {
		s = skip_space(s);
		while (*s == ',' || *s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		size_t kn = strcspn(s, "= \t,");
		_cleanup_free_ char *key = xstrndup(s, kn);
		s = skip_space(s + kn);
		if (*s != '=') {
			challenge_free(c);
			return -1;
		}
		s = skip_space(s + 1);
		struct buf v = {0};
		buf_printf(&v, "%s", "");
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && s[1])
					s++;
				buf_printf(&v, "%c", *s);
			}
			if (*s != '"') {
				buf_free(&v);
				challenge_free(c);
				return -1;
			}
			s++;
		} else {
			size_t vn = strcspn(s, ", \t");
			buf_printf(&v, "%.*s", (int)vn, s);
			s += vn;
		}
		char **slot = strcasecmp(key, "realm") == 0     ? &c->realm
			      : strcasecmp(key, "service") == 0 ? &c->service
			      : strcasecmp(key, "scope") == 0   ? &c->scope
			      : strcasecmp(key, "error") == 0   ? &c->error
								: NULL;
		if (slot) {
			free(*slot);
			*slot = v.s;
		} else {
			buf_free(&v);
		}
	}
	return 0;
}

void challenge_free(struct challenge *c)
{
	free(c->scheme);
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	*c = (struct challenge){0};
}

void creds_free(struct creds *c)
{
	/* the secrets do not linger in freed memory */
	if (c->password)
		explicit_bzero(c->password, strlen(c->password));
	if (c->identity_token)
		explicit_bzero(c->identity_token, strlen(c->identity_token));
	free(c->username);
	free(c->password);
	free(c->identity_token);
	*c = (struct creds){0};
}

/* ---- config.json ---- */

char *auth_key(const char *domain) { return ref_is_hub(domain) ? xstrdup(HUB_KEY) : xstrdup(domain); }

/* "https://host:port/v1/" -> "host:port", as Docker matches auths keys. */
static char *key_host(const char *key)
{
	const char *s = startswith(key, "https://") ? key + 8 : startswith(key, "http://") ? key + 7 : key;
	return xstrndup(s, strcspn(s, "/"));
}

static bool key_matches(const char *key, const char *domain)
{
	_cleanup_free_ char *host = key_host(key);
	return streq(host, domain) || (ref_is_hub(host) && ref_is_hub(domain));
}

char *auth_config_path(void)
{
	const char *dir = getenv("DOCKER_CONFIG");
	if (dir && dir[0])
		return path_join(dir, "config.json");
	const char *home = getenv("HOME");
	return xasprintf("%s/.docker/config.json", home && home[0] ? home : "/root");
}

/* The config, or an empty one when there is no file. */
static int load_config(const char *path, json_t **out, struct berr **err)
{
	json_error_t je;
	*out = json_load_file(path, 0, &je);
	if (*out && json_is_object(*out))
		return 0;
	json_decref(*out);
	*out = NULL;
	if (!fs_exists(path)) {
		*out = json_object();
		return 0;
	}
	return berr_set(err, EINVAL, "%s:%d: cannot read the credentials file: %s", path, je.line, je.text);
}

/* The credential helper for a registry, if config.json names one. */
static const char *helper_for(json_t *cfg, const char *domain)
{
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(cfg, "credHelpers"), key, v)
	{
		if (key_matches(key, domain) && json_string_value(v))
			return json_string_value(v);
	}
	return json_string_value(json_object_get(cfg, "credsStore"));
}

static char *find_in_path(const char *name)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = xstrdup(path && path[0] ? path : "/usr/local/bin:/usr/bin:/bin");
	char *save = NULL;
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *p = path_join(d, name);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

/* Runs docker-credential-NAME ACTION with input on its stdin; its stdout
 * in *out. The exit status, or < 0 when it could not run. */
static int run_helper(const char *name, const char *action, const char *input, char **out, struct berr **err)
{
	*out = NULL;
	_cleanup_free_ char *prog = xasprintf("docker-credential-%s", name);
	_cleanup_free_ char *path = find_in_path(prog);
	if (!path)
		return berr_set(err, ENOENT, "the credential helper %s (credsStore/credHelpers in %s) is not installed",
				prog, "config.json");
	int in[2], outp[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return berr_sys(err, errno, "cannot run %s", prog);
	if (pipe2(outp, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return berr_sys(err, errno, "cannot run %s", prog);
	}
	char *argv[] = {prog, (char *)action, NULL};
	int fds[3] = {in[0], outp[1], -1};
	pid_t pid;
	int e = spawn_fds(path, argv, fds, 3, false, &pid);
	close(in[0]);
	close(outp[1]);
	if (e != 0) {
		close(in[1]);
		close(outp[0]);
		return berr_sys(err, e, "cannot run %s", prog);
	}
	size_t len = strlen(input), done = 0;
	while (done < len) {
		ssize_t w = write(in[1], input + done, len - done);
		if (w <= 0 && errno != EINTR)
			break;
		done += w > 0 ? (size_t)w : 0;
	}
	close(in[1]);
	struct buf b = {0};
	char chunk[4096];
	for (ssize_t n; (n = read(outp[0], chunk, sizeof(chunk))) != 0;) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || b.len > (1 << 16))
			break;
		buf_printf(&b, "%.*s", (int)n, chunk);
	}
	close(outp[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*out = b.s ? b.s : xstrdup("");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static char *b64_decode(const char *s)
{
	struct base64_decode_ctx ctx;
	size_t n = strlen(s);
	char *out = xmalloc(BASE64_DECODE_LENGTH(n) + 1);
	size_t len = BASE64_DECODE_LENGTH(n);
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &len, (uint8_t *)out, n, s) || !base64_decode_final(&ctx)) {
		free(out);
		return NULL;
	}
	out[len] = '\0';
	return out;
}

static char *b64_encode(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(BASE64_ENCODE_RAW_LENGTH(n) + 1);
	base64_encode_raw(out, n, (const uint8_t *)s);
	out[BASE64_ENCODE_RAW_LENGTH(n)] = '\0';
	return out;
}

static int from_helper(const char *helper, const char *domain, struct creds *c, struct berr **err)
{
	_cleanup_free_ char *key = auth_key(domain);
	char *out = NULL;
	int st = run_helper(helper, "get", key, &out, err);
	if (st < 0)
		return st;
	_cleanup_(json_releasep) json_t *j = st == 0 ? json_loads(out, 0, NULL) : NULL;
	bool not_found = st != 0 && strstr(out, "credentials not found");
	explicit_bzero(out, strlen(out));
	free(out);
	if (not_found)
		return 0;
	if (!j) {
		return berr_set(err, EIO, "the credential helper docker-credential-%s failed for %s (exit %d)", helper,
				key, st);
	}
	const char *user = json_string_value(json_object_get(j, "Username"));
	const char *secret = json_string_value(json_object_get(j, "Secret"));
	if (user && streq(user, "<token>"))
		c->identity_token = xstrdup(secret ? secret : "");
	else {
		c->username = xstrdup(user ? user : "");
		c->password = xstrdup(secret ? secret : "");
	}
	return 1;
}

int auth_lookup(const char *domain, struct creds *c, struct berr **err)
{
	*c = (struct creds){0};
	_cleanup_free_ char *path = auth_config_path();
	json_t *cfg;
	int r = load_config(path, &cfg, err);
	if (r < 0)
		return r;
	const char *helper = helper_for(cfg, domain);
	if (helper) {
		r = from_helper(helper, domain, c, err);
		json_decref(cfg);
		return r;
	}
	const char *key;
	json_t *v;
	r = 0;
	json_object_foreach(json_object_get(cfg, "auths"), key, v)
	{
		if (r || !key_matches(key, domain))
			continue;
		const char *auth = json_string_value(json_object_get(v, "auth"));
		const char *token = json_string_value(json_object_get(v, "identitytoken"));
		char *plain = auth && auth[0] ? b64_decode(auth) : NULL;
		char *colon = plain ? strchr(plain, ':') : NULL;
		if (auth && auth[0] && !colon) {
			free(plain);
			r = berr_set(err, EINVAL,
				     "%s: the credentials for %s are damaged (\"auth\" is not base64 of "
				     "user:password); run berth login %s again",
				     path, key, domain);
			break;
		}
		if (colon) {
			*colon = '\0';
			c->username = xstrdup(plain);
			c->password = xstrdup(colon + 1);
			explicit_bzero(colon + 1, strlen(colon + 1));
		}
		free(plain);
		if (token && token[0])
			c->identity_token = xstrdup(token);
		r = c->username || c->identity_token ? 1 : 0;
	}
	json_decref(cfg);
	return r;
}

static int save_config(const char *path, json_t *cfg, struct berr **err)
{
	_cleanup_free_ char *dir = path_dirname(path);
	int r = fs_mkdir_p(dir, 0700, err);
	char *text = json_dumps(cfg, JSON_INDENT(1));
	if (r == 0)
		r = fs_write_atomic(path, text, strlen(text), 0600, err);
	explicit_bzero(text, strlen(text));
	free(text);
	return r;
}

/* What login and logout change: the file, the key, and the helper if any. */
struct change {
	char *path, *key, *helper;
	json_t *cfg;
};

static int change_begin(const char *domain, struct change *ch, struct berr **err)
{
	*ch = (struct change){auth_config_path(), auth_key(domain), NULL, NULL};
	int r = load_config(ch->path, &ch->cfg, err);
	const char *h = r == 0 ? helper_for(ch->cfg, domain) : NULL;
	ch->helper = h ? xstrdup(h) : NULL;
	return r;
}

static void change_end(struct change *ch)
{
	free(ch->path);
	free(ch->key);
	free(ch->helper);
	json_decref(ch->cfg);
}

static int save_with(const struct change *ch, const struct creds *c, struct berr **err)
{
	if (ch->helper) {
		json_t *in = json_pack("{s:s, s:s, s:s}", "ServerURL", ch->key, "Username", c->username, "Secret",
				       c->password);
		char *text = json_dumps(in, JSON_COMPACT);
		json_decref(in);
		char *out = NULL;
		int st = run_helper(ch->helper, "store", text, &out, err);
		explicit_bzero(text, strlen(text));
		free(text);
		free(out);
		if (st > 0)
			return berr_set(err, EIO,
					"the credential helper docker-credential-%s could not store the "
					"credentials for %s (exit %d)",
					ch->helper, ch->key, st);
		return st < 0 ? st : 0;
	}
	json_t *auths = json_object_get(ch->cfg, "auths");
	if (!json_is_object(auths)) {
		auths = json_object();
		json_object_set_new(ch->cfg, "auths", auths);
	}
	_cleanup_free_ char *pair = xasprintf("%s:%s", c->username, c->password);
	char *b64 = b64_encode(pair);
	explicit_bzero(pair, strlen(pair));
	json_object_set_new(auths, ch->key, json_pack("{s:s}", "auth", b64));
	explicit_bzero(b64, strlen(b64));
	free(b64);
	return save_config(ch->path, ch->cfg, err);
}

int auth_save(const char *domain, const struct creds *c, struct berr **err)
{
	struct change ch;
	int r = change_begin(domain, &ch, err);
	if (r == 0)
		r = save_with(&ch, c, err);
	change_end(&ch);
	return r;
}

static int erase_with(const struct change *ch, const char *domain, struct berr **err)
{
	if (ch->helper) {
		char *out = NULL;
		int st = run_helper(ch->helper, "erase", ch->key, &out, err);
		bool none = st > 0 && strstr(out, "not found");
		free(out);
		if (st > 0 && !none)
			return berr_set(err, EIO,
					"the credential helper docker-credential-%s could not erase the "
					"credentials for %s (exit %d)",
					ch->helper, ch->key, st);
		return st < 0 ? st : !none;
	}
	json_t *auths = json_object_get(ch->cfg, "auths");
	char **gone = xcalloc(1, sizeof(char *));
	const char *k;
	json_t *v;
	json_object_foreach(auths, k, v)
	{
		if (key_matches(k, domain))
			strv_push(&gone, xstrdup(k));
	}
	for (size_t i = 0; gone[i]; i++)
		json_object_del(auths, gone[i]);
	int r = gone[0] ? save_config(ch->path, ch->cfg, err) : 0;
	r = r < 0 ? r : gone[0] != NULL;
	strv_free(gone);
	return r;
}

int auth_erase(const char *domain, struct berr **err)
{
	struct change ch;
	int r = change_begin(domain, &ch, err);
	if (r == 0)
		r = erase_with(&ch, domain, err);
	change_end(&ch);
	return r;
}

char *auth_origin(const char *url)
{
	const char *rest = NULL, *scheme = NULL;
	if (strncasecmp(url, "https://", 8) == 0)
		scheme = "https", rest = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		scheme = "http", rest = url + 7;
	if (!rest)
		return NULL;
	size_t n = strcspn(rest, "/?#");
	_cleanup_free_ char *auth = xstrndup(rest, n);
	const char *at = strrchr(auth, '@'); /* userinfo is not where it goes */
	const char *hp = at ? at + 1 : auth;
	const char *colon = hp[0] == '[' ? (strchr(hp, ']') ? strchr(strchr(hp, ']'), ':') : NULL) : strrchr(hp, ':');
	_cleanup_free_ char *host = colon ? xstrndup(hp, (size_t)(colon - hp)) : xstrdup(hp);
	const char *port = colon && colon[1] ? colon + 1 : streq(scheme, "https") ? "443" : "80";
	if (!host[0] || strspn(port, "0123456789") != strlen(port))
		return NULL;
	for (char *c = host; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return xasprintf("%s://%s:%ld", scheme, host, atol(port));
}

bool auth_same_origin(const char *a, const char *b)
{
	_cleanup_free_ char *oa = auth_origin(a), *ob = auth_origin(b);
	return oa && ob && streq(oa, ob);
}
