/* The attacker's probe for the security tests, built static so that it runs
 * inside the busybox test image and on the host alike. Each mode prints one
 * line per thing it tried, "WHAT RESULT", RESULT being "ok" or the errno's
 * name, so that a test can grep for exactly what it expects.
 *
 *   probe write PATH...          open(O_WRONLY) each path
 *   probe read PATH...           read each path; prints the byte count
 *   probe mknod PATH c|b MAJ MIN mknod, then open(O_RDWR) the node
 *   probe open PATH...           open(O_RDWR) an existing node
 *   probe tty                    ttyname(0), then TIOCSTI of "injected\n" on stdin
 *   probe ttysize                rows and columns of stdin's terminal
 *   probe setuid PATH            copy this binary to PATH, setuid root
 *   probe euid                   print the effective uid
 *   probe exe-mount PID          whether /proc/PID/exe is on a read-only mount
 *   probe write-exe PID SECONDS [EXE]
 *                                CVE-2019-5736's write: /proc/PID/exe opened
 *                                O_PATH, then O_WRONLY|O_TRUNC through that
 *                                handle (after the process is gone, if it
 *                                must be): a success empties the binary
 *   probe keyctl                 a syscall Docker's default seccomp profile
 *                                refuses (keyctl)
 *   probe loopback IFACE GWMAC PROTO PORT
 *                                send a UDP datagram or a TCP SYN to
 *                                127.0.0.1:PORT as a raw frame to the
 *                                gateway's MAC
 *   probe udp-listen IP PORT SECONDS
 *                                print "got N" for each datagram received
 *   probe tcp-listen IP PORT SECONDS
 *                                listen, print "accepted" for each connection
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char *result(int ok)
{
	if (ok)
		return "ok";
	static const struct {
		int e;
		const char *name;
	} names[] = {{EROFS, "EROFS"},   {EPERM, "EPERM"},     {EACCES, "EACCES"}, {ENOENT, "ENOENT"},
		     {EEXIST, "EEXIST"}, {ENXIO, "ENXIO"},     {EINVAL, "EINVAL"}, {ENOTTY, "ENOTTY"},
		     {EIO, "EIO"},       {ETXTBSY, "ETXTBSY"}, {ENODEV, "ENODEV"}, {EBUSY, "EBUSY"}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == errno)
			return names[i].name;
	return strerror(errno);
}

static int do_write(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		int fd = open(argv[i], O_WRONLY | O_CLOEXEC);
		printf("%s %s\n", argv[i], result(fd >= 0));
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

static int do_read(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			printf("%s %s\n", argv[i], result(0));
			continue;
		}
		struct stat st;
		char buf[4096];
		ssize_t n = 0;
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			/* a directory: count its entries other than . and .. */
			DIR *d = fdopendir(fd);
			long entries = 0;
			for (struct dirent *e; d && (e = readdir(d));)
				entries += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
			printf("%s entries %ld\n", argv[i], entries);
			if (d)
				closedir(d);
			continue;
		}
		n = read(fd, buf, sizeof(buf));
		if (n < 0)
			printf("%s %s\n", argv[i], result(0));
		else
			printf("%s bytes %zd\n", argv[i], n);
		close(fd);
	}
	return 0;
}

static int do_mknod(const char *path, const char *kind, const char *maj, const char *min)
{
	mode_t type = kind[0] == 'b' ? S_IFBLK : S_IFCHR;
	unlink(path);
	int r = mknod(path, type | 0600, makedev(atoi(maj), atoi(min)));
	printf("mknod %s\n", result(r == 0));
	if (r == 0) {
		int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		printf("open %s\n", result(fd >= 0));
		if (fd >= 0)
			close(fd);
		unlink(path);
	}
	return 0;
}

static int do_open(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		int fd = open(argv[i], O_RDWR | O_NONBLOCK | O_CLOEXEC);
		printf("%s %s\n", argv[i], result(fd >= 0));
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

static int do_tty(void)
{
	const char *name = ttyname(0);
	printf("ttyname %s\n", name ? name : result(0));
	/* a whole line, as an attacker would push a command into a shell */
	int ok = 1;
	for (const char *c = "injected\n"; *c && ok; c++)
		ok = ioctl(0, TIOCSTI, c) == 0;
	printf("tiocsti %s\n", result(ok));
	return 0;
}

static int do_ttysize(void)
{
	struct winsize ws;
	if (ioctl(0, TIOCGWINSZ, &ws) < 0) {
		printf("size %s\n", result(0));
		return 1;
	}
	printf("size %d %d\n", ws.ws_row, ws.ws_col);
	return 0;
}

/* Copy our own binary to path, owned by root and setuid: a container's root
 * can make such a file in its upper layer. */
static int do_setuid(const char *path)
{
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	char buf[65536];
	ssize_t n;
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return 1;
	int ok = out >= 0 && fchown(out, 0, 0) == 0 && fchmod(out, 04755) == 0;
	printf("setuid %s\n", result(ok));
	return ok ? 0 : 1;
}

static uint16_t csum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
	uint32_t s = 0;
	s += (ntohl(src) >> 16) + (ntohl(src) & 0xffff) + (ntohl(dst) >> 16) + (ntohl(dst) & 0xffff);
	return s + proto + (uint32_t)len;
}

static int iface_info(int fd, const char *ifname, int *index, uint8_t mac[6], uint32_t *addr)
{
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		return -1;
	*index = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || ioctl(s, SIOCGIFADDR, &ifr) < 0)
		return -1;
	close(s);
	*addr = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr;
	return 0;
}

/* A frame from us to 127.0.0.1:port, sent to the gateway's MAC: what the
 * kube-proxy CVE-2020-8558 pattern sends to reach a host's loopback. */
static int do_loopback(const char *ifname, const char *gwmac, const char *proto, int port)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_IP));
	if (fd < 0) {
		printf("socket %s\n", result(0));
		return 1;
	}
	int index;
	uint8_t mac[6], gw[6];
	uint32_t src;
	if (iface_info(fd, ifname, &index, mac, &src) < 0 ||
	    sscanf(gwmac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &gw[0], &gw[1], &gw[2], &gw[3], &gw[4], &gw[5]) != 6) {
		printf("interface %s\n", result(0));
		return 1;
	}
	bool tcp = strcmp(proto, "tcp") == 0;
	uint8_t frame[128] = {0};
	struct ether_header *eth = (void *)frame;
	memcpy(eth->ether_dhost, gw, 6);
	memcpy(eth->ether_shost, mac, 6);
	eth->ether_type = htons(ETH_P_IP);
	struct iphdr *ip = (void *)(frame + sizeof(*eth));
	const char payload[] = "probe";
	size_t l4 = tcp ? sizeof(struct tcphdr) : sizeof(struct udphdr) + sizeof(payload);
	*ip = (struct iphdr){.version = 4,
			     .ihl = 5,
			     .ttl = 64,
			     .protocol = tcp ? IPPROTO_TCP : IPPROTO_UDP,
			     .saddr = src,
			     .daddr = htonl(INADDR_LOOPBACK),
			     .tot_len = htons((uint16_t)(sizeof(*ip) + l4)),
			     .id = htons(4242)};
	ip->check = htons(csum(ip, sizeof(*ip), 0));
	uint8_t *seg = (uint8_t *)(ip + 1);
	uint16_t sport = 40000 + (uint16_t)(getpid() % 20000);
	if (tcp) {
		struct tcphdr *t = (void *)seg;
		*t = (struct tcphdr){.source = htons(sport),
				     .dest = htons((uint16_t)port),
				     .seq = htonl(12345),
				     .doff = 5,
				     .syn = 1,
				     .window = htons(64240)};
		t->check = htons(csum(t, sizeof(*t), pseudo_sum(src, ip->daddr, IPPROTO_TCP, sizeof(*t))));
	} else {
		struct udphdr *u = (void *)seg;
		*u = (struct udphdr){.source = htons(sport), .dest = htons((uint16_t)port), .len = htons((uint16_t)l4)};
		memcpy(u + 1, payload, sizeof(payload));
		u->check = htons(csum(u, l4, pseudo_sum(src, ip->daddr, IPPROTO_UDP, l4)));
	}
	struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_ifindex = index, .sll_halen = 6};
	memcpy(to.sll_addr, gw, 6);
	size_t len = sizeof(*eth) + sizeof(*ip) + l4;
	ssize_t sent = sendto(fd, frame, len, 0, (struct sockaddr *)&to, sizeof(to));
	printf("sent %s\n", result(sent == (ssize_t)len));
	return 0;
}

static int do_udp_listen(const char *ip, int port, int seconds)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, ip, &sa.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		printf("bind %s\n", result(0));
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	struct pollfd pf = {fd, POLLIN, 0};
	while (poll(&pf, 1, seconds * 1000) == 1) {
		char buf[2048];
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		printf("got %zd\n", n);
		fflush(stdout);
	}
	return 0;
}

/* Whether the binary a process runs lies on a read-only mount (where no
 * reopening of /proc/PID/exe can ever write to it). */
static int do_exe_mount(const char *pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%s/exe", pid);
	struct statvfs st;
	if (statvfs(path, &st) < 0) {
		printf("exe %s\n", result(0));
		return 1;
	}
	printf("exe %s\n", st.f_flag & ST_RDONLY ? "read-only" : "writable");
	return 0;
}

static int do_write_exe(const char *pid, int seconds, const char *want)
{
	char path[64], self[64], now[4096];
	snprintf(path, sizeof(path), "/proc/%s/exe", pid);
	/* a child just forked still runs its parent's binary: wait for its exec */
	for (int i = 0; want && i < seconds * 100; i++) {
		ssize_t n = readlink(path, now, sizeof(now) - 1);
		if (n > 0 && (now[n] = '\0', !strcmp(now, want)))
			break;
		usleep(10000);
	}
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		printf("open %s\n", result(0));
		return 1;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	for (int i = 0; i < seconds * 100; i++) {
		int w = open(self, O_WRONLY | O_TRUNC | O_CLOEXEC); /* as the exploit opens it */
		if (w >= 0) {
			close(w);
			printf("write ok\n");
			return 0;
		}
		if (errno != ETXTBSY)
			break;
		usleep(10000); /* running: the write waits for it to end */
	}
	printf("write %s\n", result(0));
	return 0;
}

/* keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, create) */
static int do_keyctl(void)
{
	long r = syscall(SYS_keyctl, 0, -3, 1);
	printf("keyctl %s\n", result(r >= 0));
	return 0;
}

static int do_tcp_listen(const char *ip, int port, int seconds)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, ip, &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		printf("listen %s\n", result(0));
		return 1;
	}
	printf("listening\n");
	struct pollfd pf = {fd, POLLIN, 0};
	while (poll(&pf, 1, seconds * 1000) == 1) {
		int c = accept(fd, NULL, NULL);
		printf("accepted\n");
		if (c >= 0)
			close(c);
	}
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && !strcmp(argv[1], "write"))
		return do_write(argc - 2, argv + 2);
	if (argc >= 3 && !strcmp(argv[1], "read"))
		return do_read(argc - 2, argv + 2);
	if (argc == 6 && !strcmp(argv[1], "mknod"))
		return do_mknod(argv[2], argv[3], argv[4], argv[5]);
	if (argc >= 3 && !strcmp(argv[1], "open"))
		return do_open(argc - 2, argv + 2);
	if (argc == 2 && !strcmp(argv[1], "tty"))
		return do_tty();
	if (argc == 2 && !strcmp(argv[1], "ttysize"))
		return do_ttysize();
	if (argc == 3 && !strcmp(argv[1], "setuid"))
		return do_setuid(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "euid")) {
		printf("euid %d\n", (int)geteuid());
		return 0;
	}
	if (argc == 6 && !strcmp(argv[1], "loopback"))
		return do_loopback(argv[2], argv[3], argv[4], atoi(argv[5]));
	if (argc == 5 && !strcmp(argv[1], "udp-listen"))
		return do_udp_listen(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "exe-mount"))
		return do_exe_mount(argv[2]);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "write-exe"))
		return do_write_exe(argv[2], atoi(argv[3]), argc == 5 ? argv[4] : NULL);
	if (argc == 2 && !strcmp(argv[1], "keyctl"))
		return do_keyctl();
	if (argc == 5 && !strcmp(argv[1], "tcp-listen"))
		return do_tcp_listen(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "probe: unknown mode (see tests/helpers/probe.c)\n");
	return 2;
}
