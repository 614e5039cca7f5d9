/* Links, addresses and routes through libnl-route, and network namespaces
 * kept alive by a bind mount: what a bridge network is made of in the
 * kernel. Every call is idempotent where it can be: adding what exists
 * already or deleting what is gone is not an error. */
#ifndef BERTH_LINK_H
#define BERTH_LINK_H

#include <stdint.h>

#include "../lib/err.h"

struct nl_sock;

/* A NETLINK_ROUTE socket in the caller's network namespace. */
int link_open(struct nl_sock **sk, struct berr **err);
void link_close(struct nl_sock *sk);

/* A bridge with gw/prefix on it, up; mtu 0 keeps the kernel's; alias (may
 * be NULL) is kept by the kernel with it (IFLA_IFALIAS). An existing bridge
 * of that name is kept and completed. */
int link_bridge_add(struct nl_sock *sk, const char *name, const char *alias, int mtu, uint32_t gw, int prefix,
		    struct berr **err);
/* "LINK REST" for every link whose alias starts with prefix (REST: the
 * alias after it). */
char **link_by_alias(struct nl_sock *sk, const char *prefix);
int link_delete(struct nl_sock *sk, const char *name, struct berr **err);
bool link_exists(struct nl_sock *sk, const char *name);
/* Deletes links together: one device unregistration for all of them,
 * which spares one RCU grace period (tens of ms) per link. */
int link_delete_many(struct nl_sock *sk, char *const *names, struct berr **err);

/* A veth pair: `host` attached to `bridge` and up (with alias, when not
 * NULL), its peer created directly in the namespace nsfd under the name
 * `peer` with `mac`. */
int link_veth_add(struct nl_sock *sk, const char *host, const char *alias, const char *bridge, int nsfd,
		  const char *peer, const uint8_t mac[6], int mtu, struct berr **err);

/* Inside a namespace (sk opened there): ip/prefix on ifname, the link up,
 * and, when gw is not 0, the default route through it. */
int link_configure(struct nl_sock *sk, const char *ifname, uint32_t ip, int prefix, uint32_t gw, struct berr **err);
/* Another address on the interface (link_local_ips). */
int link_addr_add(struct nl_sock *sk, const char *ifname, uint32_t ip, int prefix, struct berr **err);
int link_set_up(struct nl_sock *sk, const char *name, struct berr **err);

/* A new network namespace bound at path (a new empty file), with lo up;
 * *sk (when not NULL) is a netlink socket inside it. */
int netns_create(const char *path, struct nl_sock **sk, struct berr **err);
/* Unmount and unlink; a path that is not there is not an error. */
int netns_remove(const char *path, struct berr **err);

#endif
