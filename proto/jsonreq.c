/*  jsonreq.c - see jsonreq.h. jansson parses (duplicate keys refused, so no
    value is silently dropped); base/jsonmp.c packs and prints.
*/
#include "proto/jsonreq.h"
#include "base/jsonmp.h"

#include <stdio.h>
#include <string.h>

//  jansson's message, made one line of printable text for the reply
static int
s_json_error (dt_error_t *err, const json_error_t *jerr, long line)
{
    char text [200];
    snprintf (text, sizeof text, "%s", jerr->text);
    for (char *c = text; *c; c++)
        if ((unsigned char) *c < 0x20 || (unsigned char) *c >= 0x7f)
            *c = '?';
    if (line > 0)
        return dt_error_set (err, "bad_request", "", "line %ld is not JSON: %s", line, text);
    return dt_error_set (err, "bad_request", "", "the body is not JSON: %s (line %d, column %d)",
                         text, jerr->line, jerr->column);
}

static void
s_pack_head (msgpack_packer *pk)
{
    msgpack_pack_map (pk, 3);
    dt_pack_cstr (pk, "v");
    msgpack_pack_uint8 (pk, DT_PROTOCOL_VERSION);
    dt_pack_cstr (pk, "req");
    msgpack_pack_uint8 (pk, 0);
    dt_pack_cstr (pk, "events");
}

static int
s_pack_object (const char *body, size_t len, msgpack_packer *pk, dt_error_t *err)
{
    json_error_t jerr;
    json_t *root = json_loadb (body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return s_json_error (err, &jerr, 0);
    int rc = 0;
    const char *key;
    json_t *value;
    if (!json_is_object (root))
        rc = dt_error_set (err, "bad_request", "",
                           "the body must be an object {\"events\": [...]}");
    else
        json_object_foreach (root, key, value)
            if (strcmp (key, "events") != 0) {
                char name [41];
                snprintf (name, sizeof name, "%s", key);
                for (char *c = name; *c; c++)
                    if ((unsigned char) *c < 0x20 || (unsigned char) *c >= 0x7f)
                        *c = '?';
                rc = dt_error_set (err, "bad_request", name,
                                   "%s: unknown key: the body is {\"events\": [...]}", name);
                break;
            }
    json_t *events = rc? NULL: json_object_get (root, "events");
    if (rc == 0 && !events)
        rc = dt_error_set (err, "bad_request", "events",
                           "events: required, an array of events");
    if (rc == 0) {
        s_pack_head (pk);
        dt_pack_json (pk, events);
    }
    json_decref (root);
    return rc;
}

static int
s_pack_lines (const char *body, size_t len, msgpack_packer *pk, dt_error_t *err)
{
    json_t *events = json_array ();
    const char *end = body + len;
    long line = 0;
    int rc = 0;
    for (const char *at = body; at < end && rc == 0; ) {
        const char *eol = memchr (at, '\n', (size_t) (end - at));
        if (!eol)
            eol = end;
        line++;
        const char *c = at;
        while (c < eol && (*c == ' ' || *c == '\t' || *c == '\r'))
            c++;
        if (c < eol) {
            json_error_t jerr;
            json_t *event = json_loadb (at, (size_t) (eol - at),
                                        JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
            if (event)
                json_array_append_new (events, event);
            else
                rc = s_json_error (err, &jerr, line);
        }
        at = eol + 1;
    }
    if (rc == 0) {
        s_pack_head (pk);
        dt_pack_json (pk, events);
    }
    json_decref (events);
    return rc;
}

int
dt_jsonreq_pack (const char *body, size_t len, bool lines, dt_buf_t *frame, dt_error_t *err)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, frame, dt_buf_msgpack_write);
    return lines? s_pack_lines (body, len, &pk, err): s_pack_object (body, len, &pk, err);
}

//  --------------------------------------------------------------------------

static bool
s_is (const msgpack_object *obj, const char *text)
{
    return obj && obj->type == MSGPACK_OBJECT_STR && dt_str_eq (dt_str_of (obj), text);
}

int
dt_jsonreq_reply (const char *frame, size_t size, dt_buf_t *json)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    if (msgpack_unpack_next (&unpacked, frame, size, &offset) != MSGPACK_UNPACK_SUCCESS
    ||  unpacked.data.type != MSGPACK_OBJECT_MAP) {
        msgpack_unpacked_destroy (&unpacked);
        return -1;
    }
    const msgpack_object *root = &unpacked.data;
    int status = 200;
    const msgpack_object *error = dt_map_get (root, "error");
    const msgpack_object *rejected = dt_map_get (root, "rejected");
    if (error) {
        const msgpack_object *code = dt_map_get (error, "code");
        status = s_is (code, "overloaded")? 503: s_is (code, "frame_too_large")? 413: 400;
    }
    else
    if (rejected && rejected->type == MSGPACK_OBJECT_ARRAY && rejected->via.array.size) {
        status = 400;
        for (uint32_t i = 0; i < rejected->via.array.size; i++)
            if (s_is (dt_map_get (&rejected->via.array.ptr [i], "code"), "overloaded"))
                status = 503;
    }
    //  The map as it is, but for req: an HTTP request is its own correlation
    dt_buf_putc (json, '{');
    bool comma = false;
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object_kv *kv = &root->via.map.ptr [i];
        if (s_is (&kv->key, "req"))
            continue;
        if (comma)
            dt_buf_putc (json, ',');
        dt_json_of_msgpack (json, &kv->key);
        dt_buf_putc (json, ':');
        dt_json_of_msgpack (json, &kv->val);
        comma = true;
    }
    dt_buf_append (json, "}\n", 2);
    msgpack_unpacked_destroy (&unpacked);
    return status;
}
