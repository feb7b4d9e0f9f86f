/*
 * job.c — the enqueue message of SPEC section 5: msgpack and JSON decoders,
 * the msgpack encoder, and E.164 syntax.
 *
 * Design. Both decoders reduce their input to the same tiny value type
 * (val_t: a string slice, an integer, or "something else") and hand every
 * top-level member to one function, set_member(), and every `vars` entry to
 * add_var(). So the rules — which keys exist, their types, lengths, ranges,
 * duplicates, the required ones — live in one place and the two wire forms
 * cannot drift apart.
 *
 * msgpack-c allocates a container's element array from the header's count
 * before reading the elements, so a 5-byte "array of 4 billion" would ask
 * for ~100 GB. mp_bounded() walks the bytes first (no allocation) and
 * refuses any input whose announced elements cannot fit in the bytes that
 * remain; after it, msgpack-c allocates at most ~48 bytes per input byte.
 * Inputs are also capped at RD_JOB_MSG_MAX bytes.
 *
 * Strings never contain NUL (they become C strings), every producer string
 * (id, campaign, to, tz, vars keys and values) must be UTF-8 text without
 * control characters (proto/text.h), keys and values are length-checked
 * before any copy, and the error is "<key>: <reason>".
 */
#include "proto/job.h"

#include <ctype.h>
#include <jansson.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>

#include "proto/campaign.h"
#include "proto/rd.h"
#include "proto/text.h"
#include "proto/tz.h"

#define RD_JOB_MSG_MAX (64 * 1024)
#define NOT_BEFORE_MAX 253402300799999LL /* 9999-12-31T23:59:59.999Z */

enum { K_V, K_CAMPAIGN, K_TO, K_ID, K_VARS, K_NOT_BEFORE, K_TZ, K__COUNT };
static const char *const key_names[K__COUNT] = {"v",    "campaign",   "to", "id",
                                                "vars", "not_before", "tz"};

typedef enum { VAL_STR, VAL_INT, VAL_OTHER } val_type_t;
typedef struct val {
    val_type_t type;
    const char *s; /* VAL_STR: not NUL-terminated */
    size_t len;
    int64_t i;    /* VAL_INT */
    bool i_range; /* VAL_INT: false when the integer does not fit int64 */
} val_t;

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...) RD_PRINTF(4, 5);
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

bool rd_e164_valid(const char *s, size_t len) {
    if (len < 9 || len > 16 || s[0] != '+' || s[1] == '0') return false;
    for (size_t i = 1; i < len; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

void rd_job_msg_init(rd_job_msg_t *m) { memset(m, 0, sizeof *m); }

void rd_job_msg_deinit(rd_job_msg_t *m) {
    for (size_t i = 0; i < m->n_vars; i++) {
        rd_free(m->vars[i].key);
        rd_free(m->vars[i].val);
    }
    rd_free(m->vars);
    rd_job_msg_init(m);
}

bool rd_job_msg_equal(const rd_job_msg_t *a, const rd_job_msg_t *b) {
    if (a->v != b->v || strcmp(a->campaign, b->campaign) || strcmp(a->to, b->to) ||
        strcmp(a->id, b->id) || a->not_before_ms != b->not_before_ms || strcmp(a->tz, b->tz) ||
        a->n_vars != b->n_vars)
        return false;
    for (size_t i = 0; i < a->n_vars; i++)
        if (strcmp(a->vars[i].key, b->vars[i].key) || strcmp(a->vars[i].val, b->vars[i].val))
            return false;
    return true;
}

static bool has_nul(const char *s, size_t len) { return memchr(s, '\0', len) != NULL; }

static bool id_ok(const char *s, size_t len) {
    if (len == 0 || len > RD_JOB_ID_MAX) return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x21 || s[i] == 0x7f) return false;
    return true;
}

static void copy_str(char *dst, const val_t *v) {
    memcpy(dst, v->s, v->len);
    dst[v->len] = '\0';
}

static int key_index(const char *k, size_t klen) {
    for (int i = 0; i < K__COUNT; i++)
        if (strlen(key_names[i]) == klen && memcmp(k, key_names[i], klen) == 0) return i;
    return -1;
}

/* Every producer string must be text (proto/text.h); the error names the field. */
static int text_check(const val_t *v, const char *field, char *err, size_t errlen) {
    size_t at;
    if (v->type != VAL_STR || rd_text_valid(v->s, v->len, &at)) return 0;
    return fail(err, errlen, RD_EINVAL,
                "%s: not UTF-8 text (invalid or control byte at offset %zu)", field, at);
}

/* One top-level member other than vars (k from member_key). */
static int set_member(rd_job_msg_t *m, int k, const val_t *v, char *err, size_t errlen) {
    bool str = v->type == VAL_STR;
    int trc = text_check(v, key_names[k], err, errlen);
    if (trc) return trc;
    switch (k) {
    case K_V:
        if (v->type != VAL_INT || !v->i_range || v->i != 1)
            return fail(err, errlen, RD_EINVAL, "v: must be the integer 1");
        m->v = 1;
        return 0;
    case K_CAMPAIGN:
        if (!str || !rd_campaign_name_valid(v->s, v->len))
            return fail(err, errlen, RD_EINVAL,
                        "campaign: must be 1..%d characters of [A-Za-z0-9_.-], not . or ..",
                        RD_CAMPAIGN_NAME_MAX);
        copy_str(m->campaign, v);
        return 0;
    case K_TO:
        if (!str || !rd_e164_valid(v->s, v->len))
            return fail(err, errlen, RD_EINVAL, "to: must be E.164 ('+' and 8..15 digits)");
        copy_str(m->to, v);
        return 0;
    case K_ID:
        if (!str || !id_ok(v->s, v->len))
            return fail(err, errlen, RD_EINVAL, "id: must be 1..%d printable bytes without spaces",
                        RD_JOB_ID_MAX);
        copy_str(m->id, v);
        return 0;
    case K_NOT_BEFORE:
        if (v->type != VAL_INT || !v->i_range || v->i < 0 || v->i > NOT_BEFORE_MAX)
            return fail(err, errlen, RD_EINVAL,
                        "not_before: must be unix milliseconds (integer >= 0)");
        m->not_before_ms = v->i;
        return 0;
    case K_TZ: {
        char tz[RD_TZ_NAME_MAX + 1];
        if (!str || v->len > RD_TZ_NAME_MAX || has_nul(v->s, v->len))
            return fail(err, errlen, RD_EINVAL, "tz: must be an IANA zone name");
        copy_str(tz, v);
        const rd_tz_t *z;
        int zr = rd_tz_lookup(tz, &z);
        if (zr == RD_ETRANSIENT) /* not a verdict on the name: the caller retries */
            return fail(err, errlen, RD_ETRANSIENT, "tz: zone file unreadable now (%s)",
                        strerror(errno));
        if (zr != 0)
            return fail(err, errlen, RD_EINVAL, "tz: not an IANA time zone of this system");
        memcpy(m->tz, tz, sizeof tz);
        return 0;
    }
    }
    return fail(err, errlen, RD_EINVAL, "%s: unexpected", key_names[k]);
}

static int add_var(rd_job_msg_t *m, const val_t *k, const val_t *v, char *err, size_t errlen) {
    size_t i = m->n_vars;
    if (k->type != VAL_STR || k->len == 0 || k->len > RD_JOB_VAR_MAX || has_nul(k->s, k->len))
        return fail(err, errlen, RD_EINVAL, "vars[%zu]: key must be a string of 1..%d bytes", i,
                    RD_JOB_VAR_MAX);
    if (v->type != VAL_STR || v->len > RD_JOB_VAR_MAX || has_nul(v->s, v->len))
        return fail(err, errlen, RD_EINVAL, "vars[%zu]: value must be a string of 0..%d bytes", i,
                    RD_JOB_VAR_MAX);
    char field[64];
    snprintf(field, sizeof field, "vars[%zu] key", i);
    int trc = text_check(k, field, err, errlen);
    if (trc) return trc;
    char q[48];
    rd_text_quoted(q, sizeof q, k->s, k->len);
    snprintf(field, sizeof field, "vars.%s", q);
    if ((trc = text_check(v, field, err, errlen))) return trc;
    for (size_t j = 0; j < i; j++)
        if (strlen(m->vars[j].key) == k->len && memcmp(m->vars[j].key, k->s, k->len) == 0)
            return fail(err, errlen, RD_EINVAL, "vars[%zu]: duplicate key", i);
    m->vars[i].key = rd_strndup(k->s, k->len);
    m->vars[i].val = rd_strndup(v->s, v->len);
    m->n_vars = i + 1;
    return 0;
}

/* Resolves a member key, refusing unknown and repeated keys. */
static int member_key(const val_t *k, unsigned *seen, char *err, size_t errlen) {
    int idx = k->type == VAL_STR ? key_index(k->s, k->len) : -1;
    if (idx < 0) {
        if (k->type != VAL_STR) return fail(err, errlen, RD_EINVAL, "(key): must be a string");
        char q[48];
        rd_text_quoted(q, sizeof q, k->s, k->len);
        return fail(err, errlen, RD_EINVAL, "%s: unknown key", q);
    }
    if (*seen & (1u << idx))
        return fail(err, errlen, RD_EINVAL, "%s: duplicate key", key_names[idx]);
    *seen |= 1u << idx;
    return idx;
}

static int check_required(unsigned seen, char *err, size_t errlen) {
    static const int req[] = {K_V, K_CAMPAIGN, K_TO};
    for (size_t i = 0; i < RD_ARRAY_LEN(req); i++)
        if (!(seen & (1u << req[i])))
            return fail(err, errlen, RD_EINVAL, "%s: is required", key_names[req[i]]);
    return 0;
}

/* ---- msgpack ------------------------------------------------------------- */

/* Big-endian unsigned of n bytes at p. */
static uint64_t be(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

/*
 * Walks one msgpack object without allocating: true when every announced
 * container element and payload fits in the buffer and exactly len bytes
 * are used.
 */
static bool mp_bounded(const uint8_t *p, size_t len) {
    size_t off = 0;
    uint64_t pending = 1;
    while (pending > 0) {
        if (off >= len) return false;
        uint8_t b = p[off++];
        pending--;
        uint64_t payload = 0, elems = 0;
        int hdr = 0; /* bytes of length/count that follow b */
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
        } else if (b <= 0x8f) {
            elems = 2u * (b & 0x0f);
        } else if (b <= 0x9f) {
            elems = b & 0x0f;
        } else if (b <= 0xbf) {
            payload = b & 0x1f;
        } else if (b == 0xc1) {
            return false;
        } else if (b >= 0xc4 && b <= 0xc6) { /* bin 8/16/32 */
            hdr = 1 << (b - 0xc4);
        } else if (b >= 0xc7 && b <= 0xc9) { /* ext 8/16/32: + type byte */
            hdr = 1 << (b - 0xc7);
            payload = 1;
        } else if (b == 0xca || b == 0xcb) {
            payload = b == 0xca ? 4 : 8;
        } else if (b >= 0xcc && b <= 0xd3) { /* uint/int 8..64 */
            payload = 1u << ((b - 0xcc) & 3);
        } else if (b >= 0xd4 && b <= 0xd8) { /* fixext 1..16 */
            payload = 1 + (1u << (b - 0xd4));
        } else if (b >= 0xd9 && b <= 0xdb) { /* str 8/16/32 */
            hdr = 1 << (b - 0xd9);
        } else if (b == 0xdc || b == 0xdd) {
            hdr = b == 0xdc ? 2 : 4;
            if ((size_t)hdr > len - off) return false;
            elems = be(p + off, hdr);
            off += (size_t)hdr;
            hdr = 0;
        } else { /* 0xde, 0xdf: map 16/32 */
            hdr = b == 0xde ? 2 : 4;
            if ((size_t)hdr > len - off) return false;
            elems = 2 * be(p + off, hdr);
            off += (size_t)hdr;
            hdr = 0;
        }
        if (hdr) {
            if ((size_t)hdr > len - off) return false;
            payload += be(p + off, hdr);
            off += (size_t)hdr;
        }
        if (payload > len - off) return false;
        off += (size_t)payload;
        pending += elems;
        if (pending > len - off) return false;
    }
    return off == len;
}

static void mp_val(const msgpack_object *o, val_t *v) {
    memset(v, 0, sizeof *v);
    v->type = VAL_OTHER;
    if (o->type == MSGPACK_OBJECT_STR) {
        v->type = VAL_STR;
        v->s = o->via.str.ptr;
        v->len = o->via.str.size;
    } else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        v->type = VAL_INT;
        v->i_range = o->via.u64 <= (uint64_t)INT64_MAX;
        v->i = v->i_range ? (int64_t)o->via.u64 : 0;
    } else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        v->type = VAL_INT;
        v->i_range = true;
        v->i = o->via.i64;
    }
}

static int mp_members(const msgpack_object *root, rd_job_msg_t *out, char *err, size_t errlen) {
    if (root->type != MSGPACK_OBJECT_MAP)
        return fail(err, errlen, RD_EPARSE, "message: must be a msgpack map");
    unsigned seen = 0;
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object_kv *kv = &root->via.map.ptr[i];
        val_t k, v;
        mp_val(&kv->key, &k);
        int idx = member_key(&k, &seen, err, errlen);
        if (idx < 0) return idx;
        if (idx != K_VARS) {
            mp_val(&kv->val, &v);
            int rc = set_member(out, idx, &v, err, errlen);
            if (rc) return rc;
            continue;
        }
        if (kv->val.type != MSGPACK_OBJECT_MAP || kv->val.via.map.size > RD_JOB_MAX_VARS)
            return fail(err, errlen, RD_EINVAL, "vars: must be a map of at most %d entries",
                        RD_JOB_MAX_VARS);
        out->vars = rd_calloc(RD_MAX(kv->val.via.map.size, 1), sizeof *out->vars);
        for (uint32_t j = 0; j < kv->val.via.map.size; j++) {
            mp_val(&kv->val.via.map.ptr[j].key, &k);
            mp_val(&kv->val.via.map.ptr[j].val, &v);
            int rc = add_var(out, &k, &v, err, errlen);
            if (rc) return rc;
        }
    }
    return check_required(seen, err, errlen);
}

int rd_job_msg_decode(const void *buf, size_t len, rd_job_msg_t *out, char *err, size_t errlen) {
    rd_job_msg_init(out);
    if (len > RD_JOB_MSG_MAX)
        return fail(err, errlen, RD_EPARSE, "message: larger than %d bytes", RD_JOB_MSG_MAX);
    if (!mp_bounded(buf, len))
        return fail(err, errlen, RD_EPARSE, "message: malformed or truncated msgpack");
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc;
    if (msgpack_unpack_next(&u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len)
        rc = fail(err, errlen, RD_EPARSE, "message: malformed msgpack");
    else
        rc = mp_members(&u.data, out, err, errlen);
    msgpack_unpacked_destroy(&u);
    if (rc) rd_job_msg_deinit(out);
    return rc;
}

/* ---- JSON ---------------------------------------------------------------- */

static void js_val(json_t *j, val_t *v) {
    memset(v, 0, sizeof *v);
    v->type = VAL_OTHER;
    if (json_is_string(j)) {
        v->type = VAL_STR;
        v->s = json_string_value(j);
        v->len = json_string_length(j);
    } else if (json_is_integer(j)) {
        v->type = VAL_INT;
        v->i_range = true;
        v->i = json_integer_value(j);
    }
}

static int js_members(json_t *root, rd_job_msg_t *out, char *err, size_t errlen) {
    if (!json_is_object(root))
        return fail(err, errlen, RD_EPARSE, "message: must be a JSON object");
    unsigned seen = 0;
    const char *key;
    json_t *jv;
    json_object_foreach(root, key, jv) {
        val_t k = {.type = VAL_STR, .s = key, .len = strlen(key)}, v;
        int idx = member_key(&k, &seen, err, errlen);
        if (idx < 0) return idx;
        if (idx != K_VARS) {
            js_val(jv, &v);
            int rc = set_member(out, idx, &v, err, errlen);
            if (rc) return rc;
            continue;
        }
        if (!json_is_object(jv) || json_object_size(jv) > RD_JOB_MAX_VARS)
            return fail(err, errlen, RD_EINVAL, "vars: must be an object of at most %d entries",
                        RD_JOB_MAX_VARS);
        out->vars = rd_calloc(RD_MAX(json_object_size(jv), 1), sizeof *out->vars);
        const char *vk;
        json_t *vv;
        json_object_foreach(jv, vk, vv) {
            val_t kk = {.type = VAL_STR, .s = vk, .len = strlen(vk)};
            js_val(vv, &v);
            int rc = add_var(out, &kk, &v, err, errlen);
            if (rc) return rc;
        }
    }
    return check_required(seen, err, errlen);
}

int rd_job_msg_decode_json(const char *buf, size_t len, rd_job_msg_t *out, char *err,
                           size_t errlen) {
    rd_job_msg_init(out);
    if (len > RD_JOB_MSG_MAX)
        return fail(err, errlen, RD_EPARSE, "message: larger than %d bytes", RD_JOB_MSG_MAX);
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) return fail(err, errlen, RD_EPARSE, "message: not valid JSON (%s)", jerr.text);
    int rc = js_members(root, out, err, errlen);
    json_decref(root);
    if (rc) rd_job_msg_deinit(out);
    return rc;
}

/* ---- encoder ------------------------------------------------------------- */

static void pack_str(msgpack_packer *pk, const char *s) {
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

int rd_job_msg_encode(const rd_job_msg_t *m, char **out, size_t *outlen) {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    size_t n = 3 + (m->id[0] != 0) + (m->n_vars > 0) + (m->not_before_ms != 0) + (m->tz[0] != 0);
    msgpack_pack_map(&pk, n);
    pack_str(&pk, "v");
    msgpack_pack_int(&pk, m->v);
    pack_str(&pk, "campaign");
    pack_str(&pk, m->campaign);
    pack_str(&pk, "to");
    pack_str(&pk, m->to);
    if (m->id[0]) {
        pack_str(&pk, "id");
        pack_str(&pk, m->id);
    }
    if (m->n_vars > 0) {
        pack_str(&pk, "vars");
        msgpack_pack_map(&pk, m->n_vars);
        for (size_t i = 0; i < m->n_vars; i++) {
            pack_str(&pk, m->vars[i].key);
            pack_str(&pk, m->vars[i].val);
        }
    }
    if (m->not_before_ms != 0) {
        pack_str(&pk, "not_before");
        msgpack_pack_int64(&pk, m->not_before_ms);
    }
    if (m->tz[0]) {
        pack_str(&pk, "tz");
        pack_str(&pk, m->tz);
    }
    *outlen = sb.size;
    *out = rd_malloc(sb.size);
    memcpy(*out, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return 0;
}
