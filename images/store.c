#include "store.h"

#include <time.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "../lib/fs.h"
#include "../lib/sha256.h"
#include "ref.h"

#define MAX_JSON (64u << 20)

int store_open(const char *root, bool lock, struct store **out, struct berr **err)
{
	struct store *s = xcalloc(1, sizeof(*s));
	s->dir = path_join(root, "images");
	s->lock_fd = -1;
	static const char *const subdirs[] = {"blobs/sha256", "layers", "meta", "tmp"};
	int r = 0;
	for (size_t i = 0; i < ARRAY_SIZE(subdirs) && r == 0; i++) {
		_cleanup_free_ char *d = path_join(s->dir, subdirs[i]);
		r = fs_mkdir_p(d, 0700, err);
	}
	if (r == 0 && lock) {
		_cleanup_free_ char *l = path_join(s->dir, "lock");
		r = fs_lock(l, &s->lock_fd, err);
	}
	if (r < 0) {
		store_close(s);
		return r;
	}
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->dir);
	free(s);
}

void store_closep(struct store **s)
{
	store_close(*s);
	*s = NULL;
}

struct blob_writer {
	struct store *s;
	int fd;
	char *tmp;
	struct sha256 md;
	uint64_t size;
};

int blob_writer_open(struct store *s, struct blob_writer **out, struct berr **err)
{
	struct blob_writer *w = xcalloc(1, sizeof(*w));
	w->s = s;
	w->tmp = xasprintf("%s/tmp/blob-XXXXXX", s->dir);
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0) {
		int e = errno;
		free(w->tmp);
		free(w);
		return berr_sys(err, e, "cannot create a temporary file in %s/tmp", s->dir);
	}
	sha256_begin(&w->md);
	*out = w;
	return 0;
}

int blob_writer_write(struct blob_writer *w, const void *data, size_t len, struct berr **err)
{
	sha256_add(&w->md, data, len);
	w->size += len;
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(w->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berr_sys(err, errno, "cannot write %s", w->tmp);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void blob_writer_abort(struct blob_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	unlink(w->tmp);
	free(w->tmp);
	free(w);
}

int blob_writer_commit(struct blob_writer *w, const char *expect, char digest[72], uint64_t *size, bool *existed,
		       struct berr **err)
{
	strcpy(digest, "sha256:");
	sha256_hex(&w->md, digest + 7);
	if (expect && !streq(expect, digest)) {
		int r = berr_set(err, EBADMSG, "content does not match its digest: expected %s, got %s", expect,
				 digest);
		blob_writer_abort(w);
		return r;
	}
	if (size)
		*size = w->size;
	_cleanup_free_ char *final = store_blob_path(w->s, digest);
	bool had = fs_exists(final);
	if (existed)
		*existed = had;
	int r = 0;
	if (!had && (fsync(w->fd) < 0 || rename(w->tmp, final) < 0))
		r = berr_sys(err, errno, "cannot store blob %s", digest);
	blob_writer_abort(w); /* closes; the temporary name is gone after rename */
	return r;
}

char *store_blob_path(const struct store *s, const char *digest)
{
	return xasprintf("%s/blobs/sha256/%s", s->dir, digest + 7);
}

bool store_has_blob(const struct store *s, const char *digest)
{
	if (!digest_valid(digest))
		return false;
	_cleanup_free_ char *p = store_blob_path(s, digest);
	return fs_exists(p);
}

int store_read_blob(const struct store *s, const char *digest, size_t max, char **data, size_t *len, struct berr **err)
{
	if (!digest_valid(digest))
		return berr_set(err, EINVAL, "invalid digest \"%s\"", digest);
	_cleanup_free_ char *p = store_blob_path(s, digest);
	return fs_read_file(p, max, data, len, err);
}

void store_remove_blob(const struct store *s, const char *digest)
{
	if (!digest_valid(digest))
		return;
	_cleanup_free_ char *p = store_blob_path(s, digest);
	unlink(p);
}

char *store_layer_path(const struct store *s, const char *diff_id)
{
	return xasprintf("%s/layers/%s", s->dir, diff_id + 7);
}

static int write_json(const char *path, json_t *j, struct berr **err)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return berr_set(err, ENOMEM, "cannot encode %s", path);
	int r = fs_write_atomic(path, text, strlen(text), 0600, err);
	free(text);
	return r;
}

static int read_json(const char *path, json_t **out, struct berr **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = fs_read_file(path, MAX_JSON, &text, &len, err);
	if (r < 0)
		return r;
	json_error_t je;
	*out = json_loadb(text, len, 0, &je);
	if (!*out)
		return berr_set(err, EINVAL, "%s is damaged: %s", path, je.text);
	return 0;
}

static char *meta_path(const struct store *s, const char *id) { return xasprintf("%s/meta/%s.json", s->dir, id + 7); }

int store_put_image(struct store *s, const char *id, json_t *record, struct berr **err)
{
	_cleanup_free_ char *p = meta_path(s, id);
	return write_json(p, record, err);
}

int store_get_image(const struct store *s, const char *id, json_t **record, struct berr **err)
{
	_cleanup_free_ char *p = meta_path(s, id);
	if (!fs_exists(p))
		return berr_set(err, ENOENT, "no such image: %s", id);
	return read_json(p, record, err);
}

int store_remove_image(struct store *s, const char *id, struct berr **err)
{
	_cleanup_free_ char *p = meta_path(s, id);
	if (unlink(p) < 0 && errno != ENOENT)
		return berr_sys(err, errno, "cannot remove %s", p);
	return 0;
}

char **store_list_images(const struct store *s)
{
	char **ids = xcalloc(1, sizeof(char *));
	_cleanup_free_ char *d = path_join(s->dir, "meta");
	_cleanup_(closedirp) DIR *dir = opendir(d);
	if (!dir)
		return ids;
	for (struct dirent *e; (e = readdir(dir));) {
		size_t n = strlen(e->d_name);
		if (n == 64 + 5 && endswith(e->d_name, ".json"))
			strv_push(&ids, xasprintf("sha256:%.64s", e->d_name));
	}
	return ids;
}

int store_tags(const struct store *s, json_t **tags, struct berr **err)
{
	_cleanup_free_ char *p = path_join(s->dir, "tags.json");
	if (!fs_exists(p)) {
		*tags = json_object();
		return 0;
	}
	return read_json(p, tags, err);
}

int store_set_tag(struct store *s, const char *ref, const char *id, struct berr **err)
{
	json_t *tags;
	int r = store_tags(s, &tags, err);
	if (r < 0)
		return r;
	json_object_set_new(tags, ref, json_string(id));
	_cleanup_free_ char *p = path_join(s->dir, "tags.json");
	r = write_json(p, tags, err);
	json_decref(tags);
	return r;
}

int store_remove_tag(struct store *s, const char *ref, struct berr **err)
{
	json_t *tags;
	int r = store_tags(s, &tags, err);
	if (r < 0)
		return r;
	json_object_del(tags, ref);
	_cleanup_free_ char *p = path_join(s->dir, "tags.json");
	r = write_json(p, tags, err);
	json_decref(tags);
	return r;
}

/* A unique image id starting with prefix (with or without "sha256:"). */
static int resolve_prefix(const struct store *s, const char *what, char **id)
{
	const char *hex = startswith(what, "sha256:") ? what + 7 : what;
	size_t n = strlen(hex);
	if (n < 4 || n > 64 || strspn(hex, "0123456789abcdef") != n)
		return -ENOENT;
	char **ids = store_list_images(s);
	char *found = NULL;
	int r = -ENOENT;
	for (size_t i = 0; ids[i]; i++) {
		if (strncmp(ids[i] + 7, hex, n) != 0)
			continue;
		if (found) {
			r = -EEXIST;
			break;
		}
		found = ids[i];
		r = 0;
	}
	if (r == 0)
		*id = xstrdup(found);
	strv_free(ids);
	return r;
}

int store_resolve(const struct store *s, const char *what, char **id, struct berr **err)
{
	int r = resolve_prefix(s, what, id);
	if (r == 0)
		return 0;
	if (r == -EEXIST)
		return berr_set(err, EEXIST, "image id prefix %s matches several images; give more of it", what);
	struct image_ref ref;
	struct berr *perr = NULL;
	if (ref_parse(what, &ref, &perr) < 0) {
		berr_free(perr);
		return berr_set(err, ENOENT, "no such image: %s", what);
	}
	_cleanup_free_ char *full = ref_string(&ref);
	ref_free(&ref);
	json_t *tags;
	r = store_tags(s, &tags, err);
	if (r < 0)
		return r;
	const char *v = json_string_value(json_object_get(tags, full));
	if (v)
		*id = xstrdup(v);
	json_decref(tags);
	if (!v)
		return berr_set(
			err, ENOENT,
			"no such image: %s (pull it with: berth image pull, or load it with: berth image load -i "
			"FILE)",
			what);
	return 0;
}

char *store_timestamp(void)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	char buf[32];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}
