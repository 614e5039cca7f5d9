/* DNS messages: queries read, answers written (checked byte by byte). */
#include "helpers.h"

#include <errno.h>

#include "../../network/dnsmsg.h"

/* A query for name (dotted) and type, as a resolver sends it. */
static size_t query(uint8_t *p, const char *name, uint16_t type)
{
	uint8_t head[12] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
	memcpy(p, head, 12);
	size_t o = 12;
	const char *s = name;
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		p[o++] = (uint8_t)l;
		memcpy(p + o, s, l);
		o += l;
		s += l + (dot ? 1 : 0);
	}
	p[o++] = 0;
	p[o++] = (uint8_t)(type >> 8);
	p[o++] = (uint8_t)type;
	p[o++] = 0;
	p[o++] = 1;
	return o;
}

static void reads_a_query(void **state)
{
	uint8_t pkt[512];
	size_t n = query(pkt, "Web.Shop_Default", DNS_TYPE_A);
	struct dns_query q;
	assert_int_equal(dns_parse_query(pkt, n, &q), 0);
	assert_int_equal(q.id, 0x1234);
	assert_string_equal(q.name, "web.shop_default");
	assert_int_equal(q.type, DNS_TYPE_A);
	assert_int_equal(q.class_, DNS_CLASS_IN);
	assert_int_equal(q.question_end, n);
}

static void writes_answers(void **state)
{
	uint8_t pkt[512], out[512];
	size_t n = query(pkt, "db", DNS_TYPE_A);
	struct dns_query q;
	assert_int_equal(dns_parse_query(pkt, n, &q), 0);
	uint32_t ips[] = {0xac120002, 0xac120003};
	int len = dns_build_answer(&q, DNS_RCODE_OK, ips, 2, 600, out, sizeof(out));
	assert_int_equal(len, 12 + 4 + 4 + 2 * 16);
	assert_int_equal(out[0], 0x12);
	assert_int_equal(out[2] & 0x80, 0x80); /* a response */
	assert_int_equal(out[2] & 0x01, 0x01); /* RD copied */
	assert_int_equal(out[3] & 0x0f, 0);
	assert_int_equal(out[7], 2);
	const uint8_t first[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x02, 0x58, 0, 4, 172, 18, 0, 2};
	assert_memory_equal(out + 20, first, sizeof(first));
	assert_int_equal(out[20 + 16 + 15], 3);
	len = dns_build_answer(&q, DNS_RCODE_NXDOMAIN, NULL, 0, 0, out, sizeof(out));
	assert_int_equal(out[3] & 0x0f, DNS_RCODE_NXDOMAIN);
	assert_int_equal(out[7], 0);
	assert_int_equal(len, 12 + 4 + 4);
	assert_true(dns_build_answer(&q, DNS_RCODE_OK, ips, 2, 600, out, 20) < 0);
}

/* An upstream's answer is read for its id and question, so that the
 * responder takes only the answer to what it asked. */
static void reads_a_reply(void **state)
{
	uint8_t pkt[512], out[512];
	size_t n = query(pkt, "example.test", DNS_TYPE_A);
	struct dns_query q, r;
	assert_int_equal(dns_parse_query(pkt, n, &q), 0);
	assert_int_equal(dns_parse_reply(pkt, n, &r), -EINVAL); /* a query is no reply */
	uint32_t ip = 0x0a000001;
	int len = dns_build_answer(&q, DNS_RCODE_OK, &ip, 1, 60, out, sizeof(out));
	assert_int_equal(dns_parse_reply(out, (size_t)len, &r), 0);
	assert_int_equal(r.id, 0x1234);
	assert_string_equal(r.name, "example.test");
	assert_int_equal(r.type, DNS_TYPE_A);
	assert_int_equal(dns_parse_query(out, (size_t)len, &r), -EINVAL); /* and a reply no query */
	assert_int_equal(dns_parse_reply(out, 11, &r), -EINVAL);
}

static void aaaa_gets_no_a_records(void **state)
{
	uint8_t pkt[512], out[512];
	size_t n = query(pkt, "db", DNS_TYPE_AAAA);
	struct dns_query q;
	assert_int_equal(dns_parse_query(pkt, n, &q), 0);
	uint32_t ip = 0x0a000001;
	dns_build_answer(&q, DNS_RCODE_OK, &ip, 1, 60, out, sizeof(out));
	assert_int_equal(out[7], 0);
}

static void refuses_malformed(void **state)
{
	uint8_t pkt[512];
	struct dns_query q;
	size_t n = query(pkt, "db", DNS_TYPE_A);
	assert_true(dns_parse_query(pkt, 11, &q) < 0);    /* short header */
	assert_true(dns_parse_query(pkt, n - 2, &q) < 0); /* truncated question */
	uint8_t two = pkt[5];
	pkt[5] = 2;
	assert_true(dns_parse_query(pkt, n, &q) < 0); /* two questions */
	pkt[5] = two;
	pkt[2] |= 0x80;
	assert_true(dns_parse_query(pkt, n, &q) < 0); /* a response */
	pkt[2] &= 0x7f;
	pkt[12] = 0xc0; /* a compression pointer in a question */
	assert_true(dns_parse_query(pkt, n, &q) < 0);
	pkt[12] = 64; /* label too long */
	assert_true(dns_parse_query(pkt, n, &q) < 0);
	uint8_t longname[600] = {0x12, 0x34, 1, 0, 0, 1};
	size_t o = 12;
	for (int i = 0; i < 5; i++) { /* 5 x 61 bytes: past the 255 a name may have */
		longname[o++] = 60;
		memset(longname + o, 'a', 60);
		o += 60;
	}
	longname[o++] = 0;
	assert_true(dns_parse_query(longname, o + 4, &q) < 0); /* over 255 bytes */
}

/* RFC 1035: 255 octets on the wire, so 253 characters written out. */
static void name_length_limit(void **state)
{
	char name[300];
	struct dns_query q;
	uint8_t pkt[600];
	for (int last = 61; last <= 62; last++) {
		memset(name, 'a', sizeof(name));
		name[63] = name[127] = name[191] = '.';
		name[192 + last] = '\0';
		size_t n = query(pkt, name, DNS_TYPE_A);
		if (last == 61) {
			assert_int_equal(strlen(name), 253);
			assert_int_equal(dns_parse_query(pkt, n, &q), 0);
		} else {
			assert_true(dns_parse_query(pkt, n, &q) < 0);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_a_query),     cmocka_unit_test(writes_answers),
		cmocka_unit_test(reads_a_reply),     cmocka_unit_test(aaaa_gets_no_a_records),
		cmocka_unit_test(refuses_malformed), cmocka_unit_test(name_length_limit),
	};
	return cmocka_run_group_tests_name("dnsmsg", tests, NULL, NULL);
}
