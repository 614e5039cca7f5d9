/* A RUN step: the command in a container of berth's runtime (Docker's
 * default capabilities and seccomp profile, its own namespaces) on the
 * stage's layers, with the build's network; what it wrote is left in an
 * upper directory for the layer. */
#ifndef BERTH_BUILD_RUN_H
#define BERTH_BUILD_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "../runtime/spec.h"

/* The network RUN steps use by default: a bridge with NAT, as Docker's. */
#define BUILD_NETWORK "berth-build"

struct brun {
	const char *root; /* berth's state root */
	const char *name; /* of the container */
	char **layers;    /* top first, at least one */
	char **argv, **env;
	const char *cwd, *user;
	const char *network; /* "default", "none" or "host" */
	char **hosts;        /* /etc/hosts lines besides localhost: "ADDRESS NAME" */
	struct mount_spec *mounts;
	size_t nmounts;
	int64_t shm_size; /* 0: Docker's 64 MiB */
	bool privileged;  /* RUN --security=insecure: every capability, no seccomp, the host's devices */
	struct rlimit_spec *rlimits;
	size_t nrlimits;
	/* the command's output, as it comes */
	void (*output)(void *data, const char *text, size_t len);
	void *data;
};

/* Runs it to its end: *code is its exit code; *upper (a directory beside
 * the state root's containers) holds what it changed. The container is
 * gone afterwards, whatever happened. */
int brun_step(const struct brun *b, int *code, char **upper, struct berr **err);

/* The paths a RUN container mounts over that the image may lack. */
extern const char *const brun_stubs[];

/* Removes the build network once no build uses it. */
void brun_network_release(const char *root);

#endif
