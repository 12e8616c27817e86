/*  checks.c - the rules of DOMAIN.md (plus contact pressure), one function
    each (see internal.h, docs/rules.md). A rule reads the event and the
    account's memory, never changes either, and writes its findings to the
    sink; the engine decides what is remembered.
*/
#include "rules/internal.h"

static inline bool
s_enabled (dt_engine_t *self, dt_rule_t rule)
{
    return self->cfg.severity [rule] != DT_SEV_OFF;
}



int
check_info (dt_engine_t *self, const dt_event_t *ev, info_t *info)
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
    info->contact = 0;          //  the caller's: s_contact_key
    info->id = s_hash32 (ev->id.ptr, ev->id.len, SEED_ID);
    //  Only the contact budget reads local time
    info->buyer_zone = self->zonemap && self->budget?
        dt_zonemap_buyer (self->zonemap, self->identity, ev->contact, ev->account): NULL;
    return 0;
}

static void
s_stage_crossing (dt_engine_t *self, const info_t *info, sink_t *sink)
{
    if (!s_enabled (self, DT_RULE_STAGE_CROSSING) || (info->part & (1 << info->owner)))
        return;
    text_t text;
    if (!sink_emit (self, sink, DT_RULE_STAGE_CROSSING, &text))
        return;
    const dt_event_t *ev = info->ev;
    text_printf (&text, "%s touched ", s_track (info->track));
    text_who (&text, ev);
    text_printf (&text, " at stage %s, which %s owns, on ", self->stages.name [ev->stage_index],
              s_track (info->owner));
    text_date (&text, ev->occurred_at);
    text_printf (&text, " without %s as lead or advisor.", s_track (info->owner));
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
    dt_finding_t *finding = sink_emit (self, sink, DT_RULE_COLLISION, &text);
    if (!finding)
        return;
    //  Nearest in time first: that is the one the customer felt
    for (int i = 1; i < count; i++)
        for (int j = i; j > 0 && s_abs (account->t_at [hits [j]] - at)
                               < s_abs (account->t_at [hits [j - 1]] - at); j--) {
            int swap = hits [j]; hits [j] = hits [j - 1]; hits [j - 1] = swap;
        }
    const dt_event_t *ev = info->ev;
    text_printf (&text, "%s and %s both touched ", s_track (other), s_track (info->track));
    if (by_contact)
        text_who (&text, ev);
    else {
        text_puts (&text, "account ");
        text_str (&text, ev->account);
    }
    text_puts (&text, " within ");
    text_puts (&text, self->collision_text);
    text_printf (&text, " without working together: %s on ", s_track (other));
    text_date (&text, account->t_at [hits [0]]);
    if (count > 1)
        text_printf (&text, " (and %d more touch%s)", count - 1, count > 2? "es": "");
    text_printf (&text, ", %s on ", s_track (info->track));
    text_date (&text, at);
    text_puts (&text, ".");
    for (int i = 0; i < count; i++)
        account_related_touch (finding, account, hits [i]);
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
    if (!s_enabled (self, rule) || !sink_emit (self, sink, rule, &text))
        return;
    text_printf (&text, "%s used theme \"", s_track (info->track));
    text_str (&text, ev->theme);
    text_puts (&text, "\" with ");
    text_who (&text, ev);
    if (status == DT_THEME_WRONG_STAGE)
        text_printf (&text, " at stage %s", self->stages.name [ev->stage_index]);
    text_puts (&text, " on ");
    text_date (&text, ev->occurred_at);
    switch (status) {
        case DT_THEME_UNKNOWN:
            text_puts (&text, ", but the tone book does not have that theme.");
            break;
        case DT_THEME_RETIRED:
            text_puts (&text, ", but the tone book has retired it.");
            break;
        case DT_THEME_NOT_YET:
            text_puts (&text, ", but it is only valid from ");
            text_date (&text, when);
            text_puts (&text, ".");
            break;
        case DT_THEME_EXPIRED:
            text_puts (&text, ", but it stopped being valid on ");
            text_date (&text, when);
            text_puts (&text, ".");
            break;
        default:
            text_printf (&text, "; the tone book approves it only at %s.", stages);
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
    if (!sink_emit (self, sink, DT_RULE_BANNED_PHRASE, &text))
        return;
    text_printf (&text, "a %s touchpoint to ", s_track (info->track));
    text_who (&text, ev);
    text_puts (&text, " on ");
    text_date (&text, ev->occurred_at);
    text_puts (&text, count == 1? " uses the banned phrase ": " uses the banned phrases ");
    for (int i = 0; i < count; i++) {
        const char *phrase = dt_tonebook_phrase (self->tonebook, hits [i]);
        text_puts (&text, i == 0? "\"": i == count - 1? " and \"": ", \"");
        text_slice (&text, phrase, strlen (phrase), 60);
        text_puts (&text, kind [i] == 0? "\" in its body": kind [i] == 1? "\" in its theme":
                "\" in its claim ");
        if (kind [i] == 2)
            text_str (&text, where [i]);
    }
    //  The policy's replacements, as a style guide names them
    for (int i = 0; i < count; i++) {
        const char *suggestion = dt_tonebook_suggestion (self->tonebook, hits [i]);
        if (!suggestion)
            continue;
        const char *phrase = dt_tonebook_phrase (self->tonebook, hits [i]);
        text_puts (&text, "; say \"");
        text_slice (&text, suggestion, strlen (suggestion), 60);
        text_puts (&text, "\" instead of \"");
        text_slice (&text, phrase, strlen (phrase), 60);
        text_puts (&text, "\"");
    }
    text_puts (&text, ".");
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
    &&  !account_seen (account, s_hash32 (ev->theme.ptr, ev->theme.len, SEED_SEEN_THEME + owner),
                 ev->occurred_at, self->cfg.memory_window))
        new_theme = true;

    for (uint32_t i = 0; i < ev->claim_count; i++) {
        dt_str_t key, value, canonical;
        if (!s_claim_pair (&ev->claims [i], &key, &value))
            continue;
        bool has_canonical = self->tonebook
                          && dt_tonebook_canonical (self->tonebook, key, &canonical);
        if (check_lead && !has_canonical
        &&  !account_seen (account, s_hash32 (key.ptr, key.len, SEED_SEEN_KEY + owner),
                     ev->occurred_at, self->cfg.memory_window)) {
            if (new_key_count < 4)
                new_keys [new_key_count++] = key;
            else
                new_key_more++;
        }
        if (!check_conflict)
            continue;
        //  A canonical value is the authority for everyone. Otherwise the
        //  account's authority for the key is what it heard at the furthest
        //  stage (docs/rules.md): a touch at an earlier stage must not
        //  contradict it, whoever makes it; at that stage or a later one
        //  only the stage's owner speaking may state another value.
        const claim_rec_t *claim = NULL;
        if (!has_canonical) {
            claim = account_claim (account, s_hash32 (key.ptr, key.len, SEED_KEY));
            if (claim && (s_abs (claim->at - ev->occurred_at) > self->cfg.memory_window
                       || (info->owner_speaks && ev->stage_index >= claim->stage)
                       || claim->value_hash == dt_hash (value.ptr, value.len, SEED_VALUE)))
                claim = NULL;
        }
        bool off_canonical = has_canonical
                          && !(canonical.len == value.len
                               && memcmp (canonical.ptr, value.ptr, value.len) == 0);
        if (!claim && !off_canonical)
            continue;
        text_t text;
        dt_finding_t *finding = sink_emit (self, sink, DT_RULE_CLAIM_CONFLICT, &text);
        if (!finding)
            continue;
        if (claim) {
            //  "sales quoted price 9,900 CNY to account ACME at negotiation
            //  on 3 May 2026; marketing told contact carol 12,000 CNY at
            //  interest on 5 May 2026."
            text_printf (&text, "%s quoted ", s_track (claim->track));
            text_str (&text, key);
            if (claim->value_len) {
                text_puts (&text, " ");
                text_slice (&text, account->arena + claim->value_off, claim->value_len,
                         VALUE_KEPT);
                if (claim->value_cut)
                    text_puts (&text, "\xE2\x80\xA6");
            }
            else
                text_puts (&text, " a different value");
            text_puts (&text, " to account ");
            text_str (&text, ev->account);
            text_printf (&text, " at %s on ", claim->stage < self->stages.count?
                         self->stages.name [claim->stage]: "?");
            text_date (&text, claim->at);
            text_printf (&text, "; %s told ", s_track (info->track));
            if (info->contact && claim->contact == info->contact)
                text_puts (&text, "the same contact ");
            else
            if (info->contact) {
                text_puts (&text, "contact ");
                text_str (&text, ev->contact);
                text_puts (&text, " ");
            }
            else
                text_puts (&text, "the account ");
            text_str (&text, value);
            text_printf (&text, " at %s on ", self->stages.name [ev->stage_index]);
            text_date (&text, ev->occurred_at);
            text_puts (&text, ".");
            if (claim->id_len)
                finding_related (finding, account->arena + claim->id_off, claim->id_len);
        }
        else {
            text_printf (&text, "%s told ", s_track (info->track));
            text_who (&text, ev);
            text_puts (&text, " ");
            text_str (&text, key);
            text_puts (&text, " ");
            text_str (&text, value);
            text_puts (&text, " on ");
            text_date (&text, ev->occurred_at);
            text_puts (&text, "; the tone book's canonical ");
            text_str (&text, key);
            text_puts (&text, " is ");
            text_str (&text, canonical);
            text_puts (&text, ".");
        }
    }

    if (!new_theme && !new_key_count)
        return;
    text_t text;
    if (!sink_emit (self, sink, DT_RULE_LEAD_VIOLATION, &text))
        return;
    text_printf (&text, "%s introduced ", s_track (info->track));
    if (new_theme) {
        text_puts (&text, "theme \"");
        text_str (&text, ev->theme);
        text_puts (&text, "\"");
    }
    if (new_key_count) {
        text_puts (&text, new_theme? " and ": "");
        text_puts (&text, new_key_count + new_key_more > 1? "claims ": "claim ");
        for (int i = 0; i < new_key_count; i++) {
            text_puts (&text, i == 0? "": i == new_key_count - 1 && !new_key_more? " and ": ", ");
            text_str (&text, new_keys [i]);
        }
        if (new_key_more)
            text_printf (&text, " and %d more", new_key_more);
    }
    text_puts (&text, " to ");
    text_who (&text, info->ev);
    text_printf (&text, " at stage %s on ", self->stages.name [info->ev->stage_index]);
    text_date (&text, info->ev->occurred_at);
    text_printf (&text, "; %s leads that stage and had not used %s with this account.",
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
    if (account_road_taken (account, at - window, at, replay))
        return;
    text_t text;
    if (!sink_emit (self, sink, DT_RULE_SEQUENCE, &text))
        return;
    text_puts (&text, "sales made its first touch on ");
    text_who (&text, info->ev);
    text_puts (&text, " on ");
    text_date (&text, at);
    text_puts (&text, " with no marketing touch on the account in the ");
    text_puts (&text, self->sequence_text);
    text_puts (&text, " before it; marketing should open the road first.");
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
    const project_rec_t *project = account_project ((account_t *) account,
        s_hash32 (ev->project.ptr, ev->project.len, SEED_PROJECT));
    for (int track = 0; project && track < DT_TRACKS; track++)
        if (s_t48_within (project->lo [track], project->hi [track], ev->occurred_at,
                          self->cfg.memory_window))
            tracks |= (uint8_t) (1 << track);
    if (tracks == 3)
        return;
    int missing = (tracks & (1 << DT_TRACK_MARKETING))? DT_TRACK_SALES: DT_TRACK_MARKETING;
    text_t text;
    if (!sink_emit (self, sink, DT_RULE_KEY_PROJECT_SOLO, &text))
        return;
    text_printf (&text, "%s worked on key project \"", s_track (info->track));
    text_str (&text, ev->project);
    text_puts (&text, "\" with ");
    text_who (&text, ev);
    text_printf (&text, " at stage %s on ", self->stages.name [ev->stage_index]);
    text_date (&text, ev->occurred_at);
    text_printf (&text, ", but %s has not taken part in that project; lower-funnel work on a "
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
    dt_finding_t *finding = sink_emit (self, sink, DT_RULE_CONTACT_PRESSURE, &text);
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
        account_related_touch (finding, account, i);
    }
    if (contact_over)
        text_who (&text, info->ev);
    else {
        text_puts (&text, "account ");
        text_str (&text, info->ev->account);
    }
    text_printf (&text, " got %d touches within ", contact_over? on_contact: on_account);
    text_puts (&text, self->pressure_text);
    text_printf (&text, " (limit %d): %d from marketing, %d from sales, this one from %s on ",
              contact_over? self->cfg.pressure_contact_max: self->cfg.pressure_account_max,
              per_track [DT_TRACK_MARKETING], per_track [DT_TRACK_SALES],
              s_track (info->track));
    text_date (&text, at);
    text_puts (&text, ".");
    if (contact_over && account_over)
        text_printf (&text, " The account as a whole got %d (limit %d).", on_account,
                  self->cfg.pressure_account_max);
}

//  Consent: a touchpoint to a buyer who must not be touched, by the
//  canonical ids the engine judges by (the set is filed under them)
static void
s_suppressed (dt_engine_t *self, const info_t *info, sink_t *sink)
{
    if (!self->suppressions || !s_enabled (self, DT_RULE_SUPPRESSED))
        return;
    const dt_event_t *ev = info->ev;
    //  Each lookup before the next resolution: s_canonical's answer may
    //  live in a buffer the next one overwrites
    const dt_suppression_row_t *row = NULL;
    if (ev->contact.len)
        row = dt_suppression_find (self->suppressions, DT_ID_CONTACT,
                                   s_canonical (self, DT_ID_CONTACT, ev->contact),
                                   ev->occurred_at, info->transactional);
    if (!row)
        row = dt_suppression_find (self->suppressions, DT_ID_ACCOUNT,
                                   s_canonical (self, DT_ID_ACCOUNT, ev->account),
                                   ev->occurred_at, info->transactional);
    if (!row)
        return;
    text_t text;
    if (!sink_emit (self, sink, DT_RULE_SUPPRESSED, &text))
        return;
    //  "sales touched contact bob at account ACME on 3 May 2026, but
    //  contact bob@acme.com is suppressed for all touchpoints since
    //  1 May 2026: unsubscribed."
    text_printf (&text, "%s touched ", s_track (info->track));
    text_who (&text, ev);
    text_puts (&text, " on ");
    text_date (&text, ev->occurred_at);
    text_printf (&text, ", but %s ", dt_identity_kind_name (row->kind));
    text_slice (&text, row->id, strlen (row->id), 80);
    text_puts (&text, row->scope == DT_SUPPRESS_ALL? " is suppressed for all touchpoints":
               " is suppressed for promotional touchpoints");
    if (row->since > DT_OCCURRED_MIN) {
        text_puts (&text, " since ");
        text_date (&text, row->since);
    }
    if (row->until != DT_SUPPRESS_OPEN) {
        text_puts (&text, " until ");
        text_date (&text, row->until);
    }
    text_puts (&text, ": ");
    text_slice (&text, row->reason, strlen (row->reason), 120);
    text_puts (&text, ".");
}

//  One call for each half, so the rules inline into it as they did into
//  the judgement before the engine was split

void
check_event (dt_engine_t *self, const info_t *info, sink_t *sink)
{
    s_stage_crossing (self, info, sink);
    s_themes (self, info, sink);
    s_banned (self, info, sink);
    s_suppressed (self, info, sink);
    if (self->budget)
        budget_quiet (self, info, sink);
}

void
check_memory (dt_engine_t *self, const account_t *account, const info_t *info, int replay,
              sink_t *sink)
{
    s_collision (self, account, info, replay, sink);
    s_claims (self, account, info, sink);
    s_sequence (self, account, info, replay, sink);
    s_key_project (self, account, info, sink);
    s_pressure (self, account, info, replay, sink);
    if (self->budget)
        budget_caps (self, info, replay, sink);
}
