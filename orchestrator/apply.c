#include "apply.h"
#include "canon.h"
#include "normalize.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "../lib/fs.h"
#include "../lib/sha256.h"
#include "../lib/json.h"
#include "../lib/log.h"
#include "../runtime/console.h"
#include "../runtime/ctr.h"
#include "../runtime/events.h"
#include "../images/imgcfg.h"
#include "../images/pull.h"
#include "../runtime/seccomp.h"
#include "../images/store.h"
#include "../network/dnsctl.h"
#include "../network/net.h"
#include "../volumes/volume.h"
#include "check.h"
#include "ctrspec.h"
#include "dotenv.h"
#include "servicebuild.h"
#include "netplan.h"
#include "plan.h"
#include "units.h"

/* One container that up will create, with its spec ready. */
struct planned {
	char *name, *service, *hash, *image;
	char *image_id; /* the image's id (its config digest) when planned */
	char **exposed; /* "80/tcp": the image's EXPOSE and the service's expose, for ps */
	int number;
	struct ctr_spec spec;
	struct net_endpoint ep; /* with own_netns: its networks and ports */
	char **anon;		/* "target=volume" of its anonymous volumes */
	char **deps;		/* the services it depends on, for start --all-projects */
	bool own_netns;
	bool exists, same; /* exists already; with the same configuration */
	bool oneoff;	   /* berth run's */
};

int apply_lock(const char *root, const char *project, int *fd, struct berr **err)
{
	_cleanup_free_ char *dir = path_join(root, "projects");
	int r = fs_mkdir_p(dir, 0700, err);
	_cleanup_free_ char *path = xasprintf("%s/%s.lock", dir, project);
	return r < 0 ? r : fs_lock(path, fd, err);
}

static void progress(progress_fn fn, void *data, const char *kind, const char *name, const char *what)
{
	if (fn)
		fn(data, kind, name, what);
}

/* A record that a power cut left empty counts as none. */
static bool has_record(const char *containers, const char *name)
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
static int write_meta(const struct project *proj, const char *root, struct planned *pl, bool partial,
		      struct berr **err)
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

static char *short_id(void)
{
	unsigned char b[6];
	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		memset(b, 0, sizeof(b));
	return xasprintf("%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

/* The image's EXPOSE and the service's expose ("3000", "3000-3002/udp"),
 * each port once, as "3000/tcp". */
static char **exposed_ports(struct node *svc, const struct image_config *ic)
{
	char **out = strv_copy(ic->exposed);
	if (!out)
		out = xcalloc(1, sizeof(char *));
	struct node *ex = node_map_get(svc, "expose");
	for (size_t i = 0; ex && ex->kind == NODE_SEQ && i < ex->n; i++) {
		const char *e = node_str(ex->items[i]);
		unsigned lo = 0, hi = 0;
		if (!e || sscanf(e, "%u-%u", &lo, &hi) < 1)
			continue;
		if (!strchr(e, '-') || hi < lo)
			hi = lo;
		const char *slash = strchr(e, '/');
		for (unsigned port = lo; port && port <= hi && port < 65536; port++) {
			char *p = xasprintf("%u/%s", port, slash ? slash + 1 : "tcp");
			if (strv_contains(out, p))
				free(p);
			else
				strv_push(&out, p);
		}
	}
	return out;
}

/* The image a service's containers run: its image:, or the one built for it. */
static int service_image(const struct project *p, struct store *st, const char *service, char **image, char **id,
			 struct berr **err)
{
	const char *named = node_str(node_map_get(project_service(p, service), "image"));
	*image = named ? xstrdup(named) : xasprintf("%s-%s", p->name, service);
	*id = NULL;
	int r = store_resolve(st, *image, id, err);
	return r < 0 ? berr_prefix(err, "service %s: ", service) : 0;
}

/* Everything a container up or run makes needs before it is made: its
 * image's config, its record (partial, when it is new), its spec and its
 * network endpoint. pl has its name, service, number, image and hash;
 * anon_from: the container whose anonymous volumes it takes (NULL: its
 * own earlier ones). */
static int prepare_one(const struct project *p, const char *root, struct store *st, const struct up_opts *o,
		       const char *anon_from, struct planned *pl, struct berr **err)
{
	const char *service = pl->service;
	struct node *svc = project_service(p, service);
	pl->deps = check_dependencies(svc);
	struct image_config ic;
	int r = image_config_load(st, pl->image_id, &ic, err);
	if (r < 0)
		return berr_prefix(err, "service %s: ", service);
	pl->exposed = exposed_ports(svc, &ic);
	json_t *meta = apply_meta(root, anon_from ? anon_from : pl->name);
	/* -V: a recreated container gets new anonymous volumes, not the old ones' data */
	_cleanup_(strv_freep) char **anon_prev =
		o && o->renew_anon ? NULL : json_strv(json_object_get(meta, "anonymous_volumes"));
	json_decref(meta);
	pl->anon = xcalloc(1, sizeof(char *));
	_cleanup_free_ char *dir = ctr_dir(root, pl->name);
	_cleanup_free_ char *host = short_id();
	_cleanup_free_ char *shim = ctr_shim_path();
	struct spec_ctx sc = {.project = p, .service = service, .number = pl->number, .name = pl->name, .dir = dir,
			      .hostname = host, .image = &ic, .init_path = shim, .root = root, .store = st,
			      .anon_prev = anon_prev, .anon_out = &pl->anon};
	r = pl->exists || (o && o->dry_run) ? 0 : write_meta(p, root, pl, true, err);
	if (r == 0 && !pl->same)
		r = ctrspec_build(&sc, &pl->spec, err);
	if (r == 0 && !pl->same && pl->spec.seccomp_profile && seccomp_check(pl->spec.seccomp_profile, pl->spec.caps, err) < 0)
		r = berr_prefix(err, "service %s: ", service);
	image_config_free(&ic);
	pl->own_netns = netplan_own_netns(svc);
	if (r == 0 && !pl->same && pl->own_netns)
		r = netplan_endpoint(p, service, pl->name, pl->spec.hostname, &pl->ep, err);
	return r;
}

/* A one-off (berth run, a pre_start step): made new under the name the
 * project gives the service's container number. */
static int prepare_oneoff(const struct project *p, const char *root, struct store *st, const char *service,
			  int number, const char *anon_from, struct planned *pl, struct berr **err)
{
	*pl = (struct planned){.service = xstrdup(service), .number = number, .oneoff = true};
	pl->name = ctrspec_name(p, service, number);
	pl->exists = ctr_exists(root, pl->name);
	int r = service_image(p, st, service, &pl->image, &pl->image_id, err);
	char hash[65];
	if (r == 0)
		r = plan_hash(p, service, pl->image_id, hash, err);
	if (r < 0)
		return r;
	pl->hash = xstrdup(hash);
	return prepare_one(p, root, st, NULL, anon_from, pl, err);
}

static void planned_free(struct planned *pl, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(pl[i].name);
		free(pl[i].service);
		free(pl[i].hash);
		free(pl[i].image);
		free(pl[i].image_id);
		strv_free(pl[i].exposed);
		netplan_endpoint_free(&pl[i].ep);
		strv_free(pl[i].anon);
		strv_free(pl[i].deps);
		spec_free(&pl[i].spec);
	}
	free(pl);
}

/* Directories made for containers that do not exist yet go again. */
static void discard_new(const char *root, struct planned *pl, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (pl[i].exists || !pl[i].name)
			continue;
		_cleanup_free_ char *dir = ctr_dir(root, pl[i].name);
		if (!ctr_exists(root, pl[i].name))
			fs_remove_tree(dir, NULL);
	}
}

struct have_list {
	struct plan_have *v;
	size_t n;
};

static void have_free(struct have_list *h)
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
static struct have_list load_have(const char *root)
{
	struct have_list h = {0};
	_cleanup_free_ char *d = path_join(root, "containers");
	DIR *dir = opendir(d);
	for (struct dirent *e; dir && (e = readdir(dir));) {
		bool made = e->d_name[0] != '.' && ctr_exists(root, e->d_name);
		if (e->d_name[0] == '.' || (!made && !has_record(d, e->d_name)))
			continue;
		json_t *m = apply_meta(root, e->d_name);
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
		json_decref(m);
	}
	if (dir)
		closedir(dir);
	return h;
}

/* Every container first, so that a bad input changes nothing: the
 * planner decides (plan.c), then each container to make is prepared. */
static int plan(const struct project *p, const char *root, const struct up_opts *o, const struct plan_diverged *dv,
		size_t ndv, struct plan *decided, struct planned **out, size_t *n, struct berr **err)
{
	struct store *st = NULL;
	int r = store_open(root, false, &st, err);
	*n = 0;
	*out = NULL;
	*decided = (struct plan){0};
	_cleanup_(strv_freep) char **want = o->services ? plan_wanted(p, o->services, !o->no_deps) : NULL;
	size_t nsvc = strv_len(p->order);
	char **ids = xcalloc(nsvc + 1, sizeof(char *));
	char **images = xcalloc(nsvc + 1, sizeof(char *));
	for (size_t i = 0; r == 0 && i < nsvc; i++)
		if (!want || strv_contains(want, p->order[i]))
			r = service_image(p, st, p->order[i], &images[i], &ids[i], err);
	struct have_list have = load_have(root);
	struct plan_in in = {.p = p, .services = o->services, .no_deps = o->no_deps,
			     .force_recreate = o->force_recreate, .no_recreate = o->no_recreate,
			     .always_recreate_deps = o->always_recreate_deps, .yes = o->yes, .image_ids = ids,
			     .have = have.v, .nhave = have.n, .diverged = dv, .ndiverged = ndv};
	if (r == 0)
		r = plan_compute(&in, decided, err);
	have_free(&have);
	struct planned *pl = xcalloc(decided->n + 1, sizeof(*pl));
	for (size_t i = 0; r == 0 && i < decided->n; i++) {
		const struct plan_step *s = &decided->steps[i];
		if (s->verb == PLAN_REMOVE)
			continue;
		size_t k = 0;
		while (!streq(p->order[k], s->service))
			k++;
		pl[*n] = (struct planned){.name = xstrdup(s->name), .service = xstrdup(s->service), .number = s->number,
					  .hash = xstrdup(s->hash), .image = xstrdup(images[k]),
					  .image_id = xstrdup(ids[k]), .exists = s->verb != PLAN_CREATE,
					  .same = s->verb == PLAN_KEEP};
		r = prepare_one(p, root, st, o, NULL, &pl[(*n)++], err);
	}
	for (size_t i = 0; i < nsvc; i++) {
		free(ids[i]);
		free(images[i]);
	}
	free(ids);
	free(images);
	store_close(st);
	if (r < 0) {
		discard_new(root, pl, *n);
		planned_free(pl, *n);
		plan_free(decided);
		*n = 0;
		return r;
	}
	*out = pl;
	return 0;
}

/* A container in another's network namespace (network_mode service: or
 * container:) resolves names as that one does. */
static int shared_netns_files(const struct project *p, const char *root, struct planned *pl, struct berr **err)
{
	const char *m = node_str(node_map_get(project_service(p, pl->service), "network_mode"));
	if (!m || streq(m, "host"))
		return 0;
	_cleanup_free_ char *other = startswith(m, "service:") ? ctrspec_name(p, m + 8, 1) : xstrdup(m + 10);
	_cleanup_free_ char *odir = ctr_dir(root, other);
	_cleanup_free_ char *src = path_join(odir, "resolv.conf");
	_cleanup_free_ char *dst = path_join(pl->spec.dir, "resolv.conf");
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (fs_read_file(src, 1 << 16, &text, &len, NULL) < 0)
		return 0; /* not a berth container of ours: keep the host's */
	return fs_write_replace(dst, text, len, 0644, err);
}

/* volumes_from: the volumes and bind mounts of another container (made
 * before this one, being a dependency), read-only with ":ro". */
static int add_volumes_from(const struct project *p, const char *root, struct planned *pl, struct berr **err)
{
	struct node *from = node_map_get(project_service(p, pl->service), "volumes_from");
	for (size_t i = 0; from && from->kind == NODE_SEQ && i < from->n; i++) {
		const char *v = node_str(from->items[i]);
		if (!v)
			continue;
		bool container = startswith(v, "container:");
		const char *name = container ? v + 10 : v;
		const char *colon = strchr(name, ':');
		_cleanup_free_ char *src = colon ? xstrndup(name, (size_t)(colon - name)) : xstrdup(name);
		bool ro = colon && streq(colon + 1, "ro");
		_cleanup_free_ char *ctr = container ? xstrdup(src) : ctrspec_name(p, src, 1);
		_cleanup_free_ char *dir = ctr_dir(root, ctr);
		_cleanup_free_ char *path = path_join(dir, "spec.json");
		_cleanup_free_ char *prefix = xasprintf("%s/", dir);
		struct ctr_spec other;
		if (spec_read(path, &other, NULL) < 0)
			return berr_set(err, ENOENT, "volumes_from %s: there is no container %s to take volumes from", v,
					ctr);
		for (size_t k = 0; k < other.nmounts; k++) {
			struct mount_spec *m = &other.mounts[k];
			bool own_file = m->source && startswith(m->source, prefix); /* its /etc files, secrets */
			if (own_file || (m->type && !streq(m->type, "bind") && !m->volume))
				continue; /* tmpfs and files of its own are not shared */
			pl->spec.mounts = xrealloc(pl->spec.mounts, (pl->spec.nmounts + 1) * sizeof(*pl->spec.mounts));
			struct mount_spec *n = &pl->spec.mounts[pl->spec.nmounts++];
			bool was_ro = m->options && (streq(m->options, "ro") || startswith(m->options, "ro,"));
			*n = (struct mount_spec){xstrdup(m->source), xstrdup(m->target), m->type ? xstrdup(m->type) : NULL,
						 ro && !was_ro ? (m->options ? xasprintf("ro,%s", m->options) : xstrdup("ro"))
							       : (m->options ? xstrdup(m->options) : NULL),
						 m->file, m->volume ? xstrdup(m->volume) : NULL, false,
						 m->subpath ? xstrdup(m->subpath) : NULL, m->subpath_in_root};
		}
		spec_free(&other);
	}
	return 0;
}

static int create_one(const struct project *p, const char *root, struct planned *pl, const struct up_opts *o,
		      struct berr **err)
{
	if (pl->exists) {
		progress(o->progress, o->progress_data, "Container", pl->name, "Recreate");
		int r = apply_remove_container(root, pl->name, false, err);
		if (r < 0)
			return r;
	}
	/* the record first: down finds whatever a killed up made after it */
	int r = write_meta(p, root, pl, true, err);
	if (r == 0)
		r = add_volumes_from(p, root, pl, err);
	/* network_mode service:/container: (up --no-deps, or a container removed) */
	const char *nm = node_str(node_map_get(project_service(p, pl->service), "network_mode"));
	bool joins = nm && (startswith(nm, "service:") || startswith(nm, "container:"));
	_cleanup_free_ char *peer = joins ? (startswith(nm, "service:") ? ctrspec_name(p, nm + 8, 1) : xstrdup(nm + 10)) : NULL;
	if (r == 0 && peer && !ctr_exists(root, peer))
		r = berr_set(err, ENOENT, "network_mode %s: there is no container %s to share a network with", nm, peer);
	if (r == 0)
		r = ctr_create(root, &pl->spec, err);
	if (r == 0 && pl->own_netns)
		r = net_attach(root, &pl->ep, err);
	if (r == 0)
		r = ctrspec_write_files(p, pl->service, &pl->spec, pl->own_netns ? &pl->ep : NULL, err);
	if (r == 0 && !pl->own_netns)
		r = shared_netns_files(p, root, pl, err);
	if (r == 0 && pl->spec.seccomp) {
		_cleanup_free_ char *cache = path_join(root, "seccomp");
		r = seccomp_write_bpf(pl->spec.seccomp_profile, pl->spec.caps, cache, pl->spec.seccomp, err);
	}
	if (r == 0)
		r = write_meta(p, root, pl, false, err);
	if (r < 0) {
		_cleanup_free_ char *dir = ctr_dir(root, pl->name);
		fs_remove_tree(dir, NULL);
		net_detach(root, pl->name, NULL);
		return berr_prefix(err, "service %s: ", pl->service);
	}
	_cleanup_free_ char *attrs = xasprintf("\"image\":\"%s\",\"service\":\"%s\"", pl->image, pl->service);
	events_add(root, pl->name, "create", attrs);
	progress(o->progress, o->progress_data, "Container", pl->name, "Created");
	return 0;
}


/* The level of a service: 0 with no dependencies, else one more than the
 * deepest of them. Services of one level start together. */
/* Before a service starts: each dependency's condition (depends_on), as
 * docker compose waits for it; a dependency that cannot meet it fails up. */
static int wait_conditions(const struct project *p, const char *root, const char *service, progress_fn fn,
			   void *data, struct berr **err)
{
	struct node *deps = node_map_get(project_service(p, service), "depends_on");
	int r = 0;
	for (size_t d = 0; r == 0 && deps && deps->kind == NODE_MAP && d < deps->n; d++) {
		const char *dep = deps->pairs[d].key;
		const char *cond = node_str(node_map_get(deps->pairs[d].val, "condition"));
		if (!cond || streq(cond, "service_started"))
			continue;
		struct node *dsvc = project_service(p, dep);
		int replicas = dsvc ? ctrspec_replicas(dsvc) : 0;
		for (int k = 1; r == 0 && k <= replicas; k++) {
			_cleanup_free_ char *name = ctrspec_name(p, dep, k);
			if (!ctr_exists(root, name))
				continue; /* not made: required: false, or up --no-deps */
			progress(fn, data, "Container", name, "Waiting");
			_cleanup_free_ char *why = NULL;
			bool healthy = streq(cond, "service_healthy");
			if (ctr_await(root, name, healthy ? AWAIT_HEALTHY : AWAIT_COMPLETED, &why) < 0)
				r = healthy ? berr_set(err, EIO, "dependency failed to start: %s", why)
					    : berr_set(err, EIO, "service \"%s\" didn't complete successfully: %s", dep, why);
			else
				progress(fn, data, "Container", name, healthy ? "Healthy" : "Exited");
		}
	}
	return r;
}

/* Start one wave: every shim first, then every verdict. */
static int parallel_max; /* --parallel: at most this many at once; <= 0: no limit */
static bool dry;	  /* --dry-run: pulls, builds and one-offs said, not done */

void apply_dry_run(bool on) { dry = on; }
bool apply_is_dry(void) { return dry; }

void apply_parallel(int n) { parallel_max = n; }

/* How many of n to take on at once. */
static size_t chunk_of(size_t n) { return parallel_max > 0 && (size_t)parallel_max < n ? (size_t)parallel_max : n; }

static int start_some(const char *root, struct planned *pl, size_t n, const struct up_opts *o, struct berr **err)
{
	int *ready = xcalloc(n + 1, sizeof(int));
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		ready[i] = -1;
		if (r == 0 && ctr_up(root, pl[i].name, NULL)) {
			progress(o->progress, o->progress_data, "Container", pl[i].name, "Running");
			continue;
		}
		if (r == 0 && (r = ctr_start_launch(root, pl[i].name, NULL, &ready[i], err)) < 0)
			r = berr_prefix(err, "service %s: cannot start %s: ", pl[i].service, pl[i].name);
	}
	for (size_t i = 0; i < n; i++) {
		if (ready[i] < 0)
			continue;
		struct berr *e = NULL;
		if (ctr_start_finish(pl[i].name, ready[i], &e) < 0) {
			if (r == 0) {
				*err = e;
				r = berr_prefix(err, "service %s: cannot start %s: ", pl[i].service, pl[i].name);
			} else {
				berr_free(e);
			}
			continue;
		}
		progress(o->progress, o->progress_data, "Container", pl[i].name, "Started");
	}
	free(ready);
	return r;
}

static int start_wave(const char *root, struct planned *pl, size_t n, const struct up_opts *o, struct berr **err)
{
	int r = 0;
	for (size_t base = 0, c = chunk_of(n); r == 0 && base < n; base += c)
		r = start_some(root, pl + base, n - base < c ? n - base : c, o, err);
	return r;
}

/* Host ports, before anything is made: free on the host, not published by
 * another container, and not twice in this project. */
static int check_ports(const char *root, struct planned *pl, size_t n, struct berr **err)
{
	for (size_t i = 0; i < n; i++) {
		if (pl[i].same || !pl[i].own_netns)
			continue;
		int r = net_check_ports(root, &pl[i].ep, err);
		for (size_t k = 0; r == 0 && k < i; k++)
			if (!pl[k].same && pl[k].own_netns)
				r = netplan_port_clash(&pl[k].ep, &pl[i].ep, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int ensure_networks(const struct project *p, const char *root, struct planned *pl, size_t n,
			   const struct up_opts *o, struct berr **err)
{
	char **services = xcalloc(n + 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!pl[i].same && !strv_contains(services, pl[i].service))
			services[k++] = pl[i].service;
	struct net_def *defs = NULL;
	size_t nd = 0;
	int r = netplan_defs(p, services, &defs, &nd, err);
	free(services); /* a shallow copy */
	for (size_t i = 0; r >= 0 && i < nd; i++)
		if ((r = net_ensure(root, &defs[i], err)) > 0)
			progress(o->progress, o->progress_data, "Network", defs[i].name, "Created");
	r = r < 0 ? r : 0;
	netplan_defs_free(defs, nd);
	return r;
}

/* One volume on first use: a named one as the file declares it, else an
 * anonymous one of the project. */
static int ensure_volume(const struct project *p, const char *root, const char *name, const struct up_opts *o,
			 struct berr **err)
{
	struct node *decls = node_map_get(p->doc, "volumes"), *decl = NULL;
	for (size_t x = 0; decls && !decl && x < decls->n; x++)
		if (streq(node_str(node_map_get(decls->pairs[x].val, "name")), name))
			decl = decls->pairs[x].val;
	_cleanup_(strv_freep) char **opts = node_kv(node_map_get(decl, "driver_opts"));
	_cleanup_(strv_freep) char **labels = node_kv(node_map_get(decl, "labels"));
	struct vol_def d = {.name = name, .project = p->name, .anonymous = !decl, .opts = opts, .labels = labels};
	node_bool(node_map_get(decl, "external"), &d.external);
	int r = vol_ensure(root, &d, err);
	if (r > 0 && decl)
		progress(o->progress, o->progress_data, "Volume", name, "Created");
	return r < 0 ? r : 0;
}

/* --all-resources: every network and volume the file declares, used or not. */
static int ensure_declared(const struct project *p, const char *root, const struct up_opts *o, struct berr **err)
{
	struct net_def *defs = NULL;
	size_t nd = 0;
	int r = netplan_defs_declared(p, &defs, &nd, err);
	for (size_t i = 0; r >= 0 && i < nd; i++)
		if ((r = net_ensure(root, &defs[i], err)) > 0)
			progress(o->progress, o->progress_data, "Network", defs[i].name, "Created");
	netplan_defs_free(defs, nd);
	struct node *vols = node_map_get(p->doc, "volumes");
	for (size_t i = 0; r >= 0 && vols && i < vols->n; i++) {
		const char *name = node_str(node_map_get(vols->pairs[i].val, "name"));
		r = name ? ensure_volume(p, root, name, o, err) : 0;
	}
	return r < 0 ? r : 0;
}

/* The volumes of what will be made. */
static int ensure_volumes(const struct project *p, const char *root, struct planned *pl, size_t n,
			  const struct up_opts *o, struct berr **err)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; !pl[i].same && k < pl[i].spec.nmounts; k++)
			if (pl[i].spec.mounts[k].volume &&
			    ensure_volume(p, root, pl[i].spec.mounts[k].volume, o, err) < 0)
				return berr_prefix(err, "service %s: ", pl[i].service);
	return 0;
}

/* A flag in a container's record (pre_start_done). */
static void mark_meta(const char *root, const char *name, const char *key)
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

/* The last lines a container wrote (at most 1 KiB of them), for a message. */
static char *log_tail(const char *root, const char *name)
{
	_cleanup_free_ char *dir = ctr_dir(root, name);
	_cleanup_free_ char *path = xasprintf("%s/%s-json.log", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return xstrdup("");
	char raw[8192];
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof(raw) - 1 ? end - (off_t)sizeof(raw) + 1 : 0;
	ssize_t got = pread(fd, raw, sizeof(raw) - 1, from);
	close(fd);
	raw[got > 0 ? got : 0] = '\0';
	struct buf b = {0};
	char *line = from ? strchr(raw, '\n') : raw; /* a cut first line is skipped */
	for (char *next; line && *line; line = next) {
		line += *line == '\n';
		next = strchr(line, '\n');
		if (next)
			*next = '\0';
		json_t *j = json_loads(line, 0, NULL);
		const char *text = json_string_value(json_object_get(j, "log"));
		if (text)
			buf_printf(&b, "%s", text);
		json_decref(j);
		if (next)
			*next = '\n';
	}
	char *out = b.s ? b.s : xstrdup("");
	size_t len = strlen(out);
	while (len && out[len - 1] == '\n')
		out[--len] = '\0';
	if (len > 1024)
		memmove(out, out + len - 1024, 1025);
	return out;
}

/* One pre_start step as the service it belongs to: the service's networks,
 * volumes, environment and working directory, the step's command, image,
 * user and environment on top, no ports, restart policy, healthcheck or
 * hooks. number > 0: for that replica, with its anonymous volumes. */
static struct node *step_service(const struct node *svc, const struct node *step, const char *name)
{
	struct node *s = node_clone(svc);
	struct pos at = s->pos;
	const char *image = node_str(node_map_get(step, "image"));
	if (image) { /* another image: its own entrypoint, command and user */
		node_map_set(s, "image", node_new_str(image, at));
		node_map_del(s, "entrypoint");
		node_map_del(s, "command");
		node_map_del(s, "user");
		node_map_del(s, "build");
	}
	struct node *cmd = node_map_get(step, "command");
	if (cmd && !node_is_null(cmd))
		node_map_set(s, "command", node_clone(cmd));
	static const char *const own[] = {"user", "working_dir", "privileged"};
	for (size_t i = 0; i < ARRAY_SIZE(own); i++) {
		struct node *v = node_map_get(step, own[i]);
		if (v && !node_is_null(v))
			node_map_set(s, own[i], node_clone(v));
	}
	struct node *pv = node_map_get(s, "privileged");
	if (node_is_str(pv)) /* the schema takes "true" as a string too */
		node_map_set(s, "privileged", node_new_bool(streq(pv->str, "true"), at));
	struct node *env = node_map_get(s, "environment"), *add = node_map_get(step, "environment");
	if (!env || env->kind != NODE_MAP) {
		env = node_new_map(at);
		node_map_set(s, "environment", env);
	}
	for (size_t i = 0; add && add->kind == NODE_MAP && i < add->n; i++)
		node_map_set(env, add->pairs[i].key, node_clone(add->pairs[i].val));
	static const char *const gone[] = {"ports", "post_start", "pre_stop", "pre_start", "scale", "stdin_open", "tty"};
	for (size_t i = 0; i < ARRAY_SIZE(gone); i++)
		node_map_del(s, gone[i]);
	node_map_del(node_map_get(s, "deploy"), "replicas");
	node_map_set(s, "container_name", node_new_str(name, at));
	node_map_set(s, "restart", node_new_str("no", at));
	struct node *hc = node_new_map(at);
	node_map_set(hc, "disable", node_new_bool(true, at));
	node_map_set(s, "healthcheck", hc);
	return s;
}

static int run_step(const struct project *p, const char *root, const char *service, size_t idx, int number,
		    const char *replica, const struct up_opts *o, struct berr **err)
{
	struct node *step = node_map_get(project_service(p, service), "pre_start")->items[idx];
	_cleanup_free_ char *name = replica ? xasprintf("%s-pre_start-%zu", replica, idx + 1)
					    : xasprintf("%s-%s-pre_start-%zu", p->name, service, idx + 1);
	if (ctr_exists(root, name)) { /* left by a killed up */
		int r = apply_remove_container(root, name, !replica, err);
		if (r < 0)
			return r;
	}
	/* the project as this step sees it: the service replaced by the step */
	struct project q = *p;
	q.doc = node_clone(p->doc);
	struct pair *pr = node_map_pair(project_services(&q), service);
	struct node *s = step_service(pr->val, step, name);
	node_free(pr->val);
	pr->val = s;
	struct store *st = NULL;
	struct planned *pl = xcalloc(1, sizeof(*pl));
	int r = store_open(root, false, &st, err);
	if (r == 0)
		r = prepare_oneoff(&q, root, st, service, number, replica, pl, err);
	store_close(st);
	struct up_opts quiet = {0};
	if (r == 0)
		r = ensure_volumes(&q, root, pl, 1, &quiet, err);
	if (r < 0)
		discard_new(root, pl, 1);
	if (r == 0)
		r = create_one(&q, root, pl, &quiet, err);
	if (r == 0)
		r = net_sync(root, err);
	if (r == 0)
		progress(o->progress, o->progress_data, "Container", name, "Started");
	int ready = -1, code = 0;
	if (r == 0)
		r = ctr_start_launch(root, name, NULL, &ready, err);
	if (r == 0)
		r = ctr_start_finish(name, ready, err);
	if (r == 0)
		r = ctr_wait(root, name, &code, err);
	if (r == 0 && code != 0) {
		_cleanup_free_ char *out = log_tail(root, name);
		r = berr_set(err, EIO, "service \"%s\": pre_start[%zu] (%s) exited with code %d%s%s", service, idx,
			     name, code, out[0] ? ": " : "", out);
	} else if (r == 0) {
		progress(o->progress, o->progress_data, "Container", name, "Exited");
	}
	planned_free(pl, 1);
	node_free(q.doc);
	/* the step goes, failed or not: its anonymous volumes too unless they are the replica's */
	struct berr *e = NULL;
	if (ctr_exists(root, name) && (apply_remove_container(root, name, !replica, &e) < 0 || net_sync(root, &e) < 0))
		fprintf(stderr, "berth: %s\n", e->msg);
	berr_free(e);
	return r;
}

/* The pending containers of one service: the steps in declared order,
 * each per replica or once for the service (unless a replica of this
 * configuration has had them). */
static int pre_start_service(const struct project *p, const char *root, const char *service, char *const *names,
			     const int *numbers, size_t n, const char *hash, const struct up_opts *o, struct berr **err)
{
	struct node *steps = node_map_get(project_service(p, service), "pre_start");
	bool service_done = false;
	int replicas = ctrspec_replicas(project_service(p, service));
	for (int k = 1; k <= replicas && !service_done; k++) {
		_cleanup_free_ char *other = ctrspec_name(p, service, k);
		json_t *m = apply_meta(root, other);
		service_done = json_is_true(json_object_get(m, "pre_start_done")) &&
			       streq(json_string_value(json_object_get(m, "config_hash")), hash);
		json_decref(m);
	}
	int r = 0;
	for (size_t k = 0; r == 0 && k < steps->n; k++) {
		struct node *per = node_map_get(steps->items[k], "per_replica");
		bool per_replica = false;
		if (node_bool(per, &per_replica) < 0 && node_str(per))
			per_replica = streq(per->str, "true");
		for (size_t i = 0; r == 0 && per_replica && i < n; i++)
			r = run_step(p, root, service, k, numbers[i], names[i], o, err);
		if (r == 0 && !per_replica && !service_done)
			r = run_step(p, root, service, k, numbers[0], NULL, o, err);
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		mark_meta(root, names[i], "pre_start_done");
	return r;
}

int apply_pre_start(const struct project *p, const char *root, char *const *names, size_t n, const struct up_opts *o,
		    struct berr **err)
{
	bool *seen = xcalloc(n + 1, sizeof(bool));
	char **mine = xcalloc(n + 1, sizeof(char *));
	int *numbers = xcalloc(n + 1, sizeof(int));
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (seen[i])
			continue;
		json_t *meta = apply_meta(root, names[i]);
		_cleanup_free_ char *service = xstrdup(json_string_value(json_object_get(meta, "service")) ?: "");
		_cleanup_free_ char *hash = xstrdup(json_string_value(json_object_get(meta, "config_hash")) ?: "");
		json_decref(meta);
		struct node *steps = node_map_get(project_service(p, service), "pre_start");
		if (!steps || steps->kind != NODE_SEQ || !steps->n)
			continue;
		/* this service's containers that have not had their steps */
		size_t k = 0;
		for (size_t j = i; j < n; j++) {
			json_t *m = apply_meta(root, names[j]);
			if (streq(json_string_value(json_object_get(m, "service")), service)) {
				seen[j] = true;
				if (!json_is_true(json_object_get(m, "pre_start_done")) &&
				    !json_is_true(json_object_get(m, "oneoff"))) {
					mine[k] = names[j];
					numbers[k++] = (int)json_integer_value(json_object_get(m, "number"));
				}
			}
			json_decref(m);
		}
		if (k)
			r = pre_start_service(p, root, service, mine, numbers, k, hash, o, err);
	}
	free(seen);
	free(mine); /* shallow */
	free(numbers);
	return r;
}

static int stop_in_rounds(const struct project *p, const char *root, const struct ctr_info *const *cs, size_t n,
			  int64_t timeout_ms, bool remove, bool volumes, progress_fn fn, void *data, struct berr **err);

/* Whether service depends on dep with restart: true. */
static bool restarts_with(const struct project *p, const char *service, const char *dep)
{
	struct node *d = node_map_get(node_map_get(project_service(p, service), "depends_on"), dep);
	bool restart = false;
	node_bool(node_map_get(d, "restart"), &restart);
	return restart;
}

/* depends_on restart: true: a container kept as it was is restarted when
 * up recreated what it depends on (stopped here; the waves start it). */
static int64_t stop_timeout(const struct up_opts *o) { return o->has_timeout ? o->timeout_ms : -1; }

/* The containers up replaces (a changed service, --force-recreate, a new
 * image, a network made again), of services only (NULL: all), stopped
 * first exactly as stop stops them: pre_stop hooks, the stop signal, the
 * grace period, then SIGKILL, dependents before what they depend on.
 * Nothing a database acknowledged is lost to a recreate. */
static int stop_replaced(const struct project *p, const char *root, const struct planned *pl, size_t n,
			 char *const *services, const struct up_opts *o, struct berr **err)
{
	struct ctr_info *ci = xcalloc(n + 1, sizeof(*ci));
	const struct ctr_info **cs = xcalloc(n + 1, sizeof(*cs));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (pl[i].exists && !pl[i].same && (!services || strv_contains(services, pl[i].service))) {
			ci[k] = (struct ctr_info){.name = pl[i].name, .service = pl[i].service};
			cs[k] = &ci[k];
			k++;
		}
	int r = k ? stop_in_rounds(p, root, cs, k, stop_timeout(o), false, false, NULL, NULL, err) : 0;
	free(cs);
	free(ci); /* shallow: pl owns the names */
	return r;
}

static void restart_dependents(const struct project *p, const char *root, const struct planned *pl, size_t n,
			       const struct up_opts *o)
{
	for (size_t i = 0; i < n; i++) {
		if (!pl[i].same || !ctr_running(root, pl[i].name))
			continue;
		bool again = false;
		for (size_t j = 0; j < n && !again; j++)
			again = !pl[j].same && restarts_with(p, pl[i].service, pl[j].service);
		if (!again)
			continue;
		progress(o->progress, o->progress_data, "Container", pl[i].name, "Restarting");
		ctr_stop(root, pl[i].name, stop_timeout(o), NULL);
	}
}

/* Replicas beyond a service's count (scale went down): stopped and
 * removed, highest numbers first (the plan's order), as docker compose
 * does; their anonymous volumes too, which no container would take again. */
static int scale_down(const char *root, const struct plan *decided, const struct up_opts *o, struct berr **err)
{
	struct ctr_info *ci = xcalloc(decided->n + 1, sizeof(*ci));
	const struct ctr_info **extra = xcalloc(decided->n + 1, sizeof(*extra));
	size_t k = 0;
	for (size_t i = 0; i < decided->n; i++)
		if (decided->steps[i].verb == PLAN_REMOVE) {
			ci[k] = (struct ctr_info){.name = decided->steps[i].name, .service = decided->steps[i].service,
						  .number = decided->steps[i].number};
			extra[k] = &ci[k];
			k++;
		}
	int r = k ? stop_in_rounds(NULL, root, extra, k, stop_timeout(o), true, true, o->progress, o->progress_data, err)
		  : 0;
	free(extra);
	free(ci); /* shallow: the plan owns the names */
	return r;
}

/* up --dry-run: what up would build, pull, create, recreate and start,
 * said as its progress; nothing is made. */
static int dry_up(const struct project *p, const char *root, const struct up_opts *o, char **want, struct berr **err)
{
	struct store *st = NULL;
	int r = store_open(root, false, &st, err);
	char **ready = xcalloc(1, sizeof(char *)), **missing = xcalloc(1, sizeof(char *));
	for (size_t i = 0; r == 0 && p->order[i]; i++) {
		const char *name = p->order[i];
		if (want && !strv_contains(want, name))
			continue;
		_cleanup_free_ char *image = svcbuild_image(p, name), *id = NULL;
		bool have = store_resolve(st, image, &id, NULL) == 0;
		bool builds = svcbuild_has(p, name) && !o->no_build && (o->build || !have);
		const char *pp = o->pull ? o->pull : node_str(node_map_get(project_service(p, name), "pull_policy"));
		bool pulls = !builds && (!have || (pp && streq(pp, "always"))) && !(pp && streq(pp, "never"));
		if (builds || pulls)
			progress(o->progress, o->progress_data, "Image", image, builds ? "Built" : "Pulled");
		strv_push(builds || !have ? &missing : &ready, xstrdup(name));
	}
	store_close(st);
	struct up_opts only = *o;
	only.services = ready;
	only.no_deps = true;
	struct planned *pl = NULL;
	size_t n = 0;
	struct plan decided = {0};
	if (r == 0 && ready[0])
		r = plan(p, root, &only, NULL, 0, &decided, &pl, &n, err);
	plan_free(&decided);
	struct net_def *defs = NULL;
	size_t nd = 0;
	if (r == 0)
		r = o->all_resources ? netplan_defs_declared(p, &defs, &nd, err) : netplan_defs(p, want, &defs, &nd, err);
	for (size_t i = 0; r == 0 && i < nd; i++)
		if (!net_exists(root, defs[i].name) && !defs[i].external)
			progress(o->progress, o->progress_data, "Network", defs[i].name, "Created");
	netplan_defs_free(defs, nd);
	for (size_t i = 0; r == 0 && i < n; i++) {
		bool exists = pl[i].exists;
		for (size_t k = 0; !pl[i].same && k < pl[i].spec.nmounts; k++) {
			const char *v = pl[i].spec.mounts[k].volume;
			if (v && !vol_exists(root, v))
				progress(o->progress, o->progress_data, "Volume", v, "Created");
		}
		if (!pl[i].same)
			progress(o->progress, o->progress_data, "Container", pl[i].name, exists ? "Recreated" : "Created");
		if (!o->no_start)
			progress(o->progress, o->progress_data, "Container", pl[i].name,
				 pl[i].same && ctr_up(root, pl[i].name, NULL) ? "Running" : "Started");
	}
	/* what waits for its image: its containers by name only */
	for (size_t i = 0; r == 0 && missing[i]; i++) {
		int replicas = ctrspec_replicas(project_service(p, missing[i]));
		for (int k = 1; k <= replicas; k++) {
			_cleanup_free_ char *cname = ctrspec_name(p, missing[i], k);
			progress(o->progress, o->progress_data, "Container", cname,
				 ctr_exists(root, cname) ? "Recreated" : "Created");
			if (!o->no_start)
				progress(o->progress, o->progress_data, "Container", cname, "Started");
		}
	}
	planned_free(pl, n);
	strv_free(ready);
	strv_free(missing);
	return r;
}

/* Networks whose record differs from the file (its ipam changed between
 * two ups), with the containers on them: the planner decides. */
struct diverged_list {
	struct plan_diverged *v;
	size_t n;
};

static void diverged_free(struct diverged_list *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free((char *)d->v[i].network);
		free((char *)d->v[i].why);
		strv_free((char **)d->v[i].users);
	}
	free(d->v);
}

static int diverged_networks(const struct project *p, const char *root, char *const *want, struct diverged_list *out,
			     struct berr **err)
{
	*out = (struct diverged_list){0};
	struct net_def *defs = NULL;
	size_t nd = 0;
	int r = netplan_defs(p, want, &defs, &nd, err);
	for (size_t k = 0; r == 0 && k < nd; k++) {
		char *why = net_diverged(root, &defs[k]);
		if (!why)
			continue;
		out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
		out->v[out->n++] = (struct plan_diverged){.network = xstrdup(defs[k].name), .why = why,
							  .users = net_users(root, defs[k].name)};
	}
	netplan_defs_free(defs, nd);
	return r;
}

int apply_up(const struct project *p, const char *root, const struct up_opts *o, struct berr **err)
{
	struct planned *pl = NULL;
	size_t n = 0;
	/* the images first, so that one that cannot be had stops up before anything is made */
	_cleanup_(strv_freep) char **want = o->services ? plan_wanted(p, o->services, !o->no_deps) : NULL;
	if (o->dry_run) {
		char **all = want;
		if (!all) {
			all = xcalloc(1, sizeof(char *));
			for (size_t i = 0; p->order[i]; i++)
				strv_push(&all, xstrdup(p->order[i]));
		}
		int r = dry_up(p, root, o, all, err);
		if (all != want)
			strv_free(all);
		return r;
	}
	struct svcbuild_opts bo = {.always = o->build, .out = stderr};
	int r = o->no_build ? 0 : svcbuild_run(p, root, want, &bo, err);
	if (r == 0)
		r = apply_pull(p, root, want, o->pull, o->quiet_pull ? NULL : stderr, false, o->progress,
			       o->progress_data, err);
	struct diverged_list dv = {0};
	if (r == 0)
		r = diverged_networks(p, root, want, &dv, err);
	struct plan decided = {0};
	if (r == 0)
		r = plan(p, root, o, dv.v, dv.n, &decided, &pl, &n, err);
	diverged_free(&dv);
	if (r < 0)
		return r;
	/* diverged networks made again (-y): the containers on them, which
	 * the plan recreates, stopped and removed first, then the networks */
	char **remade = decided.networks, **recreate = decided.renetworked;
	if (remade[0])
		r = stop_replaced(p, root, pl, n, recreate, o, err);
	for (size_t i = 0; r == 0 && remade[0] && i < n; i++)
		if (pl[i].exists && strv_contains(recreate, pl[i].service)) {
			progress(o->progress, o->progress_data, "Container", pl[i].name, "Recreate");
			r = apply_remove_container(root, pl[i].name, false, err);
			pl[i].exists = false;
		}
	for (size_t i = 0; r == 0 && remade[i]; i++) {
		progress(o->progress, o->progress_data, "Network", remade[i], "Recreate");
		r = net_remove(root, remade[i], err);
	}
	if (r < 0) {
		discard_new(root, pl, n);
		planned_free(pl, n);
		plan_free(&decided);
		return r;
	}
	r = scale_down(root, &decided, o, err);
	bool changes = false;
	for (size_t i = 0; i < n; i++)
		changes |= !pl[i].same;
	if (r == 0 && changes)
		r = check_ports(root, pl, n, err);
	if (r == 0 && changes)
		r = ensure_networks(p, root, pl, n, o, err);
	if (r == 0 && changes)
		r = ensure_volumes(p, root, pl, n, o, err);
	if (r == 0 && o->all_resources)
		r = ensure_declared(p, root, o, err);
	if (r == 0)
		r = stop_replaced(p, root, pl, n, NULL, o, err);
	if (r < 0)
		discard_new(root, pl, n);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (!pl[i].same)
			r = create_one(p, root, &pl[i], o, err);
	if (r == 0)
		restart_dependents(p, root, pl, n, o);
	/* the firewall and the names follow what now exists, failed or not */
	if (changes) {
		struct berr *e = NULL;
		int s = net_sync(root, r == 0 ? err : &e);
		berr_free(e);
		if (r == 0)
			r = s;
	} else if (r == 0) {
		r = dnsctl_ensure(root, err); /* nothing changed, but the responder may have been killed */
	}
	/* after a reboot: the networks of what is kept, made again */
	bool revived = false;
	for (size_t i = 0; r == 0 && !o->no_start && i < n; i++) {
		int v = pl[i].same && !ctr_up(root, pl[i].name, NULL) ? net_revive(root, pl[i].name, err) : 0;
		r = v < 0 ? v : 0;
		revived |= v > 0;
	}
	if (r == 0 && revived)
		r = net_sync(root, err);
	/* plan() keeps dependency order, so each level is a run of entries */
	int *levels = xcalloc(n + 1, sizeof(int));
	int top = 0;
	for (size_t i = 0; i < n; i++) {
		levels[i] = plan_level(p, pl[i].service);
		if (levels[i] > top)
			top = levels[i];
	}
	for (int l = 0; r == 0 && !o->no_start && l <= top; l++) {
		struct planned *wave = xcalloc(n + 1, sizeof(*wave));
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (levels[i] == l)
				wave[k++] = pl[i];
		for (size_t i = 0; r == 0 && i < k; i++)
			if (!ctr_up(root, wave[i].name, NULL))
				r = wait_conditions(p, root, wave[i].service, o->progress, o->progress_data, err);
		char **pending = xcalloc(k + 1, sizeof(char *));
		size_t np = 0;
		for (size_t i = 0; r == 0 && i < k; i++)
			if (!ctr_up(root, wave[i].name, NULL))
				pending[np++] = wave[i].name;
		if (r == 0 && np)
			r = apply_pre_start(p, root, pending, np, o, err);
		free(pending); /* shallow */
		if (r == 0)
			r = start_wave(root, wave, k, o, err);
		free(wave); /* a shallow copy: pl still owns everything */
	}
	free(levels);
	planned_free(pl, n);
	plan_free(&decided);
	return r;
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
	DIR *dir = opendir(d);
	for (struct dirent *e; dir && (e = readdir(dir));) {
		if (e->d_name[0] != '.' && has_record(d, e->d_name))
			strv_push(&names, xstrdup(e->d_name));
	}
	if (dir)
		closedir(dir);
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
			json_t *m = apply_meta(root, names[i]);
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
			json_decref(m);
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

int apply_remove_container(const char *root, const char *name, bool volumes, struct berr **err)
{
	json_t *meta = volumes ? apply_meta(root, name) : NULL;
	_cleanup_(strv_freep) char **anon = json_strv(json_object_get(meta, "anonymous_volumes"));
	json_decref(meta);
	int r = ctr_remove(root, name, true, err);
	if (r == 0)
		r = net_detach(root, name, err);
	/* its anonymous volumes, unless another container still has one */
	for (size_t i = 0; r == 0 && anon && anon[i]; i++) {
		const char *vol = strrchr(anon[i], '=');
		struct berr *e = NULL;
		if (vol && vol_exists(root, vol + 1) && ctr_volume_remove(root, vol + 1, false, &e) < 0)
			fprintf(stderr, "berth: %s\n", e->msg);
		berr_free(e);
	}
	if (r == 0)
		events_add(root, name, "destroy", NULL);
	return r;
}

/* The round in which each container may stop: 0 when no container of the
 * list depends on its service, else one after its last dependent. */
static size_t *stop_rounds(const struct project *p, const struct ctr_info *const *cs, size_t n, size_t *nrounds)
{
	size_t *round = xcalloc(n + 1, sizeof(size_t));
	char ***deps = xcalloc(n + 1, sizeof(char **));
	for (size_t i = 0; i < n; i++) {
		struct node *svc = p ? project_service(p, cs[i]->service) : NULL;
		deps[i] = svc ? check_dependencies(svc) : xcalloc(1, sizeof(char *));
	}
	/* the graph has no cycle (the loader refuses them): it settles, at
	 * the latest after n passes */
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t d = 0; d < n; d++)
			for (size_t c = 0; c < n; c++)
				if (round[c] < round[d] + 1 && !streq(cs[c]->service, cs[d]->service) &&
				    strv_contains(deps[d], cs[c]->service)) {
					round[c] = round[d] + 1;
					changed = true;
				}
	}
	*nrounds = 0;
	for (size_t i = 0; i < n; i++) {
		if (round[i] + 1 > *nrounds)
			*nrounds = round[i] + 1;
		strv_free(deps[i]);
	}
	free(deps);
	return round;
}

/* Stops the containers round by round, every container of a round at
 * once (as docker compose does: the grace periods of one round run side
 * by side), dependents before what they depend on; with remove, the
 * files of one round go while the next one stops. */
static int stop_in_rounds(const struct project *p, const char *root, const struct ctr_info *const *cs, size_t n,
			  int64_t timeout_ms, bool remove, bool volumes, progress_fn fn, void *data, struct berr **err)
{
	size_t nrounds;
	size_t *round = stop_rounds(p, cs, n, &nrounds);
	struct ctr_stopping *st = xcalloc(n + 1, sizeof(*st));
	bool *up = xcalloc(n + 1, sizeof(bool));
	int r = 0;
	size_t *idx = xcalloc(n + 1, sizeof(size_t));
	for (size_t k = 0; k <= nrounds && r == 0; k++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (round[i] == k)
				idx[m++] = i;
		/* the round's stops, --parallel at a time; the last round's removals while the first wait */
		bool removed = false;
		for (size_t base = 0, c = chunk_of(m); r == 0 && (base < m || !removed); base += c ? c : 1) {
			size_t end = base + c < m ? base + c : m;
			for (size_t j = base; j < end && r == 0; j++) {
				size_t i = idx[j];
				if (!(up[i] = ctr_running(root, cs[i]->name)))
					continue;
				progress(fn, data, "Container", cs[i]->name, "Stopping");
				r = ctr_stop_begin(root, cs[i]->name, timeout_ms, &st[i], err);
			}
			for (size_t i = 0; i < n && r == 0 && remove && k > 0 && !removed; i++) {
				if (round[i] != k - 1)
					continue;
				r = apply_remove_container(root, cs[i]->name, volumes, err);
				if (r == 0)
					progress(fn, data, "Container", cs[i]->name, "Removed");
			}
			removed = true;
			for (size_t j = base; j < end; j++) {
				size_t i = idx[j];
				if (!up[i])
					continue;
				ctr_stop_end(&st[i]);
				events_add(root, cs[i]->name, "stop", NULL);
				if (r == 0)
					progress(fn, data, "Container", cs[i]->name, "Stopped");
			}
		}
	}
	free(idx);
	free(st);
	free(up);
	free(round);
	return r;
}

int apply_stop(const struct project *p, const char *root, const struct ctr_info *const *cs, size_t n,
	       int64_t timeout_ms, progress_fn fn, void *data, struct berr **err)
{
	return stop_in_rounds(p, root, cs, n, timeout_ms, false, false, fn, data, err);
}

char **apply_restart_dependents(const struct project *p, char *const *services)
{
	char **out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; p->order[i]; i++)
		for (size_t k = 0; services && services[k]; k++)
			if (!strv_contains(services, p->order[i]) && restarts_with(p, p->order[i], services[k]) &&
			    !strv_contains(out, p->order[i]))
				strv_push(&out, xstrdup(p->order[i]));
	return out;
}

int apply_remove_orphans(const struct project *p, const char *root, int64_t timeout_ms,
			 progress_fn fn, void *data, struct berr **err)
{
	size_t n;
	struct ctr_info *list = apply_list(p, root, &n);
	const struct ctr_info **orphans = xcalloc(n + 1, sizeof(*orphans));
	size_t k = 0;
	for (size_t i = n; i > 0; i--)
		if (!project_service(p, list[i - 1].service))
			orphans[k++] = &list[i - 1];
	int r = stop_in_rounds(NULL, root, orphans, k, timeout_ms, true, false, fn, data, err);
	free(orphans);
	ctr_info_free(list, n);
	if (k > 0 && r == 0)
		r = net_sync(root, err);
	return r;
}

/* Whether one of the services mounts the file's volume KEY. */
static bool services_mount(const struct project *p, char *const *services, const char *key)
{
	for (size_t i = 0; services[i]; i++) {
		struct node *vols = node_map_get(project_service(p, services[i]), "volumes");
		for (size_t k = 0; vols && vols->kind == NODE_SEQ && k < vols->n; k++)
			if (streq(node_str(node_map_get(vols->items[k], "type")), "volume") &&
			    streq(node_str(node_map_get(vols->items[k], "source")), key))
				return true;
	}
	return false;
}

int apply_down(const struct project *p, const char *root, const struct down_opts *o, struct berr **err)
{
	size_t n;
	struct ctr_info *list = apply_list(p, root, &n);
	/* dependents first */
	const struct ctr_info **order = xcalloc(n + 1, sizeof(*order));
	size_t k = 0;
	for (size_t i = n; i > 0; i--) {
		bool orphan = !project_service(p, list[i - 1].service);
		if (orphan ? o->remove_orphans : !o->services || strv_contains(o->services, list[i - 1].service))
			order[k++] = &list[i - 1];
	}
	if (o->dry_run) {
		/* what down would stop and remove, said; nothing is touched */
		for (size_t i = 0; i < k; i++) {
			if (ctr_running(root, order[i]->name))
				progress(o->progress, o->progress_data, "Container", order[i]->name, "Stopped");
			progress(o->progress, o->progress_data, "Container", order[i]->name, "Removed");
		}
		char **nets = net_list(root, p->name);
		for (size_t i = 0; nets && nets[i]; i++)
			progress(o->progress, o->progress_data, "Network", nets[i], "Removed");
		strv_free(nets);
		char **vols = o->volumes ? vol_list(root, p->name) : NULL;
		for (size_t i = 0; vols && vols[i]; i++)
			progress(o->progress, o->progress_data, "Volume", vols[i], "Removed");
		strv_free(vols);
		free(order);
		ctr_info_free(list, n);
		return 0;
	}
	int r = stop_in_rounds(p, root, order, k, o->timeout_ms, true, o->volumes, o->progress, o->progress_data, err);
	free(order);
	/* directories a killed up made for this project's containers before
	 * writing their record: nothing else of them exists yet */
	_cleanup_free_ char *cdir = path_join(root, "containers");
	_cleanup_free_ char *prefix = xasprintf("%s-", p->name);
	DIR *d = r == 0 && !o->services ? opendir(cdir) : NULL;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (startswith(e->d_name, prefix) && !has_record(cdir, e->d_name))
			ctr_remove(root, e->d_name, true, NULL);
	}
	if (d)
		closedir(d);
	/* and removals a killed down had begun */
	if (r == 0)
		fs_discard_sweep(cdir);
	/* attachments whose container is gone (a killed up or down) */
	char **eps = r == 0 ? net_endpoints(root, p->name) : NULL;
	for (size_t i = 0; eps && eps[i] && r == 0; i++)
		if (!ctr_exists(root, eps[i]))
			r = net_detach(root, eps[i], err);
	strv_free(eps);
	/* the project's networks go too, unless another project's container still uses one */
	char **nets = r == 0 ? net_list(root, p->name) : NULL;
	for (size_t i = 0; nets && nets[i]; i++) {
		struct berr *e = NULL;
		if (net_remove(root, nets[i], &e) == 0)
			progress(o->progress, o->progress_data, "Network", nets[i], "Removed");
		else if (o->services) /* down SERVICE: the others still on it */
			progress(o->progress, o->progress_data, "Network", nets[i], "Resource is still in use");
		else
			fprintf(stderr, "berth: %s; it is kept\n", e->msg);
		berr_free(e);
	}
	strv_free(nets);
	/* bridges whose record a crash or a damaged disk took: found by the
	 * alias the kernel keeps with each */
	char **lost = r == 0 ? net_reclaim(root, p->name, NULL, NULL) : NULL;
	for (size_t i = 0; lost && lost[i]; i++) {
		_cleanup_free_ char *msg = net_reclaimed_msg(lost[i]);
		fprintf(stderr, "berth: %s\n", msg);
		progress(o->progress, o->progress_data, "Network", strchr(lost[i], ' ') + 1, "Removed");
	}
	strv_free(lost);
	if (r == 0)
		r = net_sync(root, err);
	if (r == 0 && o->volumes) {
		/* the file's volumes; without a file, those made for the project */
		char **names = p->files[0] ? xcalloc(1, sizeof(char *)) : vol_list(root, p->name);
		struct node *vols = p->files[0] ? node_map_get(p->doc, "volumes") : NULL;
		for (size_t i = 0; vols && i < vols->n; i++) {
			bool external = false;
			node_bool(node_map_get(vols->pairs[i].val, "external"), &external);
			const char *name = node_str(node_map_get(vols->pairs[i].val, "name"));
			if (!external && name && (!o->services || services_mount(p, o->services, vols->pairs[i].key)))
				strv_push(&names, xstrdup(name));
		}
		for (size_t i = 0; names[i]; i++) {
			if (!vol_exists(root, names[i]))
				continue;
			struct berr *e = NULL;
			if (ctr_volume_remove(root, names[i], false, &e) == 0)
				progress(o->progress, o->progress_data, "Volume", names[i], "Removed");
			else if (o->services)
				progress(o->progress, o->progress_data, "Volume", names[i], "Resource is still in use");
			else
				fprintf(stderr, "berth: %s; it is kept\n", e->msg);
			berr_free(e);
		}
		strv_free(names);
	}
	ctr_info_free(list, n);
	return r;
}

static struct node *str_seq(char *const *v, struct pos at)
{
	struct node *seq = node_new_seq(at);
	for (size_t i = 0; v && v[i]; i++)
		node_seq_push(seq, node_new_str(v[i], at));
	return seq;
}

/* The service as run sees it: another command, name and environment, no
 * published ports (unless asked), no restart policy. */
/* run's -p, -v, -l, --cap-add, --cap-drop and --env-from-file: a service
 * fragment in short syntax, made long and normalized as the file's own
 * keys are, then added to the service. */
static int run_fragment(struct project *p, const struct run_opts *o, struct node *svc, struct berr **err)
{
	struct pos at = svc->pos;
	_cleanup_(node_freep) struct node *f = node_new_map(at);
	const struct {
		const char *key;
		char **vals;
	} lists[] = {{"ports", o->publish},	{"volumes", o->volumes},   {"labels", o->labels},
		     {"cap_add", o->cap_add},	{"cap_drop", o->cap_drop}, {"env_file", o->env_files}};
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		if (lists[i].vals && lists[i].vals[0])
			node_map_set(f, lists[i].key, str_seq(lists[i].vals, at));
	if (!f->n)
		return 0;
	struct canon_ctx cc = {.workdir = p->workdir, .home = getenv("HOME")};
	struct normalize_ctx nc = {.project = p->name, .env = &p->env, .workdir = p->workdir};
	int r = canon_service(f, o->service, &cc, err);
	if (r == 0)
		r = normalize_service(f, o->service, &nc, err);
	if (r < 0)
		return berr_prefix(err, "berth run: ");
	for (size_t i = 0; i < f->n; i++) {
		const char *key = f->pairs[i].key;
		struct node *add = f->pairs[i].val, *have = node_map_get(svc, key);
		if (add->kind == NODE_SEQ && (!have || have->kind != NODE_SEQ)) {
			have = node_new_seq(at);
			node_map_set(svc, key, have);
		} else if (add->kind == NODE_MAP && (!have || have->kind != NODE_MAP)) {
			have = node_new_map(at);
			node_map_set(svc, key, have);
		}
		for (size_t k = 0; add->kind == NODE_SEQ && k < add->n; k++)
			node_seq_push(have, node_clone(add->items[k]));
		for (size_t k = 0; add->kind == NODE_MAP && k < add->n; k++)
			node_map_set(have, add->pairs[k].key, node_clone(add->pairs[k].val));
	}
	return 0;
}

static int run_service(struct project *p, const struct run_opts *o, const char *name, struct berr **err)
{
	struct node *svc = project_service(p, o->service);
	struct pos at = svc->pos;
	if (o->command)
		node_map_set(svc, "command", str_seq(o->command, at));
	if (o->entrypoint)
		node_map_set(svc, "entrypoint", str_seq(o->entrypoint, at));
	node_map_set(svc, "container_name", node_new_str(name, at));
	node_map_set(svc, "restart", node_new_str("no", at));
	node_map_set(svc, "tty", node_new_bool(o->tty && !o->detach, at));
	node_map_del(svc, "deploy");
	node_map_del(svc, "scale");
	struct node *ports = node_map_get(svc, "ports");
	if (o->publish_all && ports && ports->kind == NODE_SEQ) {
		/* -P: each port of the service on an ephemeral host port */
		for (size_t i = 0; i < ports->n; i++) {
			node_map_del(ports->items[i], "published");
			node_map_del(ports->items[i], "host_ip");
		}
	} else if (!o->service_ports) {
		node_map_del(svc, "ports");
	}
	struct node *expose = node_map_get(svc, "expose");
	for (size_t i = 0; o->publish_all && expose && expose->kind == NODE_SEQ && i < expose->n; i++) {
		const char *e = node_str(expose->items[i]);
		if (!e)
			continue;
		ports = node_map_get(svc, "ports");
		if (!ports || ports->kind != NODE_SEQ) {
			ports = node_new_seq(at);
			node_map_set(svc, "ports", ports);
		}
		struct node *pm = node_new_map(at);
		node_map_set(pm, "target", node_new_int(atoll(e), at));
		node_map_set(pm, "protocol", node_new_str(strchr(e, '/') ? strchr(e, '/') + 1 : "tcp", at));
		node_map_set(pm, "mode", node_new_str("ingress", at));
		node_seq_push(ports, pm);
	}
	if (o->user)
		node_map_set(svc, "user", node_new_str(o->user, at));
	if (o->workdir)
		node_map_set(svc, "working_dir", node_new_str(o->workdir, at));
	int r = run_fragment(p, o, svc, err);
	if (r < 0)
		return r;
	struct node *env = node_map_get(svc, "environment");
	if (!env || env->kind != NODE_MAP) {
		env = node_new_map(at);
		node_map_set(svc, "environment", env);
	}
	for (size_t i = 0; o->env && o->env[i]; i++) {
		const char *eq = strchr(o->env[i], '=');
		_cleanup_free_ char *k = eq ? xstrndup(o->env[i], (size_t)(eq - o->env[i])) : xstrdup(o->env[i]);
		const char *v = eq ? eq + 1 : getenv(k);
		if (v) /* -e NAME: berth's own NAME; unset when berth has none */
			node_map_set(env, k, node_new_str(v, at));
		else
			node_map_del(env, k);
	}
	return 0;
}

int apply_run(struct project *p, const char *root, const struct run_opts *o, char **name, int *exit_code,
	      struct berr **err)
{
	*name = NULL;
	*exit_code = 0;
	struct node *svc = project_service(p, o->service);
	if (!svc)
		return berr_set(err, ENOENT, "no such service: %s", o->service);
	/* what it depends on runs first, as up would start it */
	_cleanup_(strv_freep) char **deps = o->no_deps ? NULL : check_dependencies(svc);
	int r = 0;
	if (deps && deps[0]) {
		struct up_opts up = {.services = deps, .progress = o->progress, .progress_data = o->progress_data};
		r = apply_up(p, root, &up, err);
		if (r == 0) /* and their conditions, as up waits for them */
			r = wait_conditions(p, root, o->service, o->progress, o->progress_data, err);
	}
	char *self[] = {(char *)o->service, NULL};
	struct svcbuild_opts bo = {.always = o->build, .out = stderr, .progress = o->progress,
				   .progress_data = o->progress_data};
	if (r == 0)
		r = svcbuild_run(p, root, self, &bo, err);
	if (r == 0)
		r = apply_pull(p, root, self, o->pull, o->quiet_pull ? NULL : stderr, false,
			       o->quiet_pull ? NULL : o->progress, o->progress_data, err);
	_cleanup_free_ char *id = short_id();
	char sep = p->sep ? p->sep : '-';
	char *cname = o->name ? xstrdup(o->name) : xasprintf("%s%c%s%crun%c%s", p->name, sep, o->service, sep, sep, id);
	*name = cname;
	if (r == 0 && ctr_exists(root, cname))
		r = berr_set(err, EEXIST, "a container named %s exists already; remove it (berth rm) or give another "
					  "--name",
			     cname);
	if (r < 0)
		return r;
	r = run_service(p, o, cname, err);
	if (r == 0 && dry) { /* the one-off, said; nothing made */
		progress(o->progress, o->progress_data, "Container", cname, "Created");
		progress(o->progress, o->progress_data, "Container", cname, "Started");
		return 0;
	}
	struct store *st = NULL;
	struct planned *pl = xcalloc(1, sizeof(*pl));
	if (r == 0)
		r = store_open(root, false, &st, err);
	if (r == 0)
		r = prepare_oneoff(p, root, st, o->service, 1, NULL, pl, err);
	store_close(st);
	/* a one-off answers to its own name, not the service's, unless --use-aliases */
	pl->ep.no_service_name = !o->use_aliases;
	for (size_t i = 0; !o->use_aliases && i < pl->ep.nlinks; i++) {
		strv_free(pl->ep.links[i].aliases);
		pl->ep.links[i].aliases = xcalloc(1, sizeof(char *));
	}
	pl->spec.attach = !o->detach;
	pl->oneoff = true;
	char exe[4096];
	ssize_t sl = o->rm && o->detach ? readlink("/proc/self/exe", exe, sizeof(exe) - 1) : -1;
	if (sl > 0) { /* run -d --rm: its shim has berth remove it once it ends */
		exe[sl] = 0;
		pl->spec.autoremove = xstrdup(exe);
	}
	pl->spec.tty_rows = o->rows;
	pl->spec.tty_cols = o->cols;
	struct up_opts uo = {.progress = o->progress, .progress_data = o->progress_data};
	if (r == 0)
		r = check_ports(root, pl, 1, err);
	if (r == 0)
		r = ensure_networks(p, root, pl, 1, &uo, err);
	if (r == 0)
		r = ensure_volumes(p, root, pl, 1, &uo, err);
	if (r < 0)
		discard_new(root, pl, 1);
	struct up_opts quiet = {0}; /* the one-off container itself is not announced */
	bool made = false;
	if (r == 0)
		r = create_one(p, root, pl, &quiet, err);
	made = r == 0 || ctr_exists(root, cname);
	if (r == 0)
		r = net_sync(root, err);
	/* attached: the container's stdio are pipes or a terminal of its own, relayed */
	struct console_link link;
	if (r == 0 && pl->spec.attach && console_link_open(&link, pl->spec.tty) < 0)
		r = berr_sys(err, errno, "cannot set up the stdio of %s", cname);
	int ready = -1;
	if (r == 0)
		r = ctr_start_launch(root, cname, pl->spec.attach ? link.shim : NULL, &ready, err);
	if (r == 0)
		r = ctr_start_finish(cname, ready, err);
	bool attached = pl->spec.attach;
	planned_free(pl, 1);
	if (attached && (r < 0 || o->detach))
		console_link_close(&link);
	if (r < 0 && made) {
		/* it could not start: its exit code as docker's (126, 127), and
		 * with --rm it goes, as docker run --rm removes it */
		struct ctr_state cs;
		if (ctr_state(root, cname, &cs, NULL) == 0) {
			*exit_code = cs.exit_code;
			state_free(&cs);
		}
		if (o->rm && apply_remove_container(root, cname, true, NULL) == 0)
			net_sync(root, NULL);
	}
	if (r < 0 || o->detach)
		return r;
	if (o->lock && *o->lock >= 0) {
		close(*o->lock);
		*o->lock = -1;
	}
	int lost = console_link_relay(&link);
	r = ctr_wait(root, cname, exit_code, err);
	if (r == 0 && o->rm && o->lock)
		r = apply_lock(root, p->name, o->lock, err);
	if (r == 0 && o->rm) {
		r = apply_remove_container(root, cname, true, err);
		if (r == 0)
			r = net_sync(root, err);
	}
	if (r == 0 && lost < 0)
		r = berr_sys(err, -lost, "cannot write the output of %s", cname);
	return r;
}

/* How old (ms) an image may be under daily, weekly or every_<duration>; 0 for other policies. */
static int64_t policy_age(const char *policy)
{
	long long ns = 0;
	if (streq(policy, "daily"))
		return 86400000;
	if (streq(policy, "weekly"))
		return 7 * 86400000LL;
	if (startswith(policy, "every_") && duration_parse(policy + 6, &ns) == 0 && ns > 0)
		return ns / 1000000;
	return 0;
}

/* Whether the store's copy of image is older than max_ms. */
static bool pulled_before(struct store *st, const char *id, int64_t max_ms)
{
	json_t *rec = NULL;
	if (store_get_image(st, id, &rec, NULL) < 0)
		return true;
	struct tm tm = {0};
	const char *t = json_string_value(json_object_get(rec, "loaded"));
	bool old = !t || !strptime(t, "%Y-%m-%dT%H:%M:%SZ", &tm) || (int64_t)timegm(&tm) * 1000 < now_ms() - max_ms;
	json_decref(rec);
	return old;
}

/* One image of service's, pulled into the store (*locked opened with its
 * lock on first use); said under --dry-run. */
static int pull_image(const char *root, struct store **locked, const char *service, const char *image,
		      const char *platform, FILE *out, bool ignore_failures, progress_fn fn, void *data, struct berr **err)
{
	if (dry) {
		progress(fn, data, "Image", image, "Pulled");
		return 0;
	}
	int r = *locked ? 0 : store_open(root, true, locked, err);
	if (r < 0)
		return r;
	progress(fn, data, "Image", image, "Pulling");
	struct pull_opts po = {.platform = platform, .quiet = !out, .out = out};
	struct berr *e = NULL;
	if (image_pull(*locked, image, &po, NULL, &e) == 0) {
		progress(fn, data, "Image", image, "Pulled");
	} else if (ignore_failures) {
		fprintf(stderr, "berth: service %s: %s\n", service, e->msg);
	} else {
		*err = e;
		e = NULL;
		r = berr_prefix(err, "service %s: cannot pull %s: ", service, image);
	}
	berr_free(e);
	return r;
}

int apply_pull(const struct project *p, const char *root, char *const *services, const char *policy, FILE *out,
	       bool ignore_failures, progress_fn fn, void *data, struct berr **err)
{
	struct store *st = NULL, *locked = NULL; /* the lock only while pulling */
	_cleanup_(strv_freep) char **done = xcalloc(1, sizeof(char *));
	int r = 0;
	for (size_t i = 0; p->order[i] && r == 0; i++) {
		const char *name = p->order[i];
		if (services && !strv_contains(services, name))
			continue;
		struct node *svc = project_service(p, name);
		const char *pp = policy ? policy : node_str(node_map_get(svc, "pull_policy"));
		pp = pp ? pp : "missing";
		/* the images of its type: image volumes, when the store lacks them */
		struct node *vols = node_map_get(svc, "volumes");
		for (size_t k = 0; r == 0 && vols && vols->kind == NODE_SEQ && k < vols->n; k++) {
			const char *vi = node_str(node_map_get(vols->items[k], "source"));
			if (!streq(node_str(node_map_get(vols->items[k], "type")), "image") || !vi || strv_contains(done, vi) ||
			    streq(pp, "never"))
				continue;
			if (!st && (r = store_open(root, false, &st, err)) < 0)
				break;
			char *vid = NULL;
			bool have = store_resolve(st, vi, &vid, NULL) == 0;
			free(vid);
			strv_push(&done, xstrdup(vi));
			if (!have)
				r = pull_image(root, &locked, name, vi, node_str(node_map_get(svc, "platform")), out,
					       ignore_failures, fn, data, err);
		}
		const char *image = node_str(node_map_get(svc, "image"));
		/* a service that builds its image is built, not pulled, unless asked */
		bool builds = svcbuild_has(p, name) && !policy && (streq(pp, "missing") || streq(pp, "build"));
		if (r < 0 || !image || builds || strv_contains(done, image) || streq(pp, "never") || streq(pp, "build"))
			continue;
		if (!st && (r = store_open(root, false, &st, err)) < 0)
			break;
		char *id = NULL;
		bool have = store_resolve(st, image, &id, NULL) == 0;
		int64_t age = policy_age(pp);
		bool want = streq(pp, "always") || !have || (age && pulled_before(st, id, age));
		free(id);
		if (!want)
			continue;
		strv_push(&done, xstrdup(image));
		r = pull_image(root, &locked, name, image, node_str(node_map_get(svc, "platform")), out, ignore_failures,
			       fn, data, err);
	}
	store_close(locked);
	store_close(st);
	return r;
}

int apply_scale(struct project *p, const char *arg, struct berr **err)
{
	const char *eq = strchr(arg, '=');
	char *end = NULL;
	long n = eq ? strtol(eq + 1, &end, 10) : -1;
	if (!eq || !eq[1] || *end || n < 0 || n > 1000)
		return berr_set(err, EINVAL, "--scale %s: give SERVICE=N, N from 0 to 1000", arg);
	_cleanup_free_ char *name = xstrndup(arg, (size_t)(eq - arg));
	struct node *svc = project_service(p, name);
	if (!svc)
		return berr_set(err, ENOENT, "--scale %s: no such service: %s", arg, name);
	node_map_set(svc, "scale", node_new_int(n, svc->pos));
	node_map_del(node_map_get(svc, "deploy"), "replicas");
	return 0;
}

/* Whether a container comes back when the host does, as dockerd decides
 * at boot: always, if it ever started; unless-stopped, unless a user
 * stopped it; on-failure, if it did not end well (running when the host
 * went down counts as a failure, as Docker records it with 255). */
static bool comes_back(const struct ctr_spec *s, const struct ctr_state *st)
{
	if (!st->started_at)
		return false;
	bool was_up = st->status == ST_RUNNING || st->status == ST_RESTARTING;
	switch (s->restart) {
	case RESTART_ALWAYS:
		return true;
	case RESTART_UNLESS_STOPPED:
		return !st->stopped_by_user;
	case RESTART_ON_FAILURE:
		return !st->stopped_by_user && (was_up || st->exit_code != 0);
	default:
		return false;
	}
}

struct boot_entry {
	char *name, *project, *service;
	char **deps;
	int level;
};

static int boot_level(struct boot_entry *v, size_t n, size_t i, int depth)
{
	int level = 0;
	for (size_t d = 0; depth < 64 && v[i].deps && v[i].deps[d]; d++)
		for (size_t k = 0; k < n; k++)
			if (streq(v[k].project, v[i].project) && streq(v[k].service, v[i].deps[d])) {
				int l = boot_level(v, n, k, depth + 1) + 1;
				level = l > level ? l : level;
			}
	return level;
}

int apply_start_all(const char *root, progress_fn fn, void *data, struct berr **err)
{
	char **names = ctr_list(root);
	struct boot_entry *v = xcalloc(strv_len(names) + 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; names[i]; i++) {
		json_t *meta = apply_meta(root, names[i]);
		_cleanup_free_ char *dir = ctr_dir(root, names[i]);
		_cleanup_free_ char *path = path_join(dir, "spec.json");
		struct ctr_spec s;
		struct ctr_state st = {0};
		bool back = false;
		if (meta && !json_is_true(json_object_get(meta, "oneoff")) && !ctr_up(root, names[i], NULL) &&
		    spec_read(path, &s, NULL) == 0) {
			back = ctr_state(root, names[i], &st, NULL) == 0 && comes_back(&s, &st);
			spec_free(&s);
			state_free(&st);
		}
		if (back)
			v[n++] = (struct boot_entry){xstrdup(names[i]),
						     xstrdup(json_string_value(json_object_get(meta, "project")) ?: ""),
						     xstrdup(json_string_value(json_object_get(meta, "service")) ?: ""),
						     json_strv(json_object_get(meta, "depends_on")), 0};
		json_decref(meta);
	}
	strv_free(names);
	/* each project's lock, so that no up or down of it runs meanwhile */
	char **projects = xcalloc(1, sizeof(char *));
	int *locks = xcalloc(n + 1, sizeof(int));
	size_t nl = 0;
	int r = 0, top = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		v[i].level = boot_level(v, n, i, 0);
		top = v[i].level > top ? v[i].level : top;
		if (strv_contains(projects, v[i].project))
			continue;
		strv_push(&projects, xstrdup(v[i].project));
		r = apply_lock(root, v[i].project, &locks[nl], err);
		nl += r == 0;
	}
	/* the kernel state first: bridges, namespaces, then firewall and names */
	int failed = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct berr *e = NULL;
		if (net_revive(root, v[i].name, &e) < 0) {
			fprintf(stderr, "berth: %s\n", e->msg);
			free(v[i].name);
			v[i].name = NULL; /* not started */
			failed++;
		}
		berr_free(e);
	}
	if (r == 0 && n)
		r = net_sync(root, err);
	for (int l = 0; r == 0 && l <= top; l++)
		for (size_t i = 0; i < n; i++) {
			if (v[i].level != l || !v[i].name)
				continue;
			struct berr *e = NULL;
			if (ctr_start(root, v[i].name, &e) < 0) {
				fprintf(stderr, "berth: cannot start %s: %s\n", v[i].name, e->msg);
				failed++;
			} else {
				progress(fn, data, "Container", v[i].name, "Started");
			}
			berr_free(e);
		}
	for (size_t i = 0; i < nl; i++)
		close(locks[i]);
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].project);
		free(v[i].service);
		strv_free(v[i].deps);
	}
	free(v);
	free(locks);
	strv_free(projects);
	if (r == 0 && failed)
		r = berr_set(err, EIO, "%d container%s did not come back (said above)", failed, failed == 1 ? "" : "s");
	return r;
}
