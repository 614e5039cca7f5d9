#include "format.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>

#include "../lib/buf.h"
#include "cli.h"
#include "table.h"

/* One action between {{ and }}: its function (NULL, json, upper, lower)
 * and its field (NULL: the row, "."). */
struct action {
	char *func, *field;
};

/* Parse the text of one {{ }} (spaces trimmed). */
static int parse_action(const char *text, size_t len, const char *const *fields, struct action *a, struct berr **err)
{
	_cleanup_free_ char *s = xstrndup(text, len);
	char *b = s, *e = s + strlen(s);
	while (*b == ' ')
		b++;
	while (e > b && e[-1] == ' ')
		*--e = 0;
	*a = (struct action){0};
	int r;
	char *arg = b;
	char *sp = strchr(b, ' ');
	if (sp) {
		*sp = 0;
		arg = sp + 1;
		while (*arg == ' ')
			arg++;
		if (!streq(b, "json") && !streq(b, "upper") && !streq(b, "lower"))
			return berr_set(err, EINVAL,
					"--format: {{%s ...}} is not understood here (only {{.Field}}, {{json .}}, "
					"{{json .Field}}, {{upper .Field}}, {{lower .Field}})",
					b);
		a->func = xstrdup(b);
	}
	if (streq(arg, ".")) {
		if (!a->func || !streq(a->func, "json")) {
			free(a->func);
			return berr_set(err, EINVAL, "--format: {{.}} is only understood as {{json .}}");
		}
		return 0;
	}
	if (arg[0] != '.' || !arg[1] || strchr(arg, ' ') || strchr(arg + 1, '.') || strchr(arg, '|')) {
		free(a->func);
		return berr_set(err, EINVAL,
				"--format: {{%s}} is not understood here (only {{.Field}}, {{json .}}, "
				"{{json .Field}}, {{upper .Field}}, {{lower .Field}})",
				b);
	}
	for (size_t i = 0; !fields || fields[i]; i++)
		if (!fields || streq(fields[i], arg + 1)) {
			a->field = xstrdup(arg + 1);
			return 0;
		}
	free(a->func);
	struct buf known = {0};
	for (size_t i = 0; fields[i]; i++)
		buf_printf(&known, "%s%s", i ? ", " : "", fields[i]);
	r = berr_set(err, EINVAL, "--format: no field %s (the fields: %s)", arg + 1, known.s);
	buf_free(&known);
	return r;
}

/* Walk the template: literal text to out (when not NULL), each action
 * checked and, with a row, rendered. */
static int walk(const char *t, const char *const *fields, json_t *row, struct buf *out, struct berr **err)
{
	while (*t) {
		const char *open = strstr(t, "{{");
		if (!open) {
			if (out)
				buf_printf(out, "%s", t);
			return 0;
		}
		if (out)
			buf_printf(out, "%.*s", (int)(open - t), t);
		const char *close = strstr(open, "}}");
		if (!close)
			return berr_set(err, EINVAL, "--format: {{ without }}");
		struct action a;
		int r = parse_action(open + 2, (size_t)(close - open - 2), fields, &a, err);
		if (r < 0)
			return r;
		if (out && row) {
			json_t *v = a.field ? json_object_get(row, a.field) : row;
			if (a.func && streq(a.func, "json")) {
				char *j = json_dumps(v ? v : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
				buf_printf(out, "%s", j);
				free(j);
			} else {
				_cleanup_free_ char *text = json_is_string(v) ? xstrdup(json_string_value(v))
							    : json_is_integer(v)
								    ? xasprintf("%lld",
										(long long)json_integer_value(v))
							    : json_is_true(v)  ? xstrdup("true")
							    : json_is_false(v) ? xstrdup("false")
							    : v && !json_is_null(v)
								    ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)
								    : xstrdup("");
				for (char *c = text; a.func && *c; c++)
					*c = (char)(streq(a.func, "upper") ? toupper((unsigned char)*c)
									   : tolower((unsigned char)*c));
				buf_printf(out, "%s", text);
			}
		}
		free(a.func);
		free(a.field);
		t = close + 2;
	}
	return 0;
}

int format_parse(const char *arg, const char *const *fields, struct format *f, struct berr **err)
{
	*f = (struct format){0};
	if (!arg || streq(arg, "table"))
		return 0;
	if (streq(arg, "json")) {
		f->kind = FORMAT_JSON;
		return 0;
	}
	const char *t = arg;
	if (startswith(t, "table ")) {
		f->header = true;
		t += 6;
	}
	if (!strstr(t, "{{"))
		return berr_set(err, EINVAL, "--format takes table, json or a template such as '{{.Name}}', not %s",
				arg);
	struct buf b = {0};
	for (const char *c = t; *c; c++) {
		if (c[0] == '\\' && (c[1] == 't' || c[1] == 'n')) {
			buf_printf(&b, "%c", c[1] == 't' ? '\t' : '\n');
			c++;
		} else {
			buf_printf(&b, "%c", *c);
		}
	}
	f->kind = FORMAT_TEMPLATE;
	f->tmpl = b.s ? b.s : xstrdup("");
	int r = walk(f->tmpl, fields, NULL, NULL, err);
	if (r < 0)
		format_free(f);
	return r;
}

int format_flag(const char *cmd, const char *arg, const char *const *fields, struct format *f)
{
	_cleanup_(berr_freep) struct berr *err = NULL;
	if (format_parse(arg, fields, f, &err) == 0)
		return -1;
	int rc = usage_error(cmd, err->msg);
	return rc;
}

/* A field's header as docker writes it: RunningFor is RUNNING FOR. */
static char *header_of(const char *field)
{
	struct buf b = {0};
	for (size_t i = 0; field[i]; i++) {
		if (i && isupper((unsigned char)field[i]) && islower((unsigned char)field[i - 1]))
			buf_printf(&b, " ");
		buf_printf(&b, "%c", toupper((unsigned char)field[i]));
	}
	return b.s ? b.s : xstrdup("");
}

/* Split s at tabs into a NULL-terminated list. */
static char **cells(const char *s)
{
	char **v = xcalloc(1, sizeof(char *));
	for (;;) {
		const char *tab = strchr(s, '\t');
		strv_push(&v, tab ? xstrndup(s, (size_t)(tab - s)) : xstrdup(s));
		if (!tab)
			return v;
		s = tab + 1;
	}
}

void format_print(const struct format *f, json_t *rows)
{
	size_t i;
	json_t *row;
	if (f->kind == FORMAT_JSON) {
		json_array_foreach(rows, i, row)
		{
			char *j = json_dumps(row, JSON_COMPACT);
			printf("%s\n", j);
			free(j);
		}
		return;
	}
	if (f->kind != FORMAT_TEMPLATE)
		return;
	if (!f->header) {
		json_array_foreach(rows, i, row)
		{
			struct buf b = {0};
			walk(f->tmpl, NULL, row, &b, NULL);
			printf("%s\n", b.s ? b.s : "");
			buf_free(&b);
		}
		return;
	}
	/* the header: each action's field, as docker names the column */
	struct buf hb = {0};
	for (const char *t = f->tmpl; *t;) {
		const char *open = strstr(t, "{{"), *close = open ? strstr(open, "}}") : NULL;
		if (!close) {
			buf_printf(&hb, "%s", t);
			break;
		}
		buf_printf(&hb, "%.*s", (int)(open - t), t);
		_cleanup_free_ char *inner = xstrndup(open + 2, (size_t)(close - open - 2));
		const char *dot = strrchr(inner, '.');
		_cleanup_free_ char *h = header_of(dot && dot[1] ? dot + 1 : "");
		buf_printf(&hb, "%s", h);
		t = close + 2;
	}
	_cleanup_(strv_freep) char **head = cells(hb.s ? hb.s : "");
	buf_free(&hb);
	struct table tab;
	size_t n = strv_len(head);
	table_init(&tab, n, (const char *const *)head);
	json_array_foreach(rows, i, row)
	{
		struct buf b = {0};
		walk(f->tmpl, NULL, row, &b, NULL);
		_cleanup_(strv_freep) char **c = cells(b.s ? b.s : "");
		buf_free(&b);
		const char **line = xcalloc(n + 1, sizeof(char *));
		for (size_t k = 0; k < n && c[k]; k++)
			line[k] = c[k];
		table_add(&tab, line);
		free(line);
	}
	table_print(&tab);
}

void format_free(struct format *f)
{
	free(f->tmpl);
	*f = (struct format){0};
}
