/* berth network ls | create | rm | inspect: networks outside any project,
 * for `external: true`, and a look at those projects made. */

#include "../lib/json.h"
#include "../network/net.h"
#include "../orchestrator/apply.h"
#include "cli.h"
#include "table.h"

static int network_ls(int argc, char **argv)
{
	bool quiet = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"quiet", 'q', FLAG_BOOL, &quiet, NULL, "Only show names"},
	};
	int rc = cmd_flags("network ls", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth network ls [OPTIONS]",
			   "List networks.");
	strv_free(pos);
	if (rc >= 0)
		return rc;
	char **names = net_list(berth_root(), NULL);
	struct table tab = {0};
	static const char *const header[] = {"NAME", "DRIVER", "SUBNET", "GATEWAY", "BRIDGE", "PROJECT"};
	if (!quiet)
		table_init(&tab, ARRAY_SIZE(header), header);
	for (size_t i = 0; names[i]; i++) {
		if (quiet) {
			printf("%s\n", names[i]);
			continue;
		}
		char *text = net_inspect(berth_root(), names[i]);
		json_t *j = text ? json_loads(text, 0, NULL) : NULL;
#define F(k) json_string_value(json_object_get(j, k))
		const char *row[] = {names[i], "bridge", F("subnet"), F("gateway"), F("bridge"), F("project")};
#undef F
		table_add(&tab, row);
		json_decref(j);
		free(text);
	}
	if (!quiet)
		table_print(&tab);
	strv_free(names);
	return 0;
}

static int network_create(int argc, char **argv)
{
	bool internal = false;
	const char *subnet = NULL, *gateway = NULL, *range = NULL, *driver = NULL;
	char **pos = NULL, **labels = NULL, **opts = NULL;
	const struct flag flags[] = {
		{"driver", 'd', FLAG_STR, &driver, "DRIVER", "bridge (the only one)"},
		{"subnet", 0, FLAG_STR, &subnet, "CIDR", "IPv4 subnet (default: a free one)"},
		{"gateway", 0, FLAG_STR, &gateway, "IP", "Gateway address (default: the subnet's first)"},
		{"ip-range", 0, FLAG_STR, &range, "CIDR", "Hand out addresses from this part of the subnet"},
		{"internal", 0, FLAG_BOOL, &internal, NULL, "No way out of the network"},
		{"label", 0, FLAG_LIST, &labels, "KEY=VALUE", "Label; repeatable"},
		{"opt", 'o', FLAG_LIST, &opts, "KEY=VALUE", "Driver option (com.docker.network.bridge.name, ...mtu)"},
	};
	int rc = cmd_flags("network create", flags, ARRAY_SIZE(flags), argc, argv, &pos,
			   "berth network create [OPTIONS] NAME", "Create a network.");
	_cleanup_(strv_freep) char **args = pos;
	_cleanup_(strv_freep) char **lab = labels;
	_cleanup_(strv_freep) char **o = opts;
	if (rc >= 0)
		return rc;
	if (strv_len(args) != 1)
		return usage_error("network create", "give one network name");
	if (driver && !streq(driver, "bridge"))
		return usage_error("network create", "only the bridge driver is supported");
	struct net_def d = {.name = args[0],
			    .subnet = subnet,
			    .gateway = gateway,
			    .ip_range = range,
			    .internal = internal,
			    .labels = lab};
	for (size_t i = 0; o && o[i]; i++) {
		if (startswith(o[i], "com.docker.network.bridge.name="))
			d.bridge = strchr(o[i], '=') + 1;
		else if (startswith(o[i], "com.docker.network.driver.mtu="))
			d.mtu = atoi(strchr(o[i], '=') + 1);
		else
			fprintf(stderr, "berth: driver option %s is not supported; it is ignored\n", o[i]);
	}
	struct berr *err = NULL;
	if (apply_network_create(cli_ctx(), &d, &err) < 0)
		return report(err);
	printf("%s\n", d.name);
	return 0;
}

static int network_rm(int argc, char **argv)
{
	char **pos = NULL;
	int rc = cmd_flags("network rm", NULL, 0, argc, argv, &pos, "berth network rm NETWORK...",
			   "Remove networks nobody uses.");
	_cleanup_(strv_freep) char **args = pos;
	if (rc >= 0)
		return rc;
	if (strv_len(args) == 0)
		return usage_error("network rm", "give at least one network name");
	int status = 0;
	for (size_t i = 0; args[i]; i++) {
		struct berr *err = NULL;
		if (apply_network_remove(cli_ctx(), args[i], &err) < 0)
			status = report(err);
		else
			printf("%s\n", args[i]);
	}
	struct berr *err = NULL;
	if (apply_sync(cli_ctx(), &err) < 0)
		status = report(err);
	return status;
}

/* docker network inspect's shape, from berth's record */
static char *inspect_docker(const char *root, const char *name)
{
	char *text = net_inspect(root, name);
	_cleanup_(json_releasep) json_t *r = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	if (!r)
		return NULL;
#define S(k) json_string_value(json_object_get(r, k))
	json_t *cfg = json_pack("{s:s}", "Subnet", S("subnet") ? S("subnet") : "");
	if (S("ip_range") && !streq(S("ip_range"), S("subnet") ? S("subnet") : ""))
		json_object_set_new(cfg, "IPRange", json_string(S("ip_range")));
	if (S("gateway"))
		json_object_set_new(cfg, "Gateway", json_string(S("gateway")));
	json_t *ctrs = json_object();
	const char *ctr;
	json_t *ep;
	json_object_foreach(json_object_get(r, "endpoints"), ctr, ep)
	{
		_cleanup_(json_releasep) json_t *meta = apply_meta(root, ctr);
		const char *id = json_string_value(json_object_get(meta, "id"));
		const char *ip = json_is_string(ep) ? json_string_value(ep)
						    : json_string_value(json_object_get(ep, "ip"));
		_cleanup_free_ char *addr = ip ? xasprintf("%s/%s", ip,
							   strchr(S("subnet") ? S("subnet") : "", '/')
								   ? strchr(S("subnet"), '/') + 1
								   : "32")
					       : xstrdup("");
		json_object_set_new(ctrs, id ? id : ctr,
				    json_pack("{s:s, s:s, s:s}", "Name", ctr, "IPv4Address", addr, "IPv6Address", ""));
	}
	json_t *labels = compose_labels(json_object_get(r, "labels"), S("project"), name, "com.docker.compose.network");
	json_t *opts = json_pack("{s:s}", "com.docker.network.bridge.name", S("bridge") ? S("bridge") : "");
	if (json_integer_value(json_object_get(r, "mtu")))
		json_object_set_new(opts, "com.docker.network.driver.mtu",
				    json_sprintf("%lld", (long long)json_integer_value(json_object_get(r, "mtu"))));
	if (json_is_false(json_object_get(r, "icc")))
		json_object_set_new(opts, "com.docker.network.bridge.enable_icc", json_string("false"));
	if (json_is_false(json_object_get(r, "masquerade")))
		json_object_set_new(opts, "com.docker.network.bridge.enable_ip_masquerade", json_string("false"));
	json_t *d = json_pack("{s:s, s:s, s:o, s:s, s:s, s:b, s:b, s:{s:s, s:n, s:[o]}, s:b, s:b, s:b, s:o, s:o, s:o}",
			      "Name", name, "Id", S("id") ? S("id") : "", "Created",
			      json_rfc3339(json_integer_value(json_object_get(r, "created_ms"))), "Scope", "local",
			      "Driver", "bridge", "EnableIPv4", 1, "EnableIPv6", 0, "IPAM", "Driver", "default",
			      "Options", "Config", cfg, "Internal", json_is_true(json_object_get(r, "internal")),
			      "Attachable", 0, "Ingress", 0, "Containers", ctrs, "Options", opts, "Labels", labels);
#undef S
	return inspect_text(d);
}

static int network_inspect(int argc, char **argv)
{
	return inspect_each("network", "network", inspect_docker, argc, argv);
}

static const struct subcommand network_commands[] = {
	{"ls", "List networks", network_ls},
	{"create", "Create a network", network_create},
	{"rm", "Remove networks", network_rm},
	{"inspect", "Show a network's state", network_inspect},
};

int cmd_network(struct global_opts *g, int argc, char **argv)
{
	(void)g;
	return subcommand_run("network", "Manage networks.", network_commands, ARRAY_SIZE(network_commands), argc,
			      argv);
}
