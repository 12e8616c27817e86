/*  relaymsg.h - what the relay sends, pure: which verdicts it relays (the
    filter: topic prefixes, verdicts, rules) and the bytes of each POST
    (the JSON body, the Slack body, the Idempotency-Key value). The wire
    contract is proto/PROTOCOL.md, "Webhooks".
*/
#ifndef DT_CLI_RELAYMSG_H
#define DT_CLI_RELAYMSG_H

#include "base/buf.h"
#include "proto/wire.h"

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    zlist_t *topics;                //  prefixes; empty: every verdict topic
    bool advisories;                //  a prefix names advisory messages
    bool verdicts [3];              //  ok, warn, violation
    zlist_t *rules;                 //  empty: any
} dt_relay_filter_t;

//  The filter from the options' texts (lists separated by spaces or
//  commas; verdicts: ok, warn, violation or all). 0, or -1 with err naming
//  the option and why; either way dt_relay_filter_free frees it.
int
    dt_relay_filter_init (dt_relay_filter_t *self, const char *topics, const char *verdicts,
                          const char *rules, char *err, size_t errlen);

void
    dt_relay_filter_free (dt_relay_filter_t *self);

//  Whether the feed's message (topic and map) is relayed: a topic prefix
//  (advisory.* only when one names it), its verdict, and, when rules are
//  given, a finding of one of them
bool
    dt_relay_filter_matches (const dt_relay_filter_t *self, dt_str_t topic,
                             const msgpack_object *message);

//  The JSON body: the feed's message map as JSON (appended to buf)
void
    dt_relay_json_body (dt_buf_t *buf, const msgpack_object *message);

//  The Slack-compatible body {"text": the findings' messages, one a line};
//  a verdict without findings says "<track> <verdict> <id>". The caller
//  frees it.
char *
    dt_relay_slack_body (const msgpack_object *message);

//  The touchpoint id as a header value (appended to buf): bytes outside
//  printable ASCII, and '%', as %XX; nothing when it is not a string
void
    dt_relay_header_value (dt_buf_t *buf, const msgpack_object *value);

#endif
