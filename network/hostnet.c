#include "hostnet.h"

#include <errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <stdio.h>

#include "../lib/buf.h"
#include "../lib/fs.h"

struct collect {
	struct cidr *v;
	size_t n;
};

static void add(struct collect *c, struct nl_addr *a)
{
	if (!a || nl_addr_get_family(a) != AF_INET || nl_addr_get_len(a) != 4)
		return;
	int prefix = (int)nl_addr_get_prefixlen(a);
	if (prefix == 0)
		return; /* the default route overlaps everything; it does not count */
	const unsigned char *b = nl_addr_get_binary_addr(a);
	uint32_t ip = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	uint32_t mask = prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
	c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
	c->v[c->n++] = (struct cidr){ip & mask, prefix};
}

static void on_addr(struct nl_object *o, void *data) { add(data, rtnl_addr_get_local((struct rtnl_addr *)o)); }
static void on_route(struct nl_object *o, void *data) { add(data, rtnl_route_get_dst((struct rtnl_route *)o)); }

int hostnet_used(struct cidr **out, size_t *n, struct berr **err)
{
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk)
		return berr_set(err, ENOMEM, "cannot allocate a netlink socket");
	int r = nl_connect(sk, NETLINK_ROUTE);
	struct nl_cache *addrs = NULL, *routes = NULL;
	if (r == 0)
		r = rtnl_addr_alloc_cache(sk, &addrs);
	if (r == 0)
		r = rtnl_route_alloc_cache(sk, AF_INET, 0, &routes);
	struct collect c = {0};
	if (r == 0) {
		nl_cache_foreach(addrs, on_addr, &c);
		nl_cache_foreach(routes, on_route, &c);
	}
	nl_cache_free(addrs);
	nl_cache_free(routes);
	nl_socket_free(sk);
	if (r < 0) {
		free(c.v);
		return berr_set(err, EIO, "cannot read the host's addresses and routes: %s", nl_geterror(r));
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

void hostnet_resolv(struct buf *out, bool nameservers, bool loopback, bool search, bool options)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (fs_read_file("/etc/resolv.conf", 1 << 16, &text, &len, NULL) < 0)
		return;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char word[16] = "", arg[64] = "";
		sscanf(line, " %15s %63s", word, arg);
		bool keep = (streq(word, "nameserver") && nameservers && (loopback || !startswith(arg, "127."))) ||
			    ((streq(word, "search") || streq(word, "domain")) && search) ||
			    (streq(word, "options") && options);
		if (keep)
			buf_printf(out, "%s\n", line);
	}
}
