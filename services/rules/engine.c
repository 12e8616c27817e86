/*  engine.c - the rule engine (see engine.h, docs/rules.md).

    The shape follows from the throughput target (a million touchpoints a
    second on one core) and the memory target (under 1 KiB per active
    account):

    - Each account is one fixed-size block (account_t) handed out from
      chunks of CHUNK_ACCOUNTS blocks and recycled through a free list, so
      judging never allocates once the account exists.
    - The account table is open addressing with linear probing on a 64-bit
      hash of the account id; a slot is 8 bytes (32 bits of the hash as a tag
      plus the block index), deletion shifts entries back instead of leaving
      tombstones, so eviction keeps lookups short.
    - Touches are kept as a struct of arrays (times, hashed ids, hashed
      contacts, flags) so the scans of the collision and pressure rules read
      a few cache lines. Ids are kept for the "related" lists in a small
      ring per account, and checked against their hash when read back: an
      id the ring has overwritten is left out rather than misreported.
    - Claims keep their value (the first VALUE_KEPT bytes, for the message)
      and the id of the touchpoint that set them in a small arena that is
      compacted when a claim changes, which is rare.
    - Everything else (themes and claim keys the leading track used, key
      projects) is a hash and a time to the millisecond, kept in 48 bits
      (T48: ms since DT_OCCURRED_MIN), since windows are exact to the ms.
    - With 100,000 accounts the block is almost never in cache, and waiting
      for it was half the time of a judgement. The engine finds the block
      from the table alone, asks for its lines, and runs the rules that need
      no memory (stage, themes, banned phrases) while they arrive.

    Hash collisions: accounts are told apart by a 64-bit hash, contacts,
    ids, themes and claim keys by 32 bits within one account, claim values
    by 64 bits. The chance that one of these merges two strings is far below
    the chance of a wrong row in the systems that feed us.
*/
#include "rules/engine.h"
#include "base/calendar.h"
#include "base/hash.h"

#include <assert.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#define TOUCH_CAP           DT_TOUCHES_KEPT
#define CLAIM_CAP           4
#define SEEN_CAP            16
#define PROJECT_CAP         4
#define IDLOG_SIZE          160
#define ARENA_SIZE          160
#define VALUE_KEPT          32
#define CHUNK_ACCOUNTS      256
#define DAY_MS              86400000LL
#define EVICT_STEPS         64      //  dt_engine_evict_step: a cycle in 64 calls
#define EVICT_STEP_MIN      4096    //  slots looked at per step, at least
#define ID_NONE             0xFF    //  t_id_off: the id is not in the ring
#define T48_NONE            0xFFFF  //  a T48 high part: never

//  Seeds keep the hashes of different kinds of strings apart
#define SEED_ACCOUNT        0x0a
#define SEED_CONTACT        0x0c
#define SEED_ID             0x1d
#define SEED_KEY            0x2e
#define SEED_VALUE          0x3f
#define SEED_PROJECT        0x40
#define SEED_SEEN_THEME     0x50    //  + owning track
#define SEED_SEEN_KEY       0x60    //  + owning track

//  Touch flags
#define TF_SALES            0x01    //  published by sales
#define TF_LEAD_SALES       0x02    //  sales leads it
#define TF_ADVISOR_SHIFT    2       //  two bits: advising tracks
#define TF_TRANSACTIONAL    0x10

typedef struct {
    int64_t at;                 //  occurred_at of the touchpoint that set it
    uint64_t value_hash;
    uint32_t key_hash;
    uint32_t contact;           //  contact it was told to, 0 for none
    uint8_t id_off, id_len;     //  in the arena; id_len 0 = not kept
    uint8_t value_off, value_len;
    uint8_t track;              //  the leading track that set it
    uint8_t value_cut;          //  the value is longer than what is kept
    uint8_t unused [2];
} claim_rec_t;

//  A key project: when each track last took part in it (T48, T48_NONE in
//  hi for never)
typedef struct {
    uint32_t hash;
    uint32_t lo [DT_TRACKS];
    uint16_t hi [DT_TRACKS];
} project_rec_t;

typedef struct {
    uint64_t key;               //  hash of the account id
    int64_t newest;             //  newest occurred_at: eviction
    //  The newest of the touches memory has let go (pushed out of the 16,
    //  or too old to get in; INT64_MIN for none): every touch after it is
    //  kept. dropped_part: the tracks that took part in any of them.
    int64_t dropped;
    uint8_t dropped_part;
    uint8_t touch_count, claim_count, seen_count, project_count;
    uint8_t arena_used;
    uint8_t log_head;           //  where the next id goes in idlog
    //  Touches, struct of arrays
    int64_t t_at [TOUCH_CAP];
    uint32_t t_id [TOUCH_CAP];          //  hash of the id
    uint32_t t_contact [TOUCH_CAP];     //  hash of the contact, 0 for none
    uint8_t t_id_off [TOUCH_CAP];       //  in idlog: a length byte, then the id
    uint8_t t_flags [TOUCH_CAP];
    claim_rec_t claims [CLAIM_CAP];
    uint32_t seen [SEEN_CAP];           //  themes and claim keys per owning track
    uint32_t seen_lo [SEEN_CAP];        //  when the owner last used it (T48)
    uint16_t seen_hi [SEEN_CAP];
    project_rec_t projects [PROJECT_CAP];
    char idlog [IDLOG_SIZE];
    char arena [ARENA_SIZE];
} account_t;

//  The memory budget: under 1 KiB per active account with the table and
//  the free list (docs/rules.md, "Performance")
_Static_assert (sizeof (account_t) <= 992, "an account's block outgrew its budget");

struct _dt_engine_t {
    dt_rules_config_t cfg;
    dt_stageset_t stages;
    dt_tonebook_t *tonebook;
    uint64_t *slots;            //  tag << 32 | (block index + 1); 0 = empty
    size_t slot_count;          //  a power of two
    size_t evict_cursor;        //  where dt_engine_evict_step goes on
    size_t accounts;
    account_t **chunks;
    size_t chunk_count;
    uint32_t *free_list;        //  room for every block, so eviction never allocates
    size_t free_count;
    size_t blocks_used;         //  blocks handed out from the chunks so far
    dt_engine_loader_fn *loader;
    void *loader_ctx;
    bool loading;
    account_t empty;            //  the memory of an account never seen
    //  The windows messages name, formatted once per configuration:
    //  dt_duration_format is snprintf, dearer than the rest of a message,
    //  and every collision finding names its window
    char collision_text [32], sequence_text [32], pressure_text [32];
};

//  What judging needs to know about the event, computed once
typedef struct {
    const dt_event_t *ev;
    int track, lead, owner;
    uint8_t part;               //  bit per track that takes part
    uint8_t flags;
    bool owner_speaks;          //  the stage owner publishes or leads it
    bool transactional;
    uint32_t contact;
    uint32_t id;
} info_t;

//  Where findings go
typedef struct {
    dt_finding_t *findings;
    int max, count;
    dt_verdict_t verdict;
} sink_t;

//  A bounded message under construction; always valid UTF-8
typedef struct {
    char *buf;
    size_t size, len;
    bool full;
} text_t;

static inline uint32_t
s_hash32 (const char *ptr, size_t len, uint64_t seed)
{
    return (uint32_t) dt_hash (ptr, len, seed);
}

static inline int64_t
s_abs (int64_t value)
{
    return value < 0? -value: value;
}

static inline account_t *
s_block (dt_engine_t *self, uint32_t index)
{
    return &self->chunks [index / CHUNK_ACCOUNTS][index % CHUNK_ACCOUNTS];
}

//  --------------------------------------------------------------------------
//  Messages

static void
s_put (text_t *text, const char *ptr, size_t len)
{
    if (text->full)
        return;
    size_t room = text->size - 1 - text->len;
    if (len > room) {
        //  Cut before a continuation byte so the message stays valid UTF-8
        len = room;
        while (len > 0 && ((uint8_t) ptr [len] & 0xC0) == 0x80)
            len--;
        text->full = true;
    }
    memcpy (text->buf + text->len, ptr, len);
    text->len += len;
    text->buf [text->len] = 0;
}

static void
s_puts (text_t *text, const char *cstr)
{
    s_put (text, cstr, strlen (cstr));
}

static void
s_int (text_t *text, long long value)
{
    char digits [24];
    size_t len = 0;
    unsigned long long magnitude = value < 0? 0ULL - (unsigned long long) value:
                                              (unsigned long long) value;
    do {
        digits [sizeof digits - 1 - len++] = (char) ('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0)
        digits [sizeof digits - 1 - len++] = '-';
    s_put (text, digits + sizeof digits - len, len);
}

//  printf for messages, but only %s, %d and %lld: libc's vsnprintf cost
//  more than all the rules together when most touchpoints had findings
static void
s_printf (text_t *text, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_printf (text_t *text, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    const char *cursor = format;
    while (*cursor) {
        const char *percent = strchr (cursor, '%');
        if (!percent) {
            s_puts (text, cursor);
            break;
        }
        s_put (text, cursor, (size_t) (percent - cursor));
        if (percent [1] == 's') {
            s_puts (text, va_arg (args, const char *));
            cursor = percent + 2;
        }
        else
        if (percent [1] == 'd') {
            s_int (text, va_arg (args, int));
            cursor = percent + 2;
        }
        else
        if (strncmp (percent, "%lld", 4) == 0) {
            s_int (text, va_arg (args, long long));
            cursor = percent + 4;
        }
        else {
            assert (false);         //  a format this function does not know
            break;
        }
    }
    va_end (args);
}

//  A slice from a customer system, shown at most max bytes long; control
//  characters become spaces so a message stays one line
static void
s_slice (text_t *text, const char *ptr, size_t len, size_t max)
{
    bool cut = len > max;
    if (cut) {
        len = max;
        while (len > 0 && ((uint8_t) ptr [len] & 0xC0) == 0x80)
            len--;
    }
    size_t start = 0;
    for (size_t i = 0; i < len; i++)
        if ((uint8_t) ptr [i] < 0x20 || ptr [i] == 0x7F) {
            s_put (text, ptr + start, i - start);
            s_put (text, " ", 1);
            start = i + 1;
        }
    s_put (text, ptr + start, len - start);
    if (cut)
        s_puts (text, "\xE2\x80\xA6");
}

static void
s_str (text_t *text, dt_str_t str)
{
    s_slice (text, str.ptr, str.len, 64);
}

static void
s_date (text_t *text, int64_t ms)
{
    static const char *months [12] = {
        "January", "February", "March", "April", "May", "June", "July",
        "August", "September", "October", "November", "December"
    };
    int64_t days = ms >= 0? ms / DAY_MS: -((-ms + DAY_MS - 1) / DAY_MS);
    int64_t year;
    int month, day;
    dt_civil_from_days (days, &year, &month, &day);
    s_printf (text, "%d %s %lld", day, months [month - 1], (long long) year);
}


//  "contact X at account A", or "account A" when there is no contact
static void
s_who (text_t *text, const dt_event_t *ev)
{
    if (ev->contact.len) {
        s_puts (text, "contact ");
        s_str (text, ev->contact);
        s_puts (text, " at ");
    }
    s_puts (text, "account ");
    s_str (text, ev->account);
}

static const char *
s_track (int track)
{
    return dt_track_name ((dt_track_t) track);
}

//  Count the finding in the verdict and return where to write it, or NULL
//  if the caller's array is full (the verdict still counts it)
static dt_finding_t *
s_emit (dt_engine_t *self, sink_t *sink, dt_rule_t rule, text_t *text)
{
    dt_severity_t severity = self->cfg.severity [rule];
    if (severity == DT_SEV_VIOLATION)
        sink->verdict = DT_VERDICT_VIOLATION;
    else
    if (severity == DT_SEV_WARN && sink->verdict == DT_VERDICT_OK)
        sink->verdict = DT_VERDICT_WARN;
    if (sink->count >= sink->max)
        return NULL;
    dt_finding_t *finding = &sink->findings [sink->count++];
    finding->rule = rule;
    finding->severity = severity;
    finding->message [0] = 0;
    finding->related_count = 0;
    text->buf = finding->message;
    text->size = sizeof finding->message;
    text->len = 0;
    text->full = false;
    return finding;
}

static inline bool
s_enabled (dt_engine_t *self, dt_rule_t rule)
{
    return self->cfg.severity [rule] != DT_SEV_OFF;
}

static void
s_related (dt_finding_t *finding, const char *ptr, size_t len)
{
    if (finding->related_count >= DT_RELATED_MAX || len == 0 || len > DT_ID_MAX)
        return;
    memcpy (finding->related [finding->related_count], ptr, len);
    finding->related [finding->related_count++][len] = 0;
}

//  --------------------------------------------------------------------------
//  Account memory

static inline uint8_t
s_part (uint8_t flags)
{
    return (uint8_t) ((1u << (flags & TF_SALES))
                    | (1u << ((flags & TF_LEAD_SALES) >> 1))
                    | ((flags >> TF_ADVISOR_SHIFT) & 3));
}

//  T48: a time to the ms in 48 bits, as ms since DT_OCCURRED_MIN (42 bits
//  reach 2139; times outside the contract's range are clamped)
static inline void
s_t48_set (uint32_t *lo, uint16_t *hi, int64_t at)
{
    int64_t ms = at - DT_OCCURRED_MIN;
    ms = ms < 0? 0: ms > 0x7FFFFFFFFFFFLL? 0x7FFFFFFFFFFFLL: ms;
    *lo = (uint32_t) ms;
    *hi = (uint16_t) (ms >> 32);
}

static inline int64_t
s_t48 (uint32_t lo, uint16_t hi)
{
    return DT_OCCURRED_MIN + (int64_t) ((uint64_t) hi << 32 | lo);
}

//  True if a T48 time is set and within window of at (both ends count)
static inline bool
s_t48_within (uint32_t lo, uint16_t hi, int64_t at, int64_t window)
{
    return hi != T48_NONE && s_abs (s_t48 (lo, hi) - at) <= window;
}

//  Copy the id of touch i out of the ring into out (DT_ID_MAX + 1 bytes);
//  returns its length, or 0 if the ring no longer holds it
static size_t
s_touch_id (const account_t *account, int i, char *out)
{
    size_t off = account->t_id_off [i];
    if (off >= IDLOG_SIZE)
        return 0;
    //  Once overwritten, the length byte may be anything: the hash decides
    size_t len = (uint8_t) account->idlog [off];
    if (len == 0 || len > DT_ID_MAX)
        return 0;
    off = (off + 1) % IDLOG_SIZE;
    size_t head = IDLOG_SIZE - off < len? IDLOG_SIZE - off: len;
    memcpy (out, account->idlog + off, head);
    memcpy (out + head, account->idlog, len - head);
    out [len] = 0;
    return s_hash32 (out, len, SEED_ID) == account->t_id [i]? len: 0;
}

//  Add the id of touch i to the finding's related ids. Touches in memory
//  have distinct ids, so there is nothing to deduplicate.
static void
s_related_touch (dt_finding_t *finding, const account_t *account, int i)
{
    if (finding && finding->related_count < DT_RELATED_MAX
    &&  s_touch_id (account, i, finding->related [finding->related_count]))
        finding->related_count++;
}

//  The touch kept under this event's id, if any: a replay, or a resend that
//  reuses the id for another event. Either way the store keeps the first
//  version only, so memory does too. The id is compared in full while the
//  ring holds it, by its hash after.
static int
s_replay (const account_t *account, const info_t *info)
{
    for (int i = 0; i < account->touch_count; i++)
        if (account->t_id [i] == info->id) {
            char id [DT_ID_MAX + 1];
            dt_str_t want = info->ev->id;
            size_t len = s_touch_id (account, i, id);
            if (len == 0 || (len == want.len && memcmp (id, want.ptr, len) == 0))
                return i;
        }
    return -1;
}

//  Memory lets go of a touch: note when, and who took part
static inline void
s_drop (account_t *account, int64_t at, uint8_t part)
{
    if (at > account->dropped)
        account->dropped = at;
    account->dropped_part |= part;
}

static void
s_touch_add (account_t *account, const info_t *info)
{
    const dt_event_t *ev = info->ev;
    int slot;
    if (account->touch_count < TOUCH_CAP)
        slot = account->touch_count++;
    else {
        //  Full: the oldest touch makes room, unless this one is older still
        slot = 0;
        for (int i = 1; i < TOUCH_CAP; i++)
            if (account->t_at [i] < account->t_at [slot])
                slot = i;
        if (ev->occurred_at < account->t_at [slot]) {
            s_drop (account, ev->occurred_at, info->part);
            return;
        }
        s_drop (account, account->t_at [slot], s_part (account->t_flags [slot]));
    }
    account->t_at [slot] = ev->occurred_at;
    account->t_id [slot] = info->id;
    account->t_contact [slot] = info->contact;
    account->t_flags [slot] = info->flags;
    account->t_id_off [slot] = ID_NONE;
    size_t len = ev->id.len;
    if (len > 0 && len <= DT_ID_MAX && len < IDLOG_SIZE) {
        //  A length byte, then the id, wrapping round the ring
        size_t off = account->log_head;
        account->idlog [off] = (char) len;
        size_t start = (off + 1) % IDLOG_SIZE;
        size_t head = IDLOG_SIZE - start < len? IDLOG_SIZE - start: len;
        memcpy (account->idlog + start, ev->id.ptr, head);
        memcpy (account->idlog, ev->id.ptr + head, len - head);
        account->log_head = (uint8_t) ((start + len) % IDLOG_SIZE);
        account->t_id_off [slot] = (uint8_t) off;
    }
}

//  For the sequence rule: did marketing take part in a touch with
//  occurred_at in [from, at], or sales in one in [from, at), other than
//  touch skip? Exact from the kept touches while the range starts after
//  the newest touch memory let go, or neither track took part in those.
//  Otherwise a forgotten touch may have been in the range: the answer is
//  yes, so the rule stays quiet rather than guess.
static bool
s_road_taken (const account_t *account, int64_t from, int64_t at, int skip)
{
    for (int i = 0; i < account->touch_count; i++) {
        int64_t when = account->t_at [i];
        if (i == skip || when < from || when > at)
            continue;
        uint8_t part = s_part (account->t_flags [i]);
        if ((part & (1 << DT_TRACK_MARKETING)) || ((part & (1 << DT_TRACK_SALES)) && when < at))
            return true;
    }
    return account->dropped >= from && account->dropped_part;
}

static bool
s_seen (const account_t *account, uint32_t hash, int64_t at, int64_t window)
{
    for (int i = 0; i < account->seen_count; i++)
        if (account->seen [i] == hash)
            return s_t48_within (account->seen_lo [i], account->seen_hi [i], at, window);
    return false;
}

static void
s_seen_add (account_t *account, uint32_t hash, int64_t at)
{
    int slot = -1;
    for (int i = 0; i < account->seen_count && slot < 0; i++)
        if (account->seen [i] == hash)
            slot = i;
    if (slot >= 0) {
        if (at > s_t48 (account->seen_lo [slot], account->seen_hi [slot]))
            s_t48_set (&account->seen_lo [slot], &account->seen_hi [slot], at);
        return;
    }
    if (account->seen_count < SEEN_CAP)
        slot = account->seen_count++;
    else {
        slot = 0;
        for (int i = 1; i < SEEN_CAP; i++)
            if (s_t48 (account->seen_lo [i], account->seen_hi [i])
              < s_t48 (account->seen_lo [slot], account->seen_hi [slot]))
                slot = i;
        if (at < s_t48 (account->seen_lo [slot], account->seen_hi [slot]))
            return;
    }
    account->seen [slot] = hash;
    s_t48_set (&account->seen_lo [slot], &account->seen_hi [slot], at);
}

static project_rec_t *
s_project (account_t *account, uint32_t hash)
{
    for (int i = 0; i < account->project_count; i++)
        if (account->projects [i].hash == hash)
            return &account->projects [i];
    return NULL;
}

//  The last time any track took part in the project
static int64_t
s_project_newest (const project_rec_t *project)
{
    int64_t newest = INT64_MIN;
    for (int track = 0; track < DT_TRACKS; track++)
        if (project->hi [track] != T48_NONE
        &&  s_t48 (project->lo [track], project->hi [track]) > newest)
            newest = s_t48 (project->lo [track], project->hi [track]);
    return newest;
}

static void
s_project_add (account_t *account, uint32_t hash, int64_t at, uint8_t tracks)
{
    project_rec_t *project = s_project (account, hash);
    if (!project) {
        if (account->project_count < PROJECT_CAP)
            project = &account->projects [account->project_count++];
        else {
            //  The project nobody worked on for longest makes room
            project = &account->projects [0];
            for (int i = 1; i < PROJECT_CAP; i++)
                if (s_project_newest (&account->projects [i]) < s_project_newest (project))
                    project = &account->projects [i];
            if (at < s_project_newest (project))
                return;
        }
        project->hash = hash;
        for (int track = 0; track < DT_TRACKS; track++) {
            project->lo [track] = 0;
            project->hi [track] = T48_NONE;
        }
    }
    for (int track = 0; track < DT_TRACKS; track++)
        if ((tracks & (1 << track))
        &&  (project->hi [track] == T48_NONE
          || at > s_t48 (project->lo [track], project->hi [track])))
            s_t48_set (&project->lo [track], &project->hi [track], at);
}

static const claim_rec_t *
s_claim (const account_t *account, uint32_t key_hash, int track)
{
    for (int i = 0; i < account->claim_count; i++)
        if (account->claims [i].key_hash == key_hash && account->claims [i].track == track)
            return &account->claims [i];
    return NULL;
}

//  Squeeze the claim strings to the start of the arena
static void
s_arena_compact (account_t *account)
{
    uint8_t *offs [CLAIM_CAP * 2];
    uint8_t lens [CLAIM_CAP * 2];
    int count = 0;
    for (int i = 0; i < account->claim_count; i++) {
        claim_rec_t *claim = &account->claims [i];
        if (claim->id_len) {
            offs [count] = &claim->id_off;
            lens [count++] = claim->id_len;
        }
        if (claim->value_len) {
            offs [count] = &claim->value_off;
            lens [count++] = claim->value_len;
        }
    }
    //  Insertion sort by offset: at most eight strings
    for (int i = 1; i < count; i++)
        for (int j = i; j > 0 && *offs [j - 1] > *offs [j]; j--) {
            uint8_t *off = offs [j]; offs [j] = offs [j - 1]; offs [j - 1] = off;
            uint8_t len = lens [j]; lens [j] = lens [j - 1]; lens [j - 1] = len;
        }
    size_t used = 0;
    for (int i = 0; i < count; i++) {
        if (*offs [i] != used)
            memmove (account->arena + used, account->arena + *offs [i], lens [i]);
        *offs [i] = (uint8_t) used;
        used += lens [i];
    }
    account->arena_used = (uint8_t) used;
}

static void
s_claim_set (account_t *account, const info_t *info, uint32_t key_hash, dt_str_t value)
{
    const dt_event_t *ev = info->ev;
    uint64_t value_hash = dt_hash (value.ptr, value.len, SEED_VALUE);
    claim_rec_t *claim = NULL;
    for (int i = 0; i < account->claim_count && !claim; i++)
        if (account->claims [i].key_hash == key_hash && account->claims [i].track == info->owner)
            claim = &account->claims [i];
    if (claim) {
        //  The latest statement of the leading track is its position
        if (ev->occurred_at < claim->at
        || (ev->occurred_at == claim->at && value_hash == claim->value_hash))
            return;
    }
    else
    if (account->claim_count < CLAIM_CAP)
        claim = &account->claims [account->claim_count++];
    else {
        claim = &account->claims [0];
        for (int i = 1; i < CLAIM_CAP; i++)
            if (account->claims [i].at < claim->at)
                claim = &account->claims [i];
        if (ev->occurred_at < claim->at)
            return;
    }
    claim->id_len = claim->value_len = 0;
    s_arena_compact (account);

    size_t value_len = value.len, id_len = ev->id.len <= DT_ID_MAX? ev->id.len: 0;
    claim->value_cut = value_len > VALUE_KEPT;
    if (claim->value_cut) {
        value_len = VALUE_KEPT;
        while (value_len > 0 && ((uint8_t) value.ptr [value_len] & 0xC0) == 0x80)
            value_len--;
    }
    //  Make room by forgetting the strings of the oldest other claims
    while ((size_t) (ARENA_SIZE - account->arena_used) < value_len + id_len) {
        claim_rec_t *oldest = NULL;
        for (int i = 0; i < account->claim_count; i++) {
            claim_rec_t *other = &account->claims [i];
            if (other != claim && (other->id_len || other->value_len)
            &&  (!oldest || other->at < oldest->at))
                oldest = other;
        }
        if (!oldest)
            break;
        oldest->id_len = oldest->value_len = 0;
        s_arena_compact (account);
    }
    if ((size_t) (ARENA_SIZE - account->arena_used) >= value_len) {
        memcpy (account->arena + account->arena_used, value.ptr, value_len);
        claim->value_off = account->arena_used;
        claim->value_len = (uint8_t) value_len;
        account->arena_used += (uint8_t) value_len;
    }
    if ((size_t) (ARENA_SIZE - account->arena_used) >= id_len) {
        memcpy (account->arena + account->arena_used, ev->id.ptr, id_len);
        claim->id_off = account->arena_used;
        claim->id_len = (uint8_t) id_len;
        account->arena_used += (uint8_t) id_len;
    }
    claim->at = ev->occurred_at;
    claim->value_hash = value_hash;
    claim->key_hash = key_hash;
    claim->contact = info->contact;
    claim->track = (uint8_t) info->owner;
}

static inline bool
s_claim_pair (const msgpack_object_kv *kv, dt_str_t *key, dt_str_t *value)
{
    if (kv->key.type != MSGPACK_OBJECT_STR || kv->val.type != MSGPACK_OBJECT_STR)
        return false;
    *key = dt_str_of (&kv->key);
    *value = dt_str_of (&kv->val);
    return true;
}

//  Remember a judged touchpoint. An id memory already holds (replay >= 0)
//  changes nothing: a replay is already remembered, and a different event
//  under a stored id is not stored (the first version wins).
static void
s_commit (account_t *account, const info_t *info, int replay)
{
    if (replay >= 0)
        return;
    const dt_event_t *ev = info->ev;
    int64_t at = ev->occurred_at;
    if (at > account->newest)
        account->newest = at;
    s_touch_add (account, info);
    if (info->owner_speaks) {
        if (ev->theme.len)
            s_seen_add (account, s_hash32 (ev->theme.ptr, ev->theme.len,
                                           SEED_SEEN_THEME + info->owner), at);
        for (uint32_t i = 0; i < ev->claim_count; i++) {
            dt_str_t key, value;
            if (!s_claim_pair (&ev->claims [i], &key, &value))
                continue;
            s_seen_add (account, s_hash32 (key.ptr, key.len, SEED_SEEN_KEY + info->owner), at);
            s_claim_set (account, info, s_hash32 (key.ptr, key.len, SEED_KEY), value);
        }
    }
    if (ev->project.len)
        s_project_add (account, s_hash32 (ev->project.ptr, ev->project.len, SEED_PROJECT),
                       at, info->part);
}

//  --------------------------------------------------------------------------
//  The account table

static void
s_account_init (account_t *account, uint64_t key)
{
    memset (account, 0, sizeof *account);
    account->key = key;
    account->newest = INT64_MIN;
    account->dropped = INT64_MIN;
}

//  The first slot from slot on whose tag matches key, or the empty slot that
//  ends the cluster. Reads only the table, not the blocks.
static inline size_t
s_probe (dt_engine_t *self, uint64_t key, size_t slot)
{
    size_t mask = self->slot_count - 1;
    uint32_t tag = (uint32_t) (key >> 32);
    uint64_t entry;
    while ((entry = self->slots [slot]) && (uint32_t) (entry >> 32) != tag)
        slot = (slot + 1) & mask;
    return slot;
}

//  The account with key, starting from the slot s_probe found
static account_t *
s_find_from (dt_engine_t *self, uint64_t key, size_t slot)
{
    uint64_t entry;
    while ((entry = self->slots [slot])) {
        account_t *account = s_block (self, (uint32_t) entry - 1);
        if (account->key == key)
            return account;
        slot = s_probe (self, key, (slot + 1) & (self->slot_count - 1));
    }
    return NULL;
}

static account_t *
s_find (dt_engine_t *self, uint64_t key)
{
    return s_find_from (self, key, s_probe (self, key, key & (self->slot_count - 1)));
}

static void
s_slot_put (uint64_t *slots, size_t slot_count, uint64_t key, uint32_t index)
{
    size_t mask = slot_count - 1;
    size_t slot = key & mask;
    while (slots [slot])
        slot = (slot + 1) & mask;
    slots [slot] = (key >> 32) << 32 | ((uint64_t) index + 1);
}

static int
s_table_grow (dt_engine_t *self)
{
    size_t count = self->slot_count * 2;
    uint64_t *slots = (uint64_t *) calloc (count, sizeof (uint64_t));
    if (!slots)
        return -1;
    for (size_t i = 0; i < self->slot_count; i++) {
        uint64_t entry = self->slots [i];
        if (entry) {
            uint32_t index = (uint32_t) entry - 1;
            s_slot_put (slots, count, s_block (self, index)->key, index);
        }
    }
    free (self->slots);
    self->slots = slots;
    self->slot_count = count;
    return 0;
}

static account_t *
s_create (dt_engine_t *self, uint64_t key)
{
    //  Keep the load under 4/5: linear probing stays short
    if ((self->accounts + 1) * 5 > self->slot_count * 4 && s_table_grow (self))
        return NULL;
    uint32_t index;
    if (self->free_count)
        index = self->free_list [--self->free_count];
    else {
        if (self->blocks_used == self->chunk_count * CHUNK_ACCOUNTS) {
            //  On a cache line: the lines a block takes are the fewest
            account_t *chunk = (account_t *) aligned_alloc (64, CHUNK_ACCOUNTS * sizeof (account_t));
            account_t **chunks = (account_t **) realloc (self->chunks,
                (self->chunk_count + 1) * sizeof (account_t *));
            uint32_t *free_list = (uint32_t *) realloc (self->free_list,
                (self->chunk_count + 1) * CHUNK_ACCOUNTS * sizeof (uint32_t));
            if (chunks)
                self->chunks = chunks;
            if (free_list)
                self->free_list = free_list;
            if (!chunk || !chunks || !free_list) {
                free (chunk);
                return NULL;
            }
            self->chunks [self->chunk_count++] = chunk;
        }
        index = (uint32_t) self->blocks_used++;
    }
    account_t *account = s_block (self, index);
    s_account_init (account, key);
    s_slot_put (self->slots, self->slot_count, key, index);
    self->accounts++;
    return account;
}

//  Remove the entry in slot, shifting later entries of its cluster back
static void
s_slot_delete (dt_engine_t *self, size_t hole)
{
    size_t mask = self->slot_count - 1;
    size_t slot = hole;
    while (true) {
        slot = (slot + 1) & mask;
        uint64_t entry = self->slots [slot];
        if (!entry)
            break;
        size_t home = s_block (self, (uint32_t) entry - 1)->key & mask;
        bool stays = hole <= slot? (hole < home && home <= slot): (hole < home || home <= slot);
        if (!stays) {
            self->slots [hole] = entry;
            hole = slot;
        }
    }
    self->slots [hole] = 0;
}

//  The account's memory, looked up from the slot s_probe found; creates it
//  (and lets the loader fill it) if asked
static account_t *
s_account (dt_engine_t *self, dt_str_t id, uint64_t key, size_t slot, bool create, bool load)
{
    account_t *account = s_find_from (self, key, slot);
    if (account || !create)
        return account;
    account = s_create (self, key);
    if (account && load && self->loader && !self->loading) {
        //  Blocks never move, so the pointer survives whatever the loader
        //  remembers; eviction is off while it runs
        self->loading = true;
        self->loader (self->loader_ctx, id, self);
        self->loading = false;
    }
    return account;
}

//  --------------------------------------------------------------------------
//  The rules

static int
s_info (dt_engine_t *self, const dt_event_t *ev, info_t *info)
{
    if (ev->track != DT_TRACK_MARKETING && ev->track != DT_TRACK_SALES)
        return -1;
    if (ev->stage_index < 0 || ev->stage_index >= self->stages.count)
        return -1;
    int owner = self->stages.owner [ev->stage_index];
    if (owner != DT_TRACK_MARKETING && owner != DT_TRACK_SALES)
        return -1;
    info->ev = ev;
    info->track = ev->track;
    info->lead = ev->lead == DT_TRACK_MARKETING || ev->lead == DT_TRACK_SALES? ev->lead: ev->track;
    info->owner = owner;
    uint8_t advisors = ev->advisors & 3;
    info->part = (uint8_t) ((1u << info->track) | (1u << info->lead) | advisors);
    info->owner_speaks = info->track == owner || info->lead == owner;
    info->transactional = ev->category == DT_CATEGORY_TRANSACTIONAL;
    info->flags = (uint8_t) (info->track | info->lead << 1 | advisors << TF_ADVISOR_SHIFT
                           | (info->transactional? TF_TRANSACTIONAL: 0));
    info->contact = 0;
    if (ev->contact.len) {
        info->contact = s_hash32 (ev->contact.ptr, ev->contact.len, SEED_CONTACT);
        if (!info->contact)
            info->contact = 1;      //  0 means "no contact"
    }
    info->id = s_hash32 (ev->id.ptr, ev->id.len, SEED_ID);
    return 0;
}

static void
s_stage_crossing (dt_engine_t *self, const info_t *info, sink_t *sink)
{
    if (!s_enabled (self, DT_RULE_STAGE_CROSSING) || (info->part & (1 << info->owner)))
        return;
    text_t text;
    if (!s_emit (self, sink, DT_RULE_STAGE_CROSSING, &text))
        return;
    const dt_event_t *ev = info->ev;
    s_printf (&text, "%s touched ", s_track (info->track));
    s_who (&text, ev);
    s_printf (&text, " at stage %s, which %s owns, on ", self->stages.name [ev->stage_index],
              s_track (info->owner));
    s_date (&text, ev->occurred_at);
    s_printf (&text, " without %s as lead or advisor.", s_track (info->owner));
}

static void
s_collision (dt_engine_t *self, const account_t *account, const info_t *info, int replay,
             sink_t *sink)
{
    if (!s_enabled (self, DT_RULE_COLLISION) || info->transactional)
        return;
    int other = 1 - info->track;
    //  A touch that names the other track as lead or advisor is joint work
    if (info->part != (1 << info->track))
        return;
    int64_t at = info->ev->occurred_at, window = self->cfg.collision_window;
    bool by_contact = self->cfg.collision_scope == DT_SCOPE_CONTACT && info->contact;
    int hits [TOUCH_CAP], count = 0;
    for (int i = 0; i < account->touch_count; i++) {
        uint8_t flags = account->t_flags [i];
        if (i == replay || (flags & TF_TRANSACTIONAL) || (flags & TF_SALES) != other
        ||  s_part (flags) != (1 << other)
        ||  s_abs (account->t_at [i] - at) > window)
            continue;
        if (by_contact && account->t_contact [i] && account->t_contact [i] != info->contact)
            continue;
        hits [count++] = i;
    }
    if (!count)
        return;
    text_t text;
    dt_finding_t *finding = s_emit (self, sink, DT_RULE_COLLISION, &text);
    if (!finding)
        return;
    //  Nearest in time first: that is the one the customer felt
    for (int i = 1; i < count; i++)
        for (int j = i; j > 0 && s_abs (account->t_at [hits [j]] - at)
                               < s_abs (account->t_at [hits [j - 1]] - at); j--) {
            int swap = hits [j]; hits [j] = hits [j - 1]; hits [j - 1] = swap;
        }
    const dt_event_t *ev = info->ev;
    s_printf (&text, "%s and %s both touched ", s_track (other), s_track (info->track));
    if (by_contact)
        s_who (&text, ev);
    else {
        s_puts (&text, "account ");
        s_str (&text, ev->account);
    }
    s_puts (&text, " within ");
    s_puts (&text, self->collision_text);
    s_printf (&text, " without working together: %s on ", s_track (other));
    s_date (&text, account->t_at [hits [0]]);
    if (count > 1)
        s_printf (&text, " (and %d more touch%s)", count - 1, count > 2? "es": "");
    s_printf (&text, ", %s on ", s_track (info->track));
    s_date (&text, at);
    s_puts (&text, ".");
    for (int i = 0; i < count; i++)
        s_related_touch (finding, account, hits [i]);
}

static void
s_themes (dt_engine_t *self, const info_t *info, sink_t *sink)
{
    const dt_event_t *ev = info->ev;
    if (!self->tonebook || !ev->theme.len)
        return;
    int64_t when = 0;
    const char *stages = "";
    dt_theme_status_t status = dt_tonebook_theme (self->tonebook, ev->theme, ev->occurred_at,
                                                  ev->stage_index, &when, &stages);
    if (status == DT_THEME_OK)
        return;
    dt_rule_t rule = status == DT_THEME_WRONG_STAGE? DT_RULE_THEME_STAGE: DT_RULE_UNKNOWN_THEME;
    text_t text;
    if (!s_enabled (self, rule) || !s_emit (self, sink, rule, &text))
        return;
    s_printf (&text, "%s used theme \"", s_track (info->track));
    s_str (&text, ev->theme);
    s_puts (&text, "\" with ");
    s_who (&text, ev);
    if (status == DT_THEME_WRONG_STAGE)
        s_printf (&text, " at stage %s", self->stages.name [ev->stage_index]);
    s_puts (&text, " on ");
    s_date (&text, ev->occurred_at);
    switch (status) {
        case DT_THEME_UNKNOWN:
            s_puts (&text, ", but the tone book does not have that theme.");
            break;
        case DT_THEME_RETIRED:
            s_puts (&text, ", but the tone book has retired it.");
            break;
        case DT_THEME_NOT_YET:
            s_puts (&text, ", but it is only valid from ");
            s_date (&text, when);
            s_puts (&text, ".");
            break;
        case DT_THEME_EXPIRED:
            s_puts (&text, ", but it stopped being valid on ");
            s_date (&text, when);
            s_puts (&text, ".");
            break;
        default:
            s_printf (&text, "; the tone book approves it only at %s.", stages);
    }
}

static void
s_banned (dt_engine_t *self, const info_t *info, sink_t *sink)
{
    const dt_event_t *ev = info->ev;
    if (!self->tonebook || !s_enabled (self, DT_RULE_BANNED_PHRASE)
    ||  !dt_tonebook_phrases (self->tonebook))
        return;
    enum { HITS = 4 };
    int hits [HITS], count = 0;
    dt_str_t where [HITS];          //  "" for body, theme, or the claim key
    int kind [HITS];                //  0 body, 1 theme, 2 claim
    int before = count;
    if (ev->body.len) {
        dt_tonebook_scan (self->tonebook, ev->body.ptr, ev->body.len, hits, &count, HITS);
        for (; before < count; before++)
            kind [before] = 0;
    }
    if (ev->theme.len) {
        dt_tonebook_scan (self->tonebook, ev->theme.ptr, ev->theme.len, hits, &count, HITS);
        for (; before < count; before++)
            kind [before] = 1;
    }
    for (uint32_t i = 0; i < ev->claim_count && count < HITS; i++) {
        dt_str_t key, value;
        if (!s_claim_pair (&ev->claims [i], &key, &value))
            continue;
        dt_tonebook_scan (self->tonebook, value.ptr, value.len, hits, &count, HITS);
        for (; before < count; before++) {
            kind [before] = 2;
            where [before] = key;
        }
    }
    if (!count)
        return;
    text_t text;
    if (!s_emit (self, sink, DT_RULE_BANNED_PHRASE, &text))
        return;
    s_printf (&text, "a %s touchpoint to ", s_track (info->track));
    s_who (&text, ev);
    s_puts (&text, " on ");
    s_date (&text, ev->occurred_at);
    s_puts (&text, count == 1? " uses the banned phrase ": " uses the banned phrases ");
    for (int i = 0; i < count; i++) {
        const char *phrase = dt_tonebook_phrase (self->tonebook, hits [i]);
        s_puts (&text, i == 0? "\"": i == count - 1? " and \"": ", \"");
        s_slice (&text, phrase, strlen (phrase), 60);
        s_puts (&text, kind [i] == 0? "\" in its body": kind [i] == 1? "\" in its theme":
                "\" in its claim ");
        if (kind [i] == 2)
            s_str (&text, where [i]);
    }
    s_puts (&text, ".");
}

static void
s_claims (dt_engine_t *self, const account_t *account, const info_t *info, sink_t *sink)
{
    const dt_event_t *ev = info->ev;
    bool check_conflict = s_enabled (self, DT_RULE_CLAIM_CONFLICT);
    bool check_lead = s_enabled (self, DT_RULE_LEAD_VIOLATION) && !info->owner_speaks;
    if (!check_conflict && !check_lead)
        return;
    int owner = info->owner;
    //  Lead violation: what the non-leading track brings up that the owner
    //  of the stage range has not used with this account
    bool new_theme = false;
    dt_str_t new_keys [4];
    int new_key_count = 0, new_key_more = 0;
    if (check_lead && ev->theme.len
    &&  !s_seen (account, s_hash32 (ev->theme.ptr, ev->theme.len, SEED_SEEN_THEME + owner),
                 ev->occurred_at, self->cfg.memory_window))
        new_theme = true;

    for (uint32_t i = 0; i < ev->claim_count; i++) {
        dt_str_t key, value, canonical;
        if (!s_claim_pair (&ev->claims [i], &key, &value))
            continue;
        bool has_canonical = self->tonebook
                          && dt_tonebook_canonical (self->tonebook, key, &canonical);
        if (check_lead && !has_canonical
        &&  !s_seen (account, s_hash32 (key.ptr, key.len, SEED_SEEN_KEY + owner),
                     ev->occurred_at, self->cfg.memory_window)) {
            if (new_key_count < 4)
                new_keys [new_key_count++] = key;
            else
                new_key_more++;
        }
        if (!check_conflict)
            continue;
        //  A canonical value is the authority for everyone; otherwise the
        //  owner's latest statement is, for the track that does not own
        const claim_rec_t *claim = NULL;
        uint64_t value_hash = dt_hash (value.ptr, value.len, SEED_VALUE);
        if (!info->owner_speaks && !has_canonical) {
            claim = s_claim (account, s_hash32 (key.ptr, key.len, SEED_KEY), owner);
            if (claim && (claim->value_hash == value_hash
                       || s_abs (claim->at - ev->occurred_at) > self->cfg.memory_window))
                claim = NULL;
        }
        bool off_canonical = has_canonical
                          && !(canonical.len == value.len
                               && memcmp (canonical.ptr, value.ptr, value.len) == 0);
        if (!claim && !off_canonical)
            continue;
        text_t text;
        dt_finding_t *finding = s_emit (self, sink, DT_RULE_CLAIM_CONFLICT, &text);
        if (!finding)
            continue;
        if (claim) {
            //  "sales quoted price 12,000 CNY to account ACME on 3 May 2026;
            //  marketing told the same contact 9,900 CNY on 5 May 2026."
            s_printf (&text, "%s quoted ", s_track (owner));
            s_str (&text, key);
            if (claim->value_len) {
                s_puts (&text, " ");
                s_slice (&text, account->arena + claim->value_off, claim->value_len,
                         VALUE_KEPT);
                if (claim->value_cut)
                    s_puts (&text, "\xE2\x80\xA6");
            }
            else
                s_puts (&text, " a different value");
            s_puts (&text, " to account ");
            s_str (&text, ev->account);
            s_puts (&text, " on ");
            s_date (&text, claim->at);
            s_printf (&text, "; %s told ", s_track (info->track));
            if (info->contact && claim->contact == info->contact)
                s_puts (&text, "the same contact ");
            else
            if (info->contact) {
                s_puts (&text, "contact ");
                s_str (&text, ev->contact);
                s_puts (&text, " ");
            }
            else
                s_puts (&text, "the account ");
            s_str (&text, value);
            s_puts (&text, " on ");
            s_date (&text, ev->occurred_at);
            s_puts (&text, ".");
            if (claim->id_len)
                s_related (finding, account->arena + claim->id_off, claim->id_len);
        }
        else {
            s_printf (&text, "%s told ", s_track (info->track));
            s_who (&text, ev);
            s_puts (&text, " ");
            s_str (&text, key);
            s_puts (&text, " ");
            s_str (&text, value);
            s_puts (&text, " on ");
            s_date (&text, ev->occurred_at);
            s_puts (&text, "; the tone book's canonical ");
            s_str (&text, key);
            s_puts (&text, " is ");
            s_str (&text, canonical);
            s_puts (&text, ".");
        }
    }

    if (!new_theme && !new_key_count)
        return;
    text_t text;
    if (!s_emit (self, sink, DT_RULE_LEAD_VIOLATION, &text))
        return;
    s_printf (&text, "%s introduced ", s_track (info->track));
    if (new_theme) {
        s_puts (&text, "theme \"");
        s_str (&text, ev->theme);
        s_puts (&text, "\"");
    }
    if (new_key_count) {
        s_puts (&text, new_theme? " and ": "");
        s_puts (&text, new_key_count + new_key_more > 1? "claims ": "claim ");
        for (int i = 0; i < new_key_count; i++) {
            s_puts (&text, i == 0? "": i == new_key_count - 1 && !new_key_more? " and ": ", ");
            s_str (&text, new_keys [i]);
        }
        if (new_key_more)
            s_printf (&text, " and %d more", new_key_more);
    }
    s_puts (&text, " to ");
    s_who (&text, info->ev);
    s_printf (&text, " at stage %s on ", self->stages.name [info->ev->stage_index]);
    s_date (&text, info->ev->occurred_at);
    s_printf (&text, "; %s leads that stage and had not used %s with this account.",
              s_track (owner), new_key_count + new_key_more + new_theme > 1? "them": "it");
}

static void
s_sequence (dt_engine_t *self, const account_t *account, const info_t *info, int replay,
            sink_t *sink)
{
    const int marketing = DT_TRACK_MARKETING, sales = DT_TRACK_SALES;
    if (!s_enabled (self, DT_RULE_SEQUENCE)
    ||  !(info->part & (1 << sales)) || (info->part & (1 << marketing)))
        return;
    int64_t at = info->ev->occurred_at, window = self->cfg.sequence_window;
    //  Marketing opens the road: any marketing touch up to this moment will
    //  do; only sales' first touch in the window is judged
    if (s_road_taken (account, at - window, at, replay))
        return;
    text_t text;
    if (!s_emit (self, sink, DT_RULE_SEQUENCE, &text))
        return;
    s_puts (&text, "sales made its first touch on ");
    s_who (&text, info->ev);
    s_puts (&text, " on ");
    s_date (&text, at);
    s_puts (&text, " with no marketing touch on the account in the ");
    s_puts (&text, self->sequence_text);
    s_puts (&text, " before it; marketing should open the road first.");
}

static void
s_key_project (dt_engine_t *self, const account_t *account, const info_t *info, sink_t *sink)
{
    const dt_event_t *ev = info->ev;
    if (!s_enabled (self, DT_RULE_KEY_PROJECT_SOLO) || !ev->project.len
    ||  info->owner != DT_TRACK_SALES)
        return;
    //  Each track's last part in the project counts within the window
    uint8_t tracks = info->part;
    const project_rec_t *project = s_project ((account_t *) account,
        s_hash32 (ev->project.ptr, ev->project.len, SEED_PROJECT));
    for (int track = 0; project && track < DT_TRACKS; track++)
        if (s_t48_within (project->lo [track], project->hi [track], ev->occurred_at,
                          self->cfg.memory_window))
            tracks |= (uint8_t) (1 << track);
    if (tracks == 3)
        return;
    int missing = (tracks & (1 << DT_TRACK_MARKETING))? DT_TRACK_SALES: DT_TRACK_MARKETING;
    text_t text;
    if (!s_emit (self, sink, DT_RULE_KEY_PROJECT_SOLO, &text))
        return;
    s_printf (&text, "%s worked on key project \"", s_track (info->track));
    s_str (&text, ev->project);
    s_puts (&text, "\" with ");
    s_who (&text, ev);
    s_printf (&text, " at stage %s on ", self->stages.name [ev->stage_index]);
    s_date (&text, ev->occurred_at);
    s_printf (&text, ", but %s has not taken part in that project; lower-funnel work on a "
              "key project involves both tracks.", s_track (missing));
}

//  The most touches in one window of length period that contains at, given
//  the times of the other touches within period of it; *from gets the start
//  of that window. In time order the window simply ends at at.
static int
s_busiest (const int64_t *times, int count, int64_t at, int64_t period, int64_t *from)
{
    *from = at - period;
    bool late = false;
    for (int i = 0; i < count && !late; i++)
        late = times [i] > at;
    if (!late)
        return count;
    //  The best window starts at a touch, or at one end of the range
    int best = -1;
    for (int c = -2; c < count; c++) {
        int64_t start = c == -2? at - period: c == -1? at: times [c];
        if (start > at)
            continue;
        int inside = 0;
        for (int i = 0; i < count; i++)
            inside += times [i] >= start && times [i] <= start + period;
        if (inside > best) {
            best = inside;
            *from = start;
        }
    }
    return best;
}

static void
s_pressure (dt_engine_t *self, const account_t *account, const info_t *info, int replay,
            sink_t *sink)
{
    if (!s_enabled (self, DT_RULE_CONTACT_PRESSURE) || info->transactional)
        return;
    int64_t at = info->ev->occurred_at, period = self->cfg.pressure_period;
    int64_t account_times [TOUCH_CAP], contact_times [TOUCH_CAP];
    int account_count = 0, contact_count = 0;
    for (int i = 0; i < account->touch_count; i++) {
        if (i == replay || (account->t_flags [i] & TF_TRANSACTIONAL)
        ||  s_abs (account->t_at [i] - at) > period)
            continue;
        account_times [account_count++] = account->t_at [i];
        if (info->contact && account->t_contact [i] == info->contact)
            contact_times [contact_count++] = account->t_at [i];
    }
    int64_t account_from, contact_from = 0;
    int on_account = s_busiest (account_times, account_count, at, period, &account_from) + 1;
    int on_contact = info->contact?
        s_busiest (contact_times, contact_count, at, period, &contact_from) + 1: 0;
    bool contact_over = on_contact > self->cfg.pressure_contact_max;
    bool account_over = on_account > self->cfg.pressure_account_max;
    if (!contact_over && !account_over)
        return;
    text_t text;
    dt_finding_t *finding = s_emit (self, sink, DT_RULE_CONTACT_PRESSURE, &text);
    if (!finding)
        return;
    //  Report the contact when it is over its limit, else the account
    int64_t from = contact_over? contact_from: account_from;
    int per_track [DT_TRACKS] = { 0, 0 };
    per_track [info->track]++;
    for (int i = 0; i < account->touch_count; i++) {
        if (i == replay || (account->t_flags [i] & TF_TRANSACTIONAL)
        ||  account->t_at [i] < from || account->t_at [i] > from + period
        ||  s_abs (account->t_at [i] - at) > period
        ||  (contact_over && account->t_contact [i] != info->contact))
            continue;
        per_track [account->t_flags [i] & TF_SALES]++;
        s_related_touch (finding, account, i);
    }
    if (contact_over)
        s_who (&text, info->ev);
    else {
        s_puts (&text, "account ");
        s_str (&text, info->ev->account);
    }
    s_printf (&text, " got %d touches within ", contact_over? on_contact: on_account);
    s_puts (&text, self->pressure_text);
    s_printf (&text, " (limit %d): %d from marketing, %d from sales, this one from %s on ",
              contact_over? self->cfg.pressure_contact_max: self->cfg.pressure_account_max,
              per_track [DT_TRACK_MARKETING], per_track [DT_TRACK_SALES],
              s_track (info->track));
    s_date (&text, at);
    s_puts (&text, ".");
    if (contact_over && account_over)
        s_printf (&text, " The account as a whole got %d (limit %d).", on_account,
                  self->cfg.pressure_account_max);
}

//  --------------------------------------------------------------------------
//  The engine

//  Take a checked configuration
static void
s_configure (dt_engine_t *self, const dt_rules_config_t *cfg)
{
    self->cfg = *cfg;
    dt_duration_format (cfg->collision_window, self->collision_text,
                        sizeof self->collision_text);
    dt_duration_format (cfg->sequence_window, self->sequence_text, sizeof self->sequence_text);
    dt_duration_format (cfg->pressure_period, self->pressure_text, sizeof self->pressure_text);
}

dt_engine_t *
dt_engine_new (const dt_rules_config_t *cfg, const dt_stageset_t *stages)
{
    char err [256];
    dt_rules_config_t defaults;
    if (!cfg) {
        dt_rules_config_default (&defaults);
        cfg = &defaults;
    }
    if (dt_rules_config_check (cfg, err, sizeof err))
        return NULL;
    dt_engine_t *self = (dt_engine_t *) calloc (1, sizeof (dt_engine_t));
    if (!self)
        return NULL;
    s_configure (self, cfg);
    if (stages)
        self->stages = *stages;
    else
        dt_stageset_default (&self->stages);
    self->slot_count = 1024;
    self->slots = (uint64_t *) calloc (self->slot_count, sizeof (uint64_t));
    if (!self->slots) {
        free (self);
        return NULL;
    }
    s_account_init (&self->empty, 0);
    return self;
}

void
dt_engine_destroy (dt_engine_t **self_p)
{
    assert (self_p);
    dt_engine_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->chunk_count; i++)
        free (self->chunks [i]);
    free (self->chunks);
    free (self->free_list);
    free (self->slots);
    dt_tonebook_destroy (&self->tonebook);
    free (self);
    *self_p = NULL;
}

int
dt_engine_set_tonebook (dt_engine_t *self, dt_tonebook_t **tonebook_p, char *err, size_t errlen)
{
    assert (self);
    assert (tonebook_p);
    dt_tonebook_t *tonebook = *tonebook_p;
    *tonebook_p = NULL;
    if (tonebook && dt_tonebook_validate (tonebook, &self->stages, err, errlen)) {
        dt_tonebook_destroy (&tonebook);
        return -1;
    }
    dt_tonebook_destroy (&self->tonebook);
    self->tonebook = tonebook;
    return 0;
}

int
dt_engine_set_config (dt_engine_t *self, const dt_rules_config_t *cfg)
{
    assert (self);
    char err [256];
    if (!cfg || dt_rules_config_check (cfg, err, sizeof err))
        return -1;
    s_configure (self, cfg);
    return 0;
}

const dt_rules_config_t *
dt_engine_config (dt_engine_t *self)
{
    return &self->cfg;
}

//  Ask for every cache line of block bytes from..to (blocks do not start
//  on a line, so a range may touch one line more than its length says)
static inline void
s_prefetch (const char *block, size_t from, size_t to)
{
    uintptr_t line = ((uintptr_t) block + from) & ~(uintptr_t) 63;
    for (; line < (uintptr_t) block + to; line += 64)
        __builtin_prefetch ((const void *) line);
}

int
dt_engine_judge (dt_engine_t *self, const dt_event_t *ev, bool commit,
                 dt_finding_t *findings, int max, dt_verdict_t *verdict)
{
    assert (self);
    assert (ev);
    sink_t sink = { findings, findings && max > 0? max: 0, 0, DT_VERDICT_OK };
    if (verdict)
        *verdict = DT_VERDICT_OK;
    //  With many accounts neither the table slot nor the account's block is
    //  in cache: ask for the slot first, work on the event while it comes
    uint64_t key = dt_hash (ev->account.ptr, ev->account.len, SEED_ACCOUNT);
    __builtin_prefetch (&self->slots [key & (self->slot_count - 1)]);
    info_t info;
    if (s_info (self, ev, &info))
        return -1;
    //  Find where the block should be from the table alone, ask for the
    //  lines the rules read, and judge what needs no memory while they come
    size_t slot = s_probe (self, key, key & (self->slot_count - 1));
    if (self->slots [slot]) {
        //  Touches always; claims, themes and projects when the event has
        //  them (asking for every line stalls when the fill buffers run out)
        const char *block = (const char *) s_block (self, (uint32_t) self->slots [slot] - 1);
        s_prefetch (block, 0, offsetof (account_t, claims));
        if (ev->claim_count)
            s_prefetch (block, offsetof (account_t, claims), offsetof (account_t, seen));
        if (ev->claim_count || ev->theme.len)
            s_prefetch (block, offsetof (account_t, seen), offsetof (account_t, projects));
        if (ev->project.len)
            s_prefetch (block, offsetof (account_t, projects), offsetof (account_t, idlog));
    }
    s_stage_crossing (self, &info, &sink);
    s_themes (self, &info, &sink);
    s_banned (self, &info, &sink);

    //  A check needs no memory of its own, but a loader can fill the cache
    account_t *account = s_account (self, ev->account, key, slot, commit || self->loader, true);
    const account_t *memory = account? account: &self->empty;
    int replay = s_replay (memory, &info);
    s_collision (self, memory, &info, replay, &sink);
    s_claims (self, memory, &info, &sink);
    s_sequence (self, memory, &info, replay, &sink);
    s_key_project (self, memory, &info, &sink);
    s_pressure (self, memory, &info, replay, &sink);

    if (commit && account)
        s_commit (account, &info, replay);
    if (verdict)
        *verdict = sink.verdict;
    return sink.count;
}

void
dt_engine_prefetch (dt_engine_t *self, const dt_event_t *ev)
{
    uint64_t key = dt_hash (ev->account.ptr, ev->account.len, SEED_ACCOUNT);
    __builtin_prefetch (&self->slots [key & (self->slot_count - 1)]);
}

void
dt_engine_remember (dt_engine_t *self, const dt_event_t *ev)
{
    assert (self);
    assert (ev);
    info_t info;
    if (s_info (self, ev, &info))
        return;
    uint64_t key = dt_hash (ev->account.ptr, ev->account.len, SEED_ACCOUNT);
    size_t slot = s_probe (self, key, key & (self->slot_count - 1));
    account_t *account = s_account (self, ev->account, key, slot, true, false);
    if (account)
        s_commit (account, &info, s_replay (account, &info));
}

void
dt_engine_set_loader (dt_engine_t *self, dt_engine_loader_fn *loader, void *ctx)
{
    assert (self);
    self->loader = loader;
    self->loader_ctx = ctx;
}

int64_t
dt_engine_horizon (dt_engine_t *self)
{
    return dt_rules_config_horizon (&self->cfg);
}

//  Evicts idle accounts from slot *cursor on, looking at up to budget slots;
//  *cursor is where to go on (0 after the last slot)
static size_t
s_evict_slots (dt_engine_t *self, int64_t now_ms, size_t *cursor, size_t budget)
{
    if (self->loading)
        return 0;
    int64_t cutoff = now_ms - dt_engine_horizon (self);
    size_t evicted = 0, slot = *cursor < self->slot_count? *cursor: 0;
    while (budget > 0 && slot < self->slot_count) {
        budget--;
        uint64_t entry = self->slots [slot];
        if (!entry || s_block (self, (uint32_t) entry - 1)->newest >= cutoff) {
            slot++;
            continue;
        }
        //  The shift may pull a later entry into this slot: look again
        s_slot_delete (self, slot);
        self->free_list [self->free_count++] = (uint32_t) entry - 1;
        self->accounts--;
        evicted++;
    }
    *cursor = slot < self->slot_count? slot: 0;
    return evicted;
}

size_t
dt_engine_evict (dt_engine_t *self, int64_t now_ms)
{
    assert (self);
    size_t cursor = 0;
    return s_evict_slots (self, now_ms, &cursor, SIZE_MAX);
}

size_t
dt_engine_evict_step (dt_engine_t *self, int64_t now_ms)
{
    assert (self);
    size_t budget = self->slot_count / EVICT_STEPS;
    return s_evict_slots (self, now_ms, &self->evict_cursor,
                          budget > EVICT_STEP_MIN? budget: EVICT_STEP_MIN);
}

bool
dt_engine_has_account (dt_engine_t *self, dt_str_t account)
{
    return s_find (self, dt_hash (account.ptr, account.len, SEED_ACCOUNT)) != NULL;
}

size_t
dt_engine_accounts (dt_engine_t *self)
{
    return self->accounts;
}

size_t
dt_engine_state_bytes (dt_engine_t *self)
{
    return self->slot_count * sizeof (uint64_t)
         + self->chunk_count * (sizeof (account_t *)
                              + CHUNK_ACCOUNTS * (sizeof (account_t) + sizeof (uint32_t)));
}

size_t
dt_engine_account_block_bytes (void)
{
    return sizeof (account_t);
}
