/*
 * hash.h — the one string hash of redial: 64-bit FNV-1a.
 *
 * Used for hash-table buckets (engine name map, worker campaign fairness,
 * simulator string map) and for the policy's jitter seed
 * (rd_policy_seed), where it must give the same value in every process
 * and every release: the constants are the published FNV-1a 64-bit offset
 * basis and prime, and the bytes are hashed as unsigned chars. Not a
 * cryptographic hash: never key anything an attacker may choose to collide
 * on without a bound on the chain walked.
 *
 * Thread safety: pure; any thread.
 */
#ifndef RD_HASH_H
#define RD_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The FNV-1a 64-bit offset basis: the hash of no bytes, and the `h` to start from. */
#define RD_HASH_FNV_BASIS 14695981039346656037ULL
#define RD_HASH_FNV_PRIME 1099511628211ULL

/* Continues hash h over n bytes of p (start with RD_HASH_FNV_BASIS). */
uint64_t rd_hash_bytes(uint64_t h, const void *p, size_t n);

/* Continues hash h over the NUL-terminated string s (its bytes, not the NUL). */
uint64_t rd_hash_str(uint64_t h, const char *s);

#endif
