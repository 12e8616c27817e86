/*  event.h - the touchpoint event: its fields, limits, and the pure codec that
    turns a msgpack map into a validated dt_event_t and back.

    Decoding does not copy: every dt_str_t and msgpack pointer in a decoded
    event points into the msgpack_object it came from, so the event is valid
    only while that object's zone lives. No I/O happens here, so the codec is
    tested alone (tests/unit/test_event.c) and fuzzed (make fuzz).
*/
#ifndef DT_EVENT_H
#define DT_EVENT_H

#include "base/utf8.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

//  Limits of the public contract (proto/PROTOCOL.md, "Limits")
#define DT_ID_MAX           64          //  bytes in an event id
#define DT_TOKEN_MAX        64          //  bytes in a reservation token
#define DT_TEXT_MAX         256         //  bytes in a short string field
#define DT_BODY_MAX         65536       //  bytes in body
#define DT_CLAIMS_MAX       32          //  entries in claims
#define DT_CLAIM_KEY_MAX    64          //  bytes in a claim key
#define DT_ATTRS_MAX        16384       //  bytes of attrs as JSON
#define DT_ATTRS_DEPTH      8           //  nesting levels inside attrs
#define DT_EVENTS_MAX       1000        //  events in one request
#define DT_FRAME_MAX        (8 << 20)   //  bytes in one request frame
#define DT_OCCURRED_MIN     946684800000LL     //  2000-01-01T00:00:00Z in ms
#define DT_OCCURRED_MAX     4102444800000LL    //  2100-01-01T00:00:00Z in ms

#define DT_MAX_STAGES       16
#define DT_STAGE_NAME_MAX   32

typedef enum {
    DT_TRACK_NONE = -1,
    DT_TRACK_MARKETING = 0,
    DT_TRACK_SALES = 1,
    DT_TRACKS = 2
} dt_track_t;

typedef enum {
    DT_CATEGORY_ONE_TO_ONE = 0,     //  the default
    DT_CATEGORY_PROMOTIONAL = 1,
    DT_CATEGORY_TRANSACTIONAL = 2
} dt_category_t;

//  A string that is not NUL-terminated: a slice of a msgpack buffer
typedef struct {
    const char *ptr;
    uint32_t len;
} dt_str_t;

//  The configured funnel: ordered stages, each owned by one track
typedef struct {
    int count;
    char name [DT_MAX_STAGES][DT_STAGE_NAME_MAX];
    uint8_t name_len [DT_MAX_STAGES];
    dt_track_t owner [DT_MAX_STAGES];
} dt_stageset_t;

//  Bits of dt_event_t.present for optional fields
enum {
    DT_HAS_CONTACT  = 1 << 0,
    DT_HAS_ACTOR    = 1 << 1,
    DT_HAS_PROJECT  = 1 << 2,
    DT_HAS_THEME    = 1 << 3,
    DT_HAS_CLAIMS   = 1 << 4,
    DT_HAS_BODY     = 1 << 5,
    DT_HAS_ATTRS    = 1 << 6,
    DT_HAS_ADVISORS = 1 << 7,
    DT_HAS_LEAD     = 1 << 8,
    DT_HAS_CATEGORY = 1 << 9,
    DT_HAS_PUBLISHER = 1 << 10,    //  stamped form only
    DT_HAS_RESERVATION = 1 << 11
};

typedef struct {
    dt_str_t id;
    dt_str_t source;
    dt_str_t account;
    dt_str_t contact;           //  len 0 when absent
    dt_str_t stage;
    dt_str_t channel;
    dt_str_t kind;
    dt_str_t actor;
    dt_str_t project;
    dt_str_t theme;
    dt_str_t body;
    dt_str_t reservation;       //  the token of the slot the check API held
                                //  for this touch (docs/rules.md), len 0 none
    int64_t occurred_at;        //  ms since the Unix epoch, UTC
    dt_track_t track;           //  the track daemon that received it
    int64_t received_at;        //  µs since the Unix epoch, set by the track
    dt_str_t publisher;         //  who sent it, set by the track: the HTTP token's
                                //  system or the CURVE certificate's name
    dt_track_t lead;            //  defaults to track
    uint8_t advisors;           //  bit (1 << dt_track_t) per advising track
    dt_category_t category;
    int stage_index;            //  into the dt_stageset_t used to decode
    //  claims: a msgpack map of str -> str, claim_count entries
    const msgpack_object_kv *claims;
    uint32_t claim_count;
    const msgpack_object *attrs;    //  a msgpack map, or NULL
    uint32_t present;           //  DT_HAS_* bits
} dt_event_t;

//  Why an event or a frame was refused. code is a static string from the
//  list in proto/PROTOCOL.md; field names the offending field ("" for none).
typedef struct {
    const char *code;
    char field [48];
    char message [320];
} dt_error_t;

//  How an event arrives: from a publisher (no track, no received_at allowed)
//  or stamped by a track daemon on the link to the coordinator.
typedef enum {
    DT_FORM_INGRESS = 0,
    DT_FORM_STAMPED = 1
} dt_form_t;

//  --------------------------------------------------------------------------
//  Tracks, categories, channels, stages

const char *dt_track_name (dt_track_t track);
dt_track_t dt_track_parse (const char *ptr, size_t len);
const char *dt_category_name (dt_category_t category);

//  The default funnel of DOMAIN.md: three marketing stages, four sales
//  stages, in the form dt_stageset_parse reads (the daemons' --stages)
#define DT_DEFAULT_STAGES \
    "awareness:marketing,interest:marketing,consideration:marketing," \
    "intent:sales,evaluation:sales,negotiation:sales,purchase:sales"

//  DT_DEFAULT_STAGES into self
void dt_stageset_default (dt_stageset_t *self);

//  Parse "awareness:marketing,interest:marketing,..." into self. Returns 0, or
//  -1 with a sentence in err.
int dt_stageset_parse (dt_stageset_t *self, const char *spec, char *err, size_t errlen);

//  Index of the stage named by ptr/len, or -1
int dt_stageset_find (const dt_stageset_t *self, const char *ptr, size_t len);

//  --------------------------------------------------------------------------
//  Codec

//  Decode and validate one event. In DT_FORM_INGRESS, track is the receiving
//  track and the event gets it as track and default lead. Returns 0, or -1
//  with err filled (code, field, message).
int dt_event_decode (const msgpack_object *obj, const dt_stageset_t *stages,
                     dt_form_t form, dt_track_t track, dt_event_t *event,
                     dt_error_t *err);

//  Pack an event as a msgpack map. DT_FORM_STAMPED adds track and
//  received_at (and publisher when present), and always writes lead and
//  category.
void dt_event_pack (msgpack_packer *pk, const dt_event_t *event, dt_form_t form);

//  Pack a dt_str_t or a C string as a msgpack str. Inline: most C strings
//  packed are literal map keys, whose length the compiler then knows.
static inline void
dt_pack_str (msgpack_packer *pk, dt_str_t str)
{
    msgpack_pack_str (pk, str.len);
    msgpack_pack_str_body (pk, str.ptr, str.len);
}

static inline void
dt_pack_cstr (msgpack_packer *pk, const char *str)
{
    size_t len = strlen (str);
    msgpack_pack_str (pk, len);
    msgpack_pack_str_body (pk, str, len);
}

//  --------------------------------------------------------------------------
//  Small helpers shared by the codec and its users

static inline dt_str_t dt_str_of (const msgpack_object *obj)
{
    dt_str_t s = { obj->via.str.ptr, obj->via.str.size };
    return s;
}

//  Inline so that a literal's length is known to the compiler: these
//  compare every map key of every event
static inline bool
dt_str_same (dt_str_t a, dt_str_t b)
{
    return a.len == b.len && memcmp (a.ptr, b.ptr, a.len) == 0;
}

static inline bool
dt_str_eq (dt_str_t str, const char *cstr)
{
    size_t len = strlen (cstr);
    return str.len == len && memcmp (str.ptr, cstr, len) == 0;
}

//  Fill err and return -1 (printf-style message)
int dt_error_set (dt_error_t *err, const char *code, const char *field,
                  const char *format, ...) __attribute__ ((format (printf, 4, 5)));

#endif
