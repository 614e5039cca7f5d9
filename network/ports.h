/* Host ports: is one free, who holds it, and a free ephemeral one. */
#ifndef BERTH_PORTS_H
#define BERTH_PORTS_H

#include <stdint.h>

#include "../lib/err.h"

/* Whether a socket could bind ip:port (ip 0: every address) right now. */
bool port_free(uint32_t ip, uint16_t port, bool udp);
/* "process nginx (pid 42)" for the socket bound to port, or NULL. */
char *port_holder(uint16_t port, bool udp);
/* A port of the kernel's ephemeral range that port_free and taken agree on. */
int port_ephemeral(uint32_t ip, bool udp, bool (*taken)(uint16_t port, bool udp, void *data), void *data, uint16_t *out,
		   struct berr **err);

#endif
