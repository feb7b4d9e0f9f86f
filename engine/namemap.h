/*
 * namemap.h — a chained hash table keyed by NUL-terminated names, with
 * intrusive nodes: the caches of the engine (campaigns, campaign stats) embed
 * an rd_namemap_node_t as the first member of their entries and keep their
 * own payload. The table owns the names (rd_strdup), the caller owns nodes.
 * Grows at load factor 1; FNV-1a.
 *
 * Thread safety: none; one owner thread (the loop thread).
 */
#ifndef RD_NAMEMAP_H
#define RD_NAMEMAP_H

#include <stddef.h>

typedef struct rd_namemap_node {
    char *name; /* owned by the map from insert to remove/deinit */
    struct rd_namemap_node *next;
} rd_namemap_node_t;

typedef struct rd_namemap {
    rd_namemap_node_t **buckets;
    size_t n_buckets, n;
} rd_namemap_t;

void rd_namemap_init(rd_namemap_t *m);
/* Frees the names and the table; each node is handed to free_node (may be NULL). */
void rd_namemap_deinit(rd_namemap_t *m, void (*free_node)(rd_namemap_node_t *node));
/* The node of `name`, or NULL. */
rd_namemap_node_t *rd_namemap_find(const rd_namemap_t *m, const char *name);
/* Adds `node` under a copy of `name` (which must not be present). */
void rd_namemap_insert(rd_namemap_t *m, rd_namemap_node_t *node, const char *name);
/* Unlinks `node` and frees its name; the node itself stays the caller's. */
void rd_namemap_remove(rd_namemap_t *m, rd_namemap_node_t *node);

#endif
