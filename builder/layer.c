#include "layer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../images/archive_dl.h"
#include "../lib/buf.h"
#include "../lib/fs.h"
#include "../lib/sha256.h"
#include "../lib/util.h"

#define OPAQUE_XATTR "trusted.overlay.opaque"

static bool is_whiteout(const struct stat *st) { return S_ISCHR(st->st_mode) && st->st_rdev == 0; }

static bool is_opaque(const char *path)
{
	char v[2];
	return lgetxattr(path, OPAQUE_XATTR, v, sizeof(v)) == 1 && v[0] == 'y';
}

int blayer_lstat(char *const *layers, const char *path, struct stat *st)
{
	for (size_t l = 0; layers && layers[l]; l++) {
		struct buf cur = {0};
		buf_puts(&cur, layers[l]);
		bool opaque = false, found = false, hidden = false;
		_cleanup_free_ char *copy = xstrdup(path);
		char *save = NULL;
		for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
			buf_printf(&cur, "/%s", c);
			bool last = save == NULL || *save == '\0';
			if (lstat(cur.s, st) < 0)
				break;
			if (is_whiteout(st) || (!last && !S_ISDIR(st->st_mode))) {
				hidden = true;
				break;
			}
			if (last) {
				found = true;
				break;
			}
			opaque |= is_opaque(cur.s);
		}
		buf_free(&cur);
		if (found)
			return 0;
		if (hidden || opaque)
			return -ENOENT;
	}
	return -ENOENT;
}

/* Layer l's part in path: 1 it has path (a directory, *opaque when it hides
 * what is below; or a file, *file), 0 it has none, -1 it hides path. */
static int layer_part(const char *l, const char *path, bool *opaque, bool *file)
{
	struct buf cur = {0};
	buf_puts(&cur, l);
	_cleanup_free_ char *copy = xstrdup(path);
	char *save = NULL;
	int r = 1;
	*opaque = *file = false;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		buf_printf(&cur, "/%s", c);
		bool last = !save || !*save;
		struct stat st;
		if (lstat(cur.s, &st) < 0) {
			r = *opaque ? -1 : 0; /* an opaque directory above it hides the layers below */
			break;
		}
		if (is_whiteout(&st) || (!last && !S_ISDIR(st.st_mode))) {
			r = -1;
			break;
		}
		*opaque |= S_ISDIR(st.st_mode) && is_opaque(cur.s);
		*file = last && !S_ISDIR(st.st_mode);
	}
	buf_free(&cur);
	return r;
}

int blayer_subdirs(char *const *layers, const char *path, char ***out, bool *file)
{
	*out = xcalloc(1, sizeof(char *));
	*file = false;
	_cleanup_free_ char *rel = path_clean(path[0] == '/' ? path + 1 : path);
	bool root = !rel[0] || streq(rel, ".");
	for (size_t l = 0; layers && layers[l]; l++) {
		bool opaque = false, is_file = false;
		int part = root ? 1 : layer_part(layers[l], rel, &opaque, &is_file);
		if (part < 0)
			break;
		if (part == 0)
			continue;
		if (is_file && (*out)[0])
			break; /* a directory above hides it */
		strv_push(out, root ? xstrdup(layers[l]) : xasprintf("%s/%s", layers[l], rel));
		if (is_file) {
			*file = true;
			break;
		}
		if (opaque)
			break;
	}
	return (*out)[0] ? 0 : -ENOENT;
}

static bool dir_empty(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd >= 0 && fs_dir_empty(fd);
}

/* A directory of upper that holds nothing and says nothing new: made for a
 * stub, or copied up only because a stub was made in it. */
static bool dir_unchanged(const char *full, const char *rel, char *const *layers)
{
	struct stat st, was;
	if (lstat(full, &st) < 0 || !S_ISDIR(st.st_mode) || !dir_empty(full) || is_opaque(full))
		return false;
	if (blayer_lstat(layers, rel, &was) < 0)
		return true;
	return S_ISDIR(was.st_mode) && was.st_mode == st.st_mode && was.st_uid == st.st_uid && was.st_gid == st.st_gid;
}

void blayer_drop_stubs(const char *upper, char *const *layers, char *const *stubs)
{
	for (size_t i = 0; stubs && stubs[i]; i++) {
		_cleanup_free_ char *rel = path_clean(stubs[i][0] == '/' ? stubs[i] + 1 : stubs[i]);
		if (!rel[0] || streq(rel, "."))
			continue;
		_cleanup_free_ char *full = path_join(upper, rel);
		struct stat st, was;
		if (lstat(full, &st) < 0 || blayer_lstat(layers, rel, &was) == 0)
			continue;
		if (S_ISREG(st.st_mode) && st.st_size == 0)
			unlink(full);
		else if (S_ISDIR(st.st_mode) && dir_empty(full))
			rmdir(full);
		else
			continue;
		for (char *slash; (slash = strrchr(rel, '/'));) {
			*slash = '\0';
			_cleanup_free_ char *dir = path_join(upper, rel);
			if (!dir_unchanged(dir, rel, layers) || rmdir(dir) < 0)
				break;
		}
	}
}

/* The tar goes through a sha256 (the diff_id) into a second archive that
 * only gzips (raw format), which writes into the store's blob. */
struct sink {
	struct sha256 tar;
	uint64_t tar_bytes;
	struct archive *gz;
	struct blob_writer *w;
	struct berr **err;
};

static la_ssize_t tar_out(struct archive *a, void *data, const void *buf, size_t n)
{
	(void)a;
	struct sink *k = data;
	sha256_add(&k->tar, buf, n);
	k->tar_bytes += n;
	return archive_write_data(k->gz, buf, n) < 0 ? -1 : (la_ssize_t)n;
}

static la_ssize_t gz_out(struct archive *a, void *data, const void *buf, size_t n)
{
	(void)a;
	struct sink *k = data;
	return blob_writer_write(k->w, buf, n, k->err) < 0 ? -1 : (la_ssize_t)n;
}

struct link_seen {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct walk {
	struct archive *tar;
	struct archive_entry *e;
	struct link_seen *links;
	size_t nlinks;
	size_t entries;
	struct berr **err;
};

static int tar_fail(struct walk *w, const char *what)
{
	return berr_set(w->err, EIO, "cannot write the layer (%s): %s", what, archive_error_string(w->tar));
}

static int add_simple(struct walk *w, const char *name, mode_t type, const struct stat *st)
{
	archive_entry_clear(w->e);
	archive_entry_set_pathname(w->e, name);
	archive_entry_set_filetype(w->e, type);
	archive_entry_set_perm(w->e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_mtime(w->e, st ? st->st_mtime : 0, 0);
	archive_entry_set_size(w->e, 0);
	w->entries++;
	return archive_write_header(w->tar, w->e) < 0 ? tar_fail(w, name) : 0;
}

static void add_xattrs(struct walk *w, const char *full)
{
	char names[4096];
	ssize_t n = llistxattr(full, names, sizeof(names));
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) {
		const char *x = names + i;
		if (startswith(x, "trusted.overlay.") || startswith(x, "security.selinux"))
			continue;
		char value[4096];
		ssize_t len = lgetxattr(full, x, value, sizeof(value));
		if (len >= 0)
			archive_entry_xattr_add_entry(w->e, x, value, (size_t)len);
	}
}

static int add_data(struct walk *w, const char *full)
{
	_cleanup_close_ int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return berr_sys(w->err, errno, "cannot read %s", full);
	char buf[65536];
	for (ssize_t n; (n = read(fd, buf, sizeof(buf))) != 0;) {
		if (n < 0)
			return berr_sys(w->err, errno, "cannot read %s", full);
		if (archive_write_data(w->tar, buf, (size_t)n) < 0)
			return tar_fail(w, full);
	}
	return 0;
}

/* A hard link to a file written before, or NULL (and it is remembered). */
static const char *link_target(struct walk *w, const struct stat *st, const char *name)
{
	if (st->st_nlink < 2)
		return NULL;
	for (size_t i = 0; i < w->nlinks; i++)
		if (w->links[i].dev == st->st_dev && w->links[i].ino == st->st_ino)
			return w->links[i].path;
	w->links = xrealloc(w->links, (w->nlinks + 1) * sizeof(*w->links));
	w->links[w->nlinks++] = (struct link_seen){st->st_dev, st->st_ino, xstrdup(name)};
	return NULL;
}

static int add_node(struct walk *w, const char *full, const char *name, const struct stat *st)
{
	archive_entry_clear(w->e);
	archive_entry_set_pathname(w->e, name);
	archive_entry_set_mode(w->e, st->st_mode);
	archive_entry_set_uid(w->e, st->st_uid);
	archive_entry_set_gid(w->e, st->st_gid);
	archive_entry_set_mtime(w->e, st->st_mtime, 0);
	archive_entry_set_size(w->e, 0);
	const char *hard = S_ISREG(st->st_mode) ? link_target(w, st, name) : NULL;
	if (hard) {
		archive_entry_set_hardlink(w->e, hard);
	} else if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(full, target, sizeof(target) - 1);
		if (n < 0)
			return berr_sys(w->err, errno, "cannot read the link %s", full);
		target[n] = '\0';
		archive_entry_set_symlink(w->e, target);
	} else if (S_ISREG(st->st_mode)) {
		archive_entry_set_size(w->e, st->st_size);
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		archive_entry_set_rdevmajor(w->e, major(st->st_rdev));
		archive_entry_set_rdevminor(w->e, minor(st->st_rdev));
	} else if (!S_ISDIR(st->st_mode) && !S_ISFIFO(st->st_mode)) {
		return 0; /* sockets are not kept, as Docker does not keep them */
	}
	add_xattrs(w, full);
	w->entries++;
	if (archive_write_header(w->tar, w->e) < 0)
		return tar_fail(w, name);
	return S_ISREG(st->st_mode) && !hard ? add_data(w, full) : 0;
}

/* Names in dir, sorted, so that the same changes give the same tar. */
static char **dir_names(const char *dir, struct berr **err)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char **names = fd >= 0 ? fs_dir_names(fd) : NULL;
	if (!names)
		berr_sys(err, errno, "cannot read %s", dir);
	return names;
}

static int walk_dir(struct walk *w, const char *dir, const char *prefix)
{
	_cleanup_(strv_freep) char **names = dir_names(dir, w->err);
	if (!names)
		return -EIO;
	int r = 0;
	for (size_t i = 0; r == 0 && names[i]; i++) {
		_cleanup_free_ char *full = xasprintf("%s/%s", dir, names[i]);
		_cleanup_free_ char *name = xasprintf("%s%s", prefix, names[i]);
		struct stat st;
		if (lstat(full, &st) < 0)
			return berr_sys(w->err, errno, "cannot read %s", full);
		if (is_whiteout(&st)) {
			_cleanup_free_ char *wh = xasprintf("%s.wh.%s", prefix, names[i]);
			r = add_simple(w, wh, AE_IFREG, &st);
			continue;
		}
		r = add_node(w, full, name, &st);
		if (r == 0 && S_ISDIR(st.st_mode)) {
			_cleanup_free_ char *sub = xasprintf("%s/", name);
			if (is_opaque(full)) {
				_cleanup_free_ char *opq = xasprintf("%s.wh..wh..opq", sub);
				r = add_simple(w, opq, AE_IFREG, &st);
			}
			if (r == 0)
				r = walk_dir(w, full, sub);
		}
	}
	return r;
}

static struct archive *gzip_writer(struct sink *k)
{
	struct archive *gz = archive_write_new();
	archive_write_add_filter_gzip(gz);
	archive_write_set_format_raw(gz);
	archive_write_set_options(gz, "gzip:compression-level=1,gzip:!timestamp");
	archive_write_set_bytes_per_block(gz, 0);
	if (archive_write_open(gz, k, NULL, gz_out, NULL) < 0)
		return gz;
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "layer");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_write_header(gz, e);
	archive_entry_free(e);
	return gz;
}

/* upper as a tar, gzipped into a new blob of the store. */
static int write_blob(struct store *st, const char *upper, struct blayer *out, size_t *entries, struct berr **err)
{
	struct sink k = {.err = err};
	sha256_begin(&k.tar);
	int r = blob_writer_open(st, &k.w, err);
	if (r < 0)
		return r;
	k.gz = gzip_writer(&k);
	struct walk w = {.tar = archive_write_new(), .e = archive_entry_new(), .err = err};
	archive_write_set_format_pax_restricted(w.tar);
	archive_write_set_bytes_in_last_block(w.tar, 1);
	if (archive_write_open(w.tar, &k, NULL, tar_out, NULL) < 0)
		r = tar_fail(&w, "open");
	if (r == 0)
		r = walk_dir(&w, upper, "");
	if (r == 0 && archive_write_close(w.tar) < 0)
		r = tar_fail(&w, "close");
	if (r == 0 && archive_write_close(k.gz) < 0)
		r = berr_set(err, EIO, "cannot compress the layer: %s", archive_error_string(k.gz));
	archive_entry_free(w.e);
	archive_write_free(w.tar);
	archive_write_free(k.gz);
	for (size_t i = 0; i < w.nlinks; i++)
		free(w.links[i].path);
	free(w.links);
	if (r < 0 || w.entries == 0) {
		blob_writer_abort(k.w);
		*entries = w.entries;
		return r;
	}
	char hex[65];
	sha256_hex(&k.tar, hex);
	snprintf(out->diff_id, sizeof(out->diff_id), "sha256:%s", hex);
	*entries = w.entries;
	r = blob_writer_commit(k.w, NULL, out->digest, &out->size, NULL, err);
	if (r == 0) {
		_cleanup_free_ char *dest = store_layer_path(st, out->diff_id);
		_cleanup_free_ char *size_file = xasprintf("%s.size", dest);
		char text[32];
		int n = snprintf(text, sizeof(text), "%llu\n", (unsigned long long)k.tar_bytes);
		fs_write_atomic(size_file, text, (size_t)n, 0600, NULL);
	}
	return r;
}

int blayer_commit(struct store *st, const char *upper, struct blayer *out, bool *empty, struct berr **err)
{
	*out = (struct blayer){0};
	int r = archive_dl_load(err);
	size_t entries = 0;
	if (r == 0)
		r = write_blob(st, upper, out, &entries, err);
	*empty = r == 0 && entries == 0;
	if (r < 0 || *empty)
		return fs_remove_tree(upper, NULL), r;
	_cleanup_free_ char *dest = store_layer_path(st, out->diff_id);
	if (chmod(upper, 0755) < 0 || (rename(upper, dest) < 0 && errno != EEXIST && errno != ENOTEMPTY))
		r = berr_sys(err, errno, "cannot move the layer to %s", dest);
	if (fs_exists(upper))
		fs_remove_tree(upper, NULL); /* the same changes were a layer already */
	return r;
}

uint64_t blayer_size(struct store *st, json_t *layers)
{
	uint64_t size = 0;
	size_t i;
	json_t *l;
	json_array_foreach(layers, i, l)
	{
		_cleanup_free_ char *dir = store_layer_path(st, json_string_value(json_object_get(l, "diff_id")));
		_cleanup_free_ char *sf = xasprintf("%s.size", dir), *t = NULL;
		size_t len;
		if (fs_read_file(sf, 64, &t, &len, NULL) == 0)
			size += strtoull(t, NULL, 10);
	}
	return size;
}
