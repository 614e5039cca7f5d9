/* DNS messages, just what berth's responder needs (RFC 1035): read a
 * query's single question, write an answer with A records or an error. */
#ifndef BERTH_DNSMSG_H
#define BERTH_DNSMSG_H

#include <stddef.h>
#include <stdint.h>

#define DNS_TYPE_A 1
#define DNS_TYPE_AAAA 28
#define DNS_CLASS_IN 1
#define DNS_RCODE_OK 0
#define DNS_RCODE_FORMERR 1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3

struct dns_query {
	uint16_t id, flags;
	char name[256]; /* lowercase, dotted, without the final dot */
	uint16_t type, class_;
	size_t question_end; /* offset just past the question */
};

/* 0, or -EINVAL for anything that is not one well-formed question. */
int dns_parse_query(const uint8_t *pkt, size_t len, struct dns_query *q);
/* The same for an upstream's answer (QR set, one question, any records):
 * its id and question, to match it with what was asked. */
int dns_parse_reply(const uint8_t *pkt, size_t len, struct dns_query *q);
/* The answer to q: rcode, and for A queries the addresses (host order).
 * Returns its length, or -ENOSPC when cap is too small. */
int dns_build_answer(const struct dns_query *q, int rcode, const uint32_t *ips, size_t nips, uint32_t ttl, uint8_t *out,
		     size_t cap);

#endif
