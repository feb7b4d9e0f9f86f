/*
 * namemap.c — intrusive name-keyed hash table (see namemap.h).
 */
#include "engine/namemap.h"

#include <stdint.h>
#include <string.h>

#include "proto/hash.h"
#include "proto/rd.h"

static size_t bucket_of(const char *s, size_t n_buckets) {
    return (size_t)(rd_hash_str(RD_HASH_FNV_BASIS, s) % n_buckets);
}

void rd_namemap_init(rd_namemap_t *m) {
    m->n_buckets = 64;
    m->n = 0;
    m->buckets = rd_calloc(m->n_buckets, sizeof *m->buckets);
}

void rd_namemap_deinit(rd_namemap_t *m, void (*free_node)(rd_namemap_node_t *node)) {
    for (size_t i = 0; i < m->n_buckets; i++) {
        for (rd_namemap_node_t *e = m->buckets[i], *next; e; e = next) {
            next = e->next;
            rd_free(e->name);
            e->name = NULL;
            if (free_node) free_node(e);
        }
    }
    rd_free(m->buckets);
    m->buckets = NULL;
    m->n_buckets = m->n = 0;
}

rd_namemap_node_t *rd_namemap_find(const rd_namemap_t *m, const char *name) {
    for (rd_namemap_node_t *e = m->buckets[bucket_of(name, m->n_buckets)]; e; e = e->next)
        if (strcmp(e->name, name) == 0) return e;
    return NULL;
}

static void grow(rd_namemap_t *m) {
    size_t nb = m->n_buckets * 2;
    rd_namemap_node_t **b = rd_calloc(nb, sizeof *b);
    for (size_t i = 0; i < m->n_buckets; i++) {
        for (rd_namemap_node_t *e = m->buckets[i], *next; e; e = next) {
            next = e->next;
            size_t k = bucket_of(e->name, nb);
            e->next = b[k];
            b[k] = e;
        }
    }
    rd_free(m->buckets);
    m->buckets = b;
    m->n_buckets = nb;
}

void rd_namemap_insert(rd_namemap_t *m, rd_namemap_node_t *node, const char *name) {
    if (m->n >= m->n_buckets) grow(m);
    node->name = rd_strdup(name);
    size_t k = bucket_of(name, m->n_buckets);
    node->next = m->buckets[k];
    m->buckets[k] = node;
    m->n++;
}

void rd_namemap_remove(rd_namemap_t *m, rd_namemap_node_t *node) {
    for (rd_namemap_node_t **pp = &m->buckets[bucket_of(node->name, m->n_buckets)]; *pp;
         pp = &(*pp)->next) {
        if (*pp == node) {
            *pp = node->next;
            m->n--;
            rd_free(node->name);
            node->name = NULL;
            return;
        }
    }
}
