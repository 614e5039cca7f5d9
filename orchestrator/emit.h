/* Writing a node tree out as YAML (libyaml's emitter) or JSON. */
#ifndef BERTH_EMIT_H
#define BERTH_EMIT_H

#include "node.h"

/* YAML that reads back to the same values: strings that would read as
 * another type are quoted, multi-line strings use the literal style. */
int emit_yaml(const struct node *n, struct buf *out, struct berr **err);

#endif
