/* The host follows the records: the nftables table (NAT, published ports, isolation) and the DNS responder's names, rewritten as a whole by net_sync. */
#include "net_int.h"

#include <ctype.h>
#include <dirent.h>

#include "../lib/json.h"
#include "../lib/fs.h"
#include "../lib/buf.h"
#include "dnsctl.h"
#include "nat.h"

/* ---- the kernel's tables and the DNS records, from the state ---- */

struct netinfo {
	char *name, *bridge;
	struct cidr subnet;
	uint32_t gateway;
	bool internal;
};

static void add_record(struct buf *rec, uint32_t scope, const char *name, uint32_t ip)
{
	if (!name || !name[0])
		return;
	_cleanup_free_ char *s = ip_format(scope), *a = ip_format(ip);
	buf_printf(rec, "%s ", s);
	for (const char *c = name; *c; c++)
		buf_putc(rec, (char)tolower((unsigned char)*c));
	buf_printf(rec, " %s\n", a);
}

/* Names a container answers to on one network, scoped to its gateway. */
static void endpoint_records(struct buf *rec, json_t *ep, const struct netinfo *nets, size_t nn)
{
	size_t i, k;
	json_t *l, *a;
	json_array_foreach(json_object_get(ep, "links"), i, l)
	{
		const char *net = net_jstr(l, "network");
		for (size_t n = 0; n < nn; n++) {
			if (!streq(nets[n].name, net))
				continue;
			uint32_t ip = net_jip(l, "ip");
			/* every address of the container asks as a member of each of its networks */
			size_t m;
			json_t *ml;
			json_array_foreach(json_object_get(ep, "links"), m, ml)
			{
				_cleanup_free_ char *mine = ip_format(net_jip(ml, "ip")),
						    *g = ip_format(nets[n].gateway);
				buf_printf(rec, "member %s %s\n", mine, g);
			}
			if (!json_is_false(json_object_get(ep, "service_name")))
				add_record(rec, nets[n].gateway, net_jstr(ep, "service"), ip);
			add_record(rec, nets[n].gateway, net_jstr(ep, "container"), ip);
			add_record(rec, nets[n].gateway, net_jstr(ep, "hostname"), ip);
			json_array_foreach(json_object_get(l, "aliases"), k, a)
				add_record(rec, nets[n].gateway, json_string_value(a), ip);
		}
	}
}

/* links: "target:alias", answered only to the container that has them,
 * with the target's addresses on the networks both share. */
static void link_records(struct buf *rec, json_t *ep, json_t **eps, size_t ne)
{
	size_t i, k, m;
	json_t *dl, *mine, *theirs;
	json_array_foreach(json_object_get(ep, "dns_links"), i, dl)
	{
		const char *s = json_string_value(dl);
		const char *colon = s ? strchr(s, ':') : NULL;
		_cleanup_free_ char *target = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s ? s : "");
		const char *alias = colon ? colon + 1 : target;
		for (size_t e = 0; e < ne; e++) {
			bool by_service = streq(net_jstr(eps[e], "service"), target) &&
					  !json_is_false(json_object_get(eps[e], "service_name"));
			if (!by_service && !streq(net_jstr(eps[e], "container"), target))
				continue;
			if (streq(net_jstr(eps[e], "service"), target) &&
			    !streq(net_jstr(eps[e], "project"), net_jstr(ep, "project")))
				continue;
			json_array_foreach(json_object_get(ep, "links"), k, mine) json_array_foreach(
				json_object_get(eps[e], "links"), m,
				theirs) if (streq(net_jstr(mine, "network"), net_jstr(theirs, "network")))
				add_record(rec, net_jip(mine, "ip"), alias, net_jip(theirs, "ip"));
		}
	}
}

/* Temporary files of a writer that was killed before its rename: under
 * the lock, nobody else is writing. */
static void sweep_tmp(const char *root)
{
	static const char *const dirs[] = {"networks", "endpoints", "dns"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *dir = net_sub(root, dirs[i]);
		_cleanup_(closedirp) DIR *d = opendir(dir);
		for (struct dirent *e; d && (e = readdir(d));) {
			if (!strstr(e->d_name, ".tmp."))
				continue;
			_cleanup_free_ char *path = xasprintf("%s/%s", dir, e->d_name);
			unlink(path);
		}
	}
}

int net_sync(const char *root, struct berr **err)
{
	int lock;
	int r = net_lock(root, &lock, err);
	if (r == 0)
		sweep_tmp(root);
	if (r == 0)
		r = net_delete_dying(root, err);
	if (r < 0)
		return r;
	char **names = net_list_json(root, "networks");
	char **ctrs = net_list_json(root, "endpoints");
	size_t nn = strv_len(names), ne = strv_len(ctrs);
	struct netinfo *nets = xcalloc(nn + 1, sizeof(*nets));
	struct nat_bridge *br = xcalloc(nn + 1, sizeof(*br));
	size_t k = 0;
	for (size_t i = 0; i < nn; i++) {
		_cleanup_free_ char *path = net_network_path(root, names[i]);
		_cleanup_(json_releasep) json_t *j = net_load(path);
		struct cidr range;
		if (j && !net_removing(j) && net_parse_net(j, &nets[k].subnet, &range, &nets[k].gateway) == 0 &&
		    net_jstr(j, "bridge")) {
			nets[k].name = xstrdup(names[i]);
			nets[k].bridge = xstrdup(net_jstr(j, "bridge"));
			nets[k].internal = json_is_true(json_object_get(j, "internal"));
			br[k] = (struct nat_bridge){.name = nets[k].bridge,
						    .subnet = nets[k].subnet,
						    .internal = nets[k].internal,
						    .no_icc = json_is_false(json_object_get(j, "icc")),
						    .no_masquerade = json_is_false(json_object_get(j, "masquerade"))};
			k++;
		}
	}
	nn = k;
	json_t **eps = xcalloc(ne + 1, sizeof(*eps));
	struct nat_port *ports = NULL;
	size_t np = 0;
	struct buf rec = {0};
	for (size_t i = 0; i < nn; i++) {
		_cleanup_free_ char *gw = ip_format(nets[i].gateway);
		buf_printf(&rec, "listen %s\n", gw);
	}
	for (size_t i = 0; i < ne; i++) {
		_cleanup_free_ char *path = net_endpoint_path(root, ctrs[i]);
		eps[i] = net_load(path);
		/* ports lead to the address on the first network that is not internal */
		json_t *links = json_object_get(eps[i], "links"), *first = json_array_get(links, 0), *l;
		size_t x;
		json_array_foreach(links, x, l) if (!json_is_true(json_object_get(l, "internal")))
		{
			first = l;
			break;
		}
		json_t *p;
		json_array_foreach(first ? json_object_get(eps[i], "ports") : NULL, x, p)
		{
			ports = xrealloc(ports, (np + 1) * sizeof(*ports));
			ports[np++] = (struct nat_port){
				.host_ip = net_jip(p, "host_ip"),
				.host_port = (uint16_t)json_integer_value(json_object_get(p, "host_port")),
				.ctr_port = (uint16_t)json_integer_value(json_object_get(p, "ctr_port")),
				.udp = streq(net_jstr(p, "proto"), "udp"),
				.ctr_ip = net_jip(first, "ip"),
			};
		}
		endpoint_records(&rec, eps[i], nets, nn);
	}
	for (size_t i = 0; i < ne; i++)
		link_records(&rec, eps[i], eps, ne);
	/* the ports of bridges whose containers must not reach each other */
	for (size_t b = 0; b < nn; b++) {
		if (!br[b].no_icc)
			continue;
		br[b].ports = xcalloc(1, sizeof(char *));
		for (size_t i = 0; i < ne; i++) {
			size_t x;
			json_t *l;
			json_array_foreach(json_object_get(eps[i], "links"), x,
					   l) if (streq(net_jstr(l, "network"), nets[b].name) && net_jstr(l, "veth"))
				strv_push(&br[b].ports, xstrdup(net_jstr(l, "veth")));
		}
	}
	_cleanup_free_ char *table = nat_table(root);
	char *script = nat_ruleset(table, br, nn, ports, np);
	_cleanup_free_ char *cache = net_sub(root, "nft.applied");
	r = nat_apply(table, br, nn, script, cache, err);
	for (size_t b = 0; b < nn; b++)
		strv_free(br[b].ports);
	free(script);
	if (r == 0)
		r = dnsctl_update(root, rec.s ? rec.s : "", nn > 0, err);
	buf_free(&rec);
	for (size_t i = 0; i < ne; i++)
		json_decref(eps[i]);
	free(eps);
	for (size_t i = 0; i < nn; i++) {
		free(nets[i].name);
		free(nets[i].bridge);
	}
	free(nets);
	free(br);
	free(ports);
	strv_free(names);
	strv_free(ctrs);
	close(lock);
	return r;
}
