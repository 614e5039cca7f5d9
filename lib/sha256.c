#include "sha256.h"

#include <stdio.h>

void sha256_begin(struct sha256 *h) { sha256_init(&h->ctx); }

void sha256_add(struct sha256 *h, const void *data, size_t len) { sha256_update(&h->ctx, len, data); }

void sha256_hex(struct sha256 *h, char out[65])
{
	unsigned char md[SHA256_DIGEST_SIZE];
	sha256_digest(&h->ctx, sizeof(md), md);
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < sizeof(md); i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

void sha256_of(const void *data, size_t len, char out[65])
{
	struct sha256 h;
	sha256_begin(&h);
	sha256_add(&h, data, len);
	sha256_hex(&h, out);
}
