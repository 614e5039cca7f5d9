#include "unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "../lib/fs.h"
#include "archive_dl.h"
#include "../lib/sha256.h"

#define WHITEOUT ".wh."
#define OPAQUE ".wh..wh..opq"

/* No ARCHIVE_EXTRACT_UNLINK: with it, SECURE_SYMLINKS quietly replaces a
 * symlink in the way by a directory instead of refusing the layer. */
static const int disk_flags = ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
			      ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
			      ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;

struct unpack {
	int root; /* the temporary directory */
	struct archive *in, *out;
	const char *blob;
	uint64_t bytes;
	struct berr **err;
};

/* "./a/b/" -> "a/b"; NULL for an absolute path or one with a ".." part. */
static char *clean_member(const char *name)
{
	if (name[0] == '/')
		return NULL;
	while (startswith(name, "./"))
		name += 2;
	_cleanup_free_ char *copy = xstrdup(name);
	size_t n = strlen(copy);
	while (n > 0 && copy[n - 1] == '/')
		copy[--n] = '\0';
	char *save = NULL;
	_cleanup_free_ char *walk = xstrdup(copy);
	for (char *t = strtok_r(walk, "/", &save); t; t = strtok_r(NULL, "/", &save))
		if (streq(t, ".."))
			return NULL;
	return steal_ptr(&copy);
}

static int fail(struct unpack *u, const char *member, const char *why)
{
	return berr_set(u->err, EPERM, "layer %s: member \"%s\" %s; the layer is refused", u->blob, member, why);
}

static int open_beneath(int root, const char *path, int flags)
{
	struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	return (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
}

/* The directory that holds path's last part, created (0755) when missing. */
static int parent_dir(struct unpack *u, const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	if (!slash)
		return fcntl(u->root, F_DUPFD_CLOEXEC, 0);
	_cleanup_free_ char *dir = xstrndup(path, (size_t)(slash - path));
	int fd = open_beneath(u->root, dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	/* create each missing component, never following a symlink */
	char *save = NULL;
	int cur = fcntl(u->root, F_DUPFD_CLOEXEC, 0);
	for (char *t = strtok_r(dir, "/", &save); t && cur >= 0; t = strtok_r(NULL, "/", &save)) {
		if (mkdirat(cur, t, 0755) < 0 && errno != EEXIST) {
			close(cur);
			return -1;
		}
		int next = openat(cur, t, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(cur);
		cur = next;
	}
	return cur;
}

/* ".wh.NAME" hides NAME of lower layers: a 0/0 character device, as overlayfs wants. */
static int whiteout(struct unpack *u, const char *path)
{
	const char *base;
	_cleanup_close_ int dir = parent_dir(u, path, &base);
	if (dir < 0)
		return fail(u, path, "has a parent that is not a plain directory");
	if (streq(base, OPAQUE)) {
		if (fsetxattr(dir, "trusted.overlay.opaque", "y", 1, 0) < 0)
			return berr_sys(u->err, errno, "layer %s: cannot mark %s opaque", u->blob, path);
		return 0;
	}
	const char *name = base + strlen(WHITEOUT);
	if (!name[0] || streq(name, ".") || streq(name, ".."))
		return fail(u, path, "is not a valid whiteout");
	unlinkat(dir, name, 0);
	if (mknodat(dir, name, S_IFCHR | 0, makedev(0, 0)) < 0)
		return berr_sys(u->err, errno, "layer %s: cannot create whiteout for %s", u->blob, path);
	return 0;
}

static int copy_data(struct unpack *u, const char *path)
{
	const void *buf;
	size_t size;
	la_int64_t offset;
	for (;;) {
		int r = archive_read_data_block(u->in, &buf, &size, &offset);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return berr_set(u->err, EIO, "layer %s: cannot read %s: %s", u->blob, path,
					archive_error_string(u->in));
		if (archive_write_data_block(u->out, buf, size, offset) < ARCHIVE_WARN)
			return berr_set(u->err, EIO, "layer %s: cannot write %s: %s", u->blob, path,
					archive_error_string(u->out));
		u->bytes += size;
	}
}

static int check_entry(struct unpack *u, struct archive_entry *e, const char *path)
{
	mode_t type = archive_entry_filetype(e);
	if (type == AE_IFCHR || type == AE_IFBLK)
		return fail(u, path, "is a device node, which layers may not carry");
	if (type == AE_IFSOCK)
		return fail(u, path, "is a socket");
	const char *link = archive_entry_hardlink(e);
	if (link) {
		_cleanup_free_ char *target = clean_member(link);
		if (!target || !target[0])
			return fail(u, path, "is a hard link that points outside the layer");
		archive_entry_set_hardlink(e, target);
	}
	return 0;
}

/* A layer's trusted.* xattrs (trusted.overlay.redirect, .metacopy,
 * .origin, .opaque…) would steer the overlay a container's root is made
 * of, and user.overlay.* would where overlays take user xattrs: none is
 * kept. berth sets the one it interprets, opaque, from the layer's own
 * whiteout (.wh..wh..opq). Others (security.capability…) stay. */
static bool overlay_xattr(const char *name)
{
	return startswith(name, "trusted.") || startswith(name, "user.overlay.");
}

static void drop_overlay_xattrs(struct archive_entry *e)
{
	const char *name;
	const void *value;
	size_t size;
	bool any = false;
	archive_entry_xattr_reset(e);
	while (!any && archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
		any = overlay_xattr(name);
	if (!any)
		return;
	struct kept {
		char *name;
		void *value;
		size_t size;
	} *kept = NULL;
	size_t n = 0;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (overlay_xattr(name))
			continue;
		kept = xrealloc(kept, (n + 1) * sizeof(*kept));
		kept[n].name = xstrdup(name);
		kept[n].value = xmalloc(size + 1);
		memcpy(kept[n].value, value, size);
		kept[n++].size = size;
	}
	archive_entry_xattr_clear(e);
	for (size_t i = 0; i < n; i++) {
		archive_entry_xattr_add_entry(e, kept[i].name, kept[i].value, kept[i].size);
		free(kept[i].name);
		free(kept[i].value);
	}
	free(kept);
}

static int one_entry(struct unpack *u, struct archive_entry *e)
{
	const char *raw = archive_entry_pathname(e);
	_cleanup_free_ char *path = clean_member(raw ? raw : "");
	if (!path)
		return fail(u, raw ? raw : "", "has an absolute path or a \"..\" part");
	if (!path[0])
		return 0; /* the layer's root directory itself */
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (startswith(base, WHITEOUT))
		return whiteout(u, path);
	int r = check_entry(u, e, path);
	if (r < 0)
		return r;
	archive_entry_set_pathname(e, path);
	drop_overlay_xattrs(e);
	if (archive_write_header(u->out, e) < ARCHIVE_WARN)
		return berr_set(u->err, EPERM, "layer %s: cannot unpack \"%s\": %s; the layer is refused", u->blob,
				path, archive_error_string(u->out));
	if (archive_entry_size(e) > 0 && (r = copy_data(u, path)) < 0)
		return r;
	if (archive_write_finish_entry(u->out) < ARCHIVE_WARN)
		return berr_set(u->err, EIO, "layer %s: cannot finish \"%s\": %s", u->blob, path,
				archive_error_string(u->out));
	return 0;
}

static int unpack_all(struct unpack *u)
{
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(u->in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return berr_set(u->err, EIO, "layer %s is not a valid tar archive: %s", u->blob,
					archive_error_string(u->in));
		r = one_entry(u, e);
		if (r < 0)
			return r;
	}
	if (archive_write_close(u->out) < ARCHIVE_WARN)
		return berr_set(u->err, EIO, "layer %s: %s", u->blob, archive_error_string(u->out));
	return 0;
}

static struct archive *open_reader(const char *path, bool raw)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	if (raw)
		archive_read_support_format_raw(a);
	else
		archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* Extraction runs with the temporary directory as working directory: that
 * is what libarchive's SECURE_* checks are relative to. Takes in. */
static int extract(struct unpack *u, struct archive *in, int saved_cwd)
{
	u->in = in;
	u->out = archive_write_disk_new();
	archive_write_disk_set_options(u->out, disk_flags);
	int r = fchdir(u->root) < 0 ? berr_sys(u->err, errno, "cannot enter the unpack directory") : unpack_all(u);
	if (fchdir(saved_cwd) < 0 && r == 0)
		r = berr_sys(u->err, errno, "cannot return to the working directory");
	archive_write_free(u->out);
	archive_read_free(u->in);
	return r;
}

/* A fresh temporary directory under tmp_parent, unpacked into by fill. */
static int unpack_to_tmp(const char *tmp_parent, const char *name, int (*fill)(struct unpack *, int, void *),
			 void *data, char **tmp_out, uint64_t *bytes, struct berr **err)
{
	if (archive_dl_load(err) < 0)
		return -EIO;
	char *tmp = xasprintf("%s/layer-XXXXXX", tmp_parent);
	if (!mkdtemp(tmp)) {
		int e = errno;
		free(tmp);
		return berr_sys(err, e, "cannot create a directory in %s", tmp_parent);
	}
	struct unpack u = {.blob = name, .err = err};
	_cleanup_close_ int saved = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	u.root = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = saved < 0 || u.root < 0 ? berr_sys(err, errno, "cannot open %s", tmp) : fill(&u, saved, data);
	if (u.root >= 0)
		close(u.root);
	if (r == 0 && chmod(tmp, 0755) < 0)
		r = berr_sys(err, errno, "cannot set the mode of %s", tmp);
	if (r < 0) {
		fs_remove_tree(tmp, NULL);
		free(tmp);
		return r;
	}
	if (bytes)
		*bytes = u.bytes;
	*tmp_out = tmp;
	return 0;
}

int layer_commit(char *tmp, const char *dest, struct berr **err)
{
	int r = 0;
	if (rename(tmp, dest) < 0 && errno != EEXIST && errno != ENOTEMPTY)
		r = berr_sys(err, errno, "cannot move the unpacked layer to %s", dest);
	layer_discard(tmp); /* failed, or another berth got there first */
	return r;
}

void layer_discard(char *tmp)
{
	if (tmp && fs_exists(tmp))
		fs_remove_tree(tmp, NULL);
	free(tmp);
}

static int fill_from_file(struct unpack *u, int saved, void *data)
{
	const char *blob_path = data;
	struct archive *in = open_reader(blob_path, false);
	if (!in)
		return berr_set(u->err, EIO, "cannot open layer %s", blob_path);
	return extract(u, in, saved);
}

int layer_unpack(const char *blob_path, const char *dest, const char *tmp_parent, uint64_t *bytes, struct berr **err)
{
	char *tmp = NULL;
	int r = unpack_to_tmp(tmp_parent, path_basename(blob_path), fill_from_file, (void *)blob_path, &tmp, bytes,
			      err);
	return r < 0 ? r : layer_commit(tmp, dest, err);
}

/* ---- a layer as it arrives ---- */

/* Two readers in a chain: raw decompresses the source (any filter, or
 * none), tar reads what raw gives; each side's bytes are digested. */
struct chain {
	layer_read_fn read;
	void *ctx;
	struct berr **err;
	bool failed; /* the source failed: its error is in *err */
	struct sha256 blob, plain;
	uint64_t plain_bytes;
	struct archive *raw;
	char in[1 << 16], out[1 << 16];
};

static la_ssize_t from_source(struct archive *a, void *data, const void **buf)
{
	struct chain *c = data;
	ssize_t n = c->read(c->ctx, c->in, sizeof(c->in), c->err);
	if (n < 0) {
		c->failed = true;
		return ARCHIVE_FATAL;
	}
	sha256_add(&c->blob, c->in, (size_t)n);
	*buf = c->in;
	return n;
}

static la_ssize_t from_raw(struct archive *a, void *data, const void **buf)
{
	struct chain *c = data;
	la_ssize_t n = archive_read_data(c->raw, c->out, sizeof(c->out));
	if (n > 0) {
		sha256_add(&c->plain, c->out, (size_t)n);
		c->plain_bytes += (uint64_t)n;
	}
	*buf = c->out;
	return n < 0 ? ARCHIVE_FATAL : n;
}

static int fill_from_chain(struct unpack *u, int saved, void *data)
{
	struct chain *c = data;
	c->raw = archive_read_new();
	archive_read_support_filter_all(c->raw);
	archive_read_support_format_raw(c->raw);
	struct archive_entry *e;
	if (archive_read_open(c->raw, c, NULL, from_source, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(c->raw, &e) != ARCHIVE_OK)
		return c->failed ? -EIO
				 : berr_set(u->err, EIO, "layer %s cannot be read: %s", u->blob,
					    archive_error_string(c->raw));
	struct archive *tar = archive_read_new();
	archive_read_support_format_tar(tar);
	if (archive_read_open(tar, c, NULL, from_raw, NULL) != ARCHIVE_OK) {
		int r = c->failed ? -EIO
				  : berr_set(u->err, EIO, "layer %s is not a tar archive: %s", u->blob,
					     archive_error_string(tar));
		archive_read_free(tar);
		return r;
	}
	int r = extract(u, tar, saved);
	if (c->failed)
		return -EIO; /* the source's error, not what the readers made of it */
	/* the rest of both streams (tar's padding, what follows the compressed
	 * data), so that both digests cover every byte */
	while (r == 0) {
		la_ssize_t n = archive_read_data(c->raw, c->out, sizeof(c->out));
		if (n < 0)
			r = c->failed ? -EIO
				      : berr_set(u->err, EIO, "layer %s: %s", u->blob, archive_error_string(c->raw));
		if (n <= 0)
			break;
		sha256_add(&c->plain, c->out, (size_t)n);
		c->plain_bytes += (uint64_t)n;
	}
	while (r == 0) {
		ssize_t n = c->read(c->ctx, c->in, sizeof(c->in), u->err);
		if (n < 0)
			r = -EIO;
		if (n <= 0)
			break;
		sha256_add(&c->blob, c->in, (size_t)n);
	}
	return r;
}

int layer_unpack_stream(layer_read_fn read, void *ctx, const char *name, const char *tmp_parent, char **tmp,
			uint64_t *bytes, char digest[72], char diff_id[72], struct berr **err)
{
	struct chain *c = xcalloc(1, sizeof(*c));
	*c = (struct chain){.read = read, .ctx = ctx, .err = err};
	sha256_begin(&c->blob);
	sha256_begin(&c->plain);
	int r = unpack_to_tmp(tmp_parent, name, fill_from_chain, c, tmp, bytes, err);
	if (c->raw)
		archive_read_free(c->raw);
	strcpy(digest, "sha256:");
	sha256_hex(&c->blob, digest + 7);
	strcpy(diff_id, "sha256:");
	sha256_hex(&c->plain, diff_id + 7);
	free(c);
	return r;
}

int layer_diff_id(const char *blob_path, char digest[72], struct berr **err)
{
	if (archive_dl_load(err) < 0)
		return -EIO;
	struct archive *a = open_reader(blob_path, true);
	struct archive_entry *e;
	if (!a || archive_read_next_header(a, &e) != ARCHIVE_OK) {
		if (a)
			archive_read_free(a);
		return berr_set(err, EIO, "cannot read layer %s", blob_path);
	}
	struct sha256 md;
	sha256_begin(&md);
	char buf[1 << 16];
	la_ssize_t n;
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
		sha256_add(&md, buf, (size_t)n);
	int r = n < 0 ? berr_set(err, EIO, "cannot decompress layer %s: %s", blob_path, archive_error_string(a)) : 0;
	archive_read_free(a);
	strcpy(digest, "sha256:");
	sha256_hex(&md, digest + 7);
	return r;
}
