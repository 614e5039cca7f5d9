/* berth start, stop, restart, kill, pause, unpause: one mechanism on the
 * project's existing containers. */
#include <errno.h>

#include "../lib/signals.h"
#include "../orchestrator/apply.h"
#include "../orchestrator/units.h"
#include "cli.h"

void cli_selection_free(struct selection *s)
{
	ctr_info_free(s->list, s->n);
	project_free(s->p);
	if (s->lock >= 0)
		close(s->lock);
}

/* The project's containers of the named services (all without names). */
int cli_select_containers(struct global_opts *g, char **services, bool lock, struct selection *sel, struct berr **err)
{
	*sel = (struct selection){.lock = -1};
	int r = project_open(g, services, false, &sel->p, err);
	for (size_t i = 0; r == 0 && services && services[i]; i++)
		if (!project_service(sel->p, services[i]))
			r = berr_set(err, ENOENT, "no such service: %s", services[i]);
	if (r == 0 && lock)
		r = apply_lock(berth_root(), sel->p->name, &sel->lock, err);
	if (r < 0)
		return r;
	size_t n;
	struct ctr_info *all = apply_list(sel->p, berth_root(), &n);
	sel->list = xcalloc(n + 1, sizeof(*sel->list));
	/* one-off containers of berth run are theirs alone, as in docker compose */
	for (size_t i = 0; i < n; i++) {
		if (!all[i].oneoff && (!services || strv_contains(services, all[i].service)))
			sel->list[sel->n++] = all[i];
		else
			ctr_info_clear(&all[i]);
	}
	free(all);
	return 0;
}

static int64_t timeout_arg(const char *t)
{
	if (!t)
		return -1;
	long long ns;
	return duration_parse(t, &ns) == 0 ? ns / 1000000 : atoll(t) * 1000;
}

void cli_stopped(void *data, const char *kind, const char *name, const char *what)
{
	if (streq(what, "Stopped"))
		cli_progress(data, kind, name, what);
}

static int act(struct global_opts *g, int argc, char **argv, enum apply_action a)
{
	static const char *const names[] = {"start", "stop", "restart", "kill", "pause", "unpause"};
	static const char *const summaries[] = {"Start existing containers.",
						"Stop running containers.",
						"Restart containers.",
						"Send a signal to containers (default SIGKILL).",
						"Pause services: every process of their containers frozen.",
						"Unpause services."};
	bool all_projects = false, no_deps = false, remove_orphans = false, wait = false;
	const char *timeout = NULL, *signame = NULL, *wait_timeout = NULL;
	char **pos = NULL;
	const struct {
		unsigned on; /* the actions that take it */
		struct flag f;
	} known[] = {
		{1u << ACT_STOP | 1u << ACT_RESTART,
		 {"timeout", 't', FLAG_STR, &timeout, "SECONDS", "Shutdown timeout"}},
		{1u << ACT_KILL, {"signal", 's', FLAG_STR, &signame, "SIGNAL", "Signal to send (default SIGKILL)"}},
		{1u << ACT_KILL,
		 {"remove-orphans", 0, FLAG_BOOL, &remove_orphans, NULL,
		  "Remove containers of services no longer in the file"}},
		{1u << ACT_START,
		 {"all-projects", 0, FLAG_BOOL, &all_projects, NULL,
		  "After a boot: every container of every project whose restart policy brings it back (what systemd "
		  "runs at boot)"}},
		{1u << ACT_START,
		 {"wait", 0, FLAG_BOOL, &wait, NULL, "Wait for the services to be running and healthy"}},
		{1u << ACT_START, {"wait-timeout", 0, FLAG_STR, &wait_timeout, "SECONDS", "How long --wait waits"}},
		{1u << ACT_RESTART,
		 {"no-deps", 0, FLAG_BOOL, &no_deps, NULL, "Do not restart the services that depend on them"}},
	};
	struct flag flags[ARRAY_SIZE(known)];
	size_t nflags = 0;
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (known[i].on & (1u << a))
			flags[nflags++] = known[i].f;
	_cleanup_free_ char *usage = xasprintf("berth %s [OPTIONS] [SERVICE...]", names[a]);
	int rc = cmd_flags(names[a], flags, nflags, argc, argv, &pos, usage, summaries[a]);
	if (rc >= 0) {
		strv_free(pos);
		return rc;
	}
	if (all_projects) {
		struct berr *err = NULL;
		int r = pos && pos[0] ? usage_error("start", "--all-projects takes no service names")
				      : apply_start_all(cli_ctx(), &err);
		strv_free(pos);
		return r < 0 ? report(err) : r;
	}
	int sig = signame ? signal_from_name(signame) : 9;
	if (sig < 0) {
		strv_free(pos);
		return usage_error("kill", "unknown signal");
	}
	struct berr *err = NULL;
	struct selection sel;
	int r = cli_select_containers(g, pos, true, &sel, &err);
	if (r == 0 && a == ACT_RESTART && pos && pos[0] && !no_deps) {
		/* and what depends on them with restart: true, as docker compose restarts it */
		_cleanup_(strv_freep) char **more = apply_restart_dependents(sel.p, pos);
		if (more[0]) {
			for (size_t i = 0; more[i]; i++)
				strv_push(&pos, xstrdup(more[i]));
			cli_selection_free(&sel);
			r = cli_select_containers(g, pos, true, &sel, &err);
		}
	}
	if (r == 0 && a == ACT_START && pos && pos[0]) {
		/* what they depend on first, as docker compose starts it */
		size_t had = strv_len(pos);
		for (size_t i = 0; pos[i]; i++) {
			struct node *deps = node_map_get(project_service(sel.p, pos[i]), "depends_on");
			for (size_t k = 0; deps && deps->kind == NODE_MAP && k < deps->n; k++)
				if (!strv_contains(pos, deps->pairs[k].key) &&
				    project_service(sel.p, deps->pairs[k].key))
					strv_push(&pos, xstrdup(deps->pairs[k].key));
		}
		if (strv_len(pos) > had) {
			cli_selection_free(&sel);
			r = cli_select_containers(g, pos, true, &sel, &err);
		}
	}
	if (r == 0)
		r = apply_act(cli_ctx(), sel.p, sel.list, sel.n, a, timeout_arg(timeout), sig, &err);
	if (r == 0 && cli_dry_run()) {
		cli_selection_free(&sel);
		strv_free(pos);
		return 0;
	}
	if (r == 0 && remove_orphans)
		r = apply_remove_orphans(cli_ctx(), sel.p, -1, &err);
	if (r == 0 && wait)
		r = wait_services_ready(sel.p, pos, wait_timeout, &err);
	cli_selection_free(&sel);
	strv_free(pos);
	return r < 0 ? report(err) : 0;
}

int cmd_start(struct global_opts *g, int argc, char **argv) { return act(g, argc, argv, ACT_START); }

int cmd_stop(struct global_opts *g, int argc, char **argv) { return act(g, argc, argv, ACT_STOP); }

int cmd_restart(struct global_opts *g, int argc, char **argv) { return act(g, argc, argv, ACT_RESTART); }

int cmd_kill(struct global_opts *g, int argc, char **argv) { return act(g, argc, argv, ACT_KILL); }

int cmd_pause(struct global_opts *g, int argc, char **argv) { return act(g, argc, argv, ACT_PAUSE); }

int cmd_unpause(struct global_opts *g, int argc, char **argv) { return act(g, argc, argv, ACT_UNPAUSE); }
