/* A container on the networks: its ports checked and assigned, its addresses allocated, its veths plumbed into its namespace, undone on detach; after a reboot, made again from the records (net_revive). */
#include "net_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/vfs.h>

#include "../lib/buf.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../lib/spawn.h"
#include "link.h"
#include "ports.h"

/* ---- endpoints ---- */

static uint32_t fnv32(const char *a, const char *b)
{
	uint32_t h = 2166136261u;
	for (const char *s = a; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	h = (h ^ 0) * 16777619u;
	for (const char *s = b; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static bool parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return true;
}

/* Every published port of every endpoint but `except`'s. */
struct published {
	struct net_port *v;
	size_t n;
};

static void collect_ports(const char *root, const char *except, struct published *out)
{
	char **ctrs = net_list_json(root, "endpoints");
	for (size_t i = 0; ctrs[i]; i++) {
		if (except && streq(ctrs[i], except))
			continue;
		struct net_port *p;
		size_t n;
		if (net_ports(root, ctrs[i], &p, &n) < 0)
			continue;
		out->v = xrealloc(out->v, (out->n + n + 1) * sizeof(*p));
		memcpy(out->v + out->n, p, n * sizeof(*p));
		out->n += n;
		free(p);
	}
	strv_free(ctrs);
}

static bool clashes(const struct net_port *a, uint32_t ip, uint16_t port, bool udp)
{
	return a->udp == udp && a->host_port == port && (a->host_ip == 0 || ip == 0 || a->host_ip == ip);
}

bool net_port_clash(const struct net_port *a, const struct net_port *b)
{
	bool fixed = a->host_port && b->host_port && !a->host_port_end && !b->host_port_end;
	return fixed && clashes(a, b->host_ip, b->host_port, b->udp);
}

static bool published_taken(uint16_t port, bool udp, void *data)
{
	const struct published *pub = data;
	for (size_t i = 0; i < pub->n; i++)
		if (clashes(&pub->v[i], 0, port, udp))
			return true;
	return false;
}

static int port_refused(const char *service, uint32_t ip, uint16_t port, bool udp, const char *holder,
			struct berr **err)
{
	_cleanup_free_ char *addr = ip_format(ip);
	return berr_set(err, EADDRINUSE,
			"service %s: port %s:%u/%s is already in use by %s; stop it, or publish "
			"another host port",
			service, addr, port, udp ? "udp" : "tcp", holder);
}

/* One host port against the other containers' and the host's sockets. */
static int check_port(const char *service, const struct published *pub, uint32_t ip, uint16_t port, bool udp,
		      struct berr **err)
{
	for (size_t i = 0; i < pub->n; i++)
		if (clashes(&pub->v[i], ip, port, udp))
			return port_refused(service, ip, port, udp, "another berth container", err);
	if (port_free(ip, port, udp))
		return 0;
	_cleanup_free_ char *holder = port_holder(port, udp);
	return port_refused(service, ip, port, udp, holder ? holder : "another program", err);
}

int net_check_ports(const char *root, const struct net_endpoint *e, struct berr **err)
{
	struct published pub = {0};
	collect_ports(root, e->container, &pub);
	int r = 0;
	for (size_t i = 0; r == 0 && i < e->nports; i++) {
		const struct net_port *p = &e->ports[i];
		if (p->host_port == 0 || p->host_port_end > p->host_port)
			continue; /* chosen when attached */
		r = check_port(e->service, &pub, p->host_ip, p->host_port, p->udp, err);
	}
	free(pub.v);
	return r;
}

/* Host ports for ranges and ephemeral ports, not taken by anyone. */
static int assign_ports(const char *root, struct net_endpoint *e, json_t *out, struct berr **err)
{
	struct published pub = {0};
	collect_ports(root, e->container, &pub);
	int r = 0;
	for (size_t i = 0; r == 0 && i < e->nports; i++) {
		struct net_port p = e->ports[i];
		if (p.host_port == 0) {
			r = port_ephemeral(p.host_ip, p.udp, published_taken, &pub, &p.host_port, err);
		} else if (p.host_port_end > p.host_port) {
			uint16_t found = 0;
			for (unsigned c = p.host_port; !found && c <= p.host_port_end; c++)
				if (!published_taken((uint16_t)c, p.udp, &pub) &&
				    port_free(p.host_ip, (uint16_t)c, p.udp))
					found = (uint16_t)c;
			if (!found)
				r = berr_set(err, EADDRINUSE, "service %s: every host port of %u-%u is in use",
					     e->service, p.host_port, p.host_port_end);
			p.host_port = found;
		} else {
			r = check_port(e->service, &pub, p.host_ip, p.host_port, p.udp, err);
		}
		if (r < 0)
			break;
		p.host_port_end = 0;
		pub.v = xrealloc(pub.v, (pub.n + 1) * sizeof(p));
		pub.v[pub.n++] = p;
		json_t *jp = json_pack("{s:i, s:i, s:s}", "host_port", p.host_port, "ctr_port", p.ctr_port, "proto",
				       p.udp ? "udp" : "tcp");
		net_set_ip(jp, "host_ip", p.host_ip);
		json_array_append_new(out, jp);
	}
	free(pub.v);
	return r;
}

/* An address on each network, recorded in the network's state. */
static int allocate(const char *root, struct net_endpoint *e, json_t *links, struct berr **err)
{
	for (size_t i = 0; i < e->nlinks; i++) {
		struct net_link *l = &e->links[i];
		_cleanup_free_ char *path = net_network_path(root, l->network);
		json_t *net = net_load(path);
		if (!net || net_removing(net)) {
			json_decref(net);
			return berr_set(err, ENOENT, "network %s does not exist", l->network);
		}
		net_gc_endpoints(root, net);
		struct cidr subnet, range;
		uint32_t gw;
		struct ipam m = {0};
		int r = net_parse_net(net, &subnet, &range, &gw) < 0
				? berr_set(err, EINVAL, "network %s: its state is damaged", l->network)
				: ipam_init(&m, subnet, &range, gw, err);
		json_t *eps = json_object_get(net, "endpoints");
		const char *ctr;
		json_t *v;
		json_object_foreach(eps, ctr, v)
		{
			uint32_t ip;
			if (r == 0 && ip_parse(json_string_value(v), &ip) == 0)
				ipam_claim(&m, ip, NULL);
		}
		size_t x;
		json_array_foreach(json_object_get(net, "reserved"), x, v)
		{
			uint32_t ip;
			if (r == 0 && ip_parse(json_string_value(v), &ip) == 0)
				ipam_claim(&m, ip, NULL); /* aux_addresses: the host's, never a container's */
		}
		uint32_t ip = 0;
		if (r == 0 && l->ip) {
			if (ip_parse(l->ip, &ip) < 0)
				r = berr_set(err, EINVAL, "ipv4_address %s is not an IPv4 address", l->ip);
			else
				r = ipam_claim(&m, ip, err);
		} else if (r == 0) {
			r = ipam_alloc(&m, &ip, err);
		}
		ipam_free(&m);
		if (r == 0) {
			l->addr = ip;
			l->gateway = gw;
			l->prefix = subnet.prefix;
			net_set_ip(eps, e->container, ip);
			r = net_save(path, net, false, err);
		}
		if (r == 0) {
			uint8_t mac[6] = {0x02, 0x42, ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255};
			if (l->mac && !parse_mac(l->mac, mac))
				r = berr_set(err, EINVAL,
					     "mac_address %s is not a MAC address such as 02:42:ac:11:00:02", l->mac);
			char macs[18];
			snprintf(macs, sizeof(macs), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
				 mac[4], mac[5]);
			char veth[16];
			snprintf(veth, sizeof(veth), "berthv%08x", fnv32(e->container, l->network));
			json_t *jl = json_pack(
				"{s:s, s:s, s:s, s:s, s:i, s:b, s:i, s:o}", "network", l->network, "bridge",
				net_jstr(net, "bridge"), "veth", veth, "mac", macs, "prefix", subnet.prefix, "internal",
				json_is_true(json_object_get(net, "internal")), "mtu",
				(int)json_integer_value(json_object_get(net, "mtu")), "aliases", strv_json(l->aliases));
			net_set_ip(jl, "ip", ip);
			net_set_ip(jl, "gateway", gw);
			if (l->ifname)
				json_object_set_new(jl, "ifname", json_string(l->ifname));
			if (l->gw_priority)
				json_object_set_new(jl, "gw_priority", json_integer(l->gw_priority));
			if (l->link_local && l->link_local[0])
				json_object_set_new(jl, "link_local_ips", strv_json(l->link_local));
			if (l->sysctls && l->sysctls[0])
				json_object_set_new(jl, "sysctls", strv_json(l->sysctls));
			json_array_append_new(links, jl);
		}
		json_decref(net);
		if (r < 0)
			return berr_prefix(err, "service %s: network %s: ", e->service, l->network);
	}
	return 0;
}

static int detach_locked(const char *root, const char *ctr, struct berr **err)
{
	_cleanup_free_ char *path = net_endpoint_path(root, ctr);
	_cleanup_free_ char *ns = net_netns_path(root, ctr);
	_cleanup_(json_releasep) json_t *j = net_load(path);
	json_t *links = json_object_get(j, "links");
	size_t i;
	json_t *l;
	char **veths = xcalloc(json_array_size(links) + 1, sizeof(char *));
	json_array_foreach(links, i, l) veths[i] = xstrdup(net_jstr(l, "veth") ?: "");
	net_add_dying(root, veths);
	strv_free(veths);
	int r = netns_remove(ns, err);
	if (r == 0 && j && unlink(path) < 0 && errno != ENOENT)
		r = berr_sys(err, errno, "cannot remove %s", path);
	json_array_foreach(links, i, l)
	{
		_cleanup_free_ char *np = net_network_path(root, net_jstr(l, "network"));
		_cleanup_(json_releasep) json_t *net = r == 0 ? net_load(np) : NULL;
		if (net && json_object_del(json_object_get(net, "endpoints"), ctr) == 0)
			net_save(np, net, false, NULL);
	}
	return r;
}

int net_detach(const char *root, const char *container, struct berr **err)
{
	int lock;
	int r = net_lock(root, &lock, err);
	if (r < 0)
		return r;
	r = detach_locked(root, container, err);
	close(lock);
	return r;
}

struct if_sysctls {
	int nsfd;
	const char *ifname;
	json_t *list; /* "net.X.Y.IFNAME.Z=VALUE", checked by the planner */
};

/* In a child that joined the container's network namespace, where
 * /proc/sys/net is that namespace's. */
static int if_sysctls_child(void *arg, struct berr **err)
{
	struct if_sysctls *a = arg;
	if (setns(a->nsfd, CLONE_NEWNET) < 0)
		return berr_sys(err, errno, "cannot enter the container's network namespace");
	size_t i;
	json_t *v;
	json_array_foreach(a->list, i, v)
	{
		const char *s = json_string_value(v), *eq = s ? strchr(s, '=') : NULL;
		/* net.X.Y.IFNAME.Z: the dots are the path's slashes, IFNAME the interface */
		_cleanup_free_ char *name = eq ? xstrndup(s, (size_t)(eq - s)) : NULL;
		for (char *c = name; c && *c; c++)
			*c = *c == '.' ? '/' : *c;
		char *ifn = name ? strstr(name, "/IFNAME/") : NULL;
		if (!ifn)
			return berr_set(err, EINVAL, "sysctl %s is not of the form net.X.Y.IFNAME.Z=VALUE", s ? s : "");
		*ifn = 0;
		_cleanup_free_ char *path = xasprintf("/proc/sys/%s/%s/%s", name, a->ifname, ifn + 8);
		_cleanup_close_ int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		size_t n = strlen(eq + 1);
		if (fd < 0 || write(fd, eq + 1, n) != (ssize_t)n)
			return berr_sys(err, errno, "cannot set sysctl %s of interface %s", s, a->ifname);
	}
	return 0;
}

static int plumb(const char *root, struct net_endpoint *e, json_t *links, struct berr **err)
{
	_cleanup_free_ char *ns = net_netns_path(root, e->container);
	struct nl_sock *inner = NULL, *host = NULL;
	int r = netns_create(ns, &inner, err);
	if (r == 0 && json_array_size(links))
		r = link_open(&host, err);
	_cleanup_close_ int nsfd = r == 0 ? open(ns, O_RDONLY | O_CLOEXEC) : -1;
	if (r == 0 && nsfd < 0)
		r = berr_sys(err, errno, "cannot open %s", ns);
	/* a veth, as a bridge, says whose it is: "berth TABLE CONTAINER" */
	_cleanup_free_ char *prefix = net_alias_prefix(root);
	_cleanup_free_ char *alias = xasprintf("%s%s", prefix, e->container);
	/* the default route: the network with the highest gw_priority that is
	 * not internal, the first of them on a tie */
	size_t i, gw = SIZE_MAX;
	json_t *l;
	json_array_foreach(links, i, l) if (!json_is_true(json_object_get(l, "internal")) &&
					    (gw == SIZE_MAX ||
					     json_integer_value(json_object_get(l, "gw_priority")) >
						     json_integer_value(json_object_get(json_array_get(links, gw),
											"gw_priority")))) gw = i;
	json_array_foreach(links, i, l)
	{
		if (r < 0)
			break;
		uint8_t mac[6];
		parse_mac(net_jstr(l, "mac"), mac);
		char ifname[16];
		snprintf(ifname, sizeof(ifname), "%s", net_jstr(l, "ifname") ? net_jstr(l, "ifname") : "");
		if (!ifname[0])
			snprintf(ifname, sizeof(ifname), "eth%u", (unsigned)(i & 0xffff));
		r = link_veth_add(host, net_jstr(l, "veth"), alias, net_jstr(l, "bridge"), nsfd, ifname, mac,
				  (int)json_integer_value(json_object_get(l, "mtu")), err);
		if (r == 0)
			r = link_configure(inner, ifname, net_jip(l, "ip"),
					   (int)json_integer_value(json_object_get(l, "prefix")),
					   i == gw ? net_jip(l, "gateway") : 0, err);
		size_t x;
		json_t *ll;
		json_array_foreach(json_object_get(l, "link_local_ips"), x, ll)
		{
			uint32_t a;
			if (r == 0 && ip_parse(json_string_value(ll), &a) == 0)
				r = link_addr_add(inner, ifname, a, 16, err);
		}
		struct if_sysctls sc = {nsfd, ifname, json_object_get(l, "sysctls")};
		if (r == 0 && json_array_size(sc.list))
			r = fork_call(if_sysctls_child, &sc, err);
	}
	link_close(inner);
	link_close(host);
	return r;
}

int net_attach(const char *root, struct net_endpoint *e, struct berr **err)
{
	int lock;
	int r = net_lock(root, &lock, err);
	if (r < 0)
		return r;
	r = detach_locked(root, e->container, err);
	if (r == 0)
		r = net_delete_dying(root, err); /* the same veth names come back */
	json_t *links = json_array(), *ports = json_array();
	if (r == 0)
		r = allocate(root, e, links, err);
	if (r == 0)
		r = assign_ports(root, e, ports, err);
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "container", e->container, "project",
			      e->project ? e->project : "", "service", e->service ? e->service : "", "hostname",
			      e->hostname ? e->hostname : "", "links", links, "ports", ports, "dns_links",
			      strv_json(e->dns_links));
	if (e->no_service_name)
		json_object_set_new(j, "service_name", json_false());
	_cleanup_free_ char *path = net_endpoint_path(root, e->container);
	if (r == 0)
		r = net_save(path, j, false, err);
	if (r == 0)
		r = plumb(root, e, links, err);
	if (r < 0) {
		/* the addresses and anything made go again; the endpoint file names them */
		if (!fs_exists(path))
			net_save(path, j, false, NULL);
		detach_locked(root, e->container, NULL);
		net_delete_dying(root, NULL);
	}
	json_decref(j);
	close(lock);
	return r;
}

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

int net_revive(const char *root, const char *container, struct berr **err)
{
	_cleanup_free_ char *ns = net_netns_path(root, container);
	_cleanup_free_ char *path = net_endpoint_path(root, container);
	struct statfs sf;
	if (!fs_exists(path) || (statfs(ns, &sf) == 0 && sf.f_type == NSFS_MAGIC))
		return 0; /* no namespace of its own, or the kernel has it */
	int lock;
	int r = net_lock(root, &lock, err);
	if (r < 0)
		return r;
	json_t *j = net_load(path);
	json_t *links = json_object_get(j, "links");
	size_t i;
	json_t *l;
	/* the bridges of its networks first, as their records describe them */
	json_array_foreach(links, i, l)
	{
		_cleanup_free_ char *np = net_network_path(root, net_jstr(l, "network"));
		_cleanup_(json_releasep) json_t *net = r == 0 ? net_load(np) : NULL;
		if (r == 0 && (!net || net_removing(net)))
			r = berr_set(err, ENOENT,
				     "network %s of %s does not exist any more; recreate the container (berth "
				     "up --force-recreate)",
				     net_jstr(l, "network"), container);
		if (r == 0)
			r = net_make_bridge(root, net, err);
	}
	if (r == 0)
		r = netns_remove(ns, err); /* the file is left; the namespace it held is not */
	if (r == 0)
		r = net_delete_dying(root, err);
	struct net_endpoint e = {.container = container};
	if (r == 0 && j)
		r = plumb(root, &e, links, err);
	if (r < 0)
		netns_remove(ns, NULL); /* half made: the next try starts again */
	json_decref(j);
	close(lock);
	return r < 0 ? berr_prefix(err, "cannot make the network of %s again: ", container) : 1;
}

json_t *net_endpoint_record(const char *root, const char *container)
{
	_cleanup_free_ char *path = net_endpoint_path(root, container);
	return net_load(path);
}

int net_ports(const char *root, const char *container, struct net_port **out, size_t *n)
{
	_cleanup_free_ char *path = net_endpoint_path(root, container);
	_cleanup_(json_releasep) json_t *j = net_load(path);
	*out = NULL;
	*n = 0;
	if (!j)
		return -ENOENT;
	json_t *ports = json_object_get(j, "ports");
	*out = xcalloc(json_array_size(ports) + 1, sizeof(**out));
	size_t i;
	json_t *p;
	json_array_foreach(ports, i, p)(*out)[(*n)++] = (struct net_port){
		.host_ip = net_jip(p, "host_ip"),
		.host_port = (uint16_t)json_integer_value(json_object_get(p, "host_port")),
		.ctr_port = (uint16_t)json_integer_value(json_object_get(p, "ctr_port")),
		.udp = streq(net_jstr(p, "proto"), "udp"),
	};
	return 0;
}

char *net_ports_format(const struct net_port *p, size_t n)
{
	struct buf b = {0};
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *ip = ip_format(p[i].host_ip);
		buf_printf(&b, "%s%s:%u->%u/%s", i ? ", " : "", ip, p[i].host_port, p[i].ctr_port,
			   p[i].udp ? "udp" : "tcp");
	}
	return b.s ? buf_steal(&b) : xstrdup("");
}
