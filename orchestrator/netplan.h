/* From the project model to what network/ builds: the networks a set of
 * services uses, and one container's attachments, published ports and
 * links. Strings point into the model; free with the *_free calls. */
#ifndef BERTH_NETPLAN_H
#define BERTH_NETPLAN_H

#include "../network/net.h"
#include "project.h"

/* Whether a service's containers get a network namespace of their own
 * (every network_mode but host, service: and container:). */
bool netplan_own_netns(struct node *svc);
/* What a container joins: "host", or the path of a network namespace. */
char *netplan_netns(const struct project *p, const char *root, const char *service, const char *container);

/* The networks used by the services in `services` (NULL: all). */
int netplan_defs(const struct project *p, char *const *services, struct net_def **out, size_t *n, struct berr **err);
/* Every network the file declares, used or not (--all-resources). */
int netplan_defs_declared(const struct project *p, struct net_def **out, size_t *n, struct berr **err);
void netplan_defs_free(struct net_def *d, size_t n);

int netplan_endpoint(const struct project *p, const char *service, const char *container, const char *hostname,
		     struct net_endpoint *e, struct berr **err);
void netplan_endpoint_free(struct net_endpoint *e);

/* Two endpoints that publish the same host port: the message, or NULL. */
int netplan_port_clash(const struct net_endpoint *a, const struct net_endpoint *b, struct berr **err);

#endif
