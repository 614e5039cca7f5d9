/* libFuzzer target: any bytes through the whole loading pipeline, as a
 * compose file would go: parse, interpolate, validate, canonicalize, merge
 * with itself, normalize, check, and write back out. Nothing may crash,
 * leak or grow without bound. */
#include <stdint.h>

#include "../../orchestrator/canon.h"
#include "../../orchestrator/check.h"
#include "../../orchestrator/emit.h"
#include "../../orchestrator/interp.h"
#include "../../orchestrator/merge.h"
#include "../../orchestrator/normalize.h"
#include "../../orchestrator/schema.h"
#include "../../orchestrator/yaml.h"

static struct schema *schema;
static struct env env;

static void pipeline(struct node *doc)
{
	struct berr *err = NULL;
	struct interp_ctx ic = {.lookup = env_lookup, .data = &env};
	struct canon_ctx cc = {.workdir = "/fuzz", .home = "/root"};
	struct normalize_ctx nc = {.project = "fuzz", .env = &env, .workdir = "/fuzz"};
	char **order = NULL;
	struct buf out = {0};
	if (interp_tree(doc, &ic, &err) == 0 && schema_validate(schema, doc, &err) == 0 &&
	    canon_document(doc, &cc, &err) == 0) {
		merge_document(doc, node_clone(doc));
		if (normalize_document(doc, &nc, &err) == 0 && check_references(doc, &err) == 0 &&
		    check_dependency_order(doc, &order, &err) == 0) {
			node_sort(doc);
			emit_yaml(doc, &out, &err);
			node_to_json(doc, &out, 2);
		}
	}
	strv_free(order);
	buf_free(&out);
	berr_free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!schema) {
		struct berr *err = NULL;
		if (schema_open(&schema, &err) < 0)
			__builtin_trap();
		env_set(&env, "SET", "value");
	}
	struct node **docs = NULL;
	size_t n = 0;
	struct berr *err = NULL;
	if (yaml_parse("fuzz.yaml", (const char *)data, size, &docs, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			if (docs[i] && docs[i]->kind == NODE_MAP)
				pipeline(docs[i]);
		yaml_docs_free(docs, n);
	}
	berr_free(err);
	return 0;
}
