/*  test_relaymsg.c - what the relay sends: the filter (topic prefixes,
    advisories only when named, verdicts, rules), the JSON body (the feed's
    message as JSON), the Slack body and the Idempotency-Key value.
*/
#include "cli/relaymsg.h"
#include "cli/topics.h"
#include "base/buf.h"
#include "base/jsonmp.h"
#include "unit/testing.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

//  A feed message from JSON, as the relay gets it (msgpack)
typedef struct {
    msgpack_sbuffer packed;
    msgpack_unpacked unpacked;
} s_message_t;

static const msgpack_object *
s_message (s_message_t *self, const char *text)
{
    json_error_t error;
    json_t *json = json_loads (text, 0, &error);
    if (!json) {
        fprintf (stderr, "bad test JSON: %s\n", error.text);
        exit (2);
    }
    msgpack_sbuffer_init (&self->packed);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->packed, msgpack_sbuffer_write);
    dt_pack_json (&pk, json);
    json_decref (json);
    msgpack_unpacked_init (&self->unpacked);
    msgpack_unpack_next (&self->unpacked, self->packed.data, self->packed.size, NULL);
    return &self->unpacked.data;
}

static void
s_message_free (s_message_t *self)
{
    msgpack_unpacked_destroy (&self->unpacked);
    msgpack_sbuffer_destroy (&self->packed);
}

static dt_str_t
s_topic (const char *text)
{
    return (dt_str_t) { text, (uint32_t) strlen (text) };
}

//  Whether a filter built from these options relays the message on topic
static int
s_relays (const char *topics, const char *verdicts, const char *rules, const char *topic,
          const msgpack_object *message)
{
    dt_relay_filter_t filter;
    char err [256];
    int rc = dt_relay_filter_init (&filter, topics, verdicts, rules, err, sizeof err);
    bool matches = rc == 0 && dt_relay_filter_matches (&filter, s_topic (topic), message);
    dt_relay_filter_free (&filter);
    return rc? -1: matches;
}

#define VIOLATION "{\"v\": 1, \"id\": \"tp-1\", \"track\": \"sales\", \"account\": \"acme.com\", " \
    "\"verdict\": \"violation\", \"findings\": [{\"rule\": \"cooldown\", \"severity\": \"violation\", " \
    "\"message\": \"acme.com was called 2 h ago\"}, {\"rule\": \"banned_phrase\", \"severity\": \"warn\", " \
    "\"message\": \"say \\\"offer\\\", not \\\"deal\\\"\"}], \"occurred_at\": 1796601600000, \"seq\": 42}"

int
main (void)
{
    s_message_t m1, m2, m3, m4;
    const msgpack_object *violation = s_message (&m1, VIOLATION);
    const msgpack_object *ok = s_message (&m2, "{\"v\": 1, \"id\": \"tp-2\", \"track\": \"marketing\", "
                                               "\"verdict\": \"ok\", \"findings\": [], \"seq\": 43}");
    const msgpack_object *warn = s_message (&m3, "{\"v\": 1, \"id\": \"tp 3%\\u00e9\", \"track\": \"sales\", "
                                                 "\"verdict\": \"warn\", \"findings\": [{\"rule\": \"frequency\"}], \"seq\": 44}");
    const msgpack_object *odd = s_message (&m4, "{\"v\": 1, \"id\": 7, \"verdict\": 3, \"findings\": {}}");

    //  Lists: spaces, commas and tabs; empty items left out
    zlist_t *list = dt_topics_split (" sales.,marketing.violation\t, ,advisory.");
    CHECK_INT (zlist_size (list), 3);
    CHECK_STR (zlist_first (list), "sales.");
    CHECK_STR (zlist_next (list), "marketing.violation");
    CHECK (dt_topics_match (list, s_topic ("sales.warn")));
    CHECK (dt_topics_match (list, s_topic ("marketing.violation")));
    CHECK (!dt_topics_match (list, s_topic ("marketing.warn")));
    CHECK (!dt_topics_match (list, s_topic ("sale")));
    zlist_destroy (&list);
    list = dt_topics_split ("");
    CHECK_INT (zlist_size (list), 0);
    CHECK (dt_topics_match (list, s_topic ("anything")));
    CHECK (dt_topics_match (NULL, s_topic ("anything")));
    zlist_destroy (&list);

    //  Verdicts: the default warn,violation; all; ok alone
    CHECK_INT (s_relays ("", "warn,violation", "", "sales.violation", violation), 1);
    CHECK_INT (s_relays ("", "warn,violation", "", "marketing.ok", ok), 0);
    CHECK_INT (s_relays ("", "warn violation", "", "sales.warn", warn), 1);
    CHECK_INT (s_relays ("", "all", "", "marketing.ok", ok), 1);
    CHECK_INT (s_relays ("", "ok", "", "sales.violation", violation), 0);
    CHECK_INT (s_relays ("", "violation", "", "sales.warn", warn), 0);
    //  A verdict that is not a string is never relayed
    CHECK_INT (s_relays ("", "all", "", "sales.violation", odd), 0);
    //  Topic prefixes
    CHECK_INT (s_relays ("sales.", "all", "", "sales.violation", violation), 1);
    CHECK_INT (s_relays ("marketing.", "all", "", "sales.violation", violation), 0);
    CHECK_INT (s_relays ("marketing. sales.viol", "all", "", "sales.violation", violation), 1);
    //  Advisories only when a prefix names them
    CHECK_INT (s_relays ("", "all", "", "advisory.sales", violation), 0);
    CHECK_INT (s_relays ("sales.", "all", "", "advisory.sales", violation), 0);
    CHECK_INT (s_relays ("advisory.", "all", "", "advisory.sales", violation), 1);
    CHECK_INT (s_relays ("advisory.sales", "all", "", "advisory.sales", violation), 1);
    CHECK_INT (s_relays ("adv", "all", "", "advisory.sales", violation), 1);
    //  Rules: a finding of one of them
    CHECK_INT (s_relays ("", "all", "cooldown", "sales.violation", violation), 1);
    CHECK_INT (s_relays ("", "all", "quiet_hours,banned_phrase", "sales.violation", violation), 1);
    CHECK_INT (s_relays ("", "all", "quiet_hours", "sales.violation", violation), 0);
    CHECK_INT (s_relays ("", "all", "cool", "sales.violation", violation), 0);       //  whole names
    CHECK_INT (s_relays ("", "all", "cooldown", "marketing.ok", ok), 0);
    CHECK_INT (s_relays ("", "all", "frequency", "sales.warn", warn), 1);
    CHECK_INT (s_relays ("", "ok", "frequency", "sales.warn", warn), 0);              //  both must hold
    CHECK_INT (s_relays ("", "all", "cooldown", "sales.violation", odd), 0);
    //  Bad verdicts are refused, naming the option
    dt_relay_filter_t filter;
    char err [256] = "";
    CHECK_INT (dt_relay_filter_init (&filter, "", "warn,fatal", "", err, sizeof err), -1);
    CHECK_STR (err, "verdicts: 'fatal' is not ok, warn, violation or all");
    dt_relay_filter_free (&filter);
    CHECK_INT (dt_relay_filter_init (&filter, "", " , ", "", err, sizeof err), -1);
    CHECK (strstr (err, "verdicts: name at least one") == err);
    dt_relay_filter_free (&filter);

    //  The JSON body: the message map as JSON, every key, in order
    dt_buf_t body = { 0 };
    dt_relay_json_body (&body, violation);
    dt_buf_append (&body, "", 1);
    json_error_t error;
    json_t *parsed = json_loads (body.data, 0, &error);
    json_t *expected = json_loads (VIOLATION, 0, &error);
    CHECK (parsed && json_equal (parsed, expected));
    CHECK (strncmp (body.data, "{\"v\":1,\"id\":\"tp-1\",\"track\":\"sales\"", 34) == 0);
    CHECK (strstr (body.data, "\"occurred_at\":1796601600000,\"seq\":42}") != NULL);
    json_decref (parsed);
    json_decref (expected);
    dt_buf_free (&body);

    //  The Slack body: the findings' messages, one a line, quotes escaped
    char *slack = dt_relay_slack_body (violation);
    CHECK_STR (slack, "{\"text\":\"acme.com was called 2 h ago\\nsay \\\"offer\\\", not \\\"deal\\\"\"}");
    free (slack);
    //  No findings with messages: track, verdict and id
    slack = dt_relay_slack_body (ok);
    CHECK_STR (slack, "{\"text\":\"marketing ok tp-2\"}");
    free (slack);
    slack = dt_relay_slack_body (warn);
    CHECK_STR (slack, "{\"text\":\"sales warn tp 3%\xc3\xa9\"}");
    free (slack);
    slack = dt_relay_slack_body (odd);           //  none of them strings: empty
    CHECK_STR (slack, "{\"text\":\"\"}");
    free (slack);

    //  The Idempotency-Key: printable ASCII as it is, the rest and '%' as %XX
    dt_buf_t key = { 0 };
    dt_relay_header_value (&key, dt_map_get (violation, "id"));
    dt_buf_append (&key, "", 1);
    CHECK_STR (key.data, "tp-1");
    dt_buf_reset (&key);
    dt_relay_header_value (&key, dt_map_get (warn, "id"));
    dt_buf_append (&key, "", 1);
    CHECK_STR (key.data, "tp%203%25%C3%A9");
    dt_buf_reset (&key);
    dt_relay_header_value (&key, dt_map_get (odd, "id"));      //  not a string: nothing
    CHECK_INT (key.size, 0);
    dt_buf_free (&key);

    s_message_free (&m1);
    s_message_free (&m2);
    s_message_free (&m3);
    s_message_free (&m4);
    return TESTING_DONE ();
}
