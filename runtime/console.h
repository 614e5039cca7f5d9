/* A container's terminal and the streams between it and the user. The
 * terminal is always a new pseudo-terminal from the container's own devpts:
 * no descriptor of the host's terminal ever goes into a container (a
 * process holding one could push keystrokes into the host's shell with
 * TIOCSTI). berth relays between the user's terminal and its master. */
#ifndef BERTH_CONSOLE_H
#define BERTH_CONSOLE_H

#include <stdbool.h>
#include <sys/types.h>
#include <termios.h>

/* A new pseudo-terminal from the devpts at /dev/pts of the caller's root
 * (call it inside the container): the master, its slave in *slave. -errno. */
int console_new(int *slave);
/* Make slave the caller's controlling terminal and its stdin (when
 * with_stdin), stdout and stderr. -errno. */
int console_take(int slave, int with_stdin);

/* Between berth run and its container's shim: with a terminal, a socket
 * over which the shim hands berth the master of the terminal it made in
 * the container; without, three pipes. shim[] become the shim's stdio. */
struct console_link {
	bool tty;
	int shim[3];
	int sock;               /* berth's end of the socket (tty) */
	int in_w, out_r, err_r; /* berth's ends of the pipes */
};
int console_link_open(struct console_link *l, bool tty);
/* Close the shim's ends (call once the shim has them), relay until the
 * container's side closes, close berth's ends. 0, or -errno when the
 * output could not all be written (the relays below alike). */
int console_link_relay(struct console_link *l);
void console_link_close(struct console_link *l);

/* Put the terminal fd in raw mode (its settings before in *saved), first
 * taking what its user typed in canonical mode: whole lines, and an end of
 * file as the ^D it was (left in the terminal, it would read as a NUL once
 * raw). Those bytes go to pending (at most cap); returns their count, -1
 * when fd is not a terminal. */
ssize_t console_make_raw(int fd, struct termios *saved, char *pending, size_t cap);
/* Relay the user's terminal (raw while it lasts, window size kept in
 * step on SIGWINCH) and the master, until the container side closes. */
int console_relay(int master);
/* Relay our stdin into in_w (closed at our EOF) and out_r, err_r to our
 * stdout and stderr, until both reach EOF. Any of them may be -1. */
int console_relay_pipes(int in_w, int out_r, int err_r);

#endif
