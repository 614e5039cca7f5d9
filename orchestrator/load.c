/* The loading pipeline: find files, read .env, and for each file parse,
 * interpolate, validate against the schema, canonicalize and resolve
 * extends; then merge the files, pull in includes, normalize, apply
 * profiles and check references and dependency cycles. */
#include <ctype.h>
#include <errno.h>

#include "../lib/fs.h"
#include "../lib/log.h"
#include "../lib/sha256.h"
#include "canon.h"
#include "check.h"
#include "dotenv.h"
#include "interp.h"
#include "merge.h"
#include "normalize.h"
#include "project.h"
#include "schema.h"
#include "yaml.h"

#define MAX_FILE_SIZE (32u << 20)
#define MAX_NESTING 32 /* include and extends-file depth */

struct loader {
	const struct project_opts *o;
	struct schema *schema;
	struct env warned;
	const char *home;
	char **extends_stack; /* "file#service" being resolved, for cycles */
	int depth;
};

/* A file parsed into one document (documents of one file are merged). */
struct parsed {
	char *path;
	struct node *doc;
};

static const char *const default_names[] = {"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"};

static void warn_unset(void *data, const char *name)
{
	struct loader *l = ((void **)data)[1];
	if (env_has(&l->warned, name))
		return;
	env_set(&l->warned, name, "");
	log_warn("the \"%s\" variable is not set; using an empty string", name);
}

static const char *lookup_pair(void *data, const char *name) { return env_get(((void **)data)[0], name); }

static int parse_file(const char *path, struct parsed *out, struct berr **err)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r = fs_read_file(path, MAX_FILE_SIZE, &data, &len, err);
	if (r < 0)
		return r;
	const char *shown = streq(path, "-") ? "(stdin)" : path;
	struct node **docs;
	size_t n;
	r = yaml_parse(shown, data, len, &docs, &n, err);
	if (r < 0)
		return r;
	struct node *doc = NULL;
	for (size_t i = 0; i < n; i++) {
		struct node *d = steal_ptr(&docs[i]);
		if (node_is_null(d)) {
			node_free(d);
			continue;
		}
		if (d->kind != NODE_MAP) {
			r = node_err(err, d,
				     "the top level of a compose file must be a mapping (services:, ...), not %s",
				     node_kind_name(d));
			node_free(d);
			break;
		}
		if (doc)
			merge_document(doc, d);
		else
			doc = d;
	}
	yaml_docs_free(docs, n);
	if (r < 0) {
		node_free(doc);
		return r;
	}
	if (!doc) {
		struct srcfile *f = srcfile_new(shown);
		doc = node_new_map((struct pos){f, 1, 1});
		struct pos p = {f, 0, 0};
		pos_unref(&p);
	}
	out->path = xstrdup(path);
	out->doc = doc;
	return 0;
}

static void parsed_free(struct parsed *p)
{
	free(p->path);
	node_free(p->doc);
	p->path = NULL;
	p->doc = NULL;
}

static int resolve_extends(struct loader *l, struct node *doc, const char *file, const char *workdir,
			   const struct env *env, struct berr **err);

/* Interpolate, validate, canonicalize and resolve extends in one document. */
static int process_doc(struct loader *l, struct node *doc, const char *file, const char *workdir, const struct env *env,
		       struct berr **err)
{
	if (!l->o->no_interpolate) {
		void *pair[2] = {(void *)env, l};
		struct interp_ctx ic = {.lookup = lookup_pair, .data = pair, .unset = warn_unset};
		int r = interp_tree(doc, &ic, err);
		if (r < 0)
			return r;
	}
	int r = schema_validate(l->schema, doc, err);
	if (r < 0)
		return r;
	if (node_map_get(doc, "version"))
		log_warn("%s: the top-level \"version\" key is obsolete and ignored; you can remove it", file);
	struct canon_ctx cc = {.workdir = workdir, .home = l->home, .keep_relative = l->o->no_path_resolution};
	r = canon_document(doc, &cc, err);
	if (r < 0)
		return r;
	return resolve_extends(l, doc, file, workdir, env, err);
}

static int load_one(struct loader *l, const char *path, const char *workdir, const struct env *env, struct node **out,
		    struct berr **err)
{
	struct parsed p = {0};
	int r = parse_file(path, &p, err);
	if (r == 0)
		r = process_doc(l, p.doc, path, workdir, env, err);
	if (r == 0)
		*out = steal_ptr(&p.doc);
	parsed_free(&p);
	return r;
}

static int extend_one(struct loader *l, struct node *doc, const char *file, const char *workdir, const struct env *env,
		      struct pair *sp, struct berr **err);

static int resolve_extends(struct loader *l, struct node *doc, const char *file, const char *workdir,
			   const struct env *env, struct berr **err)
{
	struct node *services = node_map_get(doc, "services");
	for (size_t i = 0; services && services->kind == NODE_MAP && i < services->n; i++) {
		int r = extend_one(l, doc, file, workdir, env, &services->pairs[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The base service an extends names, with its own extends already applied. */
static int extends_base(struct loader *l, struct node *doc, const char *file, const char *workdir,
			const struct env *env, const char *name, struct node *ext, struct node **base,
			struct berr **err)
{
	struct node *svcn = node_map_get(ext, "service");
	const char *other = node_str(node_map_get(ext, "file"));
	if (!other) {
		struct pair *bp = node_map_pair(node_map_get(doc, "services"), svcn->str);
		if (!bp)
			return node_err(err, svcn, "services.%s.extends: service \"%s\" is not defined in %s", name,
					svcn->str, file);
		int r = extend_one(l, doc, file, workdir, env, bp, err);
		if (r == 0)
			*base = node_clone(bp->val);
		return r;
	}
	_cleanup_free_ char *dir = path_dirname(file);
	_cleanup_free_ char *path = path_join(streq(file, "-") ? workdir : dir, other);
	if (!fs_exists(path))
		return node_err(err, node_map_get(ext, "file"), "services.%s.extends: file %s does not exist", name,
				path);
	if (l->depth >= MAX_NESTING)
		return node_err(err, ext, "services.%s.extends: files are nested more than %d deep", name, MAX_NESTING);
	_cleanup_free_ char *odir = path_dirname(path);
	_cleanup_(node_freep) struct node *odoc = NULL;
	l->depth++;
	int r = load_one(l, path, odir, env, &odoc, err);
	l->depth--;
	if (r < 0)
		return r;
	struct node *b = node_map_get(node_map_get(odoc, "services"), svcn->str);
	if (!b)
		return node_err(err, svcn, "services.%s.extends: service \"%s\" is not defined in %s", name, svcn->str,
				path);
	*base = node_clone(b);
	return 0;
}

static int extend_one(struct loader *l, struct node *doc, const char *file, const char *workdir, const struct env *env,
		      struct pair *sp, struct berr **err)
{
	struct node *ext = node_map_get(sp->val, "extends");
	if (!ext || ext->kind != NODE_MAP)
		return 0;
	_cleanup_free_ char *key = xasprintf("%s#%s", file, sp->key);
	if (strv_contains(l->extends_stack, key)) {
		return node_err(err, ext, "services.%s.extends: circular reference (%s extends itself through %s)",
				sp->key, sp->key, node_str(node_map_get(ext, "service")));
	}
	strv_push(&l->extends_stack, xstrdup(key));
	struct node *base = NULL;
	int r = extends_base(l, doc, file, workdir, env, sp->key, ext, &base, err);
	size_t n = strv_len(l->extends_stack);
	free(l->extends_stack[n - 1]);
	l->extends_stack[n - 1] = NULL;
	if (r < 0)
		return r;
	node_map_del(base, "extends");
	node_map_del(sp->val, "extends");
	merge_service(base, sp->val);
	node_free(sp->val);
	sp->val = base;
	return 0;
}

static int process_includes(struct loader *l, struct node *doc, const char *workdir, const struct env *env,
			    struct berr **err);

/* Parse, process and merge a list of files into one canonical document. */
static int load_files(struct loader *l, struct parsed *files, size_t n, const char *workdir, const struct env *env,
		      struct node **out, struct berr **err)
{
	struct node *merged = NULL;
	for (size_t i = 0; i < n; i++) {
		int r = process_doc(l, files[i].doc, files[i].path, workdir, env, err);
		if (r < 0) {
			node_free(merged);
			return r;
		}
		if (merged)
			merge_document(merged, steal_ptr(&files[i].doc));
		else
			merged = steal_ptr(&files[i].doc);
	}
	int r = process_includes(l, merged, workdir, env, err);
	if (r < 0) {
		node_free(merged);
		return r;
	}
	*out = merged;
	return 0;
}

static int copy_included(struct node *doc, struct node *inc, const char *path, struct berr **err)
{
	static const char *const sections[] = {"services", "networks", "volumes", "secrets", "configs"};
	for (size_t s = 0; s < ARRAY_SIZE(sections); s++) {
		struct node *src = node_map_get(inc, sections[s]);
		if (!src || src->kind != NODE_MAP)
			continue;
		struct node *dst = node_map_get(doc, sections[s]);
		if (!dst) {
			dst = node_new_map(src->pos);
			node_map_set(doc, sections[s], dst);
		}
		for (size_t i = 0; i < src->n; i++) {
			struct node *have = node_map_get(dst, src->pairs[i].key);
			if (!have) {
				node_map_set_at(dst, src->pairs[i].key, src->pairs[i].pos,
						steal_ptr(&src->pairs[i].val));
				continue;
			}
			struct buf a = {0}, b = {0};
			node_to_json(have, &a, -1);
			node_to_json(src->pairs[i].val, &b, -1);
			bool same = streq(a.s, b.s);
			buf_free(&a);
			buf_free(&b);
			if (!same)
				return pos_err(err, src->pairs[i].pos,
					       "%s.%s is defined both here (included from %s) and in the including "
					       "project; rename one of them",
					       sections[s], src->pairs[i].key, path);
		}
	}
	return 0;
}

/* compose-spec 14-include.md: each entry is loaded as its own project
 * (own directory, own .env), then its resources are copied in. */
static int include_one(struct loader *l, struct node *doc, struct node *entry, const char *workdir,
		       const struct env *env, struct berr **err)
{
	struct node *paths = entry->kind == NODE_MAP ? node_map_get(entry, "path") : entry;
	char **files = NULL;
	for (size_t i = 0; i < (paths->kind == NODE_SEQ ? paths->n : 1); i++)
		strv_push(&files, path_join(workdir, node_str(paths->kind == NODE_SEQ ? paths->items[i] : paths)));
	const char *pd = node_str(node_map_get(entry, "project_directory"));
	_cleanup_free_ char *idir = pd ? path_join(workdir, pd) : path_dirname(files[0]);
	struct env ienv = {0};
	struct node *ef = node_map_get(entry, "env_file");
	int r = 0;
	for (size_t i = 0; ef && i < (ef->kind == NODE_SEQ ? ef->n : 1) && r == 0; i++) {
		_cleanup_free_ char *p = path_join(workdir, node_str(ef->kind == NODE_SEQ ? ef->items[i] : ef));
		r = dotenv_read(p, env_lookup, (void *)env, false, &ienv, err);
	}
	_cleanup_free_ char *dotenv = path_join(idir, ".env");
	if (r == 0 && !ef && fs_exists(dotenv))
		r = dotenv_read(dotenv, env_lookup, (void *)env, false, &ienv, err);
	for (size_t i = 0; i < env->n; i++) /* the including project's values win */
		env_set(&ienv, env->keys[i], env->vals[i]);
	struct parsed *ps = xcalloc(strv_len(files), sizeof(*ps));
	size_t np = 0;
	for (; r == 0 && files[np]; np++) {
		if (!fs_exists(files[np]))
			r = node_err(err, paths, "include: %s does not exist", files[np]);
		else
			r = parse_file(files[np], &ps[np], err);
	}
	struct node *inc = NULL;
	if (r == 0) {
		l->depth++;
		r = l->depth > MAX_NESTING ? node_err(err, entry, "include: nested more than %d deep", MAX_NESTING)
					   : load_files(l, ps, np, idir, &ienv, &inc, err);
		l->depth--;
	}
	if (r == 0)
		r = copy_included(doc, inc, files[0], err);
	node_free(inc);
	for (size_t i = 0; i < np; i++)
		parsed_free(&ps[i]);
	free(ps);
	strv_free(files);
	env_free(&ienv);
	return r;
}

static int process_includes(struct loader *l, struct node *doc, const char *workdir, const struct env *env,
			    struct berr **err)
{
	_cleanup_(node_freep) struct node *inc = node_map_take(doc, "include");
	for (size_t i = 0; inc && inc->kind == NODE_SEQ && i < inc->n; i++) {
		int r = include_one(l, doc, inc->items[i], workdir, env, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- files, directories, names ---- */

static int discover(const char *cwd, char ***files, struct berr **err)
{
	_cleanup_free_ char *dir = xstrdup(cwd);
	for (;;) {
		for (size_t i = 0; i < ARRAY_SIZE(default_names); i++) {
			_cleanup_free_ char *p = path_join(dir, default_names[i]);
			if (!fs_exists(p))
				continue;
			strv_push(files, xstrdup(p));
			/* compose.yaml -> compose.override.yaml (and .yml) */
			const char *dot = strrchr(default_names[i], '.');
			static const char *const exts[] = {".yaml", ".yml"};
			for (size_t e = 0; e < ARRAY_SIZE(exts); e++) {
				_cleanup_free_ char *o = xasprintf("%s/%.*s.override%s", dir,
								   (int)(dot - default_names[i]), default_names[i],
								   exts[e]);
				if (fs_exists(o)) {
					strv_push(files, xstrdup(o));
					break;
				}
			}
			return 0;
		}
		if (streq(dir, "/"))
			break;
		char *up = path_dirname(dir);
		free(dir);
		dir = up;
	}
	return berr_set(err, ENOENT,
			"no compose file found in %s or its parents (looked for compose.yaml, compose.yml, "
			"docker-compose.yaml, docker-compose.yml); use -f to name one",
			cwd);
}

bool project_name_valid(const char *name)
{
	if (!name[0] || !(islower((unsigned char)name[0]) || isdigit((unsigned char)name[0])))
		return false;
	for (const char *p = name; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' || *p == '_'))
			return false;
	return true;
}

char *project_name_normalize(const char *s)
{
	struct buf b = {0};
	for (const char *p = s; *p; p++) {
		char c = (char)tolower((unsigned char)*p);
		if (islower((unsigned char)c) || isdigit((unsigned char)c) || c == '-' || c == '_')
			buf_putc(&b, c);
	}
	char *r = buf_steal(&b);
	size_t skip = strspn(r, "-_");
	memmove(r, r + skip, strlen(r + skip) + 1);
	return r;
}

static int check_name(const char *name, const char *from, struct berr **err)
{
	if (project_name_valid(name))
		return 0;
	return berr_set(err, EINVAL,
			"invalid project name \"%s\" (from %s): use only lowercase letters, digits, '-' and '_', "
			"starting with a letter or digit",
			name, from);
}

static int read_dotenv(const struct project_opts *o, const char *dir, struct env *out, struct berr **err)
{
	struct env procenv = {0};
	env_from_environ(&procenv, o->environ);
	int r = 0;
	/* --env-file, else COMPOSE_ENV_FILES (comma-separated), else the directory's .env */
	const char *list = env_get(&procenv, "COMPOSE_ENV_FILES");
	char **files = o->env_files ? strv_copy(o->env_files) : NULL;
	if (!files && list && list[0]) {
		files = xcalloc(1, sizeof(char *));
		_cleanup_free_ char *copy = xstrdup(list);
		char *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			strv_push(&files, xstrdup(t));
	}
	if (files) {
		for (size_t i = 0; files[i] && r == 0; i++) {
			_cleanup_free_ char *p = path_absolute(files[i]);
			r = dotenv_read(p, env_lookup, &procenv, false, out, err);
		}
		strv_free(files);
	} else {
		_cleanup_free_ char *p = path_join(dir, ".env");
		if (fs_exists(p) && !fs_is_dir(p))
			r = dotenv_read(p, env_lookup, &procenv, false, out, err);
	}
	/* the process environment wins over .env */
	for (size_t i = 0; i < procenv.n; i++)
		env_set(out, procenv.keys[i], procenv.vals[i]);
	env_free(&procenv);
	return r;
}

static int choose_files(const struct project_opts *o, const struct env *env, const char *cwd, char ***files,
			struct berr **err)
{
	if (o->files) {
		for (size_t i = 0; o->files[i]; i++)
			strv_push(files, streq(o->files[i], "-") ? xstrdup("-") : path_absolute(o->files[i]));
		return 0;
	}
	const char *cf = env_get(env, "COMPOSE_FILE");
	if (cf && cf[0]) {
		const char *sep = env_get(env, "COMPOSE_PATH_SEPARATOR");
		_cleanup_free_ char *copy = xstrdup(cf);
		char *save = NULL;
		for (char *t = strtok_r(copy, sep && sep[0] ? sep : ":", &save); t;
		     t = strtok_r(NULL, sep && sep[0] ? sep : ":", &save))
			strv_push(files, path_absolute(t));
		return 0;
	}
	const char *start = o->project_dir ? o->project_dir : cwd;
	return discover(start, files, err);
}

/* -p, then COMPOSE_PROJECT_NAME, then the last top-level name:, then the directory. */
static int choose_name(struct project *p, const struct project_opts *o, struct parsed *docs, size_t n,
		       struct berr **err)
{
	if (o->name) {
		p->name = xstrdup(o->name);
		return check_name(p->name, "-p", err);
	}
	const char *envname = env_get(&p->env, "COMPOSE_PROJECT_NAME");
	if (envname && envname[0]) {
		p->name = xstrdup(envname);
		return check_name(p->name, "COMPOSE_PROJECT_NAME", err);
	}
	for (size_t i = n; i > 0; i--) {
		struct node *nn = node_map_get(docs[i - 1].doc, "name");
		if (!node_str(nn) || node_is_null(nn))
			continue;
		char *v, *msg;
		struct interp_ctx ic = {.lookup = env_lookup, .data = &p->env};
		if (interp_string(nn->str, &ic, &v, &msg) < 0) {
			int r = node_err(err, nn, "name: %s", msg);
			free(msg);
			return r;
		}
		p->name = v;
		return check_name(p->name, "the name: key", err);
	}
	p->name = project_name_normalize(path_basename(p->workdir));
	if (!p->name[0])
		return berr_set(err, EINVAL, "cannot make a project name from directory %s; use -p NAME", p->workdir);
	return 0;
}

/* ---- profiles ---- */

static void collect_profiles(struct project *p)
{
	struct node *services = project_services(p);
	for (size_t i = 0; services && i < services->n; i++) {
		struct node *pr = node_map_get(services->pairs[i].val, "profiles");
		for (size_t k = 0; pr && pr->kind == NODE_SEQ && k < pr->n; k++)
			if (node_str(pr->items[k]) && !strv_contains(p->all_profiles, pr->items[k]->str))
				strv_push(&p->all_profiles, xstrdup(pr->items[k]->str));
	}
	if (!p->all_profiles)
		p->all_profiles = xcalloc(1, sizeof(char *));
	strv_sort(p->all_profiles);
}

static bool service_enabled(struct node *svc, char **active)
{
	struct node *pr = node_map_get(svc, "profiles");
	if (!pr || pr->kind != NODE_SEQ || pr->n == 0)
		return true;
	if (strv_contains(active, "*"))
		return true;
	for (size_t k = 0; k < pr->n; k++)
		if (strv_contains(active, node_str(pr->items[k])))
			return true;
	return false;
}

/* compose-spec 15-profiles.md: a service named on the command line turns its profiles on. */
static int apply_profiles(struct project *p, const struct project_opts *o, struct berr **err)
{
	if (o->profiles) {
		p->profiles = strv_copy(o->profiles);
	} else {
		const char *cp = env_get(&p->env, "COMPOSE_PROFILES");
		_cleanup_free_ char *copy = xstrdup(cp ? cp : "");
		char *save = NULL;
		p->profiles = xcalloc(1, sizeof(char *));
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			strv_push(&p->profiles, xstrdup(t));
	}
	struct node *services = project_services(p);
	for (size_t i = 0; o->services && o->services[i]; i++) {
		struct node *svc = node_map_get(services, o->services[i]);
		if (!svc)
			return berr_set(err, ENOENT, "no such service: %s", o->services[i]);
		struct node *pr = node_map_get(svc, "profiles");
		for (size_t k = 0; pr && pr->kind == NODE_SEQ && k < pr->n; k++)
			if (!strv_contains(p->profiles, pr->items[k]->str))
				strv_push(&p->profiles, xstrdup(pr->items[k]->str));
	}
	for (size_t i = services ? services->n : 0; i > 0; i--)
		if (!service_enabled(services->pairs[i - 1].val, p->profiles))
			node_map_del(services, services->pairs[i - 1].key);
	return 0;
}

static int load_main(struct loader *l, struct project *p, struct berr **err)
{
	size_t n = strv_len(p->files);
	struct parsed *docs = xcalloc(n + 1, sizeof(*docs));
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = parse_file(p->files[i], &docs[i], err);
	if (r == 0)
		r = choose_name(p, l->o, docs, n, err);
	if (r == 0) {
		if (!env_has(&p->env, "COMPOSE_PROJECT_NAME"))
			env_set(&p->env, "COMPOSE_PROJECT_NAME", p->name);
		r = load_files(l, docs, n, p->workdir, &p->env, &p->doc, err);
	}
	for (size_t i = 0; i < n; i++)
		parsed_free(&docs[i]);
	free(docs);
	return r;
}

static int finish(struct loader *l, struct project *p, struct berr **err)
{
	struct normalize_ctx nc = {.project = p->name,
				   .env = &p->env,
				   .workdir = p->workdir,
				   .deferred = &p->env_errors,
				   .no_env_resolution = l->o->no_env_resolution};
	int r = l->o->no_normalize ? 0 : normalize_document(p->doc, &nc, err);
	if (r < 0)
		return r;
	collect_profiles(p);
	r = apply_profiles(p, l->o, err);
	if (r == 0)
		r = check_names(p->doc, err);
	if (r == 0 && !l->o->no_consistency && !l->o->no_normalize)
		r = check_references(p->doc, err);
	if (r == 0)
		r = check_dependency_order(p->doc, &p->order, err);
	if (r == 0 && !l->o->lenient_env)
		r = project_env_check(p, l->o->services, err);
	return r;
}

int project_env_check(const struct project *p, char *const *services, struct berr **err)
{
	if (!p->env_errors.n)
		return 0;
	_cleanup_(strv_freep) char **need = strv_copy(services ? services : p->order);
	for (size_t i = 0; need[i]; i++) { /* the dependencies too, each once */
		struct node *deps = node_map_get(project_service(p, need[i]), "depends_on");
		for (size_t k = 0; deps && deps->kind == NODE_MAP && k < deps->n; k++)
			if (!strv_contains(need, deps->pairs[k].key))
				strv_push(&need, xstrdup(deps->pairs[k].key));
	}
	for (size_t i = 0; need[i]; i++) {
		const char *msg = env_get(&p->env_errors, need[i]);
		if (msg && strv_contains(p->order, need[i]))
			return berr_set(err, ENOENT, "%s", msg);
	}
	return 0;
}

int project_load(const struct project_opts *o, struct project **out, struct berr **err)
{
	_cleanup_(project_freep) struct project *p = xcalloc(1, sizeof(*p));
	p->sep = o->compatibility ? '_' : '-';
	struct loader l = {.o = o};
	_cleanup_free_ char *cwd = path_absolute(".");
	/* .env of the working (or project) directory may name COMPOSE_FILE */
	_cleanup_free_ char *first_dir = path_absolute(o->project_dir ? o->project_dir : ".");
	int r = read_dotenv(o, first_dir, &p->env, err);
	if (r == 0)
		r = choose_files(o, &p->env, cwd, &p->files, err);
	const char *envname = env_get(&p->env, "COMPOSE_PROJECT_NAME");
	if (r == -ENOENT && o->file_optional && !o->files && (o->name || (envname && envname[0]))) {
		/* a project named by -p or COMPOSE_PROJECT_NAME, without its file */
		berr_free(*err);
		*err = NULL;
		p->workdir = xstrdup(cwd);
		r = choose_name(p, o, NULL, 0, err);
		if (r < 0)
			return r;
		p->files = xcalloc(1, sizeof(char *));
		p->order = xcalloc(1, sizeof(char *));
		p->doc = node_new_map((struct pos){0});
		node_map_set(p->doc, "services", node_new_map((struct pos){0}));
		*out = steal_ptr(&p);
		return 0;
	}
	if (r < 0)
		return r;
	if (o->project_dir)
		p->workdir = path_absolute(o->project_dir);
	else
		p->workdir = streq(p->files[0], "-") ? xstrdup(cwd) : path_dirname(p->files[0]);
	if (!streq(p->workdir, first_dir) && !o->env_files) {
		env_free(&p->env);
		r = read_dotenv(o, p->workdir, &p->env, err);
		if (r < 0)
			return r;
	}
	l.home = env_get(&p->env, "HOME");
	r = schema_open(&l.schema, err);
	if (r == 0)
		r = load_main(&l, p, err);
	if (r == 0)
		r = finish(&l, p, err);
	schema_close(l.schema);
	env_free(&l.warned);
	strv_free(l.extends_stack);
	if (r < 0)
		return r;
	*out = steal_ptr(&p);
	return 0;
}

void project_free(struct project *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->workdir);
	strv_free(p->files);
	env_free(&p->env);
	env_free(&p->env_errors);
	strv_free(p->profiles);
	strv_free(p->all_profiles);
	strv_free(p->order);
	node_free(p->doc);
	free(p);
}

void project_freep(struct project **p)
{
	project_free(*p);
	*p = NULL;
}

struct node *project_services(const struct project *p) { return node_map_get(p->doc, "services"); }

struct node *project_service(const struct project *p, const char *name)
{
	return node_map_get(project_services(p), name);
}

int project_service_hash(const struct project *p, const char *name, char out[65], struct berr **err)
{
	struct node *svc = project_service(p, name);
	if (!svc)
		return berr_set(err, ENOENT, "no such service: %s", name);
	_cleanup_(node_freep) struct node *copy = node_clone(svc);
	/* what docker compose leaves out of a service's hash: how many of it
	 * run, what it waits for, when it is enabled, how its image is made
	 * (the image's own id counts instead, in plan) */
	static const char *const ignored[] = {"scale", "depends_on", "profiles", "build", "pull_policy"};
	for (size_t i = 0; i < ARRAY_SIZE(ignored); i++)
		node_map_del(copy, ignored[i]);
	node_map_del(node_map_get(copy, "deploy"), "replicas");
	node_sort(copy);
	struct buf b = {0};
	node_to_json(copy, &b, -1);
	sha256_of(b.s, b.len, out);
	buf_free(&b);
	return 0;
}
