/* berth volume ls | create | rm | inspect | prune. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>

#include "../lib/json.h"
#include "../orchestrator/apply.h"
#include "../runtime/ctr.h"
#include "../volumes/volume.h"
#include "cli.h"

static json_t *record(const char *name)
{
	_cleanup_(strv_freep) char **users = ctr_volume_users(berth_root(), name);
	char *text = vol_inspect(berth_root(), name, users);
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	return j;
}

static int volume_ls(int argc, char **argv)
{
	bool quiet = false;
	const char *format = NULL;
	char **pos = NULL;
	const struct flag flags[] = {
		{"quiet", 'q', FLAG_BOOL, &quiet, NULL, "Only show names"},
		{"format", 0, FLAG_STR, &format, "FORMAT", "table (default) or json"},
	};
	int rc = cmd_flags("volume ls", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth volume ls [OPTIONS]",
			   "List volumes.");
	strv_free(pos);
	if (rc >= 0)
		return rc;
	bool json = format && streq(format, "json");
	if (format && !json && !streq(format, "table"))
		return usage_error("volume ls", "--format is table or json");
	char **names = vol_list(berth_root(), NULL);
	_cleanup_(json_releasep) json_t *all = json_array();
	if (!quiet && !json)
		printf("%-8s %s\n", "DRIVER", "VOLUME NAME");
	for (size_t i = 0; names[i]; i++) {
		if (quiet)
			printf("%s\n", names[i]);
		else if (json)
			json_array_append_new(all, record(names[i]));
		else
			printf("%-8s %s\n", "local", names[i]);
	}
	if (json) {
		char *t = json_dumps(all, JSON_COMPACT);
		printf("%s\n", t);
		free(t);
	}
	strv_free(names);
	return 0;
}

static int volume_create(int argc, char **argv)
{
	const char *driver = NULL;
	char **pos = NULL, **labels = NULL, **opts = NULL;
	const struct flag flags[] = {
		{"driver", 'd', FLAG_STR, &driver, "DRIVER", "local (the only one)"},
		{"label", 0, FLAG_LIST, &labels, "KEY=VALUE", "Label; repeatable"},
		{"opt", 'o', FLAG_LIST, &opts, "KEY=VALUE", "Driver option: type, device, o"},
	};
	int rc = cmd_flags("volume create", flags, ARRAY_SIZE(flags), argc, argv, &pos,
			   "berth volume create [OPTIONS] [NAME]", "Create a volume.");
	_cleanup_(strv_freep) char **args = pos;
	_cleanup_(strv_freep) char **lab = labels;
	_cleanup_(strv_freep) char **o = opts;
	if (rc >= 0)
		return rc;
	if (strv_len(args) > 1)
		return usage_error("volume create", "give at most one volume name");
	if (driver && !streq(driver, "local"))
		return usage_error("volume create", "only the local driver is supported");
	_cleanup_free_ char *name = args && args[0] ? xstrdup(args[0]) : vol_anon_name();
	struct vol_def d = {.name = name, .opts = o, .labels = lab, .anonymous = !(args && args[0])};
	struct berr *err = NULL;
	if (apply_volume_create(cli_ctx(), &d, &err) < 0)
		return report(err);
	printf("%s\n", name);
	return 0;
}

static int volume_rm(int argc, char **argv)
{
	bool force = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"force", 'f', FLAG_BOOL, &force, NULL, "No error for a volume that does not exist"},
	};
	int rc = cmd_flags("volume rm", flags, ARRAY_SIZE(flags), argc, argv, &pos,
			   "berth volume rm [OPTIONS] VOLUME...", "Remove volumes.");
	_cleanup_(strv_freep) char **args = pos;
	if (rc >= 0)
		return rc;
	if (strv_len(args) == 0)
		return usage_error("volume rm", "give at least one volume name");
	int status = 0;
	for (size_t i = 0; args[i]; i++) {
		struct berr *err = NULL;
		if (apply_volume_remove(cli_ctx(), args[i], force, &err) < 0)
			status = report(err);
		else
			printf("%s\n", args[i]);
	}
	return status;
}

/* docker volume inspect's shape, from berth's record */
static char *inspect_docker(const char *root, const char *name)
{
	_cleanup_(strv_freep) char **by = ctr_volume_users(root, name);
	char *text = vol_inspect(root, name, by);
	_cleanup_(json_releasep) json_t *r = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	if (!r)
		return NULL;
	json_t *labels = compose_labels(
		json_object_get(r, "labels"),
		json_is_true(json_object_get(r, "anonymous")) ? NULL : json_string_value(json_object_get(r, "project")),
		name, "com.docker.compose.volume");
	json_t *opts = json_object_get(r, "options");
	json_t *users = json_object_get(r, "used_by"); /* berth's own: the containers that mount it */
	json_t *d = json_pack("{s:o, s:s, s:o, s:s, s:s, s:O, s:s, s:o}", "CreatedAt",
			      json_rfc3339(json_integer_value(json_object_get(r, "created_ms"))), "Driver", "local",
			      "Labels", labels, "Mountpoint", json_string_value(json_object_get(r, "mountpoint")) ?: "",
			      "Name", name, "Options", json_object_size(opts) ? opts : json_null(), "Scope", "local",
			      "UsedBy", users ? json_incref(users) : json_array());
	return inspect_text(d);
}

static int volume_inspect(int argc, char **argv)
{
	return inspect_each("volume", "volume", inspect_docker, argc, argv);
}

static int volume_prune(int argc, char **argv)
{
	bool all = false, force = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"all", 'a', FLAG_BOOL, &all, NULL, "Named volumes too, not only anonymous ones"},
		{"force", 'f', FLAG_BOOL, &force, NULL, "Do not ask (berth never asks)"},
	};
	int rc = cmd_flags("volume prune", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth volume prune [OPTIONS]",
			   "Remove volumes no container uses.");
	strv_free(pos);
	if (rc >= 0)
		return rc;
	char **names = vol_list(berth_root(), NULL);
	int status = 0;
	for (size_t i = 0; names[i]; i++) {
		json_t *j = record(names[i]);
		bool anon = json_is_true(json_object_get(j, "anonymous"));
		bool used = json_array_size(json_object_get(j, "used_by")) > 0;
		json_decref(j);
		if (used || (!anon && !all))
			continue;
		struct berr *err = NULL;
		if (apply_volume_remove(cli_ctx(), names[i], false, &err) < 0)
			status = report(err);
		else
			printf("%s\n", names[i]);
	}
	strv_free(names);
	return status;
}

static const struct subcommand volume_commands[] = {
	{"ls", "List volumes", volume_ls},
	{"create", "Create a volume", volume_create},
	{"rm", "Remove volumes", volume_rm},
	{"inspect", "Show a volume's record", volume_inspect},
	{"prune", "Remove volumes no container uses", volume_prune},
};

int cmd_volume(struct global_opts *g, int argc, char **argv)
{
	(void)g;
	return subcommand_run("volume", "Manage volumes.", volume_commands, ARRAY_SIZE(volume_commands), argc, argv);
}
