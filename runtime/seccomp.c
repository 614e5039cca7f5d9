/* Docker's default seccomp profile (moby profiles/seccomp/default.json):
 * everything not listed fails with EPERM. */
#include "seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <string.h>
#include <strings.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/fs.h"
#include "caps.h"

static const char *const allowed[] = {
	"accept",
	"accept4",
	"access",
	"adjtimex",
	"alarm",
	"bind",
	"brk",
	"cachestat",
	"capget",
	"capset",
	"chdir",
	"chmod",
	"chown",
	"chown32",
	"clock_adjtime",
	"clock_adjtime64",
	"clock_getres",
	"clock_getres_time64",
	"clock_gettime",
	"clock_gettime64",
	"clock_nanosleep",
	"clock_nanosleep_time64",
	"close",
	"close_range",
	"connect",
	"copy_file_range",
	"creat",
	"dup",
	"dup2",
	"dup3",
	"epoll_create",
	"epoll_create1",
	"epoll_ctl",
	"epoll_ctl_old",
	"epoll_pwait",
	"epoll_pwait2",
	"epoll_wait",
	"epoll_wait_old",
	"eventfd",
	"eventfd2",
	"execve",
	"execveat",
	"exit",
	"exit_group",
	"faccessat",
	"faccessat2",
	"fadvise64",
	"fadvise64_64",
	"fallocate",
	"fanotify_mark",
	"fchdir",
	"fchmod",
	"fchmodat",
	"fchmodat2",
	"fchown",
	"fchown32",
	"fchownat",
	"fcntl",
	"fcntl64",
	"fdatasync",
	"fgetxattr",
	"flistxattr",
	"flock",
	"fork",
	"fremovexattr",
	"fsetxattr",
	"fstat",
	"fstat64",
	"fstatat64",
	"fstatfs",
	"fstatfs64",
	"fsync",
	"ftruncate",
	"ftruncate64",
	"futex",
	"futex_requeue",
	"futex_time64",
	"futex_wait",
	"futex_waitv",
	"futex_wake",
	"futimesat",
	"getcpu",
	"getcwd",
	"getdents",
	"getdents64",
	"getegid",
	"getegid32",
	"geteuid",
	"geteuid32",
	"getgid",
	"getgid32",
	"getgroups",
	"getgroups32",
	"getitimer",
	"getpeername",
	"getpgid",
	"getpgrp",
	"getpid",
	"getppid",
	"getpriority",
	"getrandom",
	"getresgid",
	"getresgid32",
	"getresuid",
	"getresuid32",
	"getrlimit",
	"get_robust_list",
	"getrusage",
	"getsid",
	"getsockname",
	"getsockopt",
	"get_thread_area",
	"gettid",
	"gettimeofday",
	"getuid",
	"getuid32",
	"getxattr",
	"inotify_add_watch",
	"inotify_init",
	"inotify_init1",
	"inotify_rm_watch",
	"io_cancel",
	"ioctl",
	"io_destroy",
	"io_getevents",
	"io_pgetevents",
	"io_pgetevents_time64",
	"ioprio_get",
	"ioprio_set",
	"io_setup",
	"io_submit",
	"ipc",
	"kill",
	"landlock_add_rule",
	"landlock_create_ruleset",
	"landlock_restrict_self",
	"lchown",
	"lchown32",
	"lgetxattr",
	"link",
	"linkat",
	"listen",
	"listxattr",
	"llistxattr",
	"_llseek",
	"lremovexattr",
	"lseek",
	"lsetxattr",
	"lstat",
	"lstat64",
	"madvise",
	"map_shadow_stack",
	"membarrier",
	"memfd_create",
	"memfd_secret",
	"mincore",
	"mkdir",
	"mkdirat",
	"mknod",
	"mknodat",
	"mlock",
	"mlock2",
	"mlockall",
	"mmap",
	"mmap2",
	"mprotect",
	"mq_getsetattr",
	"mq_notify",
	"mq_open",
	"mq_timedreceive",
	"mq_timedreceive_time64",
	"mq_timedsend",
	"mq_timedsend_time64",
	"mq_unlink",
	"mremap",
	"msgctl",
	"msgget",
	"msgrcv",
	"msgsnd",
	"msync",
	"munlock",
	"munlockall",
	"munmap",
	"name_to_handle_at",
	"nanosleep",
	"newfstatat",
	"_newselect",
	"open",
	"openat",
	"openat2",
	"pause",
	"pidfd_open",
	"pidfd_send_signal",
	"pipe",
	"pipe2",
	"pkey_alloc",
	"pkey_free",
	"pkey_mprotect",
	"poll",
	"ppoll",
	"ppoll_time64",
	"prctl",
	"pread64",
	"preadv",
	"preadv2",
	"prlimit64",
	"process_mrelease",
	"pselect6",
	"pselect6_time64",
	"pwrite64",
	"pwritev",
	"pwritev2",
	"read",
	"readahead",
	"readlink",
	"readlinkat",
	"readv",
	"recv",
	"recvfrom",
	"recvmmsg",
	"recvmmsg_time64",
	"recvmsg",
	"remap_file_pages",
	"removexattr",
	"rename",
	"renameat",
	"renameat2",
	"restart_syscall",
	"rmdir",
	"rseq",
	"rt_sigaction",
	"rt_sigpending",
	"rt_sigprocmask",
	"rt_sigqueueinfo",
	"rt_sigreturn",
	"rt_sigsuspend",
	"rt_sigtimedwait",
	"rt_sigtimedwait_time64",
	"rt_tgsigqueueinfo",
	"sched_getaffinity",
	"sched_getattr",
	"sched_getparam",
	"sched_get_priority_max",
	"sched_get_priority_min",
	"sched_getscheduler",
	"sched_rr_get_interval",
	"sched_rr_get_interval_time64",
	"sched_setaffinity",
	"sched_setattr",
	"sched_setparam",
	"sched_setscheduler",
	"sched_yield",
	"seccomp",
	"select",
	"semctl",
	"semget",
	"semop",
	"semtimedop",
	"semtimedop_time64",
	"send",
	"sendfile",
	"sendfile64",
	"sendmmsg",
	"sendmsg",
	"sendto",
	"setfsgid",
	"setfsgid32",
	"setfsuid",
	"setfsuid32",
	"setgid",
	"setgid32",
	"setgroups",
	"setgroups32",
	"setitimer",
	"setpgid",
	"setpriority",
	"setregid",
	"setregid32",
	"setresgid",
	"setresgid32",
	"setresuid",
	"setresuid32",
	"setreuid",
	"setreuid32",
	"setrlimit",
	"set_robust_list",
	"setsid",
	"setsockopt",
	"set_thread_area",
	"set_tid_address",
	"setuid",
	"setuid32",
	"setxattr",
	"shmat",
	"shmctl",
	"shmdt",
	"shmget",
	"shutdown",
	"sigaltstack",
	"signalfd",
	"signalfd4",
	"sigprocmask",
	"sigreturn",
	"socketcall",
	"socketpair",
	"splice",
	"stat",
	"stat64",
	"statfs",
	"statfs64",
	"statx",
	"symlink",
	"symlinkat",
	"sync",
	"sync_file_range",
	"syncfs",
	"sysinfo",
	"tee",
	"tgkill",
	"time",
	"timer_create",
	"timer_delete",
	"timer_getoverrun",
	"timer_gettime",
	"timer_gettime64",
	"timer_settime",
	"timer_settime64",
	"timerfd_create",
	"timerfd_gettime",
	"timerfd_gettime64",
	"timerfd_settime",
	"timerfd_settime64",
	"times",
	"tkill",
	"truncate",
	"truncate64",
	"ugetrlimit",
	"umask",
	"uname",
	"unlink",
	"unlinkat",
	"utime",
	"utimensat",
	"utimensat_time64",
	"utimes",
	"vfork",
	"vmsplice",
	"wait4",
	"waitid",
	"waitpid",
	"write",
	"writev",
	"arch_prctl",
	"modify_ldt",
	"socket",
	"ptrace",
};

/* Allowed only with a capability, as in Docker's profile. */
static const struct {
	int cap;
	const char *names[12];
} with_cap[] = {
	{21 /* SYS_ADMIN */,
	 {"bpf", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie", "mount", "mount_setattr",
	  "move_mount", "open_tree", NULL}},
	{21,
	 {"perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
	  "umount2", "unshare", NULL}},
	{18 /* SYS_CHROOT */, {"chroot", NULL}},
	{16 /* SYS_MODULE */, {"delete_module", "init_module", "finit_module", NULL}},
	{19 /* SYS_PTRACE */,
	 {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", NULL}},
	{20 /* SYS_PACCT */, {"acct", NULL}},
	{17 /* SYS_RAWIO */, {"iopl", "ioperm", NULL}},
	{25 /* SYS_TIME */, {"settimeofday", "stime", "clock_settime", "clock_settime64", NULL}},
	{26 /* SYS_TTY_CONFIG */, {"vhangup", NULL}},
	{23 /* SYS_NICE */, {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node", NULL}},
	{35 /* WAKE_ALARM */, {"alarm", NULL}},
	{22 /* SYS_BOOT */, {"reboot", NULL}},
	{38 /* PERFMON */, {"perf_event_open", NULL}},
	{39 /* BPF */, {"bpf", NULL}},
};

#define NS_FLAGS \
	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)

static void allow(scmp_filter_ctx ctx, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr != __NR_SCMP_ERROR)
		seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

static void default_rules(scmp_filter_ctx ctx, uint64_t caps)
{
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
		allow(ctx, allowed[i]);
	for (size_t i = 0; i < ARRAY_SIZE(with_cap); i++)
		for (size_t k = 0; (caps & (1ULL << with_cap[i].cap)) && with_cap[i].names[k]; k++)
			allow(ctx, with_cap[i].names[k]);
	/* personality: only the harmless values */
	static const unsigned long personas[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};
	for (size_t i = 0; i < ARRAY_SIZE(personas); i++)
		seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1, SCMP_A0(SCMP_CMP_EQ, personas[i]));
	/* clone: new namespaces need CAP_SYS_ADMIN; clone3 says ENOSYS so libc falls back to clone */
	if (caps & (1ULL << 21)) {
		seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 0);
		seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone3), 0);
	} else {
		seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, NS_FLAGS, 0));
		seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	}
}

/* A Docker action name and its errnoRet; false for one berth cannot carry out. */
static bool action_of(const char *a, json_t *errno_ret, uint32_t *out)
{
	int e = json_is_integer(errno_ret) ? (int)json_integer_value(errno_ret) : EPERM;
	static const struct {
		const char *name;
		uint32_t action;
	} plain[] = {{"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},      {"SCMP_ACT_KILL", SCMP_ACT_KILL},
		     {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL}, {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
		     {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},        {"SCMP_ACT_LOG", SCMP_ACT_LOG}};
	for (size_t i = 0; a && i < ARRAY_SIZE(plain); i++)
		if (streq(a, plain[i].name)) {
			*out = plain[i].action;
			return true;
		}
	if (streq(a, "SCMP_ACT_ERRNO") || streq(a, "SCMP_ACT_TRACE")) {
		*out = streq(a, "SCMP_ACT_ERRNO") ? SCMP_ACT_ERRNO(e) : SCMP_ACT_TRACE(e);
		return true;
	}
	return false;
}

static bool op_of(const char *op, enum scmp_compare *out)
{
	static const struct {
		const char *name;
		enum scmp_compare op;
	} ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE},
		   {"SCMP_CMP_LT", SCMP_CMP_LT},
		   {"SCMP_CMP_LE", SCMP_CMP_LE},
		   {"SCMP_CMP_EQ", SCMP_CMP_EQ},
		   {"SCMP_CMP_GE", SCMP_CMP_GE},
		   {"SCMP_CMP_GT", SCMP_CMP_GT},
		   {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
	for (size_t i = 0; op && i < ARRAY_SIZE(ops); i++)
		if (streq(op, ops[i].name)) {
			*out = ops[i].op;
			return true;
		}
	return false;
}

static bool has_cap(uint64_t caps, json_t *name)
{
	int n = cap_from_name(json_string_value(name) ? json_string_value(name) : "");
	return n >= 0 && (caps & (1ULL << n));
}

static bool arch_listed(json_t *arches)
{
	size_t k;
	json_t *a;
	json_array_foreach(arches, k, a)
	{
		const char *s = json_string_value(a);
		if (s && seccomp_arch_resolve_name(strncasecmp(s, "SCMP_ARCH_", 10) == 0 ? s + 10 : s) ==
				 seccomp_arch_native())
			return true;
	}
	return false;
}

/* Docker's rules for when an entry applies (moby profiles/seccomp):
 * includes.caps all held, includes.arches naming this one, no
 * excludes.caps held, excludes.arches not naming this one. minKernel is
 * refused rather than guessed at. */
static int applies(json_t *rule, uint64_t caps, bool *yes, struct berr **err)
{
	json_t *inc = json_object_get(rule, "includes"), *exc = json_object_get(rule, "excludes");
	size_t k;
	json_t *c;
	*yes = true;
	if (json_object_get(inc, "minKernel") || json_object_get(exc, "minKernel"))
		return berr_set(err, ENOTSUP, "minKernel is not supported");
	json_array_foreach(json_object_get(inc, "caps"), k, c) *yes &= has_cap(caps, c);
	json_array_foreach(json_object_get(exc, "caps"), k, c) *yes &= !has_cap(caps, c);
	if (json_array_size(json_object_get(inc, "arches")) && !arch_listed(json_object_get(inc, "arches")))
		*yes = false;
	if (arch_listed(json_object_get(exc, "arches")))
		*yes = false;
	return 0;
}

static int arg_of(json_t *a, struct scmp_arg_cmp *out, struct berr **err)
{
	enum scmp_compare op;
	json_t *idx = json_object_get(a, "index");
	if (!json_is_integer(idx) || json_integer_value(idx) < 0 || json_integer_value(idx) > 5 ||
	    !op_of(json_string_value(json_object_get(a, "op")), &op))
		return berr_set(err, EINVAL, "an argument filter needs an index 0-5 and an op such as SCMP_CMP_EQ");
	*out = (struct scmp_arg_cmp){(unsigned)json_integer_value(idx), op,
				     (scmp_datum_t)json_integer_value(json_object_get(a, "value")),
				     (scmp_datum_t)json_integer_value(json_object_get(a, "valueTwo"))};
	return 0;
}

/* One entry's rules for one syscall: its argument filters in one rule, or
 * (as Docker does) one rule per filter when an index repeats, since the
 * kernel cannot AND two tests of one argument. */
static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, json_t *args, struct berr **err)
{
	size_t n = json_array_size(args);
	struct scmp_arg_cmp cmp[6];
	bool repeats = false;
	unsigned seen = 0;
	for (size_t i = 0; i < n; i++) {
		if (i >= 6 || arg_of(json_array_get(args, i), &cmp[i], err) < 0)
			return i >= 6 ? berr_set(err, EINVAL, "more than 6 argument filters") : -EINVAL;
		repeats |= (seen >> cmp[i].arg) & 1;
		seen |= 1u << cmp[i].arg;
	}
	int r = 0;
	if (!repeats)
		r = seccomp_rule_add_array(ctx, action, nr, (unsigned)n, cmp);
	for (size_t i = 0; repeats && r == 0 && i < n; i++)
		r = seccomp_rule_add_array(ctx, action, nr, 1, &cmp[i]);
	return r < 0 ? berr_set(err, -r, "libseccomp refused the rule: %s", strerror(-r)) : 0;
}

/* A Docker-format profile (moby's default.json reads as it is):
 * defaultAction and defaultErrnoRet, syscalls[] with names, action,
 * errnoRet, args, includes and excludes. Every rule is checked; what
 * berth cannot honour refuses the profile. */
static int profile_rules(scmp_filter_ctx *ctx, const char *path, uint64_t caps, struct berr **err)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j)
		return berr_set(err, EINVAL, "seccomp profile %s: %s (line %d)", path, je.text, je.line);
	const char *defname = json_string_value(json_object_get(j, "defaultAction"));
	uint32_t def;
	if (!action_of(defname ? defname : "SCMP_ACT_ERRNO", json_object_get(j, "defaultErrnoRet"), &def)) {
		int r = berr_set(err, EINVAL, "seccomp profile %s: defaultAction %s is not supported", path, defname);
		json_decref(j);
		return r;
	}
	*ctx = seccomp_init(def);
	int r = *ctx ? 0 : berr_set(err, ENOMEM, "cannot build a seccomp filter");
	size_t i;
	json_t *rule;
	json_array_foreach(json_object_get(j, "syscalls"), i, rule)
	{
		const char *act = json_string_value(json_object_get(rule, "action"));
		uint32_t action;
		bool yes = false;
		if (r == 0 && !action_of(act, json_object_get(rule, "errnoRet"), &action))
			r = berr_set(err, EINVAL, "action %s is not supported", act ? act : "(none)");
		if (r == 0)
			r = applies(rule, caps, &yes, err);
		json_t *names = json_object_get(rule, "names");
		if (!names && json_object_get(rule, "name"))
			names = json_pack("[O]", json_object_get(rule, "name"));
		else
			json_incref(names);
		size_t k;
		json_t *name;
		json_array_foreach(names, k, name)
		{
			int nr = seccomp_syscall_resolve_name(json_string_value(name) ?: "");
			/* a syscall this architecture lacks, or the default's own action: nothing to add */
			if (r < 0 || !yes || nr == __NR_SCMP_ERROR || action == def)
				continue;
			r = add_rule(*ctx, action, nr, json_object_get(rule, "args"), err);
			if (r < 0)
				berr_prefix(err, "%s: ", json_string_value(name));
		}
		json_decref(names);
		if (r < 0) {
			berr_prefix(err, "seccomp profile %s: syscalls[%zu]: ", path, i);
			break;
		}
	}
	json_decref(j);
	if (r < 0 && *ctx) {
		seccomp_release(*ctx);
		*ctx = NULL;
	}
	return r;
}

/* The program for a profile, compiled. */
static int compile(const char *profile, uint64_t caps, char **bpf, size_t *len, struct berr **err)
{
	scmp_filter_ctx ctx = NULL;
	if (profile) {
		int r = profile_rules(&ctx, profile, caps, err);
		if (r < 0)
			return r;
	} else {
		ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
		if (ctx)
			default_rules(ctx, caps);
	}
	if (!ctx)
		return berr_set(err, ENOMEM, "cannot build a seccomp filter");
	_cleanup_close_ int fd = memfd_create("seccomp", MFD_CLOEXEC);
	struct stat st;
	int r = 0;
	if (fd < 0 || seccomp_export_bpf(ctx, fd) < 0 || fstat(fd, &st) < 0)
		r = berr_set(err, EIO, "cannot compile the seccomp filter");
	seccomp_release(ctx);
	*len = r == 0 ? (size_t)st.st_size : 0;
	*bpf = r == 0 ? xmalloc(*len + 1) : NULL;
	if (r == 0 && pread(fd, *bpf, *len, 0) != (ssize_t)*len)
		r = berr_sys(err, errno, "cannot read the compiled seccomp filter");
	if (r < 0) {
		free(*bpf);
		*bpf = NULL;
	}
	return r;
}

#ifndef BERTH_SECCOMP_ID
#define BERTH_SECCOMP_ID "dev"
#endif

/* The default program is kept in cache_dir once compiled (~2 ms of
 * libseccomp per container otherwise), named by the capabilities, the
 * rules' source (BERTH_SECCOMP_ID, a digest of this file made by the
 * Makefile) and libseccomp's version. */
static char *cache_path(const char *cache_dir, uint64_t caps)
{
	const struct scmp_version *v = seccomp_version();
	return xasprintf("%s/default-%016llx-%s-%u.%u.%u.bpf", cache_dir, (unsigned long long)caps, BERTH_SECCOMP_ID,
			 v->major, v->minor, v->micro);
}

int seccomp_write_bpf(const char *profile, uint64_t caps, const char *cache_dir, const char *out, struct berr **err)
{
	_cleanup_free_ char *bpf = NULL;
	_cleanup_free_ char *cached = !profile && cache_dir ? cache_path(cache_dir, caps) : NULL;
	size_t len = 0;
	if (cached && fs_read_file(cached, 1 << 20, &bpf, &len, NULL) == 0 && len > 0 && len % 8 == 0)
		return fs_write_replace(out, bpf, len, 0600, err);
	free(bpf);
	bpf = NULL;
	int r = compile(profile, caps, &bpf, &len, err);
	if (r == 0 && cached && fs_mkdir_p(cache_dir, 0700, NULL) == 0)
		fs_write_atomic(cached, bpf, len, 0600, NULL);
	if (r == 0)
		r = fs_write_replace(out, bpf, len, 0600, err);
	return r;
}

int seccomp_check(const char *profile, uint64_t caps, struct berr **err)
{
	_cleanup_free_ char *bpf = NULL;
	size_t len;
	return compile(profile, caps, &bpf, &len, err);
}
