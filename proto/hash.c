/*
 * hash.c — 64-bit FNV-1a (see hash.h). One byte at a time, no table: the
 * inputs are short names and numbers, and the value must never change.
 */
#include "proto/hash.h"

uint64_t rd_hash_bytes(uint64_t h, const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * RD_HASH_FNV_PRIME;
    return h;
}

uint64_t rd_hash_str(uint64_t h, const char *s) {
    for (; *s; s++) h = (h ^ (unsigned char)*s) * RD_HASH_FNV_PRIME;
    return h;
}
