/* What the host's IPv4 networking already uses (addresses and routes, read
 * with libnl-route), so that berth's subnets never overlap it. */
#ifndef BERTH_HOSTNET_H
#define BERTH_HOSTNET_H

#include "ipam.h"

/* Every IPv4 subnet of an address on a host interface, and every route's
 * destination except the default route. */
int hostnet_used(struct cidr **out, size_t *n, struct berr **err);

struct buf;
/* The host's /etc/resolv.conf lines a container may take: its nameservers
 * (loopback ones only with loopback: a stub another network namespace
 * cannot reach), its search and domain lines, its options. */
void hostnet_resolv(struct buf *out, bool nameservers, bool loopback, bool search, bool options);

#endif
