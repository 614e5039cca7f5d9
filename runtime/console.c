#include "console.h"

#include "../lib/fdpass.h"
#include "../lib/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

int console_new(int *slave)
{
	int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return -errno;
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 ||
	    (*slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		int e = errno;
		close(master);
		return -e;
	}
	return master;
}

int console_take(int slave, int with_stdin)
{
	if (ioctl(slave, TIOCSCTTY, 0) < 0 || (with_stdin && dup2(slave, 0) < 0) || dup2(slave, 1) < 0 ||
	    dup2(slave, 2) < 0)
		return -errno;
	return 0;
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

/* One read of at most max bytes from `from`, all of it written to `to`;
 * false at EOF or error. With werr (the user's output): a failed write
 * is kept there and what comes after is read and dropped, so that the
 * command never blocks on output nobody can take. */
static bool pass(int from, int to, size_t max, int *werr)
{
	char buf[8192];
	ssize_t n;
	while ((n = read(from, buf, max < sizeof(buf) ? max : sizeof(buf))) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return false;
	if (werr && *werr)
		return true;
	if (fs_write_all(to, buf, (size_t)n))
		return true;
	if (werr)
		*werr = errno ? errno : EIO;
	return werr != NULL;
}

ssize_t console_make_raw(int fd, struct termios *saved, char *pending, size_t cap)
{
	if (tcgetattr(fd, saved) < 0)
		return -1;
	size_t n = 0;
	struct pollfd p = {fd, POLLIN, 0};
	/* in canonical mode, poll says readable only for a whole line or an
	 * end of file, so these reads do not wait */
	while ((saved->c_lflag & ICANON) && n < cap && poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
		ssize_t r = read(fd, pending + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (r == 0) { /* the user's ^D, as the byte it was */
			pending[n++] = (char)(saved->c_cc[VEOF] ? saved->c_cc[VEOF] : 4);
			break;
		}
		n += (size_t)r;
	}
	struct termios raw = *saved;
	cfmakeraw(&raw);
	tcsetattr(fd, TCSANOW, &raw);
	return (ssize_t)n;
}

int console_relay(int master)
{
	int werr = 0;
	struct termios saved;
	char typed[4096];
	ssize_t ntyped = console_make_raw(STDIN_FILENO, &saved, typed, sizeof(typed));
	bool term = ntyped >= 0;
	if (ntyped > 0)
		fs_write_all(master, typed, (size_t)ntyped);
	copy_size(STDIN_FILENO, master);
	struct sigaction sa = {.sa_handler = on_winch}, old, oldpipe, ign = {.sa_handler = SIG_IGN};
	sigaction(SIGWINCH, &sa, &old);
	sigaction(SIGPIPE, &ign, &oldpipe);
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
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !pass(master, STDOUT_FILENO, 8192, &werr))
			break;
		if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && !pass(STDIN_FILENO, master, 8192, NULL))
			in_open = false;
	}
	sigaction(SIGWINCH, &old, NULL);
	sigaction(SIGPIPE, &oldpipe, NULL);
	if (term)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return -werr;
}

int console_relay_pipes(int in_w, int out_r, int err_r)
{
	int werr = 0;
	struct sigaction ign = {.sa_handler = SIG_IGN}, oldpipe;
	sigaction(SIGPIPE, &ign, &oldpipe);
	/* stdin is read only once in_w has room (a pipe slot: PIPE_BUF at
	 * least), so a command that never reads its stdin cannot stall us */
	bool room = false;
	while (out_r >= 0 || err_r >= 0) {
		struct pollfd p[3] = {{out_r, POLLIN, 0}, {err_r, POLLIN, 0}, {-1, 0, 0}};
		if (in_w >= 0)
			p[2] = room ? (struct pollfd){STDIN_FILENO, POLLIN, 0} : (struct pollfd){in_w, POLLOUT, 0};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !pass(out_r, STDOUT_FILENO, 8192, &werr)) {
			close(out_r);
			out_r = -1;
		}
		if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && !pass(err_r, STDERR_FILENO, 8192, &werr)) {
			close(err_r);
			err_r = -1;
		}
		short ev = p[2].revents;
		if (in_w < 0 || !ev)
			continue;
		if (!room && (ev & POLLOUT)) {
			room = true;
		} else if (ev & (POLLERR | POLLNVAL) || (room && !pass(STDIN_FILENO, in_w, PIPE_BUF, NULL))) {
			close(in_w);
			in_w = -1;
		} else {
			room = false;
		}
	}
	if (in_w >= 0)
		close(in_w);
	sigaction(SIGPIPE, &oldpipe, NULL);
	return -werr;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int console_link_open(struct console_link *l, bool tty)
{
	*l = (struct console_link){.tty = tty, .shim = {-1, -1, -1}, .sock = -1, .in_w = -1, .out_r = -1, .err_r = -1};
	if (tty) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			return -errno;
		l->sock = sv[0];
		l->shim[0] = sv[1];
		return 0;
	}
	int in[2], out[2], err[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(out, O_CLOEXEC) < 0) {
		int e = errno;
		close(in[0]), close(in[1]);
		return -e;
	}
	if (pipe2(err, O_CLOEXEC) < 0) {
		int e = errno;
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		return -e;
	}
	*l = (struct console_link){
		.shim = {in[0], out[1], err[1]}, .sock = -1, .in_w = in[1], .out_r = out[0], .err_r = err[0]};
	return 0;
}

void console_link_close(struct console_link *l)
{
	int *fds[] = {&l->shim[0], &l->shim[1], &l->shim[2], &l->sock, &l->in_w, &l->out_r, &l->err_r};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		close_fd(fds[i]);
}

int console_link_relay(struct console_link *l)
{
	int r = 0;
	for (int i = 0; i < 3; i++)
		close_fd(&l->shim[i]);
	if (l->tty) {
		int master = fd_recv(l->sock);
		if (master >= 0) {
			r = console_relay(master);
			close(master);
		}
	} else {
		r = console_relay_pipes(l->in_w, l->out_r, l->err_r);
		l->in_w = l->out_r = l->err_r = -1; /* closed by the relay */
	}
	console_link_close(l);
	return r;
}
