/*
 * view.c — the operator's JSON view of a stored campaign (see view.h).
 *
 * The configuration is embedded as a JSON object (not a string) so a client
 * reads it with the same parser; a stored JSON that no longer parses is left
 * out rather than failing the whole view (the counts are still useful).
 */
#include "store/view.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "proto/rd.h"
#include "proto/tz.h"

const char *rd_view_state_name(rd_camp_state_t st) {
    switch (st) {
    case RD_CAMP_ACTIVE:
        return "active";
    case RD_CAMP_PAUSED:
        return "paused";
    case RD_CAMP_CANCELED:
        return "canceled";
    }
    return "?";
}

int rd_view_state_parse(const char *s, rd_camp_state_t *out) {
    static const rd_camp_state_t all[] = {RD_CAMP_ACTIVE, RD_CAMP_PAUSED, RD_CAMP_CANCELED};
    for (size_t i = 0; i < RD_ARRAY_LEN(all); i++)
        if (s && !strcmp(s, rd_view_state_name(all[i]))) {
            *out = all[i];
            return 0;
        }
    return RD_EINVAL;
}

void rd_view_iso(char *buf, size_t len, const rd_tz_t *tz, int64_t t_ms) {
    rd_localtime_t lt;
    rd_tz_local(tz ? tz : rd_tz_get("UTC"), t_ms, &lt);
    int off = lt.utc_offset_s, a = off < 0 ? -off : off;
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%c%02d:%02d", lt.year % 10000, lt.month,
             lt.day, lt.hour, lt.minute, lt.second, (int)(((t_ms % 1000) + 1000) % 1000),
             off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
}

void rd_view_iso_utc(char *buf, size_t len, int64_t t_ms) { rd_view_iso(buf, len, NULL, t_ms); }

json_t *rd_view_campaign(const rd_store_campaign_t *c, const char *config) {
    json_t *o = json_object();
    char t[40];
    rd_view_iso_utc(t, sizeof t, c->created_ms);
    json_object_set_new(o, "name", json_string(c->name));
    json_object_set_new(o, "state", json_string(rd_view_state_name(c->state)));
    if (c->pause_reason[0]) json_object_set_new(o, "pause_reason", json_string(c->pause_reason));
    json_object_set_new(o, "created_ms", json_integer(c->created_ms));
    json_object_set_new(o, "created", json_string(t));
    json_object_set_new(o, "enqueued", json_integer(c->enqueued));
    json_object_set_new(o, "pending", json_integer(c->pending));
    json_object_set_new(o, "live", json_integer(c->live));
    json_object_set_new(o, "finished", json_integer(c->finished));
    if (config) {
        json_t *cfg = json_loads(config, 0, NULL);
        if (cfg) json_object_set_new(o, "config", cfg);
    }
    return o;
}
