#include "dnsd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "../lib/fs.h"
#include "dnsmsg.h"

#define MAX_LISTEN 256
#define MAX_UPSTREAM 3
#define PENDING 128
#define FORWARD_TIMEOUT_MS 2000 /* then SERVFAIL, so that clients move on */
#define UPSTREAM_RETRY_MS 5000  /* an upstream that refused is asked again after this */

struct rec {
	uint32_t scope, ip; /* scope: a network's gateway, or one asker's own address */
	char *name;
};

/* A container's address and a network (by gateway) it is on. */
struct member {
	uint32_t addr, gateway;
};

struct listener {
	uint32_t addr;
	int fd;
};

struct pending {
	uint16_t id;
	int fd; /* -1: free */
	struct sockaddr_in client;
	int64_t at;
	struct dns_query q; /* as the client sent it, for a SERVFAIL */
};

static struct {
	char *records_path;
	struct rec *recs;
	size_t nrecs;
	struct member *members;
	size_t nmembers;
	struct listener ls[MAX_LISTEN];
	size_t nls;
	struct sockaddr_in up[MAX_UPSTREAM];
	int upfd[MAX_UPSTREAM]; /* connected, so that a closed port is told at once */
	int64_t down_until[MAX_UPSTREAM];
	size_t nup;
	struct pending pend[PENDING];
	uint16_t next_id;
	unsigned rot;
} D;

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	if (x->scope != y->scope)
		return x->scope < y->scope ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool parse_ip(const char *s, uint32_t *ip)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*ip = ntohl(a.s_addr);
	return true;
}

static int open_listener(uint32_t addr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53), .sin_addr.s_addr = htonl(addr)};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		char a[INET_ADDRSTRLEN];
		fprintf(stderr, "berth-dns: cannot listen on %s:53: %s\n", inet_ntop(AF_INET, &sa.sin_addr, a, sizeof(a)),
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads the records file and listens on exactly its gateways. */
static void reload(void)
{
	for (size_t i = 0; i < D.nrecs; i++)
		free(D.recs[i].name);
	free(D.recs);
	D.recs = NULL;
	D.nrecs = 0;
	free(D.members);
	D.members = NULL;
	D.nmembers = 0;
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (fs_read_file(D.records_path, 64u << 20, &text, &len, NULL) < 0)
		text = xstrdup("");
	uint32_t want[MAX_LISTEN];
	size_t nwant = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char a[64], b[256], c[64];
		uint32_t x, y;
		if (sscanf(line, "listen %63s", a) == 1 && parse_ip(a, &x)) {
			if (nwant < MAX_LISTEN)
				want[nwant++] = x;
		} else if (sscanf(line, "member %63s %63s", a, c) == 2 && parse_ip(a, &x) && parse_ip(c, &y)) {
			D.members = xrealloc(D.members, (D.nmembers + 1) * sizeof(*D.members));
			D.members[D.nmembers++] = (struct member){x, y};
		} else if (sscanf(line, "%63s %255s %63s", a, b, c) == 3 && parse_ip(a, &x) && parse_ip(c, &y)) {
			D.recs = xrealloc(D.recs, (D.nrecs + 1) * sizeof(*D.recs));
			D.recs[D.nrecs++] = (struct rec){x, y, xstrdup(b)};
		}
	}
	if (D.nrecs > 1)
		qsort(D.recs, D.nrecs, sizeof(*D.recs), rec_cmp);
	if (D.nmembers > 1)
		qsort(D.members, D.nmembers, sizeof(*D.members), member_cmp);
	/* close what went, open what came */
	for (size_t i = 0; i < D.nls;) {
		bool keep = false;
		for (size_t k = 0; k < nwant; k++)
			keep |= want[k] == D.ls[i].addr;
		if (keep) {
			i++;
			continue;
		}
		close(D.ls[i].fd);
		D.ls[i] = D.ls[--D.nls];
	}
	for (size_t k = 0; k < nwant; k++) {
		bool have = false;
		for (size_t i = 0; i < D.nls; i++)
			have |= D.ls[i].addr == want[k];
		int fd = have ? -1 : open_listener(want[k]);
		if (fd >= 0)
			D.ls[D.nls++] = (struct listener){want[k], fd};
	}
}

/* The addresses of name in scope, in *first..*first+*n of D.recs. */
static bool lookup(uint32_t scope, const char *name, size_t *first, size_t *n)
{
	struct rec key = {scope, 0, (char *)name};
	struct rec *hit = D.nrecs ? bsearch(&key, D.recs, D.nrecs, sizeof(*D.recs), rec_cmp) : NULL;
	if (!hit)
		return false;
	size_t lo = (size_t)(hit - D.recs), hi = lo;
	while (lo > 0 && rec_cmp(&D.recs[lo - 1], &key) == 0)
		lo--;
	while (hi + 1 < D.nrecs && rec_cmp(&D.recs[hi + 1], &key) == 0)
		hi++;
	*first = lo;
	*n = hi - lo + 1;
	return true;
}

static void reply(int fd, const struct sockaddr_in *to, const struct dns_query *q, int rcode, const uint32_t *ips,
		  size_t n)
{
	uint8_t out[512];
	int len;
	/* as many addresses as fit a plain UDP answer */
	while ((len = dns_build_answer(q, rcode, ips, n, 0, out, sizeof(out))) == -ENOSPC && n > 0)
		n--;
	if (len > 0)
		sendto(fd, out, (size_t)len, 0, (const struct sockaddr *)to, sizeof(*to));
}

static bool upstream_alive(void)
{
	int64_t now = mono_ms();
	for (size_t i = 0; i < D.nup; i++)
		if (D.upfd[i] >= 0 && D.down_until[i] <= now)
			return true;
	return false;
}

static void forward(int fd, const struct sockaddr_in *client, const struct dns_query *q, uint8_t *pkt, size_t len)
{
	uint16_t id = D.next_id++;
	struct pending *p = &D.pend[id % PENDING];
	if (p->fd >= 0) /* the oldest question waited long enough */
		reply(p->fd, &p->client, &p->q, DNS_RCODE_SERVFAIL, NULL, 0);
	*p = (struct pending){id, fd, *client, mono_ms(), *q};
	pkt[0] = (uint8_t)(id >> 8);
	pkt[1] = (uint8_t)id;
	for (size_t i = 0; i < D.nup; i++)
		if (D.upfd[i] >= 0 && send(D.upfd[i], pkt, len, 0) < 0 && errno == ECONNREFUSED)
			D.down_until[i] = mono_ms() + UPSTREAM_RETRY_MS;
}

/* The networks the asker is on (by gateway); an address berth does not
 * know asks as a member of the network it reaches us on. */
static size_t scopes_of(uint32_t src, uint32_t via, uint32_t *out, size_t cap)
{
	struct member key = {src, 0};
	struct member *hit = D.nmembers ? bsearch(&key, D.members, D.nmembers, sizeof(key), member_cmp) : NULL;
	size_t n = 0;
	if (hit) {
		size_t lo = (size_t)(hit - D.members);
		while (lo > 0 && D.members[lo - 1].addr == src)
			lo--;
		for (size_t i = lo; i < D.nmembers && D.members[i].addr == src && n < cap; i++)
			out[n++] = D.members[i].gateway;
	}
	if (n == 0)
		out[n++] = via;
	return n;
}

static void add_ips(uint32_t scope, const char *name, uint32_t *ips, size_t *k, size_t cap)
{
	size_t first, count;
	if (!lookup(scope, name, &first, &count))
		return;
	unsigned rot = D.rot;
	for (size_t i = 0; i < count && *k < cap; i++) {
		uint32_t ip = D.recs[first + (i + rot) % count].ip;
		bool dup = false;
		for (size_t j = 0; j < *k; j++)
			dup |= ips[j] == ip;
		if (!dup)
			ips[(*k)++] = ip;
	}
}

static void on_query(struct listener *l)
{
	uint8_t pkt[1500];
	struct sockaddr_in src;
	socklen_t sl = sizeof(src);
	ssize_t n = recvfrom(l->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&src, &sl);
	struct dns_query q;
	if (n <= 0 || dns_parse_query(pkt, (size_t)n, &q) < 0)
		return;
	uint32_t asker = ntohl(src.sin_addr.s_addr), ips[64], scopes[32];
	size_t k = 0;
	/* links of this one container first, then the names of its networks */
	add_ips(asker, q.name, ips, &k, 64);
	size_t ns = scopes_of(asker, l->addr, scopes, 32);
	for (size_t i = 0; k == 0 && i < ns; i++)
		add_ips(scopes[i], q.name, ips, &k, 64);
	if (q.type == DNS_TYPE_A) /* the next A query starts one further along */
		D.rot++;
	if (k > 0) /* AAAA and other types: the name exists, without such records */
		reply(l->fd, &src, &q, DNS_RCODE_OK, ips, q.type == DNS_TYPE_A ? k : 0);
	else if (!strchr(q.name, '.') || D.nup == 0)
		reply(l->fd, &src, &q, DNS_RCODE_NXDOMAIN, NULL, 0);
	else if (!upstream_alive())
		reply(l->fd, &src, &q, DNS_RCODE_SERVFAIL, NULL, 0);
	else
		forward(l->fd, &src, &q, pkt, (size_t)n);
}

static void fail_pending(void)
{
	for (size_t i = 0; i < PENDING; i++) {
		struct pending *p = &D.pend[i];
		if (p->fd >= 0)
			reply(p->fd, &p->client, &p->q, DNS_RCODE_SERVFAIL, NULL, 0);
		p->fd = -1;
	}
}

static void on_upstream(size_t u)
{
	uint8_t pkt[4096];
	ssize_t n = recv(D.upfd[u], pkt, sizeof(pkt), 0);
	if (n < 0 && errno == ECONNREFUSED) {
		/* nothing listens there: while no upstream does, answer SERVFAIL at once */
		D.down_until[u] = mono_ms() + UPSTREAM_RETRY_MS;
		if (!upstream_alive())
			fail_pending();
		return;
	}
	if (n < 12)
		return;
	D.down_until[u] = 0;
	uint16_t id = (uint16_t)(pkt[0] << 8 | pkt[1]);
	struct pending *p = &D.pend[id % PENDING];
	if (p->fd < 0 || p->id != id)
		return;
	pkt[0] = (uint8_t)(p->q.id >> 8);
	pkt[1] = (uint8_t)p->q.id;
	sendto(p->fd, pkt, (size_t)n, 0, (struct sockaddr *)&p->client, sizeof(p->client));
	p->fd = -1; /* the first answer wins */
}

/* Questions the upstreams left unanswered get SERVFAIL; returns how
 * many still wait. */
static size_t expire(void)
{
	size_t waiting = 0;
	int64_t now = mono_ms();
	for (size_t i = 0; i < PENDING; i++) {
		struct pending *p = &D.pend[i];
		if (p->fd < 0)
			continue;
		if (now - p->at < FORWARD_TIMEOUT_MS) {
			waiting++;
			continue;
		}
		reply(p->fd, &p->client, &p->q, DNS_RCODE_SERVFAIL, NULL, 0);
		p->fd = -1;
	}
	return waiting;
}

static void add_upstream(const char *s)
{
	char host[64];
	unsigned port = 53;
	uint32_t ip;
	if (D.nup >= MAX_UPSTREAM || sscanf(s, "%63[0-9.]:%u", host, &port) < 1 || !parse_ip(host, &ip) || port == 0 ||
	    port > 65535)
		return;
	D.up[D.nup++] = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					     .sin_addr.s_addr = htonl(ip)};
}

/* nameserver lines that are not a loopback stub. */
static void upstreams_from(const char *path)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (fs_read_file(path, 1 << 16, &text, &len, NULL) < 0)
		return;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char a[64];
		uint32_t ip;
		if (sscanf(line, " nameserver %63s", a) == 1 && parse_ip(a, &ip) && ip >> 24 != 127)
			add_upstream(a);
	}
}

static void find_upstreams(void)
{
	const char *env = getenv("BERTH_DNS_UPSTREAM");
	if (env) {
		_cleanup_free_ char *copy = xstrdup(env);
		char *save = NULL;
		for (char *s = strtok_r(copy, ", ", &save); s; s = strtok_r(NULL, ", ", &save))
			add_upstream(s);
		return;
	}
	upstreams_from("/etc/resolv.conf");
	if (D.nup == 0) /* systemd-resolved's stub: its own upstreams are here */
		upstreams_from("/run/systemd/resolve/resolv.conf");
}

static int control_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		fprintf(stderr, "berth-dns: cannot listen on %s: %s\n", path, strerror(errno));
		return -1;
	}
	return fd;
}

/* One command per connection: "reload" or "exit". */
static bool on_control(int lfd, const char *sock_path)
{
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return true;
	struct pollfd pf = {c, POLLIN, 0};
	char cmd[32] = {0};
	if (poll(&pf, 1, 1000) == 1 && read(c, cmd, sizeof(cmd) - 1) > 0 && streq(cmd, "exit")) {
		unlink(sock_path);
		if (write(c, "bye", 3) < 0)
			return false;
		return false; /* c closes when the process is gone, which the caller waits for */
	}
	reload();
	if (write(c, "ok", 2) < 0)
		fprintf(stderr, "berth-dns: cannot answer a reload: %s\n", strerror(errno));
	close(c);
	return true;
}

int dnsd_main(const char *root, int ready_fd)
{
	signal(SIGPIPE, SIG_IGN);
	_cleanup_free_ char *lock_path = xasprintf("%s/net/dns/lock", root);
	_cleanup_free_ char *sock_path = xasprintf("%s/net/dns/sock", root);
	D.records_path = xasprintf("%s/net/dns/records", root);
	int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0)
		return 0; /* another responder serves this root */
	int ctl = control_socket(sock_path);
	if (ctl < 0)
		return 1;
	for (size_t i = 0; i < PENDING; i++)
		D.pend[i].fd = -1;
	find_upstreams();
	for (size_t i = 0; i < D.nup; i++) {
		D.upfd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (D.upfd[i] >= 0 && connect(D.upfd[i], (struct sockaddr *)&D.up[i], sizeof(D.up[i])) < 0) {
			close(D.upfd[i]);
			D.upfd[i] = -1;
		}
	}
	D.next_id = (uint16_t)(mono_ms() ^ getpid());
	reload();
	if (ready_fd >= 0) {
		if (write(ready_fd, "1", 1) < 0)
			fprintf(stderr, "berth-dns: cannot report ready: %s\n", strerror(errno));
		close(ready_fd);
	}
	size_t waiting = 0;
	for (;;) {
		struct pollfd pf[1 + MAX_UPSTREAM + MAX_LISTEN];
		size_t n = 0;
		pf[n++] = (struct pollfd){ctl, POLLIN, 0};
		for (size_t i = 0; i < MAX_UPSTREAM; i++) /* fd -1 is skipped by poll */
			pf[n++] = (struct pollfd){i < D.nup ? D.upfd[i] : -1, POLLIN, 0};
		for (size_t i = 0; i < D.nls; i++)
			pf[n++] = (struct pollfd){D.ls[i].fd, POLLIN, 0};
		if (poll(pf, n, waiting ? 250 : -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (size_t i = 0; i < MAX_UPSTREAM; i++)
			if (pf[1 + i].revents & (POLLIN | POLLERR))
				on_upstream(i);
		size_t nls = D.nls, base = 1 + MAX_UPSTREAM; /* a reload below may change the listeners */
		for (size_t i = 0; i < nls && base + i < n; i++)
			if (pf[base + i].revents & POLLIN)
				on_query(&D.ls[i]);
		if ((pf[0].revents & POLLIN) && !on_control(ctl, sock_path))
			return 0;
		waiting = expire();
	}
}
