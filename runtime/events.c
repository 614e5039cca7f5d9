#include "events.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EVENTS_MAX (8u << 20)

char *events_path(const char *root) { return xasprintf("%s/events.log", root); }

void events_add(const char *root, const char *name, const char *action, const char *attrs)
{
	_cleanup_free_ char *path = events_path(root);
	struct stat st;
	if (stat(path, &st) == 0 && st.st_size > EVENTS_MAX) {
		_cleanup_free_ char *old = xasprintf("%s.1", path);
		rename(path, old); /* whoever gets there first rotates; the others write to the new file */
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[40];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	char line[PIPE_BUF];
	/* one write of at most PIPE_BUF bytes with O_APPEND: lines of several
	 * writers never interleave */
	int n = snprintf(
		line, sizeof(line),
		"{\"time\":\"%s.%09ldZ\",\"timeNano\":%lld,\"type\":\"container\",\"action\":\"%s\",\"id\":\"%s\","
		"\"attributes\":{\"name\":\"%s\"%s%s}}\n",
		when, ts.tv_nsec, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, action, name, name,
		attrs ? "," : "", attrs ? attrs : "");
	if (n <= 0 || n >= (int)sizeof(line))
		return;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) < 0) {
		/* dropped: events are a record, not a control path */
	}
	close(fd);
}
