/* IPv4 address management: parsing, pool choice around the host's
 * routes, allocation, fixed addresses, release. */
#include "helpers.h"

#include "../../network/hostnet.h"
#include "../../network/ipam.h"

static struct cidr C(const char *s) {
	struct cidr c;
	assert_int_equal(cidr_parse(s, &c), 0);
	return c;
}

static uint32_t
IP(const char *s)
{
	uint32_t ip;
	assert_int_equal(ip_parse(s, &ip), 0);
	return ip;
}

static void parsing(void **state)
{
	struct cidr c = C("10.1.2.3/24");
	char *s = cidr_format(c);
	assert_string_equal(s, "10.1.2.0/24");
	free(s);
	struct cidr bad;
	assert_true(cidr_parse("10.0.0.0", &bad) < 0);
	assert_true(cidr_parse("10.0.0.0/33", &bad) < 0);
	assert_true(cidr_parse("10.0.0/8", &bad) < 0);
	assert_true(cidr_parse("10.0.0.0/", &bad) < 0);
	assert_true(cidr_overlaps(C("10.0.0.0/8"), C("10.5.0.0/16")));
	assert_false(cidr_overlaps(C("172.17.0.0/16"), C("172.18.0.0/16")));
	assert_true(cidr_contains(C("192.168.1.0/24"), IP("192.168.1.77")));
}

static void pools_skip_what_the_host_uses(void **state)
{
	struct cidr out;
	struct berr *err = NULL;
	assert_int_equal(ipam_pick_subnet(NULL, 0, &out, &err), 0);
	char *s = cidr_format(out);
	assert_string_equal(s, "172.17.0.0/16");
	free(s);
	struct cidr used[] = {C("172.17.0.0/16"), C("172.18.5.0/24"), C("172.16.0.0/12")};
	assert_int_equal(ipam_pick_subnet(used, 2, &out, &err), 0);
	s = cidr_format(out);
	assert_string_equal(s, "172.19.0.0/16");
	free(s);
	assert_int_equal(ipam_pick_subnet(used, 3, &out, &err), 0); /* all of 172.16/12 is taken */
	s = cidr_format(out);
	assert_string_equal(s, "192.168.0.0/20");
	free(s);
	struct cidr everything = C("0.0.0.0/0");
	assert_true(ipam_pick_subnet(&everything, 1, &out, &err) < 0);
	assert_non_null(strstr(err->msg, "no free subnet"));
	berr_free(err);
}

static void allocation(void **state)
{
	struct ipam m;
	struct berr *err = NULL;
	assert_int_equal(ipam_init(&m, C("10.9.0.0/29"), NULL, 0, &err), 0);
	uint32_t ip;
	char *s = ip_format(m.gateway);
	assert_string_equal(s, "10.9.0.1");
	free(s);
	const char *want[] = {"10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5", "10.9.0.6"};
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(ipam_alloc(&m, &ip, &err), 0);
		s = ip_format(ip);
		assert_string_equal(s, want[i]);
		free(s);
	}
	assert_true(ipam_alloc(&m, &ip, &err) < 0); /* .7 is the broadcast */
	assert_non_null(strstr(err->msg, "no free address left in 10.9.0.0/29"));
	berr_free(err);
	err = NULL;
	ipam_release(&m, IP("10.9.0.4"));
	assert_int_equal(ipam_alloc(&m, &ip, &err), 0);
	assert_int_equal(ip, IP("10.9.0.4")); /* never twice: only once released */
	ipam_free(&m);
}

static void fixed_addresses_and_ranges(void **state)
{
	struct ipam m;
	struct berr *err = NULL;
	struct cidr range = C("10.2.0.128/25");
	assert_int_equal(ipam_init(&m, C("10.2.0.0/24"), &range, IP("10.2.0.254"), &err), 0);
	uint32_t ip;
	assert_int_equal(ipam_alloc(&m, &ip, &err), 0);
	assert_int_equal(ip, IP("10.2.0.128"));
	assert_int_equal(ipam_claim(&m, IP("10.2.0.10"), &err), 0);
	assert_true(ipam_claim(&m, IP("10.2.0.10"), &err) < 0);
	assert_non_null(strstr(err->msg, "ipv4_address 10.2.0.10 is already in use"));
	berr_free(err);
	err = NULL;
	assert_true(ipam_claim(&m, IP("10.3.0.10"), &err) < 0);
	assert_non_null(strstr(err->msg, "is not in subnet 10.2.0.0/24"));
	berr_free(err);
	err = NULL;
	assert_true(ipam_claim(&m, IP("10.2.0.254"), &err) < 0); /* the gateway */
	berr_free(err);
	ipam_free(&m);
	struct ipam bad;
	err = NULL;
	struct cidr outside = C("10.5.0.0/24");
	assert_true(ipam_init(&bad, C("10.2.0.0/24"), &outside, 0, &err) < 0);
	assert_non_null(strstr(err->msg, "ip_range is not inside subnet"));
	berr_free(err);
}

/* The host's real addresses and routes, as libnl reads them. */
static void host_networks(void **state)
{
	struct cidr *used = NULL;
	size_t n = 0;
	struct berr *err = NULL;
	if (hostnet_used(&used, &n, &err) < 0)
		fail_msg("%s", err->msg);
	bool loopback = false;
	for (size_t i = 0; i < n; i++) {
		assert_int_not_equal(used[i].prefix, 0); /* the default route does not count */
		loopback |= cidr_contains(used[i], IP("127.0.0.1"));
	}
	assert_true(loopback);
	struct cidr pick;
	assert_int_equal(ipam_pick_subnet(used, n, &pick, &err), 0);
	for (size_t i = 0; i < n; i++)
		assert_false(cidr_overlaps(pick, used[i]));
	free(used);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parsing),       cmocka_unit_test(pools_skip_what_the_host_uses),
		cmocka_unit_test(allocation),    cmocka_unit_test(fixed_addresses_and_ranges),
		cmocka_unit_test(host_networks),
	};
	return cmocka_run_group_tests_name("ipam", tests, NULL, NULL);
}
