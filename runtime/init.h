#ifndef BERTH_INIT_H
#define BERTH_INIT_H

/* berth-init [--] COMMAND...: runs COMMAND as PID 1's child; returns its status. */
int init_main(int argc, char **argv);

#endif
