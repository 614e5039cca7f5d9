/* berth: a compose-style orchestrator. main() parses the global flags and
 * hands the rest to one command. */
#include <malloc.h>
#include <stdint.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../images/pull.h"
#include "../orchestrator/apply.h"
#include "cli.h"

extern char **environ;

static const struct command commands[] = {
	{"up", "Create and start containers", cmd_up, CMD_DRY_RUN},
	{"down", "Stop and remove containers", cmd_down, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"create", "Create containers for services", cmd_create, CMD_DRY_RUN},
	{"wait", "Block until containers of services stop", cmd_wait, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"network", "Manage networks", cmd_network, CMD_GROUP},
	{"ps", "List containers", cmd_ps, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"ls", "List running compose projects", cmd_ls, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"port", "Print the host address of a published port", cmd_port, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"logs", "View output from containers", cmd_logs, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"start", "Start existing containers", cmd_start, CMD_DRY_RUN},
	{"stop", "Stop running containers", cmd_stop, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"restart", "Restart containers", cmd_restart, CMD_DRY_RUN},
	{"kill", "Send a signal to containers", cmd_kill, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"pause", "Pause services", cmd_pause, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"unpause", "Unpause services", cmd_unpause, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"run", "Run a one-off command of a service", cmd_run, CMD_DRY_RUN},
	{"rm", "Remove stopped containers", cmd_rm, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"exec", "Run a command in a running container", cmd_exec, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"cp", "Copy files between a service container and the host", cmd_cp, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"export", "Export a service container's filesystem as a tar archive", cmd_export,
	 CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"commit", "Create a new image from a service container's changes", cmd_commit, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"attach", "Attach local standard input, output, and error streams to a service's running container",
	 cmd_attach, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"watch", "Watch the build context and develop.watch paths; sync, restart or rebuild on changes", cmd_watch,
	 CMD_DRY_RUN},
	{"top", "Display the running processes", cmd_top, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"stats", "Display a live stream of the containers' resource usage", cmd_stats, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"events", "Receive real time events from containers", cmd_events, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"scale", "Scale services", cmd_scale, CMD_DRY_RUN},
	{"inspect", "Show a container's state and configuration as JSON", cmd_inspect, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"volume", "Manage volumes", cmd_volume, CMD_GROUP},
	{"config", "Parse, resolve and render the compose file in canonical form", cmd_config, CMD_DRY_RUN},
	{"convert", "Convert the compose file to Kubernetes manifests", cmd_convert, CMD_DRY_RUN},
	{"image", "Manage images (load, pull, ls, inspect, rm)", cmd_image, CMD_GROUP},
	{"images", "List images", cmd_images, CMD_DRY_RUN | CMD_LENIENT_ENV},
	{"pull", "Pull service images", cmd_pull, CMD_DRY_RUN},
	{"build", "Build or rebuild services", cmd_build, CMD_DRY_RUN},
	{"push", "Push service images", cmd_push, CMD_DRY_RUN},
	{"builder", "Manage the build cache (prune)", cmd_builder, CMD_GROUP},
	{"login", "Log in to a registry", cmd_login, 0},
	{"logout", "Log out from a registry", cmd_logout, 0},
	{"version", "Show the berth version", cmd_version, CMD_DRY_RUN},
};

static struct global_opts g;

static const struct flag global_flags[] = {
	{"file", 'f', FLAG_LIST, &g.files, "FILE", "Compose file (repeatable; - for stdin)"},
	{"project-name", 'p', FLAG_STR, &g.project_name, "NAME", "Project name"},
	{"project-directory", 0, FLAG_STR, &g.project_dir, "DIR", "Project directory (default: the first file's)"},
	{"env-file", 0, FLAG_LIST, &g.env_files, "FILE", "Environment file instead of .env (repeatable)"},
	{"profile", 0, FLAG_LIST, &g.profiles, "NAME", "Enable a profile (repeatable)"},
	{"log-level", 0, FLAG_STR, &g.log_level, "LEVEL", "debug, info, warn or error"},
	{"verbose", 0, FLAG_BOOL, &g.verbose, NULL, "Show more output (log level debug)"},
	{"progress", 0, FLAG_STR, &g.progress, "TYPE", "Progress output: auto, tty, plain, quiet or json"},
	{"ansi", 0, FLAG_STR, &g.ansi, "WHEN", "Control characters (colours): never, always or auto"},
	{"parallel", 0, FLAG_STR, &g.parallel, "N", "At most N containers started or stopped at once (-1: no limit)"},
	{"dry-run", 0, FLAG_BOOL, &g.dry_run, NULL, "Say what would be done, and do nothing"},
	{"compatibility", 0, FLAG_BOOL, &g.compatibility, NULL,
	 "Name containers as docker-compose v1 did (project_service_1)"},
	{"all-resources", 0, FLAG_BOOL, &g.all_resources, NULL,
	 "Include resources no service uses (networks, volumes)"},
	{"help", 'h', FLAG_BOOL, &g.help, NULL, "Show this help"},
	{"version", 'v', FLAG_BOOL, &g.version, NULL, "Show the berth version"},
};

static int64_t began_ms; /* when berth began: what --progress tty times from */

void cli_progress(void *data, const char *kind, const char *name, const char *what)
{
	(void)data;
	const char *mode = g.progress ? g.progress : "auto";
	if (streq(mode, "quiet"))
		return;
	if (streq(mode, "json")) {
		_cleanup_free_ char *id = xasprintf("%s %s", kind, name);
		json_t *j = json_pack("{s:s, s:s}", "id", id, "status", what);
		if (g.dry_run)
			json_object_set_new(j, "dry-run", json_true());
		char *t = json_dumps(j, JSON_COMPACT);
		fprintf(stderr, "%s\n", t);
		free(t);
		json_decref(j);
		return;
	}
	if (streq(mode, "tty") || (streq(mode, "auto") && isatty(STDERR_FILENO))) {
		/* docker compose's terminal lines: a mark, and how long it took
		 * since the thing was first named (or since berth began) */
		static struct {
			char *key;
			int64_t since;
		} seen[64];
		static size_t nseen;
		int64_t now = now_ms();
		_cleanup_free_ char *key = xasprintf("%s %s", kind, name);
		size_t k = 0;
		while (k < nseen && !streq(seen[k].key, key))
			k++;
		int64_t since = k < nseen ? seen[k].since : began_ms;
		if (k == nseen && nseen < ARRAY_SIZE(seen))
			seen[nseen++] = (typeof(seen[0])){xstrdup(key), now};
		size_t n = strlen(what);
		bool busy = n > 3 && streq(what + n - 3, "ing");
		if (busy)
			fprintf(stderr, "%s ⠿ %s %s  %s\n", g.dry_run ? "DRY-RUN MODE - " : "", kind, name, what);
		else
			fprintf(stderr, "%s ✔ %s %s  %s  %.1fs\n", g.dry_run ? "DRY-RUN MODE - " : "", kind, name, what,
				(double)(now - since) / 1000.0);
		return;
	}
	if (streq(mode, "plain")) { /* docker compose's plain lines: "Container NAME Started" */
		fprintf(stderr, "%s%s %s %s\n", g.dry_run ? "DRY-RUN MODE - " : "", kind, name, what);
		return;
	}
	fprintf(stderr, "%s %s %s  %s\n", g.dry_run ? "DRY-RUN MODE - " : "", kind, name, what);
}

bool cli_color(void)
{
	if (g.ansi && streq(g.ansi, "always"))
		return true;
	if (g.ansi && streq(g.ansi, "never"))
		return false;
	return isatty(STDOUT_FILENO);
}

bool cli_dry_run(void) { return g.dry_run; }

/* The orchestrator's context: made from the global options once main has
 * read them (parallel, plain, dry_run), the state root on first use. */
static struct apply_ctx ctx = {.progress = cli_progress};

const struct apply_ctx *cli_ctx(void)
{
	if (!ctx.root)
		ctx.root = berth_root();
	return &ctx;
}

/* A command that would change something and cannot say what under
 * --dry-run: refuse it (exit code 2), or -1 to go on. */
static int cli_no_dry_run(const char *cmd)
{
	if (!g.dry_run)
		return -1;
	_cleanup_free_ char *msg = xasprintf("--dry-run is not supported by berth %s yet: it would run for real", cmd);
	return usage_error(cmd, msg);
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: berth [OPTIONS] COMMAND [ARGS...]\n\n"
		     "Run compose applications with berth's own container runtime.\n\nOptions:\n");
	flags_usage(out, global_flags, ARRAY_SIZE(global_flags));
	fprintf(out, "\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun 'berth COMMAND --help' for more information on a command.\n");
}

int usage_error(const char *cmd, const char *msg)
{
	fprintf(stderr, "berth: %s\n", msg);
	if (cmd)
		fprintf(stderr, "See 'berth %s --help'.\n", cmd);
	else
		fprintf(stderr, "See 'berth --help'.\n");
	return 2;
}

int subcommand_run(const char *group, const char *summary, const struct subcommand *cmds, size_t n, int argc,
		   char **argv)
{
	if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
		FILE *out = argc < 2 ? stderr : stdout;
		fprintf(out, "Usage: berth %s COMMAND\n\n%s\n\nCommands:\n", group, summary);
		for (size_t i = 0; i < n; i++)
			fprintf(out, "  %-8s %s\n", cmds[i].name, cmds[i].summary);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = streq(argv[1], "list") ? "ls" : streq(argv[1], "remove") ? "rm" : argv[1];
	const char **names = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		if (streq(sub, cmds[i].name)) {
			free(names);
			return cmds[i].run(argc - 1, argv + 1);
		}
		names[i] = cmds[i].name;
	}
	const char *near = str_nearest(sub, names, n);
	_cleanup_free_ char *msg = near ? xasprintf("unknown command \"%s %s\" (did you mean \"%s %s\"?)", group, sub,
						    group, near)
					: xasprintf("unknown command \"%s %s\"", group, sub);
	free(names);
	return usage_error(group, msg);
}

int inspect_each(const char *group, const char *kind, char *(*inspect)(const char *root, const char *name), int argc,
		 char **argv)
{
	char **pos = NULL;
	_cleanup_free_ char *cmd = group[0] ? xasprintf("%s inspect", group) : xstrdup("inspect");
	_cleanup_free_ char *usage = xasprintf("berth %s NAME...", cmd);
	_cleanup_free_ char *summary = xasprintf("Show each %s's record, as JSON.", kind);
	int rc = cmd_flags(cmd, NULL, 0, argc, argv, &pos, usage, summary);
	_cleanup_(strv_freep) char **args = pos;
	if (rc >= 0)
		return rc;
	if (strv_len(args) == 0)
		return usage_error(cmd, "give at least one name");
	int status = 0;
	for (size_t i = 0; args[i]; i++) {
		char *text = inspect(berth_root(), args[i]);
		if (text) {
			printf("%s\n", text);
		} else {
			fprintf(stderr, "berth: no such %s: %s\n", kind, args[i]);
			status = 1;
		}
		free(text);
	}
	return status;
}

int report(struct berr *err)
{
	fprintf(stderr, "berth: %s\n", err ? err->msg : "unknown error");
	berr_free(err);
	return 1;
}

static int open_project(struct global_opts *go, char **services, bool no_interpolate, bool file_optional,
			struct project **out, struct berr **err)
{
	struct project_opts o = {
		.compatibility = go->compatibility,
		.files = go->files,
		.name = go->project_name,
		.project_dir = go->project_dir,
		.env_files = go->env_files,
		.profiles = go->profiles,
		.services = services,
		.no_interpolate = no_interpolate,
		.file_optional = file_optional,
		.environ = environ,
		.lenient_env = go->lenient_env,
		.no_env_resolution = go->no_env_resolution,
		.no_consistency = go->no_consistency,
		.no_path_resolution = go->no_path_resolution,
		.no_normalize = go->no_normalize,
	};
	return project_load(&o, out, err);
}

int project_open(struct global_opts *go, char **services, bool no_interpolate, struct project **out, struct berr **err)
{
	return open_project(go, services, no_interpolate, false, out, err);
}

int project_open_named(struct global_opts *go, struct project **out, struct berr **err)
{
	return open_project(go, NULL, false, true, out, err);
}

int project_open_listing(struct global_opts *go, char *const *names, struct project **out, struct berr **err)
{
	/* the services named are enabled whatever their profiles */
	int r = open_project(go, (char **)names, false, true, out, err);
	for (size_t i = 0; r == 0 && names && names[i]; i++)
		if ((*out)->order && !project_service(*out, names[i]))
			r = berr_set(err, ENOENT, "no such service: %s", names[i]);
	return r;
}

static void global_free(void)
{
	strv_free(g.files);
	strv_free(g.env_files);
	strv_free(g.profiles);
}

/* --dry-run: the commands that say what they would do, those that change
 * nothing anyway, and the read-only subcommands of the groups; any other
 * is refused rather than run for real. */
static bool dry_run_ok(const struct command *c, int argc, char **argv, int i)
{
	static const char *const reading[] = {"ls", "list", "inspect", NULL};
	if (c->props & CMD_DRY_RUN)
		return true;
	const char *sub = i + 1 < argc ? argv[i + 1] : NULL;
	return (c->props & CMD_GROUP) && (!sub || sub[0] == '-' || strv_contains((char **)reading, sub));
}

static int dispatch(int argc, char **argv, int i)
{
	const char *name = argv[i];
	if (streq(name, "__autoremove")) /* berth's own: a shim's last act for run -d --rm */
		return cmd_autoremove(argc - i, argv + i);
	const struct command *c = NULL;
	for (size_t k = 0; k < ARRAY_SIZE(commands) && !c; k++)
		if (streq(commands[k].name, name))
			c = &commands[k];
	if (c && g.dry_run && !dry_run_ok(c, argc, argv, i))
		return cli_no_dry_run(name);
	if (c) {
		g.lenient_env = c->props & CMD_LENIENT_ENV;
		return c->run(&g, argc - i, argv + i);
	}
	const char *names[ARRAY_SIZE(commands)];
	for (size_t k = 0; k < ARRAY_SIZE(commands); k++)
		names[k] = commands[k].name;
	const char *near = str_nearest(name, names, ARRAY_SIZE(commands));
	_cleanup_free_ char *msg = near ? xasprintf("unknown command \"%s\" (did you mean \"%s\"?)", name, near)
					: xasprintf("unknown command \"%s\"", name);
	usage_error(NULL, msg);
	usage(stderr);
	return 2;
}

/* A berth command lives for milliseconds and allocates a few MiB of small
 * objects. On virtual machines every first touch of a heap page is a trap
 * that costs ~10 us (measured here: 600 pages touched one by one take 6 ms,
 * populated in one call 0.4 ms). So grow the heap once and populate it in
 * one madvise. Harmless where brk is not the heap (sanitizers, mmap arenas):
 * the range is then empty or the call fails, and nothing else changes. */
static void prefault_heap(size_t bytes)
{
	mallopt(M_TOP_PAD, (int)bytes);
	mallopt(M_TRIM_THRESHOLD, (int)(bytes * 2));
	mallopt(M_MMAP_THRESHOLD, (int)(bytes * 2));
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = ((uintptr_t)sbrk(0) + page - 1) & ~(page - 1);
	void *volatile grow = malloc(bytes); /* volatile: the compiler may not drop it */
	free(grow);                          /* the heap keeps the room (trim threshold) */
	uintptr_t end = (uintptr_t)sbrk(0) & ~(page - 1);
#ifdef MADV_POPULATE_WRITE
	if (end > start)
		madvise((void *)start, end - start, MADV_POPULATE_WRITE);
#endif
}

/* As git after each builtin: output that could not be written (a full
 * disk, an I/O error) fails the command, which otherwise would say it
 * succeeded: berth version >/dev/full exits 1. A pipe or socket whose
 * reader left is not an error of ours (SIGPIPE ends us there first). */
static int finish_stdout(int rc)
{
	struct stat st;
	if (fstat(STDOUT_FILENO, &st) < 0 || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
		return rc;
	int e = 0;
	bool earlier = ferror(stdout); /* a write that failed before, its errno gone */
	if (fflush(stdout) != 0)
		e = errno;
	if (fclose(stdout) != 0 && !e)
		e = errno;
	if (!e && !earlier)
		return rc;
	if (e)
		fprintf(stderr, "berth: cannot write the output: %s\n", strerror(e));
	else
		fprintf(stderr, "berth: cannot write the output: a write to it failed\n");
	return rc ? rc : 1;
}

/* What library code says while the command goes on (lib/log.h): after
 * what this command has written to stdout so far, so that the two read
 * in order where they go to one terminal or file. */
static void cli_log(enum log_level l, const char *msg, void *data)
{
	fflush(stdout);
	log_print(l, msg, data);
}

int main(int argc, char **argv)
{
	began_ms = now_ms();
	prefault_heap(2u << 20);
	log_set_handler(cli_log, NULL);
	const char *lvl = getenv("BERTH_LOG");
	enum log_level level;
	if (lvl && log_parse_level(lvl, &level) == 0)
		log_set_level(level);
	int i = 1;
	struct berr *err = NULL;
	int rc;
	if (flags_parse(global_flags, ARRAY_SIZE(global_flags), argc, argv, &i, true, NULL, &err) < 0) {
		rc = usage_error(NULL, err->msg);
		berr_free(err);
	} else if (g.log_level && log_parse_level(g.log_level, &level) < 0) {
		rc = usage_error(NULL, "--log-level takes debug, info, warn or error");
	} else if (g.progress &&
		   !strv_contains((char *[]){"auto", "tty", "plain", "quiet", "json", NULL}, g.progress)) {
		rc = usage_error(NULL, "--progress takes auto, tty, plain, quiet or json");
	} else if (g.ansi && !strv_contains((char *[]){"never", "always", "auto", NULL}, g.ansi)) {
		rc = usage_error(NULL, "--ansi takes never, always or auto");
	} else if (g.parallel && (!g.parallel[0] || strspn(g.parallel + (g.parallel[0] == '-'), "0123456789") !=
							    strlen(g.parallel + (g.parallel[0] == '-')))) {
		rc = usage_error(NULL, "--parallel takes a number");
	} else if (g.version) {
		rc = cmd_version(&g, 1, argv);
	} else if (g.help || i >= argc) {
		usage(g.help ? stdout : stderr);
		rc = g.help ? 0 : 2;
	} else {
		if (g.log_level)
			log_set_level(level);
		if (g.verbose)
			log_set_level(LOG_DEBUG);
		/* COMPOSE_PARALLEL_LIMIT and COMPOSE_COMPATIBILITY say the same, as for docker compose */
		const char *par = g.parallel ? g.parallel : getenv("COMPOSE_PARALLEL_LIMIT");
		ctx.parallel = par ? atoi(par) : 0;
		ctx.plain_progress = (g.progress && !streq(g.progress, "auto") && !streq(g.progress, "tty")) ||
				     (g.ansi && streq(g.ansi, "never"));
		ctx.dry_run = g.dry_run;
		const char *compat = getenv("COMPOSE_COMPATIBILITY");
		g.compatibility |= compat && (streq(compat, "true") || streq(compat, "1"));
		rc = dispatch(argc, argv, i);
	}
	global_free();
	return finish_stdout(rc);
}
