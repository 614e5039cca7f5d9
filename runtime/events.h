/* The event log of a state root: one JSON line per event, appended by
 * berth and by the shims (events.log, rotated at 8 MiB), read by
 * `berth events`. */
#ifndef BERTH_EVENTS_H
#define BERTH_EVENTS_H

#include "../lib/err.h"

/* Append an event of container `name`: action as Docker names them
 * ("create", "start", "die", "health_status: healthy", ...), attrs a JSON
 * object's members ("\"exitCode\":\"1\"") or NULL. Best effort: an event
 * that cannot be written is dropped. */
void events_add(const char *root, const char *name, const char *action, const char *attrs);

/* The log's path in root (malloc'd). */
char *events_path(const char *root);

#endif
