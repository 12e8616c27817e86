/*  build.h - what the proto unit tests build their input with: a msgpack
    packer into an sbuffer, unpacked "slots" that own their bytes, and an
    event builder (an ordered list of key/value pairs packed as one map), so
    that each test makes the frames a daemon would receive. Static inline:
    each test uses its own subset.
*/
#ifndef DT_TEST_PROTO_BUILD_H
#define DT_TEST_PROTO_BUILD_H

#include "proto/event.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define T_OCC       1700000000000LL         //  2023-11-14T22:13:20Z in ms
#define T_RCV       1700000000123456LL      //  µs


//  --------------------------------------------------------------------------
//  msgpack helpers

typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} mp_t;

static inline void
mp_init (mp_t *m)
{
    msgpack_sbuffer_init (&m->sb);
    msgpack_packer_init (&m->pk, &m->sb, msgpack_sbuffer_write);
}

static inline void
mp_free (mp_t *m)
{
    msgpack_sbuffer_destroy (&m->sb);
}

static inline void
pk_strn (msgpack_packer *pk, const char *s, size_t n)
{
    msgpack_pack_str (pk, n);
    msgpack_pack_str_body (pk, s, n);
}

static inline void
pk_str (msgpack_packer *pk, const char *s)
{
    pk_strn (pk, s, strlen (s));
}

//  An unpacked object that owns its bytes (msgpack strings point into them)
typedef struct {
    mp_t m;
    msgpack_unpacked up;
} slot_t;

static inline void
slot_init (slot_t *s)
{
    mp_init (&s->m);
    msgpack_unpacked_init (&s->up);
}

static inline void
slot_free (slot_t *s)
{
    msgpack_unpacked_destroy (&s->up);
    mp_free (&s->m);
}

static inline void
slot_clear (slot_t *s)
{
    msgpack_sbuffer_clear (&s->m.sb);
}

static inline const msgpack_object *
slot_unpack (slot_t *s)
{
    msgpack_unpacked_destroy (&s->up);
    msgpack_unpacked_init (&s->up);
    size_t offset = 0;
    msgpack_unpack_return rc = msgpack_unpack_next (&s->up, s->m.sb.data, s->m.sb.size, &offset);
    assert (rc == MSGPACK_UNPACK_SUCCESS && offset == s->m.sb.size);
    (void) rc;
    return &s->up.data;
}

static inline bool
obj_is_str (const msgpack_object *obj, const char *want)
{
    return obj && obj->type == MSGPACK_OBJECT_STR && dt_str_eq (dt_str_of (obj), want);
}

static inline bool
obj_is_uint (const msgpack_object *obj, uint64_t want)
{
    return obj && obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER && obj->via.u64 == want;
}

//  --------------------------------------------------------------------------
//  Event builder: an ordered list of key/value pairs, packed as one map

typedef enum { V_STR, V_INT, V_UINT, V_NIL, V_BOOL, V_DOUBLE, V_RAW } vkind_t;
typedef enum { K_STR, K_INT, K_BIN } kkind_t;

typedef struct {
    kkind_t kkind;
    const char *key;
    size_t keylen;
    vkind_t kind;
    const char *s;              //  V_STR text, V_RAW msgpack bytes
    size_t len;
    int64_t i;
    uint64_t u;
    double d;
} fld_t;

typedef struct {
    fld_t f [48];
    int n;
} evb_t;

static inline fld_t *
evb_append_keyn (evb_t *b, const char *key, size_t keylen)
{
    assert (b->n < 48);
    fld_t *f = &b->f [b->n++];
    memset (f, 0, sizeof *f);
    f->key = key;
    f->keylen = keylen;
    return f;
}

static inline fld_t *
evb_slot (evb_t *b, const char *key)
{
    size_t keylen = strlen (key);
    for (int i = 0; i < b->n; i++)
        if (b->f [i].kkind == K_STR && b->f [i].keylen == keylen
        &&  memcmp (b->f [i].key, key, keylen) == 0) {
            memset (&b->f [i], 0, sizeof b->f [i]);
            b->f [i].key = key;
            b->f [i].keylen = keylen;
            return &b->f [i];
        }
    return evb_append_keyn (b, key, keylen);
}

static inline void
evb_strn (evb_t *b, const char *key, const char *s, size_t n)
{
    fld_t *f = evb_slot (b, key);
    f->kind = V_STR;
    f->s = s;
    f->len = n;
}

static inline void
evb_str (evb_t *b, const char *key, const char *s)
{
    evb_strn (b, key, s, strlen (s));
}

static inline void
evb_int (evb_t *b, const char *key, int64_t v)
{
    fld_t *f = evb_slot (b, key);
    f->kind = V_INT;
    f->i = v;
}

static inline void
evb_uint (evb_t *b, const char *key, uint64_t v)
{
    fld_t *f = evb_slot (b, key);
    f->kind = V_UINT;
    f->u = v;
}

static inline void
evb_nil (evb_t *b, const char *key)
{
    evb_slot (b, key)->kind = V_NIL;
}

static inline void
evb_bool (evb_t *b, const char *key, bool v)
{
    fld_t *f = evb_slot (b, key);
    f->kind = V_BOOL;
    f->i = v;
}

static inline void
evb_double (evb_t *b, const char *key, double v)
{
    fld_t *f = evb_slot (b, key);
    f->kind = V_DOUBLE;
    f->d = v;
}

//  The value is the msgpack bytes in m (do not write to m afterwards)
static inline void
evb_raw (evb_t *b, const char *key, const mp_t *m)
{
    fld_t *f = evb_slot (b, key);
    f->kind = V_RAW;
    f->s = m->sb.data;
    f->len = m->sb.size;
}

static inline void
evb_del (evb_t *b, const char *key)
{
    for (int i = 0; i < b->n; i++)
        if (b->f [i].kkind == K_STR && b->f [i].keylen == strlen (key)
        &&  memcmp (b->f [i].key, key, b->f [i].keylen) == 0) {
            memmove (&b->f [i], &b->f [i + 1], (size_t) (b->n - i - 1) * sizeof b->f [0]);
            b->n--;
            return;
        }
}

//  The required fields, valid
static inline void
evb_base (evb_t *b)
{
    memset (b, 0, sizeof *b);
    evb_str (b, "id", "ev-0001");
    evb_str (b, "source", "crm");
    evb_str (b, "account", "acme");
    evb_str (b, "stage", "awareness");
    evb_str (b, "channel", "email");
    evb_str (b, "kind", "newsletter");
    evb_int (b, "occurred_at", T_OCC);
}

static inline void
evb_pack (const evb_t *b, mp_t *m)
{
    msgpack_pack_map (&m->pk, (size_t) b->n);
    for (int i = 0; i < b->n; i++) {
        const fld_t *f = &b->f [i];
        if (f->kkind == K_STR)
            pk_strn (&m->pk, f->key, f->keylen);
        else
        if (f->kkind == K_INT)
            msgpack_pack_int64 (&m->pk, 7);
        else {
            msgpack_pack_bin (&m->pk, f->keylen);
            msgpack_pack_bin_body (&m->pk, f->key, f->keylen);
        }
        switch (f->kind) {
            case V_STR: pk_strn (&m->pk, f->s, f->len); break;
            case V_INT: msgpack_pack_int64 (&m->pk, f->i); break;
            case V_UINT: msgpack_pack_uint64 (&m->pk, f->u); break;
            case V_NIL: msgpack_pack_nil (&m->pk); break;
            case V_BOOL: if (f->i) msgpack_pack_true (&m->pk); else msgpack_pack_false (&m->pk); break;
            case V_DOUBLE: msgpack_pack_double (&m->pk, f->d); break;
            case V_RAW: msgpack_sbuffer_write (&m->sb, f->s, f->len); break;
        }
    }
}

#define M   DT_TRACK_MARKETING
#define S   DT_TRACK_SALES

#endif
