/* RUN as a build step: its flags (--mount of cache, bind, tmpfs and
 * secret; --network), its command, its limits, the cache key; then
 * builder/run.c runs it and its changes become a layer. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/fs.h"
#include "../lib/sha256.h"
#include "../lib/util.h"
#include "../runtime/rootfs.h"
#include "copy.h"
#include "layer.h"
#include "run.h"
#include "step.h"

struct run_mounts {
	struct mount_spec *m;
	size_t n;
	char **stubs;
	int *locks;
	size_t nlocks;
	struct buf inputs; /* what the bind mounts bind, for the cache key */
};

static void run_mounts_free(struct run_mounts *rm)
{
	for (size_t i = 0; i < rm->n; i++) {
		free(rm->m[i].source);
		free(rm->m[i].target);
		free(rm->m[i].type);
		free(rm->m[i].options);
		free(rm->m[i].subpath);
	}
	buf_free(&rm->inputs);
	free(rm->m);
	strv_free(rm->stubs);
	for (size_t i = 0; i < rm->nlocks; i++)
		close(rm->locks[i]);
	free(rm->locks);
}

static void mount_add(struct run_mounts *rm, const struct mount_spec *m)
{
	rm->m = xrealloc(rm->m, (rm->n + 1) * sizeof(*rm->m));
	rm->m[rm->n++] = (struct mount_spec){.source = m->source ? xstrdup(m->source) : NULL,
					     .target = xstrdup(m->target),
					     .type = xstrdup(m->type),
					     .options = m->options ? xstrdup(m->options) : NULL,
					     .file = m->file,
					     .subpath = m->subpath ? xstrdup(m->subpath) : NULL,
					     .subpath_in_root = m->subpath_in_root};
	strv_push(&rm->stubs, xstrdup(m->target));
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
		{"type", offsetof(struct mount_fields, type)},
		{"target", offsetof(struct mount_fields, target)},
		{"dst", offsetof(struct mount_fields, target)},
		{"destination", offsetof(struct mount_fields, target)},
		{"source", offsetof(struct mount_fields, source)},
		{"src", offsetof(struct mount_fields, source)},
		{"from", offsetof(struct mount_fields, from)},
		{"id", offsetof(struct mount_fields, id)},
		{"sharing", offsetof(struct mount_fields, sharing)},
		{"mode", offsetof(struct mount_fields, mode)},
		{"uid", offsetof(struct mount_fields, uid)},
		{"gid", offsetof(struct mount_fields, gid)},
		{"size", offsetof(struct mount_fields, size)},
		{"required", offsetof(struct mount_fields, required)},
	};
	char *save = NULL;
	for (char *kv = strtok_r(spec, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (eq)
			*eq = '\0';
		const char *v = eq ? eq + 1 : NULL;
		if (streq(kv, "ro") || streq(kv, "readonly")) {
			f->ro = build_flag_bool(v);
			continue;
		}
		if (streq(kv, "rw") || streq(kv, "readwrite")) {
			f->rw = build_flag_bool(v);
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
	mount_add(rm,
		  &(struct mount_spec){
			  .source = dir, .target = (char *)f->target, .type = "bind", .options = f->ro ? "ro" : NULL});
	return 0;
}

/* type=bind: source (default: the root) of the build context, a stage, a
 * named context or an image (from=). The source is resolved when the
 * step's container is made, inside that source's own root (its symlinks
 * followed as they read there, never out of it; a stage's or an image's
 * as an overlay of its layers), and mounted from the descriptor: never a
 * path joined from what the Dockerfile says. Read-only, or rw with the
 * writes thrown away after the step, as BuildKit does. What it binds is
 * part of the step's cache key: a context path's content, a stage's key,
 * an image's id. */
static int bind_mount(struct build *b, size_t si, struct run_mounts *rm, const struct mount_fields *f,
		      struct berr **err)
{
	struct bsource src;
	int r = build_source(b, si, f->from, &src, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *rel = path_clean(f->source && f->source[0] ? f->source : ".");
	struct buf o = {0};
	if (!src.dir) {
		buf_puts(&o, "lowerdir=");
		for (size_t i = 0; src.layers && src.layers[i]; i++) {
			if (strpbrk(src.layers[i], ",:"))
				r = berr_set(err, EINVAL, "--mount: the layer %s has a ',' or ':'", src.layers[i]);
			buf_printf(&o, "%s%s", i ? ":" : "", src.layers[i]);
		}
	}
	struct mount_spec m = {.source = src.dir ? src.dir : "overlay",
			       .target = (char *)f->target,
			       .type = src.dir ? "bind" : "overlay",
			       .options = o.s,
			       .subpath = rel,
			       .subpath_in_root = true};
	/* there now, and a file or a directory */
	int fd = r < 0 ? -1 : src.dir ? rootfs_subpath_open(&m, err) : rootfs_overlay_subpath_tree(&m, err);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) < 0)
		r = berr_sys(err, errno, "--mount: %s", rel);
	const char *shown = f->source && f->source[0] ? f->source : "/", *in = f->from ? f->from : "the build context";
	if (fd < 0 && r == 0 && err && *err && ((*err)->code == ENOENT || (*err)->code == ENOTDIR)) {
		berr_free(*err);
		*err = NULL;
		r = berr_set(err, ENOENT, "--mount: source %s is not in %s", shown, in);
	} else if (fd < 0) {
		r = berr_prefix(err, "--mount: source %s in %s: ", shown, in);
	}
	if (fd >= 0)
		close(fd);
	m.file = r == 0 && !S_ISDIR(st.st_mode);
	if (r == 0 && m.file && f->rw)
		r = berr_set(err, ENOTSUP, "--mount: rw of a single file (%s) is not supported by berth", rel);
	_cleanup_free_ char *scratch = r == 0 && f->rw ? build_scratch(b) : NULL;
	if (scratch) {
		_cleanup_free_ char *up = xasprintf("%s/upper", scratch), *wk = xasprintf("%s/work", scratch);
		r = fs_mkdir_p(up, 0755, err);
		if (r == 0)
			r = fs_mkdir_p(wk, 0700, err);
		buf_printf(&o, "%supperdir=%s,workdir=%s", o.len ? "," : "", up, wk);
	} else {
		buf_printf(&o, "%sro", o.len ? "," : "");
	}
	m.options = o.s;
	char hex[65] = "";
	char *one[] = {rel, NULL};
	if (r == 0 && !src.key)
		r = bcopy_hash(src.dir, NULL, NULL, one, hex, err);
	if (r == 0) {
		buf_printf(&rm->inputs, "bind %s %s\n", f->target, src.key ? src.key : hex);
		mount_add(rm, &m);
	}
	buf_free(&o);
	build_source_free(&src);
	return r;
}

/* A field a type does not take here is refused by name, never ignored
 * (BuildKit seeds a cache mount from= a stage; berth does not). */
static int unsupported_fields(const struct mount_fields *f, struct berr **err)
{
	static const struct {
		const char *type, *takes;
	} takes[] = {{"cache", " id sharing mode uid gid "},
		     {"tmpfs", " size "},
		     {"secret", " id required "},
		     {"bind", " source from "}};
	const struct {
		const char *name, *value;
	} given[] = {{"source", f->source},   {"from", f->from}, {"id", f->id},
		     {"sharing", f->sharing}, {"mode", f->mode}, {"uid", f->uid},
		     {"gid", f->gid},         {"size", f->size}, {"required", f->required}};
	const char *ok = "";
	for (size_t i = 0; i < ARRAY_SIZE(takes); i++)
		if (streq(takes[i].type, f->type))
			ok = takes[i].takes;
	for (size_t i = 0; i < ARRAY_SIZE(given); i++) {
		_cleanup_free_ char *word = xasprintf(" %s ", given[i].name);
		if (given[i].value && !strstr(ok, word))
			return berr_set(err, ENOTSUP, "--mount: type=%s with %s= is not supported by berth", f->type,
					given[i].name);
	}
	return 0;
}

/* One --mount=…; a relative target is under the working directory, as
 * BuildKit has it (--mount=type=bind,target=. mounts the context there). */
static int one_mount(struct build *b, size_t si, const char *cwd, struct run_mounts *rm, char *spec, struct berr **err)
{
	struct mount_fields f;
	int r = mount_fields(spec, &f, err);
	if (r < 0)
		return r;
	static const char *const types[] = {"cache", "bind", "tmpfs", "secret"};
	bool known = false;
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		known |= streq(f.type, types[i]);
	if (!known)
		return berr_set(err, ENOTSUP,
				"--mount: type=%s is not supported by berth (cache, bind, tmpfs, secret are)", f.type);
	if (!f.target && !streq(f.type, "secret"))
		return berr_set(err, EINVAL, "--mount: type=%s needs a target", f.type);
	r = unsupported_fields(&f, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *target = f.target ? path_join(cwd && cwd[0] ? cwd : "/", f.target) : NULL;
	f.target = target;
	if (streq(f.type, "cache"))
		return cache_mount(b, rm, &f, err);
	if (streq(f.type, "tmpfs")) {
		_cleanup_free_ char *o = f.size ? xasprintf("size=%s", f.size) : NULL;
		mount_add(rm, &(struct mount_spec){
				      .source = "tmpfs", .target = (char *)f.target, .type = "tmpfs", .options = o});
		return 0;
	}
	if (streq(f.type, "secret")) {
		const char *id = f.id ? f.id : f.target ? path_basename(f.target) : NULL;
		if (!id)
			return berr_set(err, EINVAL, "--mount: type=secret needs an id or a target");
		const char *path = strv_env_get(b->o->secrets, id);
		_cleanup_free_ char *at = f.target ? xstrdup(f.target) : xasprintf("/run/secrets/%s", id);
		if (!path && build_flag_bool(f.required) && f.required)
			return berr_set(err, ENOENT, "--mount: secret %s is required, and the build has no such secret",
					id);
		if (path)
			mount_add(rm, &(struct mount_spec){.source = (char *)path,
							   .target = at,
							   .type = "bind",
							   .options = "ro",
							   .file = true});
		return 0;
	}
	return bind_mount(b, si, rm, &f, err);
}

static int run_flags(struct build *b, size_t si, struct sstate *ss, const struct df_instr *ins, struct run_mounts *rm,
		     const char **network, bool *insecure, struct berr **err)
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
			r = one_mount(b, si, json_string_value(json_object_get(ss->s.cfg, "WorkingDir")), rm, v, err);
		} else if (startswith(fl, "--network=")) {
			if (!streq(v, "default") && !streq(v, "none") && !streq(v, "host"))
				r = berr_set(err, EINVAL, "--network=%s: use default, none or host", v);
			/* as BuildKit: the host's network only where the build grants it */
			if (r == 0 && streq(v, "host") && !b->o->host_network)
				r = berr_set(err, EPERM,
					     "--network=host: the build does not allow it (grant the network.host "
					     "entitlement: image build --allow network.host, or build: entitlements: "
					     "[network.host] or network: host in the compose file)");
			*network = streq(v, "none") ? "none" : streq(v, "host") ? "host" : *network;
		} else if (startswith(fl, "--security=")) {
			/* as BuildKit: insecure only where the build allows it (build: privileged) */
			*insecure = streq(v, "insecure");
			if (!streq(v, "sandbox") && !streq(v, "insecure"))
				r = berr_set(err, EINVAL, "--security=%s: use sandbox or insecure", v);
			else if (*insecure && !b->o->privileged)
				r = berr_set(err, EPERM,
					     "--security=insecure: the build does not allow it (build: "
					     "privileged: true, or image build --allow security.insecure)");
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
int build_limits(char *const *ulimits, struct rlimit_spec **out, size_t *n, struct berr **err)
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
static int run_failed(struct build *b, const struct df_instr *ins, const char *step, const char *cmd, int code, int v,
		      struct berr **err)
{
	struct buf tail = {0};
	for (size_t i = 0; i < b->ntail; i++)
		buf_printf(&tail, "%s%s", i ? "\n" : "", b->tail[i]);
	int r = berr_set(err, EIO, "process \"%s\" did not complete successfully: exit code: %d%s%s", cmd, code,
			 b->o->quiet && tail.len ? "; its last output:\n" : "", b->o->quiet && tail.s ? tail.s : "");
	_cleanup_free_ char *shown = build_instr_text(ins);
	struct buf o = {0};
	buf_printf(&o, "#%d ERROR: %s\n------\n > [%s] %s:\n%s%s------\n%s:%d\n--------------------\n", v, (*err)->msg,
		   step, shown, tail.s ? tail.s : "", tail.s ? "\n" : "", b->df.name, ins->line);
	for (size_t i = 0; b->lines && b->lines[i]; i++)
		if ((int)i + 1 >= ins->line - 2 && (int)i + 1 <= ins->line + 2)
			buf_printf(&o, " %3zu | %s %s\n", i + 1, (int)i + 1 == ins->line ? ">>>" : "   ", b->lines[i]);
	build_say(b, "%s--------------------\n", o.s);
	buf_free(&o);
	buf_free(&tail);
	return r;
}

int build_step_run(struct build *b, size_t si, struct sstate *ss, const struct df_instr *ins, const char *step,
		   struct berr **err)
{
	struct run_mounts rm = {0};
	const char *network = b->o->network && b->o->network[0] ? b->o->network : "default";
	bool insecure = false;
	int r = run_flags(b, si, ss, ins, &rm, &network, &insecure, err);
	_cleanup_(strv_freep) char **argv = run_argv(ss, ins);
	_cleanup_(strv_freep) char **env = bstage_run_env(&ss->s);
	_cleanup_(strv_freep) char **lower = build_lower(b, ss);
	_cleanup_free_ char *by = run_by(argv);
	struct buf text = {0};
	buf_printf(&text, "%s\n", by);
	for (size_t i = 0; ins->flags[i]; i++)
		buf_printf(&text, "flag %s\n", ins->flags[i]);
	for (size_t i = 0; env[i]; i++)
		buf_printf(&text, "env %s\n", env[i]);
	if (rm.inputs.s)
		buf_puts(&text, rm.inputs.s);
	_cleanup_free_ char *hist = xasprintf("%s # buildkit", by);
	int64_t t0;
	bool cached;
	int v = build_step_begin(b, ss, ins, step, text.s, hist, r == 0, &t0, &cached);
	buf_free(&text);
	if (cached) {
		run_mounts_free(&rm);
		return 0;
	}
	_cleanup_free_ char *name = xasprintf("%s%d-%d", b->prefix, (int)getpid(), ++b->nrun);
	const char *cwd = json_string_value(json_object_get(ss->s.cfg, "WorkingDir"));
	struct brun run = {.root = b->o->root,
			   .name = name,
			   .layers = lower,
			   .argv = argv,
			   .env = env,
			   .cwd = cwd,
			   .user = json_string_value(json_object_get(ss->s.cfg, "User")),
			   .network = network,
			   .mounts = rm.m,
			   .nmounts = rm.n,
			   .output = build_output,
			   .data = b};
	_cleanup_(strv_freep) char **hosts = xcalloc(1, sizeof(char *));
	for (size_t i = 0; b->o->hosts && b->o->hosts[i]; i++) {
		const char *h = b->o->hosts[i];
		size_t k = strcspn(h, "=:");
		if (h[k])
			strv_push(&hosts, xasprintf("%s\t%.*s", h + k + 1, (int)k, h));
	}
	run.hosts = hosts;
	run.privileged = insecure;
	run.shm_size = b->o->shm_size;
	struct rlimit_spec *limits = NULL;
	if (r == 0)
		r = build_limits(b->o->ulimits, &limits, &run.nrlimits, err);
	run.rlimits = limits;
	int code = 0;
	_cleanup_free_ char *upper = NULL;
	b->cur_vertex = v;
	b->cur_t0 = t0;
	build_tail_clear(b);
	if (r == 0)
		r = brun_step(&run, &code, &upper, err);
	build_output_flush(b);
	b->used_network |= streq(network, "default");
	if (r == 0 && code != 0)
		r = run_failed(b, ins, step, by + 4, code, v, err);
	if (upper && r == 0) {
		char **stubs = strv_copy((char **)brun_stubs);
		for (size_t i = 0; rm.stubs[i]; i++)
			strv_push(&stubs, xstrdup(rm.stubs[i]));
		blayer_drop_stubs(upper, lower, stubs);
		strv_free(stubs);
		r = build_commit(b, ss, ss->key, upper, hist, err);
	} else if (upper) {
		fs_remove_tree(upper, NULL);
	}
	run_mounts_free(&rm);
	for (size_t i = 0; i < run.nrlimits; i++)
		free(limits[i].name);
	free(limits);
	if (r == 0)
		build_vdone(b, v, t0, false);
	return r;
}
