#include "link.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <unistd.h>

static int nl_fail(struct berr **err, int nlerr, const char *what, const char *name)
{
	return berr_set(err, EIO, "cannot %s %s: %s", what, name, nl_geterror(nlerr));
}

int link_open(struct nl_sock **sk, struct berr **err)
{
	*sk = nl_socket_alloc();
	if (!*sk)
		return berr_set(err, ENOMEM, "cannot allocate a netlink socket");
	int r = nl_connect(*sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(*sk);
		*sk = NULL;
		return berr_set(err, EIO, "cannot open a netlink socket: %s", nl_geterror(r));
	}
	return 0;
}

void link_close(struct nl_sock *sk)
{
	if (sk)
		nl_socket_free(sk);
}

static int ifindex_of(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = NULL;
	if (rtnl_link_get_kernel(sk, 0, name, &l) < 0)
		return 0;
	int i = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return i;
}

bool link_exists(struct nl_sock *sk, const char *name) { return ifindex_of(sk, name) > 0; }

/* Up, and with alias when not NULL (the kernel takes an alias only from a
 * change, not with a new link). */
static int link_up_alias(struct nl_sock *sk, const char *name, const char *alias, struct berr **err)
{
	struct rtnl_link *l = NULL;
	int r = rtnl_link_get_kernel(sk, 0, name, &l);
	if (r < 0)
		return nl_fail(err, r, "find link", name);
	struct rtnl_link *change = rtnl_link_alloc();
	rtnl_link_set_flags(change, IFF_UP);
	if (alias)
		rtnl_link_set_ifalias(change, alias);
	r = rtnl_link_change(sk, l, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(l);
	return r < 0 ? nl_fail(err, r, "bring up", name) : 0;
}

int link_set_up(struct nl_sock *sk, const char *name, struct berr **err) { return link_up_alias(sk, name, NULL, err); }

static struct nl_addr *ip4(uint32_t ip, int prefix)
{
	uint32_t be = htonl(ip);
	struct nl_addr *a = nl_addr_build(AF_INET, &be, 4);
	nl_addr_set_prefixlen(a, prefix);
	return a;
}

static int addr_add(struct nl_sock *sk, int ifindex, uint32_t ip, int prefix, const char *name, struct berr **err)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = ip4(ip, prefix);
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_local(a, local);
	if (prefix < 31) {
		struct nl_addr *bcast = ip4(ip | (0xffffffffu >> prefix), 32);
		rtnl_addr_set_broadcast(a, bcast);
		nl_addr_put(bcast);
	}
	int r = rtnl_addr_add(sk, a, 0);
	nl_addr_put(local);
	rtnl_addr_put(a);
	return r < 0 && r != -NLE_EXIST ? nl_fail(err, r, "add an address to", name) : 0;
}

int link_bridge_add(struct nl_sock *sk, const char *name, const char *alias, int mtu, uint32_t gw, int prefix,
		    struct berr **err)
{
	if (strlen(name) >= IFNAMSIZ)
		return berr_set(err, EINVAL, "bridge name %s is longer than %d bytes", name, IFNAMSIZ - 1);
	struct rtnl_link *l = rtnl_link_bridge_alloc();
	rtnl_link_set_name(l, name);
	if (mtu > 0)
		rtnl_link_set_mtu(l, (unsigned)mtu);
	int r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	if (r < 0 && r != -NLE_EXIST)
		return nl_fail(err, r, "create bridge", name);
	int idx = ifindex_of(sk, name);
	if (idx <= 0)
		return berr_set(err, ENODEV, "bridge %s vanished while it was made", name);
	r = addr_add(sk, idx, gw, prefix, name, err);
	return r < 0 ? r : link_up_alias(sk, name, alias, err);
}

struct alias_scan {
	const char *prefix;
	char **out;
};

static void alias_match(struct nl_object *o, void *data)
{
	struct alias_scan *s = data;
	struct rtnl_link *l = (struct rtnl_link *)o;
	const char *alias = rtnl_link_get_ifalias(l);
	if (alias && startswith(alias, s->prefix))
		strv_push(&s->out, xasprintf("%s %s", rtnl_link_get_name(l), alias + strlen(s->prefix)));
}

char **link_by_alias(struct nl_sock *sk, const char *prefix)
{
	struct alias_scan scan = {prefix, xcalloc(1, sizeof(char *))};
	struct nl_cache *cache = NULL;
	if (rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache) == 0) {
		nl_cache_foreach(cache, alias_match, &scan);
		nl_cache_free(cache);
	}
	return scan.out;
}

int link_delete(struct nl_sock *sk, const char *name, struct berr **err)
{
	struct rtnl_link *l = rtnl_link_alloc();
	rtnl_link_set_name(l, name);
	int r = rtnl_link_delete(sk, l);
	rtnl_link_put(l);
	return r < 0 && r != -NLE_OBJ_NOTFOUND && r != -NLE_NODEV ? nl_fail(err, r, "delete link", name) : 0;
}

struct group_scan {
	uint32_t g;
	bool used;
};

static void group_used(struct nl_object *o, void *data)
{
	struct group_scan *s = data;
	s->used |= rtnl_link_get_group((struct rtnl_link *)o) == s->g;
}

int link_delete_many(struct nl_sock *sk, char *const *names, struct berr **err)
{
	size_t n = strv_len(names);
	if (n <= 1)
		return n == 1 ? link_delete(sk, names[0], err) : 0;
	/* a device group nobody uses, put on each link, then one RTM_DELLINK for
	 * the group: the kernel unregisters them together */
	struct nl_cache *cache = NULL;
	int r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (r < 0)
		return nl_fail(err, r, "list", "links");
	struct group_scan scan = {0};
	do {
		if (getrandom(&scan.g, sizeof(scan.g), 0) != sizeof(scan.g))
			scan.g = (uint32_t)getpid() * 2654435761u;
		scan.used = scan.g == 0;
		nl_cache_foreach(cache, group_used, &scan);
	} while (scan.used);
	size_t grouped = 0;
	for (size_t i = 0; names[i]; i++) {
		struct rtnl_link *l = rtnl_link_get_by_name(cache, names[i]);
		if (!l)
			continue; /* gone already */
		struct rtnl_link *change = rtnl_link_alloc();
		rtnl_link_set_group(change, scan.g);
		if (rtnl_link_change(sk, l, change, 0) == 0)
			grouped++;
		else
			link_delete(sk, names[i], NULL);
		rtnl_link_put(change);
		rtnl_link_put(l);
	}
	nl_cache_free(cache);
	if (grouped == 0)
		return 0;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
	if (!msg || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, IFLA_GROUP, scan.g) < 0) {
		nlmsg_free(msg);
		return berr_set(err, ENOMEM, "cannot build a netlink message");
	}
	r = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (r >= 0)
		r = nl_wait_for_ack(sk);
	return r < 0 && r != -NLE_NODEV && r != -NLE_OBJ_NOTFOUND ? nl_fail(err, r, "delete", "links") : 0;
}

int link_veth_add(struct nl_sock *sk, const char *host, const char *alias, const char *bridge, int nsfd,
		  const char *peer, const uint8_t mac[6], int mtu, struct berr **err)
{
	int br = ifindex_of(sk, bridge);
	if (br <= 0)
		return berr_set(err, ENODEV, "bridge %s does not exist", bridge);
	struct rtnl_link *veth = rtnl_link_veth_alloc();
	struct rtnl_link *p = rtnl_link_veth_get_peer(veth);
	rtnl_link_set_name(veth, host);
	rtnl_link_set_master(veth, br);
	rtnl_link_set_flags(veth, IFF_UP);
	rtnl_link_set_name(p, peer);
	rtnl_link_set_ns_fd(p, nsfd);
	struct nl_addr *hw = nl_addr_build(AF_LLC, mac, 6);
	rtnl_link_set_addr(p, hw);
	if (mtu > 0) {
		rtnl_link_set_mtu(veth, (unsigned)mtu);
		rtnl_link_set_mtu(p, (unsigned)mtu);
	}
	int r = rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL);
	nl_addr_put(hw);
	rtnl_link_put(p);
	rtnl_link_veth_release(veth);
	if (r < 0)
		return nl_fail(err, r, "create veth pair", host);
	return alias ? link_up_alias(sk, host, alias, err) : 0;
}

int link_addr_add(struct nl_sock *sk, const char *ifname, uint32_t ip, int prefix, struct berr **err)
{
	int idx = ifindex_of(sk, ifname);
	if (idx <= 0)
		return berr_set(err, ENODEV, "%s is missing in the container's network namespace", ifname);
	return addr_add(sk, idx, ip, prefix, ifname, err);
}

int link_configure(struct nl_sock *sk, const char *ifname, uint32_t ip, int prefix, uint32_t gw, struct berr **err)
{
	int idx = ifindex_of(sk, ifname);
	if (idx <= 0)
		return berr_set(err, ENODEV, "%s is missing in the container's network namespace", ifname);
	int r = addr_add(sk, idx, ip, prefix, ifname, err);
	if (r == 0)
		r = link_set_up(sk, ifname, err);
	if (r < 0 || gw == 0)
		return r;
	struct rtnl_route *rt = rtnl_route_alloc();
	struct nl_addr *dst = ip4(0, 0);
	struct nl_addr *via = ip4(gw, 32);
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_dst(rt, dst);
	rtnl_route_nh_set_gateway(nh, via);
	rtnl_route_nh_set_ifindex(nh, idx);
	rtnl_route_add_nexthop(rt, nh);
	r = rtnl_route_add(sk, rt, NLM_F_CREATE);
	nl_addr_put(dst);
	nl_addr_put(via);
	rtnl_route_put(rt);
	return r < 0 && r != -NLE_EXIST ? nl_fail(err, r, "add the default route on", ifname) : 0;
}

int netns_create(const char *path, struct nl_sock **sk, struct berr **err)
{
	_cleanup_close_ int file = open(path, O_CREAT | O_EXCL | O_RDONLY | O_CLOEXEC, 0444);
	if (file < 0)
		return berr_sys(err, errno, "cannot create %s", path);
	_cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || unshare(CLONE_NEWNET) < 0) {
		int e = errno;
		unlink(path);
		return berr_sys(err, e, "cannot create a network namespace");
	}
	int r = 0;
	if (mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0)
		r = berr_sys(err, errno, "cannot bind the new network namespace at %s", path);
	struct nl_sock *inner = NULL;
	if (r == 0)
		r = link_open(&inner, err);
	if (r == 0)
		r = link_set_up(inner, "lo", err);
	if (setns(self, CLONE_NEWNET) < 0)
		abort();
	if (r < 0) {
		link_close(inner);
		netns_remove(path, NULL);
		return r;
	}
	if (sk)
		*sk = inner;
	else
		link_close(inner);
	return 0;
}

int netns_remove(const char *path, struct berr **err)
{
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return berr_sys(err, errno, "cannot unmount %s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return berr_sys(err, errno, "cannot remove %s", path);
	return 0;
}
