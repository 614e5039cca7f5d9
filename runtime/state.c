#include "state.h"

#include <errno.h>
#include <jansson.h>
#include <sys/stat.h>
#include <time.h>

#include "../lib/fs.h"

static const char *const names[] = {"created", "running", "restarting", "exited", "dead"};

const char *ctr_status_name(enum ctr_status s) { return s <= ST_DEAD ? names[s] : "unknown"; }

int state_write(const char *dir, const struct ctr_state *st, struct berr **err)
{
	json_t *j = json_pack("{s:s, s:i, s:i, s:i, s:I, s:I, s:i, s:b, s:b, s:o}", "status", ctr_status_name(st->status),
			      "pid", (int)st->pid, "shim_pid", (int)st->shim_pid, "exit_code", st->exit_code,
			      "started_at", (json_int_t)st->started_at, "finished_at", (json_int_t)st->finished_at,
			      "restart_count", st->restart_count, "oom_killed", st->oom_killed, "stopped_by_user",
			      st->stopped_by_user, "error", st->error ? json_string(st->error) : json_null());
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
	json_t *j = json_load_file(path, 0, &je);
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
	json_decref(j);
	return 0;
}

void state_free(struct ctr_state *st)
{
	free(st->error);
	st->error = NULL;
}
