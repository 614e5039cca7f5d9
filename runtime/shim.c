/* berth-shim DIR READY_FD: runs one container (DIR/spec.json) and stays its
 * parent. READY_FD gets "ok" once the first start has exec'd the command,
 * or "error CODE MESSAGE". SIGTERM means: stop it (stop signal, grace period,
 * then SIGKILL to the whole cgroup) and do not restart it; queued with
 * sigqueue, its value is the grace period in milliseconds (stop -t).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>

#include "../lib/buf.h"
#include "../lib/fdpass.h"
#include "../lib/fs.h"
#include "../lib/spawn.h"
#include "cgroup.h"
#include "enter.h"
#include "events.h"
#include "health.h"
#include "exeseal.h"
#include "process.h"
#include "shim.h"
#include "state.h"

#define BACKOFF_START_MS 100
#define BACKOFF_MAX_MS 60000
#define RESET_AFTER_MS 10000

struct log {
	int fd;
	char *path;
	int64_t size, max_size;
	int max_files;
	char partial[2][16384]; /* unfinished line per stream */
	size_t plen[2];
};

#define DNS_WATCH_S 5 /* how often a shim checks that the DNS responder runs */
#define ATTACH_MAX 8  /* berth attach clients at once */

struct shim {
	struct ctr_spec s;
	struct ctr_state st;
	struct ctr_process p;
	struct log log;
	int sigfd, timerfd, ready_fd;
	int dnsfd; /* a periodic timer while the container is on bridge networks, else -1 */
	struct health health;
	bool stopping, running;
	bool stopping_hooks_done; /* pre_stop ran already (a second stop request) */
	int64_t backoff_ms;
	char *cg;                         /* its cgroup's id (cgroup_id) */
	int attach_fd;                    /* listening on <dir>/attach.sock, or -1 */
	int clients[ATTACH_MAX];          /* berth attach: output goes to each, input to the container */
	struct attach_in *in[ATTACH_MAX]; /* each client's frame being read */
};

#define ATTACH_FRAME 4096 /* the most a client's frame carries */

struct attach_in {
	unsigned char buf[5 + ATTACH_FRAME];
	size_t have;
};

static void log_open(struct log *l, const struct ctr_spec *s)
{
	l->path = xasprintf("%s/%s-json.log", s->dir, s->id);
	/* logging driver none: the output is read and dropped, no file is kept */
	l->fd = s->log_none ? -1 : open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	struct stat st;
	l->size = l->fd >= 0 && fstat(l->fd, &st) == 0 ? st.st_size : 0;
	l->max_size = s->log_max_size;
	l->max_files = s->log_max_files > 0 ? s->log_max_files : 1;
}

/* log -> log.1 -> log.2 ...; the oldest past max_files goes. */
static void log_rotate(struct log *l)
{
	for (int i = l->max_files - 1; i >= 1; i--) {
		_cleanup_free_ char *from = i == 1 ? xstrdup(l->path) : xasprintf("%s.%d", l->path, i - 1);
		_cleanup_free_ char *to = xasprintf("%s.%d", l->path, i);
		rename(from, to);
	}
	if (l->max_files <= 1 && ftruncate(l->fd, 0) == 0) {
		l->size = 0;
		return;
	}
	close(l->fd);
	l->fd = open(l->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
	l->size = 0;
}

static void json_escape(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c == '\n')
			buf_puts(b, "\\n");
		else if (c == '\r')
			buf_puts(b, "\\r");
		else if (c == '\t')
			buf_puts(b, "\\t");
		else if (c < 0x20)
			buf_printf(b, "\\u%04x", c);
		else
			buf_putc(b, (char)c);
	}
}

/* One line in Docker's json-file format: {"log":"...\n","stream":"stdout","time":"..."} */
static void log_line(struct log *l, int stream, const char *s, size_t n)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[48];
	size_t w = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + w, sizeof(when) - w, ".%09ldZ", ts.tv_nsec);
	struct buf b = {0};
	buf_puts(&b, "{\"log\":\"");
	json_escape(&b, s, n);
	buf_printf(&b, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream ? "stderr" : "stdout", when);
	if (l->max_size > 0 && l->size + (int64_t)b.len > l->max_size && l->size > 0)
		log_rotate(l);
	if (l->fd >= 0 && write(l->fd, b.s, b.len) == (ssize_t)b.len)
		l->size += (int64_t)b.len;
	buf_free(&b);
}

static void log_data(struct log *l, int stream, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = data[i];
		l->partial[stream][l->plen[stream]++] = c;
		if (c == '\n' || l->plen[stream] == sizeof(l->partial[stream])) {
			log_line(l, stream, l->partial[stream], l->plen[stream]);
			l->plen[stream] = 0;
		}
	}
}

static void log_flush(struct log *l)
{
	for (int s = 0; s < 2; s++) {
		if (l->plen[s])
			log_line(l, s, l->partial[s], l->plen[s]);
		l->plen[s] = 0;
	}
}

static void save_state(struct shim *sh) { state_write(sh->s.dir, &sh->st, NULL); }

static void report_ready(struct shim *sh, const char *msg)
{
	if (sh->ready_fd < 0)
		return;
	if (write(sh->ready_fd, msg, strlen(msg)) < 0) {
		/* the CLI went away; the container still runs */
	}
	close(sh->ready_fd);
	sh->ready_fd = -1;
}

static void arm_timer(struct shim *sh, int64_t ms)
{
	struct itimerspec it = {.it_value = {ms / 1000, (ms % 1000) * 1000000}};
	if (ms == 0)
		it.it_value.tv_nsec = 1; /* fire at once */
	timerfd_settime(sh->timerfd, 0, &it, NULL);
}

static void disarm_timer(struct shim *sh)
{
	struct itimerspec it = {0};
	timerfd_settime(sh->timerfd, 0, &it, NULL);
}

/* berth run holds our stdio: the container has its own copies now, or,
 * with a terminal, berth gets its master. Ours go, so that berth sees the
 * streams end when the container does. */
static void hand_over_stdio(struct shim *sh)
{
	if (sh->s.tty && sh->p.out_fd >= 0) {
		fd_send(0, sh->p.out_fd);
		close(sh->p.out_fd);
		sh->p.out_fd = -1;
	}
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < 3 && null >= 0; i++)
		dup3(null, i, 0);
	if (null > 2)
		close(null);
}

static bool pump(struct shim *sh, int stream, int fd);

/* The state root holds the container's directory (ROOT/containers/NAME). */
static char *state_root(const struct shim *sh)
{
	_cleanup_free_ char *containers = path_dirname(sh->s.dir);
	return path_dirname(containers);
}

/* Run hooks one after the other in the container, the container's output
 * still going to its log meanwhile; the first that fails stops the rest
 * and says why. */
static int run_hooks(struct shim *sh, const struct hook_spec *h, size_t n, const char *which, struct berr **err)
{
	for (size_t i = 0; i < n; i++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
			return berr_sys(err, errno, "%s hook %zu: cannot make a pipe", which, i + 1);
		pid_t pid = enter_spawn(&sh->s, sh->p.pid, &h[i], false, p[1]);
		close(p[1]);
		char out[1024];
		size_t len = 0;
		int status = 0;
		for (bool done = pid <= 0; !done;) {
			struct pollfd fds[3] = {
				{p[0], POLLIN, 0}, {sh->p.out_fd, POLLIN, 0}, {sh->p.err_fd, POLLIN, 0}};
			poll(fds, 3, 100);
			for (int k = 1; k < 3; k++)
				if (fds[k].revents & POLLIN)
					pump(sh, k - 1, fds[k].fd);
			char buf[4096];
			ssize_t r;
			while ((r = read(p[0], buf, sizeof(buf))) > 0) {
				size_t take = (size_t)r < sizeof(out) - 1 - len ? (size_t)r : sizeof(out) - 1 - len;
				memcpy(out + len, buf, take);
				len += take;
			}
			done = waitpid(pid, &status, WNOHANG) == pid;
		}
		close(p[0]);
		out[len] = '\0';
		int code = pid <= 0 ? 126 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (code != 0) {
			out[strcspn(out, "\n")] = '\0';
			return berr_set(err, EIO, "%s hook %zu (%s) exited %d%s%s", which, i + 1, h[i].argv[0], code,
					*out ? ": " : "", out);
		}
	}
	return 0;
}

static int start(struct shim *sh)
{
	struct berr *e = NULL;
	int code = 125;
	sh->st.status = ST_RUNNING;
	if (process_start(&sh->s, &sh->p, &code, &e) < 0) {
		sh->st.status = ST_EXITED;
		sh->st.exit_code = code;
		sh->st.finished_at = now_ms();
		free(sh->st.error);
		sh->st.error = xstrdup(e->msg);
		save_state(sh);
		char *msg = xasprintf("error %d %s", code, e->msg);
		report_ready(sh, msg);
		free(msg);
		berr_free(e);
		return -1;
	}
	if (sh->s.attach)
		hand_over_stdio(sh);
	sh->running = true;
	sh->st.pid = sh->p.pid;
	sh->st.started_at = now_ms();
	free(sh->st.error);
	sh->st.error = NULL;
	health_started(&sh->health, &sh->s, &sh->st);
	save_state(sh);
	_cleanup_free_ char *root = state_root(sh);
	events_add(root, sh->s.id, "start", NULL);
	/* post_start hooks, before up hears the container started: a failing
	 * one is reported there, and the container keeps running */
	struct berr *hook = NULL;
	if (run_hooks(sh, sh->s.post_start, sh->s.npost_start, "post_start", &hook) < 0) {
		char *msg = xasprintf("error 1 %s", hook->msg);
		report_ready(sh, msg);
		free(msg);
		free(sh->st.error);
		sh->st.error = steal_ptr(&hook->msg);
		berr_free(hook);
		save_state(sh);
		return 0;
	}
	report_ready(sh, "ok");
	return 0;
}

static bool should_restart(struct shim *sh)
{
	if (sh->stopping)
		return false;
	switch (sh->s.restart) {
	case RESTART_ALWAYS:
	case RESTART_UNLESS_STOPPED:
		return true;
	case RESTART_ON_FAILURE:
		return sh->st.exit_code != 0 && (sh->s.restart_max == 0 || sh->st.restart_count < sh->s.restart_max);
	default:
		return false;
	}
}

/* ---- berth attach: a socket in the container's directory (0700, root's) ----
 * Both ways, frames of [kind, length (4 bytes, big endian), data]. To a
 * client: kind 0 stdout, 1 stderr. From a client: kind 0, bytes for the
 * container's stdin (its terminal with tty, its stdin pipe with
 * stdin_open; else dropped); kind 2, the client terminal's size (rows and
 * columns, 2 bytes each, big endian) for the container's terminal. A
 * client that does not keep up, or sends what is not a frame, is dropped:
 * it never holds the container. */
static void attach_listen(struct shim *sh)
{
	for (int i = 0; i < ATTACH_MAX; i++)
		sh->clients[i] = -1;
	_cleanup_free_ char *path = xasprintf("%s/attach.sock", sh->s.dir);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	sh->attach_fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return;
	strcpy(sa.sun_path, path);
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 || listen(fd, 4) < 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	sh->attach_fd = fd;
}

static void attach_drop(struct shim *sh, int i)
{
	close(sh->clients[i]);
	sh->clients[i] = -1;
	free(sh->in[i]);
	sh->in[i] = NULL;
}

static void attach_accept(struct shim *sh)
{
	int fd = accept4(sh->attach_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	for (int i = 0; fd >= 0 && i < ATTACH_MAX; i++)
		if (sh->clients[i] < 0) {
			sh->clients[i] = fd;
			sh->in[i] = xcalloc(1, sizeof(*sh->in[i]));
			return;
		}
	if (fd >= 0)
		close(fd);
}

static void attach_send(struct shim *sh, int stream, const char *data, size_t n)
{
	unsigned char head[5] = {(unsigned char)stream, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
				 (unsigned char)(n >> 8), (unsigned char)n};
	for (int i = 0; i < ATTACH_MAX; i++) {
		if (sh->clients[i] < 0)
			continue;
		struct iovec iov[2] = {{head, sizeof(head)}, {(void *)data, n}};
		struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
		if (sendmsg(sh->clients[i], &m, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)(n + sizeof(head)))
			attach_drop(sh, i);
	}
}

static void attach_input(struct shim *sh, int i)
{
	struct attach_in *in = sh->in[i];
	ssize_t n = read(sh->clients[i], in->buf + in->have, sizeof(in->buf) - in->have);
	if (n <= 0) {
		attach_drop(sh, i);
		return;
	}
	in->have += (size_t)n;
	int to = sh->s.tty ? sh->p.out_fd : sh->p.in_fd;
	while (in->have >= 5) {
		size_t len = (size_t)in->buf[1] << 24 | (size_t)in->buf[2] << 16 | (size_t)in->buf[3] << 8 | in->buf[4];
		if (len > ATTACH_FRAME || in->buf[0] == 1 || in->buf[0] > 2) {
			attach_drop(sh, i); /* not a frame of berth attach */
			return;
		}
		if (in->have < 5 + len)
			break;
		const unsigned char *d = in->buf + 5;
		if (in->buf[0] == 0 && to >= 0 && sh->running && write(to, d, len) < 0) {
			/* the container closed its stdin: what the client types goes nowhere */
		}
		if (in->buf[0] == 2 && len == 4 && sh->s.tty && sh->running) {
			struct winsize ws = {.ws_row = (unsigned short)(d[0] << 8 | d[1]),
					     .ws_col = (unsigned short)(d[2] << 8 | d[3])};
			ioctl(sh->p.out_fd, TIOCSWINSZ, &ws);
		}
		memmove(in->buf, in->buf + 5 + len, in->have - 5 - len);
		in->have -= 5 + len;
	}
}

static bool pump(struct shim *sh, int stream, int fd)
{
	char buf[16384];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n > 0) {
		log_data(&sh->log, stream, buf, (size_t)n);
		attach_send(sh, stream, buf, (size_t)n);
	}
	return n > 0;
}

/* Whatever the container wrote before it ended still goes to the log. */
static void drain_outputs(struct shim *sh)
{
	int fds[2] = {sh->p.out_fd, sh->p.err_fd};
	for (int i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue;
		int fl = fcntl(fds[i], F_GETFL);
		fcntl(fds[i], F_SETFL, fl | O_NONBLOCK);
		while (pump(sh, i, fds[i]))
			;
	}
	log_flush(&sh->log);
}

/* The container's init is gone: record it, then restart after backoff or finish. */
static bool on_exit_status(struct shim *sh, int status)
{
	sh->running = false;
	health_stopped(&sh->health);
	drain_outputs(sh);
	cgroup_kill(sh->cg);
	int *fds[] = {&sh->p.out_fd, &sh->p.err_fd, &sh->p.in_fd};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	int64_t now = now_ms();
	sh->st.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	sh->st.finished_at = now;
	sh->st.oom_killed = cgroup_oom_killed(sh->cg);
	{
		_cleanup_free_ char *root = state_root(sh);
		_cleanup_free_ char *attrs = xasprintf("\"exitCode\":\"%d\"", sh->st.exit_code);
		if (sh->st.oom_killed)
			events_add(root, sh->s.id, "oom", NULL);
		events_add(root, sh->s.id, "die", attrs);
	}
	sh->st.pid = 0;
	if (now - sh->st.started_at >= RESET_AFTER_MS)
		sh->backoff_ms = BACKOFF_START_MS;
	if (!should_restart(sh)) {
		sh->st.status = ST_EXITED;
		save_state(sh);
		return false;
	}
	sh->st.status = ST_RESTARTING;
	save_state(sh);
	arm_timer(sh, sh->backoff_ms);
	sh->backoff_ms = sh->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : sh->backoff_ms * 2;
	return true;
}

/* SIGTERM from berth: stop without restarting, within grace_ms. */
static void begin_stop(struct shim *sh, int64_t grace_ms)
{
	sh->stopping = true;
	sh->st.stopped_by_user = true;
	if (!sh->running) {
		disarm_timer(sh);
		return;
	}
	/* pre_stop hooks first, as docker compose runs them; one that fails
	 * does not keep the container from stopping */
	struct berr *e = NULL;
	if (!sh->stopping_hooks_done && run_hooks(sh, sh->s.pre_stop, sh->s.npre_stop, "pre_stop", &e) < 0) {
		free(sh->st.error);
		sh->st.error = steal_ptr(&e->msg);
		berr_free(e);
	}
	sh->stopping_hooks_done = true;
	kill(sh->p.pid, sh->s.stop_signal > 0 ? sh->s.stop_signal : SIGTERM);
	arm_timer(sh, grace_ms > 0 ? grace_ms : 0);
}

/* Returns false when the shim is done. */
static bool on_signal(struct shim *sh)
{
	struct signalfd_siginfo si;
	if (read(sh->sigfd, &si, sizeof(si)) != sizeof(si))
		return true;
	if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
		/* berth stop -t N queues the grace period with the signal */
		begin_stop(sh, si.ssi_code == SI_QUEUE && si.ssi_int >= 0 ? si.ssi_int : sh->s.stop_grace_ms);
		return sh->running;
	}
	if (si.ssi_signo == SIGUSR1 && si.ssi_code == SI_QUEUE && sh->running) {
		/* berth kill: the signal it names, and, as under Docker, a stop
		 * by the user, which no restart policy undoes */
		sh->st.stopped_by_user = true;
		sh->stopping = true;
		kill(sh->p.pid, si.ssi_int > 0 && si.ssi_int < 65 ? si.ssi_int : SIGKILL);
		save_state(sh);
		return true;
	}
	if (si.ssi_signo != SIGCHLD)
		return true;
	bool keep = true;
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			break;
		if (sh->running && pid == sh->p.pid)
			keep = on_exit_status(sh, status);
		else {
			enum health_status before = sh->st.health;
			if (!health_on_exit(&sh->health, &sh->s, &sh->st, pid, status))
				continue;
			save_state(sh);
			if (sh->st.health != before && sh->st.health != HEALTH_STARTING) {
				_cleanup_free_ char *root = state_root(sh);
				_cleanup_free_ char *action = xasprintf("health_status: %s",
									health_status_name(sh->st.health));
				events_add(root, sh->s.id, action, NULL);
			}
		}
	}
	return keep || sh->running;
}

/* Timer: the grace period ran out (kill), or a restart's backoff is over. */
static bool on_timer(struct shim *sh)
{
	uint64_t n;
	if (read(sh->timerfd, &n, sizeof(n)) < 0)
		return true;
	if (sh->running) {
		cgroup_kill(sh->cg);
		return true;
	}
	if (sh->stopping)
		return false;
	/* removed meanwhile (rm -f of a container whose shim was not seen):
	 * there is nothing left to restart */
	_cleanup_free_ char *spec = xasprintf("%s/spec.json", sh->s.dir);
	if (!fs_exists(spec))
		return false;
	sh->st.restart_count++;
	while (start(sh) < 0) {
		if (!should_restart(sh))
			return false;
		sh->st.restart_count++;
		arm_timer(sh, sh->backoff_ms);
		return true;
	}
	return true;
}

/* The DNS responder serves every container of the root; when it is gone
 * (killed) while networks exist, any shim starts it again. Several may
 * try at once: the responder's lock lets one stay. */
static void watch_dns(struct shim *sh)
{
	uint64_t ticks;
	if (read(sh->dnsfd, &ticks, sizeof(ticks)) < 0)
		return;
	_cleanup_free_ char *root = state_root(sh);
	_cleanup_free_ char *records = xasprintf("%s/net/dns/records", root);
	_cleanup_free_ char *sock = xasprintf("%s/net/dns/sock", root);
	struct stat st;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (stat(records, &st) < 0 || st.st_size == 0 || strlen(sock) >= sizeof(sa.sun_path))
		return;
	strcpy(sa.sun_path, sock);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return;
	_cleanup_free_ char *log = xasprintf("%s/net/dns/log", root);
	_cleanup_close_ int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	char *argv[] = {"berth-shim", "dns", root, "-1", NULL};
	pid_t pid;
	spawn_fds("/proc/self/exe", argv, (const int[]){-1, -1, out}, 3, true, &pid);
}

static void loop(struct shim *sh)
{
	for (;;) {
		struct pollfd fds[7 + 1 + ATTACH_MAX] = {{sh->sigfd, POLLIN, 0},      {sh->timerfd, POLLIN, 0},
							 {sh->dnsfd, POLLIN, 0},      {sh->health.timer, POLLIN, 0},
							 {sh->health.out, POLLIN, 0}, {sh->p.out_fd, POLLIN, 0},
							 {sh->p.err_fd, POLLIN, 0},   {sh->attach_fd, POLLIN, 0}};
		for (int i = 0; i < ATTACH_MAX; i++)
			fds[8 + i] = (struct pollfd){sh->clients[i], POLLIN, 0};
		int nfds = sh->running ? 7 : 5;
		if (!sh->running) /* the attach socket and clients still count */
			fds[5].fd = fds[6].fd = -1;
		if (poll(fds, ARRAY_SIZE(fds), -1) < 0 && errno != EINTR)
			break;
		if (fds[7].revents & POLLIN)
			attach_accept(sh);
		for (int i = 0; i < ATTACH_MAX; i++)
			if (fds[8 + i].fd >= 0 && sh->clients[i] == fds[8 + i].fd &&
			    (fds[8 + i].revents & (POLLIN | POLLHUP | POLLERR)))
				attach_input(sh, i);
		if (fds[2].revents & POLLIN)
			watch_dns(sh);
		if (fds[3].revents & POLLIN)
			health_on_timer(&sh->health, &sh->s, &sh->st);
		if (fds[4].revents & (POLLIN | POLLHUP))
			health_on_output(&sh->health);
		for (int i = 5; i < nfds; i++) {
			if (fds[i].revents & POLLIN)
				pump(sh, i - 5, fds[i].fd);
			else if (fds[i].revents & (POLLHUP | POLLERR))
				fds[i].fd = -1;
		}
		if ((fds[1].revents & POLLIN) && !on_timer(sh))
			break;
		if ((fds[0].revents & POLLIN) && !on_signal(sh))
			break;
	}
}

int shim_main(const char *dir, int ready_fd)
{
	struct shim sh = {
		.ready_fd = ready_fd, .backoff_ms = BACKOFF_START_MS, .p = {.out_fd = -1, .err_fd = -1, .in_fd = -1}};
	/* the container must not inherit it: berth waits for it to close */
	fcntl(ready_fd, F_SETFD, FD_CLOEXEC);
	/* one shim per container: a berth killed after it started one, and
	 * the next berth, must not both run it */
	_cleanup_free_ char *lock_path = xasprintf("%s/shim.lock", dir);
	int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0) {
		report_ready(&sh, lock < 0 ? "error 125 cannot open the container's shim lock" : "ok");
		return 0;
	}
	_cleanup_free_ char *spec_path = xasprintf("%s/spec.json", dir);
	struct berr *e = NULL;
	if (spec_read(spec_path, &sh.s, &e) < 0) {
		char *msg = xasprintf("error 125 %s", e->msg);
		report_ready(&sh, msg);
		free(msg);
		return 1;
	}
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sh.sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	sh.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	health_init(&sh.health, &sh.s);
	sh.dnsfd = -1;
	if (sh.s.network && sh.s.network[0] == '/') { /* a network namespace of berth's: bridge networks */
		sh.dnsfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		struct itimerspec every = {.it_interval = {DNS_WATCH_S, 0}, .it_value = {DNS_WATCH_S, 0}};
		timerfd_settime(sh.dnsfd, 0, &every, NULL);
	}
	state_read(dir, &sh.st, NULL);
	sh.st.shim_pid = getpid();
	sh.st.stopped_by_user = false;
	log_open(&sh.log, &sh.s);
	sh.cg = cgroup_id(sh.s.cgroup.parent, sh.s.id);
	attach_listen(&sh);
	if (cgroup_create(sh.cg, &sh.s.cgroup, &e) < 0) {
		sh.st.status = ST_EXITED;
		sh.st.exit_code = 125;
		sh.st.error = xstrdup(e->msg);
		save_state(&sh);
		char *msg = xasprintf("error 125 %s", e->msg);
		report_ready(&sh, msg);
		free(msg);
		berr_free(e);
	} else {
		cgroup_mark(sh.cg, dir);
		if (start(&sh) == 0 || should_restart(&sh)) {
			if (!sh.running)
				arm_timer(&sh, sh.backoff_ms);
			loop(&sh);
		}
	}
	cgroup_remove(sh.cg, NULL);
	free(sh.cg);
	sh.st.shim_pid = 0;
	save_state(&sh);
	if (sh.s.autoremove) { /* run -d --rm: berth removes it once this shim is gone */
		_cleanup_free_ char *root = state_root(&sh);
		char *argv[] = {"berth", "__autoremove", root, sh.s.id, NULL};
		pid_t pid;
		spawn_fds(sh.s.autoremove, argv, (const int[]){-1, -1, -1}, 3, true, &pid);
	}
	if (sh.attach_fd >= 0) { /* attached clients see the end once the state says how it ended */
		_cleanup_free_ char *sock = xasprintf("%s/attach.sock", dir);
		unlink(sock);
	}
	if (sh.log.fd >= 0)
		close(sh.log.fd);
	free(sh.log.path);
	free(sh.st.error);
	spec_free(&sh.s);
	return 0;
}
