#include "dockerfile.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "../lib/buf.h"
#include "../lib/util.h"

static const char *const known[] = {"ADD",    "ARG",   "CMD",         "COPY",  "ENTRYPOINT", "ENV",
				    "EXPOSE", "FROM",  "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD",
				    "RUN",    "SHELL", "STOPSIGNAL",  "USER",  "VOLUME",     "WORKDIR"};
/* the instructions whose text may start with --flags, and have heredocs */
static const char *const flagged[] = {"ADD", "COPY", "FROM", "HEALTHCHECK", "RUN"};
static const char *const heredocs[] = {"ADD", "COPY", "RUN"};

static bool in(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (streq(v[i], s))
			return true;
	return false;
}

/* The text as lines, without their newlines (a \r before one goes too). */
static char **split_lines(const char *text, size_t len)
{
	char **v = xcalloc(1, sizeof(char *));
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != '\n')
			continue;
		size_t end = i;
		if (end > start && text[end - 1] == '\r')
			end--;
		if (i < len || end > start)
			strv_push(&v, xstrndup(text + start, end - start));
		start = i + 1;
	}
	return v;
}

static const char *skip_blank(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static bool blank(const char *s) { return !*skip_blank(s); }

static bool comment(const char *s) { return *skip_blank(s) == '#'; }

/* "# name=value" at the top: a parser directive. */
static bool directive(const char *line, char **name, char **value)
{
	const char *s = skip_blank(line);
	if (*s != '#')
		return false;
	s = skip_blank(s + 1);
	size_t n = 0;
	while (isalpha((unsigned char)s[n]))
		n++;
	const char *eq = skip_blank(s + n);
	if (!n || *eq != '=')
		return false;
	*name = xstrndup(s, n);
	for (char *p = *name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	const char *v = skip_blank(eq + 1);
	size_t vl = strlen(v);
	while (vl && isspace((unsigned char)v[vl - 1]))
		vl--;
	*value = xstrndup(v, vl);
	return true;
}

/* Whether line ends with the escape character (before trailing blanks);
 * the character is cut off when it does. */
static bool continues(char *line, char escape)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	if (!n || line[n - 1] != escape)
		return false;
	line[n - 1] = '\0';
	return true;
}

struct parse {
	struct dockerfile *d;
	char **lines;
	size_t i; /* the next line */
	struct berr **err;
};

static int fail(struct parse *p, int line, const char *cmd, const char *fmt, ...) _printf_(4, 5);
static int fail(struct parse *p, int line, const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	int r = berr_set(p->err, EINVAL, "%s:%d: %s%s%s", p->d->name, line, cmd ? cmd : "", cmd ? ": " : "",
			 msg ? msg : "cannot be parsed");
	free(msg);
	return r;
}

/* <<WORD, <<-WORD, <<"WORD", <<'WORD' in the instruction's text, in order
 * (not <<<, a here-string); their bodies are the lines that follow. */
static int read_heredocs(struct parse *p, struct df_instr *ins)
{
	for (const char *s = ins->rest; (s = strstr(s, "<<"));) {
		if (s[2] == '<') {
			s += 3;
			continue;
		}
		const char *w = s + 2;
		bool chomp = *w == '-';
		w += chomp;
		char quote = *w == '"' || *w == '\'' ? *w : 0;
		w += quote != 0;
		size_t n = 0;
		while (isalnum((unsigned char)w[n]) || w[n] == '_')
			n++;
		if (!n || (quote && w[n] != quote)) {
			s += 2;
			continue;
		}
		struct df_heredoc h = {xstrndup(w, n), NULL, !quote, chomp};
		struct buf body = {0};
		buf_puts(&body, "");
		bool ended = false;
		while (p->lines[p->i]) {
			const char *line = p->lines[p->i++];
			const char *cmp = line;
			if (chomp)
				while (*cmp == '\t')
					cmp++;
			if (streq(cmp, h.name)) {
				ended = true;
				break;
			}
			buf_printf(&body, "%s\n", cmp);
		}
		h.body = buf_steal(&body);
		ins->heredocs = xrealloc(ins->heredocs, (ins->nheredocs + 1) * sizeof(*ins->heredocs));
		ins->heredocs[ins->nheredocs++] = h;
		if (!ended)
			return fail(p, ins->line, ins->cmd, "the heredoc <<%s never ends (no line \"%s\")", h.name,
				    h.name);
		s = w + n;
	}
	return 0;
}

/* A JSON array of strings: the exec form. */
static char **json_form(const char *rest)
{
	const char *s = skip_blank(rest);
	if (*s != '[')
		return NULL;
	json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
	if (!json_is_array(j)) {
		json_decref(j);
		return NULL;
	}
	char **v = xcalloc(json_array_size(j) + 1, sizeof(char *));
	size_t i;
	json_t *e;
	json_array_foreach(j, i, e)
	{
		if (!json_is_string(e)) {
			strv_free(v);
			json_decref(j);
			return NULL;
		}
		v[i] = xstrdup(json_string_value(e));
	}
	json_decref(j);
	return v;
}

static int instruction(struct parse *p, int line, char *text)
{
	const char *s = skip_blank(text);
	size_t n = strcspn(s, " \t");
	char *cmd = xstrndup(s, n);
	for (char *c = cmd; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	if (!in(known, ARRAY_SIZE(known), cmd)) {
		_cleanup_free_ char *word = xstrndup(s, n);
		free(cmd);
		return fail(p, line, NULL, "unknown instruction %s", word);
	}
	struct df_instr ins = {.cmd = cmd, .line = line, .flags = xcalloc(1, sizeof(char *))};
	s = skip_blank(s + n);
	while (in(flagged, ARRAY_SIZE(flagged), cmd) && startswith(s, "--")) {
		size_t f = strcspn(s, " \t");
		strv_push(&ins.flags, xstrndup(s, f));
		s = skip_blank(s + f);
	}
	size_t rl = strlen(s);
	while (rl && isspace((unsigned char)s[rl - 1]))
		rl--;
	ins.rest = xstrndup(s, rl);
	int r = 0;
	char **argv = json_form(ins.rest);
	if (!argv && in(heredocs, ARRAY_SIZE(heredocs), cmd))
		r = read_heredocs(p, &ins);
	if (argv) {
		ins.argv = argv;
		ins.exec_form = true;
	}
	if (r == 0 && !ins.rest[0] && !streq(cmd, "CMD") && !streq(cmd, "ENTRYPOINT"))
		r = fail(p, line, cmd, "needs an argument");
	p->d->instrs = xrealloc(p->d->instrs, (p->d->n + 1) * sizeof(*p->d->instrs));
	p->d->instrs[p->d->n++] = ins;
	return r;
}

int dockerfile_parse(const char *name, const char *text, size_t len, struct dockerfile *out, struct berr **err)
{
	*out = (struct dockerfile){.name = xstrdup(name), .escape = '\\'};
	struct parse p = {.d = out, .lines = split_lines(text, len), .err = err};
	/* parser directives: only before anything else */
	for (; p.lines[p.i]; p.i++) {
		char *dn = NULL, *dv = NULL;
		if (!directive(p.lines[p.i], &dn, &dv))
			break;
		if (streq(dn, "escape")) {
			if (!streq(dv, "\\") && !streq(dv, "`")) {
				int r = fail(&p, (int)p.i + 1, NULL, "escape must be \\ or `, not \"%s\"", dv);
				free(dn);
				free(dv);
				strv_free(p.lines);
				dockerfile_free(out);
				return r;
			}
			out->escape = dv[0];
		} else if (streq(dn, "syntax")) {
			free(out->syntax);
			out->syntax = xstrdup(dv);
		}
		free(dn);
		free(dv);
	}
	int r = 0;
	while (r == 0 && p.lines[p.i]) {
		int line = (int)p.i + 1;
		char *first = p.lines[p.i++];
		if (blank(first) || comment(first))
			continue;
		struct buf logical = {0};
		char *cur = xstrdup(first);
		bool more = continues(cur, out->escape);
		buf_puts(&logical, cur);
		free(cur);
		/* continuation lines; comment lines among them are dropped, as Docker does */
		while (more && p.lines[p.i]) {
			char *next = p.lines[p.i++];
			if (comment(next))
				continue;
			cur = xstrdup(next);
			more = continues(cur, out->escape);
			buf_puts(&logical, cur);
			free(cur);
		}
		r = instruction(&p, line, logical.s ? logical.s : "");
		buf_free(&logical);
	}
	strv_free(p.lines);
	if (r == 0 && !out->n)
		r = berr_set(err, EINVAL, "%s: the Dockerfile has no instructions", name);
	if (r == 0) {
		/* only ARG may come before the first FROM */
		for (size_t i = 0; i < out->n && !streq(out->instrs[i].cmd, "FROM"); i++)
			if (!streq(out->instrs[i].cmd, "ARG"))
				r = fail(&p, out->instrs[i].line, out->instrs[i].cmd,
					 "comes before the first FROM, where only ARG "
					 "may");
	}
	if (r < 0)
		dockerfile_free(out);
	return r;
}

void dockerfile_free(struct dockerfile *d)
{
	for (size_t i = 0; i < d->n; i++) {
		struct df_instr *x = &d->instrs[i];
		free(x->cmd);
		strv_free(x->flags);
		free(x->rest);
		strv_free(x->argv);
		for (size_t k = 0; k < x->nheredocs; k++) {
			free(x->heredocs[k].name);
			free(x->heredocs[k].body);
		}
		free(x->heredocs);
	}
	free(d->instrs);
	free(d->name);
	free(d->syntax);
	*d = (struct dockerfile){0};
}

/* ---- words and variables ---- */

struct lex {
	const char *s;
	char escape;
	df_lookup_fn lookup;
	void *data;
	struct berr **err;
	bool split;  /* words: an unquoted expansion splits at its blanks, as in a shell */
	bool quotes; /* the word had quotes: "" is a word, an empty expansion is not */
};

#define SPLIT '\1'

static int process(struct lex *x, const char **sp, const char *stop, struct buf *out);

/* ${NAME...} or $NAME at s (just past the $); appends the value. */
static int variable(struct lex *x, const char **sp, struct buf *out)
{
	const char *s = *sp;
	if (*s == '{') {
		s++;
		size_t n = 0;
		while (isalnum((unsigned char)s[n]) || s[n] == '_')
			n++;
		if (!n)
			return berr_set(x->err, EINVAL, "bad substitution in \"%s\"", x->s);
		_cleanup_free_ char *name = xstrndup(s, n);
		const char *v = x->lookup(x->data, name);
		s += n;
		if (*s == '}') {
			buf_puts(out, v ? v : "");
			*sp = s + 1;
			return 0;
		}
		bool colon = *s == ':';
		s += colon;
		char op = *s;
		if (op != '-' && op != '+')
			return berr_set(x->err, EINVAL, "unsupported modifier (%c) in substitution in \"%s\"",
					op ? op : ' ', x->s);
		s++;
		struct buf word = {0};
		buf_puts(&word, "");
		int r = process(x, &s, "}", &word);
		if (r == 0 && *s != '}')
			r = berr_set(x->err, EINVAL, "missing '}' in \"%s\"", x->s);
		bool set = v && (!colon || v[0]);
		if (r == 0)
			buf_puts(out, op == '-' ? (set ? v : word.s) : (set ? word.s : ""));
		buf_free(&word);
		*sp = s + (r == 0);
		return r;
	}
	size_t n = 0;
	while (isalnum((unsigned char)s[n]) || s[n] == '_')
		n++;
	if (!n) { /* a lone $ stays */
		buf_putc(out, '$');
		return 0;
	}
	_cleanup_free_ char *name = xstrndup(s, n);
	const char *v = x->lookup(x->data, name);
	buf_puts(out, v ? v : "");
	*sp = s + n;
	return 0;
}

/* Text up to an unquoted character of stop (NULL: to the end), with its
 * quotes and escapes resolved and its variables expanded (lookup given). */
static int process(struct lex *x, const char **sp, const char *stop, struct buf *out)
{
	const char *s = *sp;
	while (*s && !(stop && strchr(stop, *s))) {
		if (*s == x->escape && s[1]) {
			buf_putc(out, s[1]);
			s += 2;
		} else if (*s == '\'') {
			x->quotes = true;
			const char *e = strchr(s + 1, '\'');
			if (!e)
				return berr_set(x->err, EINVAL, "unclosed quote in \"%s\"", x->s);
			buf_add(out, s + 1, (size_t)(e - s - 1));
			s = e + 1;
		} else if (*s == '"') {
			x->quotes = true;
			s++;
			while (*s && *s != '"') {
				if (*s == x->escape && (s[1] == '"' || s[1] == '$' || s[1] == x->escape)) {
					buf_putc(out, s[1]);
					s += 2;
				} else if (*s == '$' && x->lookup) {
					s++;
					int r = variable(x, &s, out);
					if (r < 0)
						return r;
				} else {
					buf_putc(out, *s++);
				}
			}
			if (*s != '"')
				return berr_set(x->err, EINVAL, "unclosed quote in \"%s\"", x->s);
			s++;
		} else if (*s == '$' && x->lookup) {
			s++;
			struct buf v = {0};
			buf_puts(&v, "");
			int r = variable(x, &s, &v);
			for (char *c = v.s; x->split && *c; c++)
				if (*c == ' ' || *c == '\t' || *c == '\n')
					*c = SPLIT;
			buf_puts(out, v.s);
			buf_free(&v);
			if (r < 0)
				return r;
		} else {
			buf_putc(out, *s++);
		}
	}
	*sp = s;
	return 0;
}

int df_words(const char *s, char escape, df_lookup_fn lookup, void *data, char ***out, struct berr **err)
{
	struct lex x = {s, escape, lookup, data, err, true, false};
	*out = xcalloc(1, sizeof(char *));
	const char *p = skip_blank(s);
	while (*p) {
		struct buf w = {0};
		buf_puts(&w, "");
		x.quotes = false;
		int r = process(&x, &p, " \t\n", &w);
		if (r < 0) {
			buf_free(&w);
			strv_free(*out);
			*out = NULL;
			return r;
		}
		/* an unquoted expansion's blanks split it; a word that was only
		 * an empty unquoted expansion is no word, one of "" is */
		bool quoted = x.quotes;
		char *save = NULL;
		size_t before = strv_len(*out);
		for (char *t = strtok_r(w.s, "\1", &save); t; t = strtok_r(NULL, "\1", &save))
			strv_push(out, xstrdup(t));
		if (strv_len(*out) == before && !w.s[0] && quoted)
			strv_push(out, xstrdup(""));
		buf_free(&w);
		p = skip_blank(p);
		while (*p == '\n')
			p = skip_blank(p + 1);
	}
	return 0;
}

int df_word(const char *s, char escape, df_lookup_fn lookup, void *data, char **out, struct berr **err)
{
	struct lex x = {s, escape, lookup, data, err, false, false};
	struct buf w = {0};
	buf_puts(&w, "");
	const char *p = s;
	int r = process(&x, &p, NULL, &w);
	if (r < 0) {
		buf_free(&w);
		return r;
	}
	*out = buf_steal(&w);
	return 0;
}
