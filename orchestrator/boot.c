/* After a reboot: every container whose restart policy brings it back,
 * in dependency order across projects. */
#include "apply.h"
#include "applier.h"

#include <errno.h>

#include "../lib/log.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../runtime/ctr.h"

/* Whether a container comes back when the host does, as dockerd decides
 * at boot: always, if it ever started; unless-stopped, unless a user
 * stopped it; on-failure, if it did not end well (running when the host
 * went down counts as a failure, as Docker records it with 255). */
static bool comes_back(const struct ctr_spec *s, const struct ctr_state *st)
{
	if (!st->started_at)
		return false;
	bool was_up = st->status == ST_RUNNING || st->status == ST_RESTARTING;
	switch (s->restart) {
	case RESTART_ALWAYS:
		return true;
	case RESTART_UNLESS_STOPPED:
		return !st->stopped_by_user;
	case RESTART_ON_FAILURE:
		return !st->stopped_by_user && (was_up || st->exit_code != 0);
	default:
		return false;
	}
}

struct boot_entry {
	char *name, *project, *service;
	char **deps;
	int level;
};

static int boot_level(struct boot_entry *v, size_t n, size_t i, int depth)
{
	int level = 0;
	for (size_t d = 0; depth < 64 && v[i].deps && v[i].deps[d]; d++)
		for (size_t k = 0; k < n; k++)
			if (streq(v[k].project, v[i].project) && streq(v[k].service, v[i].deps[d])) {
				int l = boot_level(v, n, k, depth + 1) + 1;
				level = l > level ? l : level;
			}
	return level;
}

int apply_start_all(const struct apply_ctx *ctx, struct berr **err)
{
	const char *root = ctx->root;
	char **names = ctr_list(root);
	struct boot_entry *v = xcalloc(strv_len(names) + 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; names[i]; i++) {
		_cleanup_(json_releasep) json_t *meta = apply_meta(root, names[i]);
		_cleanup_free_ char *dir = ctr_dir(root, names[i]);
		_cleanup_free_ char *path = path_join(dir, "spec.json");
		struct ctr_spec s;
		struct ctr_state st = {0};
		bool back = false;
		if (meta && !json_is_true(json_object_get(meta, "oneoff")) && !ctr_up(root, names[i], NULL) &&
		    spec_read(path, &s, NULL) == 0) {
			back = ctr_state(root, names[i], &st, NULL) == 0 && comes_back(&s, &st);
			spec_free(&s);
			state_free(&st);
		}
		if (back)
			v[n++] = (struct boot_entry){xstrdup(names[i]),
						     xstrdup(json_string_value(json_object_get(meta, "project")) ?: ""),
						     xstrdup(json_string_value(json_object_get(meta, "service")) ?: ""),
						     json_strv(json_object_get(meta, "depends_on")), 0};
	}
	strv_free(names);
	/* each project's lock, so that no up or down of it runs meanwhile */
	char **projects = xcalloc(1, sizeof(char *));
	int *locks = xcalloc(n + 1, sizeof(int));
	size_t nl = 0;
	int r = 0, top = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		v[i].level = boot_level(v, n, i, 0);
		top = v[i].level > top ? v[i].level : top;
		if (strv_contains(projects, v[i].project))
			continue;
		strv_push(&projects, xstrdup(v[i].project));
		r = apply_lock(root, v[i].project, &locks[nl], err);
		nl += r == 0;
	}
	/* one bring-up path, as start's: the kernel state first (bridges,
	 * namespaces, then firewall and names), then level by level */
	char **order = xcalloc(n + 1, sizeof(char *));
	size_t k = 0;
	for (int l = 0; l <= top; l++)
		for (size_t i = 0; i < n; i++)
			if (v[i].level == l)
				order[k++] = v[i].name;
	if (r == 0 && n)
		r = apply_bring_up(ctx, NULL, order, k, true, err);
	free(order); /* shallow */
	for (size_t i = 0; i < nl; i++)
		close(locks[i]);
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].project);
		free(v[i].service);
		strv_free(v[i].deps);
	}
	free(v);
	free(locks);
	strv_free(projects);
	return r;
}
