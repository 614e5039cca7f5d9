/* berth's nftables table (`ip berth`, or `ip berth_<hash>` for a state root
 * other than the default one, so that roots never touch each other's
 * rules): masquerade out of each bridge, DNAT of
 * published ports (from outside, from the host itself and back into a
 * bridge), and forwarding rules for internal and isolated networks. The
 * whole table is written from the desired state in one transaction, so it
 * is never half-changed; no other table is ever touched. */
#ifndef BERTH_NAT_H
#define BERTH_NAT_H

#include <stdint.h>

#include "../lib/err.h"
#include "ipam.h"

struct nat_bridge {
	const char *name;
	struct cidr subnet;
	bool internal;
	bool no_icc;        /* its containers do not reach each other (bridge-family rule) */
	char **ports;       /* with no_icc: the host ends of its containers' veths */
	bool no_masquerade; /* what leaves it keeps its own source address */
};

struct nat_port {
	uint32_t host_ip; /* 0: every local address */
	uint16_t host_port, ctr_port;
	bool udp;
	uint32_t ctr_ip;
};

/* The nft script that replaces the table; with no bridges, one that
 * deletes it. */
char *nat_ruleset(const char *table, const struct nat_bridge *b, size_t nb, const struct nat_port *p, size_t np);
/* Runs the script, with the accept rules that forward chains of other
 * tables need for berth's bridges when they drop by default, in one
 * transaction; skipped when cache (NULL: none) holds the same, applied in
 * this boot, and the table is there. */
int nat_apply(const char *table, const struct nat_bridge *b, size_t nb, const char *script, const char *cache,
	      struct berr **err);
/* The table's name for a state root. */
char *nat_table(const char *root);

#endif
