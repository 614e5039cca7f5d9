#include "volume.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/fs.h"
#include "../lib/json.h"

char *vol_dir(const char *root, const char *name) { return xasprintf("%s/volumes/%s", root, name); }
char *vol_data(const char *root, const char *name) { return xasprintf("%s/volumes/%s/_data", root, name); }

bool vol_name_ok(const char *name) { return name_valid(name); }

bool vol_exists(const char *root, const char *name)
{
	_cleanup_free_ char *d = vol_data(root, name);
	return vol_name_ok(name) && fs_is_dir(d);
}

static int vol_lock(const char *root, int *fd, struct berr **err)
{
	_cleanup_free_ char *dir = xasprintf("%s/volumes", root);
	int r = fs_mkdir_p(dir, 0700, err);
	_cleanup_free_ char *path = xasprintf("%s/.lock", dir);
	return r < 0 ? r : fs_lock(path, fd, err);
}

static json_t *read_record(const char *root, const char *name)
{
	_cleanup_free_ char *path = xasprintf("%s/volumes/%s/volume.json", root, name);
	json_t *j = json_load_file(path, 0, NULL);
	/* a volume made before records existed: a plain local one */
	return j ? j : json_pack("{s:s, s:s}", "name", name, "driver", "local");
}

int vol_ensure(const char *root, const struct vol_def *d, struct berr **err)
{
	if (!vol_name_ok(d->name))
		return berr_set(err, EINVAL,
				"volume name \"%s\" cannot be used: only letters, digits, \"_\", \".\" "
				"and \"-\", starting with a letter or digit",
				d->name);
	if (vol_exists(root, d->name))
		return 0;
	if (d->external)
		return berr_set(err, ENOENT,
				"volume %s is declared as external, but could not be found; create it "
				"first with `berth volume create %s`",
				d->name, d->name);
	int lock;
	int r = vol_lock(root, &lock, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *dir = vol_dir(root, d->name), *data = vol_data(root, d->name);
	_cleanup_free_ char *path = xasprintf("%s/volume.json", dir);
	json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:I}", "name", d->name, "driver", "local", "project",
			      d->project ? d->project : "", "options", kv_json(d->opts), "labels", kv_json(d->labels),
			      "anonymous", d->anonymous, "created_ms", (json_int_t)now_ms());
	char *text = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(j);
	r = fs_mkdir_p(dir, 0700, err);
	/* the record first, then _data: a volume exists once _data does */
	if (r == 0)
		r = fs_write_atomic(path, text, strlen(text), 0600, err);
	if (r == 0 && mkdir(data, 0755) < 0 && errno != EEXIST)
		r = berr_sys(err, errno, "cannot create %s", data);
	free(text);
	close(lock);
	return r < 0 ? r : 1;
}

static const char *opt(json_t *rec, const char *key)
{
	return json_string_value(json_object_get(json_object_get(rec, "options"), key));
}

int vol_source(const char *root, const char *name, char **opts, char **source, char **type, char **options,
	       struct berr **err)
{
	*source = *type = *options = NULL;
	_cleanup_(json_releasep) json_t *rec = opts && opts[0] ? json_pack("{s:o}", "options", kv_json(opts))
							       : read_record(root, name);
	const char *t = opt(rec, "type"), *dev = opt(rec, "device"), *o = opt(rec, "o");
	int r = 0;
	bool bind = o && (streq(o, "bind") || startswith(o, "bind,") || strstr(o, ",bind"));
	if (!t || (streq(t, "none") && !bind)) {
		*source = vol_data(root, name);
	} else if (bind) {
		if (!dev || dev[0] != '/')
			r = berr_set(err, EINVAL, "volume %s: driver_opts o: bind needs an absolute device path", name);
		else if (!fs_exists(dev))
			r = berr_set(err, ENOENT, "volume %s: device %s does not exist", name, dev);
		else
			*source = xstrdup(dev);
	} else {
		*source = xstrdup(dev ? dev : t);
		*type = xstrdup(t);
		*options = o ? xstrdup(o) : NULL;
	}
	return r;
}

int vol_delete(const char *root, const char *name, bool force, struct berr **err)
{
	if (!vol_exists(root, name))
		return force ? 0 : berr_set(err, ENOENT, "no such volume: %s", name);
	int lock;
	int r = vol_lock(root, &lock, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *dir = vol_dir(root, name);
	r = fs_discard(dir, err);
	close(lock);
	return r;
}

char **vol_list(const char *root, const char *project)
{
	char **out = xcalloc(1, sizeof(char *));
	_cleanup_free_ char *dir = xasprintf("%s/volumes", root);
	_cleanup_(closedirp) DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (!vol_name_ok(e->d_name) || !vol_exists(root, e->d_name))
			continue;
		_cleanup_(json_releasep) json_t *rec = read_record(root, e->d_name);
		if (!project || streq(json_string_value(json_object_get(rec, "project")), project))
			strv_push(&out, xstrdup(e->d_name));
	}
	strv_sort(out);
	return out;
}

char *vol_inspect(const char *root, const char *name, char *const *users)
{
	if (!vol_exists(root, name))
		return NULL;
	_cleanup_(json_releasep) json_t *rec = read_record(root, name);
	_cleanup_free_ char *data = vol_data(root, name);
	json_object_set_new(rec, "mountpoint", json_string(data));
	json_object_set_new(rec, "used_by", strv_json(users));
	char *text = json_dumps(rec, JSON_INDENT(2) | JSON_SORT_KEYS);
	return text;
}

char *vol_anon_name(void)
{
	unsigned char b[32];
	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)(now_ms() >> (i % 8));
	char *s = xmalloc(65);
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(s + 2 * i, 3, "%02x", b[i]);
	return s;
}
