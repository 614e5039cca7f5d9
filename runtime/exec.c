#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../lib/fdpass.h"
#include "../lib/fs.h"
#include "caps.h"
#include "console.h"
#include "cgroup.h"
#include "ctr.h"
#include "process.h"
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

static const char *getenv_in(char **env, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], key, n) == 0 && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

static void close_all(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static _Noreturn void fail(const char *what, int code)
{
	fprintf(stderr, "berth: exec: %s: %s\n", what, strerror(errno));
	_exit(code);
}

/* How the command's stdio reaches berth: a terminal made inside the
 * container whose master goes back over console_sock, or three pipes. */
struct exec_io {
	int console_sock; /* the child's end, or -1 */
	int in, out, err; /* the child's ends of the pipes, or -1 */
};

static void stdio_in_container(const struct exec_io *io)
{
	if (io->console_sock >= 0) {
		int slave;
		int master = console_new(&slave);
		setsid();
		if (master < 0 || fd_send(io->console_sock, master) < 0 || console_take(slave, 1) < 0)
			fail("cannot set up the terminal", 126);
		close(master);
		close(slave);
		close(io->console_sock);
	} else if (io->out >= 0) {
		if (dup2(io->in, 0) < 0 || dup2(io->out, 1) < 0 || dup2(io->err, 2) < 0)
			fail("cannot set up stdio", 126);
	}
}

/* In the second child: inside the pid namespace; become the user and exec. */
static _Noreturn void run(const struct ctr_spec *s, const struct exec_opts *o, const struct exec_io *io, char *bpf,
			  size_t bpf_len)
{
	stdio_in_container(io);
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
	if (io->console_sock >= 0 && !getenv_in(env, "TERM"))
		strv_push(&env, xstrdup("TERM=xterm")); /* as Docker sets it with a terminal */
	struct berr *e = NULL;
	if (process_set_rlimits(s, &e) < 0 || caps_limit(o->privileged ? CAPS_ALL : s->caps, &e) < 0) {
		fprintf(stderr, "berth: exec: %s\n", e->msg);
		_exit(126);
	}
	struct sock_fprog fp = {.len = (unsigned short)(bpf_len / sizeof(struct sock_filter)),
				.filter = (struct sock_filter *)bpf};
	if (bpf && !o->privileged && !s->no_new_privs && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
		fail("seccomp", 126);
	if (setgroups(o->user ? 0 : s->ngroups, s->groups) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		fail("cannot change user", 126);
	if (s->no_new_privs && !o->privileged) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			fail("no_new_privs", 126);
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
static _Noreturn void join(const struct ctr_spec *s, pid_t target, const struct exec_opts *o,
			   const struct exec_io *io, char *bpf, size_t bpf_len)
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
		run(s, o, io, bpf, bpf_len);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
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
	/* the child's ends: a socket for the terminal's master, or pipes */
	int sock[2] = {-1, -1}, in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
	bool tty = o->tty && !o->detach;
	int made = tty ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock)
		       : o->detach ? 0 : pipe2(in, O_CLOEXEC) | pipe2(out, O_CLOEXEC) | pipe2(errp, O_CLOEXEC);
	if (made < 0) {
		int e = errno;
		close_all((int[]){sock[0], sock[1], in[0], in[1], out[0], out[1], errp[0], errp[1]}, 8);
		spec_free(&s);
		return berr_sys(err, e, "cannot set up the stdio of exec in %s", name);
	}
	struct exec_io io = {sock[1], in[0], out[1], errp[1]};
	pid_t pid = fork();
	if (pid == 0) {
		close_all((int[]){sock[0], in[1], out[0], errp[0]}, 4);
		if (o->detach) {
			setsid();
			if (fork() != 0)
				_exit(0);
			int null = open("/dev/null", O_RDWR);
			dup2(null, 0), dup2(null, 1), dup2(null, 2);
		}
		join(&s, target, o, &io, bpf, bpf_len);
	}
	spec_free(&s);
	close_all((int[]){sock[1], in[0], out[1], errp[1]}, 4);
	if (pid < 0) {
		close_all((int[]){sock[0], in[1], out[0], errp[0]}, 4);
		return berr_sys(err, errno, "cannot exec in %s", name);
	}
	if (tty) {
		int master = fd_recv(sock[0]); /* none: the child failed, and said so on stderr */
		close(sock[0]);
		if (master >= 0) {
			console_relay(master);
			close(master);
		}
	} else if (!o->detach) {
		console_relay_pipes(in[1], out[0], errp[0]);
	}
	int ws;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	return 0;
}
