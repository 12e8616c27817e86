/*  mpscan.c - check msgpack bytes against hard limits before unpacking
    (see mpscan.h).

    One pass over the bytes with an explicit stack of the values still due in
    each open container. "pending" is the number of values declared but not
    yet read, across all open containers; since each takes at least one byte,
    pending > bytes left means the frame lies about its counts, and the scan
    stops before msgpack_unpack_next would allocate for them.
*/
#include "proto/mpscan.h"

static uint64_t
s_load_be (const uint8_t *p, int width)
{
    uint64_t value = 0;
    for (int i = 0; i < width; i++)
        value = (value << 8) | p [i];
    return value;
}

dt_scan_limits_t
dt_scan_limits_default (void)
{
    dt_scan_limits_t limits = DT_SCAN_LIMITS_DEFAULT;
    return limits;
}

//  What one type byte announces
typedef enum { K_SCALAR, K_BODY, K_ARRAY, K_MAP, K_RESERVED } kind_t;

typedef struct {
    kind_t kind;
    int width;              //  bytes after the type byte: the value, or the length field
    uint64_t fixed;         //  body bytes (fixstr, fixext), or items (fixarray, fixmap)
    int extra;              //  ext: its type byte, which follows the length field
    const char *what;       //  for messages
} head_t;

static head_t
s_head_of (uint8_t c)
{
    head_t h = { K_SCALAR, 0, 0, 0, "" };
    if (c <= 0x7f || c >= 0xe0)
        return h;                                       //  fixint
    if (c <= 0x8f) {
        h.kind = K_MAP; h.fixed = c & 0x0f; h.what = "a map";
        return h;
    }
    if (c <= 0x9f) {
        h.kind = K_ARRAY; h.fixed = c & 0x0f; h.what = "an array";
        return h;
    }
    if (c <= 0xbf) {
        h.kind = K_BODY; h.fixed = c & 0x1f; h.what = "a string";
        return h;
    }
    switch (c) {
        case 0xc0: case 0xc2: case 0xc3:                //  nil, false, true
            return h;
        case 0xc1:
            h.kind = K_RESERVED;
            return h;
        case 0xc4: case 0xc5: case 0xc6:                //  bin 8/16/32
            h.kind = K_BODY; h.width = 1 << (c - 0xc4); h.what = "a bin";
            return h;
        case 0xc7: case 0xc8: case 0xc9:                //  ext 8/16/32
            h.kind = K_BODY; h.width = 1 << (c - 0xc7); h.extra = 1; h.what = "an ext";
            return h;
        case 0xca: h.width = 4; return h;               //  float 32
        case 0xcb: h.width = 8; return h;               //  float 64
        case 0xcc: case 0xcd: case 0xce: case 0xcf:     //  uint 8..64
            h.width = 1 << (c - 0xcc);
            return h;
        case 0xd0: case 0xd1: case 0xd2: case 0xd3:     //  int 8..64
            h.width = 1 << (c - 0xd0);
            return h;
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
            //  fixext 1..16: a type byte, then 1 << n bytes
            h.kind = K_BODY; h.fixed = 1 + (1u << (c - 0xd4)); h.what = "an ext";
            return h;
        case 0xd9: case 0xda: case 0xdb:                //  str 8/16/32
            h.kind = K_BODY; h.width = 1 << (c - 0xd9); h.what = "a string";
            return h;
        case 0xdc: case 0xdd:                           //  array 16/32
            h.kind = K_ARRAY; h.width = 2 << (c - 0xdc); h.what = "an array";
            return h;
        default:                                        //  0xde, 0xdf: map 16/32
            h.kind = K_MAP; h.width = 2 << (c - 0xde); h.what = "a map";
            return h;
    }
}

int
dt_msgpack_scan (const char *data, size_t size, const dt_scan_limits_t *limits,
                 dt_error_t *err)
{
    dt_scan_limits_t defaults = DT_SCAN_LIMITS_DEFAULT;
    if (!limits)
        limits = &defaults;
    uint32_t max_depth = limits->depth < DT_SCAN_DEPTH_MAX? limits->depth: DT_SCAN_DEPTH_MAX;
    if (size == 0)
        return dt_error_set (err, "bad_request", "", "empty frame: send one msgpack map");
    if (limits->objects < 1)
        return dt_error_set (err, "bad_request", "",
                             "frame holds more than %llu values",
                             (unsigned long long) limits->objects);

    const uint8_t *p = (const uint8_t *) data;
    uint64_t due [DT_SCAN_DEPTH_MAX];   //  values still to read in each open container
    uint32_t depth = 0;
    uint64_t pending = 1;               //  values declared and not yet read: the root
    uint64_t declared = 1;              //  values declared so far, read or not
    size_t pos = 0;

    while (pending > 0) {
        if (pos == size)
            return dt_error_set (err, "bad_request", "",
                                 "frame is not msgpack: it ends inside a value");
        size_t at = pos;
        uint8_t c = p [pos++];
        pending--;
        if (depth > 0)
            due [depth - 1]--;
        head_t h = s_head_of (c);
        if (h.kind == K_RESERVED)
            return dt_error_set (err, "bad_request", "",
                                 "frame is not msgpack: byte 0xc1 at offset %zu is reserved", at);
        if ((size_t) h.width > size - pos)
            return dt_error_set (err, "bad_request", "",
                                 "frame is not msgpack: it ends inside a value");
        uint64_t n = h.width && h.kind != K_SCALAR? s_load_be (p + pos, h.width): h.fixed;
        pos += (size_t) h.width;

        if (h.kind == K_BODY) {
            uint64_t body = n + (uint64_t) h.extra;
            if (body > size - pos)
                return dt_error_set (err, "bad_request", "",
                                     "frame is not msgpack: %s at offset %zu declares %llu bytes, "
                                     "only %zu follow", h.what, at,
                                     (unsigned long long) body, size - pos);
            pos += (size_t) body;
        }
        else
        if (h.kind == K_ARRAY || h.kind == K_MAP) {
            if (depth + 1 > max_depth)
                return dt_error_set (err, "bad_request", "",
                                     "nesting deeper than %u levels", max_depth);
            uint64_t values = h.kind == K_MAP? 2 * n: n;
            size_t left = size - pos;
            if (values > left)
                return dt_error_set (err, "bad_request", "",
                                     "frame is not msgpack: %s declares %llu %s in %zu bytes",
                                     h.what, (unsigned long long) n,
                                     h.kind == K_MAP? "entries": "items", size);
            if (pending + values > left)
                return dt_error_set (err, "bad_request", "",
                                     "frame is not msgpack: %llu values are still due "
                                     "but only %zu bytes follow",
                                     (unsigned long long) (pending + values), left);
            if (values > limits->objects - declared)
                return dt_error_set (err, "bad_request", "",
                                     "frame holds more than %llu values",
                                     (unsigned long long) limits->objects);
            declared += values;
            if (values > 0) {
                due [depth++] = values;
                pending += values;
                continue;           //  its first value comes next
            }
        }
        //  A value is complete: close every container it completes
        while (depth > 0 && due [depth - 1] == 0)
            depth--;
    }
    if (pos != size)
        return dt_error_set (err, "bad_request", "",
                             "frame holds %zu bytes after the first msgpack value: send one map",
                             size - pos);
    return 0;
}
