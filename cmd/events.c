/* berth events: the project's container events as they happen, read from
 * the state root's event log (runtime/events.h), as docker compose events
 * prints them. */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>

#include "../lib/fs.h"
#include "../orchestrator/apply.h"
#include "../runtime/events.h"
#include "cli.h"

/* The service of a container of this project, or NULL when it is not one:
 * the containers berth knows, else a name of the project's own pattern. */
static char *service_of(const struct project *p, const char *name, json_t *attrs)
{
	const char *s = json_string_value(json_object_get(attrs, "service"));
	if (s)
		return xstrdup(s);
	size_t n;
	struct ctr_info *list = apply_list(p, berth_root(), &n);
	char *found = NULL;
	for (size_t i = 0; i < n && !found; i++)
		if (streq(list[i].name, name))
			found = xstrdup(list[i].service);
	ctr_info_free(list, n);
	size_t plen = strlen(p->name);
	if (!found && strncmp(name, p->name, plen) == 0 && name[plen] == '-') {
		const char *rest = name + plen + 1, *dash = strrchr(rest, '-');
		if (dash && dash > rest)
			found = xstrndup(rest, (size_t)(dash - rest));
	}
	return found;
}

static void print_event(const struct project *p, const char *line, bool as_json, char **services)
{
	json_t *e = json_loads(line, 0, NULL);
	const char *name = json_string_value(json_object_get(e, "id"));
	_cleanup_free_ char *service = name ? service_of(p, name, json_object_get(e, "attributes")) : NULL;
	if (!service || (services && services[0] && !strv_contains(services, service))) {
		json_decref(e);
		return;
	}
	json_object_set_new(e, "service", json_string(service));
	if (as_json) {
		char *text = json_dumps(e, JSON_COMPACT);
		printf("%s\n", text);
		free(text);
	} else {
		printf("%s container %s %s (", json_string_value(json_object_get(e, "time")),
		       json_string_value(json_object_get(e, "action")), name);
		const char *k;
		json_t *v;
		bool first = true;
		json_object_foreach(json_object_get(e, "attributes"), k, v)
		{
			printf("%s%s=%s", first ? "" : ", ", k, json_string_value(v) ? json_string_value(v) : "");
			first = false;
		}
		printf(")\n");
	}
	fflush(stdout);
	json_decref(e);
}

int cmd_events(struct global_opts *g, int argc, char **argv)
{
	bool as_json = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"json", 0, FLAG_BOOL, &as_json, NULL, "Output events as JSON lines"},
	};
	int rc = cmd_flags("events", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth events [OPTIONS] [SERVICE...]",
			   "Receive real time events from containers.");
	_cleanup_(strv_freep) char **services = pos;
	if (rc >= 0)
		return rc;
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	if (project_open(g, services, false, &p, &err) < 0) /* an unknown service is named */
		return report(err);
	_cleanup_free_ char *path = events_path(berth_root());
	/* what happens from now on; the log may rotate under us */
	struct stat st;
	off_t offset = stat(path, &st) == 0 ? st.st_size : 0;
	ino_t ino = stat(path, &st) == 0 ? st.st_ino : 0;
	for (;;) {
		if (stat(path, &st) == 0 && (st.st_ino != ino || st.st_size < offset)) {
			ino = st.st_ino;
			offset = 0;
		}
		FILE *f = fopen(path, "re");
		if (f && fseeko(f, offset, SEEK_SET) == 0) {
			char *line = NULL;
			size_t cap = 0;
			ssize_t len;
			while ((len = getline(&line, &cap, f)) > 0 && line[len - 1] == '\n') {
				offset += len;
				print_event(p, line, as_json, services);
			}
			free(line);
		}
		if (f)
			fclose(f);
		poll(NULL, 0, 100);
	}
}
