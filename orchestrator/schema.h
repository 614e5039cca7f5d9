/* Validation of a compose document against the Compose JSON schema
 * (orchestrator/schema/compose-spec.json, built in). */
#ifndef BERTH_SCHEMA_H
#define BERTH_SCHEMA_H

#include "node.h"

struct schema;

int schema_open(struct schema **out, struct berr **err);
void schema_close(struct schema *s);
/* Check doc; the first problem found is reported as
 * "file:line:col: path: what is wrong, and what to write instead". */
int schema_validate(struct schema *s, struct node *doc, struct berr **err);

#endif
