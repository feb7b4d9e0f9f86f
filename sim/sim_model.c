/*
 * sim_model.c — what a call does: the outcome model (rd_sim_model_parse),
 * per-number scripts (POST /sim/script: load, next outcome) and the model
 * draw of an outcome, and the fault mix set at run time (POST /sim/faults).
 */
#include "sim/sim_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- model ---- */

int rd_sim_model_parse(const char *spec, rd_sim_model_t *m, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    if (!spec || !strcmp(spec, "seed")) {
        m->seed = true;
        return 0;
    }
    if (strncmp(spec, "uniform:", 8) != 0) {
        snprintf(err, errlen, "--model: expected seed or uniform:busy=P,no-answer=P,...");
        return RD_EINVAL;
    }
    bool have_completed = false;
    double sum = 0;
    const char *p = spec + 8;
    while (*p) {
        const char *eq = strchr(p, '=');
        if (!eq) {
            snprintf(err, errlen, "--model: '%s' lacks '='", p);
            return RD_EINVAL;
        }
        char *end;
        double v = strtod(eq + 1, &end);
        if (end == eq + 1 || (*end && *end != ',') || !(v >= 0 && v <= 1)) {
            snprintf(err, errlen, "--model: bad probability after '%.*s'", (int)(eq - p), p);
            return RD_EINVAL;
        }
        size_t kl = (size_t)(eq - p);
        double *slot = NULL;
        if (kl == 4 && !strncmp(p, "busy", 4))
            slot = &m->busy;
        else if (kl == 9 && !strncmp(p, "no-answer", 9))
            slot = &m->no_answer;
        else if (kl == 6 && !strncmp(p, "failed", 6))
            slot = &m->failed;
        else if ((kl == 7 && !strncmp(p, "invalid", 7)) ||
                 (kl == 14 && !strncmp(p, "invalid-number", 14)))
            slot = &m->invalid;
        else if (kl == 9 && !strncmp(p, "completed", 9)) {
            slot = &m->completed;
            have_completed = true;
        }
        if (!slot) {
            snprintf(err, errlen, "--model: unknown outcome '%.*s'", (int)kl, p);
            return RD_EINVAL;
        }
        *slot = v;
        sum += v;
        p = *end ? end + 1 : end;
    }
    if (!have_completed) {
        if (sum > 1 + 1e-9) {
            snprintf(err, errlen, "--model: probabilities sum to %.4f > 1", sum);
            return RD_EINVAL;
        }
        m->completed = 1 - sum > 0 ? 1 - sum : 0;
    } else if (fabs(sum - 1) > 1e-6) {
        snprintf(err, errlen, "--model: probabilities sum to %.4f, not 1", sum);
        return RD_EINVAL;
    }
    return 0;
}

/* ---- scripts ---- */

static int script_word(const char *w, uint8_t *out) {
    rd_outcome_t o;
    if (!strcmp(w, "invalid"))
        *out = RD_OUT_INVALID_NUMBER;
    else if (!strcmp(w, "machine"))
        *out = SO_MACHINE;
    else if (!strcmp(w, "5xx"))
        *out = SO_5XX;
    else if (!strcmp(w, "timeout"))
        *out = SO_TIMEOUT;
    else if (!strcmp(w, "429"))
        *out = SO_429;
    else if (!strcmp(w, "agent-busy"))
        *out = SO_AGENT_BUSY;
    else if (!strcmp(w, "agent-no-answer"))
        *out = SO_AGENT_NOANSWER;
    else if (rd_outcome_parse(w, &o) == 0 &&
             (o == RD_OUT_COMPLETED || o == RD_OUT_BUSY || o == RD_OUT_NO_ANSWER ||
              o == RD_OUT_FAILED || o == RD_OUT_INVALID_NUMBER))
        *out = (uint8_t)o;
    else
        return -1;
    return 0;
}

/* Loads {"+91..": ["busy", ...], ...}; replaces scripts of the numbers given. */
int rd_sim__script_load(rd_sim_t *s, const char *json, size_t len, char *err, size_t errlen) {
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    if (!json_is_object(root)) {
        snprintf(err, errlen, "script: not a JSON object (%s)", root ? "wrong type" : je.text);
        json_decref(root);
        return RD_EINVAL;
    }
    const char *num;
    json_t *arr;
    json_object_foreach(root, num, arr) {
        if (!json_is_array(arr)) {
            snprintf(err, errlen, "script: %.32s: not an array", num);
            json_decref(root);
            return RD_EINVAL;
        }
        size_t i;
        json_t *w;
        json_array_foreach(arr, i, w) {
            uint8_t o;
            if (!json_is_string(w) || script_word(json_string_value(w), &o) != 0) {
                snprintf(err, errlen, "script: %.32s[%zu]: unknown outcome", num, i);
                json_decref(root);
                return RD_EINVAL;
            }
        }
    }
    json_object_foreach(root, num, arr) {
        uint32_t idx;
        if (rd_strmap_put(&s->script_map, num, strlen(num), (uint32_t)s->nscripts, &idx, NULL)) {
            if (s->nscripts == s->capscripts) {
                s->capscripts = s->capscripts ? s->capscripts * 2 : 16;
                s->scripts = rd_realloc(s->scripts, s->capscripts * sizeof *s->scripts);
            }
            memset(&s->scripts[s->nscripts++], 0, sizeof(script_t));
        }
        script_t *sc = &s->scripts[idx];
        rd_free(sc->outs);
        sc->n = (uint32_t)json_array_size(arr);
        sc->next = 0;
        sc->outs = rd_malloc(sc->n ? sc->n : 1);
        for (uint32_t i = 0; i < sc->n; i++)
            script_word(json_string_value(json_array_get(arr, i)), &sc->outs[i]);
    }
    json_decref(root);
    return 0;
}

/* Next scripted outcome for number, or -1 when it has none left. */
int rd_sim__script_next(rd_sim_t *s, const char *number) {
    uint32_t idx;
    if (!s->nscripts || !rd_strmap_get(&s->script_map, number, strlen(number), &idx)) return -1;
    script_t *sc = &s->scripts[idx];
    if (sc->next >= sc->n) return -1;
    return sc->outs[sc->next++];
}

/* Conditional P(connect) on the k-th call (0-based) for cumulative 40/60/70/73/74%. */
static double seed_connect_p(uint32_t k) {
    static const double cum[] = {0.40, 0.60, 0.70, 0.73, 0.74};
    if (k >= 5) k = 4;
    double prev = k ? cum[k - 1] : 0;
    return (cum[k] - prev) / (1 - prev);
}

uint8_t rd_sim__model_outcome(rd_sim_t *s, uint32_t nth) {
    const rd_sim_model_t *m = &s->cfg.model;
    double u = rd_sim__rng_u(&s->rng);
    if (m->seed) {
        if (u < seed_connect_p(nth)) return RD_OUT_COMPLETED;
        return rd_sim__rng_u(&s->rng) < s->cfg.seed_busy_share ? RD_OUT_BUSY : RD_OUT_NO_ANSWER;
    }
    if ((u -= m->busy) < 0) return RD_OUT_BUSY;
    if ((u -= m->no_answer) < 0) return RD_OUT_NO_ANSWER;
    if ((u -= m->failed) < 0) return RD_OUT_FAILED;
    if ((u -= m->invalid) < 0) return RD_OUT_INVALID_NUMBER;
    return RD_OUT_COMPLETED;
}

int rd_sim__faults_set(rd_sim_t *s, const char *body, size_t len, char *err, size_t errlen) {
    json_t *root = json_loadb(body, len, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(err, errlen, "expected a JSON object");
        return RD_EINVAL;
    }
    rd_sim_config_t c = s->cfg;
    static const struct {
        const char *name;
        size_t off;
    } rates[] = {{"5xx", offsetof(rd_sim_config_t, fault_5xx)},
                 {"timeout", offsetof(rd_sim_config_t, fault_timeout)},
                 {"429", offsetof(rd_sim_config_t, fault_429)},
                 {"cb_loss", offsetof(rd_sim_config_t, cb_loss)},
                 {"cb_dup", offsetof(rd_sim_config_t, cb_dup)},
                 {"cb_reorder", offsetof(rd_sim_config_t, cb_reorder)}},
      ms[] = {{"cb_delay_min_ms", offsetof(rd_sim_config_t, cb_delay_min_ms)},
              {"cb_delay_max_ms", offsetof(rd_sim_config_t, cb_delay_max_ms)},
              {"answer_delay_ms", offsetof(rd_sim_config_t, answer_delay_ms)}};
    int rc = RD_EINVAL;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        bool known = !strcmp(key, "outage_ms");
        for (size_t i = 0; i < RD_ARRAY_LEN(rates); i++) {
            if (strcmp(key, rates[i].name) != 0) continue;
            known = true;
            double x = json_number_value(v);
            if (!json_is_number(v) || x < 0 || x > 1) {
                snprintf(err, errlen, "%s: expected a fraction in [0, 1]", key);
                goto out;
            }
            *(double *)((char *)&c + rates[i].off) = x;
        }
        for (size_t i = 0; i < RD_ARRAY_LEN(ms); i++) {
            if (strcmp(key, ms[i].name) != 0) continue;
            known = true;
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > 3600000) {
                snprintf(err, errlen, "%s: expected wall ms in [0, 3600000]", key);
                goto out;
            }
            *(int *)((char *)&c + ms[i].off) = (int)json_integer_value(v);
        }
        if (!known) {
            snprintf(err, errlen, "unknown fault '%s'", key);
            goto out;
        }
    }
    json_t *outage = json_object_get(root, "outage_ms");
    if (outage && (!json_is_integer(outage) || json_integer_value(outage) < 0 ||
                   json_integer_value(outage) > 3600000)) {
        snprintf(err, errlen, "outage_ms: expected wall ms in [0, 3600000]");
        goto out;
    }
    if (c.fault_5xx + c.fault_timeout + c.fault_429 > 1) {
        snprintf(err, errlen, "fault rates sum to more than 1");
        goto out;
    }
    if (c.cb_delay_max_ms < c.cb_delay_min_ms) c.cb_delay_max_ms = c.cb_delay_min_ms;
    s->cfg = c;
    if (outage) s->outage_until = uv_now(s->loop) + (uint64_t)json_integer_value(outage);
    rc = 0;
out:
    json_decref(root);
    return rc;
}
