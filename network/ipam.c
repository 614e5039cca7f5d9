#include "ipam.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>

static uint32_t mask_of(int prefix) { return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix); }

int ip_parse(const char *s, uint32_t *ip)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*ip = ntohl(a.s_addr);
	return 0;
}

char *ip_format(uint32_t ip)
{
	struct in_addr a = {htonl(ip)};
	char buf[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, buf, sizeof(buf));
	return xstrdup(buf);
}

int cidr_parse(const char *s, struct cidr *c)
{
	const char *slash = strchr(s, '/');
	if (!slash)
		return -EINVAL;
	_cleanup_free_ char *addr = xstrndup(s, (size_t)(slash - s));
	char *end;
	long prefix = strtol(slash + 1, &end, 10);
	uint32_t ip;
	if (*end || end == slash + 1 || prefix < 0 || prefix > 32 || ip_parse(addr, &ip) < 0)
		return -EINVAL;
	c->prefix = (int)prefix;
	c->addr = ip & mask_of(c->prefix);
	return 0;
}

char *cidr_format(struct cidr c)
{
	_cleanup_free_ char *ip = ip_format(c.addr);
	return xasprintf("%s/%d", ip, c.prefix);
}

bool cidr_contains(struct cidr net, uint32_t ip) { return (ip & mask_of(net.prefix)) == net.addr; }

bool cidr_overlaps(struct cidr a, struct cidr b)
{
	int p = a.prefix < b.prefix ? a.prefix : b.prefix;
	return (a.addr & mask_of(p)) == (b.addr & mask_of(p));
}

static bool free_of(struct cidr c, const struct cidr *used, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_overlaps(c, used[i]))
			return false;
	return true;
}

int ipam_pick_subnet(const struct cidr *used, size_t nused, struct cidr *out, struct berr **err)
{
	for (uint32_t b = 17; b <= 31; b++) {
		struct cidr c = {(172u << 24) | (b << 16), 16};
		if (free_of(c, used, nused)) {
			*out = c;
			return 0;
		}
	}
	for (uint32_t k = 0; k < 16; k++) {
		struct cidr c = {(192u << 24) | (168u << 16) | (k << 12), 20};
		if (free_of(c, used, nused)) {
			*out = c;
			return 0;
		}
	}
	return berr_set(err, ENOSPC,
			"no free subnet left in the default pools (172.17-31.0.0/16, 192.168.0.0/16); "
			"give the network an ipam subnet");
}

static size_t host_count(struct cidr c) { return c.prefix >= 32 ? 1 : (size_t)1 << (32 - c.prefix); }
static size_t offset_of(const struct ipam *m, uint32_t ip) { return ip - m->subnet.addr; }
static bool is_taken(const struct ipam *m, uint32_t ip)
{
	size_t o = offset_of(m, ip);
	return m->taken[o / 8] & (1u << (o % 8));
}
static void set_taken(struct ipam *m, uint32_t ip, bool on)
{
	size_t o = offset_of(m, ip);
	if (on)
		m->taken[o / 8] |= (uint8_t)(1u << (o % 8));
	else
		m->taken[o / 8] &= (uint8_t) ~(1u << (o % 8));
}

int ipam_init(struct ipam *m, struct cidr subnet, const struct cidr *range, uint32_t gateway, struct berr **err)
{
	*m = (struct ipam){.subnet = subnet, .range = range ? *range : subnet};
	_cleanup_free_ char *s = cidr_format(subnet);
	if (subnet.prefix < 8 || subnet.prefix > 30)
		return berr_set(err, EINVAL, "subnet %s must be between /8 and /30", s);
	if (range && !(cidr_contains(subnet, range->addr) && range->prefix >= subnet.prefix))
		return berr_set(err, EINVAL, "ip_range is not inside subnet %s", s);
	m->gateway = gateway ? gateway : subnet.addr + 1;
	if (!cidr_contains(subnet, m->gateway) || m->gateway == subnet.addr ||
	    m->gateway == subnet.addr + (uint32_t)host_count(subnet) - 1)
		return berr_set(err, EINVAL, "the gateway is not a usable address of subnet %s", s);
	m->taken = xcalloc(host_count(subnet) / 8 + 1, 1);
	set_taken(m, subnet.addr, true);                                    /* network */
	set_taken(m, subnet.addr + (uint32_t)host_count(subnet) - 1, true); /* broadcast */
	set_taken(m, m->gateway, true);
	return 0;
}

void ipam_free(struct ipam *m)
{
	free(m->taken);
	m->taken = NULL;
}

int ipam_alloc(struct ipam *m, uint32_t *ip, struct berr **err)
{
	uint32_t first = m->range.addr, n = (uint32_t)host_count(m->range);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t cand = first + i;
		if (cidr_contains(m->subnet, cand) && !is_taken(m, cand)) {
			set_taken(m, cand, true);
			*ip = cand;
			return 0;
		}
	}
	_cleanup_free_ char *r = cidr_format(m->range);
	return berr_set(err, ENOSPC, "no free address left in %s", r);
}

int ipam_claim(struct ipam *m, uint32_t ip, struct berr **err)
{
	_cleanup_free_ char *a = ip_format(ip), *s = cidr_format(m->subnet);
	if (!cidr_contains(m->subnet, ip))
		return berr_set(err, EINVAL, "ipv4_address %s is not in subnet %s", a, s);
	if (is_taken(m, ip))
		return berr_set(err, EADDRINUSE,
				"ipv4_address %s is already in use in %s (or is its network, "
				"broadcast or gateway address)",
				a, s);
	set_taken(m, ip, true);
	return 0;
}

void ipam_release(struct ipam *m, uint32_t ip)
{
	if (cidr_contains(m->subnet, ip) && ip != m->gateway && ip != m->subnet.addr &&
	    ip != m->subnet.addr + (uint32_t)host_count(m->subnet) - 1)
		set_taken(m, ip, false);
}
