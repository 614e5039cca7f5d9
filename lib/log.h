/* What library code tells the user while a command goes on: notices (what
 * it does, as docker compose says it: "Watch enabled"), warnings (a key
 * with no effect here) and errors that do not stop the command (a volume
 * that is kept). It goes through the handler the CLI installs
 * (cmd/main.c); without one, to stderr. Library code never writes to
 * stderr itself. Quiet by default: BERTH_LOG=debug or --log-level for more;
 * notices are shown at every level. */
#ifndef BERTH_LOG_H
#define BERTH_LOG_H

#include "util.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARN, LOG_ERROR };

typedef void (*log_handler_fn)(enum log_level l, const char *msg, void *data);

void log_set_level(enum log_level l);
int log_parse_level(const char *s, enum log_level *out);
/* fn NULL: the default, log_print. */
void log_set_handler(log_handler_fn fn, void *data);
/* The default handler: "berth: warning: MSG" (error: "berth: MSG"; a
 * notice: MSG as it is) on stderr. */
void log_print(enum log_level l, const char *msg, void *data);
void log_msg(enum log_level l, const char *fmt, ...) _printf_(2, 3);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
