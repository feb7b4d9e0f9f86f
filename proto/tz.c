/*
 * tz.c — IANA time zones (see tz.h).
 */
#include "proto/tz.h"

#include <string.h>

bool rd_tz_name_valid(const char *name) {
    size_t len = strlen(name);
    if (len == 0 || len > 64 || name[0] == '/') return false;
    const char *comp = name;
    for (size_t i = 0; i <= len; i++) {
        char ch = name[i];
        if (ch == '/' || ch == '\0') {
            size_t n = (size_t)(name + i - comp);
            if (n == 0 || (n == 1 && comp[0] == '.') || (n == 2 && comp[0] == '.' && comp[1] == '.'))
                return false;
            comp = name + i + 1;
            continue;
        }
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '+' || ch == '.'))
            return false;
    }
    return true;
}
