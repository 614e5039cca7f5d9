/* berth up, down, ps, start, stop, rm. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "../lib/buf.h"
#include "../lib/log.h"
#include "../network/ipam.h"
#include "../network/net.h"
#include "../orchestrator/apply.h"
#include "table.h"
#include "../orchestrator/check.h"
#include "../orchestrator/units.h"
#include "../runtime/ctr.h"
#include "../orchestrator/keys.h"
#include "../orchestrator/servicebuild.h"
#include "../orchestrator/watch.h"
#include "../images/image.h"
#include "../images/store.h"
#include "cli.h"
#include "logs.h"



static int64_t timeout_ms(const char *t)
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
	char **services;	    /* up SERVICE...: only those are attached (NULL: all) */
	bool attach_deps;	    /* --attach-dependencies: what they depend on too */
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
		bool named = !o->services || !o->services[0] || o->attach_deps || strv_contains(o->services, all[i].service);
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
	struct attach_ctx a = {root, lv->names, lv->shown, o->abort_on_exit || o->exit_from, o->abort_on_failure, was_up,
			       false};
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
		fprintf(stderr, interrupted ? "Gracefully stopping... (press Ctrl+C again to force)\n" : "Aborting on container exit...\n");
		for (size_t i = n; i > 0; i--) {
			bool was = ctr_up(root, list[i - 1].name, NULL);
			if (was)
				cli_progress(NULL, "Container", list[i - 1].name, "Stopping");
			if (ctr_stop(root, list[i - 1].name, interrupted > 1 ? 0 : o->timeout, NULL) == 0 && was)
				cli_progress(NULL, "Container", list[i - 1].name, "Stopped");
		}
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

static volatile sig_atomic_t watch_stop;
static void on_watch_signal(int sig) { watch_stop = sig; }

/* up --watch: the watch in a child process while up shows the logs; the
 * child ends with up. */
static pid_t start_watcher(const struct project *p, char **services)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	struct sigaction sa = {.sa_handler = on_watch_signal};
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGINT, SIG_IGN); /* Ctrl-C is up's; up then ends the watch */
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null >= 0)
		dup2(null, STDIN_FILENO);
	struct berr *err = NULL;
	struct watch_opts wo = {.services = services, .stop = &watch_stop};
	if (watch_run(cli_ctx(), p, &wo, &err) < 0) {
		fprintf(stderr, "berth: watch: %s\n", err->msg);
		berr_free(err);
		_exit(1);
	}
	_exit(0);
}

/* --dry-run --remove-orphans: the containers that would go. */
static void dry_orphans(const struct project *p)
{
	size_t n;
	struct ctr_info *list = apply_list(p, berth_root(), &n);
	for (size_t i = 0; i < n; i++)
		if (!project_service(p, list[i].service))
			cli_progress(NULL, "Container", list[i].name, "Removed");
	ctr_info_free(list, n);
}

static bool env_true(const struct project *p, const char *name)
{
	const char *v = env_get(&p->env, name);
	return v && (streq(v, "1") || strcasecmp(v, "true") == 0);
}

/* Containers of services the file no longer has: removed when asked
 * (--remove-orphans, or COMPOSE_REMOVE_ORPHANS, also from .env), else
 * named in a warning unless COMPOSE_IGNORE_ORPHANS, as docker compose. */
static bool orphans_wanted_gone(const struct project *p, bool flag)
{
	if (flag || env_true(p, "COMPOSE_REMOVE_ORPHANS"))
		return true;
	if (env_true(p, "COMPOSE_IGNORE_ORPHANS"))
		return false;
	size_t n;
	struct ctr_info *list = apply_list(p, berth_root(), &n);
	struct buf names = {0};
	for (size_t i = 0; i < n; i++)
		if (!project_service(p, list[i].service))
			buf_printf(&names, "%s%s", names.len ? ", " : "", list[i].name);
	ctr_info_free(list, n);
	if (names.len)
		fprintf(stderr,
			"berth: warning: found orphan containers (%s) for this project. If you removed or renamed this "
			"service in your compose file, you can run this command with the --remove-orphans flag to clean it "
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
		{"menu", 0, FLAG_BOOL, &menu, NULL, "Accepted as docker compose's; berth has no navigation menu (a warning)"},
		{"no-deps", 0, FLAG_BOOL, &no_deps, NULL, "Do not start linked services"},
		{"remove-orphans", 0, FLAG_BOOL, &remove_orphans, NULL, "Remove containers of services no longer in the file"},
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
		{"always-recreate-deps", 0, FLAG_BOOL, &always_recreate_deps, NULL, "Recreate what the services depend on"},
		{"renew-anon-volumes", 'V', FLAG_BOOL, &renew_anon, NULL,
		 "Recreated containers get new anonymous volumes, not the old ones' data"},
		{"pull", 0, FLAG_STR, &pull, "POLICY", "Pull images: always, missing, never (default: each service's pull_policy)"},
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
			     p->all_profiles && p->all_profiles[0] ? " (every service is in a profile: use --profile NAME)"
								    : " (the compose file defines no services)");
	if (r == 0)
		r = apply_lock(berth_root(), p->name, &lock, &err);
	if (r == 0)
		remove_orphans = orphans_wanted_gone(p, remove_orphans);
	int64_t began = now_ms(); /* containers made before it ran already: only their new output is shown */
	if (r == 0) {
		struct up_opts o = {.no_start = no_start, .no_deps = no_deps, .remove_orphans = remove_orphans,
				    .force_recreate = force_recreate, .no_recreate = no_recreate,
				    .always_recreate_deps = always_recreate_deps, .renew_anon = renew_anon,
				    .services = pos,
				    .pull = pull && !streq(pull, "policy") ? pull : NULL,
				    .quiet_pull = quiet_pull || (g->progress && streq(g->progress, "quiet")),
				    .build = build, .no_build = no_build, .all_resources = g->all_resources,
				    .yes = yes,
				    .has_timeout = timeout != NULL, .timeout_ms = timeout_ms(timeout)};
		r = apply_up(cli_ctx(), p, &o, &err);
	}
	if (r == 0 && remove_orphans && cli_dry_run())
		dry_orphans(p);
	else if (r == 0 && remove_orphans)
		r = apply_remove_orphans(cli_ctx(), p, timeout_ms(timeout), &err);
	if (r == 0 && cli_dry_run() && watch) { /* the rules it would follow, said */
		struct watch_opts wo = {.services = pos, .stop = &watch_stop};
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
			watcher = start_watcher(p, pos);
		struct attach_opts ao = {.prefix = !no_prefix, .color = !no_color && cli_color(), .timestamps = timestamps,
					 .abort_on_exit = abort_on_exit, .abort_on_failure = abort_on_failure,
					 .exit_from = exit_from, .attach = att, .no_attach = natt,
					 .timeout = timeout_ms(timeout), .services = pos, .attach_deps = attach_deps};
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
		{"remove-orphans", 0, FLAG_BOOL, &remove_orphans, NULL, "Also remove containers of services not in the file"},
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
			      .remove_orphans = remove_orphans || (p && (!p->files[0] || env_true(p, "COMPOSE_REMOVE_ORPHANS"))), .volumes = volumes, .timeout_ms = timeout_ms(timeout)};
	if (r == 0)
		r = apply_down(cli_ctx(), p, &o, &err);
	if (r == 0 && rmi)
		remove_images(p, streq(rmi, "all"));
	return r < 0 ? report(err) : 0;
}

int cmd_port(struct global_opts *g, int argc, char **argv)
{
	const char *proto = "tcp", *index = "1";
	char **pos = NULL;
	const struct flag flags[] = {
		{"protocol", 0, FLAG_STR, &proto, "PROTO", "tcp (default) or udp"},
		{"index", 0, FLAG_STR, &index, "N", "Which replica of the service (default 1)"},
	};
	int rc = cmd_flags("port", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth port [OPTIONS] SERVICE PRIVATE_PORT", "Print the host address a port is published on.");
	if (rc >= 0) {
		strv_free(pos);
		return rc;
	}
	_cleanup_(strv_freep) char **args = pos;
	if (strv_len(args) != 2 || (!streq(proto, "tcp") && !streq(proto, "udp"))) {
		fprintf(stderr, "berth port: give SERVICE and PRIVATE_PORT, and --protocol tcp or udp; see berth port "
				"--help\n");
		return 2;
	}
	long port = atol(args[1]), number = atol(index);
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	if (project_open(g, NULL, false, &p, &err) < 0)
		return report(err);
	if (!project_service(p, args[0]))
		return report((berr_set(&err, ENOENT, "no such service: %s", args[0]), err));
	size_t n;
	struct ctr_info *list = apply_list(p, berth_root(), &n);
	int r = berr_set(&err, ENOENT, "service %s has no container number %ld", args[0], number);
	for (size_t i = 0; i < n; i++) {
		if (!streq(list[i].service, args[0]) || list[i].number != number)
			continue;
		berr_free(err);
		err = NULL;
		r = berr_set(&err, ENOENT, "%s does not publish port %ld/%s", list[i].name, port, proto);
		struct net_port *ports = NULL;
		size_t np = 0;
		net_ports(berth_root(), list[i].name, &ports, &np);
		for (size_t k = 0; k < np; k++) {
			if (ports[k].ctr_port != port || ports[k].udp != streq(proto, "udp"))
				continue;
			_cleanup_free_ char *ip = ip_format(ports[k].host_ip);
			printf("%s:%u\n", ip, ports[k].host_port);
			r = 0;
			break;
		}
		free(ports);
	}
	ctr_info_free(list, n);
	if (r == 0) {
		berr_free(err);
		return 0;
	}
	return report(err);
}

int cmd_run(struct global_opts *g, int argc, char **argv)
{
	bool detach = false, rm = false, no_deps = false, service_ports = false, no_tty = false;
	bool build = false, interactive = true, tty = true, publish_all = false, use_aliases = false;
	bool remove_orphans = false, quiet = false, quiet_pull = false;
	const char *name = NULL, *user = NULL, *workdir = NULL, *entrypoint = NULL, *pull = NULL;
	char **env = NULL, **pos = NULL, **publish = NULL, **volumes = NULL, **labels = NULL, **cap_add = NULL;
	char **cap_drop = NULL, **env_files = NULL;
	const struct flag flags[] = {
		{"detach", 'd', FLAG_BOOL, &detach, NULL, "Run in the background; print the container's name"},
		{"rm", 0, FLAG_BOOL, &rm, NULL, "Remove the container when it exits"},
		{"no-deps", 0, FLAG_BOOL, &no_deps, NULL, "Do not start the services it depends on"},
		{"service-ports", 0, FLAG_BOOL, &service_ports, NULL, "Publish the service's ports"},
		{"name", 0, FLAG_STR, &name, "NAME", "The container's name"},
		{"env", 'e', FLAG_LIST, &env, "KEY=VALUE", "Set an environment variable; repeatable"},
		{"user", 'u', FLAG_STR, &user, "USER", "Run as this user"},
		{"workdir", 'w', FLAG_STR, &workdir, "DIR", "Working directory"},
		{"entrypoint", 0, FLAG_STR, &entrypoint, "CMD", "Override the entrypoint"},
		{"no-TTY", 'T', FLAG_BOOL, &no_tty, NULL, "Do not allocate a TTY (one is when stdin is a terminal)"},
		{"tty", 't', FLAG_BOOL, &tty, NULL, "Allocate a TTY when stdin is one (the default)"},
		{"interactive", 'i', FLAG_BOOL, &interactive, NULL, "Keep stdin open (the default; --interactive=false: none)"},
		{"build", 0, FLAG_BOOL, &build, NULL, "Build the service's image before running it"},
		{"publish", 'p', FLAG_LIST, &publish, "[IP:]HOST:CONTAINER", "Publish a port; repeatable"},
		{"publish-all", 'P', FLAG_BOOL, &publish_all, NULL, "Publish every port of the service on ephemeral host ports"},
		{"volume", 'v', FLAG_LIST, &volumes, "SOURCE:TARGET[:MODE]", "Mount a volume or bind; repeatable"},
		{"label", 'l', FLAG_LIST, &labels, "KEY=VALUE", "Add a label; repeatable"},
		{"cap-add", 0, FLAG_LIST, &cap_add, "CAP", "Add a capability; repeatable"},
		{"cap-drop", 0, FLAG_LIST, &cap_drop, "CAP", "Drop a capability; repeatable"},
		{"env-from-file", 0, FLAG_LIST, &env_files, "FILE", "Set environment variables from a file; repeatable"},
		{"use-aliases", 0, FLAG_BOOL, &use_aliases, NULL, "Answer to the service's name and network aliases"},
		{"remove-orphans", 0, FLAG_BOOL, &remove_orphans, NULL, "Remove containers of services no longer in the file"},
		{"pull", 0, FLAG_STR, &pull, "POLICY", "Pull the image: always, missing, never (default: its pull_policy)"},
		{"quiet-pull", 0, FLAG_BOOL, &quiet_pull, NULL, "Pull without printing progress"},
		{"quiet", 'q', FLAG_BOOL, &quiet, NULL, "Print nothing but the command's own output"},
	};
	int rc = cmd_flags_stop("run", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth run [OPTIONS] SERVICE [COMMAND] [ARGS...]", "Run a one-off command of a service.");
	_cleanup_(strv_freep) char **args = pos;
	_cleanup_(strv_freep) char **envs = env;
	_cleanup_(strv_freep) char **pub = publish;
	_cleanup_(strv_freep) char **vols = volumes;
	_cleanup_(strv_freep) char **labs = labels;
	_cleanup_(strv_freep) char **cadd = cap_add;
	_cleanup_(strv_freep) char **cdrop = cap_drop;
	_cleanup_(strv_freep) char **efiles = env_files;
	if (rc < 0 && pull && !streq(pull, "always") && !streq(pull, "missing") && !streq(pull, "never"))
		rc = usage_error("run", "--pull takes always, missing or never");
	if (rc >= 0)
		return rc;
	if (strv_len(args) < 1)
		return usage_error("run", "give the service to run");
	_cleanup_close_ int devnull = -1;
	if (!interactive) { /* no stdin for the command */
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
	}
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	_cleanup_close_ int lock = -1;
	char *service[] = {args[0], NULL};
	int r = project_open(g, service, false, &p, &err);
	if (r == 0)
		r = keys_check(p, true, stderr, &err);
	if (r == 0)
		r = apply_lock(berth_root(), p->name, &lock, &err);
	if (r == 0)
		remove_orphans = orphans_wanted_gone(p, remove_orphans);
	struct apply_ctx said = *cli_ctx(); /* -q: nothing said but the command's own output */
	if (quiet)
		said.progress = NULL;
	if (r == 0 && remove_orphans)
		r = apply_remove_orphans(&said, p, -1, &err);
	_cleanup_free_ char *cname = NULL;
	char *ep[] = {(char *)entrypoint, NULL};
	int code = 0;
	struct winsize ws = {0};
	ioctl(STDIN_FILENO, TIOCGWINSZ, &ws); /* stays 0 x 0 when stdin is no terminal */
	if (r == 0) {
		struct run_opts o = {.service = args[0], .command = args[1] ? args + 1 : NULL,
				     .entrypoint = entrypoint ? ep : NULL, .env = envs, .name = name, .user = user,
				     .workdir = workdir, .detach = detach, .rm = rm, .no_deps = no_deps,
				     .tty = tty && !no_tty && isatty(STDIN_FILENO), .rows = ws.ws_row, .cols = ws.ws_col,
				     .service_ports = service_ports, .lock = &lock,
				     .build = build, .publish = pub, .volumes = vols, .labels = labs, .cap_add = cadd,
				     .cap_drop = cdrop, .env_files = efiles, .publish_all = publish_all,
				     .use_aliases = use_aliases, .quiet_pull = quiet || quiet_pull, .pull = pull};
		r = apply_run(&said, p, &o, &cname, &code, &err);
	}
	if (r < 0 && (code == 126 || code == 127)) { /* the command could not run: docker run's codes */
		report(err);
		return code;
	}
	if (r < 0)
		return report(err);
	if (detach)
		printf("%s\n", cname);
	return code;
}

bool service_named(const struct project *p, char *const *names, bool deps, const char *service)
{
	bool named = !names || strv_contains(names, service);
	for (size_t k = 0; !named && deps && names[k]; k++) {
		_cleanup_(strv_freep) char **d = check_dependencies(project_service(p, names[k]));
		named = strv_contains(d, service);
	}
	return named;
}

/* berth pull [SERVICE...]: the services' images, as their pull_policy says
 * (--policy missing or always), as docker compose pull does. */
int cmd_pull(struct global_opts *g, int argc, char **argv)
{
	bool ignore = false, deps = false, quiet = false, ignore_buildable = false;
	const char *policy = NULL;
	char **pos = NULL;
	const struct flag flags[] = {
		{"ignore-pull-failures", 0, FLAG_BOOL, &ignore, NULL, "Pull what can be pulled, and say what could not"},
		{"include-deps", 0, FLAG_BOOL, &deps, NULL, "Also pull the services they depend on"},
		{"quiet", 'q', FLAG_BOOL, &quiet, NULL, "Pull without printing progress"},
		{"policy", 0, FLAG_STR, &policy, "POLICY", "missing or always (default: each service's pull_policy)"},
		{"ignore-buildable", 0, FLAG_BOOL, &ignore_buildable, NULL, "Skip services that have a build section"},
	};
	int rc = cmd_flags("pull", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth pull [OPTIONS] [SERVICE...]",
			   "Pull service images.");
	_cleanup_(strv_freep) char **names = pos;
	if (rc < 0 && policy && !streq(policy, "missing") && !streq(policy, "always"))
		rc = usage_error("pull", "--policy takes missing or always");
	if (rc >= 0)
		return rc;
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	int r = project_open(g, names, false, &p, &err);
	/* docker compose pull pulls every service named, and by default what
	 * each names as image: with --policy absent, always */
	char **want = NULL;
	for (size_t i = 0; r == 0 && p->order[i]; i++) {
		struct node *svc = project_service(p, p->order[i]);
		bool named = service_named(p, names, deps, p->order[i]);
		const char *pp = node_str(node_map_get(svc, "pull_policy"));
		bool never = !policy && pp && (streq(pp, "never") || streq(pp, "build"));
		if (named && !never && !(ignore_buildable && node_map_get(svc, "build")))
			strv_push(&want, xstrdup(p->order[i]));
	}
	struct apply_ctx said = *cli_ctx();
	if (quiet)
		said.progress = NULL;
	if (r == 0 && want)
		r = apply_pull(&said, p, want, policy ? policy : "always", quiet ? NULL : stderr, ignore, &err);
	strv_free(want);
	return r < 0 ? report(err) : 0;
}

/* berth scale SERVICE=N...: as up -d --scale of those services. */
int cmd_scale(struct global_opts *g, int argc, char **argv)
{
	bool no_deps = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"no-deps", 0, FLAG_BOOL, &no_deps, NULL, "Do not start linked services"},
	};
	int rc = cmd_flags("scale", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth scale [OPTIONS] SERVICE=N...",
			   "Scale services.");
	_cleanup_(strv_freep) char **args = pos;
	if (rc >= 0)
		return rc;
	if (!args || !args[0])
		return usage_error("scale", "give SERVICE=N");
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	_cleanup_close_ int lock = -1;
	char **services = xcalloc(1, sizeof(char *));
	int r = project_open(g, NULL, false, &p, &err);
	if (r == 0)
		r = keys_check(p, true, stderr, &err);
	for (size_t i = 0; r == 0 && args[i]; i++) {
		r = apply_scale(p, args[i], &err);
		if (r == 0)
			strv_push(&services, xstrndup(args[i], strcspn(args[i], "=")));
	}
	if (r == 0)
		r = apply_lock(berth_root(), p->name, &lock, &err);
	if (r == 0) {
		struct up_opts o = {.no_deps = no_deps, .no_recreate = true, .services = services};
		r = apply_up(cli_ctx(), p, &o, &err);
	}
	strv_free(services);
	return r < 0 ? report(err) : 0;
}

/* berth create: up --no-start, with create's own flags only. */
int cmd_create(struct global_opts *g, int argc, char **argv)
{
	bool b = false;
	const char *s = NULL;
	char **l = NULL, **pos = NULL;
	const struct flag flags[] = {
		{"build", 0, FLAG_BOOL, &b, NULL, "Build images before creating containers"},
		{"no-build", 0, FLAG_BOOL, &b, NULL, "Do not build images, even those that are missing"},
		{"force-recreate", 0, FLAG_BOOL, &b, NULL, "Recreate containers even if nothing changed"},
		{"no-recreate", 0, FLAG_BOOL, &b, NULL, "Do not recreate containers that exist"},
		{"pull", 0, FLAG_STR, &s, "POLICY", "Pull images: always, missing, never"},
		{"quiet-pull", 0, FLAG_BOOL, &b, NULL, "Pull without printing progress"},
		{"remove-orphans", 0, FLAG_BOOL, &b, NULL, "Remove containers of services no longer in the file"},
		{"scale", 0, FLAG_LIST, &l, "SERVICE=N", "N containers of SERVICE; repeatable"},
		{"yes", 'y', FLAG_BOOL, &b, NULL, "Assume yes: a network that diverged from the file is made again"},
	};
	int rc = cmd_flags("create", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth create [OPTIONS] [SERVICE...]", "Create containers for services, without starting them.");
	strv_free(l);
	strv_free(pos);
	if (rc >= 0)
		return rc;
	/* the flags are up's: up runs them with --no-start */
	char **up = xcalloc((size_t)argc + 2, sizeof(char *));
	up[0] = "up";
	up[1] = "--no-start";
	for (int i = 1; i < argc; i++)
		up[i + 1] = argv[i];
	rc = cmd_up(g, argc + 1, up);
	free(up);
	return rc;
}

/* berth watch [SERVICE...]: up (unless --no-up), then the services'
 * develop.watch rules until Ctrl-C. */
int cmd_watch(struct global_opts *g, int argc, char **argv)
{
	bool no_up = false, prune = false, quiet = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"no-up", 0, FLAG_BOOL, &no_up, NULL, "Do not build and start the services first"},
		{"prune", 0, FLAG_BOOL, &prune, NULL, "Remove dangling images after a rebuild"},
		{"quiet", 0, FLAG_BOOL, &quiet, NULL, "Hide the build output"},
	};
	int rc = cmd_flags("watch", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth watch [OPTIONS] [SERVICE...]",
			   "Watch the build contexts and paths of develop.watch; sync, restart or rebuild on changes.");
	_cleanup_(strv_freep) char **names = pos;
	if (rc >= 0)
		return rc;
	struct berr *err = NULL;
	_cleanup_(project_freep) struct project *p = NULL;
	int r = project_open(g, names, false, &p, &err);
	if (r == 0)
		r = keys_check(p, true, stderr, &err);
	if (r == 0 && !no_up) {
		_cleanup_close_ int lock = -1;
		r = apply_lock(berth_root(), p->name, &lock, &err);
		struct up_opts o = {.services = names};
		if (r == 0)
			r = apply_up(cli_ctx(), p, &o, &err);
	}
	struct sigaction sa = {.sa_handler = on_watch_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct watch_opts wo = {.services = names, .quiet = quiet, .prune = prune, .stop = &watch_stop};
	if (r == 0)
		r = watch_run(cli_ctx(), p, &wo, &err);
	return r < 0 ? report(err) : 0;
}
