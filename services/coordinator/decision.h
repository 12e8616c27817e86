/*  decision.h - the coordinator's answers on the wire (proto/PROTOCOL.md,
    "Decisions feed" and "Check API"): a verdict with its findings.
*/
#ifndef DT_DECISION_H
#define DT_DECISION_H

#include "rules/engine.h"
#include "proto/wire.h"

//  {"rule", "severity", "message", "related": [ids]}
void dt_finding_pack (msgpack_packer *pk, const dt_finding_t *finding);

//  A verdict on the decisions feed:
//  {"v", "id", "track", "account", "contact"?, "stage", "lead", "occurred_at",
//   "verdict", "findings": [...], "account_key", "contact_key"?, "seq"}; the
//  keys are the canonical ids the event was judged by (contact_key only with
//  a contact), seq its number in the feed
void dt_decision_pack (msgpack_packer *pk, const dt_event_t *event, dt_verdict_t verdict,
                       const dt_finding_t *findings, uint32_t count, dt_str_t account_key,
                       dt_str_t contact_key, uint64_t seq);

//  The feed topic of a verdict: "<track>.<verdict>", e.g. "sales.warn", so a
//  subscriber filters by track ("sales.") or by both ("sales.violation")
void dt_decision_topic (char *topic, size_t size, const dt_event_t *event, dt_verdict_t verdict);

//  The advisory topic for the other track: "advisory.<track>"
void dt_decision_advisory_topic (char *topic, size_t size, dt_track_t advised);

//  The track that should hear of this touchpoint besides its own: the
//  owner of the stage when it is the other track, or the other track when
//  a collision finding names its work. DT_TRACK_NONE if none.
dt_track_t dt_decision_advised (const dt_event_t *event, const dt_stageset_t *stages,
                                const dt_finding_t *findings, uint32_t count);

//  A check reply: {"v", "req", "verdict", "account_key", "contact_key"?,
//  "findings", "reservation"?, "expires_at"?, "taken"?}: held, the
//  reservation made for the request (NULL none); taken, the asking owner's
//  reservations taken by requests of higher priority since it last asked
//  ([{"reservation", "by", "by_owner", "at", "contact_key"}])
void dt_check_reply_pack (msgpack_packer *pk, uint64_t req, dt_verdict_t verdict,
                          const dt_finding_t *findings, uint32_t count,
                          const dt_event_t *event, dt_str_t account_key, dt_str_t contact_key,
                          const dt_reservation_t *held, const dt_reservation_t *taken,
                          int taken_count);

#endif
