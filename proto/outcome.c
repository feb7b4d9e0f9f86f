/*
 * outcome.c — names of outcomes and dispositions (see outcome.h).
 */
#include "proto/outcome.h"

#include <string.h>

#include "proto/rd.h"

static const char *const out_names[RD_OUT__COUNT] = {
#define X(name, v, wire, title) [v] = wire,
    RD_OUTCOME_MAP(X)
#undef X
};
static const char *const out_titles[RD_OUT__COUNT] = {
#define X(name, v, wire, title) [v] = title,
    RD_OUTCOME_MAP(X)
#undef X
};
static const char *const disp_names[RD_DISP__COUNT] = {
#define X(name, v, wire) [v] = wire,
    RD_DISPOSITION_MAP(X)
#undef X
};

const char *rd_outcome_name(rd_outcome_t o) {
    return (unsigned)o < RD_OUT__COUNT ? out_names[o] : "?";
}

const char *rd_outcome_title(rd_outcome_t o) {
    return (unsigned)o < RD_OUT__COUNT ? out_titles[o] : "?";
}

const char *rd_disposition_name(rd_disposition_t d) {
    return (unsigned)d < RD_DISP__COUNT ? disp_names[d] : "?";
}

int rd_outcome_parse(const char *s, rd_outcome_t *out) {
    for (int i = 0; i < RD_OUT__COUNT; i++) {
        if (strcmp(s, out_names[i]) == 0) {
            *out = (rd_outcome_t)i;
            return 0;
        }
    }
    return RD_EPARSE;
}

int rd_disposition_parse(const char *s, rd_disposition_t *out) {
    for (int i = 0; i < RD_DISP__COUNT; i++) {
        if (strcmp(s, disp_names[i]) == 0) {
            *out = (rd_disposition_t)i;
            return 0;
        }
    }
    return RD_EPARSE;
}

const char *rd_answered_by_name(rd_answered_by_t a) {
    static const char *const names[] = {"unknown", "human", "machine"};
    return (unsigned)a < RD_ARRAY_LEN(names) ? names[a] : "?";
}
