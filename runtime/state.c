#include "state.h"

#include <errno.h>
#include <jansson.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>

#include "../lib/json.h"
#include "../lib/fs.h"

static const char *const names[] = {"created", "running", "restarting", "exited", "dead"};

const char *ctr_status_name(enum ctr_status s) { return s <= ST_DEAD ? names[s] : "unknown"; }

static const char *const health_names[] = {"none", "starting", "healthy", "unhealthy", "unknown"};

const char *health_status_name(enum health_status h) { return h <= HEALTH_UNKNOWN ? health_names[h] : "none"; }

void health_log_add(struct ctr_state *st, int64_t start, int64_t end, int exit_code, char *output)
{
	if (st->nlog == HEALTH_LOG) {
		free(st->log[0].output);
		memmove(&st->log[0], &st->log[1], (HEALTH_LOG - 1) * sizeof(st->log[0]));
		st->nlog--;
	}
	st->log[st->nlog++] = (struct health_result){start, end, exit_code, output};
}

static json_t *health_json(const struct ctr_state *st)
{
	json_t *log = json_array();
	for (size_t i = 0; i < st->nlog; i++)
		json_array_append_new(log,
				      json_pack("{s:I, s:I, s:i, s:s}", "start", (json_int_t)st->log[i].start, "end",
						(json_int_t)st->log[i].end, "exit_code", st->log[i].exit_code, "output",
						st->log[i].output ? st->log[i].output : ""));
	return json_pack("{s:s, s:i, s:o}", "status", health_status_name(st->health), "failing_streak",
			 st->failing_streak, "log", log);
}

static void read_health(json_t *h, struct ctr_state *st)
{
	const char *status = json_string_value(json_object_get(h, "status"));
	for (size_t i = 0; status && i < ARRAY_SIZE(health_names); i++)
		if (streq(status, health_names[i]))
			st->health = (enum health_status)i;
	st->failing_streak = (int)json_integer_value(json_object_get(h, "failing_streak"));
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(h, "log"), i, r)
	{
		const char *out = json_string_value(json_object_get(r, "output"));
		health_log_add(st, json_integer_value(json_object_get(r, "start")),
			       json_integer_value(json_object_get(r, "end")),
			       (int)json_integer_value(json_object_get(r, "exit_code")), xstrdup(out ? out : ""));
	}
}

int state_write(const char *dir, const struct ctr_state *st, struct berr **err)
{
	json_t *j = json_pack("{s:s, s:i, s:i, s:i, s:I, s:I, s:i, s:b, s:b, s:o}", "status",
			      ctr_status_name(st->status), "pid", (int)st->pid, "shim_pid", (int)st->shim_pid,
			      "exit_code", st->exit_code, "started_at", (json_int_t)st->started_at, "finished_at",
			      (json_int_t)st->finished_at, "restart_count", st->restart_count, "oom_killed",
			      st->oom_killed, "stopped_by_user", st->stopped_by_user, "error",
			      st->error ? json_string(st->error) : json_null());
	if (st->health != HEALTH_NONE)
		json_object_set_new(j, "health", health_json(st));
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	_cleanup_free_ char *path = xasprintf("%s/state.json", dir);
	/* no fsync: after a power cut no shim runs anyway, and an empty file
	 * reads as a container that has not run (below) */
	int r = fs_write_replace(path, text, strlen(text), 0600, err);
	free(text);
	return r;
}

int state_read(const char *dir, struct ctr_state *st, struct berr **err)
{
	*st = (struct ctr_state){.status = ST_CREATED};
	_cleanup_free_ char *path = xasprintf("%s/state.json", dir);
	struct stat sb;
	if (stat(path, &sb) < 0 || sb.st_size == 0)
		return 0;
	json_error_t je;
	_cleanup_(json_releasep) json_t *j = json_load_file(path, 0, &je);
	if (!j)
		return berr_set(err, EINVAL, "%s is damaged: %s", path, je.text);
	const char *status = json_string_value(json_object_get(j, "status"));
	for (size_t i = 0; status && i < ARRAY_SIZE(names); i++)
		if (streq(status, names[i]))
			st->status = (enum ctr_status)i;
	st->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	st->shim_pid = (pid_t)json_integer_value(json_object_get(j, "shim_pid"));
	st->exit_code = (int)json_integer_value(json_object_get(j, "exit_code"));
	st->started_at = json_integer_value(json_object_get(j, "started_at"));
	st->finished_at = json_integer_value(json_object_get(j, "finished_at"));
	st->restart_count = (int)json_integer_value(json_object_get(j, "restart_count"));
	st->oom_killed = json_is_true(json_object_get(j, "oom_killed"));
	st->stopped_by_user = json_is_true(json_object_get(j, "stopped_by_user"));
	const char *e = json_string_value(json_object_get(j, "error"));
	st->error = e ? xstrdup(e) : NULL;
	if (json_is_object(json_object_get(j, "health")))
		read_health(json_object_get(j, "health"), st);
	return 0;
}

void state_free(struct ctr_state *st)
{
	free(st->error);
	st->error = NULL;
	for (size_t i = 0; i < st->nlog; i++)
		free(st->log[i].output);
	st->nlog = 0;
}

pid_t state_peer_pid(const char *dir, const char *how)
{
	const char *name = how && startswith(how, "container:") ? how + 10 : NULL;
	if (!name || !name[0] || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
		return -1;
	_cleanup_free_ char *parent = path_dirname(dir);
	_cleanup_free_ char *peer = path_join(parent, name);
	struct ctr_state st;
	if (state_read(peer, &st, NULL) < 0)
		return -1;
	pid_t pid = st.status == ST_RUNNING && st.pid > 0 ? st.pid : -1;
	state_free(&st);
	return pid;
}
