#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/fdpass.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../lib/spawn.h"
#include "console.h"
#include "ctr.h"
#include "events.h"

static void close_all(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* A pidfd for the container's init: the pid from the state file, checked
 * to be in the container's cgroup while the pidfd holds it. */
static int init_pidfd(const char *name, const char *cg, pid_t pid, struct berr **err)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return berr_sys(err, errno, "container %s: cannot reach its process %d", name, (int)pid);
	_cleanup_free_ char *path = xasprintf("/proc/%d/cgroup", (int)pid);
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *mine = xasprintf("/%s%s\n", strchr(cg, '/') ? "" : "berth/", cg);
	size_t len;
	bool ok = fs_read_file(path, 1 << 16, &text, &len, NULL) == 0 && strstr(text, mine) &&
		  syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0) == 0;
	if (!ok) {
		close(fd);
		return berr_set(err, ESRCH, "container %s is not running (its process %d is gone)", name, (int)pid);
	}
	return fd;
}

static char *opts_json(const struct exec_opts *o)
{
	/* the terminal's size, set before the command runs (not after, by the
	 * relay, when the command may have asked already) */
	struct winsize ws = {0};
	if (o->tty)
		ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
	_cleanup_(json_releasep) json_t *j = json_pack(
		"{s:o, s:o, s:o, s:o, s:b, s:i, s:i}", "argv", strv_json(o->argv), "env",
		o->env ? strv_json(o->env) : json_array(), "user", o->user ? json_string(o->user) : json_null(),
		"workdir", o->workdir ? json_string(o->workdir) : json_null(), "privileged", o->privileged, "rows",
		(int)ws.ws_row, "cols", (int)ws.ws_col);
	char *s = json_dumps(j, JSON_COMPACT);
	return s;
}

/* After the terminal closes: what berth-shim enter said before it had one. */
static void copy_errors(int fd)
{
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(STDERR_FILENO, buf, (size_t)n) < 0)
			break;
}

int ctr_exec(const char *root, const char *name, const struct exec_opts *o, int *status, struct berr **err)
{
	/* running, monitored or not: a container whose shim died still runs */
	struct ctr_state st;
	pid_t target = 0;
	if (ctr_state(root, name, &st, NULL) == 0) {
		target = st.status == ST_RUNNING ? st.pid : 0;
		state_free(&st);
	}
	if (target <= 0)
		return berr_set(err, ESRCH, "container %s is not running (start it with: berth start)", name);
	_cleanup_free_ char *dir = ctr_dir(root, name);
	_cleanup_free_ char *spec_path = path_join(dir, "spec.json");
	_cleanup_free_ char *cg = ctr_cgroup(root, name);
	_cleanup_close_ int pidfd = init_pidfd(name, cg, target, err);
	if (pidfd < 0)
		return pidfd;
	/* the command's stdio: a socket for its terminal's master (and a pipe
	 * for errors before it has one), or pipes */
	int sock[2] = {-1, -1}, in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
	bool tty = o->tty && !o->detach;
	int made = o->detach ? 0
			     : (tty ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock)
				    : pipe2(in, O_CLOEXEC) | pipe2(out, O_CLOEXEC)) |
				       pipe2(errp, O_CLOEXEC);
	if (made < 0) {
		int e = errno;
		close_all((int[]){sock[0], sock[1], in[0], in[1], out[0], out[1], errp[0], errp[1]}, 8);
		return berr_sys(err, e, "cannot set up the stdio of exec in %s", name);
	}
	_cleanup_free_ char *shim = ctr_shim_path();
	_cleanup_free_ char *opts = opts_json(o);
	events_add(root, name, "exec_create", NULL);
	char *argv[] = {"berth-shim", "enter", spec_path, opts, NULL};
	int fds[] = {in[0], out[1], errp[1], pidfd, sock[1]};
	pid_t pid;
	int e = spawn_fds(shim, argv, fds, tty ? 5 : 4, o->detach, &pid);
	close_all((int[]){sock[1], in[0], out[1], errp[1]}, 4);
	if (e != 0) {
		close_all((int[]){sock[0], in[1], out[0], errp[0]}, 4);
		return berr_set(err, e, "cannot exec in %s: berth-shim: %s", name, strerror(e));
	}
	if (o->detach) {
		*status = 0;
		return 0;
	}
	int lost = 0;
	if (tty) {
		int master = fd_recv(sock[0]); /* none: it failed, and said why on the error pipe */
		close(sock[0]);
		if (master >= 0) {
			lost = console_relay(master);
			close(master);
		}
		copy_errors(errp[0]);
		close(errp[0]);
	} else {
		lost = console_relay_pipes(in[1], out[0], errp[0]);
	}
	int ws;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	return lost < 0 ? berr_sys(err, -lost, "cannot write the output of the command in %s", name) : 0;
}
