#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"

int spawn_fds(const char *path, char *const argv[], const int *fds, int nfds, bool new_session, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, (new_session ? POSIX_SPAWN_SETSID : 0) | POSIX_SPAWN_SETSIGMASK |
						POSIX_SPAWN_SETSIGDEF);
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	/* copies above every target first, so that no dup2 clobbers a source */
	int high[16];
	for (int i = 0; i < nfds && i < 16; i++)
		high[i] = fds[i] >= 0 ? fcntl(fds[i], F_DUPFD_CLOEXEC, 16) : -1;
	for (int i = 0; i < nfds && i < 16; i++) {
		if (high[i] >= 0)
			posix_spawn_file_actions_adddup2(&fa, high[i], i); /* dup2 clears close-on-exec */
		else if (i < 3)
			posix_spawn_file_actions_addopen(&fa, i, "/dev/null", O_RDWR, 0);
	}
	extern char **environ;
	int e = posix_spawn(pid, path, &fa, &attr, argv, environ);
	for (int i = 0; i < nfds && i < 16; i++)
		if (high[i] >= 0)
			close(high[i]);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return e;
}

int spawn_detached(const char *path, char *const argv[], int pass, const int stdio[3], pid_t *pid)
{
	int fds[4] = {stdio ? stdio[0] : -1, stdio ? stdio[1] : -1, stdio ? stdio[2] : -1, pass};
	return spawn_fds(path, argv, fds, 4, true, pid);
}

int fork_call(int (*fn)(void *arg, struct berr **err), void *arg, struct berr **err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return berr_sys(err, errno, "cannot make a pipe");
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return berr_sys(err, errno, "cannot fork");
	}
	if (pid == 0) {
		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		struct berr *e = NULL;
		if (fn(arg, &e) < 0) {
			ssize_t w = write(p[1], e->msg, strlen(e->msg));
			(void)w;
			_exit(1);
		}
		_exit(0);
	}
	close(p[1]);
	struct buf msg = {0};
	char buf[1024];
	for (ssize_t n; (n = read(p[0], buf, sizeof(buf))) > 0;)
		buf_add(&msg, buf, (size_t)n);
	close(p[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	int r = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		r = berr_set(err, EIO, "%s", msg.s ? msg.s : "the child process failed");
	buf_free(&msg);
	return r;
}
