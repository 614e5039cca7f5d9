#include "interp.h"

#include <ctype.h>
#include <errno.h>

#include "../lib/buf.h"

static bool name_start(char c) { return c == '_' || isalpha((unsigned char)c); }
static bool name_char(char c) { return c == '_' || isalnum((unsigned char)c); }

static int expand(const char *in, size_t len, const struct interp_ctx *ctx, struct buf *out, char **msg);

/* Index of the '}' closing a "${" whose body starts at s, honouring nesting. */
static ssize_t closing_brace(const char *s, size_t len)
{
	int depth = 1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '$' && i + 1 < len && s[i + 1] == '$') {
			i++;
			continue;
		}
		if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
			depth++;
			i++;
		} else if (s[i] == '}' && --depth == 0) {
			return (ssize_t)i;
		}
	}
	return -1;
}

static const char *lookup(const struct interp_ctx *ctx, const char *name) { return ctx->lookup(ctx->data, name); }

static void warn_unset(const struct interp_ctx *ctx, const char *name)
{
	if (ctx->unset)
		ctx->unset(ctx->data, name);
}

static int invalid(const char *body, size_t len, char **msg)
{
	*msg = xasprintf("invalid interpolation format \"${%.*s}\"; use ${NAME}, ${NAME:-default} or $$ for "
			 "a literal $",
			 (int)len, body);
	return -EINVAL;
}

static int required(const char *name, const char *word, size_t wlen, const struct interp_ctx *ctx, char **msg)
{
	struct buf m = {0};
	int r = expand(word, wlen, ctx, &m, msg);
	if (r == 0) {
		if (m.len)
			*msg = xasprintf("required variable %s is missing a value: %s", name, m.s);
		else
			*msg = xasprintf("required variable %s is missing a value", name);
		r = -EINVAL;
	}
	buf_free(&m);
	return r;
}

/* One ${...} body: NAME, or NAME followed by an operator and a word. */
static int braced(const char *body, size_t len, const struct interp_ctx *ctx, struct buf *out, char **msg)
{
	size_t i = 0;
	if (len == 0 || !name_start(body[0]))
		return invalid(body, len, msg);
	while (i < len && name_char(body[i]))
		i++;
	size_t name_len = i;
	bool colon = i < len && body[i] == ':';
	if (colon)
		i++;
	if (name_len < len && (i >= len || !strchr("-?+", body[i])))
		return invalid(body, len, msg);
	_cleanup_free_ char *name = xstrndup(body, name_len);
	const char *val = lookup(ctx, name);
	if (ctx->used)
		ctx->used(ctx->data, name, name_len == len ? 0 : body[i], body + i + (name_len < len),
			  name_len == len ? 0 : len - i - 1);
	if (name_len == len) {
		if (!val)
			warn_unset(ctx, name);
		buf_puts(out, val ? val : "");
		return 0;
	}
	char op = body[i++];
	const char *word = body + i;
	size_t wlen = len - i;
	bool missing = !val || (colon && !val[0]);
	if (op == '-' && missing)
		return expand(word, wlen, ctx, out, msg);
	if (op == '+')
		return missing ? 0 : expand(word, wlen, ctx, out, msg);
	if (op == '?' && missing)
		return ctx->used ? expand(word, wlen, ctx, out, msg) : required(name, word, wlen, ctx, msg);
	buf_puts(out, val);
	return 0;
}

static int expand(const char *in, size_t len, const struct interp_ctx *ctx, struct buf *out, char **msg)
{
	for (size_t i = 0; i < len; i++) {
		if (in[i] != '$' || i + 1 >= len) {
			buf_putc(out, in[i]);
			continue;
		}
		char c = in[i + 1];
		if (c == '$') {
			buf_putc(out, '$');
			i++;
		} else if (c == '{') {
			ssize_t end = closing_brace(in + i + 2, len - i - 2);
			if (end < 0) {
				*msg = xasprintf("invalid interpolation format \"%.*s\": missing closing brace",
						 (int)(len - i), in + i);
				return -EINVAL;
			}
			int r = braced(in + i + 2, (size_t)end, ctx, out, msg);
			if (r < 0)
				return r;
			i += 2 + (size_t)end;
		} else if (name_start(c)) {
			size_t j = i + 1;
			while (j < len && name_char(in[j]))
				j++;
			_cleanup_free_ char *name = xstrndup(in + i + 1, j - i - 1);
			const char *val = lookup(ctx, name);
			if (ctx->used)
				ctx->used(ctx->data, name, 0, "", 0);
			if (!val)
				warn_unset(ctx, name);
			buf_puts(out, val ? val : "");
			i = j - 1;
		} else {
			buf_putc(out, '$'); /* not a variable: kept as written */
		}
	}
	return 0;
}

int interp_string(const char *in, const struct interp_ctx *ctx, char **out, char **msg)
{
	struct buf b = {0};
	*msg = NULL;
	int r = expand(in, strlen(in), ctx, &b, msg);
	if (r < 0) {
		buf_free(&b);
		return r;
	}
	*out = buf_steal(&b);
	return 0;
}

static int interp_node(struct node *n, const struct interp_ctx *ctx, struct node_path *path, struct berr **err)
{
	if (n->kind == NODE_SCALAR) {
		if (n->tag != TAG_STR || !strchr(n->str, '$'))
			return 0;
		char *out, *msg;
		if (interp_string(n->str, ctx, &out, &msg) < 0) {
			_cleanup_free_ char *where = pos_str(n->pos);
			_cleanup_free_ char *at = node_path_str(path);
			int r = berr_set(err, EINVAL, "%s: %s: %s", where, at[0] ? at : "(top)", msg);
			free(msg);
			return r;
		}
		free(n->str);
		n->str = out;
		n->flags |= NF_INTERP;
		return 0;
	}
	for (size_t i = 0; i < n->n; i++) {
		if (n->kind == NODE_SEQ)
			node_path_index(path, i);
		else
			node_path_key(path, n->pairs[i].key);
		int r = interp_node(n->kind == NODE_SEQ ? n->items[i] : n->pairs[i].val, ctx, path, err);
		node_path_pop(path);
		if (r < 0)
			return r;
	}
	return 0;
}

int interp_tree(struct node *n, const struct interp_ctx *ctx, struct berr **err)
{
	struct node_path path = {0};
	return interp_node(n, ctx, &path, err);
}
