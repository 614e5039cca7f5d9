/* The image store under <root>/images: content-addressed blobs (verified as
 * they are written), unpacked layers once each, image records and tags.
 * Every file is written to a temporary name, fsynced and renamed. */
#ifndef BERTH_STORE_H
#define BERTH_STORE_H

#include <jansson.h>
#include <stdint.h>

#include "../lib/err.h"

struct store {
	char *dir; /* <root>/images */
	int lock_fd;
};

/* Open (creating) the store; with lock, hold its lock until store_close. */
int store_open(const char *root, bool lock, struct store **out, struct berr **err);
void store_close(struct store *s);
void store_closep(struct store **s);

/* Streaming blob writes: the digest is computed as data goes in. */
struct blob_writer;
int blob_writer_open(struct store *s, struct blob_writer **out, struct berr **err);
int blob_writer_write(struct blob_writer *w, const void *data, size_t len, struct berr **err);
/* Commit under the computed digest (returned in digest, "sha256:<hex>"); when
 * expect is set, a different digest is an error and nothing is kept.
 * existed tells whether the store already had that blob. */
int blob_writer_commit(struct blob_writer *w, const char *expect, char digest[72], uint64_t *size, bool *existed,
		       struct berr **err);
void blob_writer_abort(struct blob_writer *w);

char *store_blob_path(const struct store *s, const char *digest);
bool store_has_blob(const struct store *s, const char *digest);
int store_read_blob(const struct store *s, const char *digest, size_t max, char **data, size_t *len, struct berr **err);
void store_remove_blob(const struct store *s, const char *digest);

/* Unpacked layers: <dir>/layers/<hex of diff_id>. */
char *store_layer_path(const struct store *s, const char *diff_id);

/* Image records (<dir>/meta/<hex>.json) keyed by image id (config digest). */
int store_put_image(struct store *s, const char *id, json_t *record, struct berr **err);
int store_get_image(const struct store *s, const char *id, json_t **record, struct berr **err);
int store_remove_image(struct store *s, const char *id, struct berr **err);
/* Every image id in the store. */
char **store_list_images(const struct store *s);

/* Tags: full reference string -> image id (<dir>/tags.json). */
int store_tags(const struct store *s, json_t **tags, struct berr **err);
int store_set_tag(struct store *s, const char *ref, const char *id, struct berr **err);
int store_remove_tag(struct store *s, const char *ref, struct berr **err);

/* Now, as image records keep times: "2026-11-26T01:02:03Z". */
char *store_timestamp(void);

/* An image id from a user's words: a reference, a full id, or an id prefix. */
int store_resolve(const struct store *s, const char *what, char **id, struct berr **err);

#endif
