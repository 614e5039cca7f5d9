/* berth wait, and what a shim runs to remove a container of run -d --rm. */
#include <errno.h>
#include <time.h>

#include "../lib/json.h"
#include "../orchestrator/apply.h"
#include "../runtime/ctr.h"
#include "cli.h"

int cmd_autoremove(int argc, char **argv)
{
	if (argc != 3 || !argv[1][0] || strchr(argv[2], '/') || argv[2][0] == '.' || !argv[2][0])
		return 2;
	setenv("BERTH_ROOT", argv[1], 1);
	const char *root = berth_root(), *name = argv[2];
	/* its shim goes first (it is the one that started this) */
	for (int i = 0; i < 300 && ctr_up(root, name, NULL); i++)
		nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
	_cleanup_(json_releasep) json_t *meta = apply_meta(root, name);
	const char *project = json_string_value(json_object_get(meta, "project"));
	int lock = -1, r = -1;
	_cleanup_(berr_freep) struct berr *err = NULL;
	if (project && ctr_exists(root, name) && !ctr_up(root, name, NULL) &&
	    apply_lock(root, project, &lock, &err) == 0) {
		struct apply_ctx ctx = {.root = root};
		r = apply_rm(&ctx, &(struct ctr_info){.name = (char *)name}, 1, false, true, &err);
	}
	if (lock >= 0)
		close(lock);
	return r < 0;
}

/* berth wait SERVICE...: until their containers have stopped; the exit
 * code of the first to stop. --down-project: the project goes down as
 * soon as one stops, as docker compose wait --down-project does. */
int cmd_wait(struct global_opts *g, int argc, char **argv)
{
	bool down = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"down-project", 0, FLAG_BOOL, &down, NULL, "Take the project down when the first container stops"},
	};
	int rc = cmd_flags("wait", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth wait SERVICE [SERVICE...]",
			   "Block until the containers of the services stop; exit with the first one's code.");
	_cleanup_(strv_freep) char **names = pos;
	if (rc >= 0)
		return rc;
	if (!names || !names[0])
		return usage_error("wait", "give the services to wait for");
	struct berr *err = NULL;
	struct selection sel;
	int r = cli_select_containers(g, names, false, &sel, &err);
	if (r == 0 && sel.n == 0)
		r = berr_set(&err, ENOENT, "no containers of %s to wait for", names[0]);
	const char *root = berth_root();
	int code = -1;
	bool *done = xcalloc(sel.n + 1, sizeof(bool));
	for (size_t i = 0; r == 0 && cli_dry_run() && i < sel.n; i++) { /* said; nothing waited for */
		done[i] = true;
		cli_progress(NULL, "Container", sel.list[i].name,
			     ctr_running(root, sel.list[i].name) ? "would be waited for" : "Exited");
	}
	for (size_t left = cli_dry_run() ? 0 : sel.n; r == 0 && left > 0;) {
		for (size_t i = 0; i < sel.n; i++) {
			if (done[i] || ctr_running(root, sel.list[i].name))
				continue;
			done[i] = true;
			left--;
			struct ctr_state st;
			if (code < 0 && ctr_state(root, sel.list[i].name, &st, NULL) == 0) {
				code = st.exit_code < 0 ? 255 : st.exit_code;
				state_free(&st);
			}
		}
		if (left > 0 && down && code >= 0)
			break;
		if (left > 0)
			nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
	}
	free(done);
	if (r == 0 && down) {
		int lock = -1;
		r = apply_lock(root, sel.p->name, &lock, &err);
		struct down_opts o = {.timeout_ms = -1};
		if (r == 0)
			r = apply_down(cli_ctx(), sel.p, &o, &err);
		if (lock >= 0)
			close(lock);
	}
	cli_selection_free(&sel);
	return r < 0 ? report(err) : code < 0 ? 0 : code;
}
