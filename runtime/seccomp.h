/* Seccomp profiles: Docker's default, or a profile in Docker's JSON format,
 * compiled with libseccomp into a BPF program the shim loads. */
#ifndef BERTH_SECCOMP_H
#define BERTH_SECCOMP_H

#include <stdint.h>

#include "../lib/err.h"

/* Write the BPF program for caps (the container's capabilities: some
 * syscalls are allowed only with CAP_SYS_ADMIN and friends, as in Docker).
 * profile is NULL for the default, else a path to a Docker-format JSON;
 * the default program is cached in cache_dir (may be NULL). */
int seccomp_write_bpf(const char *profile, uint64_t caps, const char *cache_dir, const char *out, struct berr **err);

/* Compile the profile and throw the program away: whether it can be used,
 * checked before anything is made for the container. */
int seccomp_check(const char *profile, uint64_t caps, struct berr **err);

#endif
