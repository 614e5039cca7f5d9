/* Handing a file descriptor to another process over a unix socket
 * (SCM_RIGHTS): how a container's terminal, made inside its own devpts,
 * reaches the berth that relays it, as runc's console socket does. */
#ifndef BERTH_FDPASS_H
#define BERTH_FDPASS_H

/* Send fd over sock; 0 or -errno. */
int fd_send(int sock, int fd);
/* Receive one fd (close-on-exec) from sock; the fd, or -errno (-EPIPE when
 * the other side closed without sending). */
int fd_recv(int sock);

#endif
