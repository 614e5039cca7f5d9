/* berth's side of the DNS responder (network/dnsd.h). */
#ifndef BERTH_DNSCTL_H
#define BERTH_DNSCTL_H

#include "../lib/err.h"

/* Writes the records; with `running`, makes sure the responder runs and has
 * read them before returning; without, makes it exit and waits until it
 * has. */
int dnsctl_update(const char *root, const char *records, bool running, struct berr **err);

/* Start the responder if networks exist for this root and none serves
 * them (it was killed, or the machine restarted): what every up and
 * start does, so that names resolve again. */
int dnsctl_ensure(const char *root, struct berr **err);

#endif
