#include "check.h"

#include <errno.h>
#include <stdio.h>

#include "../lib/log.h"
#include "../lib/buf.h"

static bool defined(struct node *doc, const char *section, const char *name)
{
	return node_map_get(node_map_get(doc, section), name) != NULL;
}

/* "service:NAME" or "container:NAME" in network_mode, ipc, pid, volumes_from */
static int check_service_ref(struct node *doc, const char *svc, const char *key, struct node *v, struct berr **err)
{
	const char *s = node_str(v);
	if (!s || !startswith(s, "service:"))
		return 0;
	if (!defined(doc, "services", s + 8))
		return node_err(err, v, "services.%s.%s refers to service \"%s\", which is not defined%s", svc, key,
				s + 8, "");
	return 0;
}

static int check_map_refs(struct node *doc, const char *svc, const char *key, const char *section, const char *what,
			  struct berr **err)
{
	struct node *m = node_map_get(node_map_get(node_map_get(doc, "services"), svc), key);
	for (size_t i = 0; m && m->kind == NODE_MAP && i < m->n; i++) {
		const char *name = m->pairs[i].key;
		if (streq(section, "networks") && streq(name, "default"))
			continue;
		if (!defined(doc, section, name))
			return pos_err(err, m->pairs[i].pos,
				       "services.%s.%s refers to %s \"%s\", which is not defined; declare it under "
				       "top-level %s:",
				       svc, key, what, name, section);
	}
	return 0;
}

static int check_seq_refs(struct node *doc, const char *svc, const char *key, const char *section, const char *field,
			  struct berr **err)
{
	struct node *seq = node_map_get(node_map_get(node_map_get(doc, "services"), svc), key);
	for (size_t i = 0; seq && seq->kind == NODE_SEQ && i < seq->n; i++) {
		struct node *it = seq->items[i];
		const char *type = node_str(node_map_get(it, "type"));
		if (streq(key, "volumes") && !streq(type, "volume"))
			continue;
		struct node *src = node_map_get(it, field);
		if (!node_is_str(src))
			continue;
		if (!defined(doc, section, src->str))
			return node_err(
				err, src,
				"services.%s.%s[%zu] refers to %s \"%s\", which is not defined; declare it under "
				"top-level %s:",
				svc, key, i, streq(section, "volumes") ? "volume" : section, src->str, section);
	}
	return 0;
}

static int check_links(struct node *doc, const char *svc, struct node *s, struct berr **err)
{
	struct node *links = node_map_get(s, "links");
	for (size_t i = 0; links && links->kind == NODE_SEQ && i < links->n; i++) {
		const char *l = node_str(links->items[i]);
		if (!l)
			continue;
		const char *colon = strchr(l, ':');
		_cleanup_free_ char *target = colon ? xstrndup(l, (size_t)(colon - l)) : xstrdup(l);
		if (!defined(doc, "services", target))
			return node_err(err, links->items[i],
					"services.%s.links refers to service \"%s\", which is not defined", svc,
					target);
	}
	struct node *vf = node_map_get(s, "volumes_from");
	for (size_t i = 0; vf && vf->kind == NODE_SEQ && i < vf->n; i++) {
		const char *v = node_str(vf->items[i]);
		if (!v || startswith(v, "container:"))
			continue;
		const char *colon = strchr(v, ':');
		_cleanup_free_ char *target = colon ? xstrndup(v, (size_t)(colon - v)) : xstrdup(v);
		if (!defined(doc, "services", target))
			return node_err(err, vf->items[i],
					"services.%s.volumes_from refers to service \"%s\", which is not defined", svc,
					target);
	}
	return 0;
}

static int check_depends(struct node *doc, const char *svc, struct node *s, struct berr **err)
{
	struct node *deps = node_map_get(s, "depends_on");
	for (size_t i = 0; deps && deps->kind == NODE_MAP && i < deps->n; i++) {
		const char *d = deps->pairs[i].key;
		if (defined(doc, "services", d))
			continue;
		bool required = true;
		node_bool(node_map_get(deps->pairs[i].val, "required"), &required);
		if (!required) { /* as docker compose: said, and passed over */
			log_warn("service %s: depends_on %s is skipped: it is not defined or not enabled, and "
				 "required: false",
				 svc, d);
			continue;
		}
		return pos_err(err, deps->pairs[i].pos,
			       "services.%s.depends_on refers to service \"%s\", which is not defined or not enabled "
			       "by the active profiles",
			       svc, d);
	}
	return 0;
}

static int bad_name(struct berr **err, struct pos pos, const char *where, const char *name)
{
	return pos_err(err, pos,
		       "%s: \"%s\" is not a valid name: use letters, digits, '_', '.' and '-', starting with a letter "
		       "or digit",
		       where, name);
}

/* Names become paths, cgroup and link names: each is checked as Docker
 * checks container names before anything is built from it (the schema's
 * patterns are not anchored, and allow "." and ".."). */
int check_names(struct node *doc, struct berr **err)
{
	static const char *const sections[] = {"services", "networks", "volumes", "secrets", "configs"};
	for (size_t k = 0; k < ARRAY_SIZE(sections); k++) {
		struct node *sec = node_map_get(doc, sections[k]);
		for (size_t i = 0; sec && sec->kind == NODE_MAP && i < sec->n; i++) {
			struct pair *p = &sec->pairs[i];
			if (!name_valid(p->key))
				return bad_name(err, p->pos, sections[k], p->key);
			static const char *const keys[] = {"name", "container_name"};
			for (size_t j = 0; j < ARRAY_SIZE(keys); j++) {
				struct node *v = node_map_get(p->val, keys[j]);
				if (streq(keys[j], "name") == streq(sections[k], "services") || !node_is_str(v))
					continue;
				_cleanup_free_ char *where = xasprintf("%s.%s.%s", sections[k], p->key, keys[j]);
				if (!name_valid(v->str) || (streq(keys[j], "container_name") && strlen(v->str) < 2))
					return bad_name(err, v->pos, where, v->str);
			}
		}
	}
	return 0;
}

int check_references(struct node *doc, struct berr **err)
{
	struct node *services = node_map_get(doc, "services");
	for (size_t i = 0; services && i < services->n; i++) {
		const char *name = services->pairs[i].key;
		struct node *s = services->pairs[i].val;
		int r = check_depends(doc, name, s, err);
		if (r == 0)
			r = check_links(doc, name, s, err);
		if (r == 0)
			r = check_map_refs(doc, name, "networks", "networks", "network", err);
		if (r == 0)
			r = check_seq_refs(doc, name, "volumes", "volumes", "source", err);
		if (r == 0)
			r = check_seq_refs(doc, name, "secrets", "secrets", "source", err);
		if (r == 0)
			r = check_seq_refs(doc, name, "configs", "configs", "source", err);
		static const char *const ns_keys[] = {"network_mode", "ipc", "pid"};
		for (size_t k = 0; r == 0 && k < ARRAY_SIZE(ns_keys); k++)
			r = check_service_ref(doc, name, ns_keys[k], node_map_get(s, ns_keys[k]), err);
		if (r < 0)
			return r;
	}
	return 0;
}

enum mark { UNSEEN, ACTIVE, DONE };

struct topo {
	struct node *services;
	enum mark *marks;
	size_t *stack;
	size_t depth;
	char **order;
	struct berr **err;
};

static ssize_t service_index(struct node *services, const char *name)
{
	struct pair *p = node_map_pair(services, name);
	return p ? p - services->pairs : -1;
}

static int cycle_error(struct topo *t, size_t from)
{
	struct buf b = {0};
	size_t start = 0;
	while (t->stack[start] != from)
		start++;
	for (size_t i = start; i < t->depth; i++)
		buf_printf(&b, "%s -> ", t->services->pairs[t->stack[i]].key);
	buf_puts(&b, t->services->pairs[from].key);
	struct node *svc = t->services->pairs[from].val;
	int r = node_err(t->err, svc,
			 "dependency cycle: %s; remove one of these depends_on, links or "
			 "volumes_from entries",
			 b.s);
	buf_free(&b);
	return r;
}

static int visit(struct topo *t, size_t i);

char **check_dependencies(struct node *svc)
{
	char **out = xcalloc(1, sizeof(char *));
	struct node *deps = node_map_get(svc, "depends_on");
	for (size_t k = 0; deps && deps->kind == NODE_MAP && k < deps->n; k++)
		strv_push(&out, xstrdup(deps->pairs[k].key));
	static const char *const seqs[] = {"links", "volumes_from"};
	for (size_t s = 0; s < ARRAY_SIZE(seqs); s++) {
		struct node *l = node_map_get(svc, seqs[s]);
		for (size_t k = 0; l && l->kind == NODE_SEQ && k < l->n; k++) {
			const char *v = node_str(l->items[k]);
			if (v && !startswith(v, "container:"))
				strv_push(&out, xstrndup(v, strcspn(v, ":")));
		}
	}
	static const char *const modes[] = {"network_mode", "ipc", "pid"};
	for (size_t m = 0; m < ARRAY_SIZE(modes); m++) {
		const char *v = node_str(node_map_get(svc, modes[m]));
		if (v && startswith(v, "service:"))
			strv_push(&out, xstrdup(v + 8));
	}
	return out;
}

static int visit_edges(struct topo *t, struct node *svc)
{
	_cleanup_(strv_freep) char **deps = check_dependencies(svc);
	for (size_t k = 0; deps[k]; k++) {
		ssize_t j = service_index(t->services, deps[k]);
		if (j >= 0 && visit(t, (size_t)j) < 0)
			return -EINVAL;
	}
	return 0;
}

static int visit(struct topo *t, size_t i)
{
	if (t->marks[i] == DONE)
		return 0;
	if (t->marks[i] == ACTIVE)
		return cycle_error(t, i);
	t->marks[i] = ACTIVE;
	t->stack[t->depth++] = i;
	int r = visit_edges(t, t->services->pairs[i].val);
	t->depth--;
	if (r < 0)
		return r;
	t->marks[i] = DONE;
	strv_push(&t->order, xstrdup(t->services->pairs[i].key));
	return 0;
}

int check_dependency_order(struct node *doc, char ***order, struct berr **err)
{
	struct node *services = node_map_get(doc, "services");
	size_t n = services ? services->n : 0;
	struct topo t = {.services = services, .err = err};
	t.marks = xcalloc(n, sizeof(*t.marks));
	t.stack = xcalloc(n + 1, sizeof(*t.stack));
	t.order = xcalloc(1, sizeof(char *));
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = visit(&t, i);
	free(t.marks);
	free(t.stack);
	if (r < 0) {
		strv_free(t.order);
		return r;
	}
	*order = t.order;
	return 0;
}
