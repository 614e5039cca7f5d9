/* One error type carried everywhere: what failed, on what, and the OS reason.
 * Callers add context as the error travels up; cmd/ prints the chain once. */
#ifndef BERTH_ERR_H
#define BERTH_ERR_H

#include "util.h"

struct berr {
	int code; /* positive errno-style code */
	char *msg;
};

/* Fill *err (when err is not NULL and not already set) and return -code. */
int berr_set(struct berr **err, int code, const char *fmt, ...) _printf_(3, 4);
/* Like berr_set, appending ": strerror(code)". */
int berr_sys(struct berr **err, int code, const char *fmt, ...) _printf_(3, 4);
/* Prepend context ("starting web: ") to an error already set; returns -code. */
int berr_prefix(struct berr **err, const char *fmt, ...) _printf_(2, 3);
void berr_free(struct berr *e);
void berr_freep(struct berr **e);

#endif
