#include "push.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/sha256.h"
#include "../lib/util.h"
#include "ref.h"
#include "registry.h"

#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"

static void say(const struct push_opts *o, const char *fmt, ...) _printf_(2, 3);
static void say(const struct push_opts *o, const char *fmt, ...)
{
	if (o->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(o->out ? o->out : stdout, fmt, ap);
	va_end(ap);
	fflush(o->out ? o->out : stdout);
}

/* A layer's media type, from its first bytes: gzip, zstd, or a plain tar. */
static const char *layer_type(int fd)
{
	unsigned char m[4] = {0};
	if (pread(fd, m, sizeof(m), 0) != (ssize_t)sizeof(m))
		return "application/vnd.oci.image.layer.v1.tar";
	if (m[0] == 0x1f && m[1] == 0x8b)
		return "application/vnd.oci.image.layer.v1.tar+gzip";
	if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		return "application/vnd.oci.image.layer.v1.tar+zstd";
	return "application/vnd.oci.image.layer.v1.tar";
}

/* One blob: uploaded unless the registry has it; its descriptor in *desc.
 * A pulled layer has no blob in the store (pulls keep the unpacked layer
 * only), but its record has its size and type: the registry must have it. */
static int push_blob(struct store *s, struct registry *r, json_t *layer, const char *digest, const char *type,
		     const struct push_opts *o, json_t **desc, struct berr **err)
{
	_cleanup_free_ char *path = store_blob_path(s, digest);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	bool have = fd >= 0 && fstat(fd, &st) == 0;
	bool exists = false;
	int ret = registry_blob_exists(r, digest, &exists, err);
	if (ret < 0)
		return ret;
	const char *rec_type = json_string_value(json_object_get(layer, "mediaType"));
	json_int_t rec_size = json_integer_value(json_object_get(layer, "size"));
	if (!have && !(exists && rec_type && rec_size > 0))
		return berr_set(err, ENOENT,
				"layer %.19s came from a pull, and berth keeps no compressed copy of "
				"pulled layers; push to the registry it came from, or load the base "
				"image from an archive",
				digest);
	/* Docker's layer types are OCI's under other names */
	if (rec_type && startswith(rec_type, "application/vnd.docker.image.rootfs.diff.tar"))
		rec_type = strstr(rec_type, "gzip") ? "application/vnd.oci.image.layer.v1.tar+gzip"
						    : "application/vnd.oci.image.layer.v1.tar";
	if (!have) {
		say(o, "%.12s: Layer already exists\n", digest + 7);
		*desc = json_pack("{s:s, s:s, s:I}", "mediaType", rec_type, "digest", digest, "size", rec_size);
		return 0;
	}
	const char *mt = type ? type : layer_type(fd);
	if (!exists) {
		ret = registry_blob_upload(r, digest, fd, (uint64_t)st.st_size, err);
		if (ret < 0)
			return ret;
	}
	if (!type)
		say(o, "%.12s: %s\n", digest + 7, exists ? "Layer already exists" : "Pushed");
	*desc = json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", digest, "size", (json_int_t)st.st_size);
	return 0;
}

static int push_manifest(struct registry *r, const char *tag, json_t *config, json_t *layers, char **digest,
			 size_t *len, struct berr **err)
{
	json_t *m = json_pack("{s:i, s:s, s:O, s:O}", "schemaVersion", 2, "mediaType", MT_OCI_MANIFEST, "config",
			      config, "layers", layers);
	char *body = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	*len = strlen(body);
	char hex[65];
	sha256_of(body, *len, hex);
	int ret = registry_put_manifest(r, tag, body, *len, MT_OCI_MANIFEST, err);
	free(body);
	if (ret == 0)
		*digest = xasprintf("sha256:%s", hex);
	return ret;
}

/* The repository's digest of this image, kept with the image as pulls keep it. */
static void record_digest(struct store *s, const char *id, const char *repo, const char *digest)
{
	json_t *rec = NULL;
	if (store_get_image(s, id, &rec, NULL) < 0)
		return;
	json_t *digests = json_object_get(rec, "repo_digests");
	if (!json_is_array(digests)) {
		digests = json_array();
		json_object_set_new(rec, "repo_digests", digests);
	}
	_cleanup_free_ char *mine = xasprintf("%s@", repo);
	for (size_t i = json_array_size(digests); i > 0; i--)
		if (startswith(json_string_value(json_array_get(digests, i - 1)) ?: "", mine))
			json_array_remove(digests, i - 1);
	_cleanup_free_ char *rd = xasprintf("%s@%s", repo, digest);
	json_array_append_new(digests, json_string(rd));
	store_put_image(s, id, rec, NULL);
	json_decref(rec);
}

int image_push(struct store *s, const char *name, const struct push_opts *o, char **digest_out, struct berr **err)
{
	struct image_ref ref;
	_cleanup_free_ char *id = NULL;
	int ret = ref_parse(name, &ref, err);
	if (ret < 0)
		return ret;
	if (ref.digest && !ref.tag) {
		ref_free(&ref);
		return berr_set(err, EINVAL, "%s: push by digest is not possible; give a tag", name);
	}
	ret = store_resolve(s, name, &id, err);
	json_t *rec = NULL;
	if (ret == 0)
		ret = store_get_image(s, id, &rec, err);
	_cleanup_free_ char *repo = ref_familiar_repo(&ref);
	struct registry *r = NULL;
	if (ret == 0)
		ret = registry_open(ref.domain, ref.path, &r, err);
	if (ret == 0) {
		registry_want_push(r);
		say(o, "The push refers to repository [%s]\n", repo);
	}
	json_t *layers = json_array();
	size_t i;
	json_t *l;
	json_array_foreach(ret == 0 ? json_object_get(rec, "layers") : NULL, i, l)
	{
		json_t *desc = NULL;
		ret = push_blob(s, r, l, json_string_value(json_object_get(l, "digest")) ?: "", NULL, o, &desc, err);
		if (ret < 0)
			break;
		json_array_append_new(layers, desc);
	}
	json_t *config = NULL;
	if (ret == 0)
		ret = push_blob(s, r, NULL, id, MT_OCI_CONFIG, o, &config, err);
	_cleanup_free_ char *digest = NULL;
	size_t len = 0;
	if (ret == 0)
		ret = push_manifest(r, ref.tag, config, layers, &digest, &len, err);
	if (ret == 0) {
		say(o, "%s: digest: %s size: %zu\n", ref.tag, digest, len);
		record_digest(s, id, repo, digest);
		if (digest_out)
			*digest_out = steal_ptr(&digest);
	}
	json_decref(config);
	json_decref(layers);
	json_decref(rec);
	registry_close(r);
	ref_free(&ref);
	return ret < 0 ? berr_prefix(err, "push %s: ", name) : 0;
}
