#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

static int set(struct berr **err, int code, char *msg)
{
	if (code < 0)
		code = -code;
	if (code == 0)
		code = EINVAL;
	if (!err || *err) {
		free(msg);
		return -code;
	}
	*err = xmalloc(sizeof(**err));
	(*err)->code = code;
	(*err)->msg = msg;
	return -code;
}

int berr_set(struct berr **err, int code, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	return set(err, code, msg);
}

int berr_sys(struct berr **err, int code, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	int c = code < 0 ? -code : code;
	char *full = xasprintf("%s: %s", msg, strerror(c));
	free(msg);
	return set(err, code, full);
}

int berr_prefix(struct berr **err, const char *fmt, ...)
{
	if (!err || !*err)
		return -EINVAL;
	va_list ap;
	char *pre;
	va_start(ap, fmt);
	if (vasprintf(&pre, fmt, ap) < 0)
		abort();
	va_end(ap);
	char *msg = xasprintf("%s%s", pre, (*err)->msg);
	free(pre);
	free((*err)->msg);
	(*err)->msg = msg;
	return -(*err)->code;
}

void berr_free(struct berr *e)
{
	if (!e)
		return;
	free(e->msg);
	free(e);
}

void berr_freep(struct berr **e)
{
	berr_free(*e);
	*e = NULL;
}
