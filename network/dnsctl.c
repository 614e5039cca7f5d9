#include "dnsctl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "../lib/fs.h"
#include "../lib/spawn.h"
#include "../runtime/ctr.h"

/* A connection to the responder, or -1 when none listens. */
static int dial(const char *root)
{
	_cleanup_free_ char *path = xasprintf("%s/net/dns/sock", root);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends cmd and reads the answer; then, for "exit", the end of the
 * connection, which comes when the responder's process is gone. */
static int ask(int fd, const char *cmd, struct berr **err)
{
	if (write(fd, cmd, strlen(cmd)) < 0)
		return berr_sys(err, errno, "cannot talk to berth's DNS responder");
	char buf[16];
	struct pollfd pf = {fd, POLLIN, 0};
	for (int rounds = 0; rounds < 2; rounds++) {
		if (poll(&pf, 1, 5000) != 1)
			return berr_set(err, ETIMEDOUT, "berth's DNS responder does not answer");
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0 || !streq(cmd, "exit"))
			return n < 0 ? berr_sys(err, errno, "cannot talk to berth's DNS responder") : 0;
	}
	return 0;
}

/* Whether a responder serves this root. */
static bool dnsctl_running(const char *root)
{
	int fd = dial(root);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static int spawn(const char *root, struct berr **err)
{
	_cleanup_free_ char *shim = ctr_shim_path();
	_cleanup_free_ char *log = xasprintf("%s/net/dns/log", root);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return berr_sys(err, errno, "cannot start berth's DNS responder");
	int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	char *argv[] = {"berth-shim", "dns", (char *)root, "3", NULL};
	pid_t pid;
	int e = spawn_detached(shim, argv, p[1], (const int[]){-1, -1, out}, &pid);
	if (out >= 0)
		close(out);
	close(p[1]);
	if (e != 0) {
		close(p[0]);
		return berr_sys(err, e, "cannot start berth's DNS responder");
	}
	struct pollfd pf = {p[0], POLLIN, 0};
	char c = 0;
	bool ok = poll(&pf, 1, 5000) == 1 && read(p[0], &c, 1) == 1;
	close(p[0]);
	/* no byte: it failed, or another responder took this root first */
	if (!ok && !dnsctl_running(root))
		return berr_set(err, EIO, "berth's DNS responder did not start; see %s", log);
	return 0;
}

int dnsctl_update(const char *root, const char *records, bool running, struct berr **err)
{
	_cleanup_free_ char *path = xasprintf("%s/net/dns/records", root);
	/* 0644: the responder reads it as nobody; the state root above is 0700 */
	int r = fs_write_replace(path, records, strlen(records), 0644, err);
	if (r < 0)
		return r;
	int fd = dial(root);
	if (fd < 0)
		return running ? spawn(root, err) : 0;
	r = ask(fd, running ? "reload" : "exit", err);
	close(fd);
	if (r == 0 && !running) {
		_cleanup_free_ char *sock = xasprintf("%s/net/dns/sock", root);
		unlink(sock);
	}
	return r;
}

int dnsctl_ensure(const char *root, struct berr **err)
{
	_cleanup_free_ char *path = xasprintf("%s/net/dns/records", root);
	struct stat st;
	/* an empty records file or none: no network exists, nothing to serve */
	if (stat(path, &st) < 0 || st.st_size == 0 || dnsctl_running(root))
		return 0;
	return spawn(root, err);
}
