/* What running an image needs from its config, and users in its files. */
#ifndef BERTH_IMGCFG_H
#define BERTH_IMGCFG_H

#include <sys/types.h>

#include "store.h"

struct image_config {
	char *id;
	char **entrypoint, **cmd, **env; /* NULL when the image has none */
	char *workdir, *user, *stop_signal;
	char **volumes; /* the paths it declares VOLUME, sorted; NULL when none */
	char **exposed; /* its EXPOSE ports, "80/tcp", sorted; NULL when none */
	/* HEALTHCHECK: Test as the config has it (["CMD", ...], ["CMD-SHELL", s],
	 * ["NONE"]), durations in ns, 0 when not given */
	char **health_test;
	int64_t health_interval, health_timeout, health_start_period, health_start_interval;
	int health_retries;
	char **layers; /* unpacked layer directories, top first */
};

int image_config_load(const struct store *s, const char *id, struct image_config *c, struct berr **err);
void image_config_free(struct image_config *c);

#endif
