/* Linux capabilities by name, and Docker's default set. */
#ifndef BERTH_CAPS_H
#define BERTH_CAPS_H

#include <stdint.h>

#include "../lib/err.h"

/* CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
 * NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP */
#define CAPS_DOCKER_DEFAULT 0xa80425fbULL
#define CAPS_LAST 40
#define CAPS_ALL ((1ULL << (CAPS_LAST + 1)) - 1)

/* "NET_ADMIN", "CAP_NET_ADMIN" or "net_admin" to its number; -1 if unknown. */
int cap_from_name(const char *name);
const char *cap_name(int cap);

/* Before the user changes and the command is exec'd: drop from the
 * bounding set every capability this kernel has (cap_last_cap) that keep
 * lacks, clear the ambient and inheritable sets. Every step is checked. */
int caps_limit(uint64_t keep, struct berr **err);

#endif
