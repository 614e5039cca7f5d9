/* berth attach SERVICE: the local terminal's input and output joined to a
 * running container's (through its shim's attach socket), as docker
 * compose attach: detach with the detach keys (Ctrl-P Ctrl-Q), signals
 * passed on to the container unless --sig-proxy=false. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "../lib/fs.h"
#include "../orchestrator/apply.h"
#include "../runtime/console.h"
#include "../runtime/ctr.h"
#include "../runtime/spec.h"
#include "cli.h"

/* "ctrl-p,ctrl-q" or "a,ctrl-a" to bytes; -1 when it cannot be read. */
static int detach_keys(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	_cleanup_free_ char *copy = xstrdup(s);
	char *save = NULL;
	for (char *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		if (n >= max)
			return -1;
		if (startswith(k, "ctrl-") && strlen(k) == 6 &&
		    ((k[5] >= 'a' && k[5] <= 'z') || (k[5] >= '@' && k[5] <= '_')))
			out[n++] = (unsigned char)(k[5] & 0x1f);
		else if (strlen(k) == 1)
			out[n++] = (unsigned char)k[0];
		else
			return -1;
	}
	return n ? (int)n : -1;
}

static volatile sig_atomic_t got_signal, resized;
static void on_signal(int sig) { got_signal = sig; }
static void on_winch(int sig) { resized = sig; }

/* One frame to the shim: kind 0 input, 2 the terminal's size. */
static bool send_frame(int fd, int kind, const unsigned char *data, size_t n)
{
	unsigned char head[5] = {(unsigned char)kind, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
				 (unsigned char)(n >> 8), (unsigned char)n};
	return fs_write_all(fd, head, sizeof(head)) && fs_write_all(fd, data, n);
}

/* The local terminal's size on to the container's terminal. */
static void send_size(int fd)
{
	struct winsize ws;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
		return;
	unsigned char d[4] = {(unsigned char)(ws.ws_row >> 8), (unsigned char)ws.ws_row,
			      (unsigned char)(ws.ws_col >> 8), (unsigned char)ws.ws_col};
	send_frame(fd, 2, d, sizeof(d));
}

int cmd_attach(struct global_opts *g, int argc, char **argv)
{
	bool no_stdin = false, sig_proxy = true;
	const char *index = NULL, *keys = "ctrl-p,ctrl-q";
	char **pos = NULL;
	const struct flag flags[] = {
		{"index", 0, FLAG_STR, &index, "N", "Which container of the service (default 1)"},
		{"no-stdin", 0, FLAG_BOOL, &no_stdin, NULL, "Do not attach stdin"},
		{"detach-keys", 0, FLAG_STR, &keys, "KEYS", "Keys that detach (default ctrl-p,ctrl-q)"},
		{"sig-proxy", 0, FLAG_BOOL, &sig_proxy, NULL,
		 "Pass the signals berth gets on to the container (default true)"},
	};
	int rc = cmd_flags("attach", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth attach [OPTIONS] SERVICE",
			   "Attach local standard input, output and error to a service's running container.");
	_cleanup_(strv_freep) char **args = pos;
	unsigned char seq[16];
	int nseq = rc < 0 ? detach_keys(keys, seq, sizeof(seq)) : 0;
	if (rc < 0 && nseq < 0)
		rc = usage_error("attach", "--detach-keys takes keys such as ctrl-p,ctrl-q or a,ctrl-a");
	if (rc < 0 && strv_len(args) != 1)
		rc = usage_error("attach", "attach takes one service");
	if (rc >= 0)
		return rc;
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	if (project_open(g, NULL, false, &p, &err) < 0)
		return report(err);
	if (!project_service(p, args[0]))
		return report((berr_set(&err, ENOENT, "no such service: %s", args[0]), err));
	const char *root = berth_root();
	int want = index ? atoi(index) : 1;
	_cleanup_free_ char *name = apply_replica(p, root, args[0], want, NULL);
	if (!name || !ctr_up(root, name, NULL))
		return report(
			(berr_set(&err, ENOENT, "service %s has no running container number %d", args[0], want), err));
	if (cli_dry_run()) { /* said, not attached */
		cli_progress(NULL, "Container", name, "would be attached to");
		return 0;
	}
	_cleanup_free_ char *dir = ctr_dir(root, name);
	_cleanup_free_ char *sock = path_join(dir, "attach.sock"), *specp = path_join(dir, "spec.json");
	struct ctr_spec s = {0};
	bool read_ok = spec_read(specp, &s, NULL) == 0, tty = read_ok && s.tty;
	if (read_ok)
		spec_free(&s);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (strlen(sock) >= sizeof(sa.sun_path))
		return report((berr_set(&err, ENAMETOOLONG,
					"cannot attach to %s: its state directory's path is too long", name),
			       err));
	strcpy(sa.sun_path, sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return report((
			berr_sys(&err, errno, "cannot attach to %s (its shim predates berth attach? restart it)", name),
			err));
	struct termios saved;
	char typed[4096];
	ssize_t ntyped = !no_stdin && tty ? console_make_raw(STDIN_FILENO, &saved, typed, sizeof(typed)) : -1;
	bool term = ntyped >= 0;
	if (ntyped > 0)
		send_frame(fd, 0, (const unsigned char *)typed, (size_t)ntyped);
	struct sigaction sa_sig = {.sa_handler = on_signal}, ign = {.sa_handler = SIG_IGN};
	if (term) { /* the container's terminal takes this one's size, now and as it changes */
		struct sigaction sa_winch = {.sa_handler = on_winch};
		sigaction(SIGWINCH, &sa_winch, NULL);
		send_size(fd);
	}
	sigaction(SIGINT, &sa_sig, NULL);
	sigaction(SIGTERM, &sa_sig, NULL);
	sigaction(SIGPIPE, &ign, NULL);
	unsigned char frame[5 + 65536];
	size_t have = 0;
	int matched = 0; /* of the detach keys, typed so far */
	bool in_open = !no_stdin, detached = false, ended = false;
	int killed = 0; /* --sig-proxy=false: a signal ends attach itself */
	while (!detached && !ended) {
		if (resized) {
			resized = 0;
			send_size(fd);
		}
		if (got_signal) {
			int sig = got_signal;
			got_signal = 0;
			if (!sig_proxy) {
				killed = sig;
				break;
			}
			/* passed on, as kill passes it (nothing said) */
			struct apply_ctx quiet = *cli_ctx();
			quiet.progress = NULL;
			apply_act(&quiet, NULL, &(struct ctr_info){.name = (char *)name}, 1, ACT_KILL, -1, sig, NULL);
		}
		struct pollfd pf[2] = {{fd, POLLIN, 0}, {in_open ? STDIN_FILENO : -1, POLLIN, 0}};
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(fd, frame + have, sizeof(frame) - have);
			if (r <= 0) {
				ended = true;
				break;
			}
			have += (size_t)r;
			for (;;) { /* whole frames out, to stdout or stderr */
				if (have < 5)
					break;
				size_t len = (size_t)frame[1] << 24 | (size_t)frame[2] << 16 | (size_t)frame[3] << 8 |
					     frame[4];
				if (len > sizeof(frame) - 5 || have < 5 + len) {
					if (len > sizeof(frame) - 5)
						ended = true; /* not a frame of ours */
					break;
				}
				fs_write_all(frame[0] ? STDERR_FILENO : STDOUT_FILENO, frame + 5, len);
				memmove(frame, frame + 5 + len, have - 5 - len);
				have -= 5 + len;
			}
		}
		if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			unsigned char in[4096], out[4096 + 16];
			ssize_t r = read(STDIN_FILENO, in, sizeof(in));
			if (r <= 0) {
				in_open = false;
				shutdown(fd, SHUT_WR);
				continue;
			}
			size_t k = 0;
			for (ssize_t i = 0; i < r && !detached; i++) {
				if (in[i] == seq[matched]) {
					if (++matched == nseq)
						detached = true;
					continue;
				}
				memcpy(out + k, seq,
				       (size_t)matched); /* a sequence begun and broken: its keys go through */
				k += (size_t)matched;
				matched = in[i] == seq[0];
				if (!matched)
					out[k++] = in[i];
			}
			if (k)
				send_frame(fd, 0, out, k);
		}
	}
	if (term)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	if (killed)
		return 128 + killed;
	if (detached) {
		fprintf(stderr, "read escape sequence\n");
		return 0;
	}
	/* the container ended: its exit code, once the shim has written it */
	int code = 0;
	if (ended && ctr_wait(root, name, &code, &err) < 0)
		return report(err);
	return code;
}
