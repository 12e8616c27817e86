/*  jsonmp.c - see jsonmp.h
*/
#include "base/jsonmp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
dt_pack_json (msgpack_packer *pk, const json_t *value)
{
    switch (json_typeof (value)) {
        case JSON_OBJECT: {
            msgpack_pack_map (pk, json_object_size (value));
            const char *key;
            json_t *item;
            json_object_foreach ((json_t *) value, key, item) {
                size_t len = strlen (key);
                msgpack_pack_str (pk, len);
                msgpack_pack_str_body (pk, key, len);
                dt_pack_json (pk, item);
            }
            break;
        }
        case JSON_ARRAY: {
            msgpack_pack_array (pk, json_array_size (value));
            size_t index;
            json_t *item;
            json_array_foreach (value, index, item)
                dt_pack_json (pk, item);
            break;
        }
        case JSON_STRING:
            msgpack_pack_str (pk, json_string_length (value));
            msgpack_pack_str_body (pk, json_string_value (value), json_string_length (value));
            break;
        case JSON_INTEGER:
            msgpack_pack_int64 (pk, json_integer_value (value));
            break;
        case JSON_REAL:
            msgpack_pack_double (pk, json_real_value (value));
            break;
        case JSON_TRUE:
            msgpack_pack_true (pk);
            break;
        case JSON_FALSE:
            msgpack_pack_false (pk);
            break;
        default:
            msgpack_pack_nil (pk);
            break;
    }
}

static void
s_json_string (dt_buf_t *buf, const char *ptr, size_t len)
{
    dt_buf_putc (buf, '"');
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) ptr [i];
        if (c == '"' || c == '\\' || c < 0x20) {
            dt_buf_append (buf, ptr + start, i - start);
            if (c == '"' || c == '\\') {
                dt_buf_putc (buf, '\\');
                dt_buf_putc (buf, (char) c);
            }
            else
                dt_buf_printf (buf, "\\u%04x", c);
            start = i + 1;
        }
    }
    dt_buf_append (buf, ptr + start, len - start);
    dt_buf_putc (buf, '"');
}

//  The shortest decimal that reads back as the same number: jsonb keeps
//  numbers as exact decimals, so 0.1 must not become 0.10000000000000001
static void
s_json_number (dt_buf_t *buf, double value, bool single)
{
    char text [40];
    for (int digits = single? 6: 15; digits <= 17; digits++) {
        snprintf (text, sizeof text, "%.*g", digits, value);
        if (single? strtof (text, NULL) == (float) value: strtod (text, NULL) == value)
            break;
    }
    dt_buf_append (buf, text, strlen (text));
}

void
dt_json_of_msgpack (dt_buf_t *buf, const msgpack_object *obj)
{
    switch (obj->type) {
        case MSGPACK_OBJECT_NIL:
            dt_buf_append (buf, "null", 4);
            break;
        case MSGPACK_OBJECT_BOOLEAN:
            if (obj->via.boolean)
                dt_buf_append (buf, "true", 4);
            else
                dt_buf_append (buf, "false", 5);
            break;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            dt_buf_put_uint (buf, obj->via.u64);
            break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            dt_buf_put_int (buf, obj->via.i64);
            break;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            s_json_number (buf, obj->via.f64, obj->type == MSGPACK_OBJECT_FLOAT32);
            break;
        case MSGPACK_OBJECT_STR:
            s_json_string (buf, obj->via.str.ptr, obj->via.str.size);
            break;
        case MSGPACK_OBJECT_ARRAY:
            dt_buf_putc (buf, '[');
            for (uint32_t i = 0; i < obj->via.array.size; i++) {
                if (i)
                    dt_buf_putc (buf, ',');
                dt_json_of_msgpack (buf, &obj->via.array.ptr [i]);
            }
            dt_buf_putc (buf, ']');
            break;
        case MSGPACK_OBJECT_MAP:
            dt_buf_putc (buf, '{');
            for (uint32_t i = 0; i < obj->via.map.size; i++) {
                if (i)
                    dt_buf_putc (buf, ',');
                dt_json_of_msgpack (buf, &obj->via.map.ptr [i].key);
                dt_buf_putc (buf, ':');
                dt_json_of_msgpack (buf, &obj->via.map.ptr [i].val);
            }
            dt_buf_putc (buf, '}');
            break;
        default:
            //  The codec refuses bin and ext before they get here
            dt_buf_append (buf, "null", 4);
            break;
    }
}
