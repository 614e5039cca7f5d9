/* The whole loading pipeline on files in a temporary directory. */
#include "helpers.h"

#include <limits.h>

#include "../../orchestrator/project.h"

static char *dir;
static char oldcwd[PATH_MAX];

static int setup(void **state)
{
	dir = tmpdir_new();
	assert_non_null(getcwd(oldcwd, sizeof(oldcwd)));
	assert_int_equal(chdir(dir), 0);
	return 0;
}

static int teardown(void **state)
{
	assert_int_equal(chdir(oldcwd), 0);
	rm_rf(dir);
	free(dir);
	return 0;
}

struct opts {
	const char *files[4];
	const char *name;
	const char *environ[8];
	const char *profiles[4];
	const char *services[4];
	const char *env_files[4];
	const char *project_dir;
	bool file_optional;
};

static char **vec(const char *const *v)
{
	if (!v[0])
		return NULL;
	char **r = NULL;
	for (size_t i = 0; v[i]; i++)
		strv_push(&r, xstrdup(v[i]));
	return r;
}

static int try_load(const struct opts *o, struct project **p, struct berr **err)
{
	char **files = vec(o->files), **env = vec(o->environ), **prof = vec(o->profiles);
	char **svcs = vec(o->services), **envf = vec(o->env_files);
	if (!env)
		env = xcalloc(1, sizeof(char *));
	struct project_opts po = {.files = files,
				  .name = o->name,
				  .environ = env,
				  .profiles = prof,
				  .services = svcs,
				  .env_files = envf,
				  .project_dir = o->project_dir,
				  .file_optional = o->file_optional};
	int r = project_load(&po, p, err);
	strv_free(files);
	strv_free(env);
	strv_free(prof);
	strv_free(svcs);
	strv_free(envf);
	return r;
}

static struct project *load(const struct opts *o)
{
	struct project *p = NULL;
	struct berr *err = NULL;
	if (try_load(o, &p, &err) < 0)
		fail_msg("load failed: %s", err->msg);
	return p;
}

/* The error message of a load that must fail; it must contain want. */
static void load_fails(const struct opts *o, const char *want)
{
	struct project *p = NULL;
	struct berr *err = NULL;
	if (try_load(o, &p, &err) == 0) {
		project_free(p);
		fail_msg("load succeeded; expected an error containing: %s", want);
	}
	if (!strstr(err->msg, want))
		fail_msg("error was:\n  %s\nexpected it to contain:\n  %s", err->msg, want);
	berr_free(err);
}

static struct node *svc(struct project *p, const char *name) { return project_service(p, name); }

static void discovery_finds_file_and_override(void **state)
{
	write_file(dir, "compose.yaml", "services:\n  web:\n    image: a\n    environment: [A=1]\n");
	write_file(dir, "compose.override.yaml", "services:\n  web:\n    environment: [B=2]\n");
	write_file(dir, "docker-compose.yml", "services:\n  other:\n    image: x\n");
	write_file(dir, "sub/deeper/.keep", "");
	assert_int_equal(chdir("sub/deeper"), 0);
	struct project *p = load(&(struct opts){0});
	assert_int_equal(strv_len(p->files), 2);
	assert_non_null(strstr(p->files[0], "/compose.yaml"));
	assert_string_equal(at_str(svc(p, "web"), "environment.A"), "1");
	assert_string_equal(at_str(svc(p, "web"), "environment.B"), "2");
	assert_null(svc(p, "other"));
	assert_string_equal(p->workdir, dir);
	project_free(p);
}

static void no_file_found(void **state) { load_fails(&(struct opts){0}, "no compose file found in"); }

/* down and ps: a project named by -p or COMPOSE_PROJECT_NAME needs no file */
static void named_project_without_file(void **state)
{
	struct project *p = load(&(struct opts){.name = "gone", .file_optional = true});
	assert_string_equal(p->name, "gone");
	assert_null(p->files[0]);
	assert_int_equal(project_services(p)->n, 0);
	assert_null(p->order[0]);
	project_free(p);
	p = load(&(struct opts){.environ = {"COMPOSE_PROJECT_NAME=fromenv"}, .file_optional = true});
	assert_string_equal(p->name, "fromenv");
	project_free(p);
	/* a name is needed, and must be valid; other commands still need the file */
	load_fails(&(struct opts){.file_optional = true}, "no compose file found in");
	load_fails(&(struct opts){.name = "Bad Name", .file_optional = true}, "invalid project name");
	load_fails(&(struct opts){.name = "gone"}, "no compose file found in");
}

static void project_names(void **state)
{
	write_file(dir, "My App/compose.yaml", "services:\n  web:\n    image: a\n");
	struct project *p = load(&(struct opts){.files = {"My App/compose.yaml"}});
	assert_string_equal(p->name, "myapp");
	project_free(p);
	p = load(&(struct opts){.files = {"My App/compose.yaml"}, .name = "given"});
	assert_string_equal(p->name, "given");
	project_free(p);
	p = load(&(struct opts){.files = {"My App/compose.yaml"}, .environ = {"COMPOSE_PROJECT_NAME=fromenv"}});
	assert_string_equal(p->name, "fromenv");
	project_free(p);
	write_file(dir, "named.yaml",
		   "name: ${N:-fromfile}\nservices:\n  web:\n    image: a\n"
		   "    environment: [\"P=${COMPOSE_PROJECT_NAME}\"]\n");
	p = load(&(struct opts){.files = {"named.yaml"}});
	assert_string_equal(p->name, "fromfile");
	assert_string_equal(at_str(svc(p, "web"), "environment.P"), "fromfile");
	project_free(p);
	load_fails(&(struct opts){.files = {"named.yaml"}, .name = "Bad Name"}, "invalid project name \"Bad Name\"");
}

static void merge_rules_across_files(void **state)
{
	write_file(dir, "a.yaml",
		   "services:\n  web:\n    image: a\n    command: [a, b]\n"
		   "    ports: [\"8080:80\", \"9090:90\"]\n"
		   "    volumes: [\"data:/data\", \"./src:/src\"]\n"
		   "    environment: {A: 1, B: 2}\n    dns: [1.1.1.1]\n"
		   "    healthcheck: {test: [CMD, a], interval: 10s}\n"
		   "volumes:\n  data: {}\n  other: {}\n");
	write_file(dir, "b.yaml",
		   "services:\n  web:\n    image: b\n    command: c\n"
		   "    ports: [\"8080:80\", \"7070:70\"]\n"
		   "    volumes: [\"other:/data:ro\"]\n"
		   "    environment: [B=3, C=4]\n    dns: [8.8.8.8]\n"
		   "    healthcheck: {test: [CMD, b]}\n");
	struct project *p = load(&(struct opts){.files = {"a.yaml", "b.yaml"}});
	struct node *w = svc(p, "web");
	assert_string_equal(at_str(w, "image"), "b");
	assert_int_equal(at(w, "command")->n, 1);
	assert_string_equal(at_str(w, "command[0]"), "c");
	assert_int_equal(at(w, "ports")->n, 3);
	assert_string_equal(at_str(w, "ports[2].published"), "7070");
	assert_int_equal(at(w, "volumes")->n, 2);
	assert_string_equal(at_str(w, "volumes[0].source"), "other");
	assert_string_equal(at_str(w, "volumes[0].read_only"), "true");
	char *src = path_join(dir, "src");
	assert_string_equal(at_str(w, "volumes[1].source"), src);
	free(src);
	assert_string_equal(at_str(w, "environment.A"), "1");
	assert_string_equal(at_str(w, "environment.B"), "3");
	assert_string_equal(at_str(w, "environment.C"), "4");
	assert_int_equal(at(w, "dns")->n, 2);
	assert_string_equal(at_str(w, "healthcheck.test[1]"), "b");
	assert_string_equal(at_str(w, "healthcheck.interval"), "10s");
	project_free(p);
}

static void reset_and_override_across_files(void **state)
{
	write_file(dir, "a.yaml",
		   "services:\n  app:\n    image: a\n    ports: [\"8080:80\"]\n"
		   "    environment: {FOO: bar, KEEP: 1}\n    networks: [x]\nnetworks:\n  x: {}\n  y: {}\n");
	write_file(dir, "b.yaml",
		   "services:\n  app:\n    ports: !reset []\n    environment:\n      FOO: !reset null\n"
		   "    networks: !override [y]\n");
	struct project *p = load(&(struct opts){.files = {"a.yaml", "b.yaml"}});
	assert_null(at(svc(p, "app"), "ports"));
	assert_null(at(svc(p, "app"), "environment.FOO"));
	assert_string_equal(at_str(svc(p, "app"), "environment.KEEP"), "1");
	assert_null(at(svc(p, "app"), "networks.x"));
	assert_non_null(node_map_pair(at(svc(p, "app"), "networks"), "y"));
	project_free(p);
}

static void env_file_and_environment(void **state)
{
	write_file(dir, ".env", "TAG=1.2\nFROM_DOTENV=d\nSHELL_WINS=dotenv\n");
	write_file(dir, "common.env", "A=common\nB=common\nREF=${TAG}\n");
	write_file(dir, "compose.yaml",
		   "services:\n  web:\n    image: \"app:${TAG}\"\n"
		   "    env_file: [common.env, {path: missing.env, required: false}]\n"
		   "    environment:\n      - B=explicit\n      - FROM_DOTENV\n      - NOT_SET_ANYWHERE\n"
		   "      - SHELL_WINS\n");
	struct project *p = load(&(struct opts){.environ = {"SHELL_WINS=shell"}});
	struct node *w = svc(p, "web");
	assert_string_equal(at_str(w, "image"), "app:1.2");
	assert_string_equal(at_str(w, "environment.A"), "common");
	assert_string_equal(at_str(w, "environment.B"), "explicit");
	assert_string_equal(at_str(w, "environment.REF"), "1.2");
	assert_string_equal(at_str(w, "environment.FROM_DOTENV"), "d");
	assert_string_equal(at_str(w, "environment.SHELL_WINS"), "shell");
	assert_null(at(w, "environment.NOT_SET_ANYWHERE"));
	assert_null(at(w, "env_file"));
	project_free(p);
	write_file(dir, "other.env", "TAG=9\n");
	p = load(&(struct opts){.env_files = {"other.env"}});
	assert_string_equal(at_str(svc(p, "web"), "image"), "app:9");
	assert_null(at(svc(p, "web"), "environment.FROM_DOTENV")); /* .env was replaced */
	project_free(p);
}

static void missing_env_file_is_an_error(void **state)
{
	write_file(dir, "compose.yaml", "services:\n  web:\n    image: a\n    env_file: nope.env\n");
	load_fails(&(struct opts){0}, "compose.yaml:4:15: services.web.env_file: env file ");
}

static void compose_file_and_profiles_from_env(void **state)
{
	write_file(dir, "one.yaml", "services:\n  a:\n    image: a\n  dbg:\n    image: d\n    profiles: [debug]\n");
	write_file(dir, "two.yaml", "services:\n  b:\n    image: b\n");
	write_file(dir, ".env", "COMPOSE_FILE=one.yaml:two.yaml\nCOMPOSE_PROFILES=debug\n");
	struct project *p = load(&(struct opts){0});
	assert_non_null(svc(p, "a"));
	assert_non_null(svc(p, "b"));
	assert_non_null(svc(p, "dbg"));
	project_free(p);
}

static void profiles(void **state)
{
	write_file(dir, "compose.yaml",
		   "services:\n  foo: {image: foo}\n  bar: {image: bar, profiles: [test]}\n"
		   "  baz: {image: baz, profiles: [test], depends_on: [bar]}\n"
		   "  zot: {image: zot, profiles: [debug], depends_on: [bar]}\n");
	struct project *p = load(&(struct opts){0});
	assert_non_null(svc(p, "foo"));
	assert_null(svc(p, "bar"));
	assert_null(svc(p, "zot"));
	assert_int_equal(strv_len(p->all_profiles), 2);
	assert_string_equal(p->all_profiles[0], "debug");
	project_free(p);
	p = load(&(struct opts){.profiles = {"test"}});
	assert_non_null(svc(p, "bar"));
	assert_non_null(svc(p, "baz"));
	assert_null(svc(p, "zot"));
	project_free(p);
	p = load(&(struct opts){.services = {"baz"}});
	assert_non_null(svc(p, "bar"));
	assert_non_null(svc(p, "baz"));
	project_free(p);
	p = load(&(struct opts){.profiles = {"*"}});
	assert_non_null(svc(p, "zot"));
	project_free(p);
	load_fails(&(struct opts){.services = {"zot"}},
		   "services.zot.depends_on refers to service \"bar\", which is not defined or not enabled by the "
		   "active profiles");
	load_fails(&(struct opts){.services = {"nope"}}, "no such service: nope");
}

static void extends_same_and_other_file(void **state)
{
	write_file(dir, "common/base.yaml",
		   "services:\n  base:\n    image: busybox\n    user: root\n"
		   "    volumes: [\"./conf:/conf\"]\n    environment: {TZ: utc, PORT: 80}\n");
	write_file(dir, "compose.yaml",
		   "services:\n  common:\n    extends: {file: common/base.yaml, service: base}\n"
		   "    security_opt: [\"label:role:ROLE\"]\n"
		   "  cli:\n    extends: common\n    environment: {PORT: 8080}\n"
		   "    security_opt: [\"label:user:USER\"]\n");
	struct project *p = load(&(struct opts){0});
	struct node *cli = svc(p, "cli");
	assert_string_equal(at_str(cli, "image"), "busybox");
	assert_string_equal(at_str(cli, "user"), "root");
	assert_string_equal(at_str(cli, "environment.TZ"), "utc");
	assert_string_equal(at_str(cli, "environment.PORT"), "8080");
	assert_int_equal(at(cli, "security_opt")->n, 2);
	assert_null(at(cli, "extends"));
	char *conf = path_join(dir, "common/conf");
	assert_string_equal(at_str(cli, "volumes[0].source"), conf);
	free(conf);
	project_free(p);
}

static void extends_errors(void **state)
{
	write_file(dir, "cycle.yaml", "services:\n  a:\n    extends: b\n  b:\n    extends: a\n    image: x\n");
	load_fails(&(struct opts){.files = {"cycle.yaml"}}, "circular reference");
	write_file(dir, "missing.yaml", "services:\n  a:\n    extends: {service: nope}\n");
	load_fails(&(struct opts){.files = {"missing.yaml"}},
		   "missing.yaml:3:24: services.a.extends: service \"nope\" is not defined");
	write_file(dir, "nofile.yaml", "services:\n  a:\n    extends: {file: gone.yaml, service: x}\n");
	load_fails(&(struct opts){.files = {"nofile.yaml"}}, "gone.yaml does not exist");
}

static void include_short_and_long(void **state)
{
	write_file(dir, "db/compose.yaml",
		   "services:\n  db:\n    image: \"postgres:${PG:-15}\"\n"
		   "    volumes: [\"./init:/init\", \"pgdata:/var/lib/postgresql/data\"]\n"
		   "volumes:\n  pgdata: {}\n");
	write_file(dir, "db/.env", "PG=16\n");
	write_file(dir, "cache/c.yaml", "services:\n  cache:\n    image: \"redis:${RV}\"\n");
	write_file(dir, "cache/vars.env", "RV=7\n");
	write_file(dir, "compose.yaml",
		   "include:\n  - db/compose.yaml\n  - path: cache/c.yaml\n"
		   "    env_file: cache/vars.env\nservices:\n  web:\n    image: w\n"
		   "    depends_on: [db, cache]\n");
	struct project *p = load(&(struct opts){0});
	assert_string_equal(at_str(svc(p, "db"), "image"), "postgres:16");
	assert_string_equal(at_str(svc(p, "cache"), "image"), "redis:7");
	char *init = path_join(dir, "db/init");
	assert_string_equal(at_str(svc(p, "db"), "volumes[0].source"), init);
	free(init);
	assert_string_equal(at_str(p->doc, "volumes.pgdata.name"),
			    p->name[0] ? at_str(p->doc, "volumes.pgdata.name") : "");
	char *want = xasprintf("%s_pgdata", p->name);
	assert_string_equal(at_str(p->doc, "volumes.pgdata.name"), want);
	free(want);
	project_free(p);
	/* the including project's environment wins over the included .env */
	p = load(&(struct opts){.environ = {"PG=17", "RV=1"}});
	assert_string_equal(at_str(svc(p, "db"), "image"), "postgres:17");
	project_free(p);
}

static void include_conflict(void **state)
{
	write_file(dir, "inc.yaml", "services:\n  web:\n    image: other\n");
	write_file(dir, "compose.yaml", "include: [inc.yaml]\nservices:\n  web:\n    image: mine\n");
	load_fails(&(struct opts){0}, "services.web is defined both here (included from");
}

static void normalization(void **state)
{
	write_file(
		dir, "compose.yaml",
		"services:\n  web:\n    image: a\n    build: ./app\n    command: sh -c 'echo hi'\n"
		"    ports: [80, \"127.0.0.1:8080:80/udp\", {target: \"90\", published: 9090}]\n"
		"    expose: [3000]\n"
		"    volumes: [\"~/cache:/cache\", \"/abs:/abs:ro,z\", \"data:/data:nocopy\", /anon]\n"
		"    depends_on: [db]\n    mem_limit: 512m\n    cpus: \"0.5\"\n    stop_grace_period: 90s\n"
		"    healthcheck:\n      test: curl -f http://localhost\n      interval: 1m30s\n      timeout: 500ms\n"
		"    labels: [a=b, flag]\n    extra_hosts: [\"h1:10.0.0.1\", \"h2=10.0.0.2\"]\n"
		"    deploy:\n      resources:\n        limits: {memory: 1g, cpus: '0.25'}\n"
		"    secrets: [s1]\n"
		"  db:\n    image: db\n    network_mode: host\n"
		"volumes:\n  data:\n  ext:\n    external: true\n  named:\n    name: fixed\n"
		"networks:\n  old:\n    external:\n      name: legacy\n"
		"secrets:\n  s1:\n    file: ./s1.txt\n");
	struct project *p = load(&(struct opts){.name = "proj", .environ = {"HOME=/home/u"}});
	struct node *w = svc(p, "web");
	char *ctx = path_join(dir, "app");
	assert_string_equal(at_str(w, "build.context"), ctx);
	free(ctx);
	assert_string_equal(at_str(w, "build.dockerfile"), "Dockerfile");
	assert_int_equal(at(w, "command")->n, 3);
	assert_string_equal(at_str(w, "command[2]"), "echo hi");
	assert_int_equal(at(w, "ports[0].target")->tag, TAG_INT);
	assert_null(at(w, "ports[0].published"));
	assert_string_equal(at_str(w, "ports[0].mode"), "ingress");
	assert_string_equal(at_str(w, "ports[1].host_ip"), "127.0.0.1");
	assert_string_equal(at_str(w, "ports[1].protocol"), "udp");
	assert_int_equal(at(w, "ports[2].target")->tag, TAG_INT);
	assert_int_equal(at(w, "ports[2].published")->tag, TAG_STR);
	assert_string_equal(at_str(w, "ports[2].published"), "9090");
	assert_int_equal(at(w, "expose[0]")->tag, TAG_STR);
	assert_string_equal(at_str(w, "volumes[0].source"), "/home/u/cache");
	assert_string_equal(at_str(w, "volumes[0].type"), "bind");
	assert_string_equal(at_str(w, "volumes[0].bind.create_host_path"), "true");
	assert_string_equal(at_str(w, "volumes[1].read_only"), "true");
	assert_string_equal(at_str(w, "volumes[1].bind.selinux"), "z");
	assert_string_equal(at_str(w, "volumes[2].type"), "volume");
	assert_string_equal(at_str(w, "volumes[2].volume.nocopy"), "true");
	assert_null(at(w, "volumes[3].source"));
	assert_string_equal(at_str(w, "volumes[3].target"), "/anon");
	assert_string_equal(at_str(w, "depends_on.db.condition"), "service_started");
	assert_string_equal(at_str(w, "depends_on.db.required"), "true");
	assert_string_equal(at_str(w, "mem_limit"), "536870912");
	assert_int_equal(at(w, "cpus")->tag, TAG_FLOAT);
	assert_string_equal(at_str(w, "cpus"), "0.5");
	assert_string_equal(at_str(w, "stop_grace_period"), "1m30s");
	assert_string_equal(at_str(w, "healthcheck.test[0]"), "CMD-SHELL");
	assert_string_equal(at_str(w, "healthcheck.interval"), "1m30s");
	assert_string_equal(at_str(w, "healthcheck.timeout"), "500ms");
	assert_string_equal(at_str(w, "labels.a"), "b");
	assert_string_equal(at_str(w, "labels.flag"), "");
	assert_string_equal(at_str(w, "extra_hosts[0]"), "h1=10.0.0.1");
	assert_string_equal(at_str(w, "extra_hosts[1]"), "h2=10.0.0.2");
	assert_string_equal(at_str(w, "deploy.resources.limits.memory"), "1073741824");
	assert_string_equal(at_str(w, "deploy.resources.limits.cpus"), "0.25");
	assert_string_equal(at_str(w, "secrets[0].source"), "s1");
	assert_non_null(node_map_pair(at(w, "networks"), "default"));
	assert_null(at(svc(p, "db"), "networks"));
	assert_string_equal(at_str(p->doc, "networks.default.name"), "proj_default");
	assert_string_equal(at_str(p->doc, "networks.old.name"), "legacy");
	assert_string_equal(at_str(p->doc, "networks.old.external"), "true");
	assert_string_equal(at_str(p->doc, "volumes.data.name"), "proj_data");
	assert_string_equal(at_str(p->doc, "volumes.ext.name"), "ext");
	assert_string_equal(at_str(p->doc, "volumes.named.name"), "fixed");
	char *s1 = path_join(dir, "s1.txt");
	assert_string_equal(at_str(p->doc, "secrets.s1.file"), s1);
	free(s1);
	assert_string_equal(p->order[0], "db");
	assert_string_equal(p->order[1], "web");
	project_free(p);
}

/* pre_start (the 2020-12 schema's $defs): commands become lists,
 * environments mappings; a step's unknown key is refused with its line. */
static void pre_start_steps(void **state)
{
	write_file(dir, "compose.yaml",
		   "services:\n  web:\n    image: a\n    pre_start:\n"
		   "      - command: sh -c 'echo hi'\n        environment: [A=1, B]\n"
		   "      - image: other\n        per_replica: true\n");
	struct project *p = load(&(struct opts){.name = "proj"});
	struct node *w = svc(p, "web");
	assert_int_equal(at(w, "pre_start[0].command")->n, 3);
	assert_string_equal(at_str(w, "pre_start[0].command[2]"), "echo hi");
	assert_string_equal(at_str(w, "pre_start[0].environment.A"), "1");
	assert_true(node_is_null(at(w, "pre_start[0].environment.B")));
	assert_string_equal(at_str(w, "pre_start[1].image"), "other");
	project_free(p);
	write_file(dir, "compose.yaml", "services:\n  web:\n    image: a\n    pre_start:\n      - when: always\n");
	load_fails(&(struct opts){.name = "proj"}, "compose.yaml:5:9: services.web.pre_start[0]: unknown key \"when\"");
	write_file(dir, "compose.yaml", "services:\n  web:\n    image: a\n    pre_start:\n      - command: 'a \"b'\n");
	load_fails(&(struct opts){.name = "proj"}, "unclosed quote");
}

static void interpolated_values_take_the_schema_type(void **state)
{
	write_file(dir, "compose.yaml",
		   "services:\n  web:\n    image: a\n    privileged: ${PRIV:-true}\n"
		   "    cpu_shares: ${SHARES:-512}\n    scale: ${N}\n");
	struct project *p = load(&(struct opts){.environ = {"N=2"}});
	assert_int_equal(at(svc(p, "web"), "privileged")->tag, TAG_BOOL);
	assert_int_equal(at(svc(p, "web"), "cpu_shares")->tag, TAG_INT);
	assert_int_equal(at(svc(p, "web"), "scale")->tag, TAG_INT);
	project_free(p);
	load_fails(&(struct opts){.environ = {"N=two"}},
		   "compose.yaml:6:12: services.web.scale: \"two\" is not a whole number");
}

static void validation_messages(void **state)
{
	write_file(dir, "c.yaml", "services:\n  web:\n    imagee: nginx\n");
	load_fails(&(struct opts){.files = {"c.yaml"}},
		   "c.yaml:3:5: services.web: unknown key \"imagee\"; did you mean \"image\"?");
	write_file(dir, "c.yaml", "services:\n  web:\n    image: nginx\n    frobnicate: 1\n");
	load_fails(&(struct opts){.files = {"c.yaml"}},
		   "c.yaml:4:5: services.web: unknown key \"frobnicate\" (custom keys must start with \"x-\")");
	write_file(dir, "c.yaml", "services:\n  web:\n    image: nginx\n    privileged: maybe\n");
	load_fails(&(struct opts){.files = {"c.yaml"}},
		   "c.yaml:4:17: services.web.privileged: \"maybe\" is not true or false");
	write_file(dir, "c.yaml", "services:\n  web:\n    image: nginx\n    privileged: [1]\n");
	load_fails(&(struct opts){.files = {"c.yaml"}},
		   "c.yaml:4:17: services.web.privileged: must be a string or a boolean, not a list");
	write_file(dir, "c.yaml", "services:\n  web:\n    image: [nginx]\n");
	load_fails(&(struct opts){.files = {"c.yaml"}},
		   "c.yaml:3:12: services.web.image: must be a string, not a list");
	write_file(dir, "c.yaml", "services:\n  web:\n    ports:\n      - {published: 80}\n");
	load_fails(&(struct opts){.files = {"c.yaml"}},
		   "c.yaml:4:9: services.web.ports[0]: the key \"target\" is required");
	write_file(dir, "c.yaml", "servics:\n  web: {}\n");
	load_fails(&(struct opts){.files = {"c.yaml"}},
		   "c.yaml:1:1: unknown key \"servics\"; did you mean \"services\"?");
	write_file(dir, "c.yaml", "- a\n- b\n");
	load_fails(&(struct opts){.files = {"c.yaml"}}, "top level of a compose file must be a mapping");
	write_file(dir, "c.yaml", "services:\n  web:\n    image: a\n    ports: [\"99999:80\"]\n");
	load_fails(&(struct opts){.files = {"c.yaml"}},
		   "c.yaml:4:13: services.web.ports[0]: invalid port \"99999:80\"");
	write_file(dir, "c.yaml", "services:\n  web:\n    image: a\n    mem_limit: lots\n");
	load_fails(&(struct opts){.files = {"c.yaml"}}, "c.yaml:4:16: services.web.mem_limit: \"lots\" is not a size");
	write_file(dir, "c.yaml", "services:\n  web:\n    image: a\n    healthcheck: {interval: soon}\n");
	load_fails(&(struct opts){.files = {"c.yaml"}},
		   "services.web.healthcheck.interval: \"soon\" is not a duration");
}

static void reference_errors(void **state)
{
	write_file(dir, "c.yaml", "services:\n  web:\n    image: a\n    networks: [front]\n");
	load_fails(&(struct opts){.files = {"c.yaml"}},
		   "c.yaml:4:16: services.web.networks refers to network \"front\", which is not defined");
	write_file(dir, "c.yaml", "services:\n  web:\n    image: a\n    volumes: [\"data:/d\"]\n");
	load_fails(&(struct opts){.files = {"c.yaml"}},
		   "services.web.volumes[0] refers to volume \"data\", which is not defined");
	write_file(dir, "c.yaml", "services:\n  web:\n    image: a\n    secrets: [pw]\n");
	load_fails(&(struct opts){.files = {"c.yaml"}},
		   "services.web.secrets[0] refers to secrets \"pw\", which is not defined");
	write_file(dir, "c.yaml", "services:\n  web:\n    image: a\n    depends_on: [api]\n");
	load_fails(&(struct opts){.files = {"c.yaml"}}, "services.web.depends_on refers to service \"api\"");
	write_file(dir, "c.yaml", "services:\n  web:\n    image: a\n    network_mode: \"service:vpn\"\n");
	load_fails(&(struct opts){.files = {"c.yaml"}}, "services.web.network_mode refers to service \"vpn\"");
}

/* Names become paths: none may climb out of its directory. */
static void names_that_would_be_paths(void **state)
{
	write_file(dir, "c.yaml", "services:\n  web:\n    image: a\n    container_name: ../../../../home\n");
	load_fails(&(struct opts){.files = {"c.yaml"}},
		   "c.yaml:4:21: services.web.container_name: \"../../../../home\" is not a valid name");
	write_file(dir, "c.yaml", "services:\n  web:\n    image: a\nvolumes:\n  data:\n    name: ../x\n");
	load_fails(&(struct opts){.files = {"c.yaml"}}, "c.yaml:6:11: volumes.data.name: \"../x\" is not a valid name");
	write_file(dir, "c.yaml", "services:\n  web:\n    image: a\nnetworks:\n  \"..\": {}\n");
	load_fails(&(struct opts){.files = {"c.yaml"}}, "c.yaml:5:3: networks: \"..\" is not a valid name");
	write_file(dir, "c.yaml", "services:\n  .hidden:\n    image: a\n");
	load_fails(&(struct opts){.files = {"c.yaml"}}, "services: \".hidden\" is not a valid name");
	write_file(dir, "c.yaml", "services:\n  web:\n    image: a\nsecrets:\n  pw:\n    name: a/b\n    file: ./x\n");
	load_fails(&(struct opts){.files = {"c.yaml"}}, "secrets.pw.name: \"a/b\" is not a valid name");
	write_file(dir, "c.yaml", "services:\n  web:\n    image: a\n    container_name: my.web_1-x\n");
	project_free(load(&(struct opts){.files = {"c.yaml"}}));
}

static void dependency_cycle_named_in_full(void **state)
{
	write_file(dir, "c.yaml",
		   "services:\n  web:\n    image: a\n    depends_on: [api]\n"
		   "  api:\n    image: a\n    depends_on: [db]\n  db:\n    image: a\n    links: [web]\n");
	load_fails(&(struct opts){.files = {"c.yaml"}}, "dependency cycle: web -> api -> db -> web");
}

static void hash_is_stable_and_sensitive(void **state)
{
	write_file(dir, "a.yaml", "services:\n  web:\n    image: a\n    environment: {A: 1, B: 2}\n");
	write_file(dir, "b.yaml", "services:\n  web:\n    environment: [B=2, A=1]\n    image: a\n");
	write_file(dir, "c.yaml", "services:\n  web:\n    image: a\n    environment: {A: 1, B: 3}\n");
	char h[3][65];
	const char *files[] = {"a.yaml", "b.yaml", "c.yaml"};
	for (int i = 0; i < 3; i++) {
		struct project *p = load(&(struct opts){.files = {files[i]}, .name = "x"});
		struct berr *err = NULL;
		assert_int_equal(project_service_hash(p, "web", h[i], &err), 0);
		project_free(p);
	}
	assert_string_equal(h[0], h[1]);
	assert_string_not_equal(h[0], h[2]);
	assert_int_equal(strlen(h[0]), 64);
}

static void stdin_like_dash_and_empty(void **state)
{
	write_file(dir, "empty.yaml", "");
	struct project *p = load(&(struct opts){.files = {"empty.yaml"}, .name = "e"});
	assert_null(project_services(p));
	project_free(p);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(discovery_finds_file_and_override),
		T(no_file_found),
		T(named_project_without_file),
		T(project_names),
		T(merge_rules_across_files),
		T(reset_and_override_across_files),
		T(env_file_and_environment),
		T(missing_env_file_is_an_error),
		T(compose_file_and_profiles_from_env),
		T(profiles),
		T(extends_same_and_other_file),
		T(extends_errors),
		T(include_short_and_long),
		T(include_conflict),
		T(normalization),
		T(pre_start_steps),
		T(interpolated_values_take_the_schema_type),
		T(validation_messages),
		T(reference_errors),
		T(names_that_would_be_paths),
		T(dependency_cycle_named_in_full),
		T(hash_is_stable_and_sensitive),
		T(stdin_like_dash_and_empty),
	};
	return cmocka_run_group_tests_name("load", tests, NULL, NULL);
}
