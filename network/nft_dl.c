#define NFT_DL_IMPL
#include "nft_dl.h"

#include "../lib/dl.h"

struct nft_dl nft_dl;

DL_LOADER(nft_dl_load, nft_dl, NFT_DL_FUNCS, "libnftables1", "libnftables.so.1", "libnftables.so")
