#include "user.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../lib/fs.h"
#include "overlay.h"

static bool whiteout(const struct stat *st) { return S_ISCHR(st->st_mode) && st->st_rdev == 0; }

/* Does layer's directory dir (relative, "etc") end the lookup of what is
 * below it: deleted (a whiteout), not a directory, or opaque? */
static bool hides_below(int layer, const char *dir)
{
	struct stat st;
	if (fstatat(layer, dir, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	if (!S_ISDIR(st.st_mode))
		return true;
	_cleanup_close_ int fd = openat(layer, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char v[2];
	return fd >= 0 && fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y';
}

/* Reads fd (a regular file only: a FIFO would hang berth, a device is no
 * user database), at most 4 MiB. */
static int read_regular(int fd, const char *path, char **text, struct berr **err)
{
	struct stat st;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return berr_set(err, EINVAL, "the image's /%s is not a regular file", path);
	size_t len; /* the same inode, opened again to read it */
	return fs_read_file(proc, 4 << 20, text, &len, err);
}

/* The image's file path ("etc/passwd") as its containers see it, never a
 * host file: in the topmost layer that has it, opened there with no
 * symlink followed; where a layer has a symlink on its way, resolved in an
 * overlay of the layers, inside the image's root (RESOLVE_IN_ROOT). NULL
 * text: the image has none. */
static int etc_file(char **layers, const char *path, char **text, struct berr **err)
{
	*text = NULL;
	_cleanup_free_ char *dir = path_dirname(path);
	struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	for (size_t i = 0; layers && layers[i]; i++) {
		_cleanup_close_ int layer = open(layers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (layer < 0)
			return berr_sys(err, errno, "cannot open the layer %s", layers[i]);
		_cleanup_close_ int fd = (int)syscall(SYS_openat2, layer, path, &how, sizeof(how));
		int e = fd < 0 ? errno : 0;
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) < 0)
			return berr_sys(err, errno, "cannot read the image's /%s", path);
		if (fd >= 0 && whiteout(&st))
			return 0; /* deleted by this layer */
		if (fd >= 0 && !S_ISLNK(st.st_mode))
			return read_regular(fd, path, text, err);
		if (e == ENOENT && hides_below(layer, dir))
			return 0;
		if (e == ENOENT)
			continue;
		if (e == ENOTDIR)
			return 0; /* something not a directory in its way hides it */
		if (e && e != ELOOP)
			return berr_sys(err, e, "cannot open the image's /%s", path);
		/* a symlink on its way: where it leads is the image's business,
		 * inside its root */
		struct berr *why = NULL;
		_cleanup_close_ int tree = overlay_subpath_tree(layers, path, true, &why);
		int code = tree < 0 ? why->code : 0;
		berr_free(why);
		if (tree < 0 && (code == ENOENT || code == ENOTDIR))
			return 0;
		if (tree < 0)
			return berr_sys(err, code, "cannot resolve the image's /%s", path);
		return read_regular(tree, path, text, err);
	}
	return 0;
}

/* The line of an /etc/passwd- or /etc/group-style text whose first field
 * is name (or whose third field is the number name, when numeric). */
static char **find_entry(char *text, const char *name, bool by_id)
{
	if (!text)
		return NULL;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char **f = xcalloc(8, sizeof(char *));
		size_t n = 0;
		for (char *p = line; n < 7; n++) {
			char *colon = strchr(p, ':');
			f[n] = colon ? xstrndup(p, (size_t)(colon - p)) : xstrdup(p);
			if (!colon) {
				n++;
				break;
			}
			p = colon + 1;
		}
		if (n >= 3 && streq(by_id ? f[2] : f[0], name))
			return f;
		strv_free(f);
	}
	return NULL;
}

static bool numeric(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static void add_group(gid_t **groups, size_t *n, gid_t g)
{
	for (size_t i = 0; i < *n; i++)
		if ((*groups)[i] == g)
			return;
	*groups = xrealloc(*groups, (*n + 1) * sizeof(gid_t));
	(*groups)[(*n)++] = g;
}

/* Groups of the /etc/group text that list the user as a member. */
static void member_groups(char *text, const char *name, gid_t **groups, size_t *n)
{
	if (!text || !name)
		return;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[4] = {0};
		char *p = line;
		for (int i = 0; i < 4 && p; i++) {
			f[i] = p;
			p = strchr(p, ':');
			if (p)
				*p++ = '\0';
		}
		if (!f[3] || !f[2])
			continue;
		char *msave = NULL;
		for (char *m = strtok_r(f[3], ",", &msave); m; m = strtok_r(NULL, ",", &msave))
			if (streq(m, name))
				add_group(groups, n, (gid_t)atol(f[2]));
	}
}

int user_lookup(char **layers, const char *user, uid_t *uid, gid_t *gid, gid_t **groups, size_t *ngroups,
		struct berr **err)
{
	*uid = 0;
	*gid = 0;
	*groups = NULL;
	*ngroups = 0;
	/* no user named: root, 0:0, also in an image without /etc/passwd (as Docker) */
	bool unnamed = !user || !user[0];
	if (unnamed)
		user = "root";
	_cleanup_free_ char *u = xstrdup(user);
	char *g = strchr(u, ':');
	if (g)
		*g++ = '\0';
	_cleanup_free_ char *passwd = NULL, *group = NULL;
	int r = etc_file(layers, "etc/passwd", &passwd, err);
	if (r == 0)
		r = etc_file(layers, "etc/group", &group, err);
	if (r < 0)
		return r;
	char **pw = find_entry(passwd, u, numeric(u));
	if (!pw && unnamed)
		return 0;
	if (!pw && !numeric(u))
		return berr_set(err, ENOENT, "user \"%s\" is not in the image's /etc/passwd", u);
	*uid = pw ? (uid_t)atol(pw[2]) : (uid_t)atol(u);
	*gid = pw && pw[3] ? (gid_t)atol(pw[3]) : 0;
	if (g && g[0]) {
		char **gr = find_entry(group, g, numeric(g));
		if (!gr && !numeric(g)) {
			strv_free(pw);
			return berr_set(err, ENOENT, "group \"%s\" is not in the image's /etc/group", g);
		}
		*gid = gr ? (gid_t)atol(gr[2]) : (gid_t)atol(g);
		strv_free(gr);
	} else if (pw) {
		member_groups(group, pw[0], groups, ngroups);
	}
	strv_free(pw);
	return 0;
}
