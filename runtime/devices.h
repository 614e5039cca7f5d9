/* Which devices a container may use: the devices cgroup's rules (v1's
 * "c 1:3 rwm" text), Docker's default list, and the same rules as a
 * BPF_PROG_TYPE_CGROUP_DEVICE program for cgroup v2. */
#ifndef BERTH_DEVICES_H
#define BERTH_DEVICES_H

#include <stdint.h>
#include <stddef.h>

#include "../lib/err.h"

#define DEV_ANY (-1)

enum { DEV_MKNOD = 1, DEV_READ = 2, DEV_WRITE = 4 }; /* as BPF_DEVCG_ACC_* */

struct dev_rule {
	char type;            /* 'a' (all), 'c' or 'b' */
	int64_t major, minor; /* DEV_ANY for '*' */
	unsigned access;      /* DEV_MKNOD | DEV_READ | DEV_WRITE */
};

/* Parse "c 1:3 rwm", "b *:* m" or "a" (devices.allow syntax). */
int dev_rule_parse(const char *text, struct dev_rule *r, struct berr **err);
/* "c 1:3 rwm": what v1's devices.allow takes. */
char *dev_rule_format(const struct dev_rule *r);
/* Parse "rwm" (any of the three letters, at least one). */
int dev_access_parse(const char *text, unsigned *access);

/* Docker's default allow list (moby oci/defaults.go), as v1 text, NULL-ended. */
extern const char *const dev_docker_default[];

/* A cgroup v2 device program allowing what the rules allow and denying the
 * rest: n rules -> instructions in *insns (malloc'd), their count returned. */
size_t dev_bpf_program(const struct dev_rule *rules, size_t n, void **insns);
/* Load the program for the rules and attach it to the cgroup directory. */
int dev_bpf_attach(int cgroup_fd, const struct dev_rule *rules, size_t n, struct berr **err);

#endif
