#include "imgcfg.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <sys/stat.h>

#include "../lib/fs.h"
#include "../lib/json.h"


static char *str_of(json_t *j)
{
	const char *s = json_string_value(j);
	return s && s[0] ? xstrdup(s) : NULL;
}

int image_config_load(const struct store *s, const char *id, struct image_config *c, struct berr **err)
{
	*c = (struct image_config){0};
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = store_read_blob(s, id, 16u << 20, &text, &len, err);
	if (r < 0)
		return r;
	json_t *j = json_loadb(text, len, 0, NULL);
	if (!j)
		return berr_set(err, EINVAL, "the config of image %s is damaged", id);
	json_t *cfg = json_object_get(j, "config");
	c->id = xstrdup(id);
	c->entrypoint = json_strv(json_object_get(cfg, "Entrypoint"));
	c->cmd = json_strv(json_object_get(cfg, "Cmd"));
	c->env = json_strv(json_object_get(cfg, "Env"));
	c->workdir = str_of(json_object_get(cfg, "WorkingDir"));
	c->user = str_of(json_object_get(cfg, "User"));
	c->stop_signal = str_of(json_object_get(cfg, "StopSignal"));
	json_t *hc = json_object_get(cfg, "Healthcheck");
	c->health_test = json_strv(json_object_get(hc, "Test"));
	c->health_interval = json_integer_value(json_object_get(hc, "Interval"));
	c->health_timeout = json_integer_value(json_object_get(hc, "Timeout"));
	c->health_start_period = json_integer_value(json_object_get(hc, "StartPeriod"));
	c->health_start_interval = json_integer_value(json_object_get(hc, "StartInterval"));
	c->health_retries = (int)json_integer_value(json_object_get(hc, "Retries"));
	json_t *vols = json_object_get(cfg, "Volumes");
	const char *path;
	json_t *v;
	json_object_foreach(vols, path, v)
	{
		if (!c->volumes)
			c->volumes = xcalloc(1, sizeof(char *));
		strv_push(&c->volumes, xstrdup(path));
	}
	if (c->volumes)
		strv_sort(c->volumes);
	json_object_foreach(json_object_get(cfg, "ExposedPorts"), path, v)
	{
		if (!c->exposed)
			c->exposed = xcalloc(1, sizeof(char *));
		strv_push(&c->exposed, strchr(path, '/') ? xstrdup(path) : xasprintf("%s/tcp", path));
	}
	if (c->exposed)
		strv_sort(c->exposed);
	json_t *ids = json_object_get(json_object_get(j, "rootfs"), "diff_ids");
	c->layers = xcalloc(json_array_size(ids) + 1, sizeof(char *));
	for (size_t i = json_array_size(ids), n = 0; i > 0; i--) {
		const char *d = json_string_value(json_array_get(ids, i - 1));
		char *dir = d ? store_layer_path(s, d) : NULL;
		if (!dir || !fs_is_dir(dir)) {
			free(dir);
			json_decref(j);
			image_config_free(c);
			return berr_set(err, ENOENT, "image %.19s is missing layer %s; load it again", id, d ? d : "?");
		}
		c->layers[n++] = dir;
	}
	json_decref(j);
	return 0;
}

void image_config_free(struct image_config *c)
{
	free(c->id);
	strv_free(c->entrypoint);
	strv_free(c->cmd);
	strv_free(c->env);
	free(c->workdir);
	free(c->user);
	free(c->stop_signal);
	strv_free(c->volumes);
	strv_free(c->exposed);
	strv_free(c->health_test);
	strv_free(c->layers);
	*c = (struct image_config){0};
}

/* The topmost layer that has path, stopping at a whiteout. */
static char *layer_file(char **layers, const char *path)
{
	for (size_t i = 0; layers && layers[i]; i++) {
		char *p = path_join(layers[i], path);
		struct stat st;
		if (lstat(p, &st) == 0) {
			if (S_ISCHR(st.st_mode) && st.st_rdev == 0) {
				free(p);
				return NULL; /* deleted by this layer */
			}
			return p;
		}
		free(p);
	}
	return NULL;
}

/* The line of an /etc/passwd- or /etc/group-style file whose first field is
 * name (or whose third field is the number name, when numeric). */
static char **find_entry(char **layers, const char *file, const char *name, bool by_id)
{
	_cleanup_free_ char *path = layer_file(layers, file);
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (!path || fs_read_file(path, 4 << 20, &text, &len, NULL) < 0)
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

/* Groups that list the user as a member. */
static void member_groups(char **layers, const char *name, gid_t **groups, size_t *n)
{
	_cleanup_free_ char *path = layer_file(layers, "etc/group");
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (!path || !name || fs_read_file(path, 4 << 20, &text, &len, NULL) < 0)
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

int image_user(char **layers, const char *user, uid_t *uid, gid_t *gid, gid_t **groups, size_t *ngroups,
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
	char **pw = find_entry(layers, "etc/passwd", u, numeric(u));
	if (!pw && unnamed)
		return 0;
	if (!pw && !numeric(u))
		return berr_set(err, ENOENT, "user \"%s\" is not in the image's /etc/passwd", u);
	*uid = pw ? (uid_t)atol(pw[2]) : (uid_t)atol(u);
	*gid = pw && pw[3] ? (gid_t)atol(pw[3]) : 0;
	if (g && g[0]) {
		char **gr = find_entry(layers, "etc/group", g, numeric(g));
		if (!gr && !numeric(g)) {
			strv_free(pw);
			return berr_set(err, ENOENT, "group \"%s\" is not in the image's /etc/group", g);
		}
		*gid = gr ? (gid_t)atol(gr[2]) : (gid_t)atol(g);
		strv_free(gr);
	} else if (pw) {
		member_groups(layers, pw[0], groups, ngroups);
	}
	strv_free(pw);
	return 0;
}
