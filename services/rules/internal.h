/*  internal.h - private to services/rules: what the rule engine's modules
    share. Nothing outside this folder includes it; the room's interface is
    rules/engine.h.

    The engine is split by job: message.c writes findings' sentences,
    account.c keeps one account's memory, table.c finds an account's block,
    checks.c holds the rules, budget.c the contact budget, reservation.c
    its reservations, engine.c the public API that runs them. The
    engine's design (why blocks, why a struct of arrays, why 48-bit times,
    why the prefetching) is told at the top of engine.c.

    The helpers every judgement runs many times (48-bit times, probing the
    table, finding a block, hashing) are static inline here: a call across
    modules for each would cost more than the work they do.
*/
#ifndef DT_RULES_INTERNAL_H
#define DT_RULES_INTERNAL_H

#include "rules/engine.h"
#include "rules/identity.h"
#include "rules/reservation.h"
#include "base/hash.h"
#include "base/tzdb.h"

#include <stdbool.h>
#include <stddef.h>
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
#define BLOCK_NONE          UINT32_MAX
#define RESV_KEEP_MS        DT_RESERVATION_KEEP_MS

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
    uint8_t track;              //  the owner who stated it (owner of stage)
    uint8_t value_cut;          //  the value is longer than what is kept
    uint8_t stage;              //  the funnel stage it was stated at
    uint8_t unused;
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

//  An event dt_engine_prefetch was told of, and its lookups under way
#define HINTS 4
typedef struct {
    const dt_event_t *ev;       //  NULL: none (judged, or given up)
    dt_str_t account, contact;  //  the event's ids when it was hinted
    uint64_t number;            //  which hint (hint_count then)
    uint64_t key;               //  the account table's key, as if no alias
    uint8_t parts;              //  which parts of the block judging will read
    dt_identity_lookup_t lookup [DT_ID_KINDS];
} hint_t;

struct _dt_engine_t {
    dt_stageset_t stages;
    dt_tonebook_t *tonebook;
    dt_identity_t *identity;    //  the alias maps, NULL: ids as sent
    dt_suppression_t *suppressions;     //  consent, NULL: none
    uint64_t *slots;            //  tag << 32 | (block index + 1); 0 = empty
    size_t slot_count;          //  a power of two
    size_t evict_cursor;        //  where dt_engine_evict_step goes on
    size_t accounts;
    account_t **chunks;
    size_t chunk_count;
    uint32_t *free_list;        //  room for every block, so eviction never allocates
    size_t free_count;
    size_t blocks_used;         //  blocks handed out from the chunks so far
    account_t empty;            //  the memory of an account never seen
    //  The windows messages name, formatted once per configuration:
    //  dt_duration_format is snprintf, dearer than the rest of a message,
    //  and every collision finding names its window
    char collision_text [32], sequence_text [32], pressure_text [32];
    //  The canonical ids the event being judged was judged by
    //  (dt_engine_judged_id: the coordinator keeps them without a second
    //  lookup), which may point into the lookups below: those of the event
    //  when it had no hint. Last, so that the fields above keep their lines.
    dt_str_t judged [DT_ID_KINDS];
    dt_identity_lookup_t lookup [DT_ID_KINDS];
    //  The lookups dt_engine_prefetch started, for the events it was told
    //  of, in turn; judging an event takes its own
    hint_t hints [HINTS];
    uint64_t hint_count;        //  hints given so far
    //  The contact budget (budget.c): NULL unless caps or sending hours
    //  are configured; the time zones are the caller's
    struct _budget_t *budget;
    const dt_tzdb_t *zones;
    //  Reservations (reservation.c), NULL until the first; the event just
    //  judged used its own (dt_engine_judged_reservation); the ones the
    //  last dt_engine_reserve took from requests of lower priority
    struct _resv_table_t *reservations;
    bool judged_reservation;
    int taken_count;
    dt_reservation_t *taken;    //  DT_TAKEN_MAX of them, with the table
    dt_zonemap_t *zonemap;      //  the buyers' own zones, NULL: none
    //  Last: its head (severities, windows) stays next to the fields above,
    //  and the contact budget's settings (2.7 KB, read only when the budget
    //  is built) after it. First in the struct, they pushed the hot fields
    //  apart and judging without caps slowed by ~8%.
    dt_rules_config_t cfg;
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
    uint32_t block;             //  the account's block index, BLOCK_NONE: none yet
    uint64_t key;               //  the account table's key
    //  Local time, set by budget_prepare when a budget is configured
    const dt_zone_t *zone;      //  NULL: UTC
    const dt_zone_t *buyer_zone;        //  the buyer's own (contact_settings), NULL: none
    int64_t offset;             //  ms, local = UTC + offset
    int64_t day, hour;          //  local days (hours) since 1970-01-01
    bool zone_asked;            //  attrs.tz named a zone the database lacks
    uint32_t caps_match;        //  a bit per cap whose filter the touch matches
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

//  The canonical id rules judge a buyer by: normalised and resolved by the
//  alias maps, or as sent without them
static inline dt_str_t
s_canonical (dt_engine_t *self, dt_id_kind_t kind, dt_str_t id)
{
    return self->identity? dt_identity_resolve (self->identity, kind, id): id;
}

//  info_t's contact for dt_hash (seed 0) of a canonical contact id, the
//  hash an alias lookup has already taken of an id that is no alias
static inline uint32_t
s_contact_hash (uint64_t hash)
{
    uint32_t key = (uint32_t) (((hash ^ SEED_CONTACT) * 0x9E3779B97F4A7C15ULL) >> 32);
    return key? key: 1;         //  0 means "no contact"
}

//  info_t's contact for a canonical contact id (0: none)
static inline uint32_t
s_contact_key (dt_str_t contact)
{
    return contact.len? s_contact_hash (dt_hash (contact.ptr, contact.len, 0)): 0;
}

//  The account table's key for dt_hash (seed 0) of a canonical account id,
//  the hash the alias maps keep beside an account alias's slot, so that
//  judging can ask for an alias's memory before its row arrives
//  (dt_identity_step). An odd multiplier: two accounts are still told apart
//  by 64 bits.
static inline uint64_t
s_account_hash (uint64_t hash)
{
    return (hash ^ SEED_ACCOUNT) * 0x9E3779B97F4A7C15ULL;
}

//  The account table's key for an account id as sent
static inline uint64_t
s_account_key (dt_engine_t *self, dt_str_t account)
{
    dt_str_t canonical = s_canonical (self, DT_ID_ACCOUNT, account);
    return s_account_hash (dt_hash (canonical.ptr, canonical.len, 0));
}

static inline dt_str_t
s_cstr (const char *cstr)
{
    return (dt_str_t) { cstr, (uint32_t) strlen (cstr) };
}

//  The clock reservations expire by: when the event reached its track (the
//  check API stamps its own request); without one nothing has expired
static inline int64_t
s_now (const info_t *info)
{
    return info->ev->received_at > 0? info->ev->received_at / 1000: INT64_MIN;
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

static inline bool
s_claim_pair (const msgpack_object_kv *kv, dt_str_t *key, dt_str_t *value)
{
    if (kv->key.type != MSGPACK_OBJECT_STR || kv->val.type != MSGPACK_OBJECT_STR)
        return false;
    *key = dt_str_of (&kv->key);
    *value = dt_str_of (&kv->val);
    return true;
}

static inline const char *
s_track (int track)
{
    return dt_track_name ((dt_track_t) track);
}

//  --------------------------------------------------------------------------
//  message.c: a finding's sentence, bounded and always valid UTF-8

void text_put (text_t *text, const char *ptr, size_t len);
//  Inline, so the length of a literal is known when compiling
static inline void
text_puts (text_t *text, const char *cstr)
{
    text_put (text, cstr, strlen (cstr));
}
//  printf with %s, %d and %lld only
void text_printf (text_t *text, const char *format, ...) __attribute__ ((format (printf, 2, 3)));
//  A customer's string, at most max bytes, on one line
void text_slice (text_t *text, const char *ptr, size_t len, size_t max);
void text_str (text_t *text, dt_str_t str);
//  "3 May 2026"
void text_date (text_t *text, int64_t ms);
void text_who (text_t *text, const dt_event_t *ev);
dt_finding_t *sink_emit (dt_engine_t *self, sink_t *sink, dt_rule_t rule, text_t *text);
void finding_related (dt_finding_t *finding, const char *ptr, size_t len);

//  --------------------------------------------------------------------------
//  account.c: one account's memory

void account_init (account_t *account, uint64_t key);
void account_related_touch (dt_finding_t *finding, const account_t *account, int i);
int account_replay (const account_t *account, const info_t *info);
bool account_road_taken (const account_t *account, int64_t from, int64_t at, int skip);
bool account_seen (const account_t *account, uint32_t hash, int64_t at, int64_t window);
project_rec_t *account_project (account_t *account, uint32_t hash);
//  The authority for a claim key: one statement per key (docs/rules.md,
//  claim_conflict), or NULL
const claim_rec_t *account_claim (const account_t *account, uint32_t key_hash);
//  window: memory.window, past which a stated claim no longer binds
void account_commit (account_t *account, const info_t *info, int replay, int64_t window);

//  --------------------------------------------------------------------------
//  table.c: the account table

account_t *table_find_from (dt_engine_t *self, uint64_t key, size_t slot);
account_t *table_find (dt_engine_t *self, uint64_t key);
//  NULL when memory runs out
account_t *table_create (dt_engine_t *self, uint64_t key);
void table_delete (dt_engine_t *self, size_t hole);

//  --------------------------------------------------------------------------
//  checks.c: the rules, in two calls; each adds its findings to the sink

//  What judging needs to know about the event; -1 if it cannot be judged.
//  Leaves info->contact 0: the caller sets it from the canonical contact
//  (s_contact_key), when its lookup is done
int check_info (dt_engine_t *self, const dt_event_t *ev, info_t *info);
//  The rules that need only the event: stage crossing, themes, banned phrases
void check_event (dt_engine_t *self, const info_t *info, sink_t *sink);
//  The rules that read the account's memory (the empty memory for an
//  account never seen): collision, claims and lead, sequence, key project,
//  contact pressure. replay is account_replay's answer.
void check_memory (dt_engine_t *self, const account_t *account, const info_t *info,
                   int replay, sink_t *sink);

//  --------------------------------------------------------------------------
//  budget.c: the contact budget (caps over counters, quiet hours)

typedef struct _budget_t budget_t;
//  NULL if cfg has neither caps nor sending hours (or memory runs out)
budget_t *budget_new (const dt_rules_config_t *cfg, const dt_tzdb_t *zones);
void budget_destroy (budget_t **self_p);
//  True if self counts exactly the caps of cfg
bool budget_same_caps (const budget_t *self, const dt_rules_config_t *cfg);
//  Take old's counters (it has the same caps) and destroy old
void budget_adopt (budget_t *self, budget_t **old_p);
size_t budget_bytes (const budget_t *self);
//  Ask for the counters of the account in that block
void budget_prefetch (const budget_t *self, uint32_t block);
//  The event's zone and UTC offset into info
void budget_prepare (budget_t *self, info_t *info);
//  The same in a known zone (NULL: the default)
void budget_place (budget_t *self, info_t *info, const dt_zone_t *zone);
//  The zone of an attrs.tz value, NULL if unknown
const dt_zone_t *budget_zone (const budget_t *self, const char *ptr, size_t len);
void budget_quiet (dt_engine_t *engine, const info_t *info, sink_t *sink);
void budget_caps (dt_engine_t *engine, const info_t *info, int replay, sink_t *sink);
void budget_commit (dt_engine_t *engine, const info_t *info);
//  The account in that block is evicted: drop its counters
void budget_forget (budget_t *self, uint32_t block);

//  --------------------------------------------------------------------------
//  reservation.c: the table of reservations

typedef struct {
    dt_reservation_t rec;
    uint64_t account;           //  the account table's key
    uint32_t contact;           //  s_contact_key of the contact
    uint32_t caps_match;        //  the caps the planned touch counts against
    int64_t day, hour;          //  its local day and hour (info_t's)
    bool in_use;
    bool ignored;               //  left out of the counts of one judgement
    bool told;                  //  taken, and its owner was told
    int32_t next_token, next_account;
} resv_t;

typedef struct _resv_table_t resv_table_t;
resv_table_t *resv_new (void);
void resv_destroy (resv_table_t **self_p);
resv_t *resv_find (const resv_table_t *self, dt_str_t token);
//  A copy of rec filed under account and token; NULL when memory runs out
resv_t *resv_add (resv_table_t *self, const dt_reservation_t *rec, uint64_t account,
                  uint32_t contact);
void resv_remove (resv_table_t *self, resv_t *resv);
//  Used or taken at at
void resv_end (resv_table_t *self, resv_t *resv, dt_reservation_state_t state, int64_t at);
//  Reservations held (counted), and kept at all
uint32_t resv_held (const resv_table_t *self);
uint32_t resv_live (const resv_table_t *self);
//  An account's reservations: for (r = resv_first (); r; r = resv_next ())
resv_t *resv_first (const resv_table_t *self, uint64_t account);
resv_t *resv_next (const resv_table_t *self, const resv_t *resv);
//  Every record: index 0 .. resv_slots () - 1, NULL for a hole
resv_t *resv_at (const resv_table_t *self, uint32_t index);
uint32_t resv_slots (const resv_table_t *self);
//  Drop the records that expired more than RESV_KEEP_MS before now
size_t resv_sweep (resv_table_t *self, int64_t now_ms);
size_t resv_bytes (const resv_table_t *self);
//  Where a reservation's planned touch falls under the configuration in force
void reservation_place (dt_engine_t *self, resv_t *resv);
//  The reservation an event carries (judging): used (commit), set aside
//  for a check (returned: the caller puts it back), or noted as unusable
resv_t *reservation_own (dt_engine_t *self, const info_t *info, bool commit, sink_t *sink);

#endif
