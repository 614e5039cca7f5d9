/* berth-shim enter: a process exec'd into a running container (berth
 * exec). It runs from the shim's sealed binary (exeseal.h), never from
 * berth's, joins the container through a pidfd (a reused pid is never
 * joined), and execs the command as the container's user, with its
 * capabilities, seccomp filter, ulimits and cgroup. */
#include "enter.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../lib/fdpass.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "caps.h"
#include "cgroup.h"
#include "console.h"
#include "process.h"
#include "spec.h"

struct enter_opts {
	char **argv, **env;
	char *user, *workdir;
	bool privileged;
	bool die_with_parent; /* a healthcheck: killed with the process the shim kills at its timeout */
	int rows, cols;       /* the user's terminal, for the new one */
};

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

/* With a terminal: one made inside the container, its master sent back
 * over console_sock; otherwise the stdio berth gave us (pipes). */
static void stdio_in_container(int console_sock, const struct enter_opts *o)
{
	if (console_sock < 0)
		return;
	int slave;
	int master = console_new(&slave);
	setsid();
	struct winsize ws = {.ws_row = (unsigned short)o->rows, .ws_col = (unsigned short)o->cols};
	if (o->rows > 0 && o->cols > 0)
		ioctl(slave, TIOCSWINSZ, &ws);
	if (master < 0 || fd_send(console_sock, master) < 0 || console_take(slave, 1) < 0)
		fail("cannot set up the terminal", 126);
	close(master);
	close(slave);
	close(console_sock);
}

/* In the second child: inside the pid namespace; become the user and exec. */
static _Noreturn void run(const struct ctr_spec *s, const struct enter_opts *o, int console_sock, char *bpf,
			  size_t bpf_len)
{
	stdio_in_container(console_sock, o);
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
	for (size_t i = 0; o->env && o->env[i]; i++) { /* exec -e KEY=VALUE replaces the container's KEY */
		size_t klen = strcspn(o->env[i], "=");
		size_t w = 0;
		for (size_t k = 0; env[k]; k++) {
			if (strncmp(env[k], o->env[i], klen) == 0 && (env[k][klen] == '=' || !env[k][klen]))
				free(env[k]);
			else
				env[w++] = env[k];
		}
		env[w] = NULL;
		if (o->env[i][klen] == '=')
			strv_push(&env, xstrdup(o->env[i]));
	}
	if (console_sock >= 0 && !strv_env_get(env, "TERM"))
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
	if (o->die_with_parent && (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() == 1))
		_exit(126);
	environ = env;
	execvp(o->argv[0], o->argv);
	fprintf(stderr, "berth: exec: \"%s\": %s\n", o->argv[0],
		errno == ENOENT ? "executable file not found in $PATH" : strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

static int read_opts(const char *text, struct enter_opts *o)
{
	_cleanup_(json_releasep) json_t *j = json_loads(text, 0, NULL);
	if (!j)
		return -EINVAL;
	*o = (struct enter_opts){0};
	o->argv = json_strv(json_object_get(j, "argv"));
	o->env = json_strv(json_object_get(j, "env"));
	const char *u = json_string_value(json_object_get(j, "user"));
	const char *w = json_string_value(json_object_get(j, "workdir"));
	o->user = u ? xstrdup(u) : NULL;
	o->workdir = w ? xstrdup(w) : NULL;
	o->privileged = json_is_true(json_object_get(j, "privileged"));
	o->rows = (int)json_integer_value(json_object_get(j, "rows"));
	o->cols = (int)json_integer_value(json_object_get(j, "cols"));
	return o->argv && o->argv[0] ? 0 : -EINVAL;
}

static int join_and_run(const struct ctr_spec *s, const struct enter_opts *o, int pidfd, int console_sock);

int enter_main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: berth-shim enter SPEC OPTIONS (run by berth exec)\n");
		return 125;
	}
	int pidfd = ENTER_PIDFD, console_sock = fcntl(ENTER_CONSOLE, F_GETFD) < 0 ? -1 : ENTER_CONSOLE;
	fcntl(pidfd, F_SETFD, FD_CLOEXEC);
	if (console_sock >= 0)
		fcntl(console_sock, F_SETFD, FD_CLOEXEC);
	struct ctr_spec s;
	struct enter_opts o;
	struct berr *e = NULL;
	if (spec_read(argv[2], &s, &e) < 0 || read_opts(argv[3], &o) < 0) {
		fprintf(stderr, "berth: exec: %s\n", e ? e->msg : "bad options");
		return 126;
	}
	return join_and_run(&s, &o, pidfd, console_sock);
}

/* Join the container (cgroup, then every namespace from the pidfd), fork
 * into its pid namespace, run o there; returns the command's status. */
static int join_and_run(const struct ctr_spec *s, const struct enter_opts *o, int pidfd, int console_sock)
{
	struct berr *e = NULL;
	_cleanup_free_ char *bpf = NULL;
	size_t bpf_len = 0;
	if (s->seccomp && fs_read_file(s->seccomp, 1 << 20, &bpf, &bpf_len, &e) < 0) {
		fprintf(stderr, "berth: exec: %s\n", e->msg);
		return 126;
	}
	_cleanup_free_ char *cg = cgroup_id(s->cgroup.parent, s->id);
	if (cgroup_add(cg, getpid(), &e) < 0) {
		fprintf(stderr, "berth: exec: %s\n", e->msg);
		return 126;
	}
	/* every namespace at once, from the pidfd; the pid one takes effect for our child */
	if (setns(pidfd, CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP) < 0)
		fail("cannot join the container's namespaces", 126);
	close(pidfd);
	if (chdir("/") < 0)
		fail("/", 126);
	pid_t pid = fork();
	if (pid < 0)
		fail("fork", 126);
	if (pid == 0)
		run(s, o, console_sock, bpf, bpf_len);
	if (console_sock >= 0)
		close(console_sock);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

pid_t enter_spawn(const struct ctr_spec *s, pid_t init, const struct hook_spec *h, bool die_with_parent, int out_fd)
{
	int pidfd = (int)syscall(SYS_pidfd_open, init, 0);
	if (pidfd < 0)
		return -1;
	pid_t pid = fork();
	if (pid != 0) {
		close(pidfd);
		return pid;
	}
	int null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		_exit(126);
	/* the shim blocks its signals; the command gets the usual ones */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	struct enter_opts o = {.argv = h->argv,
			       .env = h->env,
			       .user = h->user,
			       .workdir = h->workdir,
			       .privileged = h->privileged,
			       .die_with_parent = die_with_parent};
	_exit(join_and_run(s, &o, pidfd, -1));
}

pid_t enter_check(const struct ctr_spec *s, pid_t init, char **argv, int out_fd)
{
	struct hook_spec h = {.argv = argv};
	return enter_spawn(s, init, &h, true, out_fd);
}
