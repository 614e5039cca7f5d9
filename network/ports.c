#include "ports.h"

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/fs.h"

bool port_free(uint32_t ip, uint16_t port, bool udp)
{
	int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true; /* nothing to learn; the kernel will say so later */
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
	bool ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno != EADDRINUSE;
	close(fd);
	return ok;
}

/* The inode of a socket bound to port in /proc/net/{tcp,udp}{,6}. */
static unsigned long socket_inode(uint16_t port, bool udp)
{
	const char *files[] = {udp ? "/proc/net/udp" : "/proc/net/tcp", udp ? "/proc/net/udp6" : "/proc/net/tcp6"};
	for (size_t f = 0; f < 2; f++) {
		FILE *in = fopen(files[f], "re");
		char line[512];
		while (in && fgets(line, sizeof(line), in)) {
			char local[64];
			unsigned st;
			unsigned long inode;
			if (sscanf(line, " %*d: %63s %*s %x %*s %*s %*s %*d %*d %lu", local, &st, &inode) != 3)
				continue;
			const char *colon = strrchr(local, ':');
			if (!colon || strtoul(colon + 1, NULL, 16) != port || (!udp && st != 0x0A) || inode == 0)
				continue;
			fclose(in);
			return inode;
		}
		if (in)
			fclose(in);
	}
	return 0;
}

char *port_holder(uint16_t port, bool udp)
{
	unsigned long inode = socket_inode(port, udp);
	if (!inode)
		return NULL;
	char want[64];
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	_cleanup_(closedirp) DIR *proc = opendir("/proc");
	struct dirent *d;
	char *found = NULL;
	while (proc && !found && (d = readdir(proc))) {
		char *end;
		long pid = strtol(d->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		_cleanup_free_ char *fddir = xasprintf("/proc/%ld/fd", pid);
		_cleanup_(closedirp) DIR *fds = opendir(fddir);
		struct dirent *f;
		while (fds && !found && (f = readdir(fds))) {
			_cleanup_free_ char *link = xasprintf("%s/%s", fddir, f->d_name);
			char target[64];
			ssize_t n = readlink(link, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			if (!streq(target, want))
				continue;
			_cleanup_free_ char *commp = xasprintf("/proc/%ld/comm", pid);
			_cleanup_free_ char *comm = NULL;
			size_t len;
			if (fs_read_file(commp, 256, &comm, &len, NULL) == 0 && len && comm[len - 1] == '\n')
				comm[len - 1] = '\0';
			found = xasprintf("process %s (pid %ld)", comm ? comm : "?", pid);
		}
	}
	return found;
}

int port_ephemeral(uint32_t ip, bool udp, bool (*taken)(uint16_t port, bool udp, void *data), void *data, uint16_t *out,
		   struct berr **err)
{
	unsigned lo = 32768, hi = 60999;
	_cleanup_free_ char *range = NULL;
	size_t len;
	if (fs_read_file("/proc/sys/net/ipv4/ip_local_port_range", 64, &range, &len, NULL) == 0)
		sscanf(range, "%u %u", &lo, &hi);
	if (lo < 1024 || hi > 65535 || lo > hi)
		lo = 32768, hi = 60999;
	unsigned n = hi - lo + 1, start = 0;
	if (getrandom(&start, sizeof(start), 0) != sizeof(start))
		start = (unsigned)getpid();
	for (unsigned i = 0; i < n; i++) {
		uint16_t p = (uint16_t)(lo + (start + i) % n);
		if (!taken(p, udp, data) && port_free(ip, p, udp)) {
			*out = p;
			return 0;
		}
	}
	return berr_set(err, EADDRINUSE, "no free host port left in %u-%u", lo, hi);
}
