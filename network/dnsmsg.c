#include "dnsmsg.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <string.h>

#define HEADER 12

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A name in a question: labels only (no compression pointers in queries). */
static int read_name(const uint8_t *pkt, size_t len, size_t *off, char *out)
{
	size_t o = *off, n = 0, wire = 1; /* the root's zero octet */
	for (int labels = 0; labels < 128; labels++) {
		if (o >= len)
			return -EINVAL;
		uint8_t l = pkt[o++];
		if (l == 0) {
			out[n] = '\0';
			*off = o;
			return 0;
		}
		wire += 1 + (size_t)l; /* RFC 1035 2.3.4: 255 octets at most, on the wire */
		if (l > 63 || o + l > len || wire > 255)
			return -EINVAL;
		if (n)
			out[n++] = '.';
		for (uint8_t i = 0; i < l; i++) {
			char c = (char)pkt[o + i];
			if (c == '.' || c == '\0')
				return -EINVAL;
			out[n++] = (char)tolower((unsigned char)c);
		}
		o += l;
	}
	return -EINVAL;
}

static int parse_question(const uint8_t *pkt, size_t len, struct dns_query *q, bool reply)
{
	if (len < HEADER)
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	q->id = get16(pkt);
	q->flags = get16(pkt + 2);
	if (!(q->flags & 0x8000) != !reply || get16(pkt + 4) != 1 || (!reply && get16(pkt + 6) != 0))
		return -EINVAL; /* not the kind asked for, or not exactly one question */
	size_t off = HEADER;
	if (read_name(pkt, len, &off, q->name) < 0 || off + 4 > len)
		return -EINVAL;
	q->type = get16(pkt + off);
	q->class_ = get16(pkt + off + 2);
	q->question_end = off + 4;
	return 0;
}

int dns_parse_query(const uint8_t *pkt, size_t len, struct dns_query *q) { return parse_question(pkt, len, q, false); }

int dns_parse_reply(const uint8_t *pkt, size_t len, struct dns_query *q) { return parse_question(pkt, len, q, true); }

static int write_name(const char *name, uint8_t *out, size_t cap, size_t *off)
{
	size_t o = *off;
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		if (l == 0 || l > 63 || o + 1 + l > cap)
			return -ENOSPC;
		out[o++] = (uint8_t)l;
		memcpy(out + o, p, l);
		o += l;
		p += l + (dot ? 1 : 0);
	}
	if (o + 1 > cap)
		return -ENOSPC;
	out[o++] = 0;
	*off = o;
	return 0;
}

int dns_build_answer(const struct dns_query *q, int rcode, const uint32_t *ips, size_t nips, uint32_t ttl, uint8_t *out,
		     size_t cap)
{
	bool a = q->type == DNS_TYPE_A && q->class_ == DNS_CLASS_IN && rcode == DNS_RCODE_OK;
	size_t answers = a ? nips : 0;
	if (cap < HEADER)
		return -ENOSPC;
	put16(out, q->id);
	/* QR, the query's opcode and RD, AA (we own these names), RA, rcode */
	put16(out + 2, (uint16_t)(0x8000 | (q->flags & 0x7900) | 0x0400 | 0x0080 | (rcode & 0xf)));
	put16(out + 4, 1);
	put16(out + 6, (uint16_t)answers);
	put16(out + 8, 0);
	put16(out + 10, 0);
	size_t off = HEADER;
	if (write_name(q->name, out, cap, &off) < 0 || off + 4 > cap)
		return -ENOSPC;
	put16(out + off, q->type);
	put16(out + off + 2, q->class_);
	off += 4;
	for (size_t i = 0; i < answers; i++) {
		if (off + 16 > cap)
			return -ENOSPC;
		put16(out + off, 0xc000 | HEADER); /* the name, by pointer to the question */
		put16(out + off + 2, DNS_TYPE_A);
		put16(out + off + 4, DNS_CLASS_IN);
		put16(out + off + 6, (uint16_t)(ttl >> 16));
		put16(out + off + 8, (uint16_t)ttl);
		put16(out + off + 10, 4);
		out[off + 12] = (uint8_t)(ips[i] >> 24);
		out[off + 13] = (uint8_t)(ips[i] >> 16);
		out[off + 14] = (uint8_t)(ips[i] >> 8);
		out[off + 15] = (uint8_t)ips[i];
		off += 16;
	}
	return (int)off;
}
