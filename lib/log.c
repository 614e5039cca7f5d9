#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

static enum log_level level = LOG_WARN;

static const char *const names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level l) { level = l; }

int log_parse_level(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcasecmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*out = LOG_WARN;
		return 0;
	}
	return -1;
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	if (l < level)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "berth: %s: ", l == LOG_WARN ? "warning" : names[l]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
