/* Making what up and run create: the planner asked (plan.c), each
 * container prepared (spec, record, endpoint), its networks, volumes and
 * ports ensured, then created. */
#include "apply.h"
#include "applier.h"

#include <errno.h>
#include <sys/random.h>

#include "../lib/fs.h"
#include "../lib/json.h"
#include "../runtime/ctr.h"
#include "../runtime/events.h"
#include "../runtime/seccomp.h"
#include "../volumes/volume.h"
#include "check.h"
#include "ctrspec.h"
#include "netplan.h"

void apply_progress(progress_fn fn, void *data, const char *kind, const char *name, const char *what)
{
	if (fn)
		fn(data, kind, name, what);
}

char *apply_short_id(void)
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
static int prepare_one(const struct apply_ctx *ctx, const struct project *p, struct store *st, const struct up_opts *o,
		       const char *anon_from, struct planned *pl, struct berr **err)
{
	const char *root = ctx->root;
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
	_cleanup_(strv_freep) char **anon_prev = o && o->renew_anon
							 ? NULL
							 : json_strv(json_object_get(meta, "anonymous_volumes"));
	json_decref(meta);
	pl->anon = xcalloc(1, sizeof(char *));
	_cleanup_free_ char *dir = ctr_dir(root, pl->name);
	_cleanup_free_ char *host = apply_short_id();
	_cleanup_free_ char *shim = ctr_shim_path();
	struct spec_ctx sc = {.project = p,
			      .service = service,
			      .number = pl->number,
			      .name = pl->name,
			      .dir = dir,
			      .hostname = host,
			      .image = &ic,
			      .init_path = shim,
			      .root = root,
			      .store = st,
			      .anon_prev = anon_prev,
			      .anon_out = &pl->anon};
	r = pl->exists || (o && ctx->dry_run) ? 0 : apply_write_meta(p, root, pl, true, err);
	if (r == 0 && !pl->same)
		r = ctrspec_build(&sc, &pl->spec, err);
	if (r == 0 && !pl->same && pl->spec.seccomp_profile &&
	    seccomp_check(pl->spec.seccomp_profile, pl->spec.caps, err) < 0)
		r = berr_prefix(err, "service %s: ", service);
	image_config_free(&ic);
	pl->own_netns = netplan_own_netns(svc);
	if (r == 0 && !pl->same && pl->own_netns)
		r = netplan_endpoint(p, service, pl->name, pl->spec.hostname, &pl->ep, err);
	return r;
}

/* A one-off (berth run, a pre_start step): made new under the name the
 * project gives the service's container number. */
int apply_prepare_oneoff(const struct apply_ctx *ctx, const struct project *p, struct store *st, const char *service,
			 int number, const char *anon_from, struct planned *pl, struct berr **err)
{
	const char *root = ctx->root;
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
	return prepare_one(ctx, p, st, NULL, anon_from, pl, err);
}

void apply_planned_free(struct planned *pl, size_t n)
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
void apply_discard_new(const char *root, struct planned *pl, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (pl[i].exists || !pl[i].name)
			continue;
		_cleanup_free_ char *dir = ctr_dir(root, pl[i].name);
		if (!ctr_exists(root, pl[i].name))
			fs_remove_tree(dir, NULL);
	}
}

/* Every container first, so that a bad input changes nothing: the
 * planner decides (plan.c), then each container to make is prepared. */
int apply_plan(const struct apply_ctx *ctx, const struct project *p, const struct up_opts *o,
	       const struct plan_diverged *dv, size_t ndv, struct plan *decided, struct planned **out, size_t *n,
	       struct berr **err)
{
	const char *root = ctx->root;
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
	struct have_list have = apply_load_have(root);
	struct plan_in in = {.p = p,
			     .services = o->services,
			     .no_deps = o->no_deps,
			     .force_recreate = o->force_recreate,
			     .no_recreate = o->no_recreate,
			     .always_recreate_deps = o->always_recreate_deps,
			     .yes = o->yes,
			     .image_ids = ids,
			     .have = have.v,
			     .nhave = have.n,
			     .diverged = dv,
			     .ndiverged = ndv};
	if (r == 0)
		r = plan_compute(&in, decided, err);
	apply_have_free(&have);
	struct planned *pl = xcalloc(decided->n + 1, sizeof(*pl));
	for (size_t i = 0; r == 0 && i < decided->n; i++) {
		const struct plan_step *s = &decided->steps[i];
		if (s->verb == PLAN_REMOVE)
			continue;
		size_t k = 0;
		while (!streq(p->order[k], s->service))
			k++;
		pl[*n] = (struct planned){.name = xstrdup(s->name),
					  .service = xstrdup(s->service),
					  .number = s->number,
					  .hash = xstrdup(s->hash),
					  .image = xstrdup(images[k]),
					  .image_id = xstrdup(ids[k]),
					  .exists = s->verb != PLAN_CREATE,
					  .same = s->verb == PLAN_KEEP};
		r = prepare_one(ctx, p, st, o, NULL, &pl[(*n)++], err);
	}
	for (size_t i = 0; i < nsvc; i++) {
		free(ids[i]);
		free(images[i]);
	}
	free(ids);
	free(images);
	store_close(st);
	if (r < 0) {
		apply_discard_new(root, pl, *n);
		apply_planned_free(pl, *n);
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
			return berr_set(err, ENOENT, "volumes_from %s: there is no container %s to take volumes from",
					v, ctr);
		for (size_t k = 0; k < other.nmounts; k++) {
			struct mount_spec *m = &other.mounts[k];
			bool own_file = m->source && startswith(m->source, prefix); /* its /etc files, secrets */
			if (own_file || (m->type && !streq(m->type, "bind") && !m->volume))
				continue; /* tmpfs and files of its own are not shared */
			pl->spec.mounts = xrealloc(pl->spec.mounts, (pl->spec.nmounts + 1) * sizeof(*pl->spec.mounts));
			struct mount_spec *n = &pl->spec.mounts[pl->spec.nmounts++];
			bool was_ro = m->options && (streq(m->options, "ro") || startswith(m->options, "ro,"));
			*n = (struct mount_spec){xstrdup(m->source),
						 xstrdup(m->target),
						 m->type ? xstrdup(m->type) : NULL,
						 ro && !was_ro
							 ? (m->options ? xasprintf("ro,%s", m->options) : xstrdup("ro"))
							 : (m->options ? xstrdup(m->options) : NULL),
						 m->file,
						 m->volume ? xstrdup(m->volume) : NULL,
						 false,
						 m->subpath ? xstrdup(m->subpath) : NULL,
						 m->subpath_in_root};
		}
		spec_free(&other);
	}
	return 0;
}

int apply_create_one(const struct apply_ctx *ctx, const struct project *p, struct planned *pl, const struct up_opts *o,
		     struct berr **err)
{
	const char *root = ctx->root;
	if (pl->exists) {
		apply_progress(ctx->progress, ctx->progress_data, "Container", pl->name, "Recreate");
		int r = apply_remove_container(root, pl->name, false, err);
		if (r < 0)
			return r;
	}
	/* the record first: down finds whatever a killed up made after it */
	int r = apply_write_meta(p, root, pl, true, err);
	if (r == 0)
		r = add_volumes_from(p, root, pl, err);
	/* network_mode service:/container: (up --no-deps, or a container removed) */
	const char *nm = node_str(node_map_get(project_service(p, pl->service), "network_mode"));
	bool joins = nm && (startswith(nm, "service:") || startswith(nm, "container:"));
	_cleanup_free_ char *peer = joins ? (startswith(nm, "service:") ? ctrspec_name(p, nm + 8, 1) : xstrdup(nm + 10))
					  : NULL;
	if (r == 0 && peer && !ctr_exists(root, peer))
		r = berr_set(err, ENOENT, "network_mode %s: there is no container %s to share a network with", nm,
			     peer);
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
		r = apply_write_meta(p, root, pl, false, err);
	if (r < 0) {
		_cleanup_free_ char *dir = ctr_dir(root, pl->name);
		fs_remove_tree(dir, NULL);
		net_detach(root, pl->name, NULL);
		return berr_prefix(err, "service %s: ", pl->service);
	}
	_cleanup_free_ char *attrs = xasprintf("\"image\":\"%s\",\"service\":\"%s\"", pl->image, pl->service);
	events_add(root, pl->name, "create", attrs);
	apply_progress(ctx->progress, ctx->progress_data, "Container", pl->name, "Created");
	return 0;
}

/* Host ports, before anything is made: free on the host, not published by
 * another container, and not twice in this project. */
int apply_check_ports(const char *root, struct planned *pl, size_t n, struct berr **err)
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

int apply_ensure_networks(const struct apply_ctx *ctx, const struct project *p, struct planned *pl, size_t n,
			  const struct up_opts *o, struct berr **err)
{
	const char *root = ctx->root;
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
			apply_progress(ctx->progress, ctx->progress_data, "Network", defs[i].name, "Created");
	r = r < 0 ? r : 0;
	netplan_defs_free(defs, nd);
	return r;
}

/* One volume on first use: a named one as the file declares it, else an
 * anonymous one of the project. */
static int ensure_volume(const struct apply_ctx *ctx, const struct project *p, const char *name,
			 const struct up_opts *o, struct berr **err)
{
	const char *root = ctx->root;
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
		apply_progress(ctx->progress, ctx->progress_data, "Volume", name, "Created");
	return r < 0 ? r : 0;
}

/* --all-resources: every network and volume the file declares, used or not. */
int apply_ensure_declared(const struct apply_ctx *ctx, const struct project *p, const struct up_opts *o,
			  struct berr **err)
{
	const char *root = ctx->root;
	struct net_def *defs = NULL;
	size_t nd = 0;
	int r = netplan_defs_declared(p, &defs, &nd, err);
	for (size_t i = 0; r >= 0 && i < nd; i++)
		if ((r = net_ensure(root, &defs[i], err)) > 0)
			apply_progress(ctx->progress, ctx->progress_data, "Network", defs[i].name, "Created");
	netplan_defs_free(defs, nd);
	struct node *vols = node_map_get(p->doc, "volumes");
	for (size_t i = 0; r >= 0 && vols && i < vols->n; i++) {
		const char *name = node_str(node_map_get(vols->pairs[i].val, "name"));
		r = name ? ensure_volume(ctx, p, name, o, err) : 0;
	}
	return r < 0 ? r : 0;
}

/* The volumes of what will be made. */
int apply_ensure_volumes(const struct apply_ctx *ctx, const struct project *p, struct planned *pl, size_t n,
			 const struct up_opts *o, struct berr **err)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; !pl[i].same && k < pl[i].spec.nmounts; k++)
			if (pl[i].spec.mounts[k].volume &&
			    ensure_volume(ctx, p, pl[i].spec.mounts[k].volume, o, err) < 0)
				return berr_prefix(err, "service %s: ", pl[i].service);
	return 0;
}
