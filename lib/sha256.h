/* SHA-256 through nettle: a small library (libcrypto costs ~2.7 ms of
 * relocations at every start of berth on this VM, for the one digest
 * berth uses). */
#ifndef BERTH_SHA256_H
#define BERTH_SHA256_H

#include <nettle/sha2.h>
#include <stddef.h>

struct sha256 {
	struct sha256_ctx ctx;
};

void sha256_begin(struct sha256 *h);
void sha256_add(struct sha256 *h, const void *data, size_t len);
/* 64 lowercase hex digits and a NUL. */
void sha256_hex(struct sha256 *h, char out[65]);
void sha256_of(const void *data, size_t len, char out[65]);

#endif
