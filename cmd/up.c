/* berth up. */
#include <errno.h>
#include <sys/wait.h>

#include "../orchestrator/units.h"
#include "../runtime/ctr.h"
#include "../orchestrator/keys.h"
#include "../orchestrator/watch.h"
#include "cli.h"
#include "logs.h"

int64_t cli_timeout_ms(const char *t)
{
	if (!t)
		return -1;
	long long ns;
	if (duration_parse(t, &ns) == 0)
		return ns / 1000000;
	return atoll(t) * 1000;
}

static volatile sig_atomic_t interrupted;

struct attach_opts {
	bool prefix, color, timestamps, abort_on_exit, abort_on_failure;
	const char *exit_from;
	char **attach, **no_attach; /* services whose logs to show, or not */
	char **services;            /* up SERVICE...: only those are attached (NULL: all) */
	bool attach_deps;           /* --attach-dependencies: what they depend on too */
	int64_t timeout;
};

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted++;
}

struct attach_ctx {
	const char *root;
	char **names, **shown; /* containers, and their names as the log prefix shows them */
	bool abort_on_exit, abort_on_failure;
	bool *was_up; /* to say when one ends */
	bool failed;
};

/* Also says "NAME exited with code N" when a container ends, as docker
 * compose does; with --abort-on-container-exit (or -failure) one that
 * ends (or fails) ends it all. */
static bool attach_done(void *data)
{
	struct attach_ctx *a = data;
	if (interrupted)
		return true;
	size_t up = 0, n = strv_len(a->names);
	bool ended = false;
	for (size_t i = 0; i < n; i++) {
		bool now = ctr_up(a->root, a->names[i], NULL);
		up += now;
		if (a->was_up[i] && !now) {
			struct ctr_state st;
			int code = ctr_state(a->root, a->names[i], &st, NULL) == 0 ? st.exit_code : -1;
			if (code >= 0)
				state_free(&st);
			printf("%s exited with code %d\n", a->shown[i], code);
			fflush(stdout);
			ended = true;
			a->failed |= code != 0;
		}
		a->was_up[i] = now;
	}
	return up == 0 || (a->abort_on_exit && ended) || (a->abort_on_failure && a->failed);
}

/* Attached: stream the containers' logs (from the start for those this up
 * made, only new lines of those that ran already) until they end or
 * Ctrl-C; the first Ctrl-C stops the stack gracefully, a second one kills
 * it. attach / no_attach: whose logs. */
static int attach(const struct project *p, const char *root, const struct attach_opts *o, int64_t since_ms)
{
	size_t n;
	struct ctr_info *all = apply_list(p, root, &n);
	struct ctr_info *list = xcalloc(n + 1, sizeof(*list));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		/* attach: false leaves a service out, unless --attach names it */
		bool off = false;
		struct node *an = node_map_get(project_service(p, all[i].service), "attach");
		off = an && node_bool(an, &off) == 0 && !off;
		/* up SERVICE attaches to SERVICE, its dependencies only when asked; never to an orphan */
		bool named = !o->services || !o->services[0] || o->attach_deps ||
			     strv_contains(o->services, all[i].service);
		bool want = !all[i].oneoff && project_service(p, all[i].service) &&
			    (o->attach ? strv_contains(o->attach, all[i].service) : !off && named) &&
			    !(o->no_attach && strv_contains(o->no_attach, all[i].service));
		if (want)
			list[k++] = all[i];
		else
			ctr_info_clear(&all[i]);
	}
	free(all);
	n = k;
	struct log_view *lv = log_view_new(p->name, list, n, o->prefix, o->color, o->timestamps);
	lv->only_new = xcalloc(n + 1, sizeof(bool));
	bool *was_up = xcalloc(n + 1, sizeof(bool));
	for (size_t i = 0; i < n; i++) {
		lv->only_new[i] = list[i].created_ms < since_ms;
		was_up[i] = ctr_up(root, list[i].name, NULL);
	}
	struct attach_ctx a = {root,   lv->names, lv->shown, o->abort_on_exit || o->exit_from, o->abort_on_failure,
			       was_up, false};
	if (n) { /* as docker compose begins */
		struct buf names = {0};
		for (size_t i = 0; i < n; i++)
			buf_printf(&names, "%s%s", i ? ", " : "", lv->shown[i]);
		fprintf(stderr, "Attaching to %s\n", names.s);
		buf_free(&names);
	}
	struct sigaction sa = {.sa_handler = on_interrupt};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	show_logs(root, lv, -1, true, attach_done, &a);
	int rc = 0;
	if (interrupted || a.abort_on_exit || a.abort_on_failure) {
		fprintf(stderr, interrupted ? "Gracefully stopping... (press Ctrl+C again to force)\n"
					    : "Aborting on container exit...\n");
		/* as stop stops them: dependents first, a level at once; a second
		 * Ctrl-C, at once */
		const struct ctr_info **cs = xcalloc(n + 1, sizeof(*cs));
		for (size_t i = 0; i < n; i++)
			cs[i] = &list[i];
		struct berr *e = NULL;
		if (apply_stop(cli_ctx(), p, cs, n, interrupted > 1 ? 0 : o->timeout, cli_progress, NULL, &e) < 0)
			fprintf(stderr, "berth: %s\n", e->msg);
		berr_free(e);
		free(cs);
	}
	for (size_t i = 0; o->exit_from && i < n; i++) {
		struct ctr_state st;
		if (streq(list[i].service, o->exit_from) && ctr_state(root, list[i].name, &st, NULL) == 0) {
			rc = st.exit_code;
			state_free(&st);
		}
	}
	if (!o->exit_from && o->abort_on_failure && a.failed)
		rc = 1;
	free(was_up);
	log_view_free(lv);
	ctr_info_free(list, n);
	return rc;
}

/* up --wait: the selected services' containers running and healthy, or done. */
int wait_services_ready(const struct project *p, char **services, const char *timeout, struct berr **err)
{
	long long ns = 0; /* seconds, as docker compose takes it, or a duration ("1m") */
	if (timeout && (strspn(timeout, "0123456789") == strlen(timeout) || duration_parse(timeout, &ns) < 0))
		ns = atoll(timeout) * 1000000000LL;
	int r = apply_wait_ready(p, berth_root(), services, ns / 1000000, err);
	if (r < 0 && timeout) { /* said after what is not ready, as before */
		_cleanup_free_ char *msg = xasprintf("%s (--wait-timeout)", (*err)->msg);
		berr_free(*err);
		*err = NULL;
		r = berr_set(err, -r, "%s", msg);
	}
	return r;
}

/* --dry-run --remove-orphans: the containers that would go. */
static void dry_orphans(const struct project *p)
{
	_cleanup_(strv_freep) char **orphans = apply_orphans(berth_root(), p);
	for (size_t i = 0; orphans[i]; i++)
		cli_progress(NULL, "Container", orphans[i], "Removed");
}

bool cli_env_true(const struct project *p, const char *name)
{
	const char *v = env_get(&p->env, name);
	return v && (streq(v, "1") || strcasecmp(v, "true") == 0);
}

/* Containers of services the file no longer has: removed when asked
 * (--remove-orphans, or COMPOSE_REMOVE_ORPHANS, also from .env), else
 * named in a warning unless COMPOSE_IGNORE_ORPHANS, as docker compose. */
bool cli_orphans_wanted_gone(const struct project *p, bool flag)
{
	if (flag || cli_env_true(p, "COMPOSE_REMOVE_ORPHANS"))
		return true;
	if (cli_env_true(p, "COMPOSE_IGNORE_ORPHANS"))
		return false;
	_cleanup_(strv_freep) char **orphans = apply_orphans(berth_root(), p);
	struct buf names = {0};
	for (size_t i = 0; orphans[i]; i++)
		buf_printf(&names, "%s%s", names.len ? ", " : "", orphans[i]);
	if (names.len)
		fprintf(stderr,
			"berth: warning: found orphan containers (%s) for this project. If you removed or renamed this "
			"service in your compose file, you can run this command with the --remove-orphans flag to "
			"clean it "
			"up.\n",
			names.s);
	buf_free(&names);
	return false;
}

int cmd_up(struct global_opts *g, int argc, char **argv)
{
	bool detach = false, no_start = false, no_deps = false, remove_orphans = false;
	bool abort_on_exit = false, no_prefix = false, no_color = false, wait = false;
	bool force_recreate = false, no_recreate = false, timestamps = false, abort_on_failure = false, yes = false;
	bool always_recreate_deps = false, renew_anon = false, quiet_pull = false, build = false, no_build = false;
	bool watch = false, attach_deps = false, menu = false;
	char **scales = NULL, **attach_to = NULL, **no_attach = NULL;
	const char *timeout = NULL, *exit_from = NULL, *wait_timeout = NULL, *pull = NULL;
	char **pos = NULL;
	const struct flag flags[] = {
		{"detach", 'd', FLAG_BOOL, &detach, NULL, "Run containers in the background"},
		{"no-start", 0, FLAG_BOOL, &no_start, NULL, "Create containers without starting them"},
		{"menu", 0, FLAG_BOOL, &menu, NULL,
		 "Accepted as docker compose's; berth has no navigation menu (a warning)"},
		{"no-deps", 0, FLAG_BOOL, &no_deps, NULL, "Do not start linked services"},
		{"remove-orphans", 0, FLAG_BOOL, &remove_orphans, NULL,
		 "Remove containers of services no longer in the file"},
		{"timeout", 't', FLAG_STR, &timeout, "SECONDS", "Shutdown timeout when attached"},
		{"abort-on-container-exit", 0, FLAG_BOOL, &abort_on_exit, NULL, "Stop all containers if any stops"},
		{"exit-code-from", 0, FLAG_STR, &exit_from, "SERVICE", "Return the exit code of this service"},
		{"no-log-prefix", 0, FLAG_BOOL, &no_prefix, NULL, "Do not print the container name in logs"},
		{"no-color", 0, FLAG_BOOL, &no_color, NULL, "Monochrome output"},
		{"wait", 0, FLAG_BOOL, &wait, NULL, "Wait for services to be running and healthy (implies -d)"},
		{"force-recreate", 0, FLAG_BOOL, &force_recreate, NULL, "Recreate containers even if nothing changed"},
		{"no-recreate", 0, FLAG_BOOL, &no_recreate, NULL, "Do not recreate containers that exist"},
		{"scale", 0, FLAG_LIST, &scales, "SERVICE=N", "Run N containers of SERVICE; repeatable"},
		{"wait-timeout", 0, FLAG_STR, &wait_timeout, "SECONDS", "How long --wait waits"},
		{"abort-on-container-failure", 0, FLAG_BOOL, &abort_on_failure, NULL,
		 "Stop all containers if any fails (exits non-zero)"},
		{"attach", 0, FLAG_LIST, &attach_to, "SERVICE", "Show only these services' logs; repeatable"},
		{"no-attach", 0, FLAG_LIST, &no_attach, "SERVICE", "Do not show these services' logs; repeatable"},
		{"timestamps", 0, FLAG_BOOL, &timestamps, NULL, "Show timestamps in the logs"},
		{"yes", 'y', FLAG_BOOL, &yes, NULL, "Assume yes: a network that diverged from the file is made again"},
		{"always-recreate-deps", 0, FLAG_BOOL, &always_recreate_deps, NULL,
		 "Recreate what the services depend on"},
		{"renew-anon-volumes", 'V', FLAG_BOOL, &renew_anon, NULL,
		 "Recreated containers get new anonymous volumes, not the old ones' data"},
		{"pull", 0, FLAG_STR, &pull, "POLICY",
		 "Pull images: always, missing, never (default: each service's pull_policy)"},
		{"quiet-pull", 0, FLAG_BOOL, &quiet_pull, NULL, "Pull without printing progress"},
		{"build", 0, FLAG_BOOL, &build, NULL, "Build images before starting containers"},
		{"no-build", 0, FLAG_BOOL, &no_build, NULL, "Do not build images, even those that are missing"},
		{"watch", 'w', FLAG_BOOL, &watch, NULL, "Follow develop.watch while attached (as berth watch)"},
		{"attach-dependencies", 0, FLAG_BOOL, &attach_deps, NULL, "Attach to the services' dependencies too"},
	};
	int rc = cmd_flags("up", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth up [OPTIONS] [SERVICE...]",
			   "Create and start containers.");
	_cleanup_(strv_freep) char **att = attach_to;
	_cleanup_(strv_freep) char **natt = no_attach;
	if (rc < 0 && pull && !streq(pull, "always") && !streq(pull, "missing") && !streq(pull, "never") &&
	    !streq(pull, "policy"))
		rc = usage_error("up", "--pull takes always, missing, never or policy");
	if (rc < 0 && build && no_build)
		rc = usage_error("up", "--build and --no-build cannot go together");
	if (rc < 0 && menu)
		fprintf(stderr, "berth: warning: --menu has no effect: berth has no navigation menu\n");
	if (rc < 0 && watch && (detach || wait))
		rc = usage_error("up", "--watch follows the files while attached: not with -d or --wait");
	if (rc >= 0) {
		strv_free(pos);
		return rc;
	}
	rc = 0;
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	_cleanup_close_ int lock = -1;
	int r = no_recreate && (force_recreate || always_recreate_deps)
			? berr_set(&err, EINVAL, "--%s and --no-recreate cannot go together",
				   force_recreate ? "force-recreate" : "always-recreate-deps")
			: project_open(g, pos, false, &p, &err);
	if (r == 0)
		r = keys_check(p, true, stderr, &err);
	for (size_t i = 0; r == 0 && scales && scales[i]; i++)
		r = apply_scale(p, scales[i], &err);
	strv_free(scales);
	/* as docker compose says it; every service may sit behind a profile */
	if (r == 0 && !p->order[0])
		r = berr_set(&err, ENOENT, "no service selected%s",
			     p->all_profiles && p->all_profiles[0]
				     ? " (every service is in a profile: use --profile NAME)"
				     : " (the compose file defines no services)");
	if (r == 0)
		r = apply_lock(berth_root(), p->name, &lock, &err);
	if (r == 0)
		remove_orphans = cli_orphans_wanted_gone(p, remove_orphans);
	int64_t began = now_ms(); /* containers made before it ran already: only their new output is shown */
	if (r == 0) {
		struct up_opts o = {.no_start = no_start,
				    .no_deps = no_deps,
				    .remove_orphans = remove_orphans,
				    .force_recreate = force_recreate,
				    .no_recreate = no_recreate,
				    .always_recreate_deps = always_recreate_deps,
				    .renew_anon = renew_anon,
				    .services = pos,
				    .pull = pull && !streq(pull, "policy") ? pull : NULL,
				    .quiet_pull = quiet_pull || (g->progress && streq(g->progress, "quiet")),
				    .build = build,
				    .no_build = no_build,
				    .all_resources = g->all_resources,
				    .yes = yes,
				    .has_timeout = timeout != NULL,
				    .timeout_ms = cli_timeout_ms(timeout)};
		r = apply_up(cli_ctx(), p, &o, &err);
	}
	if (r == 0 && remove_orphans && cli_dry_run())
		dry_orphans(p);
	else if (r == 0 && remove_orphans)
		r = apply_remove_orphans(cli_ctx(), p, cli_timeout_ms(timeout), &err);
	if (r == 0 && cli_dry_run() && watch) { /* the rules it would follow, said */
		struct watch_opts wo = {.services = pos, .stop = &cli_watch_stop};
		r = watch_run(cli_ctx(), p, &wo, &err);
	}
	if (cli_dry_run())
		detach = true, wait = false;
	if (r == 0 && wait && !no_start) {
		detach = true;
		r = wait_services_ready(p, pos, wait_timeout, &err);
	}
	pid_t watcher = 0;
	if (lock >= 0 && !detach && r == 0 && !no_start) {
		close(lock);
		lock = -1;
		if (watch)
			watcher = cli_start_watcher(p, pos);
		struct attach_opts ao = {.prefix = !no_prefix,
					 .color = !no_color && cli_color(),
					 .timestamps = timestamps,
					 .abort_on_exit = abort_on_exit,
					 .abort_on_failure = abort_on_failure,
					 .exit_from = exit_from,
					 .attach = att,
					 .no_attach = natt,
					 .timeout = cli_timeout_ms(timeout),
					 .services = pos,
					 .attach_deps = attach_deps};
		rc = attach(p, berth_root(), &ao, began);
	}
	if (watcher > 0) {
		kill(watcher, SIGTERM);
		while (waitpid(watcher, NULL, 0) < 0 && errno == EINTR)
			;
	}
	strv_free(pos);
	return r < 0 ? report(err) : rc;
}
