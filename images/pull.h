/* Pulling an image from its registry into the store, as docker pull does:
 * the manifest (the platform's, from an index), the config, and each
 * layer the store lacks, streamed: downloaded, digested, decompressed and
 * unpacked in one pass, a few layers at a time, each committed only when
 * both its digests match. */
#ifndef BERTH_PULL_H
#define BERTH_PULL_H

#include <jansson.h>
#include <stdio.h>

#include "store.h"

struct pull_opts {
	const char *platform; /* "os/arch[/variant]"; NULL: this machine's */
	bool quiet;           /* no progress, only errors */
	FILE *out;            /* progress; NULL: stdout */
	bool plain; /* --progress plain|json|quiet, --ansi never: no bars redrawn in place, even on a terminal */
};

/* Pulls ref; *id (may be NULL) gets the image id. The store must be open
 * with its lock. */
int image_pull(struct store *s, const char *ref, const struct pull_opts *o, char **id, struct berr **err);

/* The digest of ref's manifest: its own, the one it was pulled by, or the
 * registry's answer now (st may be NULL). */
int image_digest(struct store *st, const char *ref, char **digest, struct berr **err);

/* This machine's platform, "linux/amd64" (arm: with its variant). */
char *platform_host(void);
/* From an index's manifests, the one for platform: os and architecture
 * equal; the variant equal, or compatible (arm v7 runs v6), preferring the
 * one asked for; never an attestation. NULL when none fits. */
json_t *platform_pick(json_t *manifests, const char *platform);
/* Whether a platform string is one berth understands ("os/arch[/variant]"). */
bool platform_valid(const char *p);

#endif
