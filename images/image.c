#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "../lib/json.h"
#include "../lib/fs.h"
#include "archive_dl.h"
#include "ref.h"
#include "unpack.h"

#define MAX_META (16u << 20) /* manifests, configs, index files */

/* What an archive held: member path -> blob digest, or -> link target. */
struct member {
	char *path;
	char *digest; /* NULL for a symlink */
	char *link;
};

struct image_plan {
	char *config;  /* digest */
	char **layers; /* blob digests, in order */
	char **tags;   /* full references */
};

struct load {
	struct store *s;
	const char *source;
	struct member *m;
	size_t nm;
	char **new_blobs;  /* created by this load */
	char **new_layers; /* diff_ids unpacked by this load */
	char **kept;       /* digests and diff_ids that complete images use */
	struct image_plan *plans;
	size_t nplans;
	struct berr **err;
};

static void plan_free(struct image_plan *p)
{
	free(p->config);
	strv_free(p->layers);
	strv_free(p->tags);
}

static void load_free(struct load *l)
{
	for (size_t i = 0; i < l->nm; i++) {
		free(l->m[i].path);
		free(l->m[i].digest);
		free(l->m[i].link);
	}
	free(l->m);
	for (size_t i = 0; i < l->nplans; i++)
		plan_free(&l->plans[i]);
	free(l->plans);
	strv_free(l->new_blobs);
	strv_free(l->new_layers);
	strv_free(l->kept);
}

static char *clean_name(const char *name)
{
	while (startswith(name, "./"))
		name += 2;
	return path_clean(name);
}

static int store_member(struct load *l, struct archive *a, const char *path)
{
	struct blob_writer *w;
	int r = blob_writer_open(l->s, &w, l->err);
	if (r < 0)
		return r;
	char buf[1 << 16];
	la_ssize_t n;
	while (r == 0 && (n = archive_read_data(a, buf, sizeof(buf))) > 0)
		r = blob_writer_write(w, buf, (size_t)n, l->err);
	if (r == 0 && n < 0)
		r = berr_set(l->err, EIO, "%s: cannot read %s: %s", l->source, path, archive_error_string(a));
	if (r < 0) {
		blob_writer_abort(w);
		return r;
	}
	char digest[72];
	bool existed;
	r = blob_writer_commit(w, NULL, digest, NULL, &existed, l->err);
	if (r < 0)
		return r;
	if (!existed)
		strv_push(&l->new_blobs, xstrdup(digest));
	l->m[l->nm - 1].digest = xstrdup(digest);
	return 0;
}

/* Every regular member goes into the blob store as it streams past. */
static int read_members(struct load *l, int fd)
{
	if (archive_dl_load(l->err) < 0)
		return -EIO;
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	int r = 0;
	if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK)
		r = berr_set(l->err, EIO, "%s is not a tar archive: %s", l->source, archive_error_string(a));
	for (struct archive_entry *e; r == 0;) {
		int h = archive_read_next_header(a, &e);
		if (h == ARCHIVE_EOF)
			break;
		if (h < ARCHIVE_WARN) {
			r = berr_set(l->err, EIO, "%s is not a valid image archive: %s", l->source,
				     archive_error_string(a));
			break;
		}
		mode_t type = archive_entry_filetype(e);
		if (type != AE_IFREG && type != AE_IFLNK)
			continue;
		l->m = xrealloc(l->m, (l->nm + 1) * sizeof(*l->m));
		l->m[l->nm++] = (struct member){.path = clean_name(archive_entry_pathname(e))};
		if (type == AE_IFLNK)
			l->m[l->nm - 1].link = xstrdup(archive_entry_symlink(e));
		else
			r = store_member(l, a, archive_entry_pathname(e));
	}
	archive_read_free(a);
	return r;
}

/* The blob digest of an archive member, following links inside the archive. */
static const char *member_digest(struct load *l, const char *name)
{
	_cleanup_free_ char *path = clean_name(name);
	for (int hops = 0; hops < 16; hops++) {
		struct member *m = NULL;
		for (size_t i = 0; i < l->nm && !m; i++)
			if (streq(l->m[i].path, path))
				m = &l->m[i];
		if (!m)
			return NULL;
		if (m->digest)
			return m->digest;
		_cleanup_free_ char *dir = path_dirname(path);
		free(path);
		path = m->link[0] == '/' ? clean_name(m->link + 1) : path_join(streq(dir, ".") ? "" : dir, m->link);
	}
	return NULL;
}

static int read_json_blob(struct load *l, const char *digest, const char *what, json_t **out)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = store_read_blob(l->s, digest, MAX_META, &text, &len, l->err);
	if (r < 0)
		return r;
	json_error_t je;
	*out = json_loadb(text, len, 0, &je);
	if (!*out || !(json_is_object(*out) || json_is_array(*out))) {
		json_decref(*out);
		return berr_set(l->err, EINVAL, "%s: %s is not valid JSON: %s", l->source, what, je.text);
	}
	return 0;
}

static int read_member_json(struct load *l, const char *name, json_t **out)
{
	const char *d = member_digest(l, name);
	if (!d)
		return berr_set(l->err, ENOENT, "%s: the archive has no %s", l->source, name);
	return read_json_blob(l, d, name, out);
}

static struct image_plan *new_plan(struct load *l)
{
	l->plans = xrealloc(l->plans, (l->nplans + 1) * sizeof(*l->plans));
	struct image_plan *p = &l->plans[l->nplans++];
	*p = (struct image_plan){.layers = xcalloc(1, sizeof(char *)), .tags = xcalloc(1, sizeof(char *))};
	return p;
}

static int add_tag(struct load *l, struct image_plan *p, const char *name)
{
	struct image_ref ref;
	int r = ref_parse(name, &ref, l->err);
	if (r < 0)
		return berr_prefix(l->err, "%s: ", l->source);
	strv_push(&p->tags, ref_string(&ref));
	ref_free(&ref);
	return 0;
}

/* docker save: manifest.json lists Config, RepoTags and Layers by path. */
static int plan_docker(struct load *l, json_t *manifest)
{
	size_t i;
	json_t *img;
	json_array_foreach(manifest, i, img)
	{
		struct image_plan *p = new_plan(l);
		const char *cfg = json_string_value(json_object_get(img, "Config"));
		const char *d = cfg ? member_digest(l, cfg) : NULL;
		if (!d)
			return berr_set(l->err, EINVAL, "%s: manifest.json entry %zu names no config the archive has",
					l->source, i);
		p->config = xstrdup(d);
		size_t k;
		json_t *v;
		json_array_foreach(json_object_get(img, "Layers"), k, v)
		{
			const char *ld = json_is_string(v) ? member_digest(l, json_string_value(v)) : NULL;
			if (!ld)
				return berr_set(l->err, EINVAL, "%s: layer %s is missing from the archive", l->source,
						json_is_string(v) ? json_string_value(v) : "?");
			strv_push(&p->layers, xstrdup(ld));
		}
		json_array_foreach(json_object_get(img, "RepoTags"), k, v)
		{
			if (json_is_string(v) && add_tag(l, p, json_string_value(v)) < 0)
				return -EINVAL;
		}
	}
	return 0;
}

/* OCI layout: a blob is found by its digest, and the path must agree. */
static const char *oci_blob(struct load *l, const char *digest)
{
	if (!digest || !digest_valid(digest))
		return NULL;
	_cleanup_free_ char *path = xasprintf("blobs/sha256/%s", digest + 7);
	const char *d = member_digest(l, path);
	return d && streq(d, digest) ? d : NULL;
}

static bool is_index(const char *media_type)
{
	return media_type && (strstr(media_type, "image.index") || strstr(media_type, "manifest.list"));
}

/* From an index, the manifest for this machine (linux/amd64), else the first. */
static json_t *pick_platform(json_t *manifests)
{
	size_t i;
	json_t *m;
	json_array_foreach(manifests, i, m)
	{
		json_t *pl = json_object_get(m, "platform");
		if (streq(json_string_value(json_object_get(pl, "os")), "linux") &&
		    streq(json_string_value(json_object_get(pl, "architecture")), "amd64"))
			return m;
	}
	return json_array_get(manifests, 0);
}

static int plan_oci_manifest(struct load *l, json_t *desc, int depth)
{
	const char *digest = json_string_value(json_object_get(desc, "digest"));
	const char *d = oci_blob(l, digest);
	if (!d)
		return berr_set(l->err, EINVAL, "%s: blob %s is missing or does not match its digest", l->source,
				digest ? digest : "(none)");
	json_t *m;
	int r = read_json_blob(l, d, digest, &m);
	if (r < 0)
		return r;
	if (is_index(json_string_value(json_object_get(m, "mediaType"))) || json_object_get(m, "manifests")) {
		json_t *pick = depth < 4 ? pick_platform(json_object_get(m, "manifests")) : NULL;
		r = pick ? plan_oci_manifest(l, pick, depth + 1)
			 : berr_set(l->err, EINVAL, "%s: image index %s lists no manifest", l->source, digest);
		json_decref(m);
		return r;
	}
	struct image_plan *p = new_plan(l);
	const char *cfg = oci_blob(l, json_string_value(json_object_get(json_object_get(m, "config"), "digest")));
	if (!cfg)
		r = berr_set(l->err, EINVAL, "%s: the config of manifest %s is missing", l->source, digest);
	else
		p->config = xstrdup(cfg);
	size_t i;
	json_t *layer;
	json_array_foreach(json_object_get(m, "layers"), i, layer)
	{
		const char *ld = oci_blob(l, json_string_value(json_object_get(layer, "digest")));
		if (!ld && r == 0)
			r = berr_set(l->err, EINVAL, "%s: layer %zu of manifest %s is missing", l->source, i, digest);
		else if (ld)
			strv_push(&p->layers, xstrdup(ld));
	}
	json_decref(m);
	if (r < 0)
		return r;
	/* a name written by docker (containerd) or by skopeo (ref.name "repo:tag") */
	json_t *ann = json_object_get(desc, "annotations");
	const char *name = json_string_value(json_object_get(ann, "io.containerd.image.name"));
	const char *refname = json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
	if (!name && refname && (strchr(refname, ':') || strchr(refname, '/')))
		name = refname;
	return name ? add_tag(l, p, name) : 0;
}

static int plan_oci(struct load *l, json_t *index)
{
	size_t i;
	json_t *desc;
	json_array_foreach(json_object_get(index, "manifests"), i, desc)
	{
		int r = plan_oci_manifest(l, desc, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool has_member(struct load *l, const char *name) { return member_digest(l, name) != NULL; }

static int make_plans(struct load *l)
{
	_cleanup_(json_releasep) json_t *doc = NULL;
	int r;
	if (has_member(l, "manifest.json")) {
		r = read_member_json(l, "manifest.json", &doc);
		if (r == 0)
			r = json_is_array(doc) ? plan_docker(l, doc)
					       : berr_set(l->err, EINVAL, "%s: manifest.json is not a list", l->source);
	} else if (has_member(l, "index.json")) {
		r = read_member_json(l, "index.json", &doc);
		if (r == 0)
			r = plan_oci(l, doc);
	} else {
		return berr_set(l->err, EINVAL,
				"%s is neither a docker-archive (docker save) nor an OCI image layout archive "
				"(it has no manifest.json or index.json)",
				l->source);
	}
	if (r == 0 && l->nplans == 0)
		r = berr_set(l->err, EINVAL, "%s holds no image", l->source);
	return r;
}

/* Check each layer against the config's diff_ids and unpack it once. */
static int unpack_layers(struct load *l, struct image_plan *p, json_t *config, json_t *layers_out, uint64_t *total)
{
	json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	if (json_array_size(diff_ids) != strv_len(p->layers))
		return berr_set(l->err, EINVAL, "%s: image %s has %zu layers but its config lists %zu", l->source,
				p->config, strv_len(p->layers), json_array_size(diff_ids));
	_cleanup_free_ char *tmp = path_join(l->s->dir, "tmp");
	for (size_t i = 0; p->layers[i]; i++) {
		const char *diff_id = json_string_value(json_array_get(diff_ids, i));
		_cleanup_free_ char *blob = store_blob_path(l->s, p->layers[i]);
		if (!diff_id || !digest_valid(diff_id))
			return berr_set(l->err, EINVAL, "%s: image %s has an invalid diff_id %zu", l->source, p->config,
					i);
		char computed[72];
		if (!streq(diff_id, p->layers[i])) { /* compressed: check what it unpacks to */
			int r = layer_diff_id(blob, computed, l->err);
			if (r < 0)
				return r;
			if (!streq(computed, diff_id))
				return berr_set(l->err, EBADMSG,
						"%s: layer %zu of image %s does not match its config (%s, expected %s)",
						l->source, i, p->config, computed, diff_id);
		}
		_cleanup_free_ char *dest = store_layer_path(l->s, diff_id);
		_cleanup_free_ char *size_file = xasprintf("%s.size", dest);
		uint64_t bytes = 0;
		if (!fs_exists(dest)) {
			int r = layer_unpack(blob, dest, tmp, &bytes, l->err);
			if (r < 0)
				return r;
			strv_push(&l->new_layers, xstrdup(diff_id));
			char text[32];
			int n = snprintf(text, sizeof(text), "%llu\n", (unsigned long long)bytes);
			if (fs_write_atomic(size_file, text, (size_t)n, 0600, l->err) < 0)
				return -EIO;
		} else {
			_cleanup_free_ char *text = NULL;
			size_t len;
			if (fs_read_file(size_file, 64, &text, &len, NULL) == 0)
				bytes = strtoull(text, NULL, 10);
		}
		json_t *rec = json_pack("{s:s, s:s}", "digest", p->layers[i], "diff_id", diff_id);
		json_array_append_new(layers_out, rec);
		*total += bytes;
	}
	return 0;
}

static int commit_image(struct load *l, struct image_plan *p, char ***loaded)
{
	json_t *config;
	int r = read_json_blob(l, p->config, "the image config", &config);
	if (r < 0)
		return r;
	json_t *layers = json_array();
	uint64_t total = 0;
	r = unpack_layers(l, p, config, layers, &total);
	_cleanup_free_ char *now = store_timestamp();
	json_t *rec = json_pack("{s:s, s:o, s:I, s:s, s:s}", "id", p->config, "layers", layers, "size",
				(json_int_t)total, "loaded", now, "created",
				json_string_value(json_object_get(config, "created")) ?: "");
	json_decref(config);
	if (r == 0)
		r = store_put_image(l->s, p->config, rec, l->err);
	json_decref(rec);
	for (size_t i = 0; r == 0 && p->tags[i]; i++)
		r = store_set_tag(l->s, p->tags[i], p->config, l->err);
	if (r < 0)
		return r;
	strv_push(&l->kept, xstrdup(p->config));
	for (size_t i = 0; p->layers[i]; i++)
		strv_push(&l->kept, xstrdup(p->layers[i]));
	json_t *saved;
	if (store_get_image(l->s, p->config, &saved, NULL) == 0) {
		size_t i;
		json_t *ly;
		json_array_foreach(json_object_get(saved, "layers"), i, ly)
			strv_push(&l->kept, xstrdup(json_string_value(json_object_get(ly, "diff_id"))));
		json_decref(saved);
	}
	for (size_t i = 0; p->tags[i]; i++) {
		struct image_ref ref;
		if (ref_parse(p->tags[i], &ref, NULL) == 0) {
			_cleanup_free_ char *fam = ref_familiar(&ref);
			strv_push(loaded, xasprintf("Loaded image: %s", fam));
			ref_free(&ref);
		}
	}
	if (!p->tags[0])
		strv_push(loaded, xasprintf("Loaded image ID: %s", p->config));
	return 0;
}

/* Blobs and layers this load created that no complete image uses go away. */
static void sweep(struct load *l)
{
	for (size_t i = 0; l->new_blobs && l->new_blobs[i]; i++)
		if (!strv_contains(l->kept, l->new_blobs[i]))
			store_remove_blob(l->s, l->new_blobs[i]);
	for (size_t i = 0; l->new_layers && l->new_layers[i]; i++) {
		if (strv_contains(l->kept, l->new_layers[i]))
			continue;
		_cleanup_free_ char *dir = store_layer_path(l->s, l->new_layers[i]);
		_cleanup_free_ char *size = xasprintf("%s.size", dir);
		fs_remove_tree(dir, NULL);
		unlink(size);
	}
}

int image_load(struct store *s, int fd, const char *source, char ***loaded, struct berr **err)
{
	struct load l = {.s = s, .source = source, .err = err, .kept = xcalloc(1, sizeof(char *))};
	*loaded = xcalloc(1, sizeof(char *));
	int r = read_members(&l, fd);
	if (r == 0)
		r = make_plans(&l);
	for (size_t i = 0; r == 0 && i < l.nplans; i++)
		r = commit_image(&l, &l.plans[i], loaded);
	sweep(&l);
	load_free(&l);
	return r;
}

char **image_tags(const struct store *s, const char *id)
{
	char **out = xcalloc(1, sizeof(char *));
	json_t *tags;
	if (store_tags(s, &tags, NULL) < 0)
		return out;
	const char *k;
	json_t *v;
	json_object_foreach(tags, k, v)
	{
		struct image_ref ref;
		if (!streq(json_string_value(v), id) || ref_parse(k, &ref, NULL) < 0)
			continue;
		strv_push(&out, ref_familiar(&ref));
		ref_free(&ref);
	}
	json_decref(tags);
	strv_sort(out);
	return out;
}

/* Layers and blobs that some remaining image still uses. */
static char **in_use(const struct store *s)
{
	char **used = xcalloc(1, sizeof(char *));
	char **ids = store_list_images(s);
	for (size_t i = 0; ids[i]; i++) {
		json_t *rec;
		if (store_get_image(s, ids[i], &rec, NULL) < 0)
			continue;
		strv_push(&used, xstrdup(ids[i]));
		size_t k;
		json_t *ly;
		json_array_foreach(json_object_get(rec, "layers"), k, ly)
		{
			strv_push(&used, xstrdup(json_string_value(json_object_get(ly, "digest"))));
			strv_push(&used, xstrdup(json_string_value(json_object_get(ly, "diff_id"))));
		}
		json_decref(rec);
	}
	strv_free(ids);
	return used;
}

static int delete_image(struct store *s, const char *id, char ***lines, struct berr **err)
{
	json_t *rec;
	int r = store_get_image(s, id, &rec, err);
	if (r < 0)
		return r;
	r = store_remove_image(s, id, err);
	char **used = r == 0 ? in_use(s) : NULL;
	size_t k;
	json_t *ly;
	json_array_foreach(json_object_get(rec, "layers"), k, ly)
	{
		const char *digest = json_string_value(json_object_get(ly, "digest"));
		const char *diff_id = json_string_value(json_object_get(ly, "diff_id"));
		if (r < 0 || !digest || !diff_id)
			continue;
		if (!strv_contains(used, digest))
			store_remove_blob(s, digest);
		if (!strv_contains(used, diff_id) && digest_valid(diff_id)) {
			_cleanup_free_ char *dir = store_layer_path(s, diff_id);
			_cleanup_free_ char *size = xasprintf("%s.size", dir);
			fs_remove_tree(dir, NULL);
			unlink(size);
		}
	}
	if (r == 0) {
		if (!strv_contains(used, id))
			store_remove_blob(s, id);
		strv_push(lines, xasprintf("Deleted: %s", id));
	}
	strv_free(used);
	json_decref(rec);
	return r;
}

/* Every tag of id goes; "<word>: <tag>" lines say which. */
static int untag_all(struct store *s, const char *id, const char *word, char ***lines, struct berr **err)
{
	json_t *all;
	int r = 0;
	if (store_tags(s, &all, NULL) < 0)
		return 0;
	const char *k;
	json_t *v;
	json_object_foreach(all, k, v)
	{
		if (r == 0 && streq(json_string_value(v), id) && (r = store_remove_tag(s, k, err)) == 0) {
			struct image_ref tr;
			if (ref_parse(k, &tr, NULL) == 0) {
				_cleanup_free_ char *fam = ref_familiar(&tr);
				strv_push(lines, xasprintf("%s: %s", word, fam));
				ref_free(&tr);
			}
		}
	}
	json_decref(all);
	return r;
}

/* Whether one of the image's layers is among paths (a container's lower layers). */
static bool layers_in(struct store *s, const char *id, char *const *paths)
{
	json_t *rec;
	if (!paths || store_get_image(s, id, &rec, NULL) < 0)
		return false;
	bool found = false;
	size_t k;
	json_t *ly;
	json_array_foreach(json_object_get(rec, "layers"), k, ly)
	{
		const char *diff_id = json_string_value(json_object_get(ly, "diff_id"));
		_cleanup_free_ char *dir = diff_id && digest_valid(diff_id) ? store_layer_path(s, diff_id) : NULL;
		found |= dir && strv_contains(paths, dir);
	}
	json_decref(rec);
	return found;
}

int image_remove(struct store *s, const char *what, bool force, char *const *in_use_layers, char ***lines,
		 struct berr **err)
{
	char *id = NULL;
	int r = store_resolve(s, what, &id, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *idp = id;
	bool used = layers_in(s, id, in_use_layers);
	char **tags = image_tags(s, id);
	if (used && !force && strv_len(tags) <= 1) {
		strv_free(tags);
		return berr_set(err, EBUSY,
				"image %s is used by a container; remove the container first (berth down, "
				"berth rm), or untag it with --force",
				what);
	}
	struct image_ref ref;
	bool by_name = ref_parse(what, &ref, NULL) == 0 && strv_len(tags) > 0;
	if (by_name) {
		_cleanup_free_ char *full = ref_string(&ref);
		_cleanup_free_ char *fam = ref_familiar(&ref);
		ref_free(&ref);
		json_t *all = NULL;
		bool tagged = store_tags(s, &all, NULL) == 0 &&
			      streq(json_string_value(json_object_get(all, full)), id);
		json_decref(all);
		if (tagged) {
			r = store_remove_tag(s, full, err);
			if (r == 0)
				strv_push(lines, xasprintf("Untagged: %s", fam));
			size_t left = strv_len(tags) - 1;
			strv_free(tags);
			return r < 0 || left > 0 || (used && force) ? r : delete_image(s, id, lines, err);
		}
	}
	if (strv_len(tags) > 1 && !force) {
		strv_free(tags);
		return berr_set(err, EEXIST, "image %.19s is tagged more than once; remove it by name, or use --force",
				id);
	}
	strv_free(tags);
	r = untag_all(s, id, "Untagged", lines, err);
	return r < 0 || used ? r : delete_image(s, id, lines, err);
}

/* Size on disk of a layer, as recorded when it was unpacked. */
static uint64_t layer_bytes(const char *dir)
{
	_cleanup_free_ char *size_file = xasprintf("%s.size", dir);
	_cleanup_free_ char *text = NULL;
	size_t len;
	return fs_read_file(size_file, 64, &text, &len, NULL) == 0 ? strtoull(text, NULL, 10) : 0;
}

int image_prune(struct store *s, char *const *in_use_layers, bool all, char ***lines, uint64_t *reclaimed,
		struct berr **err)
{
	*reclaimed = 0;
	char **ids = store_list_images(s);
	int r = 0;
	for (size_t i = 0; r == 0 && ids[i]; i++) {
		char **tags = image_tags(s, ids[i]);
		bool dangling = !tags[0];
		strv_free(tags);
		if ((!dangling && !all) || layers_in(s, ids[i], in_use_layers))
			continue;
		r = untag_all(s, ids[i], "untagged", lines, err);
		if (r == 0)
			r = delete_image(s, ids[i], lines, err);
	}
	strv_free(ids);
	return r < 0 ? r : image_prune_layers(s, in_use_layers, lines, reclaimed);
}

int image_prune_layers(struct store *s, char *const *in_use_layers, char ***lines, uint64_t *reclaimed)
{
	/* layers no image uses: a pull killed after a layer was committed, a build's cache */
	char **used = in_use(s);
	_cleanup_free_ char *ldir = path_join(s->dir, "layers");
	_cleanup_(closedirp) DIR *d = opendir(ldir);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.' || strchr(e->d_name, '.'))
			continue;
		_cleanup_free_ char *diff_id = xasprintf("sha256:%s", e->d_name);
		_cleanup_free_ char *dir = path_join(ldir, e->d_name);
		if (strv_contains(used, diff_id) || !digest_valid(diff_id) || strv_contains(in_use_layers, dir))
			continue;
		_cleanup_free_ char *size = xasprintf("%s.size", dir);
		*reclaimed += layer_bytes(dir);
		fs_remove_tree(dir, NULL);
		unlink(size);
		strv_push(lines, xasprintf("deleted: %s", diff_id));
	}
	strv_free(used);
	return 0;
}
