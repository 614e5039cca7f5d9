#include "netplan.h"

#include <errno.h>
#include <stdio.h>

#include "../lib/log.h"
#include "../network/ipam.h"
#include "ctrspec.h"

static const char *mode_of(struct node *svc) { return node_str(node_map_get(svc, "network_mode")); }

bool netplan_own_netns(struct node *svc)
{
	const char *m = mode_of(svc);
	return !streq(m, "host") && !(m && (startswith(m, "service:") || startswith(m, "container:")));
}

char *netplan_netns(const struct project *p, const char *root, const char *service, const char *container)
{
	const char *m = mode_of(project_service(p, service));
	if (streq(m, "host"))
		return xstrdup("host");
	if (m && startswith(m, "service:")) {
		_cleanup_free_ char *other = ctrspec_name(p, m + 8, 1);
		return net_netns_path(root, other);
	}
	if (m && startswith(m, "container:"))
		return net_netns_path(root, m + 10);
	return net_netns_path(root, container);
}

/* The networks a service is on; network_mode bridge (Docker's default
 * bridge) means the project's default network here. */
static struct node *service_networks(struct node *svc)
{
	const char *m = mode_of(svc);
	if (m && !streq(m, "bridge"))
		return NULL;
	return node_map_get(svc, "networks");
}

static bool uses(const struct project *p, char *const *services, const char *net)
{
	struct node *all = project_services(p);
	for (size_t i = 0; all && i < all->n; i++) {
		if (services && !strv_contains(services, all->pairs[i].key))
			continue;
		struct node *svc = all->pairs[i].val;
		struct node *nets = service_networks(svc);
		if (node_map_get(nets, net) || (streq(mode_of(svc), "bridge") && streq(net, "default")))
			return true;
	}
	return false;
}

static int def_from(const struct project *p, const char *key, struct node *n, struct net_def *d, struct berr **err)
{
	*d = (struct net_def){.name = node_str(node_map_get(n, "name")), .project = p->name};
	if (!d->name)
		return node_err(err, n, "network %s has no name", key);
	const char *driver = node_str(node_map_get(n, "driver"));
	if (driver && !streq(driver, "bridge"))
		return node_err(err, node_map_get(n, "driver"),
				"network %s: driver %s is not supported; berth makes bridge networks (driver: bridge)",
				key, driver);
	bool ipv6 = false;
	node_bool(node_map_get(n, "enable_ipv6"), &ipv6);
	if (ipv6)
		log_warn("network %s: IPv6 is not supported yet; the network gets IPv4 only", key);
	node_bool(node_map_get(n, "internal"), &d->internal);
	node_bool(node_map_get(n, "external"), &d->external);
	struct node *opts = node_map_get(n, "driver_opts");
	/* each option is honoured or refused by name: none is passed over */
	static const char *const known[] = {"com.docker.network.bridge.name",
					    "com.docker.network.driver.mtu",
					    "com.docker.network.bridge.enable_icc",
					    "com.docker.network.bridge.enable_ip_masquerade",
					    "com.docker.network.bridge.host_binding_ipv4",
					    NULL};
	for (size_t i = 0; opts && opts->kind == NODE_MAP && i < opts->n; i++)
		if (!strv_contains((char **)known, opts->pairs[i].key))
			return node_err(err, opts->pairs[i].val,
					"network %s: driver_opts %s is not supported here (berth takes "
					"com.docker.network.bridge.name, .enable_icc, .enable_ip_masquerade, "
					".host_binding_ipv4 and com.docker.network.driver.mtu)",
					key, opts->pairs[i].key);
	static const char *const flags[] = {"com.docker.network.bridge.enable_icc",
					    "com.docker.network.bridge.enable_ip_masquerade"};
	bool *dst[] = {&d->no_icc, &d->no_masquerade};
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		struct node *f = node_map_get(opts, flags[i]);
		bool on = true;
		if (f && node_bool(f, &on) < 0 && !(node_str(f) && (streq(f->str, "true") || streq(f->str, "false"))))
			return node_err(err, f, "network %s: %s takes true or false", key, flags[i]);
		if (f && node_str(f))
			on = !streq(f->str, "false");
		*dst[i] = !on;
	}
	const char *hb = node_str(node_map_get(opts, "com.docker.network.bridge.host_binding_ipv4"));
	uint32_t hbip;
	if (hb && ip_parse(hb, &hbip) < 0)
		return node_err(err, node_map_get(opts, "com.docker.network.bridge.host_binding_ipv4"),
				"network %s: host_binding_ipv4 %s is not an IPv4 address", key, hb);
	d->bridge = node_str(node_map_get(opts, "com.docker.network.bridge.name"));
	if (d->bridge && !net_bridge_name_ok(d->bridge))
		return node_err(
			err, node_map_get(opts, "com.docker.network.bridge.name"),
			"network %s: bridge name \"%s\" cannot be used: up to 15 letters, digits, '_', '.' and '-'",
			key, d->bridge);
	long long mtu = 0;
	if (node_int(node_map_get(opts, "com.docker.network.driver.mtu"), &mtu) == 0 && (mtu < 68 || mtu > 65535))
		return node_err(err, node_map_get(opts, "com.docker.network.driver.mtu"),
				"network %s: MTU %lld is out of range (68-65535)", key, mtu);
	d->mtu = (int)mtu;
	struct node *cfg = node_map_get(node_map_get(n, "ipam"), "config");
	if (cfg && cfg->kind == NODE_SEQ) {
		for (size_t i = 0; i < cfg->n; i++) {
			const char *s = node_str(node_map_get(cfg->items[i], "subnet"));
			struct cidr c;
			if (s && cidr_parse(s, &c) < 0) {
				if (strchr(s, ':'))
					continue; /* an IPv6 subnet next to enable_ipv6 */
				return node_err(err, node_map_get(cfg->items[i], "subnet"),
						"network %s: subnet %s is not an IPv4 CIDR such as 10.5.0.0/24", key,
						s);
			}
			if (d->subnet)
				continue; /* one IPv4 subnet per network */
			d->subnet = s;
			d->ip_range = node_str(node_map_get(cfg->items[i], "ip_range"));
			d->gateway = node_str(node_map_get(cfg->items[i], "gateway"));
			struct node *aux = node_map_get(cfg->items[i], "aux_addresses");
			for (size_t k = 0; aux && aux->kind == NODE_MAP && k < aux->n; k++) {
				const char *a = node_str(aux->pairs[k].val);
				uint32_t ip;
				if (!a || ip_parse(a, &ip) < 0 || (s && !cidr_contains(c, ip)))
					return node_err(
						err, aux->pairs[k].val,
						"network %s: aux_addresses %s: %s is not an IPv4 address of the subnet",
						key, aux->pairs[k].key, a ? a : "(none)");
				if (!d->reserved)
					d->reserved = xcalloc(1, sizeof(char *));
				strv_push(&d->reserved, xstrdup(a));
			}
		}
	}
	d->labels = node_kv(node_map_get(n, "labels"));
	return 0;
}

static int defs(const struct project *p, char *const *services, bool all, struct net_def **out, size_t *n,
		struct berr **err)
{
	struct node *nets = node_map_get(p->doc, "networks");
	*out = xcalloc((nets ? nets->n : 0) + 1, sizeof(**out));
	*n = 0;
	for (size_t i = 0; nets && i < nets->n; i++) {
		if (!all && !uses(p, services, nets->pairs[i].key))
			continue;
		int r = def_from(p, nets->pairs[i].key, nets->pairs[i].val, &(*out)[*n], err);
		(*n)++;
		if (r < 0) {
			netplan_defs_free(*out, *n);
			*out = NULL;
			*n = 0;
			return r;
		}
	}
	return 0;
}

int netplan_defs(const struct project *p, char *const *services, struct net_def **out, size_t *n, struct berr **err)
{
	return defs(p, services, false, out, n, err);
}

int netplan_defs_declared(const struct project *p, struct net_def **out, size_t *n, struct berr **err)
{
	return defs(p, NULL, true, out, n, err);
}

void netplan_defs_free(struct net_def *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++) {
		strv_free(d[i].labels);
		strv_free(d[i].reserved);
	}
	free(d);
}

struct ranked {
	const char *key;
	struct node *cfg;
	long long priority;
};

static int ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* com.docker.network.bridge.host_binding_ipv4 of the network ports lead to
 * (the first one that is not internal): the default host address. */
static uint32_t host_binding(const struct project *p, const struct net_endpoint *e)
{
	struct node *top = node_map_get(p->doc, "networks");
	for (size_t i = 0; i < e->nlinks; i++)
		for (size_t k = 0; top && k < top->n; k++) {
			struct node *n = top->pairs[k].val;
			if (!streq(node_str(node_map_get(n, "name")) ?: "", e->links[i].network))
				continue;
			bool internal = false;
			node_bool(node_map_get(n, "internal"), &internal);
			if (internal)
				break;
			uint32_t ip = 0;
			const char *hb = node_str(node_map_get(node_map_get(n, "driver_opts"),
							       "com.docker.network.bridge.host_binding_ipv4"));
			if (hb)
				ip_parse(hb, &ip);
			return ip;
		}
	return 0;
}

static int add_ports(struct node *svc, const char *service, struct net_endpoint *e, uint32_t binding, struct berr **err)
{
	struct node *ports = node_map_get(svc, "ports");
	e->ports = xcalloc((ports ? ports->n : 0) + 1, sizeof(*e->ports));
	for (size_t i = 0; ports && ports->kind == NODE_SEQ && i < ports->n; i++) {
		struct node *it = ports->items[i];
		struct net_port pt = {0};
		long long target = 0;
		node_int(node_map_get(it, "target"), &target);
		if (target < 1 || target > 65535)
			return node_err(err, it, "service %s: container port %lld is out of range (1-65535)", service,
					target);
		pt.ctr_port = (uint16_t)target;
		const char *proto = node_str(node_map_get(it, "protocol"));
		if (proto && !streq(proto, "tcp") && !streq(proto, "udp"))
			return node_err(err, it, "service %s: protocol %s is not supported; use tcp or udp", service,
					proto);
		pt.udp = streq(proto, "udp");
		const char *ip = node_str(node_map_get(it, "host_ip"));
		pt.host_ip = binding;
		if (ip && ip[0] && ip_parse(ip, &pt.host_ip) < 0)
			return node_err(err, it, "service %s: host_ip %s: %s", service, ip,
					strchr(ip, ':') ? "IPv6 is not supported yet; publish on an IPv4 address"
							: "not an IPv4 address");
		const char *pub = node_str(node_map_get(it, "published"));
		unsigned a = 0, b = 0;
		char extra;
		int got = pub && pub[0] ? sscanf(pub, "%u-%u%c", &a, &b, &extra) : 0;
		if (pub && pub[0] && (got < 1 || got > 2 || a < 1 || a > 65535 || (got == 2 && (b < a || b > 65535))))
			return node_err(err, it,
					"service %s: published port %s is not a port or a range such as 8000-8010",
					service, pub);
		pt.host_port = (uint16_t)a;
		pt.host_port_end = got == 2 && b > a ? (uint16_t)b : 0;
		e->ports[e->nports++] = pt;
	}
	return 0;
}

/* One of Docker's per-interface sysctls, "net.X.Y.IFNAME.Z=VALUE": five
 * names without '/', the fourth IFNAME; a value without a newline. */
static bool endpoint_sysctl_ok(const char *s)
{
	const char *eq = strchr(s, '=');
	if (!eq || eq == s || strchr(eq, '\n') || strncmp(s, "net.", 4) != 0)
		return false;
	int dots = 0;
	for (const char *c = s; c < eq; c++) {
		if (*c == '/' || (*c == '.' && (c[1] == '.' || c[1] == '=')))
			return false;
		dots += *c == '.';
	}
	const char *ifn = s;
	for (int i = 0; i < 3; i++)
		ifn = strchr(ifn, '.') + 1;
	return dots == 4 && strncmp(ifn, "IFNAME.", 7) == 0;
}

/* A service's per-network driver_opts: com.docker.network.endpoint.sysctls,
 * Docker's comma-separated settings of the container's interface on that
 * network. Any other option is refused by name. */
static int endpoint_opts(struct node *opts, const char *service, const char *net, char ***out, struct berr **err)
{
	static const char key[] = "com.docker.network.endpoint.sysctls";
	for (size_t i = 0; opts && opts->kind == NODE_MAP && i < opts->n; i++) {
		struct node *v = opts->pairs[i].val;
		if (!streq(opts->pairs[i].key, key))
			return node_err(err, v,
					"service %s: network %s: driver_opts %s is not supported here (berth takes %s)",
					service, net, opts->pairs[i].key, key);
		_cleanup_free_ char *list = xstrdup(node_str(v) ? v->str : "");
		char *save = NULL;
		for (char *item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
			if (!endpoint_sysctl_ok(item))
				return node_err(err, v,
						"service %s: network %s: %s: %s is not of the form "
						"net.X.Y.IFNAME.Z=VALUE (e.g. net.ipv4.conf.IFNAME.log_martians=1)",
						service, net, key, item);
			strv_push(out, xstrdup(item));
		}
	}
	return 0;
}

int netplan_endpoint(const struct project *p, const char *service, const char *container, const char *hostname,
		     struct net_endpoint *e, struct berr **err)
{
	struct node *svc = project_service(p, service);
	*e = (struct net_endpoint){
		.container = container, .project = p->name, .service = service, .hostname = hostname};
	e->dns_links = xcalloc(1, sizeof(char *));
	const char *m = mode_of(svc);
	struct node *nets = service_networks(svc);
	bool bridge_mode = streq(m, "bridge");
	size_t cap = (nets ? nets->n : 0) + 1;
	struct ranked *rk = xcalloc(cap, sizeof(*rk));
	size_t nr = 0;
	for (size_t i = 0; nets && i < nets->n; i++) {
		long long prio = 0;
		node_int(node_map_get(nets->pairs[i].val, "priority"), &prio);
		rk[nr++] = (struct ranked){nets->pairs[i].key, nets->pairs[i].val, prio};
	}
	if (bridge_mode && nr == 0)
		rk[nr++] = (struct ranked){"default", NULL, 0};
	if (nr > 1)
		qsort(rk, nr, sizeof(*rk), ranked_cmp);
	e->links = xcalloc(nr + 1, sizeof(*e->links));
	struct node *top = node_map_get(p->doc, "networks");
	for (size_t i = 0; i < nr; i++) {
		struct net_link *l = &e->links[e->nlinks++];
		l->network = node_str(node_map_get(node_map_get(top, rk[i].key), "name"));
		l->aliases = xcalloc(1, sizeof(char *));
		struct node *al = node_map_get(rk[i].cfg, "aliases");
		for (size_t k = 0; al && al->kind == NODE_SEQ && k < al->n; k++)
			if (node_str(al->items[k]))
				strv_push(&l->aliases, xstrdup(al->items[k]->str));
		l->ip = node_str(node_map_get(rk[i].cfg, "ipv4_address"));
		l->ifname = node_str(node_map_get(rk[i].cfg, "interface_name"));
		l->link_local = xcalloc(1, sizeof(char *));
		struct node *ll = node_map_get(rk[i].cfg, "link_local_ips");
		for (size_t k = 0; ll && ll->kind == NODE_SEQ && k < ll->n; k++) {
			const char *a = node_str(ll->items[k]);
			uint32_t ip;
			struct cidr linklocal = {0xa9fe0000, 16};
			if (!a || ip_parse(a, &ip) < 0 || !cidr_contains(linklocal, ip)) {
				free(rk);
				return node_err(err, ll->items[k],
						"service %s: link_local_ips: %s is not an IPv4 address of "
						"169.254.0.0/16%s",
						service, a ? a : "(none)",
						a && strchr(a, ':') ? " (IPv6 is not supported yet)" : "");
			}
			strv_push(&l->link_local, xstrdup(a));
		}
		l->sysctls = xcalloc(1, sizeof(char *));
		if (endpoint_opts(node_map_get(rk[i].cfg, "driver_opts"), service, rk[i].key, &l->sysctls, err) < 0) {
			free(rk);
			return -EINVAL;
		}
		node_int(node_map_get(rk[i].cfg, "gw_priority"), &l->gw_priority);
		l->mac = node_str(node_map_get(rk[i].cfg, "mac_address"));
		if (i == 0 && !l->mac)
			l->mac = node_str(node_map_get(svc, "mac_address"));
		if (!l->network) {
			int r = berr_set(err, ENOENT, "service %s: network %s is not declared", service, rk[i].key);
			free(rk);
			return r;
		}
	}
	free(rk);
	/* interface_name: a name for the kernel, none twice, none another link gets by its place */
	for (size_t i = 0; i < e->nlinks; i++) {
		const char *n = e->links[i].ifname;
		if (!n)
			continue;
		bool clash = streq(n, "lo") || !net_bridge_name_ok(n);
		for (size_t k = 0; k < e->nlinks && !clash; k++) {
			char auto_name[32];
			snprintf(auto_name, sizeof(auto_name), "eth%u", (unsigned)(k & 0xffff));
			clash = k != i && (streq(e->links[k].ifname ? e->links[k].ifname : auto_name, n));
		}
		if (clash)
			return berr_set(err, EINVAL,
					"service %s: network %s: interface_name %s cannot be used (up to 15 "
					"letters, digits, '_', '.', '-'; not lo; not another interface's name)",
					service, e->links[i].network, n);
	}
	static const char *const link_keys[] = {"links", "external_links"};
	for (size_t k = 0; k < ARRAY_SIZE(link_keys); k++) {
		struct node *links = node_map_get(svc, link_keys[k]);
		for (size_t i = 0; links && links->kind == NODE_SEQ && i < links->n; i++)
			if (node_str(links->items[i]))
				strv_push(&e->dns_links, xstrdup(links->items[i]->str));
	}
	return add_ports(svc, service, e, host_binding(p, e), err);
}

void netplan_endpoint_free(struct net_endpoint *e)
{
	for (size_t i = 0; e->links && i < e->nlinks; i++) {
		strv_free(e->links[i].aliases);
		strv_free(e->links[i].link_local);
		strv_free(e->links[i].sysctls);
	}
	free(e->links);
	free(e->ports);
	strv_free(e->dns_links);
	*e = (struct net_endpoint){0};
}

int netplan_port_clash(const struct net_endpoint *a, const struct net_endpoint *b, struct berr **err)
{
	for (size_t i = 0; i < a->nports; i++) {
		for (size_t k = 0; k < b->nports; k++) {
			const struct net_port *x = &a->ports[i], *y = &b->ports[k];
			if (net_port_clash(x, y))
				return berr_set(err, EADDRINUSE,
						"%s (service %s) and %s (service %s) both publish host "
						"port %u/%s; give one of them another port",
						a->container, a->service, b->container, b->service, x->host_port,
						x->udp ? "udp" : "tcp");
		}
	}
	return 0;
}
