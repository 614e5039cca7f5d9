/* Bridge networks and containers' attachments to them: the network
 * executor the orchestrator drives. State lives under $ROOT/net/:
 *   networks/NAME.json    subnet, gateway, bridge, and who holds which address
 *   endpoints/CTR.json    a container's links (veth, address) and published ports
 *   netns/CTR             its network namespace, kept by a bind mount
 *   dns/records           what the DNS responder answers, rewritten by net_sync
 * Each change is recorded before it is made, so a later call can finish or
 * undo what a killed one left; all of it happens under $ROOT/net/lock. */
#ifndef BERTH_NET_H
#define BERTH_NET_H

#include <jansson.h>
#include <stdint.h>

#include "../lib/err.h"

/* A network as the compose file declares it. */
struct net_def {
	const char *name;                        /* full name, e.g. blog_default */
	const char *project;                     /* the project that owns it */
	const char *bridge;                      /* com.docker.network.bridge.name, or NULL */
	int mtu;                                 /* com.docker.network.driver.mtu, 0: the kernel's */
	const char *subnet, *ip_range, *gateway; /* NULL: picked */
	bool internal, external;
	bool no_icc;        /* com.docker.network.bridge.enable_icc=false: containers do not reach each other */
	bool no_masquerade; /* com.docker.network.bridge.enable_ip_masquerade=false: no NAT going out */
	char **reserved;    /* ipam aux_addresses: never handed out */
	char **labels;      /* key=value */
};

/* One attachment of a container to a network, in priority order. */
struct net_link {
	const char *network;
	char **aliases;        /* names on this network besides service and container name */
	const char *ip;        /* ipv4_address, or NULL */
	const char *mac;       /* mac_address, or NULL */
	const char *ifname;    /* interface_name, or NULL: eth0, eth1, … in order */
	long long gw_priority; /* the highest (of those not internal) gives the default route */
	char **link_local;     /* link_local_ips: more addresses of 169.254.0.0/16 on the interface */
	char **sysctls;        /* driver_opts com.docker.network.endpoint.sysctls: "net.X.Y.IFNAME.Z=V" */
	/* filled by net_attach */
	uint32_t addr, gateway;
	int prefix;
};

struct net_port {
	uint32_t host_ip;                  /* 0: every address */
	uint16_t host_port, host_port_end; /* 0: an ephemeral port; end: any free one up to it */
	uint16_t ctr_port;
	bool udp;
};

/* What a container brings to the network. */
struct net_endpoint {
	const char *container, *project, *service, *hostname;
	struct net_link *links;
	size_t nlinks;
	struct net_port *ports;
	size_t nports;
	char **dns_links;     /* links/external_links, "target:alias" */
	bool no_service_name; /* a one-off (berth run without --use-aliases): its name only, as Docker's */
};

int net_lock(const char *root, int *fd, struct berr **err);
/* After a reboot the kernel has lost a container's network namespace and
 * links, and the bridges of its networks; its records have not. Makes them
 * again as recorded (same names, addresses, MACs). 1 when it did, 0 when
 * they exist (or the container has no namespace of its own); the caller
 * then runs net_sync for the firewall and the names. */
int net_revive(const char *root, const char *container, struct berr **err);
char *net_netns_path(const char *root, const char *container);

/* How the recorded network differs from d (subnet, ip_range, gateway,
 * internal, mtu, icc, masquerade: what the file sets), or NULL when it
 * does not, is external, or does not exist. */
char *net_diverged(const char *root, const struct net_def *d);
/* The containers attached to the network (none when it does not exist). */
char **net_users(const char *root, const char *name);
/* Creates the network (state, bridge, address) or checks the existing one.
 * An external network must exist already. 1 when it was created. */
int net_ensure(const char *root, const struct net_def *d, struct berr **err);
/* Delete the bridges of networks whose record is lost or damaged (found by
 * the alias the kernel keeps with each); of project, or of network name,
 * when not NULL. Returns "BRIDGE NETWORK" for each. */
char **net_reclaim(const char *root, const char *project, const char *name, struct berr **err);
/* What to tell the user of one entry net_reclaim returned. */
char *net_reclaimed_msg(const char *entry);
/* A bridge name the kernel and nftables both take as it is: up to 15
 * bytes of letters, digits, '_', '.' and '-', not starting with '.' or '-'. */
bool net_bridge_name_ok(const char *name);
bool net_exists(const char *root, const char *name);
/* Removes a network nobody is attached to; -EBUSY names who still is.
 * Its bridge goes with the next net_sync, in one batch with the veths. */
int net_remove(const char *root, const char *name, struct berr **err);
/* The network's state as JSON text, or NULL when there is no such network. */
char *net_inspect(const char *root, const char *name);
/* Names of every network, or of those of one project. */
char **net_list(const char *root, const char *project);

/* Two fixed host ports (not ephemeral, not a range) that cannot both be
 * published: one protocol, one port, and one address or every address. */
bool net_port_clash(const struct net_port *a, const struct net_port *b);
/* Containers of a project that have an attachment. */
char **net_endpoints(const char *root, const char *project);

/* Refuses host ports that are bound by a process or published by another
 * container (not by `container` itself), naming the holder. */
int net_check_ports(const char *root, const struct net_endpoint *e, struct berr **err);

/* The container's namespace, its veths and addresses, its ports; fills
 * each link's addr/gateway/prefix. A stale attachment of the same
 * container is undone first. */
int net_attach(const char *root, struct net_endpoint *e, struct berr **err);
/* Undoes net_attach; a container without one is not an error. */
int net_detach(const char *root, const char *container, struct berr **err);

/* Rewrites berth's nftables table and the DNS records from the state,
 * starts the DNS responder when a network exists and waits for it to go
 * when none does. */
int net_sync(const char *root, struct berr **err);

/* A container's published ports as attached (ephemeral ports resolved). */
int net_ports(const char *root, const char *container, struct net_port **out, size_t *n);
/* The container's attachment record (links: network, ip, gateway, mac,
 * veth, aliases; ports), or NULL when it has none. */
json_t *net_endpoint_record(const char *root, const char *container);
/* "0.0.0.0:8080->80/tcp, 127.0.0.1:53->53/udp" */
char *net_ports_format(const struct net_port *p, size_t n);

#endif
