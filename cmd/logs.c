/* berth logs, and the log streaming that berth up does when attached. */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/json.h"
#include "../lib/fs.h"
#include "../lib/buf.h"
#include "../orchestrator/apply.h"
#include "../orchestrator/units.h"
#include "../runtime/ctr.h"
#include "cli.h"
#include "logs.h"

struct log_line {
	int64_t ns;
	int who; /* index into the containers */
	char *text, *stream, *time;
};

/* As docker compose prefixes a container's lines: its name without
 * "PROJECT-" (a container_name of its own stays whole). */
static char *shown_name(const char *project, const char *name)
{
	size_t plen = project ? strlen(project) : 0;
	bool own = plen && strncmp(name, project, plen) == 0 && (name[plen] == '-' || name[plen] == '_') &&
		   name[plen + 1];
	return xstrdup(own ? name + plen + 1 : name);
}

static const int colors[] = {36, 33, 32, 35, 34, 96, 93, 92, 95, 94};

static int64_t parse_time(const char *t)
{
	struct tm tm = {0};
	const char *rest = t ? strptime(t, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!rest)
		return 0;
	int64_t ns = (int64_t)timegm(&tm) * 1000000000LL;
	if (*rest == '.') {
		int64_t frac = 0, scale = 100000000;
		for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10)
			frac += (*rest - '0') * scale;
		ns += frac;
	}
	return ns;
}

/* --since/--until: RFC 3339, a unix time, or a duration before now ("10m"). */
int64_t log_time_arg(const char *s)
{
	if (!s)
		return 0;
	long long d;
	if (duration_parse(s, &d) == 0 && !strchr(s, '-'))
		return (int64_t)time(NULL) * 1000000000LL - d;
	char *end;
	double unix_s = strtod(s, &end);
	if (!*end)
		return (int64_t)(unix_s * 1e9);
	return parse_time(s);
}

static void add_line(struct log_line **v, size_t *n, int who, json_t *j)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	const char *t = json_string_value(json_object_get(j, "time"));
	(*v)[(*n)++] = (struct log_line){
		parse_time(t), who, xstrdup(json_string_value(json_object_get(j, "log")) ?: ""),
		xstrdup(json_string_value(json_object_get(j, "stream")) ?: "stdout"), xstrdup(t ? t : "")};
}

/* Read new complete lines of path from *offset on. */
static void read_new(const char *path, off_t *offset, int who, struct log_line **v, size_t *n)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	if (fseeko(f, *offset, SEEK_SET) == 0) {
		char *line = NULL;
		size_t cap = 0;
		ssize_t len;
		while ((len = getline(&line, &cap, f)) > 0) {
			if (line[len - 1] != '\n')
				break; /* the shim is still writing it */
			*offset += len;
			_cleanup_(json_releasep) json_t *j = json_loads(line, 0, NULL);
			if (j)
				add_line(v, n, who, j);
		}
		free(line);
	}
	fclose(f);
}

/* Where the last `want` complete lines of path begin, read backwards from
 * the end (a log may be gigabytes; --tail 10 reads a few KiB of it).
 * *found: how many complete lines that is (fewer when the file has fewer). */
static off_t tail_offset(const char *path, long want, long *found)
{
	*found = 0;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return 0;
	char buf[65536];
	off_t pos = st.st_size, end = -1; /* end: just past the last newline */
	while (pos > 0) {
		size_t n = pos > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)pos;
		pos -= (off_t)n;
		if (pread(fd, buf, n, pos) != (ssize_t)n)
			return 0;
		for (size_t i = n; i > 0; i--) {
			if (buf[i - 1] != '\n')
				continue;
			if (end < 0) {
				end = pos + (off_t)i;
				if (want == 0)
					return end;
				continue;
			}
			if (++*found == want)
				return pos + (off_t)i;
		}
	}
	if (end >= 0)
		++*found; /* the first line of the file */
	return 0;
}

static int line_cmp(const void *a, const void *b)
{
	const struct log_line *x = a, *y = b;
	return x->ns < y->ns ? -1 : x->ns > y->ns;
}

static void print_line(struct log_view *lv, struct log_line *l)
{
	if ((lv->since && l->ns < lv->since) || (lv->until && l->ns > lv->until))
		return;
	struct buf b = {0};
	/* the shim keeps a line longer than its buffer as pieces, the last
	 * ending in a newline: they print as the one line they are */
	bool more = l->text[0] && l->text[strlen(l->text) - 1] != '\n';
	bool first = !lv->cont[l->who];
	lv->cont[l->who] = more;
	if (lv->prefix && first) {
		if (lv->color)
			buf_printf(&b, "\033[%dm", colors[l->who % (int)ARRAY_SIZE(colors)]);
		buf_printf(&b, "%-*s | ", (int)lv->width, lv->shown[l->who]);
		if (lv->color)
			buf_puts(&b, "\033[0m");
	}
	if (lv->timestamps && first)
		buf_printf(&b, "%s ", l->time);
	buf_puts(&b, l->text);
	if (!more && (!b.len || b.s[b.len - 1] != '\n'))
		buf_putc(&b, '\n');
	/* the container's stderr to berth's stderr, as docker compose */
	bool err = l->stream && streq(l->stream, "stderr");
	if (err)
		fflush(stdout);
	fwrite(b.s, 1, b.len, err ? stderr : stdout);
	buf_free(&b);
}

static void free_lines(struct log_line *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].text);
		free(v[i].stream);
		free(v[i].time);
	}
	free(v);
}

static void print_sorted(struct log_view *lv, struct log_line *lines, size_t n)
{
	if (n > 1)
		qsort(lines, n, sizeof(*lines), line_cmp);
	for (size_t i = 0; i < n; i++)
		print_line(lv, &lines[i]);
	fflush(stdout);
	free_lines(lines, n);
}

static char *log_path(const char *root, const char *name)
{
	_cleanup_free_ char *dir = ctr_dir(root, name);
	return xasprintf("%s/%s-json.log", dir, name);
}

/* Print what the logs hold (the last tail lines of each when tail >= 0),
 * then, with follow, what comes until stop() says so. */
int show_logs(const char *root, struct log_view *lv, long tail, bool follow, bool (*stop)(void *), void *data)
{
	size_t nc = strv_len(lv->names);
	off_t *offsets = xcalloc(nc + 1, sizeof(off_t));
	struct log_line *lines = NULL;
	size_t n = 0;
	for (size_t i = 0; i < nc; i++) {
		_cleanup_free_ char *path = log_path(root, lv->names[i]);
		if (lv->only_new && lv->only_new[i]) { /* what it prints from now on */
			offsets[i] = tail_offset(path, 0, &(long){0});
			continue;
		}
		if (tail >= 0) {
			/* from the end: the newest file, then older ones while lines are missing */
			long left = tail;
			int k = 0;
			off_t from[10] = {0};
			for (; k <= 9 && left > 0; k++) {
				_cleanup_free_ char *f = k ? xasprintf("%s.%d", path, k) : xstrdup(path);
				long found;
				from[k] = fs_exists(f) ? tail_offset(f, left, &found) : 0;
				left -= fs_exists(f) ? found : 0;
				if (k == 0)
					offsets[i] = from[0];
			}
			for (int j = k - 1; j >= 1; j--) { /* oldest first */
				_cleanup_free_ char *f = xasprintf("%s.%d", path, j);
				if (fs_exists(f))
					read_new(f, &from[j], (int)i, &lines, &n);
			}
			if (tail == 0)
				offsets[i] = tail_offset(path, 0, &(long){0});
			read_new(path, &offsets[i], (int)i, &lines, &n);
			continue;
		}
		/* rotated files first, oldest first */
		for (int k = 9; k >= 1; k--) {
			_cleanup_free_ char *old = xasprintf("%s.%d", path, k);
			off_t o = 0;
			if (fs_exists(old))
				read_new(old, &o, (int)i, &lines, &n);
		}
		read_new(path, &offsets[i], (int)i, &lines, &n);
	}
	print_sorted(lv, lines, n);
	/* stop is asked before reading: the shim writes the last lines before
	 * it records the exit, so the read after a yes sees them all */
	for (unsigned round = 0; follow; round++) {
		_cleanup_(strv_freep) char **now = lv->discover && round % 10 == 9 ? lv->discover(lv->discover_data)
										   : NULL;
		for (size_t i = 0; now && now[i]; i++) {
			if (strv_contains(lv->names, now[i]))
				continue;
			offsets = xrealloc(offsets, (nc + 2) * sizeof(*offsets));
			offsets[nc] = 0;
			lv->cont = xrealloc(lv->cont, (nc + 2) * sizeof(bool));
			lv->cont[nc] = false;
			if (lv->only_new) {
				lv->only_new = xrealloc(lv->only_new, (nc + 2) * sizeof(bool));
				lv->only_new[nc] = false;
			}
			strv_push(&lv->names, xstrdup(now[i]));
			strv_push(&lv->shown, shown_name(lv->project, now[i]));
			if (strlen(lv->shown[nc]) + 1 > lv->width)
				lv->width = strlen(lv->shown[nc]) + 1;
			nc++;
		}
		bool done = stop && stop(data);
		lines = NULL;
		n = 0;
		for (size_t i = 0; i < nc; i++) {
			_cleanup_free_ char *path = log_path(root, lv->names[i]);
			read_new(path, &offsets[i], (int)i, &lines, &n);
		}
		print_sorted(lv, lines, n);
		if (done)
			break;
		poll(NULL, 0, 100);
	}
	for (size_t i = 0; i < nc; i++) /* a last piece that never got its newline */
		if (lv->cont[i])
			putchar('\n');
	fflush(stdout);
	free(offsets);
	return 0;
}

struct log_view *log_view_new(const char *project, struct ctr_info *list, size_t n, bool prefix, bool color,
			      bool timestamps)
{
	struct log_view *lv = xcalloc(1, sizeof(*lv));
	lv->names = xcalloc(n + 1, sizeof(char *));
	lv->shown = xcalloc(n + 1, sizeof(char *));
	lv->cont = xcalloc(n + 1, sizeof(bool));
	lv->project = project;
	for (size_t i = 0; i < n; i++) {
		lv->names[i] = xstrdup(list[i].name);
		lv->shown[i] = shown_name(project, list[i].name);
		if (strlen(lv->shown[i]) + 1 > lv->width)
			lv->width = strlen(lv->shown[i]) + 1;
	}
	lv->prefix = prefix;
	lv->color = color;
	lv->timestamps = timestamps;
	return lv;
}

void log_view_free(struct log_view *lv)
{
	if (!lv)
		return;
	strv_free(lv->names);
	strv_free(lv->shown);
	free(lv->cont);
	free(lv->only_new);
	free(lv);
}

struct follow_ctx {
	const char *root;
	struct log_view *lv;
	const struct project *p;
	char **services; /* NULL: all */
	const char *index;
};

/* logs -f ends when every container has stopped. */
static bool all_stopped(void *data)
{
	struct follow_ctx *f = data;
	for (size_t i = 0; f->lv->names[i]; i++) {
		if (ctr_up(f->root, f->lv->names[i], NULL))
			return false;
	}
	return true;
}

/* The selection's containers, as logs chose them at first. */
static bool wanted(const struct ctr_info *c, char **services, const char *index, bool say)
{
	json_t *meta = apply_meta(berth_root(), c->name);
	bool none = streq(json_string_value(json_object_get(meta, "log_driver")), "none");
	json_decref(meta);
	if (none && say && (!services || strv_contains(services, c->service)))
		fprintf(stderr, "berth: %s: its logging driver is none; no logs are kept\n", c->name);
	/* one-offs (berth run) are not among them, as in docker compose */
	return !c->oneoff && !(services && !strv_contains(services, c->service)) && !none &&
	       !(index && c->number != atoi(index));
}

static char **discover(void *data)
{
	struct follow_ctx *f = data;
	size_t n;
	struct ctr_info *list = apply_list(f->p, f->root, &n);
	char **out = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0, k = 0; i < n; i++)
		if (wanted(&list[i], f->services, f->index, false))
			out[k++] = xstrdup(list[i].name);
	ctr_info_free(list, n);
	return out;
}

int cmd_logs(struct global_opts *g, int argc, char **argv)
{
	bool follow = false, timestamps = false, no_color = false, no_prefix = false, help = false;
	const char *tail = NULL, *since = NULL, *until = NULL, *index = NULL;
	char **pos = NULL;
	const struct flag flags[] = {
		{"follow", 'f', FLAG_BOOL, &follow, NULL, "Follow log output"},
		{"tail", 'n', FLAG_STR, &tail, "N", "Number of lines from the end of each log (or all)"},
		{"timestamps", 't', FLAG_BOOL, &timestamps, NULL, "Show timestamps"},
		{"since", 0, FLAG_STR, &since, "TIME", "Only lines since TIME (RFC 3339 or a duration like 10m)"},
		{"until", 0, FLAG_STR, &until, "TIME", "Only lines before TIME"},
		{"no-color", 0, FLAG_BOOL, &no_color, NULL, "Monochrome output"},
		{"no-log-prefix", 0, FLAG_BOOL, &no_prefix, NULL, "Do not print the container name"},
		{"index", 0, FLAG_STR, &index, "N", "Only the service's container number N"},
		{"help", 'h', FLAG_BOOL, &help, NULL, "Show this help"},
	};
	int i = 1;
	struct berr *err = NULL;
	if (flags_parse(flags, ARRAY_SIZE(flags), argc, argv, &i, false, &pos, &err) < 0) {
		int rc = usage_error("logs", err->msg);
		berr_free(err);
		strv_free(pos);
		return rc;
	}
	if (help) {
		printf("Usage: berth logs [OPTIONS] [SERVICE...]\n\nView output from containers.\n\nOptions:\n");
		flags_usage(stdout, flags, ARRAY_SIZE(flags));
		strv_free(pos);
		return 0;
	}
	_cleanup_(project_freep) struct project *p = NULL;
	if (project_open(g, pos, false, &p, &err) < 0) { /* named services: enabled whatever their profiles */
		strv_free(pos);
		return report(err);
	}
	size_t n;
	struct ctr_info *list = apply_list(p, berth_root(), &n);
	size_t k = 0;
	for (size_t j = 0; j < n; j++) {
		if (!wanted(&list[j], pos, index, true)) {
			ctr_info_clear(&list[j]);
			continue;
		}
		list[k++] = list[j];
	}
	struct log_view *lv = log_view_new(p->name, list, k, !no_prefix, !no_color && cli_color(), timestamps);
	lv->since = log_time_arg(since);
	lv->until = log_time_arg(until);
	long t = tail && !streq(tail, "all") ? atol(tail) : -1;
	struct follow_ctx fc = {berth_root(), lv, p, pos, index};
	lv->discover = discover;
	lv->discover_data = &fc;
	show_logs(berth_root(), lv, t, follow, all_stopped, &fc);
	log_view_free(lv);
	ctr_info_free(list, k);
	strv_free(pos);
	return 0;
}
