/* What the host's IPv4 networking already uses (addresses and routes, read
 * with libnl-route), so that berth's subnets never overlap it. */
#ifndef BERTH_HOSTNET_H
#define BERTH_HOSTNET_H

#include "ipam.h"

/* Every IPv4 subnet of an address on a host interface, and every route's
 * destination except the default route. */
int hostnet_used(struct cidr **out, size_t *n, struct berr **err);

#endif
