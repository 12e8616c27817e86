/*  decision.c - see decision.h
*/
#include "coordinator/decision.h"
#include "proto/link.h"

#include <stdio.h>
#include <string.h>

void
dt_finding_pack (msgpack_packer *pk, const dt_finding_t *f)
{
    msgpack_pack_map (pk, 4);
    dt_pack_cstr (pk, "rule");
    dt_pack_cstr (pk, dt_rule_id (f->rule));
    dt_pack_cstr (pk, "severity");
    dt_pack_cstr (pk, dt_severity_name (f->severity));
    dt_pack_cstr (pk, "message");
    dt_pack_cstr (pk, f->message);
    dt_pack_cstr (pk, "related");
    msgpack_pack_array (pk, (size_t) f->related_count);
    for (int i = 0; i < f->related_count; i++)
        dt_pack_cstr (pk, f->related [i]);
}

static void
s_pack_findings (msgpack_packer *pk, const dt_finding_t *findings, uint32_t count)
{
    dt_pack_cstr (pk, "findings");
    msgpack_pack_array (pk, count);
    for (uint32_t i = 0; i < count; i++)
        dt_finding_pack (pk, &findings [i]);
}

void
dt_decision_pack (msgpack_packer *pk, const dt_event_t *ev, dt_verdict_t verdict,
                  const dt_finding_t *findings, uint32_t count, dt_str_t account_key,
                  dt_str_t contact_key, uint64_t seq)
{
    bool contact = ev->present & DT_HAS_CONTACT;
    msgpack_pack_map (pk, 11 + (contact? 2: 0));
    dt_pack_cstr (pk, "v");
    msgpack_pack_uint8 (pk, DT_PROTOCOL_VERSION);
    dt_pack_cstr (pk, "id");
    dt_pack_str (pk, ev->id);
    dt_pack_cstr (pk, "track");
    dt_pack_cstr (pk, dt_track_name (ev->track));
    dt_pack_cstr (pk, "account");
    dt_pack_str (pk, ev->account);
    if (contact) {
        dt_pack_cstr (pk, "contact");
        dt_pack_str (pk, ev->contact);
    }
    dt_pack_cstr (pk, "stage");
    dt_pack_str (pk, ev->stage);
    dt_pack_cstr (pk, "lead");
    dt_pack_cstr (pk, dt_track_name (ev->lead));
    dt_pack_cstr (pk, "occurred_at");
    msgpack_pack_int64 (pk, ev->occurred_at);
    dt_pack_cstr (pk, "verdict");
    dt_pack_cstr (pk, dt_verdict_name (verdict));
    s_pack_findings (pk, findings, count);
    dt_pack_cstr (pk, "account_key");
    dt_pack_str (pk, account_key);
    if (contact) {
        dt_pack_cstr (pk, "contact_key");
        dt_pack_str (pk, contact_key);
    }
    dt_pack_cstr (pk, "seq");
    msgpack_pack_uint64 (pk, seq);
}

//  "a.b" into topic (cut to size), without printf: once per verdict
static void
s_join_topic (char *topic, size_t size, const char *first, const char *second)
{
    size_t a = strlen (first), b = strlen (second);
    if (a + 1 + b + 1 > size) {
        snprintf (topic, size, "%s.%s", first, second);
        return;
    }
    memcpy (topic, first, a);
    topic [a] = '.';
    memcpy (topic + a + 1, second, b + 1);
}

void
dt_decision_topic (char *topic, size_t size, const dt_event_t *ev, dt_verdict_t verdict)
{
    s_join_topic (topic, size, dt_track_name (ev->track), dt_verdict_name (verdict));
}

void
dt_decision_advisory_topic (char *topic, size_t size, dt_track_t advised)
{
    s_join_topic (topic, size, "advisory", dt_track_name (advised));
}

dt_track_t
dt_decision_advised (const dt_event_t *ev, const dt_stageset_t *stages,
                     const dt_finding_t *findings, uint32_t count)
{
    dt_track_t other = ev->track == DT_TRACK_MARKETING? DT_TRACK_SALES: DT_TRACK_MARKETING;
    if (ev->stage_index >= 0 && ev->stage_index < stages->count
    &&  stages->owner [ev->stage_index] == other)
        return other;
    for (uint32_t i = 0; i < count; i++)
        if (findings [i].rule == DT_RULE_COLLISION || findings [i].rule == DT_RULE_CLAIM_CONFLICT
        ||  findings [i].rule == DT_RULE_LEAD_VIOLATION)
            return other;
    return DT_TRACK_NONE;
}

void
dt_check_reply_pack (msgpack_packer *pk, uint64_t req, dt_verdict_t verdict,
                     const dt_finding_t *findings, uint32_t count,
                     const dt_event_t *event, dt_str_t account_key, dt_str_t contact_key,
                     const dt_reservation_t *held, const dt_reservation_t *taken,
                     int taken_count)
{
    dt_check_reply_pack_head (pk, req, dt_verdict_name (verdict), account_key,
                              event->present & DT_HAS_CONTACT? &contact_key: NULL, count,
                              (held? 2: 0) + (taken_count > 0? 1: 0));
    for (uint32_t i = 0; i < count; i++)
        dt_finding_pack (pk, &findings [i]);
    if (held) {
        dt_pack_cstr (pk, "reservation");
        dt_pack_cstr (pk, held->token);
        dt_pack_cstr (pk, "expires_at");
        msgpack_pack_int64 (pk, held->expires_at);
    }
    if (taken_count > 0) {
        dt_pack_cstr (pk, "taken");
        msgpack_pack_array (pk, (uint32_t) taken_count);
        for (int i = 0; i < taken_count; i++) {
            msgpack_pack_map (pk, 5);
            dt_pack_cstr (pk, "reservation");
            dt_pack_cstr (pk, taken [i].token);
            dt_pack_cstr (pk, "by");
            dt_pack_cstr (pk, taken [i].taken_by);
            dt_pack_cstr (pk, "by_owner");
            dt_pack_cstr (pk, taken [i].taken_by_owner);
            dt_pack_cstr (pk, "at");
            msgpack_pack_int64 (pk, taken [i].ended_at);
            dt_pack_cstr (pk, "contact_key");
            dt_pack_cstr (pk, taken [i].contact_key);
        }
    }
}
