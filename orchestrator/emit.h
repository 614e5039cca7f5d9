/* Writing a node tree out as YAML (libyaml's emitter) or JSON. */
#ifndef BERTH_EMIT_H
#define BERTH_EMIT_H

#include "node.h"

/* YAML that reads back to the same values: strings that would read as
 * another type are quoted, multi-line strings use the literal style. */
int emit_yaml(const struct node *n, struct buf *out, struct berr **err);
/* The same, laid out as Go's yaml.v3 lays it out (what docker compose
 * bridge writes): four spaces a level, a sequence indented under its key,
 * a mapping in a sequence item beside its "- ". Scalars flagged
 * NF_QUOTED are double-quoted, NF_VERBATIM ones written as they are. */
int emit_yaml_v3(const struct node *n, struct buf *out, struct berr **err);

#endif
