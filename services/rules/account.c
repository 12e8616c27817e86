/*  account.c - one account's memory (see internal.h): its touches and the
    ring of their ids, the themes and claim keys the leading tracks used,
    key projects, and the claims with their strings in a small arena.

    Every store is bounded: when one is full the oldest entry makes room,
    unless the newcomer is older still, and what the touches forget is noted
    (dropped, dropped_part) so the sequence rule knows when it cannot tell.
*/
#include "rules/internal.h"

void
account_init (account_t *account, uint64_t key)
{
    memset (account, 0, sizeof *account);
    account->key = key;
    account->newest = INT64_MIN;
    account->dropped = INT64_MIN;
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
void
account_related_touch (dt_finding_t *finding, const account_t *account, int i)
{
    if (finding && finding->related_count < DT_RELATED_MAX
    &&  s_touch_id (account, i, finding->related [finding->related_count]))
        finding->related_count++;
}

//  The touch kept under this event's id, if any: a replay, or a resend that
//  reuses the id for another event. Either way the store keeps the first
//  version only, so memory does too. The id is compared in full while the
//  ring holds it, by its hash after.
int
account_replay (const account_t *account, const info_t *info)
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
bool
account_road_taken (const account_t *account, int64_t from, int64_t at, int skip)
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

bool
account_seen (const account_t *account, uint32_t hash, int64_t at, int64_t window)
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

project_rec_t *
account_project (account_t *account, uint32_t hash)
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
    project_rec_t *project = account_project (account, hash);
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

const claim_rec_t *
account_claim (const account_t *account, uint32_t key_hash)
{
    for (int i = 0; i < account->claim_count; i++)
        if (account->claims [i].key_hash == key_hash)
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

//  Does a statement by the stage's owner speaking become the authority for
//  its key? Yes at the authority's stage or a later one (at the same stage
//  the latest by occurred_at wins), and whenever the authority is out of
//  memory.window and older: an earlier stage never overrides a live one.
static bool
s_claim_wins (const claim_rec_t *claim, const info_t *info, uint64_t value_hash,
              int64_t window)
{
    int64_t at = info->ev->occurred_at;
    int stage = info->ev->stage_index;
    if (s_abs (at - claim->at) > window)
        return at > claim->at;
    if (stage != claim->stage)
        return stage > claim->stage;
    return at > claim->at || (at == claim->at && value_hash != claim->value_hash);
}

static void
s_claim_set (account_t *account, const info_t *info, uint32_t key_hash, dt_str_t value,
             int64_t window)
{
    const dt_event_t *ev = info->ev;
    uint64_t value_hash = dt_hash (value.ptr, value.len, SEED_VALUE);
    claim_rec_t *claim = (claim_rec_t *) account_claim (account, key_hash);
    if (claim) {
        if (!s_claim_wins (claim, info, value_hash, window))
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
    claim->stage = (uint8_t) ev->stage_index;
}


//  Remember a judged touchpoint. An id memory already holds (replay >= 0)
//  changes nothing: a replay is already remembered, and a different event
//  under a stored id is not stored (the first version wins).
void
account_commit (account_t *account, const info_t *info, int replay, int64_t window)
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
            s_claim_set (account, info, s_hash32 (key.ptr, key.len, SEED_KEY), value,
                         window);
        }
    }
    if (ev->project.len)
        s_project_add (account, s_hash32 (ev->project.ptr, ev->project.len, SEED_PROJECT),
                       at, info->part);
}

