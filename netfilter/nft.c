/* nft.c - stub until the nftables backend lands. */
#include <stdlib.h>
#include "fw.h"

struct fw { int dummy; };
static struct fw *stub_init(const struct config *cfg) { (void)cfg; return calloc(1, sizeof(struct fw)); }
static void stub_shutdown(struct fw *fw, int remove_state) { (void)remove_state; free(fw); }
const struct fw_ops nft_ops = { .init = stub_init, .shutdown = stub_shutdown };
