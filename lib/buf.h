/* A growable byte buffer that is always NUL-terminated. */
#ifndef BERTH_BUF_H
#define BERTH_BUF_H

#include "util.h"

struct buf {
	char *s;
	size_t len, cap;
};

void buf_add(struct buf *b, const char *s, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) _printf_(2, 3);
char *buf_steal(struct buf *b);
void buf_free(struct buf *b);

#endif
