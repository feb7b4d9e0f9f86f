/*
 * gen_lua_model.c — build-time generator: prints proto/model.h as Lua
 * constants, which cmake/embed_lua.cmake puts in front of store/lua/lib.lua,
 * so every script names the values and record positions the C side uses
 * (one definition, two languages). Run by CMake; output on stdout.
 *
 * Names: tables OUT, DISP, JST, CST, ENQ (OUT.BUSY, CST.CANCELED, ...: the
 * stored values), OUT_NAME / DISP_NAME (value -> wire name); locals J_<FIELD> (1-based position of
 * a job field), J_COUNT / J_REQUIRED / JDEF (defaults, HIST as false),
 * NR_ATTS / NR_JOB1 (number record positions), NR_KEEP_MS / NR_KEEP_MAX, S_<FIELD> (0-based offset of
 * a settle item's argument) and S_COUNT.
 */
#include <stdio.h>

#include "proto/model.h"

static void list_begin(const char *what) { printf("-- %s\n", what); }

int main(void) {
    printf("-- Generated from proto/model.h by cmake/gen_lua_model.c. Do not edit.\n");
    list_begin("attempt outcomes (rd_outcome_t) and their wire names");
    printf("local OUT = {");
#define X(name, v, wire, title) printf("%s = %d, ", #name, v);
    RD_OUTCOME_MAP(X)
#undef X
    printf("}\nlocal OUT_NAME = {");
#define X(name, v, wire, title) printf("[%d] = '%s', ", v, wire);
    RD_OUTCOME_MAP(X)
#undef X
    printf("}\n");
    list_begin("dispositions (rd_disposition_t) and their wire names");
    printf("local DISP = {");
#define X(name, v, wire) printf("%s = %d, ", #name, v);
    RD_DISPOSITION_MAP(X)
#undef X
    printf("}\nlocal DISP_NAME = {");
#define X(name, v, wire) printf("[%d] = '%s', ", v, wire);
    RD_DISPOSITION_MAP(X)
#undef X
    printf("}\n");
    list_begin("job states, campaign states (P:c:<name> st), enqueue results");
#define X(name, v) printf("%s = %d, ", #name, v);
    printf("local JST = {");
    RD_JOB_STATE_MAP(X)
    printf("}\nlocal CST = {");
    RD_CAMP_STATE_MAP(X)
    printf("}\nlocal ENQ = {");
    RD_ENQ_RESULT_MAP(X)
    printf("}\n");
#undef X
    list_begin("job fields in the number record (1-based)");
#define X(name, kind, def) printf("local J_%s = %d\n", #name, RD_JF_##name + 1);
    RD_JOB_FIELDS(X)
#undef X
    printf("local J_COUNT, J_REQUIRED = %d, %d\n", RD_JF__COUNT, RD_JOB_FIELDS_REQUIRED);
#define INT(def) printf("%d, ", def)
#define STR(def) printf("'', ")
#define HIST(def) printf("false, ")
    printf("local JDEF = {");
#define X(name, kind, def) kind(def);
    RD_JOB_FIELDS(X)
#undef X
    printf("}\n");
    printf("local NR_ATTS, NR_JOB1 = %d, %d\n", RD_NREC_ATTS + 1, RD_NREC_JOB1 + 1);
    printf("local NR_KEEP_MS, NR_KEEP_MAX = %lld, %d\n", (long long)RD_NREC_KEEP_MS,
           RD_NREC_KEEP_MAX);
    list_begin("settle item arguments (0-based offsets within an item)");
#define X(name, kind) printf("local S_%s = %d\n", #name, RD_SF_##name);
    RD_SETTLE_FIELDS(X)
#undef X
    printf("local S_COUNT = %d\n", RD_SF__COUNT);
    return ferror(stdout) ? 1 : 0;
}
