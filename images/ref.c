/* Reference grammar from the distribution spec (docker/distribution's
 * reference package): [domain/]path[:tag][@digest]. */
#include "ref.h"

#include <ctype.h>
#include <errno.h>

static const char *const default_domain = "docker.io";

bool digest_valid(const char *d)
{
	if (!startswith(d, "sha256:") || strlen(d) != 7 + 64)
		return false;
	for (const char *p = d + 7; *p; p++)
		if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
			return false;
	return true;
}

/* path component: [a-z0-9]+ separated by one of ".", "_", "__", "-"+ */
static bool component_valid(const char *s, size_t len)
{
	if (len == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (islower((unsigned char)c) || isdigit((unsigned char)c))
			continue;
		if (c == '.' || c == '-')
			continue;
		if (c == '_' && (i + 1 < len && s[i + 1] == '_'))
			continue;
		if (c == '_')
			continue;
		return false;
	}
	return !strstr(s, "..");
}

static bool path_valid(const char *p)
{
	const char *start = p;
	for (const char *q = p;; q++) {
		if (*q == '/' || *q == '\0') {
			if (!component_valid(start, (size_t)(q - start)))
				return false;
			if (*q == '\0')
				return true;
			start = q + 1;
		}
	}
}

static bool tag_valid(const char *t)
{
	size_t len = strlen(t);
	if (len == 0 || len > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
		return false;
	for (const char *p = t; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			return false;
	return true;
}

/* The first component is a registry when it has a '.' or ':' or is localhost. */
static bool looks_like_domain(const char *s, size_t len)
{
	if (len == 9 && strncmp(s, "localhost", 9) == 0)
		return true;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '.' || s[i] == ':' || isupper((unsigned char)s[i]))
			return true;
	return false;
}

static int bad(struct berr **err, const char *s, const char *why)
{
	return berr_set(err, EINVAL, "invalid image reference \"%s\": %s", s, why);
}

int ref_parse(const char *s, struct image_ref *out, struct berr **err)
{
	*out = (struct image_ref){0};
	if (!s[0])
		return bad(err, s, "it is empty");
	_cleanup_free_ char *copy = xstrdup(s);
	char *at = strchr(copy, '@');
	if (at) {
		*at = '\0';
		if (!digest_valid(at + 1))
			return bad(err, s, "the digest must be sha256: and 64 hex digits");
		out->digest = xstrdup(at + 1);
	}
	char *last_slash = strrchr(copy, '/');
	char *colon = strrchr(last_slash ? last_slash : copy, ':');
	if (colon) {
		*colon = '\0';
		if (!tag_valid(colon + 1)) {
			ref_free(out);
			return bad(err, s, "the tag may hold letters, digits, '_', '.' and '-' (at most 128)");
		}
		out->tag = xstrdup(colon + 1);
	}
	char *slash = strchr(copy, '/');
	const char *path = copy;
	if (slash && looks_like_domain(copy, (size_t)(slash - copy))) {
		out->domain = xstrndup(copy, (size_t)(slash - copy));
		path = slash + 1;
	} else {
		out->domain = xstrdup(default_domain);
	}
	if (streq(out->domain, "index.docker.io")) {
		free(out->domain);
		out->domain = xstrdup(default_domain);
	}
	if (!path_valid(path)) {
		ref_free(out);
		return bad(err, s,
			   "a repository name is lowercase letters and digits, separated by '/', '.', '_' or '-'");
	}
	if (streq(out->domain, default_domain) && !strchr(path, '/'))
		out->path = xasprintf("library/%s", path);
	else
		out->path = xstrdup(path);
	if (!out->tag && !out->digest)
		out->tag = xstrdup("latest");
	return 0;
}

void ref_free(struct image_ref *r)
{
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	*r = (struct image_ref){0};
}

static char *with_suffix(char *repo, const struct image_ref *r)
{
	char *s = xasprintf("%s%s%s%s%s", repo, r->tag ? ":" : "", r->tag ? r->tag : "", r->digest ? "@" : "",
			    r->digest ? r->digest : "");
	free(repo);
	return s;
}

char *ref_string(const struct image_ref *r) { return with_suffix(xasprintf("%s/%s", r->domain, r->path), r); }

char *ref_familiar_repo(const struct image_ref *r)
{
	if (!streq(r->domain, default_domain))
		return xasprintf("%s/%s", r->domain, r->path);
	if (startswith(r->path, "library/") && !strchr(r->path + 8, '/'))
		return xstrdup(r->path + 8);
	return xstrdup(r->path);
}

char *ref_familiar(const struct image_ref *r) { return with_suffix(ref_familiar_repo(r), r); }

bool ref_is_hub(const char *domain)
{
	return streq(domain, default_domain) || streq(domain, "index.docker.io") ||
	       streq(domain, "registry-1.docker.io");
}
