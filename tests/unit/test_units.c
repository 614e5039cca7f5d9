/* Durations, byte sizes, command splitting, float text, port specs. */
#include "helpers.h"

#include "../../orchestrator/units.h"

static void durations(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"1m30s", "1m30s"}, {"90s", "1m30s"}, {"500ms", "500ms"}, {"1h", "1h0m0s"},        {"1.5h", "1h30m0s"},
		{"10s", "10s"},     {"0", "0s"},      {"1.5s", "1.5s"},   {"2h45m", "2h45m0s"},    {"1us", "1µs"},
		{"3ns", "3ns"},     {"1m", "1m0s"},   {"0.5ms", "500µs"}, {"1h1ms", "1h0m0.001s"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		long long ns;
		assert_int_equal(duration_parse(cases[i].in, &ns), 0);
		char *s = duration_format(ns);
		assert_string_equal(s, cases[i].out);
		free(s);
	}
	long long ns;
	assert_true(duration_parse("10", &ns) < 0);
	assert_true(duration_parse("abc", &ns) < 0);
	assert_true(duration_parse("10x", &ns) < 0);
	assert_true(duration_parse("", &ns) < 0);
}

static void byte_sizes(void **state)
{
	static const struct {
		const char *in;
		long long out;
	} cases[] = {
		{"512m", 536870912LL}, {"1g", 1073741824LL}, {"1.5GB", 1610612736LL}, {"1024", 1024},
		{"64k", 65536},        {"2MiB", 2097152},    {"1 kb", 1024},          {"100b", 100},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		long long b;
		assert_int_equal(bytes_parse(cases[i].in, &b), 0);
		assert_int_equal(b, cases[i].out);
	}
	long long b;
	assert_true(bytes_parse("lots", &b) < 0);
	assert_true(bytes_parse("12q", &b) < 0);
	assert_true(bytes_parse("-1g", &b) < 0);
}

static void split(const char *in, const char *const *want)
{
	char **w = shell_split(in);
	assert_non_null(w);
	size_t n = 0;
	while (want[n])
		n++;
	assert_int_equal(strv_len(w), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(w[i], want[i]);
	strv_free(w);
}

static void command_splitting(void **state)
{
	split("npm start", (const char *const[]){"npm", "start", NULL});
	split("  sh -c 'echo hello world'  ", (const char *const[]){"sh", "-c", "echo hello world", NULL});
	split("echo \"a \\\"b\\\" c\" d", (const char *const[]){"echo", "a \"b\" c", "d", NULL});
	split("a\\ b c", (const char *const[]){"a b", "c", NULL});
	split("echo ''", (const char *const[]){"echo", "", NULL});
	split("echo $HOME", (const char *const[]){"echo", "$HOME", NULL});
	split("", (const char *const[]){NULL});
	assert_null(shell_split("echo 'unclosed"));
	assert_null(shell_split("echo \"unclosed"));
}

static void floats(void **state)
{
	char *s = float_format(0.5);
	assert_string_equal(s, "0.5");
	free(s);
	s = float_format(1.0);
	assert_string_equal(s, "1");
	free(s);
	s = float_format(0.1);
	assert_string_equal(s, "0.1");
	free(s);
}

static void ports(void **state)
{
	struct port_spec p[16];
	size_t n;
	struct berr *why = NULL;
	assert_int_equal(port_parse("80", p, 16, &n, &why), 0);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].target, 80);
	assert_string_equal(p[0].published, "");
	assert_string_equal(p[0].protocol, "tcp");

	assert_int_equal(port_parse("127.0.0.1:8080:80/udp", p, 16, &n, &why), 0);
	assert_string_equal(p[0].host_ip, "127.0.0.1");
	assert_string_equal(p[0].published, "8080");
	assert_string_equal(p[0].protocol, "udp");

	assert_int_equal(port_parse("8080-8081:80-81", p, 16, &n, &why), 0);
	assert_int_equal(n, 2);
	assert_string_equal(p[1].published, "8081");
	assert_int_equal(p[1].target, 81);

	assert_int_equal(port_parse("[::1]:8080:80", p, 16, &n, &why), 0);
	assert_string_equal(p[0].host_ip, "::1");
	assert_int_equal(port_parse("::1:8080:80", p, 16, &n, &why), 0);
	assert_string_equal(p[0].host_ip, "::1");

	assert_int_equal(port_parse("127.0.0.1::80", p, 16, &n, &why), 0);
	assert_string_equal(p[0].published, "");

	assert_int_equal(port_parse("9000-9010:80", p, 16, &n, &why), 0);
	assert_int_equal(n, 1);
	assert_string_equal(p[0].published, "9000-9010");

	static const struct {
		const char *spec, *why;
	} bad[] = {
		{"abc", "container port must be a number"},
		{"70000", "container port must be a number"},
		{"8080-8082:80-81", "same size"},
		{"80/", "protocol after / must be"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why = NULL;
		assert_true(port_parse(bad[i].spec, p, 16, &n, &why) < 0);
		if (!strstr(why->msg, bad[i].why))
			fail_msg("%s: '%s' does not say '%s'", bad[i].spec, why->msg, bad[i].why);
		berr_free(why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations), cmocka_unit_test(byte_sizes), cmocka_unit_test(command_splitting),
		cmocka_unit_test(floats),    cmocka_unit_test(ports),
	};
	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
