#include "ignore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "../lib/util.h"

/* [class] at p (past the '['): whether c is in it; *end past its ']'. NULL
 * end: the class is malformed. */
static bool in_class(const char *p, char c, const char **end)
{
	bool neg = *p == '^' || *p == '!';
	p += neg;
	bool found = false, first = true;
	while (*p && (first || *p != ']')) {
		first = false;
		char lo = *p == '\\' && p[1] ? *++p : *p;
		p++;
		char hi = lo;
		if (*p == '-' && p[1] && p[1] != ']') {
			p++;
			hi = *p == '\\' && p[1] ? *++p : *p;
			p++;
		}
		found |= c >= lo && c <= hi;
	}
	*end = *p == ']' ? p + 1 : NULL;
	return found != neg;
}

/* Each (pattern, path) position is tried once: a second visit could only
 * fail again, so stars cannot make it exponential. */
struct memo {
	const char *p0, *s0;
	size_t slen;
	unsigned char *seen;
};

static bool match(struct memo *m, const char *p, const char *s)
{
	size_t k = (size_t)(p - m->p0) * (m->slen + 1) + (size_t)(s - m->s0);
	if (m->seen[k / 8] & (1u << (k % 8)))
		return false;
	m->seen[k / 8] |= (unsigned char)(1u << (k % 8));
	while (*p) {
		if (p[0] == '*' && p[1] == '*') {
			const char *rest = p + 2;
			if (*rest == '/') { /* "**" "/": no directory, or any number of them */
				rest++;
				if (match(m, rest, s))
					return true;
				for (const char *q = s; *q; q++)
					if (*q == '/' && match(m, rest, q + 1))
						return true;
				return false;
			}
			for (const char *q = s;; q++) { /* "**" alone: anything, across directories */
				if (match(m, rest, q))
					return true;
				if (!*q)
					return false;
			}
		}
		if (*p == '*') {
			for (const char *q = s;; q++) {
				if (match(m, p + 1, q))
					return true;
				if (!*q || *q == '/')
					return false;
			}
		}
		if (!*s)
			return false;
		if (*p == '?') {
			if (*s == '/')
				return false;
		} else if (*p == '[') {
			const char *end;
			bool ok = *s != '/' && in_class(p + 1, *s, &end);
			if (!end || !ok)
				return false;
			p = end;
			s++;
			continue;
		} else {
			if (*p == '\\' && p[1])
				p++;
			if (*p != *s)
				return false;
		}
		p++;
		s++;
	}
	return !*s;
}

bool ignore_match(const char *p, const char *s)
{
	size_t pl = strlen(p), sl = strlen(s);
	struct memo m = {p, s, sl, xcalloc((pl + 1) * (sl + 1) / 8 + 1, 1)};
	bool r = match(&m, p, s);
	free(m.seen);
	return r;
}

/* Go's filepath.Clean, as far as patterns need it: no leading "/" or "./",
 * no "//", no trailing "/", "a/../b" resolved. */
static char *clean(const char *s)
{
	while (*s == '/')
		s++;
	char **parts = xcalloc(1, sizeof(char *));
	_cleanup_free_ char *copy = xstrdup(s);
	char *save = NULL;
	for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (streq(t, "."))
			continue;
		size_t n = strv_len(parts);
		if (streq(t, "..") && n && !streq(parts[n - 1], "..")) {
			free(parts[n - 1]);
			parts[n - 1] = NULL;
			continue;
		}
		strv_push(&parts, xstrdup(t));
	}
	struct buf out = {0};
	for (size_t i = 0; parts[i]; i++)
		buf_printf(&out, "%s%s", i ? "/" : "", parts[i]);
	strv_free(parts);
	if (!out.s || !out.s[0]) {
		buf_free(&out);
		return xstrdup(".");
	}
	return buf_steal(&out);
}

static bool well_formed(const char *p)
{
	for (; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
		} else if (*p == '[') {
			const char *end;
			in_class(p + 1, 'a', &end);
			if (!end)
				return false;
			p = end - 1;
		}
	}
	return true;
}

int ignore_parse(const char *name, const char *text, struct ignore *out, struct berr **err)
{
	*out = (struct ignore){xcalloc(1, sizeof(char *)), NULL, 0};
	_cleanup_free_ char *copy = xstrdup(text);
	char *save = NULL;
	int line = 0;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		line++;
		/* strtok_r skips empty lines, which are no patterns anyway */
		size_t n = strlen(l);
		while (n && (l[n - 1] == '\r' || l[n - 1] == ' ' || l[n - 1] == '\t'))
			l[--n] = '\0';
		while (*l == ' ' || *l == '\t')
			l++;
		if (!*l || *l == '#')
			continue;
		bool except = *l == '!';
		if (except)
			l++;
		char *p = clean(l);
		if (!well_formed(p)) {
			int r = berr_set(err, EINVAL, "%s: pattern \"%s\" has a [ without its ]", name, l);
			free(p);
			ignore_free(out);
			return r;
		}
		strv_push(&out->patterns, p);
		out->except = xrealloc(out->except, (out->n + 1) * sizeof(bool));
		out->except[out->n++] = except;
	}
	return 0;
}

void ignore_free(struct ignore *ig)
{
	strv_free(ig->patterns);
	free(ig->except);
	*ig = (struct ignore){0};
}

bool ignore_excludes(const struct ignore *ig, const char *path)
{
	bool out = false;
	_cleanup_free_ char *p = clean(path);
	for (size_t i = 0; i < ig->n; i++) {
		/* the path itself, or a directory it is in */
		bool hit = ignore_match(ig->patterns[i], p);
		for (char *slash = p; !hit && (slash = strchr(slash, '/')); slash++) {
			*slash = '\0';
			hit = ignore_match(ig->patterns[i], p);
			*slash = '/';
		}
		if (hit)
			out = !ig->except[i];
	}
	return out;
}
