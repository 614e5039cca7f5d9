#include "nat.h"

#include <errno.h>
#include <jansson.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/fs.h"
#include "nft_dl.h"

static void ip_put(struct buf *b, uint32_t ip)
{
	buf_printf(b, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static void cidr_put(struct buf *b, struct cidr c)
{
	ip_put(b, c.addr);
	buf_printf(b, "/%d", c.prefix);
}

/* Postrouting: replies to the host's own 127.0.0.1 and to hairpinned
 * connections must come back through the host, and traffic leaving a
 * bridge for elsewhere takes the host's address. */
static void postrouting(struct buf *b, const struct nat_bridge *br, size_t nb)
{
	buf_puts(b, "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	for (size_t i = 0; i < nb; i++) {
		buf_printf(b, "\t\toifname \"%s\" ip saddr 127.0.0.0/8 masquerade\n", br[i].name);
		buf_printf(b, "\t\toifname \"%s\" ip saddr ", br[i].name);
		cidr_put(b, br[i].subnet);
		buf_puts(b, " ct status dnat masquerade\n");
		if (br[i].internal || br[i].no_masquerade)
			continue;
		buf_puts(b, "\t\tip saddr ");
		cidr_put(b, br[i].subnet);
		buf_printf(b, " oifname != \"%s\" masquerade\n", br[i].name);
	}
	buf_puts(b, "\t}\n");
}

/* Forward: an internal network reaches nothing beyond its bridge, and
 * one bridge reaches another only through a published port. */
static void forward(struct buf *b, const struct nat_bridge *br, size_t nb)
{
	buf_puts(b, "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n");
	for (size_t i = 0; i < nb; i++) {
		const char *n = br[i].name;
		if (br[i].internal) {
			buf_printf(b, "\t\tiifname \"%s\" oifname != \"%s\" drop\n", n, n);
			buf_printf(b, "\t\toifname \"%s\" iifname != \"%s\" drop\n", n, n);
		} else {
			buf_printf(b, "\t\tiifname \"%s\" oifname @bridges oifname != \"%s\" ct status ! dnat drop\n",
				   n, n);
		}
	}
	buf_puts(b, "\t}\n");
}

char *nat_table(const char *root)
{
	if (streq(root, "/var/lib/berth"))
		return xstrdup("berth");
	uint32_t h = 2166136261u;
	for (const char *c = root; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	return xasprintf("berth_%08x", h);
}

char *nat_ruleset(const char *table, const struct nat_bridge *br, size_t nb, const struct nat_port *p, size_t np)
{
	struct buf b = {0};
	/* create-then-delete makes the delete valid whether the table exists or not */
	buf_printf(&b, "table ip %s {\n}\ndelete table ip %s\n", table, table);
	buf_printf(&b, "table bridge %s {\n}\ndelete table bridge %s\n", table, table);
	if (nb == 0)
		return buf_steal(&b);
	/* enable_icc=false: frames from one port of such a bridge to another are
	 * dropped where the bridge forwards them (no br_netfilter needed; by
	 * port name, as not every kernel has meta ibrname); the gateway, and
	 * so the host and published ports, stay reachable */
	bool icc_rules = false;
	for (size_t i = 0; i < nb; i++)
		icc_rules |= br[i].no_icc && br[i].ports && br[i].ports[0];
	if (icc_rules) {
		buf_printf(&b,
			   "table bridge %s {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy "
			   "accept;\n",
			   table);
		for (size_t i = 0; i < nb; i++) {
			if (!br[i].no_icc || !br[i].ports || !br[i].ports[0])
				continue;
			struct buf set = {0};
			for (size_t k = 0; br[i].ports[k]; k++)
				buf_printf(&set, "%s\"%s\"", k ? ", " : "", br[i].ports[k]);
			buf_printf(&b, "\t\tiifname { %s } oifname { %s } drop\n", set.s, set.s);
			buf_free(&set);
		}
		buf_puts(&b, "\t}\n}\n");
	}
	buf_printf(&b, "table ip %s {\n", table);
	buf_puts(&b, "\tset bridges {\n\t\ttype ifname\n\t\telements = { ");
	for (size_t i = 0; i < nb; i++)
		buf_printf(&b, "%s\"%s\"", i ? ", " : "", br[i].name);
	buf_puts(&b, " }\n\t}\n");
	/* Bridges have route_localnet (for ports published on 127.0.0.1), so
	 * a container's crafted frame to 127.0.0.1 would reach services bound
	 * to the host's loopback (CVE-2020-8558): nothing from a bridge may
	 * be addressed there, before DNAT or anything else sees it. */
	buf_puts(&b, "\tchain guard {\n\t\ttype filter hook prerouting priority raw; policy accept;\n"
		     "\t\tiifname @bridges ip daddr 127.0.0.0/8 drop\n\t}\n");
	buf_puts(&b, "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		     "\t\tfib daddr type local jump ports\n\t}\n");
	buf_puts(&b, "\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n"
		     "\t\tfib daddr type local jump ports\n\t}\n");
	buf_puts(&b, "\tchain ports {\n");
	for (size_t i = 0; i < np; i++) {
		buf_puts(&b, "\t\t");
		if (p[i].host_ip) {
			buf_puts(&b, "ip daddr ");
			ip_put(&b, p[i].host_ip);
			buf_putc(&b, ' ');
		}
		buf_printf(&b, "%s dport %u dnat to ", p[i].udp ? "udp" : "tcp", p[i].host_port);
		ip_put(&b, p[i].ctr_ip);
		buf_printf(&b, ":%u\n", p[i].ctr_port);
	}
	buf_puts(&b, "\t}\n");
	postrouting(&b, br, nb);
	forward(&b, br, nb);
	buf_puts(&b, "}\n");
	return buf_steal(&b);
}

/* JSON of an nft listing, or NULL. */
static json_t *list_json(struct nft_ctx *ctx, const char *cmd)
{
	unsigned flags = nft_ctx_output_get_flags(ctx);
	nft_ctx_output_set_flags(ctx, flags | NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
	json_t *j = NULL;
	if (nft_run_cmd_from_buffer(ctx, cmd) == 0)
		j = json_loads(nft_ctx_get_output_buffer(ctx), 0, NULL);
	nft_ctx_output_set_flags(ctx, flags);
	return j;
}

/* A name nft takes as it is. */
static bool plain(const char *s)
{
	return s[0] && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == strlen(s);
}

/* What berth needs to know of the ruleset, read with one netlink dump of
 * the chains (libnftables' own listing costs ~6 ms here). */
struct chains {
	bool have_table;  /* berth's table, with its ports chain */
	struct buf drops; /* "FAMILY TABLE CHAIN" of other tables' forward chains that drop by default */
	const char *table;
};

static int on_chain(const struct nlmsghdr *nlh, void *data)
{
	struct chains *cs = data;
	struct nftnl_chain *c = nftnl_chain_alloc();
	if (c && nftnl_chain_nlmsg_parse(nlh, c) == 0) {
		uint32_t fam = nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY);
		const char *tab = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
		const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
		const char *family = fam == NFPROTO_IPV4 ? "ip" : fam == NFPROTO_INET ? "inet" : NULL;
		bool forward_drop = nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM) &&
				    nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) == NF_INET_FORWARD &&
				    nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) &&
				    nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_DROP;
		if (family && tab && name) {
			if (streq(family, "ip") && streq(tab, cs->table) && streq(name, "ports"))
				cs->have_table = true;
			if (forward_drop && !(streq(family, "ip") && startswith(tab, "berth")) && plain(tab) &&
			    plain(name))
				buf_printf(&cs->drops, "%s %s %s\n", family, tab, name);
		}
	}
	if (c)
		nftnl_chain_free(c);
	return MNL_CB_OK;
}

static int read_chains_once(struct chains *cs)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		if (nl)
			mnl_socket_close(nl);
		return -errno;
	}
	char *buf = xmalloc(MNL_SOCKET_BUFFER_SIZE);
	uint32_t seq = (uint32_t)getpid();
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, NLM_F_DUMP, seq);
	int r = mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ? -errno : 0;
	unsigned portid = mnl_socket_get_portid(nl);
	while (r == 0) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		int k = mnl_cb_run(buf, (size_t)n, seq, portid, on_chain, cs);
		if (k <= 0) {
			r = k < 0 ? -errno : 0;
			break;
		}
	}
	free(buf);
	mnl_socket_close(nl);
	return r;
}

/* A dump the kernel marks interrupted (NLM_F_DUMP_INTR: the ruleset
 * changed meanwhile, another program's or another state root's berth) is
 * read again from the start, as libnftables does with its own. */
static int read_chains(struct chains *cs)
{
	int r = -EINTR;
	for (int tries = 0; r == -EINTR && tries < 50; tries++) {
		cs->have_table = false;
		buf_free(&cs->drops);
		r = read_chains_once(cs);
	}
	errno = -r;
	return r;
}

/* Another table's forward chain that drops by default (iptables' FORWARD
 * once Docker is installed, a firewall's inet filter) would drop what
 * crosses berth's bridges whatever berth's table says, so each such chain
 * gets accept rules for berth's bridges, marked with a comment naming
 * berth's table; the previous ones go in the same transaction. Nothing
 * else of those chains is changed. */
static void foreign_forward(struct nft_ctx *ctx, const char *table, const char *drops, const struct nat_bridge *br,
			    size_t nb, struct buf *b)
{
	_cleanup_free_ char *mark = xasprintf("berth %s", table);
	_cleanup_free_ char *copy = xstrdup(drops);
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char fam[8], tab[256], name[256];
		if (sscanf(line, "%7s %255s %255s", fam, tab, name) != 3)
			continue;
		_cleanup_free_ char *cmd = xasprintf("list chain %s %s %s", fam, tab, name);
		json_t *rules = list_json(ctx, cmd);
		size_t k;
		json_t *r;
		json_array_foreach(json_object_get(rules, "nftables"), k, r)
		{
			json_t *rule = json_object_get(r, "rule");
			if (rule && streq(json_string_value(json_object_get(rule, "comment")), mark))
				buf_printf(b, "delete rule %s %s %s handle %lld\n", fam, tab, name,
					   (long long)json_integer_value(json_object_get(rule, "handle")));
		}
		json_decref(rules);
		if (nb == 0)
			continue;
		/* as Docker's FORWARD rules: whatever leaves a bridge; into one,
		 * only replies and published ports, so the host's own filtering
		 * of everything else still holds */
		static const char *const accepts[] = {"iifname %s accept",
						      "oifname %s ct state established,related accept",
						      "oifname %s ct status dnat accept"};
		struct buf set = {0};
		buf_puts(&set, "{ ");
		for (size_t n = 0; n < nb; n++)
			buf_printf(&set, "%s\"%s\"", n ? ", " : "", br[n].name);
		buf_puts(&set, " }");
		for (size_t d = 0; d < ARRAY_SIZE(accepts); d++) {
			buf_printf(b, "insert rule %s %s %s ", fam, tab, name);
			buf_printf(b, accepts[d], set.s);
			buf_printf(b, " comment \"%s\"\n", mark);
		}
		buf_free(&set);
	}
}

int nat_apply(const char *table, const struct nat_bridge *br, size_t nb, const char *script, const char *cache,
	      struct berr **err)
{
	struct chains cs = {.table = table};
	if (read_chains(&cs) < 0) {
		buf_free(&cs.drops);
		return berr_sys(err, errno, "cannot read the nftables ruleset");
	}
	/* what was applied last in this boot: the same again changes nothing,
	 * and starting libnftables and a transaction cost several ms */
	_cleanup_free_ char *boot = NULL, *last = NULL;
	size_t len;
	if (fs_read_file("/proc/sys/kernel/random/boot_id", 64, &boot, &len, NULL) < 0)
		boot = xstrdup("");
	struct buf key = {0};
	buf_printf(&key, "%s%s%s", boot, cs.drops.s ? cs.drops.s : "", script);
	bool same = cache && cs.have_table == (nb > 0) && fs_read_file(cache, 1u << 24, &last, &len, NULL) == 0 &&
		    streq(last, key.s);
	int r = 0;
	if (!same && nft_dl_load(err) < 0) {
		buf_free(&key);
		buf_free(&cs.drops);
		return -ENOENT;
	}
	if (!same) {
		struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
		if (!ctx) {
			buf_free(&key);
			buf_free(&cs.drops);
			return berr_set(err, ENOMEM, "cannot start libnftables");
		}
		nft_ctx_buffer_output(ctx);
		nft_ctx_buffer_error(ctx);
		struct buf all = {0};
		if (cs.drops.s)
			foreign_forward(ctx, table, cs.drops.s, br, nb, &all);
		buf_puts(&all, script);
		if (cache)
			unlink(cache);
		int ran = nft_run_cmd_from_buffer(ctx, all.s);
		/* a kernel without the bridge family: without the bridge table
		 * (only enable_icc=false needs it, and then it is said) */
		_cleanup_free_ char *prelude = xasprintf("table bridge %s {\n}\ndelete table bridge %s\n", table,
							 table);
		_cleanup_free_ char *rules = xasprintf("table bridge %s {\n\tchain", table);
		char *at = ran != 0 && !strstr(all.s, rules) ? strstr(all.s, prelude) : NULL;
		if (at) {
			memmove(at, at + strlen(prelude), strlen(at + strlen(prelude)) + 1);
			ran = nft_run_cmd_from_buffer(ctx, all.s);
		}
		if (ran != 0) {
			const char *msg = nft_ctx_get_error_buffer(ctx);
			r = berr_set(err, EIO, "cannot update berth's nftables table: %s",
				     msg && *msg ? msg : "unknown error");
		} else if (cache) {
			fs_write_replace(cache, key.s, key.len, 0600, NULL);
		}
		buf_free(&all);
		nft_ctx_free(ctx);
	}
	buf_free(&key);
	buf_free(&cs.drops);
	return r;
}
