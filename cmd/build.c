/* berth build (services), berth image build (a context, as docker build),
 * berth builder prune. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../builder/build.h"
#include "../images/push.h"
#include "../lib/fs.h"
#include "../orchestrator/units.h"
#include "../orchestrator/check.h"
#include "../orchestrator/keys.h"
#include "../orchestrator/node.h"
#include "../lib/util.h"
#include "../orchestrator/servicebuild.h"
#include "cli.h"

/* What --check found, as docker build --check says it; 1 when anything. */
static int check_report(char *const *warnings)
{
	size_t n = strv_len(warnings);
	for (size_t i = 0; i < n; i++)
		printf("WARNING: %s\n", warnings[i]);
	if (!n)
		printf("Check complete, no warnings found.\n");
	else
		printf("Check complete, %zu warning%s found!\n", n, n == 1 ? " has been" : "s have been");
	return n ? 1 : 0;
}

int cmd_build(struct global_opts *g, int argc, char **argv)
{
	bool no_cache = false, pull = false, quiet = false, check = false;
	char **args = NULL, **pos = NULL;
	const struct flag flags[] = {
		{"no-cache", 0, FLAG_BOOL, &no_cache, NULL, "Do not use the build cache"},
		{"pull", 0, FLAG_BOOL, &pull, NULL, "Always pull the base images"},
		{"build-arg", 0, FLAG_LIST, &args, "NAME=VALUE", "Set a build argument; repeatable"},
		{"quiet", 'q', FLAG_BOOL, &quiet, NULL, "Print nothing but errors"},
		{"check", 0, FLAG_BOOL, &check, NULL, "Parse and check the Dockerfiles without building"},
	};
	int rc = cmd_flags("build", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth build [OPTIONS] [SERVICE...]",
			   "Build or rebuild services.");
	_cleanup_(strv_freep) char **names = pos;
	_cleanup_(strv_freep) char **bargs = args;
	if (rc >= 0)
		return rc;
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	int r = project_open(g, names, false, &p, &err);
	if (r == 0)
		r = keys_check(p, true, stderr, &err);
	struct svcbuild_opts o = {.always = true,
				  .no_cache = no_cache,
				  .pull = pull,
				  .check = check,
				  .args = bargs,
				  .warnings = xcalloc(1, sizeof(char *)),
				  .out = quiet ? NULL : stderr,
				  .built = xcalloc(1, sizeof(char *))};
	for (size_t i = 0; r == 0 && names && names[i]; i++)
		if (!svcbuild_has(p, names[i]))
			fprintf(stderr, "berth: service %s has no build section; nothing to build for it\n", names[i]);
	if (r == 0)
		r = svcbuild_run(cli_ctx(), p, names, &o, &err);
	strv_free(o.built);
	int rc2 = r < 0 ? report(err) : check ? check_report(o.warnings) : 0;
	strv_free(o.warnings);
	return rc2;
}

/* berth image build [OPTIONS] CONTEXT: as docker build. */
int cmd_image_build(int argc, char **argv)
{
	bool no_cache = false, pull = false, quiet = false, check = false;
	char **args = NULL, **tags = NULL, **labels = NULL, **secrets = NULL, **hosts = NULL, **pos = NULL;
	char **contexts = NULL, **ulimits = NULL, **allow = NULL, **cache_from = NULL;
	const char *shm = NULL;
	const char *file = NULL, *target = NULL, *network = NULL;
	const struct flag flags[] = {
		{"tag", 't', FLAG_LIST, &tags, "NAME[:TAG]", "Name the image; repeatable"},
		{"file", 'f', FLAG_STR, &file, "FILE", "The Dockerfile (default: CONTEXT/Dockerfile)"},
		{"build-arg", 0, FLAG_LIST, &args, "NAME=VALUE", "Set a build argument; repeatable"},
		{"target", 0, FLAG_STR, &target, "STAGE", "Build this stage"},
		{"label", 0, FLAG_LIST, &labels, "NAME=VALUE", "Set a label on the image; repeatable"},
		{"network", 0, FLAG_STR, &network, "MODE", "RUN steps' network: default, none or host"},
		{"add-host", 0, FLAG_LIST, &hosts, "NAME:ADDRESS", "Add a line to RUN steps' /etc/hosts"},
		{"secret", 0, FLAG_LIST, &secrets, "id=ID,src=PATH", "A secret for RUN --mount=type=secret"},
		{"build-context", 0, FLAG_LIST, &contexts, "NAME=DIR|docker-image://REF",
		 "A named context; repeatable"},
		{"shm-size", 0, FLAG_STR, &shm, "SIZE", "RUN steps' /dev/shm (default 64m)"},
		{"ulimit", 0, FLAG_LIST, &ulimits, "NAME=SOFT[:HARD]", "A limit of RUN steps; repeatable"},
		{"allow", 0, FLAG_LIST, &allow, "ENTITLEMENT",
		 "security.insecure: RUN --security=insecure runs privileged; network.host: RUN --network=host"},
		{"cache-from", 0, FLAG_LIST, &cache_from, "IMAGE",
		 "Take cached steps from an image built here; repeatable"},
		{"no-cache", 0, FLAG_BOOL, &no_cache, NULL, "Do not use the build cache"},
		{"pull", 0, FLAG_BOOL, &pull, NULL, "Always pull the base images"},
		{"quiet", 'q', FLAG_BOOL, &quiet, NULL, "Print only the image id"},
		{"check", 0, FLAG_BOOL, &check, NULL, "Parse and check the Dockerfile without building"},
	};
	int rc = cmd_flags("image build", flags, ARRAY_SIZE(flags), argc, argv, &pos,
			   "berth image build [OPTIONS] CONTEXT", "Build an image from a Dockerfile.");
	_cleanup_(strv_freep) char **p = pos;
	_cleanup_(strv_freep) char **a = args, **t = tags, **l = labels, **s = secrets, **h = hosts, **c = contexts;
	_cleanup_(strv_freep) char **u = ulimits, **al = allow, **cf = cache_from;
	for (size_t i = 0; rc < 0 && al && al[i]; i++)
		if (!streq(al[i], "security.insecure") && !streq(al[i], "network.host"))
			rc = usage_error("image build", "--allow takes security.insecure or network.host");
	long long shm_bytes = 0;
	if (rc < 0 && shm && (bytes_parse(shm, &shm_bytes) < 0 || shm_bytes <= 0))
		rc = usage_error("image build", "--shm-size takes a size, like 128m");
	if (rc >= 0)
		return rc;
	if (strv_len(p) != 1)
		return usage_error("image build", "give one build context (a directory)");
	if (network && !streq(network, "default") && !streq(network, "none") && !streq(network, "host"))
		return usage_error("image build", "--network takes default, none or host");
	/* --secret id=ID,src=PATH (or source=, or type=file) as ID=PATH */
	_cleanup_(strv_freep) char **sec = xcalloc(1, sizeof(char *));
	for (size_t i = 0; s && s[i]; i++) {
		_cleanup_free_ char *copy = xstrdup(s[i]);
		const char *id = NULL, *src = NULL;
		char *save = NULL;
		for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
			if (startswith(kv, "id="))
				id = kv + 3;
			else if (startswith(kv, "src=") || startswith(kv, "source="))
				src = strchr(kv, '=') + 1;
		}
		if (!id || !src)
			return usage_error("image build", "--secret takes id=ID,src=PATH");
		strv_push(&sec, xasprintf("%s=%s", id, src));
	}
	/* a named context's directory, absolute */
	_cleanup_(strv_freep) char **ctx = xcalloc(1, sizeof(char *));
	for (size_t i = 0; c && c[i]; i++) {
		char *eq = strchr(c[i], '=');
		if (!eq || eq == c[i])
			return usage_error("image build", "--build-context takes NAME=DIR or NAME=docker-image://REF");
		_cleanup_free_ char *dir = strstr(eq + 1, "://") ? NULL : path_absolute(eq + 1);
		strv_push(&ctx, xasprintf("%.*s=%s", (int)(eq - c[i]), c[i], dir ? dir : eq + 1));
	}
	struct build_opts o = {.root = berth_root(),
			       .context = p[0],
			       .dockerfile = file,
			       .args = a,
			       .target = target,
			       .contexts = ctx,
			       .shm_size = shm_bytes,
			       .ulimits = u,
			       .cache_from = cf,
			       .privileged = strv_contains(al, "security.insecure"),
			       .host_network = strv_contains(al, "network.host") || (network && streq(network, "host")),
			       .tags = t,
			       .labels = l,
			       .no_cache = no_cache,
			       .pull = pull,
			       .quiet = quiet,
			       .network = network,
			       .hosts = h,
			       .secrets = sec,
			       .out = stderr};
	struct berr *err = NULL;
	_cleanup_free_ char *id = NULL;
	_cleanup_(strv_freep) char **warnings = NULL;
	int r = check ? build_check(&o, &warnings, &err) : build_image(&o, &id, &err);
	if (r < 0)
		return report(err);
	if (check)
		return check_report(warnings);
	if (quiet)
		printf("%s\n", id);
	return 0;
}

int cmd_builder(struct global_opts *g, int argc, char **argv)
{
	(void)g;
	bool force = false, all = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"force", 'f', FLAG_BOOL, &force, NULL, "Do not ask (berth never asks)"},
		{"all", 'a', FLAG_BOOL, &all, NULL, "The whole cache (berth's prune always takes all of it)"},
	};
	int rc = cmd_flags("builder", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth builder prune [-f]",
			   "Remove the build cache: its records, its cache mounts, and layers only it used.");
	_cleanup_(strv_freep) char **p = pos;
	if (rc >= 0)
		return rc;
	if (strv_len(p) != 1 || !streq(p[0], "prune"))
		return usage_error("builder", "the only builder command is: prune");
	struct berr *err = NULL;
	uint64_t freed = 0;
	_cleanup_(strv_freep) char **lines = xcalloc(1, sizeof(char *));
	if (build_cache_prune(berth_root(), &freed, &lines, &err) < 0)
		return report(err);
	for (size_t i = 0; lines[i]; i++)
		printf("%s\n", lines[i]);
	_cleanup_free_ char *h = human_bytes(freed);
	printf("Total reclaimed space: %s\n", h);
	return 0;
}

/* berth push [SERVICE...]: each service's image: to its registry. */
int cmd_push(struct global_opts *g, int argc, char **argv)
{
	bool ignore = false, quiet = false, deps = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"ignore-push-failures", 0, FLAG_BOOL, &ignore, NULL,
		 "Push what can be pushed, and say what could not"},
		{"include-deps", 0, FLAG_BOOL, &deps, NULL, "Also push the services they depend on"},
		{"quiet", 'q', FLAG_BOOL, &quiet, NULL, "Push without printing progress"},
	};
	int rc = cmd_flags("push", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth push [OPTIONS] [SERVICE...]",
			   "Push service images.");
	_cleanup_(strv_freep) char **names = pos;
	if (rc >= 0)
		return rc;
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	int r = project_open(g, names, false, &p, &err);
	_cleanup_(store_closep) struct store *s = NULL;
	if (r == 0)
		r = store_open(berth_root(), true, &s, &err);
	_cleanup_(strv_freep) char **done = xcalloc(1, sizeof(char *));
	for (size_t i = 0; r == 0 && p->order[i]; i++) {
		const char *name = p->order[i];
		bool named = service_named(p, names, deps, name);
		const char *image = node_str(node_map_get(project_service(p, name), "image"));
		if (!named || !image || strv_contains(done, image))
			continue;
		strv_push(&done, xstrdup(image));
		if (cli_dry_run()) {
			cli_progress(NULL, "Image", image, "Pushed");
			continue;
		}
		struct push_opts po = {.quiet = quiet, .out = stderr};
		r = image_push(s, image, &po, NULL, &err);
		if (r < 0 && ignore) {
			fprintf(stderr, "berth: service %s: %s\n", name, err->msg);
			berr_free(err);
			err = NULL;
			r = 0;
		}
	}
	return r < 0 ? report(err) : 0;
}
