/* A client of one registry (the OCI distribution API) over libcurl:
 * manifests, blobs (whole, or streamed with resumption), authentication
 * (anonymous and credentialed Bearer tokens, Basic), TLS with the CAs and
 * client certificates of /etc/docker/certs.d, plain HTTP only for loopback
 * or registries berth's configuration names insecure, mirrors for Docker
 * Hub, retries with backoff. */
#ifndef BERTH_REGISTRY_H
#define BERTH_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../lib/err.h"

/* The media types a manifest may have. */
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_V1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_V1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

struct registry;

/* berth's configuration file ($BERTH_CONFIG, else /etc/berth/config.json):
 * {"insecure-registries": ["host:port", "10.0.0.0/8"], "registry-mirrors":
 * ["https://mirror.example"], "proxies": {"http-proxy": URL, "https-proxy":
 * URL, "no-proxy": "host,…"}}, as Docker's daemon.json names them. Where
 * the certificates live: $BERTH_CERTS_DIR, else /etc/docker/certs.d. */
int registry_open(const char *domain, const char *repo, struct registry **out, struct berr **err);
void registry_close(struct registry *r);
/* The proxies of berth's configuration (each NULL when not given). */
void registry_proxies(char **http, char **https, char **no_proxy);
/* The host berth talks to ("registry-1.docker.io" for docker.io). */
const char *registry_host(const struct registry *r);

/* A manifest by tag or digest, at most 4 MiB. */
int registry_manifest(struct registry *r, const char *reference, char **body, size_t *len, char **media_type,
		      struct berr **err);
/* A whole blob (a config), at most max bytes. */
int registry_blob(struct registry *r, const char *digest, size_t max, char **body, size_t *len, struct berr **err);

/* A blob as it arrives: read until 0 (the end) or -1 (an error, in *err).
 * A dropped connection is resumed with Range where the registry allows,
 * a few times; the bytes returned are each byte of the blob once. */
struct blob_stream;
int blob_stream_open(struct registry *r, const char *digest, struct blob_stream **out, struct berr **err);
ssize_t blob_stream_read(struct blob_stream *s, void *buf, size_t n, struct berr **err);
/* Bytes so far and the size the registry announced (0 unknown). */
void blob_stream_progress(const struct blob_stream *s, uint64_t *done, uint64_t *total);
void blob_stream_close(struct blob_stream *s);

/* Pushing: tokens are asked for pull and push from now on. */
void registry_want_push(struct registry *r);
/* Whether the repository has the blob (HEAD). */
int registry_blob_exists(struct registry *r, const char *digest, bool *exists, struct berr **err);
/* Uploads the blob (size bytes read from fd, from its start) in one PUT. */
int registry_blob_upload(struct registry *r, const char *digest, int fd, uint64_t size, struct berr **err);
int registry_put_manifest(struct registry *r, const char *reference, const char *body, size_t len,
			  const char *media_type, struct berr **err);

/* Whether these credentials work (berth login): GET /v2/ and, for a token
 * service, a token without a repository's scope. */
struct creds;
int registry_check_login(struct registry *r, const struct creds *c, struct berr **err);

#endif
