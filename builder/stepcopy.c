/* COPY, ADD and WORKDIR as build steps: their flags and words, sources
 * from the context, a stage, a named context, an image or URLs, the
 * cache key from a content hash, then builder/copy.c does the copying. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../images/fetch.h"
#include "../images/imgcfg.h"
#include "../lib/buf.h"
#include "../lib/fs.h"
#include "../lib/util.h"
#include "../runtime/user.h"
#include "copy.h"
#include "layer.h"
#include "step.h"

/* A copy (or WORKDIR's mkdir) done, and its changes the stage's layer. */
static int copy_commit(struct build *b, struct sstate *ss, const struct bcopy *c, const char *by, int v, int64_t t0,
		       struct berr **err)
{
	_cleanup_free_ char *upper = NULL;
	int r = bcopy_run(c, &upper, err);
	if (r == 0)
		r = build_commit(b, ss, ss->key, upper, by, err);
	if (r == 0)
		build_vdone(b, v, t0, false);
	return r;
}

int build_step_workdir(struct build *b, struct sstate *ss, const struct df_instr *ins, const char *step,
		       struct berr **err)
{
	_cleanup_free_ char *w = NULL;
	int r = df_word(ins->rest, ss->s.escape, bstage_lookup, &ss->s, &w, err);
	if (r < 0)
		return r;
	const char *cur = json_string_value(json_object_get(ss->s.cfg, "WorkingDir"));
	_cleanup_free_ char *path = path_join(cur && cur[0] ? cur : "/", w);
	json_object_set_new(ss->s.cfg, "WorkingDir", json_string(path));
	const char *user = json_string_value(json_object_get(ss->s.cfg, "User"));
	_cleanup_free_ char *by = xasprintf("WORKDIR %s", path);
	_cleanup_free_ char *text = xasprintf("%s\nuser %s", by, user ? user : "");
	build_key(ss->key, ss->key, text);
	_cleanup_(strv_freep) char **lower = build_lower(b, ss);
	struct stat st;
	if (blayer_lstat(lower, path + 1, &st) == 0 && S_ISDIR(st.st_mode)) {
		build_history(ss, by, true, b->created);
		return 0;
	}
	int64_t t0 = now_ms();
	_cleanup_free_ char *shown = build_instr_text(ins);
	int v = build_vstart(b, "[%s] %s", step, shown);
	if (build_cached(b, ss, ss->key, by)) {
		build_vdone(b, v, t0, true);
		return 0;
	}
	_cleanup_free_ char *work = build_scratch(b);
	struct bcopy c = {.layers = lower, .work = work, .dest = path, .mkdir_only = true, .what = "WORKDIR"};
	gid_t *groups = NULL;
	size_t ng = 0;
	c.chown = user && user[0] && user_lookup(lower, user, &c.uid, &c.gid, &groups, &ng, NULL) == 0;
	free(groups);
	return copy_commit(b, ss, &c, by, v, t0, err);
}

/* --- COPY and ADD --- */

struct copy_flags {
	char *from, *chown, *chmod, *checksum;
	bool parents;
	char **excludes;
};

static void copy_flags_free(struct copy_flags *f)
{
	free(f->from);
	free(f->chown);
	free(f->chmod);
	free(f->checksum);
	strv_free(f->excludes);
}

bool build_flag_bool(const char *v) { return !v || streq(v, "true") || streq(v, "1"); }

static int copy_flags(struct sstate *ss, const struct df_instr *ins, struct copy_flags *f, struct berr **err)
{
	*f = (struct copy_flags){.excludes = xcalloc(1, sizeof(char *))};
	bool add = streq(ins->cmd, "ADD");
	for (size_t i = 0; ins->flags[i]; i++) {
		const char *fl = ins->flags[i], *eq = strchr(fl, '=');
		_cleanup_free_ char *name = eq ? xstrndup(fl, (size_t)(eq - fl)) : xstrdup(fl);
		char *v = NULL;
		if (eq) {
			int r = df_word(eq + 1, ss->s.escape, bstage_lookup, &ss->s, &v, err);
			if (r < 0)
				return r;
		}
		char **slot = streq(name, "--from")              ? &f->from
			      : streq(name, "--chown")           ? &f->chown
			      : streq(name, "--chmod")           ? &f->chmod
			      : streq(name, "--checksum") && add ? &f->checksum
								 : NULL;
		if (slot && v) {
			free(*slot);
			*slot = v;
		} else if (streq(name, "--exclude") && v) {
			strv_push(&f->excludes, v);
		} else if (streq(name, "--parents")) {
			f->parents = build_flag_bool(v);
			free(v);
		} else if (streq(name, "--link")) {
			free(v); /* layers are independent of each other here anyway */
		} else {
			free(v);
			return berr_set(err, EINVAL, "unknown flag %s", name);
		}
	}
	return 0;
}

static bool is_url(const char *s) { return startswith(s, "http://") || startswith(s, "https://"); }

static bool is_git(const char *s)
{
	return startswith(s, "git@") || startswith(s, "git://") || (is_url(s) && endswith(s, ".git"));
}

/* The words of COPY/ADD: sources, heredoc files, and the destination. */
static int copy_words(struct sstate *ss, const struct df_instr *ins, struct bcopy *c, char ***srcs, char ***urls,
		      char ***hn, char ***hb, char **dest, struct berr **err)
{
	_cleanup_(strv_freep) char **w = NULL;
	int r = ins->exec_form ? (w = strv_copy(ins->argv), 0)
			       : df_words(ins->rest, ss->s.escape, bstage_lookup, &ss->s, &w, err);
	if (r < 0)
		return r;
	size_t n = strv_len(w);
	if (n < 2)
		return berr_set(err, EINVAL, "needs a source and a destination");
	*srcs = xcalloc(1, sizeof(char *));
	*urls = xcalloc(1, sizeof(char *));
	*hn = xcalloc(1, sizeof(char *));
	*hb = xcalloc(1, sizeof(char *));
	for (size_t i = 0; i + 1 < n; i++) {
		const struct df_heredoc *h = NULL;
		for (size_t k = 0; startswith(w[i], "<<") && k < ins->nheredocs; k++) {
			const char *nm = w[i] + 2 + (w[i][2] == '-');
			if (streq(nm, ins->heredocs[k].name))
				h = &ins->heredocs[k];
		}
		if (h) {
			strv_push(hn, xstrdup(h->name));
			strv_push(hb, xstrdup(h->body));
		} else if (is_git(w[i])) {
			return berr_set(err, ENOTSUP,
					"%s: git sources are not supported by berth; clone it into the "
					"build context",
					w[i]);
		} else if (is_url(w[i]) && !streq(ins->cmd, "ADD")) {
			return berr_set(err, EINVAL, "%s: COPY cannot take a URL; use ADD", w[i]);
		} else if (is_url(w[i])) {
			strv_push(urls, xstrdup(w[i]));
		} else {
			strv_push(srcs, xstrdup(w[i]));
		}
	}
	const char *d = w[n - 1];
	const char *cur = json_string_value(json_object_get(ss->s.cfg, "WorkingDir"));
	*dest = path_join(cur && cur[0] ? cur : "/", d);
	c->dest_dir = endswith(d, "/") || streq(d, ".") || endswith(d, "/.");
	return 0;
}

static int copy_owner(struct bcopy *c, char **lower, const struct copy_flags *f, struct berr **err)
{
	if (f->chown) {
		gid_t *groups = NULL;
		size_t ng = 0;
		int r = user_lookup(lower, f->chown, &c->uid, &c->gid, &groups, &ng, err);
		free(groups);
		if (r < 0)
			return berr_prefix(err, "--chown=%s: ", f->chown);
		c->chown = true;
	}
	if (f->chmod) {
		char *end = NULL;
		long m = strtol(f->chmod, &end, 8);
		if (!f->chmod[0] || *end || m < 0 || m > 07777)
			return berr_set(err, EINVAL, "--chmod=%s: give the mode in octal, as 0644", f->chmod);
		c->chmod = true;
		c->mode = (mode_t)m;
	}
	return 0;
}

/* ADD URL…: each fetched into a directory of the build's, named as the
 * URL's last path part, mode 0600 and the server's Last-Modified, as
 * Docker does; checked against --checksum. */
static int fetch_urls(struct build *b, char *const *urls, const char *checksum, char **dir, char ***names,
		      struct berr **err)
{
	if (checksum && strv_len(urls) != 1)
		return berr_set(err, EINVAL, "--checksum takes one URL");
	if (checksum && (!startswith(checksum, "sha256:") || strlen(checksum) != 71))
		return berr_set(err, EINVAL, "--checksum=%s: give sha256:<64 hex digits>", checksum);
	*dir = xasprintf("%s/url-%d-%d", b->work, (int)getpid(), ++b->nrun);
	*names = xcalloc(1, sizeof(char *));
	int r = fs_mkdir_p(*dir, 0700, err);
	for (size_t i = 0; r == 0 && urls[i]; i++) {
		const char *path = strstr(urls[i], "://") + 3;
		path += strcspn(path, "/");
		_cleanup_free_ char *clean = xstrndup(path, strcspn(path, "?#"));
		const char *base = strrchr(clean, '/') ? strrchr(clean, '/') + 1 : clean;
		_cleanup_free_ char *name = xstrdup(base[0] && !streq(base, "..") && !streq(base, ".") ? base
												       : "download");
		_cleanup_free_ char *file = xasprintf("%s/%s", *dir, name);
		_cleanup_close_ int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		time_t mtime = 0;
		char digest[72];
		r = fd < 0 ? berr_sys(err, errno, "cannot write %s", file)
			   : http_fetch(urls[i], fd, 8ULL << 30, &mtime, digest, err);
		if (r == 0 && checksum && !streq(checksum, digest))
			r = berr_set(err, EBADMSG, "%s: checksum mismatch: it is %s, --checksum says %s", urls[i],
				     digest, checksum);
		if (r == 0 && mtime) {
			struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
			futimens(fd, ts);
		}
		strv_push(names, steal_ptr(&name));
	}
	return r;
}

static char *copy_by(const struct df_instr *ins, char *const *srcs, char *const *hn, const char *dest)
{
	struct buf by = {0};
	buf_puts(&by, ins->cmd);
	for (size_t i = 0; ins->flags[i]; i++)
		buf_printf(&by, " %s", ins->flags[i]);
	for (size_t i = 0; srcs[i]; i++)
		buf_printf(&by, " %s", srcs[i]);
	for (size_t i = 0; hn[i]; i++)
		buf_printf(&by, " <<%s", hn[i]);
	buf_printf(&by, " %s", dest);
	return buf_steal(&by);
}

/* A COPY or ADD, as its words and flags build_say it. */
struct copy_step {
	struct copy_flags f;
	struct bcopy c;
	struct bsource src;
	struct ignore ex;
	char **srcs, **urls, **hn, **hb, **lower;
	char *dest;
};

static void copy_step_free(struct copy_step *cs)
{
	copy_flags_free(&cs->f);
	build_source_free(&cs->src);
	ignore_free(&cs->ex);
	strv_free(cs->srcs);
	strv_free(cs->urls);
	strv_free(cs->hn);
	strv_free(cs->hb);
	strv_free(cs->lower);
	free(cs->dest);
}

static int copy_prepare(struct build *b, size_t si, struct sstate *ss, const struct df_instr *ins, struct copy_step *cs,
			struct berr **err)
{
	cs->c = (struct bcopy){.what = ins->cmd, .add = streq(ins->cmd, "ADD")};
	int r = copy_flags(ss, ins, &cs->f, err);
	if (r == 0)
		r = copy_words(ss, ins, &cs->c, &cs->srcs, &cs->urls, &cs->hn, &cs->hb, &cs->dest, err);
	if (r == 0 && cs->f.checksum && !cs->urls[0])
		r = berr_set(err, EINVAL, "--checksum is for sources from URLs");
	if (r == 0 && cs->urls[0] && (cs->srcs[0] || cs->hn[0] || cs->f.from))
		r = berr_set(err, ENOTSUP, "berth takes URLs in an ADD of their own, without other sources");
	if (r == 0 && cs->urls[0]) {
		strv_free(cs->srcs);
		r = fetch_urls(b, cs->urls, cs->f.checksum, &cs->src.dir, &cs->srcs, err);
		cs->c.add = false; /* a fetched archive stays as it is, as Docker leaves it */
	} else if (r == 0) {
		r = build_source(b, si, cs->f.from, &cs->src, err);
	}
	cs->lower = build_lower(b, ss);
	if (r == 0)
		r = copy_owner(&cs->c, cs->lower, &cs->f, err);
	struct buf t = {0};
	for (size_t i = 0; cs->f.excludes && cs->f.excludes[i]; i++)
		buf_printf(&t, "%s\n", cs->f.excludes[i]);
	if (r == 0)
		r = ignore_parse("--exclude", t.s ? t.s : "", &cs->ex, err);
	buf_free(&t);
	return r;
}

int build_step_copy(struct build *b, size_t si, struct sstate *ss, const struct df_instr *ins, const char *step,
		    struct berr **err)
{
	struct copy_step cs = {0};
	_cleanup_free_ char *by = NULL;
	int r = copy_prepare(b, si, ss, ins, &cs, err);
	char hex[65] = "";
	if (r == 0 && !cs.src.key)
		r = bcopy_hash(cs.src.dir, cs.src.ig, &cs.ex, cs.srcs, hex, err);
	if (r < 0) {
		copy_step_free(&cs);
		return r;
	}
	by = copy_by(ins, cs.urls[0] ? cs.urls : cs.srcs, cs.hn, cs.dest);
	struct buf text = {0};
	buf_printf(&text, "%s\ninputs %s%s\n", by, cs.src.key ? cs.src.key : hex, cs.c.dest_dir ? " dir" : "");
	for (size_t i = 0; cs.hb[i]; i++)
		buf_printf(&text, "heredoc %zu %s\n", strlen(cs.hb[i]), cs.hb[i]);
	_cleanup_free_ char *hist = xasprintf("%s # buildkit", by);
	int64_t t0;
	bool cached;
	int v = build_step_begin(b, ss, ins, step, text.s, hist, true, &t0, &cached);
	buf_free(&text);
	if (!cached) {
		_cleanup_free_ char *work = build_scratch(b);
		struct bcopy *c = &cs.c;
		c->layers = cs.lower;
		c->work = work;
		c->src_dir = cs.src.dir;
		c->src_layers = cs.src.layers;
		c->ig = cs.src.ig;
		c->ex = &cs.ex;
		c->srcs = cs.srcs;
		c->here_names = cs.hn;
		c->here_bodies = cs.hb;
		c->dest = cs.dest;
		c->parents = cs.f.parents;
		r = copy_commit(b, ss, c, hist, v, t0, err);
	}
	copy_step_free(&cs);
	return r;
}
