#include "spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

#include "util.h"

int spawn_detached(const char *path, char *const argv[], int pass, int err_fd, bool keep_stdio, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	if (!keep_stdio) {
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_RDWR, 0);
		if (err_fd < 0)
			posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_RDWR, 0);
	}
	if (err_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	posix_spawn_file_actions_adddup2(&fa, pass, 3); /* dup2 clears close-on-exec */
	extern char **environ;
	int e = posix_spawn(pid, path, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return e;
}
