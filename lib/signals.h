/* Signal names ("SIGTERM", "TERM", "15") to numbers. */
#ifndef BERTH_SIGNALS_H
#define BERTH_SIGNALS_H

int signal_from_name(const char *name);

#endif
