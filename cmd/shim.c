/* The berth-shim binary: one per container (runtime/shim.c), and, by its
 * name or first argument, berth-init (runtime/init.c), the DNS responder
 * of a state root (network/dnsd.c) and the helper that enters a
 * container (runtime/enter.c). Its entry lives here, above both the
 * runtime and the network, so that neither includes the other upwards. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/fs.h"
#include "../lib/util.h"
#include "../network/dnsd.h"
#include "../runtime/enter.h"
#include "../runtime/exeseal.h"
#include "../runtime/init.h"
#include "../runtime/shim.h"

int main(int argc, char **argv)
{
	if (streq(path_basename(argv[0]), "berth-init") || (argc > 1 && streq(argv[1], "init")))
		return init_main(argc - (argc > 1 && streq(argv[1], "init")),
				 argv + (argc > 1 && streq(argv[1], "init")));
	if (argc == 4 && streq(argv[1], "dns"))
		return dnsd_main(argv[2], atoi(argv[3]));
	/* what runs containers runs from a read-only view of this binary */
	int sealed = exe_reexec_sealed(argv);
	if (sealed < 0) {
		fprintf(stderr, "berth-shim: cannot run from a read-only view of its binary: %s\n", strerror(-sealed));
		if (argc == 3)
			dprintf(atoi(argv[2]),
				"error 125 berth-shim cannot run from a read-only view of its binary: %s",
				strerror(-sealed));
		return 125;
	}
	if (argc >= 2 && streq(argv[1], "enter"))
		return enter_main(argc, argv);
	if (argc != 3) {
		fprintf(stderr, "usage: berth-shim DIR READY_FD | dns ROOT READY_FD (started by berth)\n");
		return 2;
	}
	return shim_main(argv[1], atoi(argv[2]));
}
