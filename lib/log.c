#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static enum log_level level = LOG_WARN;
static log_handler_fn handler = log_print;
static void *handler_data;

static const char *const names[] = {"debug", "info", "notice", "warn", "error"};

void log_set_level(enum log_level l) { level = l; }

void log_set_handler(log_handler_fn fn, void *data)
{
	handler = fn ? fn : log_print;
	handler_data = data;
}

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

void log_print(enum log_level l, const char *msg, void *data)
{
	if (l == LOG_NOTICE)
		fprintf(stderr, "%s\n", msg);
	else if (l == LOG_ERROR)
		fprintf(stderr, "berth: %s\n", msg);
	else
		fprintf(stderr, "berth: %s: %s\n", l == LOG_WARN ? "warning" : names[l], msg);
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	if (l < level && l != LOG_NOTICE)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg)
		handler(l, msg, handler_data);
	free(msg);
}
