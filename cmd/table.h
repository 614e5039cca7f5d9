/* Tables as docker prints them: each column as wide as its widest cell,
 * three spaces between columns, the last one not padded. */
#ifndef BERTH_TABLE_H
#define BERTH_TABLE_H

#include <stddef.h>

struct table {
	size_t ncols, nrows;
	char **cells; /* nrows * ncols, row by row */
};

/* The first row is the header. */
void table_init(struct table *t, size_t ncols, const char *const *header);
/* ncols cells (copied; NULL prints as empty). */
void table_add(struct table *t, const char *const *cells);
/* s in at most width columns: its first width - 1 characters and "…"
 * when it is wider (docker's ellipsis). */
char *table_cut(const char *s, size_t width);
/* Prints to stdout and frees the table. */
void table_print(struct table *t);

#endif
