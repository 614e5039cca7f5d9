/* berth ls: every project on the host that has containers, as docker
 * compose ls lists them: its name, how many of its containers are in
 * which state ("running(2), exited(1)"), and its compose files. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "../lib/json.h"
#include "../lib/util.h"
#include "../orchestrator/apply.h"
#include "../runtime/ctr.h"
#include "cli.h"
#include "table.h"

struct proj {
	char *name, *files;
	int counts[ST_DEAD + 1];
};

static struct proj *find(struct proj **ps, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (streq((*ps)[i].name, name))
			return &(*ps)[i];
	*ps = xrealloc(*ps, (*n + 1) * sizeof(**ps));
	(*ps)[*n] = (struct proj){.name = xstrdup(name)};
	return &(*ps)[(*n)++];
}

/* The projects, from the records of the containers in the state root. */
static struct proj *projects(const char *root, size_t *n)
{
	struct proj *ps = NULL;
	*n = 0;
	char **names = ctr_list(root);
	for (size_t i = 0; names[i]; i++) {
		_cleanup_(json_releasep) json_t *meta = apply_meta(root, names[i]);
		const char *project = json_string_value(json_object_get(meta, "project"));
		struct ctr_state st;
		if (project && ctr_state(root, names[i], &st, NULL) == 0) {
			struct proj *p = find(&ps, n, project);
			p->counts[st.status]++;
			const char *files = json_string_value(json_object_get(
				json_object_get(meta, "labels"), "com.docker.compose.project.config_files"));
			if (files && !p->files)
				p->files = xstrdup(files);
			state_free(&st);
		}
	}
	strv_free(names);
	return ps;
}

/* "running(2), exited(1)": running first, then the others by name. */
static char *status_of(const struct proj *p)
{
	static const enum ctr_status order[] = {ST_RUNNING, ST_CREATED, ST_DEAD, ST_EXITED, ST_RESTARTING};
	char out[256] = "";
	size_t len = 0;
	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		if (p->counts[order[i]])
			len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s(%d)", len ? ", " : "",
						ctr_status_name(order[i]), p->counts[order[i]]);
	return xstrdup(out);
}

static int cmp_proj(const void *a, const void *b)
{
	return strcmp(((const struct proj *)a)->name, ((const struct proj *)b)->name);
}

/* --filter name=X (a part of the name, as docker's filter matches). */
static bool wanted(const struct proj *p, bool all, const char *filter)
{
	if (!all && !p->counts[ST_RUNNING] && !p->counts[ST_RESTARTING])
		return false;
	return !filter || strstr(p->name, filter + 5);
}

int cmd_ls(struct global_opts *g, int argc, char **argv)
{
	(void)g;
	bool all = false, quiet = false;
	const char *format = NULL, *filter = NULL;
	char **pos = NULL;
	const struct flag flags[] = {
		{"all", 'a', FLAG_BOOL, &all, NULL, "Show all projects, stopped ones too"},
		{"quiet", 'q', FLAG_BOOL, &quiet, NULL, "Only show project names"},
		{"format", 0, FLAG_STR, &format, "FORMAT", "table or json"},
		{"filter", 0, FLAG_STR, &filter, "name=NAME", "Only the projects whose name has NAME"},
	};
	int rc = cmd_flags("ls", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth ls [OPTIONS]",
			   "List running compose projects.");
	_cleanup_(strv_freep) char **p = pos;
	if (rc < 0 && p && p[0])
		rc = usage_error("ls", "ls takes no arguments");
	if (rc < 0 && format && !streq(format, "table") && !streq(format, "json"))
		rc = usage_error("ls", "--format takes table or json");
	if (rc < 0 && filter && !startswith(filter, "name="))
		rc = usage_error("ls", "--filter takes name=NAME");
	if (rc >= 0)
		return rc;
	size_t n;
	struct proj *ps = projects(berth_root(), &n);
	if (n > 1)
		qsort(ps, n, sizeof(*ps), cmp_proj);
	struct table t;
	static const char *const head[] = {"NAME", "STATUS", "CONFIG FILES"};
	bool json = streq(format, "json");
	_cleanup_(json_releasep) json_t *arr = json_array();
	if (!quiet && !json)
		table_init(&t, 3, head);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *status = status_of(&ps[i]);
		const char *files = ps[i].files ? ps[i].files : "";
		if (wanted(&ps[i], all, filter) && quiet)
			printf("%s\n", ps[i].name);
		else if (wanted(&ps[i], all, filter) && json)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "Name", ps[i].name, "Status", status,
							     "ConfigFiles", files));
		else if (wanted(&ps[i], all, filter))
			table_add(&t, (const char *const[]){ps[i].name, status, files});
		free(ps[i].name);
		free(ps[i].files);
	}
	free(ps);
	if (json) {
		char *text = json_dumps(arr, JSON_COMPACT);
		printf("%s\n", text);
		free(text);
	} else if (!quiet) {
		table_print(&t);
	}
	return 0;
}
