/* Merging compose documents (compose-spec 13-merge.md) and extended services
 * (05-services.md#extends). Both sides must be canonical (canon.c). */
#ifndef BERTH_MERGE_H
#define BERTH_MERGE_H

#include "node.h"

/* Merge over into base. merge_document consumes over; merge_service takes
 * what it needs from over, which the caller still frees. */
void merge_document(struct node *base, struct node *over);
void merge_service(struct node *base, struct node *over);

#endif
