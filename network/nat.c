#include "nat.h"

#include <errno.h>
#include <jansson.h>
#include <nftables/libnftables.h>

#include "../lib/buf.h"

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
		if (br[i].internal)
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
	buf_puts(b, "\tset bridges {\n\t\ttype ifname\n\t\telements = { ");
	for (size_t i = 0; i < nb; i++)
		buf_printf(b, "%s\"%s\"", i ? ", " : "", br[i].name);
	buf_puts(b, " }\n\t}\n");
	buf_puts(b, "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n");
	for (size_t i = 0; i < nb; i++) {
		const char *n = br[i].name;
		if (br[i].internal) {
			buf_printf(b, "\t\tiifname \"%s\" oifname != \"%s\" drop\n", n, n);
			buf_printf(b, "\t\toifname \"%s\" iifname != \"%s\" drop\n", n, n);
		} else {
			buf_printf(b, "\t\tiifname \"%s\" oifname @bridges oifname != \"%s\" ct status ! dnat drop\n", n, n);
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
	if (nb == 0)
		return buf_steal(&b);
	buf_printf(&b, "table ip %s {\n", table);
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

/* Another table's forward chain that drops by default (iptables' FORWARD
 * once Docker is installed, a firewall's inet filter) would drop what
 * crosses berth's bridges whatever berth's table says, so each such chain
 * gets two accept rules for berth's bridges, marked with a comment naming
 * berth's table; the previous ones go in the same transaction. Nothing
 * else of those chains is changed. */
static void foreign_forward(struct nft_ctx *ctx, const char *table, const struct nat_bridge *br, size_t nb,
			    struct buf *b)
{
	json_t *chains = list_json(ctx, "list chains");
	_cleanup_free_ char *mark = xasprintf("berth %s", table);
	size_t i;
	json_t *item;
	json_array_foreach(json_object_get(chains, "nftables"), i, item)
	{
		json_t *c = json_object_get(item, "chain");
		const char *fam = json_string_value(json_object_get(c, "family"));
		const char *tab = json_string_value(json_object_get(c, "table"));
		const char *name = json_string_value(json_object_get(c, "name"));
		if (!fam || !tab || !name || !streq(json_string_value(json_object_get(c, "hook")), "forward") ||
		    !streq(json_string_value(json_object_get(c, "policy")), "drop") ||
		    !(streq(fam, "ip") || streq(fam, "inet")) || (streq(fam, "ip") && startswith(tab, "berth")) ||
		    !plain(tab) || !plain(name))
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
		static const char *const dirs[] = {"iifname", "oifname"};
		for (size_t d = 0; d < 2; d++) {
			buf_printf(b, "insert rule %s %s %s %s { ", fam, tab, name, dirs[d]);
			for (size_t n = 0; n < nb; n++)
				buf_printf(b, "%s\"%s\"", n ? ", " : "", br[n].name);
			buf_printf(b, " } accept comment \"%s\"\n", mark);
		}
	}
	json_decref(chains);
}

int nat_apply(const char *table, const struct nat_bridge *br, size_t nb, const char *script, struct berr **err)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return berr_set(err, ENOMEM, "cannot start libnftables");
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	struct buf all = {0};
	foreign_forward(ctx, table, br, nb, &all);
	buf_puts(&all, script);
	int r = nft_run_cmd_from_buffer(ctx, all.s);
	buf_free(&all);
	if (r != 0) {
		const char *msg = nft_ctx_get_error_buffer(ctx);
		r = berr_set(err, EIO, "cannot update berth's nftables table: %s", msg && *msg ? msg : "unknown error");
	}
	nft_ctx_free(ctx);
	return r;
}
