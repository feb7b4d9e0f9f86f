/*
 * cbauth.c — the attempt MAC of callback URLs (contract in cbauth.h).
 *
 * HMAC-SHA256 over a domain-separated message (a version tag, the provider
 * name, the attempt key, NUL-separated so no two inputs share a message),
 * truncated to 16 bytes and written as lower-case hex (URL-safe without
 * escaping). Verification recomputes it and compares with rd_secret_equal,
 * whose time depends only on the MAC's length.
 */
#include "proto/cbauth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "proto/rd.h"

static const char tag[] = "redial-callback-v1";

int rd_cbauth_sign(const char *secret, size_t secret_len, rd_prov_t provider, const char *key,
                   size_t key_len, char out[RD_CBAUTH_LEN + 1]) {
    out[0] = '\0';
    if (!secret || secret_len == 0) return RD_EINVAL;
    const char *pname = rd_prov_name(provider);
    size_t pl = strlen(pname);
    unsigned char msg[sizeof tag + 16 + RD_ATTEMPT_KEY_MAX + 2];
    if (pl > 16 || key_len > RD_ATTEMPT_KEY_MAX) return RD_EINVAL;
    size_t n = 0;
    memcpy(msg, tag, sizeof tag); /* with its NUL */
    n += sizeof tag;
    memcpy(msg + n, pname, pl);
    n += pl;
    msg[n++] = '\0';
    memcpy(msg + n, key, key_len);
    n += key_len;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!HMAC(EVP_sha256(), secret, (int)secret_len, msg, n, md, &mdlen) || mdlen < 16)
        return RD_EIO;
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < RD_CBAUTH_LEN / 2; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[RD_CBAUTH_LEN] = '\0';
    return 0;
}

bool rd_cbauth_ok(const char *secret, size_t secret_len, rd_prov_t provider, const char *key,
                  size_t key_len, const char *mac, size_t mac_len) {
    char want[RD_CBAUTH_LEN + 1];
    if (rd_cbauth_sign(secret, secret_len, provider, key, key_len, want) != 0) return false;
    return mac && rd_secret_equal(mac, mac_len, want, RD_CBAUTH_LEN);
}
