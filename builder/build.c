#include "build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../images/image.h"
#include "../images/fetch.h"
#include "../images/imgcfg.h"
#include "../images/pull.h"
#include "../images/ref.h"
#include "../images/store.h"
#include "../lib/buf.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../lib/sha256.h"
#include "../lib/util.h"
#include "../network/net.h"
#include "../runtime/ctr.h"
#include "config.h"
#include "copy.h"
#include "dockerfile.h"
#include "ignore.h"
#include "layer.h"
#include "run.h"
#include "stages.h"

/* A stage while it is built: its config, its layers and its cache key. */
struct sstate {
	struct bstage s;
	char key[65];
	bool built;
};

struct build {
	const struct build_opts *o;
	struct store *st;
	struct dockerfile df;
	struct df_stage *stages;
	size_t nstages;
	struct ignore ig;
	char *context; /* absolute */
	struct sstate *ss;
	char **lines;	 /* the Dockerfile's text, for what a failure shows */
	char **meta;	 /* ARGs before FROM, and the platform's */
	char **args;	 /* the platform's ARGs, then --build-arg over them */
	char *platform;	 /* linux/amd64 */
	char *created;
	char *work;	 /* <root>/build/<pid>: scratch space, gone at the end */
	char *empty;	 /* an empty directory: the lower layer of scratch */
	int *vertex;	 /* shared with the processes that build stages side by side */
	int nrun;
	char *prefix;	 /* of the build's container names: build-<pid>- */
	int64_t t0;
	FILE *out;
	bool used_network;
	/* the current step, for RUN's output */
	int cur_vertex;
	int64_t cur_t0;
	struct buf partial;
	char *tail[10];
	size_t ntail;
};

/* --- progress, as BuildKit's plain output --- */

/* One line, written at once: stages built side by side share the output. */
static void say(struct build *b, const char *fmt, ...) _printf_(2, 3);
static void say(struct build *b, const char *fmt, ...)
{
	if (b->o->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *line = NULL;
	if (vasprintf(&line, fmt, ap) >= 0) {
		fwrite(line, 1, strlen(line), b->out);
		fflush(b->out);
	}
	free(line);
	va_end(ap);
}

static int vstart(struct build *b, const char *fmt, ...) _printf_(2, 3);
static int vstart(struct build *b, const char *fmt, ...)
{
	int v = __atomic_add_fetch(b->vertex, 1, __ATOMIC_SEQ_CST);
	va_list ap;
	va_start(ap, fmt);
	char *what = NULL;
	if (vasprintf(&what, fmt, ap) >= 0)
		say(b, "#%d %s\n", v, what);
	free(what);
	va_end(ap);
	return v;
}

static void vdone(struct build *b, int v, int64_t t0, bool cached)
{
	if (cached)
		say(b, "#%d CACHED\n\n", v);
	else
		say(b, "#%d DONE %.1fs\n\n", v, (double)(now_ms() - t0) / 1000.0);
}

static void tail_add(struct build *b, const char *line, size_t n)
{
	if (b->ntail == ARRAY_SIZE(b->tail)) {
		free(b->tail[0]);
		memmove(b->tail, b->tail + 1, (ARRAY_SIZE(b->tail) - 1) * sizeof(char *));
		b->ntail--;
	}
	b->tail[b->ntail++] = xstrndup(line, n);
}

static void out_line(struct build *b, const char *line, size_t n)
{
	tail_add(b, line, n);
	say(b, "#%d %.3f %.*s\n", b->cur_vertex, (double)(now_ms() - b->cur_t0) / 1000.0, (int)n, line);
}

static void on_output(void *data, const char *text, size_t len)
{
	struct build *b = data;
	buf_add(&b->partial, text, len);
	char *start = b->partial.s;
	for (char *nl; (nl = memchr(start, '\n', b->partial.len - (size_t)(start - b->partial.s)));) {
		out_line(b, start, (size_t)(nl - start));
		start = nl + 1;
	}
	size_t rest = b->partial.len - (size_t)(start - b->partial.s);
	memmove(b->partial.s, start, rest);
	b->partial.len = rest;
	b->partial.s[rest] = '\0';
	if (!b->o->quiet)
		fflush(b->out);
}

static void output_flush(struct build *b)
{
	if (b->partial.len)
		out_line(b, b->partial.s, b->partial.len);
	b->partial.len = 0;
}

static void tail_clear(struct build *b)
{
	for (size_t i = 0; i < b->ntail; i++)
		free(b->tail[i]);
	b->ntail = 0;
}

/* --- the build cache: <store>/buildcache/<key>.json --- */

static char *cache_path(struct build *b, const char *key) { return xasprintf("%s/buildcache/%s.json", b->st->dir, key); }

static void key_next(char key[65], const char *prev, const char *text)
{
	struct sha256 h;
	sha256_begin(&h);
	sha256_add(&h, prev, strlen(prev));
	sha256_add(&h, "\n", 1);
	sha256_add(&h, text, strlen(text));
	sha256_hex(&h, key);
}

/* A cached step: its layer (NULL when it changed nothing) and time. */
static json_t *cache_get(struct build *b, const char *key)
{
	if (b->o->no_cache)
		return NULL;
	_cleanup_free_ char *path = cache_path(b, key);
	json_t *j = json_load_file(path, 0, NULL);
	json_t *layer = json_object_get(j, "layer");
	const char *digest = json_string_value(json_object_get(layer, "digest"));
	const char *diff_id = json_string_value(json_object_get(layer, "diff_id"));
	if (!j || (layer && !json_is_null(layer) && (!digest || !diff_id || !store_has_blob(b->st, digest)))) {
		json_decref(j);
		return NULL;
	}
	if (diff_id) {
		_cleanup_free_ char *dir = store_layer_path(b->st, diff_id);
		if (!fs_is_dir(dir)) {
			json_decref(j);
			return NULL;
		}
	}
	return j;
}

static void cache_put(struct build *b, const char *key, json_t *entry)
{
	_cleanup_free_ char *dir = xasprintf("%s/buildcache", b->st->dir);
	_cleanup_free_ char *path = cache_path(b, key);
	char *text = json_dumps(entry, JSON_COMPACT);
	if (fs_mkdir_p(dir, 0700, NULL) == 0)
		fs_write_replace(path, text, strlen(text), 0600, NULL);
	free(text);
}

/* --- stage state --- */

static char **layer_dirs(struct build *b, json_t *layers)
{
	size_t n = json_array_size(layers);
	char **dirs = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		dirs[i] = store_layer_path(b->st, json_string_value(json_object_get(json_array_get(layers, n - 1 - i),
										     "diff_id")));
	return dirs;
}

/* The lower layers of a step: the stage's, or one empty directory. */
static char **lower_of(struct build *b, struct sstate *ss)
{
	char **dirs = layer_dirs(b, ss->s.layers);
	if (!dirs[0])
		strv_push(&dirs, xstrdup(b->empty));
	return dirs;
}

static void history_add(struct sstate *ss, const char *by, bool empty, const char *created)
{
	json_t *h = json_pack("{s:s, s:s, s:s}", "created", created, "created_by", by, "comment",
			      "buildkit.dockerfile.v0");
	if (empty)
		json_object_set_new(h, "empty_layer", json_true());
	json_array_append_new(ss->s.history, h);
}

static void sstate_free(struct sstate *ss)
{
	json_decref(ss->s.cfg);
	json_decref(ss->s.history);
	json_decref(ss->s.layers);
	free(ss->s.author);
	strv_free(ss->s.args);
	memset(ss, 0, sizeof(*ss));
}

/* A base image: from the store, pulled when missing (or always, --pull). */
static int base_image(struct build *b, const char *name, char **id, struct berr **err)
{
	if (!b->o->pull && store_resolve(b->st, name, id, NULL) == 0)
		return 0;
	struct pull_opts po = {.quiet = true, .out = b->out};
	int v = vstart(b, "[internal] load metadata for %s", name);
	int64_t t0 = now_ms();
	int r = image_pull(b->st, name, &po, id, err);
	if (r < 0 && !b->o->pull)
		return berr_prefix(err, "base image %s: ", name);
	if (r < 0 && store_resolve(b->st, name, id, NULL) == 0) { /* --pull, and no registry: the local one */
		struct berr *e = *err;
		*err = NULL;
		berr_free(e);
		r = 0;
	}
	if (r == 0)
		vdone(b, v, t0, false);
	return r < 0 ? berr_prefix(err, "base image %s: ", name) : 0;
}

static int from_image(struct build *b, struct sstate *ss, const char *id, struct berr **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = store_read_blob(b->st, id, 16u << 20, &text, &len, err);
	json_t *cfg = r == 0 ? json_loadb(text, len, 0, NULL) : NULL;
	json_t *rec = NULL;
	if (r == 0 && (!cfg || store_get_image(b->st, id, &rec, err) < 0))
		r = berr_set(err, EINVAL, "the image %.19s is damaged; pull or load it again", id);
	if (r == 0) {
		json_t *c = json_object_get(cfg, "config");
		ss->s.cfg = json_is_object(c) ? json_deep_copy(c) : json_object();
		json_t *h = json_object_get(cfg, "history");
		ss->s.history = json_is_array(h) ? json_deep_copy(h) : json_array();
		ss->s.layers = json_deep_copy(json_object_get(rec, "layers"));
		if (!json_is_array(ss->s.layers)) {
			json_decref(ss->s.layers);
			ss->s.layers = json_array();
		}
		key_next(ss->key, "image", id);
	}
	json_decref(cfg);
	json_decref(rec);
	return r;
}

static void from_stage(struct sstate *ss, const struct sstate *base)
{
	ss->s.cfg = json_deep_copy(base->s.cfg);
	ss->s.history = json_deep_copy(base->s.history);
	ss->s.layers = json_deep_copy(base->s.layers);
	ss->s.author = base->s.author ? xstrdup(base->s.author) : NULL;
	memcpy(ss->key, base->key, sizeof(ss->key));
}

/* --- steps that change files --- */

static int step_commit(struct build *b, struct sstate *ss, const char *key, const char *upper, const char *by,
		       struct berr **err)
{
	struct blayer l;
	bool empty = false;
	int r = blayer_commit(b->st, upper, &l, &empty, err);
	if (r < 0)
		return r;
	json_t *layer = empty ? json_null() : json_pack("{s:s, s:s}", "digest", l.digest, "diff_id", l.diff_id);
	if (!empty)
		json_array_append(ss->s.layers, layer);
	history_add(ss, by, empty, b->created);
	json_t *entry = json_pack("{s:o, s:s}", "layer", layer, "created", b->created);
	cache_put(b, key, entry);
	json_decref(entry);
	return 0;
}

static bool step_cached(struct build *b, struct sstate *ss, const char *key, const char *by)
{
	json_t *c = cache_get(b, key);
	if (!c)
		return false;
	json_t *layer = json_object_get(c, "layer");
	bool empty = !json_is_object(layer);
	if (!empty)
		json_array_append_new(ss->s.layers, json_pack("{s:s, s:s}", "digest",
							      json_string_value(json_object_get(layer, "digest")),
							      "diff_id",
							      json_string_value(json_object_get(layer, "diff_id"))));
	history_add(ss, by, empty, json_string_value(json_object_get(c, "created")) ?: b->created);
	json_decref(c);
	return true;
}

/* The instruction as the Dockerfile has it, for progress lines; a
 * heredoc shown by its first line, as BuildKit shows it. */
static char *instr_text(const struct df_instr *ins)
{
	struct buf t = {0};
	buf_puts(&t, ins->cmd);
	for (size_t i = 0; ins->flags[i]; i++)
		buf_printf(&t, " %s", ins->flags[i]);
	buf_printf(&t, " %.*s", (int)strcspn(ins->rest, "\n"), ins->rest);
	if (ins->nheredocs) {
		const char *body = ins->heredocs[0].body;
		buf_printf(&t, " (%.*s%s)", (int)strcspn(body, "\n"), body,
			   strchr(body, '\n') && strchr(body, '\n')[1] ? "..." : "");
	}
	return buf_steal(&t);
}

/* Config-only instructions: history, and the cache key, but no layer. */
static int step_config(struct build *b, struct sstate *ss, const struct df_instr *ins, struct berr **err)
{
	_cleanup_free_ char *by = NULL;
	int r = bconfig_apply(&ss->s, ins, &by, err);
	if (r < 0)
		return r;
	key_next(ss->key, ss->key, by);
	if (!streq(ins->cmd, "ARG"))
		history_add(ss, by, true, b->created);
	return 0;
}

/* Names of a step's scratch space and container: this process's own,
 * under the build's prefix (a killed build's guard finds them by it). */
static char *step_dir(struct build *b) { return xasprintf("%s/step-%d-%d", b->work, (int)getpid(), ++b->nrun); }

/* A copy (or WORKDIR's mkdir) done, and its changes the stage's layer. */
static int copy_commit(struct build *b, struct sstate *ss, const struct bcopy *c, const char *by, int v, int64_t t0,
		       struct berr **err)
{
	_cleanup_free_ char *upper = NULL;
	int r = bcopy_run(c, &upper, err);
	if (r == 0)
		r = step_commit(b, ss, ss->key, upper, by, err);
	if (r == 0)
		vdone(b, v, t0, false);
	return r;
}

static int step_workdir(struct build *b, struct sstate *ss, const struct df_instr *ins, const char *step,
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
	key_next(ss->key, ss->key, text);
	_cleanup_(strv_freep) char **lower = lower_of(b, ss);
	struct stat st;
	if (blayer_lstat(lower, path + 1, &st) == 0 && S_ISDIR(st.st_mode)) {
		history_add(ss, by, true, b->created);
		return 0;
	}
	int64_t t0 = now_ms();
	_cleanup_free_ char *shown = instr_text(ins);
	int v = vstart(b, "[%s] %s", step, shown);
	if (step_cached(b, ss, ss->key, by)) {
		vdone(b, v, t0, true);
		return 0;
	}
	_cleanup_free_ char *work = step_dir(b);
	struct bcopy c = {.layers = lower, .work = work, .dest = path, .mkdir_only = true, .what = "WORKDIR"};
	gid_t *groups = NULL;
	size_t ng = 0;
	c.chown = user && user[0] && image_user(lower, user, &c.uid, &c.gid, &groups, &ng, NULL) == 0;
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

static bool flag_bool(const char *v) { return !v || streq(v, "true") || streq(v, "1"); }

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
		char **slot = streq(name, "--from")	 ? &f->from
			      : streq(name, "--chown")	 ? &f->chown
			      : streq(name, "--chmod")	 ? &f->chmod
			      : streq(name, "--checksum") && add ? &f->checksum
							 : NULL;
		if (slot && v) {
			free(*slot);
			*slot = v;
		} else if (streq(name, "--exclude") && v) {
			strv_push(&f->excludes, v);
		} else if (streq(name, "--parents")) {
			f->parents = flag_bool(v);
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

/* Where a step's files come from: a directory (the build context, a
 * named context, fetched URLs), or the layers of a stage or an image. */
struct bsource {
	char *dir;
	const struct ignore *ig; /* the context's .dockerignore */
	char **layers;		 /* top first */
	char *key;		 /* a stage's cache key or an image's id; NULL: hash dir's files */
};

static void bsource_free(struct bsource *s)
{
	free(s->dir);
	strv_free(s->layers);
	free(s->key);
	*s = (struct bsource){0};
}

/* A named context (--build-context, build: additional_contexts). */
static const char *named_context(struct build *b, const char *name)
{
	return strv_env_get(b->o->contexts, name);
}

static int image_source(struct build *b, const char *ref, struct bsource *s, struct berr **err)
{
	_cleanup_free_ char *id = NULL;
	int r = base_image(b, ref, &id, err);
	struct sstate img = {0};
	if (r == 0)
		r = from_image(b, &img, id, err);
	if (r == 0) {
		s->layers = layer_dirs(b, img.s.layers);
		s->key = steal_ptr(&id);
	}
	sstate_free(&img);
	return r;
}

/* --from=NAME: an earlier stage, a named context, or an image (none: the
 * build context), as BuildKit looks them up. */
static int source_of(struct build *b, size_t si, const char *from, struct bsource *s, struct berr **err)
{
	*s = (struct bsource){0};
	if (!from) {
		s->dir = xstrdup(b->context);
		s->ig = &b->ig;
		return 0;
	}
	int k = df_stage_find(b->stages, si, from);
	if (k >= 0) {
		if (!b->ss[k].built)
			return berr_set(err, EINVAL, "--from=%s: that stage is not built", from);
		s->layers = layer_dirs(b, b->ss[k].s.layers);
		s->key = xstrdup(b->ss[k].key);
		return 0;
	}
	const char *named = named_context(b, from);
	if (named && startswith(named, "docker-image://"))
		return image_source(b, named + 15, s, err);
	if (named) {
		s->dir = xstrdup(named);
		return 0;
	}
	return image_source(b, from, s, err);
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
			return berr_set(err, ENOTSUP, "%s: git sources are not supported by berth; clone it into the "
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
		int r = image_user(lower, f->chown, &c->uid, &c->gid, &groups, &ng, err);
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
		_cleanup_free_ char *name = xstrdup(base[0] && !streq(base, "..") && !streq(base, ".") ? base : "download");
		_cleanup_free_ char *file = xasprintf("%s/%s", *dir, name);
		_cleanup_close_ int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		time_t mtime = 0;
		char digest[72];
		r = fd < 0 ? berr_sys(err, errno, "cannot write %s", file)
			   : http_fetch(urls[i], fd, 8ULL << 30, &mtime, digest, err);
		if (r == 0 && checksum && !streq(checksum, digest))
			r = berr_set(err, EBADMSG, "%s: checksum mismatch: it is %s, --checksum says %s", urls[i], digest,
				     checksum);
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

/* A COPY or ADD, as its words and flags say it. */
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
	bsource_free(&cs->src);
	ignore_free(&cs->ex);
	strv_free(cs->srcs);
	strv_free(cs->urls);
	strv_free(cs->hn);
	strv_free(cs->hb);
	strv_free(cs->lower);
	free(cs->dest);
}

static int copy_prepare(struct build *b, size_t si, struct sstate *ss, const struct df_instr *ins,
			struct copy_step *cs, struct berr **err)
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
		r = source_of(b, si, cs->f.from, &cs->src, err);
	}
	cs->lower = lower_of(b, ss);
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

static int step_copy(struct build *b, size_t si, struct sstate *ss, const struct df_instr *ins, const char *step,
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
	key_next(ss->key, ss->key, text.s);
	buf_free(&text);
	int64_t t0 = now_ms();
	_cleanup_free_ char *shown = instr_text(ins);
	int v = vstart(b, "[%s] %s", step, shown);
	_cleanup_free_ char *hist = xasprintf("%s # buildkit", by);
	if (step_cached(b, ss, ss->key, hist)) {
		vdone(b, v, t0, true);
	} else {
		_cleanup_free_ char *work = step_dir(b);
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

/* --- RUN --- */

struct run_mounts {
	struct mount_spec *m;
	size_t n;
	char **stubs;
	int *locks;
	size_t nlocks;
};

static void run_mounts_free(struct run_mounts *rm)
{
	for (size_t i = 0; i < rm->n; i++) {
		free(rm->m[i].source);
		free(rm->m[i].target);
		free(rm->m[i].type);
		free(rm->m[i].options);
	}
	free(rm->m);
	strv_free(rm->stubs);
	for (size_t i = 0; i < rm->nlocks; i++)
		close(rm->locks[i]);
	free(rm->locks);
}

static void mount_add(struct run_mounts *rm, const char *src, const char *target, const char *type,
		      const char *opts, bool file)
{
	rm->m = xrealloc(rm->m, (rm->n + 1) * sizeof(*rm->m));
	rm->m[rm->n++] = (struct mount_spec){.source = src ? xstrdup(src) : NULL, .target = xstrdup(target),
					     .type = xstrdup(type), .options = opts ? xstrdup(opts) : NULL,
					     .file = file};
	strv_push(&rm->stubs, xstrdup(target));
}

/* The fields of one --mount=, "type=cache,target=/x,…". */
struct mount_fields {
	const char *type, *target, *source, *from, *id, *sharing, *mode, *uid, *gid, *size, *required;
	bool ro, rw;
};

static int mount_fields(char *spec, struct mount_fields *f, struct berr **err)
{
	*f = (struct mount_fields){.type = "bind"};
	static const struct {
		const char *name;
		size_t off;
	} keys[] = {
		{"type", offsetof(struct mount_fields, type)},	 {"target", offsetof(struct mount_fields, target)},
		{"dst", offsetof(struct mount_fields, target)},	 {"destination", offsetof(struct mount_fields, target)},
		{"source", offsetof(struct mount_fields, source)}, {"src", offsetof(struct mount_fields, source)},
		{"from", offsetof(struct mount_fields, from)},	 {"id", offsetof(struct mount_fields, id)},
		{"sharing", offsetof(struct mount_fields, sharing)}, {"mode", offsetof(struct mount_fields, mode)},
		{"uid", offsetof(struct mount_fields, uid)},	 {"gid", offsetof(struct mount_fields, gid)},
		{"size", offsetof(struct mount_fields, size)},	 {"required", offsetof(struct mount_fields, required)},
	};
	char *save = NULL;
	for (char *kv = strtok_r(spec, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (eq)
			*eq = '\0';
		const char *v = eq ? eq + 1 : NULL;
		if (streq(kv, "ro") || streq(kv, "readonly")) {
			f->ro = flag_bool(v);
			continue;
		}
		if (streq(kv, "rw") || streq(kv, "readwrite")) {
			f->rw = flag_bool(v);
			continue;
		}
		if (streq(kv, "required") && !v)
			v = "true";
		size_t k = 0;
		while (k < ARRAY_SIZE(keys) && !streq(keys[k].name, kv))
			k++;
		if (k == ARRAY_SIZE(keys) || !v)
			return berr_set(err, EINVAL, "--mount: unknown or empty field \"%s\"", kv);
		*(const char **)((char *)f + keys[k].off) = v;
	}
	return 0;
}

static int cache_mount(struct build *b, struct run_mounts *rm, const struct mount_fields *f, struct berr **err)
{
	char hex[65];
	const char *id = f->id ? f->id : f->target;
	sha256_of(id, strlen(id), hex);
	_cleanup_free_ char *dir = xasprintf("%s/build/cache-mounts/%s", b->o->root, hex);
	if (!fs_is_dir(dir)) {
		int r = fs_mkdir_p(dir, 0755, err);
		long mode = f->mode ? strtol(f->mode, NULL, 8) : 0755;
		if (r == 0 && (chown(dir, f->uid ? (uid_t)atol(f->uid) : 0, f->gid ? (gid_t)atol(f->gid) : 0) < 0 ||
			       chmod(dir, (mode_t)mode) < 0))
			r = berr_sys(err, errno, "cannot prepare the cache mount %s", id);
		if (r < 0)
			return r;
	}
	if (streq(f->sharing, "locked")) {
		_cleanup_free_ char *lock = xasprintf("%s.lock", dir);
		int fd;
		int r = fs_lock(lock, &fd, err);
		if (r < 0)
			return r;
		rm->locks = xrealloc(rm->locks, (rm->nlocks + 1) * sizeof(int));
		rm->locks[rm->nlocks++] = fd;
	} else if (f->sharing && !streq(f->sharing, "shared") && !streq(f->sharing, "private")) {
		return berr_set(err, EINVAL, "--mount: sharing=%s: use shared, private or locked", f->sharing);
	}
	mount_add(rm, dir, f->target, "bind", f->ro ? "ro" : NULL, false);
	return 0;
}

/* A path of the context as the host sees it, never outside the context. */
static int path_in(const char *dir, const char *rel, char **out, struct berr **err)
{
	_cleanup_close_ int root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	_cleanup_close_ int fd = root < 0 ? -1 : (int)syscall(SYS_openat2, root, rel[0] ? rel : ".", &how, sizeof(how));
	if (fd < 0)
		return berr_sys(err, errno, "--mount: source %s in %s", rel, dir);
	char proc[64], real[PATH_MAX];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, real, sizeof(real) - 1);
	if (n < 0)
		return berr_sys(err, errno, "--mount: source %s", rel);
	real[n] = '\0';
	*out = xstrdup(real);
	return 0;
}

/* An overlay of dirs (top first) at target, inside the step's container:
 * read-only, or with an upper directory of the build's that goes with it. */
static int overlay_mount(struct build *b, struct run_mounts *rm, char *const *dirs, const char *target, bool rw,
			 struct berr **err)
{
	struct buf o = {0};
	buf_puts(&o, "lowerdir=");
	for (size_t i = 0; dirs[i]; i++) {
		if (strpbrk(dirs[i], ",:"))
			return buf_free(&o), berr_set(err, EINVAL, "--mount: %s has a ',' or ':', which an overlay cannot name",
						     dirs[i]);
		buf_printf(&o, "%s%s", i ? ":" : "", dirs[i]);
	}
	if (rw) {
		_cleanup_free_ char *scratch = step_dir(b);
		_cleanup_free_ char *up = xasprintf("%s/upper", scratch);
		_cleanup_free_ char *wk = xasprintf("%s/work", scratch);
		int r = fs_mkdir_p(up, 0755, err);
		if (r == 0)
			r = fs_mkdir_p(wk, 0700, err);
		if (r < 0)
			return buf_free(&o), r;
		buf_printf(&o, ",upperdir=%s,workdir=%s", up, wk);
	} else {
		buf_puts(&o, ",ro");
	}
	mount_add(rm, "overlay", target, "overlay", o.s, false);
	buf_free(&o);
	return 0;
}

/* type=bind: source (default: the root) of the build context, a stage, a
 * named context or an image (from=); read-only, or rw with the writes
 * thrown away after the step, as BuildKit does. */
static int bind_mount(struct build *b, size_t si, struct run_mounts *rm, const struct mount_fields *f,
		      struct berr **err)
{
	struct bsource src;
	int r = source_of(b, si, f->from, &src, err);
	if (r < 0)
		return r;
	const char *s = f->source ? f->source : "";
	while (*s == '/')
		s++;
	_cleanup_free_ char *rel = path_clean(s[0] ? s : ".");
	char **dirs = NULL;
	bool file = false;
	if (src.dir) {
		dirs = xcalloc(2, sizeof(char *));
		r = path_in(src.dir, streq(rel, ".") ? "" : rel, &dirs[0], err);
		file = r == 0 && !fs_is_dir(dirs[0]);
	} else if (blayer_subdirs(src.layers, rel, &dirs, &file) < 0) {
		r = berr_set(err, ENOENT, "--mount: source %s is not in %s", f->source ? f->source : "/", f->from);
	}
	if (r == 0 && file && f->rw)
		r = berr_set(err, ENOTSUP, "--mount: rw of a single file (%s) is not supported by berth", rel);
	else if (r == 0 && (file || (!f->rw && strv_len(dirs) == 1)))
		mount_add(rm, dirs[0], f->target, "bind", "ro", file);
	else if (r == 0)
		r = overlay_mount(b, rm, dirs, f->target, f->rw, err);
	strv_free(dirs);
	bsource_free(&src);
	return r;
}

static int one_mount(struct build *b, size_t si, struct run_mounts *rm, char *spec, struct berr **err)
{
	struct mount_fields f;
	int r = mount_fields(spec, &f, err);
	if (r < 0)
		return r;
	if (!f.target && !streq(f.type, "secret"))
		return berr_set(err, EINVAL, "--mount: type=%s needs a target", f.type);
	if (f.target && f.target[0] != '/')
		return berr_set(err, EINVAL, "--mount: target %s must be an absolute path", f.target);
	if (streq(f.type, "cache"))
		return cache_mount(b, rm, &f, err);
	if (streq(f.type, "tmpfs")) {
		_cleanup_free_ char *o = f.size ? xasprintf("size=%s", f.size) : NULL;
		mount_add(rm, "tmpfs", f.target, "tmpfs", o, false);
		return 0;
	}
	if (streq(f.type, "secret")) {
		const char *id = f.id ? f.id : f.target ? path_basename(f.target) : NULL;
		if (!id)
			return berr_set(err, EINVAL, "--mount: type=secret needs an id or a target");
		const char *path = strv_env_get(b->o->secrets, id);
		_cleanup_free_ char *target = f.target ? xstrdup(f.target) : xasprintf("/run/secrets/%s", id);
		if (!path && flag_bool(f.required) && f.required)
			return berr_set(err, ENOENT, "--mount: secret %s is required, and the build has no such secret", id);
		if (path)
			mount_add(rm, path, target, "bind", "ro", true);
		return 0;
	}
	if (streq(f.type, "bind"))
		return bind_mount(b, si, rm, &f, err);
	return berr_set(err, ENOTSUP, "--mount: type=%s is not supported by berth (cache, bind, tmpfs, secret are)",
			f.type);
}

static int run_flags(struct build *b, size_t si, struct sstate *ss, const struct df_instr *ins,
		     struct run_mounts *rm, const char **network, struct berr **err)
{
	rm->stubs = xcalloc(1, sizeof(char *));
	for (size_t i = 0; ins->flags[i]; i++) {
		const char *fl = ins->flags[i];
		_cleanup_free_ char *v = NULL;
		const char *eq = strchr(fl, '=');
		int r = eq ? df_word(eq + 1, ss->s.escape, bstage_lookup, &ss->s, &v, err) : 0;
		if (r < 0)
			return r;
		if (startswith(fl, "--mount=")) {
			r = one_mount(b, si, rm, v, err);
		} else if (startswith(fl, "--network=")) {
			if (!streq(v, "default") && !streq(v, "none") && !streq(v, "host"))
				r = berr_set(err, EINVAL, "--network=%s: use default, none or host", v);
			*network = streq(v, "none") ? "none" : streq(v, "host") ? "host" : *network;
		} else if (startswith(fl, "--security=")) {
			r = streq(v, "sandbox") ? 0
						: berr_set(err, EPERM, "--security=%s: berth runs build steps sandboxed only",
							   v);
		} else {
			r = berr_set(err, EINVAL, "unknown flag %s", fl);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* The command: exec form as it is; shell form through SHELL, a lone
 * heredoc as the script itself, other heredocs left to the shell. */
static char **run_argv(struct sstate *ss, const struct df_instr *ins)
{
	if (ins->exec_form)
		return strv_copy(ins->argv);
	char **argv = bstage_shell(ss->s.cfg ? &ss->s : &ss->s);
	const char *r = ins->rest;
	bool lone = ins->nheredocs == 1 && startswith(r, "<<") && !strpbrk(r, " \t");
	struct buf script = {0};
	if (lone) {
		buf_puts(&script, ins->heredocs[0].body);
	} else {
		buf_puts(&script, r);
		for (size_t i = 0; i < ins->nheredocs; i++)
			buf_printf(&script, "\n%s%s", ins->heredocs[i].body, ins->heredocs[i].name);
	}
	strv_push(&argv, buf_steal(&script));
	return argv;
}

static char *run_by(char *const *argv)
{
	struct buf by = {0};
	buf_puts(&by, "RUN");
	for (size_t i = 0; argv[i]; i++)
		buf_printf(&by, " %s", argv[i]);
	return buf_steal(&by);
}

/* --ulimit / build: ulimits, NAME=SOFT[:HARD], as RUN's limits. */
static int run_limits(char *const *ulimits, struct rlimit_spec **out, size_t *n, struct berr **err)
{
	*n = strv_len(ulimits);
	*out = xcalloc(*n + 1, sizeof(**out));
	for (size_t i = 0; i < *n; i++) {
		const char *u = ulimits[i], *eq = strchr(u, '=');
		char *end = NULL;
		long long soft = eq ? strtoll(eq + 1, &end, 10) : -1, hard = soft;
		if (end && *end == ':')
			hard = strtoll(end + 1, &end, 10);
		(*out)[i].name = eq ? xstrndup(u, (size_t)(eq - u)) : xstrdup(u);
		if (!eq || eq == u || !end || *end || soft < 0 || hard < soft)
			return berr_set(err, EINVAL, "ulimit %s: give NAME=SOFT[:HARD], soft not above hard", u);
		(*out)[i].soft = soft;
		(*out)[i].hard = hard;
	}
	return 0;
}

/* A RUN that failed, as BuildKit tells it: the step with its last lines
 * of output, the Dockerfile around its line, then the error (which
 * carries those lines itself when no progress was shown). */
static int run_failed(struct build *b, const struct df_instr *ins, const char *step, const char *cmd, int code,
		      int v, struct berr **err)
{
	struct buf tail = {0};
	for (size_t i = 0; i < b->ntail; i++)
		buf_printf(&tail, "%s%s", i ? "\n" : "", b->tail[i]);
	int r = berr_set(err, EIO, "process \"%s\" did not complete successfully: exit code: %d%s%s", cmd, code,
			 b->o->quiet && tail.len ? "; its last output:\n" : "", b->o->quiet && tail.s ? tail.s : "");
	_cleanup_free_ char *shown = instr_text(ins);
	struct buf o = {0};
	buf_printf(&o, "#%d ERROR: %s\n------\n > [%s] %s:\n%s%s------\n%s:%d\n--------------------\n", v,
		   (*err)->msg, step, shown, tail.s ? tail.s : "", tail.s ? "\n" : "", b->df.name, ins->line);
	for (size_t i = 0; b->lines && b->lines[i]; i++)
		if ((int)i + 1 >= ins->line - 2 && (int)i + 1 <= ins->line + 2)
			buf_printf(&o, " %3zu | %s %s\n", i + 1, (int)i + 1 == ins->line ? ">>>" : "   ", b->lines[i]);
	say(b, "%s--------------------\n", o.s);
	buf_free(&o);
	buf_free(&tail);
	return r;
}

static int step_run(struct build *b, size_t si, struct sstate *ss, const struct df_instr *ins, const char *step,
		    struct berr **err)
{
	struct run_mounts rm = {0};
	const char *network = b->o->network && b->o->network[0] ? b->o->network : "default";
	int r = run_flags(b, si, ss, ins, &rm, &network, err);
	_cleanup_(strv_freep) char **argv = run_argv(ss, ins);
	_cleanup_(strv_freep) char **env = bstage_run_env(&ss->s);
	_cleanup_(strv_freep) char **lower = lower_of(b, ss);
	_cleanup_free_ char *by = run_by(argv);
	struct buf text = {0};
	buf_printf(&text, "%s\n", by);
	for (size_t i = 0; ins->flags[i]; i++)
		buf_printf(&text, "flag %s\n", ins->flags[i]);
	for (size_t i = 0; env[i]; i++)
		buf_printf(&text, "env %s\n", env[i]);
	key_next(ss->key, ss->key, text.s);
	buf_free(&text);
	int64_t t0 = now_ms();
	_cleanup_free_ char *shown = instr_text(ins);
	int v = vstart(b, "[%s] %s", step, shown);
	_cleanup_free_ char *hist = xasprintf("%s # buildkit", by);
	if (r == 0 && step_cached(b, ss, ss->key, hist)) {
		vdone(b, v, t0, true);
		run_mounts_free(&rm);
		return 0;
	}
	_cleanup_free_ char *name = xasprintf("%s%d-%d", b->prefix, (int)getpid(), ++b->nrun);
	const char *cwd = json_string_value(json_object_get(ss->s.cfg, "WorkingDir"));
	struct brun run = {.root = b->o->root, .name = name, .layers = lower, .argv = argv, .env = env,
			   .cwd = cwd, .user = json_string_value(json_object_get(ss->s.cfg, "User")),
			   .network = network, .mounts = rm.m, .nmounts = rm.n, .output = on_output, .data = b};
	_cleanup_(strv_freep) char **hosts = xcalloc(1, sizeof(char *));
	for (size_t i = 0; b->o->hosts && b->o->hosts[i]; i++) {
		const char *h = b->o->hosts[i];
		size_t k = strcspn(h, "=:");
		if (h[k])
			strv_push(&hosts, xasprintf("%s\t%.*s", h + k + 1, (int)k, h));
	}
	run.hosts = hosts;
	run.shm_size = b->o->shm_size;
	struct rlimit_spec *limits = NULL;
	if (r == 0)
		r = run_limits(b->o->ulimits, &limits, &run.nrlimits, err);
	run.rlimits = limits;
	int code = 0;
	_cleanup_free_ char *upper = NULL;
	b->cur_vertex = v;
	b->cur_t0 = t0;
	tail_clear(b);
	if (r == 0)
		r = brun_step(&run, &code, &upper, err);
	output_flush(b);
	b->used_network |= streq(network, "default");
	if (r == 0 && code != 0)
		r = run_failed(b, ins, step, by + 4, code, v, err);
	if (upper && r == 0) {
		char **stubs = strv_copy((char **)brun_stubs);
		for (size_t i = 0; rm.stubs[i]; i++)
			strv_push(&stubs, xstrdup(rm.stubs[i]));
		blayer_drop_stubs(upper, lower, stubs);
		strv_free(stubs);
		r = step_commit(b, ss, ss->key, upper, hist, err);
	} else if (upper) {
		fs_remove_tree(upper, NULL);
	}
	run_mounts_free(&rm);
	for (size_t i = 0; i < run.nrlimits; i++)
		free(limits[i].name);
	free(limits);
	if (r == 0)
		vdone(b, v, t0, false);
	return r;
}

/* --- the stages --- */

static int instr_err(struct build *b, const struct df_instr *ins, struct berr **err)
{
	return berr_prefix(err, "%s:%d: %s: ", b->df.name, ins->line, ins->cmd);
}

static int run_instr(struct build *b, size_t si, struct sstate *ss, const struct df_instr *ins, const char *step,
		     struct berr **err)
{
	int r;
	if (streq(ins->cmd, "RUN"))
		r = step_run(b, si, ss, ins, step, err);
	else if (streq(ins->cmd, "COPY") || streq(ins->cmd, "ADD"))
		r = step_copy(b, si, ss, ins, step, err);
	else if (streq(ins->cmd, "WORKDIR"))
		r = step_workdir(b, ss, ins, step, err);
	else
		r = step_config(b, ss, ins, err);
	return r < 0 ? instr_err(b, ins, err) : 0;
}

/* ONBUILD triggers of the base image, run right after FROM. */
static int run_onbuild(struct build *b, size_t si, struct sstate *ss, const char *label, struct berr **err)
{
	json_t *ob = json_object_get(ss->s.cfg, "OnBuild");
	if (!json_is_array(ob) || !json_array_size(ob))
		return 0;
	struct buf text = {0};
	buf_puts(&text, "FROM scratch\n"); /* the triggers are read as the rest of a stage */
	size_t i;
	json_t *v;
	json_array_foreach(ob, i, v)
		buf_printf(&text, "%s\n", json_string_value(v) ?: "");
	json_object_del(ss->s.cfg, "OnBuild");
	struct dockerfile d;
	_cleanup_free_ char *name = xasprintf("%s (ONBUILD of the base image)", b->df.name);
	int r = dockerfile_parse(name, text.s, text.len, &d, err);
	buf_free(&text);
	for (size_t k = 1; r == 0 && k < d.n; k++) {
		_cleanup_free_ char *step = xasprintf("%s%sONBUILD %zu/%zu", label, label[0] ? " " : "", k, d.n - 1);
		r = run_instr(b, si, ss, &d.instrs[k], step, err);
	}
	dockerfile_free(&d);
	return r;
}

static char *stage_label(struct build *b, size_t si)
{
	const char *t = b->o->title;
	const char *n = b->stages[si].name;
	_cleanup_free_ char *own = n ? xstrdup(n) : b->nstages > 1 ? xasprintf("stage-%zu", si) : NULL;
	if (t && own)
		return xasprintf("%s %s", t, own);
	return xstrdup(t ? t : own ? own : "");
}

static int build_stage(struct build *b, size_t si, struct berr **err)
{
	struct df_stage *sg = &b->stages[si];
	struct sstate *ss = &b->ss[si];
	ss->s.escape = b->df.escape;
	ss->s.build_args = b->args;
	ss->s.meta = b->meta;
	size_t total = sg->last - sg->first + 1;
	_cleanup_free_ char *label = stage_label(b, si);
	const char *sp = label[0] ? " " : "";
	int64_t t0 = now_ms();
	int r = 0;
	if (sg->base_stage >= 0) {
		from_stage(ss, &b->ss[sg->base_stage]);
		int v = vstart(b, "[%s%s1/%zu] FROM %s", label, sp, total, sg->base);
		vdone(b, v, t0, true);
	} else if (streq(sg->base, "scratch")) {
		ss->s.cfg = json_object();
		ss->s.history = json_array();
		ss->s.layers = json_array();
		key_next(ss->key, "scratch", "");
	} else if (named_context(b, sg->base) && !startswith(named_context(b, sg->base), "docker-image://")) {
		r = berr_set(err, ENOTSUP, "%s is a named context of a directory; berth builds FROM images and stages "
					   "only (give it as docker-image://REF)",
			     sg->base);
	} else {
		const char *named = named_context(b, sg->base);
		const char *ref = named ? named + 15 : sg->base;
		_cleanup_free_ char *id = NULL;
		r = base_image(b, ref, &id, err);
		int v = r == 0 ? vstart(b, "[%s%s1/%zu] FROM %s", label, sp, total, ref) : 0;
		if (r == 0)
			r = from_image(b, ss, id, err);
		if (r == 0)
			vdone(b, v, t0, false);
	}
	if (r < 0)
		return berr_prefix(err, "%s:%d: FROM: ", b->df.name, b->df.instrs[sg->first].line);
	r = run_onbuild(b, si, ss, label, err);
	for (size_t k = sg->first + 1; r == 0 && k <= sg->last; k++) {
		_cleanup_free_ char *step = xasprintf("%s%s%zu/%zu", label, sp, k - sg->first + 1, total);
		r = run_instr(b, si, ss, &b->df.instrs[k], step, err);
	}
	ss->built = r == 0;
	return r;
}

/* --- the result --- */

static json_t *image_json(struct build *b, struct sstate *ss)
{
	json_t *cfg = json_deep_copy(ss->s.cfg);
	json_t *labels = json_object_get(cfg, "Labels");
	if (b->o->labels && b->o->labels[0] && !json_is_object(labels)) {
		labels = json_object();
		json_object_set_new(cfg, "Labels", labels);
	}
	for (size_t i = 0; b->o->labels && b->o->labels[i]; i++) {
		const char *eq = strchr(b->o->labels[i], '=');
		_cleanup_free_ char *k = eq ? xstrndup(b->o->labels[i], (size_t)(eq - b->o->labels[i]))
					    : xstrdup(b->o->labels[i]);
		json_object_set_new(labels, k, json_string(eq ? eq + 1 : ""));
	}
	json_t *ids = json_array();
	size_t i;
	json_t *l;
	json_array_foreach(ss->s.layers, i, l)
		json_array_append(ids, json_object_get(l, "diff_id"));
	const char *slash = strchr(b->platform, '/');
	_cleanup_free_ char *os = xstrndup(b->platform, (size_t)(slash - b->platform));
	_cleanup_free_ char *arch = xstrndup(slash + 1, strcspn(slash + 1, "/"));
	json_t *h = json_array_size(ss->s.history) ? json_object_get(json_array_get(ss->s.history,
										    json_array_size(ss->s.history) - 1),
								     "created")
						   : NULL;
	json_t *img = json_pack("{s:s, s:s, s:o, s:s, s:O, s:{s:s, s:o}}", "architecture", arch, "os", os, "config",
				cfg, "created", json_string_value(h) ?: b->created, "history", ss->s.history,
				"rootfs", "type", "layers", "diff_ids", ids);
	if (ss->s.author)
		json_object_set_new(img, "author", json_string(ss->s.author));
	return img;
}

static int tag_all(struct build *b, const char *id, struct berr **err)
{
	for (size_t i = 0; b->o->tags && b->o->tags[i]; i++) {
		struct image_ref ref;
		int r = ref_parse(b->o->tags[i], &ref, err);
		if (r < 0)
			return berr_prefix(err, "tag %s: ", b->o->tags[i]);
		_cleanup_free_ char *full = ref_string(&ref);
		_cleanup_free_ char *fam = ref_familiar(&ref);
		ref_free(&ref);
		r = store_set_tag(b->st, full, id, err);
		if (r < 0)
			return r;
		if (!b->o->quiet)
			say(b, "#%d naming to %s done\n", *b->vertex, full);
	}
	return 0;
}

/* The image an unchanged build made before: the same steps and labels
 * give the same image, with its times, as Docker's cached builds do. */
static bool export_cached(struct build *b, const char *key, char id[72])
{
	_cleanup_free_ char *path = cache_path(b, key);
	json_t *c = b->o->no_cache ? NULL : json_load_file(path, 0, NULL);
	const char *prev = json_string_value(json_object_get(c, "image"));
	json_t *rec = NULL;
	bool ok = prev && strlen(prev) < 72 && store_get_image(b->st, prev, &rec, NULL) == 0;
	if (ok)
		snprintf(id, 72, "%s", prev);
	json_decref(rec);
	json_decref(c);
	return ok;
}

static int export(struct build *b, struct sstate *ss, char **id_out, struct berr **err)
{
	int v = vstart(b, "exporting to image");
	int64_t t0 = now_ms();
	struct buf k = {0};
	buf_printf(&k, "export %s\n", b->platform);
	for (size_t i = 0; b->o->labels && b->o->labels[i]; i++)
		buf_printf(&k, "label %s\n", b->o->labels[i]);
	char key[65];
	key_next(key, ss->key, k.s);
	buf_free(&k);
	char id[72];
	if (export_cached(b, key, id)) {
		say(b, "#%d writing image %s done\n", v, id);
		int r = tag_all(b, id, err);
		if (r == 0)
			vdone(b, v, t0, false);
		if (r == 0 && id_out)
			*id_out = xstrdup(id);
		return r;
	}
	json_t *img = image_json(b, ss);
	char *text = json_dumps(img, JSON_COMPACT);
	json_decref(img);
	struct blob_writer *w = NULL;
	int r = blob_writer_open(b->st, &w, err);
	if (r == 0)
		r = blob_writer_write(w, text, strlen(text), err);
	if (r == 0)
		r = blob_writer_commit(w, NULL, id, NULL, NULL, err);
	else if (w)
		blob_writer_abort(w);
	free(text);
	uint64_t size = 0;
	size_t i;
	json_t *l;
	json_array_foreach(ss->s.layers, i, l)
	{
		_cleanup_free_ char *dir = store_layer_path(b->st, json_string_value(json_object_get(l, "diff_id")));
		_cleanup_free_ char *sf = xasprintf("%s.size", dir);
		_cleanup_free_ char *t = NULL;
		size_t len;
		if (fs_read_file(sf, 64, &t, &len, NULL) == 0)
			size += strtoull(t, NULL, 10);
	}
	json_t *prev = NULL;
	if (r == 0 && store_get_image(b->st, id, &prev, NULL) < 0) {
		json_t *rec = json_pack("{s:s, s:O, s:I, s:s, s:s, s:[]}", "id", id, "layers", ss->s.layers, "size",
					(json_int_t)size, "loaded", b->created, "created", b->created, "repo_digests");
		r = store_put_image(b->st, id, rec, err);
		json_decref(rec);
	}
	json_decref(prev);
	if (r == 0)
		say(b, "#%d writing image %s done\n", v, id);
	if (r == 0) {
		json_t *entry = json_pack("{s:s}", "image", id);
		cache_put(b, key, entry);
		json_decref(entry);
		r = tag_all(b, id, err);
	}
	if (r == 0)
		vdone(b, v, t0, false);
	if (r == 0 && id_out)
		*id_out = xstrdup(id);
	return r;
}

/* --- reading what the build needs --- */

static int read_dockerfile(struct build *b, struct berr **err)
{
	const struct build_opts *o = b->o;
	const char *rel = o->dockerfile ? o->dockerfile : "Dockerfile";
	_cleanup_free_ char *path = path_join(b->context, rel);
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (o->dockerfile_inline) {
		rel = "Dockerfile";
		text = xstrdup(o->dockerfile_inline);
		len = strlen(text);
	} else if (fs_read_file(path, 8u << 20, &text, &len, err) < 0) {
		return berr_prefix(err, "cannot read the Dockerfile: ");
	}
	b->lines = xcalloc(1, sizeof(char *));
	for (char *s = text, *nl; s < text + len; s = nl + 1) {
		nl = memchr(s, '\n', (size_t)(text + len - s));
		if (!nl)
			nl = text + len;
		size_t n = (size_t)(nl - s);
		strv_push(&b->lines, xstrndup(s, n && s[n - 1] == '\r' ? n - 1 : n));
	}
	return dockerfile_parse(rel, text, len, &b->df, err);
}

/* Dockerfile.dockerignore beside the Dockerfile, else the context's. */
static int read_ignore(struct build *b, struct berr **err)
{
	const char *rel = b->o->dockerfile ? b->o->dockerfile : "Dockerfile";
	_cleanup_free_ char *df = path_join(b->context, rel);
	_cleanup_free_ char *beside = xasprintf("%s.dockerignore", df);
	_cleanup_free_ char *plain = path_join(b->context, ".dockerignore");
	const char *path = !b->o->dockerfile_inline && fs_exists(beside) ? beside : plain;
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (!fs_exists(path))
		return ignore_parse(".dockerignore", "", &b->ig, err);
	int r = fs_read_file(path, 4u << 20, &text, &len, err);
	return r < 0 ? r : ignore_parse(path_basename(path), text, &b->ig, err);
}

static const char *meta_lookup(void *data, const char *name) { return strv_env_get(*(char ***)data, name); }

/* NAME=VALUE into a list, in place of NAME's earlier value. */
static void kv_set(char ***v, const char *name, const char *value)
{
	size_t n = strlen(name);
	for (size_t i = 0; (*v)[i]; i++)
		if (!strncmp((*v)[i], name, n) && (*v)[i][n] == '=') {
			free((*v)[i]);
			(*v)[i] = xasprintf("%s=%s", name, value);
			return;
		}
	strv_push(v, xasprintf("%s=%s", name, value));
}

/* The build's own args, with BuildKit's platform ARGs (TARGETPLATFORM,
 * BUILDARCH, …) where it does not set them: they need no declaration
 * before FROM. */
static void platform_args(struct build *b)
{
	b->args = strv_copy(b->o->args ? b->o->args : (char *[]){NULL});
	const char *slash = strchr(b->platform, '/');
	_cleanup_free_ char *os = xstrndup(b->platform, (size_t)(slash - b->platform));
	_cleanup_free_ char *arch = xstrndup(slash + 1, strcspn(slash + 1, "/"));
	const char *variant = strchr(slash + 1, '/');
	static const char *const kinds[] = {"TARGET", "BUILD"};
	for (size_t k = 0; k < 2; k++) {
		const char *parts[][2] = {{"PLATFORM", b->platform}, {"OS", os}, {"ARCH", arch},
					  {"VARIANT", variant ? variant + 1 : ""}};
		for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
			_cleanup_free_ char *name = xasprintf("%s%s", kinds[k], parts[i][0]);
			if (!strv_env_get(b->args, name))
				strv_push(&b->args, xasprintf("%s=%s", name, parts[i][1]));
		}
	}
}

/* The ARGs before the first FROM, --build-arg over their defaults, and
 * the platform's. */
static int read_meta(struct build *b, struct berr **err)
{
	b->meta = strv_copy(b->args);
	for (size_t i = 0; i < b->df.n && !streq(b->df.instrs[i].cmd, "FROM"); i++) {
		if (!streq(b->df.instrs[i].cmd, "ARG"))
			continue;
		_cleanup_(strv_freep) char **w = NULL;
		int r = df_words(b->df.instrs[i].rest, b->df.escape, meta_lookup, &b->meta, &w, err);
		if (r < 0)
			return berr_prefix(err, "%s:%d: ARG: ", b->df.name, b->df.instrs[i].line);
		for (size_t k = 0; w[k]; k++) {
			char *eq = strchr(w[k], '=');
			_cleanup_free_ char *name = eq ? xstrndup(w[k], (size_t)(eq - w[k])) : xstrdup(w[k]);
			const char *v = strv_env_get(b->o->args, name);
			if (v || eq)
				kv_set(&b->meta, name, v ? v : eq + 1);
		}
	}
	return 0;
}

static int prepare(struct build *b, struct berr **err)
{
	b->context = path_absolute(b->o->context ? b->o->context : ".");
	if (!fs_is_dir(b->context))
		return berr_set(err, ENOENT, "the build context %s is not a directory", b->context);
	b->platform = platform_host();
	platform_args(b);
	int r = read_dockerfile(b, err);
	if (r == 0)
		r = read_ignore(b, err);
	if (r == 0)
		r = df_stages(&b->df, b->args, &b->stages, &b->nstages, err);
	if (r == 0)
		r = read_meta(b, err);
	for (size_t i = 0; r == 0 && i < b->nstages; i++)
		if (b->stages[i].platform && !streq(b->stages[i].platform, b->platform))
			r = berr_set(err, ENOTSUP, "%s:%d: FROM: --platform=%s: berth builds for this machine's "
						   "platform (%s) only",
				     b->df.name, b->df.instrs[b->stages[i].first].line, b->stages[i].platform,
				     b->platform);
	return r;
}

/* --- what a killed build leaves: its containers and scratch space --- */

static void guard_clean(const char *root, const char *prefix, const char *work)
{
	char **names = ctr_list(root);
	bool any = false;
	for (size_t i = 0; names[i]; i++)
		if (startswith(names[i], prefix)) {
			ctr_remove(root, names[i], true, NULL);
			net_detach(root, names[i], NULL);
			any = true;
		}
	strv_free(names);
	if (any)
		net_sync(root, NULL);
	brun_network_release(root);
	if (fs_exists(work))
		fs_discard(work, NULL);
}

/* A child that waits for berth to end, however it ends, and then removes
 * what the build left; write end of its pipe in *fd. */
static pid_t guard_start(const char *root, const char *prefix, const char *work, int *fd)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid != 0) {
		close(p[0]);
		*fd = pid > 0 ? p[1] : (close(p[1]), -1);
		return pid;
	}
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	for (int i = 3; i < 1024; i++)
		if (i != p[0])
			close(i);
	char c;
	while (read(p[0], &c, 1) != 0 && errno == EINTR)
		;
	guard_clean(root, prefix, work);
	_exit(0);
}

static void build_free(struct build *b)
{
	for (size_t i = 0; b->ss && i < b->nstages; i++)
		sstate_free(&b->ss[i]);
	free(b->ss);
	df_stages_free(b->stages, b->nstages);
	dockerfile_free(&b->df);
	ignore_free(&b->ig);
	strv_free(b->meta);
	strv_free(b->lines);
	strv_free(b->args);
	free(b->context);
	free(b->platform);
	free(b->created);
	free(b->work);
	free(b->empty);
	free(b->prefix);
	buf_free(&b->partial);
	tail_clear(b);
}

/* --- stages side by side --- */

#define STAGES_AT_ONCE 4

static char *stage_file(struct build *b, size_t i) { return xasprintf("%s/stage-%zu.json", b->work, i); }

/* What a process that built stage i hands back: its result, or its error. */
static void stage_save(struct build *b, size_t i, int r, struct berr *e)
{
	struct sstate *ss = &b->ss[i];
	json_t *j = r < 0 ? json_pack("{s:s, s:i}", "error", e ? e->msg : "the stage failed", "code", e ? e->code : EIO)
			  : json_pack("{s:O, s:O, s:O, s:s, s:s?}", "cfg", ss->s.cfg, "history", ss->s.history, "layers",
				      ss->s.layers, "key", ss->key, "author", ss->s.author);
	_cleanup_free_ char *path = stage_file(b, i);
	char *text = json_dumps(j, JSON_COMPACT);
	fs_write_replace(path, text, strlen(text), 0600, NULL);
	free(text);
	json_decref(j);
}

static int stage_load(struct build *b, size_t i, struct berr **err)
{
	_cleanup_free_ char *path = stage_file(b, i);
	json_t *j = json_load_file(path, 0, NULL);
	const char *msg = json_string_value(json_object_get(j, "error"));
	const char *key = json_string_value(json_object_get(j, "key"));
	int r = 0;
	if (msg || !key || strlen(key) != 64) {
		int code = (int)json_integer_value(json_object_get(j, "code"));
		r = berr_set(err, code > 0 ? code : EIO, "%s", msg ? msg : "the stage's build ended without a result");
	} else {
		struct sstate *ss = &b->ss[i];
		ss->s.cfg = json_incref(json_object_get(j, "cfg"));
		ss->s.history = json_incref(json_object_get(j, "history"));
		ss->s.layers = json_incref(json_object_get(j, "layers"));
		const char *author = json_string_value(json_object_get(j, "author"));
		ss->s.author = author ? xstrdup(author) : NULL;
		memcpy(ss->key, key, 65);
		ss->built = true;
	}
	json_decref(j);
	return r;
}

static bool stage_ready(struct build *b, size_t i, const bool *done)
{
	for (size_t k = 0; k < b->stages[i].ndeps; k++)
		if (!done[b->stages[i].deps[k]])
			return false;
	return true;
}

static pid_t stage_fork(struct build *b, size_t i)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	struct berr *e = NULL;
	int r = build_stage(b, i, &e);
	stage_save(b, i, r, e);
	_exit(r < 0);
}

/* The stages in need, each once the stages it needs are built: one alone
 * in this process, several at once each in a process of its own. */
static int build_stages(struct build *b, const bool *need, struct berr **err)
{
	size_t n = b->nstages, left = 0, running = 0;
	bool *done = xcalloc(n, sizeof(bool));
	pid_t *pids = xcalloc(n, sizeof(pid_t));
	for (size_t i = 0; i < n; i++)
		left += need[i];
	int r = 0;
	while (r == 0 && left) {
		size_t ready[STAGES_AT_ONCE], nready = 0;
		for (size_t i = 0; i < n && running + nready < STAGES_AT_ONCE; i++)
			if (need[i] && !done[i] && !pids[i] && stage_ready(b, i, done))
				ready[nready++] = i;
		if (nready == 1 && !running) {
			r = build_stage(b, ready[0], err);
			done[ready[0]] = true;
			left--;
			continue;
		}
		for (size_t k = 0; k < nready; k++) {
			pids[ready[k]] = stage_fork(b, ready[k]);
			running += pids[ready[k]] > 0;
			if (pids[ready[k]] < 0)
				r = berr_sys(err, errno, "cannot fork to build a stage");
		}
		int status;
		pid_t pid = running ? waitpid(-1, &status, 0) : -1;
		for (size_t i = 0; pid > 0 && i < n; i++)
			if (pids[i] == pid) {
				pids[i] = 0;
				running--;
				done[i] = true;
				left--;
				if (r == 0)
					r = stage_load(b, i, err);
			}
		if (pid < 0 && errno != EINTR && r == 0)
			r = berr_set(err, EIO, "the stages cannot all be built: they wait on each other");
	}
	for (size_t i = 0; i < n; i++) /* after a failure, the others stop where they are */
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
		}
	free(done);
	free(pids);
	return r;
}

static int build_all(struct build *b, char **id, struct berr **err)
{
	bool *need = xcalloc(b->nstages + 1, sizeof(bool));
	int r = df_needed(&b->df, b->stages, b->nstages, b->o->target, need, err);
	b->ss = xcalloc(b->nstages + 1, sizeof(*b->ss));
	if (r == 0)
		r = build_stages(b, need, err);
	size_t last = b->nstages - 1;
	while (r == 0 && !need[last])
		last--;
	if (r == 0)
		r = export(b, &b->ss[last], id, err);
	free(need);
	return r;
}

/* The build's scratch space, <root>/build/<pid>; the build directory is
 * 0700: steps leave setuid files there, which the state root's other
 * users must never reach. */
static int make_work(struct build *b, struct berr **err)
{
	b->work = xasprintf("%s/build/%d", b->o->root, (int)getpid());
	b->empty = xasprintf("%s/empty", b->work);
	_cleanup_free_ char *bdir = xasprintf("%s/build", b->o->root);
	int r = fs_mkdir_p(bdir, 0700, err);
	if (r == 0 && chmod(bdir, 0700) < 0)
		r = berr_sys(err, errno, "cannot set the mode of %s", bdir);
	if (r == 0 && fs_exists(b->work))
		r = fs_remove_tree(b->work, err);
	return r < 0 ? r : fs_mkdir_p(b->empty, 0755, err);
}

static int run_build(struct build *b, char **id, struct berr **err)
{
	b->created = store_timestamp();
	int v = vstart(b, "[internal] load build definition from %s", b->df.name);
	vdone(b, v, b->t0, false);
	int r = store_open(b->o->root, true, &b->st, err);
	if (r == 0)
		r = make_work(b, err);
	int gfd = -1;
	pid_t guard = r == 0 ? guard_start(b->o->root, b->prefix, b->work, &gfd) : -1;
	if (r == 0)
		r = build_all(b, id, err);
	if (gfd >= 0)
		close(gfd);
	if (guard > 0)
		while (waitpid(guard, NULL, 0) < 0 && errno == EINTR)
			;
	else if (b->work && fs_exists(b->work))
		fs_remove_tree(b->work, NULL);
	store_close(b->st);
	return r;
}

int build_image(const struct build_opts *o, char **id, struct berr **err)
{
	struct build b = {.o = o, .out = o->out ? o->out : stderr, .t0 = now_ms()};
	b.vertex = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b.vertex == MAP_FAILED)
		return berr_sys(err, errno, "cannot map the build's progress counter");
	*b.vertex = 0;
	b.prefix = xasprintf("build-%d-", (int)getpid());
	int r = prepare(&b, err);
	if (r == 0)
		r = run_build(&b, id, err);
	munmap(b.vertex, sizeof(int));
	build_free(&b);
	return r;
}

int build_check(const struct build_opts *o, struct berr **err)
{
	struct build b = {.o = o};
	int r = prepare(&b, err);
	bool *need = xcalloc(b.nstages + 1, sizeof(bool));
	if (r == 0)
		r = df_needed(&b.df, b.stages, b.nstages, o->target, need, err);
	free(need);
	build_free(&b);
	return r;
}

int build_cache_prune(const char *root, uint64_t *freed, char ***lines, struct berr **err)
{
	struct store *st = NULL;
	*freed = 0;
	int r = store_open(root, true, &st, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *cache = xasprintf("%s/buildcache", st->dir);
	_cleanup_free_ char *mounts = xasprintf("%s/build/cache-mounts", root);
	if (fs_exists(cache))
		r = fs_discard(cache, err);
	if (r == 0 && fs_exists(mounts))
		r = fs_discard(mounts, err);
	/* the layers of running containers stay, even when no image has them */
	char **used = xcalloc(1, sizeof(char *));
	char **names = ctr_list(root);
	for (size_t i = 0; names[i]; i++) {
		_cleanup_free_ char *dir = ctr_dir(root, names[i]);
		_cleanup_free_ char *path = path_join(dir, "spec.json");
		struct ctr_spec s;
		if (spec_read(path, &s, NULL) < 0)
			continue;
		for (size_t k = 0; s.layers && s.layers[k]; k++)
			strv_push(&used, xstrdup(s.layers[k]));
		spec_free(&s);
	}
	strv_free(names);
	if (r == 0)
		r = image_prune_layers(st, used, lines, freed);
	strv_free(used);
	store_close(st);
	return r;
}
