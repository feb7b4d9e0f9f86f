/*
 * Fuzz target: the enqueue message decoders (proto/job.c).
 *
 * The same bytes go to the msgpack and the JSON decoder. Properties: never
 * crash or leak; a refusal names a key; an accepted message has a valid
 * E.164 `to` and v == 1, and encode -> decode gives an equal message whose
 * encoding is byte-identical (the encoder is canonical).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/job.h"
#include "proto/rd.h"

static void check(int rc, rd_job_msg_t *m, const char *err) {
    if (rc != 0) {
        rd_assert(rc == RD_EPARSE || rc == RD_EINVAL);
        rd_assert(strstr(err, ": ") != NULL && strncmp(err, ": ", 2) != 0 && m->vars == NULL &&
                  m->n_vars == 0);
        return;
    }
    rd_assert(m->v == 1 && rd_e164_valid(m->to, strlen(m->to)) && m->campaign[0]);
    char *buf, *buf2, e2[128];
    size_t len, len2;
    rd_job_msg_t d;
    rd_assert(rd_job_msg_encode(m, &buf, &len) == 0);
    rd_assert(rd_job_msg_decode(buf, len, &d, e2, sizeof e2) == 0);
    rd_assert(rd_job_msg_equal(m, &d));
    rd_assert(rd_job_msg_encode(&d, &buf2, &len2) == 0);
    rd_assert(len == len2 && memcmp(buf, buf2, len) == 0);
    rd_free(buf);
    rd_free(buf2);
    rd_job_msg_deinit(&d);
    rd_job_msg_deinit(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rd_job_msg_t m;
    char err[128];
    check(rd_job_msg_decode(data, size, &m, err, sizeof err), &m, err);
    check(rd_job_msg_decode_json((const char *)data, size, &m, err, sizeof err), &m, err);
    return 0;
}
