/* libFuzzer target: the Dockerfile parser, Docker's word expansion and
 * .dockerignore patterns on arbitrary text, which must never crash, leak
 * or hang. */
#include <stdint.h>
#include <string.h>

#include "../../builder/dockerfile.h"
#include "../../builder/ignore.h"
#include "../../builder/stages.h"
#include "../../lib/util.h"

static const char *env(void *data, const char *name)
{
	(void)data;
	return name[0] == 'A' ? "a value" : name[0] == 'E' ? "" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dockerfile d;
	struct berr *err = NULL;
	if (dockerfile_parse("Dockerfile", (const char *)data, size, &d, &err) == 0) {
		for (size_t i = 0; i < d.n; i++) {
			char **words = NULL;
			char *word = NULL;
			if (df_words(d.instrs[i].rest, d.escape, env, NULL, &words, NULL) == 0)
				strv_free(words);
			if (df_word(d.instrs[i].rest, d.escape, env, NULL, &word, NULL) == 0)
				free(word);
		}
		struct df_stage *st = NULL;
		size_t n = 0;
		char *args[] = {"A=1", NULL};
		if (df_stages(&d, args, &st, &n, &err) == 0) {
			bool *need = calloc(n, sizeof(bool));
			if (need && df_needed(&d, st, n, NULL, need, NULL) == 0 &&
			    df_needed(&d, st, n, "b", need, &err) < 0)
				berr_free(err);
			err = NULL;
			free(need);
			df_stages_free(st, n);
		} else {
			berr_free(err);
			err = NULL;
		}
		dockerfile_free(&d);
	} else {
		berr_free(err);
		err = NULL;
	}
	/* the same text as a .dockerignore */
	char *text = strndup((const char *)data, size);
	struct ignore ig;
	if (text && ignore_parse(".dockerignore", text, &ig, &err) == 0) {
		static const char *const paths[] = {"a", "a/b/c.go", "README.md", "node_modules/x/y", "."};
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			ignore_excludes(&ig, paths[i]);
		ignore_free(&ig);
	} else {
		berr_free(err);
	}
	free(text);
	return 0;
}
