/* Small jansson helpers shared by berth and its shim. */
#ifndef BERTH_JSON_H
#define BERTH_JSON_H

#include <jansson.h>

/* A NULL-terminated copy of the strings of a JSON array; NULL when a is not an array. */
char **json_strv(json_t *a);
/* A JSON array of the strings of v (NULL gives []). */
json_t *strv_json(char *const *v);
/* A JSON object of "KEY=VALUE" strings (a bare KEY gets ""). */
json_t *kv_json(char *const *kv);

/* _cleanup_(json_releasep) json_t *j: let go of at the end of its scope
 * (jansson's own json_decrefp is 2.14's; Ubuntu 22.04 has 2.13). */
static inline void json_releasep(json_t **j)
{
	json_decref(*j);
	*j = NULL;
}

#endif
