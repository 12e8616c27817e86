/*  jsonmp.c - see jsonmp.h
*/
#include "base/jsonmp.h"

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
