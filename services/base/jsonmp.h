/*  jsonmp.h - JSON (jansson) to msgpack, for the CLI's JSON-lines input
*/
#ifndef DT_JSONMP_H
#define DT_JSONMP_H

#include <jansson.h>
#include <msgpack.h>

//  Pack a JSON value as msgpack: objects as maps with string keys, integers
//  as ints, reals as float64, null as nil
void dt_pack_json (msgpack_packer *pk, const json_t *value);

#endif
