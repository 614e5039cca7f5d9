/* What the files of net share among themselves. */
#ifndef BERTH_NET_INT_H
#define BERTH_NET_INT_H

#include <jansson.h>

#include "ipam.h"
#include "net.h"

char *net_sub(const char *root, const char *what);
char *net_network_path(const char *root, const char *name);
char *net_endpoint_path(const char *root, const char *ctr);
json_t *net_load(const char *path);
/* Only a new network's record is synced to disk (durable): addresses,
 * endpoints and the removing mark describe links and namespaces that a
 * power cut takes away anyway, and every reader takes a file it cannot
 * read as one that is not there. */
int net_save(const char *path, json_t *j, bool durable, struct berr **err);
const char *net_jstr(json_t *j, const char *key);
uint32_t net_jip(json_t *j, const char *key);
void net_set_ip(json_t *j, const char *key, uint32_t ip);
/* File names in a state directory without their .json suffix. */
char **net_list_json(const char *root, const char *what);
/* Host ends of veths that detach let go of ($ROOT/net/dying, a name a
 * line, written under the network lock), and bridges of removed networks:
 * deleted together by the next net_sync (or at once by a later attach or
 * ensure that needs the names). On disk rather than in memory, so that
 * what a killed berth let go of is deleted by the next one. */
void net_add_dying(const char *root, char *const *names);
bool net_removing(json_t *net);
/* Also the bridges of networks marked removing (by this process, or by one
 * that was killed before it got here), whose records go once they have. */
int net_delete_dying(const char *root, struct berr **err);
int net_parse_net(json_t *j, struct cidr *subnet, struct cidr *range, uint32_t *gw);
/* The kernel keeps, with each bridge, which state root and network it is
 * for (its alias: "berth TABLE PROJECT/NETWORK"): a redundant index, so
 * that a bridge whose record was lost can still be found and removed. */
char *net_alias_prefix(const char *root);
int net_make_bridge(const char *root, json_t *j, struct berr **err);
/* Drops addresses held by containers that have no endpoint any more
 * (a killed attach or detach). */
void net_gc_endpoints(const char *root, json_t *net);

#endif
