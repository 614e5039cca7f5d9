#include "imgcfg.h"

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
