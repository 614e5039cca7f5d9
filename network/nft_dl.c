#define NFT_DL_IMPL
#include "nft_dl.h"

#include "../lib/dl.h"
#include "../lib/util.h"

struct nft_dl nft_dl;

int nft_dl_load(struct berr **err)
{
	static bool loaded;
	if (loaded)
		return 0;
	static const char *const sonames[] = {"libnftables.so.1", "libnftables.so", NULL};
	static const char *const names[] = {
#define NFT_DL_NAME(f) #f,
		NFT_DL_FUNCS(NFT_DL_NAME)
#undef NFT_DL_NAME
	};
	void *fns[ARRAY_SIZE(names)];
	int r = dl_load(sonames, "libnftables1", names, fns, ARRAY_SIZE(names), err);
	if (r < 0)
		return r;
	size_t i = 0;
#define NFT_DL_SET(f) *(void **)&nft_dl.f = fns[i++];
	NFT_DL_FUNCS(NFT_DL_SET)
#undef NFT_DL_SET
	loaded = true;
	return 0;
}
