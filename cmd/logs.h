/* Reading and printing container logs (berth logs, attached berth up). */
#ifndef BERTH_CMD_LOGS_H
#define BERTH_CMD_LOGS_H

#include "../orchestrator/apply.h"

struct log_view {
	char **names; /* container names */
	char **shown; /* as docker compose prefixes lines: the name without "PROJECT-" */
	size_t width; /* of the longest shown name, plus one */
	bool prefix, color, timestamps;
	int64_t since, until;
	bool *only_new; /* per container (NULL: none): start at the end of its log */
	bool *cont;     /* per container: a long line's first pieces printed, its end to come */
	const char *project;
	/* following: the containers there are now (a scale up, a recreate),
	 * asked each second; the new ones are followed from their start */
	char **(*discover)(void *data);
	void *discover_data;
};

struct log_view *log_view_new(const char *project, struct ctr_info *list, size_t n, bool prefix, bool color,
			      bool timestamps);
void log_view_free(struct log_view *lv);
/* Print the logs (the last tail lines of each, all when tail < 0); with
 * follow, keep printing until stop(data) says to end. */
int show_logs(const char *root, struct log_view *lv, long tail, bool follow, bool (*stop)(void *), void *data);

#endif
