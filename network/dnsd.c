#include "dnsd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "../lib/buf.h"
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

/* A question forwarded upstream: a random id, and a socket of its own to
 * each upstream (a fresh, random source port), so that an answer must
 * guess both and name the same question to be taken (RFC 5452). */
struct pending {
	uint16_t id;
	int fd; /* the listener it came in on; -1: free */
	struct sockaddr_in client;
	int64_t at;
	struct dns_query q; /* as the client sent it, for a SERVFAIL */
	int ufd[MAX_UPSTREAM];
};

static struct {
	struct rec *recs;
	size_t nrecs;
	struct member *members;
	size_t nmembers;
	struct listener ls[MAX_LISTEN];
	size_t nls;
	struct sockaddr_in up[MAX_UPSTREAM];
	int64_t down_until[MAX_UPSTREAM];
	size_t nup;
	struct pending pend[PENDING];
	unsigned rot;
	int dir; /* net/dns, opened before privileges are dropped */
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
		fprintf(stderr, "berth-dns: cannot listen on %s:53: %s\n",
			inet_ntop(AF_INET, &sa.sin_addr, a, sizeof(a)), strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* net/dns/records, through the directory opened while we were root. */
static int read_records(char **text, size_t *len)
{
	int fd = openat(D.dir, "records", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	struct buf b = {0};
	char chunk[65536];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && b.len < (64u << 20))
		buf_add(&b, chunk, (size_t)n);
	close(fd);
	*len = b.len;
	*text = b.s ? buf_steal(&b) : xstrdup("");
	buf_free(&b);
	return n < 0 ? -EIO : 0;
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
	if (read_records(&text, &len) < 0)
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
		if (D.down_until[i] <= now)
			return true;
	return false;
}

static void finish(struct pending *p)
{
	for (size_t i = 0; i < MAX_UPSTREAM; i++) {
		if (p->ufd[i] >= 0)
			close(p->ufd[i]);
		p->ufd[i] = -1;
	}
	p->fd = -1;
}

static void fail(struct pending *p)
{
	reply(p->fd, &p->client, &p->q, DNS_RCODE_SERVFAIL, NULL, 0);
	finish(p);
}

/* A free slot, or the oldest question's (it waited long enough: SERVFAIL). */
static struct pending *slot(void)
{
	struct pending *oldest = &D.pend[0];
	for (size_t i = 0; i < PENDING; i++) {
		if (D.pend[i].fd < 0)
			return &D.pend[i];
		if (D.pend[i].at < oldest->at)
			oldest = &D.pend[i];
	}
	fail(oldest);
	return oldest;
}

static void forward(int fd, const struct sockaddr_in *client, const struct dns_query *q, uint8_t *pkt, size_t len)
{
	uint16_t id;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)(mono_ms() ^ (int64_t)getpid() ^ (int64_t)(uintptr_t)&id);
	struct pending *p = slot();
	*p = (struct pending){id, fd, *client, mono_ms(), *q, {-1, -1, -1}};
	pkt[0] = (uint8_t)(id >> 8);
	pkt[1] = (uint8_t)id;
	int64_t now = mono_ms();
	for (size_t i = 0; i < D.nup; i++) {
		if (D.down_until[i] > now)
			continue;
		/* connected, so that a closed port is told at once */
		int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (u >= 0 && connect(u, (struct sockaddr *)&D.up[i], sizeof(D.up[i])) == 0 &&
		    send(u, pkt, len, 0) >= 0) {
			p->ufd[i] = u;
			continue;
		}
		if (errno == ECONNREFUSED)
			D.down_until[i] = now + UPSTREAM_RETRY_MS;
		if (u >= 0)
			close(u);
	}
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
	for (size_t i = 0; i < PENDING; i++)
		if (D.pend[i].fd >= 0)
			fail(&D.pend[i]);
}

/* An answer on question p's socket to upstream u: taken only with the id
 * we chose and the question we asked; the first such answer wins. */
static void on_upstream(struct pending *p, size_t u)
{
	uint8_t pkt[4096];
	ssize_t n = recv(p->ufd[u], pkt, sizeof(pkt), 0);
	if (n < 0 && errno == ECONNREFUSED) {
		/* nothing listens there: while no upstream does, answer SERVFAIL at once */
		D.down_until[u] = mono_ms() + UPSTREAM_RETRY_MS;
		close(p->ufd[u]);
		p->ufd[u] = -1;
		if (!upstream_alive())
			fail_pending();
		return;
	}
	struct dns_query r;
	if (n < 12 || dns_parse_reply(pkt, (size_t)n, &r) < 0 || r.id != p->id || !streq(r.name, p->q.name) ||
	    r.type != p->q.type || r.class_ != p->q.class_)
		return;
	D.down_until[u] = 0;
	pkt[0] = (uint8_t)(p->q.id >> 8);
	pkt[1] = (uint8_t)p->q.id;
	sendto(p->fd, pkt, (size_t)n, 0, (struct sockaddr *)&p->client, sizeof(p->client));
	finish(p);
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
		fail(p);
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
	D.up[D.nup++] = (struct sockaddr_in){
		.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(ip)};
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
static bool on_control(int lfd)
{
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return true;
	struct pollfd pf = {c, POLLIN, 0};
	char cmd[32] = {0};
	if (poll(&pf, 1, 1000) == 1 && read(c, cmd, sizeof(cmd) - 1) > 0 && streq(cmd, "exit")) {
		/* berth removes the socket: we may not (we run as nobody now) */
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

/* After the sockets are made: nobody (65534), with only the capability to
 * bind port 53 on the gateways of networks made later. A question from a
 * container is the only input from outside; answering it needs nothing
 * more. */
static int drop_privileges(void)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
	    setresuid(65534, 65534, 65534) < 0)
		return -errno;
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};
	d[0].effective = d[0].permitted = 1u << CAP_NET_BIND_SERVICE;
	if (syscall(SYS_capset, &h, d) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

/* Fills pf with the control socket, every question's upstream sockets and
 * the listeners; who[k] says which question and upstream pf[k] is. */
static size_t poll_set(int ctl, struct pollfd *pf, size_t *who)
{
	size_t n = 0;
	pf[n++] = (struct pollfd){ctl, POLLIN, 0};
	for (size_t i = 0; i < PENDING; i++)
		for (size_t u = 0; u < MAX_UPSTREAM; u++)
			if (D.pend[i].fd >= 0 && D.pend[i].ufd[u] >= 0) {
				who[n] = i * MAX_UPSTREAM + u;
				pf[n++] = (struct pollfd){D.pend[i].ufd[u], POLLIN, 0};
			}
	return n;
}

int dnsd_main(const char *root, int ready_fd)
{
	signal(SIGPIPE, SIG_IGN);
	_cleanup_free_ char *dir_path = xasprintf("%s/net/dns", root);
	_cleanup_free_ char *sock_path = xasprintf("%s/net/dns/sock", root);
	D.dir = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int lock = D.dir >= 0 ? openat(D.dir, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0)
		return 0; /* another responder serves this root */
	int ctl = control_socket(sock_path);
	/* nobody reads the records through D.dir; the state root above stays 0700 */
	if (ctl < 0 || fchmod(D.dir, 0711) < 0)
		return 1;
	for (size_t i = 0; i < PENDING; i++) {
		D.pend[i].fd = -1;
		for (size_t u = 0; u < MAX_UPSTREAM; u++)
			D.pend[i].ufd[u] = -1;
	}
	find_upstreams();
	reload();
	int dropped = drop_privileges();
	if (dropped < 0) {
		fprintf(stderr, "berth-dns: cannot drop privileges: %s\n", strerror(-dropped));
		return 1;
	}
	if (ready_fd >= 0) {
		if (write(ready_fd, "1", 1) < 0)
			fprintf(stderr, "berth-dns: cannot report ready: %s\n", strerror(errno));
		close(ready_fd);
	}
	size_t waiting = 0;
	static struct pollfd pf[1 + PENDING * MAX_UPSTREAM + MAX_LISTEN];
	static size_t who[1 + PENDING * MAX_UPSTREAM + MAX_LISTEN];
	for (;;) {
		size_t first_listener = poll_set(ctl, pf, who), n = first_listener;
		for (size_t i = 0; i < D.nls; i++)
			pf[n++] = (struct pollfd){D.ls[i].fd, POLLIN, 0};
		if (poll(pf, n, waiting ? 250 : -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (size_t k = 1; k < first_listener; k++) {
			struct pending *p = &D.pend[who[k] / MAX_UPSTREAM];
			size_t u = who[k] % MAX_UPSTREAM;
			/* an earlier answer in this round may have finished the question */
			if ((pf[k].revents & (POLLIN | POLLERR)) && p->fd >= 0 && p->ufd[u] == pf[k].fd)
				on_upstream(p, u);
		}
		size_t nls = D.nls; /* a reload below may change the listeners */
		for (size_t i = 0; i < nls && first_listener + i < n; i++)
			if (pf[first_listener + i].revents & POLLIN)
				on_query(&D.ls[i]);
		if ((pf[0].revents & POLLIN) && !on_control(ctl))
			return 0;
		waiting = expire();
	}
}
