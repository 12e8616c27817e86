/*  tzdb.h - the IANA time zones, read once from the system's tz database
    (TZif files under /usr/share/zoneinfo, RFC 8536) into tables of UTC
    offsets, so turning an instant into local time is a binary search in
    memory: no TZ environment variable, no localtime_r, no lock, nothing read
    after loading. A loaded database is read-only and may be shared by any
    number of threads.

    Each zone keeps its transitions (seconds since the epoch, the UTC offset
    from each on) and the POSIX TZ rule of the file's footer for instants
    after the last transition (tzdata built "slim" stops in the present;
    "fat" files stop in 2037). Leap seconds are ignored (POSIX time).

    The database owns its zones; dt_tzdb_destroy frees them. "UTC" is always
    present, even in a database loaded from nothing.
*/
#ifndef DT_TZDB_H
#define DT_TZDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _dt_tzdb_t dt_tzdb_t;
typedef struct _dt_zone_t dt_zone_t;

#define DT_TZDB_DIR         "/usr/share/zoneinfo"
#define DT_ZONE_NAME_MAX    63

//  An empty database: only UTC
dt_tzdb_t *dt_tzdb_new (void);

//  Destroy it and null the caller's pointer; safe on NULL
void dt_tzdb_destroy (dt_tzdb_t **self_p);

//  Read every TZif file under dir (zone names are paths below it, like
//  "Europe/Berlin"; the posix/ and right/ copies are skipped). Returns the
//  number of zones added, or -1 with a sentence in err if dir cannot be read.
int dt_tzdb_load_dir (dt_tzdb_t *self, const char *dir, char *err, size_t errlen);

//  Add one zone from the bytes of a TZif file (pure: no I/O). A name already
//  present is replaced. Returns 0, or -1 with a sentence in err.
int dt_tzdb_add (dt_tzdb_t *self, const char *name, const uint8_t *data, size_t len,
                 char *err, size_t errlen);

//  The zone with exactly that name (len bytes, need not end in NUL), or NULL
const dt_zone_t *dt_tzdb_find (const dt_tzdb_t *self, const char *name, size_t len);

//  The UTC zone
const dt_zone_t *dt_tzdb_utc (const dt_tzdb_t *self);

size_t dt_tzdb_count (const dt_tzdb_t *self);

//  Bytes the tables take
size_t dt_tzdb_bytes (const dt_tzdb_t *self);

const char *dt_zone_name (const dt_zone_t *zone);

//  The UTC offset in ms (local = UTC + offset) at instant ms (since the
//  epoch, UTC). from and to (either may be NULL) receive the range of
//  instants [from, to) over which that offset holds, so a caller converting
//  many nearby instants can keep it and skip the search.
int64_t dt_zone_offset (const dt_zone_t *zone, int64_t ms, int64_t *from, int64_t *to);

//  Day count since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
//  days_from_civil; the inverse of calendar.h's dt_civil_from_days)
int64_t dt_days_from_civil (int64_t year, int month, int day);

#endif
