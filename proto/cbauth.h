/*
 * cbauth.h — per-attempt authentication of provider status callbacks.
 *
 * The path secret of /callbacks/{provider}/{secret} is in every callback
 * URL, hence in the provider's logs and consoles: alone it must not settle
 * a call. So each attempt's StatusCallback URL also carries `h=`, a MAC of
 * the attempt's provider and key under the callback secret:
 *
 *   h = hex(HMAC-SHA256(secret, "redial-callback-v1\0" provider "\0" key))[0..32)
 *
 * (128 bits). A callback is accepted only with the key (`a=`) and its `h=`,
 * checked in constant time before its body is read. Binding the provider
 * means an attempt placed with Twilio cannot be reported on the exotel
 * route (which has no signature to check). Whoever can read one attempt's
 * URL can still report that attempt (Exotel signs nothing): the exposure of
 * a leaked URL is one call, not every live call.
 *
 * Pure; any thread.
 */
#ifndef RD_CBAUTH_H
#define RD_CBAUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/callback.h"

#define RD_CBAUTH_LEN 32 /* hex characters of h= */

/* Writes the MAC (RD_CBAUTH_LEN chars + NUL). Returns 0, RD_EINVAL (empty secret) or RD_EIO. */
int rd_cbauth_sign(const char *secret, size_t secret_len, rd_prov_t provider, const char *key,
                   size_t key_len, char out[RD_CBAUTH_LEN + 1]);
/* True when mac is the MAC of (provider, key); the compare takes constant time. */
bool rd_cbauth_ok(const char *secret, size_t secret_len, rd_prov_t provider, const char *key,
                  size_t key_len, const char *mac, size_t mac_len);

#endif
