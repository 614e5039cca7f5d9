#include "process.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>

#include "../lib/fdpass.h"
#include "../lib/fs.h"
#include "console.h"
#include "caps.h"
#include "cgroup.h"
#include "rootfs.h"

struct child {
	const struct ctr_spec *s;
	char *bpf; /* the seccomp program, read before the root changes */
	size_t bpf_len;
	int go;       /* read: the parent has put us in the cgroup */
	int report;   /* write: why we failed (closed by a successful exec) */
	int out, err; /* write ends of stdout and stderr */
	int in;       /* read end of stdin, or -1 for /dev/null */
	int console;  /* tty: the socket the terminal's master goes back over, or -1 */
	int ipc_ns;   /* ipc container:NAME: that container's IPC namespace, or -1 */
};

/* In the child: tell the parent what failed, with Docker's exit code, and exit. */
static _Noreturn void die(struct child *c, int code, struct berr *e)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "%d %s", code, e ? e->msg : "container setup failed");
	if (write(c->report, buf, (size_t)(n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1)) < 0)
		_exit(code);
	_exit(code);
}

static int lo_up(struct berr **err)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return berr_sys(err, errno, "cannot read the loopback interface");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return berr_sys(err, errno, "cannot bring the loopback interface up");
	return 0;
}

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
	{"data", RLIMIT_DATA},         {"fsize", RLIMIT_FSIZE},
	{"locks", RLIMIT_LOCKS},       {"memlock", RLIMIT_MEMLOCK},
	{"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
	{"nofile", RLIMIT_NOFILE},     {"nproc", RLIMIT_NPROC},
	{"rss", RLIMIT_RSS},           {"rtprio", RLIMIT_RTPRIO},
	{"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
	{"stack", RLIMIT_STACK},
};

int process_set_rlimits(const struct ctr_spec *s, struct berr **err)
{
	for (size_t i = 0; i < s->nrlimits; i++) {
		int res = -1;
		for (size_t k = 0; k < ARRAY_SIZE(rlimit_names); k++)
			if (streq(rlimit_names[k].name, s->rlimits[i].name))
				res = rlimit_names[k].resource;
		if (res < 0)
			return berr_set(err, EINVAL, "unknown ulimit \"%s\"", s->rlimits[i].name);
		struct rlimit rl = {(rlim_t)s->rlimits[i].soft, (rlim_t)s->rlimits[i].hard};
		if (setrlimit(res, &rl) < 0)
			return berr_sys(err, errno, "cannot set ulimit %s to %lld:%lld (above this host's hard limit?)",
					s->rlimits[i].name, (long long)s->rlimits[i].soft,
					(long long)s->rlimits[i].hard);
	}
	return 0;
}

/* The command's path: as given when it has a '/', else the first match in $PATH. */
static char *find_command(const struct ctr_spec *s, int *code)
{
	const char *cmd = s->argv[0];
	if (strchr(cmd, '/'))
		return xstrdup(cmd);
	const char *path = strv_env_get(s->env, "PATH");
	_cleanup_free_ char *copy = xstrdup(path ? path
						 : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	char *save = NULL;
	*code = 127;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", dir[0] ? dir : ".", cmd);
		struct stat st;
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(p, X_OK) == 0)
				return p;
			*code = 126;
		}
		free(p);
	}
	return NULL;
}

static int drop_privileges(const struct ctr_spec *s, struct berr **err)
{
	if (caps_limit(s->caps, err) < 0)
		return -EPERM;
	if (setgroups(s->ngroups, s->groups) < 0)
		return berr_sys(err, errno, "cannot set supplementary groups");
	if (setresgid(s->gid, s->gid, s->gid) < 0)
		return berr_sys(err, errno, "cannot set group id %d", (int)s->gid);
	if (setresuid(s->uid, s->uid, s->uid) < 0)
		return berr_sys(err, errno, "cannot set user id %d", (int)s->uid);
	return 0;
}

static int load_seccomp(const struct child *c, struct berr **err)
{
	const struct ctr_spec *s = c->s;
	if (!c->bpf)
		return 0;
	struct sock_fprog fp = {.len = (unsigned short)(c->bpf_len / sizeof(struct sock_filter)),
				.filter = (struct sock_filter *)c->bpf};
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
		return berr_sys(err, errno, "cannot load the seccomp profile %s", s->seccomp);
	return 0;
}

static int enter_namespaces(const struct ctr_spec *s, int ipc_ns, struct berr **err)
{
	if (!s->cgroupns_host && unshare(CLONE_NEWCGROUP) < 0)
		return berr_sys(err, errno, "cannot create a cgroup namespace");
	if (ipc_ns >= 0 && setns(ipc_ns, CLONE_NEWIPC) < 0)
		return berr_sys(err, errno, "cannot join the IPC namespace of %s", s->ipc + 10);
	if (s->network && s->network[0] == '/') {
		_cleanup_close_ int fd = open(s->network, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			return berr_sys(err, errno, "cannot join network namespace %s", s->network);
	} else if (!streq(s->network, "host")) {
		return lo_up(err);
	}
	return 0;
}

static int set_identity_and_dir(const struct ctr_spec *s, struct berr **err)
{
	bool own_uts = !streq(s->uts, "host"); /* the host's names are never set from a container */
	if (own_uts && s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return berr_sys(err, errno, "cannot set the hostname");
	if (own_uts && s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
		return berr_sys(err, errno, "cannot set the domain name");
	if (s->oom_score_set) {
		char v[16];
		int n = snprintf(v, sizeof(v), "%d", s->oom_score_adj);
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, v, (size_t)n) != n) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			return berr_sys(err, e, "cannot set oom_score_adj to %d", s->oom_score_adj);
		}
		close(fd);
	}
	int r = process_set_rlimits(s, err);
	const char *cwd = s->cwd && s->cwd[0] ? s->cwd : "/";
	if (r == 0 && fs_mkdir_p(cwd, 0755, err) < 0)
		return -EIO;
	if (r == 0 && chdir(cwd) < 0)
		r = berr_sys(err, errno, "cannot enter the working directory %s", cwd);
	return r;
}

/* The container's terminal, from its own devpts: its master goes back to
 * the shim; the slave is our controlling terminal, stdio and /dev/console. */
static int make_console(struct child *c, struct berr **err)
{
	int slave;
	int master = console_new(&slave);
	if (master < 0)
		return berr_sys(err, -master, "cannot allocate a terminal in the container");
	struct winsize ws = {.ws_row = (unsigned short)c->s->tty_rows, .ws_col = (unsigned short)c->s->tty_cols};
	if (ws.ws_row > 0 && ws.ws_col > 0)
		ioctl(slave, TIOCSWINSZ, &ws);
	int r = fd_send(c->console, master);
	close(master);
	close(c->console);
	char name[64];
	if (r == 0)
		r = console_take(slave, c->s->stdin_open || c->s->attach);
	if (r == 0 && ttyname_r(slave, name, sizeof(name)) != 0)
		r = -errno;
	if (r < 0)
		return berr_sys(err, -r, "cannot set up the container's terminal");
	close(slave);
	return rootfs_console(name, err);
}

static int child_main(void *arg)
{
	struct child *c = arg;
	const struct ctr_spec *s = c->s;
	struct berr *e = NULL;
	char go;
	if (read(c->go, &go, 1) != 1)
		_exit(125);
	setsid();
	/* with a terminal, stdio is set once the container's devpts exists */
	if (c->console < 0 && (dup2(c->out, 1) < 0 || dup2(c->err, 2) < 0))
		die(c, 125, NULL);
	int in = c->in >= 0 ? c->in : open("/dev/null", O_RDONLY);
	if (in < 0 || dup2(in, 0) < 0)
		die(c, 125, NULL);
	/* the shim blocks and ignores signals for itself; a mask survives exec */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (enter_namespaces(s, c->ipc_ns, &e) < 0 || rootfs_setup(s, &e) < 0 ||
	    (c->console >= 0 && make_console(c, &e) < 0) || set_identity_and_dir(s, &e) < 0)
		die(c, 125, e);
	int code = 127;
	char *path = find_command(s, &code);
	if (!path) {
		berr_set(&e, ENOENT, "exec: \"%s\": %s", s->argv[0],
			 code == 126 ? "permission denied" : "executable file not found in $PATH");
		die(c, code, e);
	}
	/* without no_new_privs, the filter goes in while we still hold CAP_SYS_ADMIN */
	if (!s->no_new_privs && load_seccomp(c, &e) < 0)
		die(c, 125, e);
	if (drop_privileges(s, &e) < 0)
		die(c, 125, e);
	if (s->no_new_privs && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || load_seccomp(c, &e) < 0))
		die(c, 125, e);
	execve(path, s->argv, s->env);
	berr_sys(&e, errno, "exec: \"%s\"", s->argv[0]);
	die(c, errno == EACCES ? 126 : 127, e);
}

static int clone_flags(const struct ctr_spec *s)
{
	int f = CLONE_NEWNS | SIGCHLD;
	if (!streq(s->uts, "host"))
		f |= CLONE_NEWUTS;
	/* container:NAME joins that one's namespace instead (process_start) */
	if (!streq(s->ipc, "host") && !(s->ipc && startswith(s->ipc, "container:")))
		f |= CLONE_NEWIPC;
	if (!streq(s->pid_ns, "host") && !(s->pid_ns && startswith(s->pid_ns, "container:")))
		f |= CLONE_NEWPID;
	if (!s->network || streq(s->network, "none"))
		f |= CLONE_NEWNET;
	return f;
}

static int read_report(int fd, int *exit_code, struct berr **err)
{
	char buf[1024];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf) - 1)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return 0; /* closed by exec: started */
	buf[n] = '\0';
	char *msg = strchr(buf, ' ');
	*exit_code = atoi(buf);
	return berr_set(err, EINVAL, "%s", msg ? msg + 1 : "container setup failed");
}

/* tty: a socket for the terminal's master (made in the container), which
 * stands in for stdout; stdin_open: a pipe for stdin; attach: the shim's
 * own stdio (berth run's pipes). */
static int make_stdio(const struct ctr_spec *s, int out[2], int errp[2], int in[2], int console[2])
{
	out[0] = out[1] = errp[0] = errp[1] = in[0] = in[1] = console[0] = console[1] = -1;
	if (s->tty)
		return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0 ? -errno : 0;
	if (s->attach) {
		out[1] = fcntl(1, F_DUPFD_CLOEXEC, 3);
		errp[1] = fcntl(2, F_DUPFD_CLOEXEC, 3);
		in[0] = fcntl(0, F_DUPFD_CLOEXEC, 3);
		return out[1] < 0 || errp[1] < 0 || in[0] < 0 ? -errno : 0;
	}
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		return -errno;
	if (s->stdin_open && pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int process_start(const struct ctr_spec *s, struct ctr_process *p, int *exit_code, struct berr **err)
{
	int go[2] = {-1, -1}, report[2] = {-1, -1}, out[2], errp[2], in[2], console[2];
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0 || make_stdio(s, out, errp, in, console) < 0) {
		int e = errno;
		int *fds[] = {&go[0], &go[1], &report[0], &report[1]};
		for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
			close_fd(fds[i]);
		return berr_sys(err, e, "cannot create pipes for %s", s->id);
	}
	struct child c = {.s = s,
			  .go = go[0],
			  .report = report[1],
			  .out = out[1],
			  .err = errp[1],
			  .in = in[0],
			  .console = console[1],
			  .ipc_ns = -1};
	/* ipc or pid container:NAME: that container's namespaces, while it runs
	 * (pid: ours become the namespace of what we start from now on) */
	int joined = 0;
	const char *how[] = {s->ipc, s->pid_ns}, *kind[] = {"ipc", "pid"};
	for (int k = 0; k < 2 && joined == 0; k++) {
		if (!how[k] || !startswith(how[k], "container:"))
			continue;
		pid_t peer = state_peer_pid(s->dir, how[k]);
		_cleanup_free_ char *ns = xasprintf("/proc/%d/ns/%s", (int)peer, kind[k]);
		int fd = peer > 0 ? open(ns, O_RDONLY | O_CLOEXEC) : -1;
		if (fd < 0) {
			joined = berr_set(err, ESRCH, "cannot join the %s namespace of %s: it is not running", kind[k],
					  how[k] + 10);
		} else if (k == 0) {
			c.ipc_ns = fd;
		} else {
			if (setns(fd, CLONE_NEWPID) < 0)
				joined = berr_sys(err, errno, "cannot join the pid namespace of %s", how[k] + 10);
			close(fd);
		}
	}
	if (joined < 0) {
		int *fds[] = {&go[0],   &go[1], &report[0], &report[1],  &out[0],     &out[1],  &errp[0],
			      &errp[1], &in[0], &in[1],     &console[0], &console[1], &c.ipc_ns};
		for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
			close_fd(fds[i]);
		*exit_code = 125;
		return joined;
	}
	int *all[] = {&go[0],   &go[1],   &report[0], &report[1], &out[0],     &out[1],
		      &errp[0], &errp[1], &in[0],     &in[1],     &console[0], &console[1]};
	if (s->seccomp && fs_read_file(s->seccomp, 1 << 20, &c.bpf, &c.bpf_len, err) < 0) {
		for (size_t i = 0; i < ARRAY_SIZE(all); i++)
			close_fd(all[i]);
		close_fd(&c.ipc_ns);
		return -EIO;
	}
	size_t stack_size = 256 * 1024;
	char *stack = xmalloc(stack_size);
	pid_t pid = clone(child_main, stack + stack_size, clone_flags(s), &c);
	int saved = errno;
	free(stack); /* the child has its own copy of this memory */
	free(c.bpf);
	close_fd(&c.ipc_ns);
	close_fd(&go[0]);
	close_fd(&report[1]);
	close_fd(&out[1]);
	close_fd(&errp[1]);
	close_fd(&in[0]);
	close_fd(&console[1]);
	int r = 0;
	_cleanup_free_ char *cg = cgroup_id(s->cgroup.parent, s->id);
	if (pid < 0)
		r = berr_sys(err, saved, "cannot create the namespaces of %s", s->id);
	if (r == 0)
		r = cgroup_add(cg, pid, err);
	if (r == 0 && write(go[1], "g", 1) != 1)
		r = berr_sys(err, errno, "cannot start %s", s->id);
	close_fd(&go[1]);
	/* the terminal's master, unless the child failed before it made one
	 * (then the report says why) */
	int master = r == 0 && console[0] >= 0 ? fd_recv(console[0]) : -1;
	close_fd(&console[0]);
	*exit_code = 125;
	if (r == 0)
		r = read_report(report[0], exit_code, err);
	close_fd(&report[0]);
	if (r == 0 && s->tty && master < 0)
		r = berr_set(err, EIO, "the container's terminal did not reach the shim");
	if (r < 0) {
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		if (master >= 0)
			close(master);
		for (size_t i = 0; i < ARRAY_SIZE(all); i++)
			close_fd(all[i]);
		return r;
	}
	if (s->tty)
		out[0] = master;
	*p = (struct ctr_process){.pid = pid, .out_fd = out[0], .err_fd = errp[0], .in_fd = in[1]};
	return 0;
}
