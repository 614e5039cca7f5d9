#include "table.h"

#include <stdio.h>
#include <string.h>

#include "../lib/util.h"

void table_init(struct table *t, size_t ncols, const char *const *header)
{
	*t = (struct table){.ncols = ncols};
	table_add(t, header);
}

void table_add(struct table *t, const char *const *cells)
{
	t->cells = xrealloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(char *));
	for (size_t c = 0; c < t->ncols; c++)
		t->cells[t->nrows * t->ncols + c] = xstrdup(cells[c] ? cells[c] : "");
	t->nrows++;
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

char *table_cut(const char *s, size_t max)
{
	if (width(s) <= max)
		return xstrdup(s);
	size_t chars = 0, i = 0;
	for (; s[i]; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80 && chars++ == max - 1)
			break;
	return xasprintf("%.*s…", (int)i, s);
}

void table_print(struct table *t)
{
	size_t *w = xcalloc(t->ncols + 1, sizeof(size_t));
	for (size_t i = 0; i < t->nrows * t->ncols; i++) {
		size_t n = width(t->cells[i]);
		if (n > w[i % t->ncols])
			w[i % t->ncols] = n;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		char **row = t->cells + r * t->ncols;
		size_t end = t->ncols; /* no padding after the last cell that has text */
		while (end > 1 && !row[end - 1][0])
			end--;
		for (size_t c = 0; c < end; c++) {
			printf("%s", row[c]);
			if (c + 1 < end)
				printf("%*s", (int)(w[c] - width(row[c]) + 3), "");
		}
		printf("\n");
	}
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(w);
	*t = (struct table){0};
}
