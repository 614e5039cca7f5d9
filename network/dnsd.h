/* berth's DNS responder: one process per state root, alive while a berth
 * network exists. It answers the names in $ROOT/net/dns/records on each
 * bridge's gateway address (port 53, UDP). A name is answered to the
 * containers that share a network with its owner ("member ADDR GATEWAY"
 * lines say who is on which), a link's alias only to the container that
 * has the link; single-label names it does not
 * know get NXDOMAIN at once and other names go to the host's upstream
 * resolvers (BERTH_DNS_UPSTREAM=IP[:PORT],... overrides them). berth
 * talks to it on the unix socket $ROOT/net/dns/sock: "reload", "exit".
 * It runs as `berth-shim dns ROOT READY_FD`. */
#ifndef BERTH_DNSD_H
#define BERTH_DNSD_H

int dnsd_main(const char *root, int ready_fd);

#endif
