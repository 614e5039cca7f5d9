/* The project model: a compose application loaded, merged, normalized and
 * checked. Every command starts from project_load(). */
#ifndef BERTH_PROJECT_H
#define BERTH_PROJECT_H

#include "env.h"
#include "node.h"

struct project_opts {
	char **files;     /* -f in order (NULL: COMPOSE_FILE or discovery); "-" is stdin */
	const char *name; /* -p */
	const char *project_dir;
	char **env_files; /* --env-file (NULL: .env in the project directory) */
	char **profiles;  /* --profile (NULL: COMPOSE_PROFILES) */
	char **services;  /* services named on the command line */
	bool no_interpolate;
	/* with no compose file found, a project named by -p or
	 * COMPOSE_PROJECT_NAME is opened without one (files empty, no
	 * services), as docker compose does for down and ps */
	bool file_optional;
	bool compatibility; /* docker-compose v1's container names: project_service_1 */
	/* a missing env_file fails no service (ps, logs, down, … need none);
	 * else it fails the services named (and their dependencies), or all */
	bool lenient_env;
	bool no_env_resolution;  /* config --no-env-resolution: env_file not read */
	bool no_consistency;     /* config --no-consistency: references between services not checked */
	bool no_path_resolution; /* config --no-path-resolution: relative paths stay relative */
	bool no_normalize;       /* config --no-normalize: the merged model as written */
	char *const *environ;    /* the process environment */
};

struct project {
	char *name;
	char *workdir;
	char **files;          /* the compose files that were read */
	struct env env;        /* process environment over the .env file */
	char **profiles;       /* active profiles */
	char **all_profiles;   /* every profile some service names, sorted */
	struct node *doc;      /* the normalized model (services, networks, volumes, ...) */
	char **order;          /* enabled services, dependencies first */
	char sep;              /* in container names: '-', or '_' (--compatibility) */
	struct env env_errors; /* service -> why its env_file cannot be read (a missing file) */
};

int project_load(const struct project_opts *o, struct project **out, struct berr **err);
void project_free(struct project *p);
void project_freep(struct project **p);

struct node *project_services(const struct project *p);
struct node *project_service(const struct project *p, const char *name);
/* The first env_file error (project.env_errors) of the services, their
 * dependencies included (NULL: every enabled service). */
int project_env_check(const struct project *p, char *const *services, struct berr **err);
/* sha256 (hex) of the service's resolved configuration, stable across runs. */
int project_service_hash(const struct project *p, const char *name, char out[65], struct berr **err);

/* Compose's project name rules: lowercase letters, digits, '-' and '_',
 * starting with a letter or digit. */
bool project_name_valid(const char *name);
/* A directory name made into a valid project name ("My App" -> "myapp"). */
char *project_name_normalize(const char *s);

#endif
