/* Checks on the whole, normalized project: every reference names something
 * that exists, and depends_on has no cycle. */
#ifndef BERTH_CHECK_H
#define BERTH_CHECK_H

#include "node.h"

int check_references(struct node *doc, struct berr **err);
/* Every name that becomes a path (services, container_name, networks,
 * volumes, secrets, configs and their name:) is one Docker accepts. */
int check_names(struct node *doc, struct berr **err);
/* What a service waits for: depends_on, links, volumes_from and service:
 * modes (network_mode, ipc, pid); names of services, maybe repeated. */
char **check_dependencies(struct node *svc);
/* Services in an order where each comes after everything it depends on. */
int check_dependency_order(struct node *doc, char ***order, struct berr **err);

#endif
