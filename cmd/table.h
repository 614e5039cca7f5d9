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
/* Prints to stdout and frees the table. */
void table_print(struct table *t);

#endif
