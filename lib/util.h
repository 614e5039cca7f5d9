/* Small, obviously-correct helpers shared by every part of berth. */
#ifndef BERTH_UTIL_H
#define BERTH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p) { free(*(void **)p); }

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Hand ownership of *p to the caller and forget it here. */
static inline void *steal_ptr(void *pp)
{
	void **p = pp;
	void *v = *p;
	*p = NULL;
	return v;
}

static inline bool streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static inline bool startswith(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

bool endswith(const char *s, const char *suffix);

/* Docker's rule for names that become paths, link and cgroup names
 * (containers, volumes, networks, secrets, configs, services):
 * [a-zA-Z0-9][a-zA-Z0-9_.-]*, under 256 bytes. No "/", no "..". */
bool name_valid(const char *name);

/* Out of memory aborts, as in crun and bubblewrap. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);

/* NULL-terminated string vectors. */
size_t strv_len(char *const *v);
void strv_push(char ***v, char *s); /* takes s */
void strv_free(char **v);
void strv_freep(char ***v);
bool strv_contains(char *const *v, const char *s);
char **strv_copy(char *const *v);
void strv_sort(char **v);
/* The value of KEY in a KEY=VALUE list, or NULL. */
const char *strv_env_get(char *const *env, const char *key);

/* Wall-clock milliseconds since the epoch. */
int64_t now_ms(void);

/* Edit distance, for "did you mean" hints. */
size_t str_distance(const char *a, const char *b);
/* The candidate nearest to word, or NULL when none is close enough. */
const char *str_nearest(const char *word, const char *const *candidates, size_t n);

/* A size as Docker prints it: "1.98MB", "65.5kB", "512B" (powers of 1000). */
char *human_bytes(uint64_t b);

#endif
