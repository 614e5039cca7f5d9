/* What the shim needs to run one container, written by berth as spec.json
 * in the container's state directory. Everything is resolved already:
 * layers, argv, environment, user ids, capabilities, the seccomp program. */
#ifndef BERTH_SPEC_H
#define BERTH_SPEC_H

#include <stdint.h>
#include <sys/types.h>

#include "../lib/err.h"

struct mount_spec {
	char *source, *target, *type, *options; /* options: "ro,nosuid,size=64m" */
	bool file;                              /* bind of a single file */
	char *volume;                           /* the named volume it mounts, or NULL */
	bool copyup;                            /* an empty volume first gets what the image has at target */
	char *subpath;        /* a volume's subdirectory (or file) mounted instead of its root; no symlink on the way */
	bool subpath_in_root; /* ... or, for a build's --mount source, symlinks followed inside the source */
};

struct rlimit_spec {
	char *name; /* "nofile" */
	int64_t soft, hard;
};

enum restart_policy { RESTART_NO, RESTART_ALWAYS, RESTART_ON_FAILURE, RESTART_UNLESS_STOPPED };

struct cgroup_spec {
	int64_t memory;      /* bytes; 0 = no limit */
	int64_t memory_swap; /* memory+swap; -1 unlimited; 0 = default */
	int64_t memory_reservation;
	int64_t cpu_shares;
	int64_t cpu_quota, cpu_period; /* microseconds; quota 0 = none */
	char *cpuset;
	int64_t pids;          /* 0 = no limit, -1 unlimited */
	char **devices;        /* devices cgroup allow rules ("c 1:3 rwm"), all else denied; NULL = not restricted */
	bool swappiness_set;   /* mem_swappiness given (v1 only) */
	int swappiness;        /* 0-100 */
	bool oom_kill_disable; /* v1 only */
	int64_t rt_runtime, rt_period; /* cpu_rt_runtime, cpu_rt_period in µs (v1 with RT group scheduling); 0: none */
	char *parent; /* cgroup_parent ("a/b", checked): the group under which the container's goes; NULL: berth's */
	/* block I/O (blkio_config): "weight N", "weight_device MAJ:MIN N",
	 * "read_bps MAJ:MIN N", "write_bps …", "read_iops …", "write_iops …" */
	char **blkio;
};

/* A device node made in the container's /dev (devices:). */
struct device_spec {
	char *path; /* inside the container */
	char type;  /* 'c' or 'b' */
	unsigned major, minor;
	unsigned mode; /* permission bits */
	uid_t uid;
	gid_t gid;
};

/* A lifecycle hook (post_start, pre_stop): a command the shim runs in the
 * container, as exec would. */
struct hook_spec {
	char **argv, **env;   /* env: KEY=VALUE added to the container's */
	char *user, *workdir; /* NULL: the container's */
	bool privileged;
};

/* A healthcheck, as the shim runs it (Docker's defaults filled in). */
struct health_spec {
	char **test; /* the command in the container; NULL: none */
	int64_t interval_ms, timeout_ms, start_period_ms, start_interval_ms;
	int retries;
};

struct ctr_spec {
	char *id;      /* container name, e.g. blog-web-1 */
	char *dir;     /* state directory */
	char **layers; /* unpacked image layers, top first */
	char **argv;   /* the command, entrypoint included */
	char **env;    /* KEY=VALUE */
	char *cwd;
	char *hostname, *domainname;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
	uint64_t caps; /* capability bits to keep */
	bool privileged, read_only, no_new_privs, tty, stdin_open, init;
	bool attach;           /* the command gets the shim's own stdin, stdout and stderr (berth run), no logs */
	char *seccomp;         /* path of a BPF program, NULL = unconfined */
	char *seccomp_profile; /* Docker-format profile it is built from, NULL = the default */
	char *autoremove;      /* berth run -d --rm: the berth binary the shim runs, once it ends, to remove it */
	struct rlimit_spec *rlimits;
	size_t nrlimits;
	char **sysctls; /* key=value */
	struct mount_spec *mounts;
	size_t nmounts;
	struct device_spec *devices;
	size_t ndevices;
	char *network; /* "none" (lo only), "host", or a netns path to join */
	char *ipc, *pid_ns, *uts;
	bool cgroupns_host; /* cgroup: host (Docker's cgroupns=host): no cgroup namespace of its own */
	struct cgroup_spec cgroup;
	enum restart_policy restart;
	int restart_max; /* on-failure:N; 0 = unlimited */
	int stop_signal;
	int64_t stop_grace_ms;
	int64_t shm_size;   /* /dev/shm's size in bytes; 0: Docker's 64 MiB */
	bool oom_score_set; /* oom_score_adj given: written before the command runs */
	int oom_score_adj;
	int64_t log_max_size; /* bytes; 0 = no rotation */
	bool log_none;        /* logging driver none: the output goes nowhere */
	int log_max_files;
	char *init_path; /* the berth-shim binary, bind-mounted as /sbin/berth-init */
	struct health_spec health;
	struct hook_spec *post_start, *pre_stop;
	size_t npost_start, npre_stop;
	int tty_rows, tty_cols; /* berth run: the user's terminal, for the container's; 0: the kernel's */
};

int spec_write(const struct ctr_spec *s, const char *path, struct berr **err);
int spec_read(const char *path, struct ctr_spec *s, struct berr **err);
void spec_free(struct ctr_spec *s);

#endif
