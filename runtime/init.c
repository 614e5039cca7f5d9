/* berth-init: PID 1 inside a container with init: true (the shim's binary
 * bound in as /sbin/docker-init's counterpart). A minimal init: it starts
 * the command, forwards signals to it, reaps every orphan, and exits with
 * the command's status. */
#include "init.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/util.h"

static pid_t init_child;

static void forward(int sig)
{
	if (init_child > 0)
		kill(init_child, sig);
}

int init_main(int argc, char **argv)
{
	int first = 1;
	if (first < argc && streq(argv[first], "--"))
		first++;
	if (first >= argc) {
		fprintf(stderr, "berth-init: no command given\n");
		return 125;
	}
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		signal(sigs[i], forward);
	init_child = fork();
	if (init_child == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
			signal(sigs[i], SIG_DFL);
		execvp(argv[first], argv + first);
		fprintf(stderr, "berth-init: exec %s: %s\n", argv[first], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	for (;;) {
		int status;
		pid_t pid = wait(&status);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			return 0;
		if (pid == init_child)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
}
