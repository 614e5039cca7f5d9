#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../builder/ignore.h"
#include "../images/image.h"
#include "../images/store.h"
#include "../lib/fs.h"
#include "../runtime/cp.h"
#include "../runtime/ctr.h"
#include "../runtime/exec.h"
#include "ctrspec.h"
#include "servicebuild.h"

enum action { W_SYNC, W_RESTART, W_SYNC_RESTART, W_SYNC_EXEC, W_REBUILD };

struct rule {
	const char *service;
	char *path;   /* on the host, absolute */
	char *target; /* in the container (sync actions) */
	enum action action;
	struct ignore ig, inc;
	bool initial_sync;
	struct hook_spec exec;
	bool has_exec;
	char **changed, **gone; /* pending, relative to path ("" : the path itself, a file) */
};

struct watched {
	int wd;
	char *dir;
};

struct watcher {
	const struct apply_ctx *ctx;
	const struct project *p;
	const char *root;
	const struct watch_opts *o;
	struct rule *rules;
	size_t nrules;
	int fd;
	struct watched *w;
	size_t nw;
};

static bool is_sync(enum action a) { return a == W_SYNC || a == W_SYNC_RESTART || a == W_SYNC_EXEC; }

/* ignore / include: a string or a list of .dockerignore patterns. */
static int patterns(struct node *n, const char *what, struct ignore *out, struct berr **err)
{
	struct buf b = {0};
	if (node_str(n))
		buf_printf(&b, "%s\n", n->str);
	for (size_t i = 0; n && n->kind == NODE_SEQ && i < n->n; i++)
		if (node_str(n->items[i]))
			buf_printf(&b, "%s\n", n->items[i]->str);
	int r = ignore_parse(what, b.s ? b.s : "", out, err);
	buf_free(&b);
	return r;
}

static int load_rule(const struct project *p, const char *service, struct node *it, size_t i, struct rule *r,
		     struct berr **err)
{
	static const char *const names[] = {"sync", "restart", "sync+restart", "sync+exec", "rebuild"};
	const char *action = node_str(node_map_get(it, "action")), *path = node_str(node_map_get(it, "path"));
	*r = (struct rule){
		.service = service, .changed = xcalloc(1, sizeof(char *)), .gone = xcalloc(1, sizeof(char *))};
	size_t a = 0;
	while (action && a < ARRAY_SIZE(names) && !streq(names[a], action))
		a++;
	if (!action || a == ARRAY_SIZE(names) || !path)
		return node_err(err, it,
				"service %s: develop.watch[%zu] needs a path and an action (sync, restart, "
				"sync+restart, sync+exec or rebuild)",
				service, i);
	r->action = (enum action)a;
	r->path = path[0] == '/' ? xstrdup(path) : path_join(p->workdir, path);
	const char *target = node_str(node_map_get(it, "target"));
	if (is_sync(r->action) && (!target || target[0] != '/'))
		return node_err(err, it,
				"service %s: develop.watch[%zu] (%s) needs a target: an absolute path in the "
				"container",
				service, i, action);
	r->target = target ? xstrdup(target) : NULL;
	if (r->action == W_REBUILD && !svcbuild_has(p, service))
		return node_err(err, it,
				"service %s: develop.watch[%zu] rebuilds, but the service has no build section",
				service, i);
	struct stat st;
	if (stat(r->path, &st) < 0)
		return node_err(err, it, "service %s: develop.watch[%zu]: %s does not exist", service, i, r->path);
	node_bool(node_map_get(it, "initial_sync"), &r->initial_sync);
	struct node *ex = node_map_get(it, "exec");
	if (r->action == W_SYNC_EXEC && !ex)
		return node_err(err, it, "service %s: develop.watch[%zu] (sync+exec) needs exec.command", service, i);
	_cleanup_free_ char *what = xasprintf("develop.watch[%zu].exec", i);
	if (ex && ctrspec_hook(ex, service, what, &r->exec, err) < 0)
		return -EINVAL;
	r->has_exec = ex != NULL;
	/* the build context's .dockerignore counts too, as in docker compose */
	struct buf ig = {0};
	const char *ctx = node_str(node_map_get(node_map_get(project_service(p, service), "build"), "context"));
	_cleanup_free_ char *di = ctx ? path_join(ctx, ".dockerignore") : NULL, *text = NULL;
	size_t len;
	if (di && fs_read_file(di, 1 << 20, &text, &len, NULL) == 0)
		buf_printf(&ig, "%s\n", text);
	struct node *ign = node_map_get(it, "ignore");
	if (node_str(ign))
		buf_printf(&ig, "%s\n", ign->str);
	for (size_t k = 0; ign && ign->kind == NODE_SEQ && k < ign->n; k++)
		if (node_str(ign->items[k]))
			buf_printf(&ig, "%s\n", ign->items[k]->str);
	int rc = ignore_parse("develop.watch ignore", ig.s ? ig.s : "", &r->ig, err);
	buf_free(&ig);
	if (rc == 0)
		rc = patterns(node_map_get(it, "include"), "develop.watch include", &r->inc, err);
	return rc;
}

static void rule_free(struct rule *r)
{
	free(r->path);
	free(r->target);
	ignore_free(&r->ig);
	ignore_free(&r->inc);
	if (r->has_exec) {
		strv_free(r->exec.argv);
		strv_free(r->exec.env);
		free(r->exec.user);
		free(r->exec.workdir);
	}
	strv_free(r->changed);
	strv_free(r->gone);
}

/* Whether rel (under the rule's path) counts: not ignored, and included
 * when there are include patterns (a directory always, for what it holds). */
static bool counts(const struct rule *r, const char *rel, bool dir)
{
	if (!rel[0])
		return true;
	if (ignore_excludes(&r->ig, rel))
		return false;
	if (!r->inc.n || dir)
		return true;
	for (size_t i = 0; i < r->inc.n; i++)
		if (ignore_match(r->inc.patterns[i], rel) || ignore_match(r->inc.patterns[i], path_basename(rel)))
			return true;
	return false;
}

static void watch_dir(struct watcher *w, const char *dir, const struct rule *r, const char *rel)
{
	int wd = inotify_add_watch(w->fd, dir,
				   IN_CREATE | IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_DELETE | IN_MOVED_FROM |
					   IN_MOVED_TO | IN_ONLYDIR);
	if (wd < 0)
		return;
	bool known = false;
	for (size_t i = 0; i < w->nw; i++)
		known |= w->w[i].wd == wd;
	if (!known) {
		w->w = xrealloc(w->w, (w->nw + 1) * sizeof(*w->w));
		w->w[w->nw++] = (struct watched){wd, xstrdup(dir)};
	}
	_cleanup_(closedirp) DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (streq(e->d_name, ".") || streq(e->d_name, ".."))
			continue;
		_cleanup_free_ char *sub = path_join(dir, e->d_name);
		_cleanup_free_ char *subrel = rel[0] ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
		struct stat st;
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode) && counts(r, subrel, true))
			watch_dir(w, sub, r, subrel);
	}
}

static void add_pending(char ***list, const char *rel)
{
	if (!strv_contains(*list, rel))
		strv_push(list, xstrdup(rel));
}

/* One event: the file's path against each rule. */
static void on_event(struct watcher *w, const struct inotify_event *ev)
{
	const char *dir = NULL;
	for (size_t i = 0; i < w->nw && !dir; i++)
		if (w->w[i].wd == ev->wd)
			dir = w->w[i].dir;
	if (!dir || !ev->len)
		return;
	_cleanup_free_ char *full = path_join(dir, ev->name);
	bool isdir = ev->mask & IN_ISDIR, gone = ev->mask & (IN_DELETE | IN_MOVED_FROM);
	for (size_t k = 0; k < w->nrules; k++) {
		struct rule *r = &w->rules[k];
		size_t n = strlen(r->path);
		const char *rel = streq(full, r->path)                               ? ""
				  : strncmp(full, r->path, n) == 0 && full[n] == '/' ? full + n + 1
										     : NULL;
		if (!rel || !counts(r, rel, isdir))
			continue;
		if (isdir && !gone && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
			watch_dir(w, full, r, rel);
		if (gone) {
			add_pending(&r->gone, rel);
		} else {
			add_pending(&r->changed, rel);
		}
	}
}

/* The service's running containers (not one-offs). */
static char **running(const struct watcher *w, const char *service)
{
	size_t n;
	struct ctr_info *list = apply_list(w->p, w->root, &n);
	char **names = xcalloc(n + 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (streq(list[i].service, service) && !list[i].oneoff && ctr_up(w->root, list[i].name, NULL))
			names[k++] = xstrdup(list[i].name);
	ctr_info_free(list, n);
	return names;
}

struct tar_job {
	const char *dir;
	char **rels, **names;
};

/* The files into one container: a tar of them, extracted at / in it. */
static int sync_into(const char *root, const char *ctr, const struct tar_job *j, struct berr **err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return berr_sys(err, errno, "cannot make a pipe");
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(cp_tar_write_paths(j->dir, j->rels, j->names, p[1], NULL) < 0 ? 1 : 0);
	}
	close(p[1]);
	int r = pid < 0 ? berr_sys(err, errno, "cannot fork") : ctr_cp_in(root, ctr, "/", true, false, p[0], err);
	close(p[0]);
	int status = 0;
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return r;
}

/* A rule's changes into each running container of its service. */
static int sync_rule(struct watcher *w, struct rule *r, char **ctrs, char *const *changed, char *const *gone,
		     struct berr **err)
{
	struct stat st;
	bool file = stat(r->path, &st) == 0 && !S_ISDIR(st.st_mode);
	struct tar_job j = {.rels = xcalloc(1, sizeof(char *)), .names = xcalloc(1, sizeof(char *))};
	_cleanup_free_ char *parent = path_dirname(r->path);
	j.dir = file ? parent : r->path;
	for (size_t i = 0; changed[i]; i++) {
		strv_push(&j.rels, xstrdup(changed[i][0] ? changed[i] : path_basename(r->path)));
		/* names in the tar: the target's path without its leading / */
		strv_push(&j.names,
			  changed[i][0] ? xasprintf("%s/%s", r->target + 1, changed[i]) : xstrdup(r->target + 1));
	}
	int rc = 0;
	for (size_t c = 0; rc == 0 && ctrs[c]; c++) {
		if (j.rels[0])
			rc = sync_into(w->root, ctrs[c], &j, err);
		for (size_t i = 0; rc == 0 && gone && gone[i]; i++) {
			/* removed on the host: removed in the container, as docker compose does (rm -rf there) */
			_cleanup_free_ char *in = gone[i][0] ? xasprintf("%s/%s", r->target, gone[i])
							     : xstrdup(r->target);
			char *argv[] = {"rm", "-rf", "--", in, NULL};
			struct exec_opts eo = {.argv = argv};
			int status = 0;
			struct berr *e = NULL;
			if (ctr_exec(w->root, ctrs[c], &eo, &status, &e) < 0 || status != 0) {
				log_error("watch: cannot remove %s in %s%s%s", in, ctrs[c], e ? ": " : "",
					  e ? e->msg : "");
				berr_free(e);
			}
		}
	}
	strv_free(j.rels);
	strv_free(j.names);
	return rc;
}

static void restart_all(struct watcher *w, char **ctrs)
{
	for (size_t c = 0; ctrs[c]; c++) {
		struct berr *e = NULL;
		if (ctr_stop(w->root, ctrs[c], -1, &e) < 0 || ctr_start(w->root, ctrs[c], &e) < 0) {
			log_error("watch: cannot restart %s: %s", ctrs[c], e->msg);
			berr_free(e);
			continue;
		}
		if (w->ctx->progress)
			w->ctx->progress(w->ctx->progress_data, "Container", ctrs[c], "Restarted");
	}
}

static void exec_all(struct watcher *w, const struct rule *r, char **ctrs)
{
	for (size_t c = 0; ctrs[c]; c++) {
		struct exec_opts eo = {.argv = r->exec.argv,
				       .env = r->exec.env,
				       .user = r->exec.user,
				       .workdir = r->exec.workdir,
				       .privileged = r->exec.privileged};
		int status = 0;
		struct berr *e = NULL;
		if (ctr_exec(w->root, ctrs[c], &eo, &status, &e) < 0 || status != 0) {
			log_error("watch: %s in %s: %s", r->exec.argv[0], ctrs[c], e ? e->msg : "it exited non-zero");
			berr_free(e);
		}
	}
}

static int rebuild(struct watcher *w, const char *service, struct berr **err)
{
	log_notice("Rebuilding service \"%s\" after changes were detected...", service);
	char *one[] = {(char *)service, NULL};
	struct svcbuild_opts bo = {.always = true, .out = w->o->quiet ? NULL : stderr};
	int r = svcbuild_run(w->ctx, w->p, one, &bo, err);
	struct up_opts uo = {.services = one, .no_deps = true};
	int lock = -1; /* as up holds it: no other berth changes the project meanwhile */
	if (r == 0)
		r = apply_lock(w->root, w->p->name, &lock, err);
	if (r == 0)
		r = apply_up(w->ctx, w->p, &uo, err);
	if (lock >= 0)
		close(lock);
	if (r == 0 && w->o->prune) {
		struct store *st = NULL;
		char **lines = xcalloc(1, sizeof(char *));
		uint64_t freed = 0;
		_cleanup_(strv_freep) char **used = ctr_layers_in_use(w->root);
		if (store_open(w->root, true, &st, NULL) == 0)
			image_prune(st, used, false, &lines, &freed, NULL);
		store_close(st);
		strv_free(lines);
	}
	return r;
}

/* Everything pending, each rule's action once. */
static int flush(struct watcher *w, struct berr **err)
{
	int rc = 0;
	_cleanup_(strv_freep) char **rebuilt = xcalloc(1, sizeof(char *));
	for (size_t k = 0; rc == 0 && k < w->nrules; k++) {
		struct rule *r = &w->rules[k];
		size_t n = strv_len(r->changed) + strv_len(r->gone);
		if (!n)
			continue;
		char **changed = r->changed, **gone = r->gone;
		r->changed = xcalloc(1, sizeof(char *));
		r->gone = xcalloc(1, sizeof(char *));
		if (r->action == W_REBUILD) {
			if (!strv_contains(rebuilt, r->service)) {
				strv_push(&rebuilt, xstrdup(r->service));
				rc = rebuild(w, r->service, err);
			}
		} else {
			_cleanup_(strv_freep) char **ctrs = running(w, r->service);
			if (is_sync(r->action)) {
				log_notice("Syncing service \"%s\" after %zu changes were detected", r->service, n);
				rc = sync_rule(w, r, ctrs, changed, gone, err);
			}
			if (rc == 0 && (r->action == W_RESTART || r->action == W_SYNC_RESTART)) {
				log_notice("Restarting service \"%s\" after changes were detected", r->service);
				restart_all(w, ctrs);
			}
			if (rc == 0 && r->action == W_SYNC_EXEC)
				exec_all(w, r, ctrs);
		}
		strv_free(changed);
		strv_free(gone);
	}
	return rc;
}

/* initial_sync: the whole path into the containers before watching. */
static int initial_sync(struct watcher *w, struct rule *r, struct berr **err)
{
	struct stat st;
	char **all = xcalloc(1, sizeof(char *));
	if (stat(r->path, &st) == 0 && !S_ISDIR(st.st_mode)) {
		strv_push(&all, xstrdup(""));
	} else {
		_cleanup_(closedirp) DIR *d = opendir(r->path);
		for (struct dirent *e; d && (e = readdir(d));)
			if (!streq(e->d_name, ".") && !streq(e->d_name, "..") &&
			    counts(r, e->d_name, e->d_type == DT_DIR))
				strv_push(&all, xstrdup(e->d_name));
	}
	_cleanup_(strv_freep) char **ctrs = running(w, r->service);
	int rc = all[0] ? sync_rule(w, r, ctrs, all, NULL, err) : 0;
	strv_free(all);
	return rc;
}

int watch_run(const struct apply_ctx *ctx, const struct project *p, const struct watch_opts *o, struct berr **err)
{
	const char *root = ctx->root;
	struct watcher w = {.ctx = ctx, .p = p, .root = root, .o = o, .fd = -1};
	int rc = 0;
	for (size_t i = 0; rc == 0 && p->order[i]; i++) {
		const char *s = p->order[i];
		struct node *list = node_map_get(node_map_get(project_service(p, s), "develop"), "watch");
		if ((o->services && !strv_contains(o->services, s)) || !list || list->kind != NODE_SEQ)
			continue;
		for (size_t k = 0; rc == 0 && k < list->n; k++) {
			w.rules = xrealloc(w.rules, (w.nrules + 1) * sizeof(*w.rules));
			rc = load_rule(p, s, list->items[k], k, &w.rules[w.nrules++], err);
		}
	}
	if (rc == 0 && w.nrules == 0)
		rc = berr_set(err, ENOENT,
			      "none of the selected services is configured for watch: give it a develop.watch "
			      "section");
	static const char *const verbs[] = {[W_SYNC] = "sync",
					    [W_RESTART] = "restart",
					    [W_SYNC_RESTART] = "sync+restart",
					    [W_SYNC_EXEC] = "sync+exec",
					    [W_REBUILD] = "rebuild"};
	for (size_t k = 0; rc == 0 && ctx->dry_run && k < w.nrules; k++) {
		const struct rule *r = &w.rules[k];
		_cleanup_free_ char *what = xasprintf("would %s on changes to %s%s%s", verbs[r->action], r->path,
						      is_sync(r->action) ? " into " : "",
						      is_sync(r->action) ? r->target : "");
		if (ctx->progress)
			ctx->progress(ctx->progress_data, "Watch", r->service, what);
	}
	if (rc == 0 && !ctx->dry_run && (w.fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0)
		rc = berr_sys(err, errno, "cannot watch files");
	for (size_t k = 0; rc == 0 && !ctx->dry_run && k < w.nrules; k++) {
		struct rule *r = &w.rules[k];
		struct stat st;
		_cleanup_free_ char *parent = path_dirname(r->path);
		/* a file: its directory, the events filtered to it */
		watch_dir(&w, stat(r->path, &st) == 0 && S_ISDIR(st.st_mode) ? r->path : parent, r, "");
		if (is_sync(r->action) && r->initial_sync)
			rc = initial_sync(&w, r, err);
	}
	if (rc == 0 && !ctx->dry_run)
		log_notice("Watch enabled");
	bool pending = false;
	while (rc == 0 && !ctx->dry_run && !*o->stop) {
		struct pollfd pf = {w.fd, POLLIN, 0};
		int n = poll(&pf, 1, pending ? 500 : 1000);
		if (n < 0 && errno != EINTR) {
			rc = berr_sys(err, errno, "cannot watch files");
			break;
		}
		if (n == 0 && pending) { /* quiet for half a second: apply */
			pending = false;
			struct berr *e = NULL;
			if (flush(&w, &e) < 0) { /* said, and watching goes on, as docker compose does */
				log_error("watch: %s", e->msg);
				berr_free(e);
			}
			continue;
		}
		char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
		for (ssize_t len; (len = read(w.fd, buf, sizeof(buf))) > 0;)
			for (char *c = buf; c < buf + len;) {
				const struct inotify_event *ev = (const struct inotify_event *)c;
				on_event(&w, ev);
				c += sizeof(*ev) + ev->len;
			}
		for (size_t k = 0; k < w.nrules; k++)
			pending |= w.rules[k].changed[0] || w.rules[k].gone[0];
	}
	if (w.fd >= 0)
		close(w.fd);
	for (size_t i = 0; i < w.nw; i++)
		free(w.w[i].dir);
	free(w.w);
	for (size_t k = 0; k < w.nrules; k++)
		rule_free(&w.rules[k]);
	free(w.rules);
	return rc;
}
