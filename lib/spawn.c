#include "spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

#include "util.h"

int spawn_detached(const char *path, char *const argv[], int pass, const int stdio[3], pid_t *pid)
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
	for (int i = 0; i < 3; i++) {
		if (stdio && stdio[i] >= 0)
			posix_spawn_file_actions_adddup2(&fa, stdio[i], i);
		else
			posix_spawn_file_actions_addopen(&fa, i, "/dev/null", O_RDWR, 0);
	}
	posix_spawn_file_actions_adddup2(&fa, pass, 3); /* dup2 clears close-on-exec */
	extern char **environ;
	int e = posix_spawn(pid, path, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return e;
}
