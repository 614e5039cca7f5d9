/* berth login and berth logout: registry credentials in Docker's
 * config.json (or its credential store), as docker login keeps them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "../images/auth.h"
#include "../images/ref.h"
#include "../images/registry.h"
#include "cli.h"

/* "https://index.docker.io/v1/" and "docker.io" alike name Docker Hub; a
 * server is a host[:port], whatever scheme or path is written around it. */
static char *server_domain(const char *s)
{
	if (!s)
		return xstrdup("docker.io");
	const char *h = startswith(s, "https://") ? s + 8 : startswith(s, "http://") ? s + 7 : s;
	char *d = xstrndup(h, strcspn(h, "/"));
	if (streq(d, "index.docker.io") || streq(d, "registry-1.docker.io")) {
		free(d);
		d = xstrdup("docker.io");
	}
	return d;
}

/* One line from fd, without its newline; echo off when it is a terminal. */
static char *read_line(int fd, bool secret)
{
	struct termios old, quiet;
	bool tty = secret && tcgetattr(fd, &old) == 0;
	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	char line[4096];
	size_t n = 0;
	for (char c; n < sizeof(line) - 1;) {
		ssize_t k = read(fd, &c, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || c == '\n')
			break;
		line[n++] = c;
	}
	while (n && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	if (tty) {
		tcsetattr(fd, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	char *out = xstrdup(line);
	explicit_bzero(line, sizeof(line));
	return out;
}

int cmd_login(struct global_opts *g, int argc, char **argv)
{
	const char *user = NULL, *pass = NULL;
	bool stdin_pass = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"username", 'u', FLAG_STR, &user, "USER", "Username"},
		{"password", 'p', FLAG_STR, &pass, "PASS",
		 "Refused: other users can read arguments (use --password-stdin)"},
		{"password-stdin", 0, FLAG_BOOL, &stdin_pass, NULL, "Take the password from standard input"},
	};
	int rc = cmd_flags("login", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth login [OPTIONS] [SERVER]",
			   "Log in to a registry (Docker Hub when no server is named); the credentials go where docker "
			   "login keeps them.");
	if (rc < 0 && strv_len(pos) > 1)
		rc = usage_error("login", "login takes at most one server");
	if (rc < 0 && pass)
		rc = usage_error("login", "berth takes no password in its arguments, where every user of this host can "
					  "read it; give it on standard input with --password-stdin");
	if (rc < 0 && stdin_pass && !user)
		rc = usage_error("login", "--password-stdin needs --username");
	if (rc < 0 && !stdin_pass && !isatty(STDIN_FILENO))
		rc = usage_error("login", "standard input is not a terminal: give the password with --password-stdin");
	if (rc >= 0) {
		strv_free(pos);
		return rc;
	}
	_cleanup_free_ char *domain = server_domain(pos ? pos[0] : NULL);
	strv_free(pos);
	struct creds c = {0};
	if (user) {
		c.username = xstrdup(user);
	} else {
		fprintf(stderr, "Username: ");
		c.username = read_line(STDIN_FILENO, false);
	}
	if (!stdin_pass)
		fprintf(stderr, "Password: ");
	c.password = read_line(STDIN_FILENO, !stdin_pass);
	struct berr *err = NULL;
	int r = !c.username[0] || !c.password[0] ? berr_set(&err, EINVAL, "a username and a password are needed") : 0;
	struct registry *reg = NULL;
	if (r == 0)
		r = registry_open(domain, "", &reg, &err);
	if (r == 0)
		r = registry_check_login(reg, &c, &err);
	registry_close(reg);
	if (r == 0)
		r = auth_save(domain, &c, &err);
	creds_free(&c);
	if (r < 0)
		return report(err);
	printf("Login Succeeded\n");
	return 0;
}

int cmd_logout(struct global_opts *g, int argc, char **argv)
{
	char **pos = NULL;
	const struct flag flags[] = {};
	int rc = cmd_flags("logout", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth logout [SERVER]",
			   "Log out from a registry (Docker Hub when no server is named).");
	if (rc < 0 && strv_len(pos) > 1)
		rc = usage_error("logout", "logout takes at most one server");
	if (rc >= 0) {
		strv_free(pos);
		return rc;
	}
	_cleanup_free_ char *domain = server_domain(pos ? pos[0] : NULL);
	strv_free(pos);
	struct berr *err = NULL;
	int r = auth_erase(domain, &err);
	if (r < 0)
		return report(err);
	_cleanup_free_ char *key = auth_key(domain);
	printf(r ? "Removing login credentials for %s\n" : "Not logged in to %s\n", key);
	return 0;
}
