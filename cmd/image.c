/* berth image load | ls | inspect | rm, and berth images. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "../lib/json.h"
#include "../lib/fs.h"
#include "../images/image.h"
#include "../images/pull.h"
#include "../images/push.h"
#include "../images/ref.h"
#include "../runtime/ctr.h"
#include "cli.h"
#include "../orchestrator/apply.h"
#include "format.h"
#include "table.h"

/* The state root, made 0700 the first time it is asked for: containers'
 * files (a setuid binary a container made, its secrets), images and
 * volumes must be out of every other host user's reach. A root made by an
 * older berth with a wider mode is narrowed. */
const char *berth_root(void)
{
	static bool ready;
	const char *r = getenv("BERTH_ROOT");
	r = r && r[0] ? r : "/var/lib/berth";
	if (!ready) {
		ready = true;
		struct stat st;
		_cleanup_free_ char *parent = path_dirname(r);
		if (stat(r, &st) < 0 && errno == ENOENT && fs_mkdir_p(parent, 0755, NULL) == 0 && mkdir(r, 0700) == 0)
			return r;
		if (stat(r, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 077) && st.st_uid == geteuid())
			chmod(r, 0700);
		/* another user's root reads as empty: say why, once, before any
		 * "no such container" that follows from it */
		if (access(r, R_OK | X_OK) < 0 && errno != ENOENT)
			fprintf(stderr,
				"berth: warning: cannot use the state root %s: %s (it is another user's; set "
				"BERTH_ROOT "
				"to one of yours)\n",
				r, strerror(errno));
	}
	return r;
}

static void print_lines(char **lines)
{
	for (size_t i = 0; lines && lines[i]; i++)
		printf("%s\n", lines[i]);
}

static int image_load_cmd(int argc, char **argv)
{
	const char *input = NULL;
	bool quiet = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"input", 'i', FLAG_STR, &input, "FILE", "Read from a tar archive file instead of standard input"},
		{"quiet", 'q', FLAG_BOOL, &quiet, NULL, "Print nothing"},
	};
	int rc = cmd_flags("image load", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth image load [-i FILE]",
			   "Load images from a docker-archive (docker save) or an OCI image layout archive.");
	if (rc < 0 && pos)
		rc = usage_error("image load", "image load takes no arguments; name the archive with -i FILE");
	strv_free(pos);
	if (rc >= 0)
		return rc;
	struct berr *err = NULL;
	int fd = input ? open(input, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0) {
		berr_sys(&err, errno, "cannot open %s", input);
		return report(err);
	}
	struct store *s = NULL;
	char **loaded = NULL;
	int r = store_open(berth_root(), true, &s, &err);
	if (r == 0)
		r = image_load(s, fd, input ? input : "standard input", &loaded, &err);
	if (input)
		close(fd);
	store_close(s);
	if (r == 0 && !quiet)
		print_lines(loaded);
	strv_free(loaded);
	return r < 0 ? report(err) : 0;
}

/* "3 days ago", as docker prints times. */
char *human_ago(const char *rfc3339)
{
	struct tm tm = {0};
	if (!rfc3339 || !strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm))
		return xstrdup("N/A");
	long d = (long)difftime(time(NULL), timegm(&tm));
	if (d < 1)
		return xstrdup("Less than a second ago");
	static const struct {
		long secs;
		const char *name;
	} steps[] = {{365L * 86400, "year"}, {30L * 86400, "month"}, {7L * 86400, "week"}, {86400, "day"},
		     {3600, "hour"},         {60, "minute"},         {1, "second"}};
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		long n = d / steps[i].secs;
		if (n >= 1)
			return xasprintf("%ld %s%s ago", n, steps[i].name, n == 1 ? "" : "s");
	}
	return xstrdup("Less than a second ago");
}

struct image_row {
	char *repo, *tag, *id, *created, *size;
	json_t *rec;
};

static void rows_add(struct image_row **rows, size_t *n, const char *repo, const char *tag, const char *id, json_t *rec)
{
	*rows = xrealloc(*rows, (*n + 1) * sizeof(**rows));
	const char *created = json_string_value(json_object_get(rec, "created"));
	(*rows)[(*n)++] = (struct image_row){xstrdup(repo),
					     xstrdup(tag),
					     xstrdup(id),
					     human_ago(created),
					     human_bytes((uint64_t)json_integer_value(json_object_get(rec, "size"))),
					     rec};
}

static void collect_rows(struct store *s, struct image_row **rows, size_t *n)
{
	char **ids = store_list_images(s);
	for (size_t i = 0; ids[i]; i++) {
		json_t *rec;
		if (store_get_image(s, ids[i], &rec, NULL) < 0)
			continue;
		char **tags = image_tags(s, ids[i]);
		for (size_t k = 0; tags[k]; k++) {
			struct image_ref ref;
			if (ref_parse(tags[k], &ref, NULL) < 0)
				continue;
			_cleanup_free_ char *repo = ref_familiar_repo(&ref);
			rows_add(rows, n, repo, ref.tag ? ref.tag : "<none>", ids[i], json_incref(rec));
			ref_free(&ref);
		}
		if (!tags[0])
			rows_add(rows, n, "<none>", "<none>", ids[i], json_incref(rec));
		strv_free(tags);
		json_decref(rec);
	}
	strv_free(ids);
}

static int image_pull_cmd(int argc, char **argv)
{
	const char *platform = NULL;
	bool quiet = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"platform", 0, FLAG_STR, &platform, "OS/ARCH[/VARIANT]",
		 "The platform to pull for (default: this machine's)"},
		{"quiet", 'q', FLAG_BOOL, &quiet, NULL, "Print only the image's name"},
	};
	int rc = cmd_flags("image pull", flags, ARRAY_SIZE(flags), argc, argv, &pos,
			   "berth image pull [OPTIONS] NAME[:TAG|@DIGEST]", "Download an image from a registry.");
	if (rc < 0 && strv_len(pos) != 1)
		rc = usage_error("image pull", "image pull takes one image reference");
	if (rc < 0 && platform && !platform_valid(platform))
		rc = usage_error("image pull", "--platform takes OS/ARCH[/VARIANT], e.g. linux/arm64");
	if (rc >= 0) {
		strv_free(pos);
		return rc;
	}
	struct berr *err = NULL;
	struct store *s = NULL;
	struct pull_opts po = {.platform = platform, .quiet = quiet, .plain = cli_ctx()->plain_progress};
	int r = store_open(berth_root(), true, &s, &err);
	if (r == 0)
		r = image_pull(s, pos[0], &po, NULL, &err);
	store_close(s);
	if (r == 0 && quiet)
		printf("%s\n", pos[0]);
	strv_free(pos);
	return r < 0 ? report(err) : 0;
}

static int image_push_cmd(int argc, char **argv)
{
	bool quiet = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"quiet", 'q', FLAG_BOOL, &quiet, NULL, "Push without printing progress"},
	};
	int rc = cmd_flags("image push", flags, ARRAY_SIZE(flags), argc, argv, &pos,
			   "berth image push [OPTIONS] NAME[:TAG]", "Upload an image to a registry.");
	_cleanup_(strv_freep) char **p = pos;
	if (rc < 0 && strv_len(p) != 1)
		rc = usage_error("image push", "image push takes one image reference");
	if (rc >= 0)
		return rc;
	struct berr *err = NULL;
	_cleanup_(store_closep) struct store *s = NULL;
	struct push_opts po = {.quiet = quiet};
	int r = store_open(berth_root(), true, &s, &err);
	if (r == 0)
		r = image_push(s, p[0], &po, NULL, &err);
	return r < 0 ? report(err) : 0;
}

/* The digest an image was pulled by from repo ("<none>" when it was loaded). */
static char *repo_digest(json_t *rec, const char *repo)
{
	size_t i;
	json_t *v;
	_cleanup_free_ char *prefix = xasprintf("%s@", repo);
	json_array_foreach(json_object_get(rec, "repo_digests"), i, v)
	{
		const char *d = json_string_value(v);
		if (d && startswith(d, prefix))
			return xstrdup(d + strlen(prefix));
	}
	return xstrdup("<none>");
}

static int image_prune_cmd(int argc, char **argv)
{
	bool all = false, force = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"all", 'a', FLAG_BOOL, &all, NULL, "Remove every image no container uses, not only untagged ones"},
		{"force", 'f', FLAG_BOOL, &force, NULL, "Do not prompt (berth never prompts)"},
	};
	int rc = cmd_flags(
		"image prune", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth image prune [OPTIONS]",
		"Remove unused images: those without a tag (with -a, every one no container uses) and layers "
		"no image uses.");
	if (rc < 0 && pos)
		rc = usage_error("image prune", "image prune takes no arguments");
	strv_free(pos);
	if (rc >= 0)
		return rc;
	struct berr *err = NULL;
	struct store *s = NULL;
	char **lines = xcalloc(1, sizeof(char *));
	uint64_t bytes = 0;
	_cleanup_(strv_freep) char **used = ctr_layers_in_use(berth_root());
	int r = store_open(berth_root(), true, &s, &err);
	if (r == 0)
		r = image_prune(s, used, all, &lines, &bytes, &err);
	store_close(s);
	if (lines[0])
		printf("Deleted Images:\n");
	print_lines(lines);
	strv_free(lines);
	if (r < 0)
		return report(err);
	_cleanup_free_ char *h = human_bytes(bytes);
	printf("Total reclaimed space: %s\n", h);
	return 0;
}

static int images_cmd(int argc, char **argv)
{
	bool quiet = false, digests = false;
	const char *format = NULL;
	char **pos = NULL;
	const struct flag flags[] = {
		{"quiet", 'q', FLAG_BOOL, &quiet, NULL, "Only show image IDs"},
		{"format", 0, FLAG_STR, &format, "FORMAT", "table (default) or json"},
		{"digests", 0, FLAG_BOOL, &digests, NULL, "Show the digests the images were pulled by"},
	};
	int rc = cmd_flags("images", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth images [OPTIONS] [REPOSITORY]",
			   "List images.");
	if (rc >= 0) {
		strv_free(pos);
		return rc;
	}
	struct berr *err = NULL;
	_cleanup_(store_closep) struct store *s = NULL;
	if (store_open(berth_root(), false, &s, &err) < 0) {
		strv_free(pos);
		return report(err);
	}
	struct image_row *rows = NULL;
	size_t n = 0;
	collect_rows(s, &rows, &n);
	_cleanup_(json_releasep) json_t *arr = json_array();
	struct table tab = {0};
	static const char *const header[] = {"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"};
	static const char *const header_d[] = {"REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"};
	bool table = !quiet && !format;
	if (table && digests)
		table_init(&tab, ARRAY_SIZE(header_d), header_d);
	else if (table)
		table_init(&tab, ARRAY_SIZE(header), header);
	for (size_t i = 0; i < n; i++) {
		struct image_row *r = &rows[i];
		if (!pos || strv_contains(pos, r->repo)) {
			_cleanup_free_ char *digest = repo_digest(r->rec, r->repo);
			if (quiet)
				printf("%.12s\n", r->id + 7);
			else if (format && streq(format, "json"))
				json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "Repository",
								     r->repo, "Tag", r->tag, "Digest", digest, "ID",
								     r->id, "CreatedSince", r->created, "Size",
								     json_object_get(r->rec, "size")));
			else if (table) {
				char id[13];
				snprintf(id, sizeof(id), "%.12s", r->id + 7);
				const char *row[] = {r->repo, r->tag, id, r->created, r->size};
				const char *row_d[] = {r->repo, r->tag, digest, id, r->created, r->size};
				table_add(&tab, digests ? row_d : row);
			}
		}
		free(r->repo), free(r->tag), free(r->id), free(r->created), free(r->size);
		json_decref(r->rec);
	}
	if (table)
		table_print(&tab);
	if (format && streq(format, "json")) {
		char *t = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", t);
		free(t);
	}
	free(rows);
	strv_free(pos);
	return 0;
}

static json_t *inspect_one(struct store *s, const char *what, struct berr **err)
{
	char *id = NULL;
	if (store_resolve(s, what, &id, err) < 0)
		return NULL;
	_cleanup_free_ char *idp = id;
	_cleanup_(json_releasep) json_t *rec = NULL;
	_cleanup_(json_releasep) json_t *config = NULL;
	if (store_get_image(s, id, &rec, err) < 0)
		return NULL;
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (store_read_blob(s, id, 16u << 20, &text, &len, err) == 0)
		config = json_loadb(text, len, 0, NULL);
	json_t *tags = json_array();
	char **t = image_tags(s, id);
	for (size_t i = 0; t[i]; i++)
		json_array_append_new(tags, json_string(t[i]));
	strv_free(t);
	json_t *out = json_pack("{s:s, s:o, s:O, s:O, s:O, s:O, s:O, s:O}", "Id", id, "RepoTags", tags, "Created",
				json_object_get(config, "created") ?: json_null(), "Architecture",
				json_object_get(config, "architecture") ?: json_null(), "Os",
				json_object_get(config, "os") ?: json_null(), "Config",
				json_object_get(config, "config") ?: json_object(), "RootFS",
				json_object_get(config, "rootfs") ?: json_null(), "Size",
				json_object_get(rec, "size") ?: json_integer(0));
	return out;
}

/* cmd_flags for commands that take image names: at least one is needed. */
static int image_args(const char *cmd, const struct flag *flags, size_t n, int argc, char **argv, char ***pos,
		      const char *usage_line, const char *summary)
{
	int rc = cmd_flags(cmd, flags, n, argc, argv, pos, usage_line, summary);
	if (rc < 0 && !*pos)
		rc = usage_error(cmd, "name at least one image");
	if (rc >= 0) {
		strv_free(*pos);
		*pos = NULL;
	}
	return rc;
}

static int image_inspect_cmd(int argc, char **argv)
{
	char **pos = NULL;
	int rc = image_args("image inspect", NULL, 0, argc, argv, &pos, "berth image inspect IMAGE [IMAGE...]",
			    "Show the details of images, as JSON.");
	if (rc >= 0)
		return rc;
	struct berr *err = NULL;
	_cleanup_(store_closep) struct store *s = NULL;
	if (store_open(berth_root(), false, &s, &err) < 0) {
		strv_free(pos);
		return report(err);
	}
	_cleanup_(json_releasep) json_t *arr = json_array();
	for (size_t i = 0; pos[i] && !err; i++) {
		json_t *one = inspect_one(s, pos[i], &err);
		if (one)
			json_array_append_new(arr, one);
	}
	char *t = json_dumps(arr, JSON_INDENT(4));
	if (!err)
		printf("%s\n", t);
	free(t);
	strv_free(pos);
	return err ? report(err) : 0;
}

static int image_rm_cmd(int argc, char **argv)
{
	bool force = false;
	char **pos = NULL;
	const struct flag flags[] = {
		{"force", 'f', FLAG_BOOL, &force, NULL, "Remove an image that has several tags"},
	};
	int rc = image_args("image rm", flags, ARRAY_SIZE(flags), argc, argv, &pos,
			    "berth image rm [OPTIONS] IMAGE [IMAGE...]", "Remove images.");
	if (rc >= 0)
		return rc;
	struct berr *err = NULL;
	_cleanup_(store_closep) struct store *s = NULL;
	int r = store_open(berth_root(), true, &s, &err);
	_cleanup_(strv_freep) char **used = ctr_layers_in_use(berth_root());
	for (size_t i = 0; r == 0 && pos[i]; i++) {
		char **lines = xcalloc(1, sizeof(char *));
		r = image_remove(s, pos[i], force, used, &lines, &err);
		print_lines(lines);
		strv_free(lines);
	}
	strv_free(pos);
	return r < 0 ? report(err) : 0;
}

static const struct subcommand image_commands[] = {
	{"load", "Load images from an archive (docker save or OCI layout)", image_load_cmd},
	{"pull", "Download an image from a registry", image_pull_cmd},
	{"push", "Upload an image to a registry", image_push_cmd},
	{"build", "Build an image from a Dockerfile", cmd_image_build},
	{"prune", "Remove unused images", image_prune_cmd},
	{"ls", "List images", images_cmd},
	{"inspect", "Show details of images", image_inspect_cmd},
	{"rm", "Remove images", image_rm_cmd},
};

int cmd_image(struct global_opts *g, int argc, char **argv)
{
	(void)g;
	return subcommand_run("image", "Manage images.", image_commands, ARRAY_SIZE(image_commands), argc, argv);
}

static const char *const project_image_fields[] = {"ID",   "ContainerName", "Repository",  "Tag", "Platform",
						   "Size", "Created",       "LastTagTime", NULL};

/* berth images [SERVICE...]: the images the project's containers were
 * made from, one row per container, as docker compose images lists them. */
int cmd_images(struct global_opts *g, int argc, char **argv)
{
	bool quiet = false;
	const char *format = NULL;
	char **pos = NULL;
	const struct flag flags[] = {
		{"quiet", 'q', FLAG_BOOL, &quiet, NULL, "Only show image IDs"},
		{"format", 0, FLAG_STR, &format, "FORMAT",
		 "table (default), json or a template such as '{{.Repository}}'"},
	};
	int rc = cmd_flags("images", flags, ARRAY_SIZE(flags), argc, argv, &pos, "berth images [OPTIONS] [SERVICE...]",
			   "List the images the project's containers use (berth image ls lists every image).");
	_cleanup_(strv_freep) char **names = pos;
	struct berr *err = NULL;
	struct format fmt;
	if (rc < 0)
		rc = format_flag("images", format, project_image_fields, &fmt);
	if (rc >= 0)
		return rc;
	_cleanup_(project_freep) struct project *p = NULL;
	struct store *s = NULL;
	int r = project_open_named(g, &p, &err);
	if (r == 0)
		r = store_open(berth_root(), false, &s, &err);
	if (r < 0) {
		format_free(&fmt);
		return report(err);
	}
	size_t n = 0;
	struct ctr_info *list = apply_list(p, berth_root(), &n);
	_cleanup_(json_releasep) json_t *rows = json_array();
	_cleanup_(strv_freep) char **seen = xcalloc(1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		char *id = NULL, *tagged = NULL;
		json_t *rec = NULL;
		if (names && !strv_contains(names, list[i].service))
			continue;
		/* the image it was made from, by id: also once its tag is gone (image rm -f) */
		json_t *meta = apply_meta(berth_root(), list[i].name);
		const char *made = json_string_value(json_object_get(meta, "image_id"));
		store_resolve(s, list[i].image, &tagged, NULL);
		id = made ? xstrdup(made) : tagged ? xstrdup(tagged) : NULL;
		bool untagged = !tagged || (id && !streq(tagged, id));
		free(tagged);
		json_decref(meta);
		if (id && store_get_image(s, id, &rec, NULL) == 0) {
			struct image_ref ref;
			bool parsed = !untagged && ref_parse(list[i].image, &ref, NULL) == 0;
			_cleanup_free_ char *repo = untagged ? xstrdup("<none>")
						    : parsed ? ref_familiar_repo(&ref)
							     : xstrdup(list[i].image);
			const char *created = json_string_value(json_object_get(rec, "created"));
			_cleanup_free_ char *ago = human_ago(created);
			_cleanup_free_ char *size = human_bytes(
				(uint64_t)json_integer_value(json_object_get(rec, "size")));
			_cleanup_free_ char *platform = xasprintf(
				"%s/%s", json_string_value(json_object_get(rec, "os")) ?: "linux",
				json_string_value(json_object_get(rec, "architecture")) ?: "amd64");
			json_array_append_new(rows,
					      json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "ID", id,
							"ContainerName", list[i].name, "Repository", repo, "Tag",
							untagged               ? "<none>"
							: parsed && ref.tag    ? ref.tag
							: parsed && ref.digest ? "<none>"
									       : "latest",
							"Platform", platform, "Size", size, "Created", ago, "SizeBytes",
							(json_int_t)json_integer_value(json_object_get(rec, "size")),
							"LastTagTime", created ? created : ""));
			if (parsed)
				ref_free(&ref);
			json_decref(rec);
		}
		free(id);
	}
	ctr_info_free(list, n);
	store_close(s);
	size_t i;
	json_t *row;
	if (quiet) {
		json_array_foreach(rows, i, row)
		{
			const char *id = json_string_value(json_object_get(row, "ID"));
			if (!strv_contains(seen, id)) {
				printf("%s\n", id);
				strv_push(&seen, xstrdup(id));
			}
		}
	} else if (fmt.kind == FORMAT_TABLE) {
		struct table tab;
		static const char *const header[] = {"CONTAINER", "REPOSITORY", "TAG",    "PLATFORM",
						     "IMAGE ID",  "SIZE",       "CREATED"};
		table_init(&tab, ARRAY_SIZE(header), header);
		json_array_foreach(rows, i, row)
		{
			char id[13];
			snprintf(id, sizeof(id), "%.12s", json_string_value(json_object_get(row, "ID")) + 7);
			const char *cells[] = {json_string_value(json_object_get(row, "ContainerName")),
					       json_string_value(json_object_get(row, "Repository")),
					       json_string_value(json_object_get(row, "Tag")),
					       json_string_value(json_object_get(row, "Platform")),
					       id,
					       json_string_value(json_object_get(row, "Size")),
					       json_string_value(json_object_get(row, "Created"))};
			table_add(&tab, cells);
		}
		table_print(&tab);
	} else if (fmt.kind == FORMAT_JSON) {
		/* docker compose images --format json prints one array */
		char *t = json_dumps(rows, JSON_COMPACT);
		printf("%s\n", t);
		free(t);
	} else {
		format_print(&fmt, rows);
	}
	format_free(&fmt);
	return 0;
}
