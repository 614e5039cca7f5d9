/* A YAML document as a tree of nodes, each remembering where it came from,
 * so that every later step (interpolation, merge, validation, normalization)
 * can name file:line:column in its messages. */
#ifndef BERTH_NODE_H
#define BERTH_NODE_H

#include "../lib/buf.h"
#include "../lib/err.h"

struct srcfile {
	int refs;
	char path[];
};

struct pos {
	struct srcfile *file;
	int line, col;
};

enum node_kind { NODE_SCALAR, NODE_SEQ, NODE_MAP };
enum scalar_tag { TAG_STR, TAG_INT, TAG_FLOAT, TAG_BOOL, TAG_NULL };

enum node_flag {
	NF_RESET = 1,     /* !reset: clear what lower files set */
	NF_OVERRIDE = 2,  /* !override: replace, do not merge */
	NF_INTERP = 4,    /* text came out of interpolation */
	NF_QUOTED = 8,    /* written quoted in YAML */
	NF_VERBATIM = 16, /* emit_yaml_v3 writes it as it is (a Helm template expression) */
};

struct pair;

struct node {
	unsigned char kind; /* enum node_kind */
	unsigned char tag;  /* enum scalar_tag, for scalars */
	unsigned short flags;
	unsigned n, cap; /* number of items or pairs, and room for them */
	char *str;       /* NODE_SCALAR text */
	union {
		struct node **items; /* NODE_SEQ */
		struct pair *pairs;  /* NODE_MAP, in document order */
	};
	struct pos pos;
	/* Large mappings: open-addressed table of pair index + 1, built on
	 * first lookup, dropped whenever pairs move (see node.c). */
	unsigned *index;
	unsigned index_cap;
};

struct pair {
	char *key;
	struct pos pos;
	struct node *val;
};

struct srcfile *srcfile_new(const char *path);
struct pos pos_ref(struct pos p);
void pos_unref(struct pos *p);
/* "file:line:col" for messages; "" when the position is unknown. */
char *pos_str(struct pos p);

struct node *node_new_scalar(enum scalar_tag tag, const char *s, struct pos p);
struct node *node_new_str(const char *s, struct pos p);
struct node *node_new_int(long long v, struct pos p);
struct node *node_new_bool(bool v, struct pos p);
struct node *node_new_null(struct pos p);
struct node *node_new_seq(struct pos p);
struct node *node_new_map(struct pos p);
void node_free(struct node *n);
void node_freep(struct node **n);
struct node *node_clone(const struct node *n);
/* Number of nodes in the tree, stopping early once limit is passed. */
size_t node_count(const struct node *n, size_t limit);

struct node *node_map_get(const struct node *map, const char *key);
struct pair *node_map_pair(const struct node *map, const char *key);
/* Set key to val (taking it), replacing any value in place. */
void node_map_set(struct node *map, const char *key, struct node *val);
void node_map_set_at(struct node *map, const char *key, struct pos kpos, struct node *val);
/* Remove key; returns its value (the caller owns it) or NULL. */
struct node *node_map_take(struct node *map, const char *key);
void node_map_del(struct node *map, const char *key);
void node_seq_push(struct node *seq, struct node *val);
struct node *node_seq_take(struct node *seq, size_t i);
/* Sort the keys of every mapping, recursively (canonical output). */
void node_sort(struct node *n);

/* Replace the contents of dst with those of src (freeing src's shell);
 * dst keeps its !reset and !override marks. */
void node_replace(struct node *dst, struct node *src);

/* Plain-scalar type resolution, YAML 1.2 core schema as Go's yaml.v3 reads it. */
enum scalar_tag scalar_resolve(const char *s);

bool node_is_str(const struct node *n);
bool node_is_null(const struct node *n);
const char *node_str(const struct node *n); /* scalar text or NULL */
/* Integer value of an int scalar or of a string holding one. */
int node_int(const struct node *n, long long *v);
int node_float(const struct node *n, double *v);
/* Boolean value; strings true/false/yes/no are accepted. */
int node_bool(const struct node *n, bool *v);
const char *node_kind_name(const struct node *n);
/* "key=value" for each pair of a mapping (labels, driver_opts), in order;
 * empty for anything else. */
char **node_kv(const struct node *map);
/* The keys of first (NULL-terminated) moved to the front of map, in that
 * order; the others keep theirs after them. */
void node_order(struct node *map, const char *const *first);

/* Canonical JSON (keys in tree order; node_sort first for sorted output). */
void node_to_json(const struct node *n, struct buf *b, int indent);

/* Set *err to "file:line:col: message" at n's position; returns -EINVAL. */
int node_err(struct berr **err, const struct node *n, const char *fmt, ...) _printf_(3, 4);
int pos_err(struct berr **err, struct pos p, const char *fmt, ...) _printf_(3, 4);

/* Where a walk is in a tree ("services.web.ports[0]"), kept as a stack and
 * only turned into text when a message needs it. */
#define NODE_PATH_MAX 256
struct node_path {
	int depth;
	struct {
		const char *key; /* NULL: a sequence index */
		size_t index;
	} seg[NODE_PATH_MAX];
};

static inline void node_path_key(struct node_path *p, const char *key)
{
	if (p->depth < NODE_PATH_MAX)
		p->seg[p->depth].key = key;
	p->depth++;
}

static inline void node_path_index(struct node_path *p, size_t i)
{
	if (p->depth < NODE_PATH_MAX) {
		p->seg[p->depth].key = NULL;
		p->seg[p->depth].index = i;
	}
	p->depth++;
}

static inline void node_path_pop(struct node_path *p) { p->depth--; }

/* "services.web.ports[0]"; "" at the top. */
char *node_path_str(const struct node_path *p);

#endif
