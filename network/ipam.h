/* IPv4 address management: subnets from Docker's default pools that
 * overlap nothing the host already routes, and addresses within a subnet
 * (gateway, ip_range, fixed addresses), saved as JSON in the state dir. */
#ifndef BERTH_IPAM_H
#define BERTH_IPAM_H

#include <stdint.h>

#include "../lib/err.h"

struct cidr {
	uint32_t addr; /* host byte order, host bits cleared */
	int prefix;
};

int cidr_parse(const char *s, struct cidr *c);
char *cidr_format(struct cidr c);
int ip_parse(const char *s, uint32_t *ip);
char *ip_format(uint32_t ip);
bool cidr_contains(struct cidr net, uint32_t ip);
bool cidr_overlaps(struct cidr a, struct cidr b);

/* The first subnet of Docker's default pools (172.17-31.0.0/16, then
 * 192.168.0.0/16 cut in /20s) that overlaps none of used. */
int ipam_pick_subnet(const struct cidr *used, size_t nused, struct cidr *out, struct berr **err);

struct ipam {
	struct cidr subnet, range; /* addresses are handed out from range (the subnet by default) */
	uint32_t gateway;
	uint8_t *taken; /* one bit per address of the subnet */
};

/* gateway 0: the subnet's first address; range NULL: the whole subnet. */
int ipam_init(struct ipam *m, struct cidr subnet, const struct cidr *range, uint32_t gateway, struct berr **err);
void ipam_free(struct ipam *m);
/* The lowest free address of the range. */
int ipam_alloc(struct ipam *m, uint32_t *ip, struct berr **err);
/* A given address (ipv4_address): inside the subnet, not the network,
 * broadcast or gateway address, not taken. */
int ipam_claim(struct ipam *m, uint32_t ip, struct berr **err);
void ipam_release(struct ipam *m, uint32_t ip);

#endif
