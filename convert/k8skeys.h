/* Every key of the Compose schema, and what berth convert makes of it in
 * Kubernetes: mapped, approximated (and how), or ignored (said on
 * stderr; an error with --strict). docs/kubernetes.md is this table. */
#ifndef BERTH_K8SKEYS_H
#define BERTH_K8SKEYS_H

#include <stdbool.h>
#include <stddef.h>

enum k8s_state { K8S_MAPPED, K8S_APPROXIMATED, K8S_IGNORED };

struct k8s_rule {
	const char *path; /* as orchestrator/keys.h: "services.*.ports", * a name, [] an item */
	enum k8s_state state;
	bool subtree;     /* the keys below it too */
	const char *note; /* how, or why not */
};

extern const struct k8s_rule k8s_rules[];
extern const size_t k8s_rules_n;

/* The rule of path: its own, or the nearest above it that covers its subtree. */
const struct k8s_rule *k8s_rule(const char *path);
/* docs/kubernetes.md. */
char *k8s_markdown(void);

#endif
