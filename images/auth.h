/* Registry credentials as Docker keeps them ($DOCKER_CONFIG/config.json,
 * else ~/.docker/config.json: "auths", "credsStore", "credHelpers" run as
 * docker-credential-NAME), and the WWW-Authenticate challenges registries
 * answer with. Credentials never reach output, logs, errors or argv. */
#ifndef BERTH_AUTH_H
#define BERTH_AUTH_H

#include "../lib/err.h"

/* A parsed WWW-Authenticate header: its scheme ("bearer", "basic",
 * lowercased) and the parameters a registry sends. */
struct challenge {
	char *scheme, *realm, *service, *scope, *error;
};
/* 0, or -1 when the header is not a challenge. */
int auth_parse_challenge(const char *header, struct challenge *c);
void challenge_free(struct challenge *c);

struct creds {
	char *username, *password;
	char *identity_token; /* an OAuth refresh token, instead of a password */
};
void creds_free(struct creds *c);

/* The key under which Docker files a registry's credentials:
 * "https://index.docker.io/v1/" for Docker Hub, else host[:port]. */
char *auth_key(const char *domain);
/* The config file berth reads and writes. */
char *auth_config_path(void);
/* Credentials for a registry (its domain as in a reference): 1 found, 0
 * none, < 0 an error (a config file that cannot be read, a helper that
 * fails other than with "credentials not found"). */
int auth_lookup(const char *domain, struct creds *c, struct berr **err);
/* berth login: kept in the credential store when config.json names one
 * (credHelpers for the host, else credsStore), else in auths; the file is
 * written with mode 0600. */
int auth_save(const char *domain, const struct creds *c, struct berr **err);
/* berth logout: 1 removed, 0 there were none. */
int auth_erase(const char *domain, struct berr **err);
/* "scheme://host:port" of a URL, lowercased, the scheme's port made
 * explicit (NULL: not an http or https URL): where credentials may go. */
char *auth_origin(const char *url);
/* Whether two URLs have the same origin: credentials for one may go to the other. */
bool auth_same_origin(const char *a, const char *b);

#endif
