/* libnftables, loaded when berth first changes its table rather than
 * linked: with libxtables and libgmp behind it, linking it cost every
 * berth command ~1.2 ms at start on this VM, and most commands never
 * change the table. Include this instead of <nftables/libnftables.h>;
 * call nft_dl_load() before the first nft_* call. */
#ifndef BERTH_NFT_DL_H
#define BERTH_NFT_DL_H

#include <nftables/libnftables.h>

#include "../lib/err.h"

#define NFT_DL_FUNCS(X)              \
	X(nft_ctx_new)               \
	X(nft_ctx_free)              \
	X(nft_ctx_buffer_output)     \
	X(nft_ctx_buffer_error)      \
	X(nft_ctx_get_output_buffer) \
	X(nft_ctx_get_error_buffer)  \
	X(nft_ctx_output_get_flags)  \
	X(nft_ctx_output_set_flags)  \
	X(nft_run_cmd_from_buffer)

struct nft_dl {
#define NFT_DL_FIELD(f) __typeof__(&f) f;
	NFT_DL_FUNCS(NFT_DL_FIELD)
#undef NFT_DL_FIELD
};
extern struct nft_dl nft_dl;

int nft_dl_load(struct berr **err);

#ifndef NFT_DL_IMPL
#define nft_ctx_new nft_dl.nft_ctx_new
#define nft_ctx_free nft_dl.nft_ctx_free
#define nft_ctx_buffer_output nft_dl.nft_ctx_buffer_output
#define nft_ctx_buffer_error nft_dl.nft_ctx_buffer_error
#define nft_ctx_get_output_buffer nft_dl.nft_ctx_get_output_buffer
#define nft_ctx_get_error_buffer nft_dl.nft_ctx_get_error_buffer
#define nft_ctx_output_get_flags nft_dl.nft_ctx_output_get_flags
#define nft_ctx_output_set_flags nft_dl.nft_ctx_output_set_flags
#define nft_run_cmd_from_buffer nft_dl.nft_run_cmd_from_buffer
#endif

#endif
