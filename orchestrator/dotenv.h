/* The .env and env_file format as Compose reads it (05-services.md#env_file):
 * comments, export prefix, single quotes literal, double quotes with escapes
 * over several lines, inline comments after a space, interpolation. */
#ifndef BERTH_DOTENV_H
#define BERTH_DOTENV_H

#include "../lib/err.h"
#include "env.h"

/* Parse text into out. Interpolation looks up lookup first, then the
 * variables already read from this text. raw skips quotes and interpolation. */
int dotenv_parse(const char *path, const char *text, env_lookup_fn lookup, void *ctx, bool raw, struct env *out,
		 struct berr **err);
int dotenv_read(const char *path, env_lookup_fn lookup, void *ctx, bool raw, struct env *out, struct berr **err);

#endif
