/* A container's cgroup, on cgroup v2 or on the v1 controllers (hybrid
 * hosts); which one is detected. Paths: <mount>/berth/<id>. */
#ifndef BERTH_CGROUP_H
#define BERTH_CGROUP_H

#include "spec.h"

bool cgroup_is_v2(void);
/* The id the functions below take: the container's name, under berth's
 * own group; or "PARENT/NAME" (cgroup_parent), under that group of each
 * hierarchy instead. */
char *cgroup_id(const char *parent, const char *name);
/* Create the cgroup and apply the limits. */
int cgroup_create(const char *id, const struct cgroup_spec *c, struct berr **err);
/* Mark the cgroup with the container's state directory (xattr
 * trusted.berth.dir), as bridges and veths carry their state root in
 * their alias: whose a cgroup is can be told without any record. Best
 * effort: a kernel without cgroup xattrs goes without. */
void cgroup_mark(const char *id, const char *dir);
int cgroup_add(const char *id, pid_t pid, struct berr **err);
/* Send sig to every process in the cgroup, once. */
void cgroup_signal(const char *id, int sig);
/* SIGKILL every process in the cgroup. */
void cgroup_kill(const char *id);
/* True when no process is left in it. */
bool cgroup_empty(const char *id);
/* Remove it (kills what is left first); missing is fine. */
int cgroup_remove(const char *id, struct berr **err);
/* Whether the kernel killed something for memory (v1 memory.oom_control, v2 memory.events). */
bool cgroup_oom_killed(const char *id);
/* What the container uses, as docker stats shows it. */
struct cgroup_stats {
	int64_t memory;       /* bytes, without the inactive page cache */
	int64_t memory_limit; /* bytes; -1: none (or beyond the host's memory) */
	int64_t cpu_ns;       /* CPU time used so far */
	int64_t pids;
	int64_t block_read, block_write; /* bytes */
};
int cgroup_stats(const char *id, struct cgroup_stats *s);
/* cgroup v1 real-time budgets: period 0: dir's own cpu.rt_runtime_us;
 * else runtime/period expressed in dir's period (what a child's budget
 * takes of dir's, the kernel comparing ratios). */
long long cgroup_rt_share(const char *dir, long long runtime, long long period);
/* Pause or resume every process in it (v2 cgroup.freeze, v1 freezer),
 * waiting until the kernel says it is so. */
int cgroup_freeze(const char *id, bool freeze, struct berr **err);
bool cgroup_frozen(const char *id);
/* Paths of the cgroup directories, for tests and leak checks. */
char **cgroup_paths(const char *id);

/* Write value (or a number) into dir/file. */
/* For the v1 and v2 backends: each directory from base down to base/rel
 * made (kept when there), each(level, data) called after it is. */
int cgroup_mkdirs(const char *base, const char *rel, int (*each)(const char *level, void *data, struct berr **err),
		  void *data, struct berr **err);
int cgroup_write(const char *dir, const char *file, const char *value, struct berr **err);
int cgroup_write_int(const char *dir, const char *file, long long v, struct berr **err);

/* v1 and v2 implementations behind the functions above. */
int cgroup_v1_create(const char *id, const struct cgroup_spec *c, struct berr **err);
int cgroup_v2_create(const char *id, const struct cgroup_spec *c, struct berr **err);
char **cgroup_v1_paths(const char *id);
/* Refuse a spec whose limits need a v1 controller not mounted under root. */
int cgroup_v1_check(const char *root, const struct cgroup_spec *c, struct berr **err);
/* Attach a device program allowing the rules ("c 1:3 rwm") to a v2 cgroup. */
int cgroup_v2_devices(const char *dir, char *const *rules, struct berr **err);
char **cgroup_v2_paths(const char *id);

#endif
