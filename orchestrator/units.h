/* Parsers for the small value languages inside compose files. Pure functions. */
#ifndef BERTH_UNITS_H
#define BERTH_UNITS_H

#include "../lib/err.h"
#include "../lib/util.h"

/* Go duration syntax ("1m30s", "500ms", "1.5h") to nanoseconds. */
int duration_parse(const char *s, long long *ns);
/* The canonical Go spelling of a duration ("1m30s", "500ms", "1h0m0s"). */
char *duration_format(long long ns);
/* Docker's RAMInBytes: "512m", "1g", "1.5GB", "1024" (binary multiples). */
int bytes_parse(const char *s, long long *bytes);
/* Split a command string into words as Compose does (shell quoting rules,
 * no expansion). Returns NULL-terminated vector, or NULL on unclosed quotes. */
char **shell_split(const char *s);
/* The shortest decimal text that reads back as d ("0.5", "1", "1.25"). */
char *float_format(double d);

/* One published-port mapping. published is "" when none was given. */
struct port_spec {
	char host_ip[64];
	char published[32];
	unsigned target;
	char protocol[8];
};
/* Parse "[[ip:]published:]target[/proto]" with ranges; fills up to max entries.
 * With out NULL, only checks the spec and counts its mappings into *n. */
int port_parse(const char *s, struct port_spec *out, size_t max, size_t *n, struct berr **err);

#endif
