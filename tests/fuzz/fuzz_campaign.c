/*
 * Fuzz target: the campaign parser (proto/campaign.c).
 *
 * Properties checked on every input: parsing never crashes or leaks; a
 * refused input leaves an error naming a field ("<field>: <reason>") and an
 * empty struct; an accepted campaign survives to_json -> parse as an equal
 * campaign, and to_json is a fixed point of that round trip.
 */
#include <stdint.h>
#include <string.h>

#include "proto/campaign.h"
#include "proto/rd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rd_campaign_t c, d;
    char err[256];
    int rc = rd_campaign_parse((const char *)data, size, &c, err, sizeof err);
    if (rc != 0) {
        rd_assert(rc == RD_EPARSE || rc == RD_EINVAL);
        rd_assert(strstr(err, ": ") != NULL && strncmp(err, ": ", 2) != 0);
        rd_assert(c.name == NULL && c.numbers == NULL && c.timezone == NULL);
        return 0;
    }
    rd_assert(c.name && c.caller_id && c.timezone);
    rd_assert(c.daily_start_min < c.daily_end_min && c.max_attempts >= 1);
    char *j = rd_campaign_to_json(&c);
    rd_assert(rd_campaign_parse(j, strlen(j), &d, err, sizeof err) == 0);
    rd_assert(d.n_numbers == 0);
    rd_assert(rd_campaign_equal(&c, &d));
    char *j2 = rd_campaign_to_json(&d);
    rd_assert(strcmp(j, j2) == 0);
    rd_free(j);
    rd_free(j2);
    rd_campaign_deinit(&c);
    rd_campaign_deinit(&d);
    return 0;
}
