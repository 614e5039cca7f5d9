/* Image references, normalized as Docker does:
 * "busybox" = docker.io/library/busybox:latest. */
#ifndef BERTH_REF_H
#define BERTH_REF_H

#include "../lib/err.h"

struct image_ref {
	char *domain; /* "docker.io", "localhost:5000" */
	char *path;   /* "library/busybox" */
	char *tag;    /* "latest"; NULL when only a digest was given */
	char *digest; /* "sha256:<64 hex>" or NULL */
};

int ref_parse(const char *s, struct image_ref *out, struct berr **err);
void ref_free(struct image_ref *r);
/* "docker.io/library/busybox:latest" (tag and/or @digest). */
char *ref_string(const struct image_ref *r);
/* The short form Docker shows: "busybox:latest", "user/app:1", "localhost:5000/x:y". */
char *ref_familiar(const struct image_ref *r);
/* The repository part alone, familiar ("busybox", "localhost:5000/x"). */
char *ref_familiar_repo(const struct image_ref *r);
bool digest_valid(const char *d);
/* docker.io, index.docker.io and registry-1.docker.io: Docker Hub, by any of its names. */
bool ref_is_hub(const char *domain);

#endif
