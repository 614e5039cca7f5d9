/* Lifecycle hooks run as containers: pre_start steps, each a one-off of
 * its service, before the service starts. */
#include "apply.h"
#include "applier.h"

#include <errno.h>
#include <fcntl.h>

#include "../lib/json.h"
#include "../lib/log.h"
#include "../runtime/ctr.h"
#include "ctrspec.h"

/* The last lines a container wrote (at most 1 KiB of them), for a message. */
static char *log_tail(const char *root, const char *name)
{
	_cleanup_free_ char *dir = ctr_dir(root, name);
	_cleanup_free_ char *path = xasprintf("%s/%s-json.log", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return xstrdup("");
	char raw[8192];
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof(raw) - 1 ? end - (off_t)sizeof(raw) + 1 : 0;
	ssize_t got = pread(fd, raw, sizeof(raw) - 1, from);
	close(fd);
	raw[got > 0 ? got : 0] = '\0';
	struct buf b = {0};
	char *line = from ? strchr(raw, '\n') : raw; /* a cut first line is skipped */
	for (char *next; line && *line; line = next) {
		line += *line == '\n';
		next = strchr(line, '\n');
		if (next)
			*next = '\0';
		json_t *j = json_loads(line, 0, NULL);
		const char *text = json_string_value(json_object_get(j, "log"));
		if (text)
			buf_printf(&b, "%s", text);
		json_decref(j);
		if (next)
			*next = '\n';
	}
	char *out = b.s ? b.s : xstrdup("");
	size_t len = strlen(out);
	while (len && out[len - 1] == '\n')
		out[--len] = '\0';
	if (len > 1024)
		memmove(out, out + len - 1024, 1025);
	return out;
}

/* One pre_start step as the service it belongs to: the service's networks,
 * volumes, environment and working directory, the step's command, image,
 * user and environment on top, no ports, restart policy, healthcheck or
 * hooks. number > 0: for that replica, with its anonymous volumes. */
static struct node *step_service(const struct node *svc, const struct node *step, const char *name)
{
	struct node *s = node_clone(svc);
	struct pos at = s->pos;
	const char *image = node_str(node_map_get(step, "image"));
	if (image) { /* another image: its own entrypoint, command and user */
		node_map_set(s, "image", node_new_str(image, at));
		node_map_del(s, "entrypoint");
		node_map_del(s, "command");
		node_map_del(s, "user");
		node_map_del(s, "build");
	}
	struct node *cmd = node_map_get(step, "command");
	if (cmd && !node_is_null(cmd))
		node_map_set(s, "command", node_clone(cmd));
	static const char *const own[] = {"user", "working_dir", "privileged"};
	for (size_t i = 0; i < ARRAY_SIZE(own); i++) {
		struct node *v = node_map_get(step, own[i]);
		if (v && !node_is_null(v))
			node_map_set(s, own[i], node_clone(v));
	}
	struct node *pv = node_map_get(s, "privileged");
	if (node_is_str(pv)) /* the schema takes "true" as a string too */
		node_map_set(s, "privileged", node_new_bool(streq(pv->str, "true"), at));
	struct node *env = node_map_get(s, "environment"), *add = node_map_get(step, "environment");
	if (!env || env->kind != NODE_MAP) {
		env = node_new_map(at);
		node_map_set(s, "environment", env);
	}
	for (size_t i = 0; add && add->kind == NODE_MAP && i < add->n; i++)
		node_map_set(env, add->pairs[i].key, node_clone(add->pairs[i].val));
	static const char *const gone[] = {"ports", "post_start", "pre_stop", "pre_start",
					   "scale", "stdin_open", "tty"};
	for (size_t i = 0; i < ARRAY_SIZE(gone); i++)
		node_map_del(s, gone[i]);
	node_map_del(node_map_get(s, "deploy"), "replicas");
	node_map_set(s, "container_name", node_new_str(name, at));
	node_map_set(s, "restart", node_new_str("no", at));
	struct node *hc = node_new_map(at);
	node_map_set(hc, "disable", node_new_bool(true, at));
	node_map_set(s, "healthcheck", hc);
	return s;
}

static int run_step(const struct apply_ctx *ctx, const struct project *p, const char *service, size_t idx, int number,
		    const char *replica, struct berr **err)
{
	const char *root = ctx->root;
	struct node *step = node_map_get(project_service(p, service), "pre_start")->items[idx];
	_cleanup_free_ char *name = replica ? xasprintf("%s-pre_start-%zu", replica, idx + 1)
					    : xasprintf("%s-%s-pre_start-%zu", p->name, service, idx + 1);
	if (ctr_exists(root, name)) { /* left by a killed up */
		int r = apply_remove_container(root, name, !replica, err);
		if (r < 0)
			return r;
	}
	/* the project as this step sees it: the service replaced by the step */
	struct project q = *p;
	q.doc = node_clone(p->doc);
	struct pair *pr = node_map_pair(project_services(&q), service);
	struct node *s = step_service(pr->val, step, name);
	node_free(pr->val);
	pr->val = s;
	struct store *st = NULL;
	struct planned *pl = xcalloc(1, sizeof(*pl));
	int r = store_open(root, false, &st, err);
	if (r == 0)
		r = apply_prepare_oneoff(ctx, &q, st, service, number, replica, pl, err);
	store_close(st);
	struct up_opts quiet = {0};
	struct apply_ctx silent = *ctx; /* the step's volumes and container are not announced */
	silent.progress = NULL;
	if (r == 0)
		r = apply_ensure_volumes(&silent, &q, pl, 1, &quiet, err);
	if (r < 0)
		apply_discard_new(root, pl, 1);
	if (r == 0)
		r = apply_create_one(&silent, &q, pl, &quiet, err);
	if (r == 0)
		r = net_sync(root, err);
	if (r == 0)
		apply_progress(ctx->progress, ctx->progress_data, "Container", name, "Started");
	int ready = -1, code = 0;
	if (r == 0)
		r = ctr_start_launch(root, name, NULL, &ready, err);
	if (r == 0)
		r = ctr_start_finish(name, ready, err);
	if (r == 0)
		r = ctr_wait(root, name, &code, err);
	if (r == 0 && code != 0) {
		_cleanup_free_ char *out = log_tail(root, name);
		r = berr_set(err, EIO, "service \"%s\": pre_start[%zu] (%s) exited with code %d%s%s", service, idx,
			     name, code, out[0] ? ": " : "", out);
	} else if (r == 0) {
		apply_progress(ctx->progress, ctx->progress_data, "Container", name, "Exited");
	}
	apply_planned_free(pl, 1);
	node_free(q.doc);
	/* the step goes, failed or not: its anonymous volumes too unless they are the replica's */
	_cleanup_(berr_freep) struct berr *e = NULL;
	if (ctr_exists(root, name) && (apply_remove_container(root, name, !replica, &e) < 0 || net_sync(root, &e) < 0))
		log_error("%s", e->msg);
	return r;
}

/* The pending containers of one service: the steps in declared order,
 * each per replica or once for the service (unless a replica of this
 * configuration has had them). */
static int pre_start_service(const struct apply_ctx *ctx, const struct project *p, const char *service,
			     char *const *names, const int *numbers, size_t n, const char *hash, struct berr **err)
{
	const char *root = ctx->root;
	struct node *steps = node_map_get(project_service(p, service), "pre_start");
	bool service_done = false;
	int replicas = ctrspec_replicas(project_service(p, service));
	for (int k = 1; k <= replicas && !service_done; k++) {
		_cleanup_free_ char *other = ctrspec_name(p, service, k);
		_cleanup_(json_releasep) json_t *m = apply_meta(root, other);
		service_done = json_is_true(json_object_get(m, "pre_start_done")) &&
			       streq(json_string_value(json_object_get(m, "config_hash")), hash);
	}
	int r = 0;
	for (size_t k = 0; r == 0 && k < steps->n; k++) {
		struct node *per = node_map_get(steps->items[k], "per_replica");
		bool per_replica = false;
		if (node_bool(per, &per_replica) < 0 && node_str(per))
			per_replica = streq(per->str, "true");
		for (size_t i = 0; r == 0 && per_replica && i < n; i++)
			r = run_step(ctx, p, service, k, numbers[i], names[i], err);
		if (r == 0 && !per_replica && !service_done)
			r = run_step(ctx, p, service, k, numbers[0], NULL, err);
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		apply_mark_meta(root, names[i], "pre_start_done");
	return r;
}

int apply_pre_start(const struct apply_ctx *ctx, const struct project *p, char *const *names, size_t n,
		    struct berr **err)
{
	const char *root = ctx->root;
	bool *seen = xcalloc(n + 1, sizeof(bool));
	char **mine = xcalloc(n + 1, sizeof(char *));
	int *numbers = xcalloc(n + 1, sizeof(int));
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (seen[i])
			continue;
		json_t *meta = apply_meta(root, names[i]);
		_cleanup_free_ char *service = xstrdup(json_string_value(json_object_get(meta, "service")) ?: "");
		_cleanup_free_ char *hash = xstrdup(json_string_value(json_object_get(meta, "config_hash")) ?: "");
		json_decref(meta);
		struct node *steps = node_map_get(project_service(p, service), "pre_start");
		if (!steps || steps->kind != NODE_SEQ || !steps->n)
			continue;
		/* this service's containers that have not had their steps */
		size_t k = 0;
		for (size_t j = i; j < n; j++) {
			_cleanup_(json_releasep) json_t *m = apply_meta(root, names[j]);
			if (streq(json_string_value(json_object_get(m, "service")), service)) {
				seen[j] = true;
				if (!json_is_true(json_object_get(m, "pre_start_done")) &&
				    !json_is_true(json_object_get(m, "oneoff"))) {
					mine[k] = names[j];
					numbers[k++] = (int)json_integer_value(json_object_get(m, "number"));
				}
			}
		}
		if (k)
			r = pre_start_service(ctx, p, service, mine, numbers, k, hash, err);
	}
	free(seen);
	free(mine); /* shallow */
	free(numbers);
	return r;
}
