#include "dotenv.h"

#include <ctype.h>
#include <errno.h>

#include "../lib/buf.h"
#include "../lib/fs.h"
#include "interp.h"

struct lookup_both {
	env_lookup_fn first;
	void *ctx;
	struct env *so_far;
};

static const char *both(void *data, const char *name)
{
	struct lookup_both *l = data;
	const char *v = l->first ? l->first(l->ctx, name) : NULL;
	return v ? v : env_get(l->so_far, name);
}

static const char *skip_blank(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Read a quoted value starting after the opening quote; *p ends after the closing one. */
static int quoted(const char **p, char q, struct buf *out)
{
	const char *s = *p;
	for (; *s && *s != q; s++) {
		if (*s != '\\' || !s[1]) {
			buf_putc(out, *s);
			continue;
		}
		s++;
		if (q == '\'') {
			if (*s != '\'')
				buf_putc(out, '\\');
			buf_putc(out, *s);
			continue;
		}
		switch (*s) {
		case 'n':
			buf_putc(out, '\n');
			break;
		case 'r':
			buf_putc(out, '\r');
			break;
		case 't':
			buf_putc(out, '\t');
			break;
		case '"':
		case '\\':
		case '$':
		case '\'':
			buf_putc(out, *s);
			break;
		default:
			buf_putc(out, '\\');
			buf_putc(out, *s);
		}
	}
	if (*s != q)
		return -EINVAL;
	*p = s + 1;
	return 0;
}

/* Unquoted: to end of line, minus an inline comment that follows a blank. */
static void unquoted(const char **p, struct buf *out)
{
	const char *s = *p, *end = s;
	while (*end && *end != '\n') {
		if (*end == '#' && end > s && (end[-1] == ' ' || end[-1] == '\t'))
			break;
		end++;
	}
	const char *stop = end;
	while (stop > s && isspace((unsigned char)stop[-1]))
		stop--;
	buf_add(out, s, (size_t)(stop - s));
	while (*end && *end != '\n')
		end++;
	*p = end;
}

static int line_error(struct berr **err, const char *path, int line, const char *what)
{
	return berr_set(err, EINVAL, "%s:%d: %s", path, line, what);
}

static int set_value(const char *key, struct buf *raw, bool expand, struct lookup_both *lb, const char *path, int line,
		     struct berr **err)
{
	const char *v = raw->s ? raw->s : "";
	if (!expand) {
		env_set(lb->so_far, key, v);
		return 0;
	}
	struct interp_ctx ic = {.lookup = both, .data = lb};
	char *out, *msg;
	if (interp_string(v, &ic, &out, &msg) < 0) {
		int r = line_error(err, path, line, msg);
		free(msg);
		return r;
	}
	env_set(lb->so_far, key, out);
	free(out);
	return 0;
}

static int count_lines(const char *from, const char *to)
{
	int n = 0;
	for (; from < to; from++)
		if (*from == '\n')
			n++;
	return n;
}

int dotenv_parse(const char *path, const char *text, env_lookup_fn lookup, void *ctx, bool raw, struct env *out,
		 struct berr **err)
{
	struct lookup_both lb = {lookup, ctx, out};
	const char *p = text;
	int line = 1;
	while (*p) {
		const char *start = p;
		p = skip_blank(p);
		if (*p == '\n' || *p == '\r' || *p == '#' || !*p) {
			while (*p && *p != '\n')
				p++;
			if (*p)
				p++;
			line += count_lines(start, p);
			continue;
		}
		if (startswith(p, "export ") || startswith(p, "export\t"))
			p = skip_blank(p + 7);
		const char *k = p;
		while (*p && *p != '=' && *p != '\n' && !isspace((unsigned char)*p))
			p++;
		_cleanup_free_ char *key = xstrndup(k, (size_t)(p - k));
		p = skip_blank(p);
		if (key[0] == '\0')
			return line_error(err, path, line, "a line must start with a variable name (NAME=value)");
		if (*p != '=') {
			if (*p && *p != '\n' && *p != '\r' && *p != '#')
				return line_error(err, path, line, "expected NAME=value");
			/* A bare NAME takes its value from the environment, if set there. */
			const char *v = lookup ? lookup(ctx, key) : NULL;
			if (v)
				env_set(out, key, v);
			while (*p && *p != '\n')
				p++;
			continue;
		}
		p = skip_blank(p + 1);
		struct buf val = {0};
		bool expand = !raw;
		if (!raw && (*p == '"' || *p == '\'')) {
			char q = *p++;
			if (quoted(&p, q, &val) < 0) {
				buf_free(&val);
				return line_error(err, path, line, "a quoted value is not closed");
			}
			expand = q == '"';
			while (*p && *p != '\n')
				p++; /* a comment may follow the closing quote */
		} else {
			unquoted(&p, &val);
		}
		int r = set_value(key, &val, expand, &lb, path, line, err);
		buf_free(&val);
		if (r < 0)
			return r;
		line += count_lines(start, p);
	}
	return 0;
}

int dotenv_read(const char *path, env_lookup_fn lookup, void *ctx, bool raw, struct env *out, struct berr **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = fs_read_file(path, 16 << 20, &text, &len, err);
	if (r < 0)
		return r;
	if (strlen(text) != len)
		return berr_set(err, EINVAL, "%s: contains a NUL byte; is it a text file?", path);
	return dotenv_parse(path, text, lookup, ctx, raw, out, err);
}
