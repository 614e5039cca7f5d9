#include "commit.h"

#include <errno.h>
#include <jansson.h>

#include "../lib/json.h"
#include "../lib/fs.h"
#include "config.h"
#include "layer.h"

static int apply_change(struct bstage *s, const char *change, struct berr **err)
{
	struct dockerfile d = {0};
	/* the parser wants a stage: the change is the one instruction after it */
	_cleanup_free_ char *text = xasprintf("FROM scratch\n%s\n", change);
	int r = dockerfile_parse("--change", text, strlen(text), &d, err);
	static const char *const allowed[] = {"CMD",  "ENTRYPOINT", "ENV",     "EXPOSE",     "LABEL",       "ONBUILD",
					      "USER", "VOLUME",     "WORKDIR", "STOPSIGNAL", "HEALTHCHECK", NULL};
	for (size_t i = 1; r == 0 && i < d.n; i++) {
		const struct df_instr *ins = &d.instrs[i];
		if (!strv_contains((char **)allowed, ins->cmd)) {
			r = berr_set(err, EINVAL,
				     "--change %s: commit takes CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, "
				     "VOLUME, WORKDIR, STOPSIGNAL and HEALTHCHECK",
				     ins->cmd);
		} else if (streq(ins->cmd, "WORKDIR")) {
			const char *was = json_string_value(json_object_get(s->cfg, "WorkingDir"));
			_cleanup_free_ char *dir = ins->rest[0] == '/'
							   ? xstrdup(ins->rest)
							   : path_join(was && was[0] ? was : "/", ins->rest);
			json_object_set_new(s->cfg, "WorkingDir", json_string(dir));
		} else {
			char *by = NULL;
			r = bconfig_apply(s, ins, &by, err);
			free(by);
		}
	}
	dockerfile_free(&d);
	return r;
}

int commit_image(struct store *st, const struct commit_opts *o, char id[72], struct berr **err)
{
	char *text = NULL;
	size_t len;
	_cleanup_(json_releasep) json_t *rec = NULL;
	int r = store_read_blob(st, o->base, 16 << 20, &text, &len, err);
	if (r == 0)
		r = store_get_image(st, o->base, &rec, err);
	_cleanup_(json_releasep) json_t *base = r == 0 ? json_loadb(text, len, 0, NULL) : NULL;
	free(text);
	if (r == 0 && !json_is_object(base))
		r = berr_set(err, EINVAL, "the image %s has a config that cannot be read", o->base);
	json_t *cfg = json_deep_copy(json_object_get(base, "config"));
	if (!json_is_object(cfg)) {
		json_decref(cfg);
		cfg = json_object();
	}
	json_t *history = json_deep_copy(json_object_get(base, "history"));
	if (!json_is_array(history)) {
		json_decref(history);
		history = json_array();
	}
	json_t *layers = json_deep_copy(json_object_get(rec, "layers"));
	if (!json_is_array(layers)) {
		json_decref(layers);
		layers = json_array();
	}
	struct bstage s = {.cfg = cfg, .history = history, .layers = layers, .escape = '\\'};
	for (size_t i = 0; r == 0 && o->changes && o->changes[i]; i++)
		r = apply_change(&s, o->changes[i], err);
	struct blayer l;
	bool empty = false;
	if (r == 0)
		r = blayer_commit(st, o->upper, &l, &empty, err);
	_cleanup_free_ char *now = store_timestamp();
	if (r == 0) {
		if (!empty)
			json_array_append_new(layers,
					      json_pack("{s:s, s:s}", "digest", l.digest, "diff_id", l.diff_id));
		json_t *h = json_pack("{s:s, s:s}", "created", now, "created_by", "berth commit");
		if (o->message && o->message[0])
			json_object_set_new(h, "comment", json_string(o->message));
		if (o->author && o->author[0])
			json_object_set_new(h, "author", json_string(o->author));
		if (empty)
			json_object_set_new(h, "empty_layer", json_true());
		json_array_append_new(history, h);
	}
	json_t *ids = json_array();
	size_t i;
	json_t *x;
	json_array_foreach(layers, i, x) json_array_append(ids, json_object_get(x, "diff_id"));
	const char *arch = json_string_value(json_object_get(base, "architecture")),
		   *os = json_string_value(json_object_get(base, "os"));
	_cleanup_(json_releasep)
		json_t *img = json_pack("{s:s, s:s, s:O, s:s, s:O, s:{s:s, s:o}}", "architecture",
					arch ? arch : "amd64", "os", os ? os : "linux", "config", cfg, "created", now,
					"history", history, "rootfs", "type", "layers", "diff_ids", ids);
	if (o->author && o->author[0])
		json_object_set_new(img, "author", json_string(o->author));
	char *out = json_dumps(img, JSON_COMPACT);
	struct blob_writer *w = NULL;
	if (r == 0)
		r = blob_writer_open(st, &w, err);
	if (r == 0)
		r = blob_writer_write(w, out, strlen(out), err);
	if (r == 0)
		r = blob_writer_commit(w, NULL, id, NULL, NULL, err);
	else if (w)
		blob_writer_abort(w);
	if (r == 0) {
		json_t *nrec = json_pack("{s:s, s:O, s:I, s:s, s:s, s:[]}", "id", id, "layers", layers, "size",
					 (json_int_t)blayer_size(st, layers), "loaded", now, "created", now,
					 "repo_digests");
		r = store_put_image(st, id, nrec, err);
		json_decref(nrec);
	}
	free(out);
	json_decref(cfg);
	json_decref(history);
	json_decref(layers);
	return r;
}
