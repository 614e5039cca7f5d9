#ifndef BERTH_SHIM_H
#define BERTH_SHIM_H

/* berth-shim DIR READY_FD: runs the container of DIR and stays its parent
 * until it ends for good (runtime/shim.c says how). */
int shim_main(const char *dir, int ready_fd);

#endif
