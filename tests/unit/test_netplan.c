/* From compose networks, ports and links to what network/ builds, and the
 * nftables script berth writes for it. */
#include "helpers.h"

#include <limits.h>

#include "../../network/ipam.h"
#include "../../network/nat.h"
#include "../../orchestrator/netplan.h"

static char *dir;

static struct project *project(const char *yaml)
{
	dir = tmpdir_new();
	return project_in(dir, "demo", yaml, NULL);
}

static void done(struct project *p)
{
	project_free(p);
	rm_rf(dir);
	free(dir);
}

static void networks_and_attachments(void **state)
{
	struct project *p = project(
		"services:\n"
		"  web:\n"
		"    image: x\n"
		"    mac_address: 02:42:0a:00:00:09\n"
		"    networks:\n"
		"      back: {priority: 1}\n"
		"      front: {aliases: [www], ipv4_address: 10.5.0.9, priority: 10}\n"
		"    links: [db, 'db:database']\n"
		"    external_links: ['other-redis-1:redis']\n"
		"  db: {image: x, networks: [back]}\n"
		"  solo: {image: x}\n"
		"  side: {image: x, network_mode: 'service:web'}\n"
		"  hosted: {image: x, network_mode: host}\n"
		"networks:\n"
		"  front:\n"
		"    ipam: {config: [{subnet: 10.5.0.0/24, gateway: 10.5.0.254}]}\n"
		"    driver_opts: {com.docker.network.bridge.name: br-front, com.docker.network.driver.mtu: 1400}\n"
		"    labels: [team=a]\n"
		"  back: {internal: true}\n");
	struct net_def *defs;
	size_t n;
	struct berr *err = NULL;
	char *only_db[] = {"db", NULL};
	assert_int_equal(netplan_defs(p, only_db, &defs, &n, &err), 0);
	assert_int_equal(n, 1); /* only what the services asked for use */
	assert_string_equal(defs[0].name, "demo_back");
	assert_true(defs[0].internal);
	netplan_defs_free(defs, n);
	assert_int_equal(netplan_defs(p, NULL, &defs, &n, &err), 0);
	assert_int_equal(n, 3); /* default (solo), front, back */
	for (size_t i = 0; i < n; i++) {
		if (!streq(defs[i].name, "demo_front"))
			continue;
		assert_string_equal(defs[i].subnet, "10.5.0.0/24");
		assert_string_equal(defs[i].gateway, "10.5.0.254");
		assert_string_equal(defs[i].bridge, "br-front");
		assert_int_equal(defs[i].mtu, 1400);
		assert_string_equal(defs[i].labels[0], "team=a");
	}
	netplan_defs_free(defs, n);

	struct net_endpoint e;
	assert_int_equal(netplan_endpoint(p, "web", "demo-web-1", "h", &e, &err), 0);
	assert_int_equal(e.nlinks, 2);
	assert_string_equal(e.links[0].network, "demo_front"); /* the higher priority first */
	assert_string_equal(e.links[0].aliases[0], "www");
	assert_string_equal(e.links[0].ip, "10.5.0.9");
	assert_string_equal(e.links[0].mac, "02:42:0a:00:00:09"); /* the service's MAC goes on the first */
	assert_null(e.links[1].mac);
	assert_string_equal(e.dns_links[0], "db");
	assert_string_equal(e.dns_links[1], "db:database");
	assert_string_equal(e.dns_links[2], "other-redis-1:redis");
	netplan_endpoint_free(&e);

	assert_true(netplan_own_netns(project_service(p, "solo")));
	assert_false(netplan_own_netns(project_service(p, "side")));
	assert_false(netplan_own_netns(project_service(p, "hosted")));
	char *ns = netplan_netns(p, "/r", "side", "demo-side-1");
	assert_string_equal(ns, "/r/net/netns/demo-web-1");
	free(ns);
	ns = netplan_netns(p, "/r", "hosted", "demo-hosted-1");
	assert_string_equal(ns, "host");
	free(ns);
	done(p);
}

static void ports(void **state)
{
	struct project *p = project(
		"services:\n"
		"  a:\n"
		"    image: x\n"
		"    ports: ['8080:80', '127.0.0.1:5353:53/udp', '9000-9001:90-91', '80', '7000-7010:70']\n"
		"  b: {image: x, ports: ['127.0.0.1:8080:81']}\n"
		"  c: {image: x, ports: ['8080:82/udp', '7005:70']}\n"
		"  v6: {image: x, ports: ['[::1]:8080:80']}\n");
	struct net_endpoint a, b, c, v6;
	struct berr *err = NULL;
	assert_int_equal(netplan_endpoint(p, "a", "demo-a-1", "h", &a, &err), 0);
	assert_int_equal(a.nports, 6);
	assert_int_equal(a.ports[0].host_port, 8080);
	assert_int_equal(a.ports[0].ctr_port, 80);
	assert_false(a.ports[0].udp);
	assert_int_equal(a.ports[0].host_ip, 0);
	assert_true(a.ports[1].udp);
	assert_int_equal(a.ports[1].host_ip, 0x7f000001);
	assert_int_equal(a.ports[2].host_port, 9000); /* ranges were split by the loader */
	assert_int_equal(a.ports[3].host_port, 9001);
	assert_int_equal(a.ports[4].host_port, 0); /* ephemeral */
	assert_int_equal(a.ports[5].host_port, 7000);
	assert_int_equal(a.ports[5].host_port_end, 7010); /* any free one of the range */
	assert_int_equal(netplan_endpoint(p, "b", "demo-b-1", "h", &b, &err), 0);
	assert_int_equal(netplan_endpoint(p, "c", "demo-c-1", "h", &c, &err), 0);
	/* 0.0.0.0:8080 and 127.0.0.1:8080 overlap */
	assert_true(netplan_port_clash(&a, &b, &err) < 0);
	assert_non_null(
		strstr(err->msg, "demo-a-1 (service a) and demo-b-1 (service b) both publish host port 8080/tcp"));
	berr_free(err);
	err = NULL;
	/* another protocol, and a port inside a range that picks a free one, do not */
	assert_int_equal(netplan_port_clash(&a, &c, &err), 0);
	assert_true(netplan_endpoint(p, "v6", "demo-v6-1", "h", &v6, &err) < 0);
	assert_non_null(strstr(err->msg, "IPv6 is not supported yet"));
	berr_free(err);
	netplan_endpoint_free(&a);
	netplan_endpoint_free(&b);
	netplan_endpoint_free(&c);
	netplan_endpoint_free(&v6);
	done(p);
}

static void bad_networks(void **state)
{
	struct project *p = project("services:\n  a: {image: x, networks: [o]}\n"
				    "networks:\n  o: {driver: overlay}\n");
	struct net_def *defs;
	size_t n;
	struct berr *err = NULL;
	assert_true(netplan_defs(p, NULL, &defs, &n, &err) < 0);
	assert_non_null(strstr(err->msg, "compose.yaml:4:"));
	assert_non_null(strstr(err->msg, "driver overlay is not supported"));
	berr_free(err);
	done(p);
}

static void ruleset(void **state)
{
	struct cidr a, b;
	assert_int_equal(cidr_parse("172.18.0.0/16", &a), 0);
	assert_int_equal(cidr_parse("10.9.0.0/24", &b), 0);
	struct nat_bridge br[] = {{.name = "berth-aa", .subnet = a},
				  {.name = "berth-bb", .subnet = b, .internal = true}};
	struct nat_port pt[] = {{0, 8080, 80, false, 0xac120002}, {0x7f000001, 53, 5353, true, 0xac120003}};
	char *s = nat_ruleset("berth_x", br, 2, pt, 2);
	const char *want[] = {
		"table ip berth_x {\n}\ndelete table ip berth_x\ntable bridge berth_x {\n}\ndelete table bridge "
		"berth_x\n"
		"table ip berth_x {\n",
		"fib daddr type local jump ports",
		"\t\ttcp dport 8080 dnat to 172.18.0.2:80\n",
		"\t\tip daddr 127.0.0.1 udp dport 53 dnat to 172.18.0.3:5353\n",
		"oifname \"berth-aa\" ip saddr 127.0.0.0/8 masquerade",
		"oifname \"berth-aa\" ip saddr 172.18.0.0/16 ct status dnat masquerade",
		"ip saddr 172.18.0.0/16 oifname != \"berth-aa\" masquerade",
		"iifname \"berth-bb\" oifname != \"berth-bb\" drop",
		"iifname \"berth-aa\" oifname @bridges oifname != \"berth-aa\" ct status ! dnat drop",
		/* nothing from a bridge reaches the host's loopback (CVE-2020-8558) */
		"type filter hook prerouting priority raw; policy accept;\n\t\tiifname @bridges ip daddr 127.0.0.0/8 "
		"drop",
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		if (!strstr(s, want[i]))
			fail_msg("missing from the ruleset: %s\n%s", want[i], s);
	/* an internal network gets no way out */
	assert_null(strstr(s, "ip saddr 10.9.0.0/24 oifname != \"berth-bb\" masquerade"));
	free(s);
	s = nat_ruleset("berth_x", NULL, 0, NULL, 0);
	assert_string_equal(s,
			    "table ip berth_x {\n}\ndelete table ip berth_x\ntable bridge berth_x {\n}\ndelete table "
			    "bridge berth_x\n");
	free(s);
	/* enable_icc=false: the bridge's ports do not reach each other; enable_ip_masquerade=false: no NAT out */
	char *ports[] = {"berthv1", "berthv2", NULL};
	struct nat_bridge iso[] = {
		{.name = "berth-cc", .subnet = a, .no_icc = true, .no_masquerade = true, .ports = ports}};
	s = nat_ruleset("berth_x", iso, 1, NULL, 0);
	assert_non_null(
		strstr(s, "table bridge berth_x {\n\tchain forward {\n\t\ttype filter hook forward priority filter; "
			  "policy accept;\n\t\tiifname { \"berthv1\", \"berthv2\" } oifname { \"berthv1\", "
			  "\"berthv2\" } drop\n"));
	assert_null(strstr(s, "ip saddr 172.18.0.0/16 oifname != \"berth-cc\" masquerade"));
	assert_non_null(strstr(s, "oifname \"berth-cc\" ip saddr 172.18.0.0/16 ct status dnat masquerade"));
	free(s);
	/* no ports yet: no bridge chain */
	iso[0].ports = NULL;
	s = nat_ruleset("berth_x", iso, 1, NULL, 0);
	assert_null(strstr(
		s, "chain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n\t\tiifname {"));
	free(s);
	s = nat_table("/var/lib/berth");
	assert_string_equal(s, "berth");
	free(s);
	s = nat_table("/tmp/other");
	assert_true(startswith(s, "berth_") && strlen(s) == 14);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(networks_and_attachments),
		cmocka_unit_test(ports),
		cmocka_unit_test(bad_networks),
		cmocka_unit_test(ruleset),
	};
	return cmocka_run_group_tests_name("netplan", tests, NULL, NULL);
}
