/* berth down. */

#include "../runtime/ctr.h"
#include "../orchestrator/servicebuild.h"
#include "../images/image.h"
#include "cli.h"

/* down --rmi: the images of the project's services (local: those built
 * for services without image:, named <project>-<service>; all: every
 * service's); an image another container still uses is said and kept. */
static void remove_images(const struct project *p, bool all)
{
	struct store *s = NULL;
	struct berr *err = NULL;
	if (store_open(berth_root(), true, &s, &err) < 0) {
		fprintf(stderr, "berth: %s\n", err->msg);
		berr_free(err);
		return;
	}
	_cleanup_(strv_freep) char **done = xcalloc(1, sizeof(char *));
	_cleanup_(strv_freep) char **used = ctr_layers_in_use(berth_root());
	for (size_t i = 0; p->order && p->order[i]; i++) {
		struct node *svc = project_service(p, p->order[i]);
		bool named = node_str(node_map_get(svc, "image")) != NULL;
		_cleanup_free_ char *image = svcbuild_image(p, p->order[i]);
		char *id = NULL;
		if ((!all && named) || strv_contains(done, image) || store_resolve(s, image, &id, NULL) < 0)
			continue;
		free(id);
		strv_push(&done, xstrdup(image));
		if (cli_dry_run()) {
			cli_progress(NULL, "Image", image, "Removed");
			continue;
		}
		char **lines = xcalloc(1, sizeof(char *));
		if (image_remove(s, image, false, used, &lines, &err) == 0) {
			cli_progress(NULL, "Image", image, "Removed");
		} else {
			fprintf(stderr, "berth: image %s: %s\n", image, err->msg);
			berr_free(err);
			err = NULL;
		}
		strv_free(lines);
	}
	store_close(s);
}

int cmd_down(struct global_opts *g, int argc, char **argv)
{
	bool remove_orphans = false, volumes = false;
	const char *timeout = NULL, *rmi = NULL;
	char **pos = NULL;
	const struct flag flags[] = {
		{"remove-orphans", 0, FLAG_BOOL, &remove_orphans, NULL,
		 "Also remove containers of services not in the file"},
		{"volumes", 'v', FLAG_BOOL, &volumes, NULL, "Remove named volumes declared in the file"},
		{"timeout", 't', FLAG_STR, &timeout, "SECONDS", "Shutdown timeout"},
		{"rmi", 0, FLAG_STR, &rmi, "TYPE", "Remove the services' images: local (built ones) or all"},
	};
	int rc = cmd_flags("down", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth down [OPTIONS] [SERVICE...]",
			   "Stop and remove containers (and with -v, named volumes); of the services named, when any.");
	_cleanup_(strv_freep) char **names = pos;
	if (rc < 0 && rmi && !streq(rmi, "local") && !streq(rmi, "all"))
		rc = usage_error("down", "--rmi takes local or all");
	if (rc >= 0)
		return rc;
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	_cleanup_close_ int lock = -1;
	int r = project_open_listing(g, names, &p, &err);
	if (r == 0)
		r = apply_lock(berth_root(), p->name, &lock, &err);
	/* without its file, every container of the project goes */
	struct down_opts o = {.services = names,
			      .remove_orphans = remove_orphans ||
						(p && (!p->files[0] || cli_env_true(p, "COMPOSE_REMOVE_ORPHANS"))),
			      .volumes = volumes,
			      .timeout_ms = cli_timeout_ms(timeout)};
	if (r == 0)
		r = apply_down(cli_ctx(), p, &o, &err);
	if (r == 0 && rmi)
		remove_images(p, streq(rmi, "all"));
	return r < 0 ? report(err) : 0;
}
