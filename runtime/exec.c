#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../lib/fs.h"
#include "caps.h"
#include "cgroup.h"
#include "ctr.h"
#include "state.h"

static const struct {
	const char *name;
	int flag;
} namespaces[] = {{"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET},
		  {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS}};

/* The user of the exec, read from the container's own /etc/passwd (we are in its root by now). */
static int resolve_user(const char *user, uid_t *uid, gid_t *gid)
{
	_cleanup_free_ char *u = xstrdup(user);
	char *g = strchr(u, ':');
	if (g)
		*g++ = '\0';
	char *end;
	long n = strtol(u, &end, 10);
	bool numeric = *u && !*end;
	*uid = numeric ? (uid_t)n : 0;
	*gid = 0;
	FILE *f = fopen("/etc/passwd", "re");
	char line[1024];
	bool found = numeric;
	while (f && fgets(line, sizeof(line), f)) {
		char *fields[7] = {0}, *p = line;
		for (int i = 0; i < 7 && p; i++) {
			fields[i] = p;
			p = strchr(p, ':');
			if (p)
				*p++ = '\0';
		}
		if (!fields[3])
			continue;
		if (numeric ? (uid_t)atol(fields[2]) == *uid : streq(fields[0], u)) {
			*uid = (uid_t)atol(fields[2]);
			*gid = (gid_t)atol(fields[3]);
			found = true;
			break;
		}
	}
	if (f)
		fclose(f);
	if (g)
		*gid = (gid_t)atol(g);
	return found ? 0 : -ENOENT;
}

static _Noreturn void fail(const char *what, int code)
{
	fprintf(stderr, "berth: exec: %s: %s\n", what, strerror(errno));
	_exit(code);
}

static int tty_slave = -1;

/* In the second child: inside the pid namespace; become the user and exec. */
static _Noreturn void run(const struct ctr_spec *s, const struct exec_opts *o, char *bpf, size_t bpf_len)
{
	if (tty_slave >= 0) {
		setsid();
		if (ioctl(tty_slave, TIOCSCTTY, 0) < 0 || dup2(tty_slave, 0) < 0 || dup2(tty_slave, 1) < 0 ||
		    dup2(tty_slave, 2) < 0)
			fail("cannot set up the terminal", 126);
		close(tty_slave);
	}
	uid_t uid = s->uid;
	gid_t gid = s->gid;
	if (o->user && resolve_user(o->user, &uid, &gid) < 0) {
		fprintf(stderr, "berth: exec: user \"%s\" is not in the container's /etc/passwd\n", o->user);
		_exit(126);
	}
	const char *wd = o->workdir ? o->workdir : s->cwd ? s->cwd : "/";
	if (chdir(wd) < 0)
		fail(wd, 126);
	char **env = strv_copy(s->env);
	for (size_t i = 0; o->env && o->env[i]; i++)
		strv_push(&env, xstrdup(o->env[i]));
	if (!o->privileged) {
		for (int c = 0; c <= CAPS_LAST; c++)
			if (!(s->caps & (1ULL << c)))
				prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	}
	struct sock_fprog fp = {.len = (unsigned short)(bpf_len / sizeof(struct sock_filter)),
				.filter = (struct sock_filter *)bpf};
	if (bpf && !o->privileged && !s->no_new_privs && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
		fail("seccomp", 126);
	if (setgroups(o->user ? 0 : s->ngroups, s->groups) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		fail("cannot change user", 126);
	if (s->no_new_privs && !o->privileged) {
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (bpf && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
			fail("seccomp", 126);
	}
	environ = env;
	execvp(o->argv[0], o->argv);
	fprintf(stderr, "berth: exec: \"%s\": %s\n", o->argv[0],
		errno == ENOENT ? "executable file not found in $PATH" : strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* In the first child: join every namespace (files opened before any of
 * them changes our view), the cgroup, then fork into the pid namespace. */
static _Noreturn void join(const struct ctr_spec *s, pid_t target, const struct exec_opts *o, char *bpf,
			   size_t bpf_len)
{
	int fds[ARRAY_SIZE(namespaces)];
	for (size_t i = 0; i < ARRAY_SIZE(namespaces); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)target, namespaces[i].name);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			fail(path, 126);
	}
	if (cgroup_add(s->id, getpid(), NULL) < 0)
		fail("cannot join the container's cgroup", 126);
	for (size_t i = 0; i < ARRAY_SIZE(namespaces); i++) {
		struct stat a, b;
		char mine[64];
		snprintf(mine, sizeof(mine), "/proc/self/ns/%s", namespaces[i].name);
		if (stat(mine, &a) == 0 && fstat(fds[i], &b) == 0 && a.st_ino == b.st_ino)
			continue; /* already there (network_mode: host) */
		if (setns(fds[i], namespaces[i].flag) < 0)
			fail(namespaces[i].name, 126);
	}
	if (chdir("/") < 0)
		fail("/", 126);
	pid_t pid = fork();
	if (pid < 0)
		fail("fork", 126);
	if (pid == 0)
		run(s, o, bpf, bpf_len);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static volatile sig_atomic_t resized;
static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

static void copy_size(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

static bool pass(int from, int to)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n <= 0)
		return false;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w <= 0)
			return false;
		off += w;
	}
	return true;
}

/* Relay between our terminal (raw) and the pty until the command closes it. */
static void relay(int master)
{
	struct termios saved, raw;
	bool term = tcgetattr(STDIN_FILENO, &saved) == 0;
	if (term) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	copy_size(STDIN_FILENO, master);
	struct sigaction sa = {.sa_handler = on_winch}, old;
	sigaction(SIGWINCH, &sa, &old);
	bool in_open = true;
	for (;;) {
		if (resized) {
			resized = 0;
			copy_size(STDIN_FILENO, master);
		}
		struct pollfd p[2] = {{master, POLLIN, 0}, {in_open ? STDIN_FILENO : -1, POLLIN, 0}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !pass(master, STDOUT_FILENO))
			break;
		if ((p[1].revents & (POLLIN | POLLHUP)) && !pass(STDIN_FILENO, master))
			in_open = false;
	}
	sigaction(SIGWINCH, &old, NULL);
	if (term)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
}

int ctr_exec(const char *root, const char *name, const struct exec_opts *o, int *status, struct berr **err)
{
	pid_t target;
	if (!ctr_up(root, name, &target) || target <= 0)
		return berr_set(err, ESRCH, "container %s is not running (start it with: berth start)", name);
	_cleanup_free_ char *dir = ctr_dir(root, name);
	_cleanup_free_ char *spec_path = path_join(dir, "spec.json");
	struct ctr_spec s;
	int r = spec_read(spec_path, &s, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *bpf = NULL;
	size_t bpf_len = 0;
	if (s.seccomp && fs_read_file(s.seccomp, 1 << 20, &bpf, &bpf_len, err) < 0) {
		spec_free(&s);
		return -EIO;
	}
	int master = -1;
	if (o->tty && !o->detach && openpty(&master, &tty_slave, NULL, NULL, NULL) < 0) {
		spec_free(&s);
		return berr_sys(err, errno, "cannot allocate a terminal for exec in %s", name);
	}
	pid_t pid = fork();
	if (pid == 0) {
		if (master >= 0)
			close(master);
		if (o->detach) {
			setsid();
			if (fork() != 0)
				_exit(0);
			int null = open("/dev/null", O_RDWR);
			dup2(null, 0), dup2(null, 1), dup2(null, 2);
		}
		join(&s, target, o, bpf, bpf_len);
	}
	spec_free(&s);
	if (tty_slave >= 0) {
		close(tty_slave);
		tty_slave = -1;
	}
	if (pid < 0) {
		if (master >= 0)
			close(master);
		return berr_sys(err, errno, "cannot exec in %s", name);
	}
	if (master >= 0) {
		relay(master);
		close(master);
	}
	int ws;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	return 0;
}
