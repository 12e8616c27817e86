/*  tzdb.c - IANA time zones from TZif files, as tables of UTC offsets (see
    tzdb.h). Parsing is pure; dt_tzdb_load_dir is the only function that
    reads files.

    Why not libc: localtime_r needs TZ set in the environment for each zone
    (setenv + tzset: global state, a lock, not thread-safe, and a file read
    the first time), which the rule engine, judging a million touchpoints a
    second across many zones, cannot pay. A binary search over a zone's
    transitions costs a few dozen nanoseconds, and callers keep the range an
    offset holds for, so most conversions skip even that.
*/
#include "base/tzdb.h"
#include "base/calendar.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

//  One rule of a POSIX TZ string: a day in the year and a local time
typedef struct {
    char kind;                  //  'M' (month.week.day), 'J' (1..365 no Feb 29), 'n' (0..365)
    int month, week, wday, yday;
    int32_t time;               //  seconds after local midnight (may be < 0 or > 24h)
} tz_rule_t;

struct _dt_zone_t {
    char name [DT_ZONE_NAME_MAX + 1];
    int32_t count;              //  transitions
    int64_t *at;                //  seconds since the epoch, ascending
    int32_t *off;               //  UTC offset in seconds from each transition on
    int32_t initial;            //  offset before the first transition
    bool has_footer;            //  the POSIX rule after the last transition
    bool has_dst;
    int32_t std_off, dst_off;   //  seconds east of UTC
    tz_rule_t start, end;       //  of daylight saving time, in local time
};

struct _dt_tzdb_t {
    dt_zone_t **zones;          //  sorted by name
    size_t count, alloc;
    size_t bytes;
};

//  --------------------------------------------------------------------------
//  Calendar

int64_t
dt_days_from_civil (int64_t year, int month, int day)
{
    year -= month <= 2;
    int64_t era = (year >= 0? year: year - 399) / 400;
    int64_t yoe = year - era * 400;
    int64_t doy = (153 * (month > 2? month - 3: month + 9) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool
s_leap (int64_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
s_month_days (int64_t year, int month)
{
    static const int days [12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return month == 2 && s_leap (year)? 29: days [month - 1];
}

static int64_t
s_floor_div (int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

//  The instant (seconds, UTC) a rule names in a year, for a zone whose
//  offset just before it is off
static int64_t
s_rule_at (const tz_rule_t *rule, int64_t year, int32_t off)
{
    int64_t day;
    if (rule->kind == 'J')
        day = dt_days_from_civil (year, 1, 1) + rule->yday - 1
            + (s_leap (year) && rule->yday >= 60);
    else
    if (rule->kind == 'n')
        day = dt_days_from_civil (year, 1, 1) + rule->yday;
    else {
        int64_t first = dt_days_from_civil (year, rule->month, 1);
        int wday_first = (int) (((first % 7) + 7 + 4) % 7);     //  1970-01-01 was a Thursday
        day = first + (rule->wday - wday_first + 7) % 7 + (rule->week - 1) * 7;
        while (day >= first + s_month_days (year, rule->month))
            day -= 7;
    }
    return day * 86400 + rule->time - off;
}

//  --------------------------------------------------------------------------
//  Parsing: the POSIX TZ string of a TZif footer

static const char *
s_tz_name (const char *p)
{
    if (*p == '<') {
        while (*p && *p != '>')
            p++;
        return *p == '>'? p + 1: NULL;
    }
    const char *start = p;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
        p++;
    return p - start >= 3? p: NULL;
}

//  [+-]h[h[h]][:mm[:ss]] in seconds; max_hours bounds the hours
static const char *
s_tz_time (const char *p, int max_hours, int32_t *out)
{
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-'? -1: 1;
    if (*p < '0' || *p > '9')
        return NULL;
    int hours = 0, minutes = 0, seconds = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && digits++ < 3)
        hours = hours * 10 + (*p++ - '0');
    if (hours > max_hours)
        return NULL;
    if (*p == ':') {
        p++;
        if (p [0] < '0' || p [0] > '5' || p [1] < '0' || p [1] > '9')
            return NULL;
        minutes = (p [0] - '0') * 10 + p [1] - '0';
        p += 2;
        if (*p == ':') {
            p++;
            if (p [0] < '0' || p [0] > '5' || p [1] < '0' || p [1] > '9')
                return NULL;
            seconds = (p [0] - '0') * 10 + p [1] - '0';
            p += 2;
        }
    }
    *out = sign * (hours * 3600 + minutes * 60 + seconds);
    return p;
}

static const char *
s_tz_number (const char *p, int low, int high, int *out)
{
    if (*p < '0' || *p > '9')
        return NULL;
    int value = 0;
    while (*p >= '0' && *p <= '9' && value <= high)
        value = value * 10 + (*p++ - '0');
    if (value < low || value > high)
        return NULL;
    *out = value;
    return p;
}

static const char *
s_tz_rule (const char *p, tz_rule_t *rule)
{
    memset (rule, 0, sizeof *rule);
    if (*p == 'M') {
        rule->kind = 'M';
        if (!(p = s_tz_number (p + 1, 1, 12, &rule->month)) || *p++ != '.'
        ||  !(p = s_tz_number (p, 1, 5, &rule->week)) || *p++ != '.'
        ||  !(p = s_tz_number (p, 0, 6, &rule->wday)))
            return NULL;
    }
    else
    if (*p == 'J') {
        rule->kind = 'J';
        if (!(p = s_tz_number (p + 1, 1, 365, &rule->yday)))
            return NULL;
    }
    else {
        rule->kind = 'n';
        if (!(p = s_tz_number (p, 0, 365, &rule->yday)))
            return NULL;
    }
    rule->time = 7200;
    if (*p == '/' && !(p = s_tz_time (p + 1, 167, &rule->time)))
        return NULL;
    return p;
}

//  "CET-1CEST,M3.5.0,M10.5.0/3": 0 or -1
static int
s_tz_string (dt_zone_t *zone, const char *p)
{
    int32_t value;
    if (!(p = s_tz_name (p)) || !(p = s_tz_time (p, 24, &value)))
        return -1;
    zone->std_off = -value;         //  POSIX counts hours west of UTC
    zone->dst_off = zone->std_off;
    zone->has_dst = false;
    if (*p) {
        if (!(p = s_tz_name (p)))
            return -1;
        zone->dst_off = zone->std_off + 3600;
        if (*p && *p != ',') {
            if (!(p = s_tz_time (p, 24, &value)))
                return -1;
            zone->dst_off = -value;
        }
        if (*p != ',' || !(p = s_tz_rule (p + 1, &zone->start))
        ||  *p != ',' || !(p = s_tz_rule (p + 1, &zone->end)))
            return -1;
        zone->has_dst = true;
    }
    return *p? -1: 0;
}

//  --------------------------------------------------------------------------
//  Parsing: TZif

static uint32_t
s_be32 (const uint8_t *p)
{
    return (uint32_t) p [0] << 24 | (uint32_t) p [1] << 16 | (uint32_t) p [2] << 8 | p [3];
}

static int64_t
s_be64 (const uint8_t *p)
{
    return (int64_t) ((uint64_t) s_be32 (p) << 32 | s_be32 (p + 4));
}

static void
s_zone_free (dt_zone_t *zone)
{
    if (zone) {
        free (zone->at);
        free (zone->off);
        free (zone);
    }
}

//  Read the header and data block at data [*pos], with times of size
//  width (4 for version 1, 8 after); on success *pos is past the block
static int
s_tzif_block (dt_zone_t *zone, const uint8_t *data, size_t len, size_t *pos, int width,
              bool keep, char *err, size_t errlen)
{
    const uint8_t *h = data + *pos;
    if (len - *pos < 44 || memcmp (h, "TZif", 4) != 0) {
        snprintf (err, errlen, "not a TZif file (no TZif header at byte %zu)", *pos);
        return -1;
    }
    uint32_t isutcnt = s_be32 (h + 20), isstdcnt = s_be32 (h + 24), leapcnt = s_be32 (h + 28),
             timecnt = s_be32 (h + 32), typecnt = s_be32 (h + 36), charcnt = s_be32 (h + 40);
    if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || leapcnt > 10000
    ||  charcnt > 100000 || isutcnt > 256 || isstdcnt > 256) {
        snprintf (err, errlen, "TZif header counts out of range");
        return -1;
    }
    size_t need = (size_t) timecnt * (size_t) (width + 1) + typecnt * 6 + charcnt
                + leapcnt * (size_t) (width + 4) + isstdcnt + isutcnt;
    if (len - *pos - 44 < need) {
        snprintf (err, errlen, "TZif data cut short");
        return -1;
    }
    const uint8_t *times = h + 44, *idx = times + (size_t) timecnt * (size_t) width,
                  *types = idx + timecnt;
    *pos += 44 + need;
    if (!keep)
        return 0;
    for (uint32_t i = 0; i < timecnt; i++)
        if (idx [i] >= typecnt) {
            snprintf (err, errlen, "TZif transition %u names time type %u of %u", i,
                      idx [i], typecnt);
            return -1;
        }
    zone->at = (int64_t *) malloc ((timecnt? timecnt: 1) * sizeof (int64_t));
    zone->off = (int32_t *) malloc ((timecnt? timecnt: 1) * sizeof (int32_t));
    if (!zone->at || !zone->off) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < timecnt; i++) {
        int64_t at = width == 8? s_be64 (times + 8 * i): (int32_t) s_be32 (times + 4 * i);
        if (i > 0 && at <= zone->at [i - 1]) {
            snprintf (err, errlen, "TZif transitions out of order at %u", i);
            return -1;
        }
        zone->at [i] = at;
        zone->off [i] = (int32_t) s_be32 (types + 6 * idx [i]);
    }
    zone->count = (int32_t) timecnt;
    zone->initial = (int32_t) s_be32 (types);
    for (uint32_t i = 0; i < typecnt; i++) {
        int32_t off = (int32_t) s_be32 (types + 6 * i);
        if (off < -26 * 3600 || off > 26 * 3600) {
            snprintf (err, errlen, "TZif time type %u has offset %d s", i, off);
            return -1;
        }
    }
    return 0;
}

static dt_zone_t *
s_zone_parse (const char *name, const uint8_t *data, size_t len, char *err, size_t errlen)
{
    if (strlen (name) > DT_ZONE_NAME_MAX || !*name) {
        snprintf (err, errlen, "zone name empty or longer than %d bytes", DT_ZONE_NAME_MAX);
        return NULL;
    }
    dt_zone_t *zone = (dt_zone_t *) calloc (1, sizeof (dt_zone_t));
    if (!zone) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    snprintf (zone->name, sizeof zone->name, "%s", name);
    size_t pos = 0;
    int version = len > 4? data [4]: 0;
    int rc;
    if (version == 0)
        rc = s_tzif_block (zone, data, len, &pos, 4, true, err, errlen);
    else
        rc = s_tzif_block (zone, data, len, &pos, 4, false, err, errlen)
          || s_tzif_block (zone, data, len, &pos, 8, true, err, errlen);
    if (rc) {
        s_zone_free (zone);
        return NULL;
    }
    //  The footer: "\n<POSIX TZ string>\n"
    if (version != 0 && pos < len && data [pos] == '\n') {
        const uint8_t *end = memchr (data + pos + 1, '\n', len - pos - 1);
        if (end && end > data + pos + 1 && end - data - pos < 128) {
            char text [128];
            size_t text_len = (size_t) (end - data) - pos - 1;
            memcpy (text, data + pos + 1, text_len);
            text [text_len] = 0;
            if (s_tz_string (zone, text) == 0)
                zone->has_footer = true;
            else {
                snprintf (err, errlen, "TZif footer '%s' is not a TZ string this reader knows",
                          text);
                s_zone_free (zone);
                return NULL;
            }
        }
    }
    return zone;
}

//  --------------------------------------------------------------------------
//  The database

static int
s_zone_cmp (const char *name, size_t len, const dt_zone_t *zone)
{
    int rc = strncmp (name, zone->name, len);
    if (rc)
        return rc;
    return zone->name [len]? -1: 0;
}

//  Where name is, or would go
static size_t
s_search (const dt_tzdb_t *self, const char *name, size_t len, bool *found)
{
    size_t low = 0, high = self->count;
    while (low < high) {
        size_t mid = (low + high) / 2;
        int rc = s_zone_cmp (name, len, self->zones [mid]);
        if (rc == 0) {
            *found = true;
            return mid;
        }
        if (rc < 0)
            high = mid;
        else
            low = mid + 1;
    }
    *found = false;
    return low;
}

static int
s_insert (dt_tzdb_t *self, dt_zone_t *zone, char *err, size_t errlen)
{
    bool found;
    size_t at = s_search (self, zone->name, strlen (zone->name), &found);
    size_t bytes = sizeof *zone + (size_t) zone->count * (sizeof (int64_t) + sizeof (int32_t));
    if (found) {
        self->bytes -= sizeof *self->zones [at]
                     + (size_t) self->zones [at]->count * (sizeof (int64_t) + sizeof (int32_t));
        s_zone_free (self->zones [at]);
        self->zones [at] = zone;
        self->bytes += bytes;
        return 0;
    }
    if (self->count == self->alloc) {
        size_t alloc = self->alloc? self->alloc * 2: 64;
        dt_zone_t **zones = (dt_zone_t **) realloc (self->zones, alloc * sizeof *zones);
        if (!zones) {
            snprintf (err, errlen, "out of memory");
            s_zone_free (zone);
            return -1;
        }
        self->zones = zones;
        self->alloc = alloc;
    }
    memmove (self->zones + at + 1, self->zones + at, (self->count - at) * sizeof *self->zones);
    self->zones [at] = zone;
    self->count++;
    self->bytes += bytes;
    return 0;
}

dt_tzdb_t *
dt_tzdb_new (void)
{
    dt_tzdb_t *self = (dt_tzdb_t *) calloc (1, sizeof (dt_tzdb_t));
    if (!self)
        return NULL;
    dt_zone_t *utc = (dt_zone_t *) calloc (1, sizeof (dt_zone_t));
    char err [64];
    if (!utc || s_insert (self, utc, err, sizeof err)) {
        free (self);
        return NULL;
    }
    strcpy (utc->name, "UTC");
    return self;
}

void
dt_tzdb_destroy (dt_tzdb_t **self_p)
{
    assert (self_p);
    dt_tzdb_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        s_zone_free (self->zones [i]);
    free (self->zones);
    free (self);
    *self_p = NULL;
}

int
dt_tzdb_add (dt_tzdb_t *self, const char *name, const uint8_t *data, size_t len,
             char *err, size_t errlen)
{
    assert (self);
    dt_zone_t *zone = s_zone_parse (name, data, len, err, errlen);
    return zone? s_insert (self, zone, err, errlen): -1;
}

//  Walk dir/prefix, adding every TZif file; depth bounds the recursion
static int
s_load (dt_tzdb_t *self, const char *dir, const char *prefix, int depth)
{
    char path [1024];
    snprintf (path, sizeof path, "%s%s%s", dir, *prefix? "/": "", prefix);
    DIR *handle = opendir (path);
    if (!handle)
        return 0;
    int added = 0;
    struct dirent *entry;
    while ((entry = readdir (handle))) {
        const char *base = entry->d_name;
        //  Dots: ., .., zone.tab and the like; posix/ and right/ repeat the zones
        if (strchr (base, '.') || (!*prefix && (strcmp (base, "posix") == 0
                                             || strcmp (base, "right") == 0
                                             || strcmp (base, "posixrules") == 0
                                             || strcmp (base, "localtime") == 0)))
            continue;
        char name [DT_ZONE_NAME_MAX + 1];
        if (snprintf (name, sizeof name, "%s%s%s", prefix, *prefix? "/": "", base)
                >= (int) sizeof name)
            continue;
        snprintf (path, sizeof path, "%s/%s", dir, name);
        struct stat st;
        if (stat (path, &st))
            continue;
        if (S_ISDIR (st.st_mode)) {
            if (depth < 3)
                added += s_load (self, dir, name, depth + 1);
            continue;
        }
        if (!S_ISREG (st.st_mode) || st.st_size < 44 || st.st_size > 1 << 20)
            continue;
        FILE *file = fopen (path, "rb");
        if (!file)
            continue;
        uint8_t *data = (uint8_t *) malloc ((size_t) st.st_size);
        size_t got = data? fread (data, 1, (size_t) st.st_size, file): 0;
        fclose (file);
        char err [256];
        if (got == (size_t) st.st_size && memcmp (data, "TZif", 4) == 0
        &&  dt_tzdb_add (self, name, data, got, err, sizeof err) == 0)
            added++;
        free (data);
    }
    closedir (handle);
    return added;
}

int
dt_tzdb_load_dir (dt_tzdb_t *self, const char *dir, char *err, size_t errlen)
{
    assert (self);
    DIR *handle = opendir (dir);
    if (!handle) {
        snprintf (err, errlen, "cannot read the tz database %s: %s", dir, strerror (errno));
        return -1;
    }
    closedir (handle);
    return s_load (self, dir, "", 0);
}

const dt_zone_t *
dt_tzdb_find (const dt_tzdb_t *self, const char *name, size_t len)
{
    if (!self || len == 0 || len > DT_ZONE_NAME_MAX)
        return NULL;
    bool found;
    size_t at = s_search (self, name, len, &found);
    return found? self->zones [at]: NULL;
}

const dt_zone_t *
dt_tzdb_utc (const dt_tzdb_t *self)
{
    return dt_tzdb_find (self, "UTC", 3);
}

size_t
dt_tzdb_count (const dt_tzdb_t *self)
{
    return self->count;
}

size_t
dt_tzdb_bytes (const dt_tzdb_t *self)
{
    return self->bytes + self->alloc * sizeof (dt_zone_t *) + sizeof *self;
}

const char *
dt_zone_name (const dt_zone_t *zone)
{
    return zone->name;
}

//  --------------------------------------------------------------------------
//  Lookup

//  After the last transition: the footer's rule. The transitions of the
//  years around t, in order, give the offset and the range it holds for.
static int32_t
s_footer (const dt_zone_t *zone, int64_t t, int64_t *from, int64_t *to)
{
    if (!zone->has_dst) {
        *to = INT64_MAX / 1000;
        return zone->std_off;
    }
    int64_t year;
    int month, day;
    dt_civil_from_days (s_floor_div (t + zone->std_off, 86400), &year, &month, &day);
    int64_t at [6];
    int32_t off [6];
    for (int i = 0; i < 3; i++) {
        at [2 * i] = s_rule_at (&zone->start, year - 1 + i, zone->std_off);
        off [2 * i] = zone->dst_off;
        at [2 * i + 1] = s_rule_at (&zone->end, year - 1 + i, zone->dst_off);
        off [2 * i + 1] = zone->std_off;
    }
    //  Six instants: sort them (a southern zone ends DST before it starts it)
    for (int i = 1; i < 6; i++)
        for (int j = i; j > 0 && at [j] < at [j - 1]; j--) {
            int64_t a = at [j]; at [j] = at [j - 1]; at [j - 1] = a;
            int32_t o = off [j]; off [j] = off [j - 1]; off [j - 1] = o;
        }
    int last = -1;
    for (int i = 0; i < 6 && at [i] <= t; i++)
        last = i;
    if (last < 0) {
        *to = at [0];
        return off [5];     //  cannot happen: the year before starts earlier
    }
    if (at [last] > *from)
        *from = at [last];
    *to = last + 1 < 6? at [last + 1]: INT64_MAX / 1000;
    return off [last];
}

int64_t
dt_zone_offset (const dt_zone_t *zone, int64_t ms, int64_t *from_p, int64_t *to_p)
{
    int64_t t = s_floor_div (ms, 1000), from, to;
    int32_t off;
    if (zone->count == 0 || t < zone->at [0]) {
        from = INT64_MIN / 1000;
        to = zone->count? zone->at [0]: INT64_MAX / 1000;
        off = zone->count || !zone->has_footer? zone->initial: 0;
        if (zone->count == 0 && zone->has_footer) {
            off = s_footer (zone, t, &from, &to);
        }
    }
    else
    if (t >= zone->at [zone->count - 1]) {
        from = zone->at [zone->count - 1];
        to = INT64_MAX / 1000;
        off = zone->off [zone->count - 1];
        if (zone->has_footer)
            off = s_footer (zone, t, &from, &to);
    }
    else {
        int32_t low = 0, high = zone->count - 1;    //  at [low] <= t < at [high]
        while (high - low > 1) {
            int32_t mid = low + (high - low) / 2;
            if (zone->at [mid] <= t)
                low = mid;
            else
                high = mid;
        }
        from = zone->at [low];
        to = zone->at [high];
        off = zone->off [low];
    }
    if (from_p)
        *from_p = from * 1000;
    if (to_p)
        *to_p = to * 1000;
    return (int64_t) off * 1000;
}
