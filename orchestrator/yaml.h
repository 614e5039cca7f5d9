/* YAML text to node trees (libyaml events): anchors and aliases, merge keys,
 * the !reset and !override tags, duplicate keys refused, bounded expansion. */
#ifndef BERTH_YAML_H
#define BERTH_YAML_H

#include "node.h"

#define YAML_MAX_DEPTH 200
#define YAML_MAX_NODES 2000000
#define YAML_MAX_BYTES (128u << 20)

/* Parse every document of data. An empty stream gives no documents. */
int yaml_parse(const char *path, const char *data, size_t len, struct node ***docs, size_t *ndocs, struct berr **err);
void yaml_docs_free(struct node **docs, size_t n);

#endif
