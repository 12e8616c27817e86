/*  relaymsg.c - the relay's filter and bodies (see relaymsg.h)
*/
#include "cli/relaymsg.h"
#include "cli/topics.h"
#include "base/jsonmp.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *s_verdict_names [3] = { "ok", "warn", "violation" };

int
dt_relay_filter_init (dt_relay_filter_t *self, const char *topics, const char *verdicts,
                      const char *rules, char *err, size_t errlen)
{
    *self = (dt_relay_filter_t) { .topics = dt_topics_split (topics), .rules = dt_topics_split (rules) };
    //  A prefix of "advisory." or one under it names advisory messages
    for (char *topic = zlist_first (self->topics); topic; topic = zlist_next (self->topics))
        if (strncmp (topic, "advisory.", strlen (topic) < 9? strlen (topic): 9) == 0)
            self->advisories = true;
    zlist_t *names = dt_topics_split (verdicts);
    int rc = 0;
    for (char *name = zlist_first (names); name && rc == 0; name = zlist_next (names)) {
        bool known = false;
        for (int i = 0; i < 3; i++)
            if (strcmp (name, s_verdict_names [i]) == 0 || strcmp (name, "all") == 0)
                self->verdicts [i] = known = true;
        if (!known) {
            snprintf (err, errlen, "verdicts: '%s' is not ok, warn, violation or all", name);
            rc = -1;
        }
    }
    if (rc == 0 && !self->verdicts [0] && !self->verdicts [1] && !self->verdicts [2]) {
        snprintf (err, errlen, "verdicts: name at least one (ok, warn, violation or all)");
        rc = -1;
    }
    zlist_destroy (&names);
    return rc;
}

void
dt_relay_filter_free (dt_relay_filter_t *self)
{
    zlist_destroy (&self->topics);
    zlist_destroy (&self->rules);
}

static bool
s_str_in (zlist_t *list, dt_str_t text)
{
    for (char *item = zlist_first (list); item; item = zlist_next (list))
        if (dt_str_eq (text, item))
            return true;
    return false;
}

bool
dt_relay_filter_matches (const dt_relay_filter_t *self, dt_str_t topic, const msgpack_object *message)
{
    if (!dt_topics_match (self->topics, topic))
        return false;
    if (!self->advisories && topic.len >= 9 && memcmp (topic.ptr, "advisory.", 9) == 0)
        return false;
    const msgpack_object *verdict = dt_map_get (message, "verdict");
    bool wanted = false;
    for (int i = 0; i < 3 && verdict && verdict->type == MSGPACK_OBJECT_STR; i++)
        if (self->verdicts [i] && dt_str_eq (dt_str_of (verdict), s_verdict_names [i]))
            wanted = true;
    if (!wanted || zlist_size (self->rules) == 0)
        return wanted;
    const msgpack_object *findings = dt_map_get (message, "findings");
    for (uint32_t i = 0; findings && findings->type == MSGPACK_OBJECT_ARRAY
                         && i < findings->via.array.size; i++) {
        const msgpack_object *rule = dt_map_get (&findings->via.array.ptr [i], "rule");
        if (rule && rule->type == MSGPACK_OBJECT_STR && s_str_in (self->rules, dt_str_of (rule)))
            return true;
    }
    return false;
}

void
dt_relay_json_body (dt_buf_t *buf, const msgpack_object *message)
{
    dt_json_of_msgpack (buf, message);
}

char *
dt_relay_slack_body (const msgpack_object *message)
{
    dt_buf_t text = { 0 };
    const msgpack_object *findings = dt_map_get (message, "findings");
    for (uint32_t i = 0; findings && findings->type == MSGPACK_OBJECT_ARRAY
                         && i < findings->via.array.size; i++) {
        const msgpack_object *said = dt_map_get (&findings->via.array.ptr [i], "message");
        if (said && said->type == MSGPACK_OBJECT_STR) {
            if (text.size)
                dt_buf_append (&text, "\n", 1);
            dt_buf_append (&text, said->via.str.ptr, said->via.str.size);
        }
    }
    if (text.size == 0)
        for (const char *const *key = (const char *const []) { "track", "verdict", "id", NULL }; *key; key++) {
            const msgpack_object *value = dt_map_get (message, *key);
            if (text.size)
                dt_buf_append (&text, " ", 1);
            if (value && value->type == MSGPACK_OBJECT_STR)
                dt_buf_append (&text, value->via.str.ptr, value->via.str.size);
        }
    json_t *body = json_object ();
    json_object_set_new (body, "text", json_stringn (text.data? text.data: "", text.size));
    char *dumped = json_dumps (body, JSON_COMPACT);
    json_decref (body);
    dt_buf_free (&text);
    return dumped;
}

void
dt_relay_header_value (dt_buf_t *buf, const msgpack_object *value)
{
    if (!value || value->type != MSGPACK_OBJECT_STR)
        return;
    for (uint32_t i = 0; i < value->via.str.size; i++) {
        unsigned char c = (unsigned char) value->via.str.ptr [i];
        char escaped [4];
        if (c > 0x20 && c < 0x7f && c != '%')
            dt_buf_append (buf, (const char *) &c, 1);
        else {
            snprintf (escaped, sizeof escaped, "%%%02X", c);
            dt_buf_append (buf, escaped, 3);
        }
    }
}
