/* The records of a project's containers (compose.json beside each
 * container: what down, ps and the planner find it by) and the project lock. */
#include "apply.h"
#include "applier.h"

#include <dirent.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "../lib/fs.h"
#include "../lib/sha256.h"
#include "../lib/json.h"
#include "../runtime/ctr.h"
#include "dotenv.h"

int apply_lock(const char *root, const char *project, int *fd, struct berr **err)
{
	_cleanup_free_ char *dir = path_join(root, "projects");
	int r = fs_mkdir_p(dir, 0700, err);
	_cleanup_free_ char *path = xasprintf("%s/%s.lock", dir, project);
	return r < 0 ? r : fs_lock(path, fd, err);
}

/* A record that a power cut left empty counts as none. */
bool apply_has_record(const char *containers, const char *name)
{
	_cleanup_free_ char *meta = xasprintf("%s/%s/compose.json", containers, name);
	struct stat st;
	return stat(meta, &st) == 0 && st.st_size > 0;
}

json_t *apply_meta(const char *root, const char *name)
{
	_cleanup_free_ char *dir = ctr_dir(root, name);
	_cleanup_free_ char *path = path_join(dir, "compose.json");
	return json_load_file(path, 0, NULL);
}

/* depends_on as docker compose labels it: "db:service_healthy:false,…". */
static char *depends_label(struct node *svc)
{
	struct buf b = {0};
	struct node *d = node_map_get(svc, "depends_on");
	for (size_t i = 0; d && d->kind == NODE_MAP && i < d->n; i++) {
		const char *cond = node_str(node_map_get(d->pairs[i].val, "condition"));
		bool restart = false;
		node_bool(node_map_get(d->pairs[i].val, "restart"), &restart);
		buf_printf(&b, "%s%s:%s:%s", b.len ? "," : "", d->pairs[i].key, cond ? cond : "service_started",
			   restart ? "true" : "false");
	}
	return b.s ? buf_steal(&b) : xstrdup("");
}

/* The container's labels as docker compose sets them: its label_file
 * files, its labels over them, and com.docker.compose.* for the tools
 * that read them. A label file that cannot be read is an error. */
static int container_labels(const struct project *p, const struct planned *pl, json_t **out, struct berr **err)
{
	struct node *svc = project_service(p, pl->service);
	json_t *l = json_object();
	struct node *files = node_map_get(svc, "label_file");
	for (size_t i = 0; files && files->kind == NODE_SEQ && i < files->n; i++) {
		struct env e = {0};
		int r = node_str(files->items[i]) ? dotenv_read(files->items[i]->str, NULL, NULL, false, &e, err) : 0;
		for (size_t k = 0; r == 0 && k < e.n; k++)
			json_object_set_new(l, e.keys[k], json_string(e.vals[k]));
		env_free(&e);
		if (r < 0) {
			json_decref(l);
			return berr_prefix(err, "service %s: label_file: ", pl->service);
		}
	}
	struct node *labels = node_map_get(svc, "labels");
	for (size_t i = 0; labels && labels->kind == NODE_MAP && i < labels->n; i++)
		json_object_set_new(l, labels->pairs[i].key, json_string(node_str(labels->pairs[i].val) ?: ""));
	_cleanup_free_ char *number = xasprintf("%d", pl->number);
	_cleanup_free_ char *deps = depends_label(svc);
	struct buf files_csv = {0};
	for (size_t i = 0; p->files && p->files[i]; i++)
		buf_printf(&files_csv, "%s%s", i ? "," : "", p->files[i]);
	const char *kv[][2] = {{"com.docker.compose.project", p->name},
			       {"com.docker.compose.service", pl->service},
			       {"com.docker.compose.container-number", number},
			       {"com.docker.compose.oneoff", pl->oneoff ? "True" : "False"},
			       {"com.docker.compose.config-hash", pl->hash ? pl->hash : ""},
			       {"com.docker.compose.depends_on", deps},
			       {"com.docker.compose.image", pl->image},
			       {"com.docker.compose.project.working_dir", p->workdir ? p->workdir : ""},
			       {"com.docker.compose.project.config_files", files_csv.s ? files_csv.s : ""}};
	for (size_t i = 0; i < ARRAY_SIZE(kv); i++)
		json_object_set_new(l, kv[i][0], json_string(kv[i][1]));
	buf_free(&files_csv);
	*out = l;
	return 0;
}

/* The container's record: what down and ps find it by. Written before
 * anything is made for the container (partial, without the config hash,
 * so that the next up makes it again) and again once it is complete. */
int apply_write_meta(const struct project *proj, const char *root, struct planned *pl, bool partial, struct berr **err)
{
	const char *project = proj->name;
	json_t *labels = NULL;
	int lr = container_labels(proj, pl, &labels, err);
	if (lr < 0)
		return lr;
	_cleanup_free_ char *dir = ctr_dir(root, pl->name);
	_cleanup_free_ char *path = path_join(dir, "compose.json");
	int r = fs_mkdir_p(dir, 0700, err);
	if (r < 0)
		return r;
	/* the command as the file gives it, without berth-init and its "--" */
	json_t *argv = json_array();
	for (size_t i = pl->spec.init ? 2 : 0; pl->spec.argv && pl->spec.argv[i]; i++)
		json_array_append_new(argv, json_string(pl->spec.argv[i]));
	/* its id, as docker's: 64 random hex digits, kept across rewrites of the record */
	json_t *old = apply_meta(root, pl->name);
	const char *old_id = json_string_value(json_object_get(old, "id"));
	char id[65];
	if (old_id && strlen(old_id) == 64) {
		memcpy(id, old_id, sizeof(id));
	} else {
		unsigned char b[32];
		if (getrandom(b, sizeof(b), 0) != sizeof(b))
			memset(b, 0, sizeof(b));
		for (size_t i = 0; i < sizeof(b); i++)
			snprintf(id + 2 * i, 3, "%02x", b[i]);
	}
	json_decref(old);
	json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:o, s:I, s:o}", "id", id, "project", project, "service",
			      pl->service, "number", pl->number, "config_hash", partial ? "" : pl->hash, "image",
			      pl->image, "command", argv, "created_ms", (json_int_t)now_ms(), "anonymous_volumes",
			      strv_json(pl->anon));
	if (pl->oneoff)
		json_object_set_new(j, "oneoff", json_true());
	if (pl->image_id) /* images lists it by this, also once the tag has gone */
		json_object_set_new(j, "image_id", json_string(pl->image_id));
	if (pl->exposed && pl->exposed[0])
		json_object_set_new(j, "exposed", strv_json(pl->exposed));
	if (pl->deps && pl->deps[0])
		json_object_set_new(j, "depends_on", strv_json(pl->deps));
	json_object_set_new(j, "labels", labels);
	if (pl->spec.log_none)
		json_object_set_new(j, "log_driver", json_string("none"));
	struct node *ann = node_map_get(project_service(proj, pl->service), "annotations");
	if (ann && ann->kind == NODE_MAP) {
		_cleanup_(strv_freep) char **kv = node_kv(ann);
		json_object_set_new(j, "annotations", kv_json(kv));
	}
	char *text = json_dumps(j, JSON_INDENT(1));
	json_decref(j);
	/* the complete record is synced to disk; a partial one is replaced
	 * within the same command, and down takes a directory with an empty
	 * record as one without */
	r = (partial ? fs_write_replace : fs_write_atomic)(path, text, strlen(text), 0600, err);
	free(text);
	return r;
}

void apply_have_free(struct have_list *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free((char *)h->v[i].name);
		free((char *)h->v[i].project);
		free((char *)h->v[i].service);
		free((char *)h->v[i].config_hash);
	}
	free(h->v);
}

static const char *dup_or_null(json_t *j) { return json_string_value(j) ? xstrdup(json_string_value(j)) : NULL; }

/* Every container under the state root, as the planner sees it: its record
 * (any project's), and whether its spec is written. */
struct have_list apply_load_have(const char *root)
{
	struct have_list h = {0};
	_cleanup_free_ char *d = path_join(root, "containers");
	_cleanup_(closedirp) DIR *dir = opendir(d);
	for (struct dirent *e; dir && (e = readdir(dir));) {
		bool made = e->d_name[0] != '.' && ctr_exists(root, e->d_name);
		if (e->d_name[0] == '.' || (!made && !apply_has_record(d, e->d_name)))
			continue;
		_cleanup_(json_releasep) json_t *m = apply_meta(root, e->d_name);
		const char *hash = json_string_value(json_object_get(m, "config_hash"));
		h.v = xrealloc(h.v, (h.n + 1) * sizeof(*h.v));
		h.v[h.n++] = (struct plan_have){
			.name = xstrdup(e->d_name),
			.project = dup_or_null(json_object_get(m, "project")),
			.service = dup_or_null(json_object_get(m, "service")),
			.config_hash = hash && hash[0] ? xstrdup(hash) : NULL,
			.number = (int)json_integer_value(json_object_get(m, "number")),
			.oneoff = json_is_true(json_object_get(m, "oneoff")),
			.made = made,
		};
	}
	return h;
}

/* A flag in a container's record (pre_start_done). */
void apply_mark_meta(const char *root, const char *name, const char *key)
{
	json_t *meta = apply_meta(root, name);
	if (!meta)
		return;
	json_object_set_new(meta, key, json_true());
	char *text = json_dumps(meta, JSON_INDENT(1));
	_cleanup_free_ char *dir = ctr_dir(root, name);
	_cleanup_free_ char *path = path_join(dir, "compose.json");
	fs_write_atomic(path, text, strlen(text), 0600, NULL);
	free(text);
	json_decref(meta);
}

static int info_cmp(const void *a, const void *b)
{
	const struct ctr_info *x = a, *y = b;
	return x->number - y->number;
}

/* Every container directory with a record, made completely or not. */
static char **recorded(const char *root)
{
	char **names = xcalloc(1, sizeof(char *));
	_cleanup_free_ char *d = path_join(root, "containers");
	_cleanup_(closedirp) DIR *dir = opendir(d);
	for (struct dirent *e; dir && (e = readdir(dir));) {
		if (e->d_name[0] != '.' && apply_has_record(d, e->d_name))
			strv_push(&names, xstrdup(e->d_name));
	}
	strv_sort(names);
	return names;
}

/* The record's id; one made before records had ids: a hash of the name. */
static char *meta_id(json_t *m, const char *name)
{
	const char *id = json_string_value(json_object_get(m, "id"));
	if (id)
		return xstrdup(id);
	char hex[65];
	sha256_of(name, strlen(name), hex);
	return xstrdup(hex);
}

struct ctr_info *apply_list(const struct project *p, const char *root, size_t *n)
{
	char **names = recorded(root);
	struct ctr_info *out = NULL;
	*n = 0;
	/* services in dependency order, then those the model no longer has */
	size_t nsvc = strv_len(p->order);
	for (size_t pass = 0; pass <= nsvc; pass++) {
		size_t start = *n;
		for (size_t i = 0; names[i]; i++) {
			_cleanup_(json_releasep) json_t *m = apply_meta(root, names[i]);
			const char *proj = json_string_value(json_object_get(m, "project"));
			const char *svc = json_string_value(json_object_get(m, "service"));
			bool match = proj && svc && streq(proj, p->name) &&
				     (pass < nsvc ? streq(svc, p->order[pass]) : !strv_contains(p->order, svc));
			if (match) {
				out = xrealloc(out, (*n + 1) * sizeof(*out));
				json_t *argv = json_object_get(m, "command");
				char **a = xcalloc(json_array_size(argv) + 1, sizeof(char *));
				for (size_t k = 0; k < json_array_size(argv); k++)
					a[k] = xstrdup(json_string_value(json_array_get(argv, k)) ?: "");
				out[(*n)++] = (struct ctr_info){
					meta_id(m, names[i]),
					xstrdup(names[i]),
					xstrdup(svc),
					xstrdup(json_string_value(json_object_get(m, "image")) ?: ""),
					xstrdup(json_string_value(json_object_get(m, "config_hash")) ?: ""),
					(int)json_integer_value(json_object_get(m, "number")),
					a,
					json_integer_value(json_object_get(m, "created_ms")),
					json_is_true(json_object_get(m, "oneoff")),
				};
			}
		}
		if (*n - start > 1)
			qsort(out + start, *n - start, sizeof(*out), info_cmp);
	}
	strv_free(names);
	return out;
}

void ctr_info_clear(struct ctr_info *c)
{
	free(c->id);
	free(c->name);
	free(c->service);
	free(c->image);
	free(c->hash);
	strv_free(c->argv);
}

void ctr_info_free(struct ctr_info *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ctr_info_clear(&c[i]);
	free(c);
}

char *apply_replica(const struct project *p, const char *root, const char *service, int number, char **image)
{
	size_t n;
	struct ctr_info *list = apply_list(p, root, &n);
	char *name = NULL;
	for (size_t i = 0; i < n && !name; i++)
		if (streq(list[i].service, service) && !list[i].oneoff && list[i].number == number) {
			name = xstrdup(list[i].name);
			if (image)
				*image = xstrdup(list[i].image);
		}
	ctr_info_free(list, n);
	return name;
}

char **apply_orphans(const char *root, const struct project *p)
{
	/* the planner's answer, asked for no service: nothing to make, only
	 * what is recorded for the project and no longer in the file */
	struct have_list have = apply_load_have(root);
	char *none[] = {NULL};
	char **ids = xcalloc(strv_len(p->order) + 1, sizeof(char *));
	struct plan_in in = {.p = p, .services = none, .image_ids = ids, .have = have.v, .nhave = have.n};
	struct plan pl = {0};
	char **out = plan_compute(&in, &pl, NULL) == 0 ? steal_ptr(&pl.orphans) : NULL;
	plan_free(&pl);
	free(ids);
	if (!out)
		out = xcalloc(1, sizeof(char *));
	apply_have_free(&have);
	return out;
}
