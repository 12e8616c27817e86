/*  jsonmp.h - JSON (jansson) to msgpack and msgpack to JSON text: the CLI's
    JSON-lines input, the HTTP ingress (both ways), and attrs and claims as
    jsonb in the store's COPY rows
*/
#ifndef DT_JSONMP_H
#define DT_JSONMP_H

#include "base/buf.h"

#include <jansson.h>
#include <msgpack.h>

//  Pack a JSON value as msgpack: objects as maps with string keys, integers
//  as ints, reals as float64, null as nil
void dt_pack_json (msgpack_packer *pk, const json_t *value);

//  A msgpack value as compact JSON text appended to buf: integers exact,
//  floats as the shortest decimal that reads back the same, strings with
//  '"', '\\' and control characters escaped (bytes otherwise as they are:
//  the codec lets only valid UTF-8 through), bin and ext as null
void dt_json_of_msgpack (dt_buf_t *buf, const msgpack_object *obj);

#endif
