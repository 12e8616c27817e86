/*  test_event.c - the event codec (proto/event.c): every field accepted
    and packed back identically, the stamped form, each required field
    missing, each field with a wrong type, every limit at its edge and one
    past it, unknown stages and channels, invalid UTF-8, duplicate and
    unknown keys, advisors, lead, category, nil as absent, attrs that have
    no JSON form; stage sets and the UTF-8 check. The frames around events
    are test_wire.c's.

    Inputs are built with msgpack_packer into an sbuffer and unpacked, as a
    daemon would receive them (tests/unit/proto/build.h). Checks that could
    crash the process (memory errors the sanitizers catch) run in a forked
    child so that one crash does not hide the other results.
*/
#include "proto/event.h"
#include "proto/wire.h"
#include "unit/proto/build.h"
#include "unit/testing.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static dt_stageset_t stages;
static char xs [DT_BODY_MAX + 16];          //  'x' * lots, for length limits

static slot_t S1, S2, S3;

static int
decode_evb (slot_t *s, const evb_t *b, dt_form_t form, dt_track_t track,
            dt_event_t *ev, dt_error_t *err)
{
    slot_clear (s);
    evb_pack (b, &s->m);
    memset (err, 0, sizeof *err);
    return dt_event_decode (slot_unpack (s), &stages, form, track, ev, err);
}

//  Pack an event with dt_event_pack into s, and decode it again
static int
repack (slot_t *s, const dt_event_t *in, dt_form_t pack_form, dt_form_t decode_form,
        dt_track_t track, dt_event_t *out, dt_error_t *err)
{
    slot_clear (s);
    dt_event_pack (&s->m.pk, in, pack_form);
    memset (err, 0, sizeof *err);
    return dt_event_decode (slot_unpack (s), &stages, decode_form, track, out, err);
}

//  --------------------------------------------------------------------------
//  Expectations, reporting the caller's line when they fail

static void
expect_err_at (int line, const evb_t *b, dt_form_t form, dt_track_t track,
               const char *code, const char *field)
{
    int before = testing_failed;
    dt_event_t ev;
    dt_error_t err;
    int rc = decode_evb (&S1, b, form, track, &ev, &err);
    CHECK_INT (rc, -1);
    CHECK_STR (err.code, code);
    CHECK_STR (err.field, field);
    if (rc == -1)
        CHECK (err.message [0] != 0);
    if (testing_failed > before)
        fprintf (stderr, "  ^ from line %d (message: \"%s\")\n", line, err.message);
}

#define EXPECT_ERR(b, code, field) \
    expect_err_at (__LINE__, (b), DT_FORM_INGRESS, M, (code), (field))
#define EXPECT_ERR_STAMPED(b, code, field) \
    expect_err_at (__LINE__, (b), DT_FORM_STAMPED, DT_TRACK_NONE, (code), (field))

static int
expect_ok_at (int line, const evb_t *b, dt_form_t form, dt_track_t track, dt_event_t *ev)
{
    int before = testing_failed;
    dt_error_t err;
    int rc = decode_evb (&S1, b, form, track, ev, &err);
    CHECK_INT (rc, 0);
    if (testing_failed > before)
        fprintf (stderr, "  ^ from line %d (%s %s: \"%s\")\n", line,
                 err.code? err.code: "", err.field, err.message);
    return rc;
}

#define EXPECT_OK(b, ev) expect_ok_at (__LINE__, (b), DT_FORM_INGRESS, M, (ev))

static bool
str_same (dt_str_t a, dt_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp (a.ptr, b.ptr, a.len) == 0);
}

//  Every field of two events, present bits compared under mask
static void
check_same_at (int line, const dt_event_t *a, const dt_event_t *b, uint32_t mask)
{
    int before = testing_failed;
    CHECK (str_same (a->id, b->id));
    CHECK (str_same (a->source, b->source));
    CHECK (str_same (a->account, b->account));
    CHECK (str_same (a->contact, b->contact));
    CHECK (str_same (a->stage, b->stage));
    CHECK (str_same (a->channel, b->channel));
    CHECK (str_same (a->kind, b->kind));
    CHECK (str_same (a->actor, b->actor));
    CHECK (str_same (a->project, b->project));
    CHECK (str_same (a->theme, b->theme));
    CHECK (str_same (a->body, b->body));
    CHECK_INT (a->occurred_at, b->occurred_at);
    CHECK_INT (a->track, b->track);
    CHECK_INT (a->received_at, b->received_at);
    CHECK_INT (a->lead, b->lead);
    CHECK_INT (a->advisors, b->advisors);
    CHECK_INT (a->category, b->category);
    CHECK_INT (a->stage_index, b->stage_index);
    CHECK_INT (a->present & mask, b->present & mask);
    CHECK_INT (a->claim_count, b->claim_count);
    if (a->claim_count == b->claim_count)
        for (uint32_t i = 0; i < a->claim_count; i++) {
            CHECK (msgpack_object_equal (a->claims [i].key, b->claims [i].key));
            CHECK (msgpack_object_equal (a->claims [i].val, b->claims [i].val));
        }
    CHECK ((a->attrs == NULL) == (b->attrs == NULL));
    if (a->attrs && b->attrs)
        CHECK (msgpack_object_equal (*a->attrs, *b->attrs));
    if (testing_failed > before)
        fprintf (stderr, "  ^ from line %d\n", line);
}

#define CHECK_SAME(a, b, mask) check_same_at (__LINE__, (a), (b), (mask))

//  decode -> pack -> decode -> compare, in both forms; the second pack is
//  byte for byte the first
static void
roundtrip_at (int line, const dt_event_t *ev)
{
    int before = testing_failed;
    dt_event_t again, third;
    dt_error_t err;

    dt_event_t ingress = *ev;
    ingress.received_at = 0;                //  not part of the ingress form
    CHECK_INT (repack (&S2, ev, DT_FORM_INGRESS, DT_FORM_INGRESS, ev->track, &again, &err), 0);
    CHECK_SAME (&ingress, &again, ~0u);
    CHECK_INT (repack (&S3, &again, DT_FORM_INGRESS, DT_FORM_INGRESS, ev->track, &third, &err), 0);
    CHECK (S2.m.sb.size == S3.m.sb.size
           && memcmp (S2.m.sb.data, S3.m.sb.data, S2.m.sb.size) == 0);

    dt_event_t stamped = *ev;
    stamped.received_at = T_RCV;
    CHECK_INT (repack (&S2, &stamped, DT_FORM_STAMPED, DT_FORM_STAMPED, DT_TRACK_NONE, &again, &err), 0);
    CHECK_SAME (&stamped, &again, ~(uint32_t) (DT_HAS_LEAD | DT_HAS_CATEGORY));
    CHECK_INT (again.present & (DT_HAS_LEAD | DT_HAS_CATEGORY), DT_HAS_LEAD | DT_HAS_CATEGORY);
    CHECK_INT (repack (&S3, &again, DT_FORM_STAMPED, DT_FORM_STAMPED, DT_TRACK_NONE, &third, &err), 0);
    CHECK (S2.m.sb.size == S3.m.sb.size
           && memcmp (S2.m.sb.data, S3.m.sb.data, S2.m.sb.size) == 0);
    if (testing_failed > before)
        fprintf (stderr, "  ^ round trip from line %d (%s %s: \"%s\")\n", line,
                 err.code? err.code: "", err.field, err.message);
}

#define ROUNDTRIP(ev) roundtrip_at (__LINE__, (ev))

//  Run fn in a child so a sanitizer abort or a crash is one failed check
static bool
isolated (int (*fn) (void))
{
    fflush (stdout);
    fflush (stderr);
    pid_t pid = fork ();
    if (pid < 0)
        return false;
    if (pid == 0) {
        int rc = fn ();
        fflush (NULL);
        _exit (rc);
    }
    int status = 0;
    waitpid (pid, &status, 0);
    if (WIFSIGNALED (status))
        fprintf (stderr, "  (child killed by signal %d)\n", WTERMSIG (status));
    return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

//  --------------------------------------------------------------------------
//  Full events

static void
pack_sample_attrs (mp_t *m)
{
    msgpack_pack_map (&m->pk, 8);
    pk_str (&m->pk, "score");
    msgpack_pack_int (&m->pk, 7);
    pk_str (&m->pk, "tags");
    msgpack_pack_array (&m->pk, 2);
    pk_str (&m->pk, "a");
    pk_str (&m->pk, "b\"c");
    pk_str (&m->pk, "ratio");
    msgpack_pack_double (&m->pk, 0.5);
    pk_str (&m->pk, "ok");
    msgpack_pack_true (&m->pk);
    pk_str (&m->pk, "none");
    msgpack_pack_nil (&m->pk);
    pk_str (&m->pk, "neg");
    msgpack_pack_int64 (&m->pk, -3);
    pk_str (&m->pk, "nested");
    msgpack_pack_map (&m->pk, 1);
    pk_str (&m->pk, "k");
    pk_str (&m->pk, "v\xc3\xa9");
    pk_str (&m->pk, "f32");
    msgpack_pack_float (&m->pk, 0.25f);
}

static void
test_full_event (void)
{
    mp_t attrs, advisors, claims;
    mp_init (&attrs);
    mp_init (&advisors);
    mp_init (&claims);
    pack_sample_attrs (&attrs);
    msgpack_pack_array (&advisors.pk, 1);
    pk_str (&advisors.pk, "marketing");
    msgpack_pack_map (&claims.pk, 2);
    pk_str (&claims.pk, "price");
    pk_str (&claims.pk, "12,000 CNY");
    pk_str (&claims.pk, "segment");
    pk_str (&claims.pk, "smb");

    evb_t b;
    evb_base (&b);
    evb_str (&b, "contact", "jane@acme.example");
    evb_str (&b, "actor", "bob");
    evb_str (&b, "lead", "sales");
    evb_raw (&b, "advisors", &advisors);
    evb_str (&b, "project", "P-42");
    evb_str (&b, "theme", "spring launch \xe2\x80\x94 Zo\xc3\xab");
    evb_raw (&b, "claims", &claims);
    evb_str (&b, "body", "Hello,\n\tworld \\ \"quoted\"");
    evb_raw (&b, "attrs", &attrs);
    evb_str (&b, "category", "promotional");

    dt_event_t ev;
    if (EXPECT_OK (&b, &ev) == 0) {
        CHECK (dt_str_eq (ev.id, "ev-0001"));
        CHECK (dt_str_eq (ev.source, "crm"));
        CHECK (dt_str_eq (ev.account, "acme"));
        CHECK (dt_str_eq (ev.contact, "jane@acme.example"));
        CHECK (dt_str_eq (ev.stage, "awareness"));
        CHECK (dt_str_eq (ev.channel, "email"));
        CHECK (dt_str_eq (ev.kind, "newsletter"));
        CHECK_INT (ev.occurred_at, T_OCC);
        CHECK (dt_str_eq (ev.actor, "bob"));
        CHECK (dt_str_eq (ev.project, "P-42"));
        CHECK (dt_str_eq (ev.theme, "spring launch \xe2\x80\x94 Zo\xc3\xab"));
        CHECK (dt_str_eq (ev.body, "Hello,\n\tworld \\ \"quoted\""));
        CHECK_INT (ev.track, M);
        CHECK_INT (ev.lead, S);
        CHECK_INT (ev.advisors, 1u << M);
        CHECK_INT (ev.category, DT_CATEGORY_PROMOTIONAL);
        CHECK_INT (ev.stage_index, 0);
        CHECK_INT (ev.received_at, 0);
        CHECK_INT (ev.claim_count, 2);
        CHECK (ev.claims && obj_is_str (&ev.claims [0].key, "price")
               && obj_is_str (&ev.claims [0].val, "12,000 CNY"));
        CHECK (ev.claims && obj_is_str (&ev.claims [1].key, "segment")
               && obj_is_str (&ev.claims [1].val, "smb"));
        CHECK (ev.attrs && ev.attrs->type == MSGPACK_OBJECT_MAP && ev.attrs->via.map.size == 8);
        CHECK_INT (ev.present, DT_HAS_CONTACT | DT_HAS_ACTOR | DT_HAS_PROJECT | DT_HAS_THEME
                   | DT_HAS_CLAIMS | DT_HAS_BODY | DT_HAS_ATTRS | DT_HAS_ADVISORS
                   | DT_HAS_LEAD | DT_HAS_CATEGORY);
        ROUNDTRIP (&ev);

        //  The same event through a link item
        dt_event_t stamped = ev, back;
        dt_reject_t reject;
        dt_error_t err;
        stamped.received_at = T_RCV;
        slot_clear (&S2);
        dt_item_pack_event (&S2.m.pk, &stamped);
        memset (&err, 0, sizeof err);
        CHECK_INT (dt_item_decode (slot_unpack (&S2), &stages, &back, &reject, &err), DT_ITEM_EVENT);
        CHECK_SAME (&stamped, &back, ~0u);
    }

    //  Key order does not matter: the same fields reversed decode the same
    evb_t r;
    memset (&r, 0, sizeof r);
    for (int i = b.n - 1; i >= 0; i--)
        r.f [r.n++] = b.f [i];
    dt_event_t first, reversed;
    dt_error_t err;
    CHECK_INT (decode_evb (&S2, &b, DT_FORM_INGRESS, M, &first, &err), 0);
    CHECK_INT (decode_evb (&S3, &r, DT_FORM_INGRESS, M, &reversed, &err), 0);
    CHECK_SAME (&first, &reversed, ~0u);

    mp_free (&attrs);
    mp_free (&advisors);
    mp_free (&claims);
}

static void
test_minimal_event (void)
{
    evb_t b;
    evb_base (&b);
    dt_event_t ev;
    if (EXPECT_OK (&b, &ev) == 0) {
        CHECK_INT (ev.present, 0);
        CHECK_INT (ev.track, M);
        CHECK_INT (ev.lead, M);
        CHECK_INT (ev.advisors, 0);
        CHECK_INT (ev.category, DT_CATEGORY_ONE_TO_ONE);
        CHECK (ev.attrs == NULL);
        CHECK_INT (ev.claim_count, 0);
        CHECK_INT (ev.contact.len, 0);
        CHECK_INT (ev.body.len, 0);
        ROUNDTRIP (&ev);
        //  Ingress packing writes the 7 required fields only
        slot_clear (&S2);
        dt_event_pack (&S2.m.pk, &ev, DT_FORM_INGRESS);
        const msgpack_object *obj = slot_unpack (&S2);
        CHECK (obj->type == MSGPACK_OBJECT_MAP && obj->via.map.size == 7);
        //  Stamped packing adds track, received_at, lead and category
        ev.received_at = 5;
        slot_clear (&S2);
        dt_event_pack (&S2.m.pk, &ev, DT_FORM_STAMPED);
        obj = slot_unpack (&S2);
        CHECK (obj->type == MSGPACK_OBJECT_MAP && obj->via.map.size == 11);
        CHECK (obj_is_str (dt_map_get (obj, "track"), "marketing"));
        CHECK (obj_is_uint (dt_map_get (obj, "received_at"), 5));
        CHECK (obj_is_str (dt_map_get (obj, "lead"), "marketing"));
        CHECK (obj_is_str (dt_map_get (obj, "category"), "one_to_one"));
        CHECK (obj_is_uint (dt_map_get (obj, "occurred_at"), (uint64_t) T_OCC));
    }
    //  The sales track: lead defaults to sales
    if (expect_ok_at (__LINE__, &b, DT_FORM_INGRESS, S, &ev) == 0) {
        CHECK_INT (ev.track, S);
        CHECK_INT (ev.lead, S);
        ROUNDTRIP (&ev);
    }
}

//  Each optional field alone, with a valid value, decoded and round-tripped
static void
test_each_optional_field (void)
{
    mp_t adv, claims, attrs;
    mp_init (&adv);
    mp_init (&claims);
    mp_init (&attrs);
    msgpack_pack_array (&adv.pk, 1);
    pk_str (&adv.pk, "sales");
    msgpack_pack_map (&claims.pk, 1);
    pk_str (&claims.pk, "discount");
    pk_str (&claims.pk, "10%");
    msgpack_pack_map (&attrs.pk, 1);
    pk_str (&attrs.pk, "x");
    msgpack_pack_int (&attrs.pk, 1);

    struct { const char *key; const char *text; const mp_t *raw; uint32_t bit; } cases [] = {
        { "contact", "c-1", NULL, DT_HAS_CONTACT },
        { "actor", "agent 7", NULL, DT_HAS_ACTOR },
        { "project", "KP-1", NULL, DT_HAS_PROJECT },
        { "theme", "faster together", NULL, DT_HAS_THEME },
        { "body", "", NULL, DT_HAS_BODY },
        { "body", "some text", NULL, DT_HAS_BODY },
        { "lead", "sales", NULL, DT_HAS_LEAD },
        { "lead", "marketing", NULL, DT_HAS_LEAD },
        { "category", "transactional", NULL, DT_HAS_CATEGORY },
        { "advisors", NULL, &adv, DT_HAS_ADVISORS },
        { "claims", NULL, &claims, DT_HAS_CLAIMS },
        { "attrs", NULL, &attrs, DT_HAS_ATTRS },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        evb_t b;
        evb_base (&b);
        if (cases [i].raw)
            evb_raw (&b, cases [i].key, cases [i].raw);
        else
            evb_str (&b, cases [i].key, cases [i].text);
        dt_event_t ev;
        if (EXPECT_OK (&b, &ev) == 0) {
            CHECK_INT (ev.present, cases [i].bit);
            ROUNDTRIP (&ev);
        }
    }
    mp_free (&adv);
    mp_free (&claims);
    mp_free (&attrs);
}

//  --------------------------------------------------------------------------
//  Stamped form

static void
test_stamped_form (void)
{
    evb_t b;
    evb_base (&b);
    evb_str (&b, "track", "sales");
    evb_int (&b, "received_at", T_RCV);
    dt_event_t ev;
    if (expect_ok_at (__LINE__, &b, DT_FORM_STAMPED, DT_TRACK_NONE, &ev) == 0) {
        CHECK_INT (ev.track, S);
        CHECK_INT (ev.received_at, T_RCV);
        CHECK_INT (ev.lead, S);
        ROUNDTRIP (&ev);
    }
    evb_str (&b, "lead", "marketing");
    evb_int (&b, "received_at", 0);
    if (expect_ok_at (__LINE__, &b, DT_FORM_STAMPED, DT_TRACK_NONE, &ev) == 0) {
        CHECK_INT (ev.track, S);
        CHECK_INT (ev.lead, M);
        CHECK_INT (ev.received_at, 0);
    }

    //  A publisher may not send track or received_at
    EXPECT_ERR (&b, "unknown_field", "track");
    evb_del (&b, "track");
    EXPECT_ERR (&b, "unknown_field", "received_at");
    evb_base (&b);
    evb_str (&b, "track", "marketing");
    EXPECT_ERR (&b, "unknown_field", "track");

    //  A stamped event needs both, valid
    evb_base (&b);
    EXPECT_ERR_STAMPED (&b, "missing_field", "track");
    evb_int (&b, "received_at", T_RCV);
    EXPECT_ERR_STAMPED (&b, "missing_field", "track");
    evb_base (&b);
    evb_str (&b, "track", "sales");
    EXPECT_ERR_STAMPED (&b, "missing_field", "received_at");
    evb_int (&b, "received_at", T_RCV);
    evb_str (&b, "track", "support");
    EXPECT_ERR_STAMPED (&b, "bad_value", "track");
    evb_int (&b, "track", 1);
    EXPECT_ERR_STAMPED (&b, "wrong_type", "track");
    evb_str (&b, "track", "");
    EXPECT_ERR_STAMPED (&b, "bad_value", "track");
    evb_str (&b, "track", "sales");
    evb_int (&b, "received_at", -1);
    EXPECT_ERR_STAMPED (&b, "bad_value", "received_at");
    evb_str (&b, "received_at", "now");
    EXPECT_ERR_STAMPED (&b, "wrong_type", "received_at");
    evb_double (&b, "received_at", 1.5);
    EXPECT_ERR_STAMPED (&b, "wrong_type", "received_at");

    //  A stamped map decoded as ingress: refused on "track"
    evb_base (&b);
    dt_event_t st;
    dt_error_t err;
    if (decode_evb (&S2, &b, DT_FORM_INGRESS, S, &st, &err) == 0) {
        st.received_at = T_RCV;
        CHECK_INT (repack (&S3, &st, DT_FORM_STAMPED, DT_FORM_INGRESS, S, &ev, &err), -1);
        CHECK_STR (err.code, "unknown_field");
        CHECK_STR (err.field, "track");
    }
}

//  nil for track or received_at in a stamped event (a corrupt link item):
//  must be refused, not dereferenced
static int
child_stamped_nil_track (void)
{
    evb_t b;
    evb_base (&b);
    evb_nil (&b, "track");
    evb_int (&b, "received_at", T_RCV);
    dt_event_t ev;
    dt_error_t err;
    int rc = decode_evb (&S1, &b, DT_FORM_STAMPED, DT_TRACK_NONE, &ev, &err);
    return rc == -1 && strcmp (err.field, "track") == 0
        && (strcmp (err.code, "missing_field") == 0 || strcmp (err.code, "wrong_type") == 0)? 0: 1;
}

static int
child_stamped_nil_received_at (void)
{
    evb_t b;
    evb_base (&b);
    evb_str (&b, "track", "sales");
    evb_nil (&b, "received_at");
    dt_event_t ev;
    dt_error_t err;
    int rc = decode_evb (&S1, &b, DT_FORM_STAMPED, DT_TRACK_NONE, &ev, &err);
    return rc == -1 && strcmp (err.field, "received_at") == 0
        && (strcmp (err.code, "missing_field") == 0 || strcmp (err.code, "wrong_type") == 0)? 0: 1;
}

static void
test_stamped_nil (void)
{
    CHECK (isolated (child_stamped_nil_track));
    CHECK (isolated (child_stamped_nil_received_at));
}

//  --------------------------------------------------------------------------
//  Required fields, wrong types

static void
test_missing_fields (void)
{
    const char *required [] = {
        "id", "source", "account", "stage", "channel", "kind", "occurred_at"
    };
    for (size_t i = 0; i < sizeof required / sizeof required [0]; i++) {
        evb_t b;
        evb_base (&b);
        evb_del (&b, required [i]);
        EXPECT_ERR (&b, "missing_field", required [i]);
        //  nil does not stand in for a required field
        evb_nil (&b, required [i]);
        dt_event_t ev;
        dt_error_t err;
        CHECK_INT (decode_evb (&S1, &b, DT_FORM_INGRESS, M, &ev, &err), -1);
        CHECK_STR (err.field, required [i]);
        CHECK (err.code && (strcmp (err.code, "missing_field") == 0
                            || strcmp (err.code, "wrong_type") == 0));
    }
    //  An empty map names the first required field
    evb_t empty;
    memset (&empty, 0, sizeof empty);
    EXPECT_ERR (&empty, "missing_field", "id");

    //  Not a map at all
    dt_event_t ev;
    dt_error_t err;
    slot_clear (&S1);
    msgpack_pack_array (&S1.m.pk, 1);
    pk_str (&S1.m.pk, "id");
    memset (&err, 0, sizeof err);
    CHECK_INT (dt_event_decode (slot_unpack (&S1), &stages, DT_FORM_INGRESS, M, &ev, &err), -1);
    CHECK_STR (err.code, "not_a_map");
    CHECK_STR (err.field, "");
    slot_clear (&S1);
    pk_str (&S1.m.pk, "{}");
    CHECK_INT (dt_event_decode (slot_unpack (&S1), &stages, DT_FORM_INGRESS, M, &ev, &err), -1);
    CHECK_STR (err.code, "not_a_map");
}

static void
test_wrong_types (void)
{
    const char *strings [] = {
        "id", "source", "account", "contact", "stage", "channel", "kind", "actor",
        "lead", "project", "theme", "body", "category"
    };
    mp_t arr, map, bin;
    mp_init (&arr);
    mp_init (&map);
    mp_init (&bin);
    msgpack_pack_array (&arr.pk, 1);
    pk_str (&arr.pk, "x");
    msgpack_pack_map (&map.pk, 1);
    pk_str (&map.pk, "x");
    pk_str (&map.pk, "y");
    msgpack_pack_bin (&bin.pk, 3);
    msgpack_pack_bin_body (&bin.pk, "abc", 3);

    for (size_t i = 0; i < sizeof strings / sizeof strings [0]; i++) {
        evb_t b;
        evb_base (&b);
        evb_int (&b, strings [i], 5);
        EXPECT_ERR (&b, "wrong_type", strings [i]);
        evb_bool (&b, strings [i], true);
        EXPECT_ERR (&b, "wrong_type", strings [i]);
        evb_double (&b, strings [i], 1.5);
        EXPECT_ERR (&b, "wrong_type", strings [i]);
        evb_raw (&b, strings [i], &arr);
        EXPECT_ERR (&b, "wrong_type", strings [i]);
        evb_raw (&b, strings [i], &map);
        EXPECT_ERR (&b, "wrong_type", strings [i]);
        evb_raw (&b, strings [i], &bin);
        EXPECT_ERR (&b, "wrong_type", strings [i]);
    }
    evb_t b;
    evb_base (&b);
    evb_str (&b, "occurred_at", "2024-01-01T00:00:00Z");
    EXPECT_ERR (&b, "wrong_type", "occurred_at");
    evb_double (&b, "occurred_at", (double) T_OCC);
    EXPECT_ERR (&b, "wrong_type", "occurred_at");
    evb_bool (&b, "occurred_at", true);
    EXPECT_ERR (&b, "wrong_type", "occurred_at");
    evb_raw (&b, "occurred_at", &arr);
    EXPECT_ERR (&b, "wrong_type", "occurred_at");

    evb_base (&b);
    evb_str (&b, "advisors", "sales");
    EXPECT_ERR (&b, "wrong_type", "advisors");
    evb_raw (&b, "advisors", &map);
    EXPECT_ERR (&b, "wrong_type", "advisors");
    evb_base (&b);
    evb_raw (&b, "claims", &arr);
    EXPECT_ERR (&b, "wrong_type", "claims");
    evb_str (&b, "claims", "price=1");
    EXPECT_ERR (&b, "wrong_type", "claims");
    evb_base (&b);
    evb_raw (&b, "attrs", &arr);
    EXPECT_ERR (&b, "wrong_type", "attrs");
    evb_str (&b, "attrs", "{}");
    EXPECT_ERR (&b, "wrong_type", "attrs");
    evb_int (&b, "attrs", 3);
    EXPECT_ERR (&b, "wrong_type", "attrs");

    mp_free (&arr);
    mp_free (&map);
    mp_free (&bin);
}

//  --------------------------------------------------------------------------
//  Limits

static void
test_string_limits (void)
{
    evb_t b;
    dt_event_t ev;

    //  id: 1..64 bytes
    evb_base (&b);
    evb_strn (&b, "id", xs, DT_ID_MAX);
    if (EXPECT_OK (&b, &ev) == 0)
        CHECK_INT (ev.id.len, 64);
    evb_strn (&b, "id", xs, DT_ID_MAX + 1);
    EXPECT_ERR (&b, "too_long", "id");
    evb_str (&b, "id", "");
    EXPECT_ERR (&b, "bad_value", "id");
    evb_str (&b, "id", "x");
    EXPECT_OK (&b, &ev);

    //  Short strings: 1..256 bytes, counted in bytes not characters
    const char *shorts [] = { "source", "account", "contact", "kind", "actor", "project", "theme" };
    static char wide [DT_TEXT_MAX + 2];
    for (int i = 0; i < DT_TEXT_MAX; i += 2)
        memcpy (wide + i, "\xc3\xa9", 2);               //  128 x 'é' = 256 bytes
    wide [DT_TEXT_MAX] = 'a';
    for (size_t i = 0; i < sizeof shorts / sizeof shorts [0]; i++) {
        evb_base (&b);
        evb_strn (&b, shorts [i], xs, DT_TEXT_MAX);
        EXPECT_OK (&b, &ev);
        evb_strn (&b, shorts [i], wide, DT_TEXT_MAX);
        EXPECT_OK (&b, &ev);
        evb_strn (&b, shorts [i], xs, DT_TEXT_MAX + 1);
        EXPECT_ERR (&b, "too_long", shorts [i]);
        evb_strn (&b, shorts [i], wide, DT_TEXT_MAX + 1);
        EXPECT_ERR (&b, "too_long", shorts [i]);
        evb_str (&b, shorts [i], "");
        EXPECT_ERR (&b, "bad_value", shorts [i]);
        evb_str (&b, shorts [i], "x");
        EXPECT_OK (&b, &ev);
    }
    //  stage and channel: length first, then the allowed list
    const char *listed [] = { "stage", "channel" };
    for (size_t i = 0; i < 2; i++) {
        evb_base (&b);
        evb_strn (&b, listed [i], xs, DT_TEXT_MAX + 1);
        EXPECT_ERR (&b, "too_long", listed [i]);
        evb_strn (&b, listed [i], xs, DT_TEXT_MAX);
        EXPECT_ERR (&b, "bad_value", listed [i]);
        evb_str (&b, listed [i], "");
        EXPECT_ERR (&b, "bad_value", listed [i]);
    }

    //  body: 0..65536 bytes
    evb_base (&b);
    evb_strn (&b, "body", xs, DT_BODY_MAX);
    if (EXPECT_OK (&b, &ev) == 0) {
        CHECK_INT (ev.body.len, DT_BODY_MAX);
        ROUNDTRIP (&ev);
    }
    evb_strn (&b, "body", xs, DT_BODY_MAX + 1);
    EXPECT_ERR (&b, "too_long", "body");
    evb_str (&b, "body", "");
    if (EXPECT_OK (&b, &ev) == 0) {
        CHECK (ev.present & DT_HAS_BODY);
        CHECK_INT (ev.body.len, 0);
    }

    //  category, lead: short names
    evb_base (&b);
    evb_strn (&b, "category", xs, 40);
    EXPECT_ERR (&b, "too_long", "category");
    evb_base (&b);
    evb_strn (&b, "lead", xs, 40);
    EXPECT_ERR (&b, "too_long", "lead");
}

static void
pack_claims (mp_t *m, int count, size_t keylen, size_t vallen)
{
    msgpack_pack_map (&m->pk, (size_t) count);
    for (int i = 0; i < count; i++) {
        char key [DT_CLAIM_KEY_MAX + 8];
        memcpy (key, xs, sizeof key);
        int n = snprintf (key, sizeof key, "k%02d", i);
        key [n] = 'x';          //  pad with x up to keylen
        pk_strn (&m->pk, key, keylen < 3? (size_t) n: keylen);
        pk_strn (&m->pk, xs, vallen);
    }
}

static void
test_claims_limits (void)
{
    evb_t b;
    dt_event_t ev;
    mp_t m;
    mp_init (&m);

    struct { int count; size_t keylen, vallen; const char *code; } cases [] = {
        { 0, 3, 1, NULL },
        { 32, 3, 1, NULL },
        { 33, 3, 1, "too_long" },
        { 1, 64, 1, NULL },
        { 1, 65, 1, "too_long" },
        { 1, 3, 256, NULL },
        { 1, 3, 257, "too_long" },
        { 1, 3, 0, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        msgpack_sbuffer_clear (&m.sb);
        pack_claims (&m, cases [i].count, cases [i].keylen, cases [i].vallen);
        evb_base (&b);
        evb_raw (&b, "claims", &m);
        if (cases [i].code)
            EXPECT_ERR (&b, cases [i].code, "claims");
        else
        if (EXPECT_OK (&b, &ev) == 0) {
            CHECK_INT (ev.claim_count, cases [i].count);
            CHECK (ev.present & DT_HAS_CLAIMS);
            ROUNDTRIP (&ev);
        }
    }
    //  Empty key, wrong key or value types, duplicate keys
    msgpack_sbuffer_clear (&m.sb);
    msgpack_pack_map (&m.pk, 1);
    pk_str (&m.pk, "");
    pk_str (&m.pk, "v");
    evb_raw (&b, "claims", &m);
    EXPECT_ERR (&b, "bad_value", "claims");

    msgpack_sbuffer_clear (&m.sb);
    msgpack_pack_map (&m.pk, 1);
    msgpack_pack_int (&m.pk, 1);
    pk_str (&m.pk, "v");
    evb_raw (&b, "claims", &m);
    EXPECT_ERR (&b, "wrong_type", "claims");

    msgpack_sbuffer_clear (&m.sb);
    msgpack_pack_map (&m.pk, 1);
    pk_str (&m.pk, "price");
    msgpack_pack_int (&m.pk, 12000);
    evb_raw (&b, "claims", &m);
    EXPECT_ERR (&b, "wrong_type", "claims");

    msgpack_sbuffer_clear (&m.sb);
    msgpack_pack_map (&m.pk, 1);
    pk_str (&m.pk, "price");
    msgpack_pack_nil (&m.pk);
    evb_raw (&b, "claims", &m);
    EXPECT_ERR (&b, "wrong_type", "claims");

    msgpack_sbuffer_clear (&m.sb);
    msgpack_pack_map (&m.pk, 3);
    pk_str (&m.pk, "price");
    pk_str (&m.pk, "1");
    pk_str (&m.pk, "offer");
    pk_str (&m.pk, "2");
    pk_str (&m.pk, "price");
    pk_str (&m.pk, "3");
    evb_raw (&b, "claims", &m);
    EXPECT_ERR (&b, "duplicate_field", "claims");

    //  Keys that share a prefix are not duplicates
    msgpack_sbuffer_clear (&m.sb);
    msgpack_pack_map (&m.pk, 2);
    pk_str (&m.pk, "price");
    pk_str (&m.pk, "1");
    pk_str (&m.pk, "price2");
    pk_str (&m.pk, "2");
    evb_raw (&b, "claims", &m);
    EXPECT_OK (&b, &ev);

    mp_free (&m);
}

//  levels nested containers (attrs itself is level 1); the innermost holds
//  one scalar, or nothing when empty is set
static void
pack_nested (mp_t *m, int levels, bool arrays, bool empty)
{
    msgpack_pack_map (&m->pk, 1);
    pk_str (&m->pk, "a");
    for (int level = 2; level <= levels; level++) {
        bool last = level == levels;
        size_t n = last && empty? 0: 1;
        if (arrays)
            msgpack_pack_array (&m->pk, n);
        else {
            msgpack_pack_map (&m->pk, n);
            if (n)
                pk_str (&m->pk, "a");
        }
    }
    if (!(empty && levels > 1))
        msgpack_pack_int (&m->pk, 1);
}

static void
test_attrs_limits (void)
{
    evb_t b;
    dt_event_t ev;
    mp_t m;
    mp_init (&m);

    //  Depth: 8 levels of containers are allowed, whatever the innermost
    //  holds; a 9th level is too deep
    for (int arrays = 0; arrays <= 1; arrays++)
        for (int empty = 0; empty <= 1; empty++) {
            msgpack_sbuffer_clear (&m.sb);
            pack_nested (&m, 7, arrays, empty);
            evb_base (&b);
            evb_raw (&b, "attrs", &m);
            EXPECT_OK (&b, &ev);

            msgpack_sbuffer_clear (&m.sb);
            pack_nested (&m, DT_ATTRS_DEPTH, arrays, empty);
            evb_raw (&b, "attrs", &m);
            if (EXPECT_OK (&b, &ev) == 0)
                ROUNDTRIP (&ev);

            msgpack_sbuffer_clear (&m.sb);
            pack_nested (&m, DT_ATTRS_DEPTH + 1, arrays, empty);
            evb_raw (&b, "attrs", &m);
            EXPECT_ERR (&b, "too_deep", "attrs");

            msgpack_sbuffer_clear (&m.sb);
            pack_nested (&m, 30, arrays, empty);     //  msgpack-c unpacks 32 at most
            evb_raw (&b, "attrs", &m);
            EXPECT_ERR (&b, "too_deep", "attrs");
        }

    //  Size: attrs as JSON at most 16384 bytes. {"k":"xxx..."} is n + 8 bytes
    msgpack_sbuffer_clear (&m.sb);
    msgpack_pack_map (&m.pk, 1);
    pk_str (&m.pk, "k");
    pk_strn (&m.pk, xs, 16000);
    evb_base (&b);
    evb_raw (&b, "attrs", &m);
    EXPECT_OK (&b, &ev);

    msgpack_sbuffer_clear (&m.sb);
    msgpack_pack_map (&m.pk, 1);
    pk_str (&m.pk, "k");
    pk_strn (&m.pk, xs, DT_ATTRS_MAX);
    evb_raw (&b, "attrs", &m);
    EXPECT_ERR (&b, "too_long", "attrs");

    //  Over the limit in many small entries
    msgpack_sbuffer_clear (&m.sb);
    msgpack_pack_map (&m.pk, 1);
    pk_str (&m.pk, "list");
    msgpack_pack_array (&m.pk, 2000);
    for (int i = 0; i < 2000; i++)
        pk_str (&m.pk, "abcdefgh");         //  11 bytes each in JSON: 22000
    evb_raw (&b, "attrs", &m);
    EXPECT_ERR (&b, "too_long", "attrs");

    //  Empty attrs is present
    msgpack_sbuffer_clear (&m.sb);
    msgpack_pack_map (&m.pk, 0);
    evb_raw (&b, "attrs", &m);
    if (EXPECT_OK (&b, &ev) == 0) {
        CHECK (ev.present & DT_HAS_ATTRS);
        CHECK (ev.attrs && ev.attrs->via.map.size == 0);
        ROUNDTRIP (&ev);
    }
    mp_free (&m);
}

//  attrs that have no JSON form, or no jsonb form
static void
test_attrs_refused (void)
{
    evb_t b;
    mp_t m;
    mp_init (&m);
    struct { int what; const char *code; } cases [] = {
        { 0, "bad_value" },     //  NaN
        { 1, "bad_value" },     //  +Inf
        { 2, "bad_value" },     //  -Inf
        { 3, "bad_value" },     //  float32 NaN
        { 4, "bad_value" },     //  float32 Inf, nested in an array
        { 5, "wrong_type" },    //  bin
        { 6, "wrong_type" },    //  ext
        { 7, "wrong_type" },    //  integer key
        { 8, "wrong_type" },    //  boolean key, nested
        { 9, "bad_value" },     //  invalid UTF-8 value
        { 10, "bad_value" },    //  NUL in a value
        { 11, "bad_value" },    //  invalid UTF-8 key
        { 12, "wrong_type" },   //  nil key
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        msgpack_sbuffer_clear (&m.sb);
        msgpack_packer *pk = &m.pk;
        msgpack_pack_map (pk, 2);
        pk_str (pk, "fine");
        msgpack_pack_int (pk, 1);
        switch (cases [i].what) {
            case 0: pk_str (pk, "v"); msgpack_pack_double (pk, NAN); break;
            case 1: pk_str (pk, "v"); msgpack_pack_double (pk, INFINITY); break;
            case 2: pk_str (pk, "v"); msgpack_pack_double (pk, -INFINITY); break;
            case 3: pk_str (pk, "v"); msgpack_pack_float (pk, NAN); break;
            case 4: pk_str (pk, "v"); msgpack_pack_array (pk, 2); msgpack_pack_int (pk, 1);
                    msgpack_pack_float (pk, INFINITY); break;
            case 5: pk_str (pk, "v"); msgpack_pack_bin (pk, 2); msgpack_pack_bin_body (pk, "ab", 2); break;
            case 6: pk_str (pk, "v"); msgpack_pack_ext (pk, 2, 5); msgpack_pack_ext_body (pk, "ab", 2); break;
            case 7: msgpack_pack_int (pk, 3); pk_str (pk, "v"); break;
            case 8: pk_str (pk, "v"); msgpack_pack_map (pk, 1); msgpack_pack_true (pk);
                    msgpack_pack_int (pk, 1); break;
            case 9: pk_str (pk, "v"); pk_strn (pk, "\xed\xa0\x80", 3); break;
            case 10: pk_str (pk, "v"); pk_strn (pk, "a\0b", 3); break;
            case 11: pk_strn (pk, "\xc0\xaf", 2); pk_str (pk, "v"); break;
            case 12: msgpack_pack_nil (pk); pk_str (pk, "v"); break;
        }
        evb_base (&b);
        evb_raw (&b, "attrs", &m);
        int before = testing_failed;
        EXPECT_ERR (&b, cases [i].code, "attrs");
        if (testing_failed > before)
            fprintf (stderr, "  ^ attrs case %d\n", cases [i].what);
    }
    //  Finite floats, both signs of integers, booleans, nil: fine
    msgpack_sbuffer_clear (&m.sb);
    msgpack_pack_map (&m.pk, 6);
    pk_str (&m.pk, "f");
    msgpack_pack_double (&m.pk, -1e300);
    pk_str (&m.pk, "g");
    msgpack_pack_float (&m.pk, 3.5f);
    pk_str (&m.pk, "i");
    msgpack_pack_int64 (&m.pk, INT64_MIN);
    pk_str (&m.pk, "u");
    msgpack_pack_uint64 (&m.pk, UINT64_MAX);
    pk_str (&m.pk, "b");
    msgpack_pack_false (&m.pk);
    pk_str (&m.pk, "n");
    msgpack_pack_nil (&m.pk);
    evb_raw (&b, "attrs", &m);
    dt_event_t ev;
    if (EXPECT_OK (&b, &ev) == 0)
        ROUNDTRIP (&ev);
    mp_free (&m);
}

static void
test_occurred_at (void)
{
    evb_t b;
    dt_event_t ev;
    evb_base (&b);
    evb_int (&b, "occurred_at", DT_OCCURRED_MIN);
    if (EXPECT_OK (&b, &ev) == 0)
        CHECK_INT (ev.occurred_at, DT_OCCURRED_MIN);
    evb_int (&b, "occurred_at", DT_OCCURRED_MAX);
    if (EXPECT_OK (&b, &ev) == 0)
        CHECK_INT (ev.occurred_at, DT_OCCURRED_MAX);
    evb_int (&b, "occurred_at", DT_OCCURRED_MIN - 1);
    EXPECT_ERR (&b, "bad_value", "occurred_at");
    evb_int (&b, "occurred_at", DT_OCCURRED_MAX + 1);
    EXPECT_ERR (&b, "bad_value", "occurred_at");
    evb_int (&b, "occurred_at", 0);
    EXPECT_ERR (&b, "bad_value", "occurred_at");
    evb_int (&b, "occurred_at", -1);
    EXPECT_ERR (&b, "bad_value", "occurred_at");
    evb_int (&b, "occurred_at", INT64_MIN);
    EXPECT_ERR (&b, "bad_value", "occurred_at");
    evb_uint (&b, "occurred_at", UINT64_MAX);
    EXPECT_ERR (&b, "bad_value", "occurred_at");
    //  Seconds instead of milliseconds are out of range
    evb_int (&b, "occurred_at", T_OCC / 1000);
    EXPECT_ERR (&b, "bad_value", "occurred_at");
}

//  --------------------------------------------------------------------------
//  Stage, channel, UTF-8, keys

static void
test_stage_and_channel (void)
{
    evb_t b;
    dt_event_t ev;
    dt_error_t err;
    const char *all_stages [] = {
        "awareness", "interest", "consideration", "intent", "evaluation", "negotiation", "purchase"
    };
    for (int i = 0; i < 7; i++) {
        evb_base (&b);
        evb_str (&b, "stage", all_stages [i]);
        if (EXPECT_OK (&b, &ev) == 0)
            CHECK_INT (ev.stage_index, i);
    }
    const char *channels [] = {
        "email", "phone", "meeting", "webinar", "event", "ad", "web",
        "social", "chat", "letter", "other"
    };
    for (int i = 0; i < 11; i++) {
        evb_base (&b);
        evb_str (&b, "channel", channels [i]);
        EXPECT_OK (&b, &ev);
    }

    evb_base (&b);
    evb_str (&b, "stage", "closing");
    EXPECT_ERR (&b, "bad_value", "stage");
    CHECK (decode_evb (&S1, &b, DT_FORM_INGRESS, M, &ev, &err) == -1
           && strstr (err.message, "closing")
           && strstr (err.message, "awareness, interest, consideration, intent, "
                                   "evaluation, negotiation, purchase"));
    evb_str (&b, "stage", "Awareness");
    EXPECT_ERR (&b, "bad_value", "stage");
    evb_str (&b, "stage", "aware");
    EXPECT_ERR (&b, "bad_value", "stage");
    evb_str (&b, "stage", "awareness ");
    EXPECT_ERR (&b, "bad_value", "stage");

    evb_base (&b);
    evb_str (&b, "channel", "fax");
    EXPECT_ERR (&b, "bad_value", "channel");
    CHECK (decode_evb (&S1, &b, DT_FORM_INGRESS, M, &ev, &err) == -1
           && strstr (err.message, "fax")
           && strstr (err.message, "email, phone, meeting, webinar, event, ad, web, "
                                   "social, chat, letter, other"));
    evb_str (&b, "channel", "Email");
    EXPECT_ERR (&b, "bad_value", "channel");
    evb_str (&b, "channel", "e");
    EXPECT_ERR (&b, "bad_value", "channel");

    //  A configured funnel replaces the default one
    dt_stageset_t saved = stages;
    char msg [128];
    CHECK_INT (dt_stageset_parse (&stages, "lead:marketing,won:sales", msg, sizeof msg), 0);
    evb_base (&b);
    evb_str (&b, "stage", "won");
    if (EXPECT_OK (&b, &ev) == 0)
        CHECK_INT (ev.stage_index, 1);
    evb_str (&b, "stage", "awareness");
    EXPECT_ERR (&b, "bad_value", "stage");
    CHECK (decode_evb (&S1, &b, DT_FORM_INGRESS, M, &ev, &err) == -1
           && strstr (err.message, "(lead, won)"));
    stages = saved;
}

//  The widest funnel the stage set allows (16 stages of 31 bytes): an
//  unknown stage must get bad_value, with the list in the message as far as
//  it fits, and no memory error
static int
child_wide_funnel_unknown_stage (void)
{
    char spec [1024] = "";
    for (int i = 0; i < DT_MAX_STAGES; i++) {
        char item [64];
        snprintf (item, sizeof item, "%s%.29s%02d:%s", i? ",": "",
                  "sssssssssssssssssssssssssssss", i, i < 8? "marketing": "sales");
        strcat (spec, item);
    }
    char msg [128];
    if (dt_stageset_parse (&stages, spec, msg, sizeof msg) != 0 || stages.count != DT_MAX_STAGES)
        return 2;
    evb_t b;
    evb_base (&b);
    evb_str (&b, "stage", "unknown");
    dt_event_t ev;
    dt_error_t err;
    int rc = decode_evb (&S1, &b, DT_FORM_INGRESS, M, &ev, &err);
    return rc == -1 && strcmp (err.code, "bad_value") == 0 && strcmp (err.field, "stage") == 0? 0: 1;
}

static void
test_wide_funnel (void)
{
    CHECK (isolated (child_wide_funnel_unknown_stage));
}

static void
test_invalid_utf8 (void)
{
    struct { const char *text; size_t len; } bad [] = {
        { "\xc0\xaf", 2 },                  //  overlong '/'
        { "\xe0\x80\xaf", 3 },              //  overlong, 3 bytes
        { "\xf0\x80\x80\xaf", 4 },          //  overlong, 4 bytes
        { "\xed\xa0\x80", 3 },              //  surrogate U+D800
        { "\xed\xbf\xbf", 3 },              //  surrogate U+DFFF
        { "ab\xe2\x82", 4 },                //  truncated at the end
        { "ab\xe2\x82z", 5 },               //  truncated in the middle
        { "a\0b", 3 },                      //  NUL byte
        { "\x80", 1 },                      //  lone continuation byte
        { "\xf4\x90\x80\x80", 4 },          //  past U+10FFFF
        { "\xff", 1 },
    };
    const char *fields [] = { "id", "source", "account", "contact", "kind", "actor",
                              "project", "theme", "body" };
    for (size_t f = 0; f < sizeof fields / sizeof fields [0]; f++)
        for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
            evb_t b;
            evb_base (&b);
            evb_strn (&b, fields [f], bad [i].text, bad [i].len);
            int before = testing_failed;
            EXPECT_ERR (&b, "bad_value", fields [f]);
            if (testing_failed > before)
                fprintf (stderr, "  ^ utf-8 case %zu\n", i);
        }
    //  stage and channel (before the list lookup), category, lead, advisors,
    //  claims keys and values
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        const char *named [] = { "stage", "channel", "category", "lead" };
        for (int f = 0; f < 4; f++) {
            evb_t b;
            evb_base (&b);
            evb_strn (&b, named [f], bad [i].text, bad [i].len);
            EXPECT_ERR (&b, "bad_value", named [f]);
        }
        mp_t m;
        mp_init (&m);
        msgpack_pack_array (&m.pk, 1);
        pk_strn (&m.pk, bad [i].text, bad [i].len);
        evb_t b;
        evb_base (&b);
        evb_raw (&b, "advisors", &m);
        EXPECT_ERR (&b, "bad_value", "advisors");
        msgpack_sbuffer_clear (&m.sb);
        msgpack_pack_map (&m.pk, 1);
        pk_strn (&m.pk, bad [i].text, bad [i].len);
        pk_str (&m.pk, "v");
        evb_del (&b, "advisors");
        evb_raw (&b, "claims", &m);
        EXPECT_ERR (&b, "bad_value", "claims");
        msgpack_sbuffer_clear (&m.sb);
        msgpack_pack_map (&m.pk, 1);
        pk_str (&m.pk, "k");
        pk_strn (&m.pk, bad [i].text, bad [i].len);
        evb_raw (&b, "claims", &m);
        EXPECT_ERR (&b, "bad_value", "claims");
        mp_free (&m);
    }
    //  Valid multi-byte text is kept as is
    evb_t b;
    dt_event_t ev;
    evb_base (&b);
    evb_str (&b, "contact", "Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87");
    if (EXPECT_OK (&b, &ev) == 0)
        CHECK (dt_str_eq (ev.contact, "Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87"));
}

static void
test_keys (void)
{
    evb_t b;

    //  Duplicate keys, whatever their values
    const char *dups [] = { "id", "occurred_at", "contact", "attrs", "advisors" };
    for (size_t i = 0; i < sizeof dups / sizeof dups [0]; i++) {
        evb_base (&b);
        fld_t *f = evb_append_keyn (&b, dups [i], strlen (dups [i]));
        f->kind = V_NIL;
        if (strcmp (dups [i], "contact") == 0 || strcmp (dups [i], "attrs") == 0
        ||  strcmp (dups [i], "advisors") == 0) {
            f = evb_append_keyn (&b, dups [i], strlen (dups [i]));
            f->kind = V_NIL;
        }
        EXPECT_ERR (&b, "duplicate_field", dups [i]);
    }
    evb_base (&b);
    fld_t *f = evb_append_keyn (&b, "id", 2);
    f->kind = V_STR;
    f->s = "ev-0001";
    f->len = 7;
    EXPECT_ERR (&b, "duplicate_field", "id");

    //  Unknown keys are named
    evb_base (&b);
    evb_str (&b, "colour", "blue");
    EXPECT_ERR (&b, "unknown_field", "colour");
    dt_event_t ev;
    dt_error_t err;
    CHECK (decode_evb (&S1, &b, DT_FORM_INGRESS, M, &ev, &err) == -1
           && strstr (err.message, "colour"));
    evb_base (&b);
    evb_str (&b, "Id", "x");
    EXPECT_ERR (&b, "unknown_field", "Id");
    evb_base (&b);
    evb_str (&b, "occurredAt", "x");
    EXPECT_ERR (&b, "unknown_field", "occurredAt");
    evb_base (&b);
    evb_nil (&b, "extra");                  //  nil does not excuse an unknown key
    EXPECT_ERR (&b, "unknown_field", "extra");
    evb_base (&b);
    evb_str (&b, "", "x");
    EXPECT_ERR (&b, "unknown_field", "");
    //  Long and unprintable names are cut to 40 bytes and masked
    static char longkey [101];
    memset (longkey, 'z', 100);
    evb_base (&b);
    evb_str (&b, longkey, "x");
    char want [41];
    memset (want, 'z', 40);
    want [40] = 0;
    EXPECT_ERR (&b, "unknown_field", want);
    evb_base (&b);
    evb_str (&b, "t\xc3\xa9st\n", "x");
    EXPECT_ERR (&b, "unknown_field", "t??st?");

    //  Keys that are not strings
    evb_base (&b);
    f = evb_append_keyn (&b, "", 0);
    f->kkind = K_INT;
    f->kind = V_STR;
    f->s = "x";
    f->len = 1;
    EXPECT_ERR (&b, "unknown_field", "");
    evb_base (&b);
    f = evb_append_keyn (&b, "id", 2);
    f->kkind = K_BIN;
    f->kind = V_STR;
    f->s = "x";
    f->len = 1;
    EXPECT_ERR (&b, "unknown_field", "");
}

//  --------------------------------------------------------------------------
//  Advisors, lead, category, nil

static void
test_advisors_and_lead (void)
{
    evb_t b;
    dt_event_t ev;
    mp_t m;
    mp_init (&m);

    struct {
        dt_track_t track;
        const char *lead;
        int count;
        const char *names [3];
        const char *code;           //  NULL: accepted
        uint8_t advisors;
        dt_track_t want_lead;
    } cases [] = {
        { M, NULL, 1, { "sales" }, NULL, 1u << S, M },
        { S, NULL, 1, { "marketing" }, NULL, 1u << M, S },
        { M, "sales", 1, { "marketing" }, NULL, 1u << M, S },
        { M, NULL, 0, { NULL }, NULL, 0, M },
        { M, NULL, 1, { "marketing" }, "bad_value", 0, M },         //  the lead (default)
        { M, "sales", 1, { "sales" }, "bad_value", 0, S },          //  the lead (explicit)
        { S, NULL, 2, { "marketing", "sales" }, "bad_value", 0, S },
        { M, NULL, 2, { "sales", "sales" }, "bad_value", 0, M },    //  duplicate
        { M, "sales", 2, { "marketing", "marketing" }, "bad_value", 0, S },
        { M, NULL, 1, { "support" }, "bad_value", 0, M },           //  not a track
        { M, NULL, 1, { "Sales" }, "bad_value", 0, M },
        { M, NULL, 1, { "" }, "bad_value", 0, M },
        { M, NULL, 3, { "sales", "sales", "sales" }, "bad_value", 0, M },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        msgpack_sbuffer_clear (&m.sb);
        msgpack_pack_array (&m.pk, (size_t) cases [i].count);
        for (int k = 0; k < cases [i].count; k++)
            pk_str (&m.pk, cases [i].names [k]);
        evb_base (&b);
        if (cases [i].lead)
            evb_str (&b, "lead", cases [i].lead);
        evb_raw (&b, "advisors", &m);
        int before = testing_failed;
        if (cases [i].code)
            expect_err_at (__LINE__, &b, DT_FORM_INGRESS, cases [i].track, cases [i].code, "advisors");
        else
        if (expect_ok_at (__LINE__, &b, DT_FORM_INGRESS, cases [i].track, &ev) == 0) {
            CHECK_INT (ev.advisors, cases [i].advisors);
            CHECK_INT (ev.lead, cases [i].want_lead);
            CHECK (ev.present & DT_HAS_ADVISORS);
            ROUNDTRIP (&ev);
        }
        if (testing_failed > before)
            fprintf (stderr, "  ^ advisors case %zu\n", i);
    }
    //  Non-string advisors
    msgpack_sbuffer_clear (&m.sb);
    msgpack_pack_array (&m.pk, 1);
    msgpack_pack_int (&m.pk, 1);
    evb_base (&b);
    evb_raw (&b, "advisors", &m);
    EXPECT_ERR (&b, "wrong_type", "advisors");
    msgpack_sbuffer_clear (&m.sb);
    msgpack_pack_array (&m.pk, 1);
    msgpack_pack_nil (&m.pk);
    evb_raw (&b, "advisors", &m);
    EXPECT_ERR (&b, "wrong_type", "advisors");

    //  lead: a track name
    evb_base (&b);
    evb_str (&b, "lead", "boss");
    EXPECT_ERR (&b, "bad_value", "lead");
    evb_str (&b, "lead", "SALES");
    EXPECT_ERR (&b, "bad_value", "lead");
    evb_str (&b, "lead", "");
    EXPECT_ERR (&b, "bad_value", "lead");
    evb_str (&b, "lead", "marketing");
    if (expect_ok_at (__LINE__, &b, DT_FORM_INGRESS, S, &ev) == 0) {
        CHECK_INT (ev.lead, M);
        CHECK_INT (ev.track, S);
        CHECK (ev.present & DT_HAS_LEAD);
    }
    mp_free (&m);
}

static void
test_category (void)
{
    evb_t b;
    dt_event_t ev;
    const char *names [] = { "one_to_one", "promotional", "transactional" };
    for (int i = 0; i < 3; i++) {
        evb_base (&b);
        evb_str (&b, "category", names [i]);
        if (EXPECT_OK (&b, &ev) == 0) {
            CHECK_INT (ev.category, i);
            CHECK (ev.present & DT_HAS_CATEGORY);
            ROUNDTRIP (&ev);
        }
        CHECK_STR (dt_category_name ((dt_category_t) i), names [i]);
    }
    evb_base (&b);
    evb_str (&b, "category", "spam");
    EXPECT_ERR (&b, "bad_value", "category");
    evb_str (&b, "category", "Promotional");
    EXPECT_ERR (&b, "bad_value", "category");
    evb_str (&b, "category", "");
    EXPECT_ERR (&b, "bad_value", "category");
}

static void
test_nil_is_absent (void)
{
    const char *optional [] = {
        "contact", "actor", "lead", "advisors", "project", "theme", "claims", "body",
        "attrs", "category"
    };
    evb_t all;
    evb_base (&all);
    dt_event_t ev;
    for (size_t i = 0; i < sizeof optional / sizeof optional [0]; i++) {
        evb_t b;
        evb_base (&b);
        evb_nil (&b, optional [i]);
        evb_nil (&all, optional [i]);
        int before = testing_failed;
        if (expect_ok_at (__LINE__, &b, DT_FORM_INGRESS, S, &ev) == 0) {
            CHECK_INT (ev.present, 0);
            CHECK_INT (ev.lead, S);
            CHECK (ev.attrs == NULL);
            CHECK_INT (ev.claim_count, 0);
        }
        if (testing_failed > before)
            fprintf (stderr, "  ^ nil %s\n", optional [i]);
    }
    if (EXPECT_OK (&all, &ev) == 0) {
        CHECK_INT (ev.present, 0);
        CHECK_INT (ev.lead, M);
        CHECK_INT (ev.category, DT_CATEGORY_ONE_TO_ONE);
        ROUNDTRIP (&ev);
    }
}

//  --------------------------------------------------------------------------
//  Helpers: stage sets, tracks, UTF-8

static void
test_stageset (void)
{
    dt_stageset_t set;
    char err [256];

    dt_stageset_default (&set);
    CHECK_INT (set.count, 7);
    CHECK_STR (set.name [0], "awareness");
    CHECK_STR (set.name [6], "purchase");
    CHECK_INT (set.owner [2], M);
    CHECK_INT (set.owner [3], S);
    CHECK_INT (dt_stageset_find (&set, "intent", 6), 3);
    CHECK_INT (dt_stageset_find (&set, "inten", 5), -1);
    CHECK_INT (dt_stageset_find (&set, "intents", 7), -1);
    CHECK_INT (dt_stageset_find (&set, "", 0), -1);

    struct { const char *spec; int count; } good [] = {
        { "a:marketing", 1 },
        { "a:sales,b:marketing", 2 },
        { "awareness:marketing,interest:marketing,consideration:marketing,"
          "intent:sales,evaluation:sales,negotiation:sales,purchase:sales", 7 },
        { "s0:sales,s1:sales,s2:sales,s3:sales,s4:sales,s5:sales,s6:sales,s7:sales,"
          "s8:sales,s9:sales,sa:sales,sb:sales,sc:sales,sd:sales,se:sales,sf:sales", 16 },
        { "abcdefghijklmnopqrstuvwxyz01234:sales", 1 },          //  31 bytes
    };
    for (size_t i = 0; i < sizeof good / sizeof good [0]; i++) {
        err [0] = 0;
        int rc = dt_stageset_parse (&set, good [i].spec, err, sizeof err);
        CHECK_INT (rc, 0);
        CHECK_INT (set.count, good [i].count);
        if (rc)
            fprintf (stderr, "  ^ spec %s: %s\n", good [i].spec, err);
    }
    CHECK_INT (dt_stageset_parse (&set, "a:sales,b:marketing", err, sizeof err), 0);
    CHECK_STR (set.name [1], "b");
    CHECK_INT (set.owner [0], S);
    CHECK_INT (set.owner [1], M);

    const char *bad [] = {
        "",
        "a",
        ":sales",
        "a:",
        "a:boss",
        "a:Sales",
        "a:sales,a:marketing",
        "a:sales,,b:sales",
        ",a:sales",
        "s0:sales,s1:sales,s2:sales,s3:sales,s4:sales,s5:sales,s6:sales,s7:sales,"
        "s8:sales,s9:sales,sa:sales,sb:sales,sc:sales,sd:sales,se:sales,sf:sales,sg:sales",
        "abcdefghijklmnopqrstuvwxyz012345:sales",                //  32 bytes
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        err [0] = 0;
        int rc = dt_stageset_parse (&set, bad [i], err, sizeof err);
        CHECK_INT (rc, -1);
        CHECK (strncmp (err, "stages: ", 8) == 0);
        if (rc != -1)
            fprintf (stderr, "  ^ spec \"%s\" accepted\n", bad [i]);
    }
    CHECK_INT (dt_stageset_parse (&set, "a:sales,a:marketing", err, sizeof err), -1);
    CHECK (strstr (err, "'a'") != NULL);

    CHECK_INT (dt_track_parse ("marketing", 9), M);
    CHECK_INT (dt_track_parse ("sales", 5), S);
    CHECK_INT (dt_track_parse ("sale", 4), DT_TRACK_NONE);
    CHECK_INT (dt_track_parse ("salesx", 6), DT_TRACK_NONE);
    CHECK_INT (dt_track_parse ("", 0), DT_TRACK_NONE);
    CHECK_STR (dt_track_name (M), "marketing");
    CHECK_STR (dt_track_name (S), "sales");
    CHECK_STR (dt_track_name (DT_TRACK_NONE), "none");
    CHECK_STR (dt_track_name (DT_TRACKS), "none");
    dt_str_t s = { "abc", 3 };
    CHECK (dt_str_eq (s, "abc"));
    CHECK (!dt_str_eq (s, "ab"));
    CHECK (!dt_str_eq (s, "abcd"));
    CHECK (dt_str_eq (dt_str_c (""), ""));
}

static void
test_utf8_table (void)
{
    struct { const char *text; size_t len; bool valid; } cases [] = {
        { "", 0, true },
        { "plain ascii ~\x7f", 14, true },
        { "\xc2\x80", 2, true },                    //  U+0080
        { "\xc3\xa9", 2, true },                    //  é
        { "\xdf\xbf", 2, true },                    //  U+07FF
        { "\xe0\xa0\x80", 3, true },                //  U+0800
        { "\xe2\x82\xac", 3, true },                //  €
        { "\xed\x9f\xbf", 3, true },                //  U+D7FF
        { "\xee\x80\x80", 3, true },                //  U+E000
        { "\xef\xbf\xbf", 3, true },                //  U+FFFF
        { "\xf0\x90\x80\x80", 4, true },            //  U+10000
        { "\xf0\x9f\x98\x80", 4, true },            //  😀
        { "\xf4\x8f\xbf\xbf", 4, true },            //  U+10FFFF
        { "a\xc3\xa9z\xe2\x82\xac!", 7, true },
        { "\0", 1, false },                         //  NUL
        { "a\0", 2, false },
        { "\xc0\x80", 2, false },                   //  overlong NUL
        { "\xc1\xbf", 2, false },                   //  overlong
        { "\xe0\x80\x80", 3, false },
        { "\xe0\x9f\xbf", 3, false },               //  overlong U+07FF
        { "\xf0\x80\x80\x80", 4, false },
        { "\xf0\x8f\xbf\xbf", 4, false },           //  overlong U+FFFF
        { "\xed\xa0\x80", 3, false },               //  U+D800
        { "\xed\xbf\xbf", 3, false },               //  U+DFFF
        { "\xf4\x90\x80\x80", 4, false },           //  U+110000
        { "\xf5\x80\x80\x80", 4, false },
        { "\xf8\x88\x80\x80\x80", 5, false },       //  5-byte form
        { "\xfe", 1, false },
        { "\xff", 1, false },
        { "\x80", 1, false },                       //  lone continuation
        { "\xbf", 1, false },
        { "\xc3", 1, false },                       //  truncated
        { "\xe2\x82", 2, false },
        { "\xf0\x9f\x98", 3, false },
        { "abc\xc3", 4, false },
        { "\xc3\x41", 2, false },                   //  bad continuation
        { "\xe2\x28\xa1", 3, false },
        { "\xe2\x82\x28", 3, false },
        { "\xf0\x9f\x98\x28", 4, false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        bool got = dt_utf8_valid (cases [i].text, cases [i].len);
        CHECK (got == cases [i].valid);
        if (got != cases [i].valid)
            fprintf (stderr, "  ^ utf-8 table row %zu\n", i);
    }
    //  The length is respected: a valid sequence cut by len is truncated
    CHECK (!dt_utf8_valid ("\xc3\xa9", 1));
    CHECK (dt_utf8_valid ("ab\xff", 2));
    CHECK (!dt_utf8_valid ("\xe2\x82\xac", 2));
}


int
main (void)
{
    memset (xs, 'x', sizeof xs);
    dt_stageset_default (&stages);
    slot_init (&S1);
    slot_init (&S2);
    slot_init (&S3);

    test_full_event ();
    test_minimal_event ();
    test_each_optional_field ();
    test_stamped_form ();
    test_stamped_nil ();
    test_missing_fields ();
    test_wrong_types ();
    test_string_limits ();
    test_claims_limits ();
    test_attrs_limits ();
    test_attrs_refused ();
    test_occurred_at ();
    test_stage_and_channel ();
    test_wide_funnel ();
    test_invalid_utf8 ();
    test_keys ();
    test_advisors_and_lead ();
    test_category ();
    test_nil_is_absent ();
    test_stageset ();
    test_utf8_table ();

    slot_free (&S1);
    slot_free (&S2);
    slot_free (&S3);
    return TESTING_DONE ();
}
