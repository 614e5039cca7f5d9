/* Helpers for the unit tests: YAML from strings, paths into trees, temp dirs. */
#ifndef BERTH_TEST_HELPERS_H
#define BERTH_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "../../lib/fs.h"
#include "../../orchestrator/node.h"
#include "../../orchestrator/project.h"
#include "../../orchestrator/yaml.h"

/* Parse one YAML document (asserting success). */
/* A document made from a table (docs/…): written with BERTH_WRITE_DOCS
 * (make docs), else it must be what the table makes. Takes md. */
static inline void doc_is_the_tables(const char *doc, char *md, const char *table)
{
	if (getenv("BERTH_WRITE_DOCS")) {
		struct berr *err = NULL;
		if (fs_write_atomic(doc, md, strlen(md), 0644, &err) < 0)
			fail_msg("%s", err->msg);
	}
	char *have = NULL;
	size_t len;
	struct berr *err = NULL;
	if (fs_read_file(doc, 1 << 20, &have, &len, &err) < 0)
		fail_msg("%s (run make docs)", err->msg);
	if (strcmp(have, md))
		fail_msg("%s is not the table of %s: run make docs", doc, table);
	free(have);
	free(md);
}

static inline struct node *yaml_doc(const char *text)
{
	struct node **docs = NULL;
	size_t n = 0;
	struct berr *err = NULL;
	int r = yaml_parse("test.yaml", text, strlen(text), &docs, &n, &err);
	if (r < 0)
		fail_msg("yaml: %s", err->msg);
	assert_true(n >= 1);
	struct node *d = docs[0];
	docs[0] = NULL;
	yaml_docs_free(docs, n);
	return d;
}

/* The error message parsing text gives (asserting that it fails). */
static inline char *yaml_error(const char *text, size_t len)
{
	struct node **docs = NULL;
	size_t n = 0;
	struct berr *err = NULL;
	int r = yaml_parse("test.yaml", text, len, &docs, &n, &err);
	if (r == 0) {
		yaml_docs_free(docs, n);
		fail_msg("expected a YAML error");
	}
	char *msg = xstrdup(err->msg);
	berr_free(err);
	return msg;
}

/* Follow "a.b[2].c" from n; NULL when absent. Keys with dots: not supported. */
static inline struct node *at(struct node *n, const char *path)
{
	char *copy = xstrdup(path);
	char *p = copy;
	while (n && *p) {
		if (*p == '.') {
			p++;
			continue;
		}
		if (*p == '[') {
			size_t i = strtoul(p + 1, &p, 10);
			p++;
			n = n->kind == NODE_SEQ && i < n->n ? n->items[i] : NULL;
			continue;
		}
		size_t len = strcspn(p, ".[");
		char save = p[len];
		p[len] = '\0';
		n = node_map_get(n, p);
		p[len] = save;
		p += len;
	}
	free(copy);
	return n;
}

static inline const char *at_str(struct node *n, const char *path)
{
	struct node *v = at(n, path);
	return v ? node_str(v) : NULL;
}

/* A fresh temporary directory, and files in it. */
static inline char *tmpdir_new(void)
{
	char tmpl[] = "/tmp/berth-unit-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return xstrdup(d);
}

static inline void write_file(const char *dir, const char *name, const char *text)
{
	char *p = path_join(dir, name);
	char *parent = path_dirname(p);
	char *cmd = xasprintf("mkdir -p '%s'", parent);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(parent);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

static inline void rm_rf(const char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/* The project of dir/compose.yaml (written with text), named name, loaded
 * with env as its environment (asserting success). */
static inline struct project *project_in(const char *dir, const char *name, const char *text, char **env)
{
	write_file(dir, "compose.yaml", text);
	char *file = path_join(dir, "compose.yaml");
	char *files[] = {file, NULL};
	char *none[] = {NULL};
	struct project_opts po = {.files = files, .name = name, .environ = env ? env : none};
	struct project *p = NULL;
	struct berr *err = NULL;
	if (project_load(&po, &p, &err) < 0)
		fail_msg("load: %s", err->msg);
	free(file);
	return p;
}

#endif
