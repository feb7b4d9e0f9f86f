/*
 * Unit tests: time zones (proto/tz.c). Reference instants were computed
 * independently (CPython zoneinfo over the same tzdata); the libc cross-check
 * compares thousands of instants with glibc's localtime_r (the test may touch
 * libc TZ state; the library never does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proto/campaign.h"
#include "proto/policy.h"
#include "proto/rd.h"
#include "proto/tz.h"
#include "tests/lib/proc.h"

static const rd_tz_t *zone(const char *name) {
    const rd_tz_t *z = rd_tz_get(name);
    if (!z) fail_msg("zone %s did not load", name);
    return z;
}

static void expect_local(const rd_tz_t *z, int64_t utc_s, int y, int mo, int d, int h, int mi,
                         int off) {
    rd_localtime_t lt;
    rd_tz_local(z, utc_s * 1000, &lt);
    if (lt.year != y || lt.month != mo || lt.day != d || lt.hour != h || lt.minute != mi ||
        lt.utc_offset_s != off)
        fail_msg("%s @%lld: got %04d-%02d-%02d %02d:%02d %+d, want %04d-%02d-%02d %02d:%02d %+d",
                 rd_tz_name(z), (long long)utc_s, lt.year, lt.month, lt.day, lt.hour, lt.minute,
                 lt.utc_offset_s, y, mo, d, h, mi, off);
}

static void t_new_york_2026(void **state) {
    (void)state;
    const rd_tz_t *ny = zone("America/New_York");
    /* Spring forward, Sunday 2026-03-08: 01:59 EST, then 03:00 EDT. */
    expect_local(ny, 1772953140, 2026, 3, 8, 1, 59, -18000);
    expect_local(ny, 1772953199, 2026, 3, 8, 1, 59, -18000);
    expect_local(ny, 1772953200, 2026, 3, 8, 3, 0, -14400);
    assert_int_equal(rd_tz_from_local(ny, 2026, 3, 8, 1, 59), 1772953140000LL);
    /* 02:00..02:59 do not exist: the first instant after the gap. */
    assert_int_equal(rd_tz_from_local(ny, 2026, 3, 8, 2, 0), 1772953200000LL);
    assert_int_equal(rd_tz_from_local(ny, 2026, 3, 8, 2, 30), 1772953200000LL);
    assert_int_equal(rd_tz_from_local(ny, 2026, 3, 8, 3, 0), 1772953200000LL);
    /* Fall back, Sunday 2026-11-01: 01:30 happens twice; the earlier (EDT) wins. */
    assert_int_equal(rd_tz_from_local(ny, 2026, 11, 1, 1, 30), 1793511000000LL);
    expect_local(ny, 1793511000, 2026, 11, 1, 1, 30, -14400);
    expect_local(ny, 1793514600, 2026, 11, 1, 1, 30, -18000);
    assert_int_equal(rd_tz_from_local(ny, 2026, 11, 1, 2, 0), 1793516400000LL);
    rd_localtime_t lt;
    rd_tz_local(ny, 1793511000000LL, &lt);
    assert_int_equal(lt.wday, 0); /* Sunday */
}

static void t_kolkata(void **state) {
    (void)state;
    const rd_tz_t *k = zone("Asia/Kolkata");
    expect_local(k, 1796099400, 2026, 12, 1, 10, 0, 19800);
    assert_int_equal(rd_tz_from_local(k, 2026, 12, 1, 10, 0), 1796099400000LL);
    expect_local(k, 4102444800LL + 86400 * 365 * 30, 2129, 12, 25, 5, 30, 19800);
}

static void t_lord_howe_and_london(void **state) {
    (void)state;
    const rd_tz_t *lh = zone("Australia/Lord_Howe");
    /* Half-hour DST: 02:00 +10:30 becomes 02:30 +11. */
    expect_local(lh, 1791041340, 2026, 10, 4, 1, 59, 37800);
    expect_local(lh, 1791041400, 2026, 10, 4, 2, 30, 39600);
    assert_int_equal(rd_tz_from_local(lh, 2026, 10, 4, 2, 10), 1791041400000LL);
    /* Back to +10:30 in April: 01:30..02:00 happens twice. */
    assert_int_equal(rd_tz_from_local(lh, 2027, 4, 4, 1, 30), 1806762600000LL);
    expect_local(lh, 1806764400, 2027, 4, 4, 1, 30, 37800);
    const rd_tz_t *lon = zone("Europe/London");
    int64_t t = rd_tz_from_local(lon, 2026, 3, 29, 1, 30) / 1000; /* gap 01:00..02:00 */
    expect_local(lon, t, 2026, 3, 29, 2, 0, 3600);
    expect_local(lon, t - 1, 2026, 3, 29, 0, 59, 0);
}

static void t_footer_far_future(void **state) {
    (void)state;
    /* Past the files' last transition (2037): only the POSIX footer knows. */
    const rd_tz_t *ny = zone("America/New_York");
    assert_int_equal(rd_tz_from_local(ny, 2100, 7, 4, 12, 0), 4118400000000LL);
    assert_int_equal(rd_tz_from_local(ny, 2400, 12, 25, 9, 0), 13600533600000LL);
    expect_local(ny, 13600533600LL, 2400, 12, 25, 9, 0, -18000);
    assert_int_equal(rd_tz_from_local(zone("Australia/Lord_Howe"), 2200, 1, 1, 9, 0),
                     7258111200000LL);
    /* Nuuk: <-02>2<-01>,M3.5.0/-1,M10.5.0/0 — a negative transition time. */
    const rd_tz_t *nuuk = zone("America/Nuuk");
    expect_local(nuuk, 1901149199, 2030, 3, 30, 22, 59, -7200);
    expect_local(nuuk, 1901149200, 2030, 3, 31, 0, 0, -3600);
    int64_t end = 1919293200; /* 2030-10-27T01:00:00Z */
    expect_local(nuuk, end - 1, 2030, 10, 26, 23, 59, -3600);
    expect_local(nuuk, end, 2030, 10, 26, 23, 0, -7200);
}

/* Thousands of instants, 1900..2200, against glibc's reading of the same files. */
static void t_libc_cross_check(void **state) {
    (void)state;
    static const char *zones[] = {"America/New_York",  "Europe/London",     "Australia/Lord_Howe",
                                  "America/Sao_Paulo", "Asia/Kolkata",      "Pacific/Chatham",
                                  "America/Nuuk",      "Africa/Casablanca", "America/St_Johns",
                                  "Asia/Tehran"};
    uint64_t x = 88172645463325252ULL;
    for (size_t zi = 0; zi < RD_ARRAY_LEN(zones); zi++) {
        const rd_tz_t *z = zone(zones[zi]);
        setenv("TZ", zones[zi], 1);
        tzset();
        for (int i = 0; i < 3000; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int64_t t = -2208988800LL + (int64_t)(x % (7258118400ULL + 2208988800ULL));
            time_t tt = (time_t)t;
            struct tm tm;
            localtime_r(&tt, &tm);
            rd_localtime_t lt;
            rd_tz_local(z, t * 1000, &lt);
            if (lt.utc_offset_s != tm.tm_gmtoff || lt.hour != tm.tm_hour || lt.day != tm.tm_mday ||
                lt.wday != tm.tm_wday || lt.year != tm.tm_year + 1900)
                fail_msg("%s @%lld: %d-%02d-%02d %02d:%02d %+d vs libc %d-%02d-%02d %02d:%02d %+ld",
                         zones[zi], (long long)t, lt.year, lt.month, lt.day, lt.hour, lt.minute,
                         lt.utc_offset_s, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                         tm.tm_min, tm.tm_gmtoff);
            /* Local -> UTC maps back to the same wall clock (or past a gap). */
            int64_t back = rd_tz_from_local(z, lt.year, lt.month, lt.day, lt.hour, lt.minute);
            rd_localtime_t lb;
            rd_tz_local(z, back, &lb);
            assert_int_equal(lb.hour * 60 + lb.minute, lt.hour * 60 + lt.minute);
            assert_true(back <= t * 1000); /* the earlier reading of a fold */
        }
    }
    unsetenv("TZ");
}

static void write_file(const char *path, const void *buf, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
}

/* A private TZDIR: a v1-only file, a truncated file, garbage, a link escape. */
static void t_tzdir_files(void **state) {
    (void)state;
    FILE *f = fopen("/usr/share/zoneinfo/America/New_York", "rb");
    assert_non_null(f);
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    char dir[] = "/tmp/rd_tz_XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/Test", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    /* v1: the first header and its 32-bit block only, version byte 0. */
    uint32_t cnt[6];
    for (int i = 0; i < 6; i++)
        cnt[i] = (uint32_t)buf[20 + 4 * i] << 24 | (uint32_t)buf[21 + 4 * i] << 16 |
                 (uint32_t)buf[22 + 4 * i] << 8 | buf[23 + 4 * i];
    size_t v1 = 44 + cnt[3] * 5 + cnt[4] * 6 + cnt[5] + cnt[2] * 8 + cnt[1] + cnt[0];
    buf[4] = 0;
    snprintf(path, sizeof path, "%s/Test/V1", dir);
    write_file(path, buf, v1);
    buf[4] = '2';
    snprintf(path, sizeof path, "%s/Test/Trunc", dir);
    write_file(path, buf, n - 200);
    snprintf(path, sizeof path, "%s/Test/Junk", dir);
    write_file(path, "TZif2 but not really", 20);
    setenv("TZDIR", dir, 1);
    const rd_tz_t *v = rd_tz_get("Test/V1"), *ny = zone("America/New_York");
    assert_non_null(v);
    assert_null(rd_tz_get("Test/Trunc"));
    assert_null(rd_tz_get("Test/Junk"));
    assert_null(rd_tz_get("Test")); /* a directory */
    assert_null(rd_tz_get("Nope/Zone"));
    assert_non_null(rd_tz_get("UTC")); /* always, even with no file */
    unsetenv("TZDIR");
    /* The v1 table agrees with the v2 zone inside 32-bit time. */
    for (int64_t t = 0; t < 2000000000; t += 3600 * 24 * 7 + 1234) {
        rd_localtime_t a, b;
        rd_tz_local(v, t * 1000, &a);
        rd_tz_local(ny, t * 1000, &b);
        assert_int_equal(a.utc_offset_s, b.utc_offset_s);
    }
    static const char *names[] = {"V1", "Trunc", "Junk"};
    for (size_t i = 0; i < RD_ARRAY_LEN(names); i++) {
        snprintf(path, sizeof path, "%s/Test/%s", dir, names[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/Test", dir);
    rmdir(path);
    rmdir(dir);
}

static void t_names(void **state) {
    (void)state;
    assert_true(rd_tz_name_valid("America/Argentina/Buenos_Aires"));
    assert_true(rd_tz_name_valid("Etc/GMT+5"));
    assert_true(rd_tz_name_valid("UTC"));
    static const char *bad[] = {
        "",      "/etc/passwd", "../etc/passwd", "Asia/../../x", "Asia//Tokyo",
        "Asia/", "./UTC",       "Asia/To kyo",   "Asia/Tokyo\n"};
    for (size_t i = 0; i < RD_ARRAY_LEN(bad); i++) {
        assert_false(rd_tz_name_valid(bad[i]));
        assert_null(rd_tz_get(bad[i]));
    }
    assert_string_equal(rd_tz_name(zone("Asia/Kolkata")), "Asia/Kolkata");
    assert_ptr_equal(zone("Asia/Kolkata"), zone("Asia/Kolkata")); /* cached */
}

static void t_numbers(void **state) {
    (void)state;
    static const struct {
        const char *num, *zone;
    } cases[] = {
        {"+919876543210", "Asia/Kolkata"},       {"+12125550123", "America/New_York"},
        {"+14155550123", "America/Los_Angeles"}, {"+13125550123", "America/Chicago"},
        {"+17135550123", "America/Chicago"},     {"+13035550123", "America/Denver"},
        {"+16025550123", "America/Phoenix"},     {"+19075550123", "America/Anchorage"},
        {"+18085550123", "Pacific/Honolulu"},    {"+14165550123", "America/Toronto"},
        {"+16045550123", "America/Vancouver"},   {"+17875550123", "America/Puerto_Rico"},
        {"+18765550123", "America/Jamaica"},     {"+447911123456", "Europe/London"},
        {"+4915112345678", "Europe/Berlin"},     {"+61412345678", "Australia/Sydney"},
        {"+5511912345678", "America/Sao_Paulo"}, {"+79161234567", "Europe/Moscow"},
        {"+77011234567", "Asia/Almaty"},         {"+8613812345678", "Asia/Shanghai"},
        {"+81312345678", "Asia/Tokyo"},          {"+971501234567", "Asia/Dubai"},
        {"+2348012345678", "Africa/Lagos"},      {"+6591234567", "Asia/Singapore"},
        {"+19995550123", "America/New_York"}, /* unknown area code: the +1 default */
    };
    for (size_t i = 0; i < RD_ARRAY_LEN(cases); i++) {
        const char *z = rd_tz_for_number(cases[i].num);
        if (!z || strcmp(z, cases[i].zone) != 0)
            fail_msg("%s -> %s, want %s", cases[i].num, z ? z : "NULL", cases[i].zone);
        assert_non_null(rd_tz_get(z)); /* every answer loads */
    }
    assert_null(rd_tz_for_number("+80012345678")); /* international freephone */
    assert_null(rd_tz_for_number("919876543210"));
    assert_null(rd_tz_for_number(""));
    assert_null(rd_tz_for_number(NULL));
}

/* Many threads loading and reading zones at once: one zone object per name (TSan). */
static const char *const race_zones[] = {"Europe/Paris",   "Asia/Tokyo",       "America/Chicago",
                                         "Africa/Nairobi", "Pacific/Auckland", "Asia/Kolkata"};

static void *race(void *arg) {
    uintptr_t k = (uintptr_t)arg;
    for (int i = 0; i < 2000; i++) {
        const rd_tz_t *z = rd_tz_get(race_zones[(k + (uintptr_t)i) % RD_ARRAY_LEN(race_zones)]);
        if (!z) return (void *)1;
        rd_localtime_t lt;
        rd_tz_local(z, 1796099400000LL + i * 3600000LL, &lt);
    }
    return NULL;
}

static void t_threads(void **state) {
    (void)state;
    pthread_t th[8];
    for (uintptr_t i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race, (void *)i), 0);
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(th[i], &r);
        assert_null(r);
    }
    for (size_t i = 0; i < RD_ARRAY_LEN(race_zones); i++)
        assert_ptr_equal(rd_tz_get(race_zones[i]), rd_tz_get(race_zones[i]));
}

/* Out of descriptors is not "no such zone": the lookup says so, and a later one succeeds. */
static void t_emfile_not_a_verdict(void **state) {
    (void)state;
    const rd_tz_t *z = (const rd_tz_t *)1;
    rd_test_fds_t fds;
    rd_test_fds_exhaust(&fds);
    int rc = rd_tz_lookup("America/Argentina/Ushuaia", &z);
    int bogus = rd_tz_lookup("Mars/Olympus_Mons", &z);
    rd_test_fds_release(&fds);
    assert_int_equal(rc, RD_ETRANSIENT);
    assert_int_equal(bogus, RD_ETRANSIENT); /* unknowable while out of descriptors */
    assert_null(z);
    assert_int_equal(rd_tz_lookup("America/Argentina/Ushuaia", &z), 0);
    assert_non_null(z);
    assert_int_equal(rd_tz_lookup("Mars/Olympus_Mons", &z), RD_ENOTFOUND);
    assert_int_equal(rd_tz_lookup("../etc/passwd", &z), RD_ENOTFOUND);
    assert_int_equal(rd_tz_lookup("Asia", &z), RD_ENOTFOUND); /* a directory, not a zone */
}

/* The policy's zone choice: a callee zone unreadable for lack of descriptors
   is "not now", never the campaign's zone (which would check the calling
   window on the wrong clock: 9 PM in Kolkata is 10:30 AM in Lima). */
static void t_policy_zone_no_fallback(void **state) {
    (void)state;
    rd_campaign_t c;
    memset(&c, 0, sizeof c);
    c.timezone = "Asia/Kolkata";
    c.callee_local_time = true;
    assert_non_null(rd_tz_get("Asia/Kolkata")); /* cached: the fallback would be at hand */
    assert_non_null(rd_tz_get("UTC"));
    rd_test_fds_t fds;
    rd_test_fds_exhaust(&fds);
    const rd_tz_t *lima = rd_policy_zone(&c, NULL, "+5114567890");
    const rd_tz_t *job = rd_policy_zone(&c, "Atlantic/Stanley", "+919800000001");
    const rd_tz_t *camp = rd_policy_zone(&c, NULL, "+919800000001");
    rd_test_fds_release(&fds);
    assert_null(lima);
    assert_null(job);
    assert_non_null(camp); /* the zone it chooses is cached: usable */
    assert_string_equal(rd_tz_name(camp), "Asia/Kolkata");
    assert_string_equal(rd_tz_name(rd_policy_zone(&c, NULL, "+5114567890")), "America/Lima");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_new_york_2026),
        cmocka_unit_test(t_kolkata),
        cmocka_unit_test(t_lord_howe_and_london),
        cmocka_unit_test(t_footer_far_future),
        cmocka_unit_test(t_libc_cross_check),
        cmocka_unit_test(t_tzdir_files),
        cmocka_unit_test(t_names),
        cmocka_unit_test(t_numbers),
        cmocka_unit_test(t_threads),
        cmocka_unit_test(t_emfile_not_a_verdict),
        cmocka_unit_test(t_policy_zone_no_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
