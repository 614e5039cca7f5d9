/* What the files of ctrspec share among themselves. */
#ifndef BERTH_CTRSPEC_INT_H
#define BERTH_CTRSPEC_INT_H

#include "ctrspec.h"

int ctrspec_set_ulimits(struct node *svc, struct ctr_spec *s);
long long ctrspec_bytes_of(struct node *n);
int ctrspec_check_limits(struct node *svc, const char *service, struct berr **err);
/* mem_swappiness and oom_kill_disable: cgroup v1 files; on v2 there are
 * none, and berth says so (Docker drops them with a warning too). */
int ctrspec_set_memory_extras(struct node *svc, const char *service, struct cgroup_spec *c, struct berr **err);
/* cpu_rt_runtime, cpu_rt_period: microseconds, or a duration ("400ms");
 * real-time group scheduling exists on cgroup v1 only. */
int ctrspec_set_rt(struct node *svc, const char *service, struct cgroup_spec *c, struct berr **err);
/* cgroup_parent: a group of each hierarchy (made when missing, and left)
 * that takes the container's instead of berth's own; a path of names,
 * never climbing out of the cgroup mount. */
int ctrspec_set_cgroup_parent(struct node *svc, const char *service, struct cgroup_spec *c, struct berr **err);
/* blkio_config as cgroup rules (see cgroup_spec.blkio). */
int ctrspec_set_blkio(struct node *svc, const char *service, struct cgroup_spec *c, struct berr **err);
void ctrspec_set_cgroup(struct node *svc, struct cgroup_spec *c);
/* The devices cgroup: Docker's default list, what devices: and
 * device_cgroup_rules: add; everything with privileged. */
int ctrspec_set_devices(struct node *svc, const char *service, struct ctr_spec *s, struct berr **err);
/* Mounts from volumes: and tmpfs:. */
int ctrspec_set_mounts(const struct spec_ctx *c, struct node *svc, struct ctr_spec *s, struct berr **err);
/* secrets: at /run/secrets/NAME, configs: at /NAME (or their target),
 * read-only: copies in the state directory with their uid, gid and mode.
 * With s, checks them and adds the mounts; without, writes the copies
 * (once the state directory is made). */
int ctrspec_secrets(const struct project *p, const char *service, const char *cdir, struct ctr_spec *s,
		    struct berr **err);
/* /etc/hostname, /etc/hosts and /etc/resolv.conf of the container, written
 * into its state directory once that exists (ctrspec_write_files). */
void ctrspec_etc_mounts(const struct spec_ctx *c, struct ctr_spec *s);

#endif
