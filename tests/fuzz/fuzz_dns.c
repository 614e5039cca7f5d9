/* libFuzzer target: any datagram through the DNS query reader, and an
 * answer written for whatever it accepted. */
#include <stdint.h>
#include <string.h>

#include "../../network/dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_query q;
	if (dns_parse_query(data, size, &q) < 0)
		return 0;
	if (strlen(q.name) > 253)
		__builtin_trap();
	uint8_t out[512];
	uint32_t ips[3] = {0x0a000002, 0x0a000003, 0x0a000004};
	int n = dns_build_answer(&q, DNS_RCODE_OK, ips, 3, 600, out, sizeof(out));
	if (n > (int)sizeof(out))
		__builtin_trap();
	dns_build_answer(&q, DNS_RCODE_NXDOMAIN, NULL, 0, 0, out, 16);
	return 0;
}
