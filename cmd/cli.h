/* Command-line plumbing shared by every command. */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

#include <signal.h>
#include <stdio.h>

#include "../lib/err.h"
#include "../orchestrator/project.h"

struct apply_ctx;

#define BERTH_VERSION "0.1.0"

enum flag_kind { FLAG_BOOL, FLAG_STR, FLAG_LIST };

struct flag {
	const char *name; /* long name without -- */
	char short_name;
	enum flag_kind kind;
	void *dst; /* bool *, const char **, char *** */
	const char *arg;
	const char *help;
};

/* Options that come before the command (docker compose's global flags). */
struct global_opts {
	char **files;
	const char *project_name;
	const char *project_dir;
	char **env_files;
	char **profiles;
	const char *log_level;
	const char *progress; /* auto, tty, plain, quiet, json */
	const char *ansi;     /* never, always, auto */
	const char *parallel; /* at most N containers started or stopped at once */
	bool dry_run, compatibility, all_resources, verbose;
	bool help;
	bool version;
	/* the command makes no container: a missing env_file fails nothing */
	bool lenient_env;
	bool no_env_resolution;                                /* config --no-env-resolution */
	bool no_consistency, no_path_resolution, no_normalize; /* config's flags of the same names */
};

/* The progress lines of every command (" Container NAME  Started" off a
 * terminal), as --progress says: docker compose's plain lines
 * ("Container NAME Started", plain), marked lines
 * with durations (tty, auto on a terminal), none (quiet) or one
 * JSON object per line (json); each starts "DRY-RUN MODE - " under
 * --dry-run. A progress_fn (data unused). */
void cli_progress(void *data, const char *kind, const char *name, const char *what);
/* Whether to colour output: --ansi always, never, or auto (a terminal). */
bool cli_color(void);
/* --dry-run was given. */
bool cli_dry_run(void);
/* What the orchestrator acts with: the state root, --dry-run, --parallel,
 * the progress display. */
const struct apply_ctx *cli_ctx(void);

/* What the command table says of each command, so that no list of names
 * elsewhere has to be kept in step with it. */
enum command_props {
	CMD_DRY_RUN = 1 << 0,     /* --dry-run: it says what it would do, or changes nothing anyway */
	CMD_GROUP = 1 << 1,       /* a group of subcommands: its reading ones (ls, inspect) take --dry-run */
	CMD_LENIENT_ENV = 1 << 2, /* it makes no container: a service's missing env_file fails nothing */
};

struct command {
	const char *name;
	const char *summary;
	int (*run)(struct global_opts *g, int argc, char **argv);
	unsigned props; /* enum command_props */
};

/* A command of a group (berth image ls, berth volume rm...). */
struct subcommand {
	const char *name, *summary;
	int (*run)(int argc, char **argv);
};

/* berth GROUP SUB ...: runs SUB (list and remove being ls and rm), or
 * prints the group's help, or says what is unknown. */
int subcommand_run(const char *group, const char *summary, const struct subcommand *cmds, size_t n, int argc,
		   char **argv);

/* berth GROUP inspect NAME...: each record that inspect gives, or "no such
 * KIND: NAME" and status 1. */
int inspect_each(const char *group, const char *kind, char *(*inspect)(const char *root, const char *name), int argc,
		 char **argv);

/* Parse flags from argv[*i]; stops at the first positional when stop_early.
 * Positionals are collected into *pos when not NULL. Exit code 2 on error. */
int flags_parse(const struct flag *flags, size_t n, int argc, char **argv, int *i, bool stop_early, char ***pos,
		struct berr **err);
void flags_usage(FILE *out, const struct flag *flags, size_t n);
/* A subcommand's flags, -h and --help added: an exit code to return (usage
 * error 2, the help printed 0), or -1 to go on with the command. */
int cmd_flags(const char *cmd, const struct flag *flags, size_t n, int argc, char **argv, char ***pos,
	      const char *usage_line, const char *summary);
/* The same, the flags ending at the first positional (berth run SERVICE
 * COMMAND -flags-of-the-command...); *pos gets it and all after it. */
int cmd_flags_stop(const char *cmd, const struct flag *flags, size_t n, int argc, char **argv, char ***pos,
		   const char *usage_line, const char *summary);

/* Usage error: print "berth: msg" and a hint; returns 2. */
int usage_error(const char *cmd, const char *msg);
/* Runtime error: print the chain once; returns 1. */
int report(struct berr *err);

int project_open(struct global_opts *g, char **services, bool no_interpolate, struct project **out, struct berr **err);
/* The same for down and ps: a project named by -p or COMPOSE_PROJECT_NAME
 * opens without its compose file (no services), as in docker compose. */
int project_open_named(struct global_opts *g, struct project **out, struct berr **err);
/* The same, and each of names must be a service of it (ps, stats). */
int project_open_listing(struct global_opts *g, char *const *names, struct project **out, struct berr **err);

/* The state root: BERTH_ROOT, else /var/lib/berth. */
const char *berth_root(void);
/* "3 days ago" for an RFC 3339 time, as docker prints it. */
char *human_ago(const char *rfc3339);
/* A time (ms since the epoch) as docker prints it: "2026-11-26T09:13:46.123Z". */
struct json_t;
struct json_t *json_rfc3339(int64_t ms);
/* [obj] as docker inspect prints it (4 spaces); takes obj. */
char *inspect_text(struct json_t *obj);
/* A network's or volume's labels with those docker compose gives what it
 * makes for a project: com.docker.compose.project, and key (…network,
 * …volume) the name in the file ("PROJECT_" taken off). */
struct json_t *compose_labels(struct json_t *labels, const char *project, const char *name, const char *key);

int cmd_config(struct global_opts *g, int argc, char **argv);
int cmd_up(struct global_opts *g, int argc, char **argv);
int cmd_create(struct global_opts *g, int argc, char **argv);
/* up --wait, start --wait: the services' containers (all: NULL) running
 * and healthy or done, within timeout (seconds or a duration; NULL: none). */
int wait_services_ready(const struct project *p, char **services, const char *timeout, struct berr **err);
/* berth __autoremove ROOT NAME: what the shim of a run -d --rm container
 * runs once it has ended (hidden). */
int cmd_autoremove(int argc, char **argv);
int cmd_convert(struct global_opts *g, int argc, char **argv);
int cmd_commit(struct global_opts *g, int argc, char **argv);
int cmd_export(struct global_opts *g, int argc, char **argv);
int cmd_wait(struct global_opts *g, int argc, char **argv);
int cmd_stats(struct global_opts *g, int argc, char **argv);
int cmd_cp(struct global_opts *g, int argc, char **argv);
int cmd_attach(struct global_opts *g, int argc, char **argv);
int cmd_watch(struct global_opts *g, int argc, char **argv);
int cmd_down(struct global_opts *g, int argc, char **argv);
int cmd_ps(struct global_opts *g, int argc, char **argv);
int cmd_ls(struct global_opts *g, int argc, char **argv);
int cmd_network(struct global_opts *g, int argc, char **argv);
int cmd_port(struct global_opts *g, int argc, char **argv);
int cmd_run(struct global_opts *g, int argc, char **argv);
int cmd_logs(struct global_opts *g, int argc, char **argv);
int cmd_start(struct global_opts *g, int argc, char **argv);
int cmd_stop(struct global_opts *g, int argc, char **argv);
int cmd_restart(struct global_opts *g, int argc, char **argv);
int cmd_kill(struct global_opts *g, int argc, char **argv);
int cmd_pause(struct global_opts *g, int argc, char **argv);
int cmd_unpause(struct global_opts *g, int argc, char **argv);
int cmd_rm(struct global_opts *g, int argc, char **argv);
int cmd_exec(struct global_opts *g, int argc, char **argv);
int cmd_top(struct global_opts *g, int argc, char **argv);
int cmd_volume(struct global_opts *g, int argc, char **argv);
int cmd_image(struct global_opts *g, int argc, char **argv);
int cmd_images(struct global_opts *g, int argc, char **argv);
int cmd_pull(struct global_opts *g, int argc, char **argv);
/* Whether service is among names (NULL: all), or (deps) one they depend on:
 * the selection of pull and push with --include-deps. */
bool service_named(const struct project *p, char *const *names, bool deps, const char *service);
int cmd_build(struct global_opts *g, int argc, char **argv);
int cmd_push(struct global_opts *g, int argc, char **argv);
int cmd_builder(struct global_opts *g, int argc, char **argv);
int cmd_image_build(int argc, char **argv);
int cmd_login(struct global_opts *g, int argc, char **argv);
int cmd_logout(struct global_opts *g, int argc, char **argv);
int cmd_version(struct global_opts *g, int argc, char **argv);
int cmd_events(struct global_opts *g, int argc, char **argv);
int cmd_scale(struct global_opts *g, int argc, char **argv);
int cmd_inspect(struct global_opts *g, int argc, char **argv);

/* What the project commands' files (up, down, run, watch...) share. */
int64_t cli_timeout_ms(const char *t);
bool cli_env_true(const struct project *p, const char *name);
/* Containers of services the file no longer has: removed when asked
 * (--remove-orphans, or COMPOSE_REMOVE_ORPHANS, also from .env), else
 * named in a warning unless COMPOSE_IGNORE_ORPHANS, as docker compose. */
bool cli_orphans_wanted_gone(const struct project *p, bool flag);
/* up --watch: the watch in a child process while up shows the logs; the
 * child ends with up. */
pid_t cli_start_watcher(const struct project *p, char **services);

/* Set by berth watch's signal handler: the watch ends. */
extern volatile sig_atomic_t cli_watch_stop;

/* The containers of the services a command on existing containers names
 * (start, stop, rm, exec...), with the project and, when asked, its lock. */
struct selection {
	struct project *p;
	struct ctr_info *list;
	size_t n;
	int lock;
};
void cli_selection_free(struct selection *s);
/* The project's containers of the named services (all without names). */
int cli_select_containers(struct global_opts *g, char **services, bool lock, struct selection *sel, struct berr **err);
void cli_stopped(void *data, const char *kind, const char *name, const char *what);

#endif
