/* Every key of the Compose specification in one of three states: honoured,
 * refused (with why), or accepted with a warning that it has no effect
 * here (only for keys meaningless on this host). docs/compose-keys.md is
 * made from this table, and a unit test fails when the schema has a key
 * the table does not classify. */
#ifndef BERTH_KEYS_H
#define BERTH_KEYS_H

#include <stdbool.h>
#include <stdio.h>

#include "project.h"

enum key_state { KEY_HONOURED, KEY_REFUSED, KEY_NO_EFFECT };

struct key_rule {
	const char *path; /* "services.*.ports[].published": * a name, [] an item */
	enum key_state state;
	bool subtree;       /* what is below the key is covered by this rule too */
	const char *note;   /* honoured: how (or the test that shows it); otherwise why */
	const char *values; /* honoured: only these scalar values ("a|b"; "$platform": this
			       machine's), others refused; no effect: these are the default, said
			       nothing of (the model has them filled in); NULL: any */
};

extern const struct key_rule key_rules[];
extern const size_t key_rules_n;

/* The rule of path: its own, or the nearest above it that covers its
 * subtree; NULL when none does. */
const struct key_rule *keys_rule(const char *path);
/* The same over any table: find gives a path's own rule (or NULL),
 * covers whether a rule covers what is below it. */
const void *keys_nearest(const char *path, const void *(*find)(const char *path), bool (*covers)(const void *rule));

/* The project's keys against the table: a key that has no effect here is
 * said once on warn (NULL: not said); a refused key is an error naming
 * its file, line and why when refuse, else said on warn as what up would
 * refuse. */
int keys_check(const struct project *p, bool refuse, FILE *warn, struct berr **err);

/* Every key path of the schema built into berth, sorted. */
char **keys_schema_paths(void);
/* docs/compose-keys.md: each of them with its state and note. */
char *keys_markdown(void);

#endif
