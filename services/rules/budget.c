/*  budget.c - the contact budget (docs/rules.md, "Contact budget"): the
    caps of caps.h counted over counters, and the quiet_hours rule. The
    engine calls it only when caps or sending hours are configured, so the
    rest of the engine pays one pointer test for it.

    Why counters: a cap may span 90 days and allow 1,000 touches, far past
    the 16 touches an account's block keeps. Each account has one record of
    entries (contact, bucket, a byte-wide count per cap), a bucket being a
    local day, or a local hour for caps shorter than two days. A touch adds
    one to the entry of its contact and bucket for every cap whose filter
    it matches (a new entry for the same contact and bucket once a count is
    full), so an account-wide count sums all of an account's entries and a
    contact's count only that contact's. Entries older than the longest cap
    (plus a day) are dropped when the record needs room. A record sits at
    its account block's index in arenas of huge pages, asked for
    (prefetched) when judging starts, so its cache miss overlaps the
    block's; a byte per count keeps the usual account's entries in it
    rather than on the heap, a second miss. The entries are a struct of
    arrays, so that the one pass budget_caps makes over them (every cap at
    once) adds four entries at a time in vector registers.

    Local time: the buyer's own zone (table contact_settings, rules/zonemap.h:
    the contact's row, else the account's), else an event's attrs.tz (an IANA
    name) if the tz database knows it, else the policy's default zone. Offsets come from base/tzdb (a binary
    search); the last zone and the range its offset holds for are kept, so a
    stream in one zone skips even that.

    Windows: a rolling cap of N days counts the N local days up to and
    including the touch's (N hours for hour caps); since a late touch may
    land before later ones, every N-bucket window that holds the touch is
    counted and the busiest is reported, as contact_pressure always did.
    A calendar cap counts the touch's local day, week (Monday to Sunday) or
    month. The next free slot is the start of the first later bucket (or
    period) in which one more touch fits every cap it broke.
*/
#include "rules/internal.h"
#include "base/calendar.h"
#include "base/hugemem.h"
#include "base/tzdb.h"

#include <stdlib.h>

#define HOUR_MS         3600000LL
#define HOUR_BIT        0x80000000u     //  a bucket that counts an hour, not a day
#define SPAN_MAX        200             //  buckets one count looks at
#define PERIODS_AHEAD   3               //  calendar periods searched for a free slot
#define COUNT_MAX       UINT8_MAX       //  touches an entry counts per cap

//  An account's counters, one record per account block (same index), so
//  the engine knows where they are as soon as it knows the block and asks
//  for both at once. Entries live in the record until they outgrow it.
#define REC_SIZE        256
typedef struct {
    uint32_t count, alloc;      //  entries used, and room for them
    uint8_t *heap;              //  the entries once they outgrow the record
    uint8_t inline_ [REC_SIZE - 16];
} rec_t;
_Static_assert (sizeof (rec_t) == REC_SIZE, "a budget record is four cache lines");
#define ARENA_BYTES     DT_HUGE_PAGE    //  records come in huge pages
#define ARENA_RECS      (ARENA_BYTES / REC_SIZE)

typedef struct {
    uint8_t channel_len, kind_len;
    bool hourly;
    int buckets;                //  rolling: window length in buckets
} cap_info_t;

struct _budget_t {
    dt_budget_t cfg;
    cap_info_t info [DT_CAPS_MAX];
    size_t entry_size;          //  bytes an entry takes: 8 and one per cap
    int64_t keep_days;          //  entries older than this behind the newest go
    rec_t **chunks;             //  ARENA_RECS records each
    size_t chunk_count;
    size_t data_bytes;          //  entries on the heap
    //  Zones: the default, and the last lookup
    const dt_tzdb_t *zones;
    const dt_zone_t *zone;
    const dt_zone_t *cached;
    int64_t cached_from, cached_to, cached_offset;
    int64_t month_first, month_last;    //  the local month last looked up
    //  While budget_caps counts: the held reservations of the account
    //  judged (NULL: none held anywhere), and the time they expire against
    const resv_table_t *resv;
    uint64_t resv_account;
    int64_t resv_now;
    //  What budget_caps's pass saw of the entry budget_commit will need
    //  next (the touch's contact and day): it then skips its own search
    const rec_t *scanned;       //  NULL: nothing known
    uint32_t scanned_count, scanned_contact, scanned_day;
    uint32_t scanned_found;     //  the last such entry, ENTRY_NONE: none
};
#define ENTRY_NONE      UINT32_MAX

//  A record's entries, a struct of arrays (in the record, or on the heap
//  once they outgrow it): alloc contacts, alloc buckets, then alloc counts
//  of a byte for each cap, so that budget_caps's pass reads each array in
//  turn, four entries at a time. A byte per count: a count that would pass
//  COUNT_MAX goes on in a second entry for the same contact and bucket
//  (counting sums entries), so the entries of the usual account fit its
//  record.
typedef struct {
    uint32_t *contact, *bucket;
    uint8_t *counts;            //  cap c's count of entry i: counts [c * alloc + i]
    uint32_t alloc;
} cols_t;

static inline cols_t
s_cols (const rec_t *rec)
{
    uint8_t *data = rec->heap? rec->heap: (uint8_t *) rec->inline_;
    cols_t cols = { (uint32_t *) data, (uint32_t *) data + rec->alloc,
                    data + 8 * (size_t) rec->alloc, rec->alloc };
    return cols;
}

static inline uint8_t *
s_count (cols_t cols, int cap, uint32_t i)
{
    return &cols.counts [(size_t) cap * cols.alloc + i];
}

static inline int64_t
s_floor_div (int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

//  --------------------------------------------------------------------------
//  Life cycle

budget_t *
budget_new (const dt_rules_config_t *cfg, const dt_tzdb_t *zones)
{
    const dt_budget_t *budget = &cfg->budget;
    if (budget->cap_count == 0 && budget->quiet_count == 0)
        return NULL;
    budget_t *self = (budget_t *) calloc (1, sizeof (budget_t));
    if (!self)
        return NULL;
    self->cfg = *budget;
    for (int c = 0; c < budget->cap_count; c++) {
        const dt_cap_t *cap = &budget->cap [c];
        cap_info_t *info = &self->info [c];
        info->channel_len = (uint8_t) strlen (cap->channel);
        info->kind_len = (uint8_t) strlen (cap->kind);
        info->hourly = cap->window == DT_WINDOW_ROLLING && cap->length < 2 * DAY_MS;
        info->buckets = cap->window != DT_WINDOW_ROLLING? 1:
                        (int) (cap->length / (info->hourly? HOUR_MS: DAY_MS));
    }
    self->entry_size = 8 + (size_t) budget->cap_count;
    self->keep_days = dt_budget_horizon (budget) / DAY_MS + 1;
    self->month_first = 1;              //  an empty range: nothing cached
    self->month_last = 0;
    self->zones = zones;
    self->zone = zones? dt_tzdb_find (zones, budget->zone, strlen (budget->zone)): NULL;
    return self;
}

void
budget_destroy (budget_t **self_p)
{
    budget_t *self = *self_p;
    if (!self)
        return;
    for (size_t c = 0; c < self->chunk_count; c++) {
        for (size_t i = 0; self->chunks [c] && i < ARENA_RECS; i++)
            free (self->chunks [c][i].heap);
        free (self->chunks [c]);
    }
    free (self->chunks);
    free (self);
    *self_p = NULL;
}

bool
budget_same_caps (const budget_t *self, const dt_rules_config_t *cfg)
{
    const dt_budget_t *budget = &cfg->budget;
    return self && self->cfg.cap_count == budget->cap_count
        && memcmp (self->cfg.cap, budget->cap, sizeof budget->cap [0] * (size_t) budget->cap_count) == 0;
}

//  Take the counters of old (same caps) and free it
void
budget_adopt (budget_t *self, budget_t **old_p)
{
    budget_t *old = *old_p;
    self->chunks = old->chunks;
    self->chunk_count = old->chunk_count;
    self->data_bytes = old->data_bytes;
    old->chunks = NULL;
    old->chunk_count = 0;
    budget_destroy (old_p);
}

size_t
budget_bytes (const budget_t *self)
{
    if (!self)
        return 0;
    size_t bytes = sizeof *self + self->chunk_count * sizeof (rec_t *) + self->data_bytes;
    for (size_t c = 0; c < self->chunk_count; c++)
        bytes += self->chunks [c]? ARENA_BYTES: 0;
    return bytes;
}

//  --------------------------------------------------------------------------
//  Records, by account block index

static inline rec_t *
s_rec (const budget_t *self, uint32_t block)
{
    size_t chunk = block / ARENA_RECS;
    if (block == BLOCK_NONE || chunk >= self->chunk_count || !self->chunks [chunk])
        return NULL;
    return &self->chunks [chunk][block % ARENA_RECS];
}

static rec_t *
s_rec_make (budget_t *self, uint32_t block)
{
    if (block == BLOCK_NONE)
        return NULL;
    size_t chunk = block / ARENA_RECS;
    if (chunk >= self->chunk_count) {
        size_t count = chunk + 16;
        rec_t **chunks = (rec_t **) realloc (self->chunks, count * sizeof *chunks);
        if (!chunks)
            return NULL;
        memset (chunks + self->chunk_count, 0, (count - self->chunk_count) * sizeof *chunks);
        self->chunks = chunks;
        self->chunk_count = count;
    }
    if (!self->chunks [chunk]) {
        //  A huge page each where the kernel gives them: with 100,000
        //  accounts every record is a TLB miss on 4 KiB pages, and a page
        //  walk on top of the cache miss made judging a fifth slower
        void *memory = dt_huge_alloc (ARENA_BYTES, true);
        if (!memory)
            return NULL;
        self->chunks [chunk] = (rec_t *) memory;
    }
    return &self->chunks [chunk][block % ARENA_RECS];
}

void
budget_forget (budget_t *self, uint32_t block)
{
    rec_t *rec = self? s_rec (self, block): NULL;
    if (!rec)
        return;
    if (rec->heap)
        self->data_bytes -= (size_t) rec->alloc * self->entry_size;
    free (rec->heap);
    memset (rec, 0, offsetof (rec_t, inline_));
}

//  Into L2 (prefetcht1): the block's lines go to L1 at the same moment, and
//  asking for four more there measured slower (0.72-0.74 of the plain rate
//  against 0.79-0.80)
void
budget_prefetch (const budget_t *self, uint32_t block)
{
    const rec_t *rec = s_rec (self, block);
    if (rec)
        for (int line = 0; line < REC_SIZE / 64; line++)
            __builtin_prefetch ((const char *) rec + 64 * line, 0, 2);
}

static inline bool
s_same (dt_str_t str, const char *cstr, size_t len)
{
    return str.len == len && memcmp (str.ptr, cstr, len) == 0;
}

//  The caps whose filter this touch matches, a bit each
static uint32_t
s_match (const budget_t *self, const info_t *info)
{
    const dt_event_t *ev = info->ev;
    uint32_t match = 0;
    for (int c = 0; c < self->cfg.cap_count; c++) {
        const dt_cap_t *cap = &self->cfg.cap [c];
        const cap_info_t *ci = &self->info [c];
        if ((ci->channel_len && !s_same (ev->channel, cap->channel, ci->channel_len))
        ||  (ci->kind_len && !s_same (ev->kind, cap->kind, ci->kind_len))
        ||  (cap->category >= 0 && (int) ev->category != cap->category)
        ||  (cap->track >= 0 && info->track != cap->track))
            continue;
        match |= 1u << c;
    }
    return match;
}

//  --------------------------------------------------------------------------
//  Local time

const dt_zone_t *
budget_zone (const budget_t *self, const char *ptr, size_t len)
{
    return self->zones? dt_tzdb_find (self->zones, ptr, len): NULL;
}

void
budget_prepare (budget_t *self, info_t *info)
{
    const dt_event_t *ev = info->ev;
    const dt_zone_t *zone = info->buyer_zone;       //  NULL: attrs.tz, else the default
    info->zone_asked = false;
    if (!info->buyer_zone && ev->attrs && ev->attrs->type == MSGPACK_OBJECT_MAP) {
        const msgpack_object_map *map = &ev->attrs->via.map;
        for (uint32_t i = 0; i < map->size; i++) {
            const msgpack_object *key = &map->ptr [i].key, *value = &map->ptr [i].val;
            if (key->type == MSGPACK_OBJECT_STR && key->via.str.size == 2
            &&  memcmp (key->via.str.ptr, "tz", 2) == 0 && value->type == MSGPACK_OBJECT_STR) {
                zone = dt_tzdb_find (self->zones, value->via.str.ptr, value->via.str.size);
                info->zone_asked = !zone;   //  named, but not a zone we know
                break;
            }
        }
    }
    budget_place (self, info, zone);
}

void
budget_place (budget_t *self, info_t *info, const dt_zone_t *zone)
{
    const dt_event_t *ev = info->ev;
    if (!zone)
        zone = self->zone;
    info->zone = zone;
    info->caps_match = info->transactional? 0: s_match (self, info);
    int64_t at = ev->occurred_at;
    if (!zone)
        info->offset = 0;
    else
    if (zone == self->cached && at >= self->cached_from && at < self->cached_to)
        info->offset = self->cached_offset;
    else {
        info->offset = dt_zone_offset (zone, at, &self->cached_from, &self->cached_to);
        self->cached = zone;
        self->cached_offset = info->offset;
    }
    //  Once, with constant divisors (a multiplication, not a division)
    int64_t local = at + info->offset;
    info->day = local / DAY_MS - (local % DAY_MS < 0);
    info->hour = local / HOUR_MS - (local % HOUR_MS < 0);
}

static const char *
s_zone_name (const dt_zone_t *zone)
{
    return zone? dt_zone_name (zone): "UTC";
}

//  0 Sunday .. 6 Saturday (1970-01-01 was a Thursday)
static inline int
s_wday (int64_t day)
{
    return (int) (((day % 7) + 7 + 4) % 7);
}

static const char *s_weekdays [7] = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"
};

//  "4 May 2026 09:00 Europe/Berlin" from local ms
static void
s_local_time (text_t *text, int64_t local, const dt_zone_t *zone)
{
    text_date (text, local);
    int64_t minute = s_floor_div (local, 60000) - s_floor_div (local, DAY_MS) * 1440;
    text_printf (text, " %s%d:%s%d %s", minute / 60 < 10? "0": "", (int) (minute / 60),
                 minute % 60 < 10? "0": "", (int) (minute % 60), s_zone_name (zone));
}

//  --------------------------------------------------------------------------
//  quiet_hours

void
budget_quiet (dt_engine_t *engine, const info_t *info, sink_t *sink)
{
    const budget_t *self = engine->budget;
    if (engine->cfg.severity [DT_RULE_QUIET_HOURS] == DT_SEV_OFF || info->transactional)
        return;
    const dt_event_t *ev = info->ev;
    const dt_quiet_t *quiet = NULL;
    for (int i = 0; i < self->cfg.quiet_count && !quiet; i++)
        if (strlen (self->cfg.quiet [i].channel) == ev->channel.len
        &&  memcmp (self->cfg.quiet [i].channel, ev->channel.ptr, ev->channel.len) == 0)
            quiet = &self->cfg.quiet [i];
    if (!quiet)
        return;
    int64_t local = ev->occurred_at + info->offset;
    int64_t day = info->day;
    int minute = (int) ((local - day * DAY_MS) / 60000);
    int wday = s_wday (day);
    if ((quiet->days & (1 << wday)) && minute >= quiet->from && minute < quiet->to)
        return;
    text_t text;
    if (!sink_emit (engine, sink, DT_RULE_QUIET_HOURS, &text))
        return;
    //  The next allowed minute: today's start if it is still ahead, else
    //  the start on the next allowed day
    int64_t next = -1;
    for (int ahead = 0; ahead <= 7 && next < 0; ahead++) {
        int w = (wday + ahead) % 7;
        if ((quiet->days & (1 << w)) && (ahead > 0 || minute < quiet->from))
            next = (day + ahead) * DAY_MS + quiet->from * 60000LL;
    }
    char hours [128];
    dt_budget_t one;
    one.quiet_count = 1;
    one.quiet [0] = *quiet;
    dt_budget_quiet_text (&one, hours, sizeof hours);
    text_str (&text, ev->channel);
    text_printf (&text, " touch by %s to ", s_track (info->track));
    text_who (&text, ev);
    text_printf (&text, " on %s ", s_weekdays [wday]);
    s_local_time (&text, local, info->zone);
    text_puts (&text, " is outside its sending hours (");
    text_puts (&text, hours);
    text_puts (&text, ")");
    if (next >= 0) {
        text_printf (&text, "; next allowed: %s ", s_weekdays [s_wday (s_floor_div (next, DAY_MS))]);
        s_local_time (&text, next, info->zone);
    }
    text_puts (&text, ".");
    if (info->zone_asked)
        text_puts (&text, " (attrs.tz names no known zone: the default zone was used.)");
}

//  --------------------------------------------------------------------------
//  Caps

static inline int64_t
s_bucket_of (const info_t *info, bool hourly)
{
    return hourly? info->hour: info->day;
}

static inline int64_t
s_bucket_day (uint32_t bucket)
{
    return bucket & HOUR_BIT? (bucket & ~HOUR_BIT) / 24: bucket;
}

//  Drop entries older than keep_days behind the newest day bucket
static void
s_prune (budget_t *self, rec_t *rec)
{
    cols_t cols = s_cols (rec);
    int64_t newest = 0;
    for (uint32_t i = 0; i < rec->count; i++)
        if (s_bucket_day (cols.bucket [i]) > newest)
            newest = s_bucket_day (cols.bucket [i]);
    uint32_t kept = 0;
    for (uint32_t i = 0; i < rec->count; i++) {
        if (s_bucket_day (cols.bucket [i]) + self->keep_days < newest)
            continue;
        if (kept != i) {
            cols.contact [kept] = cols.contact [i];
            cols.bucket [kept] = cols.bucket [i];
            for (int c = 0; c < self->cfg.cap_count; c++)
                *s_count (cols, c, kept) = *s_count (cols, c, i);
        }
        kept++;
    }
    rec->count = kept;
}

//  Room in entry i for one more touch of the caps in match
static inline bool
s_room (const budget_t *self, cols_t cols, uint32_t i, uint32_t match)
{
    bool room = true;
    for (int c = 0; c < self->cfg.cap_count && room; c++)
        room = !(match & (1u << c)) || *s_count (cols, c, i) < COUNT_MAX;
    return room;
}

//  The entry of a contact and bucket with room for one more touch of the
//  caps in match, made if there is none (ENTRY_NONE when memory runs out).
//  absent: the caller knows the record has no entry for them. Making one
//  may prune the record: indices found before are stale.
static uint32_t
s_entry_for (budget_t *self, rec_t *rec, uint32_t contact, uint32_t bucket, uint32_t match,
             bool absent)
{
    cols_t cols = s_cols (rec);
    for (uint32_t i = absent? 0: rec->count; i-- > 0; )
        if (cols.contact [i] == contact && cols.bucket [i] == bucket
        &&  s_room (self, cols, i, match))
            return i;
    if (rec->alloc == 0)
        rec->alloc = (uint32_t) (sizeof rec->inline_ / self->entry_size);
    if (rec->count == rec->alloc) {
        s_prune (self, rec);
        if (rec->count == rec->alloc) {
            //  A few entries at a time: a record grows by one entry per
            //  new contact and day, rarely, and memory is the budget
            uint32_t alloc = rec->alloc + 8;
            uint8_t *heap = (uint8_t *) malloc ((size_t) alloc * self->entry_size);
            if (!heap)
                return ENTRY_NONE;
            cols_t from = s_cols (rec);
            cols_t to = { (uint32_t *) heap, (uint32_t *) heap + alloc, heap + 8 * (size_t) alloc,
                          alloc };
            memcpy (to.contact, from.contact, rec->count * sizeof (uint32_t));
            memcpy (to.bucket, from.bucket, rec->count * sizeof (uint32_t));
            for (int c = 0; c < self->cfg.cap_count; c++)
                memcpy (s_count (to, c, 0), s_count (from, c, 0), rec->count);
            if (rec->heap)
                self->data_bytes -= (size_t) rec->alloc * self->entry_size;
            free (rec->heap);
            self->data_bytes += (size_t) alloc * self->entry_size;
            rec->heap = heap;
            rec->alloc = alloc;
        }
    }
    uint32_t i = rec->count++;
    cols = s_cols (rec);
    cols.contact [i] = contact;
    cols.bucket [i] = bucket;
    for (int c = 0; c < self->cfg.cap_count; c++)
        *s_count (cols, c, i) = 0;
    return i;
}

void
budget_commit (dt_engine_t *engine, const info_t *info)
{
    budget_t *self = engine->budget;
    if (info->transactional || self->cfg.cap_count == 0)
        return;
    uint32_t match = info->caps_match;
    if (!match)
        return;
    rec_t *rec = s_rec_make (self, info->block);
    if (!rec)
        return;
    //  The day caps' entry and the hour caps'. Making the second may move
    //  the first (the record is pruned): with both, the first is found
    //  again, which makes nothing
    uint32_t buckets [2] = { (uint32_t) s_bucket_of (info, false),
                             (uint32_t) s_bucket_of (info, true) | HOUR_BIT };
    uint32_t need [2] = { 0, 0 };
    for (int c = 0; c < self->cfg.cap_count; c++)
        if (match & (1u << c))
            need [self->info [c].hourly] |= 1u << c;
    uint32_t entries [2] = { ENTRY_NONE, ENTRY_NONE };
    //  The day caps' entry as budget_caps's pass found it (the usual case)
    const rec_t *scanned = self->scanned;
    self->scanned = NULL;
    if (need [0] && !need [1] && scanned == rec && self->scanned_count == rec->count
    &&  self->scanned_contact == info->contact && self->scanned_day == buckets [0]) {
        uint32_t found = self->scanned_found;
        if (found != ENTRY_NONE && s_room (self, s_cols (rec), found, need [0]))
            entries [0] = found;
        else
        if ((entries [0] = s_entry_for (self, rec, info->contact, buckets [0], need [0],
                                        found == ENTRY_NONE)) == ENTRY_NONE)
            return;
    }
    for (int h = 0; h < 2; h++)
        if (need [h] && entries [h] == ENTRY_NONE
        &&  (entries [h] = s_entry_for (self, rec, info->contact, buckets [h], need [h],
                                        false)) == ENTRY_NONE)
            return;             //  out of memory: the touch goes uncounted
    if (need [0] && need [1]
    &&  (entries [0] = s_entry_for (self, rec, info->contact, buckets [0], need [0],
                                    false)) == ENTRY_NONE)
        return;
    cols_t cols = s_cols (rec);
    for (int h = 0; h < 2; h++)
        for (int c = 0; need [h] && c < self->cfg.cap_count; c++)
            *s_count (cols, c, entries [h]) += (need [h] >> c) & 1;
}

//  Does a reservation take a slot of cap c for this contact now? Held, not
//  expired, not set aside for the judgement (its own token's), its planned
//  touch matching the cap
static inline bool
s_resv_counts (const budget_t *self, const resv_t *r, int c, uint32_t contact)
{
    return r->rec.state == DT_RESERVATION_HELD && !r->ignored
        && r->rec.expires_at > self->resv_now && (r->caps_match & (1u << c))
        && (self->cfg.cap [c].per_account || r->contact == contact);
}

//  The bucket of a reservation as an entry holds it
static inline uint32_t
s_resv_bucket (const budget_t *self, const resv_t *r, int c)
{
    return self->info [c].hourly? (uint32_t) r->hour | HOUR_BIT: (uint32_t) r->day;
}

//  The counts of cap c per bucket in [lo, lo + span) into out (held
//  reservations among them)
static void
s_dense (const budget_t *self, const rec_t *rec, int c, uint32_t contact, int64_t lo, int span,
         uint32_t *out)
{
    memset (out, 0, sizeof (uint32_t) * (size_t) span);
    bool hourly = self->info [c].hourly, per_account = self->cfg.cap [c].per_account;
    for (const resv_t *r = self->resv? resv_first (self->resv, self->resv_account): NULL; r;
         r = resv_next (self->resv, r))
        if (s_resv_counts (self, r, c, contact)) {
            int64_t at = (hourly? r->hour: r->day) - lo;
            if (at >= 0 && at < span)
                out [at]++;
        }
    if (!rec)
        return;
    cols_t cols = s_cols (rec);
    for (uint32_t i = 0; i < rec->count; i++) {
        if ((cols.bucket [i] & HOUR_BIT) != (hourly? HOUR_BIT: 0)
        ||  (!per_account && cols.contact [i] != contact))
            continue;
        int64_t at = (int64_t) (cols.bucket [i] & ~HOUR_BIT) - lo;
        if (at >= 0 && at < span)
            out [at] += *s_count (cols, c, i);
    }
}

//  The calendar period holding day: [*first, *last]
static void
s_period (budget_t *self, dt_window_t window, int64_t day, int64_t *first, int64_t *last)
{
    if (window == DT_WINDOW_DAY)
        *first = *last = day;
    else
    if (window == DT_WINDOW_WEEK) {
        *first = day - (((day % 7) + 7 + 3) % 7);       //  1970-01-05 was a Monday
        *last = *first + 6;
    }
    else
    if (day >= self->month_first && day <= self->month_last) {
        *first = self->month_first;     //  the month of the last touch: usual
        *last = self->month_last;
    }
    else {
        int64_t year;
        int month, mday;
        dt_civil_from_days (day, &year, &month, &mday);
        *first = day - (mday - 1);
        int next_month = month == 12? 1: month + 1;
        *last = dt_days_from_civil (month == 12? year + 1: year, next_month, 1) - 1;
        self->month_first = *first;
        self->month_last = *last;
    }
}

typedef struct {
    int cap;
    int count;                  //  touches in the window, this one included
    int64_t from, to;           //  the window's buckets, both included
    int64_t free;               //  first bucket with room, -1 none in sight
} over_t;

//  Is cap c over its limit with this touch? Fills over.
static bool
s_over (budget_t *self, const rec_t *rec, int c, const info_t *info, int self_count,
        over_t *over)
{
    const dt_cap_t *cap = &self->cfg.cap [c];
    const cap_info_t *ci = &self->info [c];
    int64_t d = s_bucket_of (info, ci->hourly);
    uint32_t dense [SPAN_MAX];
    over->cap = c;
    over->free = -1;
    if (cap->window == DT_WINDOW_ROLLING) {
        int n = ci->buckets;
        int64_t lo = d - n + 1;
        s_dense (self, rec, c, info->contact, lo, 2 * n, dense);
        dense [d - lo] += (uint32_t) self_count;
        //  The busiest window that holds the touch
        uint32_t sum = 0, best = 0;
        for (int i = 0; i < n; i++)
            sum += dense [i];
        best = sum;
        over->from = lo;
        for (int s = 1; s < n; s++) {
            sum += dense [s + n - 1] - dense [s - 1];
            if (sum > best) {
                best = sum;
                over->from = lo + s;
            }
        }
        if ((int) best <= cap->limit)
            return false;
        over->count = (int) best;
        over->to = over->from + n - 1;
        //  The first later bucket whose window [b - n + 1, b] has room
        sum = 0;
        for (int i = 1; i <= n; i++)
            sum += dense [i];   //  the window ending at d + 1
        for (int64_t b = d + 1; b <= d + n; b++) {
            if ((int) sum < cap->limit) {
                over->free = b;
                break;
            }
            int64_t drop = b - n + 1 - lo, add = b + 1 - lo;
            sum -= dense [drop];
            if (add < 2 * n)
                sum += dense [add];
        }
        return true;
    }
    int64_t first, last;
    s_period (self, cap->window, d, &first, &last);
    //  This period and the next ones, for the free slot
    int64_t end = last;
    for (int p = 0; p < PERIODS_AHEAD; p++) {
        int64_t next_first;
        s_period (self, cap->window, end + 1, &next_first, &end);
    }
    int span = (int) (end - first + 1);
    s_dense (self, rec, c, info->contact, first, span, dense);
    dense [d - first] += (uint32_t) self_count;
    uint32_t sum = 0;
    for (int64_t b = first; b <= last; b++)
        sum += dense [b - first];
    if ((int) sum <= cap->limit)
        return false;
    over->count = (int) sum;
    over->from = first;
    over->to = last;
    for (int64_t p_first = last + 1, p_last; p_first <= end; p_first = p_last + 1) {
        s_period (self, cap->window, p_first, &p_first, &p_last);
        sum = 0;
        for (int64_t b = p_first; b <= p_last; b++)
            sum += dense [b - first];
        if ((int) sum < cap->limit) {
            over->free = p_first;
            break;
        }
    }
    return true;
}

//  "the 7 days 1 May 2026 to 7 May 2026", "the month from 1 May 2026"
static void
s_window_text (text_t *text, const dt_cap_t *cap, const cap_info_t *ci, const over_t *over)
{
    int64_t unit = ci->hourly? HOUR_MS: DAY_MS;
    if (cap->window == DT_WINDOW_DAY) {
        text_puts (text, "the day ");
        text_date (text, over->from * DAY_MS);
    }
    else
    if (cap->window == DT_WINDOW_WEEK) {
        text_puts (text, "the week from Monday ");
        text_date (text, over->from * DAY_MS);
    }
    else
    if (cap->window == DT_WINDOW_MONTH) {
        text_puts (text, "the month from ");
        text_date (text, over->from * DAY_MS);
    }
    else
    if (ci->hourly) {
        text_printf (text, "the %d hours from ", ci->buckets);
        text_date (text, over->from * unit);
        int64_t minute = s_floor_div (over->from * unit, 60000) % 1440;
        text_printf (text, " %s%d:00", minute / 60 < 10? "0": "", (int) (minute / 60));
    }
    else {
        text_printf (text, "the %d days ", ci->buckets);
        text_date (text, over->from * DAY_MS);
        text_puts (text, " to ");
        text_date (text, over->to * DAY_MS);
    }
}

//  "; 1 of them the slot reservation R holds for OWNER until 4 May 2026
//  09:00 Europe/Berlin" when reservations count in the lead cap's window
static void
s_held_text (const budget_t *self, text_t *text, const over_t *over, const info_t *info)
{
    const resv_t *first = NULL;
    int held = 0;
    for (const resv_t *r = self->resv? resv_first (self->resv, self->resv_account): NULL; r;
         r = resv_next (self->resv, r)) {
        uint32_t bucket = s_resv_bucket (self, r, over->cap) & ~HOUR_BIT;
        if (s_resv_counts (self, r, over->cap, info->contact)
        &&  (int64_t) bucket >= over->from && (int64_t) bucket <= over->to) {
            held++;
            if (!first || r->rec.created_at < first->rec.created_at)
                first = r;
        }
    }
    if (!first)
        return;
    text_printf (text, "; %d of them %s reserved: reservation %s holds one for %s until ",
                 held, held == 1? "is": "are", first->rec.token, first->rec.owner);
    s_local_time (text, first->rec.expires_at + (info->zone?
                  dt_zone_offset (info->zone, first->rec.expires_at, NULL, NULL): 0), info->zone);
}

//  Four entries at a time, in the vector registers every x86-64 has
typedef uint32_t v4u_t __attribute__ ((vector_size (16)));
typedef uint8_t v4b_t __attribute__ ((vector_size (4)));

static inline v4u_t
s_v4u (uint32_t value)
{
    return (v4u_t) { value, value, value, value };
}

//  Each counted cap's touches over the entries: the k-th cap (counted [k])
//  counts an entry whose bucket is in [from [k], from [k] + width [k]] and
//  whose contact is the touch's, or any (bit k of any_contact). Without
//  branches: whether an entry counts is as likely as not. Returns the last
//  entry of the contact and day, ENTRY_NONE if none.
static inline __attribute__ ((always_inline)) uint32_t
s_scan (cols_t cols, uint32_t count, uint32_t contact, uint32_t day, int count_n,
        const uint32_t *from, const uint32_t *width, uint32_t any_contact, const int *counted,
        uint32_t *sums)
{
    uint32_t found = ENTRY_NONE;
    v4u_t sum [DT_CAPS_MAX], low [DT_CAPS_MAX], span [DT_CAPS_MAX], any [DT_CAPS_MAX];
    const uint8_t *counts [DT_CAPS_MAX];
#pragma GCC unroll 4
    for (int k = 0; k < count_n; k++) {
        sum [k] = s_v4u (0);
        low [k] = s_v4u (from [k]);
        span [k] = s_v4u (width [k]);
        any [k] = s_v4u (0u - (any_contact >> k & 1));
        counts [k] = s_count (cols, counted [k], 0);
    }
    v4u_t mine_id = s_v4u (contact), day_id = s_v4u (day);
    uint32_t i = 0;
    for (; i + 4 <= count; i += 4) {
        v4u_t bucket, who;
        memcpy (&bucket, cols.bucket + i, sizeof bucket);
        memcpy (&who, cols.contact + i, sizeof who);
        v4u_t mine = (v4u_t) (who == mine_id);
        v4u_t today = mine & (v4u_t) (bucket == day_id);
        if (today [0] | today [1] | today [2] | today [3])
            found = i + (today [3]? 3: today [2]? 2: today [1]? 1: 0);
#pragma GCC unroll 4
        for (int k = 0; k < count_n; k++) {
            v4b_t bytes;
            memcpy (&bytes, counts [k] + i, sizeof bytes);
            v4u_t in = (v4u_t) (bucket - low [k] <= span [k]) & (mine | any [k]);
            sum [k] += __builtin_convertvector (bytes, v4u_t) & in;
        }
    }
    for (int k = 0; k < count_n; k++)
        sums [k] = sum [k][0] + sum [k][1] + sum [k][2] + sum [k][3];
    for (; i < count; i++) {
        bool mine = cols.contact [i] == contact;
        found = mine && cols.bucket [i] == day? i: found;
        for (int k = 0; k < count_n; k++)
            if (cols.bucket [i] - from [k] <= width [k] && (mine || (any_contact >> k & 1)))
                sums [k] += counts [k][i];
    }
    return found;
}

void
budget_caps (dt_engine_t *engine, const info_t *info, int replay, sink_t *sink)
{
    budget_t *self = engine->budget;
    if (engine->cfg.severity [DT_RULE_CONTACT_PRESSURE] == DT_SEV_OFF || info->transactional
    ||  self->cfg.cap_count == 0)
        return;
    uint32_t match = info->caps_match;
    for (int c = 0; c < self->cfg.cap_count; c++)
        if (!self->cfg.cap [c].per_account && !info->contact)
            match &= ~(1u << c);
    if (!match)
        return;
    const rec_t *rec = s_rec (self, info->block);
    //  A replay is already counted
    int self_count = replay >= 0? 0: 1;
    //  First, in one pass over the entries, each cap's count over every
    //  bucket a window holding this touch can reach: under the limit (the
    //  usual case), no window can be over it
    int64_t lo [DT_CAPS_MAX], hi [DT_CAPS_MAX];
    uint32_t total [DT_CAPS_MAX];
    for (int c = 0; c < self->cfg.cap_count; c++) {
        total [c] = (uint32_t) self_count;
        if (!(match & (1u << c)))
            continue;
        const cap_info_t *ci = &self->info [c];
        int64_t d = s_bucket_of (info, ci->hourly);
        if (self->cfg.cap [c].window == DT_WINDOW_ROLLING) {
            lo [c] = d - ci->buckets + 1;
            hi [c] = d + ci->buckets - 1;
        }
        else
            s_period (self, self->cfg.cap [c].window, d, &lo [c], &hi [c]);
        if (ci->hourly)
            lo [c] |= HOUR_BIT, hi [c] |= HOUR_BIT;
    }
    //  The caps counted, each bucket range as a start and a width (one
    //  unsigned compare an entry), and which of them count every contact
    int counted [DT_CAPS_MAX], count_n = 0;
    uint32_t from [DT_CAPS_MAX], width [DT_CAPS_MAX], any_contact = 0;
    for (int c = 0; c < self->cfg.cap_count; c++)
        if (match & (1u << c)) {
            from [count_n] = (uint32_t) lo [c];
            width [count_n] = (uint32_t) (hi [c] - lo [c]);
            any_contact |= (uint32_t) self->cfg.cap [c].per_account << count_n;
            counted [count_n++] = c;
        }
    self->scanned = NULL;
    if (rec && rec->count) {
        uint32_t sums [DT_CAPS_MAX], found;
        cols_t cols = s_cols (rec);
        uint32_t day = (uint32_t) info->day, n = rec->count;
        //  Most policies have a few caps: a loop the compiler unrolls
        switch (count_n) {
            case 1:  found = s_scan (cols, n, info->contact, day, 1, from, width, any_contact,
                                     counted, sums); break;
            case 2:  found = s_scan (cols, n, info->contact, day, 2, from, width, any_contact,
                                     counted, sums); break;
            case 3:  found = s_scan (cols, n, info->contact, day, 3, from, width, any_contact,
                                     counted, sums); break;
            default: found = s_scan (cols, n, info->contact, day, count_n, from, width,
                                     any_contact, counted, sums);
        }
        for (int k = 0; k < count_n; k++)
            total [counted [k]] += sums [k];
        self->scanned = rec;
        self->scanned_count = n;
        self->scanned_contact = info->contact;
        self->scanned_day = day;
        self->scanned_found = found;
    }
    //  Slots held for planned touches count as touches
    self->resv = engine->reservations && resv_held (engine->reservations)? engine->reservations: NULL;
    self->resv_account = info->key;
    self->resv_now = s_now (info);
    for (const resv_t *r = self->resv? resv_first (self->resv, info->key): NULL; r;
         r = resv_next (self->resv, r))
        for (int c = 0; c < self->cfg.cap_count; c++)
            if ((match & (1u << c)) && s_resv_counts (self, r, c, info->contact)
            &&  s_resv_bucket (self, r, c) >= lo [c] && s_resv_bucket (self, r, c) <= hi [c])
                total [c]++;
    over_t over [DT_CAPS_MAX];
    int overs = 0;
    for (int c = 0; c < self->cfg.cap_count; c++) {
        if (!(match & (1u << c)) || (int) total [c] <= self->cfg.cap [c].limit)
            continue;
        if (s_over (self, rec, c, info, self_count, &over [overs]))
            overs++;
    }
    if (!overs)
        return;
    text_t text;
    if (!sink_emit (engine, sink, DT_RULE_CONTACT_PRESSURE, &text))
        return;
    //  The first cap broken (in the order of the policy) leads; the budget
    //  is free again when every cap broken has room
    const over_t *lead = &over [0];
    const dt_cap_t *cap = &self->cfg.cap [lead->cap];
    const cap_info_t *ci = &self->info [lead->cap];
    int64_t free_at = INT64_MIN;
    bool unknown = false;
    for (int i = 0; i < overs; i++) {
        int64_t unit = self->info [over [i].cap].hourly? HOUR_MS: DAY_MS;
        if (over [i].free < 0)
            unknown = true;
        else
        if (over [i].free * unit > free_at)
            free_at = over [i].free * unit;
    }
    char window [16];
    dt_cap_window_text (cap, window, sizeof window);
    if (cap->per_account) {
        text_puts (&text, "account ");
        text_str (&text, info->ev->account);
    }
    else
        text_who (&text, info->ev);
    text_printf (&text, " is over cap %s (%d per %s): %d touches in ", cap->name, cap->limit,
                 window, lead->count);
    s_window_text (&text, cap, ci, lead);
    text_printf (&text, " (%s), this one from %s on ", s_zone_name (info->zone),
                 s_track (info->track));
    s_local_time (&text, info->ev->occurred_at + info->offset, info->zone);
    for (int i = 1; i < overs; i++) {
        const dt_cap_t *also = &self->cfg.cap [over [i].cap];
        dt_cap_window_text (also, window, sizeof window);
        text_printf (&text, "%s %s (%d of %d per %s)", i == 1? "; also over": ",",
                     also->name, over [i].count, also->limit, window);
    }
    s_held_text (self, &text, lead, info);
    if (unknown)
        text_puts (&text, "; next free slot: not before later touches age out.");
    else {
        text_puts (&text, "; next free slot: ");
        s_local_time (&text, free_at, info->zone);
        text_puts (&text, ".");
    }
    if (info->zone_asked)
        text_puts (&text, " (attrs.tz names no known zone: the default zone was used.)");
}
