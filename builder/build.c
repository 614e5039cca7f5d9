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
#include "lint.h"
#include "run.h"
#include "stages.h"
#include "step.h"

/* --- progress, as BuildKit's plain output --- */

/* One line, written at once: stages built side by side share the output. */
void build_say(struct build *b, const char *fmt, ...)
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

int build_vstart(struct build *b, const char *fmt, ...)
{
	int v = __atomic_add_fetch(b->vertex, 1, __ATOMIC_SEQ_CST);
	va_list ap;
	va_start(ap, fmt);
	char *what = NULL;
	if (vasprintf(&what, fmt, ap) >= 0)
		build_say(b, "#%d %s\n", v, what);
	free(what);
	va_end(ap);
	return v;
}

void build_vdone(struct build *b, int v, int64_t t0, bool cached)
{
	if (cached)
		build_say(b, "#%d CACHED\n\n", v);
	else
		build_say(b, "#%d DONE %.1fs\n\n", v, (double)(now_ms() - t0) / 1000.0);
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
	build_say(b, "#%d %.3f %.*s\n", b->cur_vertex, (double)(now_ms() - b->cur_t0) / 1000.0, (int)n, line);
}

void build_output(void *data, const char *text, size_t len)
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

void build_output_flush(struct build *b)
{
	if (b->partial.len)
		out_line(b, b->partial.s, b->partial.len);
	b->partial.len = 0;
}

void build_tail_clear(struct build *b)
{
	for (size_t i = 0; i < b->ntail; i++)
		free(b->tail[i]);
	b->ntail = 0;
}

/* --- the build cache: <store>/buildcache/<key>.json --- */

static char *cache_path(struct build *b, const char *key)
{
	return xasprintf("%s/buildcache/%s.json", b->st->dir, key);
}

void build_key(char key[65], const char *prev, const char *text)
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

char **build_layer_dirs(struct build *b, json_t *layers)
{
	size_t n = json_array_size(layers);
	char **dirs = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		dirs[i] = store_layer_path(
			b->st, json_string_value(json_object_get(json_array_get(layers, n - 1 - i), "diff_id")));
	return dirs;
}

/* The lower layers of a step: the stage's, or one empty directory. */
char **build_lower(struct build *b, struct sstate *ss)
{
	char **dirs = build_layer_dirs(b, ss->s.layers);
	if (!dirs[0])
		strv_push(&dirs, xstrdup(b->empty));
	return dirs;
}

void build_history(struct sstate *ss, const char *by, bool empty, const char *created)
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
	json_decref(ss->steps);
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
	int v = build_vstart(b, "[internal] load metadata for %s", name);
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
		build_vdone(b, v, t0, false);
	return r < 0 ? berr_prefix(err, "base image %s: ", name) : 0;
}

static int from_image(struct build *b, struct sstate *ss, const char *id, struct berr **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = store_read_blob(b->st, id, 16u << 20, &text, &len, err);
	_cleanup_(json_releasep) json_t *cfg = r == 0 ? json_loadb(text, len, 0, NULL) : NULL;
	_cleanup_(json_releasep) json_t *rec = NULL;
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
		build_key(ss->key, "image", id);
		ss->steps = json_array();
	}
	return r;
}

static void from_stage(struct sstate *ss, const struct sstate *base)
{
	ss->s.cfg = json_deep_copy(base->s.cfg);
	ss->s.history = json_deep_copy(base->s.history);
	ss->s.layers = json_deep_copy(base->s.layers);
	ss->s.author = base->s.author ? xstrdup(base->s.author) : NULL;
	ss->steps = json_deep_copy(base->steps);
	memcpy(ss->key, base->key, sizeof(ss->key));
}

/* --- steps that change files --- */

int build_commit(struct build *b, struct sstate *ss, const char *key, const char *upper, const char *by,
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
	build_history(ss, by, empty, b->created);
	json_t *entry = json_pack("{s:o, s:s}", "layer", layer, "created", b->created);
	cache_put(b, key, entry);
	json_object_set_new(entry, "key", json_string(key));
	json_array_append_new(ss->steps, entry);
	return 0;
}

bool build_cached(struct build *b, struct sstate *ss, const char *key, const char *by)
{
	json_t *c = cache_get(b, key);
	if (!c)
		return false;
	json_t *layer = json_object_get(c, "layer");
	bool empty = !json_is_object(layer);
	if (!empty)
		json_array_append_new(ss->s.layers,
				      json_pack("{s:s, s:s}", "digest",
						json_string_value(json_object_get(layer, "digest")), "diff_id",
						json_string_value(json_object_get(layer, "diff_id"))));
	build_history(ss, by, empty, json_string_value(json_object_get(c, "created")) ?: b->created);
	json_object_set_new(c, "key", json_string(key));
	json_array_append_new(ss->steps, c);
	return true;
}

int build_step_begin(struct build *b, struct sstate *ss, const struct df_instr *ins, const char *step,
		     const char *key_text, const char *hist, bool try_cache, int64_t *t0, bool *cached)
{
	build_key(ss->key, ss->key, key_text);
	*t0 = now_ms();
	_cleanup_free_ char *shown = build_instr_text(ins);
	int v = build_vstart(b, "[%s] %s", step, shown);
	*cached = try_cache && build_cached(b, ss, ss->key, hist);
	if (*cached)
		build_vdone(b, v, *t0, true);
	return v;
}

/* The instruction as the Dockerfile has it, for progress lines; a
 * heredoc shown by its first line, as BuildKit shows it. */
char *build_instr_text(const struct df_instr *ins)
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
	build_key(ss->key, ss->key, by);
	if (!streq(ins->cmd, "ARG"))
		build_history(ss, by, true, b->created);
	return 0;
}

/* Names of a step's scratch space and container: this process's own,
 * under the build's prefix (a killed build's guard finds them by it). */
char *build_scratch(struct build *b) { return xasprintf("%s/step-%d-%d", b->work, (int)getpid(), ++b->nrun); }

void build_source_free(struct bsource *s)
{
	free(s->dir);
	strv_free(s->layers);
	free(s->key);
	*s = (struct bsource){0};
}

/* A named context (--build-context, build: additional_contexts). */
static const char *named_context(struct build *b, const char *name) { return strv_env_get(b->o->contexts, name); }

static int image_source(struct build *b, const char *ref, struct bsource *s, struct berr **err)
{
	_cleanup_free_ char *id = NULL;
	int r = base_image(b, ref, &id, err);
	struct sstate img = {0};
	if (r == 0)
		r = from_image(b, &img, id, err);
	if (r == 0) {
		s->layers = build_layer_dirs(b, img.s.layers);
		s->key = steal_ptr(&id);
	}
	sstate_free(&img);
	return r;
}

/* --from=NAME: an earlier stage, a named context, or an image (none: the
 * build context), as BuildKit looks them up. */
int build_source(struct build *b, size_t si, const char *from, struct bsource *s, struct berr **err)
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
		s->layers = build_layer_dirs(b, b->ss[k].s.layers);
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
		r = build_step_run(b, si, ss, ins, step, err);
	else if (streq(ins->cmd, "COPY") || streq(ins->cmd, "ADD"))
		r = build_step_copy(b, si, ss, ins, step, err);
	else if (streq(ins->cmd, "WORKDIR"))
		r = build_step_workdir(b, ss, ins, step, err);
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
	json_array_foreach(ob, i, v) buf_printf(&text, "%s\n", json_string_value(v) ?: "");
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
		int v = build_vstart(b, "[%s%s1/%zu] FROM %s", label, sp, total, sg->base);
		build_vdone(b, v, t0, true);
	} else if (streq(sg->base, "scratch")) {
		/* BuildKit gives an image from scratch the default PATH */
		ss->s.cfg = json_pack("{s:[s]}", "Env",
				      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
		ss->s.history = json_array();
		ss->s.layers = json_array();
		ss->steps = json_array();
		build_key(ss->key, "scratch", "");
	} else if (named_context(b, sg->base) && !startswith(named_context(b, sg->base), "docker-image://")) {
		r = berr_set(err, ENOTSUP,
			     "%s is a named context of a directory; berth builds FROM images and stages "
			     "only (give it as docker-image://REF)",
			     sg->base);
	} else {
		const char *named = named_context(b, sg->base);
		const char *ref = named ? named + 15 : sg->base;
		_cleanup_free_ char *id = NULL;
		r = base_image(b, ref, &id, err);
		int v = r == 0 ? build_vstart(b, "[%s%s1/%zu] FROM %s", label, sp, total, ref) : 0;
		if (r == 0)
			r = from_image(b, ss, id, err);
		if (r == 0)
			build_vdone(b, v, t0, false);
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
	json_array_foreach(ss->s.layers, i, l) json_array_append(ids, json_object_get(l, "diff_id"));
	const char *slash = strchr(b->platform, '/');
	_cleanup_free_ char *os = xstrndup(b->platform, (size_t)(slash - b->platform));
	_cleanup_free_ char *arch = xstrndup(slash + 1, strcspn(slash + 1, "/"));
	json_t *h = json_array_size(ss->s.history)
			    ? json_object_get(json_array_get(ss->s.history, json_array_size(ss->s.history) - 1),
					      "created")
			    : NULL;
	json_t *img = json_pack("{s:s, s:s, s:o, s:s, s:O, s:{s:s, s:o}}", "architecture", arch, "os", os, "config",
				cfg, "created", json_string_value(h) ?: b->created, "history", ss->s.history, "rootfs",
				"type", "layers", "diff_ids", ids);
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
			build_say(b, "#%d naming to %s done\n", *b->vertex, full);
	}
	return 0;
}

/* The image an unchanged build made before: the same steps and labels
 * give the same image, with its times, as Docker's cached builds do. */
static bool export_cached(struct build *b, const char *key, char id[72])
{
	_cleanup_free_ char *path = cache_path(b, key);
	_cleanup_(json_releasep) json_t *c = b->o->no_cache ? NULL : json_load_file(path, 0, NULL);
	const char *prev = json_string_value(json_object_get(c, "image"));
	_cleanup_(json_releasep) json_t *rec = NULL;
	bool ok = prev && strlen(prev) < 72 && store_get_image(b->st, prev, &rec, NULL) == 0;
	if (ok)
		snprintf(id, 72, "%s", prev);
	return ok;
}

/* The image's config as a blob, and its record: with the steps' cache
 * keys, which a build with cache_from of this image takes up. */
static int write_image(struct build *b, struct sstate *ss, const char *key, char id[72], struct berr **err)
{
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
	_cleanup_(json_releasep) json_t *prev = NULL;
	if (r == 0 && store_get_image(b->st, id, &prev, NULL) < 0) {
		json_t *rec = json_pack("{s:s, s:O, s:I, s:s, s:s, s:[], s:O, s:s}", "id", id, "layers", ss->s.layers,
					"size", (json_int_t)blayer_size(b->st, ss->s.layers), "loaded", b->created,
					"created", b->created, "repo_digests", "build_cache", ss->steps, "build_key",
					key);
		r = store_put_image(b->st, id, rec, err);
		json_decref(rec);
	}
	return r;
}

/* cache_from: the steps of images built here before (their records keep
 * the steps' keys) go into the cache, where it lacks them. */
static void seed_cache(struct build *b)
{
	for (size_t i = 0; b->o->cache_from && b->o->cache_from[i]; i++) {
		const char *ref = b->o->cache_from[i];
		_cleanup_free_ char *id = NULL;
		json_t *rec = NULL;
		int v = build_vstart(b, "importing cache from %s", ref);
		if (store_resolve(b->st, ref, &id, NULL) < 0 || store_get_image(b->st, id, &rec, NULL) < 0) {
			build_say(b, "#%d WARN: no local image %s to take a cache from\n\n", v, ref);
			continue;
		}
		size_t k;
		json_t *step;
		json_array_foreach(json_object_get(rec, "build_cache"), k, step)
		{
			const char *key = json_string_value(json_object_get(step, "key"));
			_cleanup_free_ char *path = key && strlen(key) == 64 ? cache_path(b, key) : NULL;
			if (path && !fs_exists(path))
				cache_put(b, key, step);
		}
		const char *key = json_string_value(json_object_get(rec, "build_key"));
		_cleanup_free_ char *path = key && strlen(key) == 64 ? cache_path(b, key) : NULL;
		if (path && !fs_exists(path)) {
			_cleanup_(json_releasep) json_t *entry = json_pack("{s:s}", "image", id);
			cache_put(b, key, entry);
		}
		json_decref(rec);
		build_vdone(b, v, now_ms(), false);
	}
}

static int export(struct build *b, struct sstate *ss, char **id_out, struct berr **err)
{
	int v = build_vstart(b, "exporting to image");
	int64_t t0 = now_ms();
	struct buf k = {0};
	buf_printf(&k, "export %s\n", b->platform);
	for (size_t i = 0; b->o->labels && b->o->labels[i]; i++)
		buf_printf(&k, "label %s\n", b->o->labels[i]);
	char key[65];
	build_key(key, ss->key, k.s);
	buf_free(&k);
	char id[72];
	if (export_cached(b, key, id)) {
		build_say(b, "#%d writing image %s done\n", v, id);
		int r = tag_all(b, id, err);
		if (r == 0)
			build_vdone(b, v, t0, false);
		if (r == 0 && id_out)
			*id_out = xstrdup(id);
		return r;
	}
	int r = write_image(b, ss, key, id, err);
	if (r == 0)
		build_say(b, "#%d writing image %s done\n", v, id);
	if (r == 0) {
		json_t *entry = json_pack("{s:s}", "image", id);
		cache_put(b, key, entry);
		json_decref(entry);
		r = tag_all(b, id, err);
	}
	if (r == 0)
		build_vdone(b, v, t0, false);
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
		const char *parts[][2] = {
			{"PLATFORM", b->platform}, {"OS", os}, {"ARCH", arch}, {"VARIANT", variant ? variant + 1 : ""}};
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
	/* the limits are checked before anything runs, also when no RUN needs them */
	struct rlimit_spec *limits = NULL;
	size_t nlimits = 0;
	int r = build_limits(b->o->ulimits, &limits, &nlimits, err);
	for (size_t i = 0; i < nlimits; i++)
		free(limits[i].name);
	free(limits);
	if (r == 0)
		r = read_dockerfile(b, err);
	if (r == 0)
		r = read_ignore(b, err);
	if (r == 0)
		r = df_stages(&b->df, b->args, &b->stages, &b->nstages, err);
	if (r == 0)
		r = read_meta(b, err);
	for (size_t i = 0; r == 0 && i < b->nstages; i++)
		if (b->stages[i].platform && !streq(b->stages[i].platform, b->platform))
			r = berr_set(err, ENOTSUP,
				     "%s:%d: FROM: --platform=%s: berth builds for this machine's "
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
	build_tail_clear(b);
}

/* --- stages side by side --- */

#define STAGES_AT_ONCE 4

static char *stage_file(struct build *b, size_t i) { return xasprintf("%s/stage-%zu.json", b->work, i); }

/* What a process that built stage i hands back: its result, or its error. */
static void stage_save(struct build *b, size_t i, int r, struct berr *e)
{
	struct sstate *ss = &b->ss[i];
	json_t *j = r < 0 ? json_pack("{s:s, s:i}", "error", e ? e->msg : "the stage failed", "code", e ? e->code : EIO)
			  : json_pack("{s:O, s:O, s:O, s:O, s:s, s:s?}", "cfg", ss->s.cfg, "history", ss->s.history,
				      "layers", ss->s.layers, "steps", ss->steps, "key", ss->key, "author",
				      ss->s.author);
	_cleanup_free_ char *path = stage_file(b, i);
	char *text = json_dumps(j, JSON_COMPACT);
	fs_write_replace(path, text, strlen(text), 0600, NULL);
	free(text);
	json_decref(j);
}

static int stage_load(struct build *b, size_t i, struct berr **err)
{
	_cleanup_free_ char *path = stage_file(b, i);
	_cleanup_(json_releasep) json_t *j = json_load_file(path, 0, NULL);
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
		ss->steps = json_incref(json_object_get(j, "steps"));
		const char *author = json_string_value(json_object_get(j, "author"));
		ss->s.author = author ? xstrdup(author) : NULL;
		memcpy(ss->key, key, 65);
		ss->built = true;
	}
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
	seed_cache(b);
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
	int v = build_vstart(b, "[internal] load build definition from %s", b->df.name);
	build_vdone(b, v, b->t0, false);
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

int build_check(const struct build_opts *o, char ***warnings, struct berr **err)
{
	struct build b = {.o = o};
	int r = prepare(&b, err);
	bool *need = xcalloc(b.nstages + 1, sizeof(bool));
	if (r == 0)
		r = df_needed(&b.df, b.stages, b.nstages, o->target, need, err);
	if (r == 0 && warnings)
		*warnings = df_lint(&b.df);
	free(need);
	build_free(&b);
	return r;
}

int build_cache_prune(const char *root, uint64_t *freed, char ***lines, struct berr **err)
{
	_cleanup_(store_closep) struct store *st = NULL;
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
	/* the layers of containers stay, even when no image has them */
	char **used = ctr_layers_in_use(root);
	if (r == 0)
		r = image_prune_layers(st, used, lines, freed);
	strv_free(used);
	return r;
}
